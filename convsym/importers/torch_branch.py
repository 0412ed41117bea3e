"""Tests of traced sizes: decided for every value of the symbols, or required (``assert``, ``if
...: raise``), or followed the way they go for large inputs (an order in an ``if``), each kept
as a condition of the network (a ``Require`` row); refused where either branch would be a
guess. Also floor division of sizes, which needs a divisor that is never 0.

>>> import pytest
>>> torch = pytest.importorskip("torch")
>>> from convsym.importers.torch_module import from_torch
>>> class Crop(torch.nn.Module):
...     def forward(self, x):
...         h = x.shape[-2]
...         assert h % 2 == 0
...         return x[..., 2:-2, :] if h > 4 else x
>>> net = from_torch(Crop(), (8, "H", "W"))
>>> net.output_shape, net.conditions
((8, H - 4, W), [Eq(H - 2*floor(H/2), 0), H >= 5])
"""

from __future__ import annotations

import dis
import functools
import traceback
from typing import TYPE_CHECKING, Any

from convsym.importers.torch_frames import location
from convsym.importers.torch_sizes import BATCH_SYMBOL, SymBool
from convsym.intdiv import NotQuasiPolynomial, QPoly, as_int, exact_quotient, floordiv, to_sympy
from convsym.layers.torch_tensor import (
    Require,
)
from convsym.period import decide_nonneg

if TYPE_CHECKING:
    from convsym.importers.torch_trace import Trace


SAMPLES = tuple(range(4096, 4096 + 64)) + (2**20 + 1, 2**20 + 7, 10**6 + 3)
"""Where "large inputs" are sampled: 64 consecutive values (a test that flips with a period
up to 64 is caught) and three far ones; several symbols take distinct values, in both
orders."""


MAX_REQUIRED = 256
"""Tests of sizes one forward may turn into conditions (a loop counting a size down is
refused rather than unrolled into thousands of rows)."""


def eventually(diff: QPoly, op: str) -> bool | None:
    """How ``diff <op> 0`` goes for large values of its symbols, or None if it flips.

    Only picks the branch to follow: the network keeps the exact condition of that branch,
    so a wrong pick narrows what the network claims, never makes a claim false.

    >>> from convsym.expr import symbol
    >>> h = QPoly.sym(symbol("H"))
    >>> eventually(floordiv(h, QPoly.const(32)) - QPoly.const(7), "<"), eventually(h, "==")
    (False, False)
    >>> print(eventually(h - QPoly.const(2) * floordiv(h, QPoly.const(2)), ">"))
    None
    """
    names = sorted(diff.free_symbols(), key=str)
    seen = set()
    for v in SAMPLES:
        for order in (names, names[::-1]):  # (H > W is no more true than W > H)
            value = diff.evaluate({x: v + 17 * i for i, x in enumerate(order)})
            seen.add(_holds(value, op))
            if len(seen) > 1:
                return None
    return seen.pop()


def _holds(value: int, op: str) -> bool:
    return {"==": value == 0, "!=": value != 0, "<": value < 0, "<=": value <= 0,
            ">": value > 0, ">=": value >= 0}[op]


def required_truth(frame: Any) -> bool | None:
    """The truth the code in ``frame`` requires of the test it is making, or None.

    The instruction asking for the truth is a conditional jump; when one of its two ways runs
    straight (no branch, loop or return) into a ``raise`` (``assert``, whose failing way is
    ``LOAD_ASSERTION_ERROR ... RAISE_VARARGS``; ``if h % 8: raise ValueError(...)``; an assert
    rewritten by pytest; ``torch._assert``'s own ``if not condition: raise``), the forward
    requires the other way.  Python compiles ``assert`` and ``if ...: raise`` to exactly that.
    """
    try:
        code, at = frame.f_code, frame.f_lasti
    except AttributeError:
        return None
    ins, where = _instructions(code)
    i = where.get(at)
    if i is None:
        return None
    if ins[i].opname == "TO_BOOL" and i + 1 < len(ins):  # Python 3.13: the test, then the jump
        i += 1
    name = ins[i].opname
    if "JUMP" not in name or "NONE" in name or ("IF_TRUE" not in name and
                                                "IF_FALSE" not in name):
        return None
    jumps_when = "IF_TRUE" in name
    jumped, fallen = _raises(ins, where, where.get(ins[i].argval)), _raises(ins, where, i + 1)
    if fallen and not jumped:
        return jumps_when
    if jumped and not fallen:
        return not jumps_when
    return None


def _raises(ins: list[Any], where: dict[int, int], i: int | None) -> bool:
    """Whether the code from instruction ``i`` runs straight into a ``raise``."""
    for _ in range(64):
        if i is None or i >= len(ins):
            return False
        op = ins[i].opname
        if op == "RAISE_VARARGS":
            return True
        if op == "JUMP_FORWARD":  # chained comparisons reach the raise through one
            i = where.get(ins[i].argval)
            continue
        if "JUMP" in op or op.startswith(("RETURN", "YIELD", "RERAISE")) or op in (
                "FOR_ITER", "SEND", "END_FOR"):
            return False
        i += 1
    return False


@functools.lru_cache(maxsize=256)
def _instructions(code: Any) -> tuple[list[Any], dict[int, int]]:
    """A code object's instructions and the index of each by its byte offset."""
    ins = list(dis.get_instructions(code))
    return ins, {x.offset: i for i, x in enumerate(ins)}


ASSERTED = "the forward requires it (an assert, or a raise otherwise)"


