"""Admissible input sets of random small networks agree with brute force over a range.

Each network is built directly (no filtering): convolutions, max and average pooling (floor
and ceil mode), optionally Flatten -> Linear with in_features fixed at one input size, so the
answer ranges from "n >= c" through residue classes to finite sets.  Brute force builds the
network with every concrete size (plain integer propagation through the layers).
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from convsym import Sequential
from convsym.errors import LayerError
from convsym.layers import torch as T
from convsym.whatif import accepts, admissible_inputs


@st.composite
def layer_specs(draw: st.DrawFn) -> list[tuple[str, dict[str, Any]]]:
    specs = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "max", "avg"]))
        k = draw(st.integers(1, 5 if kind == "conv" else 3))
        s = draw(st.integers(1, 3))
        if kind == "conv":
            specs.append((kind, {"kernel_size": k, "stride": s,
                                 "padding": draw(st.integers(0, 2)),
                                 "dilation": draw(st.integers(1, 2))}))
        else:
            specs.append((kind, {"kernel_size": k, "stride": s,
                                 "padding": draw(st.integers(0, k // 2)),
                                 "ceil_mode": draw(st.booleans())}))
    return specs


def build(specs: list[tuple[str, dict[str, Any]]], shape: tuple[object, ...], rank: int
          ) -> list[Any]:
    conv = {1: T.Conv1d, 2: T.Conv2d}[rank]
    pools = {"max": {1: T.MaxPool1d, 2: T.MaxPool2d}[rank],
             "avg": {1: T.AvgPool1d, 2: T.AvgPool2d}[rank]}
    layers: list[Any] = []
    channels = 2
    for kind, args in specs:
        if kind == "conv":
            layers.append(conv(channels, 3, **args))
            channels = 3
        else:
            layers.append(pools[kind](**args))
    return layers


@st.composite
def networks(draw: st.DrawFn) -> tuple[Sequential, int]:
    rank = draw(st.sampled_from([1, 2]))
    specs = draw(layer_specs())
    shape: tuple[object, ...] = (2, "n") if rank == 1 else (2, "n", "n")
    layers = build(specs, shape, rank)
    net = Sequential(layers, input_shape=shape)
    if draw(st.booleans()):
        # fix Linear's in_features at one size: an equality condition on n
        n0 = draw(st.integers(8, 60))
        try:
            flat = net.subs(n=n0).output_shape
            features = 1
            for size in flat:
                features *= int(size)
            net = Sequential([*layers, T.Flatten(), T.Linear(features, 4)],
                             input_shape=shape)
        except LayerError:
            pass  # this size is invalid, or the size is a Min/Max that cannot be flattened
    return net, rank


@settings(max_examples=25, deadline=None)
@given(networks())
def test_admissible_set_matches_brute_force(case: tuple[Sequential, int]) -> None:
    net, _ = case
    found = admissible_inputs(net)
    assert found.exact, found.reason
    values = found.values("n")
    for n in range(1, 70):
        assert (n in values) == accepts(net, n=n), (n, net.layers)


@st.composite
def two_axis_networks(draw: st.DrawFn) -> Sequential:
    specs = draw(layer_specs())
    layers = build(specs, (2, "H", "W"), 2)
    net = Sequential(layers, input_shape=(2, "H", "W"))
    h0, w0 = draw(st.integers(8, 30)), draw(st.integers(8, 30))
    try:
        flat = net.subs(H=h0, W=w0).output_shape
        features = 1
        for size in flat:
            features *= int(size)
        return Sequential([*layers, T.Flatten(), T.Linear(features, 4)],
                          input_shape=(2, "H", "W"))
    except LayerError:
        return net


@settings(max_examples=10, deadline=None)
@given(two_axis_networks(), st.lists(st.integers(1, 40), min_size=3, max_size=3))
def test_joint_admissible_set_matches_brute_force(net: Sequential, widths: list[int]) -> None:
    found = admissible_inputs(net)
    assert found.exact, found.reason
    some = found.example()
    if some is not None:
        widths.append(some["W"])
    for h, w in itertools.product(range(1, 36), widths):
        assert ({"H": h, "W": w} in found) == accepts(net, H=h, W=w), (h, w, net.layers)


@st.composite
def mini_unets(draw: st.DrawFn) -> dict[str, Any]:
    """Random U-Net-like graphs: valid convs, pools, up-sampling, fixed crops, concatenation.

    Merges must agree exactly, so the answers are residue classes (or nothing at all).
    """
    levels = draw(st.integers(1, 3))
    pools = [draw(st.sampled_from([2, 3])) for _ in range(levels)]
    k = draw(st.sampled_from([1, 3]))
    # up-sampling usually undoes the pooling, and the crop is usually what the convolutions
    # took away, so most draws have solutions; the others must be proved empty
    factors = [p if draw(st.integers(0, 3)) else draw(st.sampled_from([2, 3]))
               for p in reversed(pools)]
    crops = []
    shrink = 0
    for level in range(levels):
        shrink = (shrink + (k - 1)) * pools[levels - 1 - level] if level else 2 * (k - 1)
        crops.append(draw(st.sampled_from([shrink // 2, shrink // 2, draw(st.integers(0, 6))])))
    return {"k": k, "up": draw(st.sampled_from(["transpose", "upsample"])), "pools": pools,
            "factors": factors, "crops": crops}


def build_unet(spec: dict[str, Any], size: object) -> Any:
    from convsym.graph import Model
    from convsym.layers import keras as K

    inputs = K.Input((size, size, 1))
    x, skips = inputs, []
    for pool in spec["pools"]:
        x = K.Conv2D(2, spec["k"])(x)
        skips.append(x)
        x = K.MaxPooling2D(pool)(x)
    x = K.Conv2D(2, spec["k"])(x)
    for skip, factor, crop in zip(reversed(skips), spec["factors"], spec["crops"]):
        if spec["up"] == "transpose":
            x = K.Conv2DTranspose(2, factor, strides=factor)(x)
        else:
            x = K.UpSampling2D(factor)(x)
        x = K.Concatenate()([K.Cropping2D(crop)(skip), x])
        x = K.Conv2D(2, spec["k"])(x)
    return Model(inputs=inputs, outputs=x)


def builds(spec: dict[str, Any], n: int) -> bool:
    try:
        build_unet(spec, n)
    except LayerError:
        return False
    return True


@settings(max_examples=10, deadline=None)
@given(mini_unets())
def test_merges_match_brute_force(spec: dict[str, Any]) -> None:
    try:
        net = build_unet(spec, "n")
    except LayerError as err:  # some merge never agrees: then no size may work
        assert err.code == "never_equal"
        assert not any(builds(spec, n) for n in range(1, 60))
        return
    found = admissible_inputs(net)
    assert found.exact, found.reason
    values = found.values("n")
    for n in range(1, 120):
        assert (n in values) == accepts(net, n=n), (n, spec)
    for n in values.smallest(3):  # building the graph at that size agrees too
        assert builds(spec, n)
