"""Names for a network's quantities in conditions: ``out_H``, ``conv2d_1_C``, ``r0_1``, ``params``.

Conditions are parsed only by :func:`convsym.expr.parse_relation`, which takes plain names
(no ``out.H``, no ``out[0]``), so each quantity has an identifier:

=====================  ==========================================================
``out_H``, ``out_0``   the last row's output: named axis, or position (no batch axis)
``in_H``, ``in_0``     the (first) input's shape; ``<input name>_H`` for each input
``<row>_H``, ``r3_W``  a row's output by its name (when a valid identifier) or index
``<row>_params``       a row's parameters; also ``_trainable``, ``_non_trainable``,
                       ``_macs``
``params``, ``macs``   network totals; also ``trainable`` and ``non_trainable``
=====================  ==========================================================

Axis letters follow the dialect's layout: ``C`` channels plus ``L`` (1-D), ``H W`` (2-D) or
``D H W`` (3-D); PyTorch puts ``C`` first, Keras last.  A network symbol with the same name
as a quantity keeps its meaning as a symbol.  An expression can always be written out
instead (``floor((32 - 3)/s) + 1 == 8``).

>>> from convsym.examples import example
>>> names = vocabulary(example("seed3"))
>>> [to_sympy(names[k]) for k in ("out_0", "conv2d_1_C", "r1_H", "dense_params", "params")]
[10, 20, 8, 12810, 15120]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import sympy
from sympy.core.relational import Relational

from convsym.domains import rebuild
from convsym.errors import ExpressionError, did_you_mean
from convsym.expr import as_relation
from convsym.intdiv import QExpr, QPoly, to_sympy
from convsym.whatif.constraints import Constraint, from_relation

if TYPE_CHECKING:
    from convsym.network import Network

SPATIAL = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
TOTALS = ("params", "trainable", "non_trainable", "macs")


def axis_names(rank: int, dialect: str) -> tuple[str, ...]:
    """Letters of a shape's axes: ``('C', 'H', 'W')`` (PyTorch) or ``('H', 'W', 'C')``."""
    spatial = SPATIAL.get(rank - 1)
    if spatial is None:
        return ()
    return ("C", *spatial) if dialect == "torch" else (*spatial, "C")


def _shape_names(prefix: str, shape: tuple[QExpr, ...], dialect: str) -> dict[str, QExpr]:
    out: dict[str, QExpr] = {}
    for j, size in enumerate(shape):
        out[f"{prefix}_{j}"] = size
    for letter, size in zip(axis_names(len(shape), dialect), shape):
        out[f"{prefix}_{letter}"] = size
    return out


def vocabulary(net: Network) -> dict[str, QExpr]:
    """Every quantity name of ``net`` and its canonical value."""
    names: dict[str, QExpr] = {}
    for index, shape in sorted(net.input_shapes.items()):
        node = net.nodes[index].name
        if node.isidentifier():
            names.update(_shape_names(node, shape, net.dialect))
    if net.input_shapes:
        first = min(net.input_shapes)
        names.update(_shape_names("in", net.input_shapes[first], net.dialect))
    total: dict[str, QExpr] = {k: QPoly() for k in TOTALS}
    for i, row in enumerate(net.rows):
        counts: dict[str, QExpr] = {"trainable": row.inference.trainable,
                  "non_trainable": row.inference.non_trainable,
                  "macs": row.inference.macs}
        counts["params"] = row.inference.trainable + row.inference.non_trainable
        prefixes = [f"r{i}"] + ([row.name] if row.name.isidentifier() else [])
        for prefix in prefixes:
            names.update(_shape_names(prefix, row.shape, net.dialect))
            for key, count in counts.items():
                names[f"{prefix}_{key}"] = count
        for key, count in counts.items():
            if key in total:
                summed = _plus(total[key], count)
                if summed is None:
                    del total[key]  # a sum of several Min/Max: not offered as a name
                else:
                    total[key] = summed
    if net.rows:
        names.update(_shape_names("out", net.rows[-1].shape, net.dialect))
    names.update(total)
    return names


def as_condition(condition: object, *, field: str = "condition",
                 symbols: Callable[[str], sympy.Symbol] | None = None) -> Relational:
    """A condition as a relation (the safe parser, names read by ``symbols``; see
    :func:`convsym.expr.parse_expr`), with a hint for ``out.H``-style names."""
    try:
        return as_relation(condition, field=field, symbols=symbols)
    except ExpressionError as err:
        if "attribute access" in str(err) or "indexing" in str(err):
            raise ExpressionError(f"{err}; name a quantity with an underscore instead, e.g. "
                                  "out_H, out_0, conv2d_1_C or r2_W", code=err.code) from None
        raise


