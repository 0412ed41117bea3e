"""ONNX nodes on the data path to ``onnx`` dialect layers (batch axis removed).

:func:`make_layer` reads a node's attributes (or, for newer opsets, its constant inputs) and
returns the layer and its data parents.  Axis attributes are rewritten to count from the
first axis after the batch; a node that would act on the batch axis is refused.

>>> from convsym.importers.onnx_values import ValueProblem
>>> batchless(-1, 4), batchless(1, 4)
(2, 0)
>>> try:
...     batchless(0, 4)
... except ValueProblem as err:
...     print(err)
the operator acts on axis 0, the batch axis (convsym shapes have no batch axis)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convsym.errors import did_you_mean
from convsym.importers.onnx_values import BATCH, Const, Data, ValueProblem, plain, show
from convsym.intdiv import QPoly, as_int, to_sympy
from convsym.layers import onnx_conv as C
from convsym.layers import onnx_ops as O

if TYPE_CHECKING:
    from convsym.importers.onnx_graph import Walker
    from convsym.layers.base import Layer

_HUGE = 2 ** 31


def batchless(axis: int, rank: int) -> int:
    """An ONNX axis of a rank-``rank`` tensor as an axis of its shape without the batch."""
    if not -rank <= axis < rank:
        raise ValueProblem(f"axis {axis} is out of range for rank {rank}")
    a = axis % rank
    if a == 0:
        raise ValueProblem("the operator acts on axis 0, the batch axis (convsym shapes have "
                           "no batch axis)", code="batch_axis")
    return a - 1


def _const(value: Any, what: str) -> Const:
    if not isinstance(value, Const):
        raise ValueProblem(f"{what} must be a constant (an initializer or a shape computation)")
    return value


def _size(v: Any, what: str) -> Any:
    """A size element as a layer field: an int or a SymPy expression."""
    if v is BATCH:
        raise ValueProblem(f"{what} is the batch size, which convsym does not model here")
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, QPoly) or type(v).__name__ == "Ext":
        value = as_int(v)
        return value if value is not None else to_sympy(v)
    raise ValueProblem(f"{what} is not a size convsym follows ({v!r})")


_POOL_SINCE = {"MaxPool": {"storage_order": 8, "ceil_mode": 10, "dilations": 10},
               "AveragePool": {"count_include_pad": 7, "ceil_mode": 10, "dilations": 19},
               "LpPool": {"ceil_mode": 18, "dilations": 18}}
"""The opset that added each later attribute of a pooling operator (ONNX's Changelog;
ONNX Runtime refuses a model using one earlier: "Unrecognized attribute")."""


def make_layer(w: Walker, node: Any, ins: list[Any], data: list[Data]
               ) -> tuple[Layer, list[Data]]:
    """The layer for ``node`` and its data parents."""
    op = node.op_type
    a = w.attrs(node)
    x = ins[0]
    if op in ("Conv", "ConvTranspose"):
        return _conv(op, a, ins), [_data(x, op)]
    if op in ("MaxPool", "AveragePool", "LpPool"):
        for name, since in _POOL_SINCE[op].items():
            # even a default value (dilations of 1): the attribute is not in the operator's
            # schema before that opset, and ONNX Runtime refuses the model
            if name in a and w.opset < since:
                raise ValueProblem(f"the attribute {name} = {a[name]!r:.60} is not part of "
                                   f"{op} before opset {since} (this model imports opset "
                                   f"{w.opset}); drop it or import opset {since}",
                                   code="unsupported_attribute")
        rank = _data(x, op).rank - 2
        pool: Any = C.LAYERS[op]
        return pool(tuple(a["kernel_shape"]), strides=tuple(a.get("strides", [1] * rank)),
                            pads=tuple(a.get("pads", [0] * 2 * rank)),
                            dilations=tuple(a.get("dilations", [1] * rank)),
                            ceil_mode=int(a.get("ceil_mode", 0)),
                            auto_pad=a.get("auto_pad", "NOTSET")), [x]
    if op in ("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"):
        return O.Reduce(op, ()), [_data(x, op)]
    if op.startswith("Reduce"):
        return _reduce(w, node, a, ins), [_data(x, op)]
    if op == "BatchNormalization":
        return O.BatchNormalization(_const(ins[1], "the scale").dims[0]), [_data(x, op)]
    if op == "Gemm":
        return _gemm(a, ins), [_data(x, op)]
    if op == "MatMul":
        if isinstance(ins[1], Data):
            return O.MatMul(), [_data(x, op), ins[1]]
        right = _const(ins[1], "MatMul's right operand").dims
        if len(right) > 2:
            raise ValueProblem("a constant right operand of rank > 2 is not followed")
        return O.MatMul(right=right), [_data(x, op)]
    if op == "Flatten":
        d = _data(x, op)
        if a.get("axis", 1) % d.rank != 1:
            raise ValueProblem("Flatten with axis other than 1 merges the batch axis",
                               code="batch_axis")
        return O.Flatten(), [d]
    if op == "Reshape":
        return _reshape(w, a, _data(x, op), _const(ins[1], "Reshape's shape")), [x]
    if op == "Transpose":
        d = _data(x, op)
        perm = list(a.get("perm", reversed(range(d.rank))))
        if not perm or perm[0] != 0:
            raise ValueProblem(f"perm {perm} moves the batch axis", code="batch_axis")
        return O.Transpose(tuple(p - 1 for p in perm[1:])), [d]
    if op in ("Squeeze", "Unsqueeze"):
        d = _data(x, op)
        axes = w.axes(node, ins, "axes")
        if not axes:
            raise ValueProblem(f"{op} without axes may act on the batch axis")
        rank = d.rank + (len(axes) if op == "Unsqueeze" else 0)
        cls = O.Unsqueeze if op == "Unsqueeze" else O.Squeeze
        return cls(tuple(batchless(v, rank) for v in axes)), [d]
    if op == "Concat":
        if len(data) != len([v for v in ins if v is not None]):
            raise ValueProblem("Concat of data tensors with constants is not followed")
        return O.Concat(batchless(a["axis"], data[0].rank)), data
    if op == "Slice":
        return _slice(w, node, ins, _data(x, op)), [x]
    if op == "Pad":
        return _pad(w, node, a, ins, _data(x, op)), [x]
    if op in ("Resize", "Upsample"):
        return _resize(w, op, a, ins, _data(x, op)), [x]
    if op == "Expand":
        return _expand(w, _data(x, op), _const(ins[1], "Expand's shape")), [x]
    if op in ("Gather", "GatherElements", "GatherND", "Split", "Tile"):
        raise ValueProblem(f"{op} on a data tensor is not followed (convsym follows it on "
                           "constants and shape tensors)")
    if op in BROADCAST_OPS:
        return _broadcast(op, ins, data), data
    if op in UNARY_OPS:
        return O.Unary(op), [_data(x, op)]
    known = sorted({*UNARY_OPS, *BROADCAST_OPS, *_KNOWN})
    raise ValueProblem(f"convsym does not know the ONNX operator {op}{did_you_mean(op, known)}",
                       code="unsupported_operator")


UNARY_OPS = frozenset({
    "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu",
    "Gelu", "Mish", "Softplus", "Softsign", "Softmax", "LogSoftmax", "Hardmax", "Clip",
    "Dropout", "Identity", "Cast", "CastLike", "Erf", "Exp", "Log", "Abs", "Neg", "Sqrt",
    "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Not", "Sin", "Cos", "LRN",
    "InstanceNormalization", "LayerNormalization", "GroupNormalization", "ThresholdedRelu",
    "Shrink", "IsNaN", "IsInf", "BitShift", "MeanVarianceNormalization"})
"""Operators whose output has their (first) input's shape."""

