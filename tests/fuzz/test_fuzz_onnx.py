"""Fuzz: ONNX files, damaged at the byte level, through ``from_onnx``.

A small model written with ``onnx.helper`` (a Shape/Gather/Concat chain into a Reshape, a
convolution with SAME_LOWER padding, a ceil_mode pool, a Resize by scales, a Gemm) is
serialised and damaged at one to six random bytes; protobuf parses much of that into odd
but well-formed graphs (renamed inputs, changed attributes, wrong data types).  Each file
must import or raise a convsym error, within budget.  onnxruntime is not needed.
"""

from __future__ import annotations

import pytest
from fuzzkit import batch, call, fuzz
from hypothesis import given
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")

from onnx import TensorProto, helper  # noqa: E402

from convsym.errors import SpecError  # noqa: E402
from convsym.importers.onnx_model import from_onnx  # noqa: E402


def _model() -> bytes:
    f = TensorProto.FLOAT
    inits = [helper.make_tensor("w", f, [4, 3, 3, 3], [0.1] * 108),
             helper.make_tensor("b", f, [4], [0.0] * 4),
             helper.make_tensor("g", f, [5, 4], [0.1] * 20),
             helper.make_tensor("sc", f, [4], [1.0, 1.0, 2.0, 2.0]),
             helper.make_tensor("i0", TensorProto.INT64, [1], [0]),
             helper.make_tensor("m1", TensorProto.INT64, [1], [-1])]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3],
                              strides=[2, 2], auto_pad="SAME_LOWER"),
             helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[3, 3], strides=[2, 2],
                              pads=[0, 0, 1, 1], ceil_mode=1),
             helper.make_node("Resize", ["p", "", "sc"], ["r"], mode="nearest"),
             helper.make_node("GlobalAveragePool", ["r"], ["a"]),
             helper.make_node("Shape", ["a"], ["s"]),
             helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
             helper.make_node("Concat", ["n", "m1"], ["t"], axis=0),
             helper.make_node("Reshape", ["a", "t"], ["v"]),
             helper.make_node("Gemm", ["v", "g"], ["y"], transB=1)]
    x = helper.make_tensor_value_info("x", f, ["N", 3, "H", "W"])
    y = helper.make_tensor_value_info("y", f, None)
    graph = helper.make_graph(nodes, "fuzz", [x], [y], inits)
    return bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
                 .SerializeToString())


MODEL = _model()


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(MODEL)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    return bytes(data)


def test_the_undamaged_model_imports() -> None:
    net = from_onnx(MODEL)
    assert str(net.output_shape) == "(5,)" and net.total_params == 108 + 4 + 20 + 4


@fuzz(300)
@given(batch(damaged(), 8))
def test_damaged_files_import_or_refuse(files: list[bytes]) -> None:
    for data in files:
        call(from_onnx, data)


def test_a_text_field_that_is_not_utf8_is_refused() -> None:
    """protobuf hands such a field (here the ``dim_param`` "H") back as bytes: it was an
    internal error (a regular expression on bytes), found by the fuzz."""
    assert MODEL.count(b"\x12\x01H") == 1
    with pytest.raises(SpecError) as info:
        from_onnx(MODEL.replace(b"\x12\x01H", b"\x12\x01\x80"))
    assert info.value.code == "not_utf8" and "dim_param" in str(info.value)
