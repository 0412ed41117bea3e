"""Closed forms vs the NumPy reference: depthwise and separable convolutions, padding,
cropping, upsampling, global and adaptive pooling.

Cases are built valid by construction (@st.composite, no filtering); sizes around the
smallest valid one, so both sides must also agree on rejecting too-small inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

np = pytest.importorskip("numpy")

from convsym import reference  # noqa: E402
from convsym.errors import ShapeError  # noqa: E402
from convsym.intdiv import QPoly, as_int  # noqa: E402
from convsym.layers import keras as K  # noqa: E402
from convsym.layers import torch as T  # noqa: E402
from convsym.layers.base import Layer  # noqa: E402

SETTINGS = settings(max_examples=80, deadline=None)


Derived = tuple[tuple[int, ...], list[tuple[int, ...]]]


def derive(layer: Layer, shape: Sequence[int]) -> Derived | None:
    """convsym's output shape and weight shapes, or None when it rejects the input size."""
    try:
        out = layer.infer([tuple(QPoly.const(v) for v in shape)])
    except ShapeError:
        return None
    assert not out.conditions, "concrete sizes must leave no undecided condition"
    return (tuple(as_int(s) for s in out.shape),  # type: ignore[return-value]
            [tuple(as_int(s) for s in w.shape) for w in out.weights])


def run(fn: Callable[[], Any]) -> tuple[int, ...] | None:
    """The reference's output shape, or None when it rejects the input size."""
    try:
        return tuple(fn().shape)
    except ShapeError:
        return None


def agree(ours: Any, ref_shape: tuple[int, ...] | None, weights: list[tuple[int, ...]],
          *, channels_last: bool = False) -> None:
    """Same verdict, same shape (channels moved for Keras), same weight tensors."""
    if ref_shape is None or ours is None:
        assert ours is None and ref_shape is None, (ours, ref_shape)
        return
    shape, ours_w = ours
    if channels_last and len(shape) == len(ref_shape) and len(shape) > 1:
        shape = (shape[-1], *shape[:-1])
    assert shape == ref_shape
    assert sorted(ours_w) == sorted(weights)
    assert sum(math.prod(w) for w in ours_w) == sum(math.prod(w) for w in weights)


@st.composite
def depthwise(draw: Any) -> dict[str, Any]:
    rank = draw(st.integers(1, 2))
    mode = draw(st.sampled_from(["valid", "same"]))
    k = [draw(st.integers(1, 4)) for _ in range(rank)]
    s = [draw(st.integers(1, 3)) for _ in range(rank)]
    d = [draw(st.integers(1, 3)) for _ in range(rank)]
    n = [max(1, (di * (ki - 1) + 1 if mode == "valid" else 1) + draw(st.integers(-2, 5)))
         for ki, di in zip(k, d)]
    return {"rank": rank, "mode": mode, "k": k, "s": s, "d": d, "n": n,
            "c": draw(st.integers(1, 3)), "m": draw(st.integers(1, 3)),
            "filters": draw(st.integers(1, 3)), "bias": draw(st.booleans())}


def _pads(c: dict[str, Any]) -> list[tuple[int, int]]:
    if c["mode"] == "valid":
        return [(0, 0)] * c["rank"]
    return [reference.same_padding(n, k, s, d)
            for n, k, s, d in zip(c["n"], c["k"], c["s"], c["d"])]


@given(depthwise())
@SETTINGS
def test_keras_depthwise(c: dict[str, Any]) -> None:
    layer = getattr(K, f"DepthwiseConv{c['rank']}D")(
        c["k"], c["s"], c["mode"], c["m"], dilation_rate=c["d"], use_bias=c["bias"])
    x = np.zeros((c["c"], *c["n"]))
    ref = run(lambda: reference.depthwise_conv(
        x, np.zeros((c["c"] * c["m"], 1, *c["k"])), stride=c["s"], padding=_pads(c),
        dilation=c["d"], depth_multiplier=c["m"]))
    kernel = (*c["k"], c["c"], c["m"])  # Keras layout (k..., C, m)
    agree(derive(layer, (*c["n"], c["c"])), ref,
          [kernel, (c["c"] * c["m"],)] if c["bias"] else [kernel], channels_last=True)


@given(depthwise())
@SETTINGS
def test_keras_separable(c: dict[str, Any]) -> None:
    layer = getattr(K, f"SeparableConv{c['rank']}D")(
        c["filters"], c["k"], c["s"], c["mode"], dilation_rate=c["d"], depth_multiplier=c["m"],
        use_bias=c["bias"])
    x = np.zeros((c["c"], *c["n"]))
    ones = (1,) * c["rank"]

    def both() -> Any:
        y = reference.depthwise_conv(x, np.zeros((c["c"] * c["m"], 1, *c["k"])), stride=c["s"],
                                     padding=_pads(c), dilation=c["d"], depth_multiplier=c["m"])
        return reference.conv(y, np.zeros((c["filters"], c["c"] * c["m"], *ones)),
                              stride=ones, padding=[(0, 0)] * c["rank"], dilation=ones)

    weights = [(*c["k"], c["c"], c["m"]), (*ones, c["c"] * c["m"], c["filters"])]
    agree(derive(layer, (*c["n"], c["c"])), run(both),
          weights + [(c["filters"],)] if c["bias"] else weights, channels_last=True)


