"""The allowlist that maps Keras layer configs (plain data) onto convsym's Keras layers.

A Keras class is accepted only when convsym implements it (:data:`convsym.layers.keras.LAYERS`,
or an alias in :data:`ALIASES`).  Each key of its config either

- is an argument of the convsym layer (passed on, lists turned into tuples),
- changes values but never shapes or weight counts (:data:`VALUE_ONLY`, initialisers,
  regularisers and constraints) and is dropped,
- must keep its default for the counts to hold (:data:`MUST_BE`, e.g. ``renorm: false``), or
- is refused by name: a Keras version may add an argument that changes shapes, and guessing
  would be silent and wrong.

Per-class rules (:data:`RULES`) rename or adapt arguments; a new convsym layer whose
arguments carry Keras's names needs no entry at all.

>>> layer = build_layer("Conv2D", {"name": "c", "filters": 8, "kernel_size": [3, 3],
...                                "kernel_initializer": {"class_name": "GlorotUniform"}},
...                     origin="<dict>", path="layers[1]")
>>> layer
Conv2D(filters=8, kernel_size=(3, 3), name='c')
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from convsym.errors import LayerError, SpecError, SpecTypeError, did_you_mean
from convsym.layers.base import Layer
from convsym.layers.frontend import KERAS_ACTIVATIONS
from convsym.layers.keras import LAYERS
from convsym.layers.keras_apps import HOMES

ALIASES = {
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
    "Convolution1DTranspose": "Conv1DTranspose", "Convolution2DTranspose": "Conv2DTranspose",
    "Convolution3DTranspose": "Conv3DTranspose", "Deconvolution2D": "Conv2DTranspose",
    "Deconvolution3D": "Conv3DTranspose",
    "SeparableConvolution1D": "SeparableConv1D", "SeparableConvolution2D": "SeparableConv2D",
    "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D", "MaxPool3D": "MaxPooling3D",
    "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D",
    "AvgPool3D": "AveragePooling3D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D", "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "GlobalMaxPool3D": "GlobalMaxPooling3D", "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D", "GlobalAvgPool3D": "GlobalAveragePooling3D",
}
"""Other names Keras has used for the same class."""

IGNORED = frozenset({"name", "trainable", "dtype", "autocast", "batch_input_shape",
                     "batch_shape", "input_shape", "input_dim", "batch_size",
                     "activity_regularizer"})
"""Bookkeeping keys: the importer reads ``name``, ``trainable`` and input shapes itself."""

VALUE_ONLY = frozenset({
    "momentum", "epsilon", "synchronized", "renorm_clipping", "renorm_momentum", "fused",
    "virtual_batch_size", "rate", "seed", "noise_shape", "stddev", "negative_slope",
    "max_value", "threshold", "alpha", "interpolation", "lora_alpha",
})
"""Keys that change the numbers a layer computes but not its shape or weight count."""

_IGNORED_SUFFIXES = ("_initializer", "_regularizer", "_constraint")

MUST_BE: dict[str, tuple[Any, str]] = {
    "renorm": (False, "batch renormalisation adds weights convsym does not count"),
    "quantization_config": (None, "quantised weights are counted differently"),
    "lora_rank": (None, "LoRA adds trainable weights convsym does not count"),
    "rms_scaling": (False, "RMS scaling drops the beta weights"),
    "adjustment": (None, "a batch-norm adjustment function is arbitrary Python code"),
    "sparse": (False, "sparse inputs are not modelled"),
    # tf.keras 2 writes Conv2D's ``groups`` into DepthwiseConv2D, SeparableConv2D and
    # Conv2DTranspose configs too, where only 1 makes sense
    "groups": (1, "this layer has no groups"),
}
"""Keys convsym accepts only at their default, with the reason."""

ELEMENTWISE = KERAS_ACTIVATIONS
"""Built-in Keras activations that keep the shape (``glu`` halves an axis: refused)."""


@dataclass(frozen=True)
class Rule:
    """How one Keras class maps: the convsym class, renamed keys, a config adapter."""

    target: str
    rename: Mapping[str, str] = field(default_factory=dict)
    adapt: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def _single_axis(config: dict[str, Any]) -> dict[str, Any]:
    """tf.keras 2 wrote ``axis: [3]`` for one axis; convsym takes the integer."""
    axis = config.get("axis")
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        return {**config, "axis": axis[0]}
    return config


RULES: dict[str, Rule] = {
    "BatchNormalization": Rule("BatchNormalization", adapt=_single_axis),
}
"""Classes that need more than a name match (one line per class)."""


@functools.cache  # once per process: building the tables per layer made imports slow
def _layers() -> dict[str, type[Layer]]:
    """convsym's Keras layers (with the preprocessing and keras.applications layers)."""
    return LAYERS


