"""The cluster part: which devices run workers (one process, or one Ray actor, per --device id)
and how --input files are shared between them. Its options arrive as `cfg.devices` and
`cfg.divide_input`; --cluster is read by the command line only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ais_bench.errors import UserError
from ais_bench.options.declare import Option, Part, require
from ais_bench.options.parsers import device_ids

# The original's device ids are 0..255 (its runtime's limit); ids past it are refused, not
# wrapped or handed to the engine.
MAX_DEVICE_ID = 255

PART = Part(
    "cluster", "devices and hosts",
    "several devices, one worker process each, or the workers of a Ray cluster",
)


def _divide_input(parsed: bool | None) -> bool:
    """Unset, --input files are divided between the devices (the guide's version does)."""
    return True if parsed is None else bool(parsed)


OPTIONS = (
    Option(
        'device',
        'cluster',
        aliases=('-d',),
        parse=device_ids,
        default=[0],
        help=(
            'device id (0 to 255), or several (0,1,2,3) for one worker process per id, run '
            'together '
            '(an id may repeat: 0,0 runs two workers on device 0); GPU backends: CUDA device ids; '
            'CPU: the ids name workers, each pinned to its own share of the cores'
        ),
        doc=(
            'device id, 0 to 255 as in the original, for a GPU backend (the CPU is device 0); '
            'several ids (`0,1,2,3`) run one worker process per id (see [Several devices and '
            'streams](#several-devices-and-streams)); an id may repeat (`0,0`: two workers on one '
            'device, with a warning that they share it)'
        ),
        doc_default='`0`',
        sweep=False,
        field='devices',
        field_type='tuple[int, ...]',
        field_default=(0,),
        to_config=tuple,
    ),
    Option(
        'divide_input',
        'cluster',
        switch=True,
        help=(
            "with --input and several --device ids: 1 (the default here, as the guide's version "
            'does) splits the files between the devices, each file run once; 0 runs every file on '
            'every device'
        ),
        doc=(
            'with `--input` and several devices: `1` splits the files between the devices '
            '(each file'
            ' runs once), `0` runs every file on every device'
        ),
        doc_default='`1`',
        field_type='bool',
        sweep=False,
        field_default=True,
        to_config=_divide_input,
    ),
    Option(
        'cluster',
        'cluster',
        metavar='{ray,auto,HOST:PORT,ray://HOST:PORT}',
        help=(
            'run the --device workers as actors of a Ray cluster instead of local processes: ray '
            'starts or attaches a local cluster, auto uses RAY_ADDRESS. Needs pip install -e '
            '".[ray]"'
        ),
        field='',
    ),

)


def normalise(cfg: Any, put: Callable[[str, object], None]) -> None:
    """--device as a tuple of ids: one id, or a sequence of them."""
    value = cfg.devices
    if isinstance(value, int):
        put("devices", (value,))
        return
    try:
        put("devices", tuple(value))
    except TypeError:
        raise UserError(f"devices must be a device id or a list of them, got {value!r}") from None


def check(cfg: Any) -> None:
    ids = cfg.devices
    require(len(ids) > 0, "--device needs at least one id, such as 0 or 0,1")
    require(
        all(isinstance(d, int) and not isinstance(d, bool) for d in ids),
        f"--device ids must be integers, got {','.join(map(str, ids))}",
    )
    # An id may repeat: two workers on one device, as the original allows.
    for d in ids:
        require(
            0 <= d <= MAX_DEVICE_ID,
            f"--device: device id {d} is out of range: ids go from 0 to {MAX_DEVICE_ID}",
        )
