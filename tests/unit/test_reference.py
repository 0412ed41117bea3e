"""Tests for convsym.reference: hand-computed cases, CONVENTIONS test vectors, and the
algebraic properties (linearity, adjointness, groups, dilation) a convolution must have."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from convsym.errors import ConvsymError, LayerConfigError, LayerTypeError, ShapeError
from convsym.reference import (
    adaptive_avg_pool,
    adaptive_max_pool,
    conv,
    conv_transpose,
    crop,
    depthwise_conv,
    global_pool,
    pool,
    same_padding,
    upsample_nearest,
    zero_pad,
)

Array = NDArray[Any]


def _conv1(
    x: Sequence[float], w: Sequence[float], s: int = 1, p: tuple[int, int] = (0, 0), d: int = 1
) -> list[float]:
    out = conv(np.array([x]), np.array([[w]]), stride=(s,), padding=(p,), dilation=(d,))
    result: list[float] = out[0].tolist()
    return result


def naive_conv(
    x: Array,
    w: Array,
    stride: tuple[int, ...],
    padding: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...],
    groups: int,
) -> Array:
    """The textbook definition, one output pixel at a time (slow, obviously right)."""
    c_in, n = x.shape[0], x.shape[1:]
    c_out, cg, kernel = w.shape[0], w.shape[1], w.shape[2:]
    out_shape = tuple(
        (ni + b + a - d * (k - 1) - 1) // s + 1
        for ni, (b, a), k, s, d in zip(n, padding, kernel, stride, dilation, strict=True)
    )
    y: Array = np.zeros((c_out,) + out_shape)
    for co in range(c_out):
        group = co // (c_out // groups)
        for pos in np.ndindex(*out_shape):
            total = 0.0
            for ci in range(cg):
                for off in np.ndindex(*kernel):
                    src = tuple(
                        j * s + t * d - b
                        for j, s, t, d, (b, _) in zip(
                            pos, stride, off, dilation, padding, strict=True
                        )
                    )
                    if all(0 <= i < m for i, m in zip(src, n, strict=True)):
                        total += w[(co, ci) + off] * x[(group * cg + ci,) + src]
            y[(co,) + pos] = total
    assert c_in == cg * groups
    return y


def random_case(seed: int) -> dict[str, Any]:
    """A valid random conv configuration: rank 1-3, groups, stride, dilation, uneven padding."""
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 4))
    groups = int(rng.choice([1, 2, 3]))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel = tuple(int(v) for v in rng.integers(1, 4, rank))
    stride = tuple(int(v) for v in rng.integers(1, 4, rank))
    dilation = tuple(int(v) for v in rng.integers(1, 3, rank))
    padding = tuple((int(b), int(a)) for b, a in rng.integers(0, 3, (rank, 2)))
    n = tuple(
        max(d * (k - 1) + 1 - b - a, 1) + int(rng.integers(0, 6))
        for d, k, (b, a) in zip(dilation, kernel, padding, strict=True)
    )
    return {
        "x": rng.standard_normal((c_in,) + n),
        "w": rng.standard_normal((c_out, c_in // groups) + kernel),
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
    }


SEEDS = range(40)


# --- conv: hand-computed cases -------------------------------------------------------------


def test_conv_1d_by_hand() -> None:
    x = [1, 2, 3, 4, 5]
    assert _conv1(x, [1, 0, -1]) == [-2, -2, -2]
    # padded input 0 1 2 3 4 5 0
    assert _conv1(x, [1, 0, -1], p=(1, 1)) == [-2, -2, -2, -2, 4]
    # windows start at 0, 2, 4 of the padded input and read offsets 0 and 2 (dilation 2)
    assert _conv1(x, [1, 10], s=2, p=(1, 1), d=2) == [0 + 20, 2 + 40, 4 + 0]
    # cross-correlation, not flipped convolution
    assert _conv1(x, [1, 10]) == [21, 32, 43, 54]


def test_conv_2d_by_hand_with_bias_and_channels() -> None:
    x = np.arange(2 * 3 * 3).reshape(2, 3, 3)  # channel 1 is channel 0 + 9
    w = np.zeros((2, 2, 2, 2), dtype=int)
    w[0, 0, 0, 0] = 1  # output 0: top-left of each window in channel 0
    w[1, 1, 1, 1] = 1  # output 1: bottom-right of each window in channel 1
    y = conv(x, w, np.array([100, 0]), stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1))
    assert y.tolist() == [[[100, 101], [103, 104]], [[13, 14], [16, 17]]]


def test_conv_keeps_integer_dtype() -> None:
    y = conv(
        np.array([[1, 2, 3]]), np.array([[[2, 1]]]), stride=(1,), padding=((0, 0),), dilation=(1,)
    )
    assert y.dtype.kind == "i" and y.tolist() == [[4, 7]]


@pytest.mark.parametrize("seed", SEEDS)
def test_conv_matches_the_textbook_definition(seed: int) -> None:
    case = random_case(seed)
    expected = naive_conv(**case)
    got = conv(**case)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_conv_output_size_formula() -> None:
    for n, k, s, d, b, a in itertools.product(
        range(1, 9), range(1, 4), range(1, 4), range(1, 3), range(2), range(3)
    ):
        k_e = d * (k - 1) + 1
        if n + b + a < k_e:
            continue
        y = conv(np.ones((1, n)), np.ones((1, 1, k)), stride=(s,), padding=((b, a),), dilation=(d,))
        assert y.shape == (1, (n + b + a - k_e) // s + 1)


def test_conv_empty_output_raises_shape_error() -> None:
    with pytest.raises(ShapeError) as info:
        conv(
            np.ones((1, 5, 4)),
            np.ones((1, 1, 3, 5)),
            stride=(1, 1),
            padding=((0, 0), (0, 0)),
            dilation=(1, 1),
        )
    err = info.value
    assert (err.kind, err.field, err.value, err.code) == (
        "reference conv",
        "axis 1",
        4,
        "empty_output",
    )
    assert "padded input 4 + 0 = 4 is smaller than the effective kernel 5" in str(err)
    assert isinstance(err, ValueError) and isinstance(err, ConvsymError)
    # exactly the effective kernel is fine: one output
    y = conv(np.ones((1, 3)), np.ones((1, 1, 2)), stride=(5,), padding=((0, 0),), dilation=(2,))
    assert y.tolist() == [[2.0]]


# --- conv: properties ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_conv_is_linear_in_input_and_weight(seed: int) -> None:
    case = random_case(seed)
    rng = np.random.default_rng(1000 + seed)
    x2, w2 = rng.standard_normal(case["x"].shape), rng.standard_normal(case["w"].shape)
    base = conv(**case)
    mixed_x = conv(**{**case, "x": 2 * case["x"] - 3 * x2})
    np.testing.assert_allclose(mixed_x, 2 * base - 3 * conv(**{**case, "x": x2}), atol=1e-10)
    mixed_w = conv(**{**case, "w": case["w"] + w2})
    np.testing.assert_allclose(mixed_w, base + conv(**{**case, "w": w2}), atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_conv_transpose_is_the_adjoint_of_conv(seed: int) -> None:
    case = random_case(seed)
    x, w = case["x"], case["w"]
    n, kernel = x.shape[1:], w.shape[2:]
    y = conv(**case)
    rng = np.random.default_rng(2000 + seed)
    v = rng.standard_normal(y.shape)
    # output_padding restores the input cells the last window skipped: (n + P - k_e) mod s
    op = tuple(
        (ni + b + a - d * (k - 1) - 1) % s
        for ni, (b, a), k, s, d in zip(
            n, case["padding"], kernel, case["stride"], case["dilation"], strict=True
        )
    )
    back = conv_transpose(
        v,
        w,
        stride=case["stride"],
        padding=case["padding"],
        output_padding=op,
        dilation=case["dilation"],
        groups=case["groups"],
    )
    assert back.shape == x.shape
    assert math.isclose(float(np.vdot(y, v)), float(np.vdot(x, back)), rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_grouped_conv_is_per_group_convs_concatenated(seed: int) -> None:
    case = random_case(seed)
    g = case["groups"]
    x, w = case["x"], case["w"]
    cg_in, cg_out = x.shape[0] // g, w.shape[0] // g
    parts = [
        conv(
            x[i * cg_in : (i + 1) * cg_in],
            w[i * cg_out : (i + 1) * cg_out],
            stride=case["stride"],
            padding=case["padding"],
            dilation=case["dilation"],
        )
        for i in range(g)
    ]
    np.testing.assert_allclose(conv(**case), np.concatenate(parts), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_dilation_equals_a_zero_dilated_kernel(seed: int) -> None:
    case = random_case(seed)
    w, d = case["w"], case["dilation"]
    kernel = w.shape[2:]
    spread = np.zeros(
        w.shape[:2] + tuple(di * (k - 1) + 1 for di, k in zip(d, kernel, strict=True))
    )
    spread[(slice(None), slice(None)) + tuple(slice(None, None, di) for di in d)] = w
    undilated = conv(**{**case, "w": spread, "dilation": (1,) * len(d)})
    np.testing.assert_allclose(conv(**case), undilated, atol=1e-12)


def test_stride_subsamples_the_stride_one_result() -> None:
    case = random_case(7)
    ones = (1,) * len(case["stride"])
    dense = conv(**{**case, "stride": ones})
    sub = dense[(slice(None),) + tuple(slice(None, None, s) for s in case["stride"])]
    np.testing.assert_allclose(conv(**case), sub, atol=1e-12)


def test_depthwise_conv_is_per_channel_and_matches_keras_layout() -> None:
    rng = np.random.default_rng(3)
    c, m = 3, 2
    x = rng.standard_normal((c, 6, 5))
    keras_kernel = rng.standard_normal((3, 2, c, m))  # (k_h, k_w, C_in, m)
    w = keras_kernel.transpose(2, 3, 0, 1).reshape(c * m, 1, 3, 2)
    b = rng.standard_normal(c * m)
    args: dict[str, Any] = {"stride": (1, 2), "padding": ((1, 1), (0, 1)), "dilation": (1, 1)}
    y = depthwise_conv(x, w, b, depth_multiplier=m, **args)
    for ci, j in itertools.product(range(c), range(m)):
        kern = keras_kernel[:, :, ci, j][None, None]
        single = conv(x[ci : ci + 1], kern, b[ci * m + j : ci * m + j + 1], **args)
        np.testing.assert_allclose(y[ci * m + j], single[0], atol=1e-12)


# --- same padding --------------------------------------------------------------------------


def test_keras_conv1d_same_test_vector() -> None:
    """CONVENTIONS: Keras Conv1D(k=4, 'same', s=2), n = 6 / 7: pads (1,1) / (1,2), out 3 / 4."""
    for n, pads, size in ((6, (1, 1), 3), (7, (1, 2), 4)):
        assert same_padding(n, 4, 2) == pads
        y = conv(np.ones((1, n)), np.ones((1, 1, 4)), stride=(2,), padding=(pads,), dilation=(1,))
        assert y.shape == (1, size)


@pytest.mark.parametrize(
    ("args", "kwargs", "pads"),
    [
        ((6, 3, 2), {}, (0, 1)),  # C2: Keras k=3 s=2 n=6 pads (0, 1), not PyTorch's (1, 1)
        ((8, 4, 1), {}, (1, 2)),  # C3: even kernel, stride 1: (1, 2)
        ((8, 4, 1), {"lower": True}, (2, 1)),
        ((17, 3, 2), {}, (1, 1)),  # ONNX SAME_UPPER H = 17 -> 9
        ((5, 3, 1, 2), {}, (2, 2)),
        ((10, 1, 3), {}, (0, 0)),
        ((2, 7, 1), {}, (3, 3)),  # kernel larger than input: still ceil(n/s)
        ((9, 2, 3), {}, (0, 0)),  # max(..., 0): (3-1)*3 + 2 - 9 = -1
    ],
)
def test_same_padding_table(
    args: tuple[int, ...], kwargs: dict[str, bool], pads: tuple[int, int]
) -> None:
    assert same_padding(*args, **kwargs) == pads


def test_same_padding_gives_ceil_n_over_s() -> None:
    for n, k, s, d in itertools.product(range(1, 12), range(1, 5), range(1, 4), range(1, 3)):
        for lower in (False, True):
            pads = same_padding(n, k, s, d, lower=lower)
            y = conv(
                np.ones((1, n)), np.ones((1, 1, k)), stride=(s,), padding=(pads,), dilation=(d,)
            )
            assert y.shape == (1, -(-n // s)), (n, k, s, d)
            assert abs(pads[0] - pads[1]) <= 1


def test_keras_conv2d_same_chain_test_vector() -> None:
    """CONVENTIONS: (32,32,3) -> Conv2D(10,4,s2,same) -> Conv2D(20,3,s2,same): 16, then 8."""
    x = np.zeros((3, 32, 32))
    pads = (same_padding(32, 4, 2),) * 2
    y = conv(x, np.zeros((10, 3, 4, 4)), stride=(2, 2), padding=pads, dilation=(1, 1))
    assert y.shape == (10, 16, 16)
    pads = (same_padding(16, 3, 2),) * 2
    z = conv(y, np.zeros((20, 10, 3, 3)), stride=(2, 2), padding=pads, dilation=(1, 1))
    assert z.shape == (20, 8, 8)


# --- pooling -------------------------------------------------------------------------------


def _pool_size(n: int, k: int, s: int, p: int, ceil_mode: bool, rank: int = 1) -> int:
    x = np.zeros((1,) + (n,) * rank)
    y = pool(
        x,
        "max",
        kernel=(k,) * rank,
        stride=(s,) * rank,
        padding=((p, p),) * rank,
        ceil_mode=ceil_mode,
    )
    assert len(set(y.shape[1:])) == 1
    return int(y.shape[1])


def test_pool_ceil_mode_test_vectors() -> None:
    """CONVENTIONS: the documented ceil formula alone is wrong (pytorch #57178)."""
    assert _pool_size(4, 2, 3, 1, True) == 2  # naive formula: 3
    assert _pool_size(32, 1, 2, 0, True, rank=2) == 16  # documented formula: 17
    for n in range(1, 41):
        assert _pool_size(n, 2, 2, 1, True, rank=2) == n // 2 + 1


def test_pool_ceil_mode_values_by_hand() -> None:
    x = np.array([[5.0, 1.0, 2.0, 7.0]])
    # padded -inf 5 1 2 7 -inf; windows start at 0 and 3; the next (6) starts past n + p_l
    y = pool(x, "max", kernel=(2,), stride=(3,), padding=((1, 1),), ceil_mode=True)
    assert y.tolist() == [[5.0, 7.0]]
    # n=4, k=3, s=2, p=1: windows at 0, 2, 4; the last covers cells 4, 5 and one overhang cell
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    args: dict[str, Any] = {"kernel": (3,), "stride": (2,), "padding": ((1, 1),), "ceil_mode": True}
    # the last window holds 4 and one padding cell; its overhang cell never counts
    assert pool(x, "avg", **args).tolist() == [[1.0, 3.0, 2.0]]
    assert pool(x, "avg", count_include_pad=False, **args).tolist() == [[1.5, 3.0, 4.0]]
    assert pool(x, "max", **args).tolist() == [[2.0, 4.0, 4.0]]


def test_pool_floor_mode_sizes_and_error() -> None:
    for n, k, s, p in itertools.product(range(1, 10), range(1, 5), range(1, 4), range(3)):
        if p > k // 2:
            continue
        if n + 2 * p < k:
            with pytest.raises(ShapeError, match="smaller than the effective kernel"):
                _pool_size(n, k, s, p, False)
        else:
            assert _pool_size(n, k, s, p, False) == (n + 2 * p - k) // s + 1


def test_ceil_mode_size_matches_the_closed_form() -> None:
    """``min(ceil((n+P-k_e)/s), floor((n+p_l-1)/s)) + 1`` (CONVENTIONS), uneven padding too.

    The two agree while ``p_after <= k_e``, which PyTorch's ``p <= k/2`` guarantees.
    """
    for n, k, s, d, b, a in itertools.product(
        range(1, 10), range(1, 4), range(1, 4), range(1, 3), range(3), range(3)
    ):
        k_e = d * (k - 1) + 1
        if n + b + a < k_e or a > k_e:
            continue
        expected = min(-(-(n + b + a - k_e) // s), (n + b - 1) // s) + 1
        y = pool(
            np.zeros((1, n)),
            "max",
            kernel=(k,),
            stride=(s,),
            padding=((b, a),),
            dilation=(d,),
            ceil_mode=True,
        )
        assert y.shape == (1, expected), (n, k, s, d, b, a)


def test_ceil_mode_drops_only_the_last_window_as_frameworks_do() -> None:
    """PyTorch (Pool.h) decrements once; with ``p_after > k_e`` (impossible in PyTorch, where
    ``p <= k/2``) an earlier window may still start in the right padding, as in floor mode."""
    y = pool(np.array([[7.0]]), "max", kernel=(1,), stride=(1,), padding=((0, 2),), ceil_mode=True)
    assert y.tolist() == [[7.0, -np.inf]]
    floor = pool(np.array([[7.0]]), "max", kernel=(1,), stride=(1,), padding=((0, 2),))
    assert floor.tolist() == [[7.0, -np.inf, -np.inf]]


def test_max_pool_padding_never_wins_and_keeps_integers() -> None:
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3)
    y = pool(x, "max", kernel=(2, 2), stride=(2, 2), padding=((1, 1), (1, 1)))
    assert y.tolist() == [[[-1.0, -2.0], [-4.0, -5.0]]]
    xi = np.array([[-3, -1, -2]])
    yi = pool(xi, "max", kernel=(2,), stride=(1,), padding=((1, 1),))
    assert yi.dtype == xi.dtype and yi.tolist() == [[-3, -1, -1, -2]]
    zero = pool(x, "max", kernel=(2, 2), stride=(2, 2), padding=((1, 1), (1, 1)), pad_value=0)
    assert zero.tolist() == [[[0.0, 0.0], [0.0, -5.0]]]  # the last window is all real cells


def test_pad_value_fills_padding_but_not_the_ceil_overhang() -> None:
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    args: dict[str, Any] = {"kernel": (3,), "stride": (2,), "padding": ((1, 1),)}
    # windows: (p, 1, 2), (2, 3, 4), (4, p, overhang); the overhang is neither summed nor counted
    got = pool(x, "avg", ceil_mode=True, pad_value=6.0, **args)
    assert got.tolist() == [[3.0, 3.0, 5.0]]
    assert pool(-x, "max", ceil_mode=True, pad_value=-5.0, **args).tolist() == [[-1.0, -2.0, -4.0]]


def test_max_pool_with_dilation_by_hand() -> None:
    x = np.array([[3.0, 0.0, 1.0, 9.0, 2.0, 4.0]])
    # windows read cells (0, 2), (2, 4), and (4, 6): floor mode stops at (2, 4)
    y = pool(x, "max", kernel=(2,), stride=(2,), padding=((0, 0),), dilation=(2,))
    assert y.tolist() == [[3.0, 2.0]]


def test_avg_pool_2d_counts_padding_separately_per_axis() -> None:
    x = np.ones((1, 2, 3))
    inc = pool(x, "avg", kernel=(2, 2), stride=(2, 2), padding=((1, 1), (1, 1)))
    assert inc.tolist() == [[[0.25, 0.5], [0.25, 0.5]]]
    exc = pool(
        x, "avg", kernel=(2, 2), stride=(2, 2), padding=((1, 1), (1, 1)), count_include_pad=False
    )
    assert exc.tolist() == [[[1.0, 1.0], [1.0, 1.0]]]
    assert pool(
        np.arange(4).reshape(1, 4), "avg", kernel=(2,), stride=(2,), padding=((0, 0),)
    ).tolist() == [[0.5, 2.5]]


def test_global_and_adaptive_pooling() -> None:
    x = np.arange(24.0).reshape(2, 3, 4)
    assert global_pool(x, "max").tolist() == [11.0, 23.0]
    assert global_pool(x, "avg", keepdims=True).shape == (2, 1, 1)
    np.testing.assert_allclose(adaptive_avg_pool(x, (1, 1))[:, 0, 0], global_pool(x, "avg"))
    rng = np.random.default_rng(5)
    for n, o in itertools.product(range(1, 9), range(1, 9)):
        v = rng.standard_normal((2, n, 3))
        got_avg, got_max = adaptive_avg_pool(v, (o, 2)), adaptive_max_pool(v, (o, 2))
        assert got_avg.shape == got_max.shape == (2, o, 2)
        for i, j in itertools.product(range(o), range(2)):
            box = v[:, (i * n) // o : -(-(i + 1) * n // o), (j * 3) // 2 : -(-(j + 1) * 3 // 2)]
            np.testing.assert_allclose(got_avg[:, i, j], box.mean(axis=(1, 2)))
            np.testing.assert_allclose(got_max[:, i, j], box.max(axis=(1, 2)))


def test_adaptive_pool_is_plain_pooling_when_n_divides() -> None:
    x = np.random.default_rng(6).standard_normal((2, 8, 6))
    np.testing.assert_allclose(
        adaptive_avg_pool(x, (4, 3)),
        pool(x, "avg", kernel=(2, 2), stride=(2, 2), padding=((0, 0), (0, 0))),
    )


# --- transposed convolution ----------------------------------------------------------------


def test_conv_transpose_test_vector() -> None:
    """CONVENTIONS: ConvTranspose1d(k=3, s=1, d=2, op=1), n = 5 -> 10."""
    y = conv_transpose(
        np.ones((1, 5)),
        np.ones((1, 1, 3)),
        stride=(1,),
        padding=((0, 0),),
        output_padding=(1,),
        dilation=(2,),
    )
    assert y.shape == (1, 10)
    assert y[0, -1] == 0.0  # the output_padding cell is covered by nothing


def test_conv_transpose_by_hand_crop_and_output_padding() -> None:
    x, w = np.array([[1, 2]]), np.array([[[1, 10, 100]]])
    args: dict[str, Any] = {"stride": (2,), "dilation": (1,)}
    # full scatter: 1 10 (100+2) 20 200
    full = conv_transpose(x, w, padding=((0, 0),), output_padding=(0,), **args)
    assert full.tolist() == [[1, 10, 102, 20, 200]]
    cropped = conv_transpose(x, w, padding=((1, 1),), output_padding=(0,), **args)
    assert cropped.tolist() == [[10, 102, 20]]
    # output_padding takes back a cropped cell first, then appends zeros
    assert conv_transpose(x, w, padding=((1, 1),), output_padding=(1,), **args).tolist() == [
        [10, 102, 20, 200]
    ]
    assert conv_transpose(x, w, padding=((0, 0),), output_padding=(1,), **args).tolist() == [
        [1, 10, 102, 20, 200, 0]
    ]
    assert conv_transpose(
        x, w, np.array([5]), padding=((2, 0),), output_padding=(0,), **args
    ).tolist() == [[107, 25, 205]]


def test_keras_conv2d_transpose_valid_test_vector() -> None:
    """CONVENTIONS: Keras Conv2DTranspose(k=3, s=2, valid), n = 5: 11 / 12 for op 0 / 1."""
    for op, size in ((0, 11), (1, 12)):
        y = conv_transpose(
            np.ones((1, 5, 5)),
            np.ones((1, 2, 3, 3)),
            stride=(2, 2),
            padding=((0, 0), (0, 0)),
            output_padding=(op, op),
            dilation=(1, 1),
        )
        assert y.shape == (2, size, size)


def test_conv_transpose_size_formula_and_error() -> None:
    for n, k, s, d, b, a, op in itertools.product(
        range(1, 5), range(1, 4), range(1, 4), range(1, 3), range(3), range(3), range(3)
    ):
        size = (n - 1) * s - (b + a) + d * (k - 1) + op + 1
        args: dict[str, Any] = {
            "stride": (s,),
            "padding": ((b, a),),
            "output_padding": (op,),
            "dilation": (d,),
        }
        if size <= 0:
            with pytest.raises(ShapeError, match="so the output would be empty"):
                conv_transpose(np.ones((1, n)), np.ones((1, 1, k)), **args)
        else:
            assert conv_transpose(np.ones((1, n)), np.ones((1, 1, k)), **args).shape == (1, size)


# --- padding, cropping, upsampling ---------------------------------------------------------


def test_zero_pad_crop_roundtrip_and_upsample() -> None:
    x = np.arange(6).reshape(1, 2, 3)
    padded = zero_pad(x, ((1, 0), (2, 1)))
    assert padded.shape == (1, 3, 6) and padded.sum() == x.sum()
    assert crop(padded, ((1, 0), (2, 1))).tolist() == x.tolist()
    up = upsample_nearest(x, (2, 1))
    assert up.tolist() == [[[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]]]
    with pytest.raises(ShapeError) as info:
        crop(x, ((0, 0), (2, 1)))
    assert info.value.field == "axis 1" and info.value.code == "empty_output"


# --- argument checks -----------------------------------------------------------------------


def _conv_args(**over: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "x": np.ones((2, 5)),
        "w": np.ones((2, 2, 3)),
        "stride": (1,),
        "padding": ((0, 0),),
        "dilation": (1,),
        "groups": 1,
    }
    args.update(over)
    return args


@pytest.mark.parametrize(
    ("over", "error", "code", "message"),
    [
        ({"stride": (0,)}, LayerConfigError, "below_minimum", "stride = (0,): every entry"),
        ({"stride": (1, 1)}, LayerConfigError, "bad_arity", "one entry per spatial axis (1)"),
        ({"stride": 1}, LayerConfigError, "bad_arity", "one entry per spatial axis"),
        ({"dilation": (True,)}, LayerTypeError, "bool", "not a bool"),
        ({"dilation": (1.0,)}, LayerTypeError, "not_int", "must be an integer"),
        ({"padding": ((-1, 0),)}, LayerConfigError, "below_minimum", "must be >= 0"),
        ({"padding": ((1,),)}, LayerConfigError, "bad_arity", "(before, after) pairs"),
        ({"groups": 3}, LayerConfigError, "groups_not_dividing", "must divide C_in = 2"),
        ({"groups": 0}, LayerConfigError, "below_minimum", ">= 1"),
        ({"w": np.ones((2, 1, 3))}, ShapeError, "bad_weight", "C_in/groups = 2/1"),
        ({"w": np.ones((2, 2))}, ShapeError, "bad_weight", "with 1 kernel axes"),
        ({"x": np.ones(5)}, ShapeError, "bad_rank", "no batch axis"),
    ],
)
def test_conv_argument_errors(
    over: dict[str, Any], error: type[Exception], code: str, message: str
) -> None:
    with pytest.raises(error) as info:
        conv(**_conv_args(**over))
    assert isinstance(info.value, ConvsymError)
    assert info.value.code == code
    assert message in str(info.value)
    assert str(info.value).startswith("reference conv")


def test_other_argument_errors() -> None:
    with pytest.raises(LayerConfigError, match="must be 'max' or 'avg'"):
        pool(np.ones((1, 4)), "min", kernel=(2,), stride=(2,), padding=((0, 0),))
    with pytest.raises(ShapeError, match=r"must be \(2,\)"):
        conv(
            np.ones((1, 4)),
            np.ones((2, 1, 1)),
            np.ones(3),
            stride=(1,),
            padding=((0, 0),),
            dilation=(1,),
        )
    with pytest.raises(ShapeError, match="axis 0 must be C_in = 1"):
        conv_transpose(
            np.ones((1, 4)),
            np.ones((2, 1, 1)),
            stride=(1,),
            padding=((0, 0),),
            output_padding=(0,),
            dilation=(1,),
        )
    with pytest.raises(ShapeError, match=r"must be \(C_in\*m, 1, \*k\)"):
        depthwise_conv(
            np.ones((2, 4)),
            np.ones((2, 1, 1)),
            stride=(1,),
            padding=((0, 0),),
            dilation=(1,),
            depth_multiplier=2,
        )
    with pytest.raises(LayerConfigError, match="every entry must be >= 1"):
        same_padding(0, 3, 1)
    with pytest.raises(LayerConfigError, match="every entry must be >= 1"):
        upsample_nearest(np.ones((1, 2)), (0,))