@st.composite
def pad_case(draw: Any) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    n = [draw(st.integers(1, 6)) for _ in range(rank)]
    pairs = [(draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(rank)]
    form = draw(st.sampled_from(["int", "per_axis", "pairs"]))
    return {"rank": rank, "n": n, "pairs": pairs, "form": form}


def _keras_arg(c: dict[str, Any]) -> tuple[Any, list[tuple[int, int]]]:
    """The Keras argument in the drawn form, and the (before, after) pairs it means."""
    first = c["pairs"][0][0]
    if c["form"] == "int":
        return first, [(first, first)] * c["rank"]
    if c["form"] == "per_axis" and c["rank"] > 1:
        return tuple(b for b, _ in c["pairs"]), [(b, b) for b, _ in c["pairs"]]
    if c["rank"] == 1:
        return c["pairs"][0], c["pairs"]
    return tuple(c["pairs"]), c["pairs"]


@given(pad_case())
@SETTINGS
def test_keras_zero_padding_and_cropping(c: dict[str, Any]) -> None:
    arg, pairs = _keras_arg(c)
    x = np.zeros((2, *c["n"]))
    agree(derive(getattr(K, f"ZeroPadding{c['rank']}D")(arg), (*c["n"], 2)),
          run(lambda: reference.zero_pad(x, pairs)), [], channels_last=True)
    agree(derive(getattr(K, f"Cropping{c['rank']}D")(arg), (*c["n"], 2)),
          run(lambda: reference.crop(x, pairs)), [], channels_last=True)


@st.composite
def torch_pad_case(draw: Any) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    sides = draw(st.integers(1, rank)) * 2  # F.pad may cover only the last axes
    flat = [draw(st.integers(-3, 3)) for _ in range(sides)]
    return {"rank": rank, "n": [draw(st.integers(1, 6)) for _ in range(rank)], "flat": flat,
            "constant": draw(st.booleans())}


@given(torch_pad_case())
@SETTINGS
def test_torch_zero_and_constant_pad(c: dict[str, Any]) -> None:
    flat = c["flat"]
    pairs = [(0, 0)] * c["rank"]
    for j in range(len(flat) // 2):  # (left, right) of the LAST axis first
        pairs[c["rank"] - 1 - j] = (flat[2 * j], flat[2 * j + 1])
    name = f"{'ConstantPad' if c['constant'] else 'ZeroPad'}{c['rank']}d"
    layer = getattr(T, name)(tuple(flat), *([0.0] if c["constant"] else []))
    x = np.zeros((2, *c["n"]))

    def ref() -> Any:
        # PyTorch narrows the input by the negative pads first: they may remove it all, no more
        for n, (b, a) in zip(c["n"], pairs):
            if n + min(b, 0) + min(a, 0) < 0:
                raise ShapeError("reference pad", "padding", (b, a), "removes more than n")
        padded = reference.zero_pad(x, [(max(b, 0), max(a, 0)) for b, a in pairs])
        if not any(min(b, a) < 0 for b, a in pairs):
            return padded
        return reference.crop(padded, [(max(-b, 0), max(-a, 0)) for b, a in pairs])

    agree(derive(layer, (2, *c["n"])), run(ref), [])


@st.composite
def upsample_case(draw: Any) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    return {"rank": rank, "n": [draw(st.integers(1, 5)) for _ in range(rank)],
            "size": [draw(st.integers(1, 3)) for _ in range(rank)],
            "uniform": draw(st.booleans())}


@given(upsample_case())
@SETTINGS
def test_upsampling(c: dict[str, Any]) -> None:
    size = [c["size"][0]] * c["rank"] if c["uniform"] or c["rank"] == 1 else c["size"]
    x = np.zeros((2, *c["n"]))
    expected = run(lambda: reference.upsample_nearest(x, size))
    arg: Any = size[0] if c["uniform"] or c["rank"] == 1 else tuple(size)
    agree(derive(getattr(K, f"UpSampling{c['rank']}D")(arg), (*c["n"], 2)), expected, [],
          channels_last=True)
    agree(derive(T.Upsample(scale_factor=arg), (2, *c["n"])), expected, [])


@st.composite
def global_case(draw: Any) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    return {"rank": rank, "n": [draw(st.integers(1, 5)) for _ in range(rank)],
            "kind": draw(st.sampled_from(["avg", "max"])), "keepdims": draw(st.booleans()),
            "out": [draw(st.one_of(st.none(), st.integers(1, 6))) if rank > 1
                    else draw(st.integers(1, 6)) for _ in range(rank)]}


@given(global_case())
@SETTINGS
def test_global_pooling(c: dict[str, Any]) -> None:
    name = f"Global{'Average' if c['kind'] == 'avg' else 'Max'}Pooling{c['rank']}D"
    x = np.zeros((3, *c["n"]))
    expected = run(lambda: reference.global_pool(x, c["kind"], keepdims=c["keepdims"]))
    agree(derive(getattr(K, name)(keepdims=c["keepdims"]), (*c["n"], 3)), expected, [],
          channels_last=True)


@given(global_case())
@SETTINGS
def test_adaptive_pooling(c: dict[str, Any]) -> None:
    fn = reference.adaptive_avg_pool if c["kind"] == "avg" else reference.adaptive_max_pool
    sizes = [n if o is None else o for n, o in zip(c["n"], c["out"])]
    x = np.zeros((3, *c["n"]))
    expected = run(lambda: fn(x, sizes))
    torch_name = f"Adaptive{'Avg' if c['kind'] == 'avg' else 'Max'}Pool{c['rank']}d"
    agree(derive(getattr(T, torch_name)(tuple(c["out"])), (3, *c["n"])), expected, [])
    keras_name = f"Adaptive{'Average' if c['kind'] == 'avg' else 'Max'}Pooling{c['rank']}D"
    agree(derive(getattr(K, keras_name)(tuple(sizes)), (*c["n"], 3)), expected, [],
          channels_last=True)
