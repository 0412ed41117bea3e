"""The allowlist that maps live ``torch.nn`` modules onto convsym's PyTorch layers.

A module maps when its class *is* the ``torch.nn`` class of the same name and convsym
implements it (:data:`convsym.layers.torch.LAYERS`): each argument of the convsym layer is
read from the module attribute of the same name (``bias`` becomes ``bias is not None``).
Shape-preserving element-wise modules (:data:`ELEMENTWISE`) become :class:`Elementwise`
rows that keep their class name.  Anything else is refused by the caller, or traced through
when it is a user's own module.

It reads attributes of the objects it is given; only :func:`leaf_class` imports torch (to
compare classes with ``torch.nn``'s own).

>>> class Conv2d:  # stands in for torch.nn.Conv2d in this example
...     in_channels, out_channels, kernel_size, stride = 3, 8, (3, 3), (1, 1)
...     padding, dilation, groups, bias, padding_mode = (1, 1), (1, 1), 1, None, "zeros"
>>> layer_from_attributes("Conv2d", Conv2d())
Conv2d(in_channels=3, out_channels=8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), \
dilation=(1, 1), bias=False)
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar

from convsym.intdiv import QPoly
from convsym.layers.base import Inference, Layer, Shape, Weight
from convsym.layers.core import infer_identity
from convsym.layers.dialects import TorchLayer
from convsym.layers.frontend import layer_class
from convsym.layers.sharing import config_key
from convsym.layers.torch import LAYERS

ELEMENTWISE = frozenset({
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
    "Sigmoid", "Tanh", "Hardtanh", "Hardswish", "Hardsigmoid", "Softplus", "Softsign",
    "Tanhshrink", "Softshrink", "Hardshrink", "LogSigmoid", "Softmax", "LogSoftmax",
    "Softmax2d", "Threshold", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
    "AlphaDropout", "FeatureAlphaDropout", "Identity",
})
"""``torch.nn`` modules that keep the shape (PReLU has ``num_parameters`` weights)."""

_SKIP = frozenset({"input_shape"})


@layer_class
class Elementwise(TorchLayer):
    """A shape-preserving ``torch.nn`` module (``Sigmoid``, ``GELU`` ...), named by its class.

    ``weights`` counts its own parameters (PReLU's slopes); they do not depend on the shape.
    """

    kind: str
    weights: int = 0

    cost_kind: ClassVar[str] = "activation"

    @property
    def type_name(self) -> str:
        """The torch class name."""
        return self.kind

    def infer_one(self, shape: Shape) -> Inference:
        """Pass the shape through."""
        out = infer_identity(shape)
        if self.weights:
            out.weights = [Weight("weight", (QPoly.const(self.weights),))]
        return out


def _plain(value: Any) -> Any:
    """torch.Size and lists to tuples; integral floats stay floats (the layer decides)."""
    if type(value) is tuple and all(type(v) is int for v in value):
        return value  # (kernel sizes, strides: the common case, as it is)
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    return value


def layer_from_attributes(class_name: str, module: Any) -> Layer:
    """The convsym layer for a module of a class convsym implements (attributes by name)."""
    return LAYERS[class_name](**_arguments(class_name, module))


_MISSING = object()


def _arguments(class_name: str, module: Any) -> dict[str, Any]:
    """The convsym layer's arguments read from the module's attributes of the same names."""
    kwargs: dict[str, Any] = {}
    own = module.__dict__
    direct = _plain_attributes(type(module))
    for name in _init_fields(class_name):
        # an instance attribute no class property overrides is read from the instance's
        # dict: getattr and hasattr on a module go through torch's __getattr__ for
        # parameters and for every name the module lacks
        value = own.get(name, _MISSING) if name not in direct else _MISSING
        if value is _MISSING:
            value = getattr(module, name, _MISSING)
            if value is _MISSING:
                continue
        if name == "bias" and not isinstance(value, bool):
            value = value is not None  # a Parameter or None on Conv, Linear, LayerNorm
        kwargs[name] = _plain(value)
    return kwargs


def _plain_attributes(cls: type) -> frozenset[str]:
    """Names a class (or a base) defines as data descriptors (properties): those shadow the
    instance's dict, so they are read with getattr."""
    known = _DESCRIPTORS.get(cls)
    if known is None:
        if len(_DESCRIPTORS) >= 1024:  # (bounded: classes made on the fly)
            _DESCRIPTORS.clear()
        known = _DESCRIPTORS[cls] = frozenset(
            name for klass in cls.__mro__ for name, v in vars(klass).items()
            if hasattr(type(v), "__set__") or hasattr(type(v), "__delete__"))
    return known


_DESCRIPTORS: dict[type, frozenset[str]] = {}


@functools.cache  # one entry per class of LAYERS
def _init_fields(class_name: str) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(LAYERS[class_name])
                 if f.init and f.name not in _SKIP)


