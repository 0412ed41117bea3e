"""Conformance: every torchvision and timm conv net, layer by layer, against PyTorch itself.

One test per model (``zoo:name``).  Each model is built with ``weights=None`` (weights
left uninitialised: values never change a shape), imported with convsym at ``(3, H, W)`` and
at each size of :data:`zoos.SIZES`, and compared with hooked forwards at those sizes: every
module call's output shapes, every module's parameter count, the totals and the outputs,
symbolic-then-instantiated at every size and imported at fixed size from the second size on
(see ``harness.py``).

Forwards run on the CPU, except for models above :data:`zoos.HEAVY_GMACS` billion
multiply-accumulates at 224 x 224 (counted by convsym), which run on PyTorch's ``meta``
device: the same Python forward and PyTorch's own shape functions, without the arithmetic,
to keep the suite within its time budget on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import harness  # noqa: E402
import torchvision_shim  # noqa: E402
import zoos  # noqa: E402

try:
    torchvision_shim.import_torchvision()  # before timm, which imports torchvision
except ImportError:
    pytest.skip("torchvision is not installed (scripts/test installs it)",
                allow_module_level=True)
pytest.importorskip("timm")

pytestmark = [pytest.mark.frameworks, pytest.mark.conformance]

CASES = zoos.all_cases()


@pytest.fixture(autouse=True, scope="module")
def _threads() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.zoo.split()[-1]}:{c.name}")
def test_model_matches_pytorch(case: zoos.Case) -> None:
    def device(net: Any) -> str:
        return "meta" if int(net.total_macs) > zoos.HEAVY_GMACS * 1e9 else "cpu"

    report = harness.check(zoos.build(case), case.sizes, device, zoos.FALLBACK, fixed_first=False)
    assert not report.wrong, "\n".join(report.wrong[:20])
    assert report.comparisons > report.modules


def test_only_transformers_are_left_out() -> None:
    assert zoos.excluded() == []
    assert len(zoos.classification()) == 80
    assert len(zoos.segmentation()) == 6 and len(zoos.detection_backbones()) == 6
    assert len(zoos.TIMM) == 40
