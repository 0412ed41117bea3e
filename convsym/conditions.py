"""Side conditions reduced to the fewest, simplest ones, each rewrite exact.

A network's validity conditions come out of the size rules one layer at a time: the first
convolution asks ``n >= k``, a pooling layer two layers on asks ``floor((n - k - s)/s) >= 0``.
For a reader, the second is ``n >= k + s`` and makes the first redundant.  :func:`simplify`
rewrites one condition ``e >= 0`` into an equivalent simpler one, by two exact rules:

* ``floor(X/D) + P >= 0`` iff ``X + P*D >= 0`` (``P`` integer-valued, ``D`` positive),
  :func:`convsym.period.without_floor`;
* ``g*Q + c >= 0`` iff ``Q + floor(c/g) >= 0`` for the gcd ``g`` of the non-constant
  coefficients (``Q`` integer-valued).

:func:`reduce` then drops a condition only when another kept one provably implies it:
``strong >= 0`` implies ``weak >= 0`` when the period check proves ``weak - strong >= 0`` for
all positive symbol values.  Undecided means kept.  :func:`relation` writes ``e >= 0`` with
each side's terms positive (``n >= k + s``, never ``k - n <= 0``).

>>> from convsym.expr import symbol
>>> from convsym.intdiv import floordiv
>>> n, k, s = (QPoly.sym(symbol(x)) for x in "nks")
>>> first = n - k                                    # n >= k
>>> later = floordiv(n - k - s, s)                   # floor((n - k - s)/s) >= 0
>>> [relation(e) for e in reduce([first, later])]
[n >= k + s]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce as _fold
from math import gcd
from typing import Protocol, TypeVar

import sympy

from convsym.errors import BudgetExceeded, OutOfTime
from convsym.intdiv import QExpr, QPoly, collapsed, iter_floors, nested, to_sympy
from convsym.period import decide_nonneg, unbounded_below, without_floor

IMPLICATION_BUDGET = 2000
"""Evaluations the period check may spend on one implication (undecided: both are kept)."""

MAX_COMPARED = 40
"""With more conditions than this, none is dropped for being implied (pairwise checks grow
with the square of the count); each is still simplified."""


def simplify(e: QExpr) -> QExpr:
    """An expression ``f`` with ``f >= 0`` exactly when ``e >= 0``, with fewer floors and
    smaller coefficients where the exact rules apply.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import ceildiv
    >>> n, s = QPoly.sym(symbol("n")), QPoly.sym(symbol("s"))
    >>> to_sympy(simplify(ceildiv(n, QPoly.const(2) * s) - QPoly.const(3)))
    n - 4*s - 1
    >>> to_sympy(simplify(QPoly.const(2) * n - QPoly.const(5)))
    n - 3
    """
    for _ in range(8):  # each rewrite removes a floor: a few rounds at most
        if nested(e):
            # stored nested (intdiv.floordiv): the collapsed form when it is short (a few
            # layers: n + s >= k*s + k + s**2), else as it is (unwrapping a deep chain
            # only lengthens it, layer by layer)
            whole = _short_collapsed(e)
            if whole is None:
                break
            e = whole
        plain = without_floor(e)
        if plain is None:
            break
        e = plain
    if isinstance(e, QPoly):
        e = _divide_content(e)
    return e


SHORT_COLLAPSED = 16
"""Terms (with those of every floor inside) up to which a nested condition is collapsed."""


def _short_collapsed(e: QExpr) -> QExpr | None:
    if not isinstance(e, QPoly) or sum(len(f.num.terms) for f in iter_floors(e)) > \
            SHORT_COLLAPSED:
        return None
    try:
        whole = collapsed(e)
    except OutOfTime:
        raise
    except BudgetExceeded:
        return None
    if not isinstance(whole, QPoly) or len(whole.terms) + sum(
            len(f.num.terms) for f in iter_floors(whole)) > SHORT_COLLAPSED:
        return None
    return whole


def _divide_content(p: QPoly) -> QPoly:
    const = p.const_value()
    g = _fold(gcd, (abs(c) for m, c in p.terms.items() if m), 0)
    if g <= 1:
        return p
    rest = {m: c // g for m, c in p.terms.items() if m}
    return QPoly(rest) + QPoly.const(const // g)  # g*Q >= -c iff Q >= ceil(-c/g)


def implies(strong: QExpr, weak: QExpr) -> bool:
    """True when ``strong >= 0`` provably implies ``weak >= 0`` for positive symbols."""
    if not (isinstance(strong, QPoly) and isinstance(weak, QPoly)):
        return False
    diff = weak - strong
    value = diff.as_int()
    if value is not None:
        return value >= 0
    return not unbounded_below(diff) and \
        decide_nonneg(diff, budget=IMPLICATION_BUDGET).holds is True


def reduce(conditions: Sequence[QExpr]) -> list[QExpr]:
    """The conditions ``e >= 0`` simplified, without those that always hold or that another
    kept condition implies; the conjunction is unchanged.

    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> [relation(e) for e in reduce([n - QPoly.const(3), n - QPoly.const(5), n])]
    [n >= 5]
    """
    return [e for _, e in reduce_indexed(conditions)]


def reduce_indexed(conditions: Sequence[QExpr]) -> list[tuple[int, QExpr]]:
    """Like :func:`reduce`, each kept condition with the index it came from."""
    kept = [(i, simplify(e)) for i, e in enumerate(conditions)]
    kept = [(i, e) for i, e in kept if not _always(e)]
    if len(kept) > MAX_COMPARED:  # pairwise checks would be slow: keep them all, simplified
        return kept
    j = 0
    while j < len(kept):
        # a condition goes only while another one still stands for it (of an equivalent
        # pair the later one stays); by transitivity the kept ones imply every dropped one
        weak = kept[j][1]
        if any(implies(other, weak) for m, (_, other) in enumerate(kept) if m != j):
            del kept[j]
            continue
        j += 1
    return kept


def _always(e: QExpr) -> bool:
    if isinstance(e, QPoly):
        value = e.as_int()
        if value is not None:
            return value >= 0
    return not unbounded_below(e) and \
        decide_nonneg(e, budget=IMPLICATION_BUDGET).holds is True


def relation(e: QExpr) -> sympy.Basic:
    """``e >= 0`` written with positive terms on both sides, the constant where it is positive.

    >>> from convsym.expr import symbol
    >>> n, k = QPoly.sym(symbol("n")), QPoly.sym(symbol("k"))
    >>> relation(k - n), relation(n - k - QPoly.const(2)), relation(QPoly.const(5) - n)
    (k >= n, n >= k + 2, n <= 5)
    """
    expr = to_sympy(e)
    terms = sympy.Add.make_args(expr)
    right = [-t for t in terms if t.could_extract_minus_sign()]
    left = [t for t in terms if not t.could_extract_minus_sign()]
    lhs, rhs = sympy.Add(*left), sympy.Add(*right)
    if lhs.is_number and not rhs.is_number:  # 5 >= n reads as n <= 5
        return sympy.Le(rhs, lhs, evaluate=False)
    return sympy.Ge(lhs, rhs, evaluate=False)


class Record(Protocol):
    """A network's condition record (:class:`convsym.layers.base.Condition`): ``expr >= 0``
    (kind ``"ge"``) or ``expr == 0``; ``shown`` when it has a display of its own."""

    @property
    def expr(self) -> QExpr: ...

    @property
    def kind(self) -> str: ...

    @property
    def shown(self) -> sympy.Basic | None: ...

    def relation(self) -> sympy.Basic: ...


R = TypeVar("R", bound=Record)


def condition_relation(cond: Record) -> sympy.Basic:
    """A condition as a relation, in its simplest exact form (``n >= k + s``)."""
    if cond.kind != "ge" or cond.shown is not None:
        return cond.relation()
    return relation(simplify(cond.expr))


def reduced_conditions(records: Sequence[R]) -> list[tuple[R, sympy.Basic]]:
    """The fewest simplest side conditions, each with the record it stands for.

    Conditions ``e >= 0`` implied by another kept one are dropped (exactly, by
    :func:`reduce_indexed`); equations and conditions with their own display stay.

    >>> from convsym.spec import load
    >>> net = load({"input": ["n", "n", 1], "layers": [{"Conv2D": {"filters": 1,
    ...     "kernel_size": "k", "strides": "s"}}, {"MaxPooling2D": {"pool_size": 2}}]})
    >>> [str(c.relation()) for c in net.condition_records]  # the network pruned k <= n
    ['floor((-k + n - s)/s) >= 0']
    >>> [str(r) for _, r in reduced_conditions(net.condition_records)]
    ['n >= k + s']
    """
    plain = [i for i, c in enumerate(records) if c.kind == "ge" and c.shown is None]
    kept = {plain[i]: relation(e)
            for i, e in reduce_indexed([records[i].expr for i in plain])}
    return [(c, kept[i] if i in kept else c.relation()) for i, c in enumerate(records)
            if i in kept or i not in plain]


__all__ = ["condition_relation", "implies", "reduce", "reduce_indexed", "reduced_conditions",
           "relation", "simplify"]
