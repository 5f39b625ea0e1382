"""Rates as people read them: 0.50 TFLOP/s, 29.2 GB/s."""

from __future__ import annotations


def rate(value: float | None, unit: str = "FLOP/s") -> str:
    if value is None:
        return "unknown"
    if value >= 1e11:
        return f"{value / 1e12:.2f} T{unit}"
    if value >= 1e8:
        return f"{value / 1e9:.3g} G{unit}"
    return f"{value / 1e6:.3g} M{unit}"
