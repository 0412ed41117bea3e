"""Closed forms vs the NumPy reference: convolutions and pooling (core and transposed).

Every case is built valid by construction (@st.composite, no filtering); input sizes are drawn
around the smallest valid size, so the edges are covered: the kernel equal to the padded
input, inputs one or two cells too small (both sides must then reject), even kernels with
'same', strides larger than the kernel.  Each test checks the output shape against the shape
of a real reference result, and the parameter count against the weight tensors the reference
needs (same layout, same size).
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
    ints = tuple(as_int(s) for s in out.shape)
    assert all(isinstance(v, int) for v in ints)
    return ints, [tuple(as_int(s) for s in w.shape) for w in out.weights]  # type: ignore[misc]


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
    if channels_last:
        shape = (shape[-1], *shape[:-1])
    assert shape == ref_shape
    assert sorted(ours_w) == sorted(weights)
    assert sum(math.prod(w) for w in ours_w) == sum(math.prod(w) for w in weights)


def near(draw: Any, smallest: int) -> int:
    """An input size around the smallest valid one (``smallest - 2`` .. ``smallest + 6``)."""
    return max(1, smallest + draw(st.integers(-2, 6)))


@st.composite
def torch_conv(draw: Any) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    g = draw(st.sampled_from([1, 2]))
    mode = draw(st.sampled_from(["explicit", "valid", "same"]))
    k, s, d, p, n = [], [], [], [], []
    for _ in range(rank):
        k.append(draw(st.integers(1, 4 if rank < 3 else 3)))
        d.append(draw(st.integers(1, 3)))
        s.append(1 if mode == "same" else draw(st.integers(1, 4)))
        p.append(draw(st.integers(0, 3)) if mode == "explicit" else 0)
        ke = d[-1] * (k[-1] - 1) + 1
        n.append(near(draw, ke - (2 * p[-1] if mode == "explicit" else
                                  d[-1] * (k[-1] - 1) if mode == "same" else 0)))
    return {"rank": rank, "g": g, "cin": g * draw(st.integers(1, 2)),
            "cout": g * draw(st.integers(1, 2)), "k": k, "s": s, "d": d, "p": p, "n": n,
            "mode": mode, "bias": draw(st.booleans())}


@given(torch_conv())
@SETTINGS
def test_torch_conv(c: dict[str, Any]) -> None:
    padding: Any = c["p"] if c["mode"] == "explicit" else c["mode"]
    layer = getattr(T, f"Conv{c['rank']}d")(c["cin"], c["cout"], c["k"], c["s"], padding,
                                             c["d"], c["g"], c["bias"])
    if c["mode"] == "same":
        pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(c["k"], c["d"])]
    else:
        pads = [(p, p) for p in c["p"]]
    w = (c["cout"], c["cin"] // c["g"], *c["k"])
    x = np.zeros((c["cin"], *c["n"]))
    ref = run(lambda: reference.conv(x, np.zeros(w), stride=c["s"], padding=pads,
                                     dilation=c["d"], groups=c["g"]))
    agree(derive(layer, (c["cin"], *c["n"])), ref, [w, (c["cout"],)] if c["bias"] else [w])


@st.composite
def keras_conv(draw: Any) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["valid", "same", "causal"] if rank == 1 else ["valid", "same"]))
    dilated = draw(st.booleans())  # Keras forbids strides > 1 together with dilation > 1
    k, s, d, n = [], [], [], []
    for _ in range(rank):
        k.append(draw(st.integers(1, 4 if rank < 3 else 3)))
        d.append(draw(st.integers(1, 3)) if dilated else 1)
        s.append(1 if dilated else draw(st.integers(1, 4)))
        ke = d[-1] * (k[-1] - 1) + 1
        n.append(near(draw, ke if mode == "valid" else 1))
    g = draw(st.sampled_from([1, 2]))
    return {"rank": rank, "mode": mode, "k": k, "s": s, "d": d, "n": n, "g": g,
            "cin": g * draw(st.integers(1, 2)), "cout": g * draw(st.integers(1, 2)),
            "bias": draw(st.booleans())}


@given(keras_conv())
@SETTINGS
def test_keras_conv(c: dict[str, Any]) -> None:
    layer = getattr(K, f"Conv{c['rank']}D")(c["cout"], c["k"], c["s"], c["mode"],
                                             dilation_rate=c["d"], groups=c["g"],
                                             use_bias=c["bias"])
    pads = []
    for n, k, s, d in zip(c["n"], c["k"], c["s"], c["d"]):
        if c["mode"] == "same":
            pads.append(reference.same_padding(n, k, s, d))
        else:
            pads.append((d * (k - 1), 0) if c["mode"] == "causal" else (0, 0))
    x = np.zeros((c["cin"], *c["n"]))
    ref = run(lambda: reference.conv(x, np.zeros((c["cout"], c["cin"] // c["g"], *c["k"])),
                                     stride=c["s"], padding=pads, dilation=c["d"],
                                     groups=c["g"]))
    kernel = (*c["k"], c["cin"] // c["g"], c["cout"])
    agree(derive(layer, (*c["n"], c["cin"])), ref,
          [kernel, (c["cout"],)] if c["bias"] else [kernel], channels_last=True)


@st.composite
def torch_pool(draw: Any) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max", "avg"]))
    k, s, d, p, n = [], [], [], [], []
    for _ in range(rank):
        k.append(draw(st.integers(1, 4)))
        d.append(draw(st.integers(1, 3)) if kind == "max" else 1)
        s.append(draw(st.integers(1, 4)))
        ke = d[-1] * (k[-1] - 1) + 1
        p.append(draw(st.integers(0, k[-1] // 2)))  # PyTorch: padding <= half the kernel size
        n.append(near(draw, ke - 2 * p[-1]))
        if kind == "avg" and rank == 3:  # PyTorch's avg_pool3d needs the unpadded input to
            n[-1] = max(n[-1], k[-1])    # hold the kernel (a rule the reference lacks)
    return {"rank": rank, "kind": kind, "k": k, "s": s, "d": d, "p": p, "n": n,
            "ceil": draw(st.booleans()), "default_stride": draw(st.booleans())}


@given(torch_pool())
@SETTINGS
def test_torch_pool(c: dict[str, Any]) -> None:
    stride = c["k"] if c["default_stride"] else c["s"]
    name = f"{'Max' if c['kind'] == 'max' else 'Avg'}Pool{c['rank']}d"
    args: dict[str, Any] = {"stride": None if c["default_stride"] else c["s"],
                            "padding": c["p"], "ceil_mode": c["ceil"]}
    if c["kind"] == "max":
        args["dilation"] = c["d"]
    layer = getattr(T, name)(c["k"], **args)
    x = np.zeros((2, *c["n"]))
    ref = run(lambda: reference.pool(x, c["kind"], kernel=c["k"], stride=stride,
                                     padding=[(p, p) for p in c["p"]], dilation=c["d"],
                                     ceil_mode=c["ceil"]))
    agree(derive(layer, (2, *c["n"])), ref, [])


@st.composite
def keras_pool(draw: Any) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["valid", "same"]))
    k = [draw(st.integers(1, 4)) for _ in range(rank)]
    s = [draw(st.integers(1, 4)) for _ in range(rank)]
    n = [near(draw, ki if mode == "valid" else 1) for ki in k]
    return {"rank": rank, "mode": mode, "k": k, "s": s, "n": n,
            "kind": draw(st.sampled_from(["max", "avg"])),
            "default_stride": draw(st.booleans())}


@given(keras_pool())
@SETTINGS
def test_keras_pool(c: dict[str, Any]) -> None:
    stride = c["k"] if c["default_stride"] else c["s"]
    name = f"{'Max' if c['kind'] == 'max' else 'Average'}Pooling{c['rank']}D"
    layer = getattr(K, name)(c["k"], None if c["default_stride"] else c["s"], c["mode"])
    pads = [reference.same_padding(n, k, s) if c["mode"] == "same" else (0, 0)
            for n, k, s in zip(c["n"], c["k"], stride)]
    x = np.zeros((2, *c["n"]))
    ref = run(lambda: reference.pool(x, c["kind"], kernel=c["k"], stride=stride,
                                     padding=pads, count_include_pad=False))
    agree(derive(layer, (*c["n"], 2)), ref, [], channels_last=True)


@st.composite
def torch_transpose(draw: Any) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    g = draw(st.sampled_from([1, 2]))
    k, s, d, p, op, n = [], [], [], [], [], []
    for _ in range(rank):
        k.append(draw(st.integers(1, 4 if rank < 3 else 3)))
        s.append(draw(st.integers(1, 3)))
        d.append(draw(st.integers(1, 3)))
        p.append(draw(st.integers(0, 4)))
        op.append(draw(st.integers(0, max(s[-1], d[-1]) - 1)))  # PyTorch: op < max(s, d)
        n.append(draw(st.integers(1, 5)))
    return {"rank": rank, "g": g, "cin": g * draw(st.integers(1, 2)),
            "cout": g * draw(st.integers(1, 2)), "k": k, "s": s, "d": d, "p": p, "op": op,
            "n": n, "bias": draw(st.booleans())}


@given(torch_transpose())
@SETTINGS
def test_torch_conv_transpose(c: dict[str, Any]) -> None:
    layer = getattr(T, f"ConvTranspose{c['rank']}d")(
        c["cin"], c["cout"], c["k"], c["s"], c["p"], c["op"], c["g"], c["bias"], c["d"])
    w = (c["cin"], c["cout"] // c["g"], *c["k"])
    x = np.zeros((c["cin"], *c["n"]))
    ref = run(lambda: reference.conv_transpose(
        x, np.zeros(w), stride=c["s"], padding=[(p, p) for p in c["p"]],
        output_padding=c["op"], dilation=c["d"], groups=c["g"]))
    agree(derive(layer, (c["cin"], *c["n"])), ref, [w, (c["cout"],)] if c["bias"] else [w])


def keras_transpose_crops(n: int, k: int, s: int, d: int, same: bool, op: int | None
                          ) -> tuple[tuple[int, int], int]:
    """Keras's transposed-convolution padding (its JAX conversion) as PyTorch-style crops of
    the full scatter ``(n - 1)s + k_e`` plus an extension at the end."""
    ke = d * (k - 1) + 1
    if not same:
        extra = max(ke, s) - ke if op is None else op
        return (0, 0), extra
    pad_len = s + ke - 2 if op is None else ke + ke % 2 - 2 + op
    left = min(pad_len // 2 + pad_len % 2, ke - 1)
    right = pad_len - left
    crop_left, crop_right = ke - 1 - left, ke - 1 - right
    return (crop_left, max(crop_right, 0)), max(-crop_right, 0)


@st.composite
def keras_transpose(draw: Any) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    dilated = draw(st.booleans())
    k = [draw(st.integers(1, 4 if rank < 3 else 3)) for _ in range(rank)]
    d = [draw(st.integers(1, 3)) if dilated else 1 for _ in range(rank)]
    s = [1 if dilated else draw(st.integers(1, 3)) for _ in range(rank)]
    given_op = draw(st.booleans())
    op = [draw(st.integers(0, si - 1)) for si in s] if given_op else None
    return {"rank": rank, "k": k, "s": s, "d": d, "op": op,
            "n": [draw(st.integers(1, 5)) for _ in range(rank)],
            "same": draw(st.booleans()), "cin": draw(st.integers(1, 3)),
            "cout": draw(st.integers(1, 3)), "bias": draw(st.booleans())}


@given(keras_transpose())
@SETTINGS
def test_keras_conv_transpose(c: dict[str, Any]) -> None:
    layer = getattr(K, f"Conv{c['rank']}DTranspose")(
        c["cout"], c["k"], strides=c["s"], padding="same" if c["same"] else "valid",
        output_padding=c["op"], dilation_rate=c["d"], use_bias=c["bias"])
    crops, extends = [], []
    for i in range(c["rank"]):
        crop, extend = keras_transpose_crops(c["n"][i], c["k"][i], c["s"][i], c["d"][i],
                                             c["same"], None if c["op"] is None else c["op"][i])
        crops.append(crop)
        extends.append(extend)
    x = np.zeros((c["cin"], *c["n"]))
    ref = run(lambda: reference.conv_transpose(
        x, np.zeros((c["cin"], c["cout"], *c["k"])), stride=c["s"], padding=crops,
        output_padding=extends, dilation=c["d"]))
    kernel = (*c["k"], c["cout"], c["cin"])
    sizes = [(n - 1) * s + d * (k - 1) + 1 - sum(crop) + extend for n, s, d, k, crop, extend
             in zip(c["n"], c["s"], c["d"], c["k"], crops, extends)]
    if ref is None and min(sizes) == 0:
        # Keras answers an empty axis here (the reference computes no empty arrays): so does
        # convsym, with a warning on the row (issue 12)
        ref = (c["cout"], *(max(o, 0) for o in sizes))
    agree(derive(layer, (*c["n"], c["cin"])), ref,
          [kernel, (c["cout"],)] if c["bias"] else [kernel], channels_last=True)


@st.composite
def dense_case(draw: Any) -> dict[str, Any]:
    return {"lead": [draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2)))],
            "n_in": draw(st.integers(1, 6)), "units": draw(st.integers(1, 6)),
            "bias": draw(st.booleans()), "torch": draw(st.booleans())}


@given(dense_case())
@SETTINGS
def test_dense_and_linear(c: dict[str, Any]) -> None:
    shape = (*c["lead"], c["n_in"])
    if c["torch"]:
        layer: Layer = T.Linear(c["n_in"], c["units"], c["bias"])
        w = (c["units"], c["n_in"])
    else:
        layer = K.Dense(c["units"], use_bias=c["bias"])
        w = (c["n_in"], c["units"])
    x = np.zeros(shape)
    ref = (x @ np.zeros((c["n_in"], c["units"]))).shape
    agree(derive(layer, shape), tuple(ref), [w, (c["units"],)] if c["bias"] else [w])
