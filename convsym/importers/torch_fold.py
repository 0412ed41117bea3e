"""Windows folded into the batch axis (Swin's ``(B*nW, N, C)``): per sample such a tensor is
exactly ``(nW, N, C)``, so the tracer marks it folded and follows it through the ops of
:data:`FOLD_OK` only, mapping torch's dims one further, until a ``view(B, ...)`` unfolds it.

>>> import pytest
>>> torch = pytest.importorskip("torch")
>>> from convsym.importers.torch_module import from_torch
>>> class Windows(torch.nn.Module):
...     def forward(self, x):
...         B, C, H, W = x.shape
...         x = x.permute(0, 2, 3, 1).view(B, H // 4, 4, W // 4, 4, C)
...         w = x.permute(0, 1, 3, 2, 4, 5).reshape(-1, 16, C).softmax(-1)
...         return w.view(B, -1, 16, C)
>>> [(r.name, r.output_shape) for r in from_torch(Windows(), (8, "H", "W")).rows][-2:]
[('reshape', (floor(H/4)*floor(W/4), 16, 8)), ('view_1', (floor(H/4)*floor(W/4), 16, 8))]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convsym.importers.torch_sizes import BATCH_SYMBOL, SymInt
from convsym.intdiv import QPoly, as_int, exact_quotient, to_sympy
from convsym.layers.torch_tensor import (
    Reshape,
)

if TYPE_CHECKING:
    from convsym.importers.torch_trace import Trace


FOLD_OK = frozenset({
    "view", "reshape", "view_as", "reshape_as", "permute", "transpose", "swapaxes",
    "swapdims", "flatten", "linear", "layer_norm", "matmul", "bmm", "rmatmul", "getitem",
    "unsqueeze", "unbind", "select", "new_zeros", "new_ones", "new_empty",
    "scaled_dot_product_attention", "chunk", "split"})
"""Operations (by name, underscores stripped) that may meet a tensor whose batch axis holds
windows folded in (see :meth:`Trace.fold`), besides the shape-keeping and arithmetic ones;
each handler maps torch's dims onto the per-sample axes or refuses."""


FOLD_MODULES = frozenset({
    "Linear", "LayerNorm", "Dropout", "Identity", "GELU", "ReLU", "ReLU6", "SiLU", "Sigmoid",
    "Tanh", "Hardswish", "Hardsigmoid", "LeakyReLU", "ELU", "Mish", "Softplus", "Softmax",
    "LogSoftmax", "Softmin"})
"""``torch.nn`` modules that act on the last axes only, and so may meet a folded tensor
(a LayerNorm whose shape does not reach the batch axis, a softmax over a dim counted from
the end)."""


class FoldOps:
    """Following windows folded into the batch (mixed into :class:`~convsym.importers.torch_trace.
    Trace`)."""

    def same_fold(self: Trace, tensors: Sequence[Any], name: str) -> None:
        """Two tensors of one operation: neither folded, or both with the same windows per
        sample and the same rank (so that torch's dim 0, ``B*F``, meets ``B*F``)."""
        folds = [t._cs_folded for t in tensors]
        if not any(folds):
            return
        a, b = tensors[0], tensors[1]
        if all(folds) and self.rank(a) == self.rank(b) and self.same_windows(
                self.shapes[a._cs_index][0], self.shapes[b._cs_index][0]):
            return
        shown = ", ".join(f"({'B*' if t._cs_folded else 'B, '}"
                          + ", ".join(str(to_sympy(v)) for v in self.shapes[t._cs_index])
                          + ")" for t in tensors)
        raise self.fail(f"{name} of tensors {shown} whose batch axes hold different folds "
                        "of windows (or none); convsym follows only tensors of one rank "
                        "with the same windows per sample", "batch_size")

    def same_windows(self: Trace, f: Any, g: Any) -> bool:
        """Whether two per-sample window counts are equal: always (True), never (False), or
        where the sizes make them so (True, the equality kept as a condition of the network,
        a Require row, as an assert: timm's Swin builds its mask for 224 x 224 only, and
        asserts that size)."""
        if f == g:
            return True
        if not isinstance(f, QPoly) or not isinstance(g, QPoly):
            return False
        test = self.decide(f, "==", g, f"{to_sympy(f)} == {to_sympy(g)} (windows per sample)")
        if isinstance(test, bool):
            return test
        self.per_sample(test)
        self.required(test, "windows folded into the batch axis must be as many on both "
                            "sides (PyTorch's dim 0 is the batch times their count)")
        return True

    def fold_module(self: Trace, module: Any, qual: str, kind: str, x: Any) -> None:
        """A ``torch.nn`` module called on a folded tensor: one acting on the last axes."""
        shape = getattr(module, "normalized_shape", ())
        dim = getattr(module, "dim", -1) if kind.startswith(("Softm", "LogSoftm")) else -1
        if kind not in FOLD_MODULES or len(tuple(shape)) >= self.rank(x) or \
                type(dim) is not int or not -self.rank(x) < dim < 0:
            raise self.fail(f"module {qual!r} ({kind}) on a tensor whose batch axis holds "
                            "windows folded in (B*F, ...); convsym follows linear maps, "
                            "layer norms over the last axes, dropout and activations on "
                            "such a tensor", "batch_size")

    def fold(self: Trace, x: Any, head: Any, rest: list[Any], name: str) -> Any:
        """``x.view(head, *rest)`` where ``head`` is not the batch size: windows folded into
        the batch axis (``x.reshape(B * nW, N, C)``, ``x.view(-1, ws, ws, C)``), or, for a
        folded ``x``, a new fold or the unfolding (``head`` = ``B``, or -1 resolving to it).

        A tensor whose torch dim 0 is ``B*F`` (F a per-sample size) is per sample the tensor
        ``(F, d1, ...)``: the row is a per-sample reshape to ``(F, *rest)``; only the way
        torch's dims map to per-sample axes differs (dim 0 is the batch and axis 0 together).
        ``-1`` resolves to ``total / prod(rest)`` when that is an exact quotient; otherwise
        the element counts must agree (the fold is 1: an ordinary reshape, as before)."""
        target = [self.size_value(s) for s in rest]
        known = QPoly.const(1)
        for s in rest:
            known = known * (s.q if isinstance(s, SymInt) else QPoly.const(int(s)))
        if isinstance(head, SymInt):
            windows = exact_quotient(head.q, QPoly.sym(BATCH_SYMBOL))
            if windows is None or BATCH_SYMBOL in windows.free_symbols():
                raise self.fail(f"{name} whose first size is {to_sympy(head.q)}, not the batch "
                                "size times a per-sample size: it changes the batch axis, "
                                "which convsym shapes do not have", "batch_size")
        else:
            total = QPoly.const(1)
            for v in self.shapes[x._cs_index]:
                if not isinstance(v, QPoly):
                    raise self.fail(f"{name}(-1, ...) of a tensor with a Min/Max size "
                                    f"({to_sympy(v)})", "size_not_concrete")
                total = total * v
            windows = exact_quotient(total, known) if as_int(known) != 0 else None
            if windows is None:
                windows = QPoly.const(1)
        op = "view" if name.startswith("view") else "reshape"
        if as_int(windows) == 1:
            return self.add(Reshape(tuple(target)), op, [x], folded=False)
        if as_int(windows) is not None and as_int(windows) < 1:  # type: ignore[operator]
            raise self.fail(f"{name} to {as_int(windows)} windows per sample", "batch_size")
        return self.add(Reshape((to_sympy(windows), *target)), op, [x], folded=True)
