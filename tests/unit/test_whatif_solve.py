"""solve() on networks and on plain conditions: targets, quantities, bounds, errors, budgets."""

from __future__ import annotations

import pytest

from convsym import Sequential
from convsym.budget import Deadline
from convsym.errors import ConvsymError, ExpressionError, UsageError
from convsym.examples import example
from convsym.layers.keras import Conv2D, Dense, Flatten, Input
from convsym.layers.torch import Conv2d
from convsym.whatif import solve
from convsym.whatif.quantities import axis_names, vocabulary
from convsym.whatif.solve import parse_bounds


def test_which_stride_gives_8_from_32() -> None:
    """The issue's question, with a 3x3 'valid' conv: only s = 4, proved finite."""
    net = Sequential([Conv2d(3, 8, 3, stride="s")], input_shape=(3, 32, 32))
    answer = solve(net, "s", where="out_H == 8")
    assert answer.exact and answer.points() == [(4,)]
    text = answer.derivation()
    assert "from s >= 30 on" in text and "checked directly" in text
    # every stride checked against the formula, far beyond the threshold
    assert [s for s in range(1, 500) if (32 - 3) // s + 1 == 8] == [4]


def test_which_k_and_p_keep_32_to_16_with_stride_2() -> None:
    net = Sequential([Conv2d(3, 8, "k", stride=2, padding=("p", "p"))], input_shape=(3, 32, 32))
    answer = solve(net, ["k", "p"], where="out_H == 16", bounds=["1 <= k <= 9", "0 <= p <= 4"])
    expected = sorted((k, p) for k in range(1, 10) for p in range(0, 5)
                      if 32 + 2 * p >= k and (32 + 2 * p - k) // 2 + 1 == 16)
    assert answer.points() == expected
    assert (1, 0) in answer and (9, 4) in answer and (9, 3) not in answer
    # p = 0 lies below the positive symbol's domain: the network is rebuilt with it
    assert "Case p = 0" in answer.derivation()


def test_k_bounded_p_unbounded_is_still_exact() -> None:
    net = Sequential([Conv2d(3, 8, "k", stride=2, padding=("p", "p"))], input_shape=(3, 32, 32))
    answer = solve(net, ["k", "p"], where="out_H == 16", bounds="k <= 9")
    assert answer.points() == [(k, p) for k, p in
                               [(3, 1), (4, 1), (5, 2), (6, 2), (7, 3), (8, 3), (9, 4)]]


def test_params_budget_for_filters() -> None:
    net = Sequential([Input((32, 32, 3)), Conv2D("f", 3), Conv2D("f", 3), Flatten(), Dense(10)])
    answer = solve(net, "f", where="params <= 100000")
    limit = max(f for f in range(1, 400)
                if 27 * f + f + 9 * f * f + f + 28 * 28 * f * 10 + 10 <= 100000)
    assert answer.values_of("f").values() == list(range(1, limit + 1))


def test_input_size_with_a_macs_budget_is_finite() -> None:
    net = Sequential([Input(("n", "n", 3)), Conv2D(16, 3, strides=2)])
    answer = solve(net, "n", where="macs <= 1000000")
    expected = [n for n in range(3, 2000) if ((n - 3) // 2 + 1) ** 2 * 16 * 27 <= 1000000]
    assert answer.values_of("n").values() == expected


def test_unet_output_size_target() -> None:
    answer = solve(example("unet"), ["H", "W"], where=["out_H == 388", "out_W == out_H"])
    assert answer.points() == [(572, 572)]


def test_plain_conditions() -> None:
    assert solve("floor((n - 3)/2) + 1 == 8", "n").points() == [(17,), (18,)]
    answer = solve(["floor((n - 12)/16) >= 0", "Mod(n, 16) == 12"], "n")
    assert answer.describe() == "n = 16t + 12, t >= 0 (12, 28, 44, ...)"
    assert answer.is_finite is False and 44 in answer


def test_projection_of_free_symbols() -> None:
    net = Sequential([Input(("H", "W", 1)), Conv2D(1, 3), Flatten(), Dense(1)])
    answer = solve(net, "H")
    assert answer.projected == ("W",)
    assert answer.values_of("H").smallest(3) == [3, 4, 5]


def test_vocabulary() -> None:
    net = example("seed3")
    names = vocabulary(net)
    assert {"out_0", "conv2d_C", "in_H", "conv2d_1_W", "r1_H", "dense_params", "params",
            "macs", "r3_macs"} <= set(names)
    assert axis_names(3, "torch") == ("C", "H", "W")
    assert axis_names(3, "keras") == ("H", "W", "C")
    assert axis_names(2, "torch") == ("C", "L")


@pytest.mark.parametrize(("where", "unknowns", "message", "code"), [
    ("out.H == 8", "n", "write out_H|underscore", "bad_expression"),
    ("conv2d_1_h == 8", "n", "did you mean 'conv2d_1_H'", "unknown_name"),
    # a classifier's output is a vector: say so and name the rows that have the axis,
    # not a near miss such as out_0 (issue 15: the README's example failed this way)
    ("out_H == 8", "n", "the output (of the last row, 'dense') has no axis H, only out_0; "
     "rows with an H axis: conv2d, conv2d_1 (e.g. conv2d_1_H)", "unknown_name"),
    ("conv2d_1_H == 8", "m", "'m' is not a symbol", "unknown_symbol"),
    ("conv2d_1_H = = 8", "n", "", "syntax"),
    ("conv2d_1_H/2 == 4.5", "n", "float", None),
])
def test_bad_input(where: str, unknowns: str, message: str, code: str | None) -> None:
    net = example("seed3_symbolic")
    with pytest.raises(ConvsymError) as info:
        solve(net, unknowns, where=where)
    if code is not None:
        assert info.value.code == code
    if message:
        assert any(m in str(info.value) for m in message.split("|"))


@pytest.mark.parametrize(("bounds", "expected"), [
    ("1 <= k <= 9", {"k": (1, 9)}),
    (["k >= 2", "k < 7"], {"k": (2, 6)}),
    ("3 == k", {"k": (3, 3)}),
    ({"k": (1, None), "p": 0}, {"k": (1, None), "p": (0, 0)}),
    ("k <= 9", {"k": (None, 9)}),
])
def test_parse_bounds(bounds: object, expected: dict[str, tuple[int, int]]) -> None:
    assert parse_bounds(bounds) == expected


@pytest.mark.parametrize("bounds", ["k + 1 <= 9", {"k": "x"}, {"k": (1.5, 2)}, "k <= p"])
def test_bad_bounds(bounds: object) -> None:
    with pytest.raises((UsageError, ExpressionError)):
        parse_bounds(bounds)


def test_out_of_time_is_unknown_not_a_guess() -> None:
    answer = solve(example("unet"), ["H"], deadline=Deadline(0.0))
    assert answer.status == "unknown" and "out of time" in answer.reason
    with pytest.raises(UsageError):
        answer.points()


def test_unknown_when_unbounded_unknowns_are_coupled() -> None:
    answer = solve("H + W == 10 + floor(H*W/3)", ["H", "W"])
    assert answer.status == "unknown" and "give bounds" in answer.reason
    bounded = solve("H + W == 10 + floor(H*W/3)", ["H", "W"], bounds=["H <= 50", "W <= 50"])
    assert bounded.exact
    assert bounded.points() == sorted((h, w) for h in range(1, 51) for w in range(1, 51)
                                      if h + w == 10 + h * w // 3)


def test_solution_json_and_text() -> None:
    net = Sequential([Conv2d(3, 8, 3, stride="s")], input_shape=(3, 32, 32))
    answer = solve(net, "s", where="out_H == 8")
    data = answer.to_dict()
    assert data["status"] == "exact" and data["points"] == [[4]]
    assert data["values"]["s"]["description"] == "s in {4}"
    assert any("target out_H == 8" in c["from"] for c in data["conditions"])
    assert "Answer (exact): s in {4}" in str(answer)
    assert "\\item" in answer.derivation("latex")


def test_a_divisor_symbol_may_not_go_below_one() -> None:
    with pytest.raises(UsageError) as info:
        solve("floor(29/s) + 1 == 8", "s", bounds="0 <= s <= 9")
    assert info.value.code == "divisor_below_one"
    assert solve("floor((29 + 2*p)/2) + 1 == 16", "p", bounds="0 <= p <= 9").points() == [(1,)]


def test_bounded_answers_say_so() -> None:
    answer = solve("floor(n/2) >= 3", "n", bounds="n <= 10")
    assert answer.points() == [(n,) for n in range(6, 11)]
    assert "exact within the bounds 1 <= n <= 10" in str(answer)


def test_dilation_and_keras_same_stride() -> None:
    net = Sequential([Conv2d(3, 8, 3, dilation="d")], input_shape=(3, 32, 32))
    assert solve(net, "d", where="out_H == 20").points() == [(6,)]
    assert solve(net, "d", where="out_H >= 1").points() == [(d,) for d in range(1, 16)]
    keras = Sequential([Input((32, 32, 3)), Conv2D(8, 3, strides="s", padding="same")])
    assert solve(keras, "s", where="out_H == 8").points() == [(4,)]
    assert solve(keras, "s", where="out_H == 1").describe() == "s >= 32"


def test_answers_survive_pickling_unevaluated() -> None:
    """Answers come back from worker processes pickled; Eq(p, 0) must not become False."""
    import pickle

    net = Sequential([Conv2d(3, 8, "k", stride=2, padding=("p", "p"))], input_shape=(3, 32, 32))
    answer = solve(net, ["k", "p"], where="out_H == 16", bounds=["1 <= k <= 9", "0 <= p <= 4"])
    again = pickle.loads(pickle.dumps(answer))
    assert again.derivation() == answer.derivation()
    assert "Case p = 0" in again.derivation() and "False" not in again.derivation()
    assert again.points() == answer.points()
    assert "exact within the bounds 1 <= k <= 9, 0 <= p <= 4" in str(again)


def test_issue_13_conditions_are_read_on_the_bounded_domain() -> None:
    answer = solve([], "p", where="p + abs(p) == 0", bounds="p >= -3")
    assert answer.points() == [(-3,), (-2,), (-1,), (0,)]
    assert solve([], "p", where="abs(p - 1) == 1", bounds="p >= 0").points() == [(0,), (2,)]
    with pytest.raises(UsageError):  # a divisor must stay >= 1 (canonical form)
        solve("floor(p/(p + 2)) == 0", "p", bounds="-1 <= p <= 4")
    # the default domain still lets SymPy simplify (abs(p) is p for p >= 1)
    assert solve("abs(p) <= 3", "p").points() == [(1,), (2,), (3,)]
    # a bound is read with no sign: abs(p) >= 2 is no bound
    with pytest.raises(ConvsymError):
        solve("p <= 3", "p", bounds="abs(p) >= 2")


def test_issue_13_sympy_symbols_narrower_than_the_bounds_are_refused() -> None:
    import sympy

    from convsym.expr import symbol

    p = symbol("p")
    with pytest.raises(ConvsymError) as info:
        solve(sympy.Eq(p + sympy.Abs(p), 0, evaluate=False), "p", bounds="p >= -3")
    assert info.value.code == "symbol_domain"
    q = sympy.Symbol("p", integer=True)
    answer = solve(sympy.Eq(q + sympy.Abs(q), 0, evaluate=False), "p", bounds="p >= -3")
    assert answer.points() == [(-3,), (-2,), (-1,), (0,)]
    with pytest.raises(ConvsymError) as info:
        solve(sympy.Ge(sympy.Symbol("p", even=True), 2, evaluate=False), "p")
    assert info.value.code == "symbol_assumptions"


def test_issue_13_network_targets_below_the_domain() -> None:
    net = Sequential([Conv2d(3, 8, 3, stride="s")], input_shape=(3, 32, 32))
    assert solve(net, "s", where="abs(s - 3) + out_H == 11").points() == [(11,)]
