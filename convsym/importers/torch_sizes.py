"""The symbolic sizes a traced ``forward`` computes with: ``x.shape`` and what follows from it.

``x.shape`` holds plain ints where a size is a number and :class:`SymInt` where it is symbolic.
Arithmetic on sizes stays exact: ``+``, ``-``, ``*`` and ``//`` give :class:`SymInt` (``//``
through convsym's floor algebra), and a true division by a number gives a :class:`SymRatio`,
an exact fraction that ``math.floor``, ``math.ceil`` and ``math.trunc`` turn back into a size.  That
is how TF-style "same" padding is computed in forward code (timm's ``pad_same``:
``max((math.ceil(x / s) - 1) * s + (k - 1) * d + 1 - x, 0)``).  A comparison is decided for every
value of the symbols where it can be; else it is a :class:`SymBool`, whose truth the trace takes
where Python asks for it (an assert is required, an order in an ``if`` followed as it goes for
large inputs, each kept as a condition) or refuses with the source line; anything that needs
a float (``float(h)``, ``h / 2.0``, ``round(h / 2)``) is refused.

The trace (:class:`convsym.importers.torch_trace.Trace`) supplies ``fail``, ``decide`` and
``floordiv``; a stand-in shows the arithmetic:

>>> from convsym.expr import symbol
>>> from convsym.intdiv import QPoly, floordiv
>>> class Trace:
...     floordiv = staticmethod(floordiv)
...     def decide(self, left, op, right, text):
...         raise ValueError(text)
>>> import math
>>> h = SymInt(QPoly.sym(symbol("H")), Trace())
>>> h / 4
SymRatio(H/4)
>>> math.ceil(h / 2), math.floor(h / 2) * 2
(SymInt(ceiling(H/2)), SymInt(2*floor(H/2)))
>>> (h + 1) * 3 / 3
SymRatio(H + 1)
"""

from __future__ import annotations

import math
import sys
from typing import Any, Protocol

from convsym.expr import symbol
from convsym.intdiv import QPoly, as_int, to_sympy

BATCH_SYMBOL = symbol("batch_size_")
"""The batch size while tracing: it may flow into ``view`` but never into a layer."""


class Trace(Protocol):
    """What sizes need of the trace that made them (:class:`~convsym.importers.torch_trace.
    Trace`): refusals naming the source line, decisions and exact floor division."""

    def fail(self, message: str, code: str = ...) -> Exception:
        """The refusal to raise, naming the module and the line of the forward."""

    def decide(self, left: QPoly, op: str, right: QPoly, text: str) -> bool | SymBool:
        """``left <op> right`` when it is decided for every value of the symbols, else the
        undecided :class:`SymBool` (the trace says what its truth is taken to be)."""

    def truth(self, test: SymBool, frame: Any) -> bool:
        """The truth of an undecided comparison tested by the Python code running in
        ``frame`` (an ``assert``, ``if`` or ``max``), or raise a refusal."""

    def asserted(self, test: SymBool) -> bool:
        """``torch._assert(test, ...)``: the forward requires ``test`` (true, or refused)."""

    def floordiv(self, a: QPoly, d: QPoly) -> QPoly:
        """``floor(a/d)`` in canonical form, or raise a refusal."""


class _Compared:
    """The comparison operators of a size or fraction, all through its ``_compare``: decided
    for every value of the symbols or refused (a float is refused, never "unequal")."""

    __slots__ = ()

    def _compare(self, o: object, op: str) -> bool | SymBool:
        raise NotImplementedError

    def __lt__(self, o: object) -> Any:
        return self._compare(o, "<")

    def __le__(self, o: object) -> Any:
        return self._compare(o, "<=")

    def __gt__(self, o: object) -> Any:
        return self._compare(o, ">")

    def __ge__(self, o: object) -> Any:
        return self._compare(o, ">=")

    def __eq__(self, o: object) -> Any:
        if not isinstance(o, (SymInt, SymRatio, int, float)):
            return NotImplemented
        return self._compare(o, "==")  # a float is refused

    def __ne__(self, o: object) -> Any:
        if not isinstance(o, (SymInt, SymRatio, int, float)):
            return NotImplemented
        return self._compare(o, "!=")  # a float is refused

    def __bool__(self) -> bool:
        test = self._compare(0, "!=")
        return test if type(test) is bool else test.truth(sys._getframe(1))



