"""Exact evaluation of statements in plain Python integers and fractions (no SymPy ``subs``).

A statement is compiled once into straight-line code (no recursion, so deep nests of floors
are fine) and run on integer points.  This is the re-check every counterexample passes before
it is reported, and the engine of the bounded search.  A division by zero makes the point
*undefined*: it is neither a counterexample nor evidence.

>>> from convsym.expr import parse_expr
>>> prog = Program([parse_expr("floor((n - k)/s) + 1"), parse_expr("ceiling((n-k+1)/s)")])
>>> prog.run({"n": 7, "k": 3, "s": 2})
[3, 3]
>>> prog.run({"n": 1, "k": 1, "s": 5})
[1, 1]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import sympy

from convsym.errors import ExpressionError

Number = int | Fraction

_OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
MAX_EXPONENT = 4096


class Undefined(ArithmeticError):
    """A division by zero at this point: the statement says nothing here."""


def holds(op: str, a: Number, b: Number) -> bool:
    """``a op b`` for one of ``== != < <= > >=``.

    >>> holds("<=", 2, Fraction(5, 2))
    True
    """
    return bool(_OPS[op](a, b))


def _unsupported(expr: sympy.Basic, why: str) -> ExpressionError:
    return ExpressionError(f"cannot prove statements containing {expr}: {why}",
                           code="unsupported_expression")


class Program:
    """Several SymPy expressions compiled together; :meth:`run` evaluates them at a point.

    Raises :class:`~convsym.errors.ExpressionError` (code ``unsupported_expression``) for
    anything outside integer arithmetic with floor, ceiling, Mod, Min, Max and Abs.
    """

    def __init__(self, roots: Sequence[sympy.Basic]) -> None:
        self.code: list[tuple[str, Any]] = []
        self.names: set[str] = set()
        slot: dict[sympy.Basic, int] = {}
        for root in roots:
            self._compile(root, slot)
        self.roots = [slot[r] for r in roots]

    def _compile(self, root: sympy.Basic, slot: dict[sympy.Basic, int]) -> None:
        stack: list[tuple[sympy.Basic, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if node in slot:
                continue
            if not ready:
                stack.append((node, True))
                if not node.is_Atom:
                    stack.extend((a, False) for a in node.args)
                continue
            slot[node] = len(self.code)
            self.code.append(self._instruction(node, slot))

    def _instruction(self, node: sympy.Basic, slot: dict[sympy.Basic, int]
                     ) -> tuple[str, Any]:
        if isinstance(node, sympy.Integer):
            return ("const", int(node))
        if isinstance(node, sympy.Rational):
            return ("const", Fraction(int(node.p), int(node.q)))
        if isinstance(node, sympy.Symbol):
            if node.is_integer is False:
                raise _unsupported(node, "the symbol is declared not to be an integer")
            self.names.add(node.name)
            return ("sym", node.name)
        args = [slot[a] for a in node.args]
        if isinstance(node, sympy.Add):
            return ("add", args)
        if isinstance(node, sympy.Mul):
            return ("mul", args)
        if isinstance(node, sympy.Pow):
            exp = node.args[1]
            if not isinstance(exp, sympy.Integer) or abs(int(exp)) > MAX_EXPONENT:
                raise _unsupported(node, f"only integer powers up to {MAX_EXPONENT} are supported")
            return ("pow", (args[0], int(exp)))
        for cls, name in ((sympy.floor, "floor"), (sympy.ceiling, "ceiling"),
                          (sympy.Abs, "abs"), (sympy.Mod, "mod"), (sympy.Min, "min"),
                          (sympy.Max, "max")):
            if isinstance(node, cls):
                return (name, args)
        if isinstance(node, sympy.Float):
            raise _unsupported(node, "a float is not an integer")
        raise _unsupported(node, f"{type(node).__name__} is not integer arithmetic")

    def run(self, env: Mapping[str, int]) -> list[Number]:
        """The value of every root at ``env`` (names to integers); raises :class:`Undefined`."""
        values: list[Number] = []
        for op, arg in self.code:
            values.append(_step(op, arg, values, env))
        return [values[r] for r in self.roots]


def _step(op: str, arg: Any, v: list[Number], env: Mapping[str, int]) -> Number:
    if op == "const":
        const: Number = arg
        return const
    if op == "sym":
        return int(env[arg])
    if op == "add":
        total: Number = 0
        for i in arg:
            total += v[i]
        return _norm(total)
    if op == "mul":
        prod: Number = 1
        for i in arg:
            prod *= v[i]
        return _norm(prod)
    if op == "pow":
        base_i: int = arg[0]
        exp: int = arg[1]
        base = v[base_i]
        if exp >= 0:
            return _norm(base**exp)
        if base == 0:
            raise Undefined("division by zero")
        return _norm(Fraction(1) / Fraction(base) ** (-exp))
    args: list[Number] = [v[i] for i in arg]
    if op == "floor":
        return int(math.floor(args[0]))
    if op == "ceiling":
        return int(math.ceil(args[0]))
    if op == "abs":
        return -args[0] if args[0] < 0 else args[0]
    if op == "mod":
        a, b = args
        if b == 0:
            raise Undefined("Mod by zero")
        return _norm(a - b * int(math.floor(Fraction(a) / Fraction(b))))
    if op == "min":
        return min(args)
    return max(args)


def _norm(x: Number) -> Number:
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x.numerator)
    return x
