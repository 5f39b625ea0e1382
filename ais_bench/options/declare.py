"""The declaration of one option: everything the parser, RunConfig, --help, the sweep, the Python
API and the README need to know about it, in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ais_bench.errors import UserError

SAME = object()  # field_default: the RunConfig field defaults to the command line's default


@dataclass(frozen=True)
class Part:
    """A run part: one --help group and one module of declarations."""

    name: str
    title: str
    description: str


@dataclass(frozen=True)
class Option:
    """One option. `name` is the long option (`--name`) and the argparse dest.

    parse: text -> value (options/parsers.py); None keeps the text as typed.
    switch: 1/true/yes or 0/false/no, a bare `--name` meaning on.
    field: the RunConfig field it fills ("" for none: an option read by the command line only);
    field_default: the field's default when it differs from the command line's `default`;
    field_type: the field's annotation.
    to_config: the parsed value -> the field's value (None: as parsed; switches become bool).
    sweep: whether `--sweep name=...` may vary it.
    doc, doc_default: the README table's cells (help and the default when empty).
    """

    name: str
    part: str
    help: str
    aliases: tuple[str, ...] = ()
    parse: Callable[[str], Any] | None = None
    default: Any = None
    switch: bool = False
    required: bool = False
    metavar: str | None = None
    extend: bool = False  # nargs="+", action="extend": `--sweep a=1 b=2` and repeated --sweep
    choices: tuple[str, ...] | None = None
    field: str | None = None  # None: same as name
    field_type: str = "Any"
    field_default: Any = SAME
    to_config: Callable[[Any], Any] | None = None
    sweep: bool = True
    doc: str = ""
    doc_default: str = ""

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    @property
    def config_field(self) -> str:
        return self.name if self.field is None else self.field

    @property
    def config_default(self) -> Any:
        return self.default if self.field_default is SAME else self.field_default

    def config_value(self, parsed: Any) -> Any:
        """The RunConfig value of what the command line parsed."""
        if self.to_config is not None:
            return self.to_config(parsed)
        if self.switch and parsed is not None:
            return bool(parsed)
        return parsed


def require(ok: bool, message: str) -> None:
    """A rule between options: refused with its one-line message."""
    if not ok:
        raise UserError(message)
