"""Keras layers that reshape without weights: padding, cropping, upsampling, global and
adaptive pooling, Reshape and Permute, with Keras's names, argument forms and defaults.

>>> from convsym import Sequential
>>> from convsym.layers.keras import Input
>>> net = Sequential([Input(("H", "W", 3)), ZeroPadding2D(((1, 2), (3, 4))),
...                   Cropping2D(1), UpSampling2D(2), GlobalAveragePooling2D()])
>>> [row.output_shape for row in net.rows]
[(H + 3, W + 7, 3), (H + 1, W + 5, 3), (2*H + 2, 2*W + 10, 3), (3,)]
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from functools import cached_property
from typing import Any, ClassVar

from convsym.intdiv import QPoly
from convsym.layers.base import Inference, Layer, Shape, to_flag, to_size, to_tuple
from convsym.layers.dialects import KerasLayer
from convsym.layers.frontend import layer_class
from convsym.layers.reduce import infer_adaptive_pool, infer_global_pool
from convsym.layers.reshape import infer_permute, infer_reshape
from convsym.layers.resize import infer_crop, infer_pad, infer_upsample

Pair = tuple[QPoly, QPoly]


def keras_pairs(layer: Layer, fld: str, value: object, rank: int) -> tuple[Pair, ...]:
    """Keras's padding/cropping forms: an int; for 1-D a ``(before, after)`` pair; for 2-D/3-D
    one int per axis (symmetric) or one ``(before, after)`` pair per axis."""
    if isinstance(value, (list, tuple)):
        items = list(value)
        if rank == 1:
            if len(items) != 2:
                raise layer.config_error(fld, tuple(items), "must be an integer or a "
                                         "(before, after) pair", code="wrong_tuple_length")
            return ((to_size(layer, f"{fld}[0]", items[0], minimum=0),
                     to_size(layer, f"{fld}[1]", items[1], minimum=0)),)
        if len(items) != rank:
            raise layer.config_error(fld, tuple(items),
                                     f"needs {rank} entries, one per spatial axis, each an "
                                     "integer or a (before, after) pair",
                                     code="wrong_tuple_length")
        out = []
        for i, item in enumerate(items):
            if isinstance(item, (list, tuple)):
                if len(item) != 2:
                    raise layer.config_error(f"{fld}[{i}]", tuple(item),
                                             "must be a (before, after) pair",
                                             code="wrong_tuple_length")
                out.append((to_size(layer, f"{fld}[{i}][0]", item[0], minimum=0),
                            to_size(layer, f"{fld}[{i}][1]", item[1], minimum=0)))
            else:
                one = to_size(layer, f"{fld}[{i}]", item, minimum=0)
                out.append((one, one))
        return tuple(out)
    one = to_size(layer, fld, value, minimum=0)
    return ((one, one),) * rank


class _PadMixin(KerasLayer):
    rank: ClassVar[int] = 2
    crop: ClassVar[bool] = False

    def validate(self) -> None:
        """Check eagerly."""
        self.pairs  # noqa: B018
        self.channels_first()

    @cached_property
    def pairs(self) -> tuple[Pair, ...]:
        """``(before, after)`` per spatial axis."""
        fld = "cropping" if self.crop else "padding"
        return keras_pairs(self, fld, getattr(self, fld), self.rank)

    def infer_one(self, shape: Shape) -> Inference:
        """Pad or crop every spatial axis."""
        if self.crop:
            return infer_crop(self, shape, self.pairs, self.channels_first())
        return infer_pad(self, shape, self.pairs, self.channels_first())


@layer_class
class ZeroPadding1D(_PadMixin):
    """``keras.layers.ZeroPadding1D(padding=1)``: ``n + p_l + p_r``."""

    rank: ClassVar[int] = 1
    padding: Any = 1
    data_format: str | None = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class ZeroPadding2D(_PadMixin):
    """``keras.layers.ZeroPadding2D(padding=(1, 1))``."""

    rank: ClassVar[int] = 2
    padding: Any = (1, 1)
    data_format: str | None = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class ZeroPadding3D(_PadMixin):
    """``keras.layers.ZeroPadding3D(padding=((1, 1), (1, 1), (1, 1)))``."""

    rank: ClassVar[int] = 3
    padding: Any = ((1, 1), (1, 1), (1, 1))
    data_format: str | None = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class Cropping1D(_PadMixin):
    """``keras.layers.Cropping1D(cropping=(1, 1))``: ``n - c_l - c_r``, at least 1."""

    rank: ClassVar[int] = 1
    crop: ClassVar[bool] = True
    cropping: Any = (1, 1)
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class Cropping2D(_PadMixin):
    """``keras.layers.Cropping2D(cropping=((0, 0), (0, 0)))``."""

    rank: ClassVar[int] = 2
    crop: ClassVar[bool] = True
    cropping: Any = ((0, 0), (0, 0))
    data_format: str | None = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class Cropping3D(_PadMixin):
    """``keras.layers.Cropping3D(cropping=((1, 1), (1, 1), (1, 1)))``."""

    rank: ClassVar[int] = 3
    crop: ClassVar[bool] = True
    cropping: Any = ((1, 1), (1, 1), (1, 1))
    data_format: str | None = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


class _UpMixin(KerasLayer):
    rank: ClassVar[int] = 2
    size: Any

    def validate(self) -> None:
        """Check eagerly."""
        to_tuple(self, "size", self.size, self.rank)
        self.channels_first()

    def infer_one(self, shape: Shape) -> Inference:
        """Repeat every cell ``size`` times per axis."""
        return infer_upsample(self, shape, to_tuple(self, "size", self.size,
                                                     self.rank), self.channels_first())


@layer_class
class UpSampling1D(_UpMixin):
    """``keras.layers.UpSampling1D(size=2)``: ``n s``."""

    rank: ClassVar[int] = 1
    size: Any = 2
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class UpSampling2D(_UpMixin):
    """``keras.layers.UpSampling2D(size=(2, 2))``; every interpolation gives the same shape."""

    rank: ClassVar[int] = 2
    size: Any = (2, 2)
    data_format: str | None = None
    interpolation: str = "nearest"
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class UpSampling3D(_UpMixin):
    """``keras.layers.UpSampling3D(size=(2, 2, 2))``."""

    rank: ClassVar[int] = 3
    size: Any = (2, 2, 2)
    data_format: str | None = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@dataclasses.dataclass(frozen=True, repr=False)
class _GlobalN(KerasLayer):
    rank: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "pool"

    data_format: str | None = None
    keepdims: bool = False
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check eagerly."""
        to_flag(self, "keepdims", self.keepdims)
        self.channels_first()

    def infer_one(self, shape: Shape) -> Inference:
        """``(C,)``, or size-1 spatial axes with ``keepdims=True``."""
        return infer_global_pool(self, shape, self.rank, self.channels_first(), self.keepdims)


