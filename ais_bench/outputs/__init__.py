"""Where results go: the timestamped (or named) folder, its summary JSON, and the output files
(written per batch, or split per input file, on a writer thread).

folder.py holds the result folder and its rerun policy, files.py the atomic writes and the
spooled filesinfo, writer.py the writer thread and the per-file output split.
"""

from ais_bench.outputs.files import (
    ROUND_TRIP_DIGITS,
    SUFFIX,
    TIMESTAMP,
    TMP_SUFFIX,
    FilesInfo,
    atomic,
    space_note,
    write_array,
    write_text,
)
from ais_bench.outputs.folder import (
    OutputDir,
    check_summary_target,
    clear_earlier,
    discard_empty_tree,
    discard_if_empty,
    earlier_run_files,
    prepare,
)
from ais_bench.outputs.writer import (
    Batch,
    OutputWriter,
    WriterThread,
    batch_axis,
    split_rows,
)

__all__ = [
    'ROUND_TRIP_DIGITS',
    'SUFFIX',
    'TIMESTAMP',
    'TMP_SUFFIX',
    'Batch',
    'FilesInfo',
    'OutputDir',
    'OutputWriter',
    'WriterThread',
    'atomic',
    'batch_axis',
    'check_summary_target',
    'clear_earlier',
    'discard_empty_tree',
    'discard_if_empty',
    'earlier_run_files',
    'prepare',
    'space_note',
    'split_rows',
    'write_array',
    'write_text',
]
