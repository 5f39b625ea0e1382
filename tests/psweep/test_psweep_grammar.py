"""The --sweep grammar: value lists, ranges, the sweepable keys and the cap."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ais_bench.cli import build_parser
from ais_bench.errors import UserError
from ais_bench.psweep.grammar import (
    DEFAULT_CAP,
    check_cap,
    combinations,
    expand,
    parse_axes,
    sweepable,
)

KEYS = sweepable(build_parser())


def test_sweepable_keys_come_from_the_parser():
    for key in ("threads", "intra_op_threads", "inter_op_threads", "backend", "model", "dymBatch",
                "graph_opt_level", "pipeline", "batchsize"):
        assert key in KEYS
    for key in ("output", "output_dirname", "debug", "sweep", "objective", "help", "device"):
        assert key not in KEYS


@given(st.lists(st.integers(1, 10_000), min_size=1, max_size=8, unique=True))
def test_a_list_comes_back_as_given(values):
    assert expand("threads", ",".join(map(str, values))) == tuple(map(str, values))


@given(st.integers(1, 64), st.integers(0, 200))
def test_a_range_doubles_from_low_and_ends_at_high(lo, extra):
    hi = lo + extra
    got = [int(v) for v in expand("threads", f"{lo}:{hi}")]
    assert got[0] == lo and got[-1] == hi
    assert all(b > a for a, b in itertools.pairwise(got))
    assert all(b == 2 * a for a, b in itertools.pairwise(got[:-1]))
    assert len(got) <= math.floor(math.log2(hi / lo)) + 2


def test_ranges_with_a_step_and_pipe_separated_values():
    assert expand("threads", "2:8:3") == ("2", "5", "8")
    assert expand("threads", "1:16") == ("1", "2", "4", "8", "16")
    assert expand("threads", "1:12") == ("1", "2", "4", "8", "12")
    assert expand("dymHW", "224,224|256,256") == ("224,224", "256,256")
    assert expand("dymDims", "x:1,16") == ("x:1,16",)
    assert expand("dymDims", "x:1,16|x:2,16") == ("x:1,16", "x:2,16")


@pytest.mark.parametrize("text", ["", "1,,2", "1,2,", "1,1", "1:4,2", "4:1", "0:4", "1:4:0"])
def test_bad_lists_are_refused(text):
    with pytest.raises(UserError, match="--sweep threads="):
        expand("threads", text)


def test_axes_unknown_key_lists_the_valid_ones_and_a_key_given_twice():
    with pytest.raises(UserError, match=r"sweepable keys: .*intra_op_threads.*threads"):
        parse_axes(["thread=1,2"], KEYS)
    with pytest.raises(UserError, match="names threads twice"):
        parse_axes(["threads=1,2", "threads=4"], KEYS)
    with pytest.raises(UserError, match="expected KEY=V1,V2"):
        parse_axes(["threads"], KEYS)


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_combinations_are_the_product_last_axis_fastest(sizes):
    keys = ["threads", "intra_op_threads", "inter_op_threads"][: len(sizes)]
    axes = parse_axes([f"{k}={','.join(str(v + 1) for v in range(n))}"
                       for k, n in zip(keys, sizes, strict=True)], KEYS)
    configs = combinations(axes)
    assert len(configs) == math.prod(sizes)
    assert len({c.overrides for c in configs}) == len(configs)
    assert [c.index for c in configs] == list(range(1, len(configs) + 1))
    if sizes[-1] > 1:  # the last axis changes first
        assert configs[1].overrides[:-1] == configs[0].overrides[:-1]
        assert configs[1].overrides[-1] != configs[0].overrides[-1]


def test_the_cap():
    axes = parse_axes([f"threads=1:{DEFAULT_CAP}:1", "intra_op_threads=1,2"], KEYS)
    with pytest.raises(UserError, match=f"= {2 * DEFAULT_CAP} configurations.*--sweep_max"):
        check_cap(axes, None)
    check_cap(axes, 2 * DEFAULT_CAP)
    with pytest.raises(UserError, match="cap of 3"):
        check_cap(parse_axes(["threads=1,2,3,4"], KEYS), 3)


def test_a_combination_the_run_refuses_is_skipped_a_value_refused_everywhere_is_an_error(
    monkeypatch, tmp_path
):
    """The planner's rule, with a cross-option check (as precision vs backend) added."""
    from ais_bench.cli import config_from_args
    from ais_bench.psweep import app

    def strict(ns, argv):
        if ns.backend == "cuda" and ns.threads == 2:
            raise UserError("--threads 2: --backend cuda cannot run it")
        if ns.intra_op_threads == 3:
            raise UserError("--intra_op_threads 3: never")
        return config_from_args(ns, argv)

    monkeypatch.chdir(tmp_path)
    p = app.plan(["--model", "zoo:tiny", "--sweep", "backend=cpu,cuda", "threads=1,2"],
                 build_parser(), strict)
    assert p.refused == {4: "--threads 2: --backend cuda cannot run it"}
    with pytest.raises(UserError, match=r"^--sweep intra_op_threads=1,3: --intra_op_threads 3"):
        app.plan(["--model", "zoo:tiny", "--sweep", "intra_op_threads=1,3"], build_parser(),
                 strict)
