"""Rung 2: the quasi-affine period check (:mod:`convsym.period`) applied to a problem.

Complete for statements whose divisors are all concrete and whose numerators are affine, on
the view-B box domain; with polynomial numerators, complete in one symbol (each residue class
is a polynomial decided between its real roots) and honest ("unknown") beyond.  A proof on
the box also holds under assumptions the box ignores (the real domain is smaller); a
counterexample is kept only if it passes the view-A re-check.

>>> from convsym.proof.problem import build
>>> out = by_period(build("floor(n/4) + floor((n + 2)/4) <= floor(n/2)"), None)
>>> out.status, out.steps[0].lemma
('proved', 'period check')
"""

from __future__ import annotations

import sympy

from convsym.intdiv import QPoly, add, scale, to_sympy
from convsym.period import Decision, decide_nonneg, decide_nonzero, periods, poly_moduli
from convsym.proof.goal import Outcome, to_goal
from convsym.proof.problem import Problem
from convsym.proof.result import ProofStep

_RELATION = {"zero": "==", "nonzero": "!=", "nonneg": ">="}


def by_period(p: Problem, deadline: float | None) -> Outcome:
    """Decide the problem by the period check, or say why it does not apply."""
    goal = to_goal(p)
    if goal is None:
        return Outcome(None, reason="the statement is outside the canonical fragment")
    if periods(goal.expr) is None and poly_moduli(goal.expr) is None:
        return Outcome(None, reason="a symbolic divisor, or a Min/Max over products")
    lower = {p.b_symbols[n]: lo for n, lo in p.b_lower.items()}
    upper = {p.b_symbols[n]: hi for n, hi in p.b_upper.items()}
    e = goal.expr
    if goal.kind == "nonneg":
        d = decide_nonneg(e, lower, upper=upper, deadline=deadline)
    elif goal.kind == "nonzero":
        d = decide_nonzero(e, lower, upper=upper, deadline=deadline)
    else:
        d = decide_nonneg(e, lower, upper=upper, deadline=deadline)
        if d.holds is True:
            d2 = decide_nonneg(scale(e, QPoly.const(-1)), lower, upper=upper,
                               deadline=deadline)
            d = d if d2.holds is True else d2
    if d.holds is None:
        return Outcome(None, reason=d.reason)
    if d.holds is False:
        return _refuted(p, d)
    rel = sympy.Rel(to_sympy(add(e, QPoly())), 0, _RELATION[goal.kind], evaluate=False)
    cases = tuple(sympy.Contains(s, sympy.Range(first, last + 1), evaluate=False)
                  for s, first, last in d.box)
    per = periods(e)
    shown = ", ".join(f"{s}: {L}" for s, L in (per or {}).items())
    if per is None:
        sentence = f"every divisor is a constant, so {d.reason}"
    elif per:
        sentence = (f"every floor repeats with period ({shown}) up to a constant drift that "
                    f"points away from the checked box, so the box decides it: {d.reason}")
    else:
        sentence = "the difference is a constant: " + d.reason
    if p.b_general:
        sentence += " (on a box that contains every point the assumptions allow)"
    step = ProofStep("period check", sentence, rel, sympy.true, cases)
    return Outcome("proved", [step], d.reason)


def _refuted(p: Problem, d: Decision) -> Outcome:
    point = p.from_b({s.name: v for s, v in d.counterexample.items()})
    if p.check(point) != "counterexample":
        return Outcome(None, reason="the period check's counterexample does not satisfy "
                                    "every assumption")
    return Outcome("refuted", [], d.reason, point)
