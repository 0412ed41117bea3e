"""The soundness campaign for statements: generated prove and solve problems, every verdict
and every exact set checked against the independent brute-force evaluator of ``soundkit``.

* "proved" must hold at every point of the box (domain and assumptions, where defined);
* a counterexample must lie in the domain, meet the assumptions and violate the statement;
* an exact ``solve`` answer must contain exactly the box points that meet the conditions, and
  every point of a finite answer must meet them;
* "unknown" and a clear refusal (a ConvsymError) are honest and only counted.

The default budget is small (a few dozen problems each, deterministic); hunt with more:
``CONVSYM_SOUNDNESS_SCALE=50 python -m pytest -q -s tests/soundness`` (random each run).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from soundkit import (
    NAMES,
    SCALE,
    Assumption,
    Bound,
    Domain,
    Rel,
    T,
    Tally,
    bounds,
    general_assumptions,
    prove_domain,
    relations,
    satisfied,
    var,
)

from convsym.errors import ConvsymError
from convsym.proof import prove
from convsym.whatif.solve import solve

PROVE_EXAMPLES = 120
SOLVE_EXAMPLES = 80
TIMEOUT = 1.0
"""convsym's own budget per problem (seconds); "unknown" past it is honest."""


def _settings(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, database=None,
                    derandomize=SCALE <= 1,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def prove_problems(draw: st.DrawFn) -> tuple[Rel, list[Assumption], bool]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    statement = draw(relations(names))
    assume: list[Assumption] = []
    widened = [n for n in names if n != "s"]
    if widened and draw(st.booleans()):  # a domain below 1 and a condition on that symbol
        name = draw(st.sampled_from(widened))
        assume.append(draw(bounds(name)))
        assume.append(draw(general_assumptions([name])))
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.booleans()):
            assume.append(draw(bounds(draw(st.sampled_from(names)))))
        else:
            assume.append(draw(general_assumptions(names)))
    return statement, assume, draw(st.integers(0, 3)) == 0


def check_proof(statement: Rel, assume: Sequence[Assumption], tally: Tally,
                as_sympy: bool = False) -> None:
    """Run prove (the statement as text, or as a SymPy relation) and check its verdict;
    record the outcome and any wrong answer."""
    text = statement.text()
    given_text = [a.text() for a in assume]
    case = f"prove {text!r} assuming {given_text}" + (" (as SymPy)" if as_sympy else "")
    try:
        proof = prove(statement.sympy() if as_sympy else text, given_text, timeout=TIMEOUT)
    except ConvsymError as err:
        tally.kinds[f"refused ({err.code})"] += 1
        return
    tally.kinds[proof.status] += 1
    names = statement.names() | {n for a in assume for n in (
        a.names() if isinstance(a, Rel) else {a.name})}
    domain = prove_domain(names, assume)
    if proof.status == "refuted":
        point = dict(proof.counterexample or {})
        full = {n: point.get(n) for n in names}
        if any(v is None for v in full.values()):  # a name that vanished: any value will do
            full = {n: v if v is not None else _any(domain, n) for n, v in full.items()}
        env = {n: int(v) for n, v in full.items() if v is not None}
        if not domain.contains(env) or satisfied(assume, env) is not True or \
                statement.holds(env) is not False:
            tally.wrong.append(f"{case}: counterexample {point} does not violate it")
    elif proof.status == "proved":
        for env in domain.box():
            if satisfied(assume, env) is True and statement.holds(env) is False:
                tally.wrong.append(f"{case}: proved, but false at {env}")
                break


def _any(domain: Domain, name: str) -> int:
    lo, hi = domain.lo[name], domain.hi[name]
    return lo if lo is not None else hi  # type: ignore[return-value]


@st.composite
def solve_problems(draw: st.DrawFn) -> tuple[list[Rel], list[str], list[Bound]]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=2, unique=True))
    conditions = [draw(relations(names)) for _ in range(draw(st.integers(1, 2)))]
    conditions = [c if c.names() else Rel(T("add", (var(names[0]), c.lhs)), c.op, c.rhs)
                  for c in conditions]
    if draw(st.booleans()):  # a condition that is not a bound: abs, mod, min, max, floor
        conditions.append(draw(general_assumptions(names)))
    # every unknown written in a condition (SymPy may still cancel one: a refusal)
    unknowns = sorted(set().union(*(c.names() for c in conditions))) or names[:1]
    given = [draw(bounds(n)) for n in unknowns if draw(st.integers(0, 2)) > 0]
    given = [Bound(b.name, b.op, b.c) for b in given]  # solve's bounds are plain
    low = [n for n in unknowns if n != "s"]
    if low and draw(st.booleans()):  # a lower end below 1, where SymPy's positivity is wrong
        given.append(Bound(low[0], ">=", draw(st.integers(-5, 0))))
    return conditions, unknowns, given


