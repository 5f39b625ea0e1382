"""InferSession: the guide's Python API over a backend Session.

Long because it is one class with the guide's whole API (infer, infer_pipeline,
infer_iteration, the feed checks); it only calls the backend Session and the scenarios.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ais_bench import backends
from ais_bench.config import RunConfig, ScenarioConfig
from ais_bench.errors import UserError
from ais_bench.inputs.batch import Batch, InputPlan
from ais_bench.inputs.files import load_file
from ais_bench.report.text import describe_model
from ais_bench.scenarios.pipeline import run_pipeline
from ais_bench.shapes import check_feed_shapes
from ais_bench.tensors import TensorSpec

log = logging.getLogger("ais_bench")

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
        intra_op_threads: int = 0,
    ) -> None:
        from ais_bench import zoo

        self.device_id = device_id
        self.model_path = zoo.resolve(model_path)
        self.acl_json_path = acl_json_path
        self.debug = debug
        cfg = RunConfig(
            model=self.model_path,
            devices=(device_id,),
            debug=debug,
            loop=loop,
            backend=backend,
            intra_op_threads=intra_op_threads,
        )
        self.loop = cfg.loop
        if acl_json_path is not None:
            _check_acl_json(acl_json_path)
        self._session = backends.open(cfg.engine)
        self._summary = SessionSummary()
        self._last_shapes: list[tuple[int, ...]] | None = None  # of the last infer call

    # -- model description ------------------------------------------------------------------
    def get_inputs(self) -> list[TensorInfo]:
        return [TensorInfo(s) for s in self._session.inputs]

    def get_outputs(self) -> list[TensorInfo]:
        return [TensorInfo(s) for s in self._session.outputs]

    def __repr__(self) -> str:
        head = (
            f"InferSession(model={self.model_path!r}, device={self._session.device_kind}:"
            f"{self.device_id}, provider={self._session.provider})"
        )
        return "\n".join([head, *describe_model(self._session.inputs, self._session.outputs)])

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

        Modes, as the guide's samples use them: 'static' feeds the model's declared shapes;
        'dymbatch', 'dymhw', 'dymdims' and 'dymshape' take each feed's own shape for the
        model's dynamic dims (fixed dims must agree; 'dymbatch' needs one batch size across
        inputs). ONNX Runtime sizes outputs itself, so `custom_sizes` (bytes, one for every
        output or one per output; 'dymshape' only, as in the original) is a budget: from the
        second run at the same shapes, outputs that fit are written into preallocated buffers.

        Each feed is an array (or buffer), or the path of a .bin/.npy file holding the input.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        arrays = self._arrays(feeds, static=mode == "static")
        return self._run(arrays, out_array, mode, custom_sizes)

    def _run(
        self,
        arrays: list[np.ndarray],
        out_array: bool = True,
        mode: str = "static",
        custom_sizes: int | Sequence[int] = 100000,
    ) -> list[Any]:
        s = self._session
        try:
            check_feed_shapes(s.inputs, [a.shape for a in arrays], mode)
            s.set_output_sizes(self._sizes(custom_sizes) if mode == "dymshape" else None)
        except UserError as exc:
            raise ValueError(str(exc)) from None
        fed = [a.shape for a in arrays]
        s.stage(arrays)
        # Output shapes are known once a run at these shapes has happened.
        seen = fed == self._last_shapes
        if seen:
            s.bind_output_buffers()
        s.h2d()
        pc = time.perf_counter_ns
        times = self._summary.exec_time_list
        for i in range(self.loop):
            if i == 1 and not seen:
                s.bind_output_buffers()  # untimed, between runs
            t0 = pc()
            s.compute()
            times.append((pc() - t0) / 1e6)
        self._last_shapes = fed
        return s.d2h() if out_array else s.output_values()

    def _sizes(self, custom_sizes: int | Sequence[int]) -> tuple[int, ...]:
        n = len(self._session.outputs)
        if isinstance(custom_sizes, int):
            sizes = (custom_sizes,) * n
        else:
            sizes = tuple(int(x) for x in custom_sizes)
        if len(sizes) != n or any(x <= 0 for x in sizes):
            raise ValueError(
                f"custom_sizes must be a positive byte count, or one per output ({n}), got "
                f"{custom_sizes!r}"
            )
        return sizes

    # -- concurrency ----------------------------------------------------------------------------
    def infer_pipeline(
        self,
        feeds_list: Sequence[Sequence[Any] | Mapping[str, Any]],
        mode: str = "static",
        custom_sizes: int | Sequence[int] = 100000,
    ) -> list[list[np.ndarray]]:
        """Run every feeds of `feeds_list` (each `loop` times), returning their outputs in order.

        H2D, compute and D2H run as overlapped stages on threads, each with its own buffers, so
        one feed's copies overlap another's compute. Compute times go to summary() as infer's do.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        static = mode == "static"
        batches = [
            Batch(self._arrays(f, static), stems=[str(i)]) for i, f in enumerate(feeds_list)
        ]
        results: list[list[np.ndarray]] = [[] for _ in batches]

        def keep(batch: Batch, outs: list[np.ndarray]) -> None:
            results[int(batch.stems[0])] = outs

        twins = [self._session.twin() for _ in range(2)]
        try:
            r = run_pipeline(
                [self._session, *twins],
                InputPlan(len(batches), batches),
                keep,
                ScenarioConfig(loop=self.loop, warmup_count=0, threads=1, pipeline=True),
            )
        finally:
            for t in twins:
                t.close()
        if r.interrupted:
            raise KeyboardInterrupt
        if r.error is not None:
            raise RuntimeError(f"inference failed: {r.error}")
        self._summary.exec_time_list.extend(float(x) for x in r.compute_ms)
        return results

    def infer_iteration(
        self,
        feeds: Sequence[Any] | Mapping[str, Any],
        in_out_list: Sequence[int] | None = None,
        iteration_times: int = 1,
        mode: str = "static",
    ) -> list[np.ndarray]:
        """Run `iteration_times` times, feeding outputs back as inputs (recurrent models).

        `in_out_list[i]` is the index of the output that becomes input i for the next
        iteration, or -1 to keep input i's original feed. None feeds output i to input i for
        every input. Returns the last iteration's outputs.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if int(iteration_times) < 1:
            raise ValueError(f"iteration_times must be 1 or more, got {iteration_times}")
        specs = self._session.inputs
        n_out = len(self._session.outputs)
        mapping = list(range(len(specs))) if in_out_list is None else [int(j) for j in in_out_list]
        if len(mapping) != len(specs):
            raise ValueError(
                f"in_out_list needs one entry per input ({len(specs)}), got {len(mapping)}"
            )
        bad = [j for j in mapping if not -1 <= j < n_out]
        if bad:
            raise ValueError(
                f"in_out_list entries must be -1 (keep the feed) or an output index 0..{n_out - 1}"
                f", got {bad[0]}"
            )
        static = mode == "static"
        arrays = self._arrays(feeds, static)
        outs: list[np.ndarray] = []
        for it in range(int(iteration_times)):
            outs = self._run(arrays, mode=mode)
            if it + 1 == iteration_times:
                break
            fed = []
            for i, (spec, j) in enumerate(zip(specs, mapping, strict=True)):
                if j < 0:
                    fed.append(arrays[i])
                    continue
                try:
                    fed.append(_as_input(spec, outs[j], static))
                except ValueError as exc:
                    raise ValueError(
                        f"in_out_list: output {j} cannot feed input {i}: {exc}"
                    ) from None
            arrays = fed
        return outs

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
        # A path feeds that input from a .bin/.npy file, as --input does.
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


def _check_acl_json(path: str) -> None:
    """Validate the acl.json now (a bad file fails here) and say plainly that the Python API does
    not act on it: profiling and dumps are run by the command line."""
    from ais_bench import acl_json

    acl = acl_json.read(path)
    if acl.profiler or acl.dump:
        log.warning(
            "InferSession: %s asks for %s, which only the command line runs (python -m ais_bench "
            "--model ... --acl_json_path %s); this session runs without it",
            path, "the profiler" if acl.profiler else "a dump", path,
        )
