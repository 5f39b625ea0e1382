"""The command line as groups of (option, its values), so options can be dropped or checked
without re-spelling what the user typed."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

_NEGATIVE = re.compile(r"^-\d")


@dataclass(frozen=True)
class Group:
    dest: str | None  # None for a token no option claims (argparse reports it)
    tokens: tuple[str, ...]


def groups(argv: list[str], parser: argparse.ArgumentParser) -> list[Group]:
    by_string = {s: a.dest for a in parser._actions for s in a.option_strings}
    out: list[Group] = []
    for tok in argv:
        name = tok.split("=", 1)[0]
        if tok.startswith("-") and not _NEGATIVE.match(tok):
            out.append(Group(by_string.get(name), (tok,)))
        elif out:
            out[-1] = Group(out[-1].dest, (*out[-1].tokens, tok))
        else:
            out.append(Group(None, (tok,)))
    return out


def flatten(gs: list[Group]) -> list[str]:
    return [t for g in gs for t in g.tokens]


def value(gs: list[Group], dest: str) -> str | None:
    """The last value given for `dest` (argparse's rule), or None when it is absent."""
    for g in reversed(gs):
        if g.dest == dest:
            head = g.tokens[0]
            if "=" in head:
                return head.split("=", 1)[1]
            return g.tokens[1] if len(g.tokens) > 1 else ""
    return None
