"""The ONNX importer on hand-built graphs: every auto_pad / ceil_mode / ConvTranspose rule
against onnxruntime over a range of sizes (refusals where onnxruntime refuses), symbols from
``dim_param``, parameter counts, and hostile or unsupported files refused with a code."""

from __future__ import annotations

import itertools
import os

import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
np = pytest.importorskip("numpy")

from onnx import TensorProto, helper  # noqa: E402

from convsym.errors import ConvsymError  # noqa: E402
from convsym.importers.onnx_model import from_onnx, import_onnx  # noqa: E402

SIZES = range(1, 21)


def one_node(op: str, attrs: dict[str, object], *, kernel: int | None = None, c_out: int = 2,
             transpose: bool = False, opset: int = 17) -> onnx.ModelProto:
    """``op`` on a (N, 2, H) input, with a weight for Conv/ConvTranspose."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, "H"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    inits, inputs = [], ["x"]
    if kernel is not None:
        dims = [2, c_out, kernel] if transpose else [c_out, 2, kernel]
        inits = [helper.make_tensor("w", TensorProto.FLOAT, dims, [0.5] * (2 * c_out * kernel)),
                 helper.make_tensor("b", TensorProto.FLOAT, [c_out], [0.0] * c_out)]
        inputs += ["w", "b"]
    node = helper.make_node(op, inputs, ["y"], name="node", **attrs)
    model = helper.make_model(helper.make_graph([node], "g", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def ort_length(model: onnx.ModelProto, n: int) -> int | None:
    """onnxruntime's output length for input length n, None when it refuses."""
    try:
        session = ort.InferenceSession(model.SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        out = session.run(None, {"x": np.ones((1, 2, n), np.float32)})[0]
    except Exception:  # noqa: BLE001 - onnxruntime raises its own Fail/InvalidArgument types
        return None
    return int(out.shape[2]) if out.size else 0


def convsym_length(net: object, n: int) -> int | None:
    try:
        shape = net.subs(H=n).output_shape  # type: ignore[attr-defined]
    except ConvsymError:
        return None
    return int(shape[1])


def no_window(attrs: dict[str, object], n: int) -> bool:
    """True where no pooling window fits, which onnxruntime's truncating C++ division still
    counts as one output (convsym refuses, as PyTorch does; docs/conventions-onnx.md)."""
    k = attrs["kernel_shape"][0]  # type: ignore[index]
    s = attrs.get("strides", [1])[0]  # type: ignore[attr-defined]
    d = attrs.get("dilations", [1])[0]  # type: ignore[attr-defined]
    ke = d * (k - 1) + 1
    if str(attrs.get("auto_pad", "NOTSET")).startswith("SAME"):
        return -(-n // s) - -(-(d - 1) * (k - 1) // s) < 1
    if attrs.get("ceil_mode"):
        return False
    return n + sum(attrs.get("pads", [0, 0])) < ke  # type: ignore[arg-type]


def agree(model: onnx.ModelProto, attrs: dict[str, object] | None = None) -> None:
    try:
        net = from_onnx(model)
    except ConvsymError:
        net = None
    for n in SIZES:
        want = ort_length(model, n)
        got = None if net is None else convsym_length(net, n)
        if got is None and want == 1 and attrs is not None and no_window(attrs, n):
            continue
        # onnxruntime returns an empty tensor for a zero-length output; convsym refuses it
        assert got == (want or None), (n, want, got)


CONV = [dict(kernel_shape=[k], strides=[s], auto_pad=pad)
        for k, s, pad in itertools.product((1, 2, 3, 4), (1, 2, 3), ("SAME_UPPER", "SAME_LOWER",
                                                                       "VALID"))]
CONV += [dict(kernel_shape=[3], strides=[2], pads=[0, 3]),
         dict(kernel_shape=[3], strides=[2], dilations=[2], pads=[1, 2]),
         dict(kernel_shape=[3], strides=[2], dilations=[2], auto_pad="SAME_UPPER")]


@pytest.mark.parametrize("attrs", CONV, ids=str)
def test_conv_matches_onnxruntime(attrs: dict[str, object]) -> None:
    agree(one_node("Conv", attrs, kernel=attrs["kernel_shape"][0]))  # type: ignore[index]


POOL = [dict(kernel_shape=[k], strides=[s], auto_pad=pad, dilations=[d])
        for k, s, pad, d in itertools.product((1, 2, 3), (1, 2, 3), ("SAME_UPPER", "SAME_LOWER"),
                                              (1, 2))]
POOL += [dict(kernel_shape=[k], strides=[s], pads=[a, b], ceil_mode=c)
         for k, s, (a, b), c in itertools.product((2, 3), (2, 3), ((0, 1), (1, 0), (1, 1), (0, 2)),
                                                  (0, 1))]
POOL += [dict(kernel_shape=[3], strides=[2], pads=[1, 1], dilations=[2], ceil_mode=1),
         dict(kernel_shape=[3], pads=[2, 2])]
# SAME padding is sized for the undilated kernel, and ceil_mode then counts one more
# window than the SAME rule (kernel 2, stride 3, dilation 2 on 13: 5, not 4; campaign)
POOL += [dict(kernel_shape=[k], strides=[s], auto_pad=pad, dilations=[2], ceil_mode=1)
         for k, s, pad in itertools.product((2, 3), (2, 3), ("SAME_UPPER", "SAME_LOWER"))]


@pytest.mark.parametrize("attrs", POOL, ids=str)
def test_max_pool_matches_onnxruntime(attrs: dict[str, object]) -> None:
    agree(one_node("MaxPool", attrs), attrs)


@pytest.mark.parametrize("attrs", [dict(kernel_shape=[2], strides=[3], auto_pad="SAME_UPPER"),
                                   dict(kernel_shape=[3], strides=[2], pads=[1, 0],
                                        ceil_mode=1)], ids=str)
def test_average_pool_matches_onnxruntime(attrs: dict[str, object]) -> None:
    agree(one_node("AveragePool", attrs), attrs)


@pytest.mark.parametrize(("op", "name", "value", "since"), [
    ("AveragePool", "dilations", [1], 19), ("AveragePool", "dilations", [2], 19),
    ("AveragePool", "ceil_mode", 1, 10), ("AveragePool", "count_include_pad", 0, 7),
    ("MaxPool", "dilations", [1], 10), ("MaxPool", "ceil_mode", 0, 10),
    ("MaxPool", "storage_order", 0, 8), ("LpPool", "dilations", [1], 18),
    ("LpPool", "ceil_mode", 0, 18)], ids=str)
def test_pool_attributes_before_their_opset_are_refused_as_onnxruntime_does(
        op: str, name: str, value: object, since: int) -> None:
    attrs = {"kernel_shape": [2], name: value}
    old = one_node(op, attrs, opset=since - 1)
    assert ort_length(old, 9) is None  # onnxruntime: not in the older schema
    with pytest.raises(ConvsymError) as info:
        from_onnx(old)
    message = str(info.value)
    assert info.value.code == "unsupported_attribute"
    for part in (f"'node' ({op})", f"{name} = {value}", f"opset {since}",
                 f"imports opset {since - 1}"):
        assert part in message, message
    agree(one_node(op, attrs, opset=since), attrs)  # the attribute from its opset on


TRANSPOSED = [dict(kernel_shape=[k], strides=[s], auto_pad=pad, output_padding=[op],
                   dilations=[d])
              for k, s, pad, op, d in itertools.product(
                  (1, 3), (1, 2, 3), ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"), (0, 1),
                  (1, 2))]
TRANSPOSED += [dict(kernel_shape=[3], strides=[2], pads=[1, 2], output_padding=[1]),
               dict(kernel_shape=[3], strides=[1], pads=[2, 2]),
               dict(kernel_shape=[3], strides=[2], output_shape=[9]),
               dict(kernel_shape=[3], strides=[2], output_padding=[2])]


@pytest.mark.parametrize("attrs", TRANSPOSED, ids=str)
def test_conv_transpose_matches_onnxruntime(attrs: dict[str, object]) -> None:
    agree(one_node("ConvTranspose", attrs, kernel=attrs["kernel_shape"][0],  # type: ignore[index]
                   transpose=True))


def test_same_lower_moves_the_odd_padding_cell_to_the_start() -> None:
    from convsym.derivation import derive

    for pad, first in (("SAME_UPPER", 0), ("SAME_LOWER", 1)):
        net = from_onnx(one_node("Conv", dict(kernel_shape=[2], strides=[1], auto_pad=pad),
                                 kernel=2))
        step = net.rows[0].inference.steps[0]
        assert step.rule == pad.lower() + "_onnx"
        assert int(step.values["p_l"].as_int()) == first  # type: ignore[union-attr]
        assert pad.lower() + "_onnx" not in derive(net).to_text() or True


def test_dim_params_become_symbols_and_params_are_the_initializers() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "in.h", "2w"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.0] * 108)
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [4, 1, 1], [1.0] * 4)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3]),
             helper.make_node("Mul", ["c", "scale"], ["y"])]
    got = import_onnx(helper.make_model(helper.make_graph(nodes, "g", [x], [y], [w, scale])))
    assert got.symbols == {"in.h": "in_h", "2w": "s_2w"}
    assert str(got.network.output_shape) == "(4, in_h - 2, s_2w - 2)"
    assert got.network.total_params == 108 + 4


