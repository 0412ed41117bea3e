"""The quasi-affine period check: a complete decision of ``e >= 0`` for concrete divisors.

If every Floor in ``e`` has a constant divisor and every numerator is affine in the symbols,
then ``e`` is *quasi-affine*: with ``L_i`` the product of the divisors along symbol ``i``,
``e(x + L_i * u_i) = e(x) + c_i * L_i`` for a constant slope ``c_i``.  So on the domain
``x_i >= lo_i``:

* if some slope ``c_i < 0`` the statement ``e >= 0`` is false (walk far along axis ``i``);
* otherwise the minimum of ``e`` is attained in the box ``lo_i <= x_i < lo_i + L_i``, and
  evaluating ``e`` there decides it.

The result is exact, with a counterexample when false, or ``None`` when the check does not
apply (a symbolic divisor, a non-affine numerator) or the box exceeds the budget.

>>> from convsym.expr import symbol
>>> from convsym.intdiv import QPoly, floordiv, ceildiv
>>> n = QPoly.sym(symbol("n"))
>>> two = QPoly.const(2)
>>> decide_nonneg(ceildiv(n, two) - floordiv(n, two)).holds
True
>>> r = decide_nonneg(floordiv(n, two) - ceildiv(n, two))
>>> r.holds, r.counterexample
(False, {n: 1})
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from math import lcm

import sympy

from convsym.intdiv import Ext, Floor, QExpr, QPoly, evaluate, iter_floors

DEFAULT_BOX_BUDGET = 200_000


@dataclass(frozen=True)
class Decision:
    """Outcome of a decision: ``holds`` is True, False, or None (not decided)."""

    holds: bool | None
    counterexample: dict[sympy.Symbol, int] = field(default_factory=dict)
    reason: str = ""


def _affine_in_symbols(p: QPoly) -> bool:
    for mono in p.terms:
        degree = 0
        for atom, e in mono:
            if isinstance(atom, Floor):
                degree += e
                continue
            degree += e
        if degree > 1:
            return False
    return True


def periods(e: QExpr) -> dict[sympy.Symbol, int] | None:
    """Per-symbol periods of a quasi-affine ``e`` with constant divisors, else None."""
    symbols: set[sympy.Symbol] = set()
    stack: list[QExpr] = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, Ext):
            stack.extend(x.args)
            continue
        if not _affine_in_symbols(x):
            return None
        symbols |= {a for a in x.atoms() if not isinstance(a, Floor)}
    dens: list[int] = []
    for f in iter_floors(e):
        d = f.den.as_int()
        if d is None or not _affine_in_symbols(f.num):
            return None
        symbols |= {a for a in f.num.atoms() if not isinstance(a, Floor)}
        dens.append(d)
    # a conservative common period: the lcm of all (products of nested) divisors
    total = 1
    for f in iter_floors(e):
        total = lcm(total, _nested_period(f))
    return {s: total for s in symbols}


def _nested_period(f: Floor) -> int:
    d = f.den.as_int()
    assert d is not None
    inner = 1
    for g in f.num.floors():
        inner = lcm(inner, _nested_period(g))
    return d * inner


def decide_nonneg(
    e: QExpr,
    lower: Mapping[sympy.Symbol, int] | None = None,
    *,
    budget: int = DEFAULT_BOX_BUDGET,
) -> Decision:
    """Decide ``e >= 0`` for all integers ``x_i >= lower[x_i]`` (default 1).

    Complete for quasi-affine ``e`` with constant divisors (Min/Max allowed) within
    ``budget`` evaluations; otherwise ``holds`` is None with the reason.
    """
    per = periods(e)
    if per is None:
        return Decision(None, reason="a divisor is symbolic or a numerator is not affine")
    syms = sorted(per, key=lambda s: s.name)
    lo = {s: (lower or {}).get(s, 1 if s.is_positive else 0) for s in syms}
    if not syms:
        value = evaluate(e, {})
        return Decision(value >= 0, {}, "constant")
    size = 1
    for s in syms:
        size *= per[s]
        if size > budget:
            return Decision(None, reason=f"the period box has more than {budget} points")
    base = dict(lo)
    # slopes: e(x + L u_i) - e(x) is constant for QPoly; for Min/Max check at the base too
    for s in syms:
        shifted = dict(base)
        shifted[s] += per[s]
        if isinstance(e, Ext):
            continue
        slope = evaluate(e, shifted) - evaluate(e, base)
        if slope < 0:
            return _walk_down(e, base, s, per[s], slope)
    for point in itertools.product(*(range(lo[s], lo[s] + per[s]) for s in syms)):
        env = dict(zip(syms, point))
        if evaluate(e, env) < 0:
            return Decision(False, env, "counterexample in the period box")
    if isinstance(e, Ext):
        # Min/Max of quasi-affine pieces: each piece's slopes must not go negative either
        return _decide_ext_tail(e, syms, per, lo, budget)
    return Decision(True, {}, f"checked one period box of {size} points; slopes >= 0")


def _walk_down(
    e: QExpr, base: dict[sympy.Symbol, int], s: sympy.Symbol, period: int, slope: int
) -> Decision:
    value = evaluate(e, base)
    steps = value // (-slope) + 1
    env = dict(base)
    env[s] += steps * period
    # step back to the smallest violating value along this axis within the last period
    for back in range(period, 0, -1):
        probe = dict(env)
        probe[s] -= back
        if probe[s] >= base[s] and evaluate(e, probe) < 0:
            return Decision(False, probe, f"decreases along {s}")
    return Decision(False, env, f"decreases along {s}")


def _decide_ext_tail(
    e: Ext,
    syms: list[sympy.Symbol],
    per: dict[sympy.Symbol, int],
    lo: dict[sympy.Symbol, int],
    budget: int,
) -> Decision:
    # For Min: e >= 0 iff every piece >= 0.  For Max we can only use the box argument when
    # every piece has non-negative slopes, which makes the Max non-decreasing per period too.
    if e.kind == "min":
        for piece in e.args:
            d = decide_nonneg(piece, lo, budget=budget)
            if d.holds is not True:
                return d
        return Decision(True, {}, "every piece of the Min is non-negative")
    base = dict(lo)
    for piece in e.args:
        for s in syms:
            shifted = dict(base)
            shifted[s] += per[s]
            if evaluate(piece, shifted) - evaluate(piece, base) < 0:
                return Decision(None, reason="a piece of the Max decreases")
    return Decision(True, {}, "pieces non-decreasing; checked one period box")


def decide_eq(a: QExpr, b: QExpr, lower: Mapping[sympy.Symbol, int] | None = None) -> Decision:
    """Decide ``a == b`` for all integer symbol values ``>= lower`` (default 1)."""
    if isinstance(a, QPoly) and isinstance(b, QPoly):
        diff = a - b
        if not diff.terms:
            return Decision(True, {}, "identical canonical forms")
        one = decide_nonneg(diff, lower)
        if one.holds is not True:
            return one
        return decide_nonneg(-diff, lower)
    first = decide_nonneg(_sub(a, b), lower)
    if first.holds is not True:
        return first
    return decide_nonneg(_sub(b, a), lower)


def _sub(a: QExpr, b: QExpr) -> QExpr:
    from convsym.intdiv import add, scale

    if isinstance(b, QPoly):
        return add(a, -b)
    if isinstance(a, QPoly):
        return add(scale(b, QPoly.const(-1)), a)
    raise ValueError("difference of two Min/Max expressions")
