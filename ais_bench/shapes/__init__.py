"""Dynamic input shapes: the option grammars, each input's concrete shape, range sweeps.

ONNX models mark dynamic axes with a name ("batch") or leave them unknown; ONNX Runtime takes
any size there. The guide's options fix them per run:

- ``--dymBatch N`` sets every input's dynamic first dim;
- ``--dymHW H,W`` sets the height and width of image inputs (NCHW or NHWC, told apart by which
  dims are dynamic);
- ``--dymDims`` / ``--dymShape "name:1,3,224,224;name2:1,600"`` give whole shapes by input name;
- ``--dymShape_range "name:1,3,200~224,224-230"`` denotes a list of such shapes (the cartesian
  product of each dim's values), or names a ``.info`` file holding one such spec per line.

Parsers return plain values (dicts of name -> tuple of ints) and raise a one-line UserError that
quotes the bad part and shows the grammar. Nothing here touches the engine.

grammar.py holds the fixed-shape grammars, ranges.py --dymShape_range, resolve.py the rules that
apply them to a model's inputs; everything is named here as before.
"""

from ais_bench.shapes.grammar import (
    HW_GRAMMAR,
    MAX_DIM,
    RANGE_GRAMMAR,
    RANGE_MAX_DEFAULT,
    SHAPE_GRAMMAR,
    SIZES_GRAMMAR,
    Shape,
    ShapeMap,
    format_shapes,
    parse_hw,
    parse_shapes,
    parse_sizes,
    shape_value,
)
from ais_bench.shapes.ranges import (
    DimChoices,
    RangeSpec,
    ShapeRange,
    check_range_count,
    parse_range,
    parse_range_spec,
    range_value,
)
from ais_bench.shapes.resolve import (
    NCHW,
    NHWC,
    check_feed_shapes,
    first_dim,
    hw_layout,
    resolve,
    shared_dim_conflicts,
)

__all__ = [
    'HW_GRAMMAR',
    'MAX_DIM',
    'NCHW',
    'NHWC',
    'RANGE_GRAMMAR',
    'RANGE_MAX_DEFAULT',
    'SHAPE_GRAMMAR',
    'SIZES_GRAMMAR',
    'DimChoices',
    'RangeSpec',
    'Shape',
    'ShapeMap',
    'ShapeRange',
    'check_feed_shapes',
    'check_range_count',
    'first_dim',
    'format_shapes',
    'hw_layout',
    'parse_hw',
    'parse_range',
    'parse_range_spec',
    'parse_shapes',
    'parse_sizes',
    'range_value',
    'resolve',
    'shape_value',
    'shared_dim_conflicts',
]
