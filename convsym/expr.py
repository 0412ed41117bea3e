"""The one safe parser: user text to SymPy expressions and relations, never evaluated.

Text is parsed with :mod:`ast`; only whitelisted nodes become SymPy, under budgets (text
length, AST nodes, nesting depth, integer size, literal small exponents).  Every identifier is
a positive-integer :class:`sympy.Symbol`: ``N``, ``S``, ``E``, ``I``, ``pi`` and ``oo`` are
ordinary names here, never SymPy constants.

>>> parse_expr("2*m+1")
2*m + 1
>>> parse_expr("n//2")
floor(n/2)
>>> parse_expr("ceil((H + 2*p - k)/s) + 1")
ceiling((H - k + 2*p)/s) + 1
>>> parse_relation("floor((n-k)/s)+1 == ceiling((n-k+1)/s)")
Eq(floor((-k + n)/s) + 1, ceiling((-k + n + 1)/s))
>>> parse_relation("p >= 1")  # stays a relation although p is a positive symbol
p >= 1
>>> parse_expr("E + I + N + S") == symbol("E") + symbol("I") + symbol("N") + symbol("S")
True

Choices: only ASCII text is accepted (Python would silently NFKC-normalise ``ℌ`` to ``H``,
and non-ASCII digits are not numbers to it); a lone ``=`` in a relation means ``==``;
chained comparisons (``a <= b <= c``) are rejected: write two conditions.  ``min``/``max``
are flattened and, like ``Mod``, left unevaluated unless all arguments are numbers, because
SymPy's evaluation of them can take minutes on text within our budgets.  ``ast.parse`` runs
with warnings silenced (it warns on text like ``2(3)``); swapping filters is not thread-safe.
"""

from __future__ import annotations

import ast
import keyword
import math
import numbers
import re
import warnings
from collections.abc import Callable
from typing import Any, NoReturn

import sympy
from sympy.core.relational import Relational
from sympy.logic.boolalg import BooleanAtom

from convsym.errors import (
    BudgetExceeded,
    ConvsymError,
    ConvsymTypeError,
    ExpressionError,
    UsageError,
    did_you_mean,
    shorten,
)

__all__ = ["MAX_DEPTH", "MAX_EXPONENT", "MAX_INT", "MAX_MINMAX_ARGS", "MAX_NODES"]
__all__ += ["MAX_TEXT_LENGTH", "as_expr", "as_relation", "parse_expr", "parse_relation"]
__all__ += ["symbol", "symbols"]

MAX_TEXT_LENGTH = 2000
MAX_NODES = 500
MAX_DEPTH = 50
MAX_INT = 2**62
MAX_EXPONENT = 64
# SymPy's assumptions cost about 0.2 s per min/max argument once floors are involved
# (floor(max(21 such args)/3) took 3.3 s in `(Max/3).is_integer`), so cap them in all.
MAX_MINMAX_ARGS = 8

_CACHE: dict[tuple[str, bool], sympy.Symbol] = {}
_LONE_EQ = re.compile(r"(?<![=<>!:])=(?!=)")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_NOT_FINITE = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
_FLAT = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_MAX_SYMPY_NODES = 10 * MAX_NODES  # a SymPy value passed in (not parsed): a looser cap
_RELATIONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def symbol_power(base: sympy.Symbol, exp: int) -> sympy.Expr:
    """``base**exp`` for an integer ``exp`` other than 0.  A plain symbol has no
    ``_eval_power``, so ``Pow`` leaves ``s**e`` as it is: built here without ``Pow``'s
    evaluation, which sympifies and tests its arguments on every call (a share of each
    layer of a chain with a symbolic stride).

    >>> s = symbol("s")
    >>> [symbol_power(s, e) == s**e for e in (2, 900, -3)], symbol_power(s, 1) is s
    ([True, True, True], True)
    """
    if exp == 1:
        return base
    if type(base) is not sympy.Symbol:
        return sympy.Pow(base, exp)
    power = sympy.Integer(exp)
    hooks = sympy.Basic._constructor_postprocessor_mapping
    if any(c in hooks for c in type(base).__mro__) or \
            any(c in hooks for c in type(power).__mro__):
        return sympy.Pow(base, power, evaluate=False)
    # what Pow(base, power, evaluate=False) makes when no constructor postprocessor is
    # registered for its arguments' classes, without its per-call lookups of them (which
    # SymPy's cache keeps, and a fresh process or a cleared cache pays for each new power)
    made = sympy.Basic.__new__(sympy.Pow, base, power)
    made.is_commutative = base.is_commutative and power.is_commutative
    return made


