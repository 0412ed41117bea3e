"""Constraints of a what-if system: ``e >= 0``, ``e == 0`` or ``e != 0`` over canonical sizes.

A :class:`Constraint` keeps its expression in canonical form (:mod:`convsym.intdiv`), where it
came from (a layer's side condition or a user's target) and the relation to show.  User
relations become constraints through :func:`from_relation`, which moves everything to one
side, turns strict inequalities into ``>= 1`` (integers) and clears constant denominators.

>>> from convsym.expr import parse_relation
>>> c = from_relation(parse_relation("floor((32 - 3)/s) + 1 == 8"), origin="target")
>>> c.kind, c.shown
('eq', Eq(floor(29/s) + 1, 8))
>>> from convsym.expr import symbol
>>> c.holds({symbol("s"): 4}), c.holds({symbol("s"): 3})
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy
from sympy.core.relational import Relational

from convsym.errors import BudgetExceeded, ExpressionError
from convsym.intdiv import (
    NotQuasiPolynomial,
    QExpr,
    QPoly,
    add,
    evaluate,
    free_symbols,
    from_sympy,
    scale,
    subs,
)

KINDS = ("ge", "eq", "ne")


@dataclass(frozen=True)
class Constraint:
    """``expr >= 0`` (``ge``), ``expr == 0`` (``eq``) or ``expr != 0`` (``ne``)."""

    expr: QExpr
    kind: str
    origin: str
    shown: sympy.Basic

    @property
    def symbols(self) -> set[sympy.Symbol]:
        """The symbols the constraint depends on."""
        return free_symbols(self.expr)

    def holds(self, env: Mapping[sympy.Symbol, int]) -> bool:
        """Whether the constraint holds for integer values (False where undefined)."""
        try:
            value = evaluate(self.expr, env)
        except ZeroDivisionError:
            return False
        if self.kind == "ge":
            return value >= 0
        if self.kind == "eq":
            return value == 0
        return value != 0

    def fix(self, env: Mapping[sympy.Symbol, int]) -> Constraint:
        """The constraint with some symbols replaced by integers (re-canonicalised)."""
        qenv = {s: QPoly.const(v) for s, v in env.items() if s in self.symbols}
        if not qenv:
            return self
        shown = self.shown.xreplace({s: sympy.Integer(env[s]) for s in qenv})
        return Constraint(subs(self.expr, qenv), self.kind, self.origin, shown)

    def constant_truth(self) -> bool | None:
        """True/False when the constraint has no symbols left, else None."""
        if self.symbols:
            return None
        return self.holds({})


def negate(e: QExpr) -> QExpr:
    """``-e``."""
    return scale(e, QPoly.const(-1))


def from_relation(rel: Relational, *, origin: str, field: str = "condition") -> Constraint:
    """A SymPy relation over integers (from :func:`convsym.expr.parse_relation`)."""
    op = rel.rel_op
    lhs, rhs = rel.lhs, rel.rhs
    if op in (">=", ">"):
        diff, kind, shift = lhs - rhs, "ge", (1 if op == ">" else 0)
    elif op in ("<=", "<"):
        diff, kind, shift = rhs - lhs, "ge", (1 if op == "<" else 0)
    elif op == "==":
        diff, kind, shift = lhs - rhs, "eq", 0
    elif op == "!=":
        diff, kind, shift = lhs - rhs, "ne", 0
    else:  # pragma: no cover - parse_relation gives only the six operators
        raise ExpressionError(f"{field}: unsupported comparison {op}", code="bad_relation")
    expr = to_integer_expr(diff, field=field, shown=rel)
    if shift:
        expr = add(expr, QPoly.const(-shift))
    return Constraint(expr, kind, origin, rel)


def to_integer_expr(diff: sympy.Expr, *, field: str, shown: object) -> QExpr:
    """``diff`` in canonical form; a positive constant denominator is cleared first."""
    try:
        try:
            return from_sympy(diff)
        except NotQuasiPolynomial:
            pass
        except BudgetExceeded:
            raise
        except (ValueError, TypeError) as err:  # pragma: no cover - defensive
            raise ExpressionError(f"{field}: {shown}: {err}", code="not_integer") from None
        num, den = sympy.fraction(sympy.together(diff))
        if isinstance(den, sympy.Integer) and den > 0:
            try:
                return from_sympy(num)  # expanded by convsym's algebra, within max_terms
            except NotQuasiPolynomial as err:
                raise ExpressionError(f"{field}: {shown}: {err}", code="not_integer") from None
    except BudgetExceeded as err:  # too large to expand: the budget's own code and advice
        raise type(err)(f"{field}: {shown}: {err}", code=err.code) from None
    raise ExpressionError(
        f"{field}: {shown}: not an integer expression convsym can solve (use floor(a/b) "
        "or ceiling(a/b) for a division that may leave a remainder)", code="not_integer")
