"""Graph networks: the Keras functional style, the Graph builder, spec graphs and merges."""

from __future__ import annotations

from typing import Any

import pytest
import sympy

from convsym.errors import ConvsymError, ShapeError, SpecError, UsageError
from convsym.expr import symbol
from convsym.graph import Graph, Model
from convsym.layers import keras as K
from convsym.layers import torch as T
from convsym.printing.text import sstr
from convsym.spec import load

n = symbol("n")


def residual(x: Any) -> Any:
    y = K.Conv2D(16, 3, padding="same")(x)
    return K.Add()([x, y])


def test_keras_functional_rows_names_and_input_layer() -> None:
    x = K.Input(("n", "n", 16))
    model = Model(inputs=x, outputs=K.ReLU()(residual(x)))
    assert [(r.name, r.type) for r in model.rows] == [
        ("input_layer", "InputLayer"), ("conv2d", "Conv2D"), ("add", "Add"), ("re_lu", "ReLU")]
    assert model.output_shape == (n, n, 16)
    assert model.total_params == 9 * 16 * 16 + 16
    assert model.rows[2].parents == ("input_layer", "conv2d")
    assert model.conditions == []  # the shapes agree for every n: proved, nothing kept


def test_tensor_shape_is_available_before_the_model() -> None:
    x = K.Input((32, 32, 3))
    y = K.Conv2D(8, 3, strides=2, padding="same")(x)
    assert y.shape == (16, 16, 8)
    assert K.Concatenate()([y, y]).shape == (16, 16, 16)


def test_subs_on_a_functional_model() -> None:
    x = K.Input(("n", "n", 16))
    model = Model(inputs=x, outputs=residual(x), name="res")
    small = model.subs(n=7)
    assert isinstance(small, Model) and small.name == "res"
    assert small.output_shape == (7, 7, 16)
    assert [r.name for r in small.rows] == [r.name for r in model.rows]


def test_multiple_inputs_and_outputs() -> None:
    a, b = K.Input(("n", 8), name="a"), K.Input(("n", 4), name="b")
    joined = K.Concatenate()([a, b])
    model = Model(inputs=[a, b], outputs=[joined, K.Dense(3)(joined)])
    assert [r.name for r in model.rows][:2] == ["a", "b"]
    assert model.output_shapes == [(n, 12), (n, 3)]


def test_shared_layer_counts_its_weights_once() -> None:
    x = K.Input((10, 4))
    shared = K.Dense(5)
    model = Model(inputs=x, outputs=K.Add()([shared(x), shared(x)]))
    assert model.total_params == 4 * 5 + 5
    assert [r.name for r in model.rows] == ["input_layer", "dense", "dense_1", "add"]


def test_graph_builder_torch_names_and_default_input() -> None:
    g = Graph(input_shape=(3, "H", "W"))
    y = g.add(T.Conv2d(3, 8, 3, padding=1))           # default: the input
    z = g.add(T.BatchNorm2d(8))                         # default: the last tensor
    w = g.add(T.Concat(), y, z, name="cat")
    net = g.build(w)
    assert [r.name for r in net.rows] == ["conv2d", "batch_norm2d", "cat"]
    H, W = symbol("H"), symbol("W")
    assert net.output_shape == (16, H, W)


def test_merge_agreeing_only_for_some_sizes_keeps_a_broadcast_condition() -> None:
    x = K.Input(("n", "n", 8))
    down = K.Conv2D(8, 3, strides=2, padding="same")(x)
    up = K.UpSampling2D(2, name="up")(down)
    model = Model(inputs=x, outputs=K.Add()([x, up]))
    records = model.condition_records
    assert len(records) == 1 and records[0].kind == "ge"  # H and W: one condition
    # equal sizes, or the input's size is 1 and broadcasts (the upsampled one is never 1)
    assert sstr(model.conditions[0]) in ("n == 2*ceiling(n/2) | n == 1",
                                         "n == 1 | n == 2*ceiling(n/2)")
    assert model.subs(n=8).output_shape == (8, 8, 8)
    assert model.subs(n=1).output_shape == (2, 2, 8)  # as Keras: (1, 1, 8) + (2, 2, 8)
    with pytest.raises(ShapeError) as err:
        model.subs(n=7)
    assert "'input_layer' gives (7, 7, 8) and 'up' gives (8, 8, 8)" in str(err.value)
    assert err.value.code == "never_equal"