def _show(text: str) -> str:
    """``text`` in double quotes, escaped and truncated to 60 characters."""
    text = text if len(text) <= 60 else text[:57] + "..."
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + text.replace("\r", "\\r").replace("\t", "\\t") + '"'


def _show_int(value: int) -> str:
    bits = value.bit_length()
    return f"the integer {value}" if bits <= 100 else f"a {bits}-bit integer"


def _name_problem(name: str) -> str:
    if not (name.isascii() and name.isidentifier()):
        return "a name must be an ASCII Python identifier (letters, digits, _)"
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword, not a name"
    return "names starting with '__' are reserved" if name.startswith("__") else ""


def symbol(name: str, *, nonnegative: bool = False) -> sympy.Symbol:
    """The canonical integer symbol for ``name``: positive, or nonnegative when asked.

    >>> symbol("H") is symbol("H")
    True
    >>> symbol("p", nonnegative=True).is_nonnegative, symbol("p").is_positive
    (True, True)
    """
    if not isinstance(name, str):  # before the cache: a dict name is not even hashable
        raise ConvsymTypeError(f"symbol name = {name!r:.60}: a name must be a str")
    if not isinstance(nonnegative, bool):
        raise ConvsymTypeError(f"symbol nonnegative = {nonnegative!r:.60}: must be True or "
                               "False")
    key = (name, bool(nonnegative))
    found = _CACHE.get(key)
    if found is None:
        problem = _name_problem(name)
        if problem:
            raise ExpressionError(f"symbol name {_show(name)}: {problem}", code="bad_name")
        found = _CACHE.setdefault(key, _new_symbol(name, bool(nonnegative)))
    return found


def _new_symbol(name: str, nonnegative: bool) -> sympy.Symbol:
    """``sympy.Symbol(name, integer=True, positive=True)`` (or ``nonnegative=True``), the
    same object built from the assumptions SymPy canonicalised at import.

    SymPy deduces a symbol's facts from its assumptions once per set of assumptions and
    shares the result (``Symbol._canonical_assumptions``, in SymPy's cache): about 45
    microseconds, paid again by the first symbol after every ``clear_cache`` and by a fresh
    process's first network.  Here the deduction is made at import (:data:`_KNOWN_FACTS`,
    checked against SymPy's own construction; where SymPy builds symbols differently, its
    constructor is used).  tests/unit/test_expr.py compares the two.
    """
    known = _KNOWN_FACTS.get(nonnegative)
    if known is None:
        sign = {"nonnegative": True} if nonnegative else {"positive": True}
        return sympy.Symbol(name, integer=True, **sign)
    facts, given, deduced = known
    made = sympy.Basic.__new__(sympy.Symbol)
    made.name = name
    made._assumptions = facts
    made._assumptions_orig = given
    made._assumptions0 = deduced
    return made


def _facts(nonnegative: bool) -> tuple[Any, Any, Any] | None:
    """What SymPy keeps of the assumptions of an integer symbol, positive or non-negative,
    when its construction is the one :func:`_new_symbol` follows; else None."""
    sign = {"nonnegative": True} if nonnegative else {"positive": True}
    try:
        probe = sympy.Symbol("_convsym_probe", integer=True, **sign)
        facts = (probe._assumptions, probe._assumptions_orig, probe._assumptions0)
        _KNOWN_FACTS[nonnegative] = facts  # (tried, then checked)
        made = _new_symbol("_convsym_probe", nonnegative)
    except (AttributeError, TypeError):
        return None
    finally:
        _KNOWN_FACTS.pop(nonnegative, None)
    same = made == probe and hash(made) == hash(probe) and \
        made.assumptions0 == probe.assumptions0 and \
        made.__getnewargs_ex__() == probe.__getnewargs_ex__() and \
        all(getattr(made, slot) is getattr(probe, slot) for slot in
            ("_assumptions", "_assumptions_orig")) and made._args == probe._args
    return facts if same else None


_KNOWN_FACTS: dict[bool, tuple[Any, Any, Any]] = {}
"""The assumptions of convsym's symbols (positive: False, non-negative: True), deduced by
SymPy at import (:func:`_new_symbol`)."""
for _sign in (False, True):
    _found = _facts(_sign)
    if _found is not None:
        _KNOWN_FACTS[_sign] = _found
_PRISTINE: dict[bool, dict[str, Any]] = {k: dict(v[0]) for k, v in _KNOWN_FACTS.items()}


def forget_facts() -> None:
    """Restore the shared assumptions of convsym's symbols to what SymPy deduced at import
    (a fact asked about later, such as ``is_prime``, is kept in them, as SymPy keeps it):
    the state of a fresh process, for benchmarks of a first run."""
    for k, pristine in _PRISTINE.items():
        facts = _KNOWN_FACTS[k][0]
        facts.clear()
        facts.update(pristine)


