"""Deeply nested SymPy expressions, walked with convsym's own stacks instead of Python's.

A chain of layers with a symbolic stride per layer has sizes of floors nested as deep as the
chain: layer 300's size holds 300 floors, each inside the next.  SymPy's own walks over an
expression (``Basic.compare``, ``is_number``, printing, sort keys) recurse once per level and
several frames per floor, so such a size passes Python's recursion limit of 1,000 frames.
The walks convsym needs on them live here, each with an explicit stack and the same answer
as SymPy's:

- :func:`compare` is ``Basic.compare`` (the order of the factors of ``Mul``), remembering the
  pairs it has ordered, so a deep network's rows do not walk the same floors again (classes
  with a ``compare`` of their own, SymPy's ``FiniteSet``, are compared as ``Basic``: they
  are never factors of a size);
- :func:`is_number` is ``Expr.is_number``;
- :func:`inner_first` lists the floors of an expression innermost first, so that printers
  and memoised conversions can take them in that order, one level deep each.

>>> import sympy
>>> x = sympy.Symbol("n")
>>> y = sympy.Symbol("m")
>>> for i in range(2000):
...     x = sympy.floor((x + 1) / 2, evaluate=False)
...     y = sympy.floor((y + 1) / 2, evaluate=False)
>>> compare(x, y), compare(y, x), is_number(x), len(inner_first(x))
(1, -1, False, 2000)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy
from sympy.core.basic import _cmp_name

_ORDERED: dict[tuple[int, int], tuple[int, object, object]] = {}
"""``(id(a), id(b)) -> (order, a, b)``: both are held, so their ids are not reused."""

_LIMIT = 1 << 16


def compare(a: sympy.Basic, b: sympy.Basic) -> int:
    """``a.compare(b)``: -1, 0 or 1 in SymPy's canonical order of classes and contents.

    >>> from convsym.expr import parse_expr
    >>> pairs = [("n", "m"), ("floor(n/2)", "floor(n/3)"), ("2*n", "n + 1"), ("n", "n")]
    >>> all(compare(parse_expr(p), parse_expr(q)) == parse_expr(p).compare(parse_expr(q))
    ...     for p, q in pairs)
    True
    """
    order = _shallow(a, b)
    if order is not None:
        return order
    # frames: [a, b, a's contents, b's contents, index of the next pair]
    stack: list[list[Any]] = [_frame(a, b)]
    order = 0  # the order of the pair last finished
    while True:
        frame = stack[-1]
        _, _, st, ot, i = frame
        if order == 0 and i < len(st):
            frame[4] = i + 1
            left, right = st[i], ot[i]
            if isinstance(left, frozenset):  # (as Basic.compare does)
                left = sympy.Basic(*left)
                right = sympy.Basic(*right) if isinstance(right, frozenset) else right
            if isinstance(left, sympy.Basic):
                inner = _shallow(left, right)
                if inner is None:
                    stack.append(_frame(left, right))
                else:
                    order = inner
            else:
                order = (left > right) - (left < right)
            continue
        x, y = frame[0], frame[1]
        if len(_ORDERED) >= _LIMIT:
            _ORDERED.clear()  # bounded memory; a miss only costs the walk again
        _ORDERED[(id(x), id(y))] = (order, x, y)
        stack.pop()
        if not stack:
            return order


def equal(a: object, b: object) -> bool:
    """``a == b`` for SymPy expressions (the same class and contents, walked iteratively);
    ``==`` for anything else.

    >>> from convsym.expr import parse_expr
    >>> equal(parse_expr("floor(n/2)"), parse_expr("floor(n/2)")), equal(1, 2)
    (True, False)
    """
    if a is b:
        return True
    if isinstance(a, sympy.Basic) and isinstance(b, sympy.Basic):
        if type(a) is not type(b):
            return bool(a == b)  # (numbers of different classes may be equal)
        return compare(a, b) == 0
    return bool(a == b)


def same(a: object, b: object) -> bool:
    """``a == b`` for nested tuples (sort keys of nested floors), walked with a stack.

    >>> x, y = (1,), (1,)
    >>> for _ in range(5000):
    ...     x, y = (0, x), (0, y)
    >>> same(x, y), same(x, (0, y)), same((1, "a"), (1, "b"))
    (True, False, False)
    """
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if type(x) is tuple and type(y) is tuple:
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif type(x) is tuple or type(y) is tuple or x != y:
            return False
    return True


def _frame(a: sympy.Basic, b: sympy.Basic) -> list[Any]:
    return [a, b, a._hashable_content(), b._hashable_content(), 0]


def _shallow(a: sympy.Basic, b: sympy.Basic) -> int | None:
    """The order of ``a`` and ``b`` when known without walking their contents, else None."""
    if a is b:
        return 0
    c: int = _cmp_name(type(a), type(b))
    if c:
        return c
    found = _ORDERED.get((id(a), id(b)))
    if found is not None:
        return found[0]
    st, ot = a._hashable_content(), b._hashable_content()
    c = (len(st) > len(ot)) - (len(st) < len(ot))
    return c if c else None


_NUMBERS: dict[int, tuple[bool, object]] = {}
"""``id(expr) -> (is_number, expr)``, for floors and ceilings (a deep network asks about
each of them once per row)."""


def is_number(expr: sympy.Basic) -> bool:
    """``expr.is_number``: no free symbols (nor undefined functions).

    >>> from convsym.expr import parse_expr
    >>> is_number(parse_expr("floor(7/2) + 1")), is_number(parse_expr("floor(n/2)"))
    (True, False)
    """
    value: dict[int, bool] = {}
    try:
        return _number(expr, value, _SHALLOW_WALK)
    except _TooDeep:  # a tree deeper than a few hundred levels: walked with a stack
        return _number_iteratively(expr, {})


_EXPR_IS_NUMBER = sympy.Expr.is_number


def _number(node: sympy.Basic, value: dict[int, bool], budget: int) -> bool:
    """:func:`is_number` by recursion, each distinct node (by identity) once."""
    found = value.get(id(node))
    if found is not None:
        return found
    args = node.args
    if not args or type(node).is_number is not _EXPR_IS_NUMBER:
        answer = bool(node.is_number)  # an atom, or a rule of its own
    else:
        is_round = _is_round(type(node))
        if is_round:
            known = _NUMBERS.get(id(node))
            if known is not None and known[1] is node:
                return known[0]
        if not budget:
            raise _TooDeep
        answer = True
        for a in args:  # (every argument, as the walk with a stack: their floors memoised)
            if not _number(a, value, budget - 1):
                answer = False
        if is_round:
            _note_number(node, answer)
    value[id(node)] = answer
    return answer


def _note_number(node: sympy.Basic, answer: bool) -> None:
    if len(_NUMBERS) >= _LIMIT:
        _NUMBERS.clear()  # bounded memory; a miss only costs the walk again
    _NUMBERS[id(node)] = (answer, node)


def _number_iteratively(expr: sympy.Basic, value: dict[int, bool]) -> bool:
    """:func:`_number` with a stack of its own, for trees of any depth."""
    stack: list[tuple[sympy.Basic, bool]] = [(expr, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in value:
            continue
        if not node.args or type(node).is_number is not _EXPR_IS_NUMBER:
            value[id(node)] = bool(node.is_number)  # an atom, or a rule of its own
        elif children_done:
            value[id(node)] = all(value[id(a)] for a in node.args)
            if _is_round(type(node)):
                _note_number(node, value[id(node)])
        else:
            known = _NUMBERS.get(id(node))
            if known is not None and known[1] is node:
                value[id(node)] = known[0]
                continue
            stack.append((node, True))
            stack.extend((a, False) for a in node.args)
    return value[id(expr)]


def commutative(expr: sympy.Basic) -> bool | None:
    """``expr.is_commutative``; a floor's or ceiling's read off its argument, as SymPy's
    ``Function._eval_is_commutative`` does, when that is known at once (a sum, product or
    power stores its own when built): SymPy asks a new floor through its assumption system,
    about ten microseconds, once for every floor of a deep network's MACs and totals.

    >>> from convsym.expr import parse_expr
    >>> commutative(parse_expr("floor(n/2)")), commutative(sympy.Symbol("A", commutative=False))
    (True, False)
    """
    if _is_round(type(expr)) and expr.args[0].is_commutative is True:
        return True
    return expr.is_commutative  # type: ignore[no-any-return]


DEEP = 8
"""Floors nested deeper than this are taken innermost first by :func:`inner_first`."""


def inner_first(expr: sympy.Basic, done: Callable[[sympy.Basic], bool] = lambda f: False
                ) -> list[sympy.Basic]:
    """The floors and ceilings of ``expr``, each after those inside it, when they are nested
    more than :data:`DEEP` deep; ``[]`` otherwise.  A floor for which ``done`` is true is
    neither listed nor looked into (a memo already holds what is wanted of it).

    Printing a floor prints the floor inside it, and SymPy's sort keys and term orders
    recurse the same way; taken innermost first, each memoised step is one level deep.

    >>> from convsym.expr import parse_expr
    >>> inner_first(parse_expr("floor((floor(n/2) + 1)/3)"))
    []
    >>> x = parse_expr("n")
    >>> for i in range(10):
    ...     x = sympy.floor((x + 1) / 2, evaluate=False)
    >>> [str(f) for f in inner_first(x)][:2]
    ['floor(n/2 + 1/2)', 'floor(floor(n/2 + 1/2)/2 + 1/2)']
    """
    try:
        if _nesting(expr, {}, _SHALLOW_WALK) <= DEEP:
            return []  # (the levels below count done floors as 0: at most these)
    except _TooDeep:
        pass
    level: dict[int, int] = {}
    order: list[sympy.Basic] = []
    try:
        top = _levels(expr, done, level, order, _SHALLOW_WALK)
    except _TooDeep:  # a tree deeper than a few hundred levels: walked with a stack
        level.clear()
        order.clear()
        top = _levels_iteratively(expr, done, level, order)
    return order if top > DEEP else []


_SHALLOW_WALK = 200
"""Levels of an expression tree walked by Python's own recursion (one frame per level)."""


