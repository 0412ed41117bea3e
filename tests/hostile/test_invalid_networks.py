"""A table of invalid network configurations: each a convsym error with a stable code.

The bad inputs of the core-engine issue (kernel larger than the padded input, stride,
dilation or kernel 0, negative padding, groups not dividing the channels, PyTorch
``padding='same'`` with stride > 1, Keras strides > 1 with dilation > 1, an unknown layer or
argument with a did-you-mean, a float or a bool where an integer belongs), the transposed
convolution ``output_padding`` rules, merge shape mismatches and a Flatten -> Linear size
mismatch.  Each case checks the error's ``code`` and fragments of its message (the layer,
the field, the value, the rule); spec cases check the path inside the document too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from convsym.errors import ConvsymError
from convsym.graph import Model
from convsym.layers import keras as K
from convsym.layers import torch as T
from convsym.network import Sequential
from convsym.spec import load


def _keras(*layers: Any, shape: tuple[Any, ...] = (8, 8, 3)) -> Sequential:
    return Sequential([K.Input(shape), *layers])


def _torch(*layers: Any, shape: tuple[Any, ...] = (3, 8, 8)) -> Sequential:
    return Sequential(list(layers), input_shape=shape)


def _merge(merge: Any, branch: Any, shape: tuple[Any, ...] = (8, 8, 4)) -> Model:
    x = K.Input(shape)
    return Model(inputs=x, outputs=merge([x, branch(x)]))


CASES: dict[str, tuple[Callable[[], object], str, list[str]]] = {
    # kernel larger than the (padded) input, concrete and provably for every size
    "keras kernel > input": (lambda: _keras(K.Conv2D(2, 5), shape=(3, 3, 1)),
                             "input_too_small",
                             ["Conv2D", "'conv2d'", "axis H", "3", "effective kernel 5"]),
    "torch kernel > padded input": (lambda: _torch(T.Conv2d(3, 2, 7, padding=1),
                                                   shape=(3, 4, 4)),
                                    "input_too_small",
                                    ["Conv2d", "layers[0]", "4 + 2 = 6", "kernel 7"]),
    "dilated kernel > input": (lambda: _keras(K.Conv1D(2, 3, dilation_rate=4), shape=(8, 1)),
                               "input_too_small", ["Conv1D", "axis L", "effective kernel 9"]),
    "kernel n + 1 on n": (lambda: _keras(K.Conv2D(2, "n + 1"), shape=("n", "n", 1)),
                          "input_too_small", ["Conv2D", "n + 0 = n", "effective kernel n + 1"]),
    "pool > input": (lambda: _keras(K.MaxPooling2D(4), shape=(3, 3, 1)), "input_too_small",
                     ["MaxPooling2D", "pool size 4"]),
    # zero or negative hyperparameters
    "stride 0": (lambda: K.Conv2D(2, 3, strides=0), "below_minimum",
                 ["Conv2D", "strides = 0", ">= 1"]),
    "stride (1, 0)": (lambda: K.Conv2D(2, 3, strides=(1, 0)), "below_minimum",
                      ["strides[1] = 0", ">= 1"]),
    "dilation 0": (lambda: T.Conv2d(3, 2, 3, dilation=0), "below_minimum",
                   ["Conv2d", "dilation = 0", ">= 1"]),
    "kernel 0": (lambda: K.Conv2D(2, 0), "below_minimum", ["kernel_size = 0", ">= 1"]),
    "filters 0": (lambda: K.Conv2D(0, 3), "below_minimum", ["filters = 0", ">= 1"]),
    "units -1": (lambda: K.Dense(-1), "below_minimum", ["Dense", "units = -1"]),
    "symbolic kernel n - 5": (lambda: K.Conv2D(2, "n - 5"), "below_minimum",
                              ["kernel_size", "n - 5", "n = 1"]),
    "negative padding": (lambda: T.Conv2d(3, 2, 3, padding=-1), "below_minimum",
                         ["Conv2d", "padding = -1", ">= 0"]),
    "negative pool padding": (lambda: T.MaxPool2d(2, padding=-1), "below_minimum",
                              ["MaxPool2d", "padding = -1", ">= 0"]),
    "pool padding > half kernel": (lambda: _torch(T.MaxPool2d(2, padding=2)),
                                   "pool_padding_too_large",
                                   ["MaxPool2d", "padding", "2", "half the kernel"]),
    "pool stride 0": (lambda: K.MaxPooling2D(2, strides=0), "below_minimum",
                      ["MaxPooling2D", "strides = 0"]),
    # groups
    "torch groups not dividing in": (lambda: T.Conv2d(3, 4, 3, groups=2),
                                     "groups_not_dividing",
                                     ["Conv2d", "in_channels = 3", "groups (2)"]),
    "torch groups not dividing out": (lambda: T.Conv2d(4, 6, 3, groups=4),
                                      "groups_not_dividing",
                                      ["out_channels = 6", "groups (4)"]),
    "keras groups not dividing input": (lambda: _keras(K.Conv2D(6, 3, groups=2),
                                                       shape=(8, 8, 3)),
                                        "groups_not_dividing",
                                        ["Conv2D", "groups = 2", "input channels (3)"]),
    "keras groups not dividing filters": (lambda: _keras(K.Conv2D(3, 3, groups=2),
                                                         shape=(8, 8, 4)),
                                          "groups_not_dividing", ["groups = 2", "filters"]),
    # dialect rules
    "torch same with stride 2": (lambda: T.Conv2d(3, 2, 3, stride=2, padding="same"),
                                 "same_with_stride",
                                 ["Conv2d", "padding = 'same'", "stride 1", "stride = 2"]),
    "keras strides and dilation": (lambda: K.Conv2D(2, 3, strides=2, dilation_rate=2),
                                   "stride_and_dilation",
                                   ["Conv2D", "strides", "dilation_rate > 1"]),
    "keras causal on Conv2D": (lambda: K.Conv2D(2, 3, padding="causal"), "bad_choice",
                               ["Conv2D", "padding = 'causal'", "'valid', 'same'"]),
    "padding misspelt": (lambda: K.Conv2D(2, 3, padding="smae"), "bad_choice",
                         ["padding = 'smae'", "did you mean 'same'"]),
    "unknown argument": (lambda: K.Conv2D(2, 3, stride=2), "unknown_argument",
                         ["Conv2D", "stride", "did you mean 'strides'"]),
    "torch unknown argument": (lambda: T.Conv2d(3, 2, 3, strides=2), "unknown_argument",
                               ["Conv2d", "strides", "did you mean 'stride'"]),
    "missing argument": (lambda: K.Conv2D(2), "missing_argument", ["kernel_size"]),
    # types
    "float kernel": (lambda: K.Conv2D(2, 3.0), "not_an_integer",
                     ["kernel_size = 3.0", "float", "write 3"]),
    "float stride": (lambda: T.Conv2d(3, 2, 3, stride=1.5), "not_an_integer",
                     ["stride = 1.5", "float"]),
    "bool filters": (lambda: K.Conv2D(True, 3), "not_an_integer", ["filters = True", "bool"]),
    "bool in a tuple": (lambda: K.Conv2D(2, (3, False)), "not_an_integer",
                        ["kernel_size[1] = False", "bool"]),
    "flag not a bool": (lambda: K.Conv2D(2, 3, use_bias=1), "not_a_bool",
                        ["use_bias = 1", "True or False"]),
    "tuple of the wrong length": (lambda: K.Conv2D(2, (3, 3, 3)), "wrong_tuple_length",
                                  ["kernel_size", "needs 2 values"]),
    "wrong input rank": (lambda: _keras(K.Conv2D(2, 3), shape=(8, 3)), "wrong_rank",
                         ["Conv2D", "expects 3 axes"]),
    # channel bookkeeping
    "in_channels mismatch": (lambda: _torch(T.Conv2d(4, 2, 3)), "channel_mismatch",
                             ["Conv2d", "in_channels = 4", "3 channels"]),
    "BatchNorm mismatch": (lambda: _torch(T.BatchNorm2d(5)), "channel_mismatch",
                           ["BatchNorm2d", "num_features = 5", "3 channels"]),
    "Flatten -> Linear mismatch": (lambda: _torch(T.Conv2d(3, 4, 3, stride=2), T.Flatten(),
                                                  T.Linear(3844, 10), shape=(3, 32, 32)),
                                   "feature_mismatch",
                                   ["Linear", "layers[2]", "in_features = 3844",
                                    "900 features"]),
    # transposed convolutions: output_padding
    "keras output_padding = strides": (lambda: K.Conv2DTranspose(2, 3, strides=2,
                                                                 output_padding=2),
                                       "output_padding_too_large",
                                       ["Conv2DTranspose", "output_padding = 2",
                                        "less than strides (2)"]),
    "keras output_padding with stride 1": (lambda: K.Conv2DTranspose(2, 3, output_padding=1),
                                           "output_padding_too_large",
                                           ["output_padding = 1", "strides (1)"]),
    "torch output_padding >= max(s, d)": (lambda: T.ConvTranspose2d(3, 2, 3, stride=2,
                                                                    output_padding=2),
                                          "output_padding_too_large",
                                          ["ConvTranspose2d", "output_padding = 2",
                                           "stride (2) or dilation (1)"]),
    "torch output_padding = dilation": (lambda: T.ConvTranspose1d(3, 2, 3, dilation=2,
                                                                  output_padding=2),
                                        "output_padding_too_large",
                                        ["ConvTranspose1d", "dilation (2)"]),
    "keras transposed groups": (lambda: K.Conv2DTranspose(4, 3, groups=2),
                                "unknown_argument", ["Conv2DTranspose", "groups"]),
    # merges
    "Add channel mismatch": (lambda: _merge(K.Add(), K.Conv2D(5, 1)), "never_equal",
                             ["Add", "(8, 8, 4)", "(8, 8, 5)", "4 vs 5"]),
    "Add symbolic mismatch": (lambda: _merge(K.Add(), K.ZeroPadding2D(1),
                                             shape=("n + 1", "n + 1", 4)),
                              "never_equal", ["Add", "n + 1 vs n + 3", "never agree",
                                              "neither is ever 1"]),
    "Concatenate spatial mismatch": (lambda: _merge(K.Concatenate(), K.Conv2D(4, 3)),
                                     "never_equal", ["Concatenate", "8 vs 6"]),
    "Multiply mismatch": (lambda: _merge(K.Multiply(), K.MaxPooling2D(2)), "never_equal",
                          ["Multiply", "8 vs 4"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_configuration(case: str) -> None:
    build, code, fragments = CASES[case]
    with pytest.raises(ConvsymError) as info:
        build()
    err = info.value
    assert isinstance(err, (ValueError, TypeError))
    assert err.code == code, (err.code, str(err))
    for fragment in fragments:
        assert fragment in str(err), (fragment, str(err))


SPEC_CASES: dict[str, tuple[dict[str, Any], str, str, list[str]]] = {
    "unknown layer": ({"input": [8, 8, 3], "layers": [{"Conv2d": {"filters": 2}}]},
                      "unknown_layer", "layers[0]", ["'Conv2d'", "did you mean 'Conv2D'"]),
    "unknown torch layer": ({"dialect": "torch", "input": [3, 8, 8],
                             "layers": [{"Conv2D": [3, 2, 3]}]}, "unknown_layer", "layers[0]",
                            ["torch layer 'Conv2D'", "did you mean 'Conv2d'"]),
    "unknown argument": ({"input": [8, 8, 3],
                          "layers": [{"Conv2D": {"filters": 2, "kernel_size": 3,
                                                 "stride": 2}}]},
                         "unknown_argument", "layers[0].Conv2D.stride",
                         ["did you mean 'strides'"]),
    "unknown top-level key": ({"input": [8, 8, 3], "layer": ["Flatten"]}, "unknown_key",
                              "layer", ["did you mean 'layers'"]),
    "float kernel": ({"input": [8, 8, 3],
                      "layers": [{"Conv2D": {"filters": 2, "kernel_size": 3.0}}]},
                     "not_an_integer", "layers[0].Conv2D.kernel_size",
                     ["3.0", "float", "write 3"]),
    "bool stride": ({"input": [8, 8, 3],
                     "layers": [{"Conv2D": {"filters": 2, "kernel_size": 3,
                                            "strides": True}}]},
                    "not_an_integer", "layers[0].Conv2D.strides", ["True", "bool"]),
    "float input size": ({"input": [8.0, 8, 3], "layers": ["Flatten"]}, "not_an_integer",
                         "input[0]", ["8.0", "float"]),
    "zero input size": ({"input": [0, 8, 3], "layers": ["Flatten"]}, "below_minimum",
                        "input[0]", [">= 1"]),
    "kernel > input": ({"input": [3, 3, 1],
                        "layers": ["Flatten", {"Dense": 4}, {"Dense": {"units": 2}}]}, "", "",
                       []),
    "kernel > input (conv)": ({"input": [8, 8, 1], "layers": [
        {"Conv2D": {"filters": 2, "kernel_size": 3}},
        {"Conv2D": {"filters": 2, "kernel_size": 9}}]}, "input_too_small", "layers[1]",
        ["Conv2D 'conv2d_1'", "axis H", "6 + 0 = 6", "effective kernel 9"]),
    "torch same stride": ({"dialect": "torch", "input": [3, 8, 8],
                           "layers": [{"Conv2d": {"in_channels": 3, "out_channels": 2,
                                                  "kernel_size": 3, "stride": 2,
                                                  "padding": "same"}}]},
                          "same_with_stride", "layers[0].Conv2d.padding", ["stride 1"]),
    "groups": ({"dialect": "torch", "input": [3, 8, 8],
                "layers": [{"Conv2d": [3, 4, 3, 1, 0, 1, 2]}]}, "groups_not_dividing",
               "layers[0].Conv2d", ["groups (2)"]),
    "Flatten -> Linear": ({"dialect": "torch", "input": [3, 8, 8],
                           "layers": ["Flatten", {"Linear": [100, 10]}]}, "feature_mismatch",
                          "layers[1]", ["in_features = 100", "192 features"]),
    "graph merge mismatch": ({"inputs": {"x": [8, 8, 4]}, "layers": [
        {"Conv2D": {"filters": 5, "kernel_size": 1}, "name": "c"},
        {"Add": {}, "inputs": ["x", "c"]}]}, "never_equal", "", ["Add", "4 vs 5"]),
}


@pytest.mark.parametrize("case", sorted(SPEC_CASES))
def test_invalid_spec(case: str) -> None:
    doc, code, path, fragments = SPEC_CASES[case]
    if not code:  # a valid spec in the table, as a control: Dense accepts a bare integer
        assert load(doc).rows[-1].output_shape == (2,)
        return
    with pytest.raises(ConvsymError) as info:
        load(doc, name="net.yaml")
    err = info.value
    assert isinstance(err, (ValueError, TypeError))
    assert err.code == code, (err.code, str(err))
    assert str(err).startswith("net.yaml"), str(err)
    if path:
        assert getattr(err, "path", None) == path, (getattr(err, "path", None), str(err))
    for fragment in fragments:
        assert fragment in str(err), (fragment, str(err))
