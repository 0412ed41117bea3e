"""Cores of the layers without a spatial window: dense, flatten, normalisation, pass-through.

>>> from convsym.layers.keras import Dense
>>> from convsym.intdiv import QPoly, to_sympy
>>> out = Dense(10).infer([(QPoly.const(1280),)])
>>> to_sympy(out.trainable)
12810
"""

from __future__ import annotations

from convsym.intdiv import QExpr, QPoly, as_int, to_sympy
from convsym.layers.base import Condition, Inference, Layer, Shape, Weight
from convsym.sizes import mul_sizes


def product(shape: Shape, layer: Layer) -> QPoly:
    """The number of elements of a shape (all of whose sizes must be polynomials)."""
    total = QPoly.const(1)
    for s in shape:
        if not isinstance(s, QPoly):
            raise layer.shape_error("input shape", str(to_sympy(s)),
                                    "cannot flatten a size that is a Min/Max",
                                    code="bad_flatten")
        total = total * s
    return total


def infer_flatten(layer: Layer, shape: Shape, *, start: int = 0) -> Inference:
    """Flatten the axes from ``start`` on (Keras: all; PyTorch: start_dim=1, i.e. 0 here)."""
    head = shape[:start]
    return Inference((*head, product(shape[start:], layer)))


def infer_dense(layer: Layer, shape: Shape, units: QPoly, bias: bool, dialect: str,
                in_features: QPoly | None = None) -> Inference:
    """Dense / Linear on the last axis: ``in * out + out`` parameters."""
    if not shape:
        raise layer.shape_error("input shape", "()", "needs at least one axis",
                                code="wrong_rank")
    n_in = shape[-1]
    if not isinstance(n_in, QPoly):
        raise layer.shape_error("input features", str(to_sympy(n_in)),
                                "must not be a Min/Max", code="bad_features")
    conditions: list[Condition] = []
    if in_features is not None:
        a, b = as_int(n_in), as_int(in_features)
        if a is not None and b is not None:
            if a != b:
                raise layer.shape_error(
                    "in_features", b,
                    f"does not match the input, which has {a} features",
                    code="feature_mismatch")
        elif n_in != in_features:
            conditions.append(Condition.equal(n_in, in_features, "features",
                                              "in_features must equal the input's last axis"))
        n_in = in_features
    if dialect == "keras":
        weights = [Weight("kernel", (n_in, units))]
    else:
        weights = [Weight("weight", (units, n_in))]
    if bias:
        weights.append(Weight("bias", (units,)))
    rows = mul_sizes(*shape[:-1])
    bias_macs = mul_sizes(rows, units) if bias else QPoly.const(0)
    return Inference((*shape[:-1], units), weights, conditions, [],
                     mul_sizes(rows, n_in, units), bias_macs=bias_macs)


def infer_batchnorm(layer: Layer, shape: Shape, axis: int, dialect: str, *, affine: bool = True,
                    expected: QPoly | None = None) -> Inference:
    """BatchNorm over the channel axis.

    Keras: gamma, beta trainable and moving mean/variance non-trainable (``4C``, ``2C`` of
    them non-trainable).  PyTorch: weight and bias (``2C``); running statistics are buffers.
    """
    if not shape:
        raise layer.shape_error("input shape", "()", "needs a channel axis", code="wrong_rank")
    try:
        channels = shape[axis]
    except IndexError:
        raise layer.config_error("axis", axis, f"is out of range for a rank-{len(shape)} input",
                                 code="bad_axis") from None
    if not isinstance(channels, QPoly):
        raise layer.shape_error("channels", str(to_sympy(channels)), "must not be a Min/Max",
                                code="bad_channels")
    conditions: list[Condition] = []
    if expected is not None:
        a, b = as_int(channels), as_int(expected)
        if a is not None and b is not None and a != b:
            raise layer.shape_error("num_features", b,
                                    f"does not match the input, which has {a} channels",
                                    code="channel_mismatch")
        if (a is None or b is None) and channels != expected:
            conditions.append(Condition.equal(channels, expected, "channels",
                                              "num_features must equal the input's channels"))
    weights: list[Weight] = []
    if dialect == "keras":
        weights = [Weight("gamma", (channels,)), Weight("beta", (channels,)),
                   Weight("moving_mean", (channels,), trainable=False),
                   Weight("moving_variance", (channels,), trainable=False)]
    elif affine:
        weights = [Weight("weight", (channels,)), Weight("bias", (channels,))]
    return Inference(tuple(shape), weights, conditions, ops=mul_sizes(*shape))


def infer_identity(shape: Shape) -> Inference:
    """Activation, Dropout and friends: the shape passes through unchanged."""
    return Inference(tuple(shape))


def same_expr(a: QExpr, b: QExpr) -> bool:
    """Structural equality of two canonical sizes."""
    return a == b