def symbols(names: str, **kw: bool) -> tuple[sympy.Symbol, ...]:
    """Several canonical symbols, split on commas and whitespace.

    >>> symbols("H, W k")
    (H, W, k)
    """
    if set(kw) - {"nonnegative"}:
        raise UsageError(f"symbols() takes only nonnegative=, not {sorted(kw)}")
    if not isinstance(names, str):
        raise ConvsymTypeError(f"symbols names = {names!r:.60}: names must be one str")
    parts = [part for part in re.split(r"[,\s]+", names) if part]
    if not parts:
        raise ExpressionError(f"symbols names = {names!r}: no names given", code="bad_name")
    return tuple(symbol(part, **kw) for part in parts)


class _Parser:
    """One parse of one text; points at nodes in the original text."""

    def __init__(self, text: str, field: str, *, relation: bool,
                 namer: Callable[[str], sympy.Symbol] | None = None) -> None:
        self.field, self.original, self.relation = field, text, relation
        self.namer = namer or symbol
        self.lead = len(text) - len(text.lstrip())  # eval mode rejects leading whitespace
        source = text[self.lead :]
        self.inserted: list[int] = []  # where a lone "=" got its second "="
        if relation:
            for match in _LONE_EQ.finditer(source):
                self.inserted.append(match.start() + len(self.inserted) + 1)
            source = _LONE_EQ.sub("==", source)
        self.source = source
        self.line_starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]

    def column(self, line: int, offset: int) -> int:
        """1-based column in the original text of (1-based line, 0-based offset) in source."""
        index = self.line_starts[min(max(line, 1), len(self.line_starts)) - 1] + offset
        return index - sum(1 for pos in self.inserted if pos <= index) + self.lead + 1

    def fail(self, node: ast.AST, rule: str, *, over: bool = False) -> NoReturn:
        """Reject ``node``; ``over`` marks a budget rather than a rule."""
        segment = ast.get_source_segment(self.source, node) or self.source
        col = self.column(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))
        where = "" if segment.strip() == self.original.strip() else f" of {_show(self.original)}"
        cls: type[ConvsymError] = BudgetExceeded if over else ExpressionError
        raise cls(f"{self.field}: cannot use {_show(segment)} at column {col}{where}: {rule}")

    def budget(self, what: str) -> NoReturn:
        raise BudgetExceeded(f"{self.field}: {_show(self.original)}: {what}")

    def syntax(self, col: int, reason: str) -> NoReturn:
        text = f"{self.field}: cannot parse {_show(self.original)} at column {col}: {reason}"
        raise ExpressionError(text, code="syntax")

    def parse(self) -> ast.expr:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(self.source, mode="eval")
        except SyntaxError as err:
            if "too many nested" in (err.msg or ""):
                self.budget(f"brackets nested too deeply; the limit is {MAX_DEPTH}")
            self.explain(err)
        except (RecursionError, MemoryError, ValueError):
            self.budget(f"too deeply nested or too complex; the nesting limit is {MAX_DEPTH}")
        self.check_size(tree.body)
        return tree.body

    def explain(self, err: SyntaxError) -> NoReturn:
        lone = None if self.relation else _LONE_EQ.search(self.source)
        if lone:
            col = lone.start() + self.lead + 1
            self.syntax(col, "an expression has no '=' (H = 8 is a condition, not a size)")
        line, offset, end = err.lineno or 1, err.offset or 0, err.end_offset or 0
        start = self.line_starts[min(max(line, 1), len(self.line_starts)) - 1] + offset - 1
        if offset <= 0 or start >= len(self.source):  # Python reports end of text as offset 0
            self.syntax(len(self.original.rstrip()) + 1, "expected an expression")
        token = self.source[start : start + max(end - offset, 1)]
        msg = (err.msg or "invalid syntax").split(". Perhaps")[0]
        if msg.startswith("invalid syntax"):
            msg = f"unexpected {token!r}" if token.strip() else "expected an expression"
        self.syntax(self.column(line, offset - 1), msg)

    def check_size(self, root: ast.AST) -> None:
        """Count expression nodes and depth without recursion, before building anything."""
        count, lattice, stack = 0, 0, [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in _LATTICE_NAMES:
                lattice += len(node.args)
                if lattice > MAX_MINMAX_ARGS:
                    self.budget(
                        f"more than {MAX_MINMAX_ARGS} min/max arguments in all; "
                        f"the limit is {MAX_MINMAX_ARGS}"
                    )
            if isinstance(node, ast.expr):
                count += 1
                if count > MAX_NODES:
                    self.budget(f"more than {MAX_NODES} expression nodes; the limit is {MAX_NODES}")
                if depth > MAX_DEPTH:
                    self.budget(f"nested {depth} levels deep; the limit is {MAX_DEPTH}")
                depth += 1
            for child in ast.iter_child_nodes(node):
                # the left spine of a + b - c * d ... is one level: binop() builds it in a loop
                # and SymPy flattens it; // and % nest (floor(floor(n/n)/n)), so they count
                flat = (isinstance(node, ast.BinOp) and child is node.left
                        and isinstance(child, ast.BinOp) and isinstance(node.op, _FLAT))
                stack.append((child, depth - 1 if flat else depth))

    def checked(self, value: sympy.Expr, node: ast.AST) -> sympy.Expr:
        """Keep every number in ``value`` finite and within 2**62, every exponent within 64."""
        for sub in sympy.preorder_traversal(value):
            if any(sub is bad for bad in _NOT_FINITE):
                self.fail(node, "the result is not finite (division by zero?)")
            if isinstance(sub, sympy.Rational):
                for part in (int(sub.p), int(sub.q)):
                    if abs(part) > MAX_INT:
                        self.fail(node, f"{_show_int(part)} exceeds the limit 2**62", over=True)
            elif isinstance(sub, sympy.Pow) and sub.exp.is_Integer:
                if abs(int(sub.exp)) > MAX_EXPONENT:  # (n**64)**64 is n**4096
                    rule = f"the power {_show(str(sub))} has an exponent over {MAX_EXPONENT}"
                    self.fail(node, rule, over=True)
        return value

    def expr(self, node: ast.expr) -> sympy.Expr:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            problem = _name_problem(node.id)
            if problem:
                self.fail(node, problem)
            return self.namer(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            operand = self.expr(node.operand)
            return self.checked(-operand, node) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        key = type(node.op) if isinstance(node, ast.UnaryOp) else type(node)
        self.fail(node, _FORBIDDEN.get(key, f"{type(node).__name__} is not allowed"))

    def constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool):
            self.fail(node, f"{value} is a bool, not an integer")
        if isinstance(value, int):
            if abs(value) > MAX_INT:
                self.fail(node, f"{_show_int(value)} exceeds the limit 2**62", over=True)
            return sympy.Integer(value)
        if isinstance(value, float):
            whole = math.isfinite(value) and value.is_integer()
            self.fail(node, _FLOAT + (f": write {int(value)}, not {value}" if whole else ""))
        if isinstance(value, (str, bytes)):
            self.fail(node, "a string is not an expression; write it without quotes")
        self.fail(node, f"{type(value).__name__} {value!r} is not an integer")

    def binop(self, node: ast.BinOp) -> sympy.Expr:
        spine: list[ast.BinOp] = []
        bottom: ast.expr = node
        while isinstance(bottom, ast.BinOp):  # left spine in a loop: 1+1+...+1 is not deep
            spine.append(bottom)
            bottom = bottom.left
        value = self.expr(bottom)
        for step in reversed(spine):
            if isinstance(step.op, ast.Pow):
                value = self.power(step, value)
                continue
            if type(step.op) not in _ARITH:
                self.fail(step, _FORBIDDEN.get(type(step.op), "this operator is not allowed"))
            right = self.expr(step.right)
            if isinstance(step.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
                self.fail(step, "division by zero")
            value = self.checked(_ARITH[type(step.op)](value, right), step)
        return value

    def power(self, node: ast.BinOp, base: sympy.Expr) -> sympy.Expr:
        exp = node.right
        if isinstance(exp, ast.UnaryOp) and isinstance(exp.op, ast.USub):
            self.fail(node, "negative exponents are not allowed (the result is not an integer)")
        if isinstance(exp, ast.UnaryOp) and isinstance(exp.op, ast.UAdd):
            exp = exp.operand
        if not isinstance(exp, ast.Constant) or type(exp.value) is not int:
            if isinstance(exp, ast.Constant):
                self.constant(exp)  # explains floats, bools and strings
            self.fail(node, f"the exponent must be an integer literal from 0 to {MAX_EXPONENT}")
        if exp.value > MAX_EXPONENT:
            self.fail(node, f"the exponent {exp.value} exceeds the limit {MAX_EXPONENT}", over=True)
        # Numbers in the base are within 2**62, so even base**64 is cheap before the check.
        return self.checked(base ** sympy.Integer(exp.value), node)

    def call(self, node: ast.Call) -> sympy.Expr:
        func = node.func
        if isinstance(func, ast.Attribute):
            self.fail(func, "attribute access is not allowed")
        if not isinstance(func, ast.Name):
            self.fail(node, f"only these functions can be called: {_FUNCTION_LIST}")
        if func.id not in _FUNCTIONS:
            hint = did_you_mean(func.id, _FUNCTIONS)
            self.fail(node, f"unknown function {func.id!r}{hint}; allowed: {_FUNCTION_LIST}")
        if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
            self.fail(node, "keyword and starred arguments are not allowed")
        low, high, build = _FUNCTIONS[func.id]
        if not low <= len(node.args) <= high:
            want = f"{low}" if low == high else f"at least {low}"
            self.fail(node, f"{func.id}() takes {want} argument(s), not {len(node.args)}")
        args = [self.expr(arg) for arg in node.args]
        if build is _mod and args[1] == 0:  # SymPy raises ZeroDivisionError here
            self.fail(node, "division by zero")
        return self.checked(build(*args), node)


_PLAIN = (sympy.Add, sympy.Mul, sympy.Pow, sympy.Rational, sympy.Symbol, sympy.floor,
          sympy.ceiling)


def _rounding(cls: type[sympy.Function]) -> Callable[[sympy.Expr], sympy.Expr]:
    """floor or ceiling, evaluated by SymPy only over sums, products, powers and roundings.

    Over Min, Max, Mod or Abs SymPy's assumptions are not reliable: whether
    ``Min(0, Mod(y, 1))/3`` is an integer came out False in about one run in ten (the answer
    depends on hashing order), and ``ceiling`` of it then evaluated to 1 instead of 0.
    """

    def build(arg: sympy.Expr) -> sympy.Expr:
        plain = all(isinstance(node, _PLAIN) for node in sympy.preorder_traversal(arg))
        return cls(arg) if plain else cls(arg, evaluate=False)

    return build


_floor, _ceiling = _rounding(sympy.floor), _rounding(sympy.ceiling)


_FLOAT = "a float is not an integer"
_ARITH: dict[type[ast.operator], Callable[[sympy.Expr, sympy.Expr], sympy.Expr]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: _floor(a / b),
    ast.Mod: lambda a, b: _mod(a, b),
}
_BITS, _COMPREHENSIONS = (ast.BitAnd, ast.BitOr, ast.LShift, ast.RShift, ast.Invert), (
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp
)  # fmt: skip
_FORBIDDEN: dict[type[ast.AST], str] = {
    ast.BitXor: "use ** for powers; ^ is not a power here",
    **dict.fromkeys(_BITS, "bit operations are not allowed"),
    **dict.fromkeys(_COMPREHENSIONS, "a comprehension is not allowed"),
    ast.MatMult: "@ is not allowed",
    ast.Attribute: "attribute access is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.NamedExpr: ":= is not allowed",
    ast.Subscript: "indexing is not allowed",
    ast.Compare: "a comparison is not an expression here (conditions are relations)",
    ast.BoolOp: "'and'/'or' are not allowed; write separate conditions",
    ast.Not: "'not' is not allowed; write the opposite comparison",
    ast.IfExp: "'if ... else' is not allowed; use min() or max()",
    ast.Tuple: "a tuple is not one expression (is there a stray comma?)",
    ast.JoinedStr: "an f-string is not an expression",
}


def _mod(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    """``Mod``, evaluated only for numbers: SymPy's Mod.eval took 23 s on a 30-term sum."""
    return sympy.Mod(a, b, evaluate=bool(a.is_Number and b.is_Number))


def _lattice(cls: type[sympy.Expr]) -> Callable[..., sympy.Expr]:
    """Min or Max, flattened and left unevaluated except for its numbers.

    SymPy's own evaluation compares all pairs of arguments through the assumptions system:
    16 nested max() calls took 2.4 s and 64 nested ones 60 s, and floor() of a deeply nested
    unevaluated Max took 90 s.  A flat unevaluated Min/Max costs milliseconds.
    """

    def build(*args: sympy.Expr) -> sympy.Expr:
        flat = [part for arg in args for part in (arg.args if isinstance(arg, cls) else [arg])]
        rest = [arg for arg in flat if not arg.is_Number]
        numbers = [arg for arg in flat if arg.is_Number]
        rest += [cls(*numbers)] if numbers else []
        return cls(*rest, evaluate=False) if len(rest) > 1 else rest[0]

    return build


_FUNCTIONS: dict[str, tuple[int, int, Callable[..., sympy.Expr]]] = {
    "floor": (1, 1, _floor),
    "ceiling": (1, 1, _ceiling),
    "min": (2, MAX_NODES, _lattice(sympy.Min)),
    "max": (2, MAX_NODES, _lattice(sympy.Max)),
    "abs": (1, 1, sympy.Abs),
    "mod": (2, 2, _mod),
}
_FUNCTIONS.update(
    ceil=_FUNCTIONS["ceiling"], Min=_FUNCTIONS["min"], Max=_FUNCTIONS["max"],
    Abs=_FUNCTIONS["abs"], Mod=_FUNCTIONS["mod"],
)  # fmt: skip
_LATTICE_NAMES = ("min", "max", "Min", "Max")
_FUNCTION_LIST = "floor, ceiling (ceil), min, max, abs, mod"


def _prescan(text: object, field: str) -> str:
    """Type, length, characters and bracket depth, checked before ``ast.parse`` sees them."""
    if not isinstance(text, str):
        raise ConvsymTypeError(f"{field} = {text!r:.60}: expected text (a str)")
    if len(text) > MAX_TEXT_LENGTH:
        raise BudgetExceeded(
            f"{field}: text {_show(text)} is {len(text)} characters long; "
            f"the limit is {MAX_TEXT_LENGTH}"
        )
    if not text.strip():
        raise ExpressionError(f"{field}: empty text: expected an expression", code="syntax")
    depth = 0
    for index, char in enumerate(text):
        if not (" " <= char <= "~" or char in "\t\n\r"):
            raise ExpressionError(
                f"{field}: cannot parse {_show(text)} at column {index + 1}: character "
                f"{char!r} (U+{ord(char):04X}) is not allowed; only ASCII text is accepted",
                code="syntax",
            )
        depth = depth + 1 if char in "([{" else max(depth - (char in ")]}"), 0)
        if depth > MAX_DEPTH:
            raise BudgetExceeded(
                f"{field}: {_show(text)}: brackets nested more than {MAX_DEPTH} deep "
                f"at column {index + 1}; the limit is {MAX_DEPTH}"
            )
    return text


def parse_expr(text: str, *, field: str = "expression",
               symbols: Callable[[str], sympy.Symbol] | None = None) -> sympy.Expr:
    """Parse integer-valued arithmetic: ``+ - * / // % **``, names, and a few functions.

    ``/`` is exact, ``//`` is ``floor(a/b)``, ``%`` is ``Mod``; ``**`` takes only an integer
    literal exponent from 0 to 64.  Calls: floor, ceiling (ceil), min/Min, max/Max, abs/Abs,
    mod/Mod (at most 8 min/max arguments in all).  Every integer in the result stays within
    2**62 and every exponent within 64.  ``symbols`` maps a name to its symbol (default:
    :func:`symbol`, a positive integer); SymPy simplifies on the spot with its assumptions,
    so they must be true on the whole domain the result will be decided on
    (:mod:`convsym.domains`).

    >>> parse_expr("n/2")
    n/2
    >>> parse_expr("max(n, m) % 3 + (k + 1)**2")
    (k + 1)**2 + Mod(Max(m, n), 3)
    >>> try:
    ...     parse_expr("n^2", field="H")
    ... except ExpressionError as err:
    ...     print(err)
    H: cannot use "n^2" at column 1: use ** for powers; ^ is not a power here
    >>> parse_expr("2*", field="H")
    Traceback (most recent call last):
    convsym.errors.ExpressionError: H: cannot parse "2*" at column 3: expected an expression
    """
    if symbols is None and isinstance(text, str):
        found = _PARSED.get(text)  # a deep network repeats its hyperparameters ("s")
        if found is not None:
            return found
    parser = _Parser(_prescan(text, field), field, relation=False, namer=symbols)
    result = parser.expr(parser.parse())
    if symbols is None and isinstance(text, str):
        if len(_PARSED) >= 4096:
            _PARSED.clear()  # bounded; a miss only parses again
        _PARSED[text] = result
    return result


_PARSED: dict[str, sympy.Expr] = {}
"""Parsed texts (successes only: an error names its field, a result does not)."""


def divisors(text: str, *, field: str = "condition",
             symbols: Callable[[str], sympy.Symbol] | None = None) -> list[sympy.Expr]:
    """Every divisor written in ``text`` (of ``/``, ``//``, ``%`` and ``mod``), as parsed.

    SymPy may cancel a division while it builds the whole (``0*floor(n/(k - 3))`` is 0), but
    a point where a written divisor is zero is still outside the statement's meaning, so the
    prover reads the divisors from the text itself.

    >>> divisors("n != k - 2 + 0*floor(n/(k - 3))")
    [k - 3]
    >>> divisors("n % 4 + mod(n, s) == 1")
    [4, s]
    """
    parser = _Parser(_prescan(text, field), field, relation=True, namer=symbols)
    found: list[sympy.Expr] = []
    for node in ast.walk(parser.parse()):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)):
            found.append(parser.expr(node.right))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("mod", "Mod") and len(node.args) == 2:
            found.append(parser.expr(node.args[1]))
    return list(dict.fromkeys(found))


def parse_relation(text: str, *, field: str = "condition",
                   symbols: Callable[[str], sympy.Symbol] | None = None) -> Relational:
    """Parse one comparison (``== != <= < >= >``; a lone ``=`` means ``==``), unevaluated;
    ``symbols`` as in :func:`parse_expr`.

    >>> parse_relation("H = 8")
    Eq(H, 8)
    >>> parse_relation("n <= m <= k")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    convsym.errors.ExpressionError: condition: ... write two conditions: n <= m and m <= k
    """
    parser = _Parser(_prescan(text, field), field, relation=True, namer=symbols)
    node = parser.parse()
    if not isinstance(node, ast.Compare):
        rule = "expected one comparison (==, !=, <, <=, >, >=)"
        parser.fail(node, _FORBIDDEN[ast.BoolOp] if isinstance(node, ast.BoolOp) else rule)
    if len(node.ops) > 1:
        parts = [ast.get_source_segment(parser.source, p) for p in (node.left, *node.comparators)]
        ops = [_RELATIONS.get(type(op), "?") for op in node.ops]
        pairs = " and ".join(f"{parts[i]} {op} {parts[i + 1]}" for i, op in enumerate(ops))
        parser.fail(node, f"a chained comparison is not allowed; write two conditions: {pairs}")
    op = _RELATIONS.get(type(node.ops[0]))
    if op is None:
        parser.fail(node, "only ==, !=, <, <=, >, >= compare here ('is' and 'in' do not)")
    lhs, rhs = parser.expr(node.left), parser.expr(node.comparators[0])
    relation: Relational = sympy.Rel(lhs, rhs, op, evaluate=False)
    return relation


def as_expr(value: object, *, field: str = "value", kind: str = "") -> sympy.Expr:
    """Coerce a size or hyperparameter: an int, text or a SymPy expression; never bool or float.

    >>> as_expr(3), as_expr("H + 1"), as_expr(symbol("W"))
    (3, H + 1, W)
    >>> as_expr(3.0, field="strides", kind="Conv2D")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    convsym.errors.ConvsymTypeError: Conv2D: strides = 3.0: a float is ... write 3, not 3.0
    """
    def head() -> str:  # built only for a message: repr of a huge value is slow or fails
        if isinstance(value, sympy.Basic):
            shown = brief(value, 60)
        else:
            try:
                shown = f"{value!r:.60}"
            except ValueError:  # an integer beyond Python's 4300-digit limit for str()
                shown = f"a {type(value).__name__} too large to print"
        return f"{kind + ': ' if kind else ''}{field} = {shown}: "

    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):  # NumPy bools
        raise ConvsymTypeError(head() + "a bool is not an integer")
    if isinstance(value, sympy.Basic):
        if not isinstance(value, sympy.Expr):
            raise ConvsymTypeError(head() + f"expected a SymPy expression, not {type(value)}")
        _check_sympy(value, head)
        return value
    if isinstance(value, numbers.Integral):
        if abs(int(value)) > MAX_INT:
            raise BudgetExceeded(head() + f"{_show_int(int(value))} exceeds the limit 2**62")
        return sympy.Integer(int(value))
    if isinstance(value, str):
        return parse_expr(value, field=f"{kind} {field}" if kind else field)
    if isinstance(value, numbers.Real):
        number, name = float(value), type(value).__name__
        whole = math.isfinite(number) and number.is_integer()
        rule = _FLOAT if "float" in name else f"a {name} is not an integer"
        raise ConvsymTypeError(
            head() + rule + (f": write {int(number)}, not {value}" if whole else "")
        )
    rule = "a value is required" if value is None else "expected an int or text"
    raise ConvsymTypeError(head() + f"{rule}, not {type(value).__name__}")


