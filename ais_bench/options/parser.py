"""The argparse parser and --help, built from the table: one argument group per run part."""

from __future__ import annotations

import argparse
import difflib

from ais_bench.errors import UserError
from ais_bench.options import table
from ais_bench.options.declare import Option
from ais_bench.options.parsers import switch

DESCRIPTION = (
    "Benchmark an ONNX model on ONNX Runtime: latency, throughput and outputs. Options "
    "take '--opt value' or '--opt=value'; switches take 1/true/yes or 0/false/no."
)


class Parser(argparse.ArgumentParser):
    """argparse that raises one-line UserErrors and suggests the closest option for a typo."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(message)

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        ns, extra = self.parse_known_args(args, namespace)
        if extra:
            raise UserError(self._unknown(extra))
        return ns

    def _unknown(self, extra: list[str]) -> str:
        word = extra[0].split("=", 1)[0]
        if not word.startswith("-"):
            return f"unexpected argument {word!r}: options take the form --name value"
        known = [s for a in self._actions for s in a.option_strings]
        close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else "; see --help for the options"
        return f"unknown option {word}{hint}"


def build_parser() -> Parser:
    p = Parser(
        prog="ais_bench",
        description=DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        allow_abbrev=False,
    )
    for part, options in table.parts():
        group = p.add_argument_group(part.title, part.description)
        for o in options:
            add(group, o)
    return p


def add(group: argparse._ActionsContainer, o: Option) -> None:
    kwargs: dict[str, object] = {"default": o.default, "help": o.help}
    if o.switch:
        kwargs.update(type=switch, nargs="?", const=True, metavar="{0,1}")
    elif o.parse is not None:
        kwargs["type"] = o.parse
    if o.required:
        kwargs["required"] = True
        del kwargs["default"]
    if o.metavar is not None:
        kwargs["metavar"] = o.metavar
    if o.extend:
        kwargs.update(nargs="+", action="extend")
    if o.choices is not None:
        kwargs["choices"] = o.choices
    group.add_argument(*o.aliases, o.flag, **kwargs)
