"""The LaTeX derivation of ResNet-50, proving the test corpus, and admissible input sizes.

Each guards the capability it times: when the module providing it does not exist yet, the
section reports "not available" with the reason instead of failing the run.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.timing import run_capped

ROOT = Path(__file__).resolve().parent.parent


def _missing(*modules: str) -> str | None:
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            return f"not available yet: {name} does not exist"
    return None


def latex_record(name: str = "resnet50", *, cap: float = 120, budget: float = 8
                 ) -> dict[str, Any]:
    """Time ``derive(example(name)).to_latex()``: end to end, and derive + render alone."""
    why = _missing("convsym.derivation", "convsym.printing.latex")
    if why:
        return {"available": False, "note": why}

    def end_to_end(progress: Any) -> Any:
        from convsym.derivation import derive
        from convsym.examples import example

        def run() -> str:
            text: str = derive(example(name)).to_latex()
            return text

        return run, _latex_facts

    def render_only(progress: Any) -> Any:
        from convsym.derivation import derive
        from convsym.examples import example

        net = example(name)

        def run() -> str:
            text: str = derive(net).to_latex()
            return text

        return run, _latex_facts

    out: dict[str, Any] = {"available": True, "network": name}
    for label, task in (("build_derive_render", end_to_end), ("derive_render", render_only)):
        m = run_capped(f"latex/{label}", task, cap=cap, budget=budget, lo=1, hi=15)
        out[label] = {**m.to_dict(), **(m.result or {})}
    return out


def _latex_facts(text: str) -> dict[str, Any]:
    return {"characters": len(text), "lines": text.count("\n"),
            "mentions_ceiling_H_32": "32" in text}


def proof_record(*, repeats: int = 3, per_call_cap: float = 60, subset: int | None = None
                 ) -> dict[str, Any]:
    """Prove every corpus statement; median and worst time per statement, and correctness."""
    why = _missing("convsym.proof")
    corpus_path = ROOT / "tests" / "proofs" / "corpus.py"
    if why or not corpus_path.exists():
        return {"available": False,
                "note": why or "not available yet: tests/proofs/corpus.py does not exist"}
    spec = importlib.util.spec_from_file_location("bench_proof_corpus", corpus_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_proof_corpus"] = module
    spec.loader.exec_module(module)
    cases = list(module.CASES)[:subset] if subset else list(module.CASES)

    def task(progress: Any) -> Any:
        from convsym.proof import prove

        prove("floor(n/2) + ceiling(n/2) == n")  # warm-up: imports, caches, Z3 start-up

        def run() -> list[dict[str, Any]]:
            rows = []
            for i, case in enumerate(cases):
                times = []
                proof = None
                for _ in range(repeats):
                    start = time.perf_counter()
                    proof = prove(case.statement, assume=list(case.assume))
                    times.append(time.perf_counter() - start)
                assert proof is not None
                rows.append({"statement": case.statement, "assume": list(case.assume),
                             "true": case.true, "symbolic": case.symbolic,
                             "status": proof.status, "method": proof.method,
                             "median_s": statistics.median(times), "max_s": max(times)})
                progress({"done": i + 1, "of": len(cases)})
            return rows

        return run, lambda rows: rows

    m = run_capped("proofs", task, cap=per_call_cap * len(cases), budget=0, lo=0, hi=0)
    rows = m.result or []
    if not rows:
        return {"available": True, "error": m.error or "timed out", **m.to_dict()}
    medians = [r["median_s"] for r in rows]
    worst = max(rows, key=lambda r: r["max_s"])
    true_rows = [r for r in rows if r["true"]]
    false_rows = [r for r in rows if not r["true"]]
    return {
        "available": True, "statements": len(rows), "repeats_each": repeats,
        "median_s": statistics.median(medians), "worst_s": worst["max_s"],
        "worst_statement": worst["statement"], "total_s": sum(medians),
        "true": len(true_rows), "false": len(false_rows),
        "true_proved": sum(r["status"] == "proved" for r in true_rows),
        "true_refuted": sum(r["status"] == "refuted" for r in true_rows),
        "false_refuted": sum(r["status"] == "refuted" for r in false_rows),
        "false_proved": sum(r["status"] == "proved" for r in false_rows),
        "unknown": sum(r["status"] == "unknown" for r in rows),
        "by_method": _count(r["method"] for r in rows),
        "median_concrete_s": _median([r["median_s"] for r in rows if not r["symbolic"]]),
        "median_symbolic_s": _median([r["median_s"] for r in rows if r["symbolic"]]),
        "rows": rows,
    }


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[str(x)] = out.get(str(x), 0) + 1
    return out


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def admissible_record(name: str = "unet", *, cap: float = 120, budget: float = 5
                      ) -> dict[str, Any]:
    """convsym's admissible input sizes for ``name`` (the what-if engine), timed."""
    why = _missing("convsym.whatif")
    if why:
        return {"available": False, "note": why}

    def task(progress: Any) -> Any:
        from convsym.examples import example
        from convsym.whatif import admissible_inputs

        net = example(name)

        def run() -> Any:
            return admissible_inputs(net)

        def finish(a: Any) -> dict[str, Any]:
            return {"exact": a.exact, "H": a.values("H").describe("H"),
                    "smallest_H": a.smallest("H", 5), "output": [str(s) for s in net.output_shape]}

        return run, finish

    m = run_capped(f"admissible/{name}", task, cap=cap, budget=budget, lo=1, hi=10)
    return {"available": True, **m.to_dict(), **(m.result or {})}
