"""Checks of tensors whose batch axis holds a per-sample axis folded in, against PyTorch:
the shared helpers of ``test_torch_windows.py`` and ``test_torch_batch_folds.py``.

A tensor whose torch dim 0 is ``batch * F`` is per sample the tensor ``(F, d1, ...)``;
:func:`check` compares convsym's shapes (symbolic, instantiated, and imported at fixed sizes)
with the real forward's at every size, batch 2, every module call's output included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import torch

from convsym.errors import SpecError
from convsym.importers.torch_module import from_torch
from convsym.intdiv import to_sympy

F = torch.nn.functional

SIZES = [(16, 16), (17, 23), (9, 40)]


def pad_to(n: Any, ws: int) -> Any:
    return (ws - n % ws) % ws


def hooked(module: Any, x: Any) -> tuple[dict[str, list[tuple[int, ...]]], Any]:
    seen: dict[str, list[tuple[int, ...]]] = {}
    handles = [m.register_forward_hook(
        lambda m, a, out, name=name: seen.setdefault(name, []).append(tuple(out.shape)))
        for name, m in module.named_modules()]
    try:
        with torch.no_grad():
            out = module(x)
    finally:
        for h in handles:
            h.remove()
    return seen, out


def check(module: Any, channels: int = 8, sizes: list[tuple[int, int]] = SIZES,
          symbolic: bool = True) -> Any:
    """convsym equals PyTorch at every size: outputs, every module call, parameters."""
    module.eval()
    total = sum(int(p.numel()) for p in module.parameters())
    net = from_torch(module, (channels, "H", "W")) if symbolic else None
    for h, w in sizes:
        seen, out = hooked(module, torch.randn(2, channels, h, w))
        fixed = from_torch(module, (channels, h, w))
        for mine in ([net.subs(H=h, W=w)] if net is not None else []) + [fixed]:
            assert [tuple(int(s) for s in shape) for shape in mine.output_shapes] == \
                [tuple(out.shape[1:])], (h, w)
            assert int(mine.total_params) == total == mine.torch_params
            for name, calls in seen.items():
                if name in mine.fixed_calls and name not in mine.module_outputs:
                    continue  # run on a fixed tensor (a buffer): no rows
                for real, ours in zip(calls, mine.module_outputs[name], strict=True):
                    (i,) = ours
                    got = tuple(int(to_sympy(s)) for s in mine.shapes[i])
                    # a folded output: torch's dim 0 is batch 2 times the row's first size
                    want = (real[0] // 2, *real[1:]) if i in mine.folded else real[1:]
                    assert got == want, (name, h, w)
    return net


def partition(x: Any, ws: int) -> tuple[Any, Any, Any, Any]:
    """(B, H, W, C) padded to multiples of ws, as torchvision does, and partitioned into
    (B*nW, ws*ws, C) windows; with the padded sizes and the number of windows."""
    B, H, W, C = x.shape
    x = F.pad(x, (0, 0, 0, pad_to(W, ws), 0, pad_to(H, ws)))
    _, pH, pW, _ = x.shape
    nw = (pH // ws) * (pW // ws)
    x = x.view(B, pH // ws, ws, pW // ws, ws, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B * nw, ws * ws, C), pH, pW, nw


def replays(modules: Sequence[Any], runner: str) -> None:
    """Each module's rows, at 17 x 23, rebuilt one by one as torch calls (``runner`` "torch")
    or in the NumPy reference, give the import's shapes."""
    from convsym.runners.numpy_ref import NumpyRunner
    from convsym.runners.torch_run import TorchRunner

    for module in modules:
        net = from_torch(module.eval(), (8, "H", "W")).subs(H=17, W=23)
        outcomes = (TorchRunner() if runner == "torch" else NumpyRunner()).run(net)
        assert len(outcomes) == len(net.nodes)
        for index, shape in outcomes.items():
            assert shape == tuple(int(to_sympy(s)) for s in net.shapes[index])


def refused(module: Any, message: str) -> None:
    """The import refuses ``module`` at 16 x 16 with ``message``, and symbolically with one
    line."""
    module.eval()
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_torch(module, (8, 16, 16))
    with pytest.raises(SpecError) as err:
        from_torch(module, (8, "H", "W"))
    assert "\n" not in str(err.value)