def test_merge_that_never_agrees_names_both_branches_and_a_size() -> None:
    x = K.Input(("n", "n", 4))
    a = K.ZeroPadding2D(1, name="a")(x)
    b = K.ZeroPadding2D(2, name="b")(x)
    with pytest.raises(ShapeError) as err:
        Model(inputs=x, outputs=K.Add()([a, b]))
    message = str(err.value)
    assert "'a' gives (n + 2, n + 2, 4) and 'b' gives (n + 4, n + 4, 4)" in message
    assert "never agree, and neither is ever 1 to broadcast (for n = 1: 3 vs 5)" in message
    assert "Add 'add'" in message and err.value.code == "never_equal"


def test_merge_broadcasts_a_branch_whose_size_is_one() -> None:
    x = K.Input(("n", "n", 4))
    a = K.Conv2D(4, 3, name="a")(x)
    b = K.Conv2D(4, 5, name="b")(x)
    model = Model(inputs=x, outputs=K.Add()([a, b]))  # n - 4 == 1 at n = 5: (3, 3) + (1, 1)
    assert model.accepts(n=5) and not model.accepts(n=6)
    assert model.subs(n=5).output_shape == (3, 3, 4)
    assert 5 in model.admissible_inputs().values("n")


def test_merge_with_symbolic_divisors_is_a_condition() -> None:
    x = K.Input(("n", 4))
    y = K.UpSampling1D("s")(K.MaxPooling1D("s")(x))
    model = Model(inputs=x, outputs=K.Add()([x, y]))
    # equal, or one of them is 1: one disjunctive condition beside n >= s
    assert sum(c.shown is not None for c in model.condition_records) == 1
    assert model.subs(n=12, s=4).output_shape == (12, 4)
    assert model.accepts(n=12, s=4) and not model.accepts(n=13, s=4)


def test_merge_broadcasts_a_constant_one() -> None:
    x, g = K.Input(("n", "n", 8)), K.Input((1, 1, 8))
    assert K.Multiply()([x, g]).shape == (n, n, 8)
    assert K.Add()([x, K.Input((8,))]).shape == (n, n, 8)


@pytest.mark.parametrize(("build", "code"), [
    (lambda: K.Subtract()([K.Input((3,)), K.Input((3,)), K.Input((3,))]), "wrong_input_count"),
    (lambda: K.Concatenate(axis=3)([K.Input((3, 2)), K.Input((3, 2))]), "bad_axis"),
    (lambda: K.Concatenate()([K.Input((3, 2)), K.Input((3,))]), "rank_mismatch"),
    (lambda: K.Concatenate(axis=0), "bad_axis"),
    (lambda: T.Concat(dim=0), "bad_axis"),
])
def test_merge_errors(build: Any, code: str) -> None:
    with pytest.raises(ConvsymError) as err:
        build().shape  # noqa: B018 - the shape is computed on access
    assert err.value.code == code


@pytest.mark.parametrize(("build", "code", "words"), [
    (lambda: Model(inputs=K.Input((3,)), outputs=K.Dense(2)(K.Input((3,)))),
     "disconnected_graph", "not among the model's inputs"),
    (lambda: Model(inputs=K.Input((3,)), outputs=3), "not_a_tensor", "got int"),
    (lambda: K.Dense(2)(5), "not_a_tensor", "expected a tensor"),
    (lambda: K.Dense(2)(), "bad_call", "without an input"),
    (lambda: K.Input((3,))(K.Input((3,))), "bad_call", "already"),
    (lambda: Graph().input, "missing_input", "no input yet"),
    (lambda: Graph((3, 4)).add("conv"), "not_a_layer", "not a convsym layer"),
    (lambda: Graph((3, 4)).build(), "empty_network", "no layers"),
])
def test_graph_usage_errors(build: Any, code: str, words: str) -> None:
    with pytest.raises(UsageError) as err:
        build()
    assert err.value.code == code and words in str(err.value)


