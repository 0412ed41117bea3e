"""Rung 4: a bounded exhaustive search, small values first.

Points are visited shell by shell: shell ``m`` holds the points whose largest position along
any symbol's range is ``m`` (each symbol counts up from its lower bound), so every point
with each symbol among its first ``m`` values is checked before any bigger one.  A
counterexample is a refutation (it passed the plain-integer re-check by construction).  If
nothing fails, the honest answer is "holds for every value up to N", which is *not* a proof,
unless the domain is finite and every one of its points was checked.

>>> from convsym.proof.problem import build
>>> out, done = search(build("floor(n/3) * 3 == n"), None, 100)
>>> out.status, out.counterexample
('refuted', {'n': 1})
>>> out, done = search(build("n + m >= 2"), None, 50)
>>> out.status, done.reason
(None, 'holds for every value up to 7 (49 points checked)')
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass

from convsym.proof.goal import Outcome
from convsym.proof.problem import Problem


@dataclass(frozen=True)
class Coverage:
    """How far the search got: every point with each symbol among its first ``shells``
    values was checked; ``complete`` when that is the whole (finite) domain."""

    shells: int
    points: int
    complete: bool
    reason: str


def _length(lo: int | None, hi: int | None) -> int | None:
    if lo is None or hi is None:
        return None
    return max(hi - lo + 1, 0)


def _value(lo: int | None, hi: int | None, index: int) -> int:
    if lo is not None:
        return lo + index
    if hi is not None:
        return hi - index
    return (index + 1) // 2 * (1 if index % 2 else -1)


def _shell(sizes: list[int | None], m: int) -> Iterator[tuple[int, ...]]:
    """Index tuples whose largest index is ``m - 1``, each exactly once."""
    for i, size in enumerate(sizes):
        if size is not None and size < m:
            continue
        ranges = []
        for j, other in enumerate(sizes):
            cap = m - 1 if j < i else m
            if j == i:
                ranges.append(range(m - 1, m))
            else:
                ranges.append(range(min(cap, other) if other is not None else cap))
        yield from itertools.product(*ranges)


def search(p: Problem, deadline: float | None, max_points: int
           ) -> tuple[Outcome, Coverage]:
    """Check points shell by shell until a counterexample, the deadline or ``max_points``."""
    names = p.names
    sizes = [_length(p.lower[n], p.upper[n]) for n in names]
    if any(s == 0 for s in sizes):
        return Outcome(None), Coverage(0, 0, True, "the domain is empty")
    checked = 0
    shells = 0
    done = 0
    m = 1
    while True:
        if all(s is not None and s < m for s in sizes):
            break
        for count, index in enumerate(_shell(sizes, m)):
            if count % 256 == 0 and deadline is not None and time.monotonic() > deadline:
                return Outcome(None), _coverage(p, shells, done, False)
            if checked >= max_points:
                return Outcome(None), _coverage(p, shells, done, False)
            point = {n: _value(p.lower[n], p.upper[n], k) for n, k in zip(names, index)}
            verdict = p.check(point)
            if verdict == "counterexample":
                return (Outcome("refuted", [], "found by the bounded search", point),
                        _coverage(p, shells, done, False))
            if verdict != "outside":
                checked += 1
        shells, done = m, checked
        m += 1
        if not names:
            break
    return Outcome(None), _coverage(p, shells, checked, True)


def _coverage(p: Problem, shells: int, checked: int, complete: bool) -> Coverage:
    if complete:
        return Coverage(shells, checked, True,
                        f"checked every one of the {checked} points of the finite domain")
    if shells == 0:
        return Coverage(0, checked, False, "no point was fully checked in time")
    if all(p.lower[n] == 1 for n in p.names):
        span = f"up to {shells}"
    else:
        parts = []
        for n in p.names:
            lo = p.lower[n]
            parts.append(f"{n} from {lo} to {lo + shells - 1}" if lo is not None
                         else f"{n} within {shells} of {p.upper[n]}")
        span = "with " + ", ".join(parts)
    return Coverage(shells, checked, False,
                    f"holds for every value {span} ({checked} points checked)")
