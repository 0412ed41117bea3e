"""The one-unknown solver: period, threshold and enumeration methods, against brute force."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.budget import Deadline
from convsym.errors import BudgetExceeded
from convsym.expr import parse_relation, symbol
from convsym.whatif.constraints import Constraint, from_relation
from convsym.whatif.univariate import Limits, Undecided, solve_univariate


def cons(*texts: str) -> list[Constraint]:
    return [from_relation(parse_relation(t), origin="test") for t in texts]


def brute(constraints: list[Constraint], name: str, lo: int, hi: int) -> list[int]:
    x = symbol(name)
    return [v for v in range(lo, hi + 1) if all(c.holds({x: v}) for c in constraints)]


@pytest.mark.parametrize(("texts", "name", "expected"), [
    # Which stride gives 8 from 32 with a 3x3 'valid' conv?  Only 4 (s >= 30 gives 1).
    (("floor((32 - 3)/s) + 1 == 8",), "s", "s in {4}"),
    (("ceiling(32/s) == 8",), "s", "s in {4}"),
    (("ceiling(32/s) == 6",), "s", "s in {6}"),
    (("ceiling(32/s) == 9",), "s", "no s"),
    (("ceiling(32/s) == 7",), "s", "s in {5}"),
    (("4*floor((H - 1)/2)**2 == 3844",), "H", "H in {63, 64}"),
    (("9*f*f + 3*f <= 100000",), "f", "1 <= f <= 105"),
    (("floor((n - 4)/2) >= 3", "Mod(n, 16) == 12"), "n", "n = 16t + 12, t >= 0 (12, 28, 44, ...)"),
    (("floor(n/3) != 2", "n <= 10"), "n", "n in {1, 2, 3, 4, 5, 9, 10}"),
    (("max(n - 10, 5 - n) >= 0",), "n", "n in {1, 2, 3, 4, 5} or n >= 10"),
    (("min(floor(n/2), 7) == 7",), "n", "n >= 14"),
    (("floor((100 - s)/s**2) >= 1",), "s", "s in {1, 2, 3, 4, 5, 6, 7, 8, 9}"),
    (("n >= 5", "n <= 4"), "n", "no n"),
])
def test_examples(texts: tuple[str, ...], name: str, expected: str) -> None:
    found, steps = solve_univariate(cons(*texts), symbol(name), 1, None)
    assert found.describe(name) == expected
    assert steps


def test_the_stride_answer_is_proved_finite() -> None:
    found, steps = solve_univariate(cons("floor((32 - 3)/s) + 1 == 8"), symbol("s"), 1, None)
    kinds = [s.kind for s in steps]
    assert "threshold" in kinds and "enumerate" in kinds
    assert "from s >= 30 on" in steps[0].text()
    assert found.is_finite


def test_unbounded_fast_growth_in_the_divisor_is_unknown() -> None:
    with pytest.raises(Undecided, match="grows as fast as the divisor"):
        solve_univariate(cons("floor((3*s + 1)/(2*s)) + s >= 3"), symbol("s"), 1, None)


def test_bounded_range_falls_back_to_enumeration() -> None:
    found, steps = solve_univariate(cons("floor((3*s + 1)/(2*s)) + s >= 3"), symbol("s"), 1, 50)
    assert found.values() == list(range(1, 51))
    assert any(s.kind == "enumerate" for s in steps)


def test_period_limit_gives_undecided() -> None:
    with pytest.raises(Undecided, match="period"):
        solve_univariate(cons("floor(n/1000003) >= 1"), symbol("n"), 1, None,
                         limits=Limits(max_period=1000))


def test_deadline_stops_the_work() -> None:
    with pytest.raises(BudgetExceeded):
        solve_univariate(cons("floor(n/7) + floor(n/11) >= 3"), symbol("n"), 1, None,
                         deadline=Deadline(0.0))


@st.composite
def quasi_affine(draw: st.DrawFn) -> tuple[str, str]:
    """A random condition on n: sums of floor((a n + b)/d) (nested once) and c*n."""
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        a, b, d = draw(st.integers(-3, 4)), draw(st.integers(-20, 20)), draw(st.integers(1, 6))
        c = draw(st.integers(-3, 3))
        inner = f"floor(({a}*n + {b})/{d})"
        if draw(st.booleans()):
            inner = f"floor(({inner} + {draw(st.integers(-5, 5))})/{draw(st.integers(1, 4))})"
        terms.append(f"{c}*{inner}")
    lhs = " + ".join(terms) + f" + {draw(st.integers(-3, 3))}*n"
    op = draw(st.sampled_from(["==", ">=", "<=", "!=", ">", "<"]))
    return lhs, f"{op} {draw(st.integers(-30, 30))}"


@settings(max_examples=60, deadline=None)
@given(quasi_affine(), st.integers(1, 5))
def test_quasi_affine_matches_brute_force(rel: tuple[str, str], lo: int) -> None:
    constraints = cons(" ".join(rel))
    try:
        found, _ = solve_univariate(constraints, symbol("n"), lo, None)
    except Undecided as why:  # only the limits may stop it; never a wrong answer
        pytest.fail(f"undecided: {why.reason}")
    expected = brute(constraints, "n", lo, 1500)
    assert [v for v in found.clip(lo, 1500)] == expected


@st.composite
def polynomial_condition(draw: st.DrawFn) -> str:
    """A degree-2 condition in floors of n (as params or MACs in an input size are)."""
    d1, d2 = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    a, b = draw(st.integers(-6, 6)), draw(st.integers(-6, 6))
    c = draw(st.integers(-3, 3))
    k = draw(st.integers(-400, 400))
    op = draw(st.sampled_from(["==", ">=", "<="]))
    m = draw(st.integers(-9, 9))
    return f"{c}*floor((n + {a})/{d1})*floor((n + {b})/{d2}) + {m}*n {op} {k}"


@settings(max_examples=40, deadline=None)
@given(polynomial_condition())
def test_polynomial_matches_brute_force(text: str) -> None:
    constraints = cons(text)
    found, _ = solve_univariate(constraints, symbol("n"), 1, None)
    assert list(found.clip(1, 1200)) == brute(constraints, "n", 1, 1200)


@st.composite
def stride_condition(draw: st.DrawFn) -> str:
    """Sizes with the unknown stride s in a divisor: valid, same and padded convolutions."""
    n, k, p = draw(st.integers(1, 80)), draw(st.integers(1, 7)), draw(st.integers(0, 3))
    kind = draw(st.sampled_from(["valid", "same", "twice"]))
    if kind == "valid":
        size = f"floor(({n} + {2 * p} - {k})/s) + 1"
    elif kind == "same":
        size = f"ceiling({n}/s)"
    else:
        size = f"floor((floor(({n} - {k})/s) + 1 - 1)/s) + 1"
    op = draw(st.sampled_from(["==", ">=", "<="]))
    return f"{size} {op} {draw(st.integers(1, 12))}"


@settings(max_examples=60, deadline=None)
@given(stride_condition())
def test_strides_match_brute_force(text: str) -> None:
    constraints = cons(text)
    found, _ = solve_univariate(constraints, symbol("s"), 1, None)
    assert list(found.clip(1, 400)) == brute(constraints, "s", 1, 400)
