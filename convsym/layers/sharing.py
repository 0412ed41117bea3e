"""Layers of one configuration share their work: the checks of their arguments, and their
inference on equal input shapes.

A layer is a frozen dataclass whose checks and inference are functions of its class and
arguments (and of the input shapes, canonical forms that are equal exactly when equal as
sizes).  A U-Net repeats ``Conv2d(c, c, 3, padding=1)`` and ``ReLU()`` at every level, a
ResNet the layers of each block: the second such layer is checked and inferred by taking
the first's results, not by working them out again.

Two layers share only when their keys are equal: the class, and every argument with its
type (:func:`config_key`), so ``3`` and ``3.0``, or ``True`` and ``1``, which a layer may
treat differently, never share.  Only plain arguments key a layer (:func:`layer_key`):
ints, text, flags, floats (by their exact bits), None and tuples of them; anything else
(a SymPy expression, an object of the caller's) is worked out for each layer.

>>> from convsym.layers.torch import Conv2d, Dropout
>>> layer_key(Conv2d(3, 8, 3)) == layer_key(Conv2d(3, 8, 3, stride=1)) != layer_key(Conv2d(3, 8, 5))
True
>>> layer_key(Dropout(0)) == layer_key(Dropout(0.0)), layer_key(Dropout(0.0)) == layer_key(
...     Dropout(-0.0))
(False, False)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Sequence
from operator import attrgetter
from typing import Any

from convsym.budget import Budgets
from convsym.budget import current as current_budgets
from convsym.intdiv import QPoly
from convsym.layers.base import Inference, Layer, Shape

Key = Hashable


def config_key(items: tuple[tuple[str, Any], ...]) -> tuple[Any, ...]:
    """A key for layer arguments (name, value) under which ``1``, ``1.0`` and ``True``
    differ, at any depth of tuples.

    Flat values and tuples of ints (nearly every argument) key as themselves with their
    types; anything deeper goes through :func:`typed`.

    >>> conv = ("kernel_size", (3, 3))
    >>> config_key((conv, ("bias", True))) != config_key((conv, ("bias", 1)))
    True
    >>> config_key((("p", (1, 1)),)) != config_key((("p", (1.0, 1)),))
    True
    """
    for _, v in items:
        if type(v) is tuple and not all(type(x) is int for x in v):
            return (typed(items),)
    return items, tuple(type(v) for _, v in items)


def typed(value: Any) -> Any:
    """``value`` with the type of every item, through tuples.

    >>> typed((1, (2.0, "a")))
    (<class 'tuple'>, ((<class 'int'>, 1), (<class 'tuple'>, ((<class 'float'>, 2.0), \
(<class 'str'>, 'a')))))
    """
    if type(value) is tuple:
        return tuple, tuple(typed(v) for v in value)
    return type(value), value


_FLAT = frozenset({int, str, bool, type(None)})
"""Types whose equal values mean the same to every layer (``==`` within one type)."""

_FIELDS: dict[type, tuple[str, ...]] = {}
_VALUES: dict[type, Callable[[Any], tuple[Any, ...]]] = {}  # per class: its fields' values


class _NotPlain(Exception):
    """An argument that does not key a layer (see the module doc)."""


def layer_key(layer: Layer) -> Key | None:
    """The class and arguments of ``layer`` with their types, when every argument is plain;
    else None (see the module doc)."""
    cls = type(layer)
    values_of = _VALUES.get(cls)
    if values_of is None:
        values_of = _values_of(cls)
    values = values_of(layer)
    types = tuple(map(type, values))
    if _FLAT.issuperset(types):  # (nearly every layer: ints, text, flags, None)
        return cls, values, types
    try:
        return cls, tuple(_plain(v) for v in values)
    except _NotPlain:
        return None


def _values_of(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """A function reading the fields of a ``cls`` layer as a tuple (in C, for two or more)."""
    names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    if len(names) >= 2:
        found: Callable[[Any], tuple[Any, ...]] = attrgetter(*names)
    elif names:
        one = attrgetter(names[0])

        def found(layer: Any) -> tuple[Any, ...]:
            return (one(layer),)
    else:
        def found(layer: Any) -> tuple[Any, ...]:
            return ()
    _VALUES[cls] = found
    return found


def _plain(value: object) -> object:
    kind = type(value)
    if kind in _FLAT:
        return kind, value
    if kind is float:
        return kind, value.hex()  # type: ignore[attr-defined]  # (-0.0 is not 0.0 here)
    if kind is tuple or kind is list:
        return kind, tuple(_plain(v) for v in value)  # type: ignore[attr-defined]
    raise _NotPlain


# --- checked arguments ----------------------------------------------------------------------

_CHECKED: dict[Key, tuple[Budgets, dict[str, Any]]] = {}
"""What checking a layer's arguments stored on it (its normalised configuration), by
:func:`layer_key`, with the budgets in force (they bound parsing a size given as text): at
most :data:`_CHECKED_HELD`, then started afresh."""

_CHECKED_HELD = 4096


def recall_checked(layer: Layer, key: Key) -> bool:
    """Give ``layer`` (of :func:`layer_key` ``key``) what an earlier layer of the same key
    stored when checked under the same budgets; False when there is none."""
    known = _CHECKED.get(key)
    if known is None:
        return False
    budgets = current_budgets()
    if known[0] is not budgets and known[0] != budgets:
        return False
    layer.__dict__.update(known[1])
    return True


def remember_checked(layer: Layer, key: Key) -> None:
    """Remember what checking ``layer`` stored on it (cached properties such as its
    ``config``), when every value is immutable (hashable), for the next layer of its key."""
    names = _FIELDS.get(type(layer)) or ()
    stored = {k: v for k, v in layer.__dict__.items() if k not in names}
    try:
        hash(tuple(stored.values()))
    except TypeError:  # something mutable: each layer keeps its own
        return
    if len(_CHECKED) >= _CHECKED_HELD:
        _CHECKED.clear()  # bounded memory; a miss only costs checking again
    _CHECKED[key] = (current_budgets(), stored)


# --- inference on equal shapes --------------------------------------------------------------


def copied(inference: Inference) -> Inference:
    """A shallow copy (``copy.copy`` takes the generic, five times slower, path): a caller
    may replace its fields (a shared layer's weights are counted once)."""
    out: Inference = object.__new__(type(inference))
    out.__dict__.update(inference.__dict__)
    return out


class SharedInferences:
    """The inferences of one network's layers, shared by layers of one key on equal input
    shapes (see the module doc); every caller gets its own copy.

    Layers that read the names of their inputs (merges name their branches in messages
    and conditions) or that infer in their own way are inferred every time, and so are
    layers on a size kept as a product (hashing it would expand it) or a Min/Max.

    >>> from convsym.expr import symbol
    >>> from convsym.layers.torch import Conv2d
    >>> shared = SharedInferences()
    >>> shape = (QPoly.const(3), QPoly.sym(symbol("H")), QPoly.sym(symbol("W")))
    >>> a = shared.infer(Conv2d(3, 3, 3), [shape], ["x"])
    >>> b = shared.infer(Conv2d(3, 3, 3), [shape], ["y"])
    >>> a is not b and a.shape is b.shape
    True
    """

    def __init__(self) -> None:
        # per input shapes: [layer, its inference, its key once asked] (the layers are held
        # here, so the network's nodes are never compared by an id that was reused)
        self._met: dict[tuple[Shape, ...], list[list[Any]]] = {}

    def infer(self, layer: Layer, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """``layer.infer_checked(inputs, names)``, or an earlier equal layer's on equal
        inputs."""
        cls = type(layer)
        if cls.infer_named is not Layer.infer_named or \
                cls.infer_checked is not Layer.infer_checked:
            return layer.infer_checked(inputs, names)
        for shape in inputs:
            for s in shape:
                if type(s) is not QPoly or s.factors is not None:
                    return layer.infer_checked(inputs, names)
        met = self._met.setdefault(tuple(inputs), [])
        key: Any = _UNASKED
        for entry in met:
            if entry[0] is layer:  # a layer applied again (Keras weight sharing)
                return copied(entry[1])
            if type(entry[0]) is cls:
                if key is _UNASKED:
                    key = layer_key(layer)
                if key is not None:
                    if entry[2] is _UNASKED:
                        entry[2] = layer_key(entry[0])
                    if entry[2] == key:
                        return copied(entry[1])
        inference = layer.infer_checked(inputs, names)
        met.append([layer, inference, _UNASKED])
        out: Inference = object.__new__(type(inference))  # (copied, inline: every layer)
        out.__dict__.update(inference.__dict__)
        return out


_UNASKED = object()
