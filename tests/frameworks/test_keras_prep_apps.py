"""Keras preprocessing layers and keras.applications' own layers against real Keras.

Each case builds a small real Keras model at several input sizes, imports its ``to_json()``
and compares every layer's output shape and parameter counts (trainable / non-trainable), and
the closed forms of one symbolic import evaluated at those sizes.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
L = keras.layers

from convsym.errors import ConvsymError, SpecError  # noqa: E402
from convsym.importers.keras_json import from_keras  # noqa: E402
from convsym.intdiv import evaluate  # noqa: E402

pytestmark = pytest.mark.frameworks


def _layer_scale(init: float, dim: int) -> Any:
    from keras.src.applications.convnext import LayerScale

    return LayerScale(init, dim)


def _custom_scale(scale: float) -> Any:
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

    return CustomScaleLayer(scale)


def _count(weights: Any) -> int:
    return sum(math.prod(int(v) for v in w.shape) for w in weights)


def _scaled_residual(size: tuple[int, ...]) -> Any:
    x = keras.Input(size)
    y = L.Conv2D(size[-1], 3, padding="same")(x)
    return keras.Model(x, _custom_scale(0.17)([x, y]))


def _broadcast_residual(size: tuple[int, ...]) -> Any:
    x = keras.Input(size)
    y = L.Conv2D(1, 1)(x)  # one channel broadcasts against x's channels
    return keras.Model(x, _custom_scale(0.5)([x, y]))


CASES: dict[str, tuple[Callable[[tuple[int, ...]], Any], list[tuple[int, ...]]]] = {
    "layer_scale": (lambda s: keras.Sequential([keras.Input(s), L.Conv2D(24, 3),
                                                _layer_scale(1e-6, 24)]),
                    [(9, 11, 3), (32, 17, 5), (3, 3, 1)]),
    "layer_scale_broadcasts": (lambda s: keras.Sequential([keras.Input(s),
                                                           _layer_scale(0.1, 7)]),
                               [(5, 6, 1), (13, 2, 1)]),
    "custom_scale": (_scaled_residual, [(8, 8, 4), (15, 7, 6)]),
    "custom_scale_broadcasts": (_broadcast_residual, [(8, 9, 4), (1, 7, 6)]),
    "rescaling_normalization": (lambda s: keras.Sequential([
        keras.Input(s), L.Rescaling(1 / 255, offset=-1), L.Normalization(axis=-1),
        L.Normalization(axis=(1, 2)), L.Normalization(mean=[1.0] * s[-1],
                                                      variance=[2.0] * s[-1])]),
        [(6, 7, 3), (11, 4, 2)]),
    "resizing": (lambda s: keras.Sequential([keras.Input(s), L.Resizing(17, 9),
                                             L.Conv2D(4, 3), L.Resizing(
                                                 5, 30, crop_to_aspect_ratio=True)]),
                 [(20, 20, 3), (7, 41, 1), (1, 1, 2)]),
    "resizing_channels_first": (lambda s: keras.Sequential([
        keras.Input(s), L.Resizing(8, 6, pad_to_aspect_ratio=True,
                                   data_format="channels_first")]), [(3, 11, 12), (2, 4, 40)]),
    "center_crop": (lambda s: keras.Sequential([keras.Input(s), L.CenterCrop(6, 5),
                                                L.Conv2D(2, 3)]),
                    [(12, 9, 3), (6, 5, 1), (3, 2, 4), (7, 8, 2)]),
    "center_crop_channels_first": (lambda s: keras.Sequential([
        keras.Input(s), L.CenterCrop(4, 3, data_format="channels_first")]),
        [(2, 9, 9), (5, 2, 2)]),
}


def _forward(model: Any, size: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Every layer's output shape in a real forward, from torch hooks on the Keras layers."""
    import numpy as np

    shapes: dict[str, tuple[int, ...]] = {}

    def hook(name: str) -> Callable[..., None]:
        def record(module: Any, args: Any, out: Any) -> None:  # None: keep the output
            shapes.setdefault(name, tuple(int(v) for v in out.shape[1:]))
        return record

    handles = [layer.register_forward_hook(hook(layer.name)) for layer in model.layers]
    try:
        model(np.random.default_rng(0).random((2, *size), dtype="float32"))
    finally:
        for handle in handles:
            handle.remove()
    return shapes


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_matches_keras(case: str) -> None:
    import numpy as np

    build, sizes = CASES[case]
    first = sizes[0]
    cf = "channels_first" in case
    names = (None, "H", "W") if cf else ("H", "W", None)
    symbolic = None
    for size in sizes:
        model = build(size)
        for layer in model.layers:  # a real forward needs adapted statistics
            if isinstance(layer, L.Normalization) and layer.input_mean is None:
                layer.adapt(np.ones((2, *size), dtype="float32"))
        text = model.to_json()
        net = from_keras(text)
        if symbolic is None:  # symbolic spatial sizes, the first build's channels
            symbolic = from_keras(text, input_shape=[n or c for n, c in zip(names, first)])
        env = {s: v for s in symbolic.all_symbols() for n, v in zip(names, size)
               if s.name == n}
        same_channels = size[0 if cf else -1] == first[0 if cf else -1]
        ran = _forward(model, size)
        assert len(ran) == sum(not isinstance(la, L.InputLayer) for la in model.layers)
        rows = {r.name: r for r in net.rows}
        for layer, sym_row in zip(model.layers, symbolic.rows):
            want = tuple(int(v) for v in layer.output.shape[1:])
            row = rows[layer.name]
            assert ran.get(layer.name, want) == want, (case, layer.name)
            assert tuple(row.output_shape) == want, (case, size, layer.name, row.output_shape)
            if same_channels:
                assert tuple(evaluate(x, env) for x in sym_row.shape) == want, (case, size)
            assert row.trainable == _count(layer.trainable_weights), (case, layer.name)
            assert row.non_trainable == _count(layer.non_trainable_weights), (case, layer.name)
        assert net.total_params == model.count_params()