class _TooDeep(Exception):
    """The expression tree is deeper than :data:`_SHALLOW_WALK`."""


_ROUND_CLASSES: dict[type, bool] = {}
"""``class -> issubclass(class, (floor, ceiling))`` (``isinstance`` with SymPy's function
metaclass costs several times a dictionary lookup, once per node of every printed size)."""


def is_round(expr: object) -> bool:
    """``isinstance(expr, (sympy.floor, sympy.ceiling))``, answered once per class (SymPy's
    function metaclass makes ``isinstance`` several times slower than this lookup).

    >>> from convsym.expr import parse_expr
    >>> is_round(parse_expr("ceiling(n/2)")), is_round(parse_expr("n/2"))
    (True, False)
    """
    return _is_round(type(expr))


def _is_round(cls: type) -> bool:
    known = _ROUND_CLASSES.get(cls)
    if known is None:
        if len(_ROUND_CLASSES) >= _LIMIT:
            _ROUND_CLASSES.clear()  # (SymPy makes a class per undefined function name)
        known = _ROUND_CLASSES[cls] = issubclass(cls, (sympy.floor, sympy.ceiling))
    return known


_NESTED: dict[int, tuple[int, object]] = {}
"""``id(expr) -> (floors nested in it, expr)`` for every expression with arguments that
:func:`_nesting` has walked (sizes share their terms and floors: a new sum of a deep
network is walked only to its terms)."""


