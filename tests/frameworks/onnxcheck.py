"""Run an ONNX model with onnxruntime, every intermediate value exposed as a graph output, and
compare each value's shape (and each shape tensor's values) with what convsym derived.

A size onnxruntime refuses (it raises, or a data value comes out empty) must be refused by
convsym's closed forms too (``Network.subs`` raises), and the other way round."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    """Values compared and the mismatches found, over all sizes."""

    compared: int = 0
    nodes: int = 0
    mismatches: list[str] = field(default_factory=list)
    refused: list[dict[str, int]] = field(default_factory=list)
    """The sizes both onnxruntime and convsym refused."""
    total_params: int = 0
    """convsym's parameter total (of the symbolic import)."""


def exposed(model: Any) -> Any:
    """A copy of ``model`` whose graph outputs include every node output."""
    import onnx

    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for node in m.graph.node:
        for name in node.output:
            if name and name not in have:
                m.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
                have.add(name)
    return m


def feeds(model: Any, env: dict[str, int], symbols: dict[str, str], batch: int) -> dict[str, Any]:
    """Random inputs of the sizes ``env`` gives to the (sanitised) dim_param names."""
    import numpy as np

    inits = {t.name for t in model.graph.initializer}
    out = {}
    for info in model.graph.input:
        if info.name in inits:
            continue
        dims = []
        for i, d in enumerate(info.type.tensor_type.shape.dim):
            if d.HasField("dim_value"):
                dims.append(d.dim_value)
            elif i == 0:
                dims.append(batch)
            else:
                dims.append(env[symbols[d.dim_param]])
        out[info.name] = np.random.default_rng(0).standard_normal(dims).astype(np.float32)
    return out


def compare(model: Any, sizes: list[dict[str, int]], *, batch: int = 2) -> Report:
    """Compare every node output's shape with convsym's at each of ``sizes``."""
    import onnxruntime as ort

    from convsym.errors import ConvsymError
    from convsym.importers.onnx_model import import_onnx
    from convsym.intdiv import as_int, from_sympy

    got = import_onnx(model)
    session = ort.InferenceSession(exposed(model).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    report = Report(nodes=len(model.graph.node))
    report.total_params = int(got.network.total_params)
    initializers = {t.name for t in model.graph.initializer}
    for env in sizes:
        arrays, theirs = _run(session, names, feeds(model, env, got.symbols, batch), got.rows)
        try:
            net = got.network.subs(env)
        except ConvsymError as err:
            if theirs is None:
                report.mismatches.append(f"{env}: convsym refuses ({err.code}: "
                                         f"{str(err)[:200]}) but onnxruntime runs it")
            else:
                report.refused.append(env)
            report.compared += 1
            continue
        if theirs is not None:
            report.mismatches.append(f"{env}: onnxruntime refuses ({theirs}) but convsym "
                                     f"gives {net.output_shapes}")
            continue
        rows = {r.name: r for r in net.rows}
        for value, row in got.rows.items():
            if value not in arrays:
                continue
            ours = (batch, *(int(s) for s in rows[row].output_shape))
            report.compared += 1
            if ours != arrays[value].shape:
                report.mismatches.append(f"{env} {value}: convsym {ours}, onnxruntime "
                                         f"{arrays[value].shape}")
        for value, elems in got.consts.items():
            if value not in arrays or elems is None or value in initializers:
                continue
            flat = arrays[value].reshape(-1).tolist()
            mine = []
            for e in elems:
                if e == "batch":
                    mine.append(batch)
                elif isinstance(e, (int, float)):
                    mine.append(e)
                else:
                    q = from_sympy(e.subs({s: env[s.name] for s in e.free_symbols}))
                    mine.append(as_int(q))
            report.compared += 1
            if [float(v) for v in mine] != [float(v) for v in flat]:
                report.mismatches.append(f"{env} shape value {value}: convsym {mine}, "
                                         f"onnxruntime {flat}")
    return report


def _run(session: Any, names: list[str], inputs: dict[str, Any], rows: dict[str, str]
         ) -> tuple[dict[str, Any], str | None]:
    """Every exposed value at ``inputs``, or why onnxruntime refuses the size: it raises, or a
    data value (one convsym has a row for) comes out with an empty axis."""
    try:
        arrays = dict(zip(names, session.run(names, inputs)))
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types
        return {}, f"{type(err).__name__}: {str(err)[:160]}"
    for value in rows:
        if value in arrays and 0 in arrays[value].shape:
            return arrays, f"the value {value!r} is empty: {arrays[value].shape}"
    return arrays, None


def initializer_total(model: Any) -> int:
    """Elements of the floating-point initializers."""
    import math

    return sum(math.prod(t.dims) for t in model.graph.initializer if t.data_type in (1, 10, 11, 16))
