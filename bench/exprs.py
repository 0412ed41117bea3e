"""Peers' size expressions: a small parser for their printed forms, size and exact evaluation.

Peers print expressions in Python/SymPy syntax (``((s0 - 1)//32) + 1`` from torch.export,
``floor(floor(H/2 - 1/2)/2) + 1`` from onnxruntime).  convsym's safe parser
(:func:`convsym.expr.parse_expr`) has budgets (depth 50, 500 nodes, integers below 2**62)
that reject what a peer prints for a 1000-layer chain, and Python's own parser stops at 200
nested parentheses.  So this module reads that one grammar itself: integers, names,
``+ - * / // % **``, parentheses and the calls ``floor``, ``ceiling``, ``Max``, ``Min``,
``Mod``, into a tuple tree.  Nothing is evaluated as code: no ``eval``, ``sympify`` or
SymPy's string parser.

* :func:`to_sympy` builds SymPy from the tree with names as positive integer symbols and
  ``a//b`` as ``floor(a/b)``, exactly as :func:`convsym.expr.parse_expr` reads the same text;
* :func:`size` is ``sympy.count_ops`` of that SymPy expression;
* :func:`value` evaluates the tree exactly with :class:`fractions.Fraction` (fast at any
  depth), which is how agreement with execution is checked.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

import sympy

Tree = Any  # ("num", int) | ("name", str) | (op, left, right) | ("neg", x) | ("call", f, args)

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z_0-9]*)|(//|\*\*|[-+*/%(),]))")
_BINARY = {"+": 10, "-": 10, "*": 20, "/": 20, "//": 20, "%": 20, "**": 40}
_FUNCS = {"floor": "floor", "ceiling": "ceiling", "ceil": "ceiling", "Max": "max",
          "max": "max", "Min": "min", "min": "min", "Mod": "mod"}


@contextmanager
def deep() -> Iterator[None]:
    """Allow deep recursion (a 1000-layer expression nests 1000 calls)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 200000))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def big_stack(fn: Callable[[], Any], stack_bytes: int = 1 << 29) -> Any:
    """``fn()`` in a thread with a large C stack and a high recursion limit.

    SymPy recurses once per nesting level; a 1000-layer nested floor needs more than the
    default 8 MB stack and recursion limit 1000.  Exceptions propagate to the caller.
    """
    import threading

    box: dict[str, Any] = {}

    def target() -> None:
        with deep():
            try:
                box["value"] = fn()
            except BaseException as err:  # re-raised in the calling thread
                box["error"] = err

    old = threading.stack_size(stack_bytes)
    try:
        worker = threading.Thread(target=target)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old)
    if "error" in box:
        raise box["error"]
    return box["value"]


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read {text[pos:pos + 20]!r}")
        out.append(m.group(m.lastindex or 0))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise ValueError(f"expected {expected or 'more'} at token {self.i}, got {tok}")
        self.i += 1
        return tok

    def expr(self, min_prec: int = 0) -> Tree:
        left = self.unary()
        while True:
            op = self.peek()
            prec = _BINARY.get(op or "")
            if op is None or prec is None or prec < min_prec:
                return left
            self.take()
            right = self.expr(prec if op == "**" else prec + 1)
            left = (op, left, right)

    def unary(self) -> Tree:
        tok = self.peek()
        if tok == "-":
            self.take()
            return ("neg", self.expr(30))
        if tok == "+":
            self.take()
            return self.expr(30)
        return self.atom()

    def atom(self) -> Tree:
        tok = self.take()
        if tok == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if tok.isdigit():
            return ("num", int(tok))
        if tok in _FUNCS and self.peek() == "(":
            self.take("(")
            args = [self.expr()]
            while self.peek() == ",":
                self.take(",")
                args.append(self.expr())
            self.take(")")
            return ("call", _FUNCS[tok], tuple(args))
        if re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", tok):
            return ("name", tok)
        raise ValueError(f"unexpected token {tok!r}")


def parse(text: str) -> Tree:
    """The tree of a peer's printed expression."""
    with deep():
        p = _Parser(text)
        tree = p.expr()
        if p.peek() is not None:
            raise ValueError(f"trailing text at token {p.i}")
        return tree


def to_sympy(tree: Tree) -> sympy.Expr:
    """SymPy for a tree, built as :func:`convsym.expr.parse_expr` builds the same text.

    >>> to_sympy(parse("(((s0 - 1)//32)) + 1"))
    floor(s0/32 - 1/32) + 1
    """
    from convsym.expr import symbol

    def build(t: Tree) -> sympy.Expr:
        tag = t[0]
        if tag == "num":
            return sympy.Integer(t[1])
        if tag == "name":
            return symbol(t[1])
        if tag == "neg":
            return -build(t[1])
        if tag == "call":
            args = [build(a) for a in t[2]]
            fn: Callable[..., sympy.Expr] = {
                "floor": sympy.floor, "ceiling": sympy.ceiling, "max": sympy.Max,
                "min": sympy.Min, "mod": sympy.Mod}[t[1]]
            return fn(*args)
        a, b = build(t[1]), build(t[2])
        if tag == "+":
            return a + b
        if tag == "-":
            return a - b
        if tag == "*":
            return a * b
        if tag == "/":
            return a / b
        if tag == "//":
            return sympy.floor(a / b)
        if tag == "%":
            return sympy.Mod(a, b)
        return a ** b

    with deep():
        return build(tree)


def value(tree: Tree, env: Mapping[str, Fraction | int]) -> Fraction:
    """The exact value of a tree at the given name values."""

    def ev(t: Tree) -> Fraction:
        tag = t[0]
        if tag == "num":
            return Fraction(t[1])
        if tag == "name":
            return Fraction(env[t[1]])
        if tag == "neg":
            return -ev(t[1])
        if tag == "call":
            args = [ev(a) for a in t[2]]
            name = t[1]
            if name == "floor":
                return Fraction(math.floor(args[0]))
            if name == "ceiling":
                return Fraction(math.ceil(args[0]))
            if name == "max":
                return max(args)
            if name == "min":
                return min(args)
            return args[0] - args[1] * math.floor(args[0] / args[1])
        a, b = ev(t[1]), ev(t[2])
        if tag == "+":
            return a + b
        if tag == "-":
            return a - b
        if tag == "*":
            return a * b
        if tag == "/":
            return a / b
        if tag == "//":
            return Fraction(math.floor(a / b))
        if tag == "%":
            return a - b * math.floor(a / b)
        if b.denominator != 1:
            raise ValueError("non-integer exponent")
        return a ** int(b)

    with deep():
        return ev(tree)


def size(expr: sympy.Basic) -> int:
    """``sympy.count_ops``: the number of operations (``ceiling(H/32)`` counts 2)."""
    with deep():
        return int(sympy.count_ops(expr))


def sympy_value(expr: sympy.Basic, env: Mapping[str, int]) -> int | None:
    """The integer value of a SymPy size expression with names replaced by integers."""
    with deep():
        mapping = {s: sympy.Integer(env[s.name]) for s in expr.free_symbols if s.name in env}
        result = expr.xreplace(mapping)
        return int(result) if result.is_Integer else None


def short(text: str, limit: int = 160) -> str:
    """``text`` cut to ``limit`` characters with the total length noted."""
    if len(text) <= limit:
        return text
    return f"{text[:limit - 40]} ... [{len(text)} characters in all]"
