"""The tracer's handlers of ops that pick parts of a tensor: ``x[...]``, gather by an index
tensor, ``select``, ``narrow``, ``split``, ``chunk`` and ``unbind``.

>>> import pytest
>>> torch = pytest.importorskip("torch")
>>> from convsym.importers.torch_module import from_torch
>>> class Half(torch.nn.Module):
...     def forward(self, x):
...         a, b = x[:, :, 1:].chunk(2, dim=1)
...         return a
>>> [(r.name, r.output_shape) for r in from_torch(Half(), (8, "H", "W")).rows]
[('getitem', (8, H - 1, W)), ('chunk', (4, H - 1, W)), ('chunk_1', (4, H - 1, W))]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convsym.importers.torch_args import is_plain
from convsym.intdiv import as_int, to_sympy
from convsym.layers.torch_tensor import (
    Gather,
    Narrow,
    Select,
    Slice,
    Unsqueeze,
)

if TYPE_CHECKING:
    from convsym.importers.torch_trace import Trace


class IndexOps:
    """The handlers of indexing ops (mixed into :class:`~convsym.importers.torch_trace.Trace`)."""

    def op_getitem(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x, key = args[0], args[1]
        items = list(key) if isinstance(key, tuple) else [key]
        if x._cs_moved is not None:
            if not items or type(items[0]) is not int:
                raise self.fail("indexing a tensor whose batch axis a permute moved, other "
                                "than x[i] on its leading axis", "batch_size")
            out = self.moved_select(x, items[0], "getitem")
            return self.op_getitem(name, [out, tuple(items[1:])], {}) if items[1:] else out
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        rank = self.rank(x)
        if any(isinstance(k, (list, torch.Tensor)) for k in items):
            return self.gather(x, items)
        used = sum(1 for k in items if k is not None and k is not Ellipsis)
        if Ellipsis in items:
            at = items.index(Ellipsis)
            items[at:at + 1] = [slice(None)] * (rank - used)
        dim = 0  # torch's, in the result so far; the layer's is dim + shift
        shift = 1 if x._cs_folded else 0  # (a folded tensor's dim 0 is B*F)
        out = x
        for k in items:
            if k is None:
                if shift and dim == 0:
                    raise self.fail("x[None] before a batch axis that holds windows folded "
                                    "in", "batch_size")
                out = self.add(Unsqueeze(dim + shift), "getitem", [out])
                dim += 1
            elif isinstance(k, slice):
                if not (is_plain(k.start, None, 0) and k.stop is None and
                        is_plain(k.step, None, 1)):
                    if dim == 0:
                        raise self.fail("slicing the batch axis (x[a:b])", "batch_size")
                    layer = Slice(dim + shift, self.size_value(k.start),
                                  self.size_value(k.stop),
                                  1 if k.step is None else self.size_value(k.step))
                    out = self.add(layer, "getitem", [out])
                dim += 1
            elif type(k) is int:
                if dim == 0:
                    raise self.fail("indexing the batch axis (x[i]) selects one sample",
                                    "batch_size")
                out = self.add(Select(dim + shift, k), "getitem", [out])
            else:
                raise self.fail(f"indexing with {type(k).__name__} (only ints, slices, None "
                                "and ... are followed)")
        return out

    def gather(self: Trace, x: Any, items: list[Any]) -> Any:
        """``x[:, :, idx]``: one list or 1-D integer tensor of fixed indices among full
        slices (and ``...``): a :class:`Gather` row; anything more (two index lists, an int
        or ``None`` beside one, which move axes by NumPy's rules) is refused."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        lists = [i for i, k in enumerate(items) if isinstance(k, (list, torch.Tensor))]
        index = items[lists[0]]
        values = index.tolist() if isinstance(index, torch.Tensor) and not self.is_tensor(
            index) and index.dim() == 1 and not index.dtype.is_floating_point and \
            index.dtype != torch.bool else index
        full = all(k is Ellipsis or (isinstance(k, slice) and k == slice(None))
                   for i, k in enumerate(items) if i != lists[0])
        if len(lists) != 1 or not full or not isinstance(values, list) or not values or \
                not all(type(v) is int for v in values):
            raise self.fail("indexing with a list or tensor of indices other than one 1-D "
                            "list of fixed integers among full slices (x[:, :, idx])")
        at = lists[0]
        if Ellipsis in items and items.index(Ellipsis) < at:
            at = self.rank(x) - (len(items) - at)
        if at == 0:
            raise self.fail("indexing the batch axis with a list (x[idx])", "batch_size")
        at += 1 if x._cs_folded else 0  # (a folded tensor's torch dim d >= 1: the layer's d + 1)
        return self.add(Gather(at, len(values), min(values), max(values)), "getitem", [x])

    def moved_select(self: Trace, x: Any, index: int, op: str) -> Any:
        """``x[index]`` on the leading axis of a tensor whose batch a permute moved: the
        parent's axis that became the leading one is selected, then the others permuted."""
        parent, dims = x._cs_moved
        axis = dims[0]
        size = self.axis_size(parent, axis)
        n = as_int(size)
        if n is None or not -n <= index < n:
            raise self.fail(f"{op} {index} of an axis of size {to_sympy(size)}", "bad_index")
        shift = 1 if parent in self.folded else 0
        out = self.add(Select(axis + shift, index % n), op, [self.tensor(parent)])
        return self.permuted(out, [d - (d > axis) for d in dims[1:]], "permute")

    def op_select(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        if x._cs_moved is not None:
            if type(args[1]) is not int or args[1] % self.rank(x) or type(args[2]) is not int:
                raise self.fail(f"{name} on dim {args[1]!r} of a tensor whose batch axis a "
                                "permute moved (only its leading dim is followed)",
                                "batch_size")
            return self.moved_select(x, args[2], "select")
        dim = args[1]
        if x._cs_folded:
            if type(dim) is not int or dim % self.rank(x) == 0:
                raise self.fail(f"{name} on dim {dim!r} of a tensor whose batch axis holds "
                                "windows folded in", "batch_size")
            dim = dim % self.rank(x) + 1
        return self.add(Select(dim, args[2]), "select", [x])

    def op_narrow(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x, dim, start, length = args[:4]
        return self.add(Narrow(dim, self.size_value(start), self.size_value(length)), "narrow",
                        [x])

    def op_split(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        how = self._dim(args, kwargs, 1, None, "split_size_or_sections")
        if how is None:
            how = kwargs.get("split_size")
        dim = self._dim(args, kwargs, 2, 0)
        n = self.concrete_axis(x, dim, name)
        if isinstance(how, int):
            bounds = [(i, min(i + how, n)) for i in range(0, n, how)]
        else:
            sizes = [int(s) for s in how]
            if sum(sizes) != n:
                raise self.fail(f"{name} into sizes {sizes}, which add up to {sum(sizes)}, "
                                f"not the axis size {n}")
            starts = [sum(sizes[:i]) for i in range(len(sizes))]
            bounds = [(s, s + size) for s, size in zip(starts, sizes)]
        return self.pieces(x, dim, bounds, "split")

    def op_chunk(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        chunks = self._dim(args, kwargs, 1, None, "chunks")
        dim = self._dim(args, kwargs, 2, 0)
        n = self.concrete_axis(x, dim, name)
        size = -(-n // chunks)
        bounds = [(i, min(i + size, n)) for i in range(0, n, size)]
        return self.pieces(x, dim, bounds, "chunk")

    def op_unbind(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        dim = self._dim(args, kwargs, 1, 0)
        if x._cs_moved is not None:
            if not isinstance(dim, int) or dim % self.rank(x):
                raise self.fail(f"{name} on dim {dim!r} of a tensor whose batch axis a permute "
                                "moved (only its leading dim is followed)", "batch_size")
            parent, dims = x._cs_moved
            n = as_int(self.axis_size(parent, dims[0]))
            if n is None:
                raise self.fail(f"{name} of an axis of symbolic size", "size_not_concrete")
            return tuple(self.moved_select(x, i, "unbind") for i in range(n))
        n = self.concrete_axis(x, dim, name)
        layer_dim = dim % self.rank(x) + (1 if x._cs_folded else 0)  # (folded: after B*F)
        return tuple(self.add(Select(layer_dim, i), "unbind", [x]) for i in range(n))

    def concrete_axis(self: Trace, x: Any, dim: Any, name: str) -> int:
        rank = self.rank(x)
        if not isinstance(dim, int) or dim % rank == 0:
            raise self.fail(f"{name} along dim {dim!r} (the batch axis or not an integer)",
                            "batch_size")
        size = self.axis_size(x._cs_index, dim % rank)
        n = as_int(size)
        if n is None:
            raise self.fail(f"{name} of an axis of symbolic size {to_sympy(size)}: the number "
                            "of pieces depends on it", "size_not_concrete")
        return n

    def pieces(self: Trace, x: Any, dim: int, bounds: list[tuple[int, int]], op: str) -> Any:
        rank = self.rank(x)
        at = dim % rank + (1 if x._cs_folded else 0)  # (folded: the layer's dim after B*F)
        return tuple(self.add(Slice(at, a, b), op, [x]) for a, b in bounds)