class SymInt(_Compared):
    """A symbolic size read from ``x.shape`` (or computed from such sizes).

    Arithmetic stays exact (``//`` uses convsym's floor algebra); comparisons are decided for
    every value of the symbols, or refused naming the line that branches on them.
    """

    __slots__ = ("q", "trace")

    def __init__(self, q: QPoly, trace: Trace) -> None:
        self.q = q
        self.trace = trace

    def __repr__(self) -> str:
        return f"SymInt({to_sympy(self.q)})"

    def _other(self, value: object, op: str) -> QPoly:
        if isinstance(value, SymInt):
            return value.q
        if type(value) is int or type(value) is bool:
            return QPoly.const(int(value))
        raise self.trace.fail(f"arithmetic {op} on the symbolic size {to_sympy(self.q)} and "
                              f"{type(value).__name__} {value!r:.40}; convsym keeps sizes as "
                              "integers", "size_arithmetic")

    def _new(self, q: QPoly) -> Any:
        return _size(q, self.trace)

    def __add__(self, o: object) -> Any:
        if isinstance(o, SymRatio):
            return o + self
        return self._new(self.q + self._other(o, "+"))

    __radd__ = __add__

    def __sub__(self, o: object) -> Any:
        if isinstance(o, SymRatio):
            return -o + self
        return self._new(self.q - self._other(o, "-"))

    def __rsub__(self, o: object) -> Any:
        return self._new(self._other(o, "-") - self.q)

    def __mul__(self, o: object) -> Any:
        if isinstance(o, SymRatio):
            return o * self
        return self._new(self.q * self._other(o, "*"))

    __rmul__ = __mul__

    def __neg__(self) -> Any:
        return self._new(self.q * QPoly.const(-1))

    def __pos__(self) -> Any:
        return self

    def __floordiv__(self, o: object) -> Any:
        return self._new(self.trace.floordiv(self.q, self._other(o, "//")))

    def __rfloordiv__(self, o: object) -> Any:
        return self._new(self.trace.floordiv(self._other(o, "//"), self.q))

    def __mod__(self, o: object) -> Any:
        d = self._other(o, "%")
        return self._new(self.q - d * self.trace.floordiv(self.q, d))

    def __truediv__(self, o: object) -> Any:
        if isinstance(o, SymRatio):
            return SymRatio(self.q, 1, self.trace) / o
        if type(o) is int or type(o) is bool:  # an exact fraction of the size
            return SymRatio(self.q, 1, self.trace) / o
        raise self.trace.fail(f"true division of the symbolic size {to_sympy(self.q)} by "
                              f"{_shown(o)}; convsym divides sizes by integers only",
                              "size_arithmetic")

    def __rtruediv__(self, o: object) -> Any:
        raise self.trace.fail(f"true division of {_shown(o)} by the symbolic size "
                              f"{to_sympy(self.q)}; convsym divides sizes by integers only",
                              "size_arithmetic")

    def _compare(self, o: object, op: str) -> bool | SymBool:
        if isinstance(o, SymRatio):
            return SymRatio(self.q, 1, self.trace)._compare(o, op)
        other = self._other(o, op)
        return self.trace.decide(self.q, op, other, f"{to_sympy(self.q)} {op} {to_sympy(other)}")

    def __hash__(self) -> int:
        # one hash for every symbolic size: a set or dict then always asks ``==``, which is
        # decided or refused (hash(q) would let H and W pass as unequal without asking)
        return 0

    def __floor__(self) -> Any:
        return self  # math.floor / ceil / trunc / round of an integer: the integer

    __ceil__ = __trunc__ = __floor__

    def __round__(self, ndigits: object = None) -> Any:
        return self

    def _concrete(self) -> int:
        raise self.trace.fail(f"the symbolic size {to_sympy(self.q)} is used where Python "
                              "needs a number (int(), range(), a torch function's size "
                              "argument); convsym follows sizes only through tensor shapes",
                              "size_not_concrete")

    def __index__(self) -> int:
        return self._concrete()

    def __int__(self) -> int:
        return self._concrete()

    def __float__(self) -> float:
        return float(self._concrete())


