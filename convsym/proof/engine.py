"""The ladder: rewriting, the period check, Z3, a bounded search; proved, refuted or unknown.

>>> print(prove("floor(n/2) + ceiling(n/2) == n"))  # doctest: +ELLIPSIS
proved by rewriting: ceiling(n/2) + floor(n/2) == n
  1. ceiling as floor: ceiling(n/2) = floor((n + 1)/2)
  2. Hermite's identity: floor(n/2) + floor((n + 1)/2) = n
  3. same canonical form: ...
>>> prove("floor(n/2) == n // 3").counterexample
{'n': 2}
>>> prove("s*floor(n/s) <= n").method
'z3'
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Sequence
from fractions import Fraction

import sympy

from convsym.errors import ConvsymTypeError, UsageError
from convsym.proof.bounded import search
from convsym.proof.goal import Outcome
from convsym.proof.periodic import by_period
from convsym.proof.problem import Problem, build
from convsym.proof.result import Proof, ProofStep
from convsym.proof.rewrite import by_rewriting
from convsym.proof.smt import by_z3

DEFAULT_TIMEOUT = 3.0
MAX_TIMEOUT = 3600.0
QUICK_POINTS = 400
BOUNDED_POINTS = 50_000


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise ConvsymTypeError(f"timeout = {timeout!r:.60}: expected a number of seconds")
    value = float(timeout)
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise UsageError(f"timeout = {timeout!r}: must be more than 0 and at most "
                         f"{MAX_TIMEOUT:g} seconds", code="bad_timeout")
    return value


def prove(statement: object, assume: Sequence[object] | object = (), *,
          timeout: float = DEFAULT_TIMEOUT) -> Proof:
    """Prove, refute or honestly not know ``statement`` under the assumptions ``assume``.

    ``statement`` and each assumption are relations (``== != <= < >= >``) as text for the
    safe parser or as SymPy relations.  Every symbol is an integer ``>= 1`` unless an
    assumption gives it another lower bound (``p >= 0``).  The rungs run in order within
    ``timeout`` seconds: canonical rewriting, the period check (concrete divisors), Z3
    (symbolic divisors), a bounded search.  A refutation's counterexample has been re-checked
    in plain integer arithmetic; success of the bounded search alone is "unknown".
    """
    budget = _check_timeout(timeout)
    start = time.monotonic()
    deadline = start + budget
    problem = build(statement, assume)
    run = _Run(problem, start)
    if problem.empty:
        step = ProofStep("empty domain", problem.empty, problem.statement, sympy.true)
        return run.done("proved", "rewriting", "the assumptions cannot all hold, so the "
                        "statement holds vacuously", extra=[step])
    rewritten = by_rewriting(problem)
    run.steps += rewritten.steps
    if rewritten.status == "proved":
        return run.done("proved", "rewriting", rewritten.reason)
    run.note("rewriting", rewritten.reason)
    if time.monotonic() < deadline:
        periodic = by_period(problem, deadline)
        if run.decided(periodic, "period"):
            return run.final()
        run.note("period", periodic.reason)
    quick, early = search(problem, min(deadline, time.monotonic() + budget / 10),
                          QUICK_POINTS)
    if run.decided(quick, "bounded"):
        return run.final()
    reserve = min(budget / 4, 2.0)
    smt = by_z3(problem, deadline - time.monotonic() - reserve)
    if run.decided(smt, "z3"):
        return run.final()
    run.note("z3", smt.reason)
    found, coverage = search(problem, deadline, BOUNDED_POINTS)
    if run.decided(found, "bounded"):
        return run.final()
    if early.complete or early.shells > coverage.shells:
        coverage = early
    if coverage.complete:
        # Every point of a finite domain was checked.  That is a proof by exhaustion, but the
        # bounded rung never reports "proved" (one rule, no exceptions): say exactly what holds.
        reason = f"holds for every value of its finite domain ({coverage.reason})"
        step = ProofStep("exhaustive check", reason, problem.statement, sympy.true)
        return run.done("unknown", "bounded", reason, extra=[step])
    step = ProofStep("bounded check", coverage.reason + "; this is evidence, not a proof",
                     problem.statement, sympy.true)
    return run.done("unknown", "bounded", coverage.reason, extra=[step])


class _Run:
    """Collects steps and notes while the ladder runs, and builds the :class:`Proof`."""

    def __init__(self, problem: Problem, start: float) -> None:
        self.problem = problem
        self.start = start
        self.steps: list[ProofStep] = []
        self.notes: list[str] = []
        self.result: Proof | None = None

    def final(self) -> Proof:
        assert self.result is not None
        return self.result

    def note(self, rung: str, reason: str) -> None:
        if reason:
            self.notes.append(f"{rung}: {reason}")

    def decided(self, out: Outcome, method: str) -> bool:
        if out.status == "proved":
            self.steps += out.steps
            self.result = self.done("proved", method, out.reason)
            return True
        if out.status == "refuted" and out.counterexample is not None:
            point = out.counterexample
            if self.problem.check(point) != "counterexample":  # pragma: no cover - defensive
                self.note(method, "a counterexample failed the re-check")
                return False
            self.result = self.done("refuted", method, out.reason, point,
                                    replace=[self._counter_step(point)])
            return True
        return False

    def _counter_step(self, point: dict[str, int]) -> ProofStep:
        p = self.problem
        assert p.program is not None
        left, right = p.program.run(point)[:2]
        shown = ", ".join(f"{k} = {v}" for k, v in point.items())
        rel = sympy.Rel(_number(left), _number(right), p.op, evaluate=False)
        return ProofStep("counterexample", f"at {shown} the left side is {left} and the right "
                         f"side is {right}", rel, sympy.false)

    def done(self, status: str, method: str, reason: str,
             counterexample: dict[str, int] | None = None, *,
             extra: Sequence[ProofStep] = (), replace: Sequence[ProofStep] | None = None
             ) -> Proof:
        p = self.problem
        steps = list(replace) if replace is not None else [*self.steps, *extra]
        if status == "unknown" and self.notes:
            reason = reason + "; " + "; ".join(self.notes)
        return Proof(status=status, method=method, statement=p.statement,
                     assumptions=p.assumptions, counterexample=counterexample,
                     steps=tuple(steps), reason=reason,
                     domain={n: (p.lower[n], p.upper[n]) for n in p.names},
                     elapsed=time.monotonic() - self.start)


def _number(x: object) -> sympy.Rational:
    if isinstance(x, Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    return sympy.Integer(int(x))  # type: ignore[call-overload]
