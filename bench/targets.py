"""Issue 9's targets, checked against a results dict; growth of convsym's time with depth.

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

    speed("ResNet-50 derivation >= 20x faster than torch.export", nets.get("resnet50"), 20)
    for stride in (1, 2):
        speed(f"1000-layer chain (stride {stride}) >= 40x faster than torch.export",
              chains.get(f"chain1000_s{stride}"), 40)
    for stride, rec in results.get("growth", {}).items():
        ratio = rec.get("t1000_over_t100")
        if ratio is not None:
            out.append({"target": f"linear in depth, {stride}: t(1000) <= 12 t(100)",
                        "measured": f"{ratio:.1f}x", "value": ratio, "met": ratio <= 12,
                        "by": f"{ratio / 12:.2f} of the limit"})
    worst = None
    for name, rec in {**nets, **chains}.items():
        r, _ = _ratio(rec, "ints")
        if r is not None and (worst is None or 1 / r > worst[1]):
            worst = (name, 1 / r)  # convsym's time over plain integers'; layers are the same
    if worst:
        out.append({"target": "within 100x of plain-integer propagation per layer (worst)",
                    "measured": f"{worst[1]:.0f}x on {worst[0]}", "value": worst[1],
                    "met": worst[1] <= 100, "by": f"{worst[1] / 100:.1f} of the limit"})
    bigger, inexact = [], []
    for name, rec in {**nets, **chains}.items():
        c = rec["contenders"]
        mine = c.get("convsym", {})
        sizes = [e["size"] for who, e in c.items()
                 if who != "convsym" and isinstance(e.get("size"), int)]
        if isinstance(mine.get("size"), int) and sizes and mine["size"] > min(sizes):
            bigger.append(f"{name} ({mine['size']} > {min(sizes)})")
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