def check_solve(conditions: Sequence[Rel], unknowns: Sequence[str], given: Sequence[Bound],
                tally: Tally) -> None:
    """Run solve and compare an exact answer with brute force over the box."""
    texts = [c.text() for c in conditions]
    bound_text = [b.text() for b in given]
    case = f"solve {texts} for {list(unknowns)} bounds {bound_text}"
    try:
        answer = solve(texts, list(unknowns), bounds=bound_text or None, timeout=TIMEOUT)
    except ConvsymError as err:
        tally.kinds[f"refused ({err.code})"] += 1
        return
    tally.kinds[answer.status] += 1
    if not answer.exact:
        return
    lows: dict[str, int] = {}
    hi: dict[str, int | None] = {n: None for n in unknowns}
    for b in given:
        low, high = b.ends()
        if low is not None:  # solve's bounds set the lower end, also below 1; several tighten
            lows[b.name] = max(low, lows.get(b.name, low))
        if high is not None:
            known = hi[b.name]
            hi[b.name] = high if known is None else min(high, known)
    domain = Domain({n: lows.get(n, 1) for n in unknowns}, hi)

    def meets(env: dict[str, int]) -> bool:
        return all(c.holds(env) is True for c in conditions)

    order = tuple(answer.unknowns)
    for env in domain.box():
        inside = tuple(env[n] for n in order) in answer
        if inside != meets(env):
            tally.wrong.append(f"{case}: {env} is {'in' if inside else 'not in'} the answer "
                               f"{answer.describe()}, brute force says the opposite")
            return
    if answer.is_finite:
        for values in answer.points(limit=5000):
            env = dict(zip(order, values))
            if not (domain.contains(env) and meets(env)):
                tally.wrong.append(f"{case}: {env} is in the answer {answer.describe()} but "
                                   "does not meet the conditions")
                return


def _report(tally: Tally, what: str, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print("\n" + tally.summary(what))
        for line in tally.wrong[:20]:
            print("  WRONG:", line)
    assert not tally.wrong, f"{len(tally.wrong)} wrong answer(s); first: {tally.wrong[0]}"


def test_prove_verdicts_match_brute_force(capsys: pytest.CaptureFixture[str]) -> None:
    tally = Tally()

    @_settings(PROVE_EXAMPLES)
    @given(prove_problems())
    def run(problem: tuple[Rel, list[Assumption], bool]) -> None:
        check_proof(*problem[:2], tally, as_sympy=problem[2])

    run()
    _report(tally, "prove", capsys)


def test_solve_sets_match_brute_force(capsys: pytest.CaptureFixture[str]) -> None:
    tally = Tally()

    @_settings(SOLVE_EXAMPLES)
    @given(solve_problems())
    def run(problem: tuple[list[Rel], list[str], list[Bound]]) -> None:
        check_solve(*problem, tally)

    run()
    _report(tally, "solve", capsys)


def test_the_issue_13_cases_are_checked_like_generated_ones() -> None:
    """The statements from issue 13, through the same checks (they were wrong before)."""
    from soundkit import const

    tally = Tally()
    q, p = var("q"), var("p")
    check_proof(Rel(const(1), "==", const(2)),
                [Bound("q", "<=", 0), Rel(T("abs", (q,)), ">=", const(3))], tally)
    check_proof(Rel(p, ">=", const(2)),
                [Bound("p", ">=", -5), Rel(T("abs", (p,)), ">=", const(2))], tally)
    check_proof(Rel(p, ">=", const(1)), [Rel(T("abs", (p,)), ">=", const(-3))], tally)
    check_solve([Rel(T("add", (p, T("abs", (p,)))), "==", const(0))], ["p"],
                [Bound("p", ">=", -3)], tally)
    check_solve([Rel(T("abs", (T("sub", (p, const(1))),)), "==", const(1))], ["p"],
                [Bound("p", ">=", 0)], tally)
    assert not tally.wrong, tally.wrong
    assert tally.kinds["refuted"] == 2 and tally.kinds["exact"] == 2
