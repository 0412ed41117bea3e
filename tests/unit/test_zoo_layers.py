"""The layer zoo: framework facts (shapes, parameter counts, layouts) and bad-input tables."""

from __future__ import annotations

from typing import Any

import pytest
import sympy

from convsym import Sequential
from convsym.errors import ConvsymError, LayerTypeError
from convsym.expr import symbol
from convsym.layers import keras as K
from convsym.layers import torch as T
from convsym.layers.base import Layer

n = symbol("n")


def out(layers: list[Layer], shape: tuple[Any, ...]) -> tuple[Any, ...]:
    return Sequential(layers, input_shape=shape).output_shape


def params(layers: list[Layer], shape: tuple[Any, ...]) -> Any:
    return Sequential(layers, input_shape=shape).total_params


@pytest.mark.parametrize(("padding", "op", "size"), [
    ("valid", None, 11), ("valid", 0, 11), ("valid", 1, 12),
    ("same", None, 10), ("same", 0, 9), ("same", 1, 10),
])
def test_keras_conv2d_transpose_vectors(padding: str, op: int | None, size: int) -> None:
    layer = K.Conv2DTranspose(4, 3, strides=2, padding=padding, output_padding=op)
    assert out([layer], (5, 5, 2)) == (size, size, 4)


def test_transposed_conv_facts() -> None:
    assert out([T.ConvTranspose1d(1, 1, 3, dilation=2, output_padding=1)], (1, 5)) == (1, 10)
    assert params([T.ConvTranspose2d(4, 6, 3, groups=2)], (4, 5, 5)) == 9 * 4 * 3 + 6
    assert params([K.Conv2DTranspose(6, 3)], (5, 5, 4)) == 9 * 4 * 6 + 6
    net = Sequential([K.Input(("n", "n", 4)), K.Conv2DTranspose(6, 3, strides=2)])
    assert net.output_shape == (2 * n + 1, 2 * n + 1, 6)
    assert [w.name for w in net.rows[0].inference.weights] == ["kernel", "bias"]
    kernel = net.rows[0].inference.weights[0].shape
    assert [int(s.as_int() or 0) for s in kernel] == [3, 3, 6, 4]  # (k, k, filters, C_in)
    # symbolic stride: Keras's default output padding max(k_e, s) - k_e stays a Max
    sym = out([K.Conv1DTranspose(1, 3, strides="s")], ("n", 1))
    for nv in range(1, 5):
        for sv in range(1, 6):
            assert sym[0].subs({n: nv, symbol("s"): sv}) == max(3, sv) + (nv - 1) * sv
    # a symbolic padding as text is a size, as for Conv1d (only 'same'/'valid' are modes)
    padded = Sequential([T.ConvTranspose1d(2, 2, 3, stride=2, padding="p")], input_shape=(2, "L"))
    p = symbol("p")
    for lv in range(1, 6):
        for pv in range(0, 3):
            size = padded.output_shape[1].subs({symbol("L"): lv, p: pv})
            assert size == (lv - 1) * 2 - 2 * pv + 2 + 1


def test_depthwise_and_separable_params() -> None:
    assert params([K.SeparableConv2D(16, 3)], (9, 9, 128)) == 3216  # ONE bias
    assert params([K.DepthwiseConv2D(3, depth_multiplier=2)], (7, 7, 4)) == 9 * 4 * 2 + 8
    assert params([K.DepthwiseConv1D(5, use_bias=False)], ("n", "c")) == 5 * symbol("c")
    assert out([K.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=3)],
               ("n", "n", "c")) == (sympy.ceiling(n / 2), sympy.ceiling(n / 2),
                                    3 * symbol("c"))


def test_padding_cropping_upsampling_forms() -> None:
    assert out([K.ZeroPadding2D(((1, 2), (3, 4)))], (5, 5, 1)) == (8, 12, 1)
    assert out([K.ZeroPadding2D((1, 2))], (5, 5, 1)) == (7, 9, 1)
    assert out([K.ZeroPadding1D((1, 2))], (5, 1)) == (8, 1)
    assert out([K.Cropping2D((1, 2))], (5, 5, 1)) == (3, 1, 1)
    assert out([K.Cropping3D(1)], (5, 5, 5, 1)) == (3, 3, 3, 1)
    assert out([K.UpSampling2D((2, 3))], ("n", "n", 1)) == (2 * n, 3 * n, 1)
    assert out([T.ZeroPad2d((1, 2, 3, 4))], (1, 5, 5)) == (1, 12, 8)  # (left, right, top, bottom)
    assert out([T.ZeroPad2d((1, -1))], (1, 5, 5)) == (1, 5, 5)
    assert out([T.ReplicationPad1d(7)], (1, 2)) == (1, 16)
    assert out([T.Upsample(size=(4, 6))], (1, 2, 3)) == (1, 4, 6)
    assert out([T.Upsample(scale_factor=2.0)], (1, "n")) == (1, 2 * n)


