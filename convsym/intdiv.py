"""Canonical integer-division algebra: sizes as ``floor(X/D) + c``, composed by proven lemmas.

A size is a :class:`QPoly`, an integer polynomial whose atoms are positive-integer symbols and
:class:`Floor` atoms ``floor(X/D)`` (``X`` a QPoly, ``D`` a positive integer times a product of
positive symbols), or a :class:`Ext` (``Min``/``Max`` of sizes).  Every operation keeps the
canonical form, using only these lemmas (all proved in ``tests/proofs``):

* integer-term extraction: ``floor((D*Q + R)/D) = Q + floor(R/D)`` for integer-valued ``Q``;
* nested collapse: ``floor((floor(X/A) + m)/B) = floor((X + A*m)/(A*B))`` for integer ``m``;
* gcd cancellation: ``floor((g*Y + r)/(g*D)) = floor((Y + floor(r/g))/D)`` for ``g >= 1``
  (a common factor of the divisor and the non-constant terms; the constant is floored);
* ceiling as floor: ``ceiling(X/D) = floor((X + D - 1)/D)``;
* monotonicity: ``floor(min(a, b)/D) = min(floor(a/D), floor(b/D))``.

No SymPy ``floor`` is built until :func:`to_sympy`, which chooses the simplest display
(``ceiling(n/32)`` rather than ``floor((n + 31)/32)``).  Inside :func:`tracing` every
application of these lemmas is recorded as a :class:`Rewrite`, which the prover turns into
proof steps.

>>> from convsym.expr import symbol
>>> n = QPoly.sym(symbol("n"))
>>> x = n
>>> for _ in range(5):          # five stride-2 'same' layers: ceil(x/2) each
...     x = ceildiv(x, QPoly.const(2))
>>> to_sympy(x)
ceiling(n/32)
>>> to_sympy(floordiv(n + QPoly.const(2 - 3), QPoly.const(2)) + QPoly.const(1))
ceiling(n/2)
"""

from __future__ import annotations

import threading
import weakref
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cmp_to_key, reduce
from math import comb, gcd
from typing import TYPE_CHECKING, Any, Union, cast

import sympy

from convsym import deep
from convsym.budget import Budgets, checkpoint
from convsym.budget import current as current_budgets
from convsym.budget import exceeded as budget_exceeded
from convsym.errors import shorten
from convsym.expr import symbol_power

Atom = Union[sympy.Symbol, "Floor"]
Monomial = tuple[tuple[Atom, int], ...]
QExpr = Union["QPoly", "Ext"]

_SYM_KEYS: dict[sympy.Symbol, tuple[object, ...]] = {}


class NotQuasiPolynomial(ValueError):
    """An expression outside the integer quasi-polynomial fragment (internal signal).

    Callers turn it into a user-facing convsym error with context, or fall back.
    """


LEMMA_EXTRACT = "integer-term extraction"
LEMMA_NESTED = "nested floor collapse"
LEMMA_GCD = "gcd cancellation"
LEMMA_CEIL = "ceiling as floor"
LEMMA_MONOTONE = "floor is monotone"
LEMMA_MOD = "mod as floor"


class Rewrite:
    """One traced canonicalisation: ``kind(num/den) = result`` by ``lemmas`` (in order).

    ``kind`` is ``"floor"``, ``"ceiling"`` or ``"mod"`` (``num mod den``).  Recorded only
    inside :func:`tracing`; the prover turns these into human-readable proof steps.
    """

    __slots__ = ("lemmas", "kind", "num", "den", "result")

    def __init__(self, lemmas: tuple[str, ...], kind: str, num: QExpr, den: QPoly,
                 result: QExpr) -> None:
        self.lemmas = lemmas
        self.kind = kind
        self.num = num
        self.den = den
        self.result = result

    def __repr__(self) -> str:
        return f"Rewrite({self.lemmas}, {self.kind}, {self.num!r}, {self.den!r}, {self.result!r})"


_TRACE: ContextVar[list[Rewrite] | None] = ContextVar("convsym_intdiv_trace", default=None)


@contextmanager
def tracing() -> Iterator[list[Rewrite]]:
    """Record every lemma application made inside the ``with`` block.

    >>> from convsym.expr import symbol
    >>> with tracing() as log:
    ...     _ = ceildiv(ceildiv(QPoly.sym(symbol("n")), QPoly.const(2)), QPoly.const(3))
    >>> [r.lemmas for r in log]
    [('ceiling as floor',), ('ceiling as floor', 'nested floor collapse')]
    """
    log: list[Rewrite] = []
    token = _TRACE.set(log)
    try:
        yield log
    finally:
        _TRACE.reset(token)


def _akey(atom: Atom) -> tuple[object, ...]:
    if isinstance(atom, Floor):
        return atom.key
    key = _SYM_KEYS.get(atom)
    if key is None:
        key = (0, atom.name, tuple(sorted(atom.assumptions0.items())))
        _SYM_KEYS[atom] = key
    return key


def _mkey(mono: Monomial) -> tuple[object, ...]:
    if len(mono) == 1:  # (most monomials: one symbol or one floor; no generator)
        return ((_akey(mono[0][0]), mono[0][1]),)
    return tuple([(_akey(a), e) for a, e in mono])


def _mono_mul(a: Monomial, b: Monomial) -> Monomial:
    if not a:
        return b
    if not b:
        return a
    if len(a) == 1 and len(b) == 1:  # two atoms (an area's two floors): order them directly
        (x, ex), (y, ey) = a[0], b[0]
        if x is y or (type(x) is type(y) and x == y):  # (a Symbol never equals a Floor)
            return ((x, ex + ey),)
        if type(x) is Floor and type(y) is Floor and x.digest != y.digest:
            # two floors' keys (1, digest, ...) differ in the digest: ordered by it alone
            return b + a if y.digest < x.digest else a + b
        # as sorted() would order them: stable, so a's atom first unless b's key is smaller
        return b + a if _akey(y) < _akey(x) else a + b
    powers: dict[Atom, int] = dict(a)
    for atom, e in b:
        powers[atom] = powers.get(atom, 0) + e
    return tuple(sorted(powers.items(), key=lambda item: _akey(item[0])))


def _mono_div(mono: Monomial, by: Monomial) -> Monomial | None:
    """``mono / by`` when ``by`` divides ``mono``, else None."""
    if not by:
        return mono
    powers: dict[Atom, int] = dict(mono)
    for atom, e in by:
        have = powers.get(atom, 0)
        if have < e:
            return None
        if have == e:
            del powers[atom]
        else:
            powers[atom] = have - e
    return tuple(sorted(powers.items(), key=lambda item: _akey(item[0])))


class QPoly:
    """An integer polynomial in positive-integer symbols and :class:`Floor` atoms.

    Immutable; hashable; equality is structural on the canonical form.

    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> p = n * n + QPoly.const(3) * n - QPoly.const(1)
    >>> p.evaluate({symbol("n"): 2})
    9
    >>> to_sympy(p)
    n**2 + 3*n - 1
    """

    __slots__ = ("terms", "factors", "_hash", "_key", "_origin", "_floored", "_top", "_memo",
                 "__weakref__")

    terms: dict[Monomial, int]
    factors: tuple[QPoly, ...] | None
    """For a product kept factored (:func:`product`): its factors; else None."""
    _origin: _Origin | None
    """``(base, sign, step)`` when this polynomial was made as ``base + sign*step`` from a
    long ``base`` and a short ``step`` (:meth:`_combine`), ``base`` held weakly: the facts
    of a long sum built one short step at a time (a chain's sizes) are then found from the
    step, not by reading every term again (:meth:`__hash__`, :meth:`floor_terms`,
    :func:`difference`)."""
    _floored: int | None
    """How many terms hold a Floor atom at top level, once known."""
    _top: tuple[int, int] | None
    """The largest degree of a term and how many terms have it, once known (:func:`_degree`)."""
    _memo: dict[str, Any] | None
    """Facts about this polynomial as a divisor or a numerator, once asked (its split as a
    divisor, :func:`_split_den`; its terms' share of a floor's digest, :func:`_digest`):
    a stride or a numerator shared by every layer of a chain is read once."""

    def __init__(self, terms: Mapping[Monomial, int] | None = None) -> None:
        self.terms = {m: c for m, c in (terms or {}).items() if c}
        self.factors = None
        self._hash: int | None = None
        self._key: tuple[object, ...] | None = None
        self._origin = None
        self._floored = None
        self._top: tuple[int, int] | None = None
        self._memo = None

    @staticmethod
    def _raw(terms: dict[Monomial, int]) -> QPoly:
        """A polynomial from ``terms`` already free of zero coefficients (no copy, no check)."""
        p = object.__new__(QPoly)
        p.terms = terms
        p.factors = None
        p._hash = None
        p._key = None
        p._origin = None
        p._floored = None
        p._top = None
        p._memo = None
        return p

    def __reduce__(self) -> tuple[object, ...]:
        # pickle (the bounded worker) without expanding a factored product
        if self.factors is not None:
            return product, (self.factors,)
        return QPoly._raw, (self.terms,)

    # --- construction -------------------------------------------------------------------
    @staticmethod
    def const(value: int) -> QPoly:
        """The constant polynomial ``value``."""
        value = int(value)
        small = _SMALL_CONSTS.get(value)
        if small is not None:
            return small  # (immutable: one object per small constant, as Python's ints)
        return QPoly._raw({(): value} if value else {})

    @staticmethod
    def sym(symbol: sympy.Symbol) -> QPoly:
        """The polynomial consisting of one symbol."""
        return QPoly({((symbol, 1),): 1})

    @staticmethod
    def atom(atom: Atom) -> QPoly:
        """The polynomial consisting of one atom (symbol or Floor)."""
        return QPoly._raw({((atom, 1),): 1})

    # --- inspection ---------------------------------------------------------------------
    @property
    def key(self) -> tuple[object, ...]:
        """A total, deterministic sort key for this polynomial."""
        if self._key is None:
            items = [(_mkey(m), c) for m, c in self.terms.items()]
            items.sort()
            self._key = tuple(items)
        return self._key

    def is_const(self) -> bool:
        """True when the polynomial has no atoms."""
        if self.factors is not None:
            return False  # two or more sums: not a constant (no factor is zero)
        terms = self.terms  # monomials are distinct: constant iff () is the only one
        return not terms or (len(terms) == 1 and () in terms)

    def const_value(self) -> int:
        """The constant term."""
        if self.factors is not None:
            return reduce(lambda a, f: a * f.const_value(), self.factors, 1)
        return self.terms.get((), 0)

    def as_int(self) -> int | None:
        """The integer value when constant, else None."""
        if self.factors is not None:
            return None  # two or more sums: not a constant (as is_const says)
        terms = self.terms  # (is_const inlined: asked of every size of every layer)
        if not terms:
            return 0
        return terms.get(()) if len(terms) == 1 else None

    def atoms(self) -> set[Atom]:
        """Every atom appearing at top level (symbols and Floor atoms, not inside Floors)."""
        if self.factors is not None:  # no atom cancels in a product of non-zero polynomials
            return set().union(*(f.atoms() for f in self.factors))
        return {a for m in self.terms for a, _ in m}

    def floors(self) -> list[Floor]:
        """Every Floor atom at top level."""
        return [a for a in self.atoms() if isinstance(a, Floor)]

    def floor_terms(self) -> int:
        """How many terms hold a Floor atom at top level.

        Counted once per polynomial, and for one made from a long one by a short step
        (:attr:`_origin`) from that one's count and the step's terms: zero for each size of
        a chain with a symbolic kernel per layer, without reading its hundreds of terms.

        >>> from convsym.expr import symbol
        >>> n = QPoly.sym(symbol("n"))
        >>> (floordiv(n, QPoly.const(2)) * n + n + QPoly.const(1)).floor_terms()
        1
        """
        known = self._floored
        if known is not None:
            return known
        chain = _lineage_unknown(self, "_floored")
        for p in reversed(chain):
            made = _made_from(p)
            count = made[0]._floored if made is not None else None
            if made is None or count is None:
                p._floored = sum(1 for m in p.terms if _has_floor(m))
                continue
            base, step = made
            for m in step.terms:  # the terms the step may have changed
                if _has_floor(m):
                    count += (m in p.terms) - (m in base.terms)
            p._floored = count
        assert self._floored is not None
        return self._floored

    def free_symbols(self) -> set[sympy.Symbol]:
        """Every symbol, including those inside Floor atoms."""
        out: set[sympy.Symbol] = set()
        for a in self.atoms():
            if isinstance(a, Floor):
                out |= a.symbols()
            else:
                out.add(a)
        return out

    def depth(self) -> int:
        """Nesting depth of Floor atoms (0 for a plain polynomial)."""
        if self.factors is not None:
            return max((a.depth for a in self.atoms() if isinstance(a, Floor)), default=0)
        deepest = 0
        for mono in self.terms:
            for a, _ in mono:
                if isinstance(a, Floor) and a.depth > deepest:
                    deepest = a.depth
        return deepest

    # --- arithmetic ---------------------------------------------------------------------
    def __add__(self, other: QPoly | int) -> QPoly:
        if isinstance(other, int):
            other = QPoly.const(other)
        return self._combine(other, 1)

    __radd__ = __add__

    def _combine(self, other: QPoly, sign: int) -> QPoly:
        """``self + sign*other`` (sign 1 or -1), dropping the coefficients that cancel."""
        if not other.terms:
            return self
        terms = dict(self.terms)
        for m, c in other.terms.items():
            total = terms.get(m, 0) + sign * c
            if total:
                terms[m] = total
            else:
                terms.pop(m, None)
        p = QPoly._raw(terms)
        if len(terms) >= _LONG:
            # a short step from a long polynomial: remember it (see _origin)
            if len(other.terms) <= _SHORT and len(self.terms) >= _LONG:
                p._origin = (weakref.ref(self), sign, other)
            elif sign == 1 and len(self.terms) <= _SHORT and len(other.terms) >= _LONG:
                p._origin = (weakref.ref(other), 1, self)
        return p

    def __neg__(self) -> QPoly:
        if self.factors is not None:
            return product((QPoly.const(-1), self))
        return QPoly._raw({m: -c for m, c in self.terms.items()})

    def __sub__(self, other: QPoly | int) -> QPoly:
        if isinstance(other, int):
            other = QPoly.const(other)
        return self._combine(other, -1)

    def __rsub__(self, other: int) -> QPoly:
        return QPoly.const(other) - self

    def __mul__(self, other: QPoly | int) -> QPoly:
        if isinstance(other, int):
            other = QPoly.const(other)
        if self.factors is not None or other.factors is not None:
            return product((self, other))  # a product kept factored stays factored
        return _expand_mul(self, other)

    __rmul__ = __mul__

    def __pow__(self, exponent: int) -> QPoly:
        result = QPoly.const(1)
        for _ in range(exponent):
            result = result * self
        return result

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int):
            return self.as_int() == other
        if not isinstance(other, QPoly):
            return False
        if self is other or (self.factors is not None and self.factors == other.factors):
            return True  # equal factors: equal products, without expanding them
        return self.terms == other.terms

    def __hash__(self) -> int:
        # the sum of the terms' hashes: equal terms, equal hash; and for a polynomial made
        # by a short step from a long one whose hash is known (_origin), that hash
        # corrected by the terms the step changed, instead of every term hashed again
        known = self._hash
        if known is not None:
            return known
        if self._origin is None:  # (most polynomials: short, made directly)
            self._hash = sum(map(hash, self.terms.items())) % _HASH_MOD
            return self._hash
        for p in reversed(_lineage_unknown(self, "_hash")):
            made = _made_from(p)
            if made is None or made[0]._hash is None:
                total = sum(map(hash, p.terms.items()))
            else:
                total = made[0]._hash
                before, after = made[0].terms, p.terms
                for m in made[1].terms:
                    old, new = before.get(m), after.get(m)
                    if old != new:
                        total += (hash((m, new)) if new else 0) - \
                            (hash((m, old)) if old else 0)
            p._hash = total % _HASH_MOD
        assert self._hash is not None
        return self._hash

    def __repr__(self) -> str:
        return f"QPoly({to_sympy(self)})"

    # --- evaluation ---------------------------------------------------------------------
    def evaluate(self, env: Mapping[sympy.Symbol, int]) -> int:
        """The integer value for integer symbol values (KeyError if one is missing)."""
        if self.factors is not None:
            return reduce(lambda a, f: a * f.evaluate(env), self.factors, 1)
        total = 0
        for mono, c in self.terms.items():
            v = c
            for atom, e in mono:
                base = atom.evaluate(env) if isinstance(atom, Floor) else env[atom]
                v *= base**e
            total += v
        return total

    def subs(self, env: Mapping[sympy.Symbol, QPoly]) -> QPoly:
        """Substitute polynomials for symbols, re-canonicalising every Floor atom."""
        if self.factors is not None:
            return product(f.subs(env) for f in self.factors)
        result = QPoly()
        for mono, c in self.terms.items():
            v = QPoly.const(c)
            for atom, e in mono:
                if isinstance(atom, Floor):
                    base = floordiv(atom.num.subs(env), atom.den.subs(env))
                else:
                    base = env.get(atom) or QPoly.atom(atom)
                v = v * base**e
            result = result + v
        return result