def test_mixed_dialects_and_duplicate_names_are_rejected() -> None:
    g = Graph((3, 8))
    a = g.add(T.Conv1d(3, 3, 1))
    g.add(K.Dense(2), a)
    with pytest.raises(UsageError, match="mixes Keras and PyTorch"):
        g.build()
    g = Graph((3, 8))
    g.add(T.ReLU(), name="r")
    g.add(T.Tanh(), name="r")
    with pytest.raises(UsageError, match="two layers are named 'r'"):
        g.build()


SPEC = {
    "dialect": "keras",
    "name": "skip",
    "inputs": {"image": ["n", "n", 16]},
    "layers": [
        {"Conv2D": {"filters": 16, "kernel_size": 3, "padding": "same"}, "name": "conv"},
        {"BatchNormalization": {}},
        {"Add": {}, "inputs": ["image", "batch_normalization"]},
        {"ReLU": {}},
    ],
    "outputs": "re_lu",
}


def test_spec_graph_with_named_and_automatic_references() -> None:
    net = load(SPEC)
    assert net.name == "skip"
    assert [r.name for r in net.rows] == ["image", "conv", "batch_normalization", "add",
                                          "re_lu"]
    assert net.output_shape == (n, n, 16)
    assert net.total_params == 2320 + 64


def test_spec_graph_single_input_and_cli(tmp_path: Any, capsys: Any) -> None:
    from convsym.cli import main

    path = tmp_path / "g.yaml"
    path.write_text("dialect: torch\ninput: [16, H, W]\nlayers:\n"
                    "  - Conv2d: [16, 16, 3]\n  - ZeroPad2d: {padding: 1}\n"
                    "  - Add: {}\n    inputs: [input, zero_pad2d]\n")
    assert main(["summary", str(path), "--set", "H=9", "--set", "W=9"]) == 0
    assert "add (Add)" in capsys.readouterr().out


@pytest.mark.parametrize(("change", "path", "words"), [
    ({"outputs": "relu"}, "outputs[0]", "unknown output 'relu' (did you mean 're_lu'?)"),
    ({"layers": [{"Add": {}, "inputs": ["image", "nope"]}]}, "layers[0].inputs[1]",
     "unknown input 'nope'"),
    ({"layers": [{"ReLU": {}, "name": "x"}, {"ReLU": {}, "name": "x"}]}, "layers[1].name",
     "used twice"),
    ({"layers": [{"ReLU": {}, "name": "image"}]}, "layers[0].name", "used twice"),
    ({"layers": [{"ReLU": {}, "Tanh": {}}]}, "layers[0]", "exactly one layer key"),
    ({"layers": [{"ReLU": {}, "inputs": 3}]}, "layers[0].inputs", "a name or a non-empty"),
    ({"inputs": [1, 2]}, "inputs", "map each input's name"),
    ({"inputs": {"image": "n"}}, "inputs.image", "non-empty list of sizes"),
    ({"layers": [{"Conv2D": {"filters": 4, "kernel_size": 3}, "inputs": "image"},
                 {"Add": {}, "inputs": ["image", "conv2d"]}]}, "layers[1]", "never agree"),
])
def test_spec_graph_errors(change: dict[str, Any], path: str, words: str) -> None:
    doc = {**SPEC, **change}
    if "layers" in change and "outputs" not in change:
        doc.pop("outputs")
    with pytest.raises(SpecError) as err:
        load(doc)
    assert err.value.path == path and words in str(err.value), str(err.value)


def test_graph_row_conditions_are_sympy_relations() -> None:
    x = K.Input(("n",))
    model = Model(inputs=x, outputs=K.Reshape((-1, 4))(x))
    assert model.output_shape == (sympy.floor(n / 4), 4)
    assert sstr(model.conditions[-1]) == "n == 4*floor(n/4)"