class SymRatio(_Compared):
    """``num / den`` for a symbolic size ``num`` and an integer ``den > 0``: a size divided
    with ``/``, kept exact until ``math.floor``, ``math.ceil`` or ``math.trunc`` makes it a size
    (``int()`` must return a number, so it is refused).
    """

    __slots__ = ("den", "num", "trace")

    def __init__(self, num: QPoly, den: int, trace: Trace) -> None:
        self.num, self.den, self.trace = num, den, trace

    def __repr__(self) -> str:
        return f"SymRatio({to_sympy(self.num) / self.den})"

    def _made(self, num: QPoly, den: int) -> Any:
        """``num/den`` (``den > 0``) in lowest terms; still a fraction when ``den`` divides
        ``num`` (Python's ``h / 2 * 2`` is a float, which PyTorch refuses as a size)."""
        g = math.gcd(den, *_coefficients(num))
        num, den = (num if g == 1 else _divided(num, g)), den // g
        return SymRatio(num, den, self.trace)

    def _pair(self, o: object, op: str) -> tuple[QPoly, int]:
        """``o`` as a fraction ``(num, den)``; a float or anything else is refused."""
        if isinstance(o, SymRatio):
            return o.num, o.den
        if isinstance(o, SymInt):
            return o.q, 1
        if type(o) is int or type(o) is bool:
            return QPoly.const(int(o)), 1
        raise self.trace.fail(f"arithmetic {op} on the fraction {self._text()} and "
                              f"{_shown(o)}; convsym keeps sizes as integers and exact "
                              "fractions", "size_arithmetic")

    def _text(self) -> str:
        return str(to_sympy(self.num) / self.den)

    # --- arithmetic: exact fractions ----------------------------------------------------------
    def __add__(self, o: object) -> Any:
        num, den = self._pair(o, "+")
        return self._made(self.num * QPoly.const(den) + num * QPoly.const(self.den),
                          self.den * den)

    __radd__ = __add__

    def __sub__(self, o: object) -> Any:
        return self + (-_as_fraction(o, self))

    def __rsub__(self, o: object) -> Any:
        return -self + o

    def __neg__(self) -> Any:
        return SymRatio(self.num * QPoly.const(-1), self.den, self.trace)

    def __pos__(self) -> Any:
        return self

    def __mul__(self, o: object) -> Any:
        num, den = self._pair(o, "*")
        return self._made(self.num * num, self.den * den)

    __rmul__ = __mul__

    def __truediv__(self, o: object) -> Any:
        if not (type(o) is int or type(o) is bool):
            raise self.trace.fail(f"true division of the fraction {self._text()} by "
                                  f"{_shown(o)}; convsym divides sizes by integers only",
                                  "size_arithmetic")
        d = int(o)
        if d == 0:
            raise self.trace.fail(f"division of the fraction {self._text()} by zero",
                                  "size_arithmetic")
        num = self.num if d > 0 else self.num * QPoly.const(-1)
        return self._made(num, self.den * abs(d))

    def __floordiv__(self, o: object) -> Any:
        return math.floor(self / o)

    # --- back to sizes ------------------------------------------------------------------------
    def __floor__(self) -> Any:
        return _size(self.trace.floordiv(self.num, QPoly.const(self.den)), self.trace)

    def __ceil__(self) -> Any:
        lifted = self.num + QPoly.const(self.den - 1)  # ceil(n/d) = floor((n + d - 1)/d)
        return _size(self.trace.floordiv(lifted, QPoly.const(self.den)), self.trace)

    def __trunc__(self) -> Any:
        # toward zero: the floor where the fraction is >= 0, the ceiling where it is <= 0
        if self >= 0:
            return math.floor(self)
        return math.ceil(self)

    def __int__(self) -> int:
        # Python insists that int() returns an int, so a symbolic one cannot be given back
        raise self.trace.fail(f"int() of the fraction {self._text()}: Python needs a number "
                              "here; write math.floor(...), math.ceil(...) or math.trunc(...) "
                              "to keep the size symbolic", "size_not_concrete")

    def __round__(self, ndigits: object = None) -> Any:
        raise self.trace.fail(f"round() of the fraction {self._text()}: Python rounds halves "
                              "to even, which convsym does not follow; use math.floor or "
                              "math.ceil", "size_arithmetic")

    def __float__(self) -> float:
        raise self.trace.fail(f"the fraction {self._text()} is used as a float; convsym "
                              "keeps sizes as integers and exact fractions", "size_arithmetic")

    def __index__(self) -> int:
        raise self.trace.fail(f"the fraction {self._text()} is used where Python needs an "
                              "integer; write math.floor(...) or math.ceil(...) around it",
                              "size_arithmetic")

    # --- comparisons --------------------------------------------------------------------------
    def _compare(self, o: object, op: str) -> bool | SymBool:
        num, den = self._pair(o, op)
        # both denominators are positive: compare the cross products
        return self.trace.decide(self.num * QPoly.const(den), op, num * QPoly.const(self.den),
                                 f"{self._text()} {op} {to_sympy(num) / den}")

    def __hash__(self) -> int:
        # one hash for every symbolic size: a set or dict then always asks ``==``, which is
        # decided or refused (hash(q) would let H and W pass as unequal without asking)
        return 0


