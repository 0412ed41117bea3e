"""Helpers shared by the Keras and PyTorch front ends: friendly constructors and caching.

:func:`layer_class` turns a class body into a frozen dataclass whose constructor reports a
wrong or missing argument as a convsym error with a did-you-mean, and whose hyperparameters
are validated on construction (as the frameworks do).

>>> from convsym.layers.keras import Conv2D
>>> from convsym.errors import ConvsymError
>>> try:
...     Conv2D(32, 3, stride=2)
... except ConvsymError as err:
...     print(err)
Conv2D: stride = 2: is not an argument of Conv2D (did you mean 'strides'?)
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

from convsym.errors import LayerTypeError, did_you_mean

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def layer_class(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen dataclass with argument checking and eager validation."""
    dc = dataclasses.dataclass(frozen=True, repr=False)(cls)
    original: Callable[..., None] = dc.__init__
    signature = inspect.signature(original)
    names = [p for p in signature.parameters if p != "self"]

    @functools.wraps(original)
    def __init__(self: Any, /, *args: Any, **kwargs: Any) -> None:  # self=... is a kwarg
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as err:
            raise _argument_error(dc.__name__, names, args, kwargs, str(err)) from None
        original(self, *args, **kwargs)
        name = getattr(self, "name", None) if "name" in names else None
        if name is not None and not isinstance(name, str):  # names key rows and graph edges
            raise LayerTypeError(dc.__name__, "name", repr(name)[:60], "must be text or None",
                                 code="bad_name")
        validate = getattr(self, "validate", None)
        if validate is not None:
            validate()

    setattr(dc, "__init__", __init__)  # noqa: B010 - wrap the generated __init__
    return dc


def _argument_error(kind: str, names: list[str], args: tuple[Any, ...],
                    kwargs: dict[str, Any], detail: str) -> LayerTypeError:
    for key, value in kwargs.items():
        if key not in names:
            return LayerTypeError(kind, key, repr(value),
                                  f"is not an argument of {kind}{did_you_mean(key, names)}",
                                  code="unknown_argument")
    if len(args) > len(names):
        return LayerTypeError(kind, "arguments", len(args),
                              f"{kind} takes at most {len(names)} positional arguments",
                              code="too_many_arguments")
    missing = [n for n in names[len(args):] if n not in kwargs]
    if "missing" in detail and missing:
        return LayerTypeError(kind, missing[0], None, "is required", code="missing_argument")
    return LayerTypeError(kind, "arguments", None, detail, code="bad_arguments")
