"""One network, every contender: time, final expression, its size, agreement with execution.

For a network (a built-in example or a chain) this

1. converts convsym's network to ops (:mod:`bench.ir`) for the peers;
2. finds which input sizes it accepts by plain-integer propagation, picks the sizes to check
   (a few executed by real PyTorch, a sweep of many checked against plain integers) and the
   dynamic-dimension ranges torch.export needs;
3. times each contender in a killable child (:func:`bench.timing.run_capped`);
4. records each one's final expression, its ``count_ops`` size, and whether its values equal
   the executed sizes and the plain-integer sweep.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import peers
from bench.floor import accepts, propagate_ints
from bench.ir import Net, from_network, h_index
from bench.timing import Measurement, alternating, interleaved, run_capped

CONTENDERS = ("convsym", "convsym_first", "convsym_summary", "convsym_summary_first",
              "torch.export", "onnxruntime", "sympy", "ints")


@dataclass
class Settings:
    """Caps and budgets of one benchmark run."""

    cap: float = 90.0            # seconds per contender and network, warm-up included
    budget: float = 6.0          # seconds of timed repeats to aim for
    max_repeats: int = 25
    execute: bool = True         # run the torch module at the executed sizes
    peers: tuple[str, ...] = CONTENDERS
    rounds: int = 9              # interleaved rounds of a per-layer ratio (one child)
    growth_rounds: int = 5       # rounds of a growth ratio (alternating children)


def plan(ir: Net, *, scan: int = 700, symbolic: bool = False) -> dict[str, Any]:
    """Accepted sizes, the checks and the torch.export dimension spec for ``ir``."""
    s_values = [1, 2, 3] if symbolic else [None]
    valid = [h for h in range(1, scan) if accepts(ir, h, h, 2 if symbolic else None)]
    if len(valid) < 6:  # a sparse progression (a deep U-Net: multiples of 256): scan on
        more = (h for h in range(scan, 1 << 14) if accepts(ir, h, h, 2 if symbolic else None))
        valid += [h for _, h in zip(range(6 - len(valid)), more)]
        scan = valid[-1] + 1
    if not valid:
        raise ValueError(f"{ir.name}: no accepted size below {scan}")
    gaps = [b - a for a, b in zip(valid, valid[1:])]
    step = gaps[0] if gaps and len(set(gaps)) == 1 else 1
    progression = step > 1
    start = valid[0]
    # sizes >= 2 everywhere keep torch.export from specialising a dimension to 1
    roomy = [] if symbolic else [
        h for h in valid
        if min(x for _, a, b in propagate_ints(ir, h, h)[0][:ir.probe + 1] for x in (a, b)) >= 2]
    hmin = max(2, roomy[0] if roomy else start)
    if progression:
        spec: dict[str, Any] = {"kind": "derived", "a": step, "b": start % step,
                                "tmin": start // step, "tmax": 4096 // step,
                                "c": step, "d": start % step, "umin": start // step,
                                "umax": 4096 // step}
        executed = [(valid[0], valid[1]), (valid[2], valid[0]), (valid[4], valid[3])]
        example = (valid[1], valid[2])
    else:
        spec = {"kind": "free", "hmin": hmin, "wmin": hmin, "max": 1 << 16,
                "auto_only": not roomy}
        pool = [h for h in valid if h >= hmin]
        executed = [(pool[0], pool[0] + 7), (pool[0] + 29, pool[0] + 1),
                    (max(224, pool[0] + 50), max(224, pool[0] + 50) + 3)]
        example = (max(64, hmin + 3), max(64, hmin + 3) + 2)
    if progression:
        sweep = [h for h in valid[:40]]
    else:
        sweep = list(range(hmin, hmin + 60)) + [1000, 4097, 65536 + 1]
    checks: list[dict[str, int]] = []
    kinds: list[str] = []
    for s in s_values:
        extra = {"s": s} if s is not None else {}
        for h, w in executed:
            checks.append({"H": h, "W": w, **extra})
            kinds.append("executed")
        for h in sweep:
            checks.append({"H": h, "W": h, **extra})
            kinds.append("sweep")
    described = (f"{{{step}t + {start % step} : t >= {start // step}}}" if progression
                 else f"every H >= {start}" if valid == list(range(start, scan))
                 else f"{len(valid)} sizes below {scan}")
    return {"spec": spec, "checks": checks, "kinds": kinds, "example": example,
            "accepted": described, "smallest": start}


def execute(ir: Net, checks: list[dict[str, int]], kinds: list[str]) -> list[int | None]:
    """The probe's real H size for each executed check (None for sweep checks)."""
    from bench.torch_model import build_module, run_sizes

    out: list[int | None] = []
    modules: dict[Any, Any] = {}
    for env, kind in zip(checks, kinds):
        if kind != "executed":
            out.append(None)
            continue
        s = env.get("s")
        if s not in modules:
            modules[s] = build_module(ir, stride_value=s)
        ((h, _),) = run_sizes(modules[s], ir.channels, [(env["H"], env["W"])])
        out.append(h)
    return out


