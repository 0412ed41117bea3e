"""Each rung on its own is sound on random statements: a proof survives a brute-force search
and a counterexample really violates the statement (checked by an independent evaluator)."""

from __future__ import annotations

import itertools

from corpus import Case, lower_bounds, ranges, violates
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convsym.proof import prove
from convsym.proof.periodic import by_period
from convsym.proof.problem import build
from convsym.proof.rewrite import by_rewriting
from convsym.proof.smt import by_z3

NAMES = ("n", "k", "s", "p", "q")
DIVISORS = ("1", "2", "3", "4", "6", "s", "2*s", "(s + 1)", "(k - 3)", "s*k")
ASSUMPTIONS = ("n >= k", "p >= 0", "n % 2 == 1", "k <= 6", "n >= k + 2", "s >= 2", "q >= -3",
               "n + 2*p >= k", "q <= -2", "p <= 0", "q % 3 == 2")
OPS = ("==", "!=", "<=", "<", ">=", ">")


@st.composite
def exprs(draw: st.DrawFn, depth: int = 3) -> str:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            return str(draw(st.integers(-4, 6)))
        return draw(st.sampled_from(NAMES))
    kinds = ["+", "-", "*", "floor", "ceiling", "%", "abs", "half"]
    if depth == 3:  # at most one Min/Max per side: the parser allows 8 arguments in all
        kinds += ["max", "min"]
    kind = draw(st.sampled_from(kinds))
    a = draw(exprs(depth - 1))
    if kind in ("+", "-"):
        return f"({a} {kind} {draw(exprs(depth - 1))})"
    if kind == "*":
        return f"{draw(st.integers(-3, 3))}*{a}"
    if kind in ("floor", "ceiling"):
        return f"{kind}({a}/{draw(st.sampled_from(DIVISORS))})"
    if kind == "%":
        return f"({a} % {draw(st.sampled_from(DIVISORS))})"
    if kind in ("max", "min"):
        return f"{kind}({a}, {draw(exprs(depth - 1))})"
    if kind == "half":
        return f"{a}/2"
    return f"abs({a})"


@st.composite
def cases(draw: st.DrawFn) -> Case:
    statement = f"{draw(exprs())} {draw(st.sampled_from(OPS))} {draw(exprs())}"
    assume = tuple(draw(st.lists(st.sampled_from(ASSUMPTIONS), max_size=2, unique=True)))
    return Case(statement, assume)


def _violation(case: Case) -> dict[str, int] | None:
    names = sorted(lower_bounds(case))
    width = {0: 1, 1: 40, 2: 14, 3: 8, 4: 6}.get(len(names), 4)
    spans = ranges(case, width)
    for values in itertools.product(*(spans[n] for n in names)):
        env = dict(zip(names, values))
        if violates(case, env):
            return env
    return None


SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@SETTINGS
@given(cases())
def test_each_rung_is_sound(case: Case) -> None:
    problem = build(case.statement, case.assume)
    violation = _violation(case)
    for name, outcome in (("rewriting", by_rewriting(problem)),
                          ("period", by_period(problem, None)),
                          ("z3", by_z3(problem, 5.0))):
        if outcome.status == "proved":
            assert violation is None, (name, case, violation)
        if outcome.status == "refuted":
            assert outcome.counterexample is not None
            assert violates(case, outcome.counterexample), (name, case, outcome)


@SETTINGS
@given(cases())
def test_the_ladder_is_sound(case: Case) -> None:
    proof = prove(case.statement, case.assume, timeout=10.0)
    violation = _violation(case)
    if proof.status == "proved":
        assert violation is None, (case, violation, str(proof))
    if proof.status == "refuted":
        assert proof.counterexample is not None
        assert violates(case, proof.counterexample), (case, str(proof))
    if violation is not None:
        assert proof.status == "refuted", (case, violation, str(proof))
