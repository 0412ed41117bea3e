"""Sets of integers as sorted unions of intervals, and where a polynomial is >= 0 or == 0.

:class:`Runs` is the set algebra the univariate solver needs on the parameter ``t`` of one
residue class.  :func:`sign_runs` finds, exactly, the integers ``t`` in ``[0, top]`` where an
integer-valued polynomial is ``>= 0`` (or ``== 0``): between consecutive real roots the sign
is constant, so isolating the roots (SymPy's exact real-root intervals, refined below width
1/2) and evaluating one integer per gap decides every integer.

>>> sign_runs([-5, 1], "ge", None).parts   # t - 5 >= 0
((5, None),)
>>> sign_runs([6, -5, 1], "ge", 10).parts   # (t - 2)(t - 3) >= 0 on 0..10
((0, 10),)
>>> sign_runs([6, -5, 1], "eq", None).parts
((2, 3),)
>>> sign_runs([-6, 5, -1], "ge", None).parts   # -(t - 2)(t - 3) >= 0
((2, 3),)
>>> Runs.span(0, None).intersect(Runs(((3, 7), (9, None)))).complement(0, 12).parts
((0, 2), (8, 8))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import floor, gcd

import sympy

Interval = tuple[int, int | None]


@dataclass(frozen=True)
class Runs:
    """A sorted union of disjoint, non-adjacent closed integer intervals (``None``: no end)."""

    parts: tuple[Interval, ...]

    @staticmethod
    def span(lo: int, hi: int | None) -> Runs:
        """``lo <= t <= hi``."""
        if hi is not None and hi < lo:
            return Runs(())
        return Runs(((lo, hi),))

    @staticmethod
    def nothing() -> Runs:
        """The empty set."""
        return Runs(())

    @staticmethod
    def of(parts: Sequence[Interval]) -> Runs:
        """Normalise any list of intervals."""
        items = sorted(((a, b) for a, b in parts if b is None or b >= a),
                       key=lambda ab: (ab[0], float("inf") if ab[1] is None else ab[1]))
        out: list[Interval] = []
        for a, b in items:
            if out:
                pa, pb = out[-1]
                if pb is None:
                    continue
                if a <= pb + 1:
                    out[-1] = (pa, None if b is None else max(pb, b))
                    continue
            out.append((a, b))
        return Runs(tuple(out))

    def union(self, other: Runs) -> Runs:
        """Either set."""
        return Runs.of(self.parts + other.parts)

    def intersect(self, other: Runs) -> Runs:
        """Both sets."""
        out: list[Interval] = []
        for a, b in self.parts:
            for c, d in other.parts:
                lo = max(a, c)
                hi = d if b is None else (b if d is None else min(b, d))
                if hi is None or hi >= lo:
                    out.append((lo, hi))
        return Runs.of(out)

    def complement(self, lo: int, hi: int | None) -> Runs:
        """``[lo, hi]`` minus this set."""
        out: list[Interval] = []
        cursor: int | None = lo
        for a, b in self.parts:
            if cursor is None:
                break
            if a > cursor:
                out.append((cursor, a - 1))
            cursor = None if b is None else max(cursor, b + 1)
        if cursor is not None:
            out.append((cursor, hi))
        return Runs.of(out).intersect(Runs.span(lo, hi))

    @property
    def empty(self) -> bool:
        """True when nothing is in the set."""
        return not self.parts


def poly_value(coeffs: Sequence[Fraction | int], t: int) -> Fraction:
    """``sum(c_i t^i)``."""
    total = Fraction(0)
    for c in reversed(coeffs):
        total = total * t + c
    return total


def interpolate(values: Sequence[int]) -> list[Fraction]:
    """Coefficients (lowest first) of the polynomial through ``(i, values[i])``, i = 0..d.

    >>> [str(c) for c in interpolate([1, 2, 5, 10])]
    ['1', '0', '1']
    """
    # Newton forward differences, then expand the binomial basis C(t, k) into powers of t.
    diffs = [Fraction(v) for v in values]
    heads: list[Fraction] = []
    while diffs:
        heads.append(diffs[0])
        diffs = [b - a for a, b in zip(diffs, diffs[1:])]
    coeffs = [Fraction(0)] * len(values)
    basis = [Fraction(1)]  # C(t, k) as coefficients
    for k, head in enumerate(heads):
        for i, c in enumerate(basis):
            coeffs[i] += head * c
        # C(t, k+1) = C(t, k) * (t - k) / (k + 1)
        nxt = [Fraction(0)] * (len(basis) + 1)
        for i, c in enumerate(basis):
            nxt[i + 1] += c / (k + 1)
            nxt[i] -= c * k / (k + 1)
        basis = nxt
    while len(coeffs) > 1 and coeffs[-1] == 0:
        coeffs.pop()
    return coeffs


def sign_runs(coeffs: Sequence[Fraction | int], kind: str, top: int | None) -> Runs:
    """The integers ``0 <= t <= top`` where the polynomial is ``>= 0`` (``ge``) or ``== 0``."""
    cs = [Fraction(c) for c in coeffs]
    while len(cs) > 1 and cs[-1] == 0:
        cs.pop()
    whole = Runs.span(0, top)
    if len(cs) == 1:
        holds = cs[0] >= 0 if kind == "ge" else cs[0] == 0
        return whole if holds else Runs.nothing()
    if len(cs) == 2:
        return _linear(cs[0], cs[1], kind).intersect(whole)
    critical = _critical_points(cs)
    pieces: list[Interval] = []
    cursor = 0
    for c in critical:
        if c < 0 or (top is not None and c > top):
            continue
        if c > cursor:  # the gap [cursor, c - 1] holds no root: one sample decides it
            if _holds(cs, cursor, kind):
                pieces.append((cursor, c - 1))
        if _holds(cs, c, kind):
            pieces.append((c, c))
        cursor = max(cursor, c + 1)
    if top is None or cursor <= top:
        if _holds(cs, cursor, kind):
            pieces.append((cursor, top))
    return Runs.of(pieces)


def _holds(cs: Sequence[Fraction], t: int, kind: str) -> bool:
    value = poly_value(cs, t)
    return value >= 0 if kind == "ge" else value == 0


def _linear(a: Fraction, b: Fraction, kind: str) -> Runs:
    """``a + b t >= 0`` or ``== 0`` over all integers t >= 0 (b != 0)."""
    root = -a / b
    if kind == "eq":
        if root.denominator == 1 and root >= 0:
            return Runs.span(int(root), int(root))
        return Runs.nothing()
    if b > 0:
        return Runs.span(max(0, -floor(-root)), None)
    return Runs.span(0, floor(root)) if root >= 0 else Runs.nothing()


def _critical_points(cs: Sequence[Fraction]) -> list[int]:
    """Integers within or next to an isolating interval of each real root, sorted."""
    t = sympy.Dummy("t")
    den = 1
    for c in cs:
        den = den * c.denominator // _gcd(den, c.denominator)
    ints = [int(c * den) for c in cs]
    poly = sympy.Poly(list(reversed(ints)), t)
    out: set[int] = set()
    for (a, b), _ in poly.intervals(eps=sympy.Rational(1, 2)):
        lo, hi = int(sympy.floor(a)), int(sympy.ceiling(b))
        out.update(range(lo, hi + 1))
    return sorted(out)


def _gcd(a: int, b: int) -> int:
    return gcd(a, b)


def threshold_positive(coeffs: Sequence[Fraction | int]) -> int:
    """An integer X with ``p(x) > 0`` for every real ``x >= X`` (leading coefficient > 0).

    >>> threshold_positive([-29, 1])   # x - 29 > 0 from 30 on
    30
    """
    cs = [Fraction(c) for c in coeffs]
    while len(cs) > 1 and cs[-1] == 0:
        cs.pop()
    if cs[-1] <= 0:
        raise ValueError("the leading coefficient must be positive")
    if len(cs) == 1:
        return -(2**62)
    points = _critical_points(cs)
    return (max(points) + 1) if points else -(2**62)