class _Factored(QPoly):
    """A product kept factored (:func:`product`): a :class:`QPoly` whose terms are expanded
    (within the term budget) the first time something reads them.

    Its own class, so that only it has the ``__getattr__`` hook that does that: a class
    with one reads every attribute through it (a type lookup on each), and Python cannot
    specialise those reads, so the plain polynomials, whose slots every step reads, are
    read at full speed.
    """

    __slots__ = ()

    if not TYPE_CHECKING:  # (hidden from mypy, which would then accept any attribute name)
        def __getattr__(self, name):
            # only reached for an unset slot: the terms, expanded the first time needed
            factors = object.__getattribute__(self, "factors") if name == "terms" else None
            if factors is not None:
                expanded = reduce(_expand_mul, factors[1:], factors[0]).terms
                self.terms = expanded
                return expanded
            raise AttributeError(name)


_Origin = tuple["weakref.ref[QPoly]", int, QPoly]

_SHORT = 8
"""A step of at most this many terms from a polynomial of at least :data:`_LONG` terms is
remembered as the result's origin (:attr:`QPoly._origin`)."""

_LONG = 24

_HASH_MOD = (1 << 61) - 1

_LINEAGE = 6
"""Origins followed at most, each way, by :func:`difference`."""


def _has_floor(mono: Monomial) -> bool:
    for a, _ in mono:
        if isinstance(a, Floor):
            return True
    return False


def _lineage_unknown(p: QPoly, fact: str) -> list[QPoly]:
    """``p`` and its origins (held alive) up to the first whose ``fact`` slot is known or that
    has no live origin: the ones to fill in, last first."""
    chain = [p]
    while True:
        base = _parent(chain[-1])
        if base is None or getattr(base, fact) is not None:
            return chain
        chain.append(base)


def _made_from(p: QPoly) -> tuple[QPoly, QPoly] | None:
    """``(base, step)`` when ``p`` is ``base`` plus or minus the short ``step`` and ``base``
    is alive, else None."""
    origin = p._origin
    base = origin[0]() if origin is not None else None
    return None if base is None or origin is None else (base, origin[2])


def _parent(p: QPoly) -> QPoly | None:
    """The live origin ``p`` was made from by a short step, if any."""
    made = _made_from(p)
    return made[0] if made is not None else None


def _meeting(ups: list[QPoly], downs: list[QPoly], known: _Differences | None
             ) -> tuple[QPoly, int, int] | None:
    """``(ups[i] - downs[j], i, j)`` for a pair found walking up both lineages (``ups`` and
    ``downs`` start with the two polynomials and are extended in place, by live origins, at
    most :data:`_LINEAGE` steps each): a common origin (difference 0) or a pair whose
    difference ``known`` holds, either way round; nearest first.  None when there is none.
    """
    seen_up = {id(ups[0]): 0}
    seen_down = {id(downs[0]): 0}
    sides = ((ups, downs, seen_up, seen_down, 1), (downs, ups, seen_down, seen_up, -1))
    for _ in range(_LINEAGE):
        grew = False
        for mine, theirs, seen_mine, seen_theirs, way in sides:
            origin = mine[-1]._origin
            x = origin[0]() if origin is not None else None
            if x is None:
                continue
            grew = True
            n = len(mine)
            mine.append(x)
            seen_mine[id(x)] = n
            m = seen_theirs.get(id(x), -1)
            if m >= 0 and theirs[m] is x:
                return (QPoly.const(0), n, m) if way > 0 else (QPoly.const(0), m, n)
            if known:
                for m, y in enumerate(theirs):
                    found = _known(x, y, known) if way > 0 else _known(y, x, known)
                    if found is not None:
                        return (found, n, m) if way > 0 else (found, m, n)
        if not grew:
            break
    return None


def _known(x: QPoly, y: QPoly, known: _Differences) -> QPoly | None:
    """``x - y`` when ``known`` holds it (or ``y - x``), else None."""
    entry = known.get((id(x), id(y)))
    if entry is not None and entry[0] is x and entry[1] is y:
        return entry[2]
    entry = known.get((id(y), id(x)))
    if entry is not None and entry[0] is y and entry[1] is x:
        return -entry[2]
    return None


def _stepped(chain: list[QPoly], upto: int) -> QPoly:
    """The sum of the steps from ``chain[upto]`` to ``chain[0]``: ``chain[0]`` minus it."""
    terms: dict[Monomial, int] = {}
    for p in chain[:upto]:
        origin = p._origin
        assert origin is not None
        sign, step = origin[1], origin[2]
        for m, c in step.terms.items():
            total = terms.get(m, 0) + sign * c
            if total:
                terms[m] = total
            else:
                del terms[m]
    return QPoly._raw(terms)


_Differences = dict[tuple[int, int], tuple[QPoly, QPoly, QPoly]]


def difference(a: QPoly, b: QPoly, known: _Differences | None = None) -> QPoly:
    """``a - b`` (equal terms), found from short steps where it can be.

    When ``a`` and ``b`` were made by short steps (:attr:`QPoly._origin`) from one
    polynomial, or from two whose difference ``known`` holds, their difference is those
    steps' and that one's, whatever the length of ``a`` and ``b``: a layer's room in a
    chain with one symbolic kernel per layer is the last room plus two short steps, and
    the room of the other axis differs from it as the last two rooms did.  Otherwise
    ``a - b`` term by term.  ``known`` (keyed by the operands' ids, which it holds alive)
    records the differences found, for the next ones; it is the caller's, and bounded.

    >>> from convsym.expr import symbol
    >>> h = sum((QPoly.sym(symbol(f"k{i}")) for i in range(30)), QPoly.sym(symbol("H")))
    >>> w = sum((QPoly.sym(symbol(f"k{i}")) for i in range(30)), QPoly.sym(symbol("W")))
    >>> seen = {}
    >>> to_sympy(difference(h, w, seen))
    H - W
    >>> k = QPoly.sym(symbol("k"))
    >>> to_sympy(difference(h - k + QPoly.const(1), w - k, seen))   # from h - w, recorded
    H - W + 1
    """
    if a.factors is not None or b.factors is not None or \
            (a._origin is None and b._origin is None and known is None):
        return a - b
    ups, downs = [a], [b]
    meeting = (_known(a, b, known) if known else None, 0, 0)
    if meeting[0] is None:  # (the pair asked the other way round a moment ago: at once)
        meeting = _meeting(ups, downs, known) or meeting
    found, i, j = meeting
    if found is None:
        result = a - b
    else:  # a - b = (ups[i] - downs[j]) + (a - ups[i]) - (b - downs[j])
        result = found._combine(_stepped(ups, i), 1)._combine(_stepped(downs, j), -1)
    if known is not None and len(result.terms) <= _LONG:
        if len(known) >= 4096:
            known.clear()  # bounded memory; a miss only costs subtracting term by term
        known[(id(a), id(b))] = (a, b, result)
    return result


EXPAND_AT_ONCE = 64
"""Products of at most this many term products are expanded at once (cheap, and shown as
always); larger ones are kept factored."""


_SMALL_CONSTS: dict[int, QPoly] = {v: QPoly._raw({(): v} if v else {}) for v in range(-64, 257)}
"""The constants every layer makes (0, 1, kernel sizes, paddings), built once."""


def product(factors: Iterable[QPoly]) -> QPoly:
    """The product of ``factors``, kept factored when expanding it would multiply sums.

    Single terms (constants, symbols, a kernel area ``k**2``) are multiplied out.  Two or
    more sums whose expansion takes more than 64 term products are kept as factors: the MACs
    of a layer whose axes are long sums (one symbolic kernel size per layer) would otherwise
    cost the square of the depth in terms, the whole network its cube.  The terms are
    expanded, within the term budget, only when something needs them (a sum, an equality);
    display, evaluation and substitution work on the factors.

    >>> from convsym.expr import symbol
    >>> h, w, k = (QPoly.sym(symbol(x)) for x in "hwk")
    >>> small = product([QPoly.const(16), h - k, w - k])   # 4 term products: expanded
    >>> small.factors is None, to_sympy(small)
    (True, -16*h*k + 16*h*w + 16*k**2 - 16*k*w)
    >>> ks = sum((QPoly.sym(symbol(f"k{i}")) for i in range(8)), QPoly())
    >>> big = product([QPoly.const(16) * k * k, h - ks, w - ks])   # 81: kept factored
    >>> len(big.factors), to_sympy(big.factors[1])
    (3, h - k0 - k1 - k2 - k3 - k4 - k5 - k6 - k7)
    >>> big == QPoly.const(16) * k * k * (h - ks) * (w - ks), len(big.terms)
    (True, 53)
    >>> big.evaluate({symbol(x): 1 for x in ["k", *(f"k{i}" for i in range(8))]} |
    ...              {symbol("h"): 10, symbol("w"): 11})   # 16 * 1**2 * 2 * 3
    96
    """
    scalar = QPoly.const(1)
    sums: list[QPoly] = []
    work = 1
    for f in factors:
        for g in (f.factors if f.factors is not None else (f,)):
            if len(g.terms) <= 1:
                scalar = _expand_mul(scalar, g)
            else:
                sums.append(g)
                work *= len(g.terms)
    if not scalar.terms or not sums:
        return scalar
    if len(sums) == 1 or work <= EXPAND_AT_ONCE:
        return reduce(_expand_mul, sums, scalar)
    _check_exponent(sum(_degree(g) for g in (scalar, *sums)))
    p = object.__new__(_Factored)
    p.factors = tuple(sums) if scalar == 1 else (scalar, *sums)
    p._hash = None
    p._key = None
    p._origin = None
    p._floored = None
    p._top = None
    p._memo = None
    return p


def within_budgets(factors: Iterable[QExpr]) -> bool:
    """Whether multiplying ``factors`` out (:func:`product`, or pairwise in any grouping)
    surely stays within the budgets in force and is small: every factor a plain polynomial
    (no Min/Max, not kept factored), at most :data:`EXPAND_AT_ONCE` term products in all
    (and at most ``max_terms``), and the degrees summing to at most ``max_degree`` and
    ``max_exponent``.  Then no budget check of the expansion can fail, nor any clock be
    consulted (the caller may multiply them out later).

    >>> from convsym.expr import symbol
    >>> h, w = (QPoly.sym(symbol(x)) + QPoly.const(1) for x in "hw")
    >>> within_budgets([h, w, QPoly.const(9)]), within_budgets([h] * 7)
    (True, False)
    """
    work = 1
    degree = 0
    for f in factors:
        if type(f) is not QPoly or f.factors is not None:
            return False
        terms = f.terms
        if len(terms) > 1 or () not in terms:  # (constants: one term product, degree 0)
            work *= len(terms) or 1
            if work > EXPAND_AT_ONCE:
                return False  # (before any degree is counted: long sums are common)
            top = f._top
            if top is None and f._origin is None:  # (_degree's own first step, inline)
                top = f._top = _count_top(terms)
            degree += top[0] if top is not None else _degree(f)
    budgets = current_budgets()
    return work <= budgets.max_terms and degree <= budgets.max_degree and \
        degree <= budgets.max_exponent


def kept_factored(inner: tuple[QExpr, ...], outer: tuple[QExpr, ...]) -> bool:
    """Whether ``mul_sizes(mul_sizes(*inner), *outer)`` (:mod:`convsym.sizes`) surely keeps
    its product factored, within the budgets in force: ``inner`` two plain sums whose
    expansion would take more than :data:`EXPAND_AT_ONCE` term products (so :func:`product`
    keeps them as factors, twice), ``outer`` single terms (multiplied into the scalar, one
    term by one term), and the degrees summing to at most ``max_exponent``, the only
    budget those steps check.  Then it cannot fail, nor consult a clock (a chain with a
    symbolic kernel per layer: every layer's MACs).

    >>> from convsym.expr import symbol
    >>> h, w = (sum((QPoly.sym(symbol(f"{x}{i}")) for i in range(9)), QPoly()) for x in "hw")
    >>> k, three = QPoly.sym(symbol("k")), QPoly.const(3)
    >>> kept_factored((h, w), (QPoly.const(16), k)), kept_factored((h, three), ())
    (True, False)
    """
    if len(inner) != 2:
        return False
    degree = 0
    for f in (*inner, *outer):
        if type(f) is not QPoly or f.factors is not None:
            return False
        degree += _degree(f)
    a, b = inner
    assert isinstance(a, QPoly) and isinstance(b, QPoly)  # (checked above)
    if len(a.terms) < 2 or len(b.terms) < 2 or len(a.terms) * len(b.terms) <= EXPAND_AT_ONCE:
        return False
    if any(isinstance(f, QPoly) and len(f.terms) > 1 for f in outer):
        return False
    return degree <= current_budgets().max_exponent


_TIMED_PRODUCTS = 1_000
"""Term products above which an expansion checks the wall-clock budgets first (cheaper ones
cost less than the check's share of a layer)."""


def _expand_mul(self: QPoly, other: QPoly) -> QPoly:
    """``self * other`` expanded, within the term and degree budgets."""
    # a constant factor (most products in shape and parameter arithmetic) scales terms
    # (coefficients are never 0: a constant's one term is its non-zero value)
    mine, theirs = self.terms, other.terms
    if not theirs:
        return QPoly._raw({})
    if len(theirs) == 1:
        k = theirs.get(())
        if k is not None:
            return QPoly._raw({m: c * k for m, c in mine.items()})
    if len(mine) == 1:
        k = mine.get(())
        if k is not None:
            return QPoly._raw({m: c * k for m, c in theirs.items()})
    budgets = current_budgets()
    if len(mine) == 1 and len(theirs) == 1 and budgets.max_terms >= 1:
        ((m1, c1),) = mine.items()
        ((m2, c2),) = theirs.items()
        return _term_product(m1, c1, m2, c2)
    products = len(self.terms) * len(other.terms)
    if products > 8 * budgets.max_terms:  # the work, even when most terms then merge
        raise budget_exceeded("a size", "max_terms", f"expanding a product of a "
                              f"{len(self.terms)}-term and a {len(other.terms)}-term size "
                              f"takes {products:,} term products (over 8 x max_terms)")
    _check_degree(self, other, budgets.max_degree)
    if products > _TIMED_PRODUCTS:  # a long product: a build's or derivation's clock
        checkpoint("expanding a product")
    terms: dict[Monomial, int] = {}
    get = terms.get  # (locals: the loop runs for every term pair of every layer's area)
    right = list(other.terms.items())
    for m1, c1 in self.terms.items():
        for m2, c2 in right:
            m = _mono_mul(m1, m2) if m1 and m2 else (m1 or m2)
            terms[m] = get(m, 0) + c1 * c2
        if len(terms) > budgets.max_terms:  # checked while expanding, not after
            raise budget_exceeded("a size", "max_terms", "expanding a product gives "
                                  f"over {budgets.max_terms} terms")
    return QPoly(terms)



def _term_product(m1: Monomial, c1: int, m2: Monomial, c2: int) -> QPoly:
    """One term by one term (a layer's output area, a divisor times a stride): a monomial
    product, whose only budget is the exponent (as _check_degree says for a single term)."""
    degree = (m1[0][1] if len(m1) == 1 else sum(e for _, e in m1)) + \
        (m2[0][1] if len(m2) == 1 else sum(e for _, e in m2))
    if degree > current_budgets().max_exponent:
        _check_exponent(degree)
    return QPoly._raw({_mono_mul(m1, m2): c1 * c2})


