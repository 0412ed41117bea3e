"""A corpus of statements with known truth, for the proof engine's tests and benchmark.

Each :class:`Case` is a statement and its assumptions in the safe parser's syntax, whether it
is true, and whether its divisors are concrete or symbolic.  :func:`evaluate` is an
independent evaluator (Python's ``ast`` and exact fractions; neither SymPy nor convsym) used
to confirm counterexamples and to sample the truth labels.
"""

from __future__ import annotations

import ast
import functools
import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Case:
    """One statement with its known truth."""

    statement: str
    assume: tuple[str, ...] = ()
    true: bool = True
    symbolic: bool = False
    note: str = ""


RESNET_CHAIN = ("floor((floor((floor((floor((floor((n + 2*3 - 7)/2) + 1 + 2*1 - 3)/2) + 1"
                " + 2*1 - 3)/2) + 1 + 2*1 - 3)/2) + 1 + 2*1 - 3)/2) + 1")
TF_SAME = "floor((n + max((ceiling(n/s) - 1)*s + k - n, 0) - k)/s) + 1"
TF_SAME_DILATED = ("floor((n + max((ceiling(n/s) - 1)*s + d*(k - 1) + 1 - n, 0) - d*(k - 1)"
                   " - 1)/s) + 1")

MUST_PROVE = (
    Case("floor((n - k)/s) + 1 == ceiling((n - k + 1)/s)", ("n >= k",), symbolic=True,
         note="valid convolution, two ways"),
    Case("ceiling(ceiling(n/a)/b) == ceiling(n/(a*b))", symbolic=True,
         note="nested ceiling collapse"),
    Case(f"{RESNET_CHAIN} == ceiling(n/32)", note="ResNet-50 spatial chain"),
    Case(f"{TF_SAME} == ceiling(n/s)", symbolic=True, note="TF 'same' for every kernel"),
)

TRUE_CONCRETE = (
    Case("floor(n/2) + ceiling(n/2) == n"),
    Case("ceiling(n/2) - floor(n/2) <= 1"),
    Case("floor((n + 2*1 - 3)/2) + 1 == ceiling(n/2)", note="3x3 stride 2 padding 1"),
    Case("floor((n - 1)/2) + 1 == ceiling(n/2)"),
    Case("floor(n/4) + floor((n + 1)/4) + floor((n + 2)/4) + floor((n + 3)/4) == n"),
    Case("floor(n/4) + floor((n + 1)/4) + floor((n + 2)/4) == floor(3*n/4)"),
    Case("floor(floor(n/3)/5) == floor(n/15)"),
    Case("ceiling(ceiling(n/3)/5) == ceiling(n/15)"),
    Case("n % 3 + 3*floor(n/3) == n"),
    Case("floor((2*n + 1)/4) == floor(n/2)"),
    Case("floor(n/2) <= n/2"),
    Case("2*floor(n/2) <= n"),
    Case("floor(n/3) + floor(n/6) <= floor(n/2)"),
    Case("floor((n + 5)/3) >= floor(n/3) + 1"),
    Case("floor(n/7) != n + 1"),
    Case("n % 4 < 4"),
    Case("floor((n - 3)/2) + 1 == floor((n - 1)/2)"),
    Case("ceiling((n - 2)/2) == floor((n - 1)/2)"),
    Case("ceiling((n - 3)/2) + 1 >= floor((n - 3)/2) + 1", ("n >= 3",),
         note="PyTorch ceil_mode is never smaller"),
    Case("floor((n - 5)/2) + 1 >= 1", ("n >= 5",)),
    Case("floor(n/2) >= 1", ("n >= 2",)),
    Case("2*floor(n/2) == n", ("n % 2 == 0",)),
    Case("floor(n/10) == 0", ("n <= 9",)),
    Case("floor((n + 2*p - 3)/2) + 1 >= floor((n - 3)/2) + 1", ("p >= 0", "n >= 3")),
    Case("floor((n - k)/2) >= 0", ("n >= k",)),
    Case("floor(n/6) == floor(floor(n/2)/3)"),
    Case("floor((n + 1)/2) + floor(n/2) == n", ("n <= 1000",)),
    Case("(n + 1)/2 >= ceiling(n/2)"),
    Case("floor(n/2) + floor(m/2) <= floor((n + m)/2)"),
)

