"""from_keras on plain documents: tf.keras 2 and Keras 3 formats, inputs, and refusals.

These documents are written by hand in the formats Keras writes (tf.keras 2.x:
``batch_input_shape`` and list-style ``inbound_nodes``; Keras 3: ``batch_shape`` and
``{"args": ..., "kwargs": ...}`` nodes), so the reader is tested without Keras installed.
tests/frameworks/test_keras_models.py checks documents written by real Keras 3.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from convsym.cli import main
from convsym.errors import SpecError, SpecTypeError, UsageError
from convsym.importers.keras_json import from_keras


def conv(name: str, filters: int, kernel: int, **extra: Any) -> dict[str, Any]:
    """A tf.keras 2 Conv2D entry, with the bookkeeping keys Keras writes."""
    config = {"name": name, "trainable": True, "dtype": "float32", "filters": filters,
              "kernel_size": [kernel, kernel], "strides": [1, 1], "padding": "valid",
              "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
              "activation": "relu", "use_bias": True,
              "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
              "bias_initializer": {"class_name": "Zeros", "config": {}},
              "kernel_regularizer": None, "bias_regularizer": None,
              "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    config.update(extra)
    return {"class_name": "Conv2D", "config": config}


TF2_SEQUENTIAL = {
    "class_name": "Sequential",
    "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {
            "batch_input_shape": [None, 28, 28, 1], "dtype": "float32", "sparse": False,
            "ragged": False, "name": "conv2d_input"}},
        conv("conv2d", 32, 3, batch_input_shape=[None, 28, 28, 1]),
        {"class_name": "BatchNormalization", "config": {
            "name": "batch_normalization", "trainable": True, "dtype": "float32", "axis": [3],
            "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
            "beta_initializer": {"class_name": "Zeros", "config": {}},
            "gamma_initializer": {"class_name": "Ones", "config": {}},
            "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
            "moving_variance_initializer": {"class_name": "Ones", "config": {}},
            "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
            "gamma_constraint": None}},
        {"class_name": "MaxPooling2D", "config": {
            "name": "max_pooling2d", "trainable": True, "dtype": "float32",
            "pool_size": [2, 2], "padding": "valid", "strides": [2, 2],
            "data_format": "channels_last"}},
        {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True,
                                             "dtype": "float32",
                                             "data_format": "channels_last"}},
        {"class_name": "Dense", "config": {
            "name": "dense", "trainable": True, "dtype": "float32", "units": 10,
            "activation": "softmax", "use_bias": True}}]},
    "keras_version": "2.4.0", "backend": "tensorflow"}

TF2_FUNCTIONAL = {
    "class_name": "Functional",
    "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 32, 32, 3], "dtype": "float32",
                    "sparse": False, "ragged": False, "name": "input_1"}},
        {**conv("conv2d", 8, 3, padding="same"), "name": "conv2d",
         "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {**conv("conv2d_1", 8, 1), "name": "conv2d_1",
         "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {"class_name": "Add", "name": "add", "config": {"name": "add", "trainable": True,
                                                       "dtype": "float32"},
         "inbound_nodes": [[["conv2d", 0, 0, {}], ["conv2d_1", 0, 0, {}]]]},
        {"class_name": "Concatenate", "name": "concatenate",
         "config": {"name": "concatenate", "trainable": True, "dtype": "float32", "axis": -1},
         "inbound_nodes": [[["add", 0, 0, {}], ["conv2d", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["concatenate", 0, 0]]},
    "keras_version": "2.6.0", "backend": "tensorflow"}


def test_tf_keras_2_sequential() -> None:
    net = from_keras(TF2_SEQUENTIAL)
    assert [(r.name, r.output_shape, r.params) for r in net.rows] == [
        ("conv2d", (26, 26, 32), 320), ("batch_normalization", (26, 26, 32), 128),
        ("max_pooling2d", (13, 13, 32), 0), ("flatten", (5408,), 0),
        ("dense", (10,), 54090)]
    assert net.non_trainable_params == 64


def test_tf_keras_2_functional_with_merges() -> None:
    net = from_keras(TF2_FUNCTIONAL)
    assert [(r.name, r.type, r.output_shape) for r in net.rows] == [
        ("input_1", "InputLayer", (32, 32, 3)), ("conv2d", "Conv2D", (32, 32, 8)),
        ("conv2d_1", "Conv2D", (32, 32, 8)), ("add", "Add", (32, 32, 8)),
        ("concatenate", "Concatenate", (32, 32, 16))]
    assert net.rows[3].parents == ("conv2d", "conv2d_1")
    symbolic = from_keras(TF2_FUNCTIONAL, input_shape=("n", "n", 3))
    assert str(symbolic.output_shape) == "(n, n, 16)"


def test_tf_keras_2_depthwise_and_transposed_configs_carry_groups_1() -> None:
    dw = conv("dw", 0, 3, padding="same", depth_multiplier=2,
              depthwise_initializer={"class_name": "GlorotUniform", "config": {}})
    del dw["config"]["filters"], dw["config"]["kernel_initializer"]
    dw["class_name"] = "DepthwiseConv2D"
    up = conv("up", 4, 3, strides=[2, 2], padding="same", output_padding=None)
    up["class_name"] = "Conv2DTranspose"
    norm = {"class_name": "LayerNormalization", "config": {
        "name": "ln", "axis": [3], "epsilon": 0.001, "center": True, "scale": True}}
    doc = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 9, 9, 3]}},
        dw, norm, up]}}
    assert [(r.output_shape, r.params) for r in from_keras(doc).rows] == [
        ((9, 9, 6), 60), ((9, 9, 6), 12), ((18, 18, 4), 220)]
    bad = copy.deepcopy(doc)
    bad["config"]["layers"][1]["config"]["groups"] = 2
    with pytest.raises(SpecError, match="groups = 2 is not supported"):
        from_keras(bad)


def test_keras_2_2_sequential_config_is_a_list() -> None:
    old = {"class_name": "Sequential", "config": [
        conv("conv2d_1", 4, 3, batch_input_shape=[None, 10, 10, 1])]}
    assert from_keras(old).output_shape == (8, 8, 4)


def keras3_functional() -> dict[str, Any]:
    def tensor(name: str) -> dict[str, Any]:
        return {"class_name": "__keras_tensor__",
                "config": {"shape": [None, 8, 3], "keras_history": [name, 0, 0]}}

    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "registered_name": "Functional",
            "config": {"name": "two_inputs", "trainable": True, "layers": [
                {"module": "keras.layers", "class_name": "InputLayer", "name": "a",
                 "registered_name": None, "inbound_nodes": [],
                 "config": {"batch_shape": [None, 8, 3], "name": "a"}},
                {"module": "keras.layers", "class_name": "InputLayer", "name": "b",
                 "registered_name": None, "inbound_nodes": [],
                 "config": {"batch_shape": [None, 8, 3], "name": "b"}},
                {"module": "keras.layers", "class_name": "Conv1D", "name": "c",
                 "registered_name": None,
                 "config": {"name": "c", "filters": 3, "kernel_size": [3],
                            "padding": "causal"},
                 "inbound_nodes": [{"args": [tensor("a")], "kwargs": {}},
                                   {"args": [tensor("b")], "kwargs": {}}]},
                {"module": "keras.layers", "class_name": "Subtract", "name": "sub",
                 "registered_name": None, "config": {"name": "sub"},
                 "inbound_nodes": [{"args": [[{"class_name": "__keras_tensor__", "config": {
                     "keras_history": ["c", 0, 0]}}, {"class_name": "__keras_tensor__",
                                                       "config": {"keras_history": ["c", 1, 0]}}]],
                                    "kwargs": {}}]}],
                "input_layers": [["a", 0, 0], ["b", 0, 0]],
                "output_layers": [["sub", 0, 0]]}}


def test_keras_3_two_inputs_and_a_shared_layer() -> None:
    net = from_keras(keras3_functional())
    assert [(r.name, r.output_shape, r.params) for r in net.rows] == [
        ("a", (8, 3), 0), ("b", (8, 3), 0), ("c", (8, 3), 30), ("c[1]", (8, 3), 0),
        ("sub", (8, 3), 0)]
    by_list = from_keras(keras3_functional(), input_shape=[("T", 3), ("T", 3)])
    assert str(by_list.output_shape) == "(T, 3)"
    by_name = from_keras(keras3_functional(), input_shape={"b": ("U", 3)})
    assert [str(r.output_shape) for r in by_name.rows][:2] == ["(8, 3)", "(U, 3)"]
    assert by_name.conditions  # the two branches must agree: U == 8


def test_tf_keras_2_nested_functional_counts_its_own_first_node() -> None:
    """tf.keras 2 numbers a nested functional model's calls from 1 (node 0 is its own
    Input-to-output node, left out of the config), in calls and in output_layers alike."""
    inner = {"class_name": "Functional", "name": "inner", "config": {
        "name": "inner", "layers": [
            {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 16, 16, 3], "name": "input_1"}},
            {**conv("ic", 3, 3), "name": "ic", "inbound_nodes": [[["input_1", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["ic", 0, 0]]},
        "inbound_nodes": [[["input_2", 0, 0, {}]], [["ic_out", 0, 0, {}]]]}
    doc = {"class_name": "Functional", "config": {"name": "outer", "layers": [
        {"class_name": "InputLayer", "name": "input_2", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 16, 16, 3], "name": "input_2"}},
        inner,
        {**conv("ic_out", 3, 1), "name": "ic_out", "inbound_nodes": [[["inner", 1, 0, {}]]]}],
        "input_layers": [["input_2", 0, 0]], "output_layers": [["inner", 2, 0]]}}
    net = from_keras(doc)
    assert [(r.name, r.output_shape, r.params, r.parents) for r in net.rows] == [
        ("input_2", (16, 16, 3), 0, ()), ("ic", (14, 14, 3), 84, ("input_2",)),
        ("ic_out", (14, 14, 3), 12, ("ic",)), ("ic[1]", (12, 12, 3), 0, ("ic_out",))]


def test_strings_bytes_and_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(TF2_SEQUENTIAL)
    assert from_keras(text).output_shape == (10,)
    assert from_keras(text.encode()).output_shape == (10,)
    path = tmp_path / "model.json"
    path.write_text(text)
    assert from_keras(path).output_shape == from_keras(str(path)).output_shape == (10,)
    assert main(["summary", "--from", "keras", str(path)]) == 0
    out = capsys.readouterr().out
    assert "dense (Dense)" in out and "54,090" in out
    assert main(["summary", str(path), "--set", "n=3"]) == 2  # no symbol n: a clear error


def _broken(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(TF2_FUNCTIONAL)
    target: Any = doc
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    target[int(last) if last.isdigit() else last] = value
    return doc


LAMBDA = {"class_name": "Lambda", "name": "scale", "config": {
    "name": "scale", "function": ["4wEAAAA...", None, None], "function_type": "lambda"},
    "inbound_nodes": [[["conv2d", 0, 0, {}]]]}
TFOP = {"class_name": "TFOpLambda", "name": "tf.__operators__.add", "config": {
    "name": "tf.__operators__.add", "function": "__operators__.add"},
    "inbound_nodes": [["conv2d", 0, 0, {"y": ["conv2d_1", 0, 0], "name": None}]]}
CUSTOM = {"module": "my_project.layers", "class_name": "Conv2D", "registered_name":
          "my_project>Conv2D", "name": "fake", "config": {"name": "fake", "filters": 2},
          "inbound_nodes": []}


@pytest.mark.parametrize(("doc", "code", "words"), [
    (_broken("config.layers.4", LAMBDA), "lambda_layer",
     "layer 'scale' (class Lambda) is refused: a Lambda layer runs arbitrary Python code"),
    (_broken("config.layers.4", TFOP), "unknown_layer",
     "(class TFOpLambda) is refused: it records a TensorFlow operation"),
    (_broken("config.layers.4", CUSTOM), "custom_layer",
     "layer 'fake' (class Conv2D, registered as 'my_project>Conv2D') is refused"),
    (_broken("config.layers.4.class_name", "Conv2d"), "unknown_layer",
     "not a Keras layer convsym knows (a custom or unsupported layer can compute any "
     "shape) (did you mean 'Conv2D'?)"),
    (_broken("config.layers.1.config.lora_rank", 4), "unsupported_argument",
     "lora_rank = 4 is not supported"),
    (_broken("config.layers.1.config.strides_x", 4), "unknown_argument",
     "argument 'strides_x' is not one convsym knows for Conv2D, and it may change the "
     "shape (did you mean 'strides'?)"),
    (_broken("config.layers.1.config.activation", "glu"), "unsupported_activation",
     "activation 'glu' halves the last axis"),
    (_broken("config.layers.1.config.activation", "reluu"), "unsupported_activation",
     "activation 'reluu' is not a built-in Keras activation (did you mean 'relu'?)"),
    (_broken("config.layers.1.config.activation", {"class_name": "function",
                                                   "config": "mine"}),
     "unsupported_activation", "a serialised (custom) activation is arbitrary code"),
    (_broken("config.layers.1.config.kernel_size", [3.0, 3.0]), "not_an_integer",
     "a float is not an integer"),
    (_broken("config.layers.1.config.strides", [0, 1]), "below_minimum",
     "must be an integer >= 1"),
    (_broken("config.layers.3.inbound_nodes", [[["nowhere", 0, 0, {}]]]),
     "unknown_layer_reference", "no layer is named 'nowhere'"),
    (_broken("config.layers.1.inbound_nodes", [[["add", 0, 0, {}]]]), "cyclic_graph",
     "depends on itself"),
    (_broken("config.layers.0.config.batch_input_shape", None), "missing_input",
     "pass input_shape"),
    (_broken("class_name", "Conv2D"), "not_a_model", "is not a Keras model"),
    (_broken("config.layers", []), "empty_network", "no layers"),
])
def test_refusals_name_the_layer_and_why(doc: dict[str, Any], code: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        from_keras(doc)
    assert info.value.code == code
    assert words in str(info.value)


@pytest.mark.parametrize(("text", "code"), [
    ('{"class_name": "Sequential", "class_name": "Functional", "config": {}}',
     "duplicate_key"),
    ('{"class_name": "Sequential", "config": {"layers": [], "x": NaN}}', "not_finite"),
    ('{"class_name": "Sequential", ', "bad_json"),
])
def test_strict_json(text: str, code: str) -> None:
    with pytest.raises(SpecError) as info:
        from_keras(text)
    assert info.value.code == code


@pytest.mark.parametrize(("given", "code"), [
    ((28, 28), "bad_input_shape"),          # wrong rank
    ("28,28,1", "bad_input_shape"),
    ((28, 0, 1), "below_minimum"),
])
def test_bad_input_shapes(given: Any, code: str) -> None:
    with pytest.raises(SpecError) as info:
        from_keras(TF2_SEQUENTIAL, input_shape=given)
    assert info.value.code == code


def test_wrong_types() -> None:
    with pytest.raises(SpecTypeError):
        from_keras(3.5)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="no such file|cannot read"):
        from_keras("/nonexistent/model.json")
    assert not isinstance(SpecError("x"), UsageError)
