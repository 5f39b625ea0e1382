"""The option table drives the parser, --help, RunConfig, the sweep keys, the API and the README."""

from __future__ import annotations

import dataclasses

import pytest

import ais_bench
from ais_bench.cli import build_parser, config_from_args
from ais_bench.config import RunConfig
from ais_bench.errors import UserError
from ais_bench.options import readme, table
from ais_bench.options.parser import add
from ais_bench.psweep.grammar import sweepable


def test_the_readme_table_is_the_generated_one():
    text = readme.README.read_text(encoding="utf-8")
    assert readme.rewrite(text) == text, "run: python -m ais_bench.options.readme"
    for o in table.OPTIONS:
        assert f"| `{o.flag}`" in text


def test_the_readme_check_fails_on_a_stale_table():
    text = readme.README.read_text(encoding="utf-8")
    stale = text.replace("| `--loop`, `-l` |", "| `--loop` |")
    assert stale != text
    assert readme.rewrite(stale) == text


def test_every_option_is_in_help_in_its_part_group():
    p = build_parser()
    groups = {g.title: g for g in p._action_groups}
    for part, options in table.parts():
        group = groups[part.title]
        assert group.description == part.description
        flags = {s for a in group._group_actions for s in a.option_strings}
        for o in options:
            assert o.part == part.name
            assert {o.flag, *o.aliases} <= flags
    text = p.format_help()
    for o in table.OPTIONS:
        assert o.flag in text


def test_names_and_aliases_are_declared_once():
    names = [s for o in table.OPTIONS for s in (o.flag, *o.aliases)]
    assert len(names) == len(set(names))
    fields = [o.config_field for o in table.config_options()]
    assert len(fields) == len(set(fields))


def test_runconfig_fields_come_from_the_table():
    fields = {f.name: f for f in dataclasses.fields(RunConfig)}
    for o in table.config_options():
        f = fields[o.config_field]
        if o.required:
            assert f.default is dataclasses.MISSING
        else:
            got = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            assert got == o.config_default, o.name
    assert set(fields) - {o.config_field for o in table.config_options()} == {
        "acl", "argv", "model_arg", "quantized"
    }


def test_the_parsed_defaults_make_the_default_runconfig():
    ns = build_parser().parse_args(["-m", "m.onnx"])
    cfg = config_from_args(ns, ["-m", "m.onnx"])
    assert dataclasses.replace(cfg, argv=(), progress=None) == RunConfig(model="m.onnx")


def test_sweepable_keys_come_from_the_table():
    keys = set(sweepable(build_parser()))
    assert keys == {o.name for o in table.OPTIONS if o.sweep}
    assert keys == set(table.sweepable())
    assert "threads" in keys and "output" not in keys and "sweep" not in keys


def test_api_keywords_come_from_the_table():
    assert table.api_keywords() == {o.config_field for o in table.config_options()} | {"device"}
    with pytest.raises(TypeError, match="unknown option 'lop'; did you mean loop"):
        ais_bench.benchmark("zoo:tiny", lop=3)
    with pytest.raises(TypeError, match="unknown option 'argv'"):
        ais_bench.benchmark("zoo:tiny", argv=("x",))


@pytest.mark.parametrize(
    ("args", "value"),
    [([], False), (["--pipeline"], True), (["--pipeline", "1"], True), (["--pipeline=true"], True),
     (["--pipeline", "TRUE"], True), (["--pipeline=0"], False), (["--pipeline", "false"], False),
     (["--pipeline", "no"], False), (["--pipeline=yes"], True)],
)
def test_a_switch_takes_1_true_0_false_or_no_value(args, value):
    assert build_parser().parse_args(["-m", "m.onnx", *args]).pipeline is value


def test_a_switch_refuses_other_words_in_one_line():
    with pytest.raises(UserError) as e:
        build_parser().parse_args(["-m", "m.onnx", "--pipeline=maybe"])
    assert str(e.value) == (
        "argument --pipeline: expected 1/true/yes or 0/false/no, got 'maybe'"
    )


def test_a_new_declaration_is_a_new_option():
    """One Option added to a parser group is parsed with its spelling and default."""
    import argparse

    from ais_bench.options.declare import Option
    from ais_bench.options.parsers import integer

    p = argparse.ArgumentParser()
    add(p, Option("my_option", "engine", "help", aliases=("-y",), parse=integer, default=4))
    assert p.parse_args([]).my_option == 4
    assert p.parse_args(["-y", "5"]).my_option == 5
    assert p.parse_args(["--my_option=6"]).my_option == 6
