"""Rung 1: canonical rewriting with named lemmas; every lemma application becomes a step.

Both sides are brought to the canonical form of :mod:`convsym.intdiv` (ceiling as floor,
integer-term extraction, nested floor collapse, gcd cancellation, mod as floor, floor over
Max/Min), dominated Max/Min arguments are eliminated, Hermite's identity combines floors,
and then the statement is proved when the difference is 0 (for ``==``), a non-zero constant
(for ``!=``) or provably non-negative (for inequalities).  This rung only proves; it never
refutes.

>>> from convsym.proof.problem import build
>>> out = by_rewriting(build("ceiling(ceiling(n/a)/b) == ceiling(n/(a*b))"))
>>> out.status, [s.lemma for s in out.steps][-1]
('proved', 'same canonical form')
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from convsym.intdiv import (
    LEMMA_CEIL,
    LEMMA_EXTRACT,
    LEMMA_GCD,
    LEMMA_MOD,
    LEMMA_MONOTONE,
    LEMMA_NESTED,
    Floor,
    NotQuasiPolynomial,
    QExpr,
    QPoly,
    Rewrite,
    add,
    to_sympy,
    tracing,
)
from convsym.printing.text import sstr
from convsym.proof import lemmas
from convsym.proof.goal import Outcome, goal_of, sides
from convsym.proof.problem import Problem
from convsym.proof.result import ProofStep

MAX_LEMMA_STEPS = 40

SENTENCES = {
    LEMMA_CEIL: "ceiling(X/D) = floor((X + D - 1)/D) for integers X and D >= 1",
    LEMMA_EXTRACT: "floor((D*Q + R)/D) = Q + floor(R/D) for integer Q",
    LEMMA_NESTED: "floor((floor(X/A) + m)/B) = floor((X + A*m)/(A*B)) for integer m",
    LEMMA_GCD: "floor((g*Y + r)/(g*D)) = floor((Y + floor(r/g))/D) for g >= 1",
    LEMMA_MOD: "X mod D = X - D*floor(X/D)",
    LEMMA_MONOTONE: "floor is non-decreasing, so it distributes over Max and Min",
    lemmas.HERMITE: "sum of floor((Y + i*D)/(m*D)) over i < m equals floor(Y/D)",
    lemmas.MAX_ELIMINATION: "an argument another argument always dominates never wins",
}


def _quotient(num: QExpr, den: QPoly, show: Callable[[QExpr], sympy.Expr] = to_sympy
              ) -> sympy.Expr:
    n, d = show(num), show(den)
    return n if d == 1 else n / d


def raw(e: QExpr) -> sympy.Expr:
    """``e`` shown as the algebra holds it: every Floor as ``floor(X/D)``, no ceilings."""
    if not isinstance(e, QPoly):
        cls = sympy.Min if e.kind == "min" else sympy.Max
        return cls(*(raw(a) for a in e.args), evaluate=False)
    terms: list[sympy.Expr] = []
    for mono, c in sorted(e.terms.items(), key=lambda item: repr(item[0])):
        factors: list[sympy.Expr] = [sympy.Integer(c)] if c != 1 or not mono else []
        for atom, power in mono:
            base = (sympy.floor(_quotient(atom.num, atom.den, raw), evaluate=False)
                    if isinstance(atom, Floor) else atom)
            factors.append(base if power == 1 else sympy.Pow(base, power, evaluate=False))
        terms.append(factors[0] if len(factors) == 1 else sympy.Mul(*factors, evaluate=False))
    if not terms:
        return sympy.Integer(0)
    return terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)


def _before(r: Rewrite) -> sympy.Basic:
    if r.kind == "mod":
        return sympy.Mod(raw(r.num), raw(r.den), evaluate=False)
    cls = sympy.floor if r.kind == "floor" else sympy.ceiling
    return cls(_quotient(r.num, r.den, raw), evaluate=False)


def trace_steps(log: list[Rewrite]) -> list[ProofStep]:
    """One step per traced canonicalisation, duplicates dropped, at most 40 (then a note)."""
    steps: list[ProofStep] = []
    seen: set[tuple[str, sympy.Basic, sympy.Basic]] = set()
    dropped = 0
    for r in log:
        name = " and ".join(r.lemmas)
        before, after = _before(r), raw(r.result)
        if (name, before, after) in seen:
            continue
        seen.add((name, before, after))
        if len(steps) >= MAX_LEMMA_STEPS:
            dropped += 1
            continue
        sentence = "; ".join(SENTENCES.get(x, x) for x in r.lemmas)
        steps.append(ProofStep(name, sentence, before, after))
    if dropped:
        steps.append(ProofStep("more of the same", f"{dropped} more applications of the "
                               "same lemmas are not shown", sympy.Integer(dropped),
                               sympy.Integer(dropped)))
    return steps


def canonical(p: Problem) -> tuple[QExpr, QExpr, sympy.Expr | None, str, list[ProofStep]]:
    """Both sides in canonical form (view B) with the steps that got them there."""
    with tracing() as log:
        lhs, rhs, cleared, op = sides(p)
    steps = [ProofStep("substitution", why, before, after) for before, after, why in p.notes]
    if cleared is not None:
        steps.append(ProofStep("clear the denominator",
                               f"multiply both sides by {sstr(cleared)}, which is positive "
                               "wherever the statement is defined",
                               p.b_lhs - p.b_rhs, to_sympy(lhs)))
    steps += trace_steps(log)
    for side, raw in ((lhs, p.b_lhs), (rhs, p.b_rhs)):
        shown = to_sympy(side)
        if cleared is None and shown != raw:
            steps.append(ProofStep("canonical form", "the side in canonical form", raw, shown))
    return lhs, rhs, cleared, op, steps


def by_rewriting(p: Problem) -> Outcome:
    """Try to prove the problem by rewriting alone."""
    try:
        lhs, rhs, cleared, op, steps = canonical(p)
    except NotQuasiPolynomial as err:
        return Outcome(None, [], f"not in the canonical fragment ({err})")
    low = {p.b_symbols[n]: lo for n, lo in p.b_lower.items()}
    pruned = []
    for side in (lhs, rhs):
        side2, notes = lemmas.prune(side, low)
        for before, after in notes:
            steps.append(ProofStep(lemmas.MAX_ELIMINATION,
                                   SENTENCES[lemmas.MAX_ELIMINATION] + " (" + lemmas.MONOTONE +
                                   " and " + lemmas.POSITIVITY + ")",
                                   to_sympy(before), to_sympy(after)))
        pruned.append(side2)
    lhs, rhs = pruned
    goal = goal_of(lhs, rhs, op, cleared)
    if lhs == rhs and op in ("==", "<=", ">="):
        rel = sympy.Rel(to_sympy(lhs), to_sympy(rhs), op, evaluate=False)
        steps.append(ProofStep("same canonical form",
                               f"both sides reduce to {sstr(to_sympy(lhs))}", rel, sympy.true))
        return Outcome("proved", steps, f"both sides reduce to {sstr(to_sympy(lhs))}")
    if goal is None or not isinstance(goal.expr, QPoly):
        return Outcome(None, steps, "a Max or Min remains after Max elimination")
    diff, used = lemmas.hermite(goal.expr)
    for before, after in used:
        steps.append(ProofStep(lemmas.HERMITE, SENTENCES[lemmas.HERMITE], raw(before),
                               raw(after)))
    rel = sympy.Rel(to_sympy(lhs), to_sympy(rhs), op, evaluate=False)
    if goal.kind == "zero":
        if not diff.terms:
            shown = sstr(to_sympy(lhs)) if isinstance(lhs, QPoly) and not used else \
                "the same expression"
            steps.append(ProofStep("same canonical form",
                                   f"both sides reduce to {shown}", rel, sympy.true))
            return Outcome("proved", steps, f"both sides reduce to {shown}")
        return Outcome(None, steps, f"the canonical difference {sstr(to_sympy(diff))} is not 0")
    if goal.kind == "nonzero":
        for sign in (1, -1):
            if lemmas.nonneg(diff * sign - QPoly.const(1), low):
                steps.append(ProofStep(lemmas.POSITIVITY, "the difference of the sides is "
                                       f"{'positive' if sign > 0 else 'negative'} everywhere",
                                       rel, sympy.true))
                return Outcome("proved", steps, "the two sides never meet")
        return Outcome(None, steps, "could not show the sides never meet by rewriting")
    if lemmas.nonneg(diff, low):
        steps.append(ProofStep(lemmas.POSITIVITY, f"{sstr(to_sympy(add(diff, QPoly())))} >= 0 "
                               "by floor monotonicity, the floor upper bound and shifting "
                               "each symbol to its lower bound", rel, sympy.true))
        return Outcome("proved", steps, "the difference is non-negative")
    return Outcome(None, steps, "could not show the difference is non-negative by rewriting")
