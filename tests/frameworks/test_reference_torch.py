"""convsym.reference against torch.nn.functional: same shapes, same numbers, same refusals."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from convsym.errors import ShapeError
from convsym.reference import (
    adaptive_avg_pool,
    adaptive_max_pool,
    conv,
    conv_transpose,
    depthwise_conv,
    pool,
    upsample_nearest,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.frameworks

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
ADAPTIVE_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
ADAPTIVE_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """Tiny tensors: torch's thread pool only adds contention (ms per call on a busy CPU)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _torch(fn: Any, x: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
    """Run a torch function on one unbatched array (float64) and return NumPy."""
    tensors = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    out = fn(torch.from_numpy(x)[None], *tensors, **kwargs)
    result: np.ndarray = out[0].numpy()
    return result


def _case(seed: int, transpose: bool = False) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 4))
    g = int(rng.choice([1, 2, 3]))
    c_in, c_out = g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, rank))
    s = tuple(int(v) for v in rng.integers(1, 4, rank))
    d = tuple(int(v) for v in rng.integers(1, 3, rank))
    p = tuple(int(v) for v in rng.integers(0, 3, rank))
    op = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d, strict=True))
    if transpose:  # smallest n with (n-1)s - 2p + k_e + op > 0
        low = [
            1 + max(0, (2 * pi - di * (ki - 1) - 1 - oi) // si + 1)
            for pi, di, ki, oi, si in zip(p, d, k, op, s, strict=True)
        ]
    else:  # smallest n with n + 2p >= k_e
        low = [max(di * (ki - 1) + 1 - 2 * pi, 1) for di, ki, pi in zip(d, k, p, strict=True)]
    n = tuple(lo + int(rng.integers(0, 5)) for lo in low)
    w_shape = (c_in, c_out // g) + k if transpose else (c_out, c_in // g) + k
    return {
        "rank": rank,
        "x": rng.standard_normal((c_in,) + n),
        "w": rng.standard_normal(w_shape),
        "b": rng.standard_normal(c_out),
        "s": s,
        "p": p,
        "d": d,
        "g": g,
        "op": op,
    }


@pytest.mark.parametrize("seed", range(60))
def test_conv_matches_torch(seed: int) -> None:
    c = _case(seed)
    expected = _torch(
        CONV[c["rank"]],
        c["x"],
        c["w"],
        c["b"],
        stride=c["s"],
        padding=c["p"],
        dilation=c["d"],
        groups=c["g"],
    )
    got = conv(
        c["x"],
        c["w"],
        c["b"],
        stride=c["s"],
        padding=tuple((q, q) for q in c["p"]),
        dilation=c["d"],
        groups=c["g"],
    )
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-10)


@pytest.mark.parametrize("seed", range(20))
def test_asymmetric_padding_matches_torch_pad_then_conv(seed: int) -> None:
    c = _case(seed)
    rng = np.random.default_rng(seed)
    pads = tuple((int(b), int(a)) for b, a in rng.integers(0, 3, (c["rank"], 2)))
    flat = [v for pair in reversed(pads) for v in pair]  # F.pad wants the last axis first
    padded = F.pad(torch.from_numpy(c["x"]), flat).numpy()
    try:
        expected = _torch(
            CONV[c["rank"]], padded, c["w"], stride=c["s"], dilation=c["d"], groups=c["g"]
        )
    except RuntimeError:
        with pytest.raises(ShapeError):
            conv(c["x"], c["w"], stride=c["s"], padding=pads, dilation=c["d"], groups=c["g"])
        return
    got = conv(c["x"], c["w"], stride=c["s"], padding=pads, dilation=c["d"], groups=c["g"])
    np.testing.assert_allclose(got, expected, atol=1e-10)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_torch_padding_same_is_floor_half_before() -> None:
    """PyTorch ``padding='same'`` (stride 1): ``P = d(k-1)``, ``p_before = P // 2``."""
    rng = np.random.default_rng(0)
    for k, d in itertools.product(range(1, 6), range(1, 3)):
        x, w = rng.standard_normal((1, 9)), rng.standard_normal((1, 1, k))
        total = d * (k - 1)
        expected = _torch(F.conv1d, x, w, padding="same", dilation=d)
        got = conv(x, w, stride=(1,), padding=((total // 2, total - total // 2),), dilation=(d,))
        np.testing.assert_allclose(got, expected, atol=1e-12)


@pytest.mark.parametrize("seed", range(60))
def test_conv_transpose_matches_torch(seed: int) -> None:
    c = _case(seed, transpose=True)
    expected = _torch(
        CONV_T[c["rank"]],
        c["x"],
        c["w"],
        c["b"],
        stride=c["s"],
        padding=c["p"],
        output_padding=c["op"],
        dilation=c["d"],
        groups=c["g"],
    )
    got = conv_transpose(
        c["x"],
        c["w"],
        c["b"],
        stride=c["s"],
        padding=tuple((q, q) for q in c["p"]),
        output_padding=c["op"],
        dilation=c["d"],
        groups=c["g"],
    )
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-10)


def test_conv_transpose_sizes_and_refusals_match_torch() -> None:
    """Every small 1-D case PyTorch accepts (``op < max(s, d)``), and the empty outputs."""
    for n, k, s, d, p in itertools.product(
        range(1, 5), range(1, 4), range(1, 4), range(1, 3), range(4)
    ):
        for op in range(max(s, d)):
            x, w = np.ones((1, n)), np.ones((1, 1, k))
            args: dict[str, Any] = {"stride": s, "padding": p, "output_padding": op, "dilation": d}
            ours: dict[str, Any] = {
                "stride": (s,),
                "padding": ((p, p),),
                "output_padding": (op,),
                "dilation": (d,),
            }
            try:
                expected = _torch(F.conv_transpose1d, x, w, **args)
            except RuntimeError:
                with pytest.raises(ShapeError):
                    conv_transpose(x, w, **ours)
                continue
            np.testing.assert_allclose(conv_transpose(x, w, **ours), expected)


def test_conv_transpose_test_vector_matches_torch() -> None:
    x, w = np.ones((1, 5)), np.ones((1, 1, 3))
    expected = _torch(F.conv_transpose1d, x, w, dilation=2, output_padding=1)
    got = conv_transpose(x, w, stride=(1,), padding=((0, 0),), output_padding=(1,), dilation=(2,))
    assert expected.shape == got.shape == (1, 10)
    np.testing.assert_allclose(got, expected)


def test_depthwise_matches_torch_groups() -> None:
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((3, 7, 6)), rng.standard_normal((6, 1, 3, 3)), np.zeros(6)
    expected = _torch(F.conv2d, x, w, b, stride=2, padding=1, groups=3)
    got = depthwise_conv(
        x, w, b, stride=(2, 2), padding=((1, 1), (1, 1)), dilation=(1, 1), depth_multiplier=2
    )
    np.testing.assert_allclose(got, expected, atol=1e-12)


@pytest.mark.parametrize("rank", [1, 2])
def test_pooling_sweep_matches_torch_including_refusals(rank: int) -> None:
    """Every size, kernel, stride, padding (<= k/2), ceil mode and count_include_pad."""
    rng = np.random.default_rng(rank)
    sizes = range(1, 9) if rank == 1 else range(1, 6)
    for n, k, s, p in itertools.product(sizes, range(1, 5), range(1, 4), range(3)):
        if p > k // 2:
            continue
        x = rng.standard_normal((2,) + (n,) * rank)
        for kind, ceil_mode, include in itertools.product(
            ("max", "avg"), (False, True), (True, False)
        ):
            if kind == "max" and not include:
                continue
            kwargs: dict[str, Any] = {"ceil_mode": ceil_mode}
            if kind == "avg":
                kwargs["count_include_pad"] = include
            fn = MAX[rank] if kind == "max" else AVG[rank]
            try:
                expected = _torch(fn, x, k, s, p, **kwargs)
            except RuntimeError:
                with pytest.raises(ShapeError):
                    pool(
                        x,
                        kind,
                        kernel=(k,) * rank,
                        stride=(s,) * rank,
                        padding=((p, p),) * rank,
                        **kwargs,
                    )
                continue
            got = pool(
                x, kind, kernel=(k,) * rank, stride=(s,) * rank, padding=((p, p),) * rank, **kwargs
            )
            assert got.shape == expected.shape, (n, k, s, p, kind, kwargs)
            np.testing.assert_allclose(got, expected, atol=1e-12)


@pytest.mark.parametrize("seed", range(30))
def test_dilated_max_pool_matches_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 4))
    k = tuple(int(v) for v in rng.integers(1, 4, rank))
    s = tuple(int(v) for v in rng.integers(1, 4, rank))
    d = tuple(int(v) for v in rng.integers(1, 4, rank))
    p = tuple(int(rng.integers(0, ki // 2 + 1)) for ki in k)
    n = tuple(
        max(di * (ki - 1) + 1 - 2 * pi, 1) + int(rng.integers(0, 6))
        for di, ki, pi in zip(d, k, p, strict=True)
    )
    x = rng.standard_normal((2,) + n)
    ceil_mode = bool(rng.integers(0, 2))
    expected = _torch(MAX[rank], x, k, s, p, d, ceil_mode=ceil_mode)
    got = pool(
        x,
        "max",
        kernel=k,
        stride=s,
        padding=tuple((q, q) for q in p),
        dilation=d,
        ceil_mode=ceil_mode,
    )
    np.testing.assert_allclose(got, expected)


def test_conventions_pool_vectors_match_torch() -> None:
    assert _torch(F.max_pool1d, np.zeros((1, 4)), 2, 3, 1, ceil_mode=True).shape == (1, 2)
    assert _torch(F.max_pool2d, np.zeros((1, 32, 32)), 1, 2, ceil_mode=True).shape == (1, 16, 16)
    for n in range(1, 41):
        shape = _torch(F.max_pool2d, np.zeros((1, n, n)), 2, 2, 1, ceil_mode=True).shape
        assert shape == (1, n // 2 + 1, n // 2 + 1)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_adaptive_pooling_matches_torch(rank: int) -> None:
    rng = np.random.default_rng(rank)
    for n, o in itertools.product(range(1, 8), range(1, 8)):
        shape, out = (n,) + (3,) * (rank - 1), (o,) + (2,) * (rank - 1)
        x = rng.standard_normal((2,) + shape)
        np.testing.assert_allclose(
            adaptive_avg_pool(x, out), _torch(ADAPTIVE_AVG[rank], x, out), atol=1e-12
        )
        np.testing.assert_allclose(adaptive_max_pool(x, out), _torch(ADAPTIVE_MAX[rank], x, out))


def test_upsample_nearest_matches_torch() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    expected = _torch(F.interpolate, x, scale_factor=(2, 3), mode="nearest")
    np.testing.assert_allclose(upsample_nearest(x, (2, 3)), expected)
