"""Markdown tables from a results file, for the README: ``python -m bench.report [FILE]``.

Times are medians of repeated runs after a warm-up; ``(12x)`` after a peer's time is how many
times longer the peer took than convsym on the same network in the same run; a ``>`` marks a
peer stopped at the time cap (the ratio is then a lower bound).  Sizes are
``sympy.count_ops`` of each final expression; "exact" means the expression's values equal the
sizes of real PyTorch runs and of plain-integer propagation over a sweep of input sizes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.timing import fmt_time

PEERS = (("torch.export", "torch.export"), ("onnxruntime", "ONNX Runtime symbolic"),
         ("sympy", "naive SymPy"), ("ints", "plain integers"))
NAMES = {"resnet50": "ResNet-50", "vgg16": "VGG-16", "mobilenet_v2": "MobileNetV2",
         "unet": "U-Net"}


def _time(entry: dict[str, Any] | None, mine: float | None) -> str:
    if not entry:
        return "–"
    if "skipped" in entry:
        return "n/a"
    if entry.get("error") and not entry.get("median_s"):
        return "failed"
    t = entry.get("median_s")
    capped = bool(entry.get("timed_out_after_s")) and (not t or entry.get("warmup_only")
                                                       or entry.get("note"))
    if not t and entry.get("timed_out_after_s"):
        t = entry["timed_out_after_s"]
    if not t:
        return "–"
    text = (">" if capped else "") + fmt_time(t)
    if mine:
        ratio = t / mine
        text += f" ({ratio:.0f}x)" if ratio >= 10 else f" ({ratio:.2g}x)"
    return text


def _size(entry: dict[str, Any] | None) -> str:
    if not entry or "skipped" in entry:
        return "n/a"
    if isinstance(entry.get("size"), int):
        return str(entry["size"])
    if entry.get("tree_ops"):
        return f"~{entry['tree_ops']}"
    return "–"


def _exact(entry: dict[str, Any] | None) -> str:
    if not entry or "skipped" in entry or "agrees_ints" not in entry:
        return "–"
    ok = entry.get("agrees_ints") and entry.get("agrees_execution") is not False
    return "yes" if ok else "**no**"


def _code(text: str | None, limit: int = 48) -> str:
    if not text:
        return "–"
    text = text if len(text) <= limit else text[:limit - 3] + "..."
    return "`" + text.replace("|", "\\|") + "`"


def machine_line(r: dict[str, Any]) -> str:
    """One line describing the machine and versions."""
    m = r["machine"]
    v = m["versions"]
    load = m.get("load_average_1_5_15_min")
    return (f"Measured {m['date'][:10]} with `{r['command']}` on {m['cpu']} "
            f"({m['cores']} cores, load average {load[0] if load else '?'} at the start), "
            f"{m['platform']}, Python {m['python']}, torch {v['torch']}, SymPy {v['sympy']}, "
            f"onnxruntime {v['onnxruntime']}; whole run {r.get('elapsed_s', 0) / 60:.0f} min.")


def table_rows(records: dict[str, Any], label: Any) -> list[str]:
    """Time and size tables for a group of networks or chains."""
    head = ("| | layers | convsym | first run | + summary (first run) | " +
            " | ".join(name for _, name in PEERS) + " |")
    rows = [head, "|" + "---|" * (5 + len(PEERS))]
    for key, rec in records.items():
        c = rec["contenders"]
        mine = c.get("convsym", {}).get("median_s")
        cells = [label(key), str(rec["layers"]), fmt_time(mine)]
        cells += [_variant(c.get("convsym_first")), _variant(c.get("convsym_summary_first"))]
        cells += [_time(c.get(who), mine) for who, _ in PEERS]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _variant(entry: dict[str, Any] | None) -> str:
    """A convsym variant's time, or a dash when not measured."""
    if not entry:
        return "–"
    if entry.get("median_s"):
        return fmt_time(entry["median_s"])
    if entry.get("timed_out_after_s"):
        return f"> {entry['timed_out_after_s']:.0f} s"
    return "failed" if entry.get("error") else "–"


WORKLOAD_NAMES = {"alt21_": "strides 2,1,2,1 (8 ch.)", "random_": "random k/s/d",
                  "decoder_": "transposed decoder (blocks)", "residual_": "residual blocks + Add",
                  "unet_": "U-Net levels", "densenet_": "DenseNet (depth)",
                  "inception_": "Inception-style blocks"}


def workload_label(key: str) -> str:
    """``alt21_1000`` -> ``1000 x strides 2,1,2,1 (8 ch.)``."""
    kind = key.rstrip("0123456789")
    return f"{key[len(kind):]} x {WORKLOAD_NAMES.get(kind, kind)}"


