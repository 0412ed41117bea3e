"""Layers of one configuration share their checks and inferences: the shared results are
exactly what each layer works out on its own, and a refusal is never shared."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym import Sequential, example
from convsym.errors import ConvsymError
from convsym.examples import names
from convsym.graph import Graph, Model
from convsym.layers import keras as K
from convsym.layers import sharing
from convsym.layers import torch as T
from convsym.layers.base import Inference, Layer
from convsym.layers.sharing import SharedInferences, layer_key
from convsym.network import Network


def unet(depth: int, channels: int = 4) -> Network:
    """A PyTorch U-Net: every level repeats its convolutions and ReLUs on equal shapes."""
    g = Graph(input_shape=(channels, "H", "W"))

    def double(x: Any, c_in: int) -> Any:
        x = g.add(T.ReLU(), g.add(T.Conv2d(c_in, channels, 3, padding=1), x))
        return g.add(T.ReLU(), g.add(T.Conv2d(channels, channels, 3, padding=1), x))

    x = double(g.input, channels)
    skips = []
    for _ in range(depth):
        skips.append(x)
        x = double(g.add(T.MaxPool2d(2), x), channels)
    for level in reversed(range(depth)):
        up = g.add(T.ConvTranspose2d(channels, channels, 2, stride=2), x)
        x = double(g.add(T.Concat(), skips[level], up), 2 * channels)
    return g.build()


def residual(blocks: int) -> Network:
    """Residual blocks of one configuration (every other one downsamples)."""
    g = Graph(input_shape=(4, "H", "W"))
    x = g.input
    for b in range(blocks):
        stride = 2 if b % 2 else 1
        y = g.add(T.Conv2d(4, 4, 3, stride=stride, padding=1), x)
        y = g.add(T.BatchNorm2d(4), y)
        y = g.add(T.Conv2d(4, 4, 3, padding=1), g.add(T.ReLU(), y))
        if stride != 1:
            x = g.add(T.Conv2d(4, 4, 1, stride=stride), x)
        x = g.add(T.Add(), y, x)
    return g.build()


def same(a: Inference, b: Inference) -> None:
    """Two inferences say the same, field by field."""
    assert a.shape == b.shape
    assert [(w.name, w.shape, w.trainable) for w in a.weights] == \
        [(w.name, w.shape, w.trainable) for w in b.weights]
    assert [(c.expr, c.kind, c.layer, c.axis, c.rule, c.sides, c.shown) for c in a.conditions] \
        == [(c.expr, c.kind, c.layer, c.axis, c.rule, c.sides, c.shown) for c in b.conditions]
    assert [(s.axis, s.rule, s.values, s.result) for s in a.steps] == \
        [(s.axis, s.rule, s.values, s.result) for s in b.steps]
    assert (a.macs, a.bias_macs, a.ops, a.notes, a.warnings) == \
        (b.macs, b.bias_macs, b.ops, b.notes, b.warnings)


def each_row_as_alone(net: Network) -> int:
    """Every row's inference against its layer's own on the row's inputs (the path without
    sharing); returns how many rows were shared with an earlier equal layer."""
    shared = 0
    seen: dict[Any, Layer] = {}
    for index, node in enumerate(net.nodes):
        if index in net.input_shapes:
            continue
        inputs = [net.shapes[p] for p in node.parents]
        alone = node.layer.infer_checked(inputs, [net.nodes[p].name for p in node.parents])
        if node.shares is not None:
            alone.weights = []
        row = next(r for r in net.rows if r.name == node.name)
        same(row.inference, alone)
        key = (layer_key(node.layer), tuple(map(tuple, inputs)))
        shared += key in seen and seen[key] is not node.layer
        seen.setdefault(key, node.layer)
    return shared


@pytest.mark.parametrize("build", [lambda: unet(3), lambda: residual(6)], ids=["unet", "res"])
def test_shared_rows_are_what_each_layer_infers_alone(build: Any) -> None:
    assert each_row_as_alone(build()) > 5  # (and the check above did meet shared rows)


@pytest.mark.parametrize("name", names())
def test_every_example_row_is_what_its_layer_infers_alone(name: str) -> None:
    each_row_as_alone(example(name))


def test_a_layer_applied_twice_counts_its_weights_once() -> None:
    x = K.Input(("n", "n", 8))
    conv = K.Conv2D(8, 3, padding="same")
    model = Model(inputs=x, outputs=conv(conv(x)))
    assert [r.params for r in model.rows] == [0, 584, 0]
    again = K.Conv2D(8, 3, padding="same")  # an equal layer of its own: its own weights
    model = Model(inputs=x, outputs=again(conv(conv(x))))
    assert [r.params for r in model.rows] == [0, 584, 0, 584]


def test_merges_name_their_own_branches() -> None:
    net = unet(2)
    cats = [r for r in net.rows if r.type == "Concat"]
    assert len(cats) == 2 and all(r.parents[0] in c.rule and r.parents[1] in c.rule
                                  for r in cats for c in r.conditions)


def test_layers_with_symbolic_arguments_are_not_keyed_but_still_right() -> None:
    import sympy

    k = sympy.Symbol("k", integer=True, positive=True)
    assert layer_key(T.Conv2d(4, 4, k)) is None
    net = Sequential([T.Conv2d(4, 4, k, padding=1), T.Conv2d(4, 4, k, padding=1)],
                     input_shape=(4, "H", "W"))
    assert each_row_as_alone(net) == 0
    assert str(net.output_shape) == "(4, H - 2*k + 6, W - 2*k + 6)"


def test_keys_tell_types_apart() -> None:
    assert layer_key(T.Dropout(1)) != layer_key(T.Dropout(1.0))
    assert layer_key(T.Dropout(0.0)) != layer_key(T.Dropout(-0.0))
    assert layer_key(T.Conv2d(4, 4, (3, 3))) != layer_key(T.Conv2d(4, 4, [3, 3]))
    assert layer_key(T.Conv2d(4, 4, 3)) == layer_key(T.Conv2d(4, 4, 3, stride=1))
    assert layer_key(T.Conv2d(4, 4, 3)) != layer_key(T.Conv3d(4, 4, 3))


@pytest.mark.parametrize("good, bad", [
    (lambda: T.Conv2d(3, 8, 1), lambda: T.Conv2d(3, 8, True)),
    (lambda: T.Conv2d(3, 8, 3), lambda: T.Conv2d(3, 8, 3.0)),
    (lambda: T.MaxPool2d(2, padding=1), lambda: T.MaxPool2d(2, padding=True)),
    (lambda: T.Conv2d(3, 8, 3, bias=True), lambda: T.Conv2d(3, 8, 3, bias=1)),
    (lambda: K.Conv2D(8, (3, 3)), lambda: K.Conv2D(8, (3, 3.0))),
])
def test_a_refusal_is_never_shared(good: Any, bad: Any) -> None:
    good()
    with pytest.raises(ConvsymError):
        bad()
    with pytest.raises(ConvsymError):
        bad()  # (a refusal is not remembered either)
    good()


CONV_ARGS = st.fixed_dictionaries({
    "in_channels": st.sampled_from([2, 4, "c"]), "out_channels": st.sampled_from([2, 4]),
    "kernel_size": st.sampled_from([1, 2, 3, (1, 3), "k"]),
    "stride": st.sampled_from([1, 2, (2, 1), "s"]),
    "padding": st.sampled_from([0, 1, "same", "valid", (1, 0)]),
    "dilation": st.sampled_from([1, 2]), "groups": st.sampled_from([1, 2]),
    "bias": st.booleans()})


@settings(max_examples=60, deadline=None)
@given(args=CONV_ARGS)
def test_a_remembered_check_is_the_check_itself(args: dict[str, Any]) -> None:
    def build() -> tuple[str, Any]:
        try:
            layer = T.Conv2d(**args)
        except ConvsymError as err:
            return "refused", str(err)
        return "built", layer.config

    sharing._CHECKED.clear()
    first = build()
    again = build()  # (from what the first stored, when it was built)
    assert again == first


def test_shapes_kept_as_products_or_min_max_are_inferred_every_time() -> None:
    from convsym.expr import symbol
    from convsym.intdiv import QPoly, ext

    n = QPoly.sym(symbol("n"))
    shared = SharedInferences()
    shape = (QPoly.const(4), ext("min", [n, QPoly.const(9)]), n)
    a = shared.infer(T.ReLU(), [shape], ["x"])
    b = shared.infer(T.ReLU(), [shape], ["x"])
    assert a is not b and a.ops is not b.ops and a.ops == b.ops


def test_checks_remembered_under_one_budget_are_not_taken_under_another() -> None:
    from convsym.budget import raised
    from convsym.errors import BudgetExceeded

    T.Conv2d(4, 4, "(k + 1)**12")  # checked (and remembered) under the defaults
    with raised(max_terms=5), pytest.raises(BudgetExceeded):
        T.Conv2d(4, 4, "(k + 1)**12")  # 13 terms: over this budget, checked again


def test_a_layer_binds_its_arguments_as_the_generated_init_stores_them() -> None:
    # frontend._binder stores a plain argument list at once: the same fields, in the same
    # order, as the dataclass's own __init__; any other list is left to that __init__ (and
    # its explanation of what is wrong)
    import dataclasses

    cases: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = [
        (T.Conv2d, (3, 8, 3), {"stride": 2, "padding": 1}),
        (T.Conv2d, (3, 8), {"kernel_size": (3, 1), "bias": False}),
        (T.MaxPool2d, (2,), {}), (T.Linear, (4, 5), {}),
        (K.Conv2D, (8, 3), {"strides": 2, "padding": "same"}), (K.Dense, (), {"units": 3})]
    for cls, args, kwargs in cases:
        layer = cls(*args, **kwargs)
        reference = object.__new__(cls)
        cls.__init__.__wrapped__(reference, *args, **kwargs)  # the generated __init__
        fields = [f.name for f in dataclasses.fields(cls)]
        assert [(k, layer.__dict__[k]) for k in fields] == list(reference.__dict__.items())
        assert list(layer.__dict__)[:len(fields)] == fields
    with pytest.raises(ConvsymError, match="strides"):
        T.Conv2d(3, 8, 3, stride=2, strides=2)  # not an argument (did you mean stride?)
    with pytest.raises(ConvsymError):
        T.Conv2d(3, 8, 3, in_channels=3)  # given twice
    with pytest.raises(ConvsymError):
        T.Conv2d(3)  # arguments missing
