"""A SymPy sum of many terms, as ``sympy.Add`` makes it, without its hash collisions.

``Add.flatten`` collects like terms in a dict keyed by each term without its coefficient.
SymPy hashes a rational as Python does, modulo the Mersenne prime ``2**61 - 1``, where the
powers of two repeat every 61 exponents: the MACs of row ``i`` of a stride-2 stack,
``144*ceiling(H/2**i)*ceiling(W/2**i)``, hash as row ``i + 61``'s do, and each new term is
compared with every earlier one of its class.  A network's total MACs (one term per row)
thus cost time quadratic in the depth: 8,000 failed comparisons at 1,000 layers.
:func:`total` collects the terms in the same way under a hash that also counts the bit
lengths of the first numbers of each term, then builds the sum as ``Add`` does: like terms
collected, SymPy's canonical order, the constant first.  Terms of kinds whose addition
SymPy treats specially (nested sums, other numbers than rationals, non-commutative terms,
anything but products, symbols, powers and functions) are left to ``sympy.Add`` itself.

>>> H, W = sympy.symbols("H W", positive=True, integer=True)
>>> rows = [144*sympy.ceiling(H/2**i)*sympy.ceiling(W/2**i) for i in range(1, 130)]
>>> total(rows + [16*H*W, 2*H*W, sympy.Integer(7)]) == sympy.Add(*rows, 16*H*W, 2*H*W, 7)
True
>>> total([H, -H]), total([]), total([sympy.Integer(3), H])
(0, 0, H + 3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cmp_to_key

import sympy
from sympy.core.cache import cacheit
from sympy.core.parameters import global_parameters

from convsym import deep

__all__ = ["total"]

_ORDER = cmp_to_key(deep.compare)  # Add's canonical order of its terms (Basic.compare)
_SPREAD_NODES = 64


class _Key:
    """A term without its coefficient, as a dict key: SymPy's equality, a wider hash."""

    __slots__ = ("expr", "_hash")

    def __init__(self, expr: sympy.Expr) -> None:
        self.expr = expr
        self._hash = hash((hash(expr), _spread(expr)))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        # (iterative: a size nested a thousand floors deep passes Python's recursion limit)
        return isinstance(other, _Key) and deep.equal(self.expr, other.expr)


def _spread(expr: sympy.Basic) -> int:
    """The bit lengths of the rationals among the first nodes of ``expr`` (breadth first),
    summed: a function of the structure, so equal terms agree, and bounded in time."""
    spread = 0
    queue = [expr]
    for node in queue:  # (the list grows while it is read: breadth first)
        if node.is_Rational:
            spread += node.p.bit_length() + node.q.bit_length()
        elif len(queue) < _SPREAD_NODES:
            queue.extend(node.args)
    return spread


def _simple(term: sympy.Basic) -> bool:
    """True when ``Add.flatten`` does nothing to ``term`` but collect it: a commutative
    product, symbol, function or power with a base that is not a number."""
    if not isinstance(term, sympy.Expr) or term.is_Add or term.is_Number or \
            getattr(term, "is_Order", False) or deep.commutative(term) is not True:
        return False
    if term.is_Pow:
        return not term.base.is_Number
    return bool(term.is_Mul or term.is_Symbol or term.is_Function)


def total(items: Sequence[sympy.Expr]) -> sympy.Expr:
    """``sympy.Add(*items)``, collected under a hash that does not collide on powers of two
    (see the module doc); the same expression."""
    if not global_parameters.evaluate:
        return sympy.Add(*items)  # (inside ``sympy.evaluate(False)``: Add leaves it unevaluated)
    return _cached(*items)


def _collect(*items: sympy.Expr) -> sympy.Expr:
    """:func:`total`, uncached."""
    coeff: sympy.Expr = sympy.S.Zero
    terms: dict[_Key, sympy.Expr] = {}
    for item in items:
        if not isinstance(item, sympy.Basic):
            return sympy.Add(*items)  # (a Python number: SymPy's own conversion)
        if item.is_Rational:
            coeff += item
            continue
        if not _simple(item):
            return sympy.Add(*items)
        c, rest = item.as_coeff_Mul() if item.is_Mul else (sympy.S.One, item)
        if not c.is_Rational:
            return sympy.Add(*items)  # (a float coefficient: SymPy's own arithmetic)
        key = _Key(rest)
        known = terms.get(key)
        terms[key] = c if known is None else known + c
    parts = []
    for key, c in terms.items():  # as Add.flatten rebuilds each collected term
        rest = key.expr
        if c.is_zero:
            continue
        if c is sympy.S.One:
            parts.append(rest)
        elif rest.is_Mul:
            parts.append(rest._new_rawargs(c, *rest.args))
        elif rest.is_Add:
            parts.append(sympy.Mul(c, rest, evaluate=False))
        else:
            parts.append(sympy.Mul(c, rest))
    parts.sort(key=_ORDER)
    if coeff is not sympy.S.Zero:
        parts.insert(0, coeff)
    if not parts:
        return sympy.S.Zero
    if len(parts) == 1:
        return parts[0]
    made = sympy.Add._from_args(parts, True)
    return sympy.Add._exec_constructor_postprocessors(made)


_cached: Callable[..., sympy.Expr] = cacheit(_collect)
"""In SymPy's cache, as ``Add``'s results are: a warm summary finds its totals there, and a
first run, with the cache cleared, does not."""