@layer_class
class GlobalAveragePooling1D(_GlobalN):
    """``keras.layers.GlobalAveragePooling1D``."""

    rank: ClassVar[int] = 1


@layer_class
class GlobalAveragePooling2D(_GlobalN):
    """``keras.layers.GlobalAveragePooling2D``."""

    rank: ClassVar[int] = 2


@layer_class
class GlobalAveragePooling3D(_GlobalN):
    """``keras.layers.GlobalAveragePooling3D``."""

    rank: ClassVar[int] = 3


@layer_class
class GlobalMaxPooling1D(_GlobalN):
    """``keras.layers.GlobalMaxPooling1D``."""

    rank: ClassVar[int] = 1


@layer_class
class GlobalMaxPooling2D(_GlobalN):
    """``keras.layers.GlobalMaxPooling2D``."""

    rank: ClassVar[int] = 2


@layer_class
class GlobalMaxPooling3D(_GlobalN):
    """``keras.layers.GlobalMaxPooling3D``."""

    rank: ClassVar[int] = 3


@dataclasses.dataclass(frozen=True, repr=False)
class _AdaptiveN(KerasLayer):
    rank: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "pool"

    output_size: Any
    data_format: str | None = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check eagerly."""
        to_tuple(self, "output_size", self.output_size, self.rank)
        self.channels_first()

    def infer_one(self, shape: Shape) -> Inference:
        """The requested size on every spatial axis, for any input size."""
        sizes = to_tuple(self, "output_size", self.output_size, self.rank)
        return infer_adaptive_pool(self, shape, list(sizes), self.channels_first())


@layer_class
class AdaptiveAveragePooling1D(_AdaptiveN):
    """``keras.layers.AdaptiveAveragePooling1D``."""

    rank: ClassVar[int] = 1


@layer_class
class AdaptiveAveragePooling2D(_AdaptiveN):
    """``keras.layers.AdaptiveAveragePooling2D``."""

    rank: ClassVar[int] = 2


@layer_class
class AdaptiveAveragePooling3D(_AdaptiveN):
    """``keras.layers.AdaptiveAveragePooling3D``."""

    rank: ClassVar[int] = 3


@layer_class
class AdaptiveMaxPooling1D(_AdaptiveN):
    """``keras.layers.AdaptiveMaxPooling1D``."""

    rank: ClassVar[int] = 1


@layer_class
class AdaptiveMaxPooling2D(_AdaptiveN):
    """``keras.layers.AdaptiveMaxPooling2D``."""

    rank: ClassVar[int] = 2


@layer_class
class AdaptiveMaxPooling3D(_AdaptiveN):
    """``keras.layers.AdaptiveMaxPooling3D``."""

    rank: ClassVar[int] = 3


@layer_class
class Reshape(KerasLayer):
    """``keras.layers.Reshape(target_shape)``: at most one ``-1``, inferred."""

    target_shape: Any
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check eagerly."""
        self.target  # noqa: B018

    @cached_property
    def target(self) -> tuple[QPoly | None, ...]:
        """The target sizes, ``None`` for the ``-1`` entry."""
        if not isinstance(self.target_shape, (list, tuple)):
            raise self.config_error("target_shape", self.target_shape,
                                    "must be a tuple of sizes", code="bad_target_shape")
        out: list[QPoly | None] = []
        for i, v in enumerate(self.target_shape):
            if isinstance(v, int) and not isinstance(v, bool) and v == -1:
                if None in out:
                    raise self.config_error("target_shape", tuple(self.target_shape),
                                            "may contain at most one -1",
                                            code="two_unknowns")
                out.append(None)
            else:
                out.append(to_size(self, f"target_shape[{i}]", v))
        return tuple(out)

    def infer_one(self, shape: Shape) -> Inference:
        """Keep the number of elements."""
        return infer_reshape(self, shape, self.target)


@layer_class
class Permute(KerasLayer):
    """``keras.layers.Permute(dims)``: 1-based axes without the batch."""

    dims: Any
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check eagerly."""
        if not isinstance(self.dims, (list, tuple)) or not all(
                isinstance(d, int) and not isinstance(d, bool) for d in self.dims):
            raise self.config_error("dims", self.dims, "must be a tuple of integers",
                                    code="bad_permutation")
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise self.config_error("dims", tuple(self.dims),
                                    f"must be a permutation of 1..{len(self.dims)}",
                                    code="bad_permutation")

    def infer_one(self, shape: Shape) -> Inference:
        """Reorder the axes."""
        return infer_permute(self, shape, list(self.dims))


LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    ZeroPadding1D, ZeroPadding2D, ZeroPadding3D, Cropping1D, Cropping2D, Cropping3D,
    UpSampling1D, UpSampling2D, UpSampling3D, GlobalAveragePooling1D, GlobalAveragePooling2D,
    GlobalAveragePooling3D, GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D,
    AdaptiveAveragePooling1D, AdaptiveAveragePooling2D, AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D, AdaptiveMaxPooling2D, AdaptiveMaxPooling3D, Reshape, Permute)}
"""The Keras layers of this module, by class name."""
