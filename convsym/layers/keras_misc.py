"""Keras merge, normalisation and pass-through layers, with Keras's names and defaults.

Merge layers take a list of tensors in the functional style, ``Add()([x, y])``; branch shapes
must agree (see :mod:`convsym.layers.merge`).

>>> from convsym.layers.keras import Input, Conv2D
>>> x = Input(("n", "n", 3))
>>> y = Concatenate()([Conv2D(8, 3, padding="same")(x), x])
>>> y.shape
(n, n, 11)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import field
from typing import Any, ClassVar

from convsym.intdiv import QPoly
from convsym.layers.base import Inference, Layer, Shape, Weight, to_flag, to_size
from convsym.layers.core import infer_identity
from convsym.layers.dialects import KerasLayer
from convsym.layers.frontend import layer_class
from convsym.layers.merge import default_names, infer_concat, infer_elementwise
from convsym.layers.norm import infer_group_norm, infer_layer_norm
from convsym.sizes import mul_sizes


class _Merge(KerasLayer):
    n_inputs: ClassVar[int] = -1
    cost_kind: ClassVar[str] = "merge"
    exactly: ClassVar[int | None] = None

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """Merge shapes named ``input 0``, ``input 1``, ..."""
        return self.infer_named(inputs, default_names(len(inputs)))

    def infer_named(self, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """Broadcast and check that the branches agree."""
        return infer_elementwise(self, inputs, names, exactly=self.exactly)


@dataclasses.dataclass(frozen=True, repr=False)
class _MergeN(_Merge):
    name: str | None = None


@layer_class
class Add(_MergeN):
    """``keras.layers.Add``: element-wise sum of equal (or broadcastable) shapes."""


@layer_class
class Subtract(_MergeN):
    """``keras.layers.Subtract``: exactly two inputs."""

    exactly: ClassVar[int | None] = 2


@layer_class
class Multiply(_MergeN):
    """``keras.layers.Multiply``: element-wise product."""


@layer_class
class Average(_MergeN):
    """``keras.layers.Average``."""


@layer_class
class Maximum(_MergeN):
    """``keras.layers.Maximum``."""


@layer_class
class Minimum(_MergeN):
    """``keras.layers.Minimum``."""


@layer_class
class Concatenate(_Merge):
    """``keras.layers.Concatenate(axis=-1)``; ``axis`` counts the batch axis as 0."""

    cost_kind: ClassVar[str] = "none"

    axis: int = -1
    name: str | None = None

    def validate(self) -> None:
        """Check eagerly."""
        if isinstance(self.axis, bool) or not isinstance(self.axis, int):
            raise self.config_error("axis", self.axis, "must be an integer axis",
                                    code="bad_axis")
        if self.axis == 0:
            raise self.config_error("axis", 0, "concatenating along the batch axis is not "
                                    "supported (convsym shapes have no batch axis)",
                                    code="bad_axis")

    def infer_named(self, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """Sum the sizes on ``axis``; every other axis must agree."""
        axis = self.axis - 1 if self.axis > 0 else self.axis
        return infer_concat(self, inputs, names, axis)


@layer_class
class LayerNormalization(KerasLayer):
    """``keras.layers.LayerNormalization``: gamma and beta over ``axis`` (an int or a list)."""

    cost_kind: ClassVar[str] = "norm"

    axis: Any = -1
    epsilon: Any = 0.001
    center: bool = True
    scale: bool = True
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check eagerly."""
        axes = self.axis if isinstance(self.axis, (list, tuple)) else [self.axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
            raise self.config_error("axis", self.axis, "must be an integer or a list of them",
                                    code="bad_axis")
        to_flag(self, "center", self.center)
        to_flag(self, "scale", self.scale)

    def infer_one(self, shape: Shape) -> Inference:
        """``2 prod(sizes of the normalised axes)`` parameters."""
        axes = self.axis if isinstance(self.axis, (list, tuple)) else [self.axis]
        positions = []
        for a in axes:
            pos = a - 1 if a > 0 else len(shape) + a
            if not 0 <= pos < len(shape):
                raise self.config_error("axis", a, f"is out of range for a rank-{len(shape)} "
                                        "input (Keras counts the batch axis as 0)",
                                        code="bad_axis")
            positions.append(pos)
        return infer_layer_norm(self, shape, positions, "keras", scale=self.scale,
                                center=self.center)


@layer_class
class GroupNormalization(KerasLayer):
    """``keras.layers.GroupNormalization(groups=32)``; ``groups=-1`` is instance norm."""

    cost_kind: ClassVar[str] = "norm"

    groups: Any = 32
    axis: int = -1
    epsilon: Any = 0.001
    center: bool = True
    scale: bool = True
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check eagerly."""
        if self.groups != -1:
            to_size(self, "groups", self.groups)
        if isinstance(self.axis, bool) or not isinstance(self.axis, int) or self.axis == 0:
            raise self.config_error("axis", self.axis, "must be an integer axis other than "
                                    "the batch axis 0", code="bad_axis")
        to_flag(self, "center", self.center)
        to_flag(self, "scale", self.scale)

    def infer_one(self, shape: Shape) -> Inference:
        """gamma and beta per channel: ``2C``; the groups must divide C."""
        groups = None if self.groups == -1 else to_size(self, "groups", self.groups)
        axis = self.axis - 1 if self.axis > 0 else self.axis
        return infer_group_norm(self, shape, axis, groups, "keras", scale=self.scale,
                                center=self.center)


@dataclasses.dataclass(frozen=True, repr=False)
class _PassThrough(KerasLayer):
    cost_kind: ClassVar[str] = "activation"

    def infer_one(self, shape: Shape) -> Inference:
        """The shape passes through; one operation per element when an activation."""
        out = infer_identity(shape)
        if self.cost_kind == "activation":
            out.ops = mul_sizes(*shape)
        return out


@layer_class
class LeakyReLU(_PassThrough):
    """``keras.layers.LeakyReLU(negative_slope=0.3)``."""

    negative_slope: Any = 0.3
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    @property
    def base_name(self) -> str:
        """Keras names it ``leaky_re_lu``."""
        return "leaky_re_lu"


@layer_class
class Softmax(_PassThrough):
    """``keras.layers.Softmax(axis=-1)``."""

    axis: Any = -1
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class ELU(_PassThrough):
    """``keras.layers.ELU(alpha=1.0)``."""

    alpha: Any = 1.0
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class PReLU(_PassThrough):
    """``keras.layers.PReLU``: one alpha per element, shared along ``shared_axes``."""

    alpha_initializer: Any = "Zeros"
    alpha_regularizer: Any = None
    alpha_constraint: Any = None
    shared_axes: Any = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def infer_one(self, shape: Shape) -> Inference:
        """alpha has the input's shape with shared axes (1-based) set to 1."""
        shared = self.shared_axes
        if shared is None:
            shared = []
        elif not isinstance(shared, (list, tuple)):
            shared = [shared]
        alpha = []
        for pos, size in enumerate(shape, start=1):
            if pos in shared:
                alpha.append(QPoly.const(1))
            elif isinstance(size, QPoly):
                alpha.append(size)
            else:
                raise self.shape_error("input shape", None, "alpha cannot have a Min/Max "
                                       "size; share that axis", code="bad_channels")
        out = super().infer_one(shape)
        out.weights = [Weight("alpha", tuple(alpha))]
        return out


@layer_class
class SpatialDropout1D(_PassThrough):
    """``keras.layers.SpatialDropout1D(rate)``."""

    cost_kind: ClassVar[str] = "none"
    rate: Any
    seed: Any = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class SpatialDropout2D(_PassThrough):
    """``keras.layers.SpatialDropout2D(rate)``."""

    cost_kind: ClassVar[str] = "none"
    rate: Any
    data_format: str | None = None
    seed: Any = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class SpatialDropout3D(_PassThrough):
    """``keras.layers.SpatialDropout3D(rate)``."""

    cost_kind: ClassVar[str] = "none"
    rate: Any
    data_format: str | None = None
    seed: Any = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class GaussianNoise(_PassThrough):
    """``keras.layers.GaussianNoise(stddev)``."""

    cost_kind: ClassVar[str] = "none"
    stddev: Any
    seed: Any = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class GaussianDropout(_PassThrough):
    """``keras.layers.GaussianDropout(rate)``."""

    cost_kind: ClassVar[str] = "none"
    rate: Any
    seed: Any = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class Identity(_PassThrough):
    """``keras.layers.Identity``."""

    cost_kind: ClassVar[str] = "none"
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, LayerNormalization,
    GroupNormalization, LeakyReLU, Softmax, ELU, PReLU, SpatialDropout1D, SpatialDropout2D,
    SpatialDropout3D, GaussianNoise, GaussianDropout, Identity)}
"""The Keras layers of this module, by class name."""
