"""Exact sets of integers: finite points and arithmetic progressions, possibly infinite.

An :class:`IntSet` is a finite union of :class:`Progression` s ``{start + step*t : t >= 0}``
(infinite, ``last is None``) or ``start, start + step, ..., last`` (finite).  Normalising
merges residue classes into coarser ones where that is exact and moves stray points into the
progressions they extend, so the U-Net answer reads ``n = 16t + 12, t >= 11``.

>>> s = IntSet.of([Progression(188, 16), Progression(3, 1, 4)])
>>> s.describe("n")
'n in {3, 4} or n = 16t + 12, t >= 11 (188, 204, 220, ...)'
>>> 204 in s, 205 in s, s.smallest(4)
(True, False, [3, 4, 188, 204])
>>> IntSet.of([Progression(3, 2), Progression(4, 2)]).describe("x")
'x >= 3'
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from math import lcm
from typing import Any

EXPAND_LIMIT = 4096
"""Finite progressions with at most this many members are kept as single points."""


@dataclass(frozen=True, order=True)
class Progression:
    """``start, start + step, ...`` up to ``last`` (inclusive), or forever when ``last`` is None."""

    start: int
    step: int = 1
    last: int | None = None

    def __post_init__(self) -> None:
        if self.step < 1:
            raise ValueError(f"step {self.step} must be >= 1")
        if self.last is not None and (self.last < self.start or
                                      (self.last - self.start) % self.step):
            raise ValueError(f"bad progression {self}")

    @property
    def finite(self) -> bool:
        """True when the progression stops."""
        return self.last is not None

    def __len__(self) -> int:
        return self.size

    @property
    def size(self) -> int:
        """The number of values (``len()`` fails beyond ``sys.maxsize``; this does not)."""
        if self.last is None:
            raise OverflowError("an infinite progression has no length")
        return (self.last - self.start) // self.step + 1

    def __contains__(self, x: object) -> bool:
        if not isinstance(x, int):
            return False
        if x < self.start or (self.last is not None and x > self.last):
            return False
        return (x - self.start) % self.step == 0

    def __iter__(self) -> Iterator[int]:
        if self.last is None:
            return itertools.count(self.start, self.step)
        return iter(range(self.start, self.last + 1, self.step))


class IntSet:
    """A normalised finite union of progressions (see the module docstring)."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[Progression, ...]) -> None:
        self.parts = parts

    # --- construction --------------------------------------------------------------------
    @staticmethod
    def of(parts: Iterable[Progression]) -> IntSet:
        """The union of ``parts``, normalised."""
        return IntSet(_normalise(list(parts)))

    @staticmethod
    def empty() -> IntSet:
        """The empty set."""
        return IntSet(())

    @staticmethod
    def points(values: Iterable[int]) -> IntSet:
        """A finite set."""
        return IntSet.of(Progression(v, 1, v) for v in values)

    @staticmethod
    def interval(lo: int, hi: int | None) -> IntSet:
        """``lo <= x <= hi`` (``hi`` None: no upper end)."""
        if hi is not None and hi < lo:
            return IntSet.empty()
        return IntSet.of([Progression(lo, 1, hi)])

    def union(self, other: IntSet) -> IntSet:
        """The union of two sets."""
        return IntSet.of(self.parts + other.parts)

    def clip(self, lo: int, hi: int | None) -> IntSet:
        """The members within ``lo <= x <= hi``."""
        out = []
        for p in self.parts:
            start = p.start if p.start >= lo else p.start + -(-(lo - p.start) // p.step) * p.step
            last = p.last
            if hi is not None:
                top = hi if last is None else min(last, hi)
                if top < start:
                    continue
                last = start + (top - start) // p.step * p.step
            if last is not None and last < start:
                continue
            out.append(Progression(start, p.step, last))
        return IntSet.of(out)

    # --- inspection ----------------------------------------------------------------------
    @property
    def is_empty(self) -> bool:
        """True when nothing is in the set."""
        return not self.parts

    @property
    def is_finite(self) -> bool:
        """True when every part stops."""
        return all(p.finite for p in self.parts)

    def __contains__(self, x: object) -> bool:
        return any(x in p for p in self.parts)

    def __iter__(self) -> Iterator[int]:
        """Members in increasing order, without repeats (forever when infinite)."""
        last: int | None = None
        for x in heapq.merge(*(iter(p) for p in self.parts)):
            if x != last:
                yield x
                last = x

    def smallest(self, count: int = 5) -> list[int]:
        """The ``count`` smallest members."""
        return list(itertools.islice(iter(self), count))

    def values(self) -> list[int]:
        """Every member of a finite set."""
        if not self.is_finite:
            raise OverflowError("the set is infinite")
        return list(self)

    def size(self) -> int | None:
        """The number of members, or None when infinite."""
        if not self.is_finite:
            return None
        return sum(p.size for p in self.parts)

    def min(self) -> int | None:
        """The smallest member, or None when empty."""
        return min((p.start for p in self.parts), default=None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IntSet):
            return NotImplemented
        return _same(self, other)

    def __hash__(self) -> int:
        return hash(tuple(self.smallest(8)))

    def __repr__(self) -> str:
        return f"IntSet({self.describe('x')})"

    # --- display -------------------------------------------------------------------------
    def describe(self, name: str = "x", *, show: int = 12) -> str:
        """A readable description: ``n in {63, 64}``, ``n = 16t + 12, t >= 11 (...)``."""
        if not self.parts:
            return f"no {name}"
        finite = [p for p in self.parts if p.finite]
        infinite = [p for p in self.parts if not p.finite]
        pieces: list[str] = []
        if finite:
            pieces.append(_describe_finite(finite, name, show))
        for p in infinite:
            pieces.append(_describe_infinite(p, name))
        return " or ".join(pieces)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the progressions, finiteness, size and smallest members."""
        return {
            "finite": self.is_finite,
            "size": self.size(),
            "smallest": self.smallest(10),
            "progressions": [{"start": p.start, "step": p.step, "last": p.last}
                             for p in self.parts],
        }


def _describe_finite(parts: list[Progression], name: str, show: int) -> str:
    total = sum(p.size for p in parts)
    if total <= show:
        members = sorted({x for p in parts for x in p})
        return f"{name} in {{{', '.join(str(x) for x in members)}}}"
    texts = []
    for p in sorted(parts):
        if p.size == 1:
            texts.append(f"{name} = {p.start}")
        elif p.step == 1:
            texts.append(f"{p.start} <= {name} <= {p.last}")
        else:
            r = p.start % p.step
            texts.append(f"{name} = {_affine(p.step, r)}, {(p.start - r) // p.step} <= t <= "
                         f"{((p.last or 0) - r) // p.step} ({p.size} values)")
    return " or ".join(texts)


def _describe_infinite(p: Progression, name: str) -> str:
    if p.step == 1:
        return f"{name} >= {p.start}"
    r = p.start % p.step
    t0 = (p.start - r) // p.step
    head = ", ".join(str(p.start + i * p.step) for i in range(3))
    return f"{name} = {_affine(p.step, r)}, t >= {t0} ({head}, ...)"


def _affine(step: int, r: int) -> str:
    return f"{step}t + {r}" if r else f"{step}t"


# --- normalisation ---------------------------------------------------------------------------


def _normalise(parts: list[Progression]) -> tuple[Progression, ...]:
    infinite = [p for p in parts if not p.finite]
    finite = [p for p in parts if p.finite]
    classes, leftovers = _merge_classes(infinite)
    finite += leftovers
    points: set[int] = set()
    big: list[Progression] = []
    for p in finite:
        if any(_covers(q, p) for q in classes):
            continue
        if p.size <= EXPAND_LIMIT:
            points.update(x for x in p if not any(x in q for q in classes))
        else:
            big.append(p)
    # extend an infinite progression downwards over the points that continue it
    extended: list[Progression] = []
    for q in classes:
        start = q.start
        while start - q.step in points:
            points.discard(start - q.step)
            start -= q.step
        extended.append(Progression(start, q.step))
    return tuple(sorted(extended + big + _runs(points)))


def _covers(q: Progression, p: Progression) -> bool:
    """True when the infinite ``q`` contains every member of the finite ``p``."""
    return p.start in q and p.step % q.step == 0


def _runs(points: set[int]) -> list[Progression]:
    """Sorted points as maximal arithmetic runs (three or more members), else single points."""
    values = sorted(points)
    out: list[Progression] = []
    i = 0
    while i < len(values):
        j = i + 1
        if j < len(values):
            step = values[j] - values[i]
            while j + 1 < len(values) and values[j + 1] - values[j] == step:
                j += 1
            if j - i >= 2:
                out.append(Progression(values[i], step, values[j]))
                i = j + 1
                continue
        out.append(Progression(values[i], 1, values[i]))
        i += 1
    return out


def _merge_classes(infinite: list[Progression]) -> tuple[list[Progression], list[Progression]]:
    """Union of infinite progressions as few coarse residue classes, plus finite leftovers."""
    if not infinite:
        return [], []
    modulus = 1
    for p in infinite:
        modulus = lcm(modulus, p.step)
    # the smallest start of each residue class modulo the common modulus
    starts: dict[int, int] = {}
    for p in infinite:
        for j in range(modulus // p.step):
            s = p.start + j * p.step
            r = s % modulus
            starts[r] = min(starts.get(r, s), s)
    result: list[Progression] = []
    leftovers: list[Progression] = []
    for m in sorted(d for d in range(1, modulus + 1) if modulus % d == 0):
        for r0 in range(m):
            members = [r for r in range(r0, modulus, m)]
            if not all(r in starts for r in members):
                continue
            # every class r0 + m*t from some point on is covered: find the lowest such start
            top = max(starts[r] for r in members)
            start = top
            while _covered(start - m, starts, modulus):
                start -= m
            # what the coarse class does not cover stays as finite leftovers, kept exactly
            for r in members:
                s = starts.pop(r)
                if s < start:
                    stop = start - 1 - ((start - 1 - s) % modulus)
                    if stop >= s:
                        leftovers.append(Progression(s, modulus, stop))
            result.append(Progression(start, m))
    return result, leftovers


def _covered(x: int, starts: dict[int, int], modulus: int) -> bool:
    s = starts.get(x % modulus)
    return s is not None and x >= s


def _same(a: IntSet, b: IntSet) -> bool:
    """Semantic equality: compare members up to where both are periodic, then one period."""
    if a.is_finite != b.is_finite:
        return False
    if a.is_finite:
        return a.values() == b.values()
    modulus = 1
    top = 0
    for p in a.parts + b.parts:
        if not p.finite:
            modulus = lcm(modulus, p.step)
        top = max(top, p.start if p.last is None else p.last)
    low = min(x for x in (a.min(), b.min()) if x is not None)
    return all((x in a) == (x in b) for x in range(low, top + modulus + 1))
