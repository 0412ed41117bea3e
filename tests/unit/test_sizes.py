"""The size helpers (convsym/sizes.py) against plain integer arithmetic."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.expr import symbol
from convsym.intdiv import QExpr, QPoly, ceildiv, evaluate, ext, floordiv
from convsym.sizes import add_sizes, agreement, difference, mul_sizes, negate, settle, threshold

N = symbol("n")
n = QPoly.sym(N)


def _size(k: int, kind: int) -> QExpr:
    """A few shapes of size: floors, ceilings, Min and Max of them."""
    c = QPoly.const(k)
    forms: list[QExpr] = [n + c, floordiv(n + c, QPoly.const(3)), ceildiv(n, QPoly.const(2)) + c,
                          ext("min", [n, c]), ext("max", [floordiv(n, QPoly.const(2)), c])]
    return forms[kind % len(forms)]


sizes = st.builds(_size, st.integers(0, 9), st.integers(0, 4))
values = st.integers(1, 200)


@settings(max_examples=60, deadline=None)
@given(sizes, sizes, values)
def test_sum_product_and_difference_are_the_integers(a: QExpr, b: QExpr, v: int) -> None:
    x, y = evaluate(a, {N: v}), evaluate(b, {N: v})
    assert evaluate(add_sizes(a, b), {N: v}) == x + y
    assert evaluate(mul_sizes(a, QPoly.const(3), b), {N: v}) == 3 * x * y
    assert evaluate(difference(a, b), {N: v}) == x - y
    assert evaluate(negate(a), {N: v}) == -x


@settings(max_examples=40, deadline=None)
@given(sizes, sizes, values)
def test_settle_keeps_the_value(a: QExpr, b: QExpr, v: int) -> None:
    e = ext("max", [a, b])
    assert evaluate(settle(e), {N: v}) == evaluate(e, {N: v})


@settings(max_examples=40, deadline=None)
@given(sizes, sizes)
def test_agreement_verdicts_hold_on_the_integers(a: QExpr, b: QExpr) -> None:
    verdict = agreement(a, b)
    pairs = [(evaluate(a, {N: v}), evaluate(b, {N: v})) for v in range(1, 80)]
    if verdict.verdict == "always":
        assert all(x == y for x, y in pairs)
    elif verdict.verdict == "never":
        assert all(x != y for x, y in pairs)
    elif verdict.verdict == "sometimes":
        point = dict(verdict.counterexample)
        assert evaluate(a, point) != evaluate(b, point)


def test_settle_drops_a_max_argument_that_never_wins() -> None:
    assert settle(ext("max", [QPoly.const(0), n])) == n


def test_threshold_is_the_first_value_that_passes() -> None:
    e = floordiv(n - QPoly.const(140), QPoly.const(16))
    assert threshold(e) == (N, 140)
    assert threshold(n - QPoly.sym(symbol("m"))) is None  # two symbols: no threshold


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(-40, 40), st.integers(1, 64),
       st.integers(-30, 30))
def test_threshold_solved_directly_is_the_first_passing_value(c: int, a: int, b: int, d: int,
                                                              r: int) -> None:
    # c*floor((a*n + b)/d) + r >= 0 exactly from n = t on: read off the form, checked here
    # against a scan of the integers
    e = QPoly.const(c) * floordiv(QPoly.const(a) * n + QPoly.const(b), QPoly.const(d)) + \
        QPoly.const(r)
    found = threshold(e)
    first = next(v for v in range(1, 10_000) if evaluate(e, {N: v}) >= 0)
    assert found == (N, first)
    # the same form in a symbol that may be 0 (read off the form, never decreasing there too)
    p = symbol("p", nonnegative=True)
    e = e.subs({N: QPoly.sym(p)})
    first = next(v for v in range(0, 10_000) if evaluate(e, {p: v}) >= 0)
    assert threshold(e) == (p, first)


@settings(max_examples=150, deadline=None)
@given(sizes, sizes, st.integers(-3, 3))
def test_an_agreement_without_its_point_has_the_same_verdict(a: QExpr, b: QExpr,
                                                             shift: int) -> None:
    # witness=False may skip the period checks ("sometimes" shown by two samples), never
    # changing what is always or never equal
    b = add_sizes(b, QPoly.const(shift))
    full, quick = agreement(a, b), agreement(a, b, witness=False)
    assert quick.verdict == full.verdict or \
        (quick.verdict == "sometimes" and full.verdict == "unknown")
    if quick.verdict == "sometimes" and quick.reason != full.reason:  # from the samples
        seen = {evaluate(a, {N: v}) == evaluate(b, {N: v}) for v in range(1, 400)}
        assert seen == {True, False}


@settings(max_examples=150, deadline=None)
@given(sizes, st.integers(-12, 12))
def test_a_room_decided_from_samples_is_decided_the_same_by_periods(a: QExpr,
                                                                     shift: int) -> None:
    from convsym.intdiv import add
    from convsym.layers import base
    from convsym.period import decide_nonneg

    room = add(a, QPoly.const(shift))
    base._ROOMS.clear()
    holds, never = base._room_decision(room)
    slow_holds = decide_nonneg(room).holds is True
    slow_never = decide_nonneg(add(negate(room), QPoly.const(-1))).holds is True
    assert (holds, never) == (slow_holds, slow_never and not slow_holds)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 4)), min_size=1, max_size=4), values)
def test_remembered_products_are_the_products_of_those_factors(specs: list[tuple[int, int]],
                                                                v: int) -> None:
    # the memo is keyed by value: fresh but equal factors get the product of the same values,
    # and a product met before is the integers' product again
    for _ in range(2):
        factors = [_size(k, kind) for k, kind in specs]
        expected = 1
        for f in factors:
            expected *= evaluate(f, {N: v})
        assert evaluate(mul_sizes(*factors), {N: v}) == expected


def test_products_are_remembered_within_a_bound() -> None:
    from convsym import sizes as module

    module._PRODUCTS.clear()
    a, b = floordiv(n, QPoly.const(2)), n + QPoly.const(1)
    first = mul_sizes(a, b)
    assert mul_sizes(floordiv(n, QPoly.const(2)), n + QPoly.const(1)) is first
    assert mul_sizes(b, b) is not first and len(module._PRODUCTS) == 2
    for k in range(module._PRODUCTS_HELD + 10):
        mul_sizes(n, QPoly.const(k + 2))
    assert len(module._PRODUCTS) <= module._PRODUCTS_HELD


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-3, 9), max_size=4), st.integers(0, 9), st.integers(0, 1))
def test_one_size_times_constants_is_the_generic_product(consts: list[int], k: int,
                                                         kind: int) -> None:
    # the direct scaling of one size (a layer's MACs from its area) against product()
    from convsym import sizes as module
    from convsym.intdiv import product

    size = _size(k, kind)
    assert isinstance(size, QPoly)
    factors = (*(QPoly.const(c) for c in consts), size)
    module._PRODUCTS.clear()
    fast = mul_sizes(*factors)
    assert isinstance(fast, QPoly)
    assert fast == product(factors) and fast.terms == product(factors).terms


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 4), st.integers(1, 3)),
                min_size=1, max_size=3), st.integers(2, 40))
def test_largest_divisors_are_those_of_every_nested_floor(specs: list[tuple[int, int, int]],
                                                          d: int) -> None:
    # the per-floor memo against a walk of every floor, nested ones included
    from convsym.intdiv import iter_floors
    from convsym.sizes import largest_divisors

    e: QExpr = QPoly.const(0)
    for k, kind, depth in specs:
        x = _size(k, kind)
        for _ in range(depth):  # nest it: floor((x + k)/d)
            x = ext("max", [floordiv(a, QPoly.const(d)) for a in x.args]) \
                if not isinstance(x, QPoly) else floordiv(x + QPoly.const(k), QPoly.const(d))
        e = add_sizes(e, x)
    walked = sorted({f.den.const_value() for f in iter_floors(e) if f.den.is_const()})[-3:]
    assert largest_divisors(e) == walked


@settings(max_examples=60, deadline=None)
@given(sizes, sizes, st.integers(-2, 3))
def test_two_sums_multiply_as_the_generic_product(a: QExpr, b: QExpr, c: int) -> None:
    # the direct expansion of two short sums (a layer's area) against product()
    from convsym import sizes as module
    from convsym.intdiv import product

    if not (isinstance(a, QPoly) and isinstance(b, QPoly)):
        return
    module._PRODUCTS.clear()
    for factors in ((a, b), (QPoly.const(1), a, b), (QPoly.const(c), a, b)):
        fast = mul_sizes(*factors)
        assert isinstance(fast, QPoly) and fast == product(factors)
        assert list(fast.terms.items()) == list(product(factors).terms.items())