TRUE_SYMBOLIC = (
    Case("floor(floor(n/a)/b) == floor(n/(a*b))", symbolic=True),
    Case(f"{TF_SAME_DILATED} == ceiling(n/s)", symbolic=True),
    Case("floor(n/s) <= n", symbolic=True),
    Case("s*floor(n/s) <= n", symbolic=True),
    Case("s*floor(n/s) + s > n", symbolic=True),
    Case("ceiling(n/s) >= 1", symbolic=True),
    Case("floor((n + s - 1)/s) == ceiling(n/s)", symbolic=True),
    Case("n % s < s", symbolic=True),
    Case("floor(n/s) >= floor(n/(s + 1))", symbolic=True),
    Case("floor(x/d) + floor(x/d + 1/2) == floor(2*x/d)", symbolic=True),
    Case("floor(n/(2*s)) + floor((n + s)/(2*s)) == floor(n/s)", symbolic=True),
    Case("floor((n + 2*p - d*(k - 1) - 1)/s) + 1 >= 1", ("p >= 0", "n + 2*p >= d*(k - 1) + 1"),
         symbolic=True, note="a window fits, so the output is at least 1"),
    Case("ceiling((n - k + 1)/s) <= ceiling(n/s)", symbolic=True),
    Case("(n % (a*b)) % a == n % a", symbolic=True),
    Case("s*floor(n/s) + n % s == n", symbolic=True),
    Case("(n + s - 1)/s >= ceiling(n/s)", symbolic=True),
    Case("floor(((n - 1)*s + k - k)/s) + 1 == n", symbolic=True,
         note="transposed convolution then convolution"),
    Case("max(n, m) >= min(n, m)", symbolic=True),
    Case("max(a, b) + min(a, b) == a + b", symbolic=True),
    Case("abs(n - m) == max(n, m) - min(n, m)", symbolic=True),
    Case("floor((n + 2*p - k)/s) + 1 <= n + 2*p - k + 1", ("p >= 0", "n + 2*p >= k"),
         symbolic=True),
    Case("floor(n/a) >= floor(n/b)", ("a <= b",), symbolic=True),
    Case("ceiling(n/s)*s >= n", symbolic=True),
    Case("ceiling(n/s)*s < n + s", symbolic=True),
    Case("floor((n - k)/s) >= 0", ("n >= k",), symbolic=True),
    Case("ceiling(n/s) - floor(n/s) <= 1", symbolic=True),
    Case("floor(-n/s) == -ceiling(n/s)", symbolic=True),
    Case("floor((n + k)/s) >= floor(n/s) + floor(k/s)", symbolic=True),
    Case("floor((n + k)/s) <= floor(n/s) + floor(k/s) + 1", symbolic=True),
    Case("n/s <= ceiling(n/s)", symbolic=True),
    Case("floor((n - k)/s) + 1 <= floor((n - 1)/s) + 1", symbolic=True,
         note="a bigger kernel never gives a bigger output"),
)

FALSE = (
    Case("floor(n/2) == ceiling(n/2)", true=False),
    Case("floor(n/2) + floor(n/3) == floor(5*n/6)", true=False),
    Case("floor((n + 2 - 3)/2) + 1 == floor(n/2)", true=False),
    Case("ceiling(n/3) == floor((n + 1)/3)", true=False),
    Case(f"{RESNET_CHAIN} == ceiling(n/16)", true=False),
    Case("2*floor(n/2) == n", true=False),
    Case("floor(n/2) < n/2", true=False),
    Case("n % 3 != 0", true=False),
    Case("floor(n/10) == 0", ("n <= 10",), true=False),
    Case("2*floor(n/2) == n", ("n % 4 == 1",), true=False),
    Case("floor((n - 5)/2) + 1 >= 1", ("n >= 4",), true=False),
    Case("floor(n/3) >= 1", true=False),
    Case("floor(n/2) + floor(n/2) >= n", true=False),
    Case("ceiling(n/4) == ceiling(ceiling(n/2)/3)", true=False),
    Case("floor((n - 3)/2) + 1 == ceiling(n/2)", true=False),
    Case("n - 2*floor(n/2) != 1", true=False),
    Case("(n + 1)/2 == ceiling(n/2)", true=False),
    Case("floor(floor(n/a)/b) == floor(n/(a + b))", true=False, symbolic=True),
    Case("floor(n/s) + 1 == ceiling(n/s)", true=False, symbolic=True),
    Case("floor((n - k)/s) + 1 == ceiling((n - k)/s)", ("n >= k",), true=False, symbolic=True),
    Case("ceiling(n/s)*s == n", true=False, symbolic=True),
    Case(f"{TF_SAME} == floor(n/s)", true=False, symbolic=True),
    Case("floor((n + 2*p - k)/s) + 1 >= 1", ("p >= 0",), true=False, symbolic=True),
    Case("floor(n/s) >= floor(n/(s - 1))", ("s >= 2",), true=False, symbolic=True),
    Case("floor(n/a) >= floor(n/b)", ("a >= b",), true=False, symbolic=True),
    Case("s*floor(n/s) == n", true=False, symbolic=True),
    Case("n % s <= s - 2", true=False, symbolic=True),
    Case("ceiling(n/s) - floor(n/s) == 1", true=False, symbolic=True),
    Case("floor((n + k)/s) == floor(n/s) + floor(k/s)", true=False, symbolic=True),
    Case("max(a, b) == a", true=False, symbolic=True),
    Case("abs(p - 1) == p - 1", ("p >= 0",), true=False, symbolic=True),
    Case("floor(x/d) + floor(x/d + 1/2) == floor(2*x/d) + 1", true=False, symbolic=True),
    Case("floor(n/s) != n", true=False, symbolic=True),
    Case("ceiling((n - k + 1)/s) == ceiling(n/s)", true=False, symbolic=True),
    Case("floor(n/s) <= n - 1", true=False, symbolic=True),
)

