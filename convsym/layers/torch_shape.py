"""PyTorch layers that resize without weights: padding, Upsample, adaptive pooling, Unflatten.

Padding follows ``torch.nn.functional.pad``: an int pads every spatial side; a tuple lists
``(left, right, top, bottom, front, back)`` from the LAST axis backwards, and may be shorter
(axes it does not reach are not padded).  Zero and constant padding may be negative (a crop).

>>> from convsym import Sequential
>>> net = Sequential([ZeroPad2d((1, 2, 3, 4)), Upsample(scale_factor=2),
...                   AdaptiveAvgPool2d(1)], input_shape=(3, "H", "W"))
>>> [row.output_shape for row in net.rows]
[(3, H + 7, W + 3), (3, 2*H + 14, 2*W + 6), (3, 1, 1)]
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any, ClassVar

from convsym.intdiv import QPoly
from convsym.layers.base import (
    Inference,
    Layer,
    Shape,
    to_choice,
    to_size,
    to_tuple,
)
from convsym.layers.conv import AXIS_NAMES
from convsym.layers.dialects import TorchLayer
from convsym.layers.frontend import layer_class
from convsym.layers.reduce import infer_adaptive_pool
from convsym.layers.reshape import infer_reshape
from convsym.layers.resize import infer_pad, infer_resize_to, infer_upsample


def _signed(layer: Layer, fld: str, value: object, negative: bool) -> QPoly:
    if negative and isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return QPoly.const(value)
    return to_size(layer, fld, value, minimum=0)


def torch_pads(layer: Layer, value: object, rank: int, *, negative: bool
               ) -> tuple[tuple[QPoly, QPoly], ...]:
    """``F.pad``-style padding to ``(before, after)`` per spatial axis, first axis first."""
    if not isinstance(value, (list, tuple)):
        one = _signed(layer, "padding", value, negative)
        return ((one, one),) * rank
    items = list(value)
    if len(items) % 2 or not 0 < len(items) <= 2 * rank:
        raise layer.config_error("padding", tuple(items),
                                 f"must be an integer or (left, right, ...) pairs for up to "
                                 f"{rank} axes, last axis first", code="wrong_tuple_length")
    sides = [_signed(layer, f"padding[{i}]", v, negative) for i, v in enumerate(items)]
    zero = QPoly.const(0)
    pairs = [(sides[2 * j], sides[2 * j + 1]) for j in range(len(items) // 2)]
    pairs += [(zero, zero)] * (rank - len(pairs))
    return tuple(reversed(pairs))


@dataclasses.dataclass(frozen=True, repr=False)
class _PadN(TorchLayer):
    rank: ClassVar[int] = 2
    mode: ClassVar[str] = "zeros"

    padding: Any

    def validate(self) -> None:
        """Check eagerly."""
        self.pairs()

    def pairs(self) -> tuple[tuple[QPoly, QPoly], ...]:
        """``(before, after)`` per spatial axis."""
        return torch_pads(self, self.padding, self.rank, negative=self.mode == "zeros")

    def infer_one(self, shape: Shape) -> Inference:
        """Pad every spatial axis."""
        return infer_pad(self, shape, self.pairs(), True, mode=self.mode)


@dataclasses.dataclass(frozen=True, repr=False)
class _ConstantPadN(_PadN):
    value: Any = 0.0


@layer_class
class ZeroPad1d(_PadN):
    """``torch.nn.ZeroPad1d``: negative padding crops."""

    rank: ClassVar[int] = 1


@layer_class
class ZeroPad2d(_PadN):
    """``torch.nn.ZeroPad2d``: negative padding crops."""

    rank: ClassVar[int] = 2


@layer_class
class ZeroPad3d(_PadN):
    """``torch.nn.ZeroPad3d``: negative padding crops."""

    rank: ClassVar[int] = 3


@layer_class
class ConstantPad1d(_ConstantPadN):
    """``torch.nn.ConstantPad1d``: negative padding crops."""

    rank: ClassVar[int] = 1


@layer_class
class ConstantPad2d(_ConstantPadN):
    """``torch.nn.ConstantPad2d``: negative padding crops."""

    rank: ClassVar[int] = 2


@layer_class
class ConstantPad3d(_ConstantPadN):
    """``torch.nn.ConstantPad3d``: negative padding crops."""

    rank: ClassVar[int] = 3


@layer_class
class ReflectionPad1d(_PadN):
    """``torch.nn.ReflectionPad1d`` (reflect padding)."""

    rank: ClassVar[int] = 1
    mode: ClassVar[str] = "reflect"


@layer_class
class ReflectionPad2d(_PadN):
    """``torch.nn.ReflectionPad2d`` (reflect padding)."""

    rank: ClassVar[int] = 2
    mode: ClassVar[str] = "reflect"


@layer_class
class ReflectionPad3d(_PadN):
    """``torch.nn.ReflectionPad3d`` (reflect padding)."""

    rank: ClassVar[int] = 3
    mode: ClassVar[str] = "reflect"


@layer_class
class ReplicationPad1d(_PadN):
    """``torch.nn.ReplicationPad1d`` (replicate padding)."""

    rank: ClassVar[int] = 1
    mode: ClassVar[str] = "replicate"


@layer_class
class ReplicationPad2d(_PadN):
    """``torch.nn.ReplicationPad2d`` (replicate padding)."""

    rank: ClassVar[int] = 2
    mode: ClassVar[str] = "replicate"


@layer_class
class ReplicationPad3d(_PadN):
    """``torch.nn.ReplicationPad3d`` (replicate padding)."""

    rank: ClassVar[int] = 3
    mode: ClassVar[str] = "replicate"


@layer_class
class CircularPad1d(_PadN):
    """``torch.nn.CircularPad1d`` (circular padding)."""

    rank: ClassVar[int] = 1
    mode: ClassVar[str] = "circular"


@layer_class
class CircularPad2d(_PadN):
    """``torch.nn.CircularPad2d`` (circular padding)."""

    rank: ClassVar[int] = 2
    mode: ClassVar[str] = "circular"


@layer_class
class CircularPad3d(_PadN):
    """``torch.nn.CircularPad3d`` (circular padding)."""

    rank: ClassVar[int] = 3
    mode: ClassVar[str] = "circular"


def _scale(layer: Layer, value: object, rank: int) -> tuple[QPoly, ...]:
    items = list(value) if isinstance(value, (list, tuple)) else [value] * rank
    if len(items) != rank:
        raise layer.config_error("scale_factor", tuple(items),
                                 f"needs {rank} values, one per spatial axis",
                                 code="wrong_tuple_length")
    out = []
    for i, v in enumerate(items):
        if isinstance(v, float) and not isinstance(v, bool):
            if not v.is_integer():
                raise layer.config_error("scale_factor", v,
                                         "convsym supports integer scale factors only "
                                         "(PyTorch gives floor(n * scale_factor))",
                                         code="unsupported_scale")
            v = int(v)
        elif isinstance(v, numbers.Real) and not isinstance(v, (bool, numbers.Integral)):
            raise layer.config_error("scale_factor", v, "must be an integer",
                                     code="unsupported_scale")
        out.append(to_size(layer, f"scale_factor[{i}]" if rank > 1 else "scale_factor", v))
    return tuple(out)


@dataclasses.dataclass(frozen=True, repr=False)
class _UpsampleBase(TorchLayer):
    fixed_rank: ClassVar[int | None] = None

    def validate(self) -> None:
        """Exactly one of size and scale_factor, as torch.nn.Upsample requires."""
        a: Any = self
        if (a.size is None) == (a.scale_factor is None):
            raise self.config_error("size", a.size,
                                    "give exactly one of size and scale_factor",
                                    code="size_or_scale")
        if a.size is not None and not isinstance(a.size, (list, tuple)):
            to_size(self, "size", a.size)
        if a.scale_factor is not None and not isinstance(a.scale_factor, (list, tuple)):
            _scale(self, a.scale_factor, 1)

    def infer_one(self, shape: Shape) -> Inference:
        """``n * scale_factor``, or the given size."""
        a: Any = self
        rank = len(shape) - 1
        if self.fixed_rank is not None and rank != self.fixed_rank or rank not in AXIS_NAMES:
            want = self.fixed_rank or "1, 2 or 3"
            raise self.shape_error("input shape", len(shape),
                                   f"expects (C, *spatial) with {want} spatial axes",
                                   code="wrong_rank")
        if a.size is not None:
            return infer_resize_to(self, shape, to_tuple(self, "size", a.size, rank), True)
        return infer_upsample(self, shape, _scale(self, a.scale_factor, rank), True)


@layer_class
class Upsample(_UpsampleBase):
    """``torch.nn.Upsample(size=None, scale_factor=None, mode='nearest')``; integer factors."""

    size: Any = None
    scale_factor: Any = None
    mode: str = "nearest"
    align_corners: Any = None
    recompute_scale_factor: Any = None

    def validate(self) -> None:
        """Check eagerly."""
        super().validate()
        to_choice(self, "mode", self.mode, ["nearest", "linear", "bilinear", "bicubic",
                                            "trilinear", "nearest-exact", "area"])


@layer_class
class UpsamplingNearest2d(_UpsampleBase):
    """``torch.nn.UpsamplingNearest2d(size=None, scale_factor=None)``."""

    fixed_rank: ClassVar[int | None] = 2
    size: Any = None
    scale_factor: Any = None


@layer_class
class UpsamplingBilinear2d(_UpsampleBase):
    """``torch.nn.UpsamplingBilinear2d(size=None, scale_factor=None)``."""

    fixed_rank: ClassVar[int | None] = 2
    size: Any = None
    scale_factor: Any = None


@dataclasses.dataclass(frozen=True, repr=False)
class _AdaptiveN(TorchLayer):
    rank: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "pool"

    output_size: Any

    def validate(self) -> None:
        """Check eagerly."""
        self.sizes()

    def sizes(self) -> list[QPoly | None]:
        """The output size per axis, ``None`` to keep the input's."""
        value = self.output_size
        items = list(value) if isinstance(value, (list, tuple)) else [value] * self.rank
        if len(items) != self.rank:
            raise self.config_error("output_size", tuple(items),
                                    f"needs {self.rank} values, one per spatial axis",
                                    code="wrong_tuple_length")
        if self.rank == 1 and None in items:
            raise self.config_error("output_size", value, "must be an integer for 1-D "
                                    "adaptive pooling (None keeps a size only in 2-D and 3-D)",
                                    code="bad_output_size")
        return [None if v is None else
                to_size(self, f"output_size[{i}]" if self.rank > 1 else "output_size", v)
                for i, v in enumerate(items)]

    def infer_one(self, shape: Shape) -> Inference:
        """The requested size on every spatial axis, for any input size."""
        return infer_adaptive_pool(self, shape, self.sizes(), True)