def compare(name: str, build: Callable[[], Any], settings: Settings, *,
            symbolic_stride: str | None = None, say: Callable[[str], None] = print
            ) -> dict[str, Any]:
    """Every contender on one network; a JSON-ready record."""
    net = build()
    ir = from_network(net, symbolic_stride=symbolic_stride)
    probe_node = next(i for i, n in enumerate(net.nodes) if n.name == ir.ops[ir.probe].name)
    p = plan(ir, symbolic=symbolic_stride is not None)
    checks, kinds = p["checks"], p["kinds"]
    truth_ints = [_int_truth(ir, env) for env in checks]
    record: dict[str, Any] = {
        "layers": ir.layers, "probe": ir.ops[ir.probe].name, "accepted": p["accepted"],
        "executed_sizes": [[e["H"], e["W"]] + ([e["s"]] if "s" in e else [])
                           for e, k in zip(checks, kinds) if k == "executed"],
        "sweep_checks": kinds.count("sweep"), "export_dims": p["spec"],
        "contenders": {},
    }
    truth_exec: list[int | None] = [None] * len(checks)
    if settings.execute:
        try:
            truth_exec = execute(ir, checks, kinds)
            record["execution"] = [v for v in truth_exec if v is not None]
            record["ints_agree_with_execution"] = all(
                t == e for t, e in zip(truth_ints, truth_exec) if e is not None)
        except Exception as err:  # noqa: BLE001 - a failed run is reported, never fatal
            record["execution_error"] = f"{type(err).__name__}: {err}"[:500]
    timing_env = dict(checks[kinds.index("executed")])
    timing_env.update({"H": 224, "W": 224} if accepts(ir, 224, 224, timing_env.get("s"))
                      else {})
    tasks = _tasks(ir, build, probe_node, h_index(net), p, timing_env, symbolic_stride, settings)
    for who, task in tasks.items():
        if task is None:
            record["contenders"][who] = {"skipped": "needs integer strides (torch modules "
                                                    "have no symbolic hyperparameters)"}
            continue
        m = run_capped(f"{name}/{who}", task, cap=settings.cap, budget=settings.budget,
                       lo=1, hi=settings.max_repeats)
        record["contenders"][who] = _entry(m, truth_exec, truth_ints, kinds)
        say(_line(name, who, record["contenders"][who]))
    record["ratios"] = ratios(record["contenders"])
    if tasks.get("ints") is not None:
        record["per_layer"] = per_layer(name, tasks, settings, say)
    return record


