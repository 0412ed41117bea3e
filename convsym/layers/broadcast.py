"""Broadcasting of element-wise merges, exactly: one axis at a time, with symbolic sizes.

PyTorch and Keras stretch an axis whose size *is* 1, whatever expression gives it.  Two sizes
``a`` and ``b`` of one axis therefore merge when ``a == b or a == 1 or b == 1`` and give
``a`` if ``a == b``, ``b`` if ``a == 1``, else ``a``.  Every size of a valid network is at
least 1 (each layer's conditions say so), so that piecewise answer is ``max(a, b)``.

Each disjunct is decided three-valued (:func:`convsym.layers.agree.agreement`): one that
always holds makes the pair valid for every input; one that never holds is dropped.  What
remains becomes the pair's side condition: nothing, a plain equation (``a == b``, or
``a == 1`` when only the stretch can work), or a disjunction kept exactly as the single
condition ``max(min(a - b, b - a), min(a - 1, 1 - a), min(b - 1, 1 - b)) >= 0`` (``min(d,
-d) >= 0`` is ``d == 0``), shown as ``Eq(a, b) | Eq(a, 1) | Eq(b, 1)``.  When no disjunct
can hold the merge is rejected.  The size kept is ``max`` of the sizes that may exceed the
others, simplified where the period check proves an argument never wins.  A side that is
never 1 is the size of every valid merge (the other side equals it or is 1): a position
embedding of 196 tokens added to ``floor(H/16)*floor(W/16)`` tokens gives 196, not a max.

>>> from convsym.expr import symbol
>>> from convsym.intdiv import QPoly, floordiv, to_sympy
>>> n = QPoly.sym(symbol("n"))
>>> pair = decide_pair(n, floordiv(n, QPoly.const(8)))
>>> pair.kind, [str(d) for d in pair.shown()]
('any', ['Eq(n, 1)', 'Eq(floor(n/8), 1)'])
>>> to_sympy(merged_size([n, floordiv(n, QPoly.const(8))]))
n
>>> decide_pair(QPoly.const(196), n).drop   # n == 196 or n == 1: 196 either way
1
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from convsym.intdiv import QExpr, QPoly, as_int, ext, to_sympy
from convsym.sizes import Agreement, agreement, difference, negate, settle


@dataclass(frozen=True)
class Pair:
    """The verdict on merging sizes ``a`` and ``b`` of one axis.

    ``kind``: ``"always"`` (valid for every input), ``"never"``, ``"equal"`` (valid exactly
    when ``a == b``), ``"a_one"`` / ``"b_one"`` (exactly when that side is 1) or ``"any"``
    (the disjunction of the ``disjuncts`` that may hold, each a pair of sides).  ``drop`` is
    the side (0 for ``a``, 1 for ``b``) that never exceeds the other in a valid merge, or
    None; ``equal`` is the verdict on ``a == b``, kept for messages.
    """

    kind: str
    a: QExpr
    b: QExpr
    disjuncts: tuple[tuple[QExpr, QExpr], ...] = ()
    drop: int | None = None
    equal: Agreement | None = None

    def shown(self) -> tuple[sympy.Basic, ...]:
        """The disjuncts as unevaluated SymPy equations."""
        return tuple(sympy.Eq(to_sympy(x), to_sympy(y), evaluate=False)
                     for x, y in self.disjuncts)

    def condition_expr(self) -> QExpr:
        """``e`` with ``e >= 0`` (kind ``any``) or ``e == 0`` (``equal``, ``a_one``,
        ``b_one``) exactly when the pair merges."""
        if self.kind == "any":
            return ext("max", (_zero_test(difference(x, y)) for x, y in self.disjuncts))
        (x, y), = self.disjuncts
        return difference(x, y)


ONE = QPoly.const(1)


def _zero_test(d: QExpr) -> QExpr:
    """``min(d, -d)``: non-negative exactly when ``d == 0``."""
    return ext("min", [d, negate(d)])


def decide_pair(a: QExpr, b: QExpr) -> Pair:
    """Decide the merge of sizes ``a`` and ``b`` of one axis (see the module docstring)."""
    if as_int(b) == 1:
        return Pair("always", a, b, drop=1)
    if as_int(a) == 1:
        return Pair("always", a, b, drop=0)
    equal = agreement(a, b)
    if equal.verdict == "always":
        return Pair("always", a, b, drop=1, equal=equal)
    one_a, one_b = agreement(a, ONE), agreement(b, ONE)
    if one_b.verdict == "always":
        return Pair("always", a, b, drop=1, equal=equal)
    if one_a.verdict == "always":
        return Pair("always", a, b, drop=0, equal=equal)
    options = [(kind, sides, drop) for kind, sides, drop, verdict in
               (("equal", (a, b), 1, equal), ("a_one", (a, ONE), 0, one_a),
                ("b_one", (b, ONE), 1, one_b))
               if verdict.verdict != "never"]
    if not options:
        return Pair("never", a, b, equal=equal)
    if len(options) == 1:
        kind, sides, drop = options[0]
        return Pair(kind, a, b, (sides,), drop, equal)
    # a side that is never 1 is the size of every valid merge (the other equals it or is 1)
    never_larger = 1 if one_a.verdict == "never" else 0 if one_b.verdict == "never" else None
    return Pair("any", a, b, tuple(sides for _, sides, _ in options), never_larger, equal)


def decide_into(target: QExpr, operand: QExpr) -> Pair:
    """Decide an in-place operation's axis (``a.add_(b)``): ``operand`` must broadcast into
    ``target`` without growing it, so the pair is valid when ``operand == target or
    operand == 1`` (a ``target`` of 1 does not stretch: PyTorch refuses ``(1,).add_((n,))``).
    The pair's ``a`` is ``target``, its ``b`` ``operand``; kinds as in :func:`decide_pair`
    without ``a_one``.

    >>> from convsym.expr import symbol
    >>> n, m = QPoly.sym(symbol("n")), QPoly.sym(symbol("m"))
    >>> [decide_into(a, b).kind for a, b in [(ONE, n), (n, ONE), (n, QPoly.const(5)), (n, m)]]
    ['b_one', 'always', 'equal', 'any']
    """
    if as_int(operand) == 1:
        return Pair("always", target, operand)
    equal = agreement(target, operand)
    if equal.verdict == "always":
        return Pair("always", target, operand, equal=equal)
    one = agreement(operand, ONE)
    if one.verdict == "always":
        return Pair("always", target, operand, equal=equal)
    options = [(kind, sides) for kind, sides, verdict in
               (("equal", (target, operand), equal), ("b_one", (operand, ONE), one))
               if verdict.verdict != "never"
               and not (kind == "equal" and as_int(target) == 1)]  # (that is b_one)
    if not options:
        return Pair("never", target, operand, equal=equal)
    if len(options) == 1:
        kind, sides = options[0]
        return Pair(kind, target, operand, (sides,), None, equal)
    return Pair("any", target, operand, tuple(sides for _, sides in options), None, equal)


def merged_size(sizes: list[QExpr]) -> QExpr:
    """``max`` of the sizes (the broadcast result when the merge is valid), simplified."""
    if not sizes:
        return ONE
    if len(sizes) == 1:  # nothing to compare (settle would try to prove it a constant)
        return sizes[0]
    return settle(ext("max", sizes))


__all__ = ["Pair", "decide_into", "decide_pair", "merged_size"]