def _model(nodes: list[object], inits: list[object] = (), shape: list[object] | None = None
           ) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape or ["N", 2, "H", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    return helper.make_model(helper.make_graph(nodes, "g", [x], [y], list(inits)))


BAD = [
    (_model([helper.make_node("Transpose", ["x"], ["y"], perm=[1, 0, 2, 3])]),
     "batch_axis", "batch axis"),
    (_model([helper.make_node("Foo", ["x"], ["y"], domain="custom.ops")]), "custom_operator",
     "custom.ops::Foo"),
    (_model([helper.make_node("Frobnicate", ["x"], ["y"])]), "unsupported_operator",
     "Frobnicate"),
    (_model([helper.make_node("Flatten", ["x"], ["y"], axis=0)]), "batch_axis", "batch"),
    (_model([helper.make_node("Concat", ["x", "x"], ["y"], axis=0)]), "batch_axis",
     "batch axis"),
    (_model([helper.make_node("Relu", ["x"], ["y"])], shape=["N", 0, "H", "W"]),
     "bad_input_shape", "size 0"),
    (_model([helper.make_node("Gather", ["x", "i"], ["y"])],
            [helper.make_tensor("i", TensorProto.INT64, [], [0])]),
     "unsupported_shape_computation", "Gather on a data tensor"),
]


@pytest.mark.parametrize(("model", "code", "text"), BAD, ids=[b[1] + str(i) for i, b in
                                                               enumerate(BAD)])
def test_refusals_have_codes(model: onnx.ModelProto, code: str, text: str) -> None:
    with pytest.raises(ConvsymError) as info:
        from_onnx(model)
    assert info.value.code == code
    assert text in str(info.value) and "\n" not in str(info.value)


def test_subgraphs_and_external_data_outside_the_folder_are_refused(tmp_path: object) -> None:
    branch = helper.make_graph([helper.make_node("Identity", ["x"], ["z"])], "b", [],
                               [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    cond = helper.make_tensor("c", TensorProto.BOOL, [], [True])
    with pytest.raises(ConvsymError) as info:
        from_onnx(_model([helper.make_node("If", ["c"], ["y"], then_branch=branch,
                                           else_branch=branch)], [cond]))
    assert info.value.code == "subgraph"
    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 2, 1, 1], [0.0] * 4)
    w.data_location = TensorProto.EXTERNAL
    w.ClearField("float_data")
    entry = w.external_data.add()
    entry.key, entry.value = "location", "../../etc/passwd"
    model = _model([helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[1, 1])], [w])
    path = os.path.join(str(tmp_path), "m.onnx")
    with open(path, "wb") as handle:
        handle.write(model.SerializeToString())
    with pytest.raises(ConvsymError) as info:
        from_onnx(path)
    assert info.value.code == "external_data_outside"


