"""Issues 9 and 19's targets, checked against a results dict; growth of convsym's time with depth.

Every target is a record ``{"target", "measured", "met", "by"}``; ``by`` says by how much a
missed target is missed (as a factor), or how much room a met one has.
"""

from __future__ import annotations

import math
from typing import Any

from bench.timing import fmt_time


def growth(chains: dict[str, Any]) -> dict[str, Any]:
    """convsym's median time per depth for each stride, and the log-log slope between depths."""
    out: dict[str, Any] = {}
    for key, rec in chains.items():
        depth_text, stride = key[len("chain"):].split("_s", 1)
        median = rec["contenders"].get("convsym", {}).get("median_s")
        out.setdefault(f"stride {stride}", {})[int(depth_text)] = median
    result: dict[str, Any] = {}
    for stride, times in out.items():
        depths = sorted(times)
        slopes = {}
        for a, b in zip(depths, depths[1:]):
            if times[a] and times[b]:
                slopes[f"{a}->{b}"] = math.log(times[b] / times[a]) / math.log(b / a)
        per_layer = {d: (times[d] / d if times[d] else None) for d in depths}
        ratio = (times[1000] / times[100]) if times.get(1000) and times.get(100) else None
        result[stride] = {"median_s": times, "per_layer_s": per_layer,
                          "loglog_slope": slopes, "t1000_over_t100": ratio}
    return result


def workload_growth(workloads: dict[str, Any]) -> dict[str, Any]:
    """Per workload kind: convsym's median times (warm, first run, summary) by depth and
    ``t(deepest)/t(shallowest)``."""
    kinds: dict[str, dict[int, dict[str, Any]]] = {}
    for key, rec in workloads.items():
        kind = key.rstrip("0123456789")
        kinds.setdefault(kind, {})[int(key[len(kind):])] = rec["contenders"]
    out: dict[str, Any] = {}
    for kind, by_depth in kinds.items():
        depths = sorted(by_depth)
        rec = {"depths": depths}
        for variant in ("convsym", "convsym_first", "convsym_summary",
                        "convsym_summary_first"):
            times = {d: by_depth[d].get(variant, {}).get("median_s") for d in depths}
            a, b = times[depths[0]], times[depths[-1]]
            rec[variant] = {"median_s": times, "growth": b / a if a and b else None}
        out[kind] = rec
    return out


def workload_growth_lines(g: dict[str, Any]) -> list[str]:
    """How convsym's time grows on each workload."""
    lines = ["", "convsym growth on the workloads, t(deepest)/t(shallowest) (side by side where "
                 "measured so):"]
    for kind, rec in g.items():
        d = rec["depths"]
        parts = []
        for v in ("convsym", "convsym_first", "convsym_summary", "convsym_summary_first"):
            ratio, _ = _growth(rec[v]["growth"], rec.get("rounds", {}).get(v))
            if ratio:
                parts.append(f"{v.replace('convsym', 'build').replace('_', ' ')} {ratio:.1f}x")
        lines.append(f"  {kind.rstrip('_'):<10} {d[0]} -> {d[-1]}: " + ", ".join(parts))
    return lines


def growth_lines(g: dict[str, Any]) -> list[str]:
    """How convsym's time grows with depth, one line per stride."""
    lines = ["", "convsym time by depth (log-log slope 1.0 = linear):"]
    for stride, rec in g.items():
        parts = [f"{d}: {fmt_time(t)}" for d, t in rec["median_s"].items()]
        slopes = ", ".join(f"{k} {v:.2f}" for k, v in rec["loglog_slope"].items())
        ratio = rec["t1000_over_t100"]
        lines.append(f"  {stride:<9} " + ", ".join(parts))
        lines.append(f"            slopes {slopes}" +
                     (f"; t(1000)/t(100) = {ratio:.1f}" if ratio else ""))
    return lines


def _ratio(rec: dict[str, Any] | None, peer: str) -> tuple[float | None, bool]:
    """Peer median / convsym median, and whether the peer hit its time cap (a lower bound)."""
    if not rec:
        return None, False
    c = rec["contenders"]
    mine = c.get("convsym", {}).get("median_s")
    theirs = c.get(peer, {})
    if not mine:
        return None, False
    if theirs.get("median_s"):
        return theirs["median_s"] / mine, bool(theirs.get("warmup_only")
                                               or theirs.get("timed_out_after_s"))
    if theirs.get("timed_out_after_s"):
        return theirs["timed_out_after_s"] / mine, True
    return None, False


def per_layer_ratio(rec: dict[str, Any], variant: str) -> tuple[float, str] | None:
    """convsym's time over plain integers' on one network (the same layers: the per-layer
    ratio) and how it was measured: the median of interleaved rounds where the run has them
    (``rec["per_layer"]``), else the ratio of the two medians measured apart."""
    paired = rec.get("per_layer", {}).get(variant, {})
    if paired.get("median_ratio"):
        return paired["median_ratio"], f"median of {len(paired['ratios'])} interleaved rounds"
    mine = rec["contenders"].get(variant, {}).get("median_s")
    ints = rec["contenders"].get("ints", {}).get("median_s")
    return (mine / ints, "medians measured apart") if mine and ints else None