def foreign_module(class_name: str, module: object) -> bool:
    """True when ``module`` is not where Keras defines ``class_name``.

    A missing module (tf.keras 2 documents) is not foreign; ``keras_hub`` or ``keras_cv`` is,
    and so is any module but ``keras.src.applications.convnext`` for ConvNeXt's
    ``LayerScale`` (a layer of that name elsewhere may compute anything).

    >>> foreign_module("Conv2D", "keras.layers"), foreign_module("Conv2D", "keras_hub.layers")
    (False, True)
    >>> foreign_module("LayerScale", "keras.layers"), foreign_module("LayerScale", None)
    (True, False)
    """
    if not isinstance(module, str):
        return module is not None
    home = HOMES.get(class_name)
    if home is not None:
        return module not in (f"keras.{home}", f"keras.src.{home}")
    return module != "keras" and not module.startswith("keras.")


@functools.cache
def known_classes() -> Mapping[str, str]:
    """Every Keras class name accepted, mapped to the convsym class name."""
    LAYERS = _layers()
    out = {name: name for name in LAYERS if name not in ("Input", "InputLayer")}
    out.update({alias: target for alias, target in ALIASES.items() if target in LAYERS})
    out.update({name: rule.target for name, rule in RULES.items() if rule.target in LAYERS})
    return out


def refusal(class_name: str, layer_name: str) -> str | None:
    """Why a Keras class is refused, or None if convsym knows it."""
    if class_name in known_classes():
        return None
    shown = f"layer {layer_name!r} (class {class_name})"
    if class_name == "Lambda":
        return (f"{shown} is refused: a Lambda layer runs arbitrary Python code, so its "
                "output shape cannot be known without running it; replace it with built-in "
                "layers")
    if class_name in ("TFOpLambda", "SlicingOpLambda"):
        return (f"{shown} is refused: it records a TensorFlow operation, not a layer; use "
                "keras.layers (Add, Multiply, Reshape, ...) instead of tensor operators")
    hint = did_you_mean(class_name, known_classes())
    return (f"{shown} is refused: it is not a Keras layer convsym knows (a custom or "
            f"unsupported layer can compute any shape){hint}")


def _plain(value: Any) -> Any:
    """JSON lists to tuples, recursively (layers are frozen and hashable)."""
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def check_activation(value: Any, *, origin: str, path: str, layer_name: str) -> None:
    """Accept only built-in activations that keep the shape."""
    if value is None or (isinstance(value, str) and value in ELEMENTWISE):
        return
    if value == "glu":
        raise SpecError(f"layer {layer_name!r}: activation 'glu' halves the last axis, which "
                        "convsym does not model", source=origin, path=path,
                        code="unsupported_activation")
    if isinstance(value, str):
        raise SpecError(f"layer {layer_name!r}: activation {value!r} is not a built-in Keras "
                        f"activation{did_you_mean(value, ELEMENTWISE)} (a custom activation "
                        "is arbitrary code)", source=origin, path=path,
                        code="unsupported_activation")
    raise SpecError(f"layer {layer_name!r}: a serialised (custom) activation is arbitrary "
                    "code and is refused; use a built-in activation name", source=origin,
                    path=path, code="unsupported_activation")


def build_layer(class_name: str, config: Mapping[str, Any], *, origin: str, path: str
                ) -> Layer:
    """The convsym layer for one Keras layer config, or a SpecError naming what is wrong."""
    LAYERS = _layers()

    layer_name = config.get("name") if isinstance(config.get("name"), str) else "?"
    why = refusal(class_name, str(layer_name))
    if why is not None:
        code = "lambda_layer" if class_name == "Lambda" else "unknown_layer"
        raise SpecError(why, source=origin, path=path, code=code)
    rule = RULES.get(class_name) or Rule(ALIASES.get(class_name, class_name))
    cls = LAYERS[rule.target]
    accepted = {f.name for f in fields(cls) if f.init and f.name != "input_shape"}
    raw = dict(config)
    if rule.adapt is not None:
        raw = rule.adapt(raw)
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        target = rule.rename.get(key, key)
        where = f"{path}.config.{key}"
        if key == "activation":
            check_activation(value, origin=origin, path=where, layer_name=str(layer_name))
        if target in accepted:
            kwargs[target] = _plain(value)
        elif key in IGNORED or key in VALUE_ONLY or key.endswith(_IGNORED_SUFFIXES):
            continue
        elif key in MUST_BE:
            default, reason = MUST_BE[key]
            if value != default:
                raise SpecError(f"layer {layer_name!r} ({class_name}): {key} = {value!r} is "
                                f"not supported ({reason}); convsym needs {key} = "
                                f"{default!r}", source=origin, path=where,
                                code="unsupported_argument")
        else:
            raise SpecError(f"layer {layer_name!r} ({class_name}): argument {key!r} is not "
                            f"one convsym knows for {class_name}, and it may change the "
                            f"shape{did_you_mean(key, accepted)}", source=origin, path=where,
                            code="unknown_argument")
    try:
        return cls(**kwargs)
    except LayerError as err:
        kind = SpecTypeError if isinstance(err, TypeError) else SpecError
        raise kind(f"layer {layer_name!r}: {err}", source=origin, path=path,
                   code=err.code) from None
