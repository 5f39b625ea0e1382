"""RunConfig: every option of one run, validated once, then handed on as small frozen parts.

The command line and the Python API both build a RunConfig. Its option fields are generated
from the option table (ais_bench/options/: one declaration per option, one module per run part),
and so are its rules: each part module states its own (`check`) next to its declarations. Below
`run.py` code takes only the part it needs: `engine` (what to load, where), `data` (which inputs,
at which shapes), `scenario` (how requests are issued and timed), `saving` (where results go) and
`inspection()` (profiler, dump).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import field
from typing import Any

from ais_bench.backends.base import EngineConfig
from ais_bench.options import cluster, compare, data, engine, inspection, measurement, saving
from ais_bench.options import scenario as scenario_part
from ais_bench.options.data import PURE_DATA_TYPES, DataConfig, input_paths
from ais_bench.options.engine import GRAPH_OPT_LEVELS, OV_HINTS, PRECISIONS
from ais_bench.options.inspection import Inspection
from ais_bench.options.measurement import STABLE_WINDOWS, WindowRule
from ais_bench.options.saving import OUTFMTS, OutputConfig
from ais_bench.options.scenario import MAX_THREADS, RUN_MODES, ScenarioConfig
from ais_bench.options.table import config_fields

__all__ = [
    "GRAPH_OPT_LEVELS", "MAX_THREADS", "OUTFMTS", "OV_HINTS", "PRECISIONS", "PURE_DATA_TYPES",
    "RUN_MODES", "STABLE_WINDOWS", "DataConfig", "EngineConfig", "Inspection", "OutputConfig",
    "RunConfig", "ScenarioConfig", "WindowRule", "input_paths",
]

# Values given as text or sequences become plain values first (so a rule sees one form).
NORMALISE: tuple[Callable[[Any, Callable[[str, object], None]], None], ...] = (
    cluster.normalise, data.normalise, scenario_part.normalise, engine.normalise,
    data.normalise_input,
)
# The rules, each in the module of the options it concerns, run in this order (the first broken
# one is reported, so the order decides which of several mistakes is named); the inspection's
# come last (it reads the acl.json).
CHECKS: tuple[Callable[[Any], None], ...] = (
    engine.check_model, scenario_part.check_counts, saving.check_format, data.check,
    scenario_part.check_run_mode, data.check_batchsize, engine.check, data.check_dymBatch,
    scenario_part.check_range_max, data.check_shape_options, scenario_part.check_range_count,
    data.check_auto_mode, saving.check_batch_axis, cluster.check, scenario_part.check_threads,
    measurement.check, scenario_part.check_percentiles, compare.check, saving.check_folders,
)


class _RunConfigBase:
    """What RunConfig adds to its generated fields: the rules, derived values and the parts."""

    def __post_init__(self) -> None:
        for step in NORMALISE:
            step(self, self._put)
        self.validate()

    def _put(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def replace(self, **changes: object) -> RunConfig:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def validate(self) -> None:
        for check in CHECKS:
            check(self)
        inspection.normalise(self, self._put)
        inspection.check(self)

    @property
    def auto_mode(self) -> str | None:
        """The auto shape option in force (its name, for messages), or None."""
        return data.auto_mode(self)

    @property
    def window_rule(self) -> WindowRule | None:
        return measurement.window_rule(self)

    @property
    def concurrent(self) -> bool:
        return self.threads > 1 or self.pipeline  # type: ignore[attr-defined]

    @property
    def model_as_given(self) -> str:
        arg = self.model_arg  # type: ignore[attr-defined]
        return arg if arg is not None else self.model  # type: ignore[attr-defined]

    @property
    def device(self) -> int:
        """The device of a one-device run (a launcher worker's config holds its own id only)."""
        return self.devices[0]  # type: ignore[attr-defined]

    # -- the parts handed down ---------------------------------------------------------------
    @property
    def engine(self) -> EngineConfig:
        return engine.part(self)

    @property
    def data(self) -> DataConfig:
        return data.part(self)

    @property
    def scenario(self) -> ScenarioConfig:
        return scenario_part.part(self)

    @property
    def saving(self) -> OutputConfig:
        return saving.part(self)

    def inspection(self) -> Inspection:
        """Where this run's profile and dump go; an acl.json wins over --profiler/--dump."""
        return inspection.part(self)


# Fields that are no option: set by the code, not by a user.
_INTERNAL_FIELDS: list[tuple[str, str, Any]] = [
    # Parsed from acl_json_path once, when the config is built; replace() carries it over.
    ("acl", "AclConfig | None", field(default=None, repr=False)),
    # The command line as typed, kept for the summary JSON's "args".
    ("argv", "tuple[str, ...]", field(default_factory=tuple)),
    # The --model value as typed when `model` was resolved from it (a built-in model's name).
    ("model_arg", "str | None", field(default=None)),
    # --precision int8: the quantized model file, set before the model loads (inputs/calibration)
    ("quantized", "str | None", field(default=None)),
]

# One field per option of the table (ais_bench/options/), named as the guide names the option.
RunConfig = dataclasses.make_dataclass(
    "RunConfig",
    config_fields() + _INTERNAL_FIELDS,
    bases=(_RunConfigBase,),
    frozen=True,
)
RunConfig.__module__ = __name__  # workers get it pickled: found again as config.RunConfig
RunConfig.__doc__ = (
    "One benchmark run: which model, on what engine, with which data, and where results go."
)