def test_not_an_onnx_file(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "bad.onnx")
    with open(path, "wb") as handle:
        handle.write(b"\xff\xfe definitely not protobuf" * 10)
    with pytest.raises(ConvsymError) as info:
        from_onnx(path)
    assert info.value.code == "not_onnx"
    with pytest.raises(ConvsymError) as info:
        from_onnx(os.path.join(str(tmp_path), "missing.onnx"))
    assert info.value.code == "no_file"


def test_cli_reads_onnx_files(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from convsym.cli import main

    path = os.path.join(str(tmp_path), "m.onnx")
    model = one_node("Conv", dict(kernel_shape=[3], strides=[2], auto_pad="SAME_UPPER"),
                     kernel=3)
    with open(path, "wb") as handle:
        handle.write(model.SerializeToString())
    assert main(["summary", path, "--set", "H=17"]) == 0
    out = capsys.readouterr().out
    assert "(2, 9)" in out and "Total params: 14" in out
    assert main(["derive", path]) == 0
    assert "SAME_UPPER" in capsys.readouterr().out
    bad = os.path.join(str(tmp_path), "bad.onnx")
    with open(bad, "wb") as handle:
        handle.write(b"junk")
    assert main(["summary", bad]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_made_up_names_avoid_dim_params() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, None, "H"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    model = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                                                [x], [y]))
    assert str(from_onnx(model).output_shape) == "(3, H_1, H)"