def per_layer(name: str, tasks: dict[str, Any], settings: Settings,
              say: Callable[[str], None]) -> dict[str, Any]:
    """convsym's time over plain-integer propagation's on the same network (the same
    layers, so the per-layer ratio), warm and first runs, each measured side by side with
    the integers in interleaved rounds (:func:`bench.timing.interleaved`)."""
    out: dict[str, Any] = {}
    for variant in ("convsym", "convsym_first"):
        if tasks.get(variant) is None:
            continue
        out[variant] = interleaved(f"{name}/ints+{variant}", [tasks["ints"], tasks[variant]],
                                   rounds=settings.rounds, cap=settings.cap)
    shown = ", ".join(f"{v.replace('convsym_first', 'first').replace('convsym', 'warm')} "
                      f"{r['median_ratio']:.0f}x" for v, r in out.items() if r["median_ratio"])
    say(f"  {name:<22} {'per layer / ints':<21} {shown} (median of {settings.rounds} "
        "interleaved rounds)")
    return out


def _int_truth(ir: Net, env: dict[str, int]) -> int | None:
    from bench.floor import Invalid

    try:
        return propagate_ints(ir, env["H"], env["W"], env.get("s"))[0][ir.probe][1]
    except Invalid:
        return None


def _tasks(ir: Net, build: Callable[[], Any], probe: int, h_axis: int, p: dict[str, Any],
           env: dict[str, int], symbolic: str | None, settings: Settings) -> dict[str, Any]:
    checks = p["checks"]
    out: dict[str, Any] = {}
    for who in settings.peers:
        if who in peers.CONVSYM_VARIANTS:
            out[who] = peers.convsym_task(build, probe, h_axis, checks,
                                          **peers.CONVSYM_VARIANTS[who])
        elif who == "ints":
            out[who] = peers.ints_task(ir, env, checks)
        elif who == "sympy":
            out[who] = peers.sympy_task(ir, checks)
        elif who == "torch.export":
            out[who] = None if symbolic else peers.export_task(ir, p["spec"], p["example"],
                                                               checks)
        elif who == "onnxruntime":
            out[who] = None if symbolic else peers.onnx_task(ir, p["example"], checks)
    return out


def _entry(m: Measurement, truth_exec: list[int | None], truth_ints: list[int | None],
           kinds: list[str]) -> dict[str, Any]:
    entry = m.to_dict()
    result = m.result or {}
    values = result.pop("values", None)
    entry.update(result)
    if values is not None:
        ex = [(v, t) for v, t in zip(values, truth_exec) if t is not None]
        sw = [(v, t) for v, t, k in zip(values, truth_ints, kinds) if t is not None]
        entry["agrees_execution"] = bool(ex) and all(v == t for v, t in ex) if ex else None
        entry["agrees_ints"] = all(v == t for v, t in sw)
        wrong = [{"truth": t, "value": v} for v, t in sw if v != t]
        if wrong:
            entry["disagreements"] = wrong[:3]
    return entry


def ratios(contenders: dict[str, Any]) -> dict[str, Any]:
    """Peer median over convsym median (how many times faster convsym is) and the inverse;
    with convsym's first runs (caches cleared) as the reference too (``*_first``)."""
    mine = contenders.get("convsym", {}).get("median_s")
    out: dict[str, Any] = {}
    for who, entry in contenders.items():
        theirs = entry.get("median_s")
        if who.startswith("convsym") or not mine or not theirs:
            continue
        out[who] = {"peer_over_convsym": theirs / mine, "convsym_over_peer": mine / theirs,
                    "peer_timed_out": bool(entry.get("timed_out_after_s"))}
        first = contenders.get("convsym_first", {}).get("median_s")
        if first:
            out[who]["peer_over_convsym_first"] = theirs / first
    for variant in ("convsym_first", "convsym_summary", "convsym_summary_first"):
        t = contenders.get(variant, {}).get("median_s")
        if mine and t:
            out[variant] = {"over_convsym": t / mine}
    return out


