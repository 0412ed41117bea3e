"""What :func:`convsym.proof.prove` returns: a :class:`Proof` made of :class:`ProofStep` data.

Steps are data (a lemma name, one sentence, the expression before and after), never only
prose, so printers can lay them out as LaTeX, Markdown or text.

>>> import sympy
>>> from convsym.expr import parse_relation, symbol
>>> n = symbol("n")
>>> step = ProofStep("ceiling as floor", "ceiling(X/D) = floor((X + D - 1)/D).",
...                  sympy.ceiling(n / 2), sympy.floor((n + 1) / 2))
>>> proof = Proof("proved", "rewriting", parse_relation("ceiling(n/2) == floor((n+1)/2)"),
...               steps=(step,))
>>> print(proof)
proved by rewriting: ceiling(n/2) == floor((n + 1)/2)
  1. ceiling as floor: ceiling(n/2) = floor((n + 1)/2)
>>> proof.to_dict()["steps"]
['ceiling as floor: ceiling(n/2) = floor((n + 1)/2)']
>>> import pickle
>>> same = Proof("proved", "rewriting", parse_relation("n == n"))
>>> pickle.loads(pickle.dumps(same)).statement  # not evaluated to True
Eq(n, n)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import sympy

from convsym.printing.display import Rich
from convsym.printing.text import sstr

STATUSES = ("proved", "refuted", "unknown")
"""Every status a proof can have."""

METHODS = ("rewriting", "period", "z3", "bounded")
"""The rungs of the ladder, in the order they are tried."""


def _freeze(value: object) -> object:
    """A relation as plain parts, so unpickling cannot evaluate ``Eq(n, n)`` to ``True``."""
    if isinstance(value, sympy.core.relational.Relational):
        return ("relation", value.lhs, value.rel_op, value.rhs)
    if isinstance(value, tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: object) -> object:
    if isinstance(value, tuple) and len(value) == 4 and value[0] == "relation":
        return sympy.Rel(value[1], value[3], value[2], evaluate=False)
    if isinstance(value, tuple):
        return tuple(_thaw(v) for v in value)
    return value


def _rebuild(cls: type, values: tuple[object, ...]) -> object:
    return cls(*(_thaw(v) for v in values))


@dataclass(frozen=True)
class ProofStep:
    """One step: ``lemma`` turned ``before`` into ``after``; ``sentence`` says why.

    ``cases`` lists the cases of a split (for the period check, one ``Contains(x, Range)``
    per symbol: the residues that were checked).  ``before`` and ``after`` are SymPy
    objects; for a step that decides a relation, ``before`` is the relation and ``after``
    is ``true`` or ``false``.
    """

    lemma: str
    sentence: str
    before: sympy.Basic
    after: sympy.Basic
    cases: tuple[sympy.Basic, ...] = ()

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (ProofStep, tuple(_freeze(getattr(self, f.name))
                                            for f in fields(self))))

    def __str__(self) -> str:
        if isinstance(self.after, sympy.logic.boolalg.BooleanAtom):
            return f"{self.lemma}: {sstr(self.before)}: {self.sentence}"
        return f"{self.lemma}: {sstr(self.before)} = {sstr(self.after)}"


@dataclass(frozen=True, repr=False)
class Proof(Rich):
    """The outcome of :func:`~convsym.proof.prove`.

    ``status`` is ``"proved"``, ``"refuted"`` or ``"unknown"``; ``method`` names the rung
    that decided it (for ``"unknown"``, the last rung that ran); ``counterexample`` maps
    symbol names to integers when refuted (re-checked in plain integer arithmetic), else
    None; ``reason`` is one line of why; ``domain`` maps each symbol name to its
    ``(lowest, highest)`` value (None: open); ``elapsed`` is the time taken in seconds.
    """

    _display = "proof"

    status: str
    method: str
    statement: sympy.Basic
    assumptions: tuple[sympy.Basic, ...] = ()
    counterexample: dict[str, int] | None = None
    steps: tuple[ProofStep, ...] = ()
    reason: str = ""
    domain: Mapping[str, tuple[int | None, int | None]] = field(default_factory=dict)
    elapsed: float = field(default=0.0, compare=False)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (Proof, tuple(_freeze(getattr(self, f.name)) for f in fields(self))))

    @property
    def proved(self) -> bool:
        """True when the statement was proved."""
        return self.status == "proved"

    def to_dict(self) -> dict[str, Any]:
        """``{"status", "method", "counterexample", "steps"}`` with steps as text."""
        return {
            "status": self.status,
            "method": self.method,
            "counterexample": None if self.counterexample is None else dict(self.counterexample),
            "steps": [str(s) for s in self.steps],
        }

    def __str__(self) -> str:
        head = f"{self.status} by {self.method}: {sstr(self.statement)}"
        lines = [head]
        if self.assumptions:
            lines.append("  assuming " + ", ".join(sstr(a) for a in self.assumptions))
        if self.counterexample is not None:
            shown = ", ".join(f"{k} = {v}" for k, v in self.counterexample.items())
            lines.append(f"  counterexample: {shown or 'the statement has no symbols'}")
        if self.status == "unknown" and self.reason:
            lines.append(f"  reason: {self.reason}")
        lines += [f"  {i}. {s}" for i, s in enumerate(self.steps, 1)]
        return "\n".join(lines)
