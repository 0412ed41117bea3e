"""Spec entries to layers: one ``{LayerName: {argument: value}}`` entry, and the size check.

Both spec formats use these: the sequential one (:mod:`convsym.spec`) and the graph one
(:mod:`convsym.graph_spec`).

>>> build_layer({"Conv2D": {"filters": 8, "kernel_size": 3}}, "keras", "<doc>", "layers[0]")
Conv2D(filters=8, kernel_size=3)
>>> build_layer({"Conv2D": {"filters": 8, "kernel_sise": 3}}, "keras", "<doc>", "layers[0]")
Traceback (most recent call last):
convsym.errors.SpecTypeError: <doc>, layers[0].Conv2D.kernel_sise: kernel_sise = 3: is not an \
argument of Conv2D (did you mean 'kernel_size'?)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from convsym.errors import (
    ConvsymError,
    LayerError,
    SpecError,
    SpecTypeError,
    did_you_mean,
)
from convsym.expr import as_expr
from convsym.layers import keras, torch
from convsym.layers.base import Layer

MAX_LAYERS = 10_000


_CODE_LAYERS = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda"})


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def layer_table(dialect: str) -> dict[str, type[Layer]]:
    """The layer classes of a dialect by name."""
    return dict(keras.LAYERS if dialect == "keras" else torch.LAYERS)


def _check_size(value: Any, origin: str, path: str) -> None:
    if isinstance(value, bool):
        raise SpecTypeError(f"{value} is a bool, not a size", source=origin, path=path,
                            code="not_an_integer")
    if isinstance(value, float):
        hint = f" (write {int(value)}, not {value})" if value.is_integer() else ""
        raise SpecTypeError(f"{value} is a float, not an integer{hint}", source=origin,
                            path=path, code="not_an_integer")
    if not isinstance(value, (int, str)):
        raise SpecTypeError(f"{_short(value)} is not a size (an integer or a symbol)",
                            source=origin, path=path, code="not_a_size")
    try:
        as_expr(value, field=path)
    except ConvsymError as err:
        raise SpecError(_strip_field(str(err), path), source=origin, path=path,
                        code=err.code) from None
    if isinstance(value, int) and value < 1:
        raise SpecError(f"{value}: a size must be an integer >= 1", source=origin, path=path,
                        code="below_minimum")


def _strip_field(message: str, field: str) -> str:
    """The parser's message without its leading ``field: `` (the path says where)."""
    return message[len(field) + 2:] if message.startswith(field + ": ") else message


def build_layer(item: Any, dialect: str, origin: str, path: str) -> Layer:
    """One ``{LayerName: {argument: value}}`` entry (or a bare ``LayerName``) to a layer."""
    table = layer_table(dialect)
    if isinstance(item, str):
        item = {item: {}}
    if not isinstance(item, Mapping) or len(item) != 1:
        raise SpecError(f"each layer must be a mapping with one key, the layer name, e.g. "
                        f"{{Conv2D: {{filters: 32, kernel_size: 3}}}}, not {_short(item)}",
                        source=origin, path=path, code="bad_layer_entry")
    ((kind, args),) = item.items()
    if kind not in table:
        if kind in _CODE_LAYERS:
            raise SpecError(f"{kind} layers carry code, which convsym never runs; write the "
                            "layers it computes instead", source=origin, path=path,
                            code="code_layer")
        raise SpecError(f"unknown {dialect} layer {kind!r}{did_you_mean(kind, table)}",
                        source=origin, path=path, code="unknown_layer")
    if args is None:
        args = {}
    if isinstance(args, (list, tuple)):
        positional, keywords = list(args), {}
    elif isinstance(args, Mapping):
        positional, keywords = [], dict(args)
    else:
        positional, keywords = [args], {}
    here = f"{path}.{kind}"
    for key, value in keywords.items():
        _check_argument(key, value, origin, f"{here}.{key}")
    try:
        return table[kind](*positional, **keywords)
    except LayerError as err:
        field = err.field.split("[")[0].split(" ")[0] if err.field else ""
        where = f"{here}.{field}" if field and field in keywords else here
        cls = SpecTypeError if isinstance(err, TypeError) else SpecError
        if err.field and err.value is not None:
            text = f"{err.field} = {err.value}: {err.rule}"
        elif err.field:
            text = f"{err.field} {err.rule}" if err.rule.startswith("is ") else \
                f"{err.field}: {err.rule}"
        else:
            text = err.rule
        raise cls(text, source=origin, path=where, code=err.code) from None
    except ConvsymError as err:
        cls = SpecTypeError if isinstance(err, TypeError) else SpecError
        raise cls(str(err), source=origin, path=here, code=err.code) from None


FLOAT_ARGUMENTS = frozenset({"rate", "p", "eps", "epsilon", "momentum", "negative_slope",
                             "alpha", "max_value", "threshold", "beta", "lambd", "value",
                             "min_val", "max_val", "scale", "offset", "stddev", "factor",
                             "mean", "variance", "l1", "l2", "theta", "delta"})
"""Arguments that really are floats (dropout rates, BatchNorm constants); shapes ignore them.

Kept for reference: the layers themselves reject a float where an integer belongs."""


def _check_argument(key: str, value: Any, origin: str, path: str) -> None:
    """Checks the layer constructors do not make (each layer rejects its own bad values)."""
    if key == "name" and value is not None and not isinstance(value, str):
        raise SpecTypeError(f"a layer name must be text, not {_short(value)}",
                            source=origin, path=path, code="bad_name")