def scaling_rows(scale: dict[str, Any]) -> list[str]:
    """convsym alone: four ways at two depths, final size and growth."""
    rows = ["| | depth | build | build (first run) | + summary | + summary (first run) | "
            "final size (ops) |", "|---|---|---|---|---|---|---|"]
    for name, rec in scale.items():
        for depth in rec["depths"]:
            d = str(depth)
            cells = [name.replace("_", " "), d] + \
                [_variant(rec[way].get(d)) for way in ("build", "build_first", "summary",
                                                        "summary_first")]
            cells.append(str(rec["build"].get(d, {}).get("size", "–")))
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def zoo_rows(zoo: dict[str, Any]) -> list[str]:
    """Per zoo model: layers, convsym's first-run, warm and first-run + summary times, and
    torch.export's time with the ratio."""
    rows = ["| model | layers | first run | warm | + summary (first run) | per layer (first "
            "run) | torch.export |", "|---|---|---|---|---|---|---|"]
    for name, rec in zoo.items():
        per = rec.get("first_per_layer_s")
        export = rec.get("torch.export")
        ratio = rec.get("export_over_convsym")
        cells = [f"`{name}`", str(rec["convsym"].get("layers", "–")),
                 _variant(rec.get("convsym_first")), _variant(rec.get("convsym")),
                 _variant(rec.get("convsym_summary_first")),
                 fmt_time(per) if per else "–",
                 (_variant(export) + (f" ({ratio:.0f}x)" if ratio else "")) if export
                 else "–"]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def per_layer_rows(records: dict[str, Any]) -> list[str]:
    """Per network: layers, and convsym over plain integers, warm and first runs, measured
    side by side (:func:`bench.compare.per_layer`)."""
    rows = ["| network | layers | warm | first run |", "|---|---|---|---|"]
    for name, rec in records.items():
        paired = rec.get("per_layer")
        if not paired:
            continue
        cells = [name, str(rec.get("layers", "–"))]
        for variant in ("convsym", "convsym_first"):
            r = paired.get(variant, {})
            ratios = r.get("ratios") or []
            cells.append(f"{r['median_ratio']:.0f}x ({min(ratios):.0f}–{max(ratios):.0f})"
                         if r.get("median_ratio") else "–")
        rows.append("| " + " | ".join(cells) + " |")
    return rows if len(rows) > 2 else []


def expression_rows(records: dict[str, Any], label: Any) -> list[str]:
    """Final expression per contender with its size and exactness."""
    rows = ["| | convsym | torch.export | ONNX Runtime symbolic | naive SymPy |",
            "|---|---|---|---|---|"]
    for key, rec in records.items():
        c = rec["contenders"]
        cells = [label(key)]
        for who in ("convsym", "torch.export", "onnxruntime", "sympy"):
            e = c.get(who)
            if not e or "skipped" in e:
                cells.append("n/a")
            elif e.get("error") and not e.get("expr"):
                cells.append("failed" if not e.get("timed_out_after_s") else "timed out")
            else:
                cells.append(f"{_code(e.get('expr'))} ({_size(e)}, exact: {_exact(e)})")
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def chain_label(key: str) -> str:
    """``chain1000_s2`` -> ``1000 x stride 2``."""
    depth, stride = key[len("chain"):].split("_s", 1)
    return f"{depth} x stride {stride}"


