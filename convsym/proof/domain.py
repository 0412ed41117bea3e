"""Rung 0 of the ladder: make every symbol's domain explicit and read the assumptions.

Every symbol is an integer ``>= 1`` unless an assumption gives it another lower bound
(``p >= 0``).  Such an assumption must be a plain linear bound on one symbol; it *widens*
the domain.  Any other assumption (``n >= k``, ``n % 2 == 0``, ``k <= 7``) only restricts it.

Widening needs care: the parser makes every name a positive symbol, and SymPy simplifies on
the spot using that (``abs(p - 1)`` becomes ``p - 1``).  So text that mentions a widened name
is parsed again with the name written as ``(p_ - 1)`` for a fresh positive ``p_`` (exactly
``p >= 0``) and then ``p_`` is replaced by ``p + 1`` for a non-negative ``p``: every
simplification SymPy makes is then true on the whole domain.  A SymPy object cannot be parsed
again, so its symbols must already be declared no narrower than their domain.

>>> lower_bound(parse_relation("2*p + 1 >= 1"))
('p', 0, None)
>>> lower_bound(parse_relation("n <= 7"))
('n', None, 7)
>>> shift_text("abs(p - 1) + p_", {"p": (1, -1)})
('abs((1*p__ + (-1)) - 1) + p_', {'p': 'p__'})
"""

from __future__ import annotations

import io
import math
import tokenize
from collections.abc import Mapping

import sympy
from sympy.core.relational import Relational

from convsym.errors import ExpressionError
from convsym.expr import parse_relation, symbol

_INT_SYMBOLS: dict[str, sympy.Symbol] = {}
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def typed_symbol(name: str, lo: int | None) -> sympy.Symbol:
    """The symbol whose SymPy assumptions say exactly what the domain ``>= lo`` allows.

    >>> typed_symbol("p", 0).is_nonnegative, typed_symbol("p", 0).is_positive
    (True, None)
    """
    if lo is not None and lo >= 1:
        return symbol(name)
    if lo == 0:
        return symbol(name, nonnegative=True)
    found = _INT_SYMBOLS.get(name)
    if found is None:
        found = _INT_SYMBOLS.setdefault(name, sympy.Symbol(name, integer=True))
    return found


def linear(expr: sympy.Expr) -> tuple[dict[sympy.Symbol, int], int] | None:
    """``expr`` as integer coefficients and a constant, scaled by a positive integer so
    every number is whole; None when it is not linear in its symbols.

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


def shift_text(text: str, shifts: Mapping[str, tuple[int, int]]
               ) -> tuple[str, dict[str, str]]:
    """Rewrite each name ``x`` in ``shifts`` as ``(a*x_ + (b))`` for ``(a, b) = shifts[x]``;
    returns the text and the fresh names.  Names followed by ``(`` (calls) are left alone.

    >>> shift_text("q + 1", {"q": (-1, -2)})[0]
    '(-1*q_ + (-2)) + 1'
    """
    tokens = _tokens(text)
    names = {t.string for t in tokens if t.type == tokenize.NAME}
    fresh: dict[str, str] = {}
    for name in shifts:
        new = name + "_"
        while new in names or new in fresh.values() or new.startswith("__"):
            new += "_"
        fresh[name] = new
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    edits: list[tuple[int, int, str]] = []
    for i in _variables(tokens):
        t = tokens[i]
        if t.string not in shifts:
            continue
        begin = starts[t.start[0] - 1] + t.start[1]
        end = starts[t.end[0] - 1] + t.end[1]
        a, b = shifts[t.string]
        edits.append((begin, end, f"({a}*{fresh[t.string]} + ({b}))"))
    for begin, end, new_text in sorted(edits, reverse=True):
        text = text[:begin] + new_text + text[end:]
    return text, fresh


def read_relation(value: object, lows: Mapping[str, int | None],
                  highs: Mapping[str, int | None], field: str) -> Relational:
    """Parse one relation so that every symbol ``x`` has SymPy assumptions matching
    ``x >= lows[x]`` (1 when absent; None: no lower bound, then ``x <= highs[x]``); see the
    module docstring."""
    if isinstance(value, str):
        rel = parse_relation(value, field=field)
        widened: dict[str, tuple[int, int]] = {}
        back_to: dict[str, sympy.Expr] = {}
        # names from the text, not from the parse: SymPy may have cancelled a name using
        # its positivity (abs(p) - p is 0 for a positive p)
        for name in text_names(value):
            lo = lows.get(name, 1)
            x = typed_symbol(name, lo)
            if lo is None:  # x = K - x_ with x_ >= 1 is exactly x <= K - 1
                k = (highs.get(name) or 0) + 1
                widened[name], back_to[name] = (-1, k), k - x
            elif lo < 1:  # x = x_ + lo - 1 with x_ >= 1 is exactly x >= lo
                widened[name], back_to[name] = (1, lo - 1), x + 1 - lo
        if widened:
            text, fresh = shift_text(value, widened)
            rel = parse_relation(text, field=field)
            return _rebuild(rel, {symbol(fresh[n]): back_to[n] for n in widened})
        return rel
    from convsym.expr import as_relation

    rel = as_relation(value, field=field)
    mapping: dict[sympy.Symbol, sympy.Symbol] = {}
    for s in rel.free_symbols:
        if not isinstance(s, sympy.Symbol):
            continue
        lo = lows.get(s.name, 0 if s.is_nonnegative and not s.is_positive else 1)
        narrower = (s.is_positive and (lo is None or lo < 1)) or \
            (s.is_nonnegative and (lo is None or lo < 0))
        # a bound like Ge(p, 0) is how one widens a domain; anything else built with a
        # narrower symbol may already have been simplified (Abs(p - 1) -> p - 1)
        bound = field != "statement" and plain(rel) and lower_bound(rel) is not None
        if (narrower and not bound) or s.is_integer is False or \
                s.is_nonnegative is False:
            declared = "positive" if s.is_positive else ("non-negative" if s.is_nonnegative
                                                          else "not a non-negative integer")
            raise ExpressionError(
                f"{field}: symbol {s.name} was created {declared}, but its domain here is "
                f"{s.name} >= {lo}; SymPy may already have simplified the expression using "
                f"the narrower declaration. Pass the statement as text, or build it with "
                f"convsym.symbol({s.name!r}, nonnegative=True)", code="symbol_domain")
        mapping[s] = typed_symbol(s.name, lo)
    return _rebuild(rel, mapping)


def plain(rel: Relational) -> bool:
    """Only +, *, integer powers, numbers and symbols: SymPy cannot have used signs."""
    for node in sympy.preorder_traversal(rel.lhs - rel.rhs):
        if not isinstance(node, (sympy.Add, sympy.Mul, sympy.Pow, sympy.Rational,
                                 sympy.Symbol)):
            return False
    return True


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


def _rebuild(rel: Relational, mapping: Mapping[sympy.Symbol, sympy.Expr]) -> Relational:
    lhs = substitute(rel.lhs, mapping)
    rhs = substitute(rel.rhs, mapping)
    out: Relational = sympy.Rel(lhs, rhs, rel.rel_op, evaluate=False)
    return out


def default_low(values: list[object]) -> dict[str, int]:
    """Lower bounds declared by SymPy symbols themselves (``nonnegative=True`` means 0)."""
    out: dict[str, int] = {}
    for value in values:
        if isinstance(value, sympy.Basic):
            for s in value.free_symbols:
                if isinstance(s, sympy.Symbol) and s.is_nonnegative and not s.is_positive:
                    out[s.name] = 0
    return out
