"""The query sample library: the run's batches, held in memory, as LoadGen's samples.

Sample i is the plan's batch i (an --input batch, or the generated one). All are read before
the test starts, so LoadGen's load/unload calls have nothing left to do and nothing is read
while queries are timed: the performance sample set is the whole library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ais_bench.errors import UserError
from ais_bench.inputs.batch import Batch, InputPlan


@dataclass
class Library:
    batches: list[Batch]

    @classmethod
    def read(cls, plan: InputPlan) -> Library:
        batches = list(plan)
        if not batches:
            raise UserError("--scenario: the inputs planned no batch to serve as a sample")
        return cls(batches)

    def __len__(self) -> int:
        return len(self.batches)

    def construct(self, lg: Any) -> Any:
        n = len(self.batches)
        return lg.ConstructQSL(n, n, _nothing, _nothing)


def _nothing(_samples: list[int]) -> None:
    """Samples are already in memory (see the module's note)."""
