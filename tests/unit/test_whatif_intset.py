"""Exact integer sets and interval runs: normalisation, display, membership, sign sets."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.whatif.intset import IntSet, Progression
from convsym.whatif.runs import Runs, interpolate, poly_value, sign_runs, threshold_positive


@pytest.mark.parametrize(("parts", "text"), [
    ([], "no x"),
    ([Progression(63, 1, 64)], "x in {63, 64}"),
    ([Progression(3, 2), Progression(4, 2)], "x >= 3"),
    ([Progression(188, 16)], "x = 16t + 12, t >= 11 (188, 204, 220, ...)"),
    ([Progression(16, 16)], "x = 16t, t >= 1 (16, 32, 48, ...)"),
    ([Progression(12, 16, 12 + 16 * 61)], "x = 16t + 12, 0 <= t <= 61 (62 values)"),
    ([Progression(1, 1, 39)], "1 <= x <= 39"),
    ([Progression(5, 1, 5), Progression(6, 1)], "x >= 5"),
])
def test_describe(parts: list[Progression], text: str) -> None:
    assert IntSet.of(parts).describe("x") == text


def test_smallest_membership_and_size() -> None:
    s = IntSet.of([Progression(188, 16), Progression(3, 1, 4)])
    assert s.smallest(4) == [3, 4, 188, 204]
    assert 204 in s and 205 not in s and 2 not in s
    assert s.size() is None and not s.is_finite
    f = IntSet.points([1, 5, 9, 13, 2])
    assert f.is_finite and f.size() == 5 and f.values() == [1, 2, 5, 9, 13]


def test_bad_progressions_raise() -> None:
    with pytest.raises(ValueError):
        Progression(12, 16, 1000)
    with pytest.raises(ValueError):
        Progression(1, 0)


def test_clip_and_union() -> None:
    s = IntSet.of([Progression(12, 16)])
    assert s.clip(1, 100).values() == [12, 28, 44, 60, 76, 92]
    assert s.clip(13, None).smallest(2) == [28, 44]
    u = s.union(IntSet.points([1]))
    assert u.smallest(3) == [1, 12, 28]


progressions = st.builds(
    lambda start, step, count: Progression(start, step, None if count is None
                                           else start + step * count),
    st.integers(0, 60), st.integers(1, 12), st.one_of(st.none(), st.integers(0, 20)))


@settings(max_examples=150, deadline=None)
@given(st.lists(progressions, max_size=5))
def test_normalised_union_has_the_same_members(parts: list[Progression]) -> None:
    s = IntSet.of(parts)
    for x in range(0, 400):
        assert (x in s) == any(x in p for p in parts), x
    assert s == IntSet.of(list(reversed(parts)))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-30, 30), min_size=1, max_size=5),
       st.sampled_from(["ge", "eq"]), st.one_of(st.none(), st.integers(0, 80)))
def test_sign_runs_match_evaluation(coeffs: list[int], kind: str, top: int | None) -> None:
    runs = sign_runs(coeffs, kind, top)
    limit = 120 if top is None else top
    for t in range(0, limit + 1):
        value = poly_value(coeffs, t)
        expected = value >= 0 if kind == "ge" else value == 0
        inside = any(a <= t and (b is None or t <= b) for a, b in runs.parts)
        assert inside == expected, (coeffs, kind, t)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=5))
def test_interpolate_recovers_polynomials(coeffs: list[int]) -> None:
    values = [int(poly_value(coeffs, t)) for t in range(len(coeffs))]
    found = interpolate(values)
    for t in range(-5, 20):
        assert poly_value(found, t) == poly_value(coeffs, t)


def test_threshold_positive() -> None:
    assert threshold_positive([-29, 1]) == 30
    x = threshold_positive([-1000, -3, 1])  # x^2 - 3x - 1000 > 0 from 34 on
    assert all(t * t - 3 * t - 1000 > 0 for t in range(x, x + 100))
    with pytest.raises(ValueError):
        threshold_positive([1, -1])


def test_runs_algebra() -> None:
    a = Runs.of([(0, 3), (10, None)])
    b = Runs.of([(2, 12)])
    assert a.intersect(b).parts == ((2, 3), (10, 12))
    assert a.union(b).parts == ((0, None),)
    assert a.complement(0, 20).parts == ((4, 9),)
    assert Runs.of([(0, 1), (2, 3)]).parts == ((0, 3),)
    assert Fraction(1, 2) == interpolate([0, 1])[1] * Fraction(1, 2)
