"""The quasi-affine period check: a complete decision of ``e >= 0`` for concrete divisors.

(Numerators that are polynomials rather than affine: :func:`decide_polynomial`, below.)

If every Floor in ``e`` has a constant divisor and every numerator is affine in the symbols,
then ``e`` is *quasi-affine*: for each symbol ``x`` there is a period ``L`` (a multiple of
the divisors ``x`` passes through) and a constant ``delta`` with
``e(x + L) = e(x) + delta`` whatever the other symbols are.  On a box domain
``lo_x <= x <= hi_x`` (either end may be open):

* if ``delta < 0`` and ``x`` is unbounded above (or ``delta > 0`` and unbounded below),
  ``e`` eventually goes negative: walk along ``x`` to a counterexample;
* otherwise shifting ``x`` by ``L`` towards one end never increases ``e`` and stays in the
  domain, so the minimum of ``e`` is attained in a box of one period per symbol at that end,
  and evaluating ``e`` there decides ``e >= 0`` exactly.

The answer is exact, with a counterexample when false, or ``None`` with the reason when the
check does not apply (a symbolic divisor, a non-affine numerator, a Max whose pieces move in
different directions) or the box exceeds the budget or the deadline.

>>> from convsym.expr import symbol
>>> from convsym.intdiv import QPoly, floordiv, ceildiv
>>> n = QPoly.sym(symbol("n"))
>>> two = QPoly.const(2)
>>> decide_nonneg(ceildiv(n, two) - floordiv(n, two)).holds
True
>>> r = decide_nonneg(floordiv(n, two) - ceildiv(n, two))
>>> r.holds, r.counterexample
(False, {n: 1})
>>> decide_nonneg(QPoly.const(5) - n, upper={symbol("n"): 5}).holds
True
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from math import gcd, lcm, prod

import sympy

from convsym.budget import checkpoint, current
from convsym.errors import BudgetExceeded, OutOfTime
from convsym.intdiv import (
    Ext,
    Floor,
    QExpr,
    QPoly,
    add,
    collapsed,
    directions,
    falls,
    free_symbols,
    nested,
    scale,
)

DEFAULT_BOX_BUDGET = 200_000
_WALK_SCAN = 10_000  # points scanned back for the first counterexample (periods reach 2**62)
NOT_QUASI_AFFINE = "not quasi-affine (a symbolic divisor, or a product of symbols or floors)"
_CHECK_EVERY = 2048

Bound = Mapping[sympy.Symbol, "int | None"]


@dataclass(frozen=True)
class Decision:
    """Outcome of a decision: ``holds`` is True, False, or None (not decided)."""

    holds: bool | None
    counterexample: dict[sympy.Symbol, int] = field(default_factory=dict)
    reason: str = ""
    box: tuple[tuple[sympy.Symbol, int, int], ...] = ()
    """The residue box that was checked (symbol, first, last) when the check applied."""


# --- periods --------------------------------------------------------------------------------


def _affine(p: QPoly) -> bool:
    """Every monomial has degree <= 1 counting symbols and Floor atoms alike."""
    return all(sum(e for _, e in mono) <= 1 for mono in p.terms)


def _pieces(e: QExpr) -> list[QPoly]:
    out: list[QPoly] = []
    stack: list[QExpr] = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, Ext):
            stack.extend(x.args)
        else:
            out.append(x)
    return out


def _floor_period(f: Floor, x: sympy.Symbol, memo: dict[tuple[int, sympy.Symbol], int]
                  ) -> int | None:
    """A shift of ``x`` that moves ``f`` by a constant; 0 if ``f`` does not involve ``x``."""
    key = (id(f), x)
    if key in memo:
        return memo[key]
    den = f.den.as_int()
    if den is None or not _affine(f.num):
        raise _NotQuasiAffine
    direct = 0
    inner = 1
    involved = False
    for mono, c in f.num.terms.items():
        for atom, _ in mono:
            if isinstance(atom, Floor):
                p = _floor_period(atom, x, memo)
                if p:
                    inner = lcm(inner, p)
                    involved = True
            elif atom == x:
                direct = c
                involved = True
    if not involved:
        memo[key] = 0
        return 0
    # shifting x by inner*t moves the numerator by inner*t*(direct + drift of inner floors);
    # with t = den the move is a multiple of den.  Without inner floors den/gcd suffices.
    period = den // gcd(den, direct) if inner == 1 else inner * den
    memo[key] = period
    return period


class _NotQuasiAffine(Exception):
    pass


def periods(e: QExpr) -> dict[sympy.Symbol, int] | None:
    """Per-symbol periods of a quasi-affine ``e`` with constant divisors, else None.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import QPoly, floordiv
    >>> n, m = QPoly.sym(symbol("n")), QPoly.sym(symbol("m"))
    >>> periods(floordiv(n, QPoly.const(4)) + floordiv(m + n, QPoly.const(6)))
    {m: 6, n: 12}
    """
    memo: dict[tuple[int, sympy.Symbol], int] = {}
    out: dict[sympy.Symbol, int] = {}
    try:
        for piece in _pieces(e):
            if not _affine(piece):
                return None
            floors = piece.floors()  # once per piece, not per symbol (linear, not quadratic)
            for x in sorted(piece.free_symbols(), key=lambda s: s.name):
                period = out.get(x, 1)
                for atom in floors:
                    p = _floor_period(atom, x, memo)
                    if p:
                        period = lcm(period, p)
                out[x] = period
    except _NotQuasiAffine:
        return None
    return dict(sorted(out.items(), key=lambda item: item[0].name))


# --- fast evaluation ------------------------------------------------------------------------


def compile_qexpr(e: QExpr, order: Sequence[sympy.Symbol]) -> Callable[[Sequence[int]], int]:
    """``e`` as a function of a tuple of integers, one per symbol in ``order``.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import QPoly, floordiv
    >>> n = symbol("n")
    >>> f = compile_qexpr(floordiv(QPoly.sym(n) + QPoly.const(1), QPoly.const(2)), [n])
    >>> f((4,)), f((5,))
    (2, 3)
    """
    index = {s: i for i, s in enumerate(order)}
    if isinstance(e, Ext):
        parts = [compile_qexpr(a, order) for a in e.args]
        pick = min if e.kind == "min" else max
        return lambda x: pick(p(x) for p in parts)
    return _compile_poly(e, index, {})


def _compile_poly(p: QPoly, index: dict[sympy.Symbol, int],
                  floors: dict[Floor, Callable[[Sequence[int]], int]]
                  ) -> Callable[[Sequence[int]], int]:
    terms: list[tuple[int, list[tuple[int, Callable[[Sequence[int]], int] | None, int]]]] = []
    for mono, c in p.terms.items():
        factors: list[tuple[int, Callable[[Sequence[int]], int] | None, int]] = []
        for atom, power in mono:
            if isinstance(atom, Floor):
                fn = floors.get(atom)
                if fn is None:
                    fn = _compile_floor(atom, index, floors)
                    floors[atom] = fn
                factors.append((-1, fn, power))
            else:
                factors.append((index[atom], None, power))
        terms.append((c, factors))

    def run(x: Sequence[int]) -> int:
        total = 0
        for c, factors in terms:
            v = c
            for i, fn, power in factors:
                base = x[i] if fn is None else fn(x)
                v *= base if power == 1 else base**power
            total += v
        return total

    return run


def _compile_floor(f: Floor, index: dict[sympy.Symbol, int],
                   floors: dict[Floor, Callable[[Sequence[int]], int]]
                   ) -> Callable[[Sequence[int]], int]:
    num = _compile_poly(f.num, index, floors)
    den_const = f.den.as_int()
    if den_const is not None:
        return lambda x: num(x) // den_const
    den = _compile_poly(f.den, index, floors)

    def run(x: Sequence[int]) -> int:
        d = den(x)
        if d <= 0:
            raise ZeroDivisionError(f"divisor {f.den!r} = {d} is not positive")
        return num(x) // d

    return run


# --- the decision ---------------------------------------------------------------------------


def _bounds(syms: Sequence[sympy.Symbol], lower: Bound | None, upper: Bound | None
            ) -> tuple[dict[sympy.Symbol, int | None], dict[sympy.Symbol, int | None]]:
    lo: dict[sympy.Symbol, int | None] = {}
    hi: dict[sympy.Symbol, int | None] = {}
    for s in syms:
        default = 1 if s.is_positive else (0 if s.is_nonnegative else None)
        lo[s] = (lower or {}).get(s, default)
        hi[s] = (upper or {}).get(s)
    return lo, hi


def _empty(lo: Mapping[sympy.Symbol, int | None], hi: Mapping[sympy.Symbol, int | None]
           ) -> bool:
    return any(lo[s] is not None and hi[s] is not None and lo[s] > hi[s]  # type: ignore[operator]
               for s in lo)


def decide_nonneg(
    e: QExpr,
    lower: Bound | None = None,
    *,
    upper: Bound | None = None,
    budget: int = DEFAULT_BOX_BUDGET,
    deadline: float | None = None,
) -> Decision:
    """Decide ``e >= 0`` for all integers ``lower[x] <= x <= upper[x]``.

    A missing lower bound is 1 for a positive symbol, 0 for a non-negative one and open
    otherwise; a missing (or None) upper bound is open.  Complete for quasi-affine ``e`` with
    constant divisors (Min/Max allowed when its pieces move the same way) within ``budget``
    evaluations and before ``deadline`` (a :func:`time.monotonic` value); otherwise ``holds``
    is None with the reason.
    """
    # Two cheap exact shortcuts first: they settle what is true at once; when they find a
    # counterexample, the period check below still runs (its counterexample is the first in
    # its box, the one users see) and theirs is used only if it cannot decide.
    fallback: Decision | None = None
    reduced = None
    if nested(e):
        # a floor stored nested (intdiv.floordiv): taking floors off one by one re-derives
        # the collapsed form, longer at each step; a falling symbol refutes it at once
        if unbounded_below(e):  # (_falling_symbols(e), without building its set)
            syms = sorted(free_symbols(e), key=lambda s: s.name)
            lo, hi = _bounds(syms, lower, upper)
            if _empty(lo, hi):  # no point at all: a witness would lie outside the box
                return Decision(True, {}, "the domain is empty")
            witness = _falling_witness(e, lo, hi)
            if witness is not None:
                return witness
        reduced = without_floor(e, lower)
        if reduced is None:
            # a symbolic divisor: no period, monotone corner or residue split applies, and
            # the witness found nothing (checked before walking the symbols, a deep chain's
            # hundreds)
            return Decision(None, reason=NOT_QUASI_AFFINE)
    else:
        reduced = without_floor(e, lower)
    if reduced is not None:
        # floor(X/D) + P >= 0 iff X + P*D >= 0 (P integer-valued, D > 0): exact, and it
        # removes the floor (a symbolic-stride chain's sizes are one such floor each)
        d = decide_nonneg(reduced, lower, upper=upper, budget=budget, deadline=deadline)
        if d.holds is True:
            return Decision(True, {}, f"without its floor: {d.reason}", d.box)
        if d.holds is False:
            fallback = Decision(False, _complete(d.counterexample, e, lower, upper),
                                f"without its floor: {d.reason}")
    syms = sorted(free_symbols(e), key=lambda s: s.name)
    lo, hi = _bounds(syms, lower, upper)
    if _empty(lo, hi):
        return Decision(True, {}, "the domain is empty")
    monotone = _by_monotonicity(e, lo, hi)
    if monotone is not None and (monotone.holds or monotone.box):
        return monotone
    fallback = fallback or monotone
    per = periods(e)
    if per is None:
        fallback = fallback or _falling_witness(e, lo, hi)
        if fallback is None and poly_moduli(e) is not None:
            return decide_polynomial(e, lower, upper=upper, budget=budget, deadline=deadline)
        return fallback or Decision(None, reason=NOT_QUASI_AFFINE)
    syms = list(per)
    result = _decide_periodic(e, per, syms, lo, hi, budget, deadline)
    return fallback if result.holds is None and fallback is not None else result


def unbounded_below(e: QExpr) -> bool:
    """True when ``e`` takes negative values on the default domain (no upper bounds),
    seen in one linear pass: ``e`` falls without bound along some symbol ``x`` with the
    others fixed (:func:`convsym.intdiv.directions`: ``x`` to the first power, in terms
    ``c*x*(positive symbols)`` with ``c < 0`` or in floors it moves one way), so raising
    ``x`` makes ``e`` as negative as wanted.

    A cheap exact refutation for callers that need no counterexample: a layer's room
    ``H - k0 - k1 - ... + n`` with one symbolic kernel per layer, or ``... - k3*s0*s1*s2``
    with symbolic strides too, or ``floor((floor((H - k0)/s0) - k1 + 1)/s1) - k2`` nested,
    is neither always non-negative nor always negative, and deciding it by periods or by
    sampling costs the depth each time.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import floordiv
    >>> h, k, s = QPoly.sym(symbol("H")), QPoly.sym(symbol("k")), QPoly.sym(symbol("s"))
    >>> unbounded_below(h - k + QPoly.const(5)), unbounded_below(h * k - k)
    (True, False)
    >>> unbounded_below(h - k * s * s + s), unbounded_below(QPoly.const(3) - floordiv(h, s))
    (True, True)
    >>> unbounded_below(floordiv(h, s) - floordiv(h, QPoly.const(2))), unbounded_below(h)
    (False, False)

    Signs alone do not see everything: ``floor((H - k)/2)`` is ``floor((H + k)/2) - k`` in
    canonical form, ``k`` both ways, so it is not found (callers then decide it otherwise).

    >>> unbounded_below(floordiv(h - k, QPoly.const(2)))
    False
    """
    return isinstance(e, QPoly) and falls(e)


def _falling_symbols(e: QExpr) -> list[sympy.Symbol]:
    """The symbols ``x`` of :func:`unbounded_below`, sorted by name."""
    if not isinstance(e, QPoly):
        return []
    return sorted(directions(e)[1], key=lambda x: x.name)


_DOUBLINGS = 256
"""Doublings of a symbol :func:`_falling_witness` tries when ``e`` falls along it through
floors (each step at least halves the distance to a negative value's region: a floor over
divisors at their starts falls at least as fast as ``x/D``)."""


def _falling_witness(e: QExpr, lo: Mapping[sympy.Symbol, int | None],
                     hi: Mapping[sympy.Symbol, int | None]) -> Decision | None:
    """A counterexample to ``e >= 0`` along a symbol of :func:`unbounded_below` that has no
    upper bound, found with a few evaluations, or None.

    Where ``e`` is affine in that symbol ``x`` (first power, outside every floor): with the
    other symbols fixed at the start of their ranges, ``e = value + slope*(x - x0)``
    exactly, the slope being the terms with ``x`` divided by ``x``, evaluated there; when
    it is negative ``x`` is raised just far enough.  Linear in ``e``: a polynomial whose
    every other decision would expand products of ``(t + 1)`` per symbol (a chain with one
    symbolic kernel and stride per layer) is refuted at once.  Where ``x`` is also inside
    floors (``e`` never increases along it and falls without bound), ``x`` is doubled until
    ``e`` is negative, then the first negative value is found by bisection.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import floordiv
    >>> h, k = symbol("H"), symbol("k")
    >>> e = QPoly.sym(h) * QPoly.sym(h) - QPoly.const(3) * QPoly.sym(k)
    >>> _falling_witness(e, {h: 1, k: 1}, {h: None, k: None}).counterexample
    {H: 1, k: 1}
    >>> _falling_witness(QPoly.const(10) - QPoly.sym(k), {k: 1}, {k: None}).counterexample
    {k: 11}
    >>> drop = QPoly.const(10) - floordiv(QPoly.sym(h), QPoly.const(3))
    >>> _falling_witness(drop, {h: 1}, {h: None}).counterexample   # floor(33/3) = 11
    {H: 33}
    """
    if not isinstance(e, QPoly):
        return None
    for x in _falling_symbols(e):
        if hi.get(x) is not None:
            continue
        point = {s: _start(lo.get(s), hi.get(s))
                 for s in sorted(free_symbols(e), key=lambda s: s.name)}
        try:
            found = _fall_along(e, x, point)
        except ZeroDivisionError:  # a divisor symbol at 0 (a lower bound below 1)
            continue
        if found is None or e.evaluate(found) >= 0:  # a counterexample is only ever given
            continue                                  # checked
        return Decision(False, found, f"{'affine' if _outside_floors(e, x) else 'monotone'} "
                        f"in {x} with a negative slope, which has no upper bound")
    return None


def _outside_floors(e: QPoly, x: sympy.Symbol) -> bool:
    return all(x not in f.symbols() for f in e.floors())


def _fall_along(e: QPoly, x: sympy.Symbol, point: dict[sympy.Symbol, int]
                ) -> dict[sympy.Symbol, int] | None:
    """A point where ``e < 0``, moving only ``x`` up from ``point`` (``e`` falls along
    ``x`` without bound), or None."""
    value = e.evaluate(point)
    if value < 0:
        return point
    if _outside_floors(e, x):
        linear = (x, 1)  # x occurs only to the first power
        slope = QPoly({m: c for m, c in e.terms.items() if linear in m}).evaluate(
            {**point, x: 1})
        if slope >= 0:
            return None
        return {**point, x: point[x] + value // -slope + 1}
    good, step = point[x], 1  # e >= 0 at good; e never increases along x
    for _ in range(_DOUBLINGS):
        probe = {**point, x: good + step}
        if e.evaluate(probe) < 0:
            low, high = good, good + step
            while high - low > 1:  # the first negative value: e(low) >= 0 > e(high)
                mid = (low + high) // 2
                if e.evaluate({**point, x: mid}) < 0:
                    high = mid
                else:
                    low = mid
            return {**point, x: high}
        good, step = good + step, 2 * step
    return None


def _decide_periodic(e: QExpr, per: Mapping[sympy.Symbol, int], syms: list[sympy.Symbol],
                     lo: dict[sympy.Symbol, int | None], hi: dict[sympy.Symbol, int | None],
                     budget: int, deadline: float | None) -> Decision:
    """The period check proper (``e`` quasi-affine with per-symbol periods ``per``)."""
    run = compile_qexpr(e, syms)
    base = tuple(_start(lo[s], hi[s]) for s in syms)
    if isinstance(e, Ext) and e.kind == "min":
        for piece in e.args:
            d = decide_nonneg(piece, lo, upper=hi, budget=budget, deadline=deadline)
            if d.holds is not True:
                return d
        return Decision(True, {}, "every piece of the Min is non-negative")
    pieces = _pieces(e) if isinstance(e, Ext) else [e]
    if any(isinstance(a, Ext) for a in (e.args if isinstance(e, Ext) else ())):
        return _max_fallback(e, syms, lo, hi, budget, deadline)
    compiled = [compile_qexpr(p, syms) for p in pieces]
    direction: dict[sympy.Symbol, int] = {}
    for i, s in enumerate(syms):
        moved = list(base)
        moved[i] += per[s]
        deltas = {fn(moved) - fn(base) for fn in compiled}
        if len(pieces) == 1:
            (delta,) = deltas
            if delta < 0 and hi[s] is None:
                return _walk(run, syms, base, i, per[s], +1, lo, hi)
            if delta > 0 and lo[s] is None:
                return _walk(run, syms, base, i, per[s], -1, lo, hi)
            direction[s] = -1 if delta < 0 else (1 if delta > 0 else 0)
            continue
        if all(d >= 0 for d in deltas) and (lo[s] is not None or all(d == 0 for d in deltas)):
            direction[s] = 1 if any(d > 0 for d in deltas) else 0
        elif all(d <= 0 for d in deltas) and hi[s] is not None:
            direction[s] = -1
        else:
            return _max_fallback(e, syms, lo, hi, budget, deadline)
    box = [_axis_box(lo[s], hi[s], per[s], direction[s]) for s in syms]
    return _check_box(run, syms, box, budget, deadline, "slopes point away from the box")


def without_floor(e: QExpr, lower: Bound | None = None) -> QPoly | None:
    """``X + P*D`` for ``e = floor(X/D) + P``, ``(P + 1)*D - X - 1`` for ``P - floor(X/D)``.

    ``P`` is the rest of ``e`` and must have no Floor atom (so it is integer-valued); then
    ``e >= 0`` holds exactly where the result is ``>= 0``, since ``floor(y) >= m`` iff
    ``y >= m`` for an integer ``m``, and ``D > 0`` (its symbols' lower bounds, from ``lower``
    or their declarations, must be at least 1).  None when ``e`` is not of that form.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import QPoly, ceildiv, to_sympy
    >>> h, s = QPoly.sym(symbol("H")), QPoly.sym(symbol("s"))
    >>> to_sympy(without_floor(ceildiv(h, s * s * s) - QPoly.const(1)))
    H - 1
    """
    if not isinstance(e, QPoly):
        return None
    found: tuple[Floor, int] | None = None
    for mono, c in e.terms.items():
        if any(isinstance(a, Floor) for a, _ in mono):
            if found is not None or len(mono) != 1 or mono[0][1] != 1 or c not in (1, -1):
                return None
            found = (mono[0][0], c)
    if found is None:
        return None
    f, c = found
    den_syms = list(f.den.free_symbols())
    lo, _ = _bounds(den_syms, lower, None)
    if any(lo[x] is None or lo[x] < 1 for x in den_syms):  # type: ignore[operator]
        return None
    rest = e - QPoly.atom(f) * c
    if c == 1:
        return f.num + rest * f.den
    return (rest + QPoly.const(1)) * f.den - f.num - QPoly.const(1)


def _complete(example: Mapping[sympy.Symbol, int], e: QExpr, lower: Bound | None,
              upper: Bound | None) -> dict[sympy.Symbol, int]:
    """A counterexample with a value for every symbol of ``e`` (absent ones: any in range)."""
    out = dict(example)
    syms = [s for s in free_symbols(e) if s not in out]
    lo, hi = _bounds(syms, lower, upper)
    for s in syms:
        out[s] = _start(lo[s], hi[s])
    return out


def _by_monotonicity(e: QExpr, lo: Mapping[sympy.Symbol, int | None],
                     hi: Mapping[sympy.Symbol, int | None]) -> Decision | None:
    """Decide ``e >= 0`` with one evaluation when ``e`` is monotone in every symbol.

    A refutation at the all-lower-bounds corner carries that corner as its ``box``: it is
    then also the first point of the period check's box, the counterexample users see.
    """
    found = _monotone_corner(e, lo, hi)
    if found is None:
        return None
    corner, increasing = found
    # the minimum is at one corner of the domain (a stride-2 chain's period box would have
    # 2**depth points)
    if e.evaluate(corner) >= 0:
        return Decision(True, {}, "monotone in every symbol; non-negative at the corner where "
                        "it is smallest")
    box = tuple((x, v, v) for x, v in corner.items()) if increasing else ()
    return Decision(False, dict(corner), "monotone in every symbol; negative at the corner",
                    box)


def _monotone_corner(e: QExpr, lo: Mapping[sympy.Symbol, int | None],
                     hi: Mapping[sympy.Symbol, int | None]
                     ) -> tuple[dict[sympy.Symbol, int], bool] | None:
    """The corner of the domain where ``e`` is smallest, when ``e`` is monotone in each symbol.

    ``e`` is non-decreasing in a symbol when every occurrence of it, through any nesting of
    Floor atoms with constant divisors (floor is non-decreasing in its numerator) and
    Min/Max, has a positive overall coefficient, and non-increasing when every one is
    negative; a monomial with several factors (or a power) counts only when all its symbols
    are non-negative on the domain.  The minimum is then at the lower end of each
    non-decreasing symbol's range and the upper end of each non-increasing one.  None when a
    direction is mixed, a divisor is symbolic or the needed end is open.  Also says whether
    ``e`` is non-decreasing in every symbol.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import QPoly, ceildiv
    >>> n = symbol("n")
    >>> _monotone_corner(ceildiv(QPoly.sym(n), QPoly.const(2**40)) - QPoly.const(1),
    ...                  {n: 1}, {n: None})
    ({n: 1}, True)
    """
    direction: dict[sympy.Symbol, int] = {}

    def poly(p: QPoly, sign: int) -> bool:
        for mono, c in p.terms.items():
            here = sign if c > 0 else -sign
            product = len(mono) > 1 or (bool(mono) and mono[0][1] > 1)
            for atom, _ in mono:
                if isinstance(atom, Floor):
                    if product or atom.den.as_int() is None or not poly(atom.num, here):
                        return False
                elif product and (lo.get(atom) is None or lo[atom] < 0):  # type: ignore[operator]
                    return False
                elif direction.setdefault(atom, here) != here:
                    return False
        return True

    def visit(x: QExpr) -> bool:
        if isinstance(x, Ext):
            return all(visit(a) for a in x.args)
        return poly(x, 1)

    if not visit(e):
        return None
    corner: dict[sympy.Symbol, int] = {}
    for s, way in direction.items():
        end = lo.get(s) if way > 0 else hi.get(s)
        if end is None:
            return None
        corner[s] = end
    return corner, all(way > 0 for way in direction.values())


def _start(lo: int | None, hi: int | None) -> int:
    if lo is not None:
        return lo
    return hi if hi is not None and hi < 0 else 0


def _axis_box(lo: int | None, hi: int | None, period: int, direction: int) -> tuple[int, int]:
    """One period at the end of the axis the slope points away from."""
    if direction >= 0 and lo is not None:
        return lo, lo + period - 1 if hi is None else min(lo + period - 1, hi)
    if hi is not None:
        return hi - period + 1 if lo is None else max(hi - period + 1, lo), hi
    return 0, period - 1


def _check_box(run: Callable[[Sequence[int]], int], syms: Sequence[sympy.Symbol],
               box: Sequence[tuple[int, int]], budget: int, deadline: float | None,
               why: str) -> Decision:
    size = 1
    for first, last in box:
        size *= last - first + 1
    if size > budget:
        return Decision(None, reason=f"the period box has {size} points, more than {budget}")
    ranges = [range(first, last + 1) for first, last in box]
    for count, point in enumerate(itertools.product(*ranges)):
        if count % _CHECK_EVERY == 0 and deadline is not None and time.monotonic() > deadline:
            return Decision(None, reason="the time limit ran out during the period check")
        if run(point) < 0:
            return Decision(False, dict(zip(syms, point)), "counterexample in the period box")
    described = tuple((s, first, last) for s, (first, last) in zip(syms, box))
    return Decision(True, {}, f"checked one period box of {size} points; {why}", described)


def _walk(run: Callable[[Sequence[int]], int], syms: Sequence[sympy.Symbol],
          base: tuple[int, ...], i: int, period: int, way: int,
          lo: Mapping[sympy.Symbol, int | None], hi: Mapping[sympy.Symbol, int | None]
          ) -> Decision:
    """``e`` drifts down along axis ``i`` in direction ``way``: find a negative point."""
    value = run(base)
    moved = list(base)
    moved[i] += way * period
    drop = value - run(moved)
    steps = max(value // drop + 1, 0)
    point = list(base)
    point[i] += way * steps * period
    # the first violating value along this axis within the last period walked (of a long
    # period only the end is scanned: the point found is a counterexample either way)
    for back in range(min(period, _WALK_SCAN), 0, -1):
        probe = list(point)
        probe[i] -= way * back
        low, high = lo[syms[i]], hi[syms[i]]
        inside = (low is None or probe[i] >= low) and (high is None or probe[i] <= high)
        if inside and run(probe) < 0:
            point = probe
            break
    assert run(point) < 0
    where = "increases" if way > 0 else "decreases"
    return Decision(False, dict(zip(syms, point)), f"goes negative as {syms[i]} {where}")


def _max_fallback(e: QExpr, syms: Sequence[sympy.Symbol],
                  lo: dict[sympy.Symbol, int | None], hi: dict[sympy.Symbol, int | None],
                  budget: int, deadline: float | None) -> Decision:
    """A Max whose pieces move different ways: one non-negative piece suffices."""
    assert isinstance(e, Ext)
    for piece in e.args:
        d = decide_nonneg(piece, lo, upper=hi, budget=budget, deadline=deadline)
        if d.holds is True:
            return Decision(True, {}, f"one piece of the Max is non-negative: {d.reason}")
    return Decision(None, reason="the pieces of the Max move in different directions")


def decide_eq(a: QExpr, b: QExpr, lower: Bound | None = None, *, upper: Bound | None = None,
              budget: int = DEFAULT_BOX_BUDGET, deadline: float | None = None) -> Decision:
    """Decide ``a == b`` for all integer symbol values in the box (see decide_nonneg).

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import QPoly, floordiv, ceildiv
    >>> n = QPoly.sym(symbol("n"))
    >>> decide_eq(floordiv(n, QPoly.const(2)) + ceildiv(n, QPoly.const(2)), n).holds
    True
    """
    diff = _sub(a, b)
    if diff is None:
        return Decision(None, reason="the difference of two Min/Max expressions")
    if isinstance(diff, QPoly) and not diff.terms:
        return Decision(True, {}, "identical canonical forms")
    if nested(diff):  # a floor stored nested on one side, collapsed on the other
        try:
            whole = collapsed(diff)
        except OutOfTime:
            raise
        except BudgetExceeded:
            whole = None
        if isinstance(whole, QPoly) and not whole.terms:
            return Decision(True, {}, "identical canonical forms once nested floors are "
                            "collapsed")
    first = decide_nonneg(diff, lower, upper=upper, budget=budget, deadline=deadline)
    if first.holds is not True:
        return first
    second = decide_nonneg(scale(diff, QPoly.const(-1)), lower, upper=upper, budget=budget,
                           deadline=deadline)
    if second.holds is True:
        return Decision(True, {}, first.reason, first.box)
    return second


def decide_nonzero(e: QExpr, lower: Bound | None = None, *, upper: Bound | None = None,
                   budget: int = DEFAULT_BOX_BUDGET, deadline: float | None = None
                   ) -> Decision:
    """Decide ``e != 0`` for all integer symbol values in the box (see decide_nonneg).

    True when ``e >= 1`` or ``e <= -1`` everywhere; False with a zero of ``e``; else None.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import QPoly, floordiv
    >>> n = QPoly.sym(symbol("n"))
    >>> decide_nonzero(QPoly.const(2) * floordiv(n, QPoly.const(2)) - n).counterexample
    {n: 2}
    """
    for sign in (1, -1):
        d = decide_nonneg(add(scale(e, QPoly.const(sign)), QPoly.const(-1)), lower,
                          upper=upper, budget=budget, deadline=deadline)
        if d.holds is True:
            return Decision(True, {}, d.reason, d.box)
    per = periods(e)
    if per is None:
        if poly_moduli(e) is not None:
            return decide_polynomial(e, lower, upper=upper, kind="nonzero", budget=budget,
                                     deadline=deadline)
        return Decision(None, reason=NOT_QUASI_AFFINE)
    syms = list(per)
    lo, hi = _bounds(syms, lower, upper)
    run = compile_qexpr(e, syms)
    box = [_axis_box(lo[s], hi[s], 4 * per[s], 0) for s in syms]
    zero = _check_box(lambda x: abs(run(x)) - 1, syms, box, budget, deadline, "")
    if zero.holds is False:
        return Decision(False, zero.counterexample, "a zero near the start of the domain")
    return Decision(None, reason="e takes both signs and has no zero near the start")


def _sub(a: QExpr, b: QExpr) -> QExpr | None:
    if isinstance(b, QPoly):
        return add(a, -b)
    if isinstance(a, QPoly):
        return add(scale(b, QPoly.const(-1)), a)
    return None


def symbols_of(e: QExpr) -> list[sympy.Symbol]:
    """The symbols of ``e``, sorted by name."""
    return sorted(free_symbols(e), key=lambda s: s.name)


# --- polynomial numerators --------------------------------------------------------------------
#
# floor(P/D) with P a polynomial with integer coefficients and D a constant: P(x + M) - P(x)
# is a multiple of M for every integer x, so with M a multiple of D the remainder of P mod D
# repeats with period M in each variable.  Writing every variable as x = M*t + r (0 <= r < M)
# turns each floor into a polynomial in t plus a constant, and the statement into one
# polynomial (in)equality per residue class r, which is decided exactly in one variable.

POLY_RESIDUES = 4096
"""At most this many residue classes (the product of the periods) are split."""
_POLY_SEARCH = 512  # points searched for a counterexample in a class with several variables


def _chain(f: Floor) -> int | None:
    """A modulus that makes ``f`` a polynomial plus a constant on each class (None: a
    symbolic divisor).  Nested floors multiply: the inner one's drift must stay divisible."""
    den = f.den.as_int()
    if den is None:
        return None
    inner = 1
    for g in f.num.floors():
        m = _chain(g)
        if m is None:
            return None
        inner = lcm(inner, m)
    return den * inner


