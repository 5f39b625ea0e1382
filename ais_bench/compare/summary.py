"""The comparison as a run's summary carries it (`compare`, `compare_layers` in the summary
JSON): its printed lines after the performance block, and the exit code it asks for.

Rendered from the JSON entries, not from live objects, so a printed run and a reloaded summary
say the same."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ais_bench.compare.metrics import EXIT_COMPARE_FAILED
from ais_bench.compare.result import judged_line


def lines(inspection: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    entry = inspection.get("compare")
    if entry and "error" not in entry:
        out += _compare_lines(entry)
    layers = inspection.get("compare_layers")
    if layers:
        out += _layer_lines(layers)
    return out


def error(inspection: Mapping[str, Any]) -> str | None:
    """Why the comparison could not be made (bad input met in the comparison pass), if so."""
    entry = inspection.get("compare")
    return entry.get("error") if entry else None


def exit_code(inspection: Mapping[str, Any]) -> int:
    """EXIT_COMPARE_FAILED when the outputs' comparison failed, else 0."""
    entry = inspection.get("compare")
    return EXIT_COMPARE_FAILED if entry and entry.get("verdict") == "FAIL" else 0


def _compare_lines(entry: Mapping[str, Any]) -> list[str]:
    ref = entry.get("reference", {})
    head = ["output", "max abs", "cosine", "outside tol", "verdict"]
    body = []
    notes = []
    for o in entry.get("outputs", []):
        m = o["overall"]
        body.append([o["name"], _num(m["max_abs"]), _cos(m["cosine"]),
                     f"{m['outside']} ({100 * m['outside_share']:.3g}%)", o["verdict"]])
        if m.get("top1") is not None:
            notes.append(f"  {o['name']}: top-1 agreement {m['top1']:.2%}, top-5 agreement "
                         f"{m['top5']:.2%}")
        bad = {k: m[k] for k in ("ref_nan", "ref_inf", "cand_nan", "cand_inf")}
        if any(bad.values()):
            notes.append(
                f"  {o['name']}: reference has {bad['ref_nan']} NaN and {bad['ref_inf']} Inf, "
                f"candidate {bad['cand_nan']} NaN and {bad['cand_inf']} Inf"
            )
        w = o.get("worst")
        if o["verdict"] == "FAIL" and w is not None and o["samples"] > 1:
            notes.append(
                f"  {o['name']}: worst sample {o['worst_sample']} (max abs "
                f"{_num(w['max_abs'])}, {w['outside']} ({100 * w['outside_share']:.3g}%) "
                "outside tolerance)"
            )
        if o.get("accuracy"):
            notes.append(judged_line(o["name"], o["accuracy"]))
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    out = [
        f"comparison against {ref.get('kind', '?')} {ref.get('ref', '?')} "
        f"({entry['precision']}: atol {entry['atol']:g}, rtol {entry['rtol']:g}; "
        f"{entry.get('samples', '?')} sample(s) in {entry['batches']} batch(es))"
    ]
    for row in [head, *body]:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in
                                             zip(row[1:], widths[1:], strict=True)]
        out.append("  " + "  ".join(cells).rstrip())
    out += notes
    failed = entry["verdict"] == "FAIL"
    out.append(f"comparison {entry['verdict']}"
               + (f" (exit code {EXIT_COMPARE_FAILED})" if failed else ""))
    if entry.get("csv"):
        out.append(f"comparison per-file metrics in {entry['csv']}")
    return out


def _layer_lines(layers: Mapping[str, Any]) -> list[str]:
    compared = sum(t["metrics"] is not None for t in layers.get("tensors", []))
    out = [f"layers: {compared} shared intermediate tensor(s) compared on the first batch "
           f"(atol {layers['atol']:g}, rtol {layers['rtol']:g})"]
    first = layers.get("first_divergence")
    if first is None:
        return [*out, "layers: every shared tensor within tolerance"]
    m = first["metrics"]
    out.append(
        f"layers: first divergence at node {first['node']!r} ({first['op_type']}, position "
        f"{first['position']}), output {first['tensor']!r}: max abs {_num(m['max_abs'])}, "
        f"cosine {_cos(m['cosine'])}, {m['outside']} ({100 * m['outside_share']:.3g}%) "
        "outside tolerance"
    )
    return out


def _num(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3g}"


def _cos(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.6f}"