BROADCAST_OPS = frozenset({"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu",
                       "Mod", "And", "Or", "Xor", "Equal", "Less", "Greater", "LessOrEqual",
                       "GreaterOrEqual", "Where"})
"""Operators whose output is the broadcast of their inputs."""

_KNOWN = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool",
          "GlobalMaxPool", "BatchNormalization", "Gemm", "MatMul", "Flatten", "Reshape",
          "Transpose", "Squeeze", "Unsqueeze", "Concat", "Slice", "Pad", "Resize", "Upsample",
          "ReduceMean", "ReduceMax", "Shape", "Gather", "Constant", "ConstantOfShape", "Expand")


def _data(value: Any, op: str) -> Data:
    if not isinstance(value, Data):
        raise ValueProblem(f"{op}'s first input must depend on the model's inputs")
    return value


def _conv(op: str, a: dict[str, Any], ins: list[Any]) -> Layer:
    if len(ins) < 2 or ins[1] is None:
        raise ValueProblem(f"{op} needs a weight input W", code="bad_node")
    weight = _const(ins[1], f"{op}'s weight W").dims
    rank = len(weight) - 2
    if rank < 1:
        raise ValueProblem(f"{op}'s weight W has rank {len(weight)}")
    kernel = tuple(a.get("kernel_shape", weight[2:]))
    if kernel != weight[2:]:
        raise ValueProblem(f"kernel_shape {list(kernel)} does not match W's {list(weight[2:])}")
    group = int(a.get("group", 1))
    bias = len(ins) > 2 and ins[2] is not None
    out_channels = weight[0] if op == "Conv" else weight[1] * group
    if bias and _const(ins[2], "the bias B").dims != (out_channels,):
        raise ValueProblem(f"the bias B has dims {list(ins[2].dims)}, not [{out_channels}]")
    common = dict(strides=tuple(a.get("strides", [1] * rank)),
                  pads=tuple(a.get("pads", [0] * 2 * rank)),
                  dilations=tuple(a.get("dilations", [1] * rank)), group=group,
                  auto_pad=a.get("auto_pad", "NOTSET"), bias=bias)
    if op == "Conv":
        return C.Conv(out_channels, weight[1] * group, kernel, **common)
    shape = a.get("output_shape")
    if shape is not None and len(shape) == rank + 2:
        shape = shape[2:]
    return C.ConvTranspose(out_channels, weight[0], kernel,
                           output_padding=tuple(a.get("output_padding", [0] * rank)),
                           output_shape=None if shape is None else tuple(shape), **common)


