"""Core layers in both dialects against the measured test vectors of CONVENTIONS.md."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym import Sequential
from convsym.errors import ConvsymError, LayerConfigError, LayerTypeError, ShapeError
from convsym.expr import symbol
from convsym.intdiv import QPoly, floordiv
from convsym.layers import keras as K
from convsym.layers import torch as T


def shapes(net: Sequential) -> list[tuple[object, ...]]:
    return [row.output_shape for row in net.rows]


def params(net: Sequential) -> list[object]:
    return [row.params for row in net.rows]


def test_seed1_reproduces_keras() -> None:
    net = Sequential([K.Input((28, 28, 1)), K.Conv2D(32, 3, activation="relu"), K.Conv2D(64, 3)])
    assert shapes(net) == [(26, 26, 32), (24, 24, 64)]
    assert params(net) == [320, 18496]
    assert net.total_params == 18816


def test_seed2_without_bias() -> None:
    net = Sequential([K.Input((28, 28, 3)), K.Conv2D(32, 5, use_bias=False),
                      K.Conv2D(64, 5, use_bias=False)])
    assert shapes(net) == [(24, 24, 32), (20, 20, 64)]
    assert params(net) == [2400, 51200]


def test_seed3_same_stride_two() -> None:
    net = Sequential([K.Input((32, 32, 3)), K.Conv2D(10, 4, strides=2, padding="same"),
                      K.Conv2D(20, 3, strides=2, padding="same"), K.Flatten(), K.Dense(10)])
    assert shapes(net) == [(16, 16, 10), (8, 8, 20), (1280,), (10,)]
    assert params(net) == [490, 1820, 0, 12810]


def test_seed_models_symbolic() -> None:
    n, c = symbol("n"), symbol("c")
    net = Sequential([K.Input(("n", "n", "c")), K.Conv2D(32, 3), K.Conv2D(64, 3)])
    assert shapes(net) == [(n - 2, n - 2, 32), (n - 4, n - 4, 64)]
    assert net.rows[0].params == 9 * 32 * c + 32
    assert [str(c) for c in net.conditions] == ["n >= 5"]
    net3 = Sequential([K.Input(("n", "n", 3)), K.Conv2D(10, 4, strides=2, padding="same"),
                       K.Conv2D(20, 3, strides=2, padding="same")])
    assert shapes(net3) == [(sympy.ceiling(n / 2),) * 2 + (10,),
                            (sympy.ceiling(n / 4),) * 2 + (20,)]
    assert net3.conditions == []


def test_five_same_stride_two_convs_give_ceiling_n_over_32() -> None:
    layers = [K.Input(("n", "n", 3))] + [K.Conv2D(8, 3, strides=2, padding="same")
                                         for _ in range(5)]
    n = symbol("n")
    assert Sequential(layers).output_shape[:2] == (sympy.ceiling(n / 32),) * 2


def test_stride_two_padding_one_gives_ceiling_n_over_2() -> None:
    net = Sequential([T.Conv2d(3, 8, 3, stride=2, padding=1)], input_shape=(3, "n", "n"))
    n = symbol("n")
    assert net.output_shape == (8, sympy.ceiling(n / 2), sympy.ceiling(n / 2))


@pytest.mark.parametrize(("n", "out", "pads"), [(6, 3, (1, 1)), (7, 4, (1, 2))])
def test_keras_conv1d_same_even_kernel(n: int, out: int, pads: tuple[int, int]) -> None:
    net = Sequential([K.Input((n, 2)), K.Conv1D(4, 4, strides=2, padding="same")])
    assert net.output_shape == (out, 4)
    step = net.rows[0].inference.steps[0]
    from convsym.intdiv import as_int
    assert (as_int(step.values["p_l"]), as_int(step.values["p_r"])) == pads


def test_keras_causal_conv1d() -> None:
    n = symbol("n")
    net = Sequential([K.Input(("n", 1)), K.Conv1D(4, 3, padding="causal", dilation_rate=2)])
    assert net.output_shape == (n, 4)
    net2 = Sequential([K.Input(("n", 1)), K.Conv1D(4, 3, padding="causal", strides=2)])
    assert net2.output_shape == (sympy.ceiling(n / 2), 4)


@pytest.mark.parametrize(("layer", "n", "out"), [
    (T.MaxPool1d(2, stride=3, padding=1, ceil_mode=True), 4, 2),
    (T.MaxPool1d(1, stride=2, ceil_mode=True), 32, 16),
    (T.MaxPool1d(3, stride=2, ceil_mode=True), 6, 3),
    (T.AvgPool1d(3, stride=2, ceil_mode=True), 8, 4),
])
def test_torch_ceil_mode_last_window_rule(layer: T.TorchLayer, n: int, out: int) -> None:
    net = Sequential([layer], input_shape=(1, n))
    assert net.output_shape == (1, out)


def test_torch_ceil_mode_symbolic_collapses() -> None:
    n = symbol("n")
    net = Sequential([T.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)],
                     input_shape=(3, "n", "n"))
    assert net.output_shape == (3, sympy.floor(n / 2) + 1, sympy.floor(n / 2) + 1)
    for value in range(1, 40):
        assert net.subs(n=value).output_shape[1] == value // 2 + 1


def test_keras_pooling_defaults_and_same() -> None:
    n = symbol("n")
    net = Sequential([K.Input(("n", "n", 4)), K.MaxPooling2D()])
    assert net.output_shape == (sympy.floor(n / 2), sympy.floor(n / 2), 4)
    net2 = Sequential([K.Input(("n", "n", 4)), K.AveragePooling2D(3, strides=2, padding="same")])
    assert net2.output_shape == (sympy.ceiling(n / 2), sympy.ceiling(n / 2), 4)


def test_batchnorm_counts_differ_by_dialect() -> None:
    keras_bn = Sequential([K.Input((8, 8, 64)), K.BatchNormalization()]).rows[0]
    assert (keras_bn.params, keras_bn.trainable, keras_bn.non_trainable) == (256, 128, 128)
    torch_bn = Sequential([T.BatchNorm2d(64)], input_shape=(64, 8, 8)).rows[0]
    assert (torch_bn.params, torch_bn.trainable, torch_bn.non_trainable) == (128, 128, 0)


def test_torch_linear_mismatch_is_a_condition_for_symbols() -> None:
    net = Sequential([T.Conv2d(3, 4, 3, stride=2), T.Flatten(), T.Linear(3844, 10)],
                     input_shape=(3, "H", "W"))
    text = [str(c) for c in net.conditions]
    assert "H >= 3" in text and "W >= 3" in text
    assert any("3844" in t for t in text)
    assert net.subs(H=63, W=64).output_shape == (10,)
    with pytest.raises(ShapeError, match="in_features"):
        net.subs(H=65, W=65)


def test_channels_first_keras() -> None:
    net = Sequential([K.Input((1, 28, 28)), K.Conv2D(8, 3, data_format="channels_first")])
    assert net.output_shape == (8, 26, 26)


def test_groups_and_torch_weight_layout() -> None:
    net = Sequential([T.Conv2d(4, 8, 3, groups=2, bias=False)], input_shape=(4, 5, 5))
    weight = net.rows[0].inference.weights[0]
    from convsym.intdiv import as_int
    assert [as_int(s) for s in weight.shape] == [8, 2, 3, 3]
    assert net.rows[0].params == 8 * 2 * 9


def test_repr_round_trips_and_omits_defaults() -> None:
    layer = K.Conv2D(32, 3, strides=2, padding="same")
    assert repr(layer) == "Conv2D(filters=32, kernel_size=3, strides=2, padding='same')"
    assert eval(repr(layer), vars(K)) == layer  # noqa: S307 - our own repr, not user text
    t = T.MaxPool2d(2, ceil_mode=True)
    assert eval(repr(t), vars(T)) == t  # noqa: S307


BAD = [
    (lambda: Sequential([K.Input((4, 4, 1)), K.Conv2D(3, 5)]), ShapeError,
     "input_too_small", ["Conv2D", "conv2d", "layers[1]", "axis H", "4", "5"]),
    (lambda: K.Conv2D(3, 0), LayerConfigError, "below_minimum", ["kernel_size", "0", ">= 1"]),
    (lambda: K.Conv2D(3, 3, strides=0), LayerConfigError, "below_minimum", ["strides"]),
    (lambda: T.Conv2d(3, 4, 3, dilation=0), LayerConfigError, "below_minimum", ["dilation"]),
    (lambda: T.Conv2d(3, 4, 3, padding=-1), LayerConfigError, "below_minimum", ["padding"]),
    (lambda: T.Conv2d(3, 4, 3, groups=2), LayerConfigError, "groups_not_dividing",
     ["in_channels", "groups"]),
    (lambda: Sequential([K.Input((8, 8, 3)), K.Conv2D(4, 3, groups=2)]), LayerConfigError,
     "groups_not_dividing", ["groups", "input channels"]),
    (lambda: T.Conv2d(3, 4, 3, stride=2, padding="same"), LayerConfigError, "same_with_stride",
     ["padding", "same", "stride"]),
    (lambda: K.Conv2D(3, 3, strides=2, dilation_rate=2), LayerConfigError,
     "stride_and_dilation", ["strides", "dilation_rate"]),
    (lambda: K.Conv2D(3, 3.0), LayerTypeError, "not_an_integer", ["kernel_size", "float"]),
    (lambda: K.Conv2D(3, True), LayerTypeError, "not_an_integer", ["kernel_size", "bool"]),
    (lambda: K.Conv2D(3, 3, padding="sme"), LayerConfigError, "bad_choice", ["'same'"]),
    (lambda: K.Conv2D(3, 3, stride=2), LayerTypeError, "unknown_argument", ["strides"]),
    (lambda: K.Conv2D(3, (3, 3, 3)), LayerConfigError, "wrong_tuple_length", ["kernel_size"]),
    (lambda: Sequential([T.MaxPool2d(2, padding=2)], input_shape=(1, 8, 8)), LayerConfigError,
     "pool_padding_too_large", ["padding", "half"]),
    (lambda: Sequential([T.Conv2d(3, 4, 3)], input_shape=(1, 8, 8)), ShapeError,
     "channel_mismatch", ["in_channels", "1 channels"]),
    (lambda: Sequential([K.Input((8, 8)), K.Conv2D(4, 3)]), ShapeError, "wrong_rank", ["axes"]),
]


@pytest.mark.parametrize(("build", "error", "code", "fragments"), BAD)
def test_bad_input_gets_a_clear_error(build: object, error: type[ConvsymError], code: str,
                                      fragments: list[str]) -> None:
    with pytest.raises(error) as info:
        build()  # type: ignore[operator]
    assert info.value.code == code
    for fragment in fragments:
        assert fragment in str(info.value)


def test_torch_symbolic_padding_as_text() -> None:
    n, p = symbol("n"), symbol("p")
    net = Sequential([T.Conv2d(3, 8, 3, padding="p")], input_shape=(3, "n", "n"))
    assert net.output_shape == (8, n + 2 * p - 2, n + 2 * p - 2)
    with pytest.raises(LayerConfigError, match="did you mean 'same'"):
        T.Conv2d(3, 8, 3, padding="sme")


def test_keras_symbolic_stride_with_dilation_is_a_condition() -> None:
    """Keras refuses strides > 1 with dilation_rate > 1; with a symbolic stride or dilation
    that rule is a side condition, so what-if answers respect it (was: s in {1..5})."""
    from convsym.keras import Conv1D, Conv2D, Input
    from convsym.network import Sequential
    from convsym.whatif.solve import solve

    net = Sequential([Input((20, 3)), Conv1D(4, 3, strides="s", dilation_rate=2)])
    answer = solve(net, "s", ["out_C == 4"])
    assert answer.exact and answer.points() == [(1,)], answer
    both = Sequential([Input((20, 20, 3)), Conv2D(4, 3, strides="s", dilation_rate="d")])
    assert both.accepts(s=2, d=1) and both.accepts(s=1, d=3)
    assert not both.accepts(s=2, d=2)


def test_a_hyperparameter_text_is_read_once_and_refused_in_every_layer() -> None:
    from convsym.budget import raised
    from convsym.errors import BudgetExceeded
    from convsym.layers import base

    base._SIZES.clear()
    a, b = T.Conv2d(4, 4, 3, stride="s"), T.Conv2d(4, 4, 3, stride="s")
    assert a.config.strides[0] is b.config.strides[0]  # the second read from the memo
    assert T.Conv2d(4, 4, 3, padding="p - 1").config.pads is not None
    for make in (lambda: T.Conv2d(4, 4, 3, stride="s - 1"),
                 lambda: K.Conv2D(4, 3, strides="s - 1")) * 2:  # refused in every layer
        with pytest.raises(LayerConfigError, match=r"Conv2[dD]: strides?\b") as err:
            make()
        assert err.value.code == "below_minimum"
    sized = T.Conv2d(4, 4, "(k0 + k1)*(k2 + k3)").config.kernel[0]  # the default budget...
    with raised(max_terms=2), pytest.raises(BudgetExceeded):  # ...read, not a smaller one's
        T.Conv2d(4, 4, "(k0 + k1)*(k2 + k3)")
    assert sized is T.Conv2d(4, 4, "(k0 + k1)*(k2 + k3)").config.kernel[0]


@pytest.mark.parametrize("text", ["s", "k_1", "H", "match", "_", "floor", "x" * 2000])
@pytest.mark.parametrize("minimum", [0, 1])
def test_a_lone_name_is_the_size_the_parser_gives(text: str, minimum: int) -> None:
    # the shortcut for a plain name against the parser and its period decision
    from convsym.expr import parse_expr
    from convsym.intdiv import from_sympy
    from convsym.layers import base

    assert base.is_plain_name(text)
    layer = T.Conv2d(4, 4, 3)
    base._SIZES.clear()
    fast = base.to_size(layer, "stride", text, minimum=minimum)
    assert fast == from_sympy(parse_expr(text)) and fast.free_symbols() == {symbol(text)}


@pytest.mark.parametrize("text", ["if", "__x", " s", "s ", "s+1", "é", "x" * 2001, "True", ""])
def test_text_other_than_a_lone_name_goes_to_the_parser(text: str) -> None:
    from convsym.layers import base

    assert not base.is_plain_name(text)


def test_a_lone_name_still_fails_a_minimum_above_one() -> None:
    # the shortcut holds for minimum <= 1 only: s = 1 is below 2, as the parser's path says
    from convsym.layers import base

    base._SIZES.clear()
    with pytest.raises(LayerConfigError, match="must be an integer >= 2"):
        base.to_size(T.Conv2d(4, 4, 3), "kernel", "s", minimum=2)


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_a_room_decision_is_the_one_made_from_samples_and_periods(data: st.DataObject) -> None:
    """The signs shortcut of _room_decision (a room unbounded both ways) answers as the
    samples and the two period decisions do."""
    from convsym.intdiv import add as q_add
    from convsym.intdiv import directions
    from convsym.intdiv import scale as q_scale
    from convsym.layers import base
    from convsym.period import decide_nonneg, unbounded_below
    from convsym.sizes import witnessed

    h, k, s = (QPoly.sym(symbol(x)) for x in ("H", "k", "s"))
    room = data.draw(st.sampled_from([h, k, h - k, k - h]))
    for _ in range(data.draw(st.integers(0, 3))):
        den = data.draw(st.sampled_from([QPoly.const(2), QPoly.const(3), s]))
        room = floordiv(room + QPoly.const(data.draw(st.integers(-3, 3))), den)
        room = room + data.draw(st.sampled_from([QPoly.const(0), QPoly.const(-1), -k, h]))
    base._ROOMS.clear()
    fast = base._room_decision(room)
    rising = directions(room)[0]
    if base._rising_below_zero(room, rising) or witnessed(room, lambda v: v < 0, lambda v: v >= 0):
        slow = (False, False)
    else:
        holds = not unbounded_below(room) and decide_nonneg(room).holds is True
        short = q_add(q_scale(room, QPoly.const(-1)), QPoly.const(-1))
        slow = (holds, not holds and not unbounded_below(short) and
                decide_nonneg(short).holds is True)
    assert fast == slow


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(-40, 40), st.integers(1, 64),
       st.integers(-30, 30), st.booleans())
def test_a_room_read_off_its_threshold_is_decided_as_from_samples_and_periods(
        c: int, a: int, b: int, d: int, r: int, may_be_zero: bool) -> None:
    """A room c*floor((a*x + b)/d) + r (a U-Net level's) is decided from its threshold
    (rising_threshold): the same answer as the signs, samples and periods give."""
    from convsym.layers import base

    x = QPoly.sym(symbol("p", nonnegative=True) if may_be_zero else symbol("H"))
    room = QPoly.const(c) * floordiv(QPoly.const(a) * x + QPoly.const(b), QPoly.const(d)) + \
        QPoly.const(r)
    base._ROOMS.clear()
    assert base._room_decision(room) == base._decided(room)


# --- issue 19: configurations made once per arguments; MACs multiplied out when read ------------


def test_a_configuration_is_remembered_only_for_the_same_typed_arguments() -> None:
    from convsym.budget import raised

    first = T.Conv2d(4, 4, 3, stride="s", padding=1)
    assert T.Conv2d(4, 4, 3, stride="s", padding=1).config is first.config
    assert T.Conv2d(4, 4, (3, 3), stride="s", padding=1).config == first.config
    # equal in Python, not as arguments: each is checked as given, every time
    for _ in range(2):
        with pytest.raises(LayerTypeError):
            T.Conv2d(4, 4, 3, stride="s", padding=1, bias=1)  # type: ignore[arg-type]
        with pytest.raises(LayerTypeError):
            T.Conv2d(4, 4, (3, True), padding=1)
        with pytest.raises(LayerTypeError):
            T.Conv2d(4, 4, 3.0, padding=1)  # type: ignore[arg-type]
    assert T.Conv2d(4, 4, (3, 1)).config.kernel == (QPoly.const(3), QPoly.const(1))
    with raised(max_terms=6):  # other budgets: made again
        assert T.Conv2d(4, 4, 3, stride="s", padding=1).config is not first.config
    # a SymPy value is not remembered, but gives the same configuration
    assert T.Conv2d(4, 4, 3, stride=symbol("s"), padding=1).config == first.config


@pytest.mark.parametrize("layer", [T.Conv2d(4, 6, 3, stride="s", padding=1),
                                   T.Conv2d(4, 6, "k", stride=2, groups=2, bias=False),
                                   K.Conv2D(6, 3, strides=2, padding="same")])
def test_macs_read_later_are_the_products_made_at_once(layer: object) -> None:
    import pickle

    from convsym.sizes import Product, mul_sizes

    shape = (QPoly.const(4), QPoly.sym(symbol("H")), QPoly.sym(symbol("W")))
    if isinstance(layer, K.Conv2D):
        shape = shape[1:] + shape[:1]
    inf = layer.infer([shape])  # type: ignore[attr-defined]
    assert isinstance(inf.__dict__["macs"], Product)  # not multiplied out by the build
    copy = pickle.loads(pickle.dumps(inf))
    cfg = layer.config  # type: ignore[attr-defined]
    spatial = inf.shape[1:] if cfg.channels_first else inf.shape[:-1]
    per_group = QPoly.const(4) if cfg.groups == 1 else floordiv(QPoly.const(4), cfg.groups)
    area = mul_sizes(*spatial)
    assert inf.macs == mul_sizes(area, cfg.filters, *cfg.kernel, per_group) == copy.macs
    assert inf.bias_macs == (mul_sizes(area, cfg.filters) if cfg.bias else 0) == copy.bias_macs
    inf.bias_macs = QPoly.const(7)  # a count set afterwards (depthwise) replaces it
    assert inf.bias_macs == 7


def test_macs_over_the_budgets_are_refused_by_the_layer_that_makes_them() -> None:
    from convsym.budget import raised
    from convsym.errors import BudgetExceeded

    # (sizes of their own: a product made before, under larger budgets, is remembered)
    with raised(max_terms=3), pytest.raises(BudgetExceeded, match="Conv2d '0'"):
        Sequential([T.Conv2d(4, 4, 3, stride="s", padding=1)], input_shape=(4, "Hx", "Wx"))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([1, 3, 5, "k"]), st.sampled_from([1, 2, "d"]),
       st.sampled_from([0, 1, 2, "p", (0, 1), (2, "p")]), st.sampled_from(["H", "H + 3"]))
def test_a_rooms_offset_kept_by_the_configuration_is_conv_room(k: object, d: object,
                                                               padding: object, n: str) -> None:
    # ConvConfig.windows keeps P and the room of an empty input; n plus it is F.conv_room
    from convsym import formulas as F
    from convsym.expr import parse_expr
    from convsym.intdiv import add, from_sympy

    cfg = T.Conv2d(2, 2, k, dilation=d, padding=padding).config  # type: ignore[arg-type]
    size = from_sympy(parse_expr(n))
    assert isinstance(size, QPoly)
    for i, (before, after, pad, offset) in enumerate(cfg.windows):
        assert cfg.pads is not None and (before, after) == cfg.pads[i]
        assert pad == before + after
        room = F.conv_room(size, k=cfg.kernel[i], d=cfg.dilation[i], pad=pad)
        assert list(add(size, offset).terms.items()) == list(room.terms.items())