def _nesting(node: sympy.Basic, seen: dict[int, int], budget: int) -> int:
    """How deep floors and ceilings nest in ``node``, remembered per expression."""
    args = node.args
    if not args:
        return 0
    known = seen.get(id(node))
    if known is not None:
        return known
    found = _NESTED.get(id(node))
    if found is not None and found[1] is node:
        return found[0]
    if not budget:
        raise _TooDeep
    deepest = 0
    for a in args:
        inner = _nesting(a, seen, budget - 1)
        if inner > deepest:
            deepest = inner
    if _is_round(type(node)):
        deepest += 1
    seen[id(node)] = deepest
    if len(_NESTED) >= _LIMIT:
        _NESTED.clear()  # bounded memory; a miss only costs the walk again
    _NESTED[id(node)] = (deepest, node)
    return deepest


def _levels(node: sympy.Basic, done: Callable[[sympy.Basic], bool], level: dict[int, int],
            order: list[sympy.Basic], budget: int) -> int:
    """The floors nested in ``node`` (0 for a done floor), listing every floor not done
    after those inside it; each distinct node (by identity) is walked once."""
    found = level.get(id(node))
    if found is not None:
        return found
    args = node.args
    level[id(node)] = 0
    if not args:
        return 0
    is_round = _is_round(type(node))
    if is_round and done(node):
        return 0
    if not budget:
        raise _TooDeep
    deepest = 0
    for a in args:
        inner = _levels(a, done, level, order, budget - 1)
        if inner > deepest:
            deepest = inner
    if is_round:
        deepest += 1
        order.append(node)
    level[id(node)] = deepest
    return deepest


def _levels_iteratively(expr: sympy.Basic, done: Callable[[sympy.Basic], bool],
                        level: dict[int, int], order: list[sympy.Basic]) -> int:
    """:func:`_levels` with a stack of its own, for trees of any depth."""
    stack: list[tuple[sympy.Basic, bool]] = [(expr, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            deepest = max((level.get(id(a), 0) for a in node.args), default=0)
            if _is_round(type(node)):
                deepest += 1
                order.append(node)
            level[id(node)] = deepest
        elif id(node) not in level:
            level[id(node)] = 0
            if _is_round(type(node)) and done(node):
                continue
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if id(a) not in level)
    return level[id(expr)]
