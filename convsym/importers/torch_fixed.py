"""Tensors a forward makes from sizes alone, followed by their shapes (no batch, no values).

torchvision's Swin builds its shifted-window attention mask in forward:
``x.new_zeros((pad_H, pad_W))``, filled by slice assignment, then viewed, permuted,
broadcast and compared, and finally added to the attention scores; XCiT's and EdgeNeXt's
Fourier position encodings start from ``torch.arange(1, H + 1)`` of the feature map's size
and go through ``cumsum``, ``sin`` / ``cos``, ``stack``, ``flatten`` and ``cat``.  At symbolic
sizes no real tensor can hold them, but nothing about them reaches a shape except their own
shape: a :class:`FixedTensor` keeps that shape (exact sizes, no batch axis) through the
operations such tensors go through, each computed exactly or refused, and meets a traced
tensor only as a fixed operand of element-wise arithmetic (a ``TensorOperand`` row, no
parameters), expanded over the batch (a ``BatchExpanded`` row), or as the input of a
``torch.nn`` layer (see :meth:`~convsym.importers.torch_trace.Trace.call_module`).  Anything
else is refused.  The factories themselves are in :mod:`~convsym.importers.torch_factory`.

>>> from convsym.expr import symbol
>>> from convsym.intdiv import QPoly, to_sympy
>>> class Trace:
...     def fail(self, message, code="unsupported_operation"):
...         return ValueError(message)
...     def decide(self, left, op, right, text):  # (the trace decides for every size)
...         d = as_int(left - right)
...         return None if d is None else {"<": d < 0, "<=": d <= 0, ">": d > 0,
...                                         ">=": d >= 0, "==": d == 0}[op]
>>> h = QPoly.sym(symbol("h")) * QPoly.const(4)
>>> m = FixedTensor((h, QPoly.const(8)), Trace())
>>> m[-2:, :] = 1
>>> m = m.view(-1, 4, 2, 4).permute(0, 2, 1, 3).reshape(-1, 16)
>>> m = m.unsqueeze(1) - m.unsqueeze(2)
>>> [to_sympy(s) for s in m.masked_fill(m != 0, -100.0).sizes]
[2*h, 16, 16]
>>> pos = FixedTensor((h, QPoly.const(8)), Trace())[:, :, None] / FixedTensor(
...     (QPoly.const(32),), Trace())
>>> [to_sympy(s) for s in stack([pos[..., 0::2].sin(), pos[..., 1::2].cos()], 3).flatten(2).sizes]
[4*h, 8, 32]
"""

from __future__ import annotations

from typing import Any

from convsym.importers.torch_sizes import BATCH_SYMBOL, SymInt, SymRatio, SymSize
from convsym.intdiv import QPoly, as_int, exact_quotient, to_sympy

KEEP_SHAPE = frozenset({
    "to", "type", "type_as", "float", "double", "half", "bfloat16", "int", "long", "bool",
    "contiguous", "clone", "detach", "cpu", "sin", "cos", "tan", "exp", "log", "log2",
    "sqrt", "rsqrt", "abs", "neg", "floor", "ceil", "round", "trunc", "frac", "sigmoid",
    "tanh", "reciprocal", "square", "sign", "logical_not", "__neg__", "__invert__",
    "__pos__", "__abs__", "bitwise_not", "requires_grad_", "nan_to_num", "flip", "roll",
    "zeros_like", "ones_like", "empty_like", "full_like"})
"""Methods (and torch functions) that keep a fixed tensor's shape."""

ELEMENTWISE = frozenset({
    "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "fmod", "pow", "atan2", "maximum", "minimum", "eq", "ne",
    "lt", "le", "gt", "ge", "logical_and", "logical_or", "bitwise_and", "bitwise_or",
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__",
    "__rpow__", "__and__", "__rand__", "__or__", "__ror__", "__eq__", "__ne__", "__lt__",
    "__le__", "__gt__", "__ge__"})
"""Element-wise functions of two operands: the shape of their broadcast."""


