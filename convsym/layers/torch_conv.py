"""PyTorch transposed convolutions (``nn.ConvTranspose1d/2d/3d``), with torch.nn's arguments.

Output ``(n - 1)s - 2p + d(k - 1) + op + 1``; ``output_padding < max(stride, dilation)``;
groups divide both channel counts; weight ``(C_in, C_out/g, *k)``.  ``output_size`` stands
for PyTorch's ``forward(x, output_size=...)`` (the usual way a U-Net decoder matches its skip):
the spatial sizes, or PyTorch's full ``(N, C, *spatial)`` form whose first two entries it
ignores; each must lie in ``[m, m + stride - 1]`` with ``m`` the size without output padding
(see :mod:`convsym.layers.transpose`), and then ``output_padding`` is not used.

>>> from convsym import Sequential
>>> net = Sequential([ConvTranspose2d(100, 512, 4, 1, 0, bias=False)],
...                  input_shape=(100, 1, 1))
>>> net.output_shape, net.total_params
((512, 4, 4), 819200)
>>> from convsym.errors import ConvsymError
>>> up = ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_size=("2*H", "2*W"))
>>> net = Sequential([up], input_shape=(8, "H", "W"))
>>> net.output_shape, [str(c) for c in net.conditions]
((4, 2*H, 2*W), [])
>>> try:
...     Sequential([with_output_size(up, (9, 11))], input_shape=(8, 5, 5))
... except ConvsymError as err:
...     print(err.rule)
requested an output size of 11, but valid sizes range from 9 to 10 (for an input of 5)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from convsym.intdiv import QPoly
from convsym.layers.base import (
    Inference,
    Layer,
    Shape,
    is_padding_mode,
    to_choice,
    to_flag,
    to_size,
    to_tuple,
)
from convsym.layers.dialects import TorchLayer
from convsym.layers.frontend import layer_class
from convsym.layers.transpose import TransposeConfig, infer_conv_transpose


@dataclasses.dataclass(frozen=True, repr=False)
class _ConvTransposeN(TorchLayer):
    rank: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "conv"

    in_channels: Any
    out_channels: Any
    kernel_size: Any
    stride: Any = 1
    padding: Any = 0
    output_padding: Any = 0
    groups: Any = 1
    bias: bool = True
    dilation: Any = 1
    padding_mode: str = "zeros"
    output_size: Any = None

    def validate(self) -> None:
        """Check every hyperparameter as torch.nn does."""
        self.config  # noqa: B018

    @cached_property
    def config(self) -> TransposeConfig:
        """The normalised configuration."""
        rank = self.rank
        if isinstance(self.padding, str) and is_padding_mode(self.padding):  # "p": a size
            raise self.config_error("padding", self.padding,
                                    f"{self.type_name} takes integer padding only (no "
                                    "'same' or 'valid')", code="bad_padding")
        to_choice(self, "padding_mode", self.padding_mode, ["zeros"])
        strides = to_tuple(self, "stride", self.stride, rank)
        dilation = to_tuple(self, "dilation", self.dilation, rank)
        op = to_tuple(self, "output_padding", self.output_padding, rank, minimum=0)
        for o, s, d in zip(op, strides, dilation) if self.output_size is None else ():
            oi, si, di = o.as_int(), s.as_int(), d.as_int()
            if oi is not None and si is not None and di is not None and oi >= max(si, di):
                raise self.config_error("output_padding", self.output_padding,
                                        f"must be smaller than either stride ({self.stride}) "
                                        f"or dilation ({self.dilation})",
                                        code="output_padding_too_large")
        groups = to_size(self, "groups", self.groups)
        in_channels = to_size(self, "in_channels", self.in_channels)
        out_channels = to_size(self, "out_channels", self.out_channels)
        g = groups.as_int()
        for fld, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            v = value.as_int()
            if g is not None and v is not None and v % g:
                raise self.config_error(fld, v, f"must be divisible by groups ({g})",
                                        code="groups_not_dividing")
        return TransposeConfig(
            rank=rank, filters=out_channels,
            kernel=to_tuple(self, "kernel_size", self.kernel_size, rank), strides=strides,
            dilation=dilation, groups=groups, bias=to_flag(self, "bias", self.bias),
            mode="torch", pads=to_tuple(self, "padding", self.padding, rank, minimum=0),
            output_padding=op, channels_first=True, dialect="torch", in_channels=in_channels,
            output_size=self._output_size())

    def _output_size(self) -> tuple[QPoly, ...] | None:
        """The spatial sizes asked for, as PyTorch's ``_output_padding`` reads them."""
        given = self.output_size
        if given is None:
            return None
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
            raise self.config_error("output_size", given, "must be a list of sizes, one per "
                                    "spatial axis", code="bad_output_size")
        rank = self.rank
        if len(given) == rank + 2:  # (N, C, *spatial): PyTorch drops the first two
            given = tuple(given)[2:]
        if len(given) != rank:
            raise self.config_error("output_size", tuple(given),
                                    f"ConvTranspose{rank}D: for {rank + 2}D input, output_size "
                                    f"must have {rank} or {rank + 2} elements (got "
                                    f"{len(given)})", code="bad_output_size")
        return tuple(to_size(self, f"output_size[{i}]", v, minimum=0)
                     for i, v in enumerate(given))

    def infer_one(self, shape: Shape) -> Inference:
        """Apply the transposed-convolution core."""
        return infer_conv_transpose(self, shape, self.config)


@layer_class
class ConvTranspose1d(_ConvTransposeN):
    """``torch.nn.ConvTranspose1d``."""

    rank: ClassVar[int] = 1


@layer_class
class ConvTranspose2d(_ConvTransposeN):
    """``torch.nn.ConvTranspose2d``."""

    rank: ClassVar[int] = 2


@layer_class
class ConvTranspose3d(_ConvTransposeN):
    """``torch.nn.ConvTranspose3d``."""

    rank: ClassVar[int] = 3


def with_output_size(layer: Layer, sizes: Sequence[object]) -> Layer:
    """``layer`` (a ConvTranspose*d) called as ``layer(x, output_size=sizes)``: for importers.

    ``sizes`` are ints, SymPy expressions or text, spatial only or PyTorch's full
    ``(N, C, *spatial)`` form.
    """
    if not isinstance(layer, _ConvTransposeN):
        raise layer.config_error("output_size", tuple(sizes), f"{layer.type_name} takes no "
                                 "output_size (only ConvTranspose*d does)",
                                 code="bad_output_size")
    return dataclasses.replace(layer, output_size=tuple(sizes))


LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls for cls in (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)}
"""The PyTorch layers of this module, by class name."""