class SymBool:
    """A comparison of sizes that holds for some inputs and not others: ``left <op> right``.

    Python asks for its truth where the forward branches (``if``, ``assert``, ``max``); the
    trace answers (:meth:`Trace.truth`), keeping what it takes as a condition of the network,
    or refuses.  ``torch._assert(test, ...)`` reaches :meth:`__torch_function__`.
    """

    __slots__ = ("left", "op", "right", "text", "trace")

    def __init__(self, left: QPoly, op: str, right: QPoly, text: str, trace: Trace) -> None:
        self.left, self.op, self.right, self.text, self.trace = left, op, right, text, trace

    @property
    def diff(self) -> QPoly:
        """``left - right``: the test is ``diff <op> 0``."""
        return self.left - self.right

    def negated(self) -> SymBool:
        """The opposite test (``a >= b`` for ``a < b``)."""
        flip = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}[self.op]
        return SymBool(self.left, flip, self.right, f"not ({self.text})", self.trace)

    def __repr__(self) -> str:
        return f"SymBool({self.text})"

    def __bool__(self) -> bool:
        return self.trace.truth(self, sys._getframe(1))

    def truth(self, frame: Any) -> bool:
        """The truth taken for the test made by the code running in ``frame``."""
        return self.trace.truth(self, frame)

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        test = args[0] if args else None
        if getattr(func, "__name__", "") == "_assert" and isinstance(test, SymBool):
            test.trace.asserted(test)
            return None
        trace = test.trace if isinstance(test, SymBool) else None
        message = (f"{getattr(func, '__name__', func)} of a comparison of sizes "
                   f"({test!r}); convsym follows torch._assert, assert and if on sizes")
        if trace is None:
            raise TypeError(message)
        raise trace.fail(message, "branches_on_size")


class SymSize(tuple):  # type: ignore[type-arg]
    """``x.shape`` / ``x.size()``: a tuple of ints and :class:`SymInt`, batch first."""

    def __getitem__(self, key: Any) -> Any:
        got = tuple.__getitem__(self, key)
        return SymSize(got) if isinstance(key, slice) else got

    def numel(self) -> Any:
        """The product of the sizes."""
        out: Any = 1
        for s in self:
            out = s * out
        return out


def _size(q: QPoly, trace: Trace) -> Any:
    """A plain int when ``q`` is a number, else a :class:`SymInt`."""
    c = as_int(q)
    return c if c is not None else SymInt(q, trace)


def _as_fraction(o: object, like: SymRatio) -> SymRatio:
    num, den = like._pair(o, "-")
    return SymRatio(num, den, like.trace)


def _coefficients(q: QPoly) -> list[int]:
    return list(q.terms.values())


def _divided(q: QPoly, g: int) -> QPoly:
    """``q / g`` for a ``g`` dividing every coefficient of ``q``."""
    return QPoly({m: c // g for m, c in q.terms.items()})


def _shown(value: object) -> str:
    if isinstance(value, SymInt | SymRatio):
        return repr(value)
    return f"{type(value).__name__} {value!r:.40}"


__all__ = ["SymBool", "SymInt", "SymRatio", "SymSize", "Trace"]
