"""Conformance: torchvision and keras.applications exported to ONNX, read by convsym with
symbolic H and W, against onnxruntime itself (issue 17).

One test per model (``zoo:name``; the zoo and exporters are in ``onnx_zoo.py``).  The file is
imported once with convsym, its ``dim_param`` H and W becoming symbols; then onnxruntime runs it
at each of :data:`onnx_zoo.SIZES` with every intermediate value exposed as a graph output
(``tests/frameworks/onnxcheck.py``), and at each size:

* every node's output shape equals convsym's closed form evaluated there, and every shape
  tensor's values (``Shape``/``Gather``/``Concat`` chains) equal convsym's;
* a size onnxruntime refuses (it raises, or a value comes out empty) is refused by convsym's
  closed forms, and the other way round;

and convsym's parameter total equals the sum of the file's floating-point initializers.

Budget: a default run checks :data:`onnx_zoo.SUBSET`, at least one model of every torchvision
family (checked below) and four Keras families: 29 tests in 2 min 45 s on 2 busy cores,
2.8 GB peak memory; Keras exports dominate (10-16 s each).  ``CONVSYM_ONNX_ZOO=full`` checks
every model of both zoos.
Models that export with neither exporter are listed in :data:`EXPORT_FAILURES` with the reason,
and their test checks that the export still fails for that reason.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("keras")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "frameworks"))

import onnx_zoo  # noqa: E402
import onnxcheck  # noqa: E402
import torchvision_shim  # noqa: E402

try:
    torchvision_shim.import_torchvision()
except ImportError:
    pytest.skip("torchvision is not installed (scripts/test installs it)",
                allow_module_level=True)

pytestmark = [pytest.mark.frameworks, pytest.mark.conformance]

ENTRIES = onnx_zoo.entries()

EXPORT_FAILURES = {
    "keras:Xception": "Unsupported attribute type",
}
"""Models neither exporter writes, with a piece of the reason.  Keras 3.15's Xception: the
TorchScript exporter fails on a ``Cast`` of a size, the dynamo exporter on a list-valued
attribute (``TypeError: Unsupported attribute type: <class 'list'>``)."""


@pytest.fixture(autouse=True, scope="module")
def _threads() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # Keras on a busy 2-core machine: one thread is faster
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_onnx_export_matches_onnxruntime(entry: onnx_zoo.Entry) -> None:
    try:
        model, exporter = onnx_zoo.export(entry)
    except onnx_zoo.ExportFailed as err:
        reason = EXPORT_FAILURES.get(entry.id)
        assert reason is not None and reason in str(err), f"export failed: {err}"
        return
    assert entry.id not in EXPORT_FAILURES, "it exports now: take it off EXPORT_FAILURES"
    sizes = [{"H": h, "W": w} for h, w in entry.sizes]
    report = onnxcheck.compare(model, sizes, batch=1)
    assert not report.mismatches, f"{exporter} export: " + "\n".join(report.mismatches[:10])
    assert report.total_params == onnxcheck.initializer_total(model)
    assert len(report.refused) < len(sizes), "every size refused: nothing compared"
    assert report.compared > report.nodes // 2
    print(f"\n{entry.id} [{entry.family}] {exporter}: {report.nodes} nodes, {report.compared} "
          f"comparisons, refused {[tuple(e.values()) for e in report.refused]}, "
          f"{report.total_params} parameters")


def test_the_subset_covers_every_torchvision_family() -> None:
    every = onnx_zoo.torchvision_entries()
    chosen = {e.family for e in every if e.name in onnx_zoo.SUBSET["torchvision"]}
    assert chosen == {e.family for e in every}
    assert set(onnx_zoo.SUBSET["torchvision"]) <= {e.name for e in every}
    assert set(onnx_zoo.SUBSET["keras"]) <= {e.name for e in onnx_zoo.keras_entries()}