@dataclasses.dataclass(frozen=True, repr=False)
class _AdaptiveMaxN(_AdaptiveN):
    return_indices: bool = False


@layer_class
class AdaptiveAvgPool1d(_AdaptiveN):
    """``torch.nn.AdaptiveAvgPool1d``."""

    rank: ClassVar[int] = 1


@layer_class
class AdaptiveAvgPool2d(_AdaptiveN):
    """``torch.nn.AdaptiveAvgPool2d``."""

    rank: ClassVar[int] = 2


@layer_class
class AdaptiveAvgPool3d(_AdaptiveN):
    """``torch.nn.AdaptiveAvgPool3d``."""

    rank: ClassVar[int] = 3


@layer_class
class AdaptiveMaxPool1d(_AdaptiveMaxN):
    """``torch.nn.AdaptiveMaxPool1d``."""

    rank: ClassVar[int] = 1


@layer_class
class AdaptiveMaxPool2d(_AdaptiveMaxN):
    """``torch.nn.AdaptiveMaxPool2d``."""

    rank: ClassVar[int] = 2


@layer_class
class AdaptiveMaxPool3d(_AdaptiveMaxN):
    """``torch.nn.AdaptiveMaxPool3d``."""

    rank: ClassVar[int] = 3


@layer_class
class Unflatten(TorchLayer):
    """``torch.nn.Unflatten(dim, unflattened_size)``; ``dim`` counts the batch axis."""

    dim: Any
    unflattened_size: Any

    def validate(self) -> None:
        """Check eagerly."""
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim == 0:
            raise self.config_error("dim", self.dim, "must be an integer dimension other "
                                    "than the batch dimension 0", code="bad_axis")
        self.target()

    def target(self) -> list[QPoly | None]:
        """The new sizes, ``None`` for a ``-1``."""
        if not isinstance(self.unflattened_size, (list, tuple)) or not self.unflattened_size:
            raise self.config_error("unflattened_size", self.unflattened_size,
                                    "must be a non-empty tuple of sizes", code="bad_target_shape")
        out: list[QPoly | None] = []
        for i, v in enumerate(self.unflattened_size):
            if isinstance(v, int) and not isinstance(v, bool) and v == -1 and None not in out:
                out.append(None)
            else:
                out.append(to_size(self, f"unflattened_size[{i}]", v))
        return out

    def infer_one(self, shape: Shape) -> Inference:
        """Split one axis into several whose product is its size."""
        rank = len(shape) + 1
        if not -rank <= self.dim < rank:
            raise self.config_error("dim", self.dim, f"is out of range for a rank-{rank} "
                                    "input (with batch)", code="bad_axis")
        pos = self.dim % rank - 1
        split = infer_reshape(self, (shape[pos],), self.target(), fld="unflattened_size")
        split.shape = (*shape[:pos], *split.shape, *shape[pos + 1:])
        return split


LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    ZeroPad1d, ZeroPad2d, ZeroPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
    ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
    ReplicationPad3d, CircularPad1d, CircularPad2d, CircularPad3d, Upsample,
    UpsamplingNearest2d, UpsamplingBilinear2d, AdaptiveAvgPool1d, AdaptiveAvgPool2d,
    AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, Unflatten)}
"""The PyTorch layers of this module, by class name."""