def _plus(a: QExpr, b: QExpr) -> QExpr | None:
    from convsym.intdiv import add

    if isinstance(b, QPoly):
        return add(a, b)
    if isinstance(a, QPoly):
        return add(b, a)
    return None


def resolve(net: Network, condition: object, *, field: str = "condition",
            allowed: set[str] | None = None) -> Constraint:
    """A user condition about ``net`` as a constraint over the network's symbols.

    ``allowed`` names extra symbols that may appear (unknowns the user introduced).
    """
    rel = as_condition(condition, field=field)
    symbols = {s.name: s for s in net.all_symbols()}
    # a name of the network means the network's symbol, whatever symbol the text was read
    # with (solve reads it with no sign: convsym.domains); rebuilt without re-evaluation
    same = {s: symbols[s.name] for s in rel.free_symbols
            if isinstance(s, sympy.Symbol) and s.name in symbols and s != symbols[s.name]}
    rel = rebuild(rel, same) if same else rel
    words = vocabulary(net)
    replace: dict[sympy.Symbol, QExpr] = {}
    for sym in sorted(rel.free_symbols, key=lambda s: s.name):
        name = sym.name
        if name in symbols or (allowed and name in allowed):
            continue
        if name in words:
            replace[sym] = words[name]
            continue
        pool = list(words) + list(symbols)
        same_case = [w for w in pool if w.lower() == name.lower()]
        hint = _axis_hint(net, name, words) or (
            f" (did you mean {same_case[0]!r}?)" if same_case else did_you_mean(name, pool))
        outs = ", ".join(w for w in words if w.startswith("out_"))
        raise ExpressionError(
            f"{field}: {_text(rel)}: {name!r} is neither a symbol of the network nor a "
            f"quantity{hint}; quantities here are {outs or 'out_0'}, <row>_C, r<i>_H, "
            f"<row>_params, params, macs, ... (symbols: {', '.join(sorted(symbols)) or 'none'})",
            code="unknown_name")
    return _substitute(rel, replace, field)


def _axis_hint(net: Network, name: str, words: dict[str, QExpr]) -> str:
    """For ``out_H`` on a network whose output has no H axis (a classifier's ``(10,)``):
    the last layer that has one.

    >>> from convsym.examples import example
    >>> net = example("seed3_symbolic")
    >>> _axis_hint(net, "out_H", vocabulary(net))
    " (the output (10,) has no H axis; the last layer with one is 'conv2d_1': conv2d_1_H)"
    """
    prefix, _, letter = name.partition("_")
    if prefix != "out" or letter not in ("C", "L", "D", "H", "W") or not net.rows:
        return ""
    for i in range(len(net.rows) - 1, -1, -1):
        row = net.rows[i]
        for key in (f"{row.name}_{letter}", f"r{i}_{letter}"):
            if key in words:
                shape = tuple(to_sympy(s) for s in net.rows[-1].shape)
                shown = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1
                                                                  else "") + ")"
                return (f" (the output {shown} has no {letter} axis; the last layer with one "
                        f"is {row.name!r}: {key})")
    return ""


def _substitute(rel: Relational, replace: dict[sympy.Symbol, QExpr], field: str
                ) -> Constraint:
    origin = f"target {_text(rel)}"
    if not replace:
        return from_relation(rel, origin=origin, field=field)
    values = {s: to_sympy(v) for s, v in replace.items()}
    meaning = sympy.Rel(rel.lhs.xreplace(values), rel.rhs.xreplace(values), rel.rel_op,
                        evaluate=False)
    if all(isinstance(v, QPoly) for v in replace.values()):
        from convsym.intdiv import subs

        raw = from_relation(rel, origin=origin, field=field)
        expr = subs(raw.expr, {s: v for s, v in replace.items() if isinstance(v, QPoly)})
        return Constraint(expr, raw.kind, f"{origin}, i.e. {_text(meaning)}", rel)
    made = from_relation(meaning, origin=origin, field=field)
    return Constraint(made.expr, made.kind, f"{origin}, i.e. {_text(meaning)}", rel)


def _text(rel: sympy.Basic) -> str:
    from convsym.printing.text import sstr

    return sstr(rel)