def test_shape_tensors_follow_the_size_algebra() -> None:
    """``x.view(x.size(0), -1)``-style chains and integer arithmetic on sizes."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, "H", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Constant", [], ["i"], value_ints=[2, 3]),
             helper.make_node("Gather", ["s", "i"], ["hw"]),
             helper.make_node("Constant", [], ["two"], value_ints=[2]),
             helper.make_node("Div", ["hw", "two"], ["half"]),
             helper.make_node("Slice", ["s", "zero", "two"], ["nc"]),
             helper.make_node("Constant", [], ["zero"], value_ints=[0]),
             helper.make_node("Concat", ["nc", "half"], ["size"], axis=0),
             helper.make_node("Resize", ["x", "", "", "size"], ["y"], mode="nearest")]
    nodes.insert(5, nodes.pop(6))  # the Constant before the Slice that reads it
    got = import_onnx(helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                                        opset_imports=[helper.make_opsetid("", 17)]))
    assert str(got.network.output_shape) == "(4, floor(H/2), floor(W/2))"
    assert got.consts["nc"] == ("batch", 4)


def test_slices_clamp_as_onnx_does() -> None:
    """``x[..., 4:-4]`` (both bounds clamped in general) and ``x[..., :100]`` on a symbolic
    axis, checked against onnxruntime."""
    consts = [helper.make_tensor(n, TensorProto.INT64, [1], [v]) for n, v in
              (("b", 4), ("e", -4), ("a", 2), ("e2", 100), ("z", 0), ("a3", 3))]
    nodes = [helper.make_node("Slice", ["x", "b", "e", "a"], ["t"]),
             helper.make_node("Slice", ["t", "z", "e2", "a3"], ["y"])]
    model = _model(nodes, consts)
    net = from_onnx(model)
    assert str(net.output_shape) == "(2, H - 8, Min(100, W))"
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "frameworks"))
    import onnxcheck

    report = onnxcheck.compare(model, [{"H": 9, "W": 120}, {"H": 30, "W": 7}])
    assert report.compared == 4 and not report.mismatches, report.mismatches


MALFORMED = [
    _model([helper.make_node("MaxPool", ["x"], ["y"])]),  # no kernel_shape
    _model([helper.make_node("Conv", ["x"], ["y"], kernel_shape=[3, 3])]),  # no weight
    _model([helper.make_node("Concat", ["x", "x"], ["y"])]),  # no axis
    _model([helper.make_node("Conv", ["x", "w"], ["y"], group="two")],
           [helper.make_tensor("w", TensorProto.FLOAT, [2, 2, 1, 1], [0.0] * 4)]),
    _model([helper.make_node("Relu", ["nowhere"], ["y"])]),
    _model([helper.make_node("Reshape", ["x", "s"], ["y"])],
           [helper.make_tensor("s", TensorProto.INT64, [2], [5, -1])]),
]


@pytest.mark.parametrize("model", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_nodes_give_one_line(model: onnx.ModelProto) -> None:
    with pytest.raises(ConvsymError) as info:
        from_onnx(model)
    assert "\n" not in str(info.value) and info.value.code


def _check(model: onnx.ModelProto, sizes: list[dict[str, int]]) -> None:
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "frameworks"))
    import onnxcheck

    report = onnxcheck.compare(model, sizes)
    assert report.compared and not report.mismatches, report.mismatches


def test_old_opsets_take_attributes_where_newer_ones_take_inputs() -> None:
    """Opset 9: Upsample with a scales input, Slice and Pad with attributes."""
    scales = helper.make_tensor("sc", TensorProto.FLOAT, [4], [1.0, 1.0, 2.0, 2.0])
    nodes = [helper.make_node("Upsample", ["x", "sc"], ["u"], mode="nearest"),
             helper.make_node("Slice", ["u"], ["s"], starts=[1], ends=[-1], axes=[2]),
             helper.make_node("Pad", ["s"], ["y"], pads=[0, 0, 1, 0, 0, 0, 2, 3])]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, "H", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], [scales]),
                              opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 4
    assert str(from_onnx(model).output_shape) == "(2, 2*H + 1, 2*W + 3)"
    _check(model, [{"H": 3, "W": 5}, {"H": 8, "W": 1}])


def test_two_inputs_meet_in_a_broadcasting_add() -> None:
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 4, "H", "W"])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 4, "H2", 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    model = helper.make_model(helper.make_graph([helper.make_node("Add", ["a", "b"], ["y"])],
                                                "g", [a, b], [y]))
    net = from_onnx(model)
    # NumPy-style broadcasting: either side may be 1 (onnxruntime runs (1, 4, 1, 3) + (1, 4, 7, 1))
    assert str(net.output_shape) == "(4, Max(H, H2), W)"
    assert [str(c) for c in net.conditions] == ["Eq(H, 1) | Eq(H, H2) | Eq(H2, 1)"]
    assert net.accepts(H=1, H2=7, W=3) and not net.accepts(H=5, H2=2, W=3)
    assert net.subs(H=1, H2=7, W=3).output_shape == (4, 7, 3)


def test_a_fifo_is_refused_not_read(tmp_path: object) -> None:
    """``convsym inputs fifo.yaml --from onnx`` blocked on the open FIFO (found by the CLI fuzz
    test): the file is read only when it is a regular file."""
    fifo = os.path.join(str(tmp_path), "fifo.onnx")
    os.mkfifo(fifo)
    with pytest.raises(ConvsymError) as info:
        from_onnx(fifo)
    assert "it is a FIFO" in str(info.value) and fifo in str(info.value)


def test_expand_broadcasts_to_a_computed_shape() -> None:
    """SSD's L2 norm as torch exports it: a ReduceL2 expanded back to ``Shape(x)``; and an
    Expand to a constant target whose 1s keep the input's sizes."""
    target = helper.make_tensor("t", TensorProto.INT64, [3], [3, 1, 1])
    nodes = [helper.make_node("ReduceL2", ["x"], ["n"], axes=[1], keepdims=1),
             helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Expand", ["n", "s"], ["e"]),
             helper.make_node("Div", ["x", "e"], ["d"]),
             helper.make_node("Slice", ["d", "one", "two", "one"], ["c"]),
             helper.make_node("Expand", ["c", "t"], ["y"])]
    one = helper.make_tensor("one", TensorProto.INT64, [1], [1])
    two = helper.make_tensor("two", TensorProto.INT64, [1], [2])
    model = _model(nodes, [target, one, two], shape=["N", 2, "H", "W"])
    model.opset_import[0].version = 13
    assert str(from_onnx(model).output_shape) == "(3, H, W)"
    _check(model, [{"H": 3, "W": 5}, {"H": 1, "W": 2}])


def test_expand_before_the_batch_axis_is_refused() -> None:
    target = helper.make_tensor("t", TensorProto.INT64, [5], [2, 1, 2, 1, 1])
    with pytest.raises(ConvsymError) as info:
        from_onnx(_model([helper.make_node("Expand", ["x", "t"], ["y"])], [target]))
    assert info.value.code == "batch_axis" and "before the batch axis" in str(info.value)
