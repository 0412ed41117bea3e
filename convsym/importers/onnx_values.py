"""Values of an ONNX graph as the importer sees them, and the size arithmetic on shape tensors.

A value is either :class:`Data` (a tensor on the network's data path: a convsym graph tensor,
batch axis removed) or :class:`Const` (a constant or a shape tensor: its dimensions, and its
elements where they matter, as canonical sizes).  ``Shape(x)`` gives ``[BATCH, *sizes]``;
``Gather``, ``Concat``, ``Unsqueeze``, ``Cast``, ``Slice`` and integer arithmetic on such
tensors are evaluated here with convsym's size algebra, so the chains that ``torch.onnx.export``
writes for ``x.view(x.size(0), -1)`` or ``F.interpolate(x, size=skip.shape[2:])`` resolve to
closed forms.  Element values are kept for tensors of at most :data:`MAX_VALUES` elements.

>>> from convsym.intdiv import QPoly, to_sympy
>>> from convsym.expr import symbol
>>> H = QPoly.sym(symbol("H"))
>>> shape = Const((3,), (BATCH, QPoly.const(8), H))
>>> picked = gather(shape, Const((1,), (QPoly.const(2),)), 0)
>>> [to_sympy(v) for v in arith("Div", picked, Const((), (QPoly.const(2),))).values]
[floor(H/2)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from convsym.intdiv import QExpr, QPoly, as_int, div_ceil, div_floor, to_sympy

if TYPE_CHECKING:
    from convsym.graph import Tensor

MAX_VALUES = 4096
"""Constants with more elements keep only their dimensions (weights are never read)."""


class _Batch:
    """The batch size, as ``Shape(x)[0]`` reads it (no closed form: convsym drops that axis)."""

    def __repr__(self) -> str:
        return "BATCH"


BATCH = _Batch()


@dataclass(frozen=True)
class Ratio:
    """A non-integer size value ``num / den`` (float arithmetic on sizes, before a Floor)."""

    num: QExpr
    den: int


Elem = Any
"""One element: a canonical size (``QPoly``/``Ext``), :data:`BATCH`, a :class:`Ratio`, a
float, or None (unknown)."""


class ValueProblem(ValueError):
    """A node convsym cannot follow (the importer adds the node and file); ``code`` is the
    error code the user sees."""

    def __init__(self, message: str, code: str = "unsupported_shape_computation") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Const:
    """A constant or shape tensor: ``dims``; ``values`` (flat, row-major) when known."""

    dims: tuple[int, ...]
    values: tuple[Elem, ...] | None = None
    sources: frozenset[str] = field(default_factory=frozenset)
    """The initializers this value was computed from (their parameters go to its consumer)."""

    @property
    def count(self) -> int:
        """The number of elements."""
        return math.prod(self.dims)

    def ints(self, what: str) -> list[int]:
        """The values as plain integers, or a problem naming ``what``."""
        out = []
        for v in self.known(what):
            value = as_int(v) if isinstance(v, QPoly) else (
                int(v) if isinstance(v, float) and v.is_integer() else None)
            if value is None:
                raise ValueProblem(f"{what} must be constant integers, got {show(v)}")
            out.append(value)
        return out

    def known(self, what: str) -> tuple[Elem, ...]:
        """The values, or a problem naming ``what``."""
        if self.values is None or any(v is None for v in self.values):
            raise ValueProblem(f"{what} is not known when the model is read (convsym follows "
                               "constants and shape computations only)")
        return self.values


@dataclass(frozen=True)
class Data:
    """A tensor on the data path: its convsym tensor and its ONNX rank (batch included)."""

    tensor: Tensor
    rank: int

    @property
    def shape(self) -> tuple[QExpr, ...]:
        """The canonical sizes without the batch axis."""
        return tuple(self.tensor.inference().shape)


def show(v: Elem) -> str:
    """An element for messages."""
    if isinstance(v, (QPoly,)) or type(v).__name__ == "Ext":
        return str(to_sympy(v))
    if isinstance(v, Ratio):
        return f"({to_sympy(v.num)})/{v.den}"
    return repr(v)


def number(v: Elem) -> Elem:
    """A plain Python number as a size element (floats stay floats)."""
    if isinstance(v, bool):
        return QPoly.const(int(v))
    if isinstance(v, int):
        return QPoly.const(v)
    return v


def const_of(dims: Sequence[int], flat: Sequence[Any] | None, sources: frozenset[str]
             = frozenset()) -> Const:
    """A :class:`Const` from Python numbers."""
    values = None if flat is None else tuple(number(v) for v in flat)
    return Const(tuple(int(d) for d in dims), values, sources)


def array(c: Const, what: str) -> Any:
    """The values as a NumPy object array of ``c.dims`` (elements stay convsym sizes)."""
    # why: NumPy loads only when real arrays are computed
    import numpy as np

    values = c.known(what)
    flat = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        flat[i] = v
    return flat.reshape(c.dims)


def from_array(arr: Any, sources: frozenset[str]) -> Const:
    """A :class:`Const` from an object array (NumPy hands back a bare element for 0-d)."""
    # why: NumPy loads only when real arrays are computed
    import numpy as np

    if not isinstance(arr, np.ndarray):
        element = arr
        arr = np.empty((), dtype=object)
        arr[()] = element
    return Const(tuple(int(d) for d in arr.shape), tuple(arr.reshape(-1).tolist()), sources)


def gather(data: Const, indices: Const, axis: int) -> Const:
    """``Gather`` along ``axis`` (indices may be negative)."""
    # why: NumPy loads only when real arrays are computed
    import numpy as np

    arr = array(data, "the gathered tensor")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueProblem(f"Gather axis {axis} is out of range")
    n = arr.shape[axis]
    picks = indices.ints("Gather's indices")
    if any(not -n <= i < n for i in picks):
        raise ValueProblem(f"a Gather index is out of range for {n} elements")
    idx = np.array([i % n for i in picks], dtype=np.int64).reshape(indices.dims)
    return from_array(np.take(arr, idx, axis=axis), data.sources | indices.sources)


def concat(parts: Sequence[Const], axis: int) -> Const:
    """``Concat`` along ``axis``."""
    # why: NumPy loads only when real arrays are computed
    import numpy as np

    sources = frozenset().union(*(p.sources for p in parts))
    arrays = [array(p, "a concatenated tensor") for p in parts]
    try:
        return from_array(np.concatenate(arrays, axis=axis), sources)
    except ValueError as err:
        raise ValueProblem(f"Concat of constants: {err}") from None


def slice_array(data: Const, starts: list[int], ends: list[int], axes: list[int],
                steps: list[int]) -> Const:
    """``Slice`` with ONNX clamping (negative steps too)."""
    arr = array(data, "the sliced tensor")
    index: list[slice] = [slice(None)] * arr.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if step == 0 or not -arr.ndim <= axis < arr.ndim:
            raise ValueProblem("Slice with step 0 or a bad axis")
        n = arr.shape[axis]
        stop: int | None = end
        if step < 0 and end < -n:
            stop = None  # INT64_MIN-like ends mean "through the first element"
        index[axis % arr.ndim] = slice(start, stop, step)
    return from_array(arr[tuple(index)], data.sources)


def reshape(data: Const, dims: Sequence[int]) -> Const:
    """The values in new dims (same order)."""
    return Const(tuple(dims), data.values, data.sources)


def transpose(data: Const, perm: Sequence[int]) -> Const:
    """``Transpose``: values follow when known."""
    dims = tuple(data.dims[p] for p in perm)
    if data.values is None:
        return Const(dims, None, data.sources)
    return from_array(array(data, "the transposed tensor").transpose(perm), data.sources)


def expand(data: Const, shape: Sequence[int]) -> Const:
    """``Expand``: NumPy broadcasting of ``data`` with ``shape`` (values follow when known).

    >>> expand(Const((1,), (QPoly.const(7),)), [3]).values == (QPoly.const(7),) * 3
    True
    """
    import numpy as np  # why: NumPy is optional for convsym; ONNX brings it

    try:
        dims = tuple(int(d) for d in np.broadcast_shapes(data.dims, tuple(shape)))
    except ValueError as err:
        raise ValueProblem(f"Expand of dims {list(data.dims)} to {list(shape)}: {err}") from None
    if data.values is None or math.prod(dims) > MAX_VALUES:
        return Const(dims, None, data.sources)
    return from_array(np.broadcast_to(array(data, "the expanded tensor"), dims).copy(),
                      data.sources)


def arith(op: str, a: Const, b: Const) -> Const:
    """``Add``/``Sub``/``Mul``/``Div``/``Mod``/``Max``/``Min`` on size elements, broadcast."""
    # why: NumPy loads only when real arrays are computed
    import numpy as np

    try:
        x, y = np.broadcast_arrays(array(a, "an operand"), array(b, "an operand"))
    except ValueError as err:
        raise ValueProblem(f"operands do not broadcast ({err})") from None
    out = np.empty(x.shape, dtype=object)
    for i in np.ndindex(x.shape):
        out[i] = _binary(op, x[i], y[i])
    return from_array(out, a.sources | b.sources)


def _binary(op: str, x: Elem, y: Elem) -> Elem:
    if x is BATCH or y is BATCH:
        if op in ("Mul", "Div") and isinstance(y, QPoly) and as_int(y) == 1:
            return x
        raise ValueProblem("arithmetic on the batch size is not followed (convsym shapes have "
                           "no batch axis)")
    if isinstance(x, float) or isinstance(y, float) or isinstance(x, Ratio) or \
            isinstance(y, Ratio):
        return _rational(op, x, y)
    if not isinstance(x, QPoly) or not isinstance(y, QPoly):
        raise ValueProblem(f"{op} of {show(x)} and {show(y)} is not followed")
    if op == "Add":
        return x + y
    if op == "Sub":
        return x - y
    if op == "Mul":
        return x * y
    if op in ("Div", "Mod"):
        d = as_int(y)
        if d is None or d <= 0:
            raise ValueProblem(f"integer {op} by {show(y)}: convsym divides sizes by positive "
                               "constants")
        q = div_floor(x, y)  # sizes are non-negative: truncation is floor
        if op == "Div":
            return q
        if not isinstance(q, QPoly):
            raise ValueProblem("Mod of a Min/Max size is not followed")
        return x - q * y
    xi, yi = as_int(x), as_int(y)
    if op in ("Max", "Min") and xi is not None and yi is not None:
        return QPoly.const(max(xi, yi) if op == "Max" else min(xi, yi))
    raise ValueProblem(f"{op} on sizes is not followed")


def _as_ratio(v: Elem) -> tuple[QExpr, int]:
    if isinstance(v, Ratio):
        return v.num, v.den
    if isinstance(v, float):
        frac = Fraction(v)
        if frac.denominator > 1024:
            raise ValueProblem(f"the float {v} is not an exact binary fraction")
        return QPoly.const(frac.numerator), frac.denominator
    if isinstance(v, QPoly):
        return v, 1
    raise ValueProblem(f"{show(v)} in float arithmetic is not followed")


def _rational(op: str, x: Elem, y: Elem) -> Elem:
    (xn, xd), (yn, yd) = _as_ratio(x), _as_ratio(y)
    if not isinstance(xn, QPoly) or not isinstance(yn, QPoly):
        raise ValueProblem("float arithmetic on a Min/Max size is not followed")
    if op in ("Add", "Sub"):
        num = xn * QPoly.const(yd) + (yn if op == "Add" else -yn) * QPoly.const(xd)
        return _ratio(num, xd * yd)
    if op == "Mul":
        return _ratio(xn * yn, xd * yd)
    if op == "Div":
        c = as_int(yn)
        if c is None or c <= 0:
            raise ValueProblem("float division by a size is not followed")
        return _ratio(xn * QPoly.const(yd), xd * c)
    raise ValueProblem(f"float {op} on sizes is not followed")


def _ratio(num: QPoly, den: int) -> Elem:
    value = as_int(num)
    if value is not None:
        exact = Fraction(value, den)
        return QPoly.const(int(exact)) if exact.denominator == 1 else float(exact)
    return num if den == 1 else Ratio(num, den)


def to_integer(v: Elem, mode: str) -> Elem:
    """``Floor``/``Ceil``/``Cast`` to an integer type (truncation is floor for sizes)."""
    if isinstance(v, Ratio):
        d = QPoly.const(v.den)
        return div_ceil(v.num, d) if mode == "Ceil" else div_floor(v.num, d)
    if isinstance(v, float):
        return QPoly.const(math.ceil(v) if mode == "Ceil" else math.floor(v) if
                           mode == "Floor" or v >= 0 else math.ceil(v))
    return v


def plain(v: Any) -> Any:
    """A slice bound: a plain int, or a SymPy expression for a symbolic size."""
    if v is BATCH:
        raise ValueProblem("a slice bound equal to the batch size is not followed")
    value = as_int(v) if isinstance(v, QPoly) else None
    if value is not None:
        return value
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, QPoly):
        return to_sympy(v)
    raise ValueProblem(f"the slice bound {show(v)} is not followed")


def integer(v: Any) -> int:
    value = as_int(v) if isinstance(v, QPoly) else None
    if value is None:
        raise ValueProblem(f"{show(v)} must be a constant integer")
    return value


__all__ = ["BATCH", "Const", "Data", "Ratio", "ValueProblem", "arith", "array", "concat", "expand",
           "from_array", "gather", "integer", "plain", "reshape", "slice_array", "to_integer",
           "transpose"]
