"""The original's shape declarations (set_dynamic_batchsize/hw/dims/shape) of an InferSession."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ais_bench import shapes
from ais_bench.errors import UserError
from ais_bench.infer.feeds import _positive


class DeclaredShapes:
    """Mixed into InferSession: what run() must be fed next, declared and checked. The session
    provides `_live()` (its open backend Session) and the `_declared`/`_declared_by` state."""

    _declared: list[list[int | None]] | None
    _declared_by: list[str]
    _live: Callable[[], Any]  # InferSession's method: its open backend Session

    # -- the original's shape and output-size declarations ------------------------------------
    # ONNX Runtime takes every shape from the tensors it is fed, so these calls only declare
    # what run() must be fed next and check it; infer() takes its shapes from its own feeds.
    def set_dynamic_batchsize(self, batchsize: int) -> None:
        """Declare the batch (first dim of inputs whose first dim is dynamic) run() is fed."""
        n = _positive(batchsize, "set_dynamic_batchsize")
        specs = self._live().inputs
        hit = [i for i, sp in enumerate(specs) if sp.shape and 0 in sp.dynamic_axes]
        if not hit:
            raise ValueError(
                f"set_dynamic_batchsize({n}): no model input has a dynamic first dim ("
                + ", ".join(f"{sp.name} {sp.shape_text()}" for sp in specs)
                + "); feed the model's own shapes"
            )
        declared = self._declared_base()
        for i in hit:
            declared[i][0] = n
        self._declare(declared, f"set_dynamic_batchsize({n})")

    def set_dynamic_hw(self, w: int, h: int) -> None:
        """Declare the height and width of the 4-D inputs with dynamic ones (NCHW or NHWC).
        The argument order is the original's: width first."""
        width, height = _positive(w, "set_dynamic_hw"), _positive(h, "set_dynamic_hw")
        specs = self._live().inputs
        declared = self._declared_base()
        hit = False
        for i, sp in enumerate(specs):
            try:
                layout = shapes.hw_layout(sp)
            except UserError:
                raise ValueError(
                    f"set_dynamic_hw: cannot tell height and width apart in input {sp.name!r} "
                    f"{sp.shape_text()}; declare its whole shape with set_dynamic_dims"
                    f"('{sp.name}:...')"
                ) from None
            if layout is None:
                continue
            hi, wi = (2, 3) if layout == shapes.NCHW else (1, 2)
            declared[i][hi], declared[i][wi] = height, width
            hit = True
        if not hit:
            raise ValueError(
                f"set_dynamic_hw({width}, {height}): no 4-D model input has a dynamic height and "
                "width (" + ", ".join(f"{sp.name} {sp.shape_text()}" for sp in specs) + "); "
                "use set_dynamic_dims or set_dynamic_shape for other dynamic dims"
            )
        self._declare(declared, f"set_dynamic_hw({width}, {height})")

    def set_dynamic_dims(self, dims: str | Mapping[str, Sequence[int]]) -> None:
        """Declare every input's whole shape: 'name:1,3,224,224;name2:1,16' or a dict."""
        self._declare_shapes(dims, "set_dynamic_dims")

    def set_dynamic_shape(self, shape: str | Mapping[str, Sequence[int]]) -> None:
        """Declare every input's whole shape, as set_dynamic_dims (same grammar)."""
        self._declare_shapes(shape, "set_dynamic_shape")

    def _declare_shapes(self, value: str | Mapping[str, Sequence[int]], call: str) -> None:
        specs = self._live().inputs
        given = shapes.shape_value(value, call)
        full = shapes.resolve(specs, dims=given, dims_option=call)
        self._declared_by = []  # whole shapes replace earlier declarations
        self._declare([list(sh) for sh in full], f"{call}({shapes.format_shapes(given or {})!r})")

    def _declared_base(self) -> list[list[int | None]]:
        if self._declared is not None:
            return [list(d) for d in self._declared]
        return [[None] * len(sp.shape) for sp in self._live().inputs]

    def _declare(self, declared: list[list[int | None]], call: str) -> None:
        self._declared = declared
        self._declared_by = [*self._declared_by, call]

    def _check_declared(self, fed: list[tuple[int, ...]]) -> None:
        if self._declared is None:
            return
        specs = self._live().inputs
        for sp, want, got in zip(specs, self._declared, fed, strict=True):
            if any(w is not None and w != g for w, g in zip(want, got, strict=True)):
                shown = ",".join("*" if w is None else str(w) for w in want)
                raise ValueError(
                    f"input {sp.name!r} is fed shape {got}, but {' then '.join(self._declared_by)} "
                    f"declared ({shown}); feed that shape or declare the new one first"
                )
