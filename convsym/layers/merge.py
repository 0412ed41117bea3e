"""Cores of the merge layers: element-wise (Add, Multiply, ...) and Concatenate.

Branch shapes must agree.  Each pair of sizes is decided three-valued
(:func:`convsym.layers.agree.require_equal`): proved equal for every input (nothing kept),
equal only for some inputs (an ``eq`` side condition joins the network's conditions), or
never equal (an error naming both branches, with a size that shows it).  Element-wise merges
broadcast like Keras and NumPy: shapes align on the right and a size that is the constant 1
stretches; any other pair must agree.

>>> from convsym.layers.keras import Add
>>> from convsym.intdiv import QPoly
>>> from convsym.expr import symbol
>>> n = QPoly.sym(symbol("n"))
>>> Add().infer_named([(n, QPoly.const(8)), (n + QPoly.const(1), QPoly.const(8))],
...                   ["conv2d", "conv2d_1"])
Traceback (most recent call last):
  ...
convsym.errors.ShapeError: Add, axis 0: 'conv2d' gives (n, 8) and 'conv2d_1' gives (n + 1, 8): \
n vs n + 1, which never agree (for n = 1: 1 vs 2)
"""

from __future__ import annotations

from collections.abc import Sequence

from convsym.intdiv import QExpr, QPoly, as_int, to_sympy
from convsym.layers.agree import require_equal
from convsym.layers.base import Condition, Inference, Layer, Shape, add_sizes, mul_sizes


def infer_elementwise(layer: Layer, shapes: Sequence[Shape], names: Sequence[str], *,
                      exactly: int | None = None) -> Inference:
    """Broadcast the inputs to one shape; ``(inputs - 1)`` operations per output element."""
    _count(layer, shapes, exactly)
    rank = max(len(s) for s in shapes)
    out: list[QExpr] = []
    conditions: list[Condition] = []
    notes: list[str] = []
    for pos in range(rank):
        back = rank - pos  # aligned on the right
        present = [(i, s[len(s) - back]) for i, s in enumerate(shapes) if len(s) >= back]
        stretching = [(i, x) for i, x in present if as_int(x) != 1]
        if not stretching:
            out.append(QPoly.const(1))
            continue
        first, size = stretching[0]
        for other, x in stretching[1:]:
            conditions += _agree(layer, f"axis {pos}", shapes, names, first, other, size, x,
                                 notes)
        out.append(size)
    ops = mul_sizes(QPoly.const(len(shapes) - 1), *out)
    return Inference(tuple(out), [], conditions, ops=ops, notes=notes)


def infer_concat(layer: Layer, shapes: Sequence[Shape], names: Sequence[str], axis: int,
                 fld: str = "axis") -> Inference:
    """Join along ``axis`` (an index into the shape without the batch, may be negative)."""
    _count(layer, shapes, None)
    ranks = {len(s) for s in shapes}
    if len(ranks) != 1:
        listing = ", ".join(f"{n!r} has rank {len(s)}" for n, s in zip(names, shapes))
        raise layer.shape_error("inputs", None,
                                f"concatenation needs inputs of one rank: {listing}",
                                code="rank_mismatch")
    rank = ranks.pop()
    if not -rank <= axis < rank:
        raise layer.config_error(fld, axis, f"is out of range for rank-{rank} inputs",
                                 code="bad_axis")
    axis %= rank
    conditions: list[Condition] = []
    notes: list[str] = []
    out: list[QExpr] = []
    for pos in range(rank):
        if pos == axis:
            out.append(add_sizes(*(s[pos] for s in shapes)))
            continue
        for other in range(1, len(shapes)):
            conditions += _agree(layer, f"axis {pos}", shapes, names, 0, other,
                                 shapes[0][pos], shapes[other][pos], notes)
        out.append(shapes[0][pos])
    return Inference(tuple(out), [], conditions, notes=notes)


def _count(layer: Layer, shapes: Sequence[Shape], exactly: int | None) -> None:
    if exactly is not None and len(shapes) != exactly:
        raise layer.config_error("inputs", len(shapes),
                                 f"{layer.type_name} takes exactly {exactly} inputs",
                                 code="wrong_input_count")
    if not shapes:
        raise layer.config_error("inputs", 0, "needs at least one input",
                                 code="wrong_input_count")


def _agree(layer: Layer, where: str, shapes: Sequence[Shape], names: Sequence[str],
           i: int, j: int, a: QExpr, b: QExpr, notes: list[str]) -> list[Condition]:
    def what() -> str:
        return (f"{names[i]!r} gives {_shape(shapes[i])} and {names[j]!r} gives "
                f"{_shape(shapes[j])}: {_t(a)} vs {_t(b)}")

    proved: list[str] = []
    conditions = require_equal(layer, where, a, b,
                               rule=f"{layer.type_name} needs {names[i]!r} and {names[j]!r} "
                                    f"to agree on {where}",
                               what=what, proved=proved)
    notes += [f"{names[i]!r} and {names[j]!r}, {note}" for note in proved]
    return conditions


def default_names(count: int) -> list[str]:
    """``input 0``, ``input 1``, ... for a merge applied outside a network."""
    return [f"input {i}" for i in range(count)]


def _t(e: QExpr) -> str:
    return str(to_sympy(e))


def _shape(shape: Shape) -> str:
    return "(" + ", ".join(_t(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
