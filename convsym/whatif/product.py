"""Separable products: ``e = F_1(x_1) * ... * F_m(x_m) / q + K`` with each factor in one unknown.

A Flatten -> Dense match gives ``4*floor((H-1)/2)*floor((W-1)/2) == 3844``: each factor is a
size in one input symbol, so every solution has each factor equal to a divisor of the
constant.  :func:`split_product` finds the factors exactly, by a rank-one decomposition of the
coefficient table (rows: monomials in the first unknown's atoms; columns: the rest), which
also finds the constant ``K`` to move aside.  Nothing is approximated: when no exact
decomposition exists the answer is None.

>>> from convsym.expr import parse_expr, symbol
>>> from convsym.intdiv import from_sympy, to_sympy
>>> from convsym.printing.text import sstr
>>> e = from_sympy(parse_expr("4*floor((H-1)/2)*floor((W-1)/2) - 3844"))
>>> split = split_product(e, [symbol("H"), symbol("W")])
>>> split.target, [sstr(to_sympy(f)) for f in split.factors.values()]
(961, ['floor((H - 1)/2)', 'floor((W - 1)/2)'])
>>> signed_factorisations(6, 2)[:4]
[(1, 6), (2, 3), (3, 2), (6, 1)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import comb, gcd, lcm

import sympy

from convsym.intdiv import Floor, Monomial, QPoly

Table = dict[Monomial, dict[Monomial, Fraction]]


@dataclass(frozen=True)
class ProductSplit:
    """``e == 0`` exactly when ``prod(factors) == target`` (factors: unknown -> QPoly)."""

    factors: dict[sympy.Symbol, QPoly]
    target: int | None  # None: no integer solution at all (the constant is not an integer)


def _owner(atom: object) -> frozenset[sympy.Symbol]:
    if isinstance(atom, Floor):
        return frozenset(atom.num.free_symbols() | atom.den.free_symbols())
    assert isinstance(atom, sympy.Symbol)
    return frozenset({atom})


def split_product(e: QPoly, unknowns: Sequence[sympy.Symbol]) -> ProductSplit | None:
    """The separable-product form of ``e`` over ``unknowns`` (two or more), or None."""
    groups = [u for u in unknowns if u in e.free_symbols()]
    if len(groups) < 2 or not e.free_symbols() <= set(groups):
        return None
    for mono in e.terms:
        for atom, _ in mono:
            if len(_owner(atom)) != 1:
                return None
    found = _decompose({m: Fraction(c) for m, c in e.terms.items()}, groups,
                       allow_constant=True)
    if found is None:
        return None
    factors, scale, shift = found
    # e = scale * prod(factors) + shift, each factor integer-valued
    total = -shift / scale
    if total.denominator != 1:
        return ProductSplit(factors, None)
    return ProductSplit(factors, int(total))


def _decompose(terms: dict[Monomial, Fraction], groups: Sequence[sympy.Symbol], *,
               allow_constant: bool
               ) -> tuple[dict[sympy.Symbol, QPoly], Fraction, Fraction] | None:
    """``terms = scale * prod(factors) + shift`` (``shift`` 0 unless allowed), or None."""
    first, rest = groups[0], groups[1:]
    found = _rank_one(_table(terms, first), allow_constant=allow_constant)
    if found is None:
        return None
    u, v, shift = found
    den = 1
    for frac in v.values():
        den = lcm(den, frac.denominator)
    ints = {c: int(frac * den) for c, frac in v.items()}
    g = 0
    for whole in ints.values():
        g = gcd(g, whole)
    g_poly = QPoly({c: x // g for c, x in ints.items()})
    f_poly = QPoly(dict(u))
    scale = Fraction(g, den)
    if not f_poly.free_symbols() or not g_poly.free_symbols():
        return None
    if len(rest) == 1:
        if g_poly.free_symbols() != {rest[0]}:
            return None
        return {first: f_poly, rest[0]: g_poly}, scale, shift
    inner = _decompose({m: Fraction(c) for m, c in g_poly.terms.items()}, rest,
                       allow_constant=False)
    if inner is None:
        return None
    inner_factors, inner_scale, _ = inner
    return {first: f_poly, **inner_factors}, scale * inner_scale, shift


def _table(terms: dict[Monomial, Fraction], first: sympy.Symbol) -> Table:
    table: Table = {}
    for mono, c in terms.items():
        mine = tuple((a, p) for a, p in mono if first in _owner(a))
        other = tuple((a, p) for a, p in mono if first not in _owner(a))
        row = table.setdefault(mine, {})
        row[other] = row.get(other, Fraction(0)) + c
    return table


def _rank_one(table: Table, *, allow_constant: bool
              ) -> tuple[dict[Monomial, int], dict[Monomial, Fraction], Fraction] | None:
    """``table - K e_00 = u v^T`` with integer primitive ``u``; returns (u, v, K)."""
    rows = set(table) | ({()} if allow_constant else set())
    cols = {c for r in table for c in table[r]} | ({()} if allow_constant else set())
    pivot = None
    for r in sorted(rows, key=repr):
        for c in sorted(cols, key=repr):
            if r != () and c != () and table.get(r, {}).get(c, 0) != 0:
                pivot = (r, c)
                break
        if pivot:
            break
    if pivot is None:
        return None
    pr, pc = pivot
    p = table[pr][pc]
    shift = Fraction(0)
    if allow_constant:
        m00 = table.get((), {}).get((), Fraction(0))
        shift = m00 - table.get((), {}).get(pc, Fraction(0)) * table[pr].get((), Fraction(0)) / p

    def entry(r: Monomial, c: Monomial) -> Fraction:
        value = table.get(r, {}).get(c, Fraction(0))
        return value - shift if r == () and c == () else value

    for r in rows:
        for c in cols:
            if entry(r, c) * p != entry(r, pc) * entry(pr, c):
                return None
    column = {r: entry(r, pc) for r in rows if entry(r, pc) != 0}
    den = 1
    for frac in column.values():
        den = lcm(den, frac.denominator)
    ints = {r: int(frac * den) for r, frac in column.items()}
    g = 0
    for whole in ints.values():
        g = gcd(g, whole)
    u = {r: x // g for r, x in ints.items()}
    v = {c: entry(pr, c) / u[pr] for c in cols if entry(pr, c) != 0}
    return u, v, shift


def signed_factorisations(target: int, parts: int, *, limit: int = 200_000
                          ) -> list[tuple[int, ...]]:
    """Every ordered tuple of ``parts`` integers whose product is ``target`` (nonzero).

    Raises :class:`OverflowError` when there would be more than ``limit`` tuples.
    """
    if target == 0:
        raise ValueError("target must be nonzero")
    count = 2 ** (parts - 1)
    for _, e in sympy.factorint(abs(target)).items():
        count *= _binomial(e + parts - 1, parts - 1)
        if count > limit:
            raise OverflowError(f"{target} has more than {limit} signed factorisations "
                                f"into {parts} factors")
    return _factorisations(target, parts)


def _binomial(n: int, k: int) -> int:
    return comb(n, k)


def _factorisations(target: int, parts: int) -> list[tuple[int, ...]]:
    if parts == 1:
        return [(target,)]
    out: list[tuple[int, ...]] = []
    for d in sympy.divisors(abs(target)):
        for sign in (1, -1):
            first = sign * int(d)
            for tail in _factorisations(target // first, parts - 1):
                out.append((first, *tail))
    out.sort(key=lambda t: (any(x < 0 for x in t), t))
    return out
