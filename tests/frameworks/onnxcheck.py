"""Run an ONNX model with onnxruntime, every intermediate value exposed as a graph output, and
compare each value's shape (and each shape tensor's values) with what convsym derived."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    """Values compared and the mismatches found, over all sizes."""

    compared: int = 0
    nodes: int = 0
    mismatches: list[str] = field(default_factory=list)


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

    from convsym.importers.onnx_model import import_onnx
    from convsym.intdiv import as_int, from_sympy

    got = import_onnx(model)
    session = ort.InferenceSession(exposed(model).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    report = Report(nodes=len(model.graph.node))
    for env in sizes:
        arrays = dict(zip(names, session.run(names, feeds(model, env, got.symbols, batch))))
        net = got.network.subs(env)
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
            if value not in arrays or elems is None or value in {t.name for t in
                                                                 model.graph.initializer}:
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


def initializer_total(model: Any) -> int:
    """Elements of the floating-point initializers."""
    import math

    return sum(math.prod(t.dims) for t in model.graph.initializer if t.data_type in (1, 10, 11, 16))
