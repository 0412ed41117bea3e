"""Every integer value of one unknown that meets a list of constraints, exactly.

Three exact methods, tried in this order:

* **period** (every divisor a constant): with ``L`` the product of nested divisors, on each
  residue class ``x = lo + r + L t`` every floor is an integer polynomial in ``t`` (the
  quasi-affine argument of :mod:`convsym.period`, extended to polynomials), so each
  constraint holds on a union of ``t``-intervals found by exact real-root isolation
  (:func:`~convsym.whatif.runs.sign_runs`).  Quasi-affine constraints give residue classes
  ``x = 16t + 12, t >= 11``; growing polynomials give finite sets.
* **threshold** (the unknown in a divisor, as a stride is): ``floor(N(x)/(c x^j))`` with
  ``deg N < j`` is constant (0 or -1) from a computed ``X`` on, proved by root bounds of
  ``c x^j - N`` and ``N``.  Values below ``X`` are checked one by one; above ``X`` the
  period method applies.
* **enumerate**: a bounded range is checked value by value (only when the others do not
  apply, or to cover the values below a threshold).

Anything else raises :class:`Undecided` with the reason; nothing is guessed.  Every answer is
re-checked against direct evaluation on the first values of its range before it is returned.

>>> from convsym.expr import parse_relation, symbol
>>> from convsym.whatif.constraints import from_relation
>>> s = symbol("s")
>>> c = from_relation(parse_relation("floor((32 - 3)/s) + 1 == 8"), origin="target")
>>> answer, steps = solve_univariate([c], s, 1, None)
>>> answer.describe("s")
's in {4}'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import lcm

import sympy

from convsym.budget import Deadline
from convsym.intdiv import (
    Ext,
    Floor,
    QExpr,
    QPoly,
    evaluate,
    ext,
    floordiv,
    iter_floors,
    to_sympy,
)
from convsym.whatif.constraints import Constraint, negate
from convsym.whatif.intset import IntSet, Progression
from convsym.whatif.runs import Runs, interpolate, sign_runs, threshold_positive
from convsym.whatif.steps import Step

NEVER = -(2**62)


class Undecided(Exception):
    """The exact answer could not be established; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """Work limits: residues per period, values checked one by one, points in a box."""

    max_period: int = 1 << 14
    max_enumerate: int = 200_000
    max_box: int = 200_000
    max_cells: int = 10_000


DEFAULT_LIMITS = Limits()


def solve_univariate(cons: Sequence[Constraint], x: sympy.Symbol, lo: int, hi: int | None,
                     *, deadline: Deadline | None = None, limits: Limits = DEFAULT_LIMITS
                     ) -> tuple[IntSet, list[Step]]:
    """The exact set of integers ``lo <= x <= hi`` meeting every constraint, with the steps."""
    deadline = deadline or Deadline(None)
    steps: list[Step] = []
    if hi is not None and hi < lo:
        return IntSet.empty(), steps
    for c in cons:
        extra = c.symbols - {x}
        if extra:
            raise ValueError(f"constraint {c.shown} has other symbols {extra}")
    if not cons:
        return IntSet.interval(lo, hi), steps
    try:
        if any(_symbolic_den(c.expr, x) for c in cons):
            result = _by_threshold(cons, x, lo, hi, deadline, limits, steps)
        else:
            result = _by_period(cons, x, lo, hi, deadline, limits, steps)
    except Undecided as why:
        if hi is None or hi - lo + 1 > limits.max_enumerate:
            raise
        steps.append(Step("note", "{0}; the range is finite, so every value is checked.",
                          (why.reason,)))
        result = _enumerate(cons, x, lo, hi, deadline, steps)
    _self_check(result, cons, x, lo, hi)
    return result, steps


# --- period method ---------------------------------------------------------------------------