def test_symbolic_import_of_layer_scale_keeps_the_broadcast_condition() -> None:
    text = keras.Sequential([keras.Input((5, 5, 8)), _layer_scale(1.0, 8)]).to_json()
    net = from_keras(text, input_shape=("H", "W", "C"))
    # Keras broadcasts x * gamma: C = 1 runs too, and gives 8 channels
    assert [str(c) for c in net.conditions] == ["Eq(C, 1) | Eq(C, 8)"]
    one = keras.Sequential([keras.Input((5, 5, 1)), _layer_scale(1.0, 8)])
    assert tuple(one(keras.ops.zeros((1, 5, 5, 1))).shape[1:]) == (5, 5, 8)
    assert from_keras(one.to_json()).output_shape == (5, 5, 8)
    assert net.subs(C=1).output_shape[-1] == 8 and net.accepts(H=5, W=5, C=1)
    with pytest.raises(ConvsymError, match="'gamma' gives \\(8,\\): 3 vs 8, which never agree"):
        from_keras(text, input_shape=(5, 5, 3))


def test_custom_scale_layer_takes_two_tensors() -> None:
    x = keras.Input((4, 4, 2))
    text = keras.Model(x, _custom_scale(1.0)([x, x])).to_json()
    doc = json.loads(text)
    entry = next(e for e in doc["config"]["layers"] if e["class_name"] == "CustomScaleLayer")
    args = entry["inbound_nodes"][0]["args"][0]
    entry["inbound_nodes"][0]["args"][0] = args + [args[0]]
    with pytest.raises(ConvsymError, match="exactly 2 inputs"):
        from_keras(doc)


@pytest.mark.parametrize("module", ["my_layers", "keras.layers", "keras_hub.src.layers",
                                    "keras.src.applications.inception_resnet_v2"])
def test_layer_scale_only_from_its_own_module(module: str) -> None:
    text = keras.Sequential([keras.Input((5, 5, 8)), _layer_scale(1.0, 8)]).to_json()
    doc = json.loads(text)
    entry = next(e for e in doc["config"]["layers"] if e["class_name"] == "LayerScale")
    entry["module"] = module
    with pytest.raises(SpecError) as info:
        from_keras(doc)
    assert info.value.code == "custom_layer" and module in str(info.value)


def test_a_keras_hub_layer_with_a_keras_name_is_refused() -> None:
    text = keras.Sequential([keras.Input((5, 5, 8)), L.Conv2D(2, 3)]).to_json()
    doc = json.loads(text)
    doc["config"]["layers"][1]["module"] = "keras_hub.src.layers"
    with pytest.raises(SpecError) as info:
        from_keras(doc)
    assert info.value.code == "custom_layer"


def test_new_layers_in_spec_files() -> None:
    from convsym.spec import load

    net = load({"dialect": "keras", "input": ["H", "W", 3], "layers": [
        {"Rescaling": {"scale": 0.5}}, {"Resizing": {"height": 64, "width": 48}},
        {"Conv2D": {"filters": 8, "kernel_size": 3}}, {"LayerScale": {
            "init_values": 1e-6, "projection_dim": 8}}, {"CenterCrop": {"height": 10,
                                                                        "width": 11}}]})
    shapes = [tuple(str(s) for s in r.output_shape) for r in net.rows]
    assert shapes == [("H", "W", "3"), ("64", "48", "3"), ("62", "46", "8"), ("62", "46", "8"),
                      ("10", "11", "8")]
    assert net.total_params == 3 * 3 * 3 * 8 + 8 + 8
