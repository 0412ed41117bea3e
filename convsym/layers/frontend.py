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
import math
import numbers
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

from convsym.errors import LayerTypeError, did_you_mean
from convsym.layers.sharing import layer_key, recall_checked, remember_checked

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def layer_class(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen dataclass with argument checking and eager validation."""
    dc = dataclasses.dataclass(frozen=True, repr=False)(cls)
    original: Callable[..., None] = dc.__init__
    signature = inspect.signature(original)
    names = [p for p in signature.parameters if p != "self"]
    defaults = {f.name: f.default for f in dataclasses.fields(dc)}  # type: ignore[arg-type]
    checked = {name: default for name, default in defaults.items() if _checks(name, default)}
    bind = _binder(dc, names)

    @functools.wraps(original)
    def __init__(self: Any, /, *args: Any, **kwargs: Any) -> None:  # self=... is a kwarg
        values = bind(args, kwargs) if bind is not None else None
        try:
            if values is not None:
                self.__dict__.update(values)  # (what the generated __init__ stores)
            else:
                original(self, *args, **kwargs)
        except TypeError:
            # the generated __init__ only binds and stores (no __post_init__): a TypeError
            # is a wrong argument list, explained here; binding first for every layer cost
            # about a tenth of building a chain
            try:
                signature.bind(self, *args, **kwargs)
            except TypeError as err:
                raise _argument_error(dc.__name__, names, args, kwargs, str(err)) from None
            raise
        # a layer of the same class and arguments was checked before: take what checking
        # stored (its normalised configuration) instead of checking again (a U-Net repeats
        # one convolution at every level)
        key = layer_key(self)
        if key is not None and recall_checked(self, key):
            return
        name = getattr(self, "name", None) if "name" in names else None
        if name is not None and not isinstance(name, str):  # names key rows and graph edges
            raise LayerTypeError(dc.__name__, "name", repr(name)[:60], "must be text or None",
                                 code="bad_name")
        _check_plain_fields(self, dc.__name__, checked)
        validate = getattr(self, "validate", None)
        if validate is not None:
            validate()
        if key is not None:
            remember_checked(self, key)

    setattr(dc, "__init__", __init__)  # noqa: B010 - wrap the generated __init__
    return dc


Binder = Callable[[tuple[Any, ...], dict[str, Any]], "dict[str, Any] | None"]


def _binder(dc: type, names: list[str]) -> Binder | None:
    """A function giving the field values the dataclass's generated ``__init__`` stores for
    an argument list it accepts (in field order: the defaults, then the arguments given),
    or None for any other (then the generated ``__init__`` runs, and explains a wrong one);
    None when the class has more to its ``__init__`` than storing plain values (a default
    factory, a keyword-only or non-init field, an ``InitVar``, ``__post_init__``).

    The generated ``__init__`` of a frozen class stores each field through
    ``object.__setattr__``, a call per field of every layer made.

    >>> from convsym.layers.torch import Conv2d
    >>> bind = _binder(Conv2d, [f.name for f in dataclasses.fields(Conv2d)])
    >>> bind((3, 8, 3), {"stride": 2})["stride"], bind((3, 8), {})
    (2, None)
    >>> bind((3, 8, 3, 1), {"stride": 2}), bind((3, 8, 3), {"strides": 2})
    (None, None)
    """
    fields = dataclasses.fields(dc)
    if [f.name for f in fields] != names or hasattr(dc, "__post_init__") or any(
            not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING
            for f in fields):
        return None
    template = {f.name: f.default for f in fields}
    count = len(names)
    required = sum(1 for f in fields if f.default is dataclasses.MISSING)
    known = frozenset(names)
    # per number of positional arguments: the names they fill, the required ones left
    given = [frozenset(names[:i]) for i in range(count + 1)]
    still = [frozenset(names[i:required]) for i in range(count + 1)]

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
        n = len(args)
        if n > count:
            return None
        if kwargs:
            keys = kwargs.keys()
            if not (known >= keys and given[n].isdisjoint(keys) and keys >= still[n]):
                return None
        elif n < required:
            return None
        values = template.copy()
        values.update(zip(names, args))
        if kwargs:
            values.update(kwargs)
        return values

    return bind


KERAS_ACTIVATIONS = frozenset({
    "celu", "elu", "exponential", "gelu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
    "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
    "tanh_shrink",
})
"""Keras's built-in activations that keep the shape: the only ``activation`` values accepted.

``glu`` (halves the last axis) and ``threshold`` (needs arguments) are left out; anything
else (a custom or serialised function) is refused, so no activation ever reaches a
framework's deserializer."""

_RATES = ("rate", "p")  # dropout probabilities: a number from 0 to 1
_FILL_VALUES = ("value",)  # ConstantPad's fill: -inf before a max pool (timm's MaxPool2dSame)


def _checks(name: str, default: object) -> bool:
    """Whether :func:`_check_plain_fields` checks a field with this name and default (the
    others, sizes and choices, are checked where they are read): chosen once per class."""
    return name == "activation" or isinstance(default, (bool, float)) or name in _RATES


def _check_plain_fields(layer: Any, kind: str, defaults: dict[str, Any]) -> None:
    """Exact types for the non-size fields: flags are bools, ratios and constants numbers.

    A field whose default is a bool takes only a bool; one whose default is a float (or a
    dropout ``rate``/``p``) takes only an int or float, finite; ``activation`` takes only a
    name from :data:`KERAS_ACTIVATIONS` (or None).
    """
    for name, default in defaults.items():
        value = getattr(layer, name, None)
        if value is None or value is default:
            continue
        if name == "activation":
            if not isinstance(value, str) or value not in KERAS_ACTIVATIONS:
                hint = did_you_mean(value, KERAS_ACTIVATIONS) if isinstance(value, str) else ""
                raise LayerTypeError(kind, name, repr(value)[:60], "must be the name of a "
                                     f"built-in Keras activation{hint}", code="bad_activation")
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise LayerTypeError(kind, name, repr(value)[:60], "must be True or False",
                                     code="not_a_bool")
        elif isinstance(default, float) or name in _RATES:
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
                    not (math.isfinite(float(value)) or name in _FILL_VALUES):
                raise LayerTypeError(kind, name, repr(value)[:60], "must be a finite number "
                                     "(an int or a float)", code="not_a_number")
            if name in _RATES and not 0 <= float(value) <= 1:
                raise LayerTypeError(kind, name, repr(value)[:60], "must be from 0 to 1",
                                     code="bad_rate")


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
