"""The answer of :func:`~convsym.whatif.solve`: an exact set (or "unknown"), with its derivation.

The set is a union of *cells*, each a product of one :class:`~convsym.whatif.intset.IntSet`
per unknown.  ``status`` is ``"exact"`` (the set is proved to be exactly the solutions) or
``"unknown"`` (``reason`` says why; ``cells`` is then empty and means nothing).

>>> from convsym.whatif.intset import IntSet
>>> s = Solution(("s",), "exact", ({"s": IntSet.points([4])},))
>>> str(s.describe()), 4 in s, 5 in s
('s in {4}', True, False)
>>> s.points()
[(4,)]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy

from convsym.errors import UsageError
from convsym.printing.display import Rich
from convsym.printing.text import sstr
from convsym.whatif.intset import IntSet
from convsym.whatif.steps import Step, freeze, render, thaw

POINTS_SHOWN = 24


@dataclass(frozen=True, repr=False)
class Solution(Rich):
    """An exact solution set of integer unknowns, or "unknown" with the reason."""

    _display = "solution"

    unknowns: tuple[str, ...]
    status: str
    cells: tuple[Mapping[str, IntSet], ...] = ()
    reason: str = ""
    steps: tuple[Step, ...] = ()
    conditions: tuple[tuple[sympy.Basic, str], ...] = ()
    bounds: Mapping[str, tuple[int, int | None]] = field(default_factory=dict)
    projected: tuple[str, ...] = ()
    title: str = ""

    def __reduce__(self) -> tuple[Any, ...]:
        # see Step.__reduce__: relations must not be re-evaluated when unpickled

        frozen = tuple((freeze(rel), origin) for rel, origin in self.conditions)
        return (_solution, (self.unknowns, self.status, self.cells, self.reason, self.steps,
                            frozen, dict(self.bounds), self.projected, self.title))

    @property
    def exact(self) -> bool:
        """True when the set is proved exact."""
        return self.status == "exact"

    @property
    def is_empty(self) -> bool:
        """True for an exact answer with no solution."""
        return self.exact and not self.cells

    @property
    def is_finite(self) -> bool:
        """True when the (exact) set is finite."""
        return self.exact and all(s.is_finite for c in self.cells for s in c.values())

    def values_of(self, name: str) -> IntSet:
        """The values ``name`` takes in some solution (the projection on one unknown)."""
        self._need_exact()
        if name not in self.unknowns:
            raise UsageError(f"{name!r} is not an unknown of this answer; the unknowns are "
                             f"{', '.join(self.unknowns)}", code="unknown_symbol")
        out = IntSet.empty()
        for cell in self.cells:
            out = out.union(cell[name])
        return out

    def __contains__(self, values: object) -> bool:
        self._need_exact()
        point = self._point(values)
        return any(all(point[n] in cell[n] for n in self.unknowns) for cell in self.cells)

    def _point(self, values: object) -> dict[str, int]:
        if isinstance(values, Mapping):
            missing = [n for n in self.unknowns if n not in values]
            if missing:
                raise UsageError(f"a value is needed for {', '.join(missing)}",
                                 code="missing_value")
            return {n: int(values[n]) for n in self.unknowns}
        if isinstance(values, int) and len(self.unknowns) == 1:
            return {self.unknowns[0]: values}
        if isinstance(values, tuple) and len(values) == len(self.unknowns):
            return dict(zip(self.unknowns, (int(v) for v in values)))
        raise UsageError(f"give values for {', '.join(self.unknowns)} as a dict or tuple",
                         code="bad_value")

    def points(self, limit: int = 100_000) -> list[tuple[int, ...]]:
        """Every solution of a finite answer, sorted (tuples in the order of ``unknowns``)."""
        self._need_exact()
        if not self.is_finite:
            raise UsageError("the answer is infinite; use describe() or values_of()",
                             code="infinite_answer")
        out: set[tuple[int, ...]] = set()
        for cell in self.cells:
            stack: list[tuple[int, ...]] = [()]
            for name in self.unknowns:
                stack = [p + (v,) for p in stack for v in cell[name]]
                if len(stack) > limit:
                    raise UsageError(f"more than {limit} solutions", code="too_many")
            out.update(stack)
        return sorted(out)

    def _need_exact(self) -> None:
        if not self.exact:
            raise UsageError(f"the answer is unknown: {self.reason}", code="unknown_answer")

    # --- display ---------------------------------------------------------------------------
    def describe(self) -> str:
        """One readable line (or a few): the set, or "unknown" with the reason."""
        if not self.exact:
            return f"unknown: {self.reason}"
        if not self.cells:
            return "no solution"
        if len(self.unknowns) == 1:
            return self.values_of(self.unknowns[0]).describe(self.unknowns[0])
        if self.is_finite:
            pts = self.points()
            if len(pts) <= POINTS_SHOWN:
                names = ", ".join(self.unknowns)
                shown = ", ".join("(" + ", ".join(str(v) for v in p) + ")" for p in pts)
                return f"({names}) in {{{shown}}}"
        lines = []
        for cell in self.cells:
            lines.append("; ".join(cell[n].describe(n) for n in self.unknowns))
        return "\n".join(lines)

    def derivation(self, fmt: str = "text") -> str:
        """The steps, numbered, in ``text``, ``markdown`` or ``latex``."""
        return render(self.steps, fmt)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out: dict[str, Any] = {
            "unknowns": list(self.unknowns),
            "status": self.status,
            "answer": self.describe(),
        }
        if not self.exact:
            out["reason"] = self.reason
        else:
            out["values"] = {n: {"description": self.values_of(n).describe(n),
                                 **self.values_of(n).to_dict()} for n in self.unknowns}
            out["cells"] = [{n: c[n].to_dict() for n in self.unknowns} for c in self.cells]
            if self.is_finite and len(self.points()) <= 10_000:
                out["points"] = [list(p) for p in self.points()]
        out["projected"] = list(self.projected)
        out["bounds"] = {n: list(b) for n, b in self.bounds.items()}
        out["conditions"] = [{"condition": sstr(rel), "from": origin}
                             for rel, origin in self.conditions]
        out["derivation"] = [s.to_dict() for s in self.steps]
        return out

    def notes(self) -> list[str]:
        """What qualifies the answer: the bounds it is exact within, the unknowns left free."""
        out = []
        limited = [f"{lo} <= {n} <= {hi}" for n, (lo, hi) in self.bounds.items()
                   if hi is not None]
        if limited:
            out.append(f"(exact within the bounds {', '.join(limited)})")
        if self.projected:
            out.append(f"({', '.join(self.projected)} not fixed: the answer holds for some "
                       "value of them)")
        return out

    def __str__(self) -> str:
        head = f"Solve for {', '.join(self.unknowns)}" + (f" in {self.title!r}"
                                                           if self.title else "")
        answer = self.describe() if self.exact else self.reason
        lines = [head, f"Answer ({self.status}): {answer}", *self.notes()]
        if self.steps:
            lines.append("Derivation:")
            lines.append(self.derivation("text"))
        return "\n".join(lines)


def _solution(unknowns: tuple[str, ...], status: str, cells: tuple[Mapping[str, IntSet], ...],
              reason: str, steps: tuple[Step, ...], conditions: tuple[tuple[object, str], ...],
              bounds: dict[str, tuple[int, int | None]], projected: tuple[str, ...],
              title: str) -> Solution:
    return Solution(unknowns, status, cells, reason, steps,
                    tuple((thaw(rel), origin) for rel, origin in conditions), bounds,
                    projected, title)
