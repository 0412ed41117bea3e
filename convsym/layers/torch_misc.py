"""PyTorch normalisation and pass-through modules, and convsym's merge layers for torch graphs.

PyTorch has no module for ``x + y`` or ``torch.cat``; in graphs written in the torch dialect
use convsym's :class:`Add`, :class:`Subtract`, :class:`Multiply`, :class:`Divide`
(element-wise, broadcasting) and
:class:`Concat` (``torch.cat(tensors, dim=1)``; ``dim`` counts the batch axis).

>>> from convsym.intdiv import QPoly
>>> Concat().infer([(QPoly.const(64), QPoly.const(7)), (QPoly.const(32), QPoly.const(7))]).shape
(QPoly(96), QPoly(7))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

from convsym.intdiv import QPoly
from convsym.layers.base import Inference, Layer, Shape, to_flag, to_size
from convsym.layers.dialects import TorchLayer
from convsym.layers.frontend import layer_class
from convsym.layers.merge import default_names, infer_concat, infer_elementwise
from convsym.layers.norm import infer_group_norm, infer_layer_norm


class _Merge(TorchLayer):
    n_inputs: ClassVar[int] = -1
    cost_kind: ClassVar[str] = "merge"
    exactly: ClassVar[int | None] = None

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """Merge shapes named ``input 0``, ``input 1``, ..."""
        return self.infer_named(inputs, default_names(len(inputs)))

    def infer_named(self, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """Broadcast and check that the branches agree."""
        return infer_elementwise(self, inputs, names, exactly=self.exactly)


@layer_class
class Add(_Merge):
    """convsym's ``x + y + ...`` for torch graphs (no torch.nn module exists)."""


@layer_class
class Subtract(_Merge):
    """convsym's ``x - y`` for torch graphs (exactly two inputs)."""

    exactly: ClassVar[int | None] = 2


@layer_class
class Multiply(_Merge):
    """convsym's ``x * y * ...`` for torch graphs."""


@layer_class
class Divide(_Merge):
    """convsym's ``x / y`` for torch graphs (exactly two inputs)."""

    exactly: ClassVar[int | None] = 2


