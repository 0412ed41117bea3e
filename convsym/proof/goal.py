"""The statement in canonical form, as one goal about one expression, and what a rung returns.

``lhs op rhs`` becomes ``zero(E)``, ``nonzero(E)`` or ``nonneg(E)`` for a canonical
:data:`~convsym.intdiv.QExpr` ``E`` (``a < b`` is ``b - a - 1 >= 0`` over the integers).
A part that is not an integer (``n/2`` outside a floor) is cleared by multiplying through by
its denominator when that denominator's sign is known, or by its square otherwise.

>>> from convsym.proof.problem import build
>>> g = to_goal(build("floor(n/2) <= n/2"))
>>> g.kind, g.expr
('nonneg', QPoly(n - 2*floor(n/2)))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from convsym.intdiv import (
    Ext,
    NotQuasiPolynomial,
    QExpr,
    QPoly,
    _sign,
    add,
    from_sympy,
    scale,
)
from convsym.proof.problem import Problem
from convsym.proof.result import ProofStep


@dataclass
class Outcome:
    """What one rung found: ``status`` "proved", "refuted" or None (undecided)."""

    status: str | None
    steps: list[ProofStep] = field(default_factory=list)
    reason: str = ""
    counterexample: dict[str, int] | None = None


@dataclass(frozen=True)
class Goal:
    """``kind`` is "zero", "nonzero" or "nonneg"; the claim is ``expr`` is that everywhere."""

    kind: str
    expr: QExpr
    lhs: QExpr
    rhs: QExpr
    cleared: sympy.Expr | None = None
    """The positive (or squared) denominator multiplied through, if any."""


def sides(p: Problem) -> tuple[QExpr, QExpr, sympy.Expr | None, str]:
    """Canonical left and right sides (view B), the denominator cleared, and the operator.

    Raises :class:`~convsym.intdiv.NotQuasiPolynomial` when the statement is outside the
    fragment the canonical form covers.
    """
    if p.canon is not None:
        if isinstance(p.canon[0], NotQuasiPolynomial):
            raise p.canon[0]
        return p.canon  # type: ignore[return-value]
    try:
        found = _sides(p)
    except NotQuasiPolynomial as err:
        p.canon = (err,)
        raise
    p.canon = found
    return found


def _sides(p: Problem) -> tuple[QExpr, QExpr, sympy.Expr | None, str]:
    op = p.op
    try:
        return from_sympy(p.b_lhs), from_sympy(p.b_rhs), None, op
    except NotQuasiPolynomial:
        pass
    num, den = sympy.fraction(sympy.together(p.b_lhs - p.b_rhs))
    d = from_sympy(den)
    n = from_sympy(num)
    if not isinstance(d, QPoly):
        raise NotQuasiPolynomial(f"the denominator {den} is a Min/Max")
    sign = _sign(d)
    if op in ("==", "!="):
        return n, QPoly(), den, op
    if sign is None:
        if isinstance(n, Ext):
            raise NotQuasiPolynomial("a Min/Max over a denominator of unknown sign")
        return n * d, QPoly(), den**2, op
    if sign < 0:
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        return n, QPoly(), den, flipped
    return n, QPoly(), den, op


def difference(a: QExpr, b: QExpr) -> QExpr | None:
    """``a - b`` (None for two Min/Max expressions)."""
    if isinstance(b, QPoly):
        return add(a, -b)
    if isinstance(a, QPoly):
        return add(scale(b, QPoly.const(-1)), a)
    return None


def goal_of(lhs: QExpr, rhs: QExpr, op: str, cleared: sympy.Expr | None = None
            ) -> Goal | None:
    """The goal for ``lhs op rhs`` (None when both sides are Min/Max)."""
    if op in ("==", "!=", ">=", ">"):
        diff = difference(lhs, rhs)
    else:
        diff = difference(rhs, lhs)
    if diff is None:
        return None
    if op in ("==", "!="):
        return Goal("zero" if op == "==" else "nonzero", diff, lhs, rhs, cleared)
    if op in (">", "<"):
        diff = add(diff, QPoly.const(-1))
    return Goal("nonneg", diff, lhs, rhs, cleared)


def to_goal(p: Problem) -> Goal | None:
    """The canonical goal of a problem, or None outside the canonical fragment."""
    try:
        lhs, rhs, cleared, op = sides(p)
    except NotQuasiPolynomial:
        return None
    return goal_of(lhs, rhs, op, cleared)
