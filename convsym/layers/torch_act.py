"""PyTorch activation and dropout modules: the shape passes through (PReLU has weights).

Activations count one operation per element in :func:`convsym.costing.costs`; dropout none.

>>> from convsym.intdiv import QPoly
>>> PReLU(64).infer([(QPoly.const(64), QPoly.const(7))]).weights[0].shape
(QPoly(64),)
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from convsym.layers.agree import require_equal
from convsym.layers.base import Inference, Layer, Shape, Weight, to_size
from convsym.layers.core import infer_identity
from convsym.layers.dialects import TorchLayer
from convsym.layers.frontend import layer_class
from convsym.sizes import mul_sizes


@dataclasses.dataclass(frozen=True, repr=False)
class _Activation(TorchLayer):
    cost_kind: ClassVar[str] = "activation"

    def infer_one(self, shape: Shape) -> Inference:
        """The shape passes through; one operation per element for an activation."""
        out = infer_identity(shape)
        if self.cost_kind == "activation":
            out.ops = mul_sizes(*shape)
        return out


@layer_class
class LeakyReLU(_Activation):
    """``torch.nn.LeakyReLU``."""

    negative_slope: Any = 0.01
    inplace: Any = False


@layer_class
class Softmax(_Activation):
    """``torch.nn.Softmax``."""

    dim: Any = None


@layer_class
class LogSoftmax(_Activation):
    """``torch.nn.LogSoftmax``."""

    dim: Any = None


@layer_class
class Sigmoid(_Activation):
    """``torch.nn.Sigmoid``."""


@layer_class
class Tanh(_Activation):
    """``torch.nn.Tanh``."""


@layer_class
class SiLU(_Activation):
    """``torch.nn.SiLU``."""

    inplace: Any = False


@layer_class
class ReLU6(_Activation):
    """``torch.nn.ReLU6``."""

    inplace: Any = False


@layer_class
class Hardswish(_Activation):
    """``torch.nn.Hardswish``."""

    inplace: Any = False


@layer_class
class Hardsigmoid(_Activation):
    """``torch.nn.Hardsigmoid``."""

    inplace: Any = False


@layer_class
class GELU(_Activation):
    """``torch.nn.GELU``."""

    approximate: Any = "none"


@layer_class
class ELU(_Activation):
    """``torch.nn.ELU``."""

    alpha: Any = 1.0
    inplace: Any = False


@layer_class
class Mish(_Activation):
    """``torch.nn.Mish``."""

    inplace: Any = False


@layer_class
class Softplus(_Activation):
    """``torch.nn.Softplus``."""

    beta: Any = 1.0
    threshold: Any = 20.0


@layer_class
class Dropout1d(_Activation):
    """``torch.nn.Dropout1d``."""

    cost_kind: ClassVar[str] = "none"

    p: Any = 0.5
    inplace: Any = False


@layer_class
class Dropout2d(_Activation):
    """``torch.nn.Dropout2d``."""

    cost_kind: ClassVar[str] = "none"

    p: Any = 0.5
    inplace: Any = False


@layer_class
class Dropout3d(_Activation):
    """``torch.nn.Dropout3d``."""

    cost_kind: ClassVar[str] = "none"

    p: Any = 0.5
    inplace: Any = False


@layer_class
class AlphaDropout(_Activation):
    """``torch.nn.AlphaDropout``."""

    cost_kind: ClassVar[str] = "none"

    p: Any = 0.5
    inplace: Any = False


@layer_class
class PReLU(_Activation):
    """``torch.nn.PReLU(num_parameters=1, init=0.25)``: 1 or one per channel (axis 0)."""

    num_parameters: Any = 1
    init: Any = 0.25

    def validate(self) -> None:
        """Check eagerly."""
        to_size(self, "num_parameters", self.num_parameters)

    def infer_one(self, shape: Shape) -> Inference:
        """``num_parameters`` weights; more than one must equal the channels."""
        count = to_size(self, "num_parameters", self.num_parameters)
        out = super().infer_one(shape)
        if count.as_int() != 1:
            if not shape:
                raise self.shape_error("input shape", "()", "needs a channel axis",
                                       code="wrong_rank")
            out.conditions += require_equal(
                self, "num_parameters", count, shape[0],
                rule="num_parameters must be 1 or the number of channels",
                what=f"num_parameters {count.as_int() or count} differs from the channels")
        out.weights = [Weight("weight", (count,))]
        return out


LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    LeakyReLU, Softmax, LogSoftmax, Sigmoid, Tanh, SiLU, ReLU6, Hardswish, Hardsigmoid,
    GELU, ELU, Mish, Softplus, Dropout1d, Dropout2d, Dropout3d, AlphaDropout, PReLU)}
"""The PyTorch layers of this module, by class name."""
