"""InferSession: the guide's Python API over an ONNX Runtime session."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ais_bench.backends import open_session
from ais_bench.backends.base import TensorSpec
from ais_bench.config import RunConfig
from ais_bench.inputs import load_file

MODES = ("static", "dymbatch", "dymhw", "dymdims", "dymshape")


@dataclass(frozen=True)
class TensorInfo:
    """What get_inputs()/get_outputs() return: the original API's fields over a TensorSpec."""

    spec: TensorSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def shape(self) -> list[int]:
        return self.spec.api_shape

    @property
    def datatype(self) -> np.dtype:
        return self.spec.dtype

    @property
    def size(self) -> int:
        return self.spec.realsize

    @property
    def realsize(self) -> int:
        return self.spec.realsize

    def __repr__(self) -> str:
        return (
            f"TensorInfo(name={self.name!r}, shape={self.shape}, datatype={self.spec.type_name}, "
            f"realsize={self.realsize})"
        )


@dataclass
class SessionSummary:
    """Per-call compute times in milliseconds, as `sumary().exec_time_list` in the guide."""

    exec_time_list: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return float(np.mean(self.exec_time_list)) if self.exec_time_list else 0.0


class InferSession:
    """A model loaded on a device; `infer` runs it and records the compute time of each run."""

    def __init__(
        self,
        device_id: int,
        model_path: str,
        acl_json_path: str | None = None,
        debug: bool = False,
        loop: int = 1,
        backend: str = "cpu",
    ) -> None:
        from ais_bench import zoo

        self.device_id = device_id
        self.model_path = zoo.resolve(model_path)
        self.acl_json_path = acl_json_path
        self.debug = debug
        cfg = RunConfig(
            model=self.model_path, device=device_id, debug=debug, loop=loop, backend=backend
        )
        self.loop = cfg.loop
        self._session = open_session(cfg)
        self._summary = SessionSummary()

    # -- model description ------------------------------------------------------------------
    def get_inputs(self) -> list[TensorInfo]:
        return [TensorInfo(s) for s in self._session.inputs]

    def get_outputs(self) -> list[TensorInfo]:
        return [TensorInfo(s) for s in self._session.outputs]

    def __repr__(self) -> str:
        from ais_bench.bench import describe_model

        head = (
            f"InferSession(model={self.model_path!r}, device={self._session.device_kind}:"
            f"{self.device_id}, provider={self._session.provider})"
        )
        return "\n".join([head, *describe_model(self._session)])

    # -- running ------------------------------------------------------------------------------
    def set_loop_count(self, loop: int) -> None:
        if int(loop) < 1:
            raise ValueError(f"loop must be a positive integer, got {loop}")
        self.loop = int(loop)

    def infer(
        self,
        feeds: Sequence[Any] | Mapping[str, Any],
        mode: str = "static",
        custom_sizes: int | Sequence[int] = 100000,
        out_array: bool = True,
    ) -> list[Any]:
        """Run once (or `loop` times) on `feeds`: a list in input order or a dict by name.

        Each feed is an array (or buffer), or the path of a .bin/.npy file holding the input.

        `custom_sizes` is accepted for compatibility: ONNX Runtime sizes outputs itself.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        arrays = self._arrays(feeds, static=mode == "static")
        s = self._session
        s.stage(arrays)
        s.h2d()
        pc = time.perf_counter_ns
        times = self._summary.exec_time_list
        for _ in range(self.loop):
            t0 = pc()
            s.compute()
            times.append((pc() - t0) / 1e6)
        return s.d2h() if out_array else s.output_values()

    def run(self, feeds: Sequence[Any] | Mapping[str, Any], out_array: bool = False) -> list[Any]:
        return self.infer(feeds, "dymshape", out_array=out_array)

    def _arrays(self, feeds: Sequence[Any] | Mapping[str, Any], static: bool) -> list[np.ndarray]:
        specs = self._session.inputs
        if isinstance(feeds, Mapping):
            unknown = set(feeds) - {s.name for s in specs}
            missing = [s.name for s in specs if s.name not in feeds]
            if unknown or missing:
                raise ValueError(
                    f"feeds by name must cover exactly the inputs {[s.name for s in specs]}; "
                    f"missing {missing}, unknown {sorted(unknown)}"
                )
            values = [feeds[s.name] for s in specs]
        else:
            values = list(feeds)
            if len(values) != len(specs):
                raise ValueError(f"the model has {len(specs)} inputs, got {len(values)} feeds")
        # A path feeds that input from a .bin/.npy file, as --input does (issue 3).
        values = [
            load_file(v, s) if isinstance(v, (str, os.PathLike)) else v
            for s, v in zip(specs, values, strict=True)
        ]
        return [_as_input(s, v, static) for s, v in zip(specs, values, strict=True)]

    # -- summary and life -------------------------------------------------------------------
    def summary(self) -> SessionSummary:
        return self._summary

    sumary = summary  # the guide's spelling

    def reset_summaryinfo(self) -> None:
        self._summary = SessionSummary()

    def free_resource(self) -> None:
        if self._session is not None:
            self._session.close()

    def __enter__(self) -> InferSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.free_resource()


def _as_input(spec: TensorSpec, value: Any, static: bool) -> np.ndarray:
    """A feed as the engine wants it.

    Static mode takes any buffer of exactly the input's byte size (the guide's sample feeds a
    bytearray viewed as float64), as the original copies bytes without looking at the dtype.
    """
    a = np.asarray(value)
    fixed = static and not spec.is_dynamic
    if fixed and a.shape != tuple(spec.shape) and a.nbytes == spec.realsize:
        return np.ascontiguousarray(a).view(np.uint8).view(spec.dtype).reshape(spec.shape)
    if a.dtype != spec.dtype and np.can_cast(a.dtype, spec.dtype, "safe"):
        a = a.astype(spec.dtype)
    if a.dtype != spec.dtype or (fixed and a.shape != tuple(spec.shape)):
        raise ValueError(
            f"input {spec.name!r} expects {spec.type_name} {spec.shape_text()} "
            f"({spec.realsize or 'dynamic'} bytes); got {a.dtype.name} {a.shape} ({a.nbytes} bytes)"
        )
    return a
