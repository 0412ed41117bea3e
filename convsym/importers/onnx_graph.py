"""Walk an ONNX graph node by node: constants and shape tensors are evaluated, data nodes
become rows of a convsym graph in the ``onnx`` dialect.

The batch axis (axis 0 of every data tensor) is not part of convsym shapes, so attributes
that count axes are rewritten to the axes after it, and an operator that would move or mix
the batch axis (``Transpose`` with ``perm[0] != 0``, ``Flatten(axis=0)``, a ``Reshape``
whose first entry is not the batch) is refused by name.  ``import onnx`` happens in
:mod:`convsym.importers.onnx_model`; this module reads ``onnx`` only through it.

>>> import pytest
>>> onnx = pytest.importorskip("onnx")
>>> from onnx import helper, TensorProto
>>> from convsym.importers.onnx_model import import_onnx
>>> x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 6, 6])
>>> y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
>>> nodes = [helper.make_node("Shape", ["x"], ["s"]),
...          helper.make_node("Constant", [], ["i"], value_ints=[0]),
...          helper.make_node("Gather", ["s", "i"], ["n"]),
...          helper.make_node("Constant", [], ["m"], value_ints=[-1]),
...          helper.make_node("Concat", ["n", "m"], ["t"], axis=0),
...          helper.make_node("Reshape", ["x", "t"], ["y"], name="flat")]
>>> out = import_onnx(helper.make_model(helper.make_graph(nodes, "g", [x], [y])))
>>> out.network.output_shape, out.consts["t"]
((144,), ('batch', -1))
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convsym.errors import ConvsymError, LayerError, SpecError
from convsym.graph import Graph
from convsym.importers import onnx_values as V
from convsym.importers.common import unknown_sizes
from convsym.importers.onnx_ops import make_layer
from convsym.importers.onnx_values import BATCH, Const, Data, ValueProblem
from convsym.intdiv import QPoly, as_int, to_sympy

if TYPE_CHECKING:
    import onnx

    from convsym.layers.base import Layer
    from convsym.network import Network

STATISTICS = {"BatchNormalization": (3, 4)}
"""Input positions holding non-trainable statistics (BatchNorm's mean and variance)."""

MAX_NAME = 40
"""Longest symbol made from a ``dim_param``."""

FLOAT_TYPES = frozenset({1, 10, 11, 16})  # FLOAT, FLOAT16, DOUBLE, BFLOAT16


class Walker:
    """One pass over the nodes (ONNX lists them in topological order)."""

    def __init__(self, proto: onnx.ModelProto, origin: str) -> None:
        self.proto = proto
        self.graph = proto.graph
        self.origin = origin
        self.opset = next((o.version for o in proto.opset_import
                           if o.domain in ("", "ai.onnx")), 1)
        self.values: dict[str, Data | Const] = {}
        self.builder = Graph(name=self.graph.name or "onnx")
        self.claimed: set[str] = set()
        self.floating: set[str] = set()
        self.symbols: dict[str, str] = {}
        self.rows: dict[str, str] = {}
        self.names: set[str] = set()
        self.batch: int | None = None
        """The batch size when the first input records a number for it."""
        self.used = {i for n in self.graph.node for i in n.input} | \
            {o.name for o in self.graph.output}
        self.dims = {t.name: tuple(int(d) for d in t.dims) for t in self.graph.initializer}
        for tensor in self.graph.initializer:
            self.values[tensor.name] = self.tensor_value(tensor, frozenset({tensor.name}))
            if tensor.data_type in FLOAT_TYPES:
                self.floating.add(tensor.name)
        for sparse in self.graph.sparse_initializer:
            raise self.fail(f"sparse initializer {sparse.values.name!r} is not supported",
                            code="unsupported_initializer")

    # --- messages ---------------------------------------------------------------------------
    def fail(self, message: str, *, node: Any = None, code: str) -> SpecError:
        where = f"node {self.label(node)!r} ({node.op_type})" if node is not None else ""
        return SpecError(message, source=self.origin, path=where, code=code)

    @staticmethod
    def label(node: Any) -> str:
        return str(node.name or (node.output[0] if node.output else node.op_type))

    # --- inputs -----------------------------------------------------------------------------
    def add_inputs(self, given: list[tuple[object, ...]] | None) -> None:
        inputs = [i for i in self.graph.input if i.name not in self.values]
        if not inputs:
            raise self.fail("the graph has no input that is not an initializer",
                            code="no_inputs")
        if given is not None and len(given) != len(inputs):
            raise self.fail(f"input_shape gives {len(given)} shapes for {len(inputs)} graph "
                            "inputs", code="wrong_input_count")
        for info in inputs:  # every dim_param first, so made-up names avoid them
            for d in info.type.tensor_type.shape.dim[1:]:
                if d.dim_param and not d.HasField("dim_value") and d.dim_param not in \
                        self.symbols:
                    self.symbols[d.dim_param] = symbol_name(d.dim_param, self.symbols)
        made: dict[str, str] = dict(self.symbols)
        for j, info in enumerate(inputs):
            ttype = info.type.tensor_type
            if not info.type.HasField("tensor_type") or not ttype.HasField("shape"):
                if given is None:
                    raise self.fail(f"input {info.name!r} has no recorded shape; pass "
                                    "input_shape", code="bad_input_shape")
                rank = len(given[j]) + 1
                dims: list[Any] = [None] * rank
            else:
                dims = [d.dim_value if d.HasField("dim_value") else
                        (d.dim_param or None) for d in ttype.shape.dim]
                rank = len(dims)
            if rank < 2:
                raise self.fail(f"input {info.name!r} has rank {rank}; convsym reads inputs of "
                                "shape (batch, channels, ...)", code="bad_input_shape")
            suffix = "" if len(inputs) == 1 else f"_{j}"
            fallback = unknown_sizes(rank - 1, channels_first=True, suffix=suffix)
            if given is not None:
                sizes = list(given[j])
            else:
                sizes = []
                for i, d in enumerate(dims[1:]):
                    if isinstance(d, int) and d <= 0:
                        raise self.fail(f"input {info.name!r} has an axis of size {d}",
                                        code="bad_input_shape")
                    if isinstance(d, int):
                        sizes.append(d)
                    elif isinstance(d, str):
                        sizes.append(self.symbols[d])
                    else:
                        name = symbol_name(fallback[i], made)
                        made["\0" + name] = name
                        sizes.append(name)
            if j == 0 and given is None and isinstance(dims[0], int) and dims[0] > 0:
                self.batch = dims[0]
            tensor = self.builder.add_input(sizes, name=self.unique(info.name))
            self.values[info.name] = Data(tensor, rank)

    def unique(self, name: str) -> str:
        base = "".join(ch if ch.isprintable() else "_" for ch in name)[:120] or "node"
        out, i = base, 1
        while out in self.names:
            out = f"{base}_{i}"
            i += 1
        self.names.add(out)
        return out

    # --- constants --------------------------------------------------------------------------
    def tensor_value(self, tensor: Any, sources: frozenset[str]) -> Const:
        # why: onnx is optional (the onnx extra) and heavy
        import onnx
        from onnx import numpy_helper

        dims = tuple(int(d) for d in tensor.dims)
        count = math.prod(dims)
        # values matter for integer tensors (shapes, axes, pads) and small float ones
        # (scales); weights are only ever counted
        wanted = count <= V.MAX_VALUES if tensor.data_type not in FLOAT_TYPES else count <= 16
        if not wanted or tensor.data_location == onnx.TensorProto.EXTERNAL:
            return Const(dims, None, sources)
        try:
            array = numpy_helper.to_array(tensor)
        except (ValueError, TypeError, RuntimeError, KeyError) as err:  # KeyError: data type
            raise self.fail(f"tensor {tensor.name!r} cannot be read ({err})",
                            code="bad_tensor") from None
        if array.size != count:
            raise self.fail(f"tensor {tensor.name!r} holds {array.size} values for dims "
                            f"{list(dims)}", code="bad_tensor")
        flat = [v.item() for v in array.reshape(-1)]
        if array.dtype.kind not in "iubf":
            return Const(dims, None, sources)
        return V.const_of(dims, flat, sources)

    def constant_node(self, node: Any) -> Const:
        # why: onnx is optional (the onnx extra) and heavy
        import onnx
        from onnx import helper

        for attr in node.attribute:
            value = helper.get_attribute_value(attr)
            if attr.name == "value" and attr.type == onnx.AttributeProto.TENSOR:
                return self.tensor_value(value, frozenset())
            if attr.name in ("value_int", "value_float"):
                return V.const_of((), [value])
            if attr.name in ("value_ints", "value_floats"):
                return V.const_of((len(value),), list(value))
        raise self.fail("a Constant without a numeric value is not supported", node=node,
                        code="unsupported_constant")

    # --- walking ----------------------------------------------------------------------------
    def build(self, name: str | None) -> OnnxImport:
        for node in self.graph.node:
            ins: list[Data | Const | None] = []
            for ref in node.input:
                if not ref:
                    ins.append(None)
                    continue
                if ref not in self.values:
                    raise self.fail(f"input {ref!r} is used before any node makes it (the "
                                    "nodes must be in topological order)", node=node,
                                    code="bad_graph")
                ins.append(self.values[ref])
            try:
                results = self.visit(node, ins)
            except ValueProblem as err:
                raise self.fail(str(err), node=node, code=err.code) from None
            except ConvsymError:
                raise
            except KeyError as err:  # a required attribute is missing
                raise self.fail(f"the attribute or input {err} is missing", node=node,
                                code="bad_node") from None
            except (IndexError, TypeError, ValueError) as err:  # inputs or attributes malformed
                raise self.fail(f"malformed node ({type(err).__name__}: {str(err)[:100]})",
                                node=node, code="bad_node") from None
            for out_name, value in zip(node.output, results):
                if out_name:
                    self.values[out_name] = value
        outs = [self.values.get(o.name) for o in self.graph.output]
        tensors = [v.tensor for v in outs if isinstance(v, Data)]
        if not tensors:
            raise self.fail("no graph output depends on the inputs", code="no_outputs")
        net = self.builder.build(tensors)
        net.name = name or self.graph.name or "onnx"
        consts = {k: _show_values(v) for k, v in self.values.items() if isinstance(v, Const)}
        return OnnxImport(net, dict(self.rows), consts, dict(self.symbols))

    def visit(self, node: Any, ins: list[Data | Const | None]) -> list[Data | Const]:
        op = node.op_type
        used_extra = [o for o in node.output[1:] if o and o in self.used]
        if used_extra:
            raise self.fail(f"its output {used_extra[0]!r} is used; convsym follows the "
                            "first output of this operator only", node=node,
                            code="unsupported_output")
        if op == "Constant":
            return [self.constant_node(node)]
        data = [v for v in ins if isinstance(v, Data)]
        if op == "Shape":
            return [self.shape_of(node, ins[0])]
        if op == "Size" and isinstance(ins[0], Data):
            raise self.fail("Size of a data tensor involves the batch size", node=node,
                            code="unsupported_operation")
        if not data:
            return [self.fold(node, [v for v in ins if isinstance(v, Const)], list(ins))]
        layer, parents = self.layer(node, ins, data)
        return [self.add(node, layer, parents, ins)]

    def attrs(self, node: Any) -> dict[str, Any]:
        # why: onnx is optional (the onnx extra) and heavy
        from onnx import helper

        out = {}
        for a in node.attribute:
            value = helper.get_attribute_value(a)
            out[a.name] = value.decode() if isinstance(value, bytes) else value
        return out

    def add(self, node: Any, layer: Layer, parents: list[Data], ins: Sequence[Any]) -> Data:
        """Add a row for ``layer`` with the initializers it reads."""
        weights = []
        for pos, value in enumerate(ins):
            if not isinstance(value, Const):
                continue
            trainable = pos not in STATISTICS.get(node.op_type, ())
            for src in sorted(value.sources):
                if src in self.floating and src not in self.claimed:
                    self.claimed.add(src)
                    weights.append((src, self.dims[src], trainable))
        if weights:
            # set before anyone sees the layer, without validating it a second time
            object.__setattr__(layer, "initializers", tuple(weights))
        row = self.unique(self.label(node))
        tensor = self.builder.add(layer, *[p.tensor for p in parents], name=row)
        try:
            shape = tensor.inference().shape
        except LayerError as err:
            err.locate(f"{self.origin}: node {row!r}")
            raise
        self.rows[node.output[0]] = row
        return Data(tensor, len(shape) + 1)

    def shape_of(self, node: Any, value: Any) -> Const:
        attrs = self.attrs(node)
        if isinstance(value, Data):
            full: tuple[Any, ...] = (BATCH, *value.shape)
        else:
            full = tuple(QPoly.const(d) for d in value.dims)
        start, end = attrs.get("start", 0), attrs.get("end", len(full))
        picked = full[slice(start, end)]
        return Const((len(picked),), picked, frozenset())

    # --- constant folding -------------------------------------------------------------------
    def fold(self, node: Any, args: list[Const], ins: list[Any]) -> Const:
        op = node.op_type
        a = self.attrs(node)
        first = args[0] if args else None
        if first is None:
            if op == "ConstantOfShape":
                raise ValueProblem("ConstantOfShape without a shape")
            raise ValueProblem(f"{op} without inputs is not supported")
        if op in ("Identity", "Cast", "CastLike", "Dropout"):
            if op == "Cast" and first.values is not None and a.get("to") not in FLOAT_TYPES:
                return Const(first.dims, tuple(V.to_integer(v, "Cast") for v in first.values),
                             first.sources)
            return first
        if op in ("Floor", "Ceil"):
            vals = first.known(f"the input of {op}")
            return Const(first.dims, tuple(V.to_integer(v, op) for v in vals), first.sources)
        if op == "Gather":
            return V.gather(first, args[1], a.get("axis", 0))
        if op == "Concat":
            return V.concat(args, a.get("axis", 0))
        if op in ("Unsqueeze", "Squeeze", "Reshape", "Flatten"):
            return Const(self.folded_dims(node, first, ins), first.values,
                         frozenset().union(*(x.sources for x in args)))
        if op == "Transpose":
            return V.transpose(first, a.get("perm", list(reversed(range(len(first.dims))))))
        if op == "Expand":
            return V.expand(first, args[1].ints("Expand's shape"))
        if op == "Slice":
            starts, ends, axes, steps = self.slice_args(node, ins)
            if any(not isinstance(v, int) for v in [*starts, *ends]):
                raise ValueProblem("Slice bounds of constants must be numbers")
            return V.slice_array(first, starts, ends, axes or list(range(len(starts))),
                                 steps or [1] * len(starts))
        if op in ("Add", "Sub", "Mul", "Div", "Mod", "Max", "Min") and len(args) == 2:
            return V.arith(op, args[0], args[1])
        if op == "ConstantOfShape":
            dims = first.ints("ConstantOfShape's shape")
            fill = a.get("value")
            value = self.tensor_value(fill, frozenset()).values if fill is not None else None
            count = math.prod(dims)
            filled = None if count > V.MAX_VALUES else (value or (QPoly.const(0),)) * count
            return Const(tuple(dims), filled, frozenset())
        if op == "Range":
            lo, hi, step = (x.ints(f"Range's {w}")[0] for x, w in
                            zip(args, ("start", "limit", "delta")))
            if step == 0 or abs((hi - lo) // step) > V.MAX_VALUES:
                raise ValueProblem("Range is too long (or has step 0)")
            items = list(range(lo, hi, step))
            return V.const_of((len(items),), items)
        raise ValueProblem(f"the operator {op} on constants is not followed by convsym")

    def folded_dims(self, node: Any, first: Const, ins: list[Any]) -> tuple[int, ...]:
        op, a, dims = node.op_type, self.attrs(node), list(first.dims)
        if op == "Flatten":
            axis = a.get("axis", 1) % max(len(dims), 1)
            return (math.prod(dims[:axis]), math.prod(dims[axis:]))
        if op == "Reshape":
            target = ins[1].ints("Reshape's shape")
            out = [dims[i] if t == 0 and not a.get("allowzero") else t
                   for i, t in enumerate(target)]
            if -1 in out:
                known = math.prod(t for t in out if t != -1)
                out[out.index(-1)] = first.count // known if known else 0
            return tuple(out)
        axes = self.axes(node, ins, "axes")
        if op == "Unsqueeze":
            rank = len(dims) + len(axes or [])
            norm = {x % rank for x in axes or []}
            rest = iter(dims)
            return tuple(1 if i in norm else next(rest) for i in range(rank))
        norm = {x % max(len(dims), 1) for x in axes} if axes else \
            {i for i, d in enumerate(dims) if d == 1}
        return tuple(d for i, d in enumerate(dims) if i not in norm)

    def axes(self, node: Any, ins: list[Any], name: str, position: int = 1) -> list[int] | None:
        """An ``axes``-like list from the attribute (older opsets) or the input."""
        a = self.attrs(node)
        if name in a:
            return [int(v) for v in a[name]]
        if len(ins) > position and ins[position] is not None:
            value = ins[position]
            if not isinstance(value, Const):
                raise ValueProblem(f"{node.op_type}'s {name} must be constant")
            return value.ints(f"{node.op_type}'s {name}")
        return None

    def slice_args(self, node: Any, ins: list[Any]
                   ) -> tuple[list[Any], list[Any], list[int] | None, list[int] | None]:
        a = self.attrs(node)
        if "starts" in a:
            return list(a["starts"]), list(a["ends"]), a.get("axes"), None

        def vals(pos: int, what: str) -> list[Any] | None:
            if len(ins) <= pos or ins[pos] is None:
                return None
            value = ins[pos]
            if isinstance(value, Data):
                raise ValueProblem(f"Slice's {what} must be constant")
            return list(value.known(f"Slice's {what}"))

        starts, ends = vals(1, "starts"), vals(2, "ends")
        axes, steps = vals(3, "axes"), vals(4, "steps")
        if starts is None or ends is None:
            raise ValueProblem("Slice needs starts and ends")
        return ([V.plain(v) for v in starts], [V.plain(v) for v in ends],
                None if axes is None else [V.integer(v) for v in axes],
                None if steps is None else [V.integer(v) for v in steps])

    # --- data nodes -------------------------------------------------------------------------
    def layer(self, node: Any, ins: list[Any], data: list[Data]) -> tuple[Layer, list[Data]]:
        return make_layer(self, node, ins, data)


def _show_values(c: Const) -> tuple[Any, ...] | None:
    if c.values is None or c.count > 64:
        return None
    out: list[Any] = []
    for v in c.values:
        if v is BATCH:
            out.append("batch")
        elif isinstance(v, QPoly) or type(v).__name__ == "Ext":
            value = as_int(v)
            out.append(value if value is not None else to_sympy(v))
        else:
            out.append(v)
    return tuple(out)


@dataclass
class OnnxImport:
    """A network and where each ONNX value ended up.

    ``rows`` maps a data value's name to its row's name (``network.rows`` by name); ``consts``
    maps a shape value's name to its elements (SymPy; ``"batch"`` for the batch size; None
    where unknown).  ``symbols`` maps each ``dim_param`` to the symbol it became.
    """

    network: Network
    rows: dict[str, str]
    consts: dict[str, tuple[Any, ...] | None]
    symbols: dict[str, str]


def symbol_name(param: str, taken: Mapping[str, str]) -> str:
    """A valid convsym symbol name for a ``dim_param``, distinct from those already made.

    >>> symbol_name("height", {}), symbol_name("input.1_dim_2", {}), symbol_name("2x", {})
    ('height', 'input_1_dim_2', 's_2x')
    """
    name = re.sub(r"[^0-9A-Za-z_]", "_", param)[:MAX_NAME] or "s"
    if name[0].isdigit() or keyword.iskeyword(name) or name.startswith("__"):
        name = "s_" + name.lstrip("_")
    used = set(taken.values())
    stem, i = name, 1
    while name in used:
        name = f"{stem}_{i}"
        i += 1
    return name


__all__ = ["OnnxImport", "Walker", "symbol_name"]
