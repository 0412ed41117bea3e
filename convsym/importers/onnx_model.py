"""ONNX models in: ``from_onnx(path or ModelProto)`` reads the graph as plain data.

The file is parsed with the ``onnx`` package (imported on first use) and never executed: no
custom operators, no subgraphs, no functions; weights are never read (only their shapes, so
external data is never opened; an external-data location outside the model's folder is
refused all the same).  The file size and node count are bounded.  Every graph input's first
axis is the batch axis and is dropped, as everywhere in convsym; its other ``dim_param``
names become symbols (made valid names if need be), unnamed dynamic sizes get ``C``/``H``/``W``.
Operators map onto the ``onnx`` dialect layers (:mod:`convsym.layers.onnx_conv`,
:mod:`convsym.layers.onnx_ops`); parameters are the floating-point initializers each node
reads, so the total equals the file's.

>>> import pytest
>>> onnx = pytest.importorskip("onnx")
>>> from onnx import helper, TensorProto
>>> x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "height", "width"])
>>> y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
>>> w = helper.make_tensor("w", TensorProto.FLOAT, [8, 3, 3, 3], [0.0] * 216)
>>> conv = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
...                         auto_pad="SAME_UPPER")
>>> model = helper.make_model(helper.make_graph([conv], "g", [x], [y], [w]))
>>> net = from_onnx(model)
>>> net.output_shape, net.total_params
((8, ceiling(height/2), ceiling(width/2)), 216)
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convsym.errors import SpecError, UsageError
from convsym.importers.onnx_graph import OnnxImport, Walker, symbol_name
from convsym.readers import read_bytes

if TYPE_CHECKING:
    import onnx

    from convsym.network import Network

MAX_BYTES = 1 << 31
"""Largest ONNX file read (protobuf's own limit is 2 GiB)."""
MAX_NODES = 200_000
"""Most nodes in a graph."""


def from_onnx(model: Any, *, input_shape: Sequence[object] | Sequence[Sequence[object]] | None
              = None, name: str | None = None) -> Network:
    """The convsym network of an ONNX model (a path, file bytes or an ``onnx.ModelProto``).

    ``input_shape`` (without the batch axis, one tuple per graph input) replaces the shapes
    recorded in the file.
    """
    return import_onnx(model, input_shape=input_shape, name=name).network


def import_onnx(model: Any, *, input_shape: Sequence[object] | Sequence[Sequence[object]] |
                None = None, name: str | None = None) -> OnnxImport:
    """Like :func:`from_onnx`, also saying where each ONNX value went (for verification)."""
    proto, origin, folder = load(model)
    check_model(proto, origin, folder)
    # The walk allocates many small objects and frees few; the cyclic collector's passes over
    # them took more than half the time on a 300-layer chain (1.7 s vs 0.7 s), so it pauses
    # for the walk (the work is bounded by MAX_NODES) and is restored after.
    enabled = gc.isenabled()
    gc.disable()
    try:
        walker = Walker(proto, origin)
        walker.add_inputs(_given_shapes(input_shape))
        return walker.build(name)
    finally:
        if enabled:
            gc.enable()


def load(model: Any) -> tuple[onnx.ModelProto, str, str | None]:
    """``(ModelProto, origin for messages, folder of the file or None)``, size-bounded."""
    # why: onnx is optional (the onnx extra) and heavy
    import onnx
    from google.protobuf.message import DecodeError

    if isinstance(model, onnx.ModelProto):
        return model, "<ModelProto>", None
    if isinstance(model, (bytes, bytearray)):
        data, origin, folder = bytes(model), "<bytes>", None
    elif isinstance(model, (str, os.PathLike)):
        origin = os.fspath(model)
        try:
            size = os.path.getsize(origin)
            if size > MAX_BYTES:
                raise SpecError(f"the file has {size:,} bytes, more than the limit of "
                                f"{MAX_BYTES:,}", source=origin, code="file_too_large")
        except (OSError, ValueError) as err:  # ValueError: a NUL in the path
            raise SpecError(f"cannot read the file ({getattr(err, 'strerror', None) or err})",
                            source=origin[:200], code="no_file") from None
        data = read_bytes(origin, MAX_BYTES)  # a regular file only: a FIFO would block
        folder = os.path.dirname(os.path.abspath(origin))
    else:
        raise UsageError(f"from_onnx takes a path, bytes or an onnx.ModelProto, not "
                         f"{type(model).__name__}", code="not_a_model")
    if len(data) > MAX_BYTES:
        raise SpecError(f"more than {MAX_BYTES:,} bytes", source=origin, code="file_too_large")
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as err:
        raise SpecError(f"not an ONNX model (protobuf: {str(err)[:80]})", source=origin,
                        code="not_onnx") from None
    if not proto.HasField("graph"):
        raise SpecError("not an ONNX model (no graph)", source=origin, code="not_onnx")
    return proto, origin, folder


def check_model(proto: onnx.ModelProto, origin: str, folder: str | None) -> None:
    """Refuse what convsym does not read as plain data: custom domains, subgraphs, external
    data outside the model's folder, too many nodes."""
    # why: onnx is optional (the onnx extra) and heavy
    import onnx

    graph = proto.graph
    _check_text(proto, origin)
    if len(graph.node) > MAX_NODES:
        raise SpecError(f"the graph has {len(graph.node):,} nodes, more than the limit of "
                        f"{MAX_NODES:,}", source=origin, code="too_many_nodes")
    for node in graph.node:
        if node.domain not in ("", "ai.onnx"):
            raise SpecError(f"node {node.name or node.output[0]!r} is the custom operator "
                            f"{node.domain}::{node.op_type}; convsym reads standard ONNX "
                            "operators only", source=origin, code="custom_operator")
        for attr in node.attribute:
            if attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                raise SpecError(f"node {node.name or node.output[0]!r} ({node.op_type}) has a "
                                "subgraph; convsym reads graphs without control flow",
                                source=origin, code="subgraph")
    for tensor in graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            _check_external(tensor, origin, folder)


def _check_text(proto: Any, origin: str) -> None:
    """Refuse a text field that is not valid UTF-8 (a name, an op type, a ``dim_param``).

    ONNX's messages are proto2, whose parser does not check text fields; protobuf then hands
    such a field back as ``bytes`` instead of ``str``, which no code reading names expects.
    """
    # why: protobuf comes with onnx, optional (the onnx extra) and heavy
    from google.protobuf.descriptor import FieldDescriptor

    todo = [proto]
    while todo:
        message = todo.pop()
        for field, value in message.ListFields():
            repeated = field.is_repeated if hasattr(field, "is_repeated") else \
                field.label == FieldDescriptor.LABEL_REPEATED  # protobuf before 5.x
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                todo.extend(value if repeated else (value,))
            elif field.type == FieldDescriptor.TYPE_STRING:
                for text in value if repeated else (value,):
                    if not isinstance(text, str):
                        raise SpecError(f"the text field {field.full_name} holds "
                                        f"{bytes(text)[:40]!r}, which is not valid UTF-8",
                                        source=origin, code="not_utf8")


def _check_external(tensor: Any, origin: str, folder: str | None) -> None:
    location = next((e.value for e in tensor.external_data if e.key == "location"), "")
    if not isinstance(location, str):  # protobuf hands back bytes for invalid UTF-8
        location = ""
    base = folder or os.getcwd()
    target = os.path.realpath(os.path.join(base, location))
    if not location or os.path.isabs(location) or \
            os.path.commonpath([target, os.path.realpath(base)]) != os.path.realpath(base):
        raise SpecError(f"initializer {tensor.name!r} keeps its data at {location!r}, outside "
                        "the model's folder; convsym refuses such paths", source=origin,
                        code="external_data_outside")


def _given_shapes(given: object) -> list[tuple[object, ...]] | None:
    if given is None:
        return None
    bad = UsageError("input_shape must be a tuple of sizes without the batch axis, e.g. "
                     f"(3, 'H', 'W'), or a list of them; got {given!r:.80}",
                     code="bad_input_shape")
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence) or not given:
        raise bad
    if all(isinstance(g, Sequence) and not isinstance(g, (str, bytes)) for g in given):
        return [tuple(g) for g in given]
    return [tuple(given)]


__all__ = ["MAX_BYTES", "MAX_NODES", "OnnxImport", "from_onnx", "import_onnx", "load",
           "symbol_name"]
