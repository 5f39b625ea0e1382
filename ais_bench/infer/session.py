"""InferSession: the guide's Python API over a backend Session.

The shape declarations (set_dynamic_*) are in declared_shapes.py, the returned types and the feed
conversions in feeds.py; this class only calls the backend Session and the scenarios.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ais_bench import backends
from ais_bench.config import RunConfig, ScenarioConfig
from ais_bench.errors import UserError
from ais_bench.infer.declared_shapes import DeclaredShapes
from ais_bench.infer.feeds import (
    SessionSummary,
    TensorInfo,
    _as_input,
    _check_acl_json,
)
from ais_bench.infer.tensor_type import TensorType
from ais_bench.inputs.batch import Batch, InputPlan
from ais_bench.inputs.files import load_file
from ais_bench.report.text import describe_model
from ais_bench.scenarios.pipeline import run_pipeline
from ais_bench.shapes import check_feed_shapes

log = logging.getLogger("ais_bench")

MODES = ("static", "dymbatch", "dymhw", "dymdims", "dymshape")


class InferSession(DeclaredShapes):
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

        # None until the model loads, so repr and free_resource work after a failed init.
        self._session: Any = None
        if isinstance(device_id, bool) or not isinstance(device_id, (int, np.integer)):
            raise TypeError(f"device_id must be an int such as 0, got {device_id!r}")
        if device_id < 0:
            raise ValueError(f"device_id must be a non-negative device id, got {device_id}")
        if not isinstance(model_path, (str, os.PathLike)):
            raise TypeError(
                "model_path must be the path of an .onnx file (str or os.PathLike) or "
                f"'zoo:<name>', got {model_path!r}"
            )
        if not os.fspath(model_path):
            raise ValueError("model_path is empty: pass the path of an .onnx file or 'zoo:<name>'")
        if isinstance(loop, bool) or not isinstance(loop, (int, np.integer)) or loop < 1:
            raise ValueError(f"loop must be a positive integer, got {loop!r}")
        self.device_id = int(device_id)
        self.model_path = zoo.resolve(os.fspath(model_path))
        self.acl_json_path = acl_json_path
        self.debug = debug
        cfg = RunConfig(
            model=self.model_path,
            devices=(self.device_id,),
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
        # set_dynamic_*: per input, the dims run() must be fed (None: any), and by which call.
        self._declared: list[list[int | None]] | None = None
        self._declared_by: list[str] = []
        self._custom_sizes: int | tuple[int, ...] = 100000  # set_custom_outsize

    def _live(self) -> Any:
        """The engine session; a clear error once free_resource() or finalize() released it."""
        if self._session is None:
            raise RuntimeError(
                "this InferSession was released by free_resource() or finalize(); create a new "
                "InferSession(device_id, model_path) to run the model again"
            )
        return self._session

    @property
    def session(self) -> Any:
        """The underlying engine session (an onnxruntime.InferenceSession), as the original's
        `session.session` is its runtime's."""
        return self._live().engine

    # -- model description ------------------------------------------------------------------
    def get_inputs(self) -> list[TensorInfo]:
        return [TensorInfo(s) for s in self._live().inputs]

    def get_outputs(self) -> list[TensorInfo]:
        return [TensorInfo(s) for s in self._live().outputs]

    @staticmethod
    def get_dtype_string(datatype: Any) -> str:
        """The numpy name ('float32', 'int64', 'bool') of a `datatype` from get_inputs() or
        get_outputs(), of its int code, or of a numpy type."""
        if isinstance(datatype, int) and not isinstance(datatype, bool):
            try:
                dt = TensorType(int(datatype)).dtype
            except ValueError:
                known = ", ".join(f"{int(t)} ({t.dtype.name})" for t in TensorType)
                raise ValueError(f"unknown tensor type code {datatype}; known: {known}") from None
        else:
            dt = np.dtype(datatype)
        return "bool" if dt == np.bool_ else dt.name

    def __repr__(self) -> str:
        if self._session is None:
            return f"InferSession(model={getattr(self, 'model_path', None)!r}, released)"
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
        custom_sizes: int | Sequence[int] | None = None,
        out_array: bool = True,
    ) -> list[Any]:
        """Run once (or `loop` times) on `feeds`: a list in input order or a dict by name.

        Modes, as the guide's samples use them: 'static' feeds the model's declared shapes;
        'dymbatch', 'dymhw', 'dymdims' and 'dymshape' take each feed's own shape for the
        model's dynamic dims (fixed dims must agree; 'dymbatch' needs one batch size across
        inputs). ONNX Runtime sizes outputs itself, so `custom_sizes` (bytes, one for every
        output or one per output; 'dymshape' only, as in the original) is a budget: from the
        second run at the same shapes, outputs that fit are written into preallocated buffers.
        None takes set_custom_outsize's sizes (100000 bytes each until it is called).

        Each feed is an array (or buffer), or the path of a .bin/.npy file holding the input.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        arrays = self._arrays(feeds, static=mode == "static")
        sizes = self._custom_sizes if custom_sizes is None else custom_sizes
        return self._run(arrays, out_array, mode, sizes)

    def _run(
        self,
        arrays: list[np.ndarray],
        out_array: bool = True,
        mode: str = "static",
        custom_sizes: int | Sequence[int] = 100000,
    ) -> list[Any]:
        s = self._live()
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
        n = len(self._live().outputs)
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

        live = self._live()
        twins = [live.twin() for _ in range(2)]
        try:
            r = run_pipeline(
                [live, *twins],
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
        specs = self._live().inputs
        n_out = len(self._live().outputs)
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

    # -- the raw tensor path: device tensors in, device tensors out ---------------------------
    def create_tensor_from_arrays_to_device(self, arrays: Sequence[Any]) -> list[Any]:
        """Copy host arrays to the session's device: one engine tensor each (for ONNX Runtime an
        onnxruntime.OrtValue), for run()."""
        s = self._live()
        return [s.array_to_tensor(np.asarray(a, order="C")) for a in arrays]

    def convert_tensors_to_host(self, tensors: Sequence[Any]) -> list[Any]:
        """Host copies of device tensors. Unlike the original, which moves each tensor in
        place, an OrtValue cannot change device: use the returned list."""
        s = self._live()
        return [s.tensor_to_host(t) for t in tensors]

    def convert_tensors_to_arrays(self, tensors: Sequence[Any]) -> list[np.ndarray]:
        """numpy copies of device tensors, e.g. run()'s outputs."""
        s = self._live()
        return [np.array(s.tensor_to_array(t)) for t in tensors]

    def run(self, feeds: Sequence[Any] | Mapping[str, Any], out_array: bool = False) -> list[Any]:
        """Run `loop` times on device tensors and return the output tensors, as the original's
        raw path does: no host copy on either side. Feeds are engine tensors (from
        create_tensor_from_arrays_to_device), or arrays and .bin/.npy paths, which are copied to
        the device first; a list in input order or a dict by name. Input shapes come from the
        feeds, within what set_dynamic_* declared. Outputs are new tensors on the device
        (arrays with out_array=True). Compute times go to summary() as infer's do.
        """
        s = self._live()
        values = []
        for spec, v in zip(s.inputs, self._ordered(feeds), strict=True):
            if s.is_tensor(v):
                values.append(s.device_tensor(spec, v))
            else:
                value = load_file(v, spec) if isinstance(v, (str, os.PathLike)) else v
                a = _as_input(spec, value, static=False)
                (t,) = self.create_tensor_from_arrays_to_device([a])
                values.append(t)
        fed = [s.tensor_shape(v) for v in values]
        check_feed_shapes(s.inputs, fed, "dymshape")
        self._check_declared(fed)
        outs = s.run_tensors(values, self.loop, self._summary.exec_time_list)
        return self.convert_tensors_to_arrays(outs) if out_array else outs

    def set_custom_outsize(self, custom_sizes: int | Sequence[int]) -> None:
        """Byte budget per output (one for all, or one per output) for infer's 'dymshape' mode
        when it is called without custom_sizes. ONNX Runtime sizes outputs itself, so this only
        lets outputs that fit be written into preallocated buffers; run() needs no budget."""
        sizes = self._sizes(custom_sizes)
        self._custom_sizes = sizes

    def _ordered(self, feeds: Sequence[Any] | Mapping[str, Any]) -> list[Any]:
        """Feeds in input order, from a list in that order or a dict by input name."""
        specs = self._live().inputs
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
        return values

    def _arrays(self, feeds: Sequence[Any] | Mapping[str, Any], static: bool) -> list[np.ndarray]:
        s = self._live()
        specs = s.inputs
        values = [s.tensor_to_array(v) if s.is_tensor(v) else v for v in self._ordered(feeds)]
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

    reset_sumaryinfo = reset_summaryinfo  # the original's spelling

    def free_resource(self) -> None:
        """Release the model; later calls raise a clear error. Safe to call twice."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def finalize(self) -> None:
        """The original's teardown: here the same as free_resource(), as ONNX Runtime keeps no
        process-wide runtime to shut down."""
        self.free_resource()

    def __enter__(self) -> InferSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.free_resource()
