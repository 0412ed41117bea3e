"""Windows folded into the batch axis (Swin's ``(B*nW, N, C)``): per sample such a tensor is
exactly ``(nW, N, C)``, so the tracer marks it folded and follows it through the ops of
:data:`FOLD_OK` only, mapping torch's dims one further, until a ``view(B, ...)`` unfolds it.
Any per-sample axis merged with the batch is such a fold: ``x.flatten(0, 1)`` of tokens
(LeViT, normalised there by a BatchNorm1d), ``x.reshape(B * heads, N, d)``, and the batch
of attention's moved ``qkv`` merged with its heads (SAM's ``reshape(3, B * heads, N, -1)``).

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
>>> class Tokens(torch.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.bn = torch.nn.BatchNorm1d(8)
...     def forward(self, x):
...         t = x.flatten(2).transpose(1, 2)
...         return self.bn(t.flatten(0, 1)).reshape_as(t)
>>> [(r.name, r.output_shape) for r in from_torch(Tokens(), (8, "H", "W")).rows][2:5]
[('flatten_1', (H*W, 8)), ('transpose_1', (8, H*W)), ('bn', (8, H*W))]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convsym.importers.torch_sizes import BATCH_SYMBOL, SymInt
from convsym.importers.torch_views import MOVED
from convsym.intdiv import QPoly, as_int, exact_quotient, to_sympy
from convsym.layers.torch import Flatten
from convsym.layers.torch_tensor import Permute, Reshape


def _poly(v: Any) -> QPoly | None:
    """A size argument or ``x.shape`` entry as a canonical size (None for anything else)."""
    if isinstance(v, SymInt):
        return v.q
    return QPoly.const(v) if type(v) is int else None


def _product(values: list[QPoly | None]) -> QPoly | None:
    """The product of canonical sizes (None when one is not a size)."""
    out = QPoly.const(1)
    for v in values:
        if v is None:
            return None
        out = out * v
    return out


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
                            "layer norms over the last axes, a BatchNorm1d on (B*F, C), "
                            "dropout and activations on such a tensor", "batch_size")

    def folded_batch_norm(self: Trace, module: Any, qual: str, kind: str, x: Any) -> Any:
        """``nn.BatchNorm1d`` on a folded ``(B*F, C)`` (LeViT's ``bn(x.flatten(0, 1))``):
        per channel of torch's dim 1, over the batch and ``F`` together, exactly as on the
        ``(B, C, F)`` tensor that holds the same elements.  So the row is the module's on the
        per-sample ``(C, F)``, between two transposes; the module's output is the folded
        ``(F, C)`` again.  A folded tensor of another rank is refused (its channel axis would
        not be the one a per-sample BatchNorm reads)."""
        if self.rank(x) != 2:
            raise self.fail(f"module {qual!r} ({kind}) on a rank-{self.rank(x)} tensor whose "
                            "batch axis holds windows folded in; convsym follows a "
                            "BatchNorm1d on a folded (B*F, C) tensor only", "batch_size")
        channels_first = self.add(Permute((0, 2, 1)), "transpose", [x], folded=False)
        out = self.leaf_row(module, qual, kind, channels_first)
        return self.add(Permute((0, 2, 1)), "transpose", [out], folded=True)

    def moved_reshape(self: Trace, x: Any, sizes: list[Any], name: str) -> Any:
        """``x.reshape(...)`` of a tensor whose batch axis a permute moved to position ``p``
        (SAM's ``qkv.reshape(B, N, 3, h, d).permute(2, 0, 3, 1, 4).reshape(3, B * h, N, -1)``):
        followed when the ``p`` axes before the batch keep their sizes and the batch is
        merged with (a leading part of) what follows it, ``B*G``.  For each index of the
        axes before it, torch then reshapes the block ``(B, rest)`` into ``(B*G, rest')``:
        per sample, ``rest`` into ``(G, rest')``.  So the rows are the parent's per-sample
        axes in the moved order (a ``Permute``), that per-sample ``Reshape`` and a ``Permute``
        bringing ``G`` first (a fold of ``G``, when ``G`` is not 1); the result is that node
        with the batch moved to ``p`` again, for ``unbind(0)`` / ``x[i]`` to select on."""
        parent, dims = x._cs_moved
        p = dims.index(0)
        if name.startswith("view"):  # (whether its strides allow a view is not tracked)
            raise self.fail(f"{name} of a tensor whose batch axis a permute moved: PyTorch "
                            "views such a tensor only where its strides allow, which convsym "
                            "does not track; it follows x.reshape(...)", "batch_size")
        have = list(self.size_of(x))
        if len(sizes) <= p or any(_poly(a) is None or _poly(a) != _poly(b)
                                  for a, b in zip(sizes[:p], have)):
            raise self.fail(f"{name} of a tensor whose batch axis a permute moved to dim {p}, "
                            "other than one keeping the sizes before the batch and merging "
                            "the batch with the axes after it (x.reshape(3, B * h, N, -1))",
                            "batch_size")
        head, rest = sizes[p], list(sizes[p + 1:])
        # per sample, the block after the axes before the batch: the parent's windows (of
        # a folded parent: torch's B*F there) and the axes after the batch
        trailing = _product([exact_quotient(have[p].q, QPoly.sym(BATCH_SYMBOL)),
                             *map(_poly, have[p + 1:])])
        known = _product(list(map(_poly, rest)))
        inferred = any(type(v) is int and v == -1 for v in rest)
        if type(head) is int and head == -1 and not inferred and trailing is not None and \
                known is not None and as_int(known) != 0:
            group = exact_quotient(trailing, known)
        elif isinstance(head, SymInt):
            group = exact_quotient(head.q, QPoly.sym(BATCH_SYMBOL))
        else:
            group = None
        if group is None or BATCH_SYMBOL in group.free_symbols() or (
                as_int(group) is not None and as_int(group) < 1):  # type: ignore[operator]
            shown = to_sympy(head.q) if isinstance(head, SymInt) else head
            raise self.fail(f"{name} whose size at the moved batch axis (dim {p}) is {shown}, "
                            "not the batch size times a per-sample size", "batch_size")
        shift = 1 if parent in self.folded else 0  # (the layer's dim of torch's dim d >= 1)
        moved = [d + shift for d in dims[:p]] + [1] * shift + [d + shift for d in dims[p + 1:]]
        ordered = self.tensor(parent)
        if moved != list(range(1, len(moved) + 1)):  # (per sample; its torch dim 0 is B)
            ordered = self.add(Permute((0, *moved)), "permute", [ordered], folded=False)
        keep = [self.size_value(v) for v in sizes[:p]]
        target = [self.size_value(v) for v in rest]
        if as_int(group) == 1:
            node = self.add(Reshape((*keep, *target)), "reshape", [ordered], folded=False)
        else:
            grouped = self.add(Reshape((*keep, to_sympy(group), *target)), "reshape",
                               [ordered], folded=False)
            first = (0, p + 1, *range(1, p + 1), *range(p + 2, len(sizes) + 1))
            node = self.add(Permute(first), "permute", [grouped], folded=True)
        out = self.tensor(node._cs_index)
        out._cs_index = MOVED
        out._cs_moved = (node._cs_index, (*range(1, p + 1), 0, *range(p + 1, len(sizes))))
        return out

    def fold_flatten(self: Trace, x: Any, end: int, name: str) -> Any:
        """``x.flatten(0, end)``: the batch merged with the per-sample axes up to torch's
        ``end`` (LeViT's ``x.flatten(0, 1)`` of ``(B, N, C)``, Hiera's unrolling), which is
        ``(B*F, ...)`` folded, ``F`` the product of the merged per-sample axes (of a folded
        ``x``, its windows times them).  Merging every axis would leave no per-sample axis
        besides the fold, and is refused."""
        rank = self.rank(x)
        if end >= rank - 1:
            raise self.fail(f"{name}(0, {end}) of a rank-{rank} tensor: every axis merged "
                            "with the batch axis; convsym follows a flatten that keeps an "
                            "axis after the batch (x.flatten(0, k), k < rank - 1)",
                            "batch_size")
        shift = 1 if x._cs_folded else 0  # (a folded x's torch dim d >= 1: the layer's d + 1)
        return self.add(Flatten(1, end + shift), "flatten", [x], folded=True)

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