def test_global_adaptive_reshape_norm_facts() -> None:
    assert out([K.GlobalAveragePooling2D()], ("n", "n", 8)) == (8,)
    assert out([K.GlobalMaxPooling1D(keepdims=True)], ("n", 8)) == (1, 8)
    assert out([K.GlobalAveragePooling2D(data_format="channels_first")], (8, "n", "n")) == (8,)
    assert out([T.AdaptiveAvgPool2d((None, 7))], (4, "n", "n")) == (4, n, 7)
    assert out([K.Reshape((-1, 4))], ("n", 4, 2)) == (2 * n, 4)
    assert out([K.Permute((2, 1))], ("n", 3)) == (3, n)
    assert out([T.Unflatten(1, (2, -1))], (6, 5)) == (2, 3, 5)
    assert params([K.LayerNormalization(axis=[1, 2])], (5, 3)) == 30
    assert params([K.GroupNormalization(groups=2)], (5, 4)) == 8
    assert params([T.LayerNorm((4, 5), bias=False)], (3, 4, 5)) == 20
    assert params([T.GroupNorm(32, 64)], (64, 7, 7)) == 128
    assert params([T.InstanceNorm2d(8, affine=True)], (8, 4, 4)) == 16
    assert params([T.PReLU(8)], (8, 4, 4)) == 8
    assert params([K.PReLU(shared_axes=[1, 2])], (4, 4, 8)) == 8


@pytest.mark.parametrize("layer", [
    K.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1),
    K.SeparableConv1D(8, 3, depth_multiplier=2, use_bias=False),
    K.Cropping2D(((1, 2), (0, 1))), K.UpSampling3D(2), K.Reshape((-1, 4)),
    K.Concatenate(axis=1), K.GroupNormalization(groups=4), K.LeakyReLU(0.2),
    T.ConvTranspose3d(2, 4, 3, stride=2, output_padding=1), T.ZeroPad2d((1, 0, 2, 0)),
    T.Upsample(scale_factor=2, mode="bilinear"), T.AdaptiveMaxPool2d((None, 3)),
    T.Concat(dim=2), T.GroupNorm(2, 8), T.SiLU(), T.Unflatten(1, (2, -1)),
])
def test_repr_round_trips_and_omits_defaults(layer: Layer) -> None:
    namespace = {**K.LAYERS} if layer.dialect == "keras" else {**T.LAYERS}
    assert eval(repr(layer), namespace) == layer  # noqa: S307 - our own repr, in a test
    assert "name=None" not in repr(layer)


