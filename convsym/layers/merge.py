"""Cores of the merge layers: element-wise (Add, Multiply, ...) and Concatenate.

Branch shapes must agree.  Concatenate decides each pair of sizes three-valued
(:func:`convsym.layers.agree.require_equal`): proved equal for every input (nothing kept),
equal only for some inputs (an ``eq`` side condition joins the network's conditions), or
never equal (an error naming both branches, with a size that shows it).  Element-wise merges
broadcast like PyTorch and Keras: shapes align on the right and a size that *is* 1 stretches,
whatever expression gives it, so each pair is ``a == b or a == 1 or b == 1``, decided
disjunct by disjunct (:mod:`convsym.layers.broadcast`).

>>> from convsym.layers.keras import Add
>>> from convsym.intdiv import QPoly, to_sympy
>>> from convsym.expr import symbol
>>> n = QPoly.sym(symbol("n"))
>>> out = Add().infer_named([(n, QPoly.const(8)), (n + QPoly.const(1), QPoly.const(8))],
...                         ["conv2d", "conv2d_1"])
>>> [str(to_sympy(x)) for x in out.shape], [str(c.relation()) for c in out.conditions]
(['n + 1', '8'], ['Eq(n, 1)'])
>>> Add().infer_named([(n + QPoly.const(1),), (n + QPoly.const(2),)], ["a", "b"])
Traceback (most recent call last):
  ...
convsym.errors.ShapeError: Add, axis 0: 'a' gives (n + 1,) and 'b' gives (n + 2,): \
n + 1 vs n + 2, which never agree, and neither is ever 1 to broadcast (for n = 1: 2 vs 3)
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy

from convsym.intdiv import QExpr, QPoly, as_int, to_sympy
from convsym.layers.agree import require_equal
from convsym.layers.base import Condition, Inference, Layer, Shape
from convsym.layers.broadcast import Pair, decide_into, decide_pair, merged_size
from convsym.sizes import add_sizes, mul_sizes, show_point


def infer_elementwise(layer: Layer, shapes: Sequence[Shape], names: Sequence[str], *,
                      exactly: int | None = None) -> Inference:
    """Broadcast the inputs to one shape; ``(inputs - 1)`` operations per output element.

    Shapes align on the right (Keras expands a lower-rank input after its batch axis, which
    is the same).  PyTorch aligns whole tensors, batch included, so inputs of different
    ranks would broadcast a batch axis against a feature axis: refused, as convsym shapes
    carry no batch size.
    """
    _count(layer, shapes, exactly)
    ranks = {len(s) for s in shapes}
    if len(ranks) > 1 and layer.dialect == "torch":
        listing = ", ".join(f"{n!r} has rank {len(s)}" for n, s in zip(names, shapes))
        raise layer.shape_error(
            "inputs", None, f"inputs of different ranks ({listing}, without the batch axis) "
            "would broadcast the batch axis of one against a feature axis of the other; "
            "convsym shapes carry no batch size", code="rank_mismatch")
    rank = max(ranks)
    out: list[QExpr] = []
    conditions: list[Condition] = []
    notes: list[str] = []
    for pos in range(rank):
        back = rank - pos  # aligned on the right
        present = [(i, s[len(s) - back]) for i, s in enumerate(shapes) if len(s) >= back]
        out.append(_broadcast_axis(layer, f"axis {pos}", shapes, names, present, conditions,
                                   notes))
    ops = mul_sizes(QPoly.const(len(shapes) - 1), *out)
    return Inference(tuple(out), [], conditions, ops=ops, notes=notes)


def infer_into(layer: Layer, target: Shape, operand: Shape, names: Sequence[str]
                ) -> Inference:
    """An in-place operation (``a.add_(b)``, ``a += b``): the result is ``target``'s shape,
    and ``operand`` must broadcast into it without growing it (each of its sizes equal to
    ``target``'s or 1; PyTorch raises otherwise).  Each axis is decided three-valued: always
    (nothing kept), never (refused) or a side condition.  One operation per element.

    >>> from convsym.layers.torch import Add
    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> out = infer_into(Add(), (QPoly.const(8), QPoly.const(1)), (QPoly.const(8), n), "ab")
    >>> [str(to_sympy(x)) for x in out.shape], [str(c.relation()) for c in out.conditions]
    (['8', '1'], ['Eq(n, 1)'])
    """
    _count(layer, [target, operand], 2)
    if len(operand) != len(target):
        raise layer.shape_error(
            "inputs", None, f"an in-place operation on {names[0]!r} of rank {len(target)} "
            f"with {names[1]!r} of rank {len(operand)} (without the batch axis): their batch "
            "axes would not meet; convsym shapes carry no batch size", code="rank_mismatch")
    conditions: list[Condition] = []
    for pos, (t, o) in enumerate(zip(target, operand)):
        pair = decide_into(t, o)
        where = f"axis {pos}"
        if pair.kind == "never":
            allowed = "1" if as_int(t) == 1 else f"{_t(t)} or 1"
            raise layer.shape_error(
                where, None, f"{names[1]!r} gives {_shape(operand)} and {names[0]!r} gives "
                f"{_shape(target)}: an in-place result keeps the shape of {names[0]!r}, so "
                f"{_t(o)} must be {allowed}, and it never is", code="never_equal")
        if pair.kind != "always":
            conditions.append(_condition(pair, where, (
                f"{layer.type_name} in place needs {names[1]!r} to have the size of "
                f"{names[0]!r} on {where}, or 1 (the result keeps the shape of {names[0]!r})")))
    return Inference(tuple(target), [], conditions, ops=mul_sizes(*target))


def _broadcast_axis(layer: Layer, where: str, shapes: Sequence[Shape], names: Sequence[str],
                    present: list[tuple[int, QExpr]], conditions: list[Condition],
                    notes: list[str]) -> QExpr:
    """One axis: every pair of sizes decided (:mod:`convsym.layers.broadcast`), the size kept.

    Inputs whose size is provably equal to an earlier one's join its class: a pair with any
    member of a class is then decided once, with the class's first member.
    """
    stretching = [(i, x) for i, x in present if as_int(x) != 1]
    reps: list[tuple[int, QExpr]] = []  # the first member of each class of equal sizes
    kept: dict[int, QExpr] = {}  # sizes that may be the largest: the result is their max
    for j, b in stretching:
        kept[j] = b
        if any(a == b for _, a in reps):  # identical canonical forms: nothing to decide
            del kept[j]
            continue
        for i, a in reps:
            pair = decide_pair(a, b)
            if pair.kind == "never":
                raise layer.shape_error(where, None, _never(shapes, names, i, j, pair),
                                        code="never_equal")
            conditions.extend(_conditions(layer, where, names[i], names[j], pair))
            if pair.drop is not None:
                loser, winner = (i, j) if pair.drop == 0 else (j, i)
                if loser in kept and winner in kept:
                    del kept[loser]
            if pair.equal is not None and pair.equal.verdict == "always":
                notes.append(f"{names[i]!r} and {names[j]!r}, {where}: equal for every input "
                             f"({pair.equal.reason})")
            if pair.kind == "equal" or (pair.equal is not None and
                                        pair.equal.verdict == "always"):
                break  # b is a's size wherever the merge is valid: its other pairs are a's
        else:
            reps.append((j, b))
    return merged_size(list(kept.values()))


def _conditions(layer: Layer, where: str, first: str, second: str, pair: Pair
                ) -> list[Condition]:
    if pair.kind == "always":
        return []
    if pair.kind == "any":
        rule = (f"{layer.type_name} needs {first!r} and {second!r} to agree on {where}, or "
                "one of them to be 1 (broadcasting)")
    elif pair.kind == "equal":
        rule = (f"{layer.type_name} needs {first!r} and {second!r} to agree on {where} "
                "(neither is ever 1, so neither broadcasts)")
    else:
        one, other = (first, second) if pair.kind == "a_one" else (second, first)
        rule = (f"{layer.type_name} can merge {first!r} and {second!r} on {where} only by "
                f"broadcasting {one!r} of size 1 (they never agree and {other!r} is never 1)")
    return [_condition(pair, where, rule)]


def _condition(pair: Pair, where: str, rule: str) -> Condition:
    """The side condition of a pair that holds for some inputs only: its one equation, or
    the disjunction of its equations (kind ``any``)."""
    if pair.kind == "any":
        return Condition(pair.condition_expr(), "ge", "", where, rule,
                         shown=sympy.Or(*pair.shown(), evaluate=False))
    (lhs, rhs), = pair.disjuncts
    return Condition(pair.condition_expr(), "eq", "", where, rule, (lhs, rhs))


def _never(shapes: Sequence[Shape], names: Sequence[str], i: int, j: int, pair: Pair) -> str:
    example = ""
    verdict = pair.equal
    if verdict is not None and verdict.values is not None and verdict.counterexample:
        x, y = verdict.values
        example = f" (for {show_point(verdict.counterexample)}: {x} vs {y})"
    return (f"{names[i]!r} gives {_shape(shapes[i])} and {names[j]!r} gives "
            f"{_shape(shapes[j])}: {_t(pair.a)} vs {_t(pair.b)}, which never agree, and "
            f"neither is ever 1 to broadcast{example}")


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
