"""One small description of a network that every peer can run: convsym's own layers, turned
into a list of primitive ops (channels-first, PyTorch semantics).

The benchmark takes each network from convsym itself (the built-in examples, or a chain of
convolutions built with convsym's PyTorch layers) and converts it here, so that every peer
works on exactly the network convsym derives: a torch.fx module for torch.export and ONNX,
a layer-by-layer SymPy formula, and plain-integer propagation.  A Keras network (the U-Net)
is converted to channels-first; its shapes are the same.

Ops: ``conv``, ``convT``, ``maxpool``, ``avgpool``, ``bn``, ``act``, ``add``, ``concat``,
``crop``, ``adaptive_avg``, ``flatten``, ``linear``; every spatial argument is one value per
axis (H, W); a symbolic stride is kept as its name (a string).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Spatial = tuple[Any, Any]
PASS_THROUGH = {"BatchNorm2d", "BatchNormalization", "ReLU", "ReLU6", "Dropout", "Identity",
                "Activation", "Tanh", "Sigmoid"}


@dataclass(frozen=True)
class Op:
    """One primitive operation with the indices of its inputs."""

    kind: str
    name: str
    inputs: tuple[int, ...]
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Net:
    """A network as ops, with its input shape (C, H, W) and where to read the final size.

    ``probe`` is the last op whose spatial size depends on the input size (the last feature
    map before a global pooling, or the output of a fully convolutional network);
    ``outputs`` are what the torch module returns: the probe first, then the network output.
    """

    name: str
    ops: list[Op]
    channels: int
    probe: int
    output: int
    dialect: str = "torch"
    symbolic_stride: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def layers(self) -> int:
        """The number of ops other than the input."""
        return len(self.ops) - 1


class Unsupported(ValueError):
    """A layer kind this converter does not know (the benchmark reports it and skips)."""


def _int(q: Any) -> Any:
    """A QPoly hyperparameter as an int, or its symbol name when it is a single symbol."""
    from convsym.intdiv import to_sympy

    value = q.as_int()
    if value is not None:
        return value
    expr = to_sympy(q)
    if expr.is_Symbol:
        return expr.name
    raise Unsupported(f"hyperparameter {expr} is neither an integer nor one symbol")


def _pairs(value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras cropping forms: an int, one int per axis, or a (before, after) pair per axis."""
    if isinstance(value, int):
        return ((value, value), (value, value))
    a, b = value
    return tuple((x, x) if isinstance(x, int) else (int(x[0]), int(x[1]))  # type: ignore[return-value]
                 for x in (a, b))


