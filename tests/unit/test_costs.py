"""Costs (MACs, FLOPs, activations) under the documented convention, and receptive fields."""

from __future__ import annotations

from typing import Any

import pytest
import sympy

from convsym import Sequential
from convsym.costing import KINDS, costs
from convsym.errors import UsageError
from convsym.examples import example
from convsym.expr import symbol
from convsym.graph import Graph
from convsym.layers import keras as K
from convsym.layers import torch as T
from convsym.receptive import receptive_field

n = symbol("n")


def macs(layers: list[Any], shape: tuple[Any, ...], **options: Any) -> sympy.Expr:
    return costs(Sequential(layers, input_shape=shape), **options).rows[-1].macs


@pytest.mark.parametrize(("layers", "shape", "expected"), [
    ([T.Conv2d(3, 8, 3)], (3, "n", "n"), (n - 2) ** 2 * 8 * 9 * 3),
    ([T.Conv2d(4, 8, 3, groups=2, padding=1)], (4, "n", "n"), n ** 2 * 8 * 9 * 2),
    ([T.Conv1d(2, 4, 3, stride=2)], (2, 9), 4 * 4 * 3 * 2),
    # transposed convolutions are costed on the INPUT size
    ([T.ConvTranspose2d(4, 2, 3, stride=2)], (4, "n", "n"), n ** 2 * 4 * 9 * 2),
    ([T.ConvTranspose1d(4, 6, 3, groups=2)], (4, 5), 5 * 4 * 3 * 3),
    ([K.Conv2DTranspose(2, 3, strides=2)], ("n", "n", 4), n ** 2 * 4 * 9 * 2),
    ([K.DepthwiseConv2D(3, depth_multiplier=2)], (7, 7, 4), 25 * 4 * 2 * 9),
    ([K.SeparableConv2D(16, 3)], (9, 9, 128), 49 * 128 * 9 + 49 * 128 * 16),
    ([T.Linear(10, 4)], (3, 10), 3 * 10 * 4),
    ([K.Dense(4)], (10,), 40),
    ([T.MaxPool2d(2)], (3, 8, 8), 0),
])
def test_default_macs(layers: list[Any], shape: tuple[Any, ...], expected: Any) -> None:
    assert sympy.expand(macs(layers, shape) - expected) == 0


def test_bias_and_other_kinds() -> None:
    assert macs([T.Conv2d(3, 8, 3)], (3, 6, 6), bias=True) == 16 * 8 * 27 + 16 * 8
    assert macs([T.Conv2d(3, 8, 3, bias=False)], (3, 6, 6), bias=True) == 16 * 8 * 27
    assert macs([T.MaxPool2d(2)], (3, 8, 8), include="pool") == 16 * 3 * 4
    assert macs([K.GlobalAveragePooling2D()], (8, 8, 3), include=["pool"]) == 192
    assert macs([T.BatchNorm2d(3)], (3, 8, 8), include="norm") == 192
    assert macs([T.ReLU()], (3, 8, 8), include="all") == 192
    assert macs([T.Dropout()], (3, 8, 8), include="all") == 0
    assert macs([T.ReLU()], (3, 8, 8)) == 0


def test_merges_count_inputs_minus_one_per_element() -> None:
    g = Graph(input_shape=(4, "n"))
    out = g.add(T.Add(), g.input, g.input, g.input)
    report = costs(g.build(out), include="merge")
    assert report.rows[-1].macs == 2 * 4 * n
    assert report.include == ("merge",)


def test_totals_flops_activations_and_json() -> None:
    net = Sequential([K.Input((6, 6, 1)), K.Conv2D(2, 3), K.Flatten(), K.Dense(3)])
    report = costs(net)
    assert report.total_macs == 16 * 2 * 9 + 32 * 3
    assert report.total_flops == 2 * report.total_macs
    assert report.total_activations == 32 + 32 + 3
    doc = report.to_dict()
    assert doc["convention"]["transposed_conv"] == "input size"
    assert [row["kind"] for row in doc["layers"]] == ["conv", "none", "dense"]
    assert doc["total_macs"] == report.total_macs


def test_bad_options() -> None:
    net = example("seed1")
    with pytest.raises(UsageError) as err:
        costs(net, include="pooling")
    assert err.value.code == "unknown_cost_kind" and "did you mean 'pool'" in str(err.value)
    with pytest.raises(UsageError):
        costs(net, bias="yes")  # type: ignore[arg-type]
    assert set(KINDS) == {"conv", "dense", "pool", "norm", "merge", "activation"}


def test_resnet50_macs_symbolic_then_numeric() -> None:
    report = costs(example("resnet50"))
    H, W = symbol("H"), symbol("W")
    assert report.total_macs.subs({H: 224, W: 224}) == 4_089_184_256


# --- receptive fields ---------------------------------------------------------------------


def field(net: Any, name: str, axis: str = "H") -> tuple[Any, Any, Any]:
    row = next(r for r in receptive_field(net) if r.name == name)
    assert row.axes is not None, row.status
    f = row.axes[axis]
    return f.size, f.jump, f.padding


def test_known_receptive_fields() -> None:
    assert field(example("vgg16"), "features.29") == (196, 16, 90)
    assert field(example("vgg16"), "features.30") == (212, 32, 90)
    assert field(example("resnet50"), "layer4.2.relu_out") == (427, 32, 213)
    wave = field(example("wavenet"), "softmax", "L")
    assert wave == (1025, 1, 1024)  # causal: the first output sees [-1024, 0]


def test_recurrences_with_dilation_padding_and_crop() -> None:
    net = Sequential([K.Input(("n", 1)), K.Conv1D(1, 3, dilation_rate=2, padding="same"),
                      K.MaxPooling1D(2), K.ZeroPadding1D((2, 0)), K.Cropping1D((1, 0)),
                      K.Conv1D(1, 3, strides=2)])
    rows = receptive_field(net)
    assert [(r.axes or {})["L"].size for r in rows] == [5, 6, 6, 6, 10]
    assert [(r.axes or {})["L"].jump for r in rows] == [1, 2, 2, 2, 4]
    assert [(r.axes or {})["L"].padding for r in rows] == [2, 2, 6, 4, 4]
    assert rows[-1].axes is not None and rows[-1].axes["L"].center == sympy.Rational(1, 2)


def test_symbolic_same_padding_and_undefined_fields() -> None:
    net = example("seed3_symbolic")
    rows = receptive_field(net)
    assert rows[0].axes is not None and rows[0].axes["H"].padding == 1  # pads (1, 1 or 2)
    assert rows[-1].axes is None and "spatial" in rows[-1].status
    unet = receptive_field(example("unet"))
    assert unet[-1].axes is None and "fraction" in unet[-1].status
    assert receptive_field(example("resnet50"))[-1].status == "global"
    assert rows[0].to_dict()["axes"]["H"] == {"size": 4, "jump": 2, "padding": 1}
