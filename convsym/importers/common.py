"""Pieces both importers share: frozen and shared layer applications, input shapes, names.

A layer applied in an imported model may be frozen (Keras ``trainable: false``; all of its
weights count as non-trainable, as ``model.summary()`` counts them).  :class:`Applied` wraps
the convsym layer for that case and otherwise behaves like it.  (A shared layer's later calls
are nodes with ``shares`` set, so the network counts its weights once.)

>>> from convsym.layers.keras import Conv2D
>>> from convsym.intdiv import QPoly, to_sympy
>>> frozen = applied(Conv2D(4, 3), frozen=True)
>>> out = frozen.infer([(QPoly.const(8), QPoly.const(8), QPoly.const(2))])
>>> to_sympy(out.trainable), to_sympy(out.non_trainable), frozen.type_name
(0, 76, 'Conv2D')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

from convsym.errors import SpecError
from convsym.intdiv import QPoly
from convsym.layers.base import Inference, Layer, Shape, Weight, to_size

AXIS_SYMBOLS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
"""Names for unknown (``None``) spatial sizes, channels last: ``(None, None, 3)`` is (H, W, 3)."""


@dataclasses.dataclass(frozen=True, repr=False)
class Applied(Layer):
    """``layer`` as applied in a model, ``frozen``: none of its weights are trainable.

    ``counted``, when not None, is the number of parameters the application holds instead of
    the layer's own weights: a PyTorch ``F.conv2d`` whose weight is computed in forward (from a
    buffer, 0; or from its module's parameters, as timm's ``StdConv2d`` standardises its
    weight and ``ScaledStdConv2d`` scales it by a gain) has that weight's shape but not its
    parameters.  ``counted_frozen`` of those are not trainable (PyTorch parameters with
    ``requires_grad`` off), and ``frozen_weights`` names the layer's own weights that are not
    (a frozen ``bias`` of a ``Conv2d`` whose ``weight`` trains).
    """

    layer: Layer
    frozen: bool = True
    counted: int | None = None
    counted_frozen: int = 0
    frozen_weights: tuple[str, ...] = ()

    @property
    def type_name(self) -> str:
        """The wrapped layer's class name."""
        return self.layer.type_name

    @property
    def base_name(self) -> str:
        """The wrapped layer's name stem."""
        return self.layer.base_name

    def __getattr__(self, name: str) -> Any:
        # hyperparameters (``config``, ``filters`` ...) read through to the wrapped layer
        if name.startswith("__") or name == "layer":
            raise AttributeError(name)
        return getattr(self.layer, name)

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """The wrapped layer's inference with its weights re-marked."""
        out = self.layer.infer(inputs)
        if self.counted is not None:
            trains = self.counted - self.counted_frozen
            computed = [Weight("computed in forward", (QPoly.const(trains),))] if trains else []
            if self.counted_frozen:
                computed.append(Weight("computed in forward (frozen)",
                                       (QPoly.const(self.counted_frozen),), trainable=False))
            out = dataclasses.replace(out, weights=computed)
        if self.frozen or self.frozen_weights:
            out.weights = [dataclasses.replace(w, trainable=False)
                           if self.frozen or w.name in self.frozen_weights else w
                           for w in out.weights]
        return out


@dataclasses.dataclass(frozen=True, repr=False)
class _KerasApplied(Applied):
    dialect: ClassVar[str] = "keras"


@dataclasses.dataclass(frozen=True, repr=False)
class _TorchApplied(Applied):
    dialect: ClassVar[str] = "torch"


def applied(layer: Layer, *, frozen: bool = False, counted: int | None = None,
            counted_frozen: int = 0, frozen_weights: Sequence[str] = ()) -> Layer:
    """``layer`` itself, or wrapped when frozen (wholly, or the weights named
    ``frozen_weights``) or holding ``counted`` parameters instead of its own weights
    (``counted_frozen`` of them frozen), in its own dialect.

    >>> from convsym.layers.torch import Conv2d
    >>> from convsym.intdiv import to_sympy
    >>> conv = applied(Conv2d(2, 4, 3), frozen_weights=("bias",))
    >>> out = conv.infer([(QPoly.const(2), QPoly.const(8), QPoly.const(8))])
    >>> to_sympy(out.trainable), to_sympy(out.non_trainable)
    (72, 4)
    """
    if not frozen and counted is None and not frozen_weights:
        return layer
    if isinstance(layer, Applied):
        layer = layer.layer
    cls = _TorchApplied if layer.dialect == "torch" else _KerasApplied
    return cls(layer, frozen=frozen, counted=counted, counted_frozen=counted_frozen,
               frozen_weights=tuple(frozen_weights))


def unwrap(layer: Layer) -> Layer:
    """The convsym layer inside an :class:`Applied` (or the layer itself)."""
    return layer.layer if isinstance(layer, Applied) else layer


def shape_of(owner: Layer, given: object, *, what: str, origin: str) -> Shape:
    """A user-given shape without the batch axis (ints, symbols or text) as canonical sizes."""
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence) or not given:
        raise SpecError(f"{what} must be a non-empty tuple of sizes without the batch axis, "
                        f"e.g. (28, 28, 1) or ('n', 'n', 1); got {given!r}", source=origin,
                        code="bad_input_shape")
    return tuple(to_size(owner, f"{what}[{i}]", v) for i, v in enumerate(given))


def unknown_sizes(rank: int, *, channels_first: bool, suffix: str = "") -> list[str]:
    """Symbol names for a rank-``rank`` input (no batch) whose sizes were not recorded.

    >>> unknown_sizes(3, channels_first=False), unknown_sizes(2, channels_first=True, suffix="_1")
    (['H', 'W', 'C'], ['C_1', 'L_1'])
    """
    spatial = list(AXIS_SYMBOLS.get(rank - 1, tuple(f"n{i + 1}" for i in range(rank - 1))))
    names = ["C", *spatial] if channels_first else [*spatial, "C"]
    return [n + suffix for n in names]


def const(value: int) -> QPoly:
    """A constant canonical size."""
    return QPoly.const(value)