def _reduce(w: Walker, node: Any, a: dict[str, Any], ins: list[Any]) -> Layer:
    d = _data(ins[0], node.op_type)
    axes = w.axes(node, ins, "axes")
    if not axes:
        if a.get("noop_with_empty_axes"):
            return O.Unary(node.op_type)
        raise ValueProblem(f"{node.op_type} without axes reduces the batch axis too")
    return O.Reduce(node.op_type, tuple(batchless(v, d.rank) for v in axes),
                    keepdims=int(a.get("keepdims", 1)))


def _gemm(a: dict[str, Any], ins: list[Any]) -> Layer:
    if a.get("transA"):
        raise ValueProblem("Gemm with transA=1 would transpose the batch axis")
    b = _const(ins[1], "Gemm's B").dims
    if len(b) != 2:
        raise ValueProblem(f"Gemm's B has rank {len(b)}, not 2")
    k, m = (b[1], b[0]) if a.get("transB") else b
    return O.Gemm(k, m, bias=len(ins) > 2 and ins[2] is not None)


def _reshape(w: Walker, a: dict[str, Any], d: Data, target: Const) -> Layer:
    values = target.known("Reshape's shape")
    if len(target.dims) != 1 or not values:
        raise ValueProblem("Reshape's shape must be a non-empty vector")
    copy = not a.get("allowzero", 0)
    shape = d.shape

    def entry(i: int, v: Any) -> Any:
        value = as_int(v) if isinstance(v, QPoly) else None
        if value == 0 and copy:
            if i - 1 >= len(shape):
                raise ValueProblem(f"Reshape copies axis {i}, which the input lacks")
            return _size(shape[i - 1], f"Reshape's shape[{i}]")
        if value == -1:
            return -1
        return _size(v, f"Reshape's shape[{i}]")

    head = values[0]
    head_int = as_int(head) if isinstance(head, QPoly) else None
    if not (head is BATCH or (head_int == 0 and copy) or
            (head_int is not None and head_int == w.batch and head_int > 0) or
            (head_int == -1 and not any(isinstance(v, QPoly) and as_int(v) == -1
                                        for v in values[1:]))):
        raise ValueProblem(f"Reshape's first entry {V_show(head)} is not the batch size; "
                           "convsym keeps the batch axis")
    return O.Reshape(tuple(entry(i, v) for i, v in enumerate(values) if i > 0))


def _expand(w: Walker, d: Data, target: Const) -> Layer:
    """``Expand``: the input broadcast with the target shape (aligned on the right, as ONNX
    broadcasts); a target of the input's rank starts with the batch size (or 1)."""
    values = list(target.known("Expand's shape"))
    if len(target.dims) != 1:
        raise ValueProblem("Expand's shape must be a vector")
    if len(values) > d.rank:
        raise ValueProblem(f"Expand to rank {len(values)} from rank {d.rank} would add axes "
                           "before the batch axis", code="batch_axis")
    if len(values) == d.rank:
        head = values.pop(0)
        head_int = as_int(head) if isinstance(head, QPoly) else None
        if not (head is BATCH or head_int == 1 or (head_int is not None and head_int == w.batch)):
            raise ValueProblem(f"Expand's first entry {V_show(head)} is not the batch size; "
                               "convsym keeps the batch axis", code="batch_axis")
    return O.Elementwise("Expand", (tuple(_size(v, f"Expand's shape[{i}]")
                                          for i, v in enumerate(values)),))