def _check_power_terms(b: QPoly, k: int) -> None:
    """Refuse ``b**k`` at once when its terms are known to be over ``max_terms``.

    For a linear ``b`` (a constant and ``t`` distinct atoms of degree 1, all non-zero) the
    terms of ``b**k`` are exactly the monomials of degree ``k`` in ``t + 1`` variables (the
    constant as one more), ``comb(k + t, t)`` of them (``t`` without a constant), and no
    coefficient cancels: a multinomial coefficient times non-zero coefficients.  A hostile
    ``(a+b+c+d)**60`` is refused without expanding it term by term up to the budget.

    >>> from convsym.expr import symbol
    >>> _check_power_terms(sum((QPoly.sym(symbol(x)) for x in "abcd"), QPoly()), 60)
    Traceback (most recent call last):
    convsym.errors.BudgetExceeded: a size: expanding a power gives 39,711 terms; the limit \
is max_terms = 5000 (raise it with CONVSYM_MAX_TERMS=N or convsym.budget.raised(max_terms=N))
    """
    if not all(len(m) <= 1 and (not m or m[0][1] == 1) for m in b.terms):
        return
    atoms = sum(1 for m in b.terms if m)
    count = comb(k + atoms, atoms) if () in b.terms else comb(k + atoms - 1, atoms - 1)
    limit = current_budgets().max_terms
    if count > limit:
        raise budget_exceeded("a size", "max_terms", f"expanding a power gives {count:,} "
                              "terms")


def _check_degree(a: QPoly, b: QPoly, max_degree: int) -> None:
    """Refuse a product whose expansion would produce terms of too high a degree.

    The degree drives the cost only where the product is expanded, every term of one sum
    times every term of the other (``(a+b+c+d)**12``): ``max_degree`` bounds that.  A single
    term times a sum, such as the divisor ``s**1000`` of a 1,000-layer stride chain, only
    adds exponents: its cost does not grow with the degree, which is bounded by the much
    larger ``max_exponent`` (a guard against exponents doubling layer after layer, whose
    values no integer could hold).
    """
    degree = _degree(a) + _degree(b)
    if len(a.terms) > 1 and len(b.terms) > 1:
        if degree > max_degree:
            raise budget_exceeded("a size", "max_degree", "expanding a product of sums gives "
                                  f"a term of degree over {max_degree}")
    else:
        _check_exponent(degree)


def _check_exponent(degree: int) -> None:
    limit = current_budgets().max_exponent
    if degree > limit:
        raise budget_exceeded("a size", "max_exponent", f"a term of degree {degree:,} (over "
                              f"{limit:,})")


def _degree(p: QPoly) -> int:
    """The largest total degree of a term (atoms counted once, Floor atoms as degree 1).

    Kept per polynomial with the number of terms of that degree; for one made by a short
    step from another whose degree is known (:attr:`QPoly._origin`), found from the step's
    terms (a chain's sizes, multiplied into every layer's area and MACs).

    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> _degree(n * n * n - n), _degree(QPoly.const(7)), _degree(QPoly())
    (3, 0, 0)
    """
    known = p._top
    if known is not None:
        return known[0]
    if p._origin is None:  # (most polynomials: made directly, counted directly)
        counted = p._top = _count_top(p.terms)
        return counted[0]
    for q in reversed(_lineage_unknown(p, "_top")):
        made = _made_from(q)
        top = made[0]._top if made is not None else None
        if made is not None and top is not None:
            top = _stepped_top(top, made[0], made[1], q)
        q._top = top if top is not None else _count_top(q.terms)
    assert p._top is not None
    return p._top[0]


def _mono_degree(mono: Monomial) -> int:
    degree = 0
    for _, e in mono:
        degree += e
    return degree


def _count_top(terms: Iterable[Monomial]) -> tuple[int, int]:
    """The largest degree of the monomials (0 for none) and how many have it."""
    best, count = 0, 0
    for mono in terms:  # (plain loops: asked for both sides of every product)
        degree = 0
        for _, e in mono:
            degree += e
        if degree > best:
            best, count = degree, 1
        elif degree == best:
            count += 1
    return best, count


def _stepped_top(top: tuple[int, int], base: QPoly, step: QPoly, p: QPoly
                 ) -> tuple[int, int] | None:
    """``_count_top(p.terms)`` from ``base``'s, when ``p`` differs from ``base`` only in
    ``step``'s monomials; None when the top degree's last term cancelled (count again)."""
    best, count = top
    if not count and best:
        return None
    higher = [m for m in step.terms if m in p.terms and _mono_degree(m) > best]
    if higher:  # base has no term of a higher degree: the step's are all there are
        return _count_top(higher)
    for m in step.terms:
        if _mono_degree(m) == best:
            count += (m in p.terms) - (m in base.terms)
    return (best, count) if count or not best else None


class Floor:
    """The atom ``floor(num/den)``; ``den`` is a positive constant times positive symbols.

    Built only by :func:`floordiv`, which keeps ``num`` reduced: every coefficient of
    ``num`` lies in ``[0, den)`` when ``den`` is a constant, and no term is a multiple of
    ``den`` otherwise.
    """

    __slots__ = ("num", "den", "_key", "digest", "spread", "depth", "_hash", "_symbols",
                 "_lower", "_directions", "_probes", "_dens", "_at", "__weakref__")

    def __init__(self, num: QPoly, den: QPoly) -> None:
        self.num = num
        self.den = den
        # a digest of the structure first: two floors that differ only deep inside (the H
        # and W sizes of a chain, floor((floor(... H ...)... vs floor((floor(... W ...)...)
        # are compared and hashed at once instead of through every nesting level
        self.digest, self.spread, self.depth = _digest(num, den)
        self._key: tuple[object, ...] | None = None  # (built when first compared)
        # the digest reduces coefficients modulo the Mersenne prime 2**61 - 1, where powers
        # of two repeat with period 61: ceiling(H/2**i) and ceiling(H/2**(i + 61)) share a
        # digest (which stays: it orders sizes), so the hash adds the spread (the
        # coefficients' bit lengths); else every 61st floor of a stride-2 stack collides in
        # every dict and memo
        self._hash = hash((self.digest, self.spread))
        self._symbols: frozenset[sympy.Symbol] | None = None
        self._lower: tuple[int | None] | None = None  # (lower_bound,) once computed
        self._directions: tuple[frozenset[sympy.Symbol], frozenset[sympy.Symbol]] | None \
            = None
        self._probes: tuple[int, ...] | None = None
        self._dens: tuple[int, ...] | None = None
        self._at: dict[int, int] | None = None

    def largest_divisors(self) -> tuple[int, ...]:
        """The three largest distinct constant divisors (ascending) of this floor and of
        every floor inside its numerator: what sampling looks near (computed once from the
        inner floors' own; the three largest of a union are the three largest of the
        parts' three largest)."""
        if self._dens is None:
            found = {self.den.const_value()} if self.den.is_const() else set()
            for f in self.num.floors():
                found.update(f.largest_divisors())
            self._dens = tuple(sorted(found)[-3:])
        return self._dens

    @property
    def key(self) -> tuple[object, ...]:
        """A total, deterministic sort key: the digest, then the numerator's and divisor's
        keys (built on first use: most floors of a chain are ordered by digest alone, see
        :func:`_mono_mul`)."""
        key = self._key
        if key is None:
            if self.depth > _KEYS_AT_ONCE:
                _build_keys(self)  # the inner floors' first, without deep recursion
            key = self._key = (1, self.digest, self.num.key, self.den.key)
        return key

    def value_at(self, t: int) -> int:
        """The floor's value where every symbol is ``t`` (:func:`uniform_value`), memoised
        for a few points per floor: sampling a nested size evaluates every floor inside it,
        and the next layer's size holds the same floors."""
        at = self._at
        if at is None:
            at = self._at = {}
        value = at.get(t)
        if value is None:
            den = uniform_value(self.den, t)
            if den <= 0:
                raise ZeroDivisionError(f"divisor {to_sympy(self.den)} = {den} is not positive")
            value = uniform_value(self.num, t) // den
            if len(at) < _AT_HELD:
                at[t] = value
        return value

    @staticmethod
    def of(num: QPoly, den: QPoly) -> Floor:
        """The floor ``floor(num/den)``: the one alive already when there is one (interned by
        digest), so equal floors are mostly one object.  Comparing two equal but distinct
        nested floors walks their whole nest; a network built again (its sizes remembered
        by the caches of products and rooms) would do that for every layer's size.

        >>> from convsym.expr import symbol
        >>> n, two = QPoly.sym(symbol("n")), QPoly.const(2)
        >>> Floor.of(n, two) is Floor.of(n, two)
        True
        """
        f = Floor(num, den)
        key = (f.digest, f.spread)  # (the digest alone repeats every 61 powers of two)
        ref = _FLOORS.get(key)
        known: Floor | None = ref() if ref is not None else None
        if known is None:
            ref = _FloorRef(f, _forget_floor)
            ref.key = key
            _FLOORS[key] = ref
        elif known.num == num and known.den == den:  # (inner floors interned: cheap)
            return known
        return f  # (another floor with the same digest is alive: this one not interned)

    def probes(self) -> tuple[int, ...]:
        """The floor's values at the :func:`probe` points (computed once from the inner
        floors' own: linear in a nested chain)."""
        if self._probes is None:
            self._probes = tuple(probe(self.num, i) // probe(self.den, i)
                                 for i in range(PROBES))
        return self._probes

    def directions(self) -> tuple[frozenset[sympy.Symbol], frozenset[sympy.Symbol]]:
        """:func:`directions` of the floor (as of its numerator, without the divisor's
        symbols: a positive divisor fixed, ``floor(Y/D)`` follows ``Y`` without bound),
        computed once: a nested floor is asked for every layer after it."""
        if self._directions is None:
            rise, fall = directions(self.num)
            den = self.den.free_symbols()
            self._directions = (rise - den, fall - den)
        return self._directions

    def symbols(self) -> frozenset[sympy.Symbol]:
        """Every symbol of ``num`` and ``den`` (computed once: a deep chain's sizes hold
        each floor in many terms, conditions and comparisons)."""
        if self._symbols is None:
            self._symbols = frozenset(self.num.free_symbols() | self.den.free_symbols())
        return self._symbols

    def __eq__(self, other: object) -> bool:
        # equal floors have equal digests; the keys of two chains nest as deep as they do
        if self is other:
            return True
        if not isinstance(other, Floor) or self.digest != other.digest:
            return False
        if self.depth < _SHALLOW:
            return self.key == other.key  # (Python's own comparison: fast, and safe here)
        return deep.same(self.key, other.key)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Floor({to_sympy(self.num)}, {to_sympy(self.den)})"

    def evaluate(self, env: Mapping[sympy.Symbol, int]) -> int:
        """``num // den`` for integer symbol values."""
        den = self.den.evaluate(env)
        if den <= 0:
            raise ZeroDivisionError(f"divisor {to_sympy(self.den)} = {den} is not positive")
        return self.num.evaluate(env) // den


_KEYS_AT_ONCE = 32
"""Floors nested at most this deep build their keys recursively (a few frames per level);
deeper ones build their inner floors' keys first, innermost first (:func:`_build_keys`)."""


def _build_keys(outer: Floor) -> None:
    """The keys of every floor inside ``outer`` whose key is not built yet, innermost
    first: each then finds its inner floors' keys built (a 1,500-deep chain's key is built
    level by level, never by recursing 1,500 levels)."""
    pending: list[Floor] = []
    stack = [outer]
    while stack:  # each floor before everything inside it (pre-order)
        f = stack.pop()
        if f._key is None:
            pending.append(f)
            stack.extend(a for mono in f.num.terms for a, _ in mono if isinstance(a, Floor))
    for f in reversed(pending[1:]):  # everything inside a floor before the floor
        f.key  # noqa: B018 (built and kept)


_AT_HELD = 32
"""Points at which a floor remembers its :meth:`Floor.value_at` (samples and thresholds ask
a handful; a bisection asks more, which are computed but not kept)."""


def uniform_value(e: QExpr, t: int) -> int:
    """``evaluate(e, env)`` with every symbol of ``e`` at ``t`` (floors' values memoised).

    >>> from convsym.expr import symbol
    >>> h, w = QPoly.sym(symbol("H")), QPoly.sym(symbol("W"))
    >>> e = floordiv(floordiv(h, QPoly.const(2)) * w + QPoly.const(1), QPoly.const(3))
    >>> uniform_value(e, 7) == evaluate(e, {symbol("H"): 7, symbol("W"): 7}) == 7
    True
    """
    if isinstance(e, Ext):
        values = [uniform_value(a, t) for a in e.args]
        return min(values) if e.kind == "min" else max(values)
    if e.factors is not None:
        return reduce(lambda a, f: a * uniform_value(f, t), e.factors, 1)
    total = 0
    for mono, c in e.terms.items():
        for atom, power in mono:
            c *= (atom.value_at(t) if isinstance(atom, Floor) else t) ** power
        total += c
    return total


_SHALLOW = 64
"""Floors nested less deep than this compare their keys by Python's own (recursive) tuple
comparison; deeper ones by :func:`convsym.deep.same`."""

_DIGEST_MOD = (1 << 61) - 1
_SYM_DIGESTS: dict[int, tuple[sympy.Symbol, int]] = {}
"""A symbol's share of a digest (:func:`_sym_digest`) by ``id``, with the symbol (held, so
the id stays its own): SymPy hashes a symbol in Python, and every new floor reads its
numerator's symbols."""


def _sym_digest(x: sympy.Symbol) -> int:
    """The CRC-32 of the symbol's name, plus 1 (never 0), remembered in :data:`_SYM_DIGESTS`."""
    h = zlib.crc32(x.name.encode()) + 1
    if len(_SYM_DIGESTS) >= 65536:
        _SYM_DIGESTS.clear()  # bounded memory; a miss only reads the name again
    _SYM_DIGESTS[id(x)] = (x, h)
    return h



