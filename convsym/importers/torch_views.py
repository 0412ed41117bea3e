"""The tracer's handlers of ops that rearrange a tensor without indexing it: views and
reshapes, flatten, permute and transpose, expand and repeat, (un)squeeze, cat and stack,
padding, interpolation, new tensors of traced sizes and reductions.

Each ``op_<name>`` is found by :meth:`~convsym.importers.torch_trace.Trace.function` and adds a
row (:mod:`convsym.layers.torch_tensor`); a permute that moves the batch axis has no row until
the batch is put back (:data:`MOVED`).

>>> import pytest
>>> torch = pytest.importorskip("torch")
>>> from convsym.importers.torch_module import from_torch
>>> class Tokens(torch.nn.Module):
...     def forward(self, x):
...         return x.flatten(2).transpose(1, 2)
>>> [(r.name, r.output_shape) for r in from_torch(Tokens(), (8, "H", "W")).rows]
[('flatten', (8, H*W)), ('transpose', (H*W, 8))]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from convsym.importers.torch_args import _build, is_plain
from convsym.importers.torch_fixed import FixedTensor
from convsym.importers.torch_ops import merge_layer
from convsym.importers.torch_sizes import BATCH_SYMBOL, SymInt
from convsym.intdiv import QPoly, as_int, to_sympy
from convsym.layers import torch as T
from convsym.layers.torch import Flatten, Unflatten, Upsample
from convsym.layers.torch_tensor import (
    BatchExpanded,
    Expand,
    PadAxes,
    Permute,
    Reduce,
    Repeat,
    Reshape,
    Select,
    Stack,
    Unsqueeze,
)

if TYPE_CHECKING:
    from convsym.importers.torch_trace import Trace


MOVED = -(10**9)
"""The node index of a tensor whose batch axis a permute moved: it has no row (any use that
reads its node fails loudly; those that may meet it check ``_cs_moved``)."""


FOLLOW_MOVED = frozenset({"permute", "transpose", "swapaxes", "swapdims", "__getitem__",
                          "unbind", "select", "size", "dim", "view", "reshape"})
"""What a tensor whose batch axis a permute moved may go into."""


class _ValuesIndices(NamedTuple):
    """``x.max(dim)``: values and indices, of one shape."""

    values: Any
    indices: Any


class ViewOps:
    """The handlers of reshaping ops (mixed into :class:`~convsym.importers.torch_trace.Trace`)."""

    def op_flatten(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        rank = self.rank(x)
        start = self._dim(args, kwargs, 1, 0, "start_dim")
        end = self._dim(args, kwargs, 2, -1, "end_dim")
        if start % rank == end % rank:
            return x
        if start % rank == 0:  # the batch merged with per-sample axes: a fold
            return self.fold_flatten(x, end % rank, name)
        if x._cs_folded:  # torch's dim d >= 1 is the layer's d + 1
            return self.add(Flatten(start % rank + 1, end % rank + 1), "flatten", [x])
        return self.add(Flatten(start, end), "flatten", [x])

    def op_unflatten(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        dim = self._dim(args, kwargs, 1, None)
        sizes = self._dim(args, kwargs, 2, None, "sizes")
        return self.add(Unflatten(dim, tuple(self.size_value(s) for s in sizes)), "unflatten",
                        [args[0]])

    def size_value(self: Trace, v: Any) -> Any:
        """A size argument for a layer field: an int or a SymPy expression (never the batch)."""
        if isinstance(v, SymInt):
            if BATCH_SYMBOL in v.q.free_symbols():
                raise self.fail(f"a size computed from the batch size ({to_sympy(v.q)}) "
                                "where convsym needs a per-sample size", "batch_size")
            return to_sympy(v.q)
        if isinstance(v, bool) or not isinstance(v, int):
            # why: PyTorch is optional (the frameworks extra) and heavy
            import torch

            if isinstance(v, torch.Tensor):
                raise self.fail("a size given as a tensor", "size_not_concrete")
            return v
        return v

    def op_view(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        sizes = list(args[1:]) or list(kwargs.get("shape", kwargs.get("size", ())))
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = list(sizes[0])
        if len(sizes) == 1 and self.is_tensor(sizes[0]):  # view_as / reshape_as
            sizes = list(sizes[0].shape)
        if not sizes:
            raise self.fail(f"{name} without sizes")
        if x._cs_moved is not None:  # (B*h merged after a permute moved the batch: SAM's)
            return self.moved_reshape(x, sizes, name)
        head, rest = sizes[0], sizes[1:]
        batch_kept = isinstance(head, SymInt) and head.q == QPoly.sym(BATCH_SYMBOL)
        minus = type(head) is int and head == -1 and -1 not in rest
        if not batch_kept and not minus and not (
                isinstance(head, SymInt) and BATCH_SYMBOL in head.q.free_symbols()):
            raise self.fail(f"{name} whose first size is {head!r}, not the batch size "
                            "(x.size(0)) or -1: it changes the batch axis, which convsym "
                            "shapes do not have", "batch_size")
        if not rest:
            raise self.fail(f"{name} to one axis: it would flatten the batch axis")
        if not batch_kept:
            return self.fold(x, head, rest, name)
        target = tuple(self.size_value(s) for s in rest)
        return self.add(Reshape(target), "view" if name.startswith("view") else "reshape",
                        [x], folded=False)

    op_reshape = op_view_as = op_reshape_as = op_view

    def op_permute(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        dims = list(args[1:]) or list(kwargs.get("dims", ()))
        if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
            dims = list(dims[0])
        rank = self.rank(x)
        if not all(type(d) is int for d in dims):
            raise self.fail(f"{name} with non-integer dims")
        return self.permuted(x, [d % rank for d in dims], "permute")

    def op_transpose(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        rank = self.rank(x)
        a = self._dim(args, kwargs, 1, None, "dim0")
        b = self._dim(args, kwargs, 2, None, "dim1")
        if not isinstance(a, int) or not isinstance(b, int):
            raise self.fail(f"{name} with non-integer dims")
        dims = list(range(rank))
        dims[a % rank], dims[b % rank] = dims[b % rank], dims[a % rank]
        return self.permuted(x, dims, "transpose")

    op_swapaxes = op_swapdims = op_transpose

    def permuted(self: Trace, x: Any, dims: list[int], op: str) -> Any:
        """``x.permute(dims)``.  A permute that moves the batch axis (attention's
        ``qkv.reshape(B, N, 3, h, d).permute(2, 0, 3, 1, 4)``) has no convsym row: it is kept
        as the parent and the order, until ``unbind(0)`` / ``x[i]`` select on the new leading
        axis (:meth:`moved_select`), which puts the batch first again."""
        if x._cs_moved is not None:  # a permute of a permute: one order over the parent
            parent, before = x._cs_moved
            x, dims = self.tensor(parent), [before[d] for d in dims]
        if len(dims) != self.rank(x) or sorted(dims) != list(range(self.rank(x))):
            raise self.fail(f"{op} with dims {tuple(dims)}: not a permutation of the "
                            f"{self.rank(x)} dims", "bad_axis")
        if dims == list(range(len(dims))):
            return x
        if dims[0] == 0 and x._cs_folded:  # torch's dim d >= 1 is the layer's d + 1
            return self.add(Permute((0, 1, *(d + 1 for d in dims[1:]))), op, [x])
        if dims[0] == 0:
            return self.add(Permute(tuple(dims)), op, [x])
        moved = self.tensor(x._cs_index)
        moved._cs_index = MOVED
        moved._cs_moved = (x._cs_index, tuple(dims))
        return moved

    def op_expand(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        sizes = list(args[1:]) or list(kwargs.get("size", ()))
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = list(sizes[0])
        if len(sizes) == 1 and self.is_tensor(sizes[0]):  # expand_as
            sizes = list(sizes[0].shape)
        if not self.is_tensor(x):
            return self.expanded(x, sizes, name)
        if len(sizes) != self.rank(x):
            raise self.fail(f"{name} to {len(sizes)} axes of a rank-{self.rank(x)} tensor "
                            "(new leading axes would come before the batch)")
        head = sizes[0]
        if not (type(head) is int and head == -1) and not (
                isinstance(head, SymInt) and head.q == QPoly.sym(BATCH_SYMBOL)):
            raise self.fail(f"{name} whose first size is not -1 or the batch size",
                            "batch_size")
        target = tuple(self.size_value(s) for s in sizes[1:])
        return self.add(Expand(target), "expand", [x])

    op_expand_as = op_expand

    def expanded(self: Trace, value: Any, sizes: list[Any], name: str) -> Any:
        """A parameter or buffer expanded over the batch (``cls_token.expand(b, -1, -1)``):
        a :class:`BatchExpanded` row on the network's input, which gives the batch size.
        Its batch axis must be 1 and grow to the batch; another axis keeps its size (``-1``
        or the same) or, when it is 1, grows to the size given."""
        self.batch_one(value, sizes, name)
        shape: list[Any] = []
        for i, (s, n) in enumerate(zip(sizes[1:], value.shape[1:]), 1):
            if type(s) is int and s in (-1, int(n)):
                shape.append(int(n))
            elif int(n) == 1 and (isinstance(s, SymInt) or (type(s) is int and s >= 0)):
                shape.append(self.size_value(s))
            else:
                raise self.fail(f"{name} of a fixed tensor of shape {tuple(value.shape)}: "
                                f"axis {i} of size {int(n)} cannot become "
                                f"{to_sympy(s.q) if isinstance(s, SymInt) else s}", "bad_expand")
        return self.fixed_row(value, shape, "expand")

    def batch_one(self: Trace, value: Any, sizes: list[Any], name: str) -> None:
        """Refuse unless ``value`` is a fixed tensor of batch size 1 and ``sizes`` (one per
        axis) take its batch axis to the batch size."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        head = sizes[0] if sizes else None
        batch = isinstance(head, SymInt) and head.q == QPoly.sym(BATCH_SYMBOL)
        if not (batch and isinstance(value, torch.Tensor) and value.dim() == len(sizes)
                and int(value.shape[0]) == 1):
            raise self.fail(f"{name} of a fixed tensor of shape {tuple(value.shape)} to "
                            f"{sizes}; convsym follows a fixed tensor of batch size 1 "
                            "expanded over the batch axis", "batch_size")

    def fixed_row(self: Trace, value: Any, shape: list[Any], op: str) -> Any:
        """A :class:`BatchExpanded` row of ``shape`` for the fixed tensor ``value``, on the
        network's input, counting the parameters it is made of."""
        layer, row = self.holding(value, lambda params: BatchExpanded(tuple(shape), params),
                                  op)
        return self.add(layer, op, [self.tensor(self.inputs[0])], name=row)

    def op_repeat(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``x.repeat(1, 2, 1)``: each axis times its count, the batch's 1; a fixed tensor of
        batch size 1 repeated over the batch (``cls_token.repeat(b, 1, 1)``) is expanded."""
        x = args[0]
        reps = list(args[1:]) or list(kwargs.get("repeats", ()))
        if len(reps) == 1 and isinstance(reps[0], (list, tuple)):
            reps = list(reps[0])
        if not self.is_tensor(x):
            self.batch_one(x, reps, name)
            return self.fixed_row(x, [int(n) * self.size_value(r) for n, r in
                                      zip(x.shape[1:], reps[1:])], "repeat")
        if len(reps) != self.rank(x) or not is_plain(reps[0], 1):
            raise self.fail(f"{name} with counts {reps} of a rank-{self.rank(x)} tensor: one "
                            "count per axis, the batch's 1 (new leading axes or a repeated "
                            "batch would change the batch axis)", "batch_size")
        return self.add(Repeat(tuple(self.size_value(r) for r in reps[1:])), "repeat", [x])

    def op_unsqueeze(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        dim = self._dim(args, kwargs, 1, None)
        rank = self.rank(args[0])
        if args[0]._cs_folded:
            if dim % (rank + 1) == 0:
                raise self.fail(f"{name}(0) of a tensor whose batch axis holds windows folded "
                                "in", "batch_size")
            return self.add(Unsqueeze(dim % (rank + 1) + 1), "unsqueeze", [args[0]])
        return self.add(Unsqueeze(dim % (rank + 1)), "unsqueeze", [args[0]])

    def op_squeeze(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        dims = self._dim(args, kwargs, 1, None)
        if dims is None:
            raise self.fail("squeeze() without dims (it would also drop a batch of size 1)")
        rank = self.rank(x)
        out = x
        for d in sorted((d % rank for d in (dims if isinstance(dims, (list, tuple)) else
                                            [dims])), reverse=True):
            if d == 0:
                raise self.fail("squeezing the batch axis", "batch_size")
            size = self.shapes[out._cs_index][d - 1]
            if as_int(size) == 1:
                out = self.add(Select(d, 0), "squeeze", [out])
            elif as_int(size) is None:
                raise self.fail(f"squeeze of dim {d}, whose size {to_sympy(size)} may or may "
                                "not be 1", "branches_on_size")
        return out

    def op_cat(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        items = list(args[0] if args else kwargs.get("tensors", ()))
        dim = self._dim(args, kwargs, 1, kwargs.get("axis", 0))  # (concatenate's name)
        if not all(self.is_tensor(t) for t in items):
            raise self.fail(f"{name} of traced tensors with other tensors")
        if isinstance(dim, int) and dim < 0:
            dim += self.rank(items[0])
        if dim == 0:
            raise self.fail(f"{name} along the batch axis (dim 0)")
        if len(items) == 1:
            return items[0]
        return self.add(merge_layer("concatenate", dim=dim), "cat", items)

    op_concat = op_concatenate = op_cat

    def op_stack(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        items = list(args[0] if args else kwargs.get("tensors", ()))
        if not all(self.is_tensor(t) for t in items):
            raise self.fail(f"{name} of traced tensors with other tensors")
        return self.add(Stack(self._dim(args, kwargs, 1, 0)), "stack", items)

    def _dim(self: Trace, args: list[Any], kwargs: dict[str, Any], pos: int, default: Any,
             key: str = "dim") -> Any:
        if key in kwargs:
            return kwargs[key]
        return args[pos] if len(args) > pos else default

    def rank(self: Trace, t: Any) -> int:
        if t._cs_moved is not None:
            return len(t._cs_moved[1])
        return len(self.shapes[t._cs_index]) + (0 if t._cs_folded else 1)

    def axis_size(self: Trace, index: int, dim: int) -> Any:
        """The size of torch's ``dim`` (>= 1) of node ``index``'s tensor."""
        return self.shapes[index][dim - (0 if index in self.folded else 1)]

    def op_pad(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        pad = self._dim(args, kwargs, 1, None, "pad")
        mode = self._dim(args, kwargs, 2, "constant", "mode")
        value = self._dim(args, kwargs, 3, None, "value")
        spatial = self.rank(x) - 2
        if mode == "constant" and isinstance(pad, (list, tuple)) and len(pad) > 2 * spatial:
            # more axes than a ZeroPad*d pads (a channels-last tensor's three): PadAxes
            padding = tuple(self.size_value(p) for p in pad)
            return self.add(PadAxes(padding, value or 0.0), "pad", [x])
        stem = {"constant": "ConstantPad" if value else "ZeroPad", "reflect": "ReflectionPad",
                "replicate": "ReplicationPad", "circular": "CircularPad"}.get(mode)
        cls: Any = T.LAYERS.get(f"{stem}{spatial}d")
        if cls is None:
            raise self.fail(f"F.pad with mode={mode!r} on a rank-{spatial + 2} tensor")
        if mode != "constant" and len(pad) != 2 * spatial:
            raise self.fail(f"F.pad with mode={mode!r} takes {2 * spatial} sizes for a "
                            f"rank-{spatial + 2} input (PyTorch's rule), not {len(pad)}")
        padding = tuple(self.size_value(p) for p in pad)
        layer = _build(lambda: cls(padding, value) if stem == "ConstantPad" else cls(padding))
        return self.add(layer, "pad", [x])

    def op_interpolate(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor",
                 "antialias")
        given = dict(zip(names, args[1:]))
        given.update(kwargs)
        size = given.get("size")
        if size is not None:
            size = tuple(self.size_value(s) for s in size) if isinstance(size, (list, tuple)) \
                else self.size_value(size)
        scale_factor = given.get("scale_factor")
        if isinstance(scale_factor, list):
            scale_factor = tuple(scale_factor)
        layer = _build(lambda: Upsample(size=size, scale_factor=scale_factor,
                                        mode=given.get("mode", "nearest"),
                                        align_corners=given.get("align_corners")))
        return self.add(layer, "interpolate", [args[0]])

    op_upsample = op_interpolate

    def op_new_zeros(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``x.new_zeros(sizes)`` (``new_ones``, ``new_empty``): a tensor that takes only
        its dtype from ``x`` and has no batch axis (Swin's attention mask, filled in by slice
        assignment).  With concrete sizes it is a real tensor (its own operations run in
        PyTorch, and it meets the traced tensors as a fixed operand); with symbolic sizes a
        :class:`FixedTensor`, which keeps only its shape."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        sizes = list(args[1:]) or list(kwargs.get("size", ()))
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = list(sizes[0])
        if not all(type(v) is int for v in sizes):
            if not all(type(v) is int or isinstance(v, SymInt) for v in sizes) or any(
                    isinstance(v, SymInt) and BATCH_SYMBOL in v.q.free_symbols()
                    for v in sizes):
                raise self.fail(f"{name} with sizes {sizes!r:.80}", "size_not_concrete")
            return FixedTensor(tuple(v.q if isinstance(v, SymInt) else QPoly.const(v)
                                     for v in sizes), self)
        make = {"new_zeros": torch.zeros, "new_ones": torch.ones}.get(name, torch.zeros)
        dtype = kwargs.get("dtype") or torch.get_default_dtype()
        return make(tuple(sizes), dtype=dtype)

    op_new_ones = op_new_empty = op_new_zeros

    def op_repeat_interleave(self: Trace, name: str, args: list[Any],
                             kwargs: dict[str, Any]) -> Any:
        """``q.repeat_interleave(G, dim=0)`` of a ``(B, ...)`` tensor, G a per-sample size:
        each sample repeated G times in a row, which is ``(B*G, ...)`` folded (per sample
        ``(G, ...)``, G copies): timm's GCViT gives each window its image's global query.
        Other repeats are refused."""
        x = args[0]
        repeats = self._dim(args, kwargs, 1, None, "repeats")
        dim = self._dim(args, kwargs, 2, None)
        if not self.is_tensor(x) or x._cs_folded or type(dim) is not int or \
                dim % self.rank(x) != 0 or not (type(repeats) is int or isinstance(
                    repeats, SymInt)):
            raise self.fail(f"{name} other than of a traced tensor over its batch axis "
                            "(dim=0) by a size", "unsupported_operation")
        count = self.size_value(repeats)  # (never the batch size)
        ones = self.add(Unsqueeze(1), "repeat_interleave", [x], folded=False)
        rest = [-1] * len(self.shapes[x._cs_index])
        return self.add(Expand((count, *rest)), "repeat_interleave", [ones], folded=True)

    def reduce(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        dim = self._dim(args, kwargs, 1, None)
        keep = bool(self._dim(args, kwargs, 2, False, "keepdim"))
        if self.is_tensor(dim) or (dim is not None and not isinstance(dim, (int, list, tuple))):
            raise self.fail(f"{name} of two tensors (element-wise {name}imum)")
        if dim is None:
            raise self.fail(f"{name} over every axis, the batch included", "batch_size")
        dims = tuple(dim) if isinstance(dim, (list, tuple)) else (dim,)
        out = self.add(Reduce(name, dims, keep), name, [x])
        if name in ("max", "min") and not isinstance(dim, (list, tuple)):
            return _ValuesIndices(out, out)
        return out

    op_mean = op_sum = op_amax = op_amin = op_max = op_min = op_prod = op_std = op_var = reduce

    op_logsumexp = op_norm = op_any = op_all = op_argmax = op_argmin = reduce