def V_show(v: Any) -> str:
    return "batch" if v is BATCH else show(v)


def _slice(w: Walker, node: Any, ins: list[Any], d: Data) -> Layer:
    starts, ends, axes, steps = w.slice_args(node, ins)
    axes = axes if axes is not None else list(range(len(starts)))
    steps = steps if steps is not None else [1] * len(starts)
    entries = []
    for axis, start, end, step in zip(axes, starts, ends, steps):
        if step <= 0:
            raise ValueProblem("Slice with a negative step is not followed")
        if axis % d.rank == 0:
            if start == 0 and isinstance(end, int) and end >= _HUGE and step == 1:
                continue
            raise ValueProblem("Slice of the batch axis is not followed")
        entries.append((batchless(axis, d.rank), start, end, step))
    return O.Slice(tuple(entries))


def _pad(w: Walker, node: Any, a: dict[str, Any], ins: list[Any], d: Data) -> Layer:
    if "pads" in a:
        pads: list[Any] = list(a["pads"])
    else:
        pads = [plain(v) for v in _const(ins[1], "Pad's pads").known("Pad's pads")]
    if len(ins) > 2 and ins[2] is not None and isinstance(ins[2], Data):
        raise ValueProblem("Pad's constant_value must be a constant")
    axes = w.axes(node, ins, "axes", position=3) or list(range(d.rank))
    if len(pads) != 2 * len(axes):
        raise ValueProblem(f"Pad has {len(pads)} pads for {len(axes)} axes")
    pairs: list[tuple[Any, Any]] = [(0, 0)] * (d.rank - 1)
    for j, axis in enumerate(axes):
        before, after = pads[j], pads[j + len(axes)]
        if axis % d.rank == 0:
            if before != 0 or after != 0:
                raise ValueProblem("Pad of the batch axis is not followed")
            continue
        pairs[batchless(axis, d.rank)] = (before, after)
    mode = a.get("mode", "constant")
    if mode not in ("constant", "reflect", "edge", "wrap"):
        raise ValueProblem(f"Pad mode {mode!r} is unknown")
    return O.Pad(tuple(pairs), mode=mode)


def _resize(w: Walker, op: str, a: dict[str, Any], ins: list[Any], d: Data) -> Layer:
    if a.get("axes") is not None:
        raise ValueProblem("Resize with axes is not followed")
    if a.get("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise ValueProblem("Resize with keep_aspect_ratio_policy other than 'stretch' is not "
                           "followed")
    scales: Any = a.get("scales")
    sizes = None
    if scales is None:
        pos = 1 if op == "Upsample" or w.opset < 11 else 2
        given = ins[pos] if len(ins) > pos else None
        if given is not None and _const(given, "the scales").count:
            scales = list(given.known("the scales"))
        size_in = ins[3] if op == "Resize" and len(ins) > 3 else None
        if size_in is not None and _const(size_in, "the sizes").count:
            sizes = list(size_in.known("the sizes"))
    if sizes is not None:
        if len(sizes) != d.rank:
            raise ValueProblem(f"Resize gives {len(sizes)} sizes for rank {d.rank}")
        if sizes[0] is not BATCH and as_int(sizes[0]) not in (w.batch, None):
            raise ValueProblem("Resize changes the batch size")
        return O.Resize(op, sizes=tuple(_size(v, f"sizes[{i}]") for i, v in
                                        enumerate(sizes) if i > 0))
    if scales is None or len(scales) != d.rank:
        raise ValueProblem(f"{op} needs one scale per axis ({d.rank})")
    floats = [float(_size(s, "a scale")) if isinstance(s, QPoly) else float(s) for s in scales]
    if floats[0] != 1.0:
        raise ValueProblem(f"{op} scales the batch axis by {floats[0]}")
    return O.Resize(op, scales=tuple(None if s == 1.0 else s for s in floats[1:]))


def _broadcast(op: str, ins: list[Any], data: list[Data]) -> Layer:
    ranks = {d.rank for d in data}
    if len(ranks) != 1:
        raise ValueProblem(f"{op} of data tensors of ranks {sorted(ranks)}: convsym broadcasts "
                           "data tensors of one rank (the batch axis must line up)")
    rank = ranks.pop()
    consts = []
    for value in ins:
        if not isinstance(value, Const):
            continue
        dims = value.dims
        if len(dims) > rank or (len(dims) == rank and dims[0] != 1):
            raise ValueProblem(f"a constant operand of dims {list(dims)} would change the "
                               "batch axis")
        consts.append(dims[1:] if len(dims) == rank else dims)
    return O.Elementwise(op, tuple(consts))