def _line(name: str, who: str, entry: dict[str, Any]) -> str:
    from bench.timing import fmt_time

    if "skipped" in entry:
        return f"  {name:<22} {who:<21} skipped: {entry['skipped']}"
    t = fmt_time(entry.get("median_s"))
    if entry.get("timed_out_after_s") and not entry.get("median_s"):
        t = f"> {entry['timed_out_after_s']:.0f} s (timed out)"
    elif entry.get("timed_out_after_s"):
        t += " (cap hit)"
    if entry.get("error"):
        return f"  {name:<22} {who:<21} FAILED: {entry['error'][:150]}"
    agree = entry.get("agrees_execution")
    return (f"  {name:<22} {who:<21} {t:>14} x{entry.get('repeats', 0):<3} "
            f"size {entry.get('size', '-')!s:>5}  exact {agree!s:<5} "
            f"{entry.get('expr', '')[:70]}")


def network_record(name: str, settings: Settings, say: Callable[[str], None] = print
                   ) -> dict[str, Any]:
    """Compare on the built-in example ``name``."""
    from convsym.examples import example

    return compare(name, lambda: example(name), settings, say=say)


def workload_record(kind: str, depth: int, settings: Settings,
                    say: Callable[[str], None] = print) -> dict[str, Any]:
    """Compare on one of issue 19's workloads (:data:`WORKLOADS`) at ``depth``."""
    build = WORKLOADS[kind]
    if kind == "decoder_":  # sizes double per block: real tensors would not fit in memory
        settings = dataclasses.replace(settings, execute=False)
    return compare(f"{kind}{depth}", lambda: build(depth), settings, say=say)


def workload_growth_rounds(kind: str, depths: list[int], settings: Settings,
                           say: Callable[[str], None] = print) -> dict[str, Any]:
    """convsym's growth ``t(deepest)/t(shallowest)`` on one workload kind, each variant
    (warm, first run, with summary) measured at both depths side by side in alternating
    children (:func:`bench.timing.alternating`), ``settings.growth_rounds`` rounds."""
    tasks: list[dict[str, Any]] = []
    for depth in (depths[0], depths[-1]):
        net = WORKLOADS[kind](depth)
        ir = from_network(net)
        probe = next(i for i, n in enumerate(net.nodes) if n.name == ir.ops[ir.probe].name)
        build = (lambda d: lambda: WORKLOADS[kind](d))(depth)
        tasks.append({v: peers.convsym_task(build, probe, h_index(net), [], **kw)
                      for v, kw in peers.CONVSYM_VARIANTS.items()})
    rounds = settings.growth_rounds
    out: dict[str, Any] = {}
    for variant in peers.CONVSYM_VARIANTS:
        r = alternating(f"{kind}/{variant}", [t[variant] for t in tasks], rounds=rounds,
                        cap=settings.cap, budget=settings.budget / rounds,
                        hi=settings.max_repeats)
        out[variant] = r
        if r["median_ratio"]:
            say(f"  {kind.rstrip('_'):<22} {variant:<21} t({depths[-1]})/t({depths[0]}) = "
                f"{r['median_ratio']:.1f}x, median of "
                f"{', '.join(f'{x:.1f}' for x in r['ratios'])}")
    return out


WORKLOADS: dict[str, Callable[[int], Any]] = {
    "alt21_": peers.alt_chain, "random_": peers.random_chain, "decoder_": peers.decoder,
    "residual_": peers.residual_chain, "unet_": peers.unet, "densenet_": peers.densenet,
    "inception_": peers.inception}
"""Networks every peer can run: strides 2,1,2,1 (8 channels), random k/s/d per layer,
transposed decoders, residual blocks with Add merges, U-Nets by depth, DenseNet-121/169/201,
Inception-style four-branch blocks."""


def chain_record(depth: int, stride: int | str, settings: Settings,
                 say: Callable[[str], None] = print) -> dict[str, Any]:
    """Compare on a chain of ``depth`` 3x3 convolutions (stride an int or a symbol name)."""
    return compare(f"chain{depth}_s{stride}", lambda: peers.build_chain(depth, stride),
                   settings, symbolic_stride=stride if isinstance(stride, str) else None,
                   say=say)

