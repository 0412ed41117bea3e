"""Rung 0 of the ladder: make every symbol's domain explicit and read the assumptions.

Every symbol is an integer ``>= 1`` unless an assumption gives it another lower bound
(``p >= 0``).  Such an assumption must be a plain linear bound on one symbol; it *widens*
the domain.  Any other assumption (``n >= k``, ``n % 2 == 0``, ``k <= 7``) only restricts it.

Bounds are read from a parse where every name is an integer of unknown sign
(:func:`convsym.domains.neutral_relation`): read from the usual positive parse,
``abs(p) >= 2`` would already be ``p >= 2``, a bound it is not.  The text is then read again
on its domain (:func:`convsym.domains.relation_on`); see :mod:`convsym.domains`.

>>> from convsym.expr import parse_relation
>>> lower_bound(parse_relation("2*p + 1 >= 1"))
('p', 0, None)
>>> lower_bound(parse_relation("n <= 7"))
('n', None, 7)
"""

from __future__ import annotations

import io
import math
import tokenize
from collections.abc import Mapping

import sympy
from sympy.core.relational import Relational

from convsym.domains import (
    check_declared,
    declared_low,
    domain_symbol,
    rebuild,
    relation_on,
    substitute,
)
from convsym.errors import ExpressionError
from convsym.expr import as_relation

__all__ = ["default_low", "linear", "lower_bound", "plain", "read_relation", "substitute"]
__all__ += ["text_names", "typed_symbol"]

typed_symbol = domain_symbol
"""The symbol for the domain ``>= lo`` (see :func:`convsym.domains.domain_symbol`)."""

_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def linear(expr: sympy.Expr) -> tuple[dict[sympy.Symbol, int], int] | None:
    """``expr`` as integer coefficients and a constant, scaled by a positive integer so
    every number is whole; None when it is not linear in its symbols.

    >>> from convsym.expr import symbol
    >>> linear(sympy.Rational(1, 2) * symbol("n") - 3)
    ({n: 1}, -6)
    """
    expr = sympy.expand(expr)
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    try:
        poly = sympy.Poly(expr, *syms) if syms else None
    except sympy.PolynomialError:
        return None
    if poly is None:
        if not isinstance(expr, sympy.Rational):
            return None
        coeffs: dict[sympy.Symbol, sympy.Rational] = {}
        const = expr
    else:
        if poly.total_degree() > 1:
            return None
        coeffs = {}
        const = sympy.Integer(0)
        for monom, c in poly.terms():
            if not isinstance(c, sympy.Rational):
                return None
            if sum(monom) == 0:
                const = c
            else:
                coeffs[syms[monom.index(1)]] = c
    scale = math.lcm(*(int(c.q) for c in [*coeffs.values(), const]))
    return ({s: int(c * scale) for s, c in coeffs.items() if c}, int(const * scale))


def lower_bound(rel: Relational) -> tuple[str, int | None, int | None] | None:
    """``(name, lowest, highest)`` when ``rel`` bounds one symbol linearly, else None."""
    op = rel.rel_op
    if op == "!=":
        return None
    form = linear(rel.lhs - rel.rhs)
    if form is None or len(form[0]) != 1:
        return None
    ((sym, a), c) = next(iter(form[0].items())), form[1]
    if a < 0:
        a, c, op = -a, -c, _FLIP[op]
    # a*x + c (op) 0 with a > 0
    lo: int | None = None
    hi: int | None = None
    if op in (">=", "==", ">"):
        lo = -(c // a) if op != ">" else (-c) // a + 1
    if op in ("<=", "==", "<"):
        hi = (-c) // a if op != "<" else -(c // a) - 1
    return sym.name, lo, hi  # lo > hi when there is no integer solution


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as err:
        raise ExpressionError(f"cannot read {text!r}: {err}", code="syntax") from None


def _variables(tokens: list[tokenize.TokenInfo]) -> list[int]:
    """Indices of the NAME tokens that are variables (not followed by ``(``)."""
    out = []
    for i, t in enumerate(tokens):
        if t.type != tokenize.NAME:
            continue
        following = next((u for u in tokens[i + 1:] if u.type not in
                          (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)), None)
        if following is None or following.string != "(":
            out.append(i)
    return out


def text_names(text: str) -> set[str]:
    """The variable names written in ``text`` (whatever SymPy later cancels).

    >>> sorted(text_names("abs(p) - p + floor(n/2)"))
    ['n', 'p']
    """
    tokens = _tokens(text)
    return {tokens[i].string for i in _variables(tokens)}


def plain(rel: Relational) -> bool:
    """Only +, *, integer powers, numbers and symbols: SymPy cannot have used signs."""
    for node in sympy.preorder_traversal(rel.lhs - rel.rhs):
        if not isinstance(node, (sympy.Add, sympy.Mul, sympy.Pow, sympy.Rational,
                                 sympy.Symbol)):
            return False
    return True


def read_relation(value: object, lows: Mapping[str, int | None], field: str) -> Relational:
    """The relation to decide: text parsed on its domain (``x >= lows[x]``, 1 when absent,
    None: no lower end); a SymPy relation with its symbols swapped for the domain's, refused
    when one declares a narrower domain (:func:`convsym.domains.check_declared`)."""
    if isinstance(value, str):
        return relation_on(value, lows, field)

    rel = as_relation(value, field=field)
    check_declared(rel, lows, field)
    mapping = {s: domain_symbol(s.name, lows.get(s.name, 1)) for s in rel.free_symbols
               if isinstance(s, sympy.Symbol)}
    return rebuild(rel, mapping)


def default_low(values: list[object]) -> dict[str, int]:
    """Lower bounds declared by SymPy symbols themselves (positive: 1, nonnegative: 0)."""
    out: dict[str, int] = {}
    for value in values:
        if isinstance(value, sympy.Basic):
            for s in value.free_symbols:
                low = declared_low(s) if isinstance(s, sympy.Symbol) else None
                if low is not None:
                    out[s.name] = max(low, out.get(s.name, low))
    return out
