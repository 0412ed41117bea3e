"""Systems in several unknowns: bounds, components, boxes and separable products."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.expr import parse_expr, parse_relation, symbols
from convsym.intdiv import from_sympy
from convsym.whatif.constraints import Constraint, from_relation
from convsym.whatif.product import signed_factorisations, split_product
from convsym.whatif.system import solve_system
from convsym.whatif.univariate import Undecided

H, W, D, K, P = symbols("H W D k p")


def cons(*texts: str) -> list[Constraint]:
    return [from_relation(parse_relation(t), origin="test") for t in texts]


def member(cells: list[dict[object, object]], point: dict[object, int]) -> bool:
    return any(all(point[v] in cell[v] for v in point) for cell in cells)  # type: ignore[operator]


@pytest.mark.parametrize(("text", "target"), [
    ("4*floor((H-1)/2)*floor((W-1)/2) - 3844", 961),
    ("3*D*H*W - 48", 16),
    ("H*W + H - 5", 5),
    ("H*W + 1", -1),
    ("16*floor((D+1)/2)*floor(H/3)*ceiling(W/4) - 960", 60),
])
def test_split_product(text: str, target: int) -> None:
    split = split_product(from_sympy(parse_expr(text)), [D, H, W])
    assert split is not None and split.target == target


@pytest.mark.parametrize("text", ["H*W + H*H", "H + W - 3", "floor((H + W)/2)*H - 4",
                                  "H*H*W + W*W*H - 6"])
def test_not_a_product(text: str) -> None:
    assert split_product(from_sympy(parse_expr(text)), [H, W]) is None


def test_fractional_constant_has_no_integer_solution() -> None:
    split = split_product(from_sympy(parse_expr("2*(H + 1)*(W + 2) - 7")), [H, W])
    assert split is not None and split.target is None


def test_signed_factorisations() -> None:
    assert signed_factorisations(6, 2)[:4] == [(1, 6), (2, 3), (3, 2), (6, 1)]
    assert len(signed_factorisations(-12, 3)) == len(
        [t for t in itertools.product(range(-12, 13), repeat=3)
         if 0 not in t and t[0] * t[1] * t[2] == -12])


def test_the_flatten_dense_match() -> None:
    answer = solve_system(cons("H >= 3", "W >= 3", "4*floor((H-1)/2)*floor((W-1)/2) == 3844"),
                          [H, W], {})
    pairs = {(h, w) for c in answer.cells for h in c[H] for w in c[W]}
    assert pairs == {(h, w) for h, w in itertools.product([3, 4, 63, 64, 1923, 1924], repeat=2)
                     if (h - 1) // 2 * ((w - 1) // 2) == 961}
    assert any(s.kind == "divisors" for s in answer.steps)


def test_box_and_fixing() -> None:
    rel = "floor((32 + 2*p - k)/2) + 1 == 16"
    box = solve_system(cons(rel, "k <= 9", "p <= 4"), [K, P], {K: (1, None), P: (0, None)})
    fixed = solve_system(cons(rel, "k <= 9"), [K, P], {K: (1, None), P: (0, None)})
    expected = {(k, p) for k in range(1, 10) for p in range(0, 5) if k in (2 * p + 1, 2 * p + 2)}
    for answer in (box, fixed):
        got = {(k, p) for c in answer.cells for k in c[K] for p in c[P]}
        assert got == expected


def test_independent_unknowns_are_split() -> None:
    answer = solve_system(cons("floor(H/2) >= 3", "W <= 4"), [H, W], {})
    assert len(answer.cells) == 1
    assert answer.cells[0][W].values() == [1, 2, 3, 4]
    assert answer.cells[0][H].smallest(2) == [6, 7]


def test_coupled_unbounded_unknowns_are_undecided() -> None:
    with pytest.raises(Undecided, match="coupled"):
        solve_system(cons("H + W == 10 + floor(H*W/3)"), [H, W], {})


def test_contradiction_and_constant_conditions() -> None:
    assert solve_system(cons("H >= 5", "H <= 3"), [H], {}).cells == []
    assert solve_system(cons("3 >= 4"), [H], {}).cells == []
    assert solve_system(cons("2*H == 7"), [H], {}).cells == []


@st.composite
def products(draw: st.DrawFn) -> str:
    d1, d2 = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    a, b = draw(st.integers(-3, 3)), draw(st.integers(-3, 3))
    c = draw(st.sampled_from([1, 2, 3, 4]))
    k = draw(st.integers(-40, 200))
    return f"{c}*floor((H + {a})/{d1})*floor((W + {b})/{d2}) == {k}"


@settings(max_examples=30, deadline=None)
@given(products())
def test_products_match_brute_force(text: str) -> None:
    constraints = cons(text, "H >= 2", "W >= 2")
    try:
        answer = solve_system(constraints, [H, W], {})
    except Undecided as why:
        assert "coupled" in why.reason  # k == 0 with unbounded factors: an infinite product
        return
    for h, w in itertools.product(range(1, 45), repeat=2):
        expected = all(c.holds({H: h, W: w}) for c in constraints)
        assert member(answer.cells, {H: h, W: w}) == expected, (h, w)
