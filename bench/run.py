"""Run every benchmark in one process and write ``bench/results.json``.

Usage (from the repository root)::

    python -m bench                  # the full run: several minutes (under ~15)
    python -m bench --quick          # a smoke test in about a minute
    python -m bench --out FILE       # write the results somewhere else
    python -m bench --only networks chains   # some sections only
    python -m bench.report           # the Markdown tables from bench/results.json

Sections: ``networks`` (ResNet-50, VGG-16, MobileNetV2, U-Net: convsym against torch.export,
onnxruntime's symbolic shape inference, naive SymPy and plain integers), ``chains`` (3x3
convolutions, 10 to 1000 layers, stride 1, 2 and a symbolic stride), ``latex`` (ResNet-50's
derivation), ``verify`` (random single-layer configurations checked per second),
``proofs`` (the test corpus), ``admissible`` (the U-Net's accepted sizes).  Then the targets
of issue 9 are checked and printed, with by how much any is missed.

Every time is a median of repeated runs (``time.perf_counter``) after a warm-up run, in a
child process with a time cap; the repeat count used is recorded with every median.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import compare, extras, machine, scaling, targets, verify_rate
from bench.timing import fmt_time

SECTIONS = ("startup", "networks", "chains", "workloads", "scaling", "zoo", "latex", "verify",
            "proofs", "admissible", "onnx")
NETWORKS = ("resnet50", "vgg16", "mobilenet_v2", "unet")
DEPTHS = (10, 50, 100, 200, 1000)
STRIDES: tuple[int | str, ...] = (1, 2, "s")
WORKLOADS = {"alt21_": (100, 1000, 200), "random_": (100, 1000), "decoder_": (4, 8),
             "residual_": (100, 1000), "unet_": (4, 8, 6), "densenet_": (201,),
             "inception_": (10, 100)}
"""Issue 19's workloads (:data:`bench.compare.WORKLOADS`) and their depths (quick: the first
two)."""


def say(text: str) -> None:
    """Print a progress line at once."""
    print(text, flush=True)


def warm_up(peers: tuple[str, ...]) -> dict[str, float]:
    """One-time start-up costs, paid here so no measurement is charged with them.

    Imports, torch.export's first-call initialisation (tens of seconds on this machine) and
    the ONNX exporter's, on a tiny network; every measurement runs in a child forked after.
    """
    out: dict[str, float] = {}
    start = time.perf_counter()
    import torch

    torch.set_num_threads(1)
    from bench import peers as P
    from bench.ir import from_network

    ir = from_network(P.build_chain(2, 1))
    out["imports_s"] = time.perf_counter() - start
    if "torch.export" in peers:
        from torch.export import Dim, export

        from bench.torch_model import build_module

        start = time.perf_counter()
        module = build_module(ir)
        export(module, (torch.zeros(1, 4, 16, 16),),
               dynamic_shapes={"x": {2: Dim("H", min=4, max=1024), 3: Dim("W", min=4, max=1024)}})
        out["torch_export_first_call_s"] = time.perf_counter() - start
    if "onnxruntime" in peers:
        import onnx
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

        start = time.perf_counter()
        SymbolicShapeInference.infer_shapes(onnx.load_from_string(P.onnx_model(ir, (16, 16))),
                                            auto_merge=True)
        out["onnx_first_call_s"] = time.perf_counter() - start
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 0 (targets missed are reported, not failures)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: ResNet-50, chains of 10 and 100, small samples")
    parser.add_argument("--out", default=None,
                        help="results file (default bench/results.json; "
                             "bench/results-quick.json with --quick)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=None,
                        help="run only these sections")
    parser.add_argument("--cap", type=float, default=None,
                        help="seconds per contender and network (default 150, quick 40)")
    parser.add_argument("--no-execute", action="store_true",
                        help="do not run the torch modules to check agreement")
    args = parser.parse_args(argv)
    quick = args.quick
    sections = args.only or list(SECTIONS)
    here = Path(__file__).resolve().parent
    out_path = Path(args.out) if args.out else here / ("results-quick.json" if quick
                                                       else "results.json")
    cap = args.cap or (40.0 if quick else 150.0)
    peers = compare.CONTENDERS  # every peer in every run, quick or not (issue 19)
    settings = compare.Settings(cap=cap, budget=2.0 if quick else 8.0,
                                max_repeats=10 if quick else 25, execute=not args.no_execute,
                                peers=peers, rounds=9 if quick else 15)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "command": "python -m bench" + (" --quick" if quick else ""),
        "quick": quick, "machine": machine.describe(),
        "settings": {"cap_s": cap, "repeat_budget_s": settings.budget,
                     "max_repeats": settings.max_repeats, "contenders": list(peers)},
    }
    m = results["machine"]
    say(f"convsym benchmark ({'quick' if quick else 'full'}) on {m['cpu']}, {m['cores']} cores, "
        f"load average {m['load_average_1_5_15_min']}")
    if "startup" in sections:  # first, before this process loads torch (no effect on children)
        say("\n== start-up (fresh processes, median) ==")
        results["startup"] = scaling.startup(5 if quick else 9)
        st = results["startup"]
        say("  " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in st.items()
                             if isinstance(v, float)))
        say("  slowest imports of `import convsym; convsym.Sequential` (cumulative): " +
            ", ".join(f"{k} {v / 1000:.0f} ms"
                      for k, v in list(st["importtime_cumulative_us"].items())[:5]))
    say("warming up (imports, torch.export and ONNX first calls) ...")
    results["warm_up"] = warm_up(peers)
    say("  " + ", ".join(f"{k} {v:.1f} s" for k, v in results["warm_up"].items()))

    if "networks" in sections:
        say("\n== networks: convsym vs peers (median of repeats; size = sympy.count_ops) ==")
        results["networks"] = {}
        for name in (("resnet50",) if quick else NETWORKS):
            results["networks"][name] = compare.network_record(name, settings, say=say)
            _save(out_path, results)
    if "chains" in sections:
        say("\n== chains of Conv2d(4, 4, 3, stride, padding=1) ==")
        results["chains"] = {}
        depths = (10, 100) if quick else DEPTHS
        for stride in STRIDES:
            for depth in depths:
                key = f"chain{depth}_s{stride}"
                results["chains"][key] = compare.chain_record(depth, stride, settings, say=say)
                _save(out_path, results)
        results["growth"] = targets.growth(results["chains"])
        for line in targets.growth_lines(results["growth"]):
            say(line)
    if "workloads" in sections:
        say("\n== workloads (issue 19): alternating strides, random k/s/d, transposed "
            "decoders, residual blocks ==")
        results["workloads"] = {}
        for kind, depths in WORKLOADS.items():
            for depth in (depths[:2] if quick else depths):
                key = f"{kind}{depth}"
                results["workloads"][key] = compare.workload_record(kind, depth, settings,
                                                                     say=say)
                _save(out_path, results)
        results["workload_growth"] = targets.workload_growth(results["workloads"])
        say("  growth again, the two depths side by side (alternating children):")
        for kind, depths in WORKLOADS.items():
            measured = depths[:2] if quick else depths
            if max(measured) < 10 * min(measured):
                continue  # (no growth target below 10x the depth)
            results["workload_growth"][kind]["rounds"] = compare.workload_growth_rounds(
                kind, list(measured), settings, say=say)
            _save(out_path, results)
        for line in targets.workload_growth_lines(results["workload_growth"]):
            say(line)
    if "scaling" in sections:
        say("\n== convsym alone: ceil_mode pools, Keras 'same' stride 2, symbolic "
            "hyperparameters ==")
        results["scaling"] = scaling.run_workloads(cap=cap, budget=settings.budget,
                                                   max_repeats=settings.max_repeats,
                                                   rounds_of_growth=settings.growth_rounds,
                                                   say=say)
        _save(out_path, results)
    if "zoo" in sections:
        from bench import zoo

        say("\n== the conformance suite's zoo models: build time per model ==")
        results["zoo"] = zoo.section(quick=quick, cap=cap, budget=settings.budget,
                                     max_repeats=settings.max_repeats, say=say)
        _save(out_path, results)
    if "latex" in sections:
        say("\n== LaTeX derivation of ResNet-50 ==")
        results["latex"] = extras.latex_record(cap=cap, budget=3 if quick else 8)
        say("  " + _latex_line(results["latex"]))
    if "verify" in sections:
        say("\n== verification throughput (random single-layer configurations) ==")
        count = 1000 if quick else 3000
        verify_rate.measure("reference", 50)  # warm-up: imports, first derivations
        # 1 and 2 processes alternate (1, 2, 2, 1, ...): other work on the machine hits both
        both = verify_rate.compare_workers(count, workers=2, repeats=3 if quick else 5)
        results["verify"] = {
            "reference": both["one"],
            "torch": verify_rate.measure("torch", count),
            "reference_2_processes": both["many"],
            "slow_path": verify_rate.scalar_rate(100 if quick else 300),
        }
        for key, r in results["verify"].items():
            say(f"  {key:<20} {r['rate_per_s']:>9,.0f} configurations/s"
                + (f"  ({r['configs']} configurations, {r['mismatches']} mismatches)"
                   if "mismatches" in r else f"  ({r['what']})")
                + (f"  median of {r['repeats']}: {r['rates']}" if "rates" in r else ""))
    if "proofs" in sections:
        say("\n== proving the test corpus ==")
        results["proofs"] = extras.proof_record(repeats=1 if quick else 3,
                                                subset=12 if quick else None)
        say("  " + _proof_line(results["proofs"]))
    if "admissible" in sections and not quick:
        say("\n== admissible inputs of the U-Net (convsym.whatif) ==")
        results["admissible"] = extras.admissible_record("unet", cap=cap)
        a = results["admissible"]
        say(f"  {fmt_time(a.get('median_s'))}: {a.get('H', a.get('note', a.get('error')))}")
    if "onnx" in sections:
        from bench import onnx_import

        say("\n== ONNX files in: convsym vs onnxruntime SymbolicShapeInference and "
            "onnx.shape_inference ==")
        results["onnx"] = onnx_import.section(quick=quick, cap=cap, budget=settings.budget,
                                              max_repeats=settings.max_repeats, say=say)
        _save(out_path, results)
    results["targets"] = targets.check(results)
    say("\n== targets (issues 9 and 19) ==")
    for line in targets.lines(results["targets"]):
        say(line)
    results["elapsed_s"] = time.perf_counter() - started
    results["machine"]["load_average_at_end"] = machine.load_now()
    _save(out_path, results)
    say(f"\nwrote {out_path} ({results['elapsed_s']:.0f} s); "
        "Markdown tables: python -m bench.report")
    return 0


def _save(path: Path, results: dict[str, Any]) -> None:
    path.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")


def _latex_line(r: dict[str, Any]) -> str:
    if not r.get("available"):
        return r.get("note", "not available")
    e2e, only = r.get("build_derive_render", {}), r.get("derive_render", {})
    return (f"build + derive + render {fmt_time(e2e.get('median_s'))} "
            f"(x{e2e.get('repeats')}), derive + render {fmt_time(only.get('median_s'))}, "
            f"{e2e.get('characters', '?')} characters of LaTeX")


def _proof_line(r: dict[str, Any]) -> str:
    if not r.get("available"):
        return r.get("note", "not available")
    if "statements" not in r:
        return f"failed: {r.get('error')}"
    return (f"{r['statements']} statements: median {fmt_time(r['median_s'])}, worst "
            f"{fmt_time(r['worst_s'])} ({r['worst_statement'][:60]}); true proved "
            f"{r['true_proved']}/{r['true']}, false refuted {r['false_refuted']}/{r['false']}, "
            f"false proved {r['false_proved']}, true refuted {r['true_refuted']}")


if __name__ == "__main__":
    sys.exit(main())
