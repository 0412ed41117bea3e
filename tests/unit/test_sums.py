"""convsym.sums.total: the same expression as sympy.Add, with and without like terms."""

from __future__ import annotations

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.sums import total

H, W, N = sympy.symbols("H W n", positive=True, integer=True)
A = sympy.Symbol("A", commutative=False)


def _terms() -> st.SearchStrategy[sympy.Expr]:
    # powers of two 61 apart hash alike in SymPy (modulo 2**61 - 1): the case total is for
    exponents = st.sampled_from([0, 1, 2, 5, 61, 62, 66, 122, 183])
    atoms = st.one_of(
        st.sampled_from([H, W, N, H**2, H*W, N**-1, sympy.sqrt(H)]),
        st.builds(lambda x, e: sympy.ceiling(x / 2**e), st.sampled_from([H, W]), exponents),
        st.builds(lambda x, e: sympy.floor((x + 2**e - 1) / 2**e), st.sampled_from([H, W]),
                  exponents))
    coefficients = st.one_of(st.integers(-3, 3), st.sampled_from(
        [sympy.Rational(1, 2), sympy.Rational(-3, 4), 2**70, sympy.Float(1.5)]))
    products = st.builds(lambda c, xs: sympy.Mul(c, *xs), coefficients,
                         st.lists(atoms, min_size=1, max_size=3))
    odd = st.sampled_from([H + 1, sympy.Integer(0), sympy.Integer(5), sympy.Rational(1, 3),
                           sympy.oo, A, 2 * A, sympy.Float(0.5), 2 * (H + 1),
                           sympy.Mul(2, H + W, evaluate=False), sympy.Pow(2, H)])
    return st.one_of(products, atoms, odd)


@settings(max_examples=200, deadline=None)
@given(st.lists(_terms(), max_size=8))
def test_total_is_the_sum_sympy_makes(items: list[sympy.Expr]) -> None:
    made, expected = total(items), sympy.Add(*items)
    assert made == expected
    # the same args in the same order (compared with ==, not srepr: a result found in SymPy's
    # cache may hold an equal symbol made elsewhere, whose assumptions print in another order)
    assert made.func == expected.func and made.args == expected.args


def test_total_of_a_deep_stride_2_stack_collects_like_sympy() -> None:
    rows = [sympy.Integer(144) * sympy.ceiling(H / 2**i) * sympy.ceiling(W / 2**i)
            for i in range(130)]
    rows += [sympy.Integer(16) * sympy.ceiling(H / 2**i) * sympy.ceiling(W / 2**i)
             for i in range(0, 130, 7)]  # like terms to collect, 61 exponents apart too
    made, expected = total(rows), sympy.Add(*rows)
    assert sympy.srepr(made) == sympy.srepr(expected) and len(made.args) == 130


def test_total_of_nothing_or_of_cancelling_terms_is_zero() -> None:
    assert total([]) is sympy.S.Zero
    assert total([2 * H * W, -2 * H * W]) is sympy.S.Zero
    assert total([H, -H, sympy.Integer(4)]) == 4


def test_total_under_evaluate_false_is_adds_unevaluated_sum() -> None:
    items = [2 * H, 3 * H, sympy.Integer(1)]
    with sympy.evaluate(False):
        made, expected = total(items), sympy.Add(*items)
    assert sympy.srepr(made) == sympy.srepr(expected) and len(made.args) == 3