def render(r: dict[str, Any]) -> str:
    """The whole Markdown report."""
    out = [machine_line(r), ""]
    nets = r.get("networks", {})
    if nets:
        out += ["**Networks**, input `(3, H, W)` with H and W symbolic (U-Net: `(H, W, 1)`): "
                "time to derive every shape and parameter count; in brackets, how many "
                "times longer the peer took.", ""]
        out += table_rows(nets, lambda k: NAMES.get(k, k)) + [""]
        out += ["Final size of the last feature map (H axis), its size (`count_ops`) and "
                "whether it is exact:", ""]
        out += expression_rows(nets, lambda k: NAMES.get(k, k)) + [""]
    chains = r.get("chains", {})
    if chains:
        out += ["**Chains** of `Conv2d(4, 4, 3, stride, padding=1)`; stride `s` is symbolic "
                "(torch modules cannot have one):", ""]
        out += table_rows(chains, chain_label) + [""]
        out += expression_rows({k: v for k, v in chains.items() if "_s2" in k or "_ss" in k},
                               chain_label) + [""]
        growth = r.get("growth", {})
        if growth:
            parts = []
            for stride, g in growth.items():
                slope = g["loglog_slope"]
                last = list(slope.values())[-1] if slope else None
                ratio = g.get("t1000_over_t100")
                parts.append(f"{stride}: t(1000)/t(100) = {ratio:.1f}" if ratio else stride)
                if last is not None:
                    parts[-1] += f", log-log slope {last:.2f}"
            out += ["convsym's time against depth (1.0 = linear): " + "; ".join(parts) + ".",
                    ""]
    work = r.get("workloads", {})
    if work:
        out += ["**Workloads** (issue 19): the same columns; first run = SymPy's cache and "
                "convsym's memos cleared before each run; summary = also "
                "`summary().to_dict()`:", ""]
        out += table_rows(work, workload_label) + [""]
        out += expression_rows(work, workload_label) + [""]
    scale = r.get("scaling", {})
    if scale:
        out += ["**convsym alone** (no peer runs these): ceil_mode pooling blocks "
                "(`Conv2d` + `MaxPool2d(3, 3, padding=1, ceil_mode=True)`), Keras "
                "`Conv2D(4, 3, strides=2, padding='same')`, `Conv2d(4, 4, \"k<i>\")` with a "
                "symbolic kernel per layer, `Conv2d(4, 4, 3, stride=\"s\", padding=1)`, "
                "`Conv2d(4, 4, \"k<i>\", stride=\"s<i>\")` (symbolic_ks):", ""]
        out += scaling_rows(scale) + [""]
    zoo = r.get("zoo", {})
    if zoo:
        out += ["**The conformance suite's zoo models** (the same models it checks shape by "
                "shape against PyTorch), imported with `from_torch(model, (3, \"H\", "
                "\"W\"))`; torch.export with `Dim.AUTO` on H and W where it was run:", ""]
        out += zoo_rows(zoo) + [""]
    per_layer = per_layer_rows({**nets, **r.get("chains", {}), **work})
    if per_layer:
        out += ["**Per layer against plain integers**: convsym's time over plain-integer "
                "propagation's on the same network, both timed side by side in one process "
                "(interleaved rounds, which goes first alternating; the median of the "
                "per-round ratios, and the lowest and highest round):", ""]
        out += per_layer + [""]
    st = r.get("startup", {})
    if st:
        out += ["Start-up (fresh processes, median): bare Python "
                f"{st['python'] * 1000:.0f} ms, `import convsym` {st['import convsym'] * 1000:.0f}"
                f" ms, `convsym --version` {st['convsym --version'] * 1000:.0f} ms (+"
                f"{st['version_over_python_s'] * 1000:.0f} ms), first `convsym.Sequential` "
                f"(loads SymPy) {st['import convsym + Sequential'] * 1000:.0f} ms.", ""]
    out += _extras(r)
    targets = r.get("targets", [])
    if targets:
        out += ["**Targets** (issues 9 and 19):", "", "| target | measured | |", "|---|---|---|"]
        for t in targets:
            mark = {True: "met", False: "**missed**", None: "n/a"}[t["met"]]
            by = f" ({t['by']})" if t.get("by") else ""
            out.append(f"| {t['target']} | {t['measured']}{by} | {mark} |")
        out.append("")
    return "\n".join(out)


def _extras(r: dict[str, Any]) -> list[str]:
    out: list[str] = []
    items = []
    latex = r.get("latex", {})
    if latex.get("available"):
        e2e, only = latex.get("build_derive_render", {}), latex.get("derive_render", {})
        items.append(f"ResNet-50's LaTeX derivation: {fmt_time(e2e.get('median_s'))} from "
                     f"nothing (build, derive, render; {e2e.get('characters', '?'):,} "
                     f"characters), {fmt_time(only.get('median_s'))} for derive + render")
    elif latex:
        items.append(f"ResNet-50's LaTeX derivation: {latex.get('note')}")
    v = r.get("verify", {})
    if v:
        parts = []
        for key, label in (("reference", "NumPy reference"),
                           ("reference_2_workers", "NumPy reference, 2 processes"),
                           ("reference_2_processes", "NumPy reference, 2 processes"),
                           ("torch", "PyTorch, 1 thread")):
            if key in v:
                parts.append(f"{v[key]['rate_per_s']:,.0f}/s against the {label} "
                             f"({v[key]['configs']:,} configurations, "
                             f"{v[key]['mismatches']} mismatches)")
        items.append("Random single-layer configurations verified (a real convolution or "
                     "pooling per configuration, shape compared with convsym's closed form): "
                     + "; ".join(parts))
    p = r.get("proofs", {})
    if p.get("statements"):
        items.append(f"Proving the test corpus ({p['statements']} statements): median "
                     f"{fmt_time(p['median_s'])}, worst {fmt_time(p['worst_s'])} per "
                     f"statement; {p['true_proved']}/{p['true']} true ones proved, "
                     f"{p['false_refuted']}/{p['false']} false ones refuted, none wrong"
                     if p["false_proved"] == 0 and p["true_refuted"] == 0 else
                     f"Proving the corpus: {p['false_proved']} false proved, "
                     f"{p['true_refuted']} true refuted (WRONG)")
    elif p:
        items.append(f"Proving the test corpus: {p.get('note', p.get('error'))}")
    a = r.get("admissible", {})
    if a.get("H"):
        items.append(f"U-Net admissible inputs (convsym.whatif): {a['H']} "
                     f"in {fmt_time(a.get('median_s'))}")
    if items:
        out += [f"- {x}." for x in items] + [""]
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the report of ``bench/results.json`` (or the file given)."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path(__file__).resolve().parent / "results.json"
    print(render(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