def _fields_of(cls: type) -> tuple[str, ...]:
    known = _FIELDS.get(cls)
    if known is None:  # (one entry per layer class)
        known = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return known


_FIELDS: dict[type, tuple[str, ...]] = {}


class ModuleLayers:
    """The layers of one import: modules of one configuration share one layer, built and
    checked once (a ResNet repeats each block's layers; building one costs more than
    reading its module).

    The key is the class and the arguments with their types (:func:`config_key`), so ``3``
    and ``3.0`` (or ``True`` and ``1``), which a layer may treat differently, never share
    a layer.

    >>> layers = ModuleLayers()
    >>> class ReLU:
    ...     _modules, _parameters = {}, {}
    >>> layers.of(ReLU()) is layers.of(ReLU())
    True
    """

    def __init__(self) -> None:
        self._made: dict[Any, Layer] = {}

    def of(self, module: Any, name: str | None = None) -> Layer:
        """:func:`build_module_layer` of ``module``, the same object for the same config."""
        name = name or type(module).__name__
        if name in LAYERS:
            kwargs = _arguments(name, module)
            key: Any = (name, *config_key(tuple(kwargs.items())))
        else:
            kwargs, key = {}, (name, _own_count(module))
        try:
            return self._made[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable argument: built, not shared
            return build_module_layer(module, name)
        made = LAYERS[name](**kwargs) if name in LAYERS else Elementwise(name, key[1])
        self._made[key] = made
        return made

    def same(self, layer: Layer) -> Layer:
        """The layer met before with the same class and arguments, else ``layer`` itself
        (a layer the trace made, such as each ``x * scale`` of a frozen batch norm)."""
        cls = type(layer)
        items = tuple((name, getattr(layer, name)) for name in _fields_of(cls))
        try:
            return self._made.setdefault((cls, *config_key(items)), layer)
        except TypeError:  # an unhashable argument: not shared
            return layer


def known(class_name: str) -> bool:
    """Whether convsym maps ``torch.nn.<class_name>``."""
    return class_name in LAYERS or class_name in ELEMENTWISE


def leaf_class(module: Any) -> str | None:
    """The ``torch.nn`` class convsym maps ``module`` as, or None to follow its forward.

    A module is a leaf when its class is a ``torch.nn`` class convsym knows, or a subclass
    that keeps that class's ``forward`` (a user's ``class MyConv(nn.Conv2d)`` with only a new
    ``__init__``); a subclass with its own ``forward`` (timm's ``BatchNormAct2d``) is followed.
    """
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    kind = type(module)
    for cls in kind.__mro__:
        if getattr(torch.nn, cls.__name__, None) is cls:
            if not known(cls.__name__) or getattr(kind, "forward", None) is not \
                    getattr(cls, "forward", None):
                return None
            return str(cls.__name__)
    return None


def module_parameters(module: Any) -> list[Any]:
    """``list(module.parameters())`` (each parameter once), read straight from the module's
    own table when it has no submodules: ``parameters()`` walks every module's members
    through generators, a tenth of a ResNet-50 import when asked for each leaf."""
    if module._modules:
        return list(module.parameters())
    seen: dict[int, Any] = {}
    for p in module._parameters.values():
        if p is not None:
            seen.setdefault(id(p), p)
    return list(seen.values())


def build_module_layer(module: Any, name: str | None = None) -> Layer:
    """The convsym layer for a module mapped as ``torch.nn.<name>`` (default: its class)."""
    name = name or type(module).__name__
    if name in LAYERS:
        return layer_from_attributes(name, module)
    return Elementwise(name, _own_count(module))


def _own_count(module: Any) -> int:
    return sum(int(p.numel()) for p in module_parameters(module))