def from_network(net: Any, *, symbolic_stride: str | None = None) -> Net:
    """Convert a convsym network with one 2-D input (symbolic H and W) to ops."""
    from convsym.intdiv import as_int

    channels_first = net.dialect == "torch"
    shapes = net.shapes
    ops: list[Op] = []
    index_of: dict[int, int] = {}
    channels = 0

    def chan(i: int) -> int:
        shape = shapes[i]
        value = as_int(shape[0] if channels_first else shape[-1])
        if value is None:
            raise Unsupported("symbolic channel counts")
        return value

    for i, node in enumerate(net.nodes):
        layer = node.layer
        kind = type(layer).__name__
        parents = tuple(index_of[p] for p in node.parents)
        name = node.name
        if i in net.input_shapes:
            channels = chan(i)
            ops.append(Op("input", name, ()))
        elif kind in ("Conv2d", "Conv2D"):
            cfg = layer.config
            if cfg.padding == "valid":
                pads = ((0, 0), (0, 0))
            elif cfg.padding == "explicit":
                pads = tuple((_int(a), _int(b)) for a, b in cfg.pads)
            else:
                raise Unsupported(f"{kind} padding {cfg.padding!r}")
            ops.append(Op("conv", name, parents, {
                "cin": chan(node.parents[0]), "cout": _int(cfg.filters),
                "kernel": tuple(_int(k) for k in cfg.kernel),
                "stride": tuple(_int(s) for s in cfg.strides),
                "dilation": tuple(_int(d) for d in cfg.dilation),
                "pads": pads, "groups": _int(cfg.groups), "bias": cfg.bias,
                "relu": getattr(layer, "activation", None) == "relu"}))
        elif kind in ("MaxPool2d", "MaxPooling2D", "AvgPool2d", "AveragePooling2D"):
            cfg = layer.config
            if cfg.mode == "torch":
                pads = tuple((_int(p), _int(p)) for p in cfg.padding)
                dilation = tuple(_int(d) for d in cfg.dilation)
            elif cfg.mode == "keras_valid":
                pads, dilation = ((0, 0), (0, 0)), (1, 1)
            else:
                raise Unsupported(f"{kind} mode {cfg.mode!r}")
            if cfg.ceil_mode:
                raise Unsupported("ceil_mode pooling")
            ops.append(Op("maxpool" if cfg.kind == "max" else "avgpool", name, parents, {
                "kernel": tuple(_int(k) for k in cfg.kernel),
                "stride": tuple(_int(s) for s in cfg.strides),
                "pads": pads, "dilation": dilation}))
        elif kind in ("ConvTranspose2d", "Conv2DTranspose"):
            cfg = layer.config
            kernel = tuple(_int(k) for k in cfg.kernel)
            stride = tuple(_int(s) for s in cfg.strides)
            dilation = tuple(_int(d) for d in cfg.dilation)
            if cfg.mode == "torch":
                pads = tuple(_int(p) for p in cfg.pads)
                out_pad = tuple(_int(o) for o in cfg.output_padding)
            elif cfg.mode == "keras_valid":
                pads = (0, 0)
                ke = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
                out_pad = tuple(_int(o) for o in cfg.output_padding) \
                    if cfg.output_padding is not None else \
                    tuple(max(e, s) - e for e, s in zip(ke, stride))
            else:
                raise Unsupported(f"{kind} mode {cfg.mode!r}")
            ops.append(Op("convT", name, parents, {
                "cin": chan(node.parents[0]), "cout": _int(cfg.filters), "kernel": kernel,
                "stride": stride, "dilation": dilation, "pads": pads, "out_pad": out_pad,
                "groups": _int(cfg.groups), "bias": cfg.bias}))
        elif kind == "Cropping2D":
            ops.append(Op("crop", name, parents, {"crop": _pairs(layer.cropping)}))
        elif kind in ("Concatenate", "Concat"):
            ops.append(Op("concat", name, parents))
        elif kind == "Add":
            ops.append(Op("add", name, parents))
        elif kind in ("BatchNorm2d", "BatchNormalization"):
            ops.append(Op("bn", name, parents, {"c": chan(node.parents[0])}))
        elif kind in PASS_THROUGH:
            ops.append(Op("act", name, parents, {"fn": kind}))
        elif kind == "AdaptiveAvgPool2d":
            size = layer.output_size
            ops.append(Op("adaptive_avg", name, parents,
                          {"size": (size, size) if isinstance(size, int) else tuple(size)}))
        elif kind == "Flatten":
            ops.append(Op("flatten", name, parents))
        elif kind in ("Linear", "Dense"):
            cin = as_int(shapes[node.parents[0]][-1])
            ops.append(Op("linear", name, parents,
                          {"cin": cin, "cout": as_int(shapes[i][-1]),
                           "bias": getattr(layer, "bias", getattr(layer, "use_bias", True))}))
        else:
            raise Unsupported(f"layer {kind}")
        index_of[i] = len(ops) - 1
    probe = _probe(net, channels_first)
    output = index_of[net.outputs[0]]
    return Net(net.name, ops, channels, index_of[probe], output, net.dialect, symbolic_stride)


def _probe(net: Any, channels_first: bool) -> int:
    """The last node whose H size is not a constant."""
    from convsym.intdiv import as_int

    for i in range(len(net.nodes) - 1, -1, -1):
        shape = net.shapes[i]
        if len(shape) != 3:
            continue
        h = shape[1] if channels_first else shape[0]
        if as_int(h) is None:
            return i
    raise Unsupported("no spatial size depends on the input")


def h_index(net: Any) -> int:
    """The position of H in convsym's shapes of ``net`` (1 channels-first, 0 channels-last)."""
    return 1 if net.dialect == "torch" else 0
