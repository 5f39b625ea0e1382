"""Value parsers of the command line: text in, a value out, or one line saying what was expected.

Each raises argparse.ArgumentTypeError, which argparse turns into `argument --opt: <message>`."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

TRUE_WORDS = ("1", "true", "yes", "y", "on")
FALSE_WORDS = ("0", "false", "no", "n", "off")


def switch(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(f"expected 1/true/yes or 0/false/no, got {text!r}")


def integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def positive(text: str) -> int:
    """--sweep_max: a positive integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def upper_choice(choices: Sequence[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().upper()
        if value not in choices:
            raise argparse.ArgumentTypeError(f"expected one of {', '.join(choices)}, got {text!r}")
        return value

    return parse


def lower_choice(choices: Sequence[str] | Callable[[], Sequence[str]]) -> Callable[[str], str]:
    """`choices` may be a function, asked at parse time (the backend registry's names)."""

    def parse(text: str) -> str:
        known = choices() if callable(choices) else choices
        value = text.strip().lower()
        if value not in known:
            raise argparse.ArgumentTypeError(f"expected one of {', '.join(known)}, got {text!r}")
        return value

    return parse


def device_ids(text: str) -> list[int]:
    """'0' or '0,1,2'; an id may repeat (two workers on one device), as in the original."""
    parts = [p.strip() for p in text.split(",")]
    ids = []
    for p in parts:
        if not (p.isascii() and p.isdigit()):
            raise argparse.ArgumentTypeError(
                f"expected device ids like 0 or 0,1,2, got {text!r} ({p!r} is not a non-negative "
                "integer)"
            )
        ids.append(int(p))
    return ids


def seconds(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None


def percentile_list(text: str) -> tuple[float, ...]:
    values = []
    for part in text.split(","):
        p = part.strip().rstrip("%")
        try:
            q = float(p)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected percentiles like 50,90,99.9, got {text!r} ({part.strip()!r} is not a "
                "number)"
            ) from None
        values.append(q)
    return tuple(sorted(set(values)))


def percent(text: str) -> float:
    """'10' or '10%': a percentage (checked against 0 by RunConfig)."""
    raw = text.strip().removesuffix("%").strip()
    try:
        return float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a percentage such as 10 or 10%, got {text!r}"
        ) from None


def milliseconds(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected milliseconds, got {text!r}") from None
