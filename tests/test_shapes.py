"""The dynamic-shape grammars and shape resolution (ais_bench.shapes), without an engine.

Includes hypothesis property tests: every generated valid spec parses to the shapes it denotes,
and every one-character mutation of one either parses to a valid spec or raises the one-line
UserError, never anything else.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ais_bench import shapes
from ais_bench.backends.base import TensorSpec
from ais_bench.config import RunConfig
from ais_bench.errors import UserError

F32 = np.dtype(np.float32)


def spec(name: str, *dims: int | str) -> TensorSpec:
    return TensorSpec(name, F32, tuple(dims))


def one_line_error(fn, *args, **kwargs) -> str:
    with pytest.raises(UserError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


# -- grammars: examples -------------------------------------------------------------------------


def test_shape_spec_parses_in_order():
    got = shapes.parse_shapes("input1:8,3,5,10;input2:5,3,10,10")
    assert got == {"input1": (8, 3, 5, 10), "input2": (5, 3, 10, 10)}
    assert list(got) == ["input1", "input2"]
    assert shapes.format_shapes(got) == "input1:8,3,5,10;input2:5,3,10,10"


def test_shape_spec_tolerates_spaces_a_trailing_semicolon_and_colons_in_names():
    assert shapes.parse_shapes(" a : 1, 2 ; b:3 ;") == {"a": (1, 2), "b": (3,)}
    assert shapes.parse_shapes("input_1:0:1,3") == {"input_1:0": (1, 3)}


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("name:", "'name:'"),
        (":1,2", "':1,2'"),
        ("name:1,,2", "'name:1,,2'"),
        ("name:a,b", "'a'"),
        ("name:1,-1", "'-1'"),
        ("name:1,0", "dim 0"),
        ("name:1,2;name:3", "'name' is given twice"),
        ("name:1;;b:2", "empty entry"),
        ("name 1,2", "no ':'"),
        ("", "empty"),
        ("x:99999999999", "too large"),
        ("x:1_0", "'1_0'"),
    ],
)
def test_bad_shape_specs_quote_the_bad_part_and_show_the_grammar(text, quoted):
    msg = one_line_error(shapes.parse_shapes, text, "--dymShape")
    assert msg.startswith("--dymShape ")
    assert quoted in msg
    assert shapes.SHAPE_GRAMMAR in msg


def test_range_expands_the_cartesian_product_in_order():
    r = shapes.parse_range("x:1~2,3,224-300,224-300")
    assert r.count() == 8
    assert [s["x"] for s in r.shapes()] == [
        (1, 3, 224, 224), (1, 3, 224, 300), (1, 3, 300, 224), (1, 3, 300, 300),
        (2, 3, 224, 224), (2, 3, 224, 300), (2, 3, 300, 224), (2, 3, 300, 300),
    ]


def test_range_steps_lists_and_several_inputs():
    r = shapes.parse_range("a:1,3,200~224~12;b:1,300")
    assert [(s["a"], s["b"]) for s in r.shapes()] == [
        ((1, 3, 200), (1, 300)), ((1, 3, 212), (1, 300)), ((1, 3, 224), (1, 300))
    ]
    assert [s["x"] for s in shapes.parse_range("x:1,3,224,224~226").shapes()] == [
        (1, 3, 224, 224), (1, 3, 224, 225), (1, 3, 224, 226)
    ]


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("x:1~", "'1~'"),
        ("x:5~2", "'5~2' runs backwards; write 2~5"),
        ("x:1-", "'1-'"),
        ("x:-1", "'-1'"),
        ("x:1~2~0", "dim 0"),
        ("x:1~2~3~4", "'1~2~3~4'"),
        ("x:1~3-4", "mixes"),
        ("x:0~2", "dim 0"),
        ("x:", "'x:'"),
        (":1", "':1'"),
        ("x:1;x:2", "twice"),
    ],
)
def test_bad_range_specs_quote_the_bad_part_and_show_the_grammar(text, quoted):
    msg = one_line_error(shapes.parse_range, text)
    assert quoted in msg
    assert shapes.RANGE_GRAMMAR in msg


def test_range_info_file_runs_every_line(tmp_path):
    info = tmp_path / "ranges.info"
    info.write_text("# two groups\nx:1,3,8~9\n\ny:2-4\n")
    r = shapes.parse_range(str(info))
    assert [tuple(s.items()) for s in r.shapes()] == [
        (("x", (1, 3, 8)),), (("x", (1, 3, 9)),), (("y", (2,)),), (("y", (4,)),)
    ]


def test_range_info_file_missing_empty_or_bad(tmp_path):
    assert "file not found" in one_line_error(shapes.parse_range, str(tmp_path / "no.info"))
    empty = tmp_path / "empty.info"
    empty.write_text("# nothing\n\n")
    assert "holds no spec lines" in one_line_error(shapes.parse_range, str(empty))
    bad = tmp_path / "bad.info"
    bad.write_text("x:1\nx:1,,2\n")
    msg = one_line_error(shapes.parse_range, str(bad))
    assert f"{bad}:2" in msg and "'x:1,,2'" in msg


def test_range_limit_needs_confirmation():
    r = shapes.parse_range("x:1~1001")
    msg = one_line_error(shapes.check_range_count, r, shapes.RANGE_MAX_DEFAULT)
    assert "1001 shapes" in msg and "--dymShape_range_max 1001" in msg
    shapes.check_range_count(r, 1001)
    # Counting never expands: a huge range is refused at once.
    assert shapes.parse_range("x:1~2147483647,1~2147483647").count() == (2**31 - 1) ** 2


def test_hw_and_sizes():
    assert shapes.parse_hw("300, 500") == (300, 500)
    assert "3 value(s)" in one_line_error(shapes.parse_hw, "1,2,3")
    assert "'x'" in one_line_error(shapes.parse_hw, "x,2")
    assert shapes.parse_sizes("10000,10000") == (10000, 10000)
    assert "'0'" in one_line_error(shapes.parse_sizes, "10,0")


def test_run_config_parses_strings_and_mappings_and_stays_valid_on_replace():
    cfg = RunConfig(model="m.onnx", dymShape="a:1,2", outputSize="5,6")
    assert cfg.dymShape == {"a": (1, 2)} and cfg.outputSize == (5, 6)
    again = cfg.replace(loop=2)
    assert again.dymShape == {"a": (1, 2)} and again.outputSize == (5, 6)
    assert RunConfig(model="m", dymDims={"a": [1, 2]}, outputSize=7).dymDims == {"a": (1, 2)}
    assert RunConfig(model="m", dymBatch=2, dymHW=(8, 8)).dymHW == (8, 8)
    assert RunConfig(model="m", dymHW="3, 4").dymHW == (3, 4)


@pytest.mark.parametrize(
    "options",
    [
        {"dymDims": "a:1", "dymShape": "a:1"},
        {"dymBatch": 2, "dymShape": "a:1"},
        {"dymHW": "2,2", "dymDims": "a:1"},
        {"dymShape_range": "a:1~2", "dymBatch": 1},
    ],
)
def test_options_that_each_set_whole_shapes_do_not_combine(options):
    assert "each set input shapes" in one_line_error(RunConfig, model="m", **options)


def test_range_count_checked_in_config():
    msg = one_line_error(RunConfig, model="m", dymShape_range="a:1~3", dymShape_range_max=2)
    assert "3 shapes" in msg
    assert RunConfig(model="m", dymShape_range="a:1~3", dymShape_range_max=3).dymShape_range


# -- resolution -------------------------------------------------------------------------------


IMAGE = spec("image", "batch", 3, "height", "width")
TOKENS = TensorSpec("tokens", np.dtype(np.int64), ("batch", "seq"))
SCALE = spec("scale")


def test_dym_batch_sets_every_dynamic_first_dim_and_skips_scalars():
    b = [spec("x", "batch", 3), spec("y", "?", 5), SCALE]
    assert shapes.resolve(b, dym_batch=4) == [(4, 3), (4, 5), ()]


def test_dym_batch_errors():
    msg = one_line_error(shapes.resolve, [spec("x", "b", 3), spec("y", 2, 3)], dym_batch=4)
    assert "'y'" in msg and "fixed first dim 2" in msg
    assert "no model input has a dynamic first dim" in one_line_error(
        shapes.resolve, [spec("x", 1, 3)], dym_batch=1
    )
    msg = one_line_error(shapes.resolve, [IMAGE], dym_batch=1)
    assert "still have dynamic dims after --dymBatch" in msg and "--dymShape" in msg


def test_dym_hw_detects_nchw_and_nhwc():
    nhwc = spec("nhwc", "n", "h", "w", 3)
    got = shapes.resolve([IMAGE, nhwc], dym_batch=2, dym_hw=(5, 7))
    assert got == [(2, 3, 5, 7), (2, 5, 7, 3)]
    assert shapes.hw_layout(IMAGE) == shapes.NCHW
    assert shapes.hw_layout(nhwc) == shapes.NHWC
    assert shapes.hw_layout(spec("x", "b", 3, 224, 224)) is None


@pytest.mark.parametrize("dims", [(1, "c", "h", "w"), (1, 3, "h", 224), (1, "h", 5, 3)])
def test_dym_hw_ambiguous_layout_asks_for_dym_dims(dims):
    msg = one_line_error(shapes.resolve, [spec("x", *dims)], dym_hw=(4, 4))
    assert "--dymDims" in msg and "'x'" in msg


def test_dym_hw_without_dynamic_image_dims():
    msg = one_line_error(shapes.resolve, [spec("x", 1, 3, 224, 224)], dym_hw=(4, 4))
    assert "no 4-D model input has dynamic height and width" in msg


def test_dims_give_whole_shapes_and_static_inputs_may_be_left_out():
    got = shapes.resolve([IMAGE, TOKENS, SCALE], dims={"tokens": (2, 4), "image": (2, 3, 5, 7)})
    assert got == [(2, 3, 5, 7), (2, 4), ()]


def test_dims_errors_name_the_input_and_dim():
    specs = [IMAGE, TOKENS, SCALE]
    msg = one_line_error(
        shapes.resolve, specs, dims={"imag": (1, 3, 4, 4)}, dims_option="--dymDims"
    )
    assert msg.startswith("--dymDims names input 'imag'") and "did you mean 'image'" in msg
    msg = one_line_error(shapes.resolve, specs, dims={"image": (1, 3, 4, 4)})
    assert "does not cover the dynamic input(s) 'tokens'" in msg
    msg = one_line_error(shapes.resolve, specs, dims={"image": (1, 3, 4), "tokens": (1, 2)})
    assert "gives input 'image' 3 dim(s)" in msg and "declares 4" in msg
    msg = one_line_error(shapes.resolve, specs, dims={"image": (1, 4, 4, 4), "tokens": (1, 2)})
    assert "input 'image' dim 1 = 4, but the model fixes it at 3" in msg


def test_unresolved_inputs_name_the_inputs_and_the_options_that_fix_them():
    msg = one_line_error(shapes.resolve, [spec("x", "batch", 3)])
    assert "'x'" in msg and "--dymBatch N" in msg and '--dymShape "x:1,3"' in msg
    msg = one_line_error(shapes.resolve, [IMAGE])
    assert "--dymBatch N --dymHW H,W" in msg
    msg = one_line_error(shapes.resolve, [IMAGE, TOKENS, SCALE])
    assert "'image'" in msg and "'tokens'" in msg and "'scale'" not in msg
    assert "--dymShape" in msg and "--dymDims" in msg and "--dymHW" not in msg
    assert shapes.resolve([spec("s", 1, 2)]) == [(1, 2)]


def test_shared_dim_conflicts():
    got = shapes.shared_dim_conflicts([IMAGE, TOKENS], [(1, 3, 4, 4), (2, 8)])
    assert got == ["dim 'batch' is 1 in input 'image' but 2 in 'tokens'"]


def test_feed_shape_checks():
    shapes.check_feed_shapes([IMAGE, TOKENS], [(2, 3, 4, 4), (2, 9)], "dymbatch")
    assert "one batch size" in one_line_error(
        shapes.check_feed_shapes, [IMAGE, TOKENS], [(2, 3, 4, 4), (1, 9)], "dymbatch"
    )
    assert "dim 1 fixed at 3" in one_line_error(shapes.check_feed_shapes, [IMAGE], [(1, 2, 4, 4)])
    assert "expects 4 dim(s)" in one_line_error(shapes.check_feed_shapes, [IMAGE], [(1, 3, 4)])


# -- property tests ---------------------------------------------------------------------------

NAME = st.text(alphabet="abcXYZ_019./:", min_size=1, max_size=8)
DIM = st.integers(1, shapes.MAX_DIM)
PAD = st.sampled_from(["", " "])


@st.composite
def shape_specs(draw) -> tuple[str, dict[str, tuple[int, ...]]]:
    names = draw(st.lists(NAME, min_size=1, max_size=4, unique=True))
    want = {n: tuple(draw(st.lists(DIM, min_size=1, max_size=5))) for n in names}
    pad = draw(PAD)
    text = ";".join(
        f"{pad}{n}{pad}:{pad}" + ",".join(f"{d}{draw(PAD)}" for d in dims)
        for n, dims in want.items()
    )
    return text, want


SMALL = st.integers(1, 40)


@st.composite
def range_dims(draw) -> tuple[str, list[int]]:
    kind = draw(st.sampled_from(["one", "range", "step", "list"]))
    a = draw(SMALL)
    if kind == "one":
        return str(a), [a]
    if kind == "list":
        vals = draw(st.lists(SMALL, min_size=1, max_size=3))
        return "-".join(map(str, vals)), vals
    b = a + draw(st.integers(0, 3))
    if kind == "range":
        return f"{a}~{b}", list(range(a, b + 1))
    step = draw(st.integers(1, 3))
    return f"{a}~{b}~{step}", list(range(a, b + 1, step))


@st.composite
def range_specs(draw) -> tuple[str, list[dict[str, tuple[int, ...]]]]:
    names = draw(st.lists(NAME, min_size=1, max_size=2, unique=True))
    per_input = {n: draw(st.lists(range_dims(), min_size=1, max_size=3)) for n in names}
    text = ";".join(f"{n}:" + ",".join(tok for tok, _ in dims) for n, dims in per_input.items())
    # Expected shapes, built independently: one product per input, then across inputs.
    per_name = {
        n: list(itertools.product(*(vals for _, vals in dims))) for n, dims in per_input.items()
    }
    combos = itertools.product(*per_name.values())
    want = [dict(zip(per_name, combo, strict=True)) for combo in combos]
    return text, want


@settings(max_examples=300, deadline=None)
@given(shape_specs())
def test_every_valid_shape_spec_parses_to_its_shapes(case):
    text, want = case
    got = shapes.parse_shapes(text)
    assert got == want
    assert shapes.parse_shapes(shapes.format_shapes(got)) == want


@settings(max_examples=300, deadline=None)
@given(range_specs())
def test_every_valid_range_spec_expands_to_its_shapes(case):
    text, want = case
    r = shapes.parse_range(text)
    assert r.count() == len(want)
    assert list(r.shapes()) == want


MUTANTS = st.sampled_from([*":;,~- 0123456789aZ_.\t\n", "١", "\x00", "~~", "é"])


def _valid_parse(parsed: object, grammar: str) -> None:
    """What a successful parse may return: names to tuples of dims in range."""
    top = None if grammar == "sizes" else shapes.MAX_DIM  # byte counts have no upper bound

    def dims_ok(dims: tuple[int, ...]) -> bool:
        return bool(dims) and all(
            isinstance(d, int) and d >= 1 and (top is None or d <= top) for d in dims
        )

    if isinstance(parsed, dict):
        assert all(isinstance(n, str) and n.strip() and dims_ok(d) for n, d in parsed.items())
    elif isinstance(parsed, shapes.ShapeRange):
        for one in itertools.islice(parsed.shapes(), 50):
            _valid_parse(one, grammar)
    else:
        assert dims_ok(parsed)


@settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.one_of(
        shape_specs().map(lambda c: ("shape", c[0])),
        range_specs().map(lambda c: ("range", c[0])),
        st.tuples(DIM, DIM).map(lambda hw: ("hw", f"{hw[0]},{hw[1]}")),
        st.lists(DIM, min_size=1, max_size=4).map(lambda s: ("sizes", ",".join(map(str, s)))),
    ),
    st.sampled_from(["replace", "insert", "delete"]),
    st.integers(0, 10_000),
    MUTANTS,
)
def test_one_character_mutations_parse_or_give_the_one_line_error(case, op, pos, char):
    grammar, text = case
    i = pos % (len(text) + (op == "insert"))
    if op == "replace":
        mutated = text[:i] + char + text[i + 1 :]
    elif op == "insert":
        mutated = text[:i] + char + text[i:]
    else:
        mutated = text[:i] + text[i + 1 :]
    parse = {
        "shape": shapes.parse_shapes,
        "range": shapes.parse_range,
        "hw": shapes.parse_hw,
        "sizes": shapes.parse_sizes,
    }[grammar]
    try:
        parsed = parse(mutated)
    except UserError as exc:
        msg = str(exc)
        assert "\n" not in msg and "expected" in msg
        return
    _valid_parse(parsed, grammar)
