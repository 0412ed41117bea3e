"""The ``onnx`` section: the same exported ONNX files read by convsym, onnxruntime's
``SymbolicShapeInference`` and ``onnx.shape_inference``.

Each network (a built-in example or a chain of convolutions) is exported once, untimed, with
the TorchScript exporter and dynamic H, W (:func:`bench.peers.onnx_model`).  Then, each in a
killable child with a cap (:func:`bench.timing.run_capped`):

* convsym: ``from_onnx(model)`` (every node's shape and count derived), the output shapes and
  the parameter total;
* onnxruntime: ``SymbolicShapeInference.infer_shapes(model, auto_merge=True)``;
* onnx: ``onnx.shape_inference.infer_shapes(model)``.

Recorded per contender: the median time, the H size of the probe output (the last feature map
whose size depends on the input) as text and its size (``sympy.count_ops``; onnx's answer is
a name or nothing), and whether that size agrees with onnxruntime running the file at two
input sizes the network accepts.  Ratios are peer time over convsym time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bench import exprs, peers
from bench.timing import fmt_time, run_capped

NETWORKS = ("resnet50", "mobilenet_v2", "unet")
CHAINS = (10, 100, 1000)
Sizes = list[tuple[int, int]]


def _net(name: str) -> Any:
    if name.startswith("chain"):
        depth = int(name[len("chain"):].split("_")[0])
        return peers.build_chain(depth, 2)
    from convsym.examples import example

    return example(name)


def export(name: str) -> tuple[bytes, Any, Sizes]:
    """The ONNX file of network ``name``, its bench description and two input sizes it
    accepts (from the bench's plan)."""
    from bench.compare import plan
    from bench.ir import from_network

    ir = from_network(_net(name))
    p = plan(ir)
    sizes = [(e["H"], e["W"]) for e, k in zip(p["checks"], p["kinds"]) if k == "executed"]
    return peers.onnx_model(ir, p["example"]), ir, sizes[:2]


def truth(data: bytes, sizes: Sizes) -> list[int | None]:
    """The probe's H size when onnxruntime runs the file (None where it refuses)."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    shape = session.get_inputs()[0].shape
    out = []
    for h, w in sizes:
        x = np.zeros((1, shape[1], h, w), np.float32)
        try:
            probe = session.run(["probe"], {"x": x})[0]
            out.append(int(probe.shape[2]))
        except Exception:  # noqa: BLE001 - onnxruntime raises its own exception types
            out.append(None)
    return out


Task = Callable[[Any], tuple[Callable[[], Any], Callable[[Any], Any]]]


def convsym_task(data: bytes, sizes: Sizes) -> Task:
    def task(progress: Any) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        import onnx

        from convsym.importers.onnx_model import import_onnx

        model = onnx.load_from_string(data)

        def run() -> Any:
            got = import_onnx(model)
            net = got.network
            return got, net.output_shapes, net.total_params

        def finish(result: Any) -> dict[str, Any]:
            got, _, params = result
            row = next(r for r in got.network.rows if r.name == got.rows["probe"])
            h = row.output_shape[1]
            return {"expr": exprs.short(str(h)), "size": exprs.size(h), "params": int(params),
                    "values": [exprs.sympy_value(h, {"H": a, "W": b}) for a, b in sizes]}

        return run, finish

    return task


def ssi_task(data: bytes, sizes: Sizes) -> Task:
    def task(progress: Any) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        import onnx
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

        model = onnx.load_from_string(data)

        def run() -> Any:  # a large stack: it recurses once per layer on a deep chain
            return exprs.big_stack(
                lambda: SymbolicShapeInference.infer_shapes(model, auto_merge=True))

        def finish(out: Any) -> dict[str, Any]:
            return _dim_record(out, sizes)

        return run, finish

    return task


def onnx_task(data: bytes, sizes: Sizes) -> Task:
    def task(progress: Any) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        import onnx

        model = onnx.load_from_string(data)

        def run() -> Any:
            return onnx.shape_inference.infer_shapes(model)

        def finish(out: Any) -> dict[str, Any]:
            return _dim_record(out, sizes)

        return run, finish

    return task


def _dim_record(out: Any, sizes: Sizes) -> dict[str, Any]:
    if out is None:
        raise RuntimeError("no model returned")
    probe = next(o for o in out.graph.output if o.name == "probe")
    dims = probe.type.tensor_type.shape.dim
    if len(dims) < 3:
        return {"expr": "(no shape)", "size": None, "values": [None] * len(sizes)}
    dim = dims[2]
    if dim.HasField("dim_value"):
        text = str(dim.dim_value)
    elif dim.dim_param:
        text = dim.dim_param
    else:
        return {"expr": "(unnamed)", "size": None, "values": [None] * len(sizes)}
    record: dict[str, Any] = {"expr": exprs.short(text)}
    try:
        tree = exprs.parse(text)
    except ValueError:
        tree = None
    if tree is None or not re.search(r"\b[HW]\b", text):
        record.update({"size": None, "values": [None] * len(sizes),
                       "note": "a new name, not a formula of H and W"})
        return record
    values = []
    for h, w in sizes:
        try:
            v = exprs.value(tree, {"H": h, "W": w})
            values.append(int(v) if v.denominator == 1 else None)
        except (KeyError, ValueError, ZeroDivisionError):
            values.append(None)
    record["values"] = values
    record.update(peers._size_of(tree))
    return record


def record(name: str, *, cap: float, budget: float, max_repeats: int,
           say: Callable[[str], None] = print) -> dict[str, Any]:
    """Every contender on the exported file of ``name``."""
    data, ir, sizes = export(name)
    want = truth(data, sizes)
    out: dict[str, Any] = {"layers": ir.layers, "onnx_bytes": len(data), "sizes": sizes,
                           "truth": want, "contenders": {}}
    for who, make in (("convsym", convsym_task), ("onnxruntime", ssi_task),
                      ("onnx", onnx_task)):
        m = run_capped(f"onnx/{name}/{who}", make(data, sizes), cap=cap, budget=budget, lo=1,
                       hi=max_repeats)
        entry = m.to_dict()
        entry.update(m.result or {})
        values = entry.pop("values", None)
        pairs = [(v, t) for v, t in zip(values or [], want) if t is not None]
        entry["exact"] = all(v == t for v, t in pairs) if pairs else None
        out["contenders"][who] = entry
        t = fmt_time(entry.get("median_s"))
        if entry.get("timed_out_after_s") and not entry.get("median_s"):
            t = f"> {entry['timed_out_after_s']:.0f} s (timed out)"
        if entry.get("error"):
            say(f"  {name:<14} {who:<12} FAILED: {str(entry['error'])[:120]}")
        else:
            say(f"  {name:<14} {who:<12} {t:>14} size {entry.get('size', '-')!s:>5} "
                f"exact {entry['exact']!s:<5} {str(entry.get('expr', ''))[:60]}")
    mine = out["contenders"]["convsym"].get("median_s")
    out["ratios"] = {who: {"peer_over_convsym": e["median_s"] / mine}
                     for who, e in out["contenders"].items()
                     if who != "convsym" and mine and e.get("median_s")}
    return out


def section(*, quick: bool, cap: float, budget: float, max_repeats: int,
            say: Callable[[str], None] = print) -> dict[str, Any]:
    """The whole section: networks and chains (quick: ResNet-50 and a 10-layer chain)."""
    names = ("resnet50", "chain10_s2") if quick else \
        (*NETWORKS, *(f"chain{d}_s2" for d in CHAINS))
    results = {}
    for name in names:
        try:
            results[name] = record(name, cap=cap, budget=budget, max_repeats=max_repeats,
                                   say=say)
        except Exception as err:  # noqa: BLE001 - a failed export is reported, never fatal
            results[name] = {"error": f"{type(err).__name__}: {err}"[:300]}
            say(f"  {name:<14} export FAILED: {results[name]['error'][:120]}")
    return results