BAD: list[tuple[Any, tuple[Any, ...] | None, str, str]] = [
    (lambda: K.Conv2DTranspose(4, 3, strides=2, output_padding=2), None,
     "output_padding_too_large", "strictly less than strides"),
    (lambda: K.Conv2DTranspose(4, 3, strides=2, dilation_rate=2), None,
     "stride_and_dilation", "dilation_rate > 1"),
    (lambda: K.Conv2DTranspose(4, 3, padding="causal"), None, "bad_choice", "'valid', 'same'"),
    (lambda: T.ConvTranspose2d(3, 3, 3, stride=2, output_padding=2), None,
     "output_padding_too_large", "either stride"),
    (lambda: T.ConvTranspose2d(3, 4, 3, padding="same"), None, "bad_padding", "integer"),
    (lambda: T.ConvTranspose2d(3, 4, 3, padding_mode="reflect"), None, "bad_choice", "zeros"),
    (lambda: T.ConvTranspose2d(3, 4, 3, groups=2), None, "groups_not_dividing", "groups"),
    (lambda: T.ConvTranspose1d(1, 1, 3, padding=2), (1, 2), "input_too_small", "not positive"),
    (lambda: T.ConvTranspose1d(2, 1, 3), (1, 4), "channel_mismatch", "in_channels"),
    (lambda: K.DepthwiseConv2D(3, depth_multiplier=0), None, "below_minimum", ">= 1"),
    (lambda: K.DepthwiseConv1D(3, padding="causal"), None, "bad_choice", "padding"),
    (lambda: K.DepthwiseConv2D(3), (2, 9, 2), "input_too_small", "smaller than"),
    (lambda: K.Cropping2D(3), (5, 5, 1), "input_too_small", "leaves -1 cells"),
    (lambda: K.ZeroPadding2D(-1), None, "below_minimum", ">= 0"),
    (lambda: K.ZeroPadding2D((1, 2, 3)), None, "wrong_tuple_length", "one per spatial"),
    (lambda: K.UpSampling2D(0), None, "below_minimum", ">= 1"),
    (lambda: K.UpSampling2D(2.0), None, "not_an_integer", "float"),
    (lambda: K.Reshape((-1, -1)), None, "two_unknowns", "at most one -1"),
    (lambda: K.Reshape((3, 4)), (5, 4, 2), "never_equal", "40 elements"),
    (lambda: K.Reshape((-1, 3)), (5, 4, 2), "reshape_not_divisible", "40 elements"),
    (lambda: K.Permute((1, 1)), None, "bad_permutation", "permutation"),
    (lambda: K.GroupNormalization(groups=3), (5, 4), "groups_not_dividing", "divide"),
    (lambda: K.LayerNormalization(axis=3), (5, 4), "bad_axis", "out of range"),
    (lambda: T.GroupNorm(4, 6), None, "groups_not_dividing", "num_groups"),
    (lambda: T.GroupNorm(2, 6), (4, 3), "never_equal", "4 channels"),
    (lambda: T.LayerNorm((4, 5)), (3, 5, 4), "never_equal", "normalized_shape"),
    (lambda: T.Upsample(), None, "size_or_scale", "exactly one"),
    (lambda: T.Upsample(scale_factor=1.5), None, "unsupported_scale", "integer scale"),
    (lambda: T.ZeroPad2d((1, 2, 3)), None, "wrong_tuple_length", "pairs"),
    (lambda: T.ZeroPad1d((-3, 1)), (1, 2), "input_too_small", "removes more"),
    (lambda: T.ReflectionPad1d(3), (1, 3), "input_too_small", "reflect"),
    (lambda: T.AdaptiveAvgPool1d(None), None, "bad_output_size", "1-D"),
    (lambda: T.AdaptiveAvgPool2d(0), None, "below_minimum", ">= 1"),
    (lambda: T.Unflatten(0, (2, 3)), None, "bad_axis", "batch"),
    (lambda: T.Unflatten(1, (2, 4)), (6,), "never_equal", "6 elements"),
    (lambda: T.PReLU(3), (4, 5), "never_equal", "channels"),
]


@pytest.mark.parametrize(("build", "shape", "code", "words"), BAD)
def test_bad_input_table(build: Any, shape: tuple[Any, ...] | None, code: str,
                         words: str) -> None:
    with pytest.raises(ConvsymError) as err:
        layer = build()
        if shape is not None:
            Sequential([layer], input_shape=shape)
    assert err.value.code == code, str(err.value)
    assert words in str(err.value)


def test_symbolic_input_keeps_conditions_three_valued() -> None:
    net = Sequential([K.Input(("n", 3)), K.Cropping1D((2, 3)), K.Reshape((-1, 6))])
    text = [str(c) for c in net.conditions]
    assert "n >= 7" in text  # the reshape needs 3(n - 5) >= 6, which implies n >= 6
    assert any("Eq(" in t for t in text)  # 3(n - 5) must be a multiple of 6: n odd
    assert net.subs(n=7).output_shape == (1, 6)
    with pytest.raises(ConvsymError):
        net.subs(n=8)


def test_float_where_an_integer_belongs() -> None:
    with pytest.raises(LayerTypeError) as err:
        K.Conv2DTranspose(4, 3.0)
    assert "write 3, not 3.0" in str(err.value)


def test_every_recorded_rule_is_documented() -> None:
    from convsym.examples import example
    from convsym.layers.base import RULES

    seen = set()
    for name in ("resnet50", "unet", "dcgan", "wavenet", "c3d", "lenet5", "seed3_symbolic"):
        for row in example(name).rows:
            seen |= {step.rule for step in row.inference.steps}
    assert seen <= set(RULES)
    assert {"same_tf", "conv_transpose_torch", "crop", "causal", "explicit"} <= seen
