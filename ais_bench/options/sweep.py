"""The parameter sweep's own options (psweep/ runs it). They fill no RunConfig field: the sweep
reads them from the command line, and each configuration it runs is a plain command line."""

from __future__ import annotations

from ais_bench.options.declare import Option, Part
from ais_bench.options.parsers import positive

PART = Part(
    "sweep", "parameter sweep",
    "run every combination of option values, each in a fresh process, check each one's outputs "
    "against the reference and print a table (see the README)",
)

OPTIONS = (
    Option(
        'sweep',
        'sweep',
        metavar='KEY=V1,V2',
        extend=True,
        help=(
            "options to sweep, e.g. 'threads=1,2,4 intra_op_threads=1:4' (A:B powers of two, "
            'A:B:S a'
            " step; dymHW, dymDims, dymShape, outputSize and input separate values with '|'); the "
            "rest of the command line is the base configuration. 'auto': installed engines x "
            'precisions this CPU runs natively x intra_op_threads 1..cores'
        ),
        field='',
        sweep=False,
    ),
    Option(
        'sweep_max',
        'sweep',
        parse=positive,
        metavar='N',
        help='allow a sweep of up to N configurations (unset: a cap of 64)',
        field='',
        sweep=False,
    ),
    Option(
        'objective',
        'sweep',
        default='latency',
        choices=('latency', 'throughput'),
        help='sweep order: compute median (latency) or samples/s (throughput)',
        field='',
        sweep=False,
    ),
    Option(
        'sweep_reference',
        'sweep',
        metavar='KEY=V',
        extend=True,
        help=(
            'the reference the outputs are compared with (default: model as given, backend=cpu, '
            'precision=f32); keys: model, backend, precision'
        ),
        field='',
        sweep=False,
    ),

)
