"""Build time per model of the conformance suite's real zoos (torchvision, timm).

Each model is built once (``weights=None``, weights left uninitialised, untimed), then timed in
a capped child:

* ``convsym_first``: ``from_torch(model, (3, "H", "W"))`` after clearing SymPy's cache and
  convsym's memos (what a fresh process pays beyond its imports);
* ``convsym``: the same, warm;
* ``convsym_summary_first``: a first-run import plus ``summary().to_dict()``;
* ``torch.export`` (with ``--quick``, the quick subset only): ``torch.export.export`` with
  ``Dim.AUTO`` on H and W at a 224 x 224 example, the peer every ratio is taken against.

The models come from ``tests/conformance/zoos.py`` (the same list the conformance suite
checks shape by shape against PyTorch), so the bench times exactly what the suite proves
right.  The full run times every model; ``--quick`` a subset across families.

>>> sorted(QUICK)[:2]
['backbones:resnet50_fpn', 'classification:convnext_tiny']
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.timing import fmt_time, run_capped

QUICK = ("classification:resnet18", "classification:resnet50", "classification:mobilenet_v2",
         "classification:efficientnet_b0", "classification:densenet121",
         "classification:convnext_tiny", "classification:inception_v3",
         "segmentation:deeplabv3_resnet50", "backbones:resnet50_fpn", "timm:dla34")
"""The quick subset (labels, see :func:`label`): broad families, segmentation, a detection
backbone and a timm model."""

EXPORTED = ("classification:resnet18", "classification:resnet50",
            "classification:mobilenet_v2", "classification:efficientnet_b0")
"""Models also exported with torch.export in the quick run (the full run exports all)."""


def _zoos() -> Any:
    here = Path(__file__).resolve().parent.parent / "tests" / "conformance"
    if str(here) not in sys.path:
        sys.path.insert(0, str(here))
    import torchvision_shim
    import zoos

    torchvision_shim.import_torchvision()
    return zoos


def cases(quick: bool) -> list[Any]:
    """The zoo cases timed: all of the conformance suite's, or the :data:`QUICK` subset."""
    zoos = _zoos()
    every = zoos.all_cases()
    return every if not quick else [c for c in every if label(c) in QUICK]


def label(case: Any) -> str:
    """``zoo:name`` with the zoo's last word (``classification:resnet50``, ``timm:dla34``)."""
    return f"{case.zoo.split()[-1]}:{case.name}"


def _convsym_task(case: Any, *, first: bool, summary: bool
                  ) -> Callable[[Any], tuple[Callable[[], Any], Callable[[Any], Any]]]:
    def task(progress: Any) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        from bench.peers import clear_caches
        from bench.timing import with_setup
        from convsym.importers.torch_module import from_torch
        from convsym.printing.text import sstr

        model = _zoos().build(case).eval()

        def run() -> Any:
            net = from_torch(model, (3, "H", "W"))
            if summary:
                net.summary().to_dict()
            return net

        with_setup(run, clear_caches if first else None)

        def finish(net: Any) -> dict[str, Any]:
            shape = net.output_shapes[0]
            return {"layers": len(net.layers), "output": sstr(shape)[:80]}

        return run, finish

    return task


def _export_task(case: Any) -> Callable[[Any], tuple[Callable[[], Any], Callable[[Any], Any]]]:
    def task(progress: Any) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        import torch
        from torch.export import Dim, export

        model = _zoos().build(case).eval()
        x = torch.zeros(1, 3, 224, 224)
        dynamic = {"x": {2: Dim.AUTO, 3: Dim.AUTO}}

        def run() -> Any:
            return export(model, (x,), dynamic_shapes=dynamic)

        def finish(ep: Any) -> dict[str, Any]:
            out = next(n for n in ep.graph.nodes if n.op == "output")
            val = out.args[0][0].meta.get("val")
            return {"output": str(tuple(val.shape))[:80] if val is not None else "?"}

        return run, finish

    return task


def section(*, quick: bool, cap: float, budget: float, max_repeats: int,
            say: Callable[[str], None] = print) -> dict[str, Any]:
    """Every selected zoo model: convsym's build times and, where exported, torch.export's."""
    import torch

    torch.set_num_threads(1)
    out: dict[str, Any] = {}
    for case in cases(quick):
        name = label(case)
        rec: dict[str, Any] = {}
        ways: dict[str, Any] = {
            "convsym_first": _convsym_task(case, first=True, summary=False),
            "convsym": _convsym_task(case, first=False, summary=False),
            "convsym_summary_first": _convsym_task(case, first=True, summary=True)}
        if not quick or name in EXPORTED:
            ways["torch.export"] = _export_task(case)
        for who, task in ways.items():
            m = run_capped(f"{name}/{who}", task, cap=cap, budget=budget, lo=1,
                           hi=max_repeats)
            entry = m.to_dict()
            entry.update(m.result or {})
            rec[who] = entry
        mine, theirs = rec["convsym"].get("median_s"), rec.get("torch.export", {})
        if mine and theirs.get("median_s"):
            rec["export_over_convsym"] = theirs["median_s"] / mine
        layers = rec["convsym"].get("layers") or rec["convsym_first"].get("layers")
        if layers and rec["convsym_first"].get("median_s"):
            rec["first_per_layer_s"] = rec["convsym_first"]["median_s"] / layers
        out[name] = rec
        say(_line(name, rec))
    return out


def _line(name: str, rec: dict[str, Any]) -> str:
    def t(who: str) -> str:
        e = rec.get(who, {})
        if e.get("error"):
            return "FAILED"
        if not e.get("median_s"):
            return f"> {e.get('timed_out_after_s', 0):.0f} s" if e else "-"
        return fmt_time(e["median_s"])

    ratio = rec.get("export_over_convsym")
    return (f"  {name:<36} layers {rec['convsym'].get('layers', '?')!s:>5}  first "
            f"{t('convsym_first'):>10}  warm {t('convsym'):>10}  + summary (first) "
            f"{t('convsym_summary_first'):>10}"
            + (f"  torch.export {t('torch.export'):>9}" if "torch.export" in rec else "")
            + (f" ({ratio:.0f}x)" if ratio else ""))
