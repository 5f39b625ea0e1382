"""`--compare` in a run: a second pass over the run's batches, after the timed loop.

Why a second pass rather than comparing in the output sink: the sink runs beside the timed loop
(on the writer thread), so a reference engine there would compete with the measured one for the
same cores and change the figures it is meant to leave alone. After the loop, the plan is built
again from the same config (the same files in the same order; generated data from the same
seed), and each batch is run once through the measured session and once through the reference,
compared, and dropped before the next: memory stays at one batch whatever the number of files.
A batch the timed loop ran several times (--loop) is compared once. --threads and --pipeline
change only how the timed loop issues requests; the pass runs the batches one by one either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.backends.base import EngineConfig, Session
from ais_bench.compare import criteria, reference
from ais_bench.compare import labels as label_file
from ais_bench.compare.accumulate import Accumulator
from ais_bench.compare.layers import check_shared_names, first_divergence
from ais_bench.compare.metrics import CompareError, resolve_tolerance
from ais_bench.inputs.batch import Batch, InputPlan

log = logging.getLogger("ais_bench")

CSV_SUFFIX = "_compare.csv"


@dataclass(frozen=True)
class Checker:
    """A checked --compare request, ready to run once the timed loop is over."""

    ref: reference.Reference
    engine: EngineConfig  # the measured run's
    precision: str
    atol: float
    rtol: float
    layers: bool
    axis: int
    criterion: criteria.Criterion | None = None
    labels: dict[str, int] | None = None

    @classmethod
    def prepare(
        cls,
        ref: str,
        engine: EngineConfig,
        session: Session,
        atol: object = None,
        rtol: object = None,
        layers: bool = False,
        axis: int = 0,
        criterion: criteria.Criterion | None = None,
        labels: str | None = None,
        inputs: Sequence[str] | None = None,
    ) -> Checker:
        """Every check that can fail before the run: tolerances, REF, --compare_layers, the
        criterion against the model's outputs, --labels against the --input files."""
        tol = resolve_tolerance(engine.precision, atol, rtol)
        if criterion is not None:
            for s in session.outputs:
                criteria.pick(criterion.name, s.name, s.shape, s.dtype.name)  # topk: 2-D only
        labelled = None
        if labels is not None:
            scores = [s for s in session.outputs if len(s.shape) == 2]
            classes = scores[0].shape[-1] if scores and isinstance(scores[0].shape[-1], int) \
                else None
            labelled = label_file.read(labels, inputs, classes)
        checked = reference.resolve(ref, engine, session.inputs)
        if layers and checked.kind == "golden":
            raise CompareError(
                "--compare_layers 1 runs both sides with every intermediate tensor exposed: it "
                "needs --compare with a backend name or a model file, not saved outputs"
            )
        if layers and checked.kind == "model":
            assert checked.engine is not None
            check_shared_names(checked.engine.model, engine.model)
        return cls(checked, engine, engine.precision, tol.atol, tol.rtol, layers, axis,
                   criterion, labelled)

    def run(
        self,
        session: Session,
        make_plan: Callable[[], InputPlan],
        csv_path: Path | None,
    ) -> dict[str, Any]:
        """Compare every batch; the summary JSON's `compare` (and `compare_layers`) entries.

        Bad input met only now (a golden file missing or of another shape) does not lose what
        was measured: it becomes the entry's `error`, printed after the performance summary,
        and the run exits 2."""
        try:
            return self._run(session, make_plan, csv_path)
        except CompareError as exc:
            return {"compare": {"verdict": "ERROR", "error": str(exc),
                                "reference": self.ref.to_json()}}

    def _run(
        self,
        session: Session,
        make_plan: Callable[[], InputPlan],
        csv_path: Path | None,
    ) -> dict[str, Any]:
        log.info("comparison: %s, after the timed loop (not timed)", self.ref.describe())
        names = [s.name for s in session.outputs]
        acc = Accumulator(names, precision=self.precision, atol=self.atol, rtol=self.rtol,
                          criterion=self.criterion, labels=self.labels)
        first: Batch | None = None
        plan = make_plan()
        try:
            with reference.opened(self.ref) as ref_session:
                for batch in plan:
                    if first is None and self.layers:
                        first = Batch(list(batch.arrays))
                    cand = session.infer(batch.arrays)
                    if ref_session is not None:
                        refs = _infer_reference(ref_session, batch, self.ref.text)
                    else:
                        assert self.ref.golden is not None
                        refs = reference.golden_outputs(
                            self.ref.golden, batch, cand, session.outputs, self.axis
                        )
                    labels, rows = sample_labels(batch)
                    acc.add(refs, cand, labels, rows=rows, axis=self.axis)
        finally:
            plan.close()
        result = acc.result()
        entry: dict[str, Any] = {**result.to_json(), "reference": self.ref.to_json(),
                                 "samples": len({r.sample for r in result.rows})}
        if csv_path is not None:
            try:
                result.write_csv(csv_path)
                entry["csv"] = str(csv_path)
            except OSError as exc:
                log.warning("comparison: cannot write %s (%s)", csv_path, exc.strerror)
        out = {"compare": entry}
        if self.layers and first is not None:
            out["compare_layers"] = self.layer_check(session, first.arrays).to_json()
        return out

    def layer_check(self, session: Session, arrays: Sequence[np.ndarray]) -> Any:
        """The first node where the two sides part, on the run's first batch."""
        feeds = {s.name: a for s, a in zip(session.inputs, arrays, strict=True)}
        assert self.ref.engine is not None
        if self.ref.kind == "backend":
            ref_model, cand_model = self.engine.model, None
        else:
            ref_model, cand_model = self.ref.engine.model, self.engine.model
        log.info("layer comparison: every intermediate tensor of the first batch")
        return first_divergence(
            ref_model, cand_model, feeds, atol=self.atol, rtol=self.rtol,
            precision=self.precision, reference_backend=self.ref.engine.backend,
            candidate_backend=self.engine.backend, candidate_precision=self.precision,
        )


def _infer_reference(session: Session, batch: Batch, ref: str) -> list[np.ndarray]:
    try:
        return session.infer(batch.arrays)
    except Exception as exc:  # the engines raise their own types; the message says what failed
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CompareError(
            f"--compare {ref}: the reference failed on the batch of {batch.stems[0]}: {first}"
        ) from None


def sample_labels(batch: Batch) -> tuple[list[str], int | None]:
    """Each sample named by its (first) input file, or by its output stem for generated data;
    and the rows to cut the batch into (None: the batch is one sample)."""
    if batch.split:
        names = [Path(f[0]).name if f else s for f, s in
                 zip(batch.infiles, batch.stems, strict=False)]
        names += batch.stems[len(names):]
        return names, len(batch.stems) + batch.padded
    if batch.infiles and batch.infiles[0]:
        return [Path(batch.infiles[0][0]).name], None
    return [batch.stems[0]], None