@layer_class
class Concat(_Merge):
    """convsym's ``torch.cat(tensors, dim=1)`` for torch graphs; ``dim`` counts the batch."""

    cost_kind: ClassVar[str] = "none"

    dim: int = 1

    def validate(self) -> None:
        """Check eagerly."""
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim == 0:
            raise self.config_error("dim", self.dim, "must be an integer dimension other "
                                    "than the batch dimension 0", code="bad_axis")

    def infer_named(self, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """Sum the sizes on ``dim``; every other axis must agree."""
        return infer_concat(self, inputs, names, self.dim - 1 if self.dim > 0 else self.dim,
                            fld="dim")


@layer_class
class LayerNorm(TorchLayer):
    """``torch.nn.LayerNorm(normalized_shape)``: must match the input's trailing sizes."""

    cost_kind: ClassVar[str] = "norm"

    normalized_shape: Any
    eps: Any = 1e-05
    elementwise_affine: bool = True
    bias: bool = True

    def validate(self) -> None:
        """Check eagerly."""
        self.sizes()
        to_flag(self, "elementwise_affine", self.elementwise_affine)
        to_flag(self, "bias", self.bias)

    def sizes(self) -> list[QPoly]:
        """``normalized_shape`` as sizes."""
        return _normalized_sizes(self, self.normalized_shape)

    def infer_one(self, shape: Shape) -> Inference:
        """weight and bias of ``normalized_shape`` each (bias only with ``bias=True``)."""
        affine = self.elementwise_affine
        return infer_layer_norm(self, shape, [], "torch", scale=affine,
                                center=affine and self.bias, expected=self.sizes())


@layer_class
class RMSNorm(TorchLayer):
    """``torch.nn.RMSNorm(normalized_shape)`` (and ``F.rms_norm``): as :class:`LayerNorm`
    without the mean and the bias: a weight of ``normalized_shape`` when affine.

    >>> from convsym.intdiv import QPoly
    >>> out = RMSNorm(8).infer_one((QPoly.const(5), QPoly.const(8)))
    >>> out.shape, [w.name for w in out.weights]
    ((QPoly(5), QPoly(8)), ['weight'])
    """

    cost_kind: ClassVar[str] = "norm"

    normalized_shape: Any
    eps: Any = None
    elementwise_affine: bool = True

    def validate(self) -> None:
        """Check eagerly."""
        _normalized_sizes(self, self.normalized_shape)
        to_flag(self, "elementwise_affine", self.elementwise_affine)

    def infer_one(self, shape: Shape) -> Inference:
        """A weight of ``normalized_shape`` when affine; the trailing sizes must match."""
        return infer_layer_norm(self, shape, [], "torch", scale=self.elementwise_affine,
                                center=False,
                                expected=_normalized_sizes(self, self.normalized_shape))


def _normalized_sizes(layer: Layer, value: Any) -> list[QPoly]:
    """A norm's ``normalized_shape`` (a size or a list of them) as sizes."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    return [to_size(layer, f"normalized_shape[{i}]", v) for i, v in enumerate(items)]


@layer_class
class GroupNorm(TorchLayer):
    """``torch.nn.GroupNorm(num_groups, num_channels)``: ``2C`` parameters when affine."""

    cost_kind: ClassVar[str] = "norm"

    num_groups: Any
    num_channels: Any
    eps: Any = 1e-05
    affine: bool = True

    def validate(self) -> None:
        """num_groups must divide num_channels, as torch checks on construction."""
        g = to_size(self, "num_groups", self.num_groups).as_int()
        c = to_size(self, "num_channels", self.num_channels).as_int()
        if g is not None and c is not None and c % g:
            raise self.config_error("num_channels", c, f"must be divisible by num_groups ({g})",
                                    code="groups_not_dividing")
        to_flag(self, "affine", self.affine)

    def infer_one(self, shape: Shape) -> Inference:
        """Channels on axis 0 (no batch)."""
        return infer_group_norm(self, shape, 0, to_size(self, "num_groups", self.num_groups),
                                "torch", scale=self.affine, center=self.affine,
                                expected=to_size(self, "num_channels", self.num_channels),
                                fld="num_groups")


@dataclasses.dataclass(frozen=True, repr=False)
class _InstanceNormN(TorchLayer):
    rank: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "norm"

    num_features: Any
    eps: Any = 1e-05
    momentum: Any = 0.1
    affine: bool = False
    track_running_stats: bool = False

    def validate(self) -> None:
        """Check eagerly."""
        to_size(self, "num_features", self.num_features)
        to_flag(self, "affine", self.affine)
        to_flag(self, "track_running_stats", self.track_running_stats)

    def infer_one(self, shape: Shape) -> Inference:
        """weight and bias per channel when affine; the channels must match then."""
        expected = to_size(self, "num_features", self.num_features) if self.affine else None
        return infer_group_norm(self, shape, 0, None, "torch", scale=self.affine,
                                center=self.affine, expected=expected)


@layer_class
class InstanceNorm1d(_InstanceNormN):
    """``torch.nn.InstanceNorm1d``."""

    rank: ClassVar[int] = 1


@layer_class
class InstanceNorm2d(_InstanceNormN):
    """``torch.nn.InstanceNorm2d``."""

    rank: ClassVar[int] = 2


@layer_class
class InstanceNorm3d(_InstanceNormN):
    """``torch.nn.InstanceNorm3d``."""

    rank: ClassVar[int] = 3


LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    Add, Subtract, Multiply, Divide, Concat, LayerNorm, RMSNorm, GroupNorm, InstanceNorm1d,
    InstanceNorm2d, InstanceNorm3d)}
"""The PyTorch layers of this module, by class name."""