def brief(value: sympy.Basic, limit: int = 120) -> str:
    """The text of ``value`` cut to about ``limit`` characters, printing only a few terms of
    a huge sum (printing a polynomial of thousands of terms to quote 60 characters of it in
    a message took seconds).

    >>> brief(sympy.expand((symbol("a") + symbol("b"))**64), 60)
    'a**64 + b**64 + 64*a*b**63 + ... (65 terms)'
    """
    nodes = 0
    for nodes, _ in enumerate(sympy.preorder_traversal(value)):
        if nodes > _BRIEF_NODES:
            break
    if nodes <= _BRIEF_NODES:
        return shorten(value, limit)
    if isinstance(value, sympy.Add):
        terms = sympy.Add.make_args(value)
        shown = " + ".join(brief(t, limit) for t in value.as_ordered_terms()[:3]) \
            if len(terms) <= 64 else " + ".join(brief(t, limit) for t in terms[:3])
        tail = f" + ... ({len(terms)} terms)"
        return shorten(shown, max(limit - len(tail), 20)) + tail
    return f"a {type(value).__name__} of over {_BRIEF_NODES} nodes"


_BRIEF_NODES = 400


def _check_sympy(value: sympy.Basic, head: Callable[[], str]) -> None:
    """Budgets, finiteness and symbol assumptions of a SymPy value passed in (not parsed)."""
    for count, sub in enumerate(sympy.preorder_traversal(value)):
        if count > _MAX_SYMPY_NODES:
            raise BudgetExceeded(head() + f"more than {_MAX_SYMPY_NODES} nodes")
        if isinstance(sub, sympy.Float):
            raise ConvsymTypeError(head() + _FLOAT)
        if any(sub is bad for bad in (*_NOT_FINITE, sympy.I)):
            raise ExpressionError(head() + f"{sub} makes it not a finite real number")
        if isinstance(sub, sympy.Rational) and max(abs(int(sub.p)), int(sub.q)) > MAX_INT:
            big = max(abs(int(sub.p)), int(sub.q))
            raise BudgetExceeded(head() + f"{_show_int(big)} exceeds the limit 2**62")
        if isinstance(sub, sympy.Pow) and sub.exp.is_Integer and \
                abs(int(sub.exp)) > MAX_EXPONENT:
            raise BudgetExceeded(head() + f"an exponent beyond the limit {MAX_EXPONENT}")
        rule = unmodeled(sub) if isinstance(sub, sympy.Symbol) else ""
        if rule:
            raise ExpressionError(head() + rule, code="symbol_assumptions")