def _by_period(cons: Sequence[Constraint], x: sympy.Symbol, lo: int, hi: int | None,
               deadline: Deadline, limits: Limits, steps: list[Step]) -> IntSet:
    period = 1
    for c in cons:
        for f in iter_floors(c.expr):
            period = lcm(period, _floor_period(f))
    if period > limits.max_period:
        raise Undecided(f"the period {period} exceeds the limit {limits.max_period}")
    degree = max(_degree(c.expr, x) for c in cons)
    t = sympy.Symbol("t", integer=True, nonnegative=True)
    kind = "affine" if degree <= 1 else f"a polynomial of degree at most {degree}"
    roots = " (real roots isolated)" if degree > 1 else ""
    if period == 1:
        steps.append(Step("period", "On {0} every condition is " + kind + " in {1} (no floor "
                          "with a constant divisor is left), so it is solved exactly" + roots +
                          ".", (sympy.Ge(x, lo, evaluate=False), x)))
    else:
        steps.append(Step(
            "period",
            "Every divisor is a constant, so with the period L = {0} (the product of nested "
            "divisors), on each class {1} (r = 0, ..., {2}, t >= 0) every condition is " + kind +
            " in t; each class is solved exactly" + roots + ".",
            (period, sympy.Eq(x, lo + sympy.Symbol("r") + period * t), period - 1)))
    parts: list[Progression] = []
    shown: list[tuple[int, Runs]] = []
    for r in range(period):
        if r % 256 == 0:
            deadline.check("the period method")
        base = lo + r
        if hi is not None and base > hi:
            break
        top = None if hi is None else (hi - base) // period
        runs = Runs.span(0, top)
        for c in cons:
            runs = runs.intersect(_runs(c.expr, c.kind, x, base, period, top))
            if runs.empty:
                break
        if not runs.empty:
            shown.append((r, runs))
        for a, b in runs.parts:
            parts.append(Progression(base + period * a, period,
                                     None if b is None else base + period * b))
    _describe_classes(shown, x, lo, period, t, steps)
    return IntSet.of(parts)


def _describe_classes(shown: list[tuple[int, Runs]], x: sympy.Symbol, lo: int, period: int,
                      t: sympy.Symbol, steps: list[Step]) -> None:
    if not shown:
        steps.append(Step("period", "No class has a solution." if period > 1 else
                          "No value there meets every condition.", ()))
        return
    for r, runs in shown[:8]:
        ranges = ", ".join(f"t >= {a}" if b is None else (f"t = {a}" if a == b else
                                                           f"{a} <= t <= {b}")
                           for a, b in runs.parts)
        steps.append(Step("period", "Class {0}: {1}.",
                          (sympy.Eq(x, period * t + lo + r), ranges)))
    if len(shown) > 8:
        steps.append(Step("period", "... and {0} more classes with solutions.",
                          (len(shown) - 8,)))


def _floor_period(f: Floor) -> int:
    d = f.den.as_int()
    if d is None:
        raise Undecided(f"the divisor {to_sympy(f.den)} is not a constant")
    inner = 1
    for g in f.num.floors():
        inner = lcm(inner, _floor_period(g))
    return d * inner


def _degree(e: QExpr, x: sympy.Symbol) -> int:
    if isinstance(e, Ext):
        return max(_degree(a, x) for a in e.args)
    best = 0
    for mono in e.terms:
        total = 0
        for atom, p in mono:
            if isinstance(atom, Floor):
                total += p * _degree(atom.num, x)
            elif atom == x:
                total += p
            else:
                raise Undecided(f"the symbol {atom} has no value")
        best = max(best, total)
    return best


def _runs(e: QExpr, kind: str, x: sympy.Symbol, base: int, period: int, top: int | None
          ) -> Runs:
    """The ``t`` in ``[0, top]`` where ``e(base + period t)`` is ``>= 0`` / ``== 0`` / ``!= 0``."""
    if kind == "ne":
        return _runs(e, "eq", x, base, period, top).complement(0, top)
    if isinstance(e, Ext):
        if kind == "eq":
            return _runs(e, "ge", x, base, period, top).intersect(
                _runs(negate(e), "ge", x, base, period, top))
        parts = [_runs(a, "ge", x, base, period, top) for a in e.args]
        out = parts[0]
        for p in parts[1:]:
            out = out.intersect(p) if e.kind == "min" else out.union(p)
        return out
    d = _degree(e, x)
    values = [evaluate(e, {x: base + period * i}) for i in range(d + 1)]
    return sign_runs(interpolate(values), kind, top)


# --- threshold method ------------------------------------------------------------------------


def _symbolic_den(e: QExpr, x: sympy.Symbol) -> bool:
    return any(x in f.den.free_symbols() for f in iter_floors(e))


def _by_threshold(cons: Sequence[Constraint], x: sympy.Symbol, lo: int, hi: int | None,
                  deadline: Deadline, limits: Limits, steps: list[Step]) -> IntSet:
    start = NEVER
    tails: list[Constraint] = []
    notes: list[tuple[Floor, int, int]] = []
    for c in cons:
        at, tail = _eventual(c.expr, x, notes)
        start = max(start, at)
        tails.append(Constraint(tail, c.kind, c.origin, c.shown))
    start = max(start, lo)
    for f, value, at in notes:
        steps.append(Step(
            "threshold",
            "For {0} the unknown is in the divisor of {1}, which equals {2} from {3} on "
            "(the numerator's sign is fixed there and its size is below the divisor's, by "
            "their real roots).",
            (x, _floor_sympy(f), value, sympy.Ge(x, at))))
    found = IntSet.empty()
    head_hi = start - 1 if hi is None else min(start - 1, hi)
    if head_hi >= lo:
        if head_hi - lo + 1 > limits.max_enumerate:
            raise Undecided(f"the values below the threshold {start} are too many to check "
                            f"one by one (more than {limits.max_enumerate})")
        found = _enumerate(cons, x, lo, head_hi, deadline, steps)
    if hi is None or start <= hi:
        tail_set = _by_period(tails, x, start, hi, deadline, limits, steps)
        found = found.union(tail_set)
    return found


