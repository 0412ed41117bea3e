"""Size helpers on the algebra: sums and products with Min/Max, agreement, tidy display forms.

Everything here works on canonical sizes (:class:`~convsym.intdiv.QPoly`, or a Min/Max
``Ext`` of them) and knows nothing of layers, so the closed forms (:mod:`convsym.formulas`)
and the layers both build on it.

>>> from convsym.expr import symbol
>>> n = QPoly.sym(symbol("n"))
>>> to_sympy(add_sizes(n, mul_sizes(n, QPoly.const(2))))
3*n
>>> agreement(n + QPoly.const(1), QPoly.const(1) + n).verdict
'always'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sympy

from convsym.budget import Budgets
from convsym.budget import current as current_budgets
from convsym.intdiv import (
    EXPAND_AT_ONCE,
    Ext,
    Floor,
    NotQuasiPolynomial,
    QExpr,
    QPoly,
    add,
    as_int,
    diff_bounds,
    directions,
    evaluate,
    ext,
    free_symbols,
    kept_factored,
    product,
    scale,
    to_sympy,  # noqa: F401  (the doctests print with it)
    uniform_value,
    within_budgets,
)
from convsym.period import decide_eq, decide_nonneg


def mul_sizes(*factors: QExpr) -> QExpr:
    """The product of non-negative sizes, Min/Max allowed (``min(a, b) c = min(ac, bc)``).

    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> to_sympy(mul_sizes(n, QPoly.const(3), n))
    3*n**2

    Products of plain polynomials are remembered (:data:`_PRODUCTS`): a layer's output
    area, its MACs and the next layers' operation counts multiply the same sizes again.
    """
    if all(type(f) is QPoly and f.factors is None for f in factors):
        # (a product kept factored is no key: hashing it would expand it)
        known = _PRODUCTS.get(factors)  # type: ignore[arg-type]
        if known is None:
            if len(_PRODUCTS) >= _PRODUCTS_HELD:
                _PRODUCTS.clear()
            known = _PRODUCTS[factors] = _multiply(factors)  # type: ignore[index]
        return known
    return _multiply(factors)


class Product:
    """``mul_sizes(mul_sizes(*inner), *outer)``, not multiplied out yet: a layer's MACs,
    its output area times its kernel and channels, are read by summaries and cost tables,
    not by building the network (see :func:`product_later`).

    >>> from convsym.expr import symbol
    >>> h, w = (QPoly.sym(symbol(x)) for x in "hw")
    >>> to_sympy(Product((h, w), (QPoly.const(9),)).value())
    9*h*w
    """

    __slots__ = ("inner", "outer")

    def __init__(self, inner: tuple[QExpr, ...], outer: tuple[QExpr, ...]) -> None:
        self.inner = inner
        self.outer = outer

    def value(self) -> QExpr:
        """The product, multiplied out as it would have been at once."""
        return mul_sizes(mul_sizes(*self.inner), *self.outer)

    def __reduce__(self) -> tuple[object, ...]:
        return Product, (self.inner, self.outer)


def product_later(inner: tuple[QExpr, ...], outer: tuple[QExpr, ...]) -> QExpr | Product:
    """``mul_sizes(mul_sizes(*inner), *outer)``: as a :class:`Product` to multiply out when
    read, where that surely stays within the budgets in force and is small
    (:func:`~convsym.intdiv.within_budgets`), or surely kept factored within them
    (:func:`~convsym.intdiv.kept_factored`): it cannot fail later for lack of them; else
    multiplied out now, where a budget it exceeds is reported by the layer that asked.
    """
    later = Product(inner, outer)
    if within_budgets((*inner, *outer)) or kept_factored(inner, outer):
        return later
    return later.value()


_PRODUCTS: dict[tuple[QPoly, ...], QExpr] = {}
"""Products of plain polynomials by their factors (equal canonical forms, equal products);
at most :data:`_PRODUCTS_HELD`, then started afresh."""

_PRODUCTS_HELD = 4096


def _multiply(factors: tuple[QExpr, ...]) -> QExpr:
    const = 1
    rest: list[QExpr] = []
    for f in factors:  # multiply the constant factors as integers first (most of them)
        value = f.as_int() if isinstance(f, QPoly) else None
        if value is None:
            rest.append(f)
        else:
            const *= value
    if len(rest) == 1:
        only = rest[0]
        if type(only) is QPoly and only.factors is None:
            # one size times constants (a layer's MACs and bias MACs from its area): what
            # product() comes to, each coefficient scaled, without its generic passes
            if const == 1:
                return only
            return QPoly._raw({m: c * const for m, c in only.terms.items()} if const else {})
    if len(rest) == 2 and const == 1:
        a, b = rest
        if type(a) is QPoly and type(b) is QPoly and a.factors is None and \
                b.factors is None and len(a.terms) > 1 and len(b.terms) > 1 and \
                len(a.terms) * len(b.terms) <= EXPAND_AT_ONCE:
            # two short sums (a layer's output area): product() expands them as a * b
            return a * b
    singles = [f for f in rest if type(f) is QPoly and f.factors is None and len(f.terms) == 1]
    if const and len(singles) == len(rest) > 1:
        # single terms times constants (an area of floors, the operations over it): one
        # term, as product() makes it, without multiplying through a unit scalar first
        first = singles[0]
        term = first if const == 1 else \
            QPoly._raw({m: c * const for m, c in first.terms.items()})
        for f in singles[1:]:
            term = term * f  # (one term by one term: the exponent budget is checked)
        return term
    # sums are kept factored when expanding them would be large (intdiv.product)
    total: QExpr = product([QPoly.const(const), *(f for f in rest if isinstance(f, QPoly))])
    for f in rest:
        if isinstance(f, Ext):
            total = _mul2(total, f)
    return total


def add_sizes(*terms: QExpr) -> QExpr:
    """The sum of sizes, Min/Max allowed (``min(a, b) + c = min(a + c, b + c)``).

    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> to_sympy(add_sizes(ext("min", [n, QPoly.const(4)]), ext("max", [n, QPoly.const(2)])))
    Min(Max(6, n + 4), Max(2*n, n + 2))
    """
    total: QExpr = QPoly.const(0)
    for t in terms:
        total = _add2(total, t)
    return total


def _add2(a: QExpr, b: QExpr) -> QExpr:
    if isinstance(a, QPoly) and isinstance(b, QPoly):
        return a + b
    if isinstance(a, Ext):
        return ext(a.kind, (_add2(x, b) for x in a.args))
    assert isinstance(b, Ext)
    return ext(b.kind, (_add2(a, x) for x in b.args))


def _mul2(a: QExpr, b: QExpr) -> QExpr:
    if isinstance(a, QPoly) and isinstance(b, QPoly):
        return a * b
    if isinstance(a, Ext):
        return ext(a.kind, (_mul2(x, b) for x in a.args))
    assert isinstance(b, Ext)
    return ext(b.kind, (_mul2(a, x) for x in b.args))


@dataclass(frozen=True)
class Agreement:
    """The verdict on ``a == b`` and, unless always, a point where they differ."""

    verdict: str
    counterexample: dict[sympy.Symbol, int] = field(default_factory=dict)
    values: tuple[int, int] | None = None
    reason: str = ""


def difference(a: QExpr, b: QExpr) -> QExpr:
    """``a - b`` for sizes, Min/Max allowed on both sides (addition distributes over them)."""
    if isinstance(a, QPoly) and isinstance(b, QPoly):
        return a - b  # (what the sum below comes to for two polynomials, in one pass)
    return add_sizes(a, negate(b))


def negate(e: QExpr) -> QExpr:
    """``-e``; Min becomes Max."""
    if isinstance(e, Ext):
        return ext("max" if e.kind == "min" else "min", (negate(x) for x in e.args))
    return scale(e, QPoly.const(-1))


def agreement(a: QExpr, b: QExpr, *, witness: bool = True, diff: QExpr | None = None
              ) -> Agreement:
    """Decide ``a == b`` over all positive integer values of the symbols.

    With ``witness=False`` a "sometimes" may come without its point: when two sampled
    points already show the sides equal at one and different at the other, neither
    "always" nor "never" can hold, and the period checks that would find the first
    counterexample in the box are skipped (a caller that keeps the equation as a condition
    needs no point; a U-Net's every skip connection asks this per axis).  ``diff`` is
    ``difference(a, b)`` when the caller has made it already.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import floordiv
    >>> h = QPoly.sym(symbol("H"))
    >>> enc, dec = floordiv(h, QPoly.const(4)), QPoly.const(2) * floordiv(h, QPoly.const(8))
    >>> agreement(enc, dec).counterexample, agreement(enc, dec, witness=False).verdict
    ({H: 4}, 'sometimes')
    """
    if a == b:
        return Agreement("always", reason="identical canonical forms")
    ai, bi = as_int(a), as_int(b)
    if ai is not None and bi is not None:
        return Agreement("always" if ai == bi else "never", {}, (ai, bi), "constants")
    if diff is None:
        diff = difference(a, b)
    if isinstance(diff, QPoly) and not diff.terms:
        return Agreement("always", reason="the difference simplifies to 0")
    if not witness and zero_and_nonzero(diff):
        return Agreement("sometimes", reason="equal at one sampled point, not at another")
    for bigger in (diff, negate(diff)):
        if decide_nonneg(add_one(bigger, -1)).holds:
            point = _lowest_point(a, b)
            return Agreement("never", point, _values(a, b, point),
                             "one side is always larger")
    decision = decide_eq(a, b)
    if decision.holds is True:
        return Agreement("always", reason=decision.reason)
    if decision.holds is False:
        point = dict(decision.counterexample)
        return Agreement("sometimes", point, _values(a, b, point), decision.reason)
    return Agreement("unknown", reason=decision.reason)


def add_one(e: QExpr, c: int) -> QExpr:
    """``e + c``."""
    return add(e, QPoly.const(c))


def _lowest_point(a: QExpr, b: QExpr) -> dict[sympy.Symbol, int]:
    """The smallest ``t`` (all symbols = t) at which both sizes are positive, to show."""
    syms = sorted(free_symbols(a) | free_symbols(b), key=lambda s: s.name)
    for t in range(1, 1025):
        point = {s: t for s in syms}
        values = _values(a, b, point)
        if values is not None and min(values) >= 1:
            return point
    return {s: 1 if s.is_positive else 0 for s in syms}


def _values(a: QExpr, b: QExpr, point: dict[sympy.Symbol, int]) -> tuple[int, int] | None:
    try:
        return evaluate(a, point), evaluate(b, point)
    except (KeyError, ZeroDivisionError):
        return None


def show_point(point: dict[sympy.Symbol, int]) -> str:
    """``H = 10, W = 3``."""
    return ", ".join(f"{k} = {v}" for k, v in sorted(point.items(), key=lambda kv: kv[0].name))


SETTLE_BUDGET = 4096
"""Period-box points :func:`settle` may spend per decision: it only tidies the display, so it
gives up early on deep stacks (the value is the same either way)."""


def settle(e: QExpr) -> QExpr:
    """``e`` simplified where the period check proves it: a constant, or a Min/Max without
    the arguments that never win.  Display only; the value is unchanged.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import ceildiv, floordiv, to_sympy
    >>> n = QPoly.sym(symbol("n"))
    >>> two = QPoly.const(2)
    >>> to_sympy(settle(ceildiv(n, two) + floordiv(n, two) - n + QPoly.const(1)))
    1
    >>> to_sympy(settle(ext("max", [QPoly.const(0), two * ceildiv(n, two) - n])))
    -n + 2*ceiling(n/2)
    """
    if isinstance(e, Ext):
        args = [settle(a) for a in e.args]
        kept = []
        for i, a in enumerate(args):
            beaten = False
            for j, b in enumerate(args):
                if i == j or (j < i and a == b):
                    continue
                loser = difference(b, a) if e.kind == "max" else difference(a, b)
                if _nonneg(loser) and (j < i or _nonneg(negate(loser)) is not True):
                    beaten = True
                    break
            if not beaten:
                kept.append(a)
        return ext(e.kind, kept or args[:1])
    if not free_symbols(e) or not e.floors():
        return e
    point = {s: 1 if s.is_positive else 0 for s in free_symbols(e)}
    try:
        value = QPoly.const(evaluate(e, point))
    except (KeyError, ZeroDivisionError):
        return e
    lo, hi = diff_bounds(e)
    if lo is not None and lo == hi:
        return QPoly.const(lo)  # the exact bounds meet: a constant
    if any(v != value.const_value() for v in _samples(e)):
        return e  # two different values: not a constant (no period check needed)
    return value if decide_eq(e, value, budget=SETTLE_BUDGET).holds else e


_SAMPLE_AT = (1, 2, 3, 5, 8, 13, 64, 1000, 4099)
"""Symbol values (all equal, and staggered) at which :func:`settle` looks for a witness
before a period check; any value >= 1 lies in every symbol's domain."""


def largest_divisors(e: QExpr) -> list[int]:
    """The three largest distinct constant divisors of the floors in ``e``, nested ones
    included, ascending (each floor's own are memoised: :meth:`Floor.largest_divisors`).

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import floordiv
    >>> h = QPoly.sym(symbol("H"))
    >>> largest_divisors(floordiv(floordiv(h, QPoly.const(3)) * h, QPoly.const(5)) + h)
    [3, 5]
    """
    if isinstance(e, Ext):  # (the three largest of a union: of the parts' three largest)
        found = {d for a in e.args for d in largest_divisors(a)}
    else:
        found = {d for f in e.floors() for d in f.largest_divisors()}
    return sorted(found)[-3:]


def _samples(e: QExpr) -> Iterator[int]:
    """Values of ``e`` at a few points (those that evaluate), lazily: callers stop at the
    first witness."""
    syms = sorted(free_symbols(e), key=lambda x: x.name)
    # around each constant divisor D, where the floors change value
    dens = largest_divisors(e)
    near = [t for d in dens for t in (d - 1, d + 1, 2 * d + 1, 3 * d - 1) if t >= 1]
    for t in (*near, *_SAMPLE_AT):
        try:  # every symbol at t (each floor's value there memoised)
            yield uniform_value(e, t)
        except ZeroDivisionError:
            pass
        if len(syms) > 1:  # and staggered (the same point when there is one symbol)
            try:
                yield evaluate(e, {x: t + i for i, x in enumerate(syms)})
            except (KeyError, ZeroDivisionError):
                pass


_WITNESS_SAMPLES = 12
"""Samples :func:`witnessed` evaluates at most (it is a shortcut: a miss costs only these
evaluations before the exact decision)."""


def witnessed(e: QExpr, *tests: Callable[[int], bool]) -> bool:
    """True when each test holds for ``e``'s value at some sampled point (points where every
    symbol is at least 1: inside every symbol's default domain), so each is a fact about
    ``e`` on that domain, exact; False when the first samples do not show them all.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import floordiv
    >>> room = floordiv(QPoly.sym(symbol("H")), QPoly.const(256)) - QPoly.const(1)
    >>> witnessed(room, lambda v: v < 0, lambda v: v >= 0)  # neither always nor never
    True
    >>> witnessed(room + QPoly.const(1), lambda v: v < 0)
    False
    """
    missing = list(tests)
    for _, value in zip(range(_WITNESS_SAMPLES), _samples(e)):
        missing = [test for test in missing if not test(value)]
        if not missing:
            return True
    return False


def zero_and_nonzero(e: QExpr) -> bool:
    """True when ``e`` is 0 at one sampled point and not at another (:func:`witnessed`).
    Then ``e == 0`` is neither always true nor ever refuted everywhere, exactly: ``e >= 1``
    and ``e <= -1`` fail at the zero, ``e == 0`` at the other point.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import floordiv
    >>> h = QPoly.sym(symbol("H"))
    >>> zero_and_nonzero(floordiv(h, QPoly.const(2)) - floordiv(h + QPoly.const(1),
    ...                                                          QPoly.const(2)))
    True
    >>> zero_and_nonzero(h + QPoly.const(1)), zero_and_nonzero(h - h)
    (False, False)

    Remembered per size (:data:`_MIXED`): a merge asks it of the difference of two
    branches, and the network again of the condition the merge keeps.
    """
    known = _MIXED.get(e)
    if known is None:
        known = witnessed(e, _is_zero, _is_nonzero)
        if len(_MIXED) >= _MIXED_HELD:
            _MIXED.clear()  # bounded memory; a miss only costs the samples again
        _MIXED[e] = known
    return known


_MIXED: dict[QExpr, bool] = {}
""":func:`zero_and_nonzero` by size: at most :data:`_MIXED_HELD`, then started afresh."""

_MIXED_HELD = 4096


def _is_zero(value: int) -> bool:
    return value == 0


def _is_nonzero(value: int) -> bool:
    return value != 0


def _nonneg(e: QExpr) -> bool | None:
    """``e >= 0`` everywhere: exact bounds first, a negative sample refutes it at once, the
    period check (within :data:`SETTLE_BUDGET`) otherwise."""
    if isinstance(e, QPoly):
        lo, _ = diff_bounds(e)
        if lo is not None and lo >= 0:
            return True
    if any(v < 0 for v in _samples(e)):
        return False
    return decide_nonneg(e, budget=SETTLE_BUDGET).holds


def _rises(e: QPoly, x: sympy.Symbol) -> bool:
    """``e`` provably never decreases as ``x`` grows, read off the signs in one pass
    (:func:`convsym.intdiv.directions`: ``x`` only to the first power, with positive
    coefficients, through floors whose divisors do not hold it).  A sufficient test: the
    period check of ``e(x + 1) - e(x) >= 0`` decides the rest (a U-Net level's room
    ``floor(H/256) - 1`` would cost a box of 256 points per layer and axis)."""
    return x in directions(e)[0]


def _solved(e: QPoly, x: sympy.Symbol) -> int | None:
    """The least ``x`` with ``e >= 0`` read off the form ``c*floor((a*x + b)/D) + r``
    (``a, c, D > 0`` constants; a pooled level's room ``floor(H/256) - 1``), else None.

    ``c*f + r >= 0`` iff ``f >= ceil(-r/c)`` for an integer ``f``, and
    ``floor(y/D) >= m`` iff ``y >= m*D``, so ``x >= ceil((m*D - b)/a)``.  The caller checks
    the answer at two points; the bisection finds the same value with a few dozen.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import floordiv
    >>> H = symbol("H")
    >>> _solved(QPoly.const(2) * floordiv(QPoly.sym(H), QPoly.const(256)) - QPoly.const(1), H)
    256
    """
    r = e.terms.get((), 0)
    if len(e.terms) != (2 if r else 1):
        return None
    ((mono, c),) = ((m, k) for m, k in e.terms.items() if m)
    if len(mono) != 1 or mono[0][1] != 1 or not isinstance(mono[0][0], Floor) or c <= 0:
        return None
    f = mono[0][0]
    den, b = f.den.as_int(), f.num.terms.get((), 0)
    a = f.num.terms.get(((x, 1),), 0)
    if den is None or a <= 0 or len(f.num.terms) != (2 if b else 1):
        return None
    m = -(r // c)  # ceil(-r/c)
    return -((b - m * den) // a)  # ceil((m*den - b)/a)


def _only_symbol(e: QPoly) -> sympy.Symbol | None:
    """The one symbol of ``e`` (inside floors too), or None: stops at the second symbol
    seen, where ``len(free_symbols(e)) == 1`` reads every term (a chain's rooms have one
    symbolic kernel size per layer).

    >>> from convsym.expr import symbol
    >>> h, k = QPoly.sym(symbol("H")), QPoly.sym(symbol("k"))
    >>> _only_symbol(h * h - QPoly.const(3)), _only_symbol(h - k), _only_symbol(QPoly.const(2))
    (H, None, None)
    """
    if e.factors is not None:  # (a product kept factored: its factors, not expanded)
        syms = free_symbols(e)
        return next(iter(syms)) if len(syms) == 1 else None
    found: sympy.Symbol | None = None
    for mono in e.terms:
        for atom, _ in mono:
            for x in atom.symbols() if isinstance(atom, Floor) else (atom,):
                if found is None:
                    found = x
                elif x is not found and x != found:  # (symbols are mostly one object)
                    return None
    return found


def threshold(e: QExpr) -> tuple[sympy.Symbol, int] | None:
    """``(x, t)`` when ``e >= 0`` is exactly ``x >= t``: ``e`` has one symbol and provably
    never decreases in it (quasi-affine, concrete divisors), else None.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import floordiv
    >>> H = QPoly.sym(symbol("H"))
    >>> threshold(floordiv(H - QPoly.const(140), QPoly.const(16)))
    (H, 140)

    Remembered per size and budgets (:data:`_THRESHOLDS`): a layer deciding its room
    (:func:`rising_threshold`) and the network keeping it as a condition ask the same.
    """
    if not isinstance(e, QPoly):
        return None
    key = (e, current_budgets())
    found = _THRESHOLDS.get(key, _UNKNOWN)
    if found is _UNKNOWN:
        x = _only_symbol(e)
        found = None if x is None else _remember_threshold(key, _threshold(e, x, _solved(e, x)))
    return found  # type: ignore[return-value]


def _remember_threshold(key: tuple[QPoly, Budgets], found: tuple[sympy.Symbol, int] | None
                        ) -> tuple[sympy.Symbol, int] | None:
    if len(_THRESHOLDS) >= _THRESHOLDS_HELD:
        _THRESHOLDS.clear()  # bounded memory; a miss only costs working it out again
    _THRESHOLDS[key] = found
    return found


_THRESHOLDS: dict[tuple[QPoly, Budgets], tuple[sympy.Symbol, int] | None] = {}
""":func:`threshold` by size and budgets: at most :data:`_THRESHOLDS_HELD`, then afresh."""

_THRESHOLDS_HELD = 4096
_UNKNOWN = object()


def rising_threshold(e: QExpr) -> tuple[sympy.Symbol, int] | None:
    """:func:`threshold` of ``e`` when ``e`` is ``c*floor((a*x + b)/D) + r`` with ``a``,
    ``c``, ``D > 0`` (never decreasing in its one symbol ``x``, and unbounded: the rooms of
    a U-Net level, ``floor(H/8) - 1``) or its threshold is known already, else None without
    working anything out.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import floordiv
    >>> H = QPoly.sym(symbol("H"))
    >>> rising_threshold(QPoly.const(2) * floordiv(H, QPoly.const(16)) - QPoly.const(1))
    (H, 16)
    >>> x = QPoly.sym(symbol("x_rising_doc"))  # (a fresh symbol: none known already)
    >>> rising_threshold(x - QPoly.const(3)) is None  # (no floor: not this form)
    True
    """
    if not isinstance(e, QPoly):
        return None
    key = (e, current_budgets())
    found = _THRESHOLDS.get(key, _UNKNOWN)
    if found is not _UNKNOWN:
        return found  # type: ignore[return-value]
    x = _only_symbol(e)
    t = None if x is None else _solved(e, x)
    if x is None or t is None:
        return None
    return _remember_threshold(key, _threshold(e, x, t))


def _threshold(e: QPoly, x: sympy.Symbol, t: int | None) -> tuple[sympy.Symbol, int] | None:
    """:func:`threshold` of ``e``, whose one symbol is ``x``; ``t`` is ``_solved(e, x)``."""
    # the form c*floor((a*x + b)/D) + r (a, c, D > 0) never decreases in x: read off at
    # once (a U-Net level's rooms); anything else is shown never decreasing first
    if t is None and not _rises(e, x):
        try:
            step = e.subs({x: QPoly.sym(x) + QPoly.const(1)}) - e
        except NotQuasiPolynomial:  # x in a divisor (a stride that is a symbol): no threshold
            return None
        if decide_nonneg(step).holds is not True:
            return None
    # (x is e's only symbol: its value at v is uniform_value(e, v), floors memoised)
    lo = 1 if x.is_positive else 0
    if uniform_value(e, lo) >= 0:
        return x, lo
    if t is not None and lo < t <= 2**63 and uniform_value(e, t) >= 0 > \
            uniform_value(e, t - 1):
        return x, t  # e(t - 1) < 0 <= e(t), e never decreasing: the first, as searched below
    hi = lo + 1
    while uniform_value(e, hi) < 0:
        hi = lo + 2 * (hi - lo)
        if hi > 2**64:
            return None  # never reached: the caller keeps the condition as it is
    while hi - lo > 1:  # e(lo) < 0 <= e(hi)
        mid = (lo + hi) // 2
        if uniform_value(e, mid) >= 0:
            hi = mid
        else:
            lo = mid
    return x, hi