_MODELED = [sympy.Symbol("x", **kw).assumptions0 for kw in
            ({}, {"integer": True}, {"integer": True, "positive": True},
             {"integer": True, "nonnegative": True})]


def unmodeled(sym: sympy.Symbol) -> str:
    """Why convsym refuses a SymPy symbol's assumptions ("" when it models them exactly).

    convsym decides over the integers, on a domain given by a lower bound: a symbol may say
    nothing, or integer, optionally positive or nonnegative.  Anything else (even, odd,
    prime, real, rational, negative, ...) would let SymPy simplify with a fact convsym's
    deciders do not know, or claim values that are not integers.

    >>> unmodeled(symbol("n")), unmodeled(sympy.Symbol("n"))
    ('', '')
    >>> print(unmodeled(sympy.Symbol("n", even=True)))  # doctest: +ELLIPSIS
    symbol n was created with even=True; convsym models only integer symbols...
    """
    if sym.assumptions0 in _MODELED:
        return ""
    given = getattr(sym, "_assumptions_orig", None) or sym.assumptions0
    shown = ", ".join(f"{k}={v}" for k, v in sorted(given.items()))
    return (f"symbol {sym.name} was created with {shown}; convsym models only integer "
            "symbols, optionally positive or nonnegative: build it with "
            f"convsym.symbol({sym.name!r}) (or nonnegative=True, or sympy.Symbol(name, "
            "integer=True) for any integer) and state other facts as assumptions, e.g. "
            f"'{sym.name} % 2 == 0' for even")


def as_relation(value: object, *, field: str = "condition",
                symbols: Callable[[str], sympy.Symbol] | None = None) -> Relational:
    """Coerce a condition: text (parsed with ``symbols``, see :func:`parse_expr`) or an
    unevaluated SymPy relation whose symbols convsym models (see :func:`unmodeled`).

    >>> as_relation("n + 2*p >= k")
    n + 2*p >= k
    """
    if isinstance(value, str):
        return parse_relation(value, field=field, symbols=symbols)
    if isinstance(value, Relational):
        for sym in sorted(value.free_symbols, key=str):  # the rest is checked when decided
            rule = unmodeled(sym) if isinstance(sym, sympy.Symbol) else ""
            if rule:
                raise ExpressionError(f"{field}: {rule}", code="symbol_assumptions")
        return value
    if isinstance(value, BooleanAtom):
        raise ExpressionError(
            f"{field} = {value}: SymPy already decided this condition before convsym saw it; "
            'pass it as text ("p >= 1") or build it with evaluate=False',
            code="decided_condition",
        )
    raise ConvsymTypeError(
        f"{field} = {value!r:.60}: expected a condition as text or a SymPy relation, "
        f"not {type(value).__name__}"
    )
