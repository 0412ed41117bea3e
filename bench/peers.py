"""What each contender runs, as tasks for :func:`bench.timing.run_capped`.

A task is prepared untimed (build the torch module, export the ONNX file), then its ``run``
is timed, then ``finish`` reads the final size expression off the last result, measures its
size and evaluates it at the checked input sizes, all in the child process.

Every ``finish`` returns a dict: ``expr`` (text, shortened), ``size`` (``sympy.count_ops``),
``values`` (the H size at each checked input, or None where it could not be evaluated) and
``params`` where the contender counts parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from bench import exprs
from bench.ir import Net

Env = dict[str, int]
Progress = Callable[[Any], None]


# --- convsym ------------------------------------------------------------------------------------


def chain_layers(depth: int, stride: int | str, channels: int = 4) -> list[Any]:
    """``depth`` PyTorch ``Conv2d(c, c, 3, stride, padding=1)`` layers (stride may be a name)."""
    from convsym.layers.torch import Conv2d

    return [Conv2d(channels, channels, 3, stride=stride, padding=1) for _ in range(depth)]


def build_chain(depth: int, stride: int | str, channels: int = 4) -> Any:
    """The chain as a convsym network with input ``(channels, H, W)``."""
    from convsym import Sequential

    return Sequential(chain_layers(depth, stride, channels), input_shape=(channels, "H", "W"),
                      name=f"chain{depth}_s{stride}")


def clear_caches() -> None:
    """Forget every cache a first run would not have: SymPy's global cache and convsym's
    memos (what a fresh process starts with, minus the imports): sizes, displays (the
    derivations' too), parsed texts, rooms, thresholds and agreements, layers' checked
    arguments and configurations, and what is remembered per symbol (its key, digest, sign
    and probe values), and the table of floors alive (a run's result kept alive, the
    warm-up's, would hand its floors to the next run, and with them its symbols: a fresh
    process has neither, and each equal-but-distinct symbol costs a SymPy comparison).

    Kept: what is built once per class (a printer's method for a SymPy class, the ``nargs``
    of ``floor``, a layer class's field names), independent of the network, and the
    constants made at import (the assumptions of convsym's symbols, deduced at import, are
    restored to that state)."""
    from sympy.core.cache import clear_cache

    from convsym import deep, derivation, domains, expr, formulas, intdiv, sizes
    from convsym.layers import base, sharing
    from convsym.printing import latex, text
    from convsym.proof import lemmas

    clear_cache()
    expr._CACHE.clear()
    expr._PARSED.clear()
    expr.forget_facts()
    domains._NEUTRAL.clear()
    lemmas._SHIFTED.clear()
    intdiv._SYM_KEYS.clear()
    intdiv._SYM_DIGESTS.clear()
    intdiv._POSITIVE.clear()
    intdiv._PROBE_AT.clear()
    intdiv._FLOORS.clear()  # (floors interned while alive: the last run's, the warm-up's)
    for constant in intdiv._SMALL_CONSTS.values():  # (made at import; what they learnt since)
        constant._memo = None
    text.power_factors.cache_clear()
    latex._latex.cache_clear()
    formulas._settled.cache_clear()
    derivation._settled.cache_clear()
    derivation.to_sympy.cache_clear()
    intdiv._SHOWN.clear()
    base._ROOMS.clear()
    base._SIZES.clear()
    sharing._CHECKED.clear()
    base._CONFIGS.clear()
    intdiv._CONVERTED.clear()
    intdiv._FLOOR_SHOWN.clear()
    intdiv._TERM_SHOWN.clear()
    text._ROUNDED.clear()
    text._TEXTS.clear()
    text._TERMS.clear()
    text._ROWS.clear()
    text._SORT_KEYS.clear()
    text._PRINTED.clear()
    text._COMPARED.clear()
    latex._ROUNDED.clear()
    deep._ORDERED.clear()
    deep._NUMBERS.clear()
    sizes._PRODUCTS.clear()
    sizes._MIXED.clear()
    sizes._THRESHOLDS.clear()
    deep._NESTED.clear()
    deep._ROUND_CLASSES.clear()
    text._METHODS.clear()
    text._PRECEDENCE_RULES.clear()
    text._FUNCTIONS.clear()


def convsym_task(build: Callable[[], Any], probe: int, h_axis: int, checks: list[Env], *,
                 first: bool = False, summary: bool = False
                 ) -> Callable[[Progress], tuple[Callable[[], Any], Callable[[Any], Any]]]:
    """Build the network (every shape and count derived), then read the final size as SymPy
    and the parameter total, as a user does.

    ``first=True`` clears SymPy's cache and convsym's memos before every run (outside the
    timed region, as a fresh process starts without them), so each run is a first run;
    ``summary=True`` also makes the summary table as JSON (``summary().to_dict()``: every
    row's shape, counts and MACs printed), what ``convsym summary`` users wait for.
    """

    def task(progress: Progress) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        from bench.timing import with_setup
        from convsym.intdiv import to_sympy
        from convsym.printing.text import sstr

        def run() -> Any:
            net = build()
            shapes = net.output_shapes
            final = to_sympy(net.shapes[probe][h_axis])
            table = net.summary().to_dict() if summary else None
            return net, final, net.total_params, shapes, table

        with_setup(run, clear_caches if first else None)

        def finish(result: Any) -> dict[str, Any]:
            net, final, params, _, _ = result
            # convsym's own printer, as users see it (2**500, not 151 digits)
            return {"expr": exprs.short(sstr(final)), "size": exprs.size(final),
                    "values": [exprs.sympy_value(final, env) for env in checks],
                    "params": int(params) if params.is_Integer else str(params),
                    "conditions": [str(c) for c in net.conditions][:6]}

        return run, finish

    return task


CONVSYM_VARIANTS = {"convsym": {}, "convsym_first": {"first": True},
                    "convsym_summary": {"summary": True},
                    "convsym_summary_first": {"first": True, "summary": True}}
"""convsym's timed variants: warm build (the reference for every ratio), first run (caches
cleared), and build + ``summary().to_dict()`` warm and first."""


# --- issue 19's workloads (networks users build beyond pure chains) ------------------------------


def alt_chain(depth: int, pattern: tuple[int, ...] = (2, 1), channels: int = 8) -> Any:
    """``Conv2d(c, c, 3, stride, padding=1)`` with strides cycling through ``pattern``."""
    from convsym import Sequential
    from convsym.layers.torch import Conv2d

    layers = [Conv2d(channels, channels, 3, stride=pattern[i % len(pattern)], padding=1)
              for i in range(depth)]
    name = "alt" + "".join(map(str, pattern))
    return Sequential(layers, input_shape=(channels, "H", "W"), name=f"{name}_{depth}")


def random_chain(depth: int, seed: int = 19, channels: int = 4) -> Any:
    """Random kernel (1, 3, 5), stride (1, 2), dilation (1, 2) per layer, padding
    ``d(k-1)/2`` (so every input size is accepted), a fixed seed."""
    import random

    from convsym import Sequential
    from convsym.layers.torch import Conv2d

    rng = random.Random(seed)
    layers = []
    for _ in range(depth):
        k, s, d = rng.choice((1, 3, 5)), rng.choice((1, 1, 2)), rng.choice((1, 1, 2))
        layers.append(Conv2d(channels, channels, k, stride=s, padding=d * (k - 1) // 2,
                             dilation=d))
    return Sequential(layers, input_shape=(channels, "H", "W"), name=f"random_{depth}")


def decoder(depth: int, channels: int = 4) -> Any:
    """A transposed decoder: ``ConvTranspose2d(c, c, 4, 2, 1)`` (doubles) then a 3x3 conv."""
    from convsym import Sequential
    from convsym.layers.torch import Conv2d, ConvTranspose2d

    layers: list[Any] = []
    for _ in range(depth):
        layers += [ConvTranspose2d(channels, channels, 4, stride=2, padding=1),
                   Conv2d(channels, channels, 3, padding=1)]
    return Sequential(layers, input_shape=(channels, "H", "W"), name=f"decoder_{depth}")


def residual_chain(blocks: int, channels: int = 4) -> Any:
    """``blocks`` residual blocks (two 3x3 convolutions and an ``Add`` with the block's
    input); every 4th block downsamples (stride 2, with a 1x1 stride-2 shortcut)."""
    from convsym.graph import Graph
    from convsym.layers import torch as T

    g = Graph(input_shape=(channels, "H", "W"), name=f"residual_{blocks}")
    x = g.add(T.Conv2d(channels, channels, 3, padding=1), name="stem")
    for b in range(blocks):
        stride = 2 if b % 4 == 3 else 1
        y = g.add(T.Conv2d(channels, channels, 3, stride=stride, padding=1), x,
                  name=f"b{b}.conv1")
        y = g.add(T.Conv2d(channels, channels, 3, padding=1), y, name=f"b{b}.conv2")
        if stride != 1:
            x = g.add(T.Conv2d(channels, channels, 1, stride=stride), x, name=f"b{b}.down")
        x = g.add(T.Add(), y, x, name=f"b{b}.add")
    return g.build()


def unet(depth: int, channels: int = 4) -> Any:
    """A PyTorch U-Net of ``depth`` levels: two padded 3x3 convolutions per level,
    ``MaxPool2d(2)`` down, ``ConvTranspose2d(c, c, 2, 2)`` up, the skip concatenated
    (``Concat``), so only H, W multiples of ``2**depth`` are accepted."""
    from convsym.graph import Graph
    from convsym.layers import torch as T

    g = Graph(input_shape=(channels, "H", "W"), name=f"unet_{depth}")

    def double(x: Any, c_in: int, c_out: int, name: str) -> Any:
        x = g.add(T.Conv2d(c_in, c_out, 3, padding=1), x, name=f"{name}.conv1")
        x = g.add(T.ReLU(), x, name=f"{name}.relu1")
        x = g.add(T.Conv2d(c_out, c_out, 3, padding=1), x, name=f"{name}.conv2")
        return g.add(T.ReLU(), x, name=f"{name}.relu2")

    x = double(g.input, channels, channels, "enc0")
    skips = []
    for level in range(depth):
        skips.append(x)
        x = g.add(T.MaxPool2d(2), x, name=f"down{level}")
        x = double(x, channels, channels, f"enc{level + 1}")
    for level in reversed(range(depth)):
        x = g.add(T.ConvTranspose2d(channels, channels, 2, stride=2), x, name=f"up{level}")
        x = g.add(T.Concat(), skips[level], x, name=f"cat{level}")
        x = double(x, 2 * channels, channels, f"dec{level}")
    return g.build()


DENSENETS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}
"""DenseNet block configurations by depth (Huang et al., 2017)."""


def densenet(depth: int, growth: int = 32, bn_size: int = 4) -> Any:
    """DenseNet-``depth`` (121, 169 or 201) as torchvision builds it, for 1000 classes:
    every dense layer BN-ReLU-1x1-BN-ReLU-3x3 and concatenated with its input, transitions
    BN-ReLU-1x1 (half the channels)-``AvgPool2d(2)``."""
    from convsym.graph import Graph
    from convsym.layers import torch as T

    g = Graph(input_shape=(3, "H", "W"), name=f"densenet_{depth}")
    c = 2 * growth
    x = g.add(T.Conv2d(3, c, 7, stride=2, padding=3, bias=False), g.input, name="conv0")
    x = g.add(T.BatchNorm2d(c), x, name="norm0")
    x = g.add(T.ReLU(), x, name="relu0")
    x = g.add(T.MaxPool2d(3, stride=2, padding=1), x, name="pool0")
    for b, layers in enumerate(DENSENETS[depth]):
        for i in range(layers):
            n = f"block{b}.layer{i}"
            y = g.add(T.BatchNorm2d(c), x, name=f"{n}.norm1")
            y = g.add(T.ReLU(), y, name=f"{n}.relu1")
            y = g.add(T.Conv2d(c, bn_size * growth, 1, bias=False), y, name=f"{n}.conv1")
            y = g.add(T.BatchNorm2d(bn_size * growth), y, name=f"{n}.norm2")
            y = g.add(T.ReLU(), y, name=f"{n}.relu2")
            y = g.add(T.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False), y,
                      name=f"{n}.conv2")
            x = g.add(T.Concat(), x, y, name=f"{n}.cat")
            c += growth
        if b < len(DENSENETS[depth]) - 1:
            n = f"transition{b}"
            x = g.add(T.BatchNorm2d(c), x, name=f"{n}.norm")
            x = g.add(T.ReLU(), x, name=f"{n}.relu")
            x = g.add(T.Conv2d(c, c // 2, 1, bias=False), x, name=f"{n}.conv")
            x = g.add(T.AvgPool2d(2, stride=2), x, name=f"{n}.pool")
            c //= 2
    x = g.add(T.BatchNorm2d(c), x, name="norm5")
    x = g.add(T.ReLU(), x, name="relu5")
    x = g.add(T.AdaptiveAvgPool2d(1), x, name="avgpool")
    x = g.add(T.Flatten(), x, name="flatten")
    g.add(T.Linear(c, 1000), x, name="classifier")
    return g.build()


def inception(blocks: int, channels: int = 8) -> Any:
    """``blocks`` Inception-style blocks of four branches (1x1; 1x1-3x3; 1x1-5x5;
    ``MaxPool2d(3, 1, 1)``-1x1) concatenated; every 5th block is followed by a stride-2
    ``MaxPool2d(3, 2, 1)``."""
    from convsym.graph import Graph
    from convsym.layers import torch as T

    c = channels
    g = Graph(input_shape=(c, "H", "W"), name=f"inception_{blocks}")
    x = g.input
    for b in range(blocks):
        n = f"block{b}"
        a = g.add(T.Conv2d(c, c // 4, 1), x, name=f"{n}.b1")
        m = g.add(T.Conv2d(c, c // 4, 1), x, name=f"{n}.b2.reduce")
        m = g.add(T.Conv2d(c // 4, c // 4, 3, padding=1), m, name=f"{n}.b2.conv")
        w = g.add(T.Conv2d(c, c // 4, 1), x, name=f"{n}.b3.reduce")
        w = g.add(T.Conv2d(c // 4, c // 4, 5, padding=2), w, name=f"{n}.b3.conv")
        p = g.add(T.MaxPool2d(3, stride=1, padding=1), x, name=f"{n}.b4.pool")
        p = g.add(T.Conv2d(c, c // 4, 1), p, name=f"{n}.b4.proj")
        x = g.add(T.Concat(), a, m, w, p, name=f"{n}.cat")
        if b % 5 == 4:
            x = g.add(T.MaxPool2d(3, stride=2, padding=1), x, name=f"{n}.reduce")
    return g.build()


# --- plain integers and naive SymPy ------------------------------------------------------------


def ints_task(net: Net, env: Env, checks: list[Env]
              ) -> Callable[[Progress], tuple[Callable[[], Any], Callable[[Any], Any]]]:
    """Plain-integer propagation at one input size (``env``); values at every check."""
    from bench.floor import Invalid, propagate_ints

    def task(progress: Progress) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        def run() -> Any:
            return propagate_ints(net, env["H"], env["W"], env.get("s"))

        def finish(result: Any) -> dict[str, Any]:
            values: list[int | None] = []
            for e in checks:
                try:
                    values.append(propagate_ints(net, e["H"], e["W"], e.get("s"))[0]
                                  [net.probe][1])
                except Invalid:
                    values.append(None)
            return {"expr": "(integers)", "values": values, "params": result[1]}

        return run, finish

    return task


def sympy_task(net: Net, checks: list[Env]
               ) -> Callable[[Progress], tuple[Callable[[], Any], Callable[[Any], Any]]]:
    """Naive SymPy: nested ``sympy.floor`` per layer, symbols H and W."""
    from bench.floor import propagate_sympy

    def task(progress: Progress) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        calls = {"n": 0}

        def run() -> Any:
            calls["n"] += 1
            report = progress if calls["n"] == 1 else None
            # SymPy recurses once per nesting level: give it the stack a deep chain needs
            return exprs.big_stack(lambda: propagate_sympy(net, report))

        def finish(result: Any) -> dict[str, Any]:
            sizes, params = result
            final = sizes[net.probe][0]
            return exprs.big_stack(lambda: {
                "expr": exprs.short(str(final)), "size": exprs.size(final),
                "values": [exprs.sympy_value(final, env) for env in checks],
                "params": params})

        return run, finish

    return task


# --- torch.export ------------------------------------------------------------------------------


def export_dims(spec: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    """torch.export ``Dim`` objects for H and W, and the value map back to H and W names.

    ``spec["kind"]`` is ``"free"`` (``Dim("H", min, max)``) or ``"derived"`` (``H = a*t + b``
    with ``t`` a Dim), for networks that accept only an arithmetic progression of sizes.
    """
    from torch.export import Dim

    if spec["kind"] == "free":
        return (Dim("H", min=spec["hmin"], max=spec["max"]),
                Dim("W", min=spec["wmin"], max=spec["max"]), {})
    t = Dim("tH", min=spec["tmin"], max=spec["tmax"])
    u = Dim("tW", min=spec["umin"], max=spec["umax"])
    return spec["a"] * t + spec["b"], spec["c"] * u + spec["d"], {}


def export_task(net: Net, spec: dict[str, Any], example: tuple[int, int], checks: list[Env]
                ) -> Callable[[Progress], tuple[Callable[[], Any], Callable[[Any], Any]]]:
    """torch.export.export with dynamic H and W; the probe's symbolic H from the graph.

    First with strict ranges (``Dim("H", min, max)``, or a derived ``Dim`` for a network that
    accepts an arithmetic progression); if torch.export rejects them (it guards sizes against
    1, so a deep stride-2 chain cannot keep every size >= 2), then with ``Dim.AUTO``, which lets
    it choose its own range; both the choice and torch's ranges are recorded.  When the strict
    attempt fails it happens in the warm-up run, never in a timed one.
    """

    def task(progress: Progress) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        import torch
        from torch._dynamo.exc import UserError
        from torch.export import Dim, export

        from bench.torch_model import build_module, param_count

        module = build_module(net)
        dh, dw, _ = export_dims(spec)
        state: dict[str, Any] = {"mode": "strict", "note": None,
                                 "x": torch.zeros(1, net.channels, *example),
                                 "dynamic": {"x": {2: dh, 3: dw}}}
        if spec.get("auto_only"):
            _auto(state, torch, Dim, net, spec, "strict ranges cannot hold (sizes reach 1)")

        def run() -> Any:
            try:
                return export(module, (state["x"],), dynamic_shapes=state["dynamic"])
            except UserError as err:
                if state["mode"] != "strict":
                    raise
                _auto(state, torch, Dim, net, spec, str(err).splitlines()[0][:300])
                return export(module, (state["x"],), dynamic_shapes=state["dynamic"])

        def finish(ep: Any) -> dict[str, Any]:
            placeholder = next(n for n in ep.graph.nodes if n.op == "placeholder"
                               and n.name == "x")
            in_shape = placeholder.meta["val"].shape
            out_node = next(n for n in ep.graph.nodes if n.op == "output")
            probe_h = out_node.args[0][0].meta["val"].shape[2]
            expr = _sym_expr(probe_h)
            h_in = _sym_expr(in_shape[2])
            derived = spec["kind"] == "derived" and state["mode"] == "strict"
            text = str(expr)
            for old in {str(s) for s in getattr(h_in, "free_symbols", set())}:
                text = _rename(text, old, "tH" if derived else "H")
            tree = exprs.parse(text)
            values = []
            for env in checks:
                if derived:
                    scope = {"tH": Fraction(env["H"] - spec["b"], spec["a"])}
                else:
                    scope = {"H": env["H"]}
                try:
                    v = exprs.value(tree, scope)
                    values.append(int(v) if v.denominator == 1 else None)
                except KeyError:
                    values.append(None)
            h_name = next(iter(getattr(h_in, "free_symbols", {None})), None)
            result = {"expr": exprs.short(text), "values": values,
                      "params": param_count(module), "dims": state["mode"],
                      "input_H": str(h_in),
                      "range_H": str(ep.range_constraints.get(h_name, "static")),
                      "example": list(state["x"].shape[2:])}
            if derived:
                result["substitution"] = f"H = {spec['a']}*tH + {spec['b']}"
            if state["note"]:
                result["strict_rejected"] = state["note"]
            result.update(_size_of(tree))
            return result

        return run, finish

    return task


def _auto(state: dict[str, Any], torch: Any, Dim: Any, net: Net, spec: dict[str, Any],
          why: str) -> None:
    """Switch to ``Dim.AUTO`` with a large example (so that few sizes are 1)."""
    big = spec.get("auto_example", (4097, 4099))
    state.update(mode="auto", note=why, x=torch.zeros(1, net.channels, *big),
                 dynamic={"x": {2: Dim.AUTO, 3: Dim.AUTO}})


def _sym_expr(value: Any) -> Any:
    """The SymPy expression behind a torch SymInt (or the int itself)."""
    node = getattr(value, "node", None)
    return node.expr if node is not None else value


def _rename(text: str, old: str, new: str) -> str:
    import re

    return re.sub(rf"\b{re.escape(old)}\b", new, text)


def _size_of(tree: Any, cap_nodes: int = 4000) -> dict[str, Any]:
    """``count_ops`` of a peer's parsed expression (skipped, with a note, when enormous)."""
    count = _tree_ops(tree)
    if count > cap_nodes:
        return {"size": None, "tree_ops": count,
                "size_note": f"{count} operations in the printed tree; not rebuilt in SymPy"}
    return {"size": exprs.size(exprs.to_sympy(tree)), "tree_ops": count}


def _tree_ops(tree: Any) -> int:
    total = 0
    stack = [tree]
    while stack:
        t = stack.pop()
        tag = t[0]
        if tag in ("num", "name"):
            continue
        total += 1
        if tag == "neg":
            stack.append(t[1])
        elif tag == "call":
            stack.extend(t[2])
        else:
            stack.extend(t[1:])
    return total


# --- onnxruntime symbolic shape inference -----------------------------------------------------


def onnx_model(net: Net, example: tuple[int, int]) -> bytes:
    """The network exported to ONNX (TorchScript exporter) with dynamic axes H and W."""
    import io
    import warnings

    import torch

    from bench.torch_model import build_module

    module = build_module(net)
    x = torch.zeros(1, net.channels, *example)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (x,), buf, input_names=["x"], output_names=["probe", "out"],
                          dynamic_axes={"x": {2: "H", 3: "W"}}, dynamo=False,
                          do_constant_folding=False)
    return buf.getvalue()


def onnx_task(net: Net, example: tuple[int, int], checks: list[Env]
              ) -> Callable[[Progress], tuple[Callable[[], Any], Callable[[Any], Any]]]:
    """onnxruntime's SymbolicShapeInference.infer_shapes on the exported model (export untimed;
    its time is reported separately)."""

    def task(progress: Progress) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        import time

        import onnx
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

        start = time.perf_counter()
        data = onnx_model(net, example)
        export_s = time.perf_counter() - start
        model = onnx.load_from_string(data)

        def run() -> Any:
            return SymbolicShapeInference.infer_shapes(model, auto_merge=True)

        def finish(out: Any) -> dict[str, Any]:
            if out is None:
                raise RuntimeError("SymbolicShapeInference returned no model")
            probe = next(o for o in out.graph.output if o.name == "probe")
            dim = probe.type.tensor_type.shape.dim[2]
            text = dim.dim_param if dim.HasField("dim_param") else str(dim.dim_value)
            tree = exprs.parse(text)
            values = []
            for env in checks:
                try:
                    v = exprs.value(tree, {"H": env["H"], "W": env["W"]})
                    values.append(int(v) if v.denominator == 1 else None)
                except (KeyError, ValueError):
                    values.append(None)
            result = {"expr": exprs.short(text), "values": values, "export_s": export_s,
                      "onnx_bytes": len(data)}
            result.update(_size_of(tree))
            return result

        return run, finish

    return task
