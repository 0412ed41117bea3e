"""One axis of an element-wise merge: :mod:`convsym.layers.broadcast` against plain integers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.expr import symbol
from convsym.intdiv import QExpr, QPoly, evaluate, ext, floordiv
from convsym.layers.broadcast import decide_into, decide_pair, merged_size

n = symbol("n")
N = QPoly.sym(n)


def c(value: int) -> QPoly:
    return QPoly.const(value)


@st.composite
def sizes(draw: st.DrawFn) -> QExpr:
    """``floor((a n + b)/d) + e``, sometimes a constant or a Min (ceil_mode pooling)."""
    kind = draw(st.sampled_from(["floor", "floor", "const", "min"]))
    if kind == "const":
        return c(draw(st.integers(1, 4)))
    a, b = draw(st.integers(1, 3)), draw(st.integers(-6, 6))
    d, e = draw(st.integers(1, 6)), draw(st.integers(-2, 2))
    size = floordiv(c(a) * N + c(b), c(d)) + c(e)
    if kind == "min":
        return ext("min", [size, floordiv(N + c(draw(st.integers(0, 3))), c(2))])
    return size


def framework(x: int, y: int) -> int | None:
    """PyTorch's and Keras's rule for one axis."""
    if x == y or y == 1:
        return x
    if x == 1:
        return y
    return None


@settings(max_examples=150, deadline=None)
@given(sizes(), sizes())
def test_pair_condition_and_size_are_exact(a: QExpr, b: QExpr) -> None:
    pair = decide_pair(a, b)
    kept = [a, b] if pair.drop is None else [(a, b)[1 - pair.drop]]
    size = merged_size(kept)
    for value in range(1, 150):
        x, y = evaluate(a, {n: value}), evaluate(b, {n: value})
        if min(x, y) < 1:
            continue  # a layer before the merge rejects this input
        want = framework(x, y)
        if pair.kind == "never":
            assert want is None, (value, x, y)
            continue
        if pair.kind == "always":
            holds = True
        elif pair.kind == "any":
            holds = evaluate(pair.condition_expr(), {n: value}) >= 0
        else:
            holds = evaluate(pair.condition_expr(), {n: value}) == 0
        assert holds == (want is not None), (value, x, y, pair.kind)
        if holds:
            assert evaluate(size, {n: value}) == want, (value, x, y)


@pytest.mark.parametrize(("a", "b", "kind"), [
    (N, N, "always"),
    (N, c(1), "always"),
    (c(1), N + c(3), "always"),
    (N + c(1), N + c(2), "never"),
    (N, N + c(1), "a_one"),  # n == 1: (1) + (2) broadcasts
    (N + c(1), N, "b_one"),
    (c(2) * N, N + c(1), "equal"),  # never 1 on either side; equal at n = 1
    (N, floordiv(N, c(8)), "any"),
])
def test_pair_kinds(a: QExpr, b: QExpr, kind: str) -> None:
    assert decide_pair(a, b).kind == kind


def test_a_disjunction_shows_as_or_of_equations() -> None:
    pair = decide_pair(floordiv(N, c(4)), floordiv(N, c(5)))
    assert pair.kind == "any"
    assert [str(e) for e in pair.shown()] == [
        "Eq(floor(n/4), floor(n/5))", "Eq(floor(n/4), 1)", "Eq(floor(n/5), 1)"]


def test_a_max_size_feeds_a_same_convolution() -> None:
    from convsym.graph import Model
    from convsym.layers import keras as K

    x = K.Input(("n", 2))
    a = K.MaxPooling1D(2, padding="same")(x)  # ceil(n/2)
    b = K.Conv1D(2, 3)(x)  # n - 2: larger than ceil(n/2) from n = 6 on, smaller before
    y = K.Conv1D(2, 3, strides=2, padding="same")(K.Add()([a, b]))
    model = Model(inputs=x, outputs=y)
    assert "Max" in str(model.rows[-2].output_shape[0])
    assert model.admissible_inputs().values("n").smallest(10) == [3, 4, 5]
    assert [model.subs(n=v).output_shape for v in (3, 4, 5)] == [(1, 2), (1, 2), (2, 2)]


@settings(max_examples=60, deadline=None)
@given(sizes(), sizes())
def test_an_in_place_pair_holds_exactly_where_pytorch_writes_into_the_target(
        a: QExpr, b: QExpr) -> None:
    """``a.add_(b)`` on one axis: valid exactly when ``b`` is ``a`` or 1 (never when only
    ``a`` is 1: the result would grow)."""
    pair = decide_into(a, b)
    for value in range(1, 150):
        x, y = evaluate(a, {n: value}), evaluate(b, {n: value})
        if min(x, y) < 1:
            continue
        want = y in (x, 1)
        if pair.kind in ("always", "never"):
            assert want == (pair.kind == "always"), (value, x, y)
        elif pair.kind == "any":
            assert (evaluate(pair.condition_expr(), {n: value}) >= 0) == want, (value, x, y)
        else:
            assert (evaluate(pair.condition_expr(), {n: value}) == 0) == want, (value, x, y)
