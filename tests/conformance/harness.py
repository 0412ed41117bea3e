"""Compare convsym with real PyTorch forwards, module by module.

For one model: import it with convsym at a symbolic ``(3, H, W)`` input and at each fixed
size; run the real forward at each size with a hook on every module; then every module call's
output shapes, every module's parameter count and the totals must agree, both for the fixed
import and for the symbolic import instantiated at that size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy

from convsym.errors import ConvsymError


@dataclass
class Report:
    """What one model's comparison found."""

    modules: int = 0
    comparisons: int = 0
    wrong: list[str] = field(default_factory=list)


def _tensors(value: Any) -> list[Any]:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


@contextlib.contextmanager
def hooked(model: Any) -> Iterator[dict[str, list[list[tuple[int, ...]]]]]:
    """Record every module call's output shapes (with the batch of 1), by qualified name."""
    seen: dict[str, list[list[tuple[int, ...]]]] = {}
    handles = []
    for name, module in model.named_modules():
        def hook(m: Any, args: Any, out: Any, name: str = name) -> None:
            seen.setdefault(name, []).append([tuple(t.shape) for t in _tensors(out)])
        handles.append(module.register_forward_hook(hook))
    try:
        yield seen
    finally:
        for h in handles:
            h.remove()


def run(model: Any, size: tuple[int, int], device: str) -> tuple[dict[str, Any], list[Any]]:
    import torch

    x = torch.zeros(1, 3, *size, device=device)
    with torch.no_grad(), hooked(model) as seen:
        out = model(x)
    return seen, [tuple(t.shape[1:]) for t in _tensors(out)]


def _ints(shape: Sequence[Any]) -> tuple[int, ...]:
    return tuple(int(s) if isinstance(s, (int, sympy.Integer)) else s for s in shape)


def compare(model: Any, net: Any, seen: dict[str, Any], outputs: list[Any], label: str,
            report: Report) -> None:
    """``net`` (at a concrete size) against one hooked forward."""
    from convsym.intdiv import to_sympy

    def shape(i: int) -> tuple[int, ...]:
        return _ints([to_sympy(s) for s in net.shapes[i]])

    def torch_shape(i: int, real: tuple[int, ...]) -> tuple[int, ...]:
        # a folded node (windows in the batch axis): at batch 1, torch's dim 0 is the row's
        # first size; otherwise the row's shape is torch's without the batch
        return real if i in net.folded else real[1:]

    def wrong(text: str) -> None:
        report.wrong.append(f"{label}: {text}")

    for name, calls in seen.items():
        if name in net.fixed_calls:  # run on a fixed tensor: no rows (its parent's count)
            continue
        mine = net.module_outputs.get(name)
        if mine is None or len(mine) != len(calls):
            wrong(f"module {name!r} ran {len(calls)} times, convsym followed "
                  f"{0 if mine is None else len(mine)}")
            continue
        for k, (real, ours) in enumerate(zip(calls, mine)):
            report.comparisons += 1
            got = [shape(i) for i in ours]
            real = [torch_shape(i, r) for i, r in zip(ours, real)] if len(ours) == len(real) \
                else [r[1:] for r in real]
            if got != real:
                wrong(f"module {name!r} call {k}: PyTorch {real}, convsym {got}")
    params: dict[str, int] = {}
    for row in net.rows:
        params[row.name] = int(row.params)
    not_run = {n.name: n.params for n in net.not_run}
    for name, module in model.named_modules():
        if name in not_run:
            if name in seen:
                wrong(f"module {name!r} is reported as never run, but it ran")
            continue
        if name not in seen or name in net.fixed_calls:
            continue
        real = sum(int(p.numel()) for p in module.parameters())
        prefix = name + "."
        ours = sum(v for k, v in params.items() if not name or k == name or
                   k.startswith(prefix) or k.startswith(name + "["))
        ours += sum(v for k, v in not_run.items() if not name or k.startswith(prefix))
        report.comparisons += 1
        if real != ours:
            wrong(f"module {name!r} has {real} parameters, convsym counts {ours}")
    total = sum(int(p.numel()) for p in model.parameters())
    counted = int(net.total_params) + sum(not_run.values())
    if total != counted or net.torch_params != total:
        wrong(f"total parameters {total}, convsym {int(net.total_params)} + not run "
              f"{sum(not_run.values())}")
    got = [_ints(s) for s in net.output_shapes]
    if got != outputs:
        wrong(f"outputs: PyTorch {outputs}, convsym {got}")
    report.comparisons += 2


def check(model: Any, sizes: Sequence[tuple[int, int]],
          device: Callable[[Any], str] = lambda net: "cpu",
          fallback: Sequence[tuple[int, int]] = (), fixed_first: bool = True) -> Report:
    """Import ``model`` with convsym and compare it with real forwards at ``sizes``.

    ``device`` chooses where the forwards run, from convsym's network at the first size.
    A size convsym rejects must be rejected by PyTorch too; then the first ``fallback`` size
    that convsym accepts is compared instead (models that need H, W multiples of 32).
    ``fixed_first=False`` skips the fixed-size import at the first size compared (the
    symbolic network instantiated there is still compared), to save time in large suites.
    """
    from convsym.importers.torch_module import from_torch

    model.eval()
    report = Report(modules=sum(1 for _ in model.modules()))
    symbolic = from_torch(model, (3, "H", "W"))
    where = None
    todo = list(sizes)
    spare = list(fallback)
    while todo:
        size = todo.pop(0)
        try:
            instantiated = symbolic.subs(H=size[0], W=size[1])
        except ConvsymError:
            refused_too(model, size, where or "cpu", report)
            if spare:
                todo.append(spare.pop(0))
            continue
        first = where is None
        if first:
            where = device(instantiated)
            model.to(where)
        seen, outputs = run(model, size, where)
        if fixed_first or not first:
            compare(model, from_torch(model, (3, *size)), seen, outputs, f"{size} fixed",
                    report)
        compare(model, instantiated, seen, outputs, f"{size} symbolic", report)
    return report


def refused_too(model: Any, size: tuple[int, int], device: str, report: Report) -> None:
    """A size convsym rejects: the fixed import rejects it too, and so does PyTorch."""
    from convsym.importers.torch_module import from_torch

    report.comparisons += 1
    try:
        from_torch(model, (3, *size))
        report.wrong.append(f"{size}: the symbolic network rejects it, the fixed import not")
    except ConvsymError:
        pass
    try:
        run(model, size, device)
    except (RuntimeError, AssertionError):  # a shape error, or the forward's own assert
        return
    report.wrong.append(f"{size}: convsym rejects this size but PyTorch runs it")