class _FloorRef(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to an interned floor that knows its key in :data:`_FLOORS` (a
    ``WeakValueDictionary``'s ``KeyedRef`` does the same in Python-level ``__new__`` and
    ``__init__``, a few times slower: one is made for every new floor of every layer)."""

    __slots__ = ("key",)
    key: tuple[int, int]


def _forget_floor(ref: _FloorRef) -> None:
    """The callback of an interned floor's reference: drop its entry, unless another floor
    has taken the key since."""
    if _FLOORS.get(ref.key) is ref:
        _FLOORS.pop(ref.key, None)


_FLOORS: dict[tuple[int, int], _FloorRef] = {}
"""The floors alive, by digest and spread (:meth:`Floor.of`), held weakly."""


def _digest(num: QPoly, den: QPoly) -> tuple[int, int, int]:
    """A structural digest of ``floor(num/den)``, the same in every run (symbol names through
    CRC-32, never Python's salted string hash): part of a floor's sort key, so the order of
    sizes is reproducible; its spread, the bit lengths of every coefficient, inner floors'
    included, summed (part of the floor's hash); and its nesting depth (1 + the deepest
    floor inside), read in the same pass.  The numerator's share is remembered by it (the
    numerator of a chain with a symbolic stride is every layer's)."""
    memo = num._memo
    part: tuple[int, int, int] | None = memo.get("digest") if memo else None
    if part is None:
        part = _terms_digest(num, 0)
        if memo is None:
            memo = num._memo = {}
        memo["digest"] = part
    total, spread, deepest = part
    dterms = den.terms
    c = dterms.get(()) if len(dterms) == 1 else None
    if c is not None:  # a constant divisor (a stride-2 chain's 2**i): its one term at once
        term = (c * 1_000_003 + 1) % _DIGEST_MOD  # (as _terms_digest(den, 1) reads it)
        return (total + term * term + term) % _DIGEST_MOD, spread + c.bit_length(), \
            1 + deepest
    den_total, den_spread, den_deepest = _terms_digest(den, 1)
    return (total + den_total) % _DIGEST_MOD, spread + den_spread, \
        1 + max(deepest, den_deepest)


def _terms_digest(p: QPoly, side: int) -> tuple[int, int, int]:
    """The share of ``p``'s terms in :func:`_digest` (``side`` 0 for a numerator, 1 for a
    divisor): their digests summed, their spread and the deepest floor among them."""
    total = spread = deepest = 0
    digests = _SYM_DIGESTS
    mod = _DIGEST_MOD
    for mono, c in p.terms.items():
        spread += c.bit_length()
        term = (c * 1_000_003 + side) % mod
        for atom, e in mono:
            if isinstance(atom, Floor):
                h = atom.digest
                spread += atom.spread
                if atom.depth > deepest:
                    deepest = atom.depth
            else:
                known = digests.get(id(atom))
                if known is not None and known[0] is atom:
                    h = known[1]
                else:
                    h = _sym_digest(atom)
            term = (term * 6_700_417 + h * 31 + e) % mod
        total = (total + term * term + term) % mod
    return total, spread, deepest


def directions(p: QPoly) -> tuple[frozenset[sympy.Symbol], frozenset[sympy.Symbol]]:
    """The symbols along which ``p`` runs without bound, one way: ``(rising, falling)``;
    ``p`` never decreases as a rising symbol grows (every other symbol fixed at any value of
    its default domain) and exceeds every bound, never increases along a falling one and
    falls below every bound.  A symbol that moves ``p`` both ways, or that the signs cannot
    tell, is in neither.

    Seen in one pass over the terms (a floor's own directions are computed once, and
    merged as sets): ``x`` occurs to the first power only, in terms ``c*x*m`` (``m`` a
    product of positive symbols, ``c`` of the direction's sign) or ``c*F`` with ``F`` a
    floor that runs along ``x`` (its numerator does, and ``x`` is not in a divisor: with
    positive divisors fixed, ``floor(Y/D)`` is non-decreasing in ``Y`` and unbounded with
    it).  A room ``floor((floor((H - k0)/s0) - k1 + 1)/s1) - k2`` of a chain with its own
    kernel and stride per layer falls along ``k2`` and rises along ``H``, read off the top
    level.  A long polynomial remembers what it found (:func:`_long_directions`).

    >>> from convsym.expr import symbol
    >>> h, k, s = QPoly.sym(symbol("H")), QPoly.sym(symbol("k")), QPoly.sym(symbol("s"))
    >>> directions(floordiv(floordiv(h - k, s) - k, s) - k)
    (frozenset({H}), frozenset({k}))
    >>> directions(h * h - k * s + k)   # H squared, k both ways; s falls (k >= 1)
    (frozenset(), frozenset({s}))
    """
    if len(p.terms) >= _LONG:
        return _long_directions(p)
    rise: set[sympy.Symbol] = set()
    fall: set[sympy.Symbol] = set()
    mixed: set[sympy.Symbol] = set()
    return _with_floors(rise, fall, mixed, _plain_directions(p.terms.items(), rise, fall, mixed))


_Signs = tuple[frozenset[sympy.Symbol], frozenset[sympy.Symbol], frozenset[sympy.Symbol],
               tuple[tuple["Floor", int], ...]]
"""What :func:`_plain_directions` collects from a polynomial's terms: the symbols its plain
terms raise, lower and move both ways or unknown ways, and its floor terms ``(F, c)``."""

_WALK = 8
"""Origins followed at most by :func:`_long_directions` to a polynomial whose signs are
known."""


def _long_directions(p: QPoly) -> tuple[frozenset[sympy.Symbol], frozenset[sympy.Symbol]]:
    """:func:`directions` of a long polynomial, remembered by it with what its terms gave
    (:data:`_Signs`): for one made by a short step from another whose signs are known
    (:attr:`QPoly._origin`, followed up to :data:`_WALK` steps), those are found from the
    step's terms (:func:`_stepped_signs`), not by reading every term again: a layer's room
    in a chain with one symbolic kernel per layer is the last room plus two short steps."""
    memo = p._memo
    found = memo.get("directions") if memo is not None else None
    if found is not None:
        return cast("tuple[frozenset[sympy.Symbol], frozenset[sympy.Symbol]]", found)
    chain = [p]  # p and its origins up to one whose signs are known
    signs: _Signs | None = None
    while True:
        memo = chain[-1]._memo
        signs = cast("_Signs | None", memo.get("signs") if memo is not None else None)
        parent = _parent(chain[-1]) if signs is None and len(chain) <= _WALK else None
        if parent is None:
            break
        chain.append(parent)
    top = chain.pop()  # (the last: its signs known, or read now)
    if signs is None:
        signs = _read_signs(top)
    for q in reversed(chain):
        made = _made_from(q)
        assert made is not None  # (each was found as the next one's origin, held here)
        signs = _stepped_signs(signs, made[0], made[1], q) or _read_signs(q)
    rise, fall, mixed, floors = signs
    if floors:
        result = _with_floors(set(rise), set(fall), set(mixed), list(floors))
    else:
        both = rise & fall
        if both or mixed:
            mixed = mixed | both
            result = (rise - mixed, fall - mixed)
        else:
            result = (rise, fall)
    memo = p._memo
    if memo is None:
        memo = p._memo = {}
    memo["directions"] = result
    return result


def _read_signs(p: QPoly) -> _Signs:
    """:data:`_Signs` of ``p`` from every term, remembered by it."""
    rise: set[sympy.Symbol] = set()
    fall: set[sympy.Symbol] = set()
    mixed: set[sympy.Symbol] = set()
    floors = _plain_directions(p.terms.items(), rise, fall, mixed)
    signs = (frozenset(rise), frozenset(fall), frozenset(mixed), tuple(floors))
    memo = p._memo
    if memo is None:
        memo = p._memo = {}
    memo["signs"] = signs
    return signs


def _stepped_signs(signs: _Signs, base: QPoly, step: QPoly, p: QPoly) -> _Signs | None:
    """:data:`_Signs` of ``p``, which differs from ``base`` (whose ``signs`` they are) only
    in ``step``'s monomials, remembered by ``p``; None when a term of ``base`` cancelled or
    changed sign there (what it gave may be given by no other term: read ``p`` again).

    A term's share depends on its monomial and the sign of its coefficient alone, and the
    sets are unions of the shares: a term new in ``p`` adds its own, one whose sign stayed
    changes nothing."""
    new: list[tuple[Monomial, int]] = []
    for m in step.terms:
        if not m:
            continue  # (a constant moves nothing)
        c = p.terms.get(m)
        old = base.terms.get(m)
        if old is None and c is not None:
            new.append((m, c))
        elif c is None or old is None or (c > 0) != (old > 0):
            return None
    if new:
        rise: set[sympy.Symbol] = set()
        fall: set[sympy.Symbol] = set()
        mixed: set[sympy.Symbol] = set()
        floors = _plain_directions(new, rise, fall, mixed)
        # (a set the step adds nothing to is the base's, not a copy: a chain's rooms add one
        # falling kernel each to a set of every kernel before it)
        signs = (signs[0] | rise if rise - signs[0] else signs[0],
                 signs[1] | fall if fall - signs[1] else signs[1],
                 signs[2] | mixed if mixed - signs[2] else signs[2],
                 signs[3] + tuple(floors) if floors else signs[3])
    memo = p._memo
    if memo is None:
        memo = p._memo = {}
    memo["signs"] = signs
    return signs


def _with_floors(rise: set[sympy.Symbol], fall: set[sympy.Symbol], mixed: set[sympy.Symbol],
                 floors: list[tuple[Floor, int]]
                 ) -> tuple[frozenset[sympy.Symbol], frozenset[sympy.Symbol]]:
    """:func:`directions` from the plain terms' sets and the floor terms ``(F, c)``."""
    for f, c in floors:
        up, down = f.directions()
        if c < 0:
            up, down = down, up
        rise |= up
        fall |= down
        if len(up) + len(down) < len(f.symbols()):
            mixed |= f.symbols() - up - down
    mixed |= rise & fall
    return frozenset(rise - mixed), frozenset(fall - mixed)


def _plain_directions(terms: Iterable[tuple[Monomial, int]], rise: set[sympy.Symbol],
                      fall: set[sympy.Symbol], mixed: set[sympy.Symbol]
                      ) -> list[tuple[Floor, int]]:
    """Add the directions of the terms ``(monomial, coefficient)`` that are not one floor to
    the three sets (:func:`_term_directions`); return the others, ``c*F``, as ``(F, c)``."""
    floors: list[tuple[Floor, int]] = []
    for mono, c in terms:
        if len(mono) == 1:  # (most terms: one atom; read inline, a long sum's every term)
            atom, power = mono[0]
            if isinstance(atom, Floor):
                if power == 1:
                    floors.append((atom, c))
                else:
                    mixed |= atom.symbols()
            elif power == 1 and _positive(atom):
                (rise if c > 0 else fall).add(atom)
            else:
                mixed.add(atom)
        elif mono:
            _term_directions(mono, c, rise, fall, mixed)
    return floors


def _term_directions(mono: Monomial, c: int, rise: set[sympy.Symbol],
                     fall: set[sympy.Symbol], mixed: set[sympy.Symbol]) -> None:
    """Add the directions of a term ``c*mono`` that is not one floor to the three sets."""
    plain = all(not isinstance(a, Floor) and _positive(a) for a, _ in mono)
    for atom, power in mono:
        if isinstance(atom, Floor):
            mixed |= atom.symbols()
        elif power == 1 and plain:
            (rise if c > 0 else fall).add(atom)
        else:
            mixed.add(atom)


def falls(p: QPoly) -> bool:
    """``bool(directions(p)[1])``: some symbol along which ``p`` falls without bound.

    Found without building the sets of :func:`directions`: a falling symbol is usually the
    first one looked at, where those sets hold every symbol of a chain's floors (a room
    over a chain's nested size, and the difference of two, are asked about many times per
    layer).  A long polynomial's sets are remembered (:func:`_long_directions`).

    >>> from convsym.expr import symbol
    >>> h, k, s = QPoly.sym(symbol("H")), QPoly.sym(symbol("k")), QPoly.sym(symbol("s"))
    >>> falls(floordiv(h - k, s) - k), falls(floordiv(h, s) + k), falls(h * h - k * s + k)
    (True, False, True)
    """
    return _runs(p, 1)


def rises(p: QPoly) -> bool:
    """``bool(directions(p)[0])``: some symbol along which ``p`` rises without bound
    (:func:`falls` of ``-p``, without negating ``p``).

    >>> from convsym.expr import symbol
    >>> h, k, s = QPoly.sym(symbol("H")), QPoly.sym(symbol("k")), QPoly.sym(symbol("s"))
    >>> rises(floordiv(h - k, s) - k), rises(QPoly.const(3) - floordiv(h, s))
    (True, False)
    """
    return _runs(p, 0)


def _runs(p: QPoly, way: int) -> bool:
    """``bool(directions(p)[way])`` (0 rising, 1 falling).

    A symbol ``x`` is there exactly when some term moves ``p`` that way along it (a plain
    term, or a floor term whose side ``way`` holds it: its numerator's, the sign of its
    coefficient applied), no plain term moves ``p`` the other way or both ways along it,
    and every floor term holding ``x`` moves ``p`` that way along it: the sets
    :func:`_with_floors` would build, read for one symbol, from each term's own sets (a
    chain's floors hold every symbol before them)."""
    if len(p.terms) >= _LONG:
        return bool(_long_directions(p)[way])
    rise: set[sympy.Symbol] = set()
    fall: set[sympy.Symbol] = set()
    mixed: set[sympy.Symbol] = set()
    floors = _plain_directions(p.terms.items(), rise, fall, mixed)
    along, against = (fall, rise) if way else (rise, fall)
    # each floor term's symbols and those along which it moves p the way asked
    sides = [(f.symbols(), f.directions()[way if c > 0 else 1 - way]) for f, c in floors]
    for x in along:  # (a plain term's symbol first: the new k of a layer's room)
        if x not in mixed and x not in against and \
                all(x in moving or x not in symbols for symbols, moving in sides):
            return True
    if not sides:
        return False
    # a floor term's: the fewest first (a chain's floors rise along H alone, fall along
    # every kernel before them); kept while every other floor moves p that way or lacks it
    for j in sorted(range(len(sides)), key=lambda i: len(sides[i][1])):
        found = sides[j][1]
        for i, (symbols, moving) in enumerate(sides):
            if i != j and found:
                found = (found & moving) | (found - symbols)
        if len(found) > len(mixed) + len(against):
            return True  # (more than the plain terms can stop)
        if any(x not in mixed and x not in against for x in found):
            return True
    return False


_POSITIVE: dict[int, tuple[sympy.Symbol, bool]] = {}
"""``x.is_positive`` by ``id(x)``, with ``x`` (held, so the id stays its own): SymPy hashes a
symbol in Python, and the signs of a long sum's every term are read layer after layer."""


def _positive(x: sympy.Symbol) -> bool:
    """``x.is_positive``, one assumption query per symbol."""
    known = _POSITIVE.get(id(x))
    if known is not None and known[0] is x:
        return known[1]
    positive = bool(x.is_positive)
    if len(_POSITIVE) >= 65536:
        _POSITIVE.clear()  # bounded memory; a miss only asks the symbol again
    _POSITIVE[id(x)] = (x, positive)
    return positive


def _least(x: sympy.Symbol) -> int | None:
    """The least value of the symbol ``x``: 1 when positive, 0 when non-negative, else None
    (no least value); the positive case (nearly every symbol) from :data:`_POSITIVE`."""
    if _positive(x):
        return 1
    return 0 if x.is_nonnegative else None


PROBES = 3
"""Points at which :func:`probe` evaluates; at each, every symbol has a fixed value from 2
to 98 (in every integer symbol's domain: positive, non-negative or any), scattered by its
name (sizes such as ``H - k0`` vanish where all symbols are equal)."""

_PROBE_AT: dict[sympy.Symbol, tuple[int, ...]] = {}


def _probe_values(x: sympy.Symbol) -> tuple[int, ...]:
    values = _PROBE_AT.get(x)
    if values is None:
        values = _PROBE_AT[x] = tuple(2 + zlib.crc32(f"{i}:{x.name}".encode()) % 97
                                      for i in range(PROBES))
    return values


def probe(p: QPoly, i: int) -> int:
    """``p`` at probe point ``i`` (of :data:`PROBES`; floors from their memoised values)."""
    total = 0
    for mono, c in p.terms.items():
        for atom, e in mono:
            c *= (atom.probes()[i] if isinstance(atom, Floor) else _probe_values(atom)[i]) ** e
        total += c
    return total


def _split_den(den: QPoly) -> tuple[int, Monomial]:
    """``den`` as (positive integer, monomial of positive symbols), remembered by ``den``
    (a chain's stride divides every layer's size)."""
    memo = den._memo
    known: tuple[int, Monomial] | None = memo.get("split") if memo else None
    if known is not None:
        return known
    split = _split_new_den(den)
    if memo is None:
        memo = den._memo = {}
    memo["split"] = split
    return split


def _split_new_den(den: QPoly) -> tuple[int, Monomial]:
    if len(den.terms) != 1:
        raise NotQuasiPolynomial(f"divisor {to_sympy(den)} is not a monomial")
    ((mono, coeff),) = den.terms.items()
    if coeff <= 0:
        raise NotQuasiPolynomial(f"divisor {to_sympy(den)} is not positive")
    for atom, _ in mono:
        if isinstance(atom, Floor) or not _positive(atom):
            raise NotQuasiPolynomial(
                f"divisor {to_sympy(den)} is not a product of positive symbols")
    return coeff, mono


def _content(p: QPoly) -> tuple[int, Monomial]:
    """The gcd of the coefficients and the common symbol factor of all monomials."""
    g = reduce(gcd, (abs(c) for c in p.terms.values()), 0)
    common: dict[Atom, int] | None = None
    for mono in p.terms:
        here = {a: e for a, e in mono if not isinstance(a, Floor)}
        if common is None:
            common = here
        else:
            common = {a: min(e, here[a]) for a, e in common.items() if a in here}
    mono_common = tuple(sorted((common or {}).items(), key=lambda item: _akey(item[0])))
    return g, mono_common


def floordiv(num: QPoly, den: QPoly) -> QPoly:
    """``floor(num/den)`` in canonical form; ``den`` a positive monomial.

    >>> from convsym.expr import symbol
    >>> n, s = QPoly.sym(symbol("n")), QPoly.sym(symbol("s"))
    >>> to_sympy(floordiv(QPoly.const(2) * n + QPoly.const(4), QPoly.const(2)))
    n + 2
    >>> to_sympy(floordiv(floordiv(n, s) + QPoly.const(3), s))
    floor((n + 3*s)/s**2)
    >>> to_sympy(floordiv(QPoly.const(2) * n + QPoly.const(1), QPoly.const(4)))
    floor(n/2)
    """
    trace = _TRACE.get()
    if trace is None:  # (_floordiv inlined: every strided layer's every axis)
        dc, dmono = _split_den(den)
        return _floordiv_split(num, den, dc, dmono, None)
    fired: list[str] = []
    result = _floordiv(num, den, fired)
    if fired:
        trace.append(Rewrite(_dedupe(fired), "floor", num, den, result))
    return result


def floordiv_plus(num: QPoly, den: QPoly, plus: int) -> QPoly:
    """``floordiv(num, den) + plus`` (a window count: ``floor(room/s) + 1``), the sum made
    with the floor's own terms where it can be.

    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> to_sympy(floordiv_plus(n - QPoly.const(1), QPoly.const(2), 1))
    ceiling(n/2)
    """
    if _TRACE.get() is None:
        memo = den._memo  # (_split_den's memo read here: a chain's stride is every layer's)
        split: tuple[int, Monomial] | None = memo.get("split") if memo else None
        dc, dmono = split if split is not None else _split_den(den)
        return _floordiv_split(num, den, dc, dmono, None, plus)
    return _plus(floordiv(num, den), plus)


def _dedupe(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _floordiv(num: QPoly, den: QPoly, fired: list[str] | None) -> QPoly:
    dc, dmono = _split_den(den)
    return _floordiv_split(num, den, dc, dmono, fired)


def _floordiv_split(num: QPoly, den: QPoly, dc: int, dmono: Monomial,
                    fired: list[str] | None, plus: int = 0) -> QPoly:
    """:func:`_floordiv` with ``den`` already split as ``dc*dmono`` (:func:`_split_den`),
    plus the integer ``plus`` (:func:`floordiv_plus`; 0 when traced)."""
    if dc == 1 and not dmono:
        return _plus(num, plus)
    if fired is None and len(num.terms) <= 2:
        # the commonest step of a chain, floor((floor(X/A) + m)/B) with constants A, B and
        # m: the nested collapse at once, floor((X + A*m)/(A*B)) (the same canonical form
        # as extracting m's quotient first: X's constant lies in [0, A), A*(m mod B) + that
        # in [0, A*B)); when tracing, the lemmas are recorded one by one below
        inner, shift = _floor_plus_constant(num)
        if inner is not None:
            ((imono, ic),) = inner.den.terms.items()  # (a monomial, as every floor's divisor)
            if not dmono and not imono:  # A a constant (A = ic)
                merged = _plus_const(inner.num, ic * shift) if shift else inner.num
                a_b = ic * dc
                return _collapsed_split(inner, merged, _SMALL_CONSTS.get(a_b) or
                                        QPoly._raw({(): a_b}), a_b, (), plus)
            if dmono:
                # a symbolic B (a stride "s"): no term of F + m is a multiple of it and no
                # gcd applies (F's coefficient is 1, m a constant), so the steps below come
                # to the nested collapse; taken here directly, on the same condition (which
                # holds at once for m = 0)
                merged = inner.num + inner.den * QPoly.const(shift) if shift else inner.num
                if not shift or _FULL.get() or _collapses(inner, QPoly.const(shift), merged):
                    product_den = _term_product(imono, ic, dmono, dc)
                    ((pmono, pc),) = product_den.terms.items()
                    return _collapsed_split(inner, merged, product_den, pc, pmono, plus)
    if fired is None:
        plain = _plain_steps(num, den, dc, dmono, plus)
        if plain is not None:
            return plain
    return _plus(_steps(num, den, dc, dmono, fired), plus)


def _plus_const(p: QPoly, c: int) -> QPoly:
    """``p + c`` for an integer ``c`` (``p._combine(QPoly.const(c), 1)``, without making the
    constant: a short ``p``'s constant term changed in a copy of its terms)."""
    if len(p.terms) + 1 >= _LONG:  # (a long one: as _combine makes it, with its origin)
        return p._combine(QPoly.const(c), 1)
    return _plus_terms(dict(p.terms), c)


def _collapsed_split(inner: Floor, merged: QPoly, den: QPoly, dc: int, dmono: Monomial,
                     plus: int) -> QPoly:
    """``floor(merged/den) + plus`` for the numerator ``merged = X + A*m`` of a nested
    collapse of ``inner = floor(X/A)``: :func:`_floordiv_split` untraced, and for a plain
    ``X`` (``inner`` of depth 1: no floor in it, none to collapse) its plain steps at once."""
    if inner.depth == 1:
        plain = _plain_steps(merged, den, dc, dmono, plus)
        return plain if plain is not None else \
            _plus(_steps(merged, den, dc, dmono, None), plus)
    return _floordiv_split(merged, den, dc, dmono, None, plus)


def _plus(p: QPoly, plus: int) -> QPoly:
    """``p + plus`` as :func:`add` makes it (``p`` itself for 0)."""
    return p._combine(QPoly.const(plus), 1) if plus else p


def _plus_terms(terms: dict[Monomial, int], plus: int) -> QPoly:
    """``QPoly._raw(terms) + plus``, made in ``terms`` (the caller's, not kept) when short:
    the constant term changed where it is, or appended, as :meth:`QPoly._combine` would."""
    if not plus:
        return QPoly._raw(terms)
    if len(terms) + 1 >= _LONG:  # (a long sum: as _combine makes it, with its origin)
        return QPoly._raw(terms)._combine(QPoly.const(plus), 1)
    total = terms.get((), 0) + plus
    if total:
        terms[()] = total
    else:
        del terms[()]
    return QPoly._raw(terms)


def _floor_plus_constant(num: QPoly) -> tuple[Floor | None, int]:
    """``(F, m)`` when ``num`` is ``F + m``, a Floor atom ``F`` with coefficient 1 and an
    integer ``m`` (perhaps 0), else ``(None, 0)``."""
    inner: Floor | None = None
    shift = 0
    for mono, c in num.terms.items():
        if not mono:
            shift = c
        elif inner is None and c == 1 and len(mono) == 1 and mono[0][1] == 1 and \
                isinstance(mono[0][0], Floor):
            inner = mono[0][0]
        else:
            return None, 0
    return inner, shift


def _divides(by: Monomial, mono: Monomial) -> bool:
    """Whether the monomial ``by`` (not empty) divides ``mono``: ``_mono_div`` is not None,
    without building the quotient."""
    if len(mono) == 1:  # (most terms: one atom, which a divisor of two atoms cannot divide)
        if len(by) != 1:
            return False
        (atom, have), (x, e) = mono[0], by[0]
        # (x a symbol, as every divisor's atom: equal to atom only with its name, read
        # before SymPy's equality or hash, both in Python)
        if atom is x:
            return have >= e
        return have >= e and type(atom) is not Floor and \
            atom.name == x.name and atom == x  # type: ignore[union-attr]
    powers = dict(mono)
    for x, e in by:
        if powers.get(x, 0) < e:
            return False
    return True


def _plain_steps(num: QPoly, den: QPoly, dc: int, dmono: Monomial, plus: int = 0
                 ) -> QPoly | None:
    """:func:`_steps` for a numerator without Floor atoms (every layer of a stride-2 or a
    symbolic-stride chain), plus the integer ``plus``, or None where the general steps do
    more than the cases below.

    A constant divisor: each coefficient splits as ``q*dc + r`` (integer-term extraction)
    and no monomial changes.  A symbolic one (``dmono``): no term may be a multiple of it
    and the constant term must not be 0 (else a common symbol factor may cancel).  Either
    way no floor can collapse, so what remains is the gcd test and the new Floor atom.
    """
    quotient: dict[Monomial, int] = {}
    terms = num.terms
    rest: dict[Monomial, int] = terms if dmono else {}  # (every term kept: read, not copied)
    for mono, c in terms.items():
        for atom, _ in mono:
            if isinstance(atom, Floor):
                return None
        if dmono:
            if mono and _divides(dmono, mono):
                return None  # a multiple of the divisor's symbols: extraction applies
            continue
        q, r = divmod(c, dc)
        if q:
            quotient[mono] = q
        if r:
            rest[mono] = r
    if dmono:
        if not rest.get(()) or len(rest) == 1:
            return None  # no constant (a shared symbol may cancel), or nothing but one
    elif not rest or (len(rest) == 1 and () in rest):
        return _plus_terms(quotient, plus)  # floor(r/dc) = 0 for 0 <= r < dc
    if dc > 1:
        common = 0  # the gcd of the non-constant terms' coefficients (and dc), at once
        for m, r in rest.items():
            if m:
                common = gcd(common, r)
                if common == 1:
                    break
        if gcd(common, dc) > 1:
            return None
    # (with a symbolic divisor every term is kept, and with a constant one when no
    # coefficient leaves [0, dc): the numerator itself is the floor's, its facts with it;
    # a stride-2 chain's numerator, H + 1 from the second layer on, is every layer's)
    kept = num if (dmono or not quotient) and num.factors is None else \
        QPoly._raw(dict(rest) if rest is terms else rest)
    atom = Floor.of(kept, den)
    if not quotient:  # (QPoly.atom, plus)
        return QPoly._raw({((atom, 1),): 1, (): plus} if plus else {((atom, 1),): 1})
    if len(quotient) + 1 < _LONG:  # quotient + floor, as _combine makes it (a short sum)
        quotient[((atom, 1),)] = 1
        return _plus_terms(quotient, plus)
    return _plus(QPoly._raw(quotient) + QPoly.atom(atom), plus)


def _steps(num: QPoly, den: QPoly, dc: int, dmono: Monomial, fired: list[str] | None
           ) -> QPoly:
    """:func:`_floordiv` by the general steps, lemma by lemma (``den = dc*dmono``)."""
    quotient: dict[Monomial, int] = {}
    rest: dict[Monomial, int] = {}
    for mono, c in num.terms.items():
        reduced = _mono_div(mono, dmono)
        if reduced is None:
            rest[mono] = c
            continue
        q, r = divmod(c, dc)
        if q:
            quotient[reduced] = quotient.get(reduced, 0) + q
        if r:
            rest[mono] = r
    q_poly = QPoly(quotient)
    r_poly = QPoly(rest)
    if q_poly.terms and fired is not None:
        fired.append(LEMMA_EXTRACT)
    if not r_poly.terms:
        return q_poly
    if r_poly.is_const() and not dmono:
        return q_poly + QPoly.const(r_poly.const_value() // dc)
    # gcd cancellation: floor((g*Y + r)/(g*D)) = floor((Y + floor(r/g))/D) for g >= 1, and
    # floor(t*R/(t*D)) = floor(R/D) for a common positive symbol factor t
    rc = r_poly.const_value()
    rv = r_poly - QPoly.const(rc)
    g = gcd(reduce(gcd, (abs(c) for c in rv.terms.values()), 0), dc)
    g, common = (g, ()) if rc else (g, _content(r_poly)[1])
    shared = tuple((a, min(e, dict(common)[a])) for a, e in dmono if a in dict(common))
    if g > 1 or shared:
        if fired is not None:
            fired.append(LEMMA_GCD)
        cut = QPoly({_mono_div(m, shared) or (): c // g for m, c in rv.terms.items()})
        new_den = QPoly({_mono_div(dmono, shared) or (): dc // g})
        return q_poly + _floordiv(cut + QPoly.const(rc // g), new_den, fired)
    # nested collapse: floor((floor(X/A) + m)/B) = floor((X + A*m)/(A*B)); with a symbolic
    # A only where it keeps the numerator short (see _collapses)
    inner = single_linear_floor(r_poly)
    if inner is not None:
        m = r_poly - QPoly.atom(inner)
        merged = inner.num + inner.den * m
        if fired is not None or _FULL.get() or _collapses(inner, m, merged):
            if fired is not None:
                fired.append(LEMMA_NESTED)
            return q_poly + _floordiv(merged, inner.den * den, fired)
    return q_poly + QPoly.atom(Floor.of(r_poly, den))


def _collapses(inner: Floor, m: QPoly, merged: QPoly) -> bool:
    """Whether ``floor((floor(X/A) + m)/B)`` is stored collapsed, ``floor((X + A*m)/(A*B))``.

    Always with a constant ``A``; with a symbolic ``A`` only when ``X + A*m`` is at most one
    one-symbol term longer than ``X`` (``m = 0``: a symbolic-stride chain's
    ``ceiling(H/s**1000)``; the terms merging: ``ceiling(H/(s0*s1*...))``; one term:
    ``floor((n + 3*s)/s**2)``).  Otherwise every layer of a chain with its own symbolic
    kernel and stride would add terms of ever higher degree (layer i: i terms of degree i,
    the network's sizes the cube of its depth), where the nested floor keeps each numerator
    a few terms: the size of layer i is ``floor((x - k_i + 1)/s_i)`` of the size ``x`` before.
    Both forms have the same value; :func:`collapsed` gives the fully collapsed one (the
    prover's canonical form, and what equality decisions fall back on).
    """
    if inner.den.is_const() or not m.terms:
        return True
    return _length(merged) <= _length(inner.num) + 2


def _length(p: QPoly) -> int:
    """Terms plus atom occurrences (a term ``c*s**2*k`` counts 3)."""
    return sum(1 + len(mono) for mono in p.terms)


def nested(e: QExpr) -> bool:
    """True when a floor of ``e`` (at top level) is stored nested: a symbolic divisor over a
    numerator with floors (:func:`_collapses`).  Taking such a floor off (``floor(X/D) >= m``
    iff ``X >= m*D``) re-derives the collapsed form one layer at a time, each step longer.

    >>> from convsym.expr import symbol
    >>> h, k, s = QPoly.sym(symbol("H")), QPoly.sym(symbol("k")), QPoly.sym(symbol("s"))
    >>> nested(floordiv(floordiv(h - k, s) - k, s)), nested(floordiv(h - k, s))
    (True, False)
    """
    if isinstance(e, Ext):
        return any(nested(a) for a in e.args)
    if e.factors is None and not e.floor_terms():
        return False  # (counted once per polynomial: a chain's long rooms have no floor)
    return any(not f.den.is_const() and f.num.floors() for f in e.floors())


_FULL: ContextVar[bool] = ContextVar("convsym_intdiv_full_collapse", default=False)


def collapsed(e: QExpr) -> QExpr:
    """``e`` with every nested floor collapsed: ``floor((floor(X/A) + m)/B)`` as
    ``floor((X + A*m)/(A*B))`` also where :func:`floordiv` keeps it nested (a symbolic ``A``
    and a long ``m``).  The same value; two sizes are equal exactly when their collapsed
    forms are (the canonical form), so equality decisions compare these.  May be large (the
    budgets apply).

    >>> from convsym.expr import symbol
    >>> h, k0, k1, s0, s1 = (QPoly.sym(symbol(x)) for x in ("H", "k0", "k1", "s0", "s1"))
    >>> one = QPoly.const(1)
    >>> x = floordiv(floordiv(h - k0, s0) + one - k1, s1) + one
    >>> to_sympy(x)
    ceiling((-k1 + floor((H - k0 + 2*s0)/s0))/s1)
    >>> to_sympy(collapsed(x))
    floor((H - k0 - k1*s0 + s0*s1 + s0)/(s0*s1))
    """
    if isinstance(e, Ext):
        return ext(e.kind, (collapsed(a) for a in e.args))
    if not any(isinstance(a, Floor) for m in e.terms for a, _ in m):
        return e
    token = _FULL.set(True)
    try:
        return e.subs({})
    finally:
        _FULL.reset(token)


def single_linear_floor(p: QPoly) -> Floor | None:
    """The Floor atom F when ``p = F + m`` with F absent from ``m``, else None."""
    found: Floor | None = None
    for mono in p.terms:
        for atom, _ in mono:
            if isinstance(atom, Floor):
                if found is not None and atom != found:
                    return None
                found = atom
    if found is None or p.terms.get(((found, 1),)) != 1:
        return None
    occurrences = sum(1 for mono in p.terms for a, _ in mono if a == found)
    return found if occurrences == 1 else None


def ceildiv(num: QPoly, den: QPoly) -> QPoly:
    """``ceiling(num/den) = floor((num + den - 1)/den)``.

    >>> from convsym.expr import symbol
    >>> to_sympy(ceildiv(QPoly.sym(symbol("n")), QPoly.sym(symbol("s"))))
    ceiling(n/s)
    """
    trace = _TRACE.get()
    if trace is None:
        return _floordiv(num + den - QPoly.const(1), den, None)
    fired = [LEMMA_CEIL]
    result = _floordiv(num + den - QPoly.const(1), den, fired)
    trace.append(Rewrite(_dedupe(fired), "ceiling", num, den, result))
    return result


class Ext:
    """``Min`` or ``Max`` of sizes, for rules such as PyTorch's ceil_mode correction.

    Built by :func:`ext`, which flattens, removes duplicates and drops an argument that
    differs from another by a constant in the dominated direction.
    """

    __slots__ = ("kind", "args", "_hash")

    def __init__(self, kind: str, args: tuple[QExpr, ...]) -> None:
        self.kind = kind
        self.args = args
        self._hash = hash((kind, args))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ext) and (self.kind, self.args) == (other.kind, other.args)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Ext({self.kind}, {self.args})"

    def evaluate(self, env: Mapping[sympy.Symbol, int]) -> int:
        """The integer value for integer symbol values."""
        values = [evaluate(a, env) for a in self.args]
        return min(values) if self.kind == "min" else max(values)


def exact_quotient(total: QPoly, known: QPoly) -> QPoly | None:
    """``total / known`` when ``known`` divides ``total`` as a polynomial with integer
    coefficients in its atoms (``C*floor(H/16)*floor(W/16)`` by ``floor(H/16)*floor(W/16)``;
    ``3C*(fh*fw + 1)`` by ``3*heads*(fh*fw + 1)``, a class token's), else None.

    The atoms are taken as independent: an identity of polynomials in them holds for
    every value of the symbols, so the quotient is exact wherever ``known`` is not 0.

    >>> from convsym.expr import symbol
    >>> h, c = QPoly.sym(symbol("h")), QPoly.sym(symbol("c"))
    >>> to_sympy(exact_quotient(QPoly.const(6) * c * h * h + QPoly.const(4) * h,
    ...                         QPoly.const(2) * h))
    3*c*h + 2
    >>> exact_quotient(h + QPoly.const(1), h) is None
    True
    >>> to_sympy(exact_quotient(QPoly.const(12) * (h * h + QPoly.const(1)) * (h + c),
    ...                         QPoly.const(4) * h * h + QPoly.const(4)))
    3*c + 3*h
    >>> exact_quotient(h * h + QPoly.const(2), h + QPoly.const(1)) is None
    True
    """
    if len(known.terms) > 1:
        return _divided(total, known)
    if not known.terms:
        return None
    ((kmono, kc),) = known.terms.items()
    out: dict[Monomial, int] = {}
    for mono, c in total.terms.items():
        q = _mono_div(mono, kmono)
        if q is None or c % kc:
            return None
        out[q] = c // kc
    return QPoly(out)


def _divided(total: QPoly, known: QPoly, steps: int = 4096) -> QPoly | None:
    """``total / known`` by long division in a graded lexicographic order of the atoms (one
    divisor is its own Groebner basis: the remainder is 0 exactly when ``known`` divides
    ``total``); None when it does not, over the integers, within ``steps`` terms."""
    atoms = sorted({a for m in (*total.terms, *known.terms) for a, _ in m}, key=_akey)
    at = {a: i for i, a in enumerate(atoms)}

    def order(mono: Monomial) -> tuple[int, list[int]]:
        vec = [0] * len(atoms)
        for a, e in mono:
            vec[at[a]] = e
        return sum(vec), vec

    lead = max(known.terms, key=order)
    lc = known.terms[lead]
    rest = dict(total.terms)
    out: dict[Monomial, int] = {}
    for _ in range(steps):
        if not rest:
            return QPoly(out)
        top = max(rest, key=order)
        q = _mono_div(top, lead)
        if q is None or rest[top] % lc:
            return None
        c = rest[top] // lc
        out[q] = out.get(q, 0) + c
        for mono, kc in known.terms.items():
            m = _mono_mul(q, mono)
            v = rest.get(m, 0) - c * kc
            if v:
                rest[m] = v
            else:
                rest.pop(m, None)
    return None


def ext(kind: str, args: Iterable[QExpr]) -> QExpr:
    """``Min``/``Max`` of ``args`` (kind ``"min"`` or ``"max"``), simplified.

    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> to_sympy(ext("min", [n + QPoly.const(1), n, floordiv(n, QPoly.const(2))]))
    Min(n, floor(n/2))
    """
    flat: list[QExpr] = []
    for a in args:
        if isinstance(a, Ext) and a.kind == kind:
            flat.extend(a.args)
        elif a not in flat:
            flat.append(a)
    kept: list[QExpr] = []
    for i, a in enumerate(flat):
        dominated = False
        for j, b in enumerate(flat):
            if i == j or not (isinstance(a, QPoly) and isinstance(b, QPoly)):
                continue
            lo, hi = diff_bounds(a - b)
            # a never wins (a >= b for min, a <= b for max); when b never wins either they are
            # equal everywhere, and the first one is kept
            loses = (lo is not None and lo >= 0) if kind == "min" else \
                (hi is not None and hi <= 0)
            ties = (hi is not None and hi <= 0) if kind == "min" else \
                (lo is not None and lo >= 0)
            if loses and (j < i or not ties):
                dominated = True
                break
        if not dominated:
            kept.append(a)
    if len(kept) == 1:
        return kept[0]
    kept.sort(key=_qkey)
    return Ext(kind, tuple(kept))


def diff_bounds(d: QPoly) -> tuple[int | None, int | None]:
    """Integer bounds ``(lo, hi)`` on the values of ``d`` (None: unbounded or unknown),
    cheap and exact, for comparing Min/Max arguments.

    Floors with one divisor ``D`` whose numerators differ by a constant ``delta`` are
    paired: for every integer ``Y``,
    ``floor(delta/D) <= floor((Y + delta)/D) - floor(Y/D) <= ceiling(delta/D)``
    (floor is superadditive: ``floor(u + v) >= floor(u) + floor(v)``; and
    ``floor(Y/D + delta/D) <= floor(Y/D + ceiling(delta/D)) = floor(Y/D) + ceiling(delta/D)``).
    With positive symbols in ``D = c*m`` (``m >= 1``), ``delta/D`` lies between 0 and
    ``delta/c``, so the pair lies in ``[min(0, floor(delta/c)), max(0, ceiling(delta/c))]``.
    A floor ``floor(Y/(k*E))`` whose coefficient shares a factor ``k`` with its constant
    divisor is first replaced: ``k*floor(Y/(k*E)) = floor(Y/E) - r`` with ``r`` in
    ``[0, k - 1]`` (so ``2*ceiling(n/2) - n`` is bounded by 0 and 1, and so is
    ``2*ceiling(n/64) - ceiling(n/32)``).  What is left unpaired must have a known sign
    (:func:`_sign`), which bounds one side.

    >>> from convsym.expr import symbol
    >>> n, four = QPoly.sym(symbol("n")), QPoly.const(4)
    >>> diff_bounds(floordiv(n + QPoly.const(7), four) - floordiv(n, four))
    (1, 2)
    >>> diff_bounds(ceildiv(n, four) - floordiv(n, four) + QPoly.const(3))
    (3, 4)
    >>> diff_bounds(n - floordiv(n, four))
    (None, None)
    >>> diff_bounds(four * ceildiv(n, four) - n)   # 4*ceiling(n/4) - n is n's gap to 4
    (0, 3)
    """
    terms = dict(d.terms)
    lo = hi = 0
    # k*floor(Y/(k*E)) = k*floor(floor(Y/E)/k) = floor(Y/E) - r with 0 <= r <= k - 1 (nested
    # floor collapse, then x = k*floor(x/k) + (x mod k)), for k dividing both the coefficient
    # and the constant divisor: the floor is replaced by a coarser one (by Y itself when
    # k = D), the remainder bounded
    for mono in list(terms):
        c = terms.get(mono, 0)  # an earlier replacement may have changed it
        if not (c and len(mono) == 1 and mono[0][1] == 1 and isinstance(mono[0][0], Floor)
                and mono[0][0].den.is_const()):
            continue
        f = mono[0][0]
        dc = f.den.const_value()
        k = gcd(c, dc)
        if k < 2:
            continue
        q = c // k
        del terms[mono]
        for m2, c2 in floordiv(f.num, QPoly.const(dc // k)).terms.items():
            total = terms.get(m2, 0) + q * c2
            if total:
                terms[m2] = total
            else:
                terms.pop(m2, None)
        if q > 0:
            lo -= q * (k - 1)
        else:
            hi -= q * (k - 1)
    const = terms.pop((), 0)
    lo += const
    hi += const
    lo_known = hi_known = True
    singles: dict[tuple[object, ...], list[tuple[Floor, int]]] = {}
    for mono, c in terms.items():
        if len(mono) == 1 and mono[0][1] == 1 and isinstance(mono[0][0], Floor):
            f = mono[0][0]
            singles.setdefault(f.den.key, []).append((f, c))
    for group in singles.values():
        pos = [(f, c) for f, c in group if c > 0]
        neg = [(f, -c) for f, c in group if c < 0]
        left = [c for _, c in neg]
        for fp, kp in pos:
            for i, (fq, _) in enumerate(neg):
                delta = (fp.num - fq.num).as_int()
                if not kp or not left[i] or delta is None:
                    continue
                m = min(kp, left[i])
                dc, dmono = _split_den(fp.den)
                if dmono:
                    low, high = min(0, delta // dc), max(0, -(-delta // dc))
                else:
                    low, high = delta // dc, -(-delta // dc)
                lo += m * low
                hi += m * high
                kp -= m
                left[i] -= m
                for f, k in ((fp, m), (fq, -m)):
                    mono = ((f, 1),)
                    rest = terms[mono] - k
                    if rest:
                        terms[mono] = rest
                    else:
                        del terms[mono]
    if terms:
        sign = _sign(QPoly._raw(terms))
        if sign is None:
            return None, None
        if sign > 0:
            hi_known = False
        else:
            lo_known = False
    return (lo if lo_known else None), (hi if hi_known else None)


def _qkey(e: QExpr) -> tuple[object, ...]:
    """A deterministic sort key for sizes (structural; never prints)."""
    if isinstance(e, Ext):
        return (1, e.kind, tuple(_qkey(a) for a in e.args))
    return (0, e.key)


# --- operations on QExpr (QPoly or Ext) ------------------------------------------------------


def add(e: QExpr, p: QPoly) -> QExpr:
    """``e + p``."""
    if type(e) is QPoly:  # (most sizes: straight to the sum)
        return e._combine(p, 1)
    if isinstance(e, Ext):
        return ext(e.kind, (add(a, p) for a in e.args))
    return e + p


def scale(e: QExpr, factor: QPoly) -> QExpr:
    """``factor * e`` for a factor that is a non-negative constant or positive symbols."""
    if isinstance(e, Ext):
        sign = _sign(factor)
        if sign is None:
            raise NotQuasiPolynomial(
                f"the sign of {to_sympy(factor)} is unknown, so its product with a "
                f"{e.kind.title()} cannot be simplified")
        kind = e.kind if sign >= 0 else ("max" if e.kind == "min" else "min")
        return ext(kind, (scale(a, factor) for a in e.args))
    return e * factor


def _sign(p: QPoly) -> int | None:
    """+1 when ``p >= 0`` for every value of its symbols, -1 when ``p <= 0``, else None.

    Decided from the signs alone: every atom non-negative (a non-negative symbol, or a
    Floor of a non-negative numerator) and every coefficient of one sign.

    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> _sign(QPoly.const(2) * n), _sign(-n), _sign(n - QPoly.const(3))
    (1, -1, None)
    """
    coeffs = list(p.terms.values())
    if not coeffs:
        return 1
    if all(c > 0 for c in coeffs):
        sign = 1
    elif all(c < 0 for c in coeffs):
        sign = -1
    else:
        return None
    for mono in p.terms:
        for atom, _ in mono:
            if isinstance(atom, Floor):
                if _sign(atom.num) != 1:
                    return None
            elif not atom.is_nonnegative:
                return None
    return sign


def lower_bound(e: QExpr) -> int | None:
    """An integer ``b`` with ``e >= b`` for every value of the symbols, from signs alone;
    None when none is seen.  Cheap and exact, for the many checks ``room >= 0`` that hold
    trivially (a window that fits any input), so they need no period analysis.

    A positive symbol is at least 1, a non-negative one at least 0; ``floor(X/(c*m))``
    (``m`` a product of positive symbols) is at least ``floor(b/c)`` for ``X >= b``, or 0
    when ``m`` is not 1 and ``b >= 0``; a term ``c*a1*...*ak`` with ``c > 0`` is at least
    ``c`` times the product of its atoms' bounds when each is non-negative (or it is a
    single atom); a term with a negative coefficient leaves no bound.  ``Min`` takes the
    least of its arguments' bounds, ``Max`` the greatest known one.  Each Floor atom's bound
    is computed once.

    >>> from convsym.expr import symbol
    >>> h = QPoly.sym(symbol("H"))
    >>> lower_bound(ceildiv(h, QPoly.const(8)) - QPoly.const(1))
    0
    >>> lower_bound(floordiv(h - QPoly.const(5), QPoly.sym(symbol("s")))), lower_bound(-h)
    (-4, None)
    """
    if isinstance(e, Ext):
        bounds = [lower_bound(a) for a in e.args]
        if e.kind == "min":
            return None if None in bounds else min(b for b in bounds if b is not None)
        return max((b for b in bounds if b is not None), default=None)
    if e.factors is not None:
        return None
    total = 0
    for mono, c in e.terms.items():
        if not mono:
            total += c
            continue
        if c < 0:
            return None
        term = c
        for atom, power in mono:
            if isinstance(atom, Floor):
                b = _floor_lower(atom)
            else:  # (_least, its commonest answer read here: a positive symbol's 1)
                known = _POSITIVE.get(id(atom))
                b = 1 if known is not None and known[0] is atom and known[1] else \
                    _least(atom)
            if b is None or (b < 0 and (len(mono) > 1 or power != 1)):
                return None
            term *= b**power
        total += term
    return total


def _floor_lower(f: Floor) -> int | None:
    if f._lower is None:
        # the numerator's bound is remembered by it (every floor's numerator keeps its
        # share of the digest there): a chain's floors share one numerator
        memo = f.num._memo
        if memo is None:
            memo = f.num._memo = {}
        b = memo.get("lower", _NO_BOUND)
        if b is _NO_BOUND:
            b = memo["lower"] = lower_bound(f.num)
        if b is not None:
            ((dmono, dc),) = f.den.terms.items()  # (a positive monomial: the floor's own)
            b = b // dc if not dmono or b < 0 else 0
        f._lower = (b,)
    return f._lower[0]


_NO_BOUND = object()


def div_floor(e: QExpr, den: QPoly) -> QExpr:
    """``floor(e/den)``, distributing over Min/Max (floor is monotone)."""
    if isinstance(e, Ext):
        result = ext(e.kind, (div_floor(a, den) for a in e.args))
        _note_monotone(e, den, "floor", result)
        return result
    return floordiv(e, den)


def _note_monotone(e: Ext, den: QPoly, kind: str, result: QExpr) -> None:
    trace = _TRACE.get()
    if trace is not None:
        trace.append(Rewrite((LEMMA_MONOTONE,), kind, e, den, result))


def div_ceil(e: QExpr, den: QPoly) -> QExpr:
    """``ceiling(e/den)``, distributing over Min/Max."""
    if isinstance(e, Ext):
        result = ext(e.kind, (div_ceil(a, den) for a in e.args))
        _note_monotone(e, den, "ceiling", result)
        return result
    return ceildiv(e, den)


def evaluate(e: QExpr, env: Mapping[sympy.Symbol, int]) -> int:
    """The integer value of ``e`` for integer symbol values."""
    return e.evaluate(env)


def subs(e: QExpr, env: Mapping[sympy.Symbol, QPoly]) -> QExpr:
    """Substitute and re-canonicalise."""
    if isinstance(e, Ext):
        return ext(e.kind, (subs(a, env) for a in e.args))
    return e.subs(env)


def free_symbols(e: QExpr) -> set[sympy.Symbol]:
    """Every symbol in ``e``."""
    if isinstance(e, Ext):
        return set().union(*(free_symbols(a) for a in e.args))
    return e.free_symbols()


def as_int(e: QExpr) -> int | None:
    """The integer value when ``e`` has no symbols."""
    if isinstance(e, Ext):
        return None
    return e.as_int()


def iter_floors(e: QExpr) -> Iterator[Floor]:
    """Every Floor atom in ``e``, outermost first, recursively."""
    stack: list[QExpr] = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, Ext):
            stack.extend(x.args)
            continue
        for f in x.floors():
            yield f
            stack.append(f.num)


# --- conversion -----------------------------------------------------------------------------


def from_sympy(expr: sympy.Basic) -> QExpr:
    """Convert an integer-valued SymPy expression to canonical form (memoised: a user's size
    is converted again for every layer that holds it, and expanding a power can be costly).

    Accepts integers, integer symbols, ``+``, ``*``, non-negative integer powers, ``floor``
    and ``ceiling`` of a quotient by a positive monomial, ``Mod`` by one, ``Min``, ``Max`` and
    ``Abs`` of a polynomial (as ``Max(a, -a)``).
    Raises :class:`NotQuasiPolynomial` otherwise (for example ``n/2`` on its own).

    >>> from convsym.expr import parse_expr
    >>> to_sympy(from_sympy(parse_expr("floor((floor((n-1)/2)+1 + 2 - 3)/2) + 1")))
    ceiling(n/4)
    """
    if isinstance(expr, (sympy.Integer, sympy.Symbol)) or _TRACE.get() is not None:
        return _from_sympy(expr)  # a traced conversion records its lemmas every time
    key = (expr, current_budgets())  # under other budgets the same text may be refused
    found = _CONVERTED.get(key)
    if found is None:
        found = _from_sympy(expr)
        if len(_CONVERTED) >= 4096:
            _CONVERTED.clear()  # bounded memory; a miss only costs converting again
        _CONVERTED[key] = found
    return found


_CONVERTED: dict[tuple[sympy.Basic, Budgets], QExpr] = {}


def _from_sympy(expr: sympy.Basic) -> QExpr:
    if isinstance(expr, sympy.Integer):
        return QPoly.const(int(expr))
    if isinstance(expr, sympy.Symbol):
        if not expr.is_integer:
            raise NotQuasiPolynomial(f"symbol {expr} is not declared integer")
        return QPoly.sym(expr)
    if isinstance(expr, sympy.Add):
        parts = [from_sympy(a) for a in expr.args]
        polys = [p for p in parts if isinstance(p, QPoly)]
        exts = [p for p in parts if isinstance(p, Ext)]
        total = reduce(lambda a, b: a + b, polys, QPoly())
        if not exts:
            return total
        if len(exts) > 1:
            raise NotQuasiPolynomial(f"sum of several Min/Max in {expr}")
        return add(exts[0], total)
    if isinstance(expr, sympy.Mul):
        coeff, rest = expr.as_coeff_Mul()
        if coeff.is_Rational and coeff.q != 1:
            # a rational times what SymPy knows is a multiple of its denominator: floor()
            # returns Min(2*m, 2*n)/2 as it is, an integer
            return _divide_exactly(from_sympy(rest * coeff.p), coeff.q, expr)
        parts = [from_sympy(a) for a in expr.args]
        result: QExpr = QPoly.const(1)
        for p in parts:
            if isinstance(p, Ext):
                if not isinstance(result, QPoly):
                    raise NotQuasiPolynomial(f"product of several Min/Max in {expr}")
                result = scale(p, result)
            elif isinstance(result, Ext):
                result = scale(result, p)
            else:
                result = result * p
        return result
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        if isinstance(exponent, sympy.Integer) and int(exponent) >= 0:
            b = from_sympy(base)
            k = int(exponent)
            if isinstance(b, QPoly) and len(b.terms) == 1 and k <= 100_000:
                ((mono, c),) = b.terms.items()  # a monomial: raise every exponent at once
                _check_exponent(k * sum(e for _, e in mono))
                return QPoly({tuple((a, e * k) for a, e in mono): c**k})
            if isinstance(b, QPoly) and k <= 64:
                _check_power_terms(b, k)
                return b**k
        raise NotQuasiPolynomial(f"power {expr} is not a polynomial power")
    if isinstance(expr, (sympy.floor, sympy.ceiling)):
        num, den = _quotient(expr.args[0])
        if isinstance(num, Ext):
            return (div_floor if isinstance(expr, sympy.floor) else div_ceil)(num, den)
        return (floordiv if isinstance(expr, sympy.floor) else ceildiv)(num, den)
    if isinstance(expr, sympy.Mod):
        a, b = (from_sympy(x) for x in expr.args)
        if isinstance(a, QPoly) and isinstance(b, QPoly):
            result = a - b * floordiv(a, b)
            trace = _TRACE.get()
            if trace is not None:
                trace.append(Rewrite((LEMMA_MOD,), "mod", a, b, result))
            return result
        raise NotQuasiPolynomial(f"Mod of Min/Max in {expr}")
    if isinstance(expr, (sympy.Min, sympy.Max)):
        return ext("min" if isinstance(expr, sympy.Min) else "max",
                   (from_sympy(a) for a in expr.args))
    if isinstance(expr, sympy.Abs):  # |a| = max(a, -a), exactly
        a = from_sympy(expr.args[0])
        if isinstance(a, QPoly):
            return ext("max", (a, -a))
    raise NotQuasiPolynomial(f"{expr} is not an integer quasi-polynomial")


def _divide_exactly(e: QExpr, q: int, expr: sympy.Basic) -> QExpr:
    """``e / q`` (``q > 0``) when every coefficient is a multiple of ``q``, else refused."""
    if isinstance(e, Ext):  # a positive divisor keeps the order of Min/Max arguments
        return ext(e.kind, (_divide_exactly(a, q, expr) for a in e.args))
    if any(c % q for c in e.terms.values()):
        raise NotQuasiPolynomial(f"{expr} is not an integer quasi-polynomial")
    return QPoly({m: c // q for m, c in e.terms.items()})


def _quotient(arg: sympy.Basic) -> tuple[QExpr, QPoly]:
    """Split the argument of floor/ceiling into (integer numerator, positive monomial)."""
    num, den = sympy.fraction(sympy.together(arg))
    content, _ = num.as_content_primitive()
    if content.is_Rational and content.q != 1:
        # together() may leave a rational inside the numerator: (n*s - 2*s)/(2*s) gives
        # (n/2 - 1, 1); scale both sides by the content's denominator
        num, den = sympy.expand(num * content.q), den * content.q
    d = from_sympy(den)
    if not isinstance(d, QPoly):
        raise NotQuasiPolynomial(f"divisor {den} is a Min/Max")
    _split_den(d)
    # from_sympy expands products and powers itself, within the term budget (sympy.expand
    # of (a+b+c+d+e+f+g+h)**64 would not return)
    return from_sympy(num), d


def shown_briefly(e: QExpr, limit: int = 120) -> str:
    """The text of ``e`` for a message, from at most a few of its terms when it is huge (its
    full display would cost seconds only to be cut to ``limit`` characters).

    >>> from convsym.expr import symbol
    >>> shown_briefly((QPoly.sym(symbol("a")) + QPoly.sym(symbol("b"))) ** 60, 60)
    'a**60 + 60*a**59*b + b**60 + ... (61 terms)'
    """
    if isinstance(e, QPoly) and (e.factors is not None or len(e.terms) > 40):
        if e.factors is not None:
            return shorten(" * ".join(f"({shown_briefly(f, limit)})" for f in e.factors), limit)
        first = sorted(e.terms.items(), key=lambda item: _mkey(item[0]))[-3:][::-1]
        tail = f" + ... ({len(e.terms)} terms)"
        return shorten(str(to_sympy(QPoly(dict(first)))), max(limit - len(tail), 20)) + tail
    return shorten(to_sympy(e), limit)


def to_sympy(e: QExpr) -> sympy.Expr:
    """The SymPy expression for display, choosing the simplest floor/ceiling form.

    Products of floors are shown factored: ``4*floor((H - 1)/2)*floor((W - 1)/2)``.
    Results are memoised per (immutable) size, so a floor atom shared by many rows, axes,
    MAC counts and totals is converted once.
    """
    if isinstance(e, QPoly) and e.factors is not None:
        # a product kept factored is shown factored (its factors are memoised)
        return sympy.Mul(*(to_sympy(f) for f in e.factors))
    cached = _SHOWN.get(e)
    if cached is None:
        cached = _STAGED.done.get(e)
    if cached is not None:
        return cached
    if not _STAGED.active:
        return _outermost(e)
    if _STAGED.nesting >= _STAGE_DEPTH:
        raise _Deeper(e)
    return _convert(e)


class _Deeper(BaseException):
    """A conversion nested :data:`_STAGE_DEPTH` deep: ``e`` is converted first, on its own.

    A BaseException, so that no ``except Exception`` on the way up takes it for a failure.
    """

    def __init__(self, e: QExpr) -> None:
        super().__init__()
        self.e = e


class _Stages(threading.local):
    """Per thread: conversions on the stack, and results pinned until the outermost one
    returns (the display memo may be cleared in between)."""

    def __init__(self) -> None:
        self.active = False  # an outermost conversion is running (it catches _Deeper)
        self.nesting = 0
        self.done: dict[QExpr, sympy.Expr] = {}


_STAGED = _Stages()
_STAGE_DEPTH = 24
"""Nested conversions on the stack before the next one is staged (each nesting level of a
floor costs about a dozen Python frames; 24 stay far inside Python's recursion limit)."""


def _convert(e: QExpr) -> sympy.Expr:
    _STAGED.nesting += 1
    try:
        shown = _to_sympy(e)
    finally:
        _STAGED.nesting -= 1
    _remember(_SHOWN, e, shown)
    return shown


def _outermost(e: QExpr) -> sympy.Expr:
    """``e`` converted without deep recursion, however deep its floors are nested.

    The size of layer n of a chain with a symbolic stride per layer holds n nested floors,
    and the display of each is built from the display of the floor inside it: converted
    outside in, layer 300's size needs thousands of frames.  Here a conversion that reaches
    :data:`_STAGE_DEPTH` nested conversions stops, the innermost one is converted first on
    its own (pinned), and the outer one is tried again: it now stops where the pinned one
    is found.  Each level is converted about twice, and the stack never holds more than
    :data:`_STAGE_DEPTH` of them.
    """
    pending = [e]
    # (set afresh, not counted back: an exception landing in _convert's finally, an alarm
    # or an interrupt, cannot leave a later conversion without its outermost catcher)
    _STAGED.active, _STAGED.nesting = True, 0
    try:
        while True:
            try:
                shown = _convert(pending[-1])
            except _Deeper as deeper:
                pending.append(deeper.e)
                continue
            done = pending.pop()
            if not pending:
                return shown
            _STAGED.done[done] = shown
    finally:
        _STAGED.active, _STAGED.nesting = False, 0
        _STAGED.done.clear()


# Display memo: sizes and floor atoms are immutable, so their SymPy form never changes.  A
# deep network repeats each floor atom in its row, the next layer's MACs, every axis and the
# totals; without the memo each repeat pays SymPy's assumption queries again.
_SHOWN: dict[QExpr, sympy.Expr] = {}
_FLOOR_SHOWN: dict[tuple[Floor, int], tuple[sympy.Expr, int]] = {}
_TERM_SHOWN: dict[tuple[Monomial, int], sympy.Expr] = {}
_MUL_ORDER = cmp_to_key(deep.compare)  # Mul's canonical order of its factors (iterative)
_MEMO_LIMIT = 1 << 16


def _remember(memo: dict, key: object, value: object) -> None:  # type: ignore[type-arg]
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()  # bounded memory; a miss only costs the conversion again
    memo[key] = value


def _to_sympy(e: QExpr) -> sympy.Expr:
    if isinstance(e, Ext):
        cls = sympy.Min if e.kind == "min" else sympy.Max
        return cls(*(to_sympy(a) for a in e.args), evaluate=False)
    if len(e.terms) <= 1 and (not e.terms or () in e.terms):
        return sympy.Integer(e.terms.get((), 0))  # a constant (most parameter counts)
    if len(e.terms) > 2 and any(len(m) > 1 or (m and m[0][1] > 1) for m in e.terms) and \
            any(isinstance(a, Floor) for a in e.atoms()):
        factored = _factored(e)
        if factored is not None:
            return factored
    return _to_sympy_flat(e)


def _factored(e: QPoly) -> sympy.Expr | None:
    """``e`` as a product of simpler factors, each displayed on its own, or None."""
    linear = _linear_factors(e)
    if linear is not None:  # a MAC count: k * (out_h) * (out_w), without factor_list
        k, factors = linear
        shown = [_to_sympy_flat(f) for f in factors]
        # SymPy distributes a number over a sum it multiplies first, and factor_list's order
        # of factors is its own: only without such a sum is the product the same either way
        plain = _plain_product(k, shown)
        if plain is not None:
            return plain
        if k == 1 or not any(x.is_Add for x in shown):
            result: sympy.Expr = sympy.Integer(k)
            for x in shown:
                result = result * x
            return result
    return _factor_list(e)


def _plain_product(k: int, shown: list[sympy.Expr]) -> sympy.Expr | None:
    """``k * prod(shown)`` when the factors are distinct symbols, floors and ceilings, or
    integer powers of them (a kernel area ``k**2``): Mul.flatten's canonical form directly
    (the coefficient first unless 1, the rest sorted by Basic.compare), without its
    assumption queries on every new floor (a deep network's MACs); else None."""
    bases = [x.base if isinstance(x, sympy.Pow) and x.exp.is_Integer and x.exp > 1 else x
             for x in shown]
    if not all(isinstance(b, (sympy.Symbol, sympy.floor, sympy.ceiling)) for b in bases) \
            or len(set(bases)) != len(bases):
        return None
    shown = sorted(shown, key=_MUL_ORDER)
    if k == 1:
        return shown[0] if len(shown) == 1 else _canonical_mul(shown)
    return _canonical_mul([sympy.Integer(k), *shown])


def _canonical_mul(factors: list[sympy.Expr]) -> sympy.Expr:
    """``Mul._from_args(factors)`` for two or more factors already in ``Mul``'s canonical
    order, with the product's commutativity read off its factors cheaply: a floor's is its
    argument's (``Function._eval_is_commutative``), which ``Mul``/``Add``/``Pow`` store when
    built.  ``_from_args`` would ask each new floor through the assumption system (about
    ten microseconds each, two floors in every layer's MACs); when a factor's answer is
    not known that cheaply, it does."""
    commutative = all(deep.commutative(f) is True for f in factors) or None
    return sympy.Mul._from_args(factors, commutative)


def _linear_factors(e: QPoly) -> tuple[int, list[QPoly]] | None:
    """``(k, [B_j**e_j, ..., q_i*A_i + p_i, ...])`` when
    ``e = k * prod(B_j**e_j) * prod(q_i*A_i + p_i)``, two or more factors in all, the
    ``B_j**e_j`` the monomial common to every term (a kernel area ``k**2``) and the rest
    linear in distinct atoms ``A_i`` with ``q_i > 0`` and ``gcd(q_i, p_i) = 1``, else None.

    These are the factors ``sympy.factor_list`` returns (each is linear in one atom with
    coprime coefficients, hence irreducible and primitive; by Gauss's lemma the product is
    primitive, so ``k`` is the content), found in time linear in the terms: the top
    monomial's coefficient gives ``k*prod(q_i)``, each ``A_i``'s cofactor the ratio
    ``p_i/q_i``, and the expansion is compared term by term.
    """
    common = _common_monomial(e)
    content = [QPoly._raw({((a, p),): 1}) for a, p in common]
    if common:
        e = QPoly._raw({_mono_div(m, common) or (): c for m, c in e.terms.items()})
    atoms = sorted(e.atoms(), key=_akey)
    if not 2 <= len(atoms) + len(content) or len(atoms) > 6 or \
            len(e.terms) > 1 << len(atoms) or any(p != 1 for m in e.terms for _, p in m):
        return None
    top = tuple((a, 1) for a in atoms)
    lead = e.terms.get(top)
    if not lead:
        return None
    factors: list[QPoly] = []
    denominator = 1
    for a in atoms:
        rest = tuple((b, 1) for b in atoms if b != a)
        p = e.terms.get(rest, 0)  # p_i / q_i = p / lead, in lowest terms with q_i > 0
        g = gcd(p, lead) * (1 if lead > 0 else -1)
        p, q = p // g, lead // g
        factors.append(QPoly._raw({((a, 1),): q, **({(): p} if p else {})}))
        denominator *= q
    if lead % denominator:
        return None
    k = lead // denominator
    # the expansion of k * prod(q_i*A_i + p_i), term by term: for each subset of the atoms,
    # the product of their q_i and the other factors' p_i (monomials in the atoms' order,
    # the canonical one); compared with e without multiplying polynomials
    expanded: dict[Monomial, int] = {(): k}
    for a, f in zip(atoms, factors):
        q, p = f.terms[((a, 1),)], f.terms.get((), 0)
        grown: dict[Monomial, int] = {}
        for mono, c in expanded.items():
            if p:
                grown[mono] = c * p
            grown[mono + ((a, 1),)] = c * q
        expanded = grown
    return (k, content + factors) if expanded == e.terms else None


def _common_monomial(e: QPoly) -> Monomial:
    """The largest monomial dividing every term of ``e`` (``()`` for none)."""
    common: dict[Atom, int] | None = None
    for mono in e.terms:
        if common is None:
            common = dict(mono)
        else:
            here = dict(mono)
            common = {a: min(p, here[a]) for a, p in common.items() if a in here}
        if not common:
            return ()
    return tuple(sorted((common or {}).items(), key=lambda item: _akey(item[0])))


FACTOR_ATOMS = 16
FACTOR_TERMS = 64
"""Largest polynomial (distinct atoms, terms) handed to ``sympy.factor_list`` for display;
a larger one is shown expanded.  Multivariate factoring grows steeply with the atoms: the
difference of two deep networks' MAC totals (45 floors, 60 terms) took 40 s, and 300 layers
would take hours; at these caps the worst measured was about half a second."""


def _factor_list(e: QPoly) -> sympy.Expr | None:
    atoms = sorted(e.atoms(), key=_akey)
    if len(atoms) > FACTOR_ATOMS or len(e.terms) > FACTOR_TERMS:
        return None
    dummies = [sympy.Dummy(f"a{i}") for i in range(len(atoms))]
    back = dict(zip(dummies, atoms))
    flat = sympy.Add(*(c * sympy.Mul(*(dummies[atoms.index(a)] ** p for a, p in m))
                       for m, c in e.terms.items()))
    coeff, factors = sympy.factor_list(flat)
    if len(factors) < 2 and not (factors and factors[0][1] > 1):
        return None
    result: sympy.Expr = sympy.Integer(coeff)
    for factor, power in factors:
        poly = sympy.Poly(factor, *dummies)
        q = QPoly()
        for monom, c in poly.terms():
            term = QPoly.const(int(c))
            for d, p in zip(dummies, monom):
                if p:
                    term = term * QPoly.atom(back[d]) ** p
            q = q + term
        result = result * _to_sympy_flat(q) ** power
    return result


def _to_sympy_flat(e: QPoly) -> sympy.Expr:
    terms = dict(e.terms)
    const = terms.pop((), 0)
    absorbed = None
    # fold the constant into a lone unit-coefficient floor: floor(X/D) + c = floor((X+cD)/D)
    unit_floors = [m for m, c in terms.items() if c == 1 and len(m) == 1 and m[0][1] == 1
                   and isinstance(m[0][0], Floor)]
    if len(unit_floors) == 1:
        absorbed = unit_floors[0]
        del terms[absorbed]
    parts: list[sympy.Expr] = []
    for mono, c in sorted(terms.items(), key=lambda item: _mkey(item[0])):
        factor = _TERM_SHOWN.get((mono, c))
        if factor is None:  # terms repeat across sizes (k0 is in every later layer's size)
            factor = _term_sympy(mono, c)
            _remember(_TERM_SHOWN, (mono, c), factor)
        parts.append(factor)
    if absorbed is not None:
        floor_atom = absorbed[0][0]
        assert isinstance(floor_atom, Floor)
        shown, rest = _floor_display(floor_atom, const)
        parts.append(shown)
        const = rest
    if const:
        parts.append(sympy.Integer(const))
    if len(parts) == 1:  # Add(x) and Add(x, 0) are x: a lone floor needs no flatten
        return parts[0]
    return _canonical_add(parts)


def _canonical_add(parts: list[sympy.Expr]) -> sympy.Expr:
    """``sympy.Add(*parts)`` for two or more parts: the terms of a polynomial's distinct
    monomials, a floor, and last, perhaps, the constant.

    When no part is a sum or a number (but the last), each is commutative (read cheaply:
    :func:`convsym.deep.commutative`) and no two share their non-numeric factors, nothing
    of ``Add.flatten`` applies but its canonical order (``Basic.compare``, the constant
    first): the sum is built in that order directly.  ``Add.flatten`` would also make
    every term with a coefficient anew, so that no two layers' sizes share their terms'
    objects (``-k0`` is in every size of a chain with a symbolic kernel per layer) and the
    printers' memos, keyed by identity, missed them all.  Otherwise, SymPy's own.
    """
    const = parts[-1] if parts[-1].is_Number else None
    if const is not None and (const.is_zero or not const.is_Rational):
        return sympy.Add(*parts)  # a floor displayed as 0 (floor((s - 1)/s)): Add drops it
    terms = parts[:-1] if const is not None else list(parts)
    rests = set()
    for t in terms:
        if t.is_Number or t.is_Add or deep.commutative(t) is not True or \
                (t.is_Pow and t.base.is_Number):
            return sympy.Add(*parts)
        rests.add(t.as_coeff_Mul()[1])
    if len(rests) < len(terms):
        return sympy.Add(*parts)  # two terms to collect
    terms.sort(key=_MUL_ORDER)
    return sympy.Add._from_args([const, *terms] if const is not None else terms, True)


def _term_sympy(mono: Monomial, c: int) -> sympy.Expr:
    """``c * prod(atom**p)`` as SymPy evaluates it.

    A monomial in plain symbols is built directly in SymPy's canonical form (``Mul.flatten``:
    the coefficient first unless it is 1, then the distinct powers sorted by
    ``Basic.compare``), without a flatten per term; a polynomial of thousands of terms
    (a hostile input's expansion) is shown in a fraction of the time.
    tests/unit/test_intdiv.py checks it against SymPy's own construction.
    """
    if mono and all(not isinstance(a, Floor) for a, _ in mono):
        powers = [a if p == 1 else sympy.Pow(a, p) for a, p in mono]
        if len(powers) > 1:
            powers.sort(key=_MUL_ORDER)
        if c == 1:
            return powers[0] if len(powers) == 1 else _canonical_mul(powers)
        return _canonical_mul([sympy.Integer(c), *powers])
    factors = [_atom_sympy(a) for a, _ in mono]
    if all(p == 1 for _, p in mono):  # a layer's MACs, c*floor(..)*floor(..)
        plain = _plain_product(c, factors)
        if plain is not None:
            return plain
    return sympy.Mul(sympy.Integer(c), *(x ** p for x, (_, p) in zip(factors, mono)))


def _atom_sympy(atom: Atom) -> sympy.Expr:
    if isinstance(atom, Floor):
        shown, rest = _floor_display(atom, 0)
        return shown + rest if rest else shown
    return atom


def _floor_display(f: Floor, outer: int) -> tuple[sympy.Expr, int]:
    """The simplest ``floor(Y/D)`` or ``ceiling(Y/D)`` plus constant equal to F + outer.

    Candidates are scored on the canonical form; only the winner is built in SymPy (each
    SymPy ``floor`` runs assumption queries, milliseconds on a deep network's sizes).
    """
    key = (f, outer)
    cached = _FLOOR_SHOWN.get(key)
    if cached is not None:
        return cached
    x = f.num
    dc, dmono = _split_den(f.den)
    c0 = x.terms.get((), 0)
    shifts = [0, outer]
    if not dmono:
        shifts += [-(c0 // dc), -(c0 // dc) + 1]
    # The candidates differ from X only in their constant and their multiple of D's
    # monomial, so each is scored from those two coefficients; only the winner is built.
    a0 = x.terms.get(dmono, 0) if dmono else 0
    others = len(x.terms) - (c0 != 0) - (a0 != 0)
    best: tuple[tuple[int, int, int], int, bool] | None = None
    for t in dict.fromkeys(shifts):  # each shift once (outer is often 0)
        # floor(X/D) + outer = floor((X + tD)/D) + (outer - t)
        #                    = ceiling((X + tD - D + 1)/D) + (outer - t)
        rest = outer - t
        for ceiling in (False, True):
            if dmono:
                const, multiple = c0 + ceiling, a0 + (t - ceiling) * dc
            else:
                const, multiple = c0 + (t - ceiling) * dc + ceiling, 0
            score = (others + (const != 0) + (multiple != 0) + (rest != 0),
                     abs(const) + abs(rest), int(ceiling))
            if best is None or score < best[0]:  # the first of equal scores wins
                best = (score, t, ceiling)
    assert best is not None
    _, t, ceiling = best
    # the winner: X with its constant and its multiple of D's monomial replaced (what
    # X + tD, and - D + 1 for a ceiling, give)
    terms = dict(x.terms)
    changed: tuple[tuple[Monomial, int], ...]
    if dmono:
        changed = ((dmono, a0 + (t - ceiling) * dc), ((), c0 + ceiling))
    else:
        changed = (((), c0 + (t - ceiling) * dc + ceiling),)
    for mono, c in changed:
        if c:
            terms[mono] = c
        else:
            terms.pop(mono, None)
    num = QPoly._raw(terms)
    rest = outer - t
    shown = _round(sympy.ceiling if ceiling else sympy.floor, num, f)
    result = (shown, rest)
    _remember(_FLOOR_SHOWN, key, result)
    return result


def _round(cls: type[sympy.floor] | type[sympy.ceiling], num: QPoly, f: Floor
           ) -> sympy.Expr:
    """``cls(num/den)`` as SymPy evaluates it, without its assumption queries when the
    outcome is known; ``num`` is ``f``'s numerator but for its constant and its multiple
    of ``f``'s divisor ``den``.

    SymPy's ``RoundFunction.eval`` returns ``cls(arg)`` unevaluated plus the integer terms
    of ``arg`` unless it can prove ``arg`` an integer, a number, or inside a bounded
    interval (its ``_eval_const_number``).  When ``num`` is a polynomial in plain symbols
    with a term in a symbol ``x`` that ``den`` lacks, none of these can be proved, because
    none holds: fixing the other symbols where ``x``'s coefficient is non-zero leaves a
    non-constant polynomial in ``x``, so ``arg`` is unbounded; and that term is not a
    multiple of ``den`` (``x`` is not in ``den``), so ``arg`` is not always an integer.
    Then the integer terms of ``arg`` (each ``c*m`` with ``c`` integer; with a symbolic
    ``den``, ``arg`` is one product, never integer) are exactly what SymPy would pull out.
    tests/unit/test_intdiv.py checks equality with SymPy's own evaluation.
    """
    den = f.den
    quick = _one_term_quotient(num, den)
    if quick is not None:  # one product, never an integer: cls(arg) stays unevaluated
        return _unevaluated(cls, quick)
    arg = _sum_quotient(num, den)
    if not isinstance(arg, sympy.Add) and _unbounded_fraction(num, f):
        return _unevaluated(cls, arg)
    den_atoms = {a for m in den.terms for a, _ in m}
    free = any(mono and all(not isinstance(a, Floor) for a, _ in mono) for mono in num.terms)
    if not free or any(isinstance(a, Floor) for m in num.terms for a, _ in m) or \
            not any(a not in den_atoms for m in num.terms for a, _ in m):
        return cls(arg)
    ipart = sympy.Integer(0)
    spart: list[sympy.Expr] = []
    for term in sympy.Add.make_args(arg):
        coeff, _ = term.as_coeff_Mul()
        if term.is_Integer or (coeff.is_Integer and not term.is_Pow and
                               _integer_product(term)):
            ipart += term
        else:
            spart.append(term)
    return ipart + _unevaluated(cls, sympy.Add(*spart))


_NARGS: dict[type, sympy.Basic] = {}


def _unevaluated(cls: type[sympy.floor] | type[sympy.ceiling], arg: sympy.Expr
                 ) -> sympy.Expr:
    """``cls(arg, evaluate=False)``, the same object built without SymPy's per-call work.

    ``Application.__new__`` with ``evaluate=False`` is ``Basic.__new__`` plus an ``nargs``
    set it builds anew each time (a SymPy ``FiniteSet``, most of the cost of each floor of
    a deep network's display); the set is the same for every floor, so it is built once.
    tests/unit/test_intdiv.py checks equality with SymPy's own construction.
    """
    nargs = _NARGS.get(cls)
    if nargs is None:
        nargs = _NARGS[cls] = cls(sympy.Symbol("x"), evaluate=False).nargs
    obj = sympy.Basic.__new__(cls, arg)
    obj.nargs = nargs
    return obj


def _sum_quotient(num: QPoly, den: QPoly) -> sympy.Expr:
    """``to_sympy(num) / to_sympy(den)``, built directly in SymPy's canonical form when
    ``num`` is a sum and ``den`` has a symbol.

    ``Mul.flatten`` keeps a sum as one factor unless the product is a number times that
    sum alone (then it distributes): with a symbolic divisor the quotient is the rational
    ``1/c`` (unless 1) followed by the sum and the powers ``s**-e`` sorted by
    ``Basic.compare``.  Dividing the usual way flattens the divisor's power and queries
    the assumptions of every factor, the square of the depth over a chain with one
    symbolic stride per layer.  tests/unit/test_intdiv.py checks it against SymPy.
    """
    ((dmono, dc),) = den.terms.items()
    top = to_sympy(num)
    if not dmono or not isinstance(top, sympy.Add) or dc <= 0 or \
            any(isinstance(a, Floor) for a, _ in dmono):
        return top / to_sympy(den)
    factors = [top, *(sympy.Pow(a, -e, evaluate=False) for a, e in dmono)]
    factors.sort(key=_MUL_ORDER)
    coeff = sympy.Rational(1, dc)
    return _canonical_mul(factors if coeff == 1 else [coeff, *factors])


def _one_term_quotient(num: QPoly, den: QPoly) -> sympy.Expr | None:
    """``num/den`` built directly in SymPy's canonical form when ``num`` is one term in plain
    symbols, one of them absent from ``den`` (``H/s**1000`` of a stride chain, ``H/2**500``
    of a stride-2 chain): the coefficient (a rational) first unless 1, then the powers
    sorted by ``Basic.compare``, as ``Mul.flatten`` leaves them; else None.  Building it the
    usual way runs SymPy's assumption queries on every new power, a millisecond per layer.
    """
    if len(num.terms) != 1 or len(den.terms) != 1:
        return None
    ((mono, c),) = num.terms.items()
    ((dmono, dc),) = den.terms.items()
    if dc <= 0 or any(isinstance(a, Floor) for a, _ in mono + dmono):
        return None
    powers = dict(mono)
    below = dict(dmono)
    if all(a in below for a in powers):
        return None  # no symbol of its own (it could be bounded): SymPy decides
    for a, e in dmono:
        powers[a] = powers.get(a, 0) - e
    if c % dc == 0 and all(e >= 0 for e in powers.values()):
        return None  # an integer product: SymPy pulls it out of the floor
    factors = [symbol_power(a, e) for a, e in powers.items() if e]
    factors.sort(key=_MUL_ORDER)
    if c == dc:  # the coefficient c/dc is 1 (dc > 0): no Rational to build
        return _canonical_mul(factors)
    return _canonical_mul([sympy.Rational(c, dc), *factors])


def _unbounded_fraction(num: QPoly, f: Floor) -> bool:
    """True when ``num/den`` is unbounded (in both senses: no interval of the real line
    holds it) and not always an integer, shown cheaply: ``num`` runs without bound along a
    symbol that ``den`` lacks (:func:`directions`), and ``num`` is not a multiple of ``den``
    at one of the :data:`PROBES` points.  ``den`` is ``f``'s divisor and ``num`` differs from
    ``f``'s numerator only in terms of ``den``'s symbols alone (its constant and its multiple
    of ``den``): along every other symbol both move alike, so the symbols are those of
    :meth:`Floor.directions` (remembered by the floor, and found for a chain's every floor
    while it was built).

    Then SymPy's ``RoundFunction.eval`` on an argument of one term (not a sum) returns
    ``cls(arg)`` unevaluated, whatever its assumption queries find, as long as they are
    sound: the argument is not provably zero, an integer, infinite, imaginary, or in
    ``[0, 2)`` or ``[-2, 0)`` (its ``_eval_const_number``), and its only term has symbols.
    Those queries on a nested floor (a chain with its own kernel and stride per layer)
    recurse through every floor inside, exponentially in the depth.
    """
    rise, fall = f.directions()
    if not (rise or fall):
        return False
    den = f.den
    return _lone_term(num, den) or any(probe(num, i) % probe(den, i) for i in range(PROBES))


def _lone_term(num: QPoly, den: QPoly) -> bool:
    """True when ``num`` has a term ``c*x`` whose symbol ``x`` occurs nowhere else (not in
    another term, a floor or ``den``) and ``den`` can exceed ``|c|`` (it has a symbol) or
    does not divide ``c``: then ``num`` moves by ``c`` as ``x`` moves by 1, so ``num/den``
    is not always an integer (``-k7`` in a chain's ``floor((... - k7 + 1)/s7)``)."""
    ((dmono, dc),) = den.terms.items()
    seen: dict[Atom, int] = {}
    for mono in num.terms:
        for atom, _ in mono:
            seen[atom] = seen.get(atom, 0) + 1
    for mono, c in num.terms.items():
        if len(mono) == 1 and mono[0][1] == 1 and not isinstance(mono[0][0], Floor) and \
                seen[mono[0][0]] == 1 and (dmono or c % dc):
            x = mono[0][0]
            if x not in dict(dmono) and all(x not in f.symbols() for f in num.floors()):
                return True
    return False


def _integer_product(term: sympy.Expr) -> bool:
    """True for an integer times a product of non-negative powers of symbols."""
    for factor in sympy.Mul.make_args(term):
        base, exponent = factor.as_base_exp()
        if not (factor.is_Integer or (base.is_Symbol and exponent.is_Integer and exponent > 0)):
            return False
    return True
