"""The tracer's handlers of element-wise arithmetic: broadcasting of two operands (a tensor of
the trace, a parameter, a fixed tensor or a number), in-place updates, ``addcmul``.

An operand that is a parameter of the model counts its elements where it is used (once).

>>> import pytest
>>> torch = pytest.importorskip("torch")
>>> from convsym.importers.torch_module import from_torch
>>> class Scale(torch.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.gamma = torch.nn.Parameter(torch.ones(8, 1, 1))
...     def forward(self, x):
...         return (x - x.mean((2, 3), keepdim=True)) * self.gamma
>>> net = from_torch(Scale(), (8, "H", "W"))
>>> [(r.name, r.output_shape) for r in net.rows], net.total_params
([('mean', (8, 1, 1)), ('sub', (8, H, W)), ('gamma', (8, H, W))], 8)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convsym.importers.common import applied
from convsym.importers.torch_args import is_plain, parameter_of
from convsym.importers.torch_fixed import FixedTensor
from convsym.importers.torch_ops import merge_layer
from convsym.importers.torch_sizes import BATCH_SYMBOL
from convsym.intdiv import as_int, to_sympy
from convsym.layers.base import Layer
from convsym.layers.torch_tensor import (
    InPlace,
    TensorOperand,
)

if TYPE_CHECKING:
    from convsym.importers.torch_trace import Trace


BROADCASTING = frozenset({
    "__gt__", "__lt__", "__ge__", "__le__", "__eq__", "__ne__", "gt", "lt", "ge", "le", "eq",
    "ne", "clamp", "clamp_", "clip", "clip_", "clamp_min", "clamp_max", "clamp_min_",
    "clamp_max_"})
"""Functions of :data:`PASS` whose other tensor arguments broadcast with the first: ``m > x``
has the shape of ``m + x`` (larger than ``m``'s when ``m`` is ``x.mean(1, keepdim=True)``),
``x.clamp_(min=floor)`` that of ``x.add_(floor)``."""


ARITHMETIC = {
    "add": "add", "add_": "add", "__add__": "add", "__radd__": "add", "__iadd__": "add",
    "sub": "subtract", "sub_": "subtract", "__sub__": "subtract", "__rsub__": "subtract",
    "__isub__": "subtract", "rsub": "subtract", "subtract": "subtract",
    "mul": "multiply", "mul_": "multiply", "__mul__": "multiply", "__rmul__": "multiply",
    "__imul__": "multiply", "multiply": "multiply",
    "div": "divide", "div_": "divide", "__truediv__": "divide", "__rtruediv__": "divide",
    "__itruediv__": "divide", "true_divide": "divide", "divide": "divide",
    "pow": "power", "__pow__": "power", "__rpow__": "power", "pow_": "power",
}
"""Element-wise arithmetic: two tensors merge; a tensor and a number keep the shape."""


IN_PLACE = frozenset(n for n in ARITHMETIC if n.startswith("__i") or (
    n.endswith("_") and not n.endswith("__")))
"""In-place arithmetic (``add_``, ``__iadd__``): the result keeps the first tensor's shape."""


IN_PLACE_OPS = frozenset({"addcmul_", "addcdiv_"})
"""In-place methods whose ``op_`` handler writes into the tensor itself (others are refused:
``x.unsqueeze_(1)`` would change the shape of every name for ``x``)."""


class ArithmeticOps:
    """The handlers of element-wise arithmetic (mixed into :class:`~convsym.importers.torch_trace.
    Trace`)."""

    def broadcasting(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``m > x``, ``x.clamp(min=floor)``: shaped as the sum of the tensors (in place:
        written into the first), a row named after the operation when they differ."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        tensors = [a for a in [*args, *kwargs.values()] if isinstance(a, torch.Tensor)]
        out, op = tensors[0], name.strip("_")
        for other in tensors[1:]:
            if name.endswith("_") and not name.endswith("__"):
                out = self.write_into(name, out, self.in_place(name, "add", [out, other], {},
                                                               op=op))
            else:
                out = self.arithmetic(name, "add", [out, other], {}, op=op)
        return out if self.is_tensor(out) else self.first_tensor(name, args, kwargs)

    def operand(self: Trace, value: Any) -> Any:
        """A real tensor met in arithmetic: a row when it is a parameter or broadcasts."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        if not isinstance(value, torch.Tensor) or self.is_tensor(value):
            return value
        if value.numel() == 1 and value.dim() <= 1 and all(
                id(p) in self.counted for p in self.operand_params(value)):
            return 1.0  # a scalar tensor of nothing left to count: keeps the shape
        return value

    def write_into(self: Trace, name: str, target: Any, out: Any) -> Any:
        """An in-place arithmetic's result: ``target`` itself (PyTorch returns the tensor it
        changed, and the forward may go on using it, not the result), now standing for the
        row ``out``, whose shape is ``target``'s (``x.add_(y); return x`` returns the sum).

        Another name for the same tensor object (``F.relu`` and other shape-keeping
        functions return their tensor as it is) follows it too: its shape is the same."""
        if not self.is_tensor(target):
            raise self.fail(f"in-place {name} on a tensor that is not traced (a parameter, "
                            "buffer or constant) with a traced operand")
        if out is target:
            return target
        if not self.is_tensor(out):
            raise self.fail(f"in-place {name} whose result is not one tensor")
        target._cs_index = out._cs_index
        target._cs_folded = out._cs_folded
        return target

    def arithmetic(self: Trace, name: str, kind: str, args: list[Any], kwargs: dict[str, Any], *,
                   op: str | None = None) -> Any:
        """``a + b`` and the like (``kind`` names the merge); ``op`` names the row (the
        merge's name by default)."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        op = op or (kind if kind != "subtract" else "sub")
        if name in IN_PLACE:
            return self.write_into(name, args[0], self.in_place(name, kind, args, kwargs,
                                                                op=op))
        operands = [self.operand(a) for a in [*args, kwargs.get("other")]
                    if a is not None]
        tensors = [a for a in operands if self.is_tensor(a)]
        real = [a for a in operands if isinstance(a, (torch.Tensor, FixedTensor)) and
                not self.is_tensor(a)]
        if len(tensors) == 2 and not real:
            if kind == "power":
                raise self.fail("a tensor raised to a tensor power")
            self.same_fold(tensors, name)
            return self.add(merge_layer(kind), op, tensors)
        if len(tensors) == 1 and not real:
            return tensors[0]
        if len(tensors) == 1 and len(real) == 1:
            return self.with_operand(kind, tensors[0], real[0], inplace=False, op=op)
        raise self.fail(f"{name} on {len(tensors)} traced tensors and {len(real)} other "
                        "tensors")

    def with_operand(self: Trace, kind: str, x: Any, value: Any, *, inplace: bool, op: str) -> Any:
        """``x`` combined with a tensor that is not traced: a row that counts the parameter
        it is (or views), when no row has yet."""
        shape = self.operand_shape(x, value, op)
        layer, row = self.holding(value, lambda params: TensorOperand(kind, shape, params,
                                                                      inplace), op)
        return self.add(layer, op, [x], name=row)

    def holding(self: Trace, value: Any, make: Any, op: str) -> tuple[Layer, str | None]:
        """The layer ``make(params)`` for a row ``op`` reading the fixed tensor ``value``,
        holding the parameters it is made of that no row has counted yet, and the row's name
        when it is not the current module's: the parameter's, when ``value`` is or views one
        read here first; where ``value`` was computed from parameters (timm's shared
        relative-position MLP, run by the model and read in its first block), ``op`` in the
        innermost module holding them all (:meth:`holder_row`), so that every module counts
        them as PyTorch does.  A :class:`FixedTensor` (made from sizes) holds none."""
        fixed = isinstance(value, FixedTensor)
        fresh = [] if fixed else [
            p for p in self.operand_params(value) if id(p) not in self.counted]
        self.counted.update(id(p) for p in fresh)
        params = sum(int(p.numel()) for p in fresh)
        frozen = sum(int(p.numel()) for p in fresh if id(p) in self.frozen)
        owner = None if fixed else parameter_of(value)  # gamma, or gamma.view(1, -1, 1, 1)
        row = self.param_names.get(id(owner)) if fresh and owner is not None else None
        layer: Layer = make(params if owner is not None else 0)
        if owner is None and params:  # computed from parameters: it holds them
            layer = applied(layer, counted=params, counted_frozen=frozen)
            row = self.holder_row([self.param_names.get(id(p), "") for p in fresh], op)
        elif frozen:
            layer = applied(layer, frozen=True)
        return layer, row

    def holder_row(self: Trace, names: list[str], op: str) -> str:
        """The name of a row ``op`` holding the parameters ``names`` (a tensor computed from
        them): ``op`` in the innermost module that holds them all (the model itself at
        worst), so that every module counts them as PyTorch does; refused when a module
        below that one, which ran on the input and so has rows of its own, holds only some
        of them (one row cannot be counted in part of a module).

        >>> class Trace:
        ...     fixed_calls = {"rel_pos", "rel_pos.fc1", "rel_pos.fc2"}
        >>> holder = ArithmeticOps.holder_row
        >>> holder(Trace(), ["rel_pos.fc1.weight", "rel_pos.fc2.bias"], "sdpa")
        'rel_pos.sdpa'
        >>> holder(Trace(), ["rel_pos.fc1.weight", "table"], "add")
        'add'
        """
        owners = {n.rsplit(".", 1)[0] if "." in n else "" for n in names}
        paths = [o.split(".") if o else [] for o in sorted(owners)]
        common = paths[0]
        for parts in paths[1:]:
            k = 0
            while k < min(len(common), len(parts)) and common[k] == parts[k]:
                k += 1
            common = common[:k]
        for parts in paths:  # the modules between the holder and each owner
            for end in range(len(common) + 1, len(parts) + 1):
                below = ".".join(parts[:end])
                if below not in self.fixed_calls:
                    shown = ", ".join(repr(o or "(root)") for o in sorted(owners))
                    raise self.fail(
                        f"{op} reads a tensor computed from parameters of {shown}, where "
                        f"{below!r} also runs on the input: convsym holds a computed "
                        "tensor's parameters in one row, which would count some of them "
                        "outside the module PyTorch counts them in", "parameter_owner")
        return ".".join([*common, op])

    def in_place(self: Trace, name: str, kind: str, args: list[Any], kwargs: dict[str, Any], *,
                 op: str) -> Any:
        """``a.add_(b)``, ``a += b``: ``b`` broadcast into ``a``, whose shape the result keeps
        (PyTorch raises when the broadcast would grow ``a``: refused, or a side condition
        when that depends on the sizes)."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        target = args[0]
        other = self.operand(args[1] if len(args) > 1 else kwargs.get("other"))
        if not self.is_tensor(target):
            return target  # (write_into refuses it)
        if self.is_tensor(other):
            if kind == "power":
                raise self.fail("a tensor raised to a tensor power")
            self.same_fold([target, other], name)
            if self.shapes[target._cs_index] == self.shapes[other._cs_index]:
                # one shape (ResNet's out += identity): the plain merge, nothing to check
                return self.add(merge_layer(kind), op, [target, other])
            return self.add(InPlace(kind), op, [target, other])
        if isinstance(other, (torch.Tensor, FixedTensor)):
            return self.with_operand(kind, target, other, inplace=True, op=op)
        if not isinstance(other, (int, float, bool)):
            raise self.fail(f"in-place {name} with {type(other).__name__}")
        return target  # a number: the shape is kept

    # tensor methods and functions by name (``op_<name>``) -----------------------------------
    def op_addcmul(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``input + value * tensor1 * tensor2`` (``addcdiv``: ``/``), as the two steps it is
        (ConvNeXt-V2's global response norm: ``addcmul(bias, weight, x * n)``); in place
        (``addcmul_``), the product is added into ``input`` as ``input.add_(...)`` is."""
        names = ("input", "tensor1", "tensor2")
        given = dict(zip(names, args))
        given.update({k: v for k, v in kwargs.items() if k in names})
        if len(given) != 3:
            raise self.fail(f"{name} without input, tensor1 and tensor2")
        kind = "divide" if name.strip("_").endswith("div") else "multiply"
        inner = self.arithmetic(name, kind, [given["tensor1"], given["tensor2"]], {})
        if name.endswith("_"):
            target = given["input"]
            return self.write_into(name, target, self.in_place(name, "add", [target, inner],
                                                               {}, op=name.strip("_")))
        return self.arithmetic(name, "add", [given["input"], inner], {})

    op_addcdiv = op_addcmul

    def op_cumsum(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``x.cumsum(d)`` (``cumprod``): running sums along an axis keep the shape; along the
        batch axis they would mix the samples (refused)."""
        x = args[0]
        dim = self._dim(args, kwargs, 1, None)
        rank = self.rank(x)
        if type(dim) is not int or not -rank <= dim < rank or dim % rank == 0 or x._cs_folded:
            raise self.fail(f"{name} along dim {dim!r} of a rank-{rank} tensor (the batch axis "
                            "or not an axis)", "batch_size")
        return x

    op_cumprod = op_cumsum

    def operand_shape(self: Trace, x: Any, value: Any, op: str) -> tuple[Any, ...]:
        """The shape of a fixed tensor (a parameter, buffer, tensor computed from them or a
        :class:`FixedTensor`) meeting the traced ``x``, with the batch axis: a folded ``x``'s
        (B*F, ...) dim 0 is F's per-sample axis, which the operand may reach only with 1."""
        if isinstance(value, FixedTensor) and value.node is not None:
            raise self.fail(f"{op} with a layer's output on a tensor made from symbolic sizes "
                            "(its batch axis is 1); convsym follows it repeated or expanded "
                            "over the batch first", "batch_size")
        if isinstance(value, FixedTensor) and any(
                BATCH_SYMBOL in s.free_symbols() for s in value.sizes):
            raise self.fail(f"{op} with a tensor whose sizes were computed from the batch "
                            "size; convsym's shapes are per sample", "batch_size")
        shape: tuple[Any, ...] = tuple(
            to_sympy(s) if as_int(s) is None else as_int(s) for s in value.sizes
        ) if isinstance(value, FixedTensor) else tuple(int(s) for s in value.shape)
        if x._cs_folded:  # (B*F, d...): the operand may not reach dim 0 unless it is 1 there
            rank = self.rank(x)
            if len(shape) > rank or (len(shape) == rank and not is_plain(shape[0], 1)):
                raise self.fail(f"{op} of a tensor whose batch axis holds windows folded in "
                                f"(rank {rank}) with a fixed tensor of shape {shape}, which "
                                "reaches that axis", "batch_size")
            shape = shape[1:] if len(shape) == rank else shape
        return shape
