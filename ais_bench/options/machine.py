"""The machine-limits part: --machine, the roofline switch (machine/, costs/). Alone, without
--model, `ais_bench --machine` prints the machine's peaks (cli.py hands it to
machine/options.py before the run's parser sees it)."""

from __future__ import annotations

from collections.abc import Sequence

from ais_bench.options.declare import Option, Part

PART = Part(
    "machine", "machine limits",
    "how close the run came to this machine's measured peaks (see the README's 'How close to "
    "the machine's limit')",
)

OPTIONS = (
    Option(
        'machine',
        'machine',
        switch=True,
        default=True,
        help=(
            "print the roofline line: the model's FLOPs and bytes against this machine's "
            'measured peaks (measured once per host and cached); 0 turns it off. Without '
            "--model, print the machine's peaks and exit"
        ),
        doc=(
            "print the roofline line (the model's FLOPs and bytes against this machine's "
            "measured peaks, see [How close to the machine's limit]"
            "(#how-close-to-the-machines-limit)); `0` turns it off. `ais_bench --machine` "
            "without `--model` prints the machine's peaks and exits"
        ),
        doc_default='`1`',
        field_type='bool',
    ),
)


def _given(argv: Sequence[str], *names: str) -> bool:
    return any(a in names or a.split("=", 1)[0] in names for a in argv)


def alone(argv: Sequence[str]) -> bool:
    """`ais_bench --machine [--backend B] [--intra_op_threads N]`, with no --model. Decided
    here, before machine/ (which loads onnx and the engines) is imported: --help stays quick."""
    return _given(argv, "--machine") and not _given(argv, "-m", "--model")