def _growth(apart: float | None, rounds: dict[str, Any] | None
            ) -> tuple[float | None, str]:
    """A growth target's measurement: the median of the rounds measured side by side where
    the run has them (with the rounds and the ratio of the medians measured apart, shown),
    else the ratio of the medians."""
    if rounds and rounds.get("median_ratio"):
        each = ", ".join(f"{r:.1f}" for r in rounds["ratios"])
        was = f"; medians apart: {apart:.1f}x" if apart else ""
        return rounds["median_ratio"], f" (median of rounds side by side: {each}{was})"
    return apart, ""


def check(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of issue 9 that this run measured."""
    out: list[dict[str, Any]] = []
    nets = results.get("networks", {})
    chains = results.get("chains", {})

    def speed(name: str, rec: dict[str, Any] | None, need: float) -> None:
        r, bound = _ratio(rec, "torch.export")
        if r is None:
            out.append({"target": name, "measured": "not measured", "met": None})
            return
        out.append({"target": name, "measured": f"{'>= ' if bound else ''}{r:.1f}x",
                    "value": r, "met": r >= need, "by": f"{r / need:.2f} of the target"})

    for name, rec in nets.items():  # issue 19: 100x on ResNet-50, 40x on every other net
        need = 100 if name == "resnet50" else 40
        speed(f"{name} derivation >= {need}x faster than torch.export", rec, need)
    for stride in (1, 2):
        speed(f"1000-layer chain (stride {stride}) >= 40x faster than torch.export",
              chains.get(f"chain1000_s{stride}"), 40)
    for stride, rec in results.get("growth", {}).items():
        ratio = rec.get("t1000_over_t100")
        if ratio is not None:
            out.append({"target": f"linear in depth, {stride}: t(1000) <= 12 t(100)",
                        "measured": f"{ratio:.1f}x", "value": ratio, "met": ratio <= 12,
                        "by": f"{ratio / 12:.2f} of the limit"})
    for name, rec in results.get("zoo", {}).items():  # the conformance zoo, where exported
        if "torch.export" in rec:
            need = 100 if name.endswith(":resnet50") else 40
            speed(f"{name} import >= {need}x faster than torch.export",
                  {"contenders": rec}, need)
    workloads = results.get("workloads", {})
    for name, rec in workloads.items():
        speed(f"{name}: >= 40x faster than torch.export", rec, 40)
    for kind, rec in results.get("workload_growth", {}).items():
        for variant in ("convsym", "convsym_first", "convsym_summary",
                        "convsym_summary_first"):
            ratio, how = _growth(rec[variant]["growth"], rec.get("rounds", {}).get(variant))
            d = rec["depths"]
            if ratio is not None and d[-1] >= 10 * d[0]:
                out.append({"target": f"{kind.rstrip('_')} {variant}: t({d[-1]}) <= 12 "
                                      f"t({d[0]})", "measured": f"{ratio:.1f}x{how}",
                            "value": ratio, "met": ratio <= 12,
                            "by": f"{ratio / 12:.2f} of the limit"})
    everything = {**nets, **chains, **workloads}
    for variant, label in (("convsym", "warm"), ("convsym_first", "first runs")):
        worst = None
        for name, rec in everything.items():
            ratio = per_layer_ratio(rec, variant)
            if ratio and (worst is None or ratio[0] > worst[1]):
                worst = (name, *ratio)
        if worst:
            out.append({"target": f"within 100x of plain-integer propagation per layer "
                                  f"({label}, worst)",
                        "measured": f"{worst[1]:.0f}x on {worst[0]} ({worst[2]})",
                        "value": worst[1], "met": worst[1] <= 100,
                        "by": f"{worst[1] / 100:.2f} of the limit"})
    scale = results.get("scaling", {})
    for kind, depth in (("symbolic_kernels", "120"), ("symbolic_stride", "1000")):
        entry = scale.get(kind, {}).get("summary_first", {}).get(depth, {})
        t = entry.get("median_s")
        if entry:
            out.append({"target": f"{kind} at {depth} layers, build + summary (first run) "
                                  "< 1 s",
                        "measured": fmt_time(t) if t else
                        f"> {entry.get('timed_out_after_s', 0):.0f} s",
                        "value": t, "met": bool(t) and t < 1,
                        "by": f"{t:.2f} of the limit" if t else ""})
    for kind, rec in scale.items():  # every bench net: growth over 10x the depth <= 12x
        d = rec.get("depths", [])
        if len(d) < 2 or d[-1] < 10 * d[0]:
            continue
        for way, apart in rec.get("growth", {}).items():
            ratio, how = _growth(apart, rec.get("growth_rounds", {}).get(way))
            if ratio is not None:
                out.append({"target": f"{kind} {way}: t({d[-1]}) <= 12 t({d[0]})",
                            "measured": f"{ratio:.1f}x{how}", "value": ratio,
                            "met": ratio <= 12, "by": f"{ratio / 12:.2f} of the limit"})
    pools = scale.get("ceil_pools", {}).get("build", {})
    if pools:
        sizes = {d: e.get("size") for d, e in pools.items()}
        out.append({"target": "ceil_mode pooling stacks: final size at most 4 ops at any depth",
                    "measured": ", ".join(f"{d} blocks: {s}" for d, s in sizes.items()),
                    "met": all(isinstance(s, int) and s <= 4 for s in sizes.values())})
    start = results.get("startup", {})
    if start:
        over = start["version_over_python_s"]
        out.append({"target": "convsym --version within 0.25 s of a bare Python",
                    "measured": f"+{over * 1000:.0f} ms", "value": over, "met": over <= 0.25,
                    "by": f"{over / 0.25:.2f} of the limit"})
    bigger, inexact = [], []
    for name, rec in everything.items():
        c = rec["contenders"]
        mine = c.get("convsym", {})
        peer_sizes = [e["size"] for who, e in c.items()  # peers' exact expressions only
                      if not who.startswith("convsym") and isinstance(e.get("size"), int)
                      and e.get("agrees_ints") and e.get("agrees_execution") is not False]
        if isinstance(mine.get("size"), int) and peer_sizes and \
                mine["size"] > min(peer_sizes):
            bigger.append(f"{name} ({mine['size']} > {min(peer_sizes)})")
        if mine.get("agrees_ints") is not True or mine.get("agrees_execution") is False:
            inexact.append(name)
    if nets or chains:
        out.append({"target": "final expressions no larger than the smallest peer's",
                    "measured": "all" if not bigger else "larger on " + ", ".join(bigger),
                    "met": not bigger})
        out.append({"target": "final expressions exact (execution and integer sweep)",
                    "measured": "all exact" if not inexact else "NOT exact: " +
                    ", ".join(inexact), "met": not inexact})
    unet = nets.get("unet")
    if unet:
        expr = unet["contenders"].get("convsym", {}).get("expr")
        adm = results.get("admissible", {})
        measured = f"{expr}; accepted sizes {unet.get('accepted')}"
        if adm.get("H"):
            measured += f"; convsym.whatif: {adm['H']}"
        ok = expr == "H - 184" and unet.get("accepted") == "{16t + 12 : t >= 11}"
        out.append({"target": "U-Net: n - 184 on n = 16t + 12, t >= 11", "measured": measured,
                    "met": ok})
    latex = results.get("latex", {})
    if latex.get("available"):
        t = latex.get("build_derive_render", {}).get("median_s")
        if t:
            out.append({"target": "ResNet-50 LaTeX derivation < 1 s (build + derive + render)",
                        "measured": fmt_time(t), "value": t, "met": t < 1,
                        "by": f"{t:.2f} of the limit"})
    elif "latex" in results:
        out.append({"target": "ResNet-50 LaTeX derivation < 1 s",
                    "measured": latex.get("note"), "met": None})
    verify = results.get("verify", {})
    for key in ("reference",):
        rate = verify.get(key, {}).get("rate_per_s")
        if rate:
            out.append({"target": f">= 10,000 configurations/s verified against the NumPy "
                                  f"reference ({verify[key]['workers']} process"
                                  f"{'es' if verify[key]['workers'] > 1 else ''})",
                        "measured": f"{rate:,.0f}/s, {verify[key]['mismatches']} mismatches",
                        "value": rate, "met": rate >= 10000 and not verify[key]["mismatches"],
                        "by": f"{rate / 10000:.2f} of the target"})
    one, two = verify.get("reference", {}), verify.get("reference_2_processes", {})
    if one.get("rate_per_s") and two.get("rate_per_s"):
        ratio = two["rate_per_s"] / one["rate_per_s"]
        spare = two.get("machine_speedup")
        out.append({"target": "verification with 2 processes faster than with 1",
                    "measured": f"{two['rate_per_s']:,.0f}/s vs {one['rate_per_s']:,.0f}/s"
                                + (f" (medians of interleaved runs; a pure CPU task ran "
                                   f"{spare:.2f}x as fast on 2 processes then)" if spare else ""),
                    "value": ratio, "met": ratio > 1, "by": f"{ratio:.2f}x"})
    proofs = results.get("proofs", {})
    if proofs.get("statements"):
        sound = proofs["false_proved"] == 0 and proofs["true_refuted"] == 0
        out.append({"target": "corpus: no false statement proved, no true one refuted",
                    "measured": f"false proved {proofs['false_proved']}, true refuted "
                                f"{proofs['true_refuted']}", "met": sound})
    return out


def lines(records: list[dict[str, Any]]) -> list[str]:
    """One line per target: MET / MISSED / n/a, the measurement and by how much."""
    out = []
    for r in records:
        mark = {True: "MET   ", False: "MISSED", None: "n/a   "}[r["met"]]
        by = f"  [{r['by']}]" if r.get("by") else ""
        out.append(f"  {mark} {r['target']}: {r['measured']}{by}")
    return out
