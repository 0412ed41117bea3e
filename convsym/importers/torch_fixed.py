"""Tensors a forward makes from sizes alone, followed by their shapes (no batch, no values).

torchvision's Swin builds its shifted-window attention mask in forward:
``x.new_zeros((pad_H, pad_W))``, filled by slice assignment, then viewed, permuted,
broadcast and compared, and finally added to the attention scores.  At symbolic sizes no real
tensor can hold it, but nothing about it reaches a shape except its own shape: a
:class:`FixedTensor` keeps that shape (exact sizes, no batch axis) through the few operations
such a mask goes through, and meets a traced tensor only as a fixed operand of element-wise
arithmetic (a ``TensorOperand`` row, no parameters).  Anything else is refused.

>>> from convsym.expr import symbol
>>> from convsym.intdiv import QPoly, to_sympy
>>> class Trace:
...     def fail(self, message, code="unsupported_operation"):
...         return ValueError(message)
>>> h = QPoly.sym(symbol("h")) * QPoly.const(4)
>>> m = FixedTensor((h, QPoly.const(8)), Trace())
>>> m[-2:, :] = 1
>>> m = m.view(-1, 4, 2, 4).permute(0, 2, 1, 3).reshape(-1, 16)
>>> m = m.unsqueeze(1) - m.unsqueeze(2)
>>> [to_sympy(s) for s in m.masked_fill(m != 0, -100.0).sizes]
[2*h, 16, 16]
"""

from __future__ import annotations

from typing import Any

from convsym.importers.torch_sizes import SymInt, SymSize
from convsym.intdiv import QPoly, as_int, exact_quotient, to_sympy


class FixedTensor:
    """A tensor without the batch axis whose sizes may be symbolic and whose values are not
    followed (see the module docstring)."""

    __slots__ = ("sizes", "trace")

    def __init__(self, sizes: tuple[QPoly, ...], trace: Any) -> None:
        self.sizes = sizes
        self.trace = trace

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        # torch then asks the traced tensor among the arguments, whose trace decides
        return NotImplemented

    def __repr__(self) -> str:
        return f"FixedTensor({', '.join(str(to_sympy(s)) for s in self.sizes)})"

    def _fail(self, what: str) -> Exception:
        shown = ", ".join(str(to_sympy(s)) for s in self.sizes)
        err: Exception = self.trace.fail(
            f"{what} of a tensor made from symbolic sizes ({shown}) in forward; convsym "
            "follows such a tensor through views, permutes, unsqueeze, slice assignment, "
            "comparisons, masked_fill and element-wise arithmetic only", "size_not_concrete")
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

    def _new(self, sizes: Any) -> FixedTensor:
        return FixedTensor(tuple(sizes), self.trace)

    def _axis(self, d: Any, rank: int) -> int:
        if type(d) is not int or not -rank <= d < rank:
            raise self._fail(f"the axis {d!r}")
        return d % rank

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

    def contiguous(self) -> FixedTensor:
        return self

    clone = float = detach = contiguous

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # (protocol probes: not an operation of the forward)
            raise AttributeError(name)
        raise self._fail(f".{name}")

    # --- values (not followed: only the shape matters) -----------------------------------
    def _region(self, key: Any) -> None:
        items = key if isinstance(key, tuple) else (key,)
        if len(items) > len(self.sizes) or not all(
                isinstance(k, slice) or k is Ellipsis for k in items):
            raise self._fail(f"indexing with {key!r:.60} (slices only)")

    def __getitem__(self, key: Any) -> _Region:
        """``m[a:b, c:d]``, only to add a number into it (``m[:, -2:] += 2``)."""
        self._region(key)
        return _Region(self)

    def __setitem__(self, key: Any, value: Any) -> None:
        """``m[a:b, c:d] = count``: a number written into a region keeps the shape."""
        self._region(key)
        if type(value) not in (int, float, bool) and not (
                isinstance(value, _Region) and value.of is self):
            raise self._fail("writing other than a number into slices")

    def _broadcast(self, other: Any, what: str) -> FixedTensor:
        if type(other) in (int, float, bool):
            return self
        if not isinstance(other, FixedTensor):
            raise self._fail(what)
        a, b = self.sizes, other.sizes
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
    __lt__ = __le__ = __gt__ = __ge__ = __add__

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


class _Region:
    """``m[a:b]`` of a :class:`FixedTensor`, good only for ``m[a:b] += number``."""

    __slots__ = ("of",)

    def __init__(self, of: FixedTensor) -> None:
        self.of = of

    def __iadd__(self, value: Any) -> _Region:
        if type(value) not in (int, float, bool):
            raise self.of._fail("adding other than a number into slices")
        return self

    __isub__ = __imul__ = __iadd__

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise self.of._fail(f"a slice's .{name}")


def _product(sizes: tuple[QPoly, ...]) -> QPoly:
    out = QPoly.const(1)
    for s in sizes:
        out = out * s
    return out


__all__ = ["FixedTensor"]