CASES: tuple[Case, ...] = MUST_PROVE + TRUE_CONCRETE + TRUE_SYMBOLIC + FALSE
"""Every case: the must-prove list, true ones (concrete, symbolic) and false ones."""


# --- an independent evaluator ----------------------------------------------------------------


def _value(node: ast.AST, env: dict[str, int]) -> Fraction:
    if isinstance(node, ast.Expression):
        return _value(node.body, env)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return Fraction(node.value)
    if isinstance(node, ast.Name):
        return Fraction(env[node.id])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand, env)
    if isinstance(node, ast.BinOp):
        a, b = _value(node.left, env), _value(node.right, env)
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        if isinstance(node.op, ast.Div):
            return a / b
        if isinstance(node.op, ast.FloorDiv):
            return Fraction(math.floor(a / b))
        if isinstance(node.op, ast.Mod):
            return a - b * math.floor(a / b)
        if isinstance(node.op, ast.Pow):
            return a ** int(b)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [_value(x, env) for x in node.args]
        funcs = {"floor": lambda x: Fraction(math.floor(x)),
                 "ceiling": lambda x: Fraction(math.ceil(x)), "abs": abs,
                 "max": max, "min": min}
        return funcs[node.func.id](*args)  # type: ignore[operator, no-any-return]
    raise ValueError(f"cannot evaluate {ast.dump(node)}")


_COMPARE = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
            ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
            ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}


@functools.cache
def _tree(text: str) -> ast.Compare:
    tree = ast.parse(text, mode="eval").body
    assert isinstance(tree, ast.Compare) and len(tree.ops) == 1
    return tree


def evaluate(text: str, env: dict[str, int]) -> bool:
    """The truth of a relation at integer values, or ZeroDivisionError where undefined."""
    tree = _tree(text)
    left, right = _value(tree.left, env), _value(tree.comparators[0], env)
    return bool(_COMPARE[type(tree.ops[0])](left, right))


@functools.cache
def names(case: Case) -> frozenset[str]:
    """Every variable name in the case."""
    out: set[str] = set()
    for text in (case.statement, *case.assume):
        tree = _tree(text)
        called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        out |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}
    return frozenset(out)


@functools.cache
def lower_bounds(case: Case) -> dict[str, int]:
    """Each name's lowest value: 1, or the constant of an assumption ``name >= c``; for a
    name with only an upper bound ``name <= c`` below 1, the lowest value checked (it has
    no lower bound: see :func:`ranges`)."""
    low = {n: 1 for n in names(case)}
    high: dict[str, int] = {}
    explicit: set[str] = set()
    for text in case.assume:
        tree = _tree(text)
        right = tree.comparators[0]
        if not (isinstance(tree.left, ast.Name)
                and not any(isinstance(x, ast.Name) for x in ast.walk(right))):
            continue
        if isinstance(tree.ops[0], ast.GtE):
            low[tree.left.id] = int(_value(right, {}))
            explicit.add(tree.left.id)
        elif isinstance(tree.ops[0], ast.LtE):
            high[tree.left.id] = int(_value(right, {}))
    for name, hi in high.items():
        if name not in explicit and hi < 1:
            low[name] = UNBOUNDED
    return low


UNBOUNDED = -(10**9)
"""The lower bound of a symbol that has none (only an upper bound below 1)."""


def ranges(case: Case, width: int) -> dict[str, range]:
    """``width`` values of each name from its lowest (or, unbounded below, up to 0)."""
    out = {}
    for name, lo in lower_bounds(case).items():
        out[name] = range(-width + 1, 1) if lo == UNBOUNDED else range(lo, lo + width)
    return out


def violates(case: Case, env: dict[str, int]) -> bool:
    """True when ``env`` is in the domain, satisfies every assumption and breaks the
    statement (independently of convsym)."""
    low = lower_bounds(case)
    # a name the parser cancelled (``0*n``) may be missing: any value of it will do
    env = {**{n: (0 if v == UNBOUNDED else v) for n, v in low.items()}, **env}
    if set(env) != set(low) or any(env[n] < low[n] for n in low):
        return False
    try:
        if not all(evaluate(a, env) for a in case.assume):
            return False
        return not evaluate(case.statement, env)
    except ZeroDivisionError:
        return False