FOLLOWED = "the forward's branch on sizes is followed as it goes for large inputs"


class SizeTests:
    """Tests and division of traced sizes (mixed into :class:`~convsym.importers.torch_trace.
    Trace`)."""

    def decide(self: Trace, left: QPoly, op: str, right: QPoly, text: str) -> bool | SymBool:
        """``left <op> right`` when it is the same for every value of the symbols, else the
        undecided test (its truth is taken where Python asks for it: :meth:`truth`)."""
        def nonneg(e: QPoly) -> bool:
            c = as_int(e)
            return c >= 0 if c is not None else bool(decide_nonneg(e).holds)

        diff = left - right
        minus = diff * QPoly.const(-1)
        one = QPoly.const(1)
        if op in ("==", "!="):
            if as_int(diff) == 0:
                return op == "=="
            if nonneg(diff - one) or nonneg(minus - one):
                return op == "!="
        elif op in (">=", "<"):
            if nonneg(diff):
                return op == ">="
            if nonneg(minus - one):
                return op == "<"
        else:  # ">" and "<="
            if nonneg(diff - one):
                return op == ">"
            if nonneg(minus):
                return op == "<="
        return SymBool(left, op, right, text, self)

    def truth(self: Trace, test: SymBool, frame: Any) -> bool:
        """The truth of an undecided test, where the code in ``frame`` asks for it.

        * ``assert test`` or ``if not test: raise ...``: true, kept as a condition of the
          network (a :class:`Require` row);
        * an order (``<``, ``>=``, ...) in an ``if``, ``max`` or ``min``: the way it goes for
          every large input (sampled), kept as a condition, so the network is exact where it
          is claimed and says for which inputs (as torch.export's guards do);
        * anything else (``==``, ``%``, a test that flips between large inputs): refused,
          naming the line, since either branch would be a guess at the user's inputs.
        """
        needed = required_truth(frame)
        if needed is not None:  # the other way raises: required
            self.asserted(test if needed else test.negated())
            return needed
        self.per_sample(test)
        if test.op not in ("==", "!="):
            taken = eventually(test.diff, test.op)
            if taken is not None:
                self.required(test if taken else test.negated(), FOLLOWED)
                return taken
        raise self.fail(f"the forward branches on a size: {test.text} holds for some input "
                        "sizes and not others, so the network's shapes would depend on which; "
                        "give concrete sizes for this axis", "branches_on_size")

    def asserted(self: Trace, test: SymBool) -> bool:
        """``assert test`` / ``torch._assert(test, ...)``: true, as a condition."""
        self.per_sample(test)
        self.required(test, ASSERTED)
        return True

    def per_sample(self: Trace, test: SymBool) -> None:
        """Refuse a test of the batch size (a condition on it has no place in the shapes)."""
        if BATCH_SYMBOL in test.diff.free_symbols():
            raise self.fail(f"the forward tests the batch size ({test.text}); convsym's "
                            "shapes are per sample", "batch_size")

    def required(self: Trace, test: SymBool, why: str) -> None:
        """A :class:`Require` row stating ``test`` (on the newest tensor: the row shows where
        in the forward the condition arose)."""
        self.required_count += 1
        if self.required_count > MAX_REQUIRED:
            raise self.fail(f"the forward tests symbolic sizes more than {MAX_REQUIRED} times "
                            "(a loop over a size?)", "branches_on_size")
        where = location(traceback.extract_stack())
        layer = Require(to_sympy(test.left), test.op, to_sympy(test.right), f"{why} ({where})")
        last = self.tensor(len(self.b.nodes) - 1)
        self.add(layer, "assert" if why == ASSERTED else "branch", [last])

    def floordiv(self: Trace, a: QPoly, d: QPoly) -> QPoly:
        if as_int(d) is not None and as_int(d) <= 0:  # type: ignore[operator]
            raise self.fail(f"floor division of a size by {to_sympy(d)}", "size_arithmetic")
        exact = exact_quotient(a, d) if as_int(d) is None else None
        if exact is not None:  # (B * nW) // nW: the quotient, whatever nW's form
            self.nonzero_divisor(d)
            return exact
        batch = QPoly.sym(BATCH_SYMBOL)
        windows = exact_quotient(a, batch) if BATCH_SYMBOL in a.free_symbols() else None
        if windows is not None and BATCH_SYMBOL not in windows.free_symbols() and \
                as_int(d) is None and self.same_windows(windows, d):
            self.nonzero_divisor(d)
            return batch  # B*F // nW with F and nW written differently, equal
        try:
            return floordiv(a, d)
        except NotQuasiPolynomial:
            raise self.fail(f"floor division by {to_sympy(d)}, which is not a number or a "
                            "product of symbols", "size_arithmetic") from None

    def nonzero_divisor(self: Trace, d: QPoly) -> None:
        """A symbolic divisor of sizes (``n = H // 8; (C * n) // n``) is at least 1 wherever
        the forward runs, since Python raises ZeroDivisionError at 0: proved, or kept as a
        condition of the network (a Require row), or refused where it is never 1 or more."""
        text = f"{to_sympy(d)} >= 1 (a divisor of sizes)"
        test = self.decide(d, ">=", QPoly.const(1), text)
        if test is True:
            return
        if test is False:
            raise self.fail(f"floor division of a size by {to_sympy(d)}, which is never 1 or "
                            "more", "size_arithmetic")
        self.per_sample(test)
        self.required(test, "Python's floor division by a size needs it to be 1 or more")