def poly_moduli(e: QExpr) -> dict[sympy.Symbol, int] | None:
    """The period of each symbol for the residue split (None: a symbolic divisor or Min/Max).

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import QPoly, floordiv
    >>> n, m = symbol("n"), symbol("m")
    >>> poly_moduli(floordiv(QPoly.sym(n) * QPoly.sym(n), QPoly.const(6)) + QPoly.sym(m))
    {m: 1, n: 6}
    """
    if not isinstance(e, QPoly):
        return None
    out: dict[sympy.Symbol, int] = {s: 1 for s in e.free_symbols()}
    for f in e.floors():
        m = _chain(f)
        if m is None:
            return None
        for s in f.num.free_symbols():
            out[s] = lcm(out[s], m)
    return dict(sorted(out.items(), key=lambda item: item[0].name))


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def _root_bound(coeffs: Sequence[int]) -> int:
    """An integer ``B`` with every real root of ``sum(coeffs[k] * t**k)`` in ``[-B, B]``
    (Fujiwara's bound, rounded up; ``coeffs[-1] != 0``)."""
    n, lead = len(coeffs) - 1, abs(coeffs[-1])
    best = 0
    for k in range(1, n + 1):
        c = abs(coeffs[n - k])  # Fujiwara halves a_0 (k == n): not halving is still a bound
        if c == 0:
            continue
        ratio = _ceil_div(c, lead)
        if ratio.bit_length() < 1000:
            root = max(1, round(ratio ** (1.0 / k)))
        else:  # beyond floats: a power of two at most twice the root
            root = 1 << -(-ratio.bit_length() // k)
        while root**k < ratio:
            root += 1
        best = max(best, root)
    return 2 * best + 1


def _univariate(coeffs: list[int], lo: int | None, hi: int | None, kind: str,
                budget: int) -> tuple[bool | None, int | None]:
    """Decide ``q(t) >= 0`` (kind "nonneg") or ``q(t) != 0`` ("nonzero") for every integer
    ``lo <= t <= hi``: (True, None), (False, a counterexample t) or (None, None) when the
    integers between the real roots are more than ``budget``."""
    while len(coeffs) > 1 and coeffs[-1] == 0:
        coeffs.pop()

    def q(t: int) -> int:
        v = 0
        for c in reversed(coeffs):
            v = v * t + c
        return v

    def bad(t: int) -> bool:
        return q(t) < 0 if kind == "nonneg" else q(t) == 0

    if lo is not None and hi is not None and lo > hi:
        return True, None
    if len(coeffs) == 1:
        only = _start(lo, hi)
        return (False, only) if bad(only) else (True, None)
    bound = _root_bound(coeffs)
    # beyond the bound q has the sign of its leading term: no zero, and a constant sign
    first = -bound if lo is None else max(lo, -bound)
    last = bound if hi is None else min(hi, bound)
    if kind == "nonneg":
        lead, degree = coeffs[-1], len(coeffs) - 1
        if hi is None and lead < 0:
            return False, max(bound + 1, lo if lo is not None else bound + 1)
        if lo is None and lead * (-1) ** degree < 0:
            return False, min(-bound - 1, hi if hi is not None else -bound - 1)
        # the other tails: beyond the bound q > 0 there, so only [first, last] can fail
    if first > last:
        if kind == "nonneg":  # the whole range is beyond the bound: one sign, check one point
            point = lo if lo is not None else hi
            assert point is not None
            return (False, point) if bad(point) else (True, None)
        return True, None
    if last - first + 1 > budget:
        return None, None
    for t in range(first, last + 1):
        if bad(t):
            return False, t
    return True, None


def decide_polynomial(e: QExpr, lower: Bound | None = None, *, upper: Bound | None = None,
                      kind: str = "nonneg", budget: int = DEFAULT_BOX_BUDGET,
                      deadline: float | None = None) -> Decision:
    """Decide ``e >= 0`` (``kind`` "nonneg") or ``e != 0`` ("nonzero") for ``e`` with
    constant divisors and polynomial numerators, one residue class at a time (see above).

    Exact in one symbol (a polynomial in one variable is decided between its real roots);
    with several symbols a class is decided only when its polynomial is constant, or has
    all coefficients of one sign after moving each variable to its finite end, or a small
    search finds a counterexample; otherwise ``holds`` is None.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import QPoly, floordiv
    >>> n = QPoly.sym(symbol("n"))
    >>> p = n * (n + QPoly.const(1)) * (n + QPoly.const(2))
    >>> decide_polynomial(QPoly.const(6) * floordiv(p, QPoly.const(6)) - p, kind="nonneg").holds
    True
    >>> q = n * n + n
    >>> decide_polynomial(QPoly.const(2) * floordiv(q, QPoly.const(2)) - q).holds
    True
    >>> d = decide_polynomial(q - QPoly.const(3) * floordiv(q, QPoly.const(3)) - QPoly.const(1))
    >>> d.holds, d.counterexample
    (False, {n: 3})
    """
    moduli = poly_moduli(e)
    if moduli is None or not isinstance(e, QPoly):
        return Decision(None, reason=NOT_QUASI_AFFINE)
    syms = list(moduli)
    lo, hi = _bounds(syms, lower, upper)
    if _empty(lo, hi):
        return Decision(True, {}, "the domain is empty")
    classes = 1
    for s in syms:
        classes *= moduli[s]
    if classes > POLY_RESIDUES:
        return Decision(None, reason=f"{classes} residue classes, more than {POLY_RESIDUES}")
    ts = {s: sympy.Dummy(f"t_{s.name}", integer=True) for s in syms}
    undecided = ""
    for residues in itertools.product(*(range(moduli[s]) for s in syms)):
        if deadline is not None and time.monotonic() > deadline:
            return Decision(None, reason="the time limit ran out during the residue split")
        checkpoint("a residue class of the period check")  # a build's or derivation's clock
        t_lo = {s: None if lo[s] is None else _ceil_div(lo[s] - r, moduli[s])  # type: ignore[operator]
                for s, r in zip(syms, residues)}
        t_hi = {s: None if hi[s] is None else (hi[s] - r) // moduli[s]  # type: ignore[operator]
                for s, r in zip(syms, residues)}
        if any(t_lo[s] is not None and t_hi[s] is not None and t_lo[s] > t_hi[s]  # type: ignore[operator]
               for s in syms):
            continue  # the class misses the domain
        env = {s: QPoly.sym(ts[s]) * moduli[s] + QPoly.const(r) for s, r in zip(syms, residues)}
        try:
            q = e.subs(env)
            if q.floors():  # not a polynomial on the class after all: do not guess
                return Decision(None, reason="a floor is left on a residue class")
            holds, point = _decide_class(q, [ts[s] for s in syms], list(t_lo.values()),
                                         list(t_hi.values()), kind, budget)
        except BudgetExceeded as err:
            # expanding the class is over a size budget: undecided (callers keep the
            # condition), not a refusal of the network; a time limit still stops everything
            if err.code != "budget_exceeded" or isinstance(err, OutOfTime):
                raise
            return Decision(None, reason="expanding a residue class is over the size budget")
        if holds is False:
            assert point is not None
            example = {s: moduli[s] * t + r for s, t, r in zip(syms, point, residues)}
            return Decision(False, example, "a counterexample in one residue class")
        if holds is None:
            undecided = undecided or ("the residue class " + ", ".join(
                f"{s} = {moduli[s]}*t + {r}" for s, r in zip(syms, residues)) +
                " leaves a polynomial in several variables")
    if undecided:
        return Decision(None, reason=undecided)
    shown = ", ".join(f"{s}: {m}" for s, m in moduli.items())
    return Decision(True, {}, f"on each of the {classes} residue classes (periods {shown}) "
                    "every floor is a polynomial, and each polynomial was decided exactly")


def _decide_class(q: QPoly, ts: list[sympy.Symbol], lo: list[int | None],
                  hi: list[int | None], kind: str, budget: int
                  ) -> tuple[bool | None, list[int] | None]:
    """Decide one class's polynomial ``q`` over the box of its ``ts``."""
    used = [i for i, t in enumerate(ts) if t in q.free_symbols()]
    start = [_start(a, b) for a, b in zip(lo, hi)]
    if len(used) <= 1:
        if not used:
            value = q.const_value()
            failed = value < 0 if kind == "nonneg" else value == 0
            return (False, start) if failed else (True, None)
        (i,) = used
        coeffs = [0] * (1 + max(e for mono in q.terms for _, e in mono))
        for mono, c in q.terms.items():
            coeffs[mono[0][1] if mono else 0] += c
        holds, t = _univariate(coeffs, lo[i], hi[i], kind, budget)
        if holds is False:
            assert t is not None
            start[i] = t
            return False, start
        return holds, None
    # several variables: move each to a finite end (u >= 0) and look at the signs
    env: dict[sympy.Symbol, QPoly] = {}
    for i in used:
        u, low, high = QPoly.sym(ts[i]), lo[i], hi[i]
        if low is not None:
            env[ts[i]] = u + QPoly.const(low)
        elif high is not None:
            env[ts[i]] = QPoly.const(high) - u
        else:
            env = {}
            break
    # moving a variable expands every power of it: (u + 1)**128 * (v + 1)**128 has 16,641
    # terms; estimated first, so a sign check that cannot fit the term budget is skipped
    # rather than expanded up to the budget on every call (derive asked it minutes long)
    if env and kind == "nonneg" and all(c >= 0 for c in q.terms.values()) and \
            all((low := lo[i]) is not None and low >= 0 for i in used) and \
            all(atom in env for mono in q.terms for atom, _ in mono):
        return True, None  # nonnegative coefficients on a box of nonnegative values
    if env and sum(prod(e + 1 for atom, e in mono if atom in env) for mono in q.terms) > \
            current().max_terms:
        env = {}
    if env:
        moved = q.subs(env)
        coeffs = list(moved.terms.values())
        if kind == "nonneg" and all(c >= 0 for c in coeffs):
            return True, None
        if kind == "nonzero" and moved.const_value() != 0 and (
                all(c >= 0 for c in coeffs) or all(c <= 0 for c in coeffs)):
            return True, None
    # a small search for a counterexample near the start of the box (kept small: layers
    # ask about side conditions with symbolic strides, which land here, while building)
    side = max(2, int(min(budget, _POLY_SEARCH) ** (1 / len(used))))
    ranges = []
    for i in used:
        low, high = lo[i], hi[i]
        if low is not None:
            top = low + side - 1
            ranges.append(range(low, (top if high is None else min(top, high)) + 1))
        elif high is not None:
            ranges.append(range(high - side + 1, high + 1))
        else:
            ranges.append(range(-(side // 2), side - side // 2))
    for values in itertools.product(*ranges):
        point = list(start)
        for i, v in zip(used, values):
            point[i] = v
        value = q.evaluate(dict(zip(ts, point)))
        if value < 0 if kind == "nonneg" else value == 0:
            return False, point
    return None, None
