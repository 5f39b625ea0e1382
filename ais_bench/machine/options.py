"""`ais_bench --machine` without --model: this machine's peaks (measured once, then read from
the cache), printed. On a run --machine is the roofline switch (declared in options/machine.py)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence

from ais_bench import backends, host
from ais_bench.backends.base import EngineConfig
from ais_bench.costs.units import rate
from ais_bench.errors import UserError

log = logging.getLogger("ais_bench")

__all__ = ["main", "peak_lines"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise UserError(f"{message}; see `ais_bench --help`")


def _parser(switch: Callable[[str], bool]) -> argparse.ArgumentParser:
    p = _Parser(prog="ais_bench --machine", allow_abbrev=False,
               description="Print this machine's peaks through the engine a run would use.")
    p.add_argument("--machine", type=switch, nargs="?", const=True, default=True)
    p.add_argument("--backend", default="cpu", choices=backends.names())
    p.add_argument("--intra_op_threads", type=int, default=0)
    p.add_argument("--debug", type=switch, nargs="?", const=True, default=False)
    return p


def main(argv: Sequence[str], switch: Callable[[str], bool]) -> int:
    from ais_bench import machine

    ns = _parser(switch).parse_args(list(argv))
    if not ns.machine:
        log.info("--machine 0 without --model: nothing to do")
        return 0
    engine = EngineConfig(model="", backend=ns.backend, intra_op_threads=ns.intra_op_threads)
    cached = machine.cache_path()
    p = machine.peaks(engine)
    for line in peak_lines(p):
        log.info("%s", line)
    how = f"measured now in {p.measured_s:.1f} s and cached in" if p.fresh else (
        "read from the cache"
    )
    log.info("peaks %s %s", how, cached)
    return 0


def _rate(x: float | None, unit: str = "FLOP/s") -> str:
    return rate(x, unit)


def peak_lines(p: object) -> list[str]:
    from ais_bench.machine import Peaks

    assert isinstance(p, Peaks)
    fp, th = p.fingerprint, p.theoretical
    threads = fp.get("threads") or "engine default"
    out = [
        f"machine: {fp.get('cpu')}, {fp.get('cores')} logical cores "
        f"({len(host.usable_cores())} usable); engine {fp.get('engine')} "
        f"{fp.get('engine_version')}, backend {fp.get('backend')}, threads {threads}",
        f"f32 GEMM: measured {_rate(p.f32_flops)}"
        + (f" ({p.notes['f32']})" if p.f32_flops is None and "f32" in p.notes else ""),
    ]
    flops = th.get("f32_flops")
    if isinstance(flops, dict):
        out.append(
            f"f32 theoretical: {_rate(flops.get('1'))} with 1 FMA unit per core, "
            f"{_rate(flops.get('2'))} with 2 ({th['cores']} cores x {th['ghz']:.3g} GHz "
            f"[{th['frequency_source']}] x {th['flop_per_cycle_per_fma_unit']} FLOP/cycle per "
            "unit; the unit count is not readable from /proc)"
        )
    else:
        out.append(f"f32 theoretical: unknown ({th.get('unknown', 'CPU facts unreadable')})")
    for kind, value, unit in (("bf16", p.bf16_flops, "FLOP/s"), ("int8", p.int8_ops, "OP/s")):
        note = p.notes.get(kind)
        out.append(f"{kind} GEMM: " + (f"measured {_rate(value, unit)}" if value is not None
                                       else f"not measured: {note}"))
    out.append(
        f"memory bandwidth: measured {_rate(p.bandwidth, 'B/s')} (engine Add of 64 MiB arrays)"
        if p.bandwidth is not None else
        f"memory bandwidth: unknown ({p.notes.get('bandwidth', 'not measured')})"
    )
    if p.notes.get("noise"):
        out.append(f"measured while {p.notes['noise']}: these peaks may be low")
    if p.ridge is not None:
        out.append(
            f"ridge point: {p.ridge:.3g} FLOP/byte (below it a model is memory-bound, above "
            "it compute-bound)"
        )
    return out