class FixedTensor:
    """A tensor without the batch axis whose sizes may be symbolic and whose values are not
    followed (see the module docstring).  ``node`` is set on the output of a ``torch.nn``
    layer run on such a tensor: the row that holds it per sample (its torch dim 0 is 1)."""

    __slots__ = ("sizes", "trace", "node")

    def __init__(self, sizes: tuple[QPoly, ...], trace: Any, node: int | None = None) -> None:
        self.sizes = sizes
        self.trace = trace
        self.node = node

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        """``torch.stack`` / ``torch.sin`` / ``real / fixed`` of fixed tensors alone; with a
        traced tensor among the arguments, that tensor's trace decides."""
        kwargs = kwargs or {}
        flat = _spread([*args, *kwargs.values()])
        if any(type(a).__name__ == "SymTensor" for a in flat):
            return NotImplemented
        first = next(a for a in flat if isinstance(a, FixedTensor))
        name = str(getattr(func, "__name__", ""))
        if name in ELEMENTWISE:
            if kwargs.get("out") is not None:
                raise first._fail(f"{name} with out=")
            out = first  # (every tensor argument, whatever its keyword, broadcasts)
            for a in _spread([*args, *kwargs.values()]):
                if a is not first and (isinstance(a, FixedTensor) or
                                       _real_sizes(a) is not None):
                    out = out._broadcast(a, name)
            return out
        if name in FUNCTIONS:
            made: Any = FUNCTIONS[name]
            return made(*args, **kwargs)
        if args and isinstance(args[0], FixedTensor) and (
                name in KEEP_SHAPE or name in METHODS):
            return getattr(args[0], name)(*args[1:], **kwargs)
        raise first._fail(f"torch.{name}")

    def __repr__(self) -> str:
        return f"FixedTensor({', '.join(str(to_sympy(s)) for s in self.sizes)})"

    def _fail(self, what: str, code: str = "size_not_concrete") -> Exception:
        shown = ", ".join(str(to_sympy(s)) for s in self.sizes)
        err: Exception = self.trace.fail(
            f"{what} of a tensor made from symbolic sizes ({shown}) in forward; convsym "
            "follows such a tensor through views, permutes, slices, repeat, stack, cat, "
            "cumsum, comparisons, masked_fill and element-wise arithmetic only", code)
        return err

    # --- shape ---------------------------------------------------------------------------
    @property
    def shape(self) -> SymSize:
        return SymSize(as_int(s) if as_int(s) is not None else SymInt(s, self.trace)
                       for s in self.sizes)

    def size(self, dim: Any = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return len(self.sizes)

    @property
    def ndim(self) -> int:
        return len(self.sizes)

    def numel(self) -> Any:
        return self.shape.numel()

    def _new(self, sizes: Any) -> FixedTensor:
        if self.node is not None:
            raise self._fail("an operation on a layer's output", "unsupported_operation")
        return FixedTensor(tuple(sizes), self.trace)

    def _axis(self, d: Any, rank: int) -> int:
        if type(d) is not int or not -rank <= d < rank:
            raise self._fail(f"the axis {d!r}")
        return d % rank

    def _size(self, v: Any, what: str) -> QPoly:
        """A size argument (an int or a size read from a tensor, never the batch's)."""
        q = v.q if isinstance(v, SymInt) else QPoly.const(v) if type(v) is int else None
        if q is None or (as_int(q) is not None and as_int(q) < 0):  # type: ignore[operator]
            raise self._fail(f"{what} {v!r:.40}")
        if BATCH_SYMBOL in q.free_symbols():
            raise self._fail(f"{what} computed from the batch size ({to_sympy(q)})",
                             "batch_size")
        return q

    def view(self, *sizes: Any) -> FixedTensor:
        """Another shape with the same number of elements (one ``-1``)."""
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = tuple(sizes[0])
        total = _product(self.sizes)
        known, target, missing = QPoly.const(1), [], None
        for i, v in enumerate(sizes):
            if type(v) is int and v == -1 and missing is None:
                missing = i
                target.append(QPoly.const(1))
                continue
            q = v.q if isinstance(v, SymInt) else QPoly.const(v) if type(v) is int else None
            if q is None or (as_int(q) is not None and as_int(q) < 1):  # type: ignore[operator]
                raise self._fail(f"view to size {v!r}")
            target.append(q)
            known = known * q
        if missing is not None:
            quotient = exact_quotient(total, known)
            if quotient is None:
                raise self._fail(f"view(-1, ...) whose -1 is not an exact quotient "
                                 f"({to_sympy(total)} / {to_sympy(known)})")
            if as_int(known) is None:  # (PyTorch refuses a -1 beside a size 0)
                self.trace.nonzero_divisor(known)
            target[missing] = quotient
        elif not self._equal(total, known):
            raise self._fail(f"view to {len(target)} sizes of {to_sympy(known)} elements, "
                             f"not provably the {to_sympy(total)} it has,")
        return self._new(target)

    reshape = view

    def _equal(self, a: QPoly, b: QPoly) -> bool:
        return a == b or self.trace.decide(a, "==", b, "") is True

    def permute(self, *dims: Any) -> FixedTensor:
        if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
            dims = tuple(dims[0])
        order = [self._axis(d, len(self.sizes)) for d in dims]
        if sorted(order) != list(range(len(self.sizes))):
            raise self._fail(f"permute{tuple(dims)}")
        return self._new(self.sizes[d] for d in order)

    def transpose(self, a: Any, b: Any) -> FixedTensor:
        order = list(range(len(self.sizes)))
        i, j = self._axis(a, len(order)), self._axis(b, len(order))
        order[i], order[j] = order[j], order[i]
        return self.permute(*order)

    def unsqueeze(self, d: Any) -> FixedTensor:
        at = self._axis(d, len(self.sizes) + 1)
        return self._new((*self.sizes[:at], QPoly.const(1), *self.sizes[at:]))

    def flatten(self, start_dim: Any = 0, end_dim: Any = -1) -> FixedTensor:
        rank = max(len(self.sizes), 1)
        a, b = self._axis(start_dim, rank), self._axis(end_dim, rank)
        if a > b:
            raise self._fail(f"flatten({start_dim}, {end_dim})")
        if not self.sizes:
            return self._new((QPoly.const(1),))
        return self._new((*self.sizes[:a], _product(self.sizes[a:b + 1]), *self.sizes[b + 1:]))

    def cumsum(self, dim: Any, dtype: Any = None) -> FixedTensor:
        """Sums along ``dim``: the shape is kept."""
        self._axis(dim, max(len(self.sizes), 1))
        return self._new(self.sizes)

    cumprod = cumsum

    def repeat(self, *counts: Any) -> Any:
        """Each axis times its count (new leading axes for extra counts); a tensor whose
        first axis is 1 repeated over the batch (XCiT's ``pos.repeat(B, 1, 1, 1)``) is a
        traced tensor, the same for every sample."""
        if len(counts) == 1 and isinstance(counts[0], (list, tuple)):
            counts = tuple(counts[0])
        if len(counts) < len(self.sizes):
            raise self._fail(f"repeat with {len(counts)} counts")
        head = counts[0]
        if isinstance(head, SymInt) and head.q == QPoly.sym(BATCH_SYMBOL):
            if len(counts) != len(self.sizes) or as_int(self.sizes[0]) != 1:
                raise self._fail(f"repeat{tuple(counts)!r:.60} over the batch", "batch_size")
            return self._over_batch([s * self._size(c, "repeat count")
                                     for s, c in zip(self.sizes[1:], counts[1:])], "repeat")
        padded = (QPoly.const(1),) * (len(counts) - len(self.sizes)) + self.sizes
        return self._new(s * self._size(c, "repeat count") for s, c in zip(padded, counts))

    def expand(self, *sizes: Any) -> Any:
        """Size-1 axes grown to the sizes given (``-1`` keeps an axis); expanded over the
        batch, a traced tensor (Gemma 4's ``coord.unsqueeze(0).expand(B, -1, -1)``)."""
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = tuple(sizes[0])
        if len(sizes) < len(self.sizes):
            raise self._fail(f"expand to {len(sizes)} sizes")
        head = sizes[0]
        batch = isinstance(head, SymInt) and head.q == QPoly.sym(BATCH_SYMBOL)
        padded = (QPoly.const(1),) * (len(sizes) - len(self.sizes)) + self.sizes
        if batch and as_int(padded[0]) != 1:
            raise self._fail(f"expand{tuple(sizes)!r:.60} over the batch", "batch_size")
        out = []
        for i, (n, v) in enumerate(zip(padded, sizes)):
            if i == 0 and batch:
                continue
            if type(v) is int and v == -1 and i >= len(sizes) - len(self.sizes):
                out.append(n)
                continue
            q = self._size(v, "expand to size")
            if as_int(n) != 1 and not self._equal(n, q):
                raise self._fail(f"expand of an axis of size {to_sympy(n)} to {to_sympy(q)}")
            out.append(q)
        return self._over_batch(out, "expand") if batch else self._new(out)

    def _over_batch(self, sizes: list[QPoly], op: str) -> Any:
        if self.node is not None:  # a layer's output: its row already holds it per sample
            return self.trace.tensor(self.node) if list(self.sizes[1:]) == sizes else \
                self._new(sizes)
        shape = [as_int(s) if as_int(s) is not None else to_sympy(s) for s in sizes]
        return self.trace.fixed_row(self, shape, op)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # (protocol probes: not an operation of the forward)
            raise AttributeError(name)
        if name in KEEP_SHAPE:
            return self._same
        raise self._fail(f".{name}")

    def _same(self, *args: Any, **kwargs: Any) -> FixedTensor:
        if self.node is not None and any(isinstance(a, FixedTensor) and a is not self
                                         for a in _spread([*args, *kwargs.values()])):
            raise self._fail("an operation on a layer's output", "unsupported_operation")
        return self

    # --- values (not followed: only the shape matters) -----------------------------------
    def __getitem__(self, key: Any) -> _Region:
        """``m[a:b, None, i]``: the shape of the slice (computed where it is used), or a region
        to add a number into (``m[:, -2:] += 2``)."""
        return _Region(self, key)

    def _items(self, key: Any) -> list[Any]:
        """The index ``key`` as one item per axis and ``None`` (PyTorch's forms only)."""
        items = list(key) if isinstance(key, tuple) else [key]
        if sum(k is Ellipsis for k in items) > 1 or not all(
                isinstance(k, slice) or k is Ellipsis or k is None or type(k) is int
                for k in items):
            raise self._fail(f"indexing with {key!r:.60} (slices, ints and None only)")
        used = sum(k is not None and k is not Ellipsis for k in items)
        if used > len(self.sizes):
            raise self._fail(f"indexing with {key!r:.60} (too many indices)")
        if Ellipsis in items:
            at = items.index(Ellipsis)
            items[at:at + 1] = [slice(None)] * (len(self.sizes) - used)
            used = len(self.sizes)
        return items + [slice(None)] * (len(self.sizes) - used)

    def sliced(self, key: Any) -> tuple[QPoly, ...]:
        """The shape of ``self[key]`` (slices with steps, ints, ``None``, ``...``), exact, or
        refused where a bound's place depends on the symbols."""
        items = self._items(key)
        out: list[QPoly] = []
        axis = 0
        for k in items:
            if k is None:
                out.append(QPoly.const(1))
                continue
            n = self.sizes[axis]
            axis += 1
            if type(k) is int:
                self._assume(QPoly.const(k), "<", n, f"the index {k} exists")
                self._assume(QPoly.const(-k), "<=", n, f"the index {k} exists")
            else:
                out.append(self._slice_length(n, k))
        return tuple(out)

    def _holds(self, a: QPoly, op: str, b: QPoly) -> bool:
        return self.trace.decide(a, op, b, "") is True

    def _assume(self, a: QPoly, op: str, b: QPoly, why: str) -> None:
        """``a op b`` holds for every size, or is a condition of the network (a ``Require``
        row, as for a traced slice), or never holds: refused."""
        if not self._holds(a, op, b):
            self.trace.assume(a, op, b, f"{why} in a tensor made from sizes")

    def _slice_length(self, n: QPoly, s: slice) -> QPoly:
        step = 1 if s.step is None else s.step
        if type(step) is not int or step < 1:
            raise self._fail(f"a slice with step {step!r}")
        if s.start is None and s.stop is None and step == 1:
            return n
        zero = QPoly.const(0)
        bounds = []
        for v, default in ((s.start, zero), (s.stop, n)):
            if v is None:
                bounds.append(default)
                continue
            q = v.q if isinstance(v, SymInt) else QPoly.const(v) if type(v) is int else None
            if q is None:
                raise self._fail(f"a slice bound {v!r:.40}")
            if type(v) is int and v < 0:
                q = n + q  # counted from the end: clamped at 0 below
            elif isinstance(v, SymInt) and not self._holds(q, ">=", zero):
                if self._holds(q, "<", zero):
                    q = n + q  # a size that is always negative: from the end, as PyTorch
                else:  # (as a traced slice: from the start, where it is not negative)
                    self._assume(q, ">=", zero, "the slice bound is not negative")
            bounds.append(q)
        start, stop = (self._clamped(b, n) for b in bounds)
        if self._holds(stop, "<=", start):
            return zero
        self._assume(start, "<=", stop, f"the slice {s.start}:{s.stop} is not reversed")
        length = stop - start
        if as_int(length) is not None:
            return QPoly.const(-(-as_int(length) // step))  # type: ignore[operator]
        return length if step == 1 else self.trace.floordiv(
            length + QPoly.const(step - 1), QPoly.const(step))

    def _clamped(self, b: QPoly, n: QPoly) -> QPoly:
        """PyTorch's clamp of a slice bound to ``[0, n]``, decided for every size."""
        if self._holds(b, "<=", QPoly.const(0)):
            return QPoly.const(0)
        if self._holds(b, ">=", n):
            return n
        self._assume(b, ">=", QPoly.const(0), "the slice bound is within the axis")
        self._assume(b, "<=", n, "the slice bound is within the axis")
        return b

    def __setitem__(self, key: Any, value: Any) -> None:
        """``m[a:b, c:d] = count``: a number (or a fixed tensor that broadcasts into the
        region) written into a region keeps the shape."""
        if isinstance(value, _Region) and value.of is self and value.key is key:
            return  # m[key] += number
        if type(value) in (int, float, bool):
            self._items(key)  # (PyTorch clamps the slices: any place is valid)
            return
        if not isinstance(value, FixedTensor):
            raise self._fail("writing other than a number into slices")
        region = _Region(self, key)
        if region._broadcast(value, "writing into slices").sizes != region.sizes:
            raise self._fail("writing a tensor that grows the region into slices")

    def _broadcast(self, other: Any, what: str) -> FixedTensor:
        if type(other) in (int, float, bool) or isinstance(other, (SymInt, SymRatio)):
            return self  # (a number, perhaps computed from sizes: only values change)
        sizes = _real_sizes(other)
        if sizes is None and isinstance(other, FixedTensor):
            sizes = other.sizes
        if sizes is None:
            raise self._fail(what)
        if _from_parameters(other):
            raise self._fail(f"{what} with a tensor computed from parameters",
                             "unsupported_operation")
        a, b = self.sizes, sizes
        n = max(len(a), len(b))
        a = (QPoly.const(1),) * (n - len(a)) + a
        b = (QPoly.const(1),) * (n - len(b)) + b
        out = []
        for x, y in zip(a, b):
            if as_int(x) == 1:
                out.append(y)
            elif as_int(y) == 1 or self._equal(x, y):
                out.append(x)
            else:
                raise self._fail(f"{what} with sizes {to_sympy(x)} and {to_sympy(y)} that "
                                 "do not provably broadcast,")
        return self._new(out)

    def __add__(self, other: Any) -> FixedTensor:
        return self._broadcast(other, "arithmetic")

    __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __add__
    __rtruediv__ = __pow__ = __rpow__ = __floordiv__ = __rfloordiv__ = __mod__ = __add__
    __lt__ = __le__ = __gt__ = __ge__ = __and__ = __or__ = __add__

    def __eq__(self, other: object) -> Any:
        return self._broadcast(other, "comparison")

    __ne__ = __eq__
    __hash__ = object.__hash__

    def masked_fill(self, mask: Any, value: Any) -> FixedTensor:
        """The tensor's shape, into which ``mask`` must broadcast."""
        if type(value) not in (int, float, bool) or self._broadcast(
                mask, "masked_fill").sizes != self.sizes:
            raise self._fail("masked_fill with a mask that grows it or a tensor value")
        return self

    def __bool__(self) -> bool:
        raise self._fail("the truth value")

    def __iter__(self) -> Any:
        raise self._fail("iterating over the first axis")


class _Region(FixedTensor):
    """``m[key]`` of a :class:`FixedTensor`: its shape is computed where it is used; ``m[key]
    += number`` writes into ``m`` and needs none."""

    __slots__ = ("of", "key", "_sizes")
    _sizes: tuple[QPoly, ...] | None

    def __init__(self, of: FixedTensor, key: Any) -> None:
        if of.node is not None:
            raise of._fail("indexing a layer's output", "unsupported_operation")
        super().__init__((), of.trace)
        self.of, self.key, self._sizes = of, key, None

    @property
    def sizes(self) -> tuple[QPoly, ...]:
        if self._sizes is None:
            self._sizes = self.of.sliced(self.key)
        return self._sizes

    @sizes.setter
    def sizes(self, value: tuple[QPoly, ...]) -> None:
        self._sizes = value or None

    def __iadd__(self, value: Any) -> FixedTensor:
        if type(value) in (int, float, bool):
            return self
        return self._broadcast(value, "arithmetic")

    __isub__ = __imul__ = __iadd__


def stack(tensors: Any, dim: Any = 0, **kwargs: Any) -> FixedTensor:
    """``torch.stack`` of fixed tensors: equal shapes, a new axis of their count."""
    items = list(tensors)
    first = _fixed(items, "stack")
    for t in items[1:]:
        if len(t.sizes) != len(first.sizes) or not all(
                first._equal(a, b) for a, b in zip(first.sizes, t.sizes)):
            raise first._fail("stack of tensors of different shapes")
    at = first._axis(dim, len(first.sizes) + 1)
    return first._new((*first.sizes[:at], QPoly.const(len(items)), *first.sizes[at:]))


def cat(tensors: Any, dim: Any = 0, **kwargs: Any) -> FixedTensor:
    """``torch.cat`` of fixed tensors: their sizes added along ``dim``, the others equal."""
    items = list(tensors)
    first = _fixed(items, "cat")
    at = first._axis(kwargs.get("axis", dim), max(len(first.sizes), 1))
    total = QPoly.const(0)
    for t in items:
        if len(t.sizes) != len(first.sizes) or not all(
                i == at or first._equal(a, b) for i, (a, b) in enumerate(zip(first.sizes,
                                                                            t.sizes))):
            raise first._fail("cat of tensors whose other axes differ")
        total = total + t.sizes[at]
    return first._new((*first.sizes[:at], total, *first.sizes[at + 1:]))


def meshgrid(*tensors: Any, indexing: Any = None) -> tuple[FixedTensor, ...]:
    """``torch.meshgrid`` of 1-d tensors: each of the grids ``(n1, n2, ...)`` (``"xy"``:
    the first two sizes swapped, as in NumPy)."""
    items = list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0],
                                                                  (list, tuple)) else list(tensors)
    first = _fixed(items, "meshgrid")
    if indexing not in ("ij", "xy") or any(len(t.sizes) != 1 for t in items):
        raise first._fail(f"meshgrid with indexing={indexing!r} or of tensors of rank not 1")
    sizes = [t.sizes[0] for t in items]
    if indexing == "xy" and len(sizes) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return tuple(first._new(sizes) for _ in items)


def outer(a: Any, b: Any) -> FixedTensor:
    """``torch.outer`` of two 1-d tensors: ``(n, m)``."""
    first = _fixed([a, b], "outer")
    sizes = [_real_sizes(t) or getattr(t, "sizes", None) for t in (a, b)]
    if any(s is None or len(s) != 1 for s in sizes) or any(
            _from_parameters(t) for t in (a, b)):
        raise first._fail("outer of tensors other than 1-d ones made from sizes or buffers")
    return first._new((sizes[0][0], sizes[1][0]))  # type: ignore[index]


def _fixed(items: list[Any], what: str) -> FixedTensor:
    """The first fixed tensor of ``items``, all of which must be fixed tensors (a real one
    made from numbers alone joins as its shape)."""
    first = next(t for t in items if isinstance(t, FixedTensor))
    for i, t in enumerate(items):
        if not isinstance(t, FixedTensor):
            sizes = _real_sizes(t)
            if sizes is None or _from_parameters(t):
                raise first._fail(f"{what} with {type(t).__name__}")
            items[i] = FixedTensor(sizes, first.trace)
    return first


def _real_sizes(value: Any) -> tuple[QPoly, ...] | None:
    """The shape of a real tensor (a buffer, ``torch.arange(32)``), else None."""
    if type(value).__name__ == "SymTensor" or isinstance(value, FixedTensor) or \
            not hasattr(value, "shape") or not hasattr(value, "requires_grad"):
        return None
    return tuple(QPoly.const(int(n)) for n in value.shape)


def _from_parameters(value: Any) -> bool:
    """A real tensor that requires a gradient: a parameter, or computed from one (the trace
    turns every parameter's flag on), whose count a fixed tensor would lose."""
    return not isinstance(value, FixedTensor) and bool(getattr(value, "requires_grad", False))


def _spread(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for a in items:
        if isinstance(a, (list, tuple)):
            out += _spread(list(a))
        else:
            out.append(a)
    return out


def _product(sizes: tuple[QPoly, ...]) -> QPoly:
    out = QPoly.const(1)
    for s in sizes:
        out = out * s
    return out


FUNCTIONS = {"stack": stack, "cat": cat, "concat": cat, "concatenate": cat,
             "meshgrid": meshgrid, "outer": outer, "ger": outer}
"""Torch functions of several fixed tensors."""

METHODS = frozenset({"view", "reshape", "permute", "transpose", "unsqueeze", "flatten",
                     "cumsum", "cumprod", "repeat", "expand", "masked_fill", "contiguous",
                     "__getitem__", "__setitem__"})
"""Tensor methods that reach a fixed tensor as torch functions (``torch.flatten(m, 1)``)."""


__all__ = ["FixedTensor"]