def _eventual(e: QExpr, x: sympy.Symbol, notes: list[tuple[Floor, int, int]]
              ) -> tuple[int, QExpr]:
    """``(X, tail)``: ``e`` equals ``tail`` (no unknown in a divisor) for every ``x >= X``."""
    if isinstance(e, Ext):
        pairs = [_eventual(a, x, notes) for a in e.args]
        return max(p[0] for p in pairs), ext(e.kind, (p[1] for p in pairs))
    start = NEVER
    out = QPoly()
    for mono, c in e.terms.items():
        term = QPoly.const(c)
        for atom, p in mono:
            if isinstance(atom, Floor):
                at, value = _eventual_floor(atom, x, notes)
                start = max(start, at)
            else:
                value = QPoly.atom(atom)
            term = term * value ** p
        out = out + term
    return start, out


def _eventual_floor(f: Floor, x: sympy.Symbol, notes: list[tuple[Floor, int, int]]
                    ) -> tuple[int, QPoly]:
    at, num = _eventual(f.num, x, notes)
    assert isinstance(num, QPoly)
    if x not in f.den.free_symbols():
        return at, floordiv(num, f.den)
    ((mono, dc),) = f.den.terms.items()
    j = sum(p for a, p in mono if a == x)
    if len(mono) != 1 or num.floors():
        raise Undecided(f"{_floor_sympy(f)} has the unknown in its divisor and a floor or "
                        "another symbol beside it")
    coeffs = _coefficients(num, x)
    if len(coeffs) - 1 >= j:
        raise Undecided(f"{_floor_sympy(f)}: the numerator grows as fast as the divisor")
    den = [0] * j + [dc]
    padded = coeffs + [0] * (len(den) - len(coeffs))
    if not any(coeffs):
        return at, QPoly.const(0)
    lead = [c for c in coeffs if c][-1]
    if lead > 0:
        a = threshold_positive(coeffs)
        b = threshold_positive([d - n for d, n in zip(den, padded)])
        value = 0
    else:
        a = threshold_positive([-c for c in coeffs])
        b = threshold_positive([d + n for d, n in zip(den, padded)])
        value = -1
    when = max(at, a, b)
    notes.append((f, value, when))
    return when, QPoly.const(value)


def _coefficients(p: QPoly, x: sympy.Symbol) -> list[int]:
    """Integer coefficients (lowest first) of a polynomial in ``x`` alone."""
    out: dict[int, int] = {}
    for mono, c in p.terms.items():
        power = 0
        for atom, e in mono:
            if atom != x:
                raise Undecided(f"{to_sympy(p)} depends on {atom} as well")
            power += e
        out[power] = out.get(power, 0) + c
    top = max(out, default=0)
    return [out.get(i, 0) for i in range(top + 1)]


def _floor_sympy(f: Floor) -> sympy.Expr:
    return to_sympy(QPoly.atom(f))


# --- enumeration and the self-check ----------------------------------------------------------


def _enumerate(cons: Sequence[Constraint], x: sympy.Symbol, lo: int, hi: int,
               deadline: Deadline, steps: list[Step]) -> IntSet:
    found = []
    for v in range(lo, hi + 1):
        if (v - lo) % 4096 == 0:
            deadline.check("checking values one by one")
        env = {x: v}
        if all(c.holds(env) for c in cons):
            found.append(v)
    steps.append(Step("enumerate", "Every value {0} <= {1} <= {2} was checked directly: {3}.",
                      (lo, x, hi, f"{len(found)} meet every condition")))
    return IntSet.points(found)


def _self_check(result: IntSet, cons: Sequence[Constraint], x: sympy.Symbol, lo: int,
                hi: int | None) -> None:
    """Compare the answer with direct evaluation on the first values; a mismatch is a bug."""
    top = lo + 120 if hi is None else min(hi, lo + 120)
    for v in range(lo, top + 1):
        env = {x: v}
        expected = all(c.holds(env) for c in cons)
        if expected != (v in result):
            raise Undecided(f"internal check failed at {x} = {v} (the derived set says "
                            f"{'yes' if v in result else 'no'}); please report this")
    for v in result.smallest(12):
        if not all(c.holds({x: v}) for c in cons):
            raise Undecided(f"internal check failed at {x} = {v} (the derived set says yes); "
                            "please report this")
