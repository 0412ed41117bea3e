"""Domains: the integers each symbol ranges over, and reading text on exactly that domain.

Every symbol is an integer.  Its domain is ``x >= 1`` (sizes, strides, kernels) unless a
bound or an assumption gives it another lower end (``p >= 0``, ``q >= -5``), or an upper end
below 1 and no lower end (``q <= 0``: any integer up to 0).  A SymPy symbol passed in keeps
the lower end it declares (positive: 1; nonnegative: 0); other SymPy assumptions are refused
(:func:`convsym.expr.unmodeled`).

SymPy simplifies while it builds an expression, using the symbols' assumptions: for a
positive ``p``, ``abs(p)`` *is* ``p`` and ``floor(p/(p + 1))`` *is* 0.  So a text is never
decided in a parse made under a stronger assumption than its domain:

1. :func:`neutral_relation` reads it with every name an integer of unknown sign (nothing
   SymPy does there depends on a sign), which is where bounds are read from;
2. :func:`relation_on` reads it again with :func:`domain_symbol`, whose assumptions are
   exactly what the domain allows (or weaker), and that parse is what gets decided.

>>> neutral_relation("abs(p) >= 2")
Abs(p) >= 2
>>> relation_on("abs(p) >= 2", {"p": 1}), relation_on("abs(p) >= 2", {"p": -5})
(p >= 2, Abs(p) >= 2)
>>> relation_on("floor(q/(q + 1)) == 0", {"q": 0})
Eq(floor(q/(q + 1)), 0)
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy
from sympy.core.relational import Relational

from convsym.errors import ExpressionError
from convsym.expr import parse_relation, symbol

__all__ = ["DEFAULT_LOW", "check_declared", "declared_low", "domain_symbol", "neutral"]
__all__ += ["neutral_relation", "relation_on", "substitute"]

DEFAULT_LOW = 1
"""The lower end of a symbol's domain when nothing says otherwise."""

_NEUTRAL: dict[str, sympy.Symbol] = {}


def neutral(name: str) -> sympy.Symbol:
    """The integer symbol with no sign: SymPy can simplify nothing with a sign.

    >>> neutral("p").is_integer, neutral("p").is_nonnegative
    (True, None)
    """
    found = _NEUTRAL.get(name)
    if found is None:
        symbol(name)  # validates the name
        found = _NEUTRAL.setdefault(name, sympy.Symbol(name, integer=True))
    return found


def domain_symbol(name: str, lo: int | None) -> sympy.Symbol:
    """The symbol whose assumptions say what the domain ``x >= lo`` allows, or less.

    >>> domain_symbol("p", 0).is_nonnegative, domain_symbol("p", 0).is_positive
    (True, None)
    >>> domain_symbol("q", -3) is neutral("q")
    True
    """
    if lo is not None and lo >= 1:
        return symbol(name)
    if lo == 0:
        return symbol(name, nonnegative=True)
    return neutral(name)


def declared_low(sym: sympy.Symbol) -> int | None:
    """The lower end a SymPy symbol declares: 1 if positive, 0 if nonnegative, else None."""
    if sym.is_positive:
        return 1
    return 0 if sym.is_nonnegative else None


def neutral_relation(text: str, field: str = "condition") -> Relational:
    """``text`` parsed with every name a :func:`neutral` symbol."""
    return parse_relation(text, field=field, symbols=neutral)


def relation_on(text: str, lows: Mapping[str, int | None], field: str = "condition"
                ) -> Relational:
    """``text`` parsed with each name ``x`` the :func:`domain_symbol` of ``lows[x]``
    (:data:`DEFAULT_LOW` when absent; None: no lower end)."""
    return parse_relation(text, field=field,
                          symbols=lambda name: domain_symbol(name, lows.get(name, DEFAULT_LOW)))


def check_declared(rel: sympy.Basic, lows: Mapping[str, int | None], field: str) -> None:
    """Refuse a SymPy value whose symbols declare more than their domain allows.

    SymPy may already have simplified it with the declaration (``Abs(p - 1)`` is ``p - 1``
    for a positive ``p``), so it cannot be decided on a wider domain.
    """
    for s in sorted(rel.free_symbols, key=lambda x: x.name):
        if not isinstance(s, sympy.Symbol):
            continue
        declared, lo = declared_low(s), lows.get(s.name, DEFAULT_LOW)
        if declared is not None and (lo is None or lo < declared):
            kind = "positive" if declared == 1 else "non-negative"
            where = f"{s.name} >= {lo}" if lo is not None else f"{s.name} has no lower end"
            raise ExpressionError(
                f"{field}: symbol {s.name} was created {kind}, but its domain here is "
                f"wider ({where}); SymPy may already have simplified the expression using the "
                f"narrower declaration. Pass it as text, or build it with "
                f"sympy.Symbol({s.name!r}, integer=True)", code="symbol_domain")


_KEEP = (sympy.floor, sympy.ceiling, sympy.Mod, sympy.Min, sympy.Max, sympy.Abs)


def substitute(expr: sympy.Expr, mapping: Mapping[sympy.Symbol, sympy.Expr]) -> sympy.Expr:
    """``expr`` with symbols replaced, rebuilding floor, ceiling, Mod, Min, Max and Abs
    *unevaluated*.

    ``xreplace`` re-evaluates every rebuilt node, and SymPy 1.14's ``Mod.eval`` is wrong on
    ``Mod(2*Mod(n, 7), 3)``: it returns ``Mod(2*Mod(n, 7)**2, 3)``, a different function.
    Sums, products and powers are still simplified (that is plain algebra).

    >>> n, k = symbol("n"), symbol("k")
    >>> substitute(sympy.Mod(2 * sympy.Mod(n, 7, evaluate=False), 3, evaluate=False),
    ...            {n: k + 1})
    Mod(2*(Mod(k + 1, 7)), 3)
    """
    if not mapping:
        return expr
    done: dict[sympy.Basic, sympy.Basic] = {}
    stack: list[tuple[sympy.Basic, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in done:
            continue
        if node in mapping:
            done[node] = mapping[node]
            continue
        if node.is_Atom:
            done[node] = node
            continue
        if not ready:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args)
            continue
        args = [done[a] for a in node.args]
        if all(a is b for a, b in zip(args, node.args)):
            done[node] = node
        elif isinstance(node, _KEEP) and not all(a.is_Number for a in args):
            done[node] = node.func(*args, evaluate=False)
        else:
            done[node] = node.func(*args)
    result: sympy.Expr = done[expr]
    return result


def rebuild(rel: Relational, mapping: Mapping[sympy.Symbol, sympy.Expr]) -> Relational:
    """``rel`` with symbols replaced (see :func:`substitute`), left unevaluated."""
    out: Relational = sympy.Rel(substitute(rel.lhs, mapping), substitute(rel.rhs, mapping),
                                rel.rel_op, evaluate=False)
    return out
