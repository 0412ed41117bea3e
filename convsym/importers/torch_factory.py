"""The tracer's handlers of tensors made from symbolic sizes: factories and layers on them.

``torch.arange(H)``, ``torch.zeros((H, W))``, ``torch.linspace(-1, 1, steps=W)`` given a size
read from the input (a :class:`~convsym.importers.torch_sizes.SymInt`) raise inside PyTorch,
whose argument parser wants integers before it consults ``__torch_function__``: while
tracing, these factories are routed here (:func:`~convsym.importers.torch_trace._intercepting`)
and give a :class:`~convsym.importers.torch_fixed.FixedTensor` of the exact shape (position
encodings built from the feature map's size: XCiT, EdgeNeXt, sine-cosine and rotary
embeddings).  A factory whose first size is the batch size and no other size involves it
(EdgeNeXt's ``torch.zeros((B, H, W))``) is a traced tensor, the same for every sample (a
``BatchExpanded`` row); any other size computed from the batch size is refused.  A
``torch.nn`` layer called on a fixed tensor whose first axis is 1 (XCiT's ``token_projection``
of its Fourier features) is a row on such a traced tensor.

>>> import pytest
>>> torch = pytest.importorskip("torch")
>>> from convsym.importers.torch_module import from_torch
>>> class Ramp(torch.nn.Module):
...     def forward(self, x):
...         h, w = x.shape[-2:]
...         ramp = torch.arange(1, w + 1).float() / w
...         return x + ramp
>>> [(r.name, r.output_shape) for r in from_torch(Ramp(), (4, "H", "W")).rows]
[('add', (4, H, W))]
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from convsym.importers.torch_fixed import FixedTensor
from convsym.importers.torch_sizes import BATCH_SYMBOL, SymInt
from convsym.intdiv import QPoly, as_int, to_sympy
from convsym.layers.torch_tensor import Expand, Unsqueeze

if TYPE_CHECKING:
    from convsym.importers.torch_trace import Trace

FACTORIES = ("arange", "zeros", "ones", "empty", "full", "linspace", "logspace")
"""The ``torch`` factories routed to :meth:`FactoryOps.factory` when given a symbolic size."""


class FactoryOps:
    """Factories and layers on fixed tensors (mixed into :class:`~convsym.importers.
    torch_trace.Trace`)."""

    def factory(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``torch.<name>(...)`` with symbolic sizes: a fixed tensor of the exact shape."""
        if kwargs.get("out") is not None:
            raise self.fail(f"torch.{name} with out=")
        if name == "arange":
            sizes = [self.arange_length(args, kwargs)]
        elif name in ("linspace", "logspace"):
            steps = kwargs["steps"] if "steps" in kwargs else args[2] if len(args) > 2 else None
            sizes = [self.factory_size(steps, name)]
        else:
            given = list(args[:1] if name == "full" else args) or [kwargs.get("size", ())]
            if len(given) == 1 and isinstance(given[0], (list, tuple)):
                given = list(given[0])
            if not given:
                raise self.fail(f"torch.{name} without sizes")
            head = given[0]
            if isinstance(head, SymInt) and head.q == QPoly.sym(BATCH_SYMBOL) and len(given) > 1:
                rest = [self.factory_size(v, name) for v in given[1:]]
                shape = [as_int(s) if as_int(s) is not None else to_sympy(s) for s in rest]
                return self.fixed_row(FixedTensor(tuple(rest), self), shape, name)
            sizes = [self.factory_size(v, name) for v in given]
        return FixedTensor(tuple(sizes), self)

    def factory_size(self: Trace, v: Any, name: str) -> QPoly:
        """A size given to a factory: an int or a per-sample size read from a tensor."""
        q = v.q if isinstance(v, SymInt) else QPoly.const(v) if type(v) is int else None
        if q is None or (as_int(q) is not None and as_int(q) < 0):  # type: ignore[operator]
            raise self.fail(f"a factory's size {v!r:.40}", "size_not_concrete")
        if BATCH_SYMBOL in q.free_symbols():
            raise self.fail(f"torch.{name} with a size computed from the batch size "
                            f"({to_sympy(q)}) other than as its first size; convsym's "
                            "shapes are per sample", "batch_size")
        if as_int(q) is None:
            self.assume(q, ">=", QPoly.const(0), f"torch.{name}'s size is not negative")
        return q

    def assume(self: Trace, left: QPoly, op: str, right: QPoly, why: str) -> None:
        """``left op right`` holds for every size, or is a condition of the network (a
        ``Require`` row), or never holds: refused, naming ``why``."""
        text = f"{to_sympy(left)} {op} {to_sympy(right)} ({why})"
        test = self.decide(left, op, right, text)
        if test is True:
            return
        if test is False:
            raise self.fail(f"{why}: {to_sympy(left)} {op} {to_sympy(right)} never holds",
                            "size_not_concrete")
        self.per_sample(test)
        self.required(test, why)

    def arange_length(self: Trace, args: list[Any], kwargs: dict[str, Any]) -> QPoly:
        """``ceil((end - start) / step)`` for integer bounds (one of them symbolic) and a
        positive integer step; with a float start and a step of 1 (``arange(0.5, n)``),
        ``n - floor(start)``.  PyTorch refuses an end below the start: proved here."""
        names = ("start", "end", "step")
        given = dict(zip(names, args if len(args) > 1 else [0, *args]))
        given.update({k: v for k, v in kwargs.items() if k in names})
        start, end, step = given.get("start", 0), given.get("end"), given.get("step", 1)
        if type(step) is float and step.is_integer():
            step = int(step)
        if type(step) is not int or step < 1 or isinstance(end, float) or not (
                type(end) is int or isinstance(end, SymInt)):
            raise self.fail(f"torch.arange({start!r:.20}, {end!r:.20}, {step!r:.20}): "
                            "convsym follows an integer end and a positive integer step",
                            "size_not_concrete")
        top = end.q if isinstance(end, SymInt) else QPoly.const(end)
        if type(start) is float and step == 1 and math.isfinite(start):
            low, floor = QPoly.const(math.ceil(start)), QPoly.const(math.floor(start))
        elif type(start) is int or isinstance(start, SymInt):
            low = floor = start.q if isinstance(start, SymInt) else QPoly.const(start)
        else:
            raise self.fail(f"torch.arange with start {start!r:.20}", "size_not_concrete")
        if BATCH_SYMBOL in (top - low).free_symbols():
            raise self.fail("torch.arange over the batch size; convsym's shapes are per "
                            "sample", "batch_size")
        self.assume(top, ">=", low, "torch.arange's end is not below its start (PyTorch "
                    "refuses it)")
        length = top - floor
        return length if step == 1 else self.floordiv(length + QPoly.const(step - 1),
                                                      QPoly.const(step))

    def op_one_hot(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``F.one_hot(t, num_classes=K)``: a new last axis of ``K`` (Gemma 4's position
        table lookup), an ``Unsqueeze`` and an ``Expand`` row; without ``K`` the size is
        the largest value plus one (refused: values are not followed)."""
        x = args[0]
        count = self._dim(args, kwargs, 1, -1, "num_classes")
        if not self.is_tensor(x) or type(count) is not int or count < 1:
            raise self.fail(f"{name} with num_classes={count!r}: without a number of classes "
                            "the new axis's size is the largest value plus one",
                            "value_dependent")
        rank = self.rank(x)
        ones = self.add(Unsqueeze(rank), name, [x])
        return self.add(Expand((*(-1 for _ in range(rank - 1)), count)), name, [ones])

    def fixed_leaf(self: Trace, module: Any, qual: str, kind: str, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> FixedTensor:
        """A ``torch.nn`` layer on a fixed tensor whose first axis is 1 (XCiT's
        ``token_projection`` of its Fourier features): its row reads that tensor per sample
        (a ``BatchExpanded`` row), and the result is a fixed tensor held by the row, which
        may be repeated or expanded over the batch, or passed to another layer."""
        x = args[0] if len(args) == 1 and not kwargs else None
        if not isinstance(x, FixedTensor) or not x.sizes or as_int(x.sizes[0]) != 1:
            raise self.fail(f"module {qual!r} ({kind}) is called on a tensor made from "
                            "symbolic sizes in forward; convsym follows a layer on one such "
                            "tensor whose first axis is 1 (the batch of one)",
                            "size_not_concrete")
        if x.node is not None:
            traced = self.tensor(x.node)
        else:
            rest = x.sizes[1:]
            shape = [as_int(s) if as_int(s) is not None else to_sympy(s) for s in rest]
            traced = self.fixed_row(x, shape, "fixed_input")
        out = self.leaf_row(module, qual, kind, traced)
        sizes = [s for s in self.shapes[out._cs_index] if isinstance(s, QPoly)]
        if len(sizes) != len(self.shapes[out._cs_index]):
            raise self.fail(f"module {qual!r} ({kind}) on a tensor made from symbolic sizes "
                            "gives a size that is a Min/Max", "size_not_concrete")
        return FixedTensor((QPoly.const(1), *sizes), self, node=out._cs_index)


__all__ = ["FACTORIES", "FactoryOps"]
