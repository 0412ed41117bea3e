"""Plain text: sizes as ``floor((n - 3)/2)`` (never ``floor(n/2 - 3/2)``), and derivations.

>>> from convsym.expr import parse_expr
>>> sstr(parse_expr("ceiling(n/32)"))
'ceiling(n/32)'
>>> sstr(parse_expr("floor((H - 1)/2)*4"))
'4*floor((H - 1)/2)'
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from functools import cmp_to_key
from typing import Any

import sympy
from sympy.core.exprtools import decompose_power
from sympy.core.function import AppliedUndef, UndefinedFunction
from sympy.core.mul import _keep_coeff
from sympy.printing.precedence import (
    PRECEDENCE,
    PRECEDENCE_FUNCTIONS,
    PRECEDENCE_VALUES,
    precedence,
)
from sympy.printing.printer import Printer
from sympy.printing.str import StrPrinter

from convsym.deep import commutative, equal, inner_first, is_number, is_round
from convsym.expr import symbol_power
from convsym.printing import doc as D
from convsym.printing.doc import _compound, fill

POWER_FROM = 10**12
"""Integers at least this large that are products of powers of 2, 3, 5 and 7 print as
powers (``2**500``): a deep stride-2 network's divisors would otherwise make its text grow
with the square of the depth."""


@functools.lru_cache(maxsize=4096)
def power_factors(n: int) -> tuple[tuple[int, int], ...] | None:
    """``((base, exponent), ...)`` with ``abs(n)`` their product, for a large ``n`` made of
    small primes (one base when ``abs(n)`` is a power of 2..10), else None.

    >>> power_factors(2**500)[0], power_factors(10**15), power_factors(3 * 2**60)
    ((2, 500), ((10, 15),), ((3, 1), (2, 60)))
    >>> power_factors(2**20) is None, power_factors(2**61 - 1) is None
    (True, True)
    """
    n = abs(n)
    if n < POWER_FROM:
        return None
    for base in (10, 6, 2, 3, 5, 7):
        e = _exact_log(n, base)
        if e:
            return ((base, e),)
    out: list[tuple[int, int]] = []
    for prime in (2, 3, 5, 7):
        e = (n & -n).bit_length() - 1 if prime == 2 else 0
        n >>= e if prime == 2 else 0
        while prime != 2 and n % prime == 0:
            n //= prime
            e += 1
        if e:
            out.append((prime, e))
    return tuple(sorted(out, key=lambda f: (f[1] > 1, f[0]))) if n == 1 else None


def _exact_log(n: int, base: int) -> int:
    """``e`` with ``base**e == n``, else 0 (one power, from the bit length)."""
    e = max(1, round((n.bit_length() - 1) / math.log2(base)))
    for guess in (e - 1, e, e + 1):
        if guess > 0 and base**guess == n:
            return guess
    return 0


def power_text(n: int, pow_op: str = "**", times: str = "*") -> str | None:
    """``2**500`` / ``-2**60*3`` for :func:`power_factors` integers, else None."""
    factors = power_factors(n)
    if factors is None:
        return None
    body = times.join(f"{b}{pow_op}{e}" if e > 1 else str(b) for b, e in factors)
    return ("-" if n < 0 else "") + body


def is_power_product(expr: object) -> bool:
    """True for an integer that prints as a product of several powers (needs parentheses
    as a divisor or a power's base)."""
    return isinstance(expr, sympy.Integer) and len(power_factors(int(expr)) or ()) > 1


def is_power(expr: object) -> bool:
    """True for an integer that prints as a power or a product of powers."""
    return isinstance(expr, sympy.Integer) and power_factors(int(expr)) is not None


class IdMemo:
    """A bounded memo of what is derived from an (immutable) expression, keyed by the
    expression's identity and a tag.

    Keyed by the expression itself, a lookup compares it with every stored expression of
    the same hash, and SymPy's hashes collide systematically on deep networks: ``1/2**k``
    hashes like ``1/2**(k + 61)`` (Python hashes a rational modulo ``2**61 - 1``), so
    ``ceiling(H/2**k)`` meets every 61st of its kind, each comparison a recursive
    ``__eq__``; the printing of a 1,000-layer chain grew as the square of its depth.  The
    display builds each floor once (:func:`convsym.intdiv.to_sympy` memoises), so the same
    expression is the same object; an equal copy only misses.  The expression is kept with
    its value, so its identity cannot be reused while it is stored.

    >>> m = IdMemo(4)
    >>> x = sympy.Symbol("x")
    >>> m.put("text", x, "x"); m.get("text", x), m.get("text", sympy.Symbol("y"))
    ('x', None)
    """

    __slots__ = ("items", "limit")

    def __init__(self, limit: int) -> None:
        self.items: dict[tuple[object, int], tuple[object, object]] = {}
        self.limit = limit

    def get(self, tag: object, expr: object) -> Any:
        """The value stored for ``expr`` (this very object) and ``tag``, or None."""
        found = self.items.get((tag, id(expr)))
        return found[1] if found is not None and found[0] is expr else None

    def put(self, tag: object, expr: object, value: object) -> None:
        """Store ``value`` for ``expr`` and ``tag``; the memo is emptied when full (bounded
        memory; a miss only costs the work again)."""
        if len(self.items) >= self.limit:
            self.items.clear()
        self.items[(tag, id(expr))] = (expr, value)

    def clear(self) -> None:
        """Forget everything."""
        self.items.clear()

    def __len__(self) -> int:
        return len(self.items)


_ROUNDED = IdMemo(1 << 14)


def quotient(arg: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """``fraction(together(arg))``, without ``together`` for a sum of rational multiples of
    products of non-negative powers (a floor's argument as convsym builds it) whose terms
    share no factor: then the numerator is each term times the lcm of the denominators.

    >>> from convsym.expr import parse_expr
    >>> quotient(parse_expr("n/8 + 5/8")), quotient(parse_expr("n/6 + m/4"))
    ((n + 5, 8), (3*m + 2*n, 12))
    """
    if arg.is_Add:
        parts = []
        common: set[sympy.Expr] | None = None
        for term in arg.args:
            coeff, rest = term.as_coeff_Mul()
            factors = sympy.Mul.make_args(rest) if rest is not sympy.S.One else ()
            if not coeff.is_Rational or not all(_plain_factor(f) for f in factors):
                break
            here = {f.as_base_exp()[0] for f in factors}
            common = here if common is None else common & here
            parts.append((coeff, rest))
        else:
            lcm = math.lcm(*(c.q for c, _ in parts))
            tops = [c.p * (lcm // c.q) for c, _ in parts]
            if not common and math.gcd(*tops) == 1:
                return sympy.Add(*(t * r for t, (_, r) in zip(tops, parts))), \
                    sympy.Integer(lcm)
    if arg.is_Mul:  # one product (H/s**1000): split by the signs of its exponents
        above: list[sympy.Expr] = []
        below: list[sympy.Expr] = []
        sums: list[sympy.Expr] = []
        for f in arg.args:
            if f.is_Rational:
                above.append(sympy.Integer(f.p))
                below.append(sympy.Integer(f.q))
            elif f.is_Pow and f.base.is_Symbol and f.exp.is_Integer and f.exp.p < 0:
                below.append(symbol_power(f.base, -f.exp.p))
            elif f.is_Symbol or f.is_Pow and f.base.is_Symbol and f.exp.is_Integer:
                above.append(f)
            elif f.is_Add:
                sums.append(f)
            else:
                break
        else:
            if not sums:
                return _product(above), _product(below)
            if len(sums) == 1 and all(a == 1 for a in above) and \
                    _coprime_sum(sums[0], math.prod(int(b) for b in below if b.is_Integer)):
                # a sum over a symbolic divisor ((H - k0 + s0 - k1*s0)/(s0*s1), a chain
                # with one symbolic stride per layer): already in lowest terms, where
                # together() would spend the square of its length finding so
                return sums[0], _product(below)
    return sympy.fraction(sympy.together(arg))  # type: ignore[no-any-return]


def _product(factors: list[sympy.Expr]) -> sympy.Expr:
    """``sympy.Mul(*factors)`` of SymPy expressions; a lone factor is the product itself, as
    ``Mul`` returns it (a divisor ``s**1000``, a numerator ``H``), without its call."""
    return factors[0] if len(factors) == 1 else sympy.Mul(*factors)


def _coprime_sum(arg: sympy.Expr, den: int) -> bool:
    """True when ``together`` leaves the sum ``arg`` over ``den`` times symbols as it is:
    integer coefficients whose gcd is coprime to ``den``, and no factor common to all its
    terms (it would be pulled out, and cancelled against the divisor)."""
    common: set[sympy.Expr] | None = None
    content = 0
    for term in arg.args:
        coeff, rest = term.as_coeff_Mul()
        if not coeff.is_Integer:
            return False
        content = math.gcd(content, int(coeff))
        here = {f.as_base_exp()[0] for f in sympy.Mul.make_args(rest)} \
            if rest is not sympy.S.One else set()
        common = here if common is None else common & here
    return not common and math.gcd(content, den) == 1


def _plain_factor(f: sympy.Expr) -> bool:
    base, exp = f.as_base_exp()
    return bool(exp.is_Integer and exp > 0 and (base.is_Symbol or
                                                is_round(base)))


_METHODS: dict[tuple[type, type], str] = {}
"""``(printer class, expression class) -> name of the printing method`` SymPy's dispatch
chooses (the name, not the bound method: printers are instances)."""


def _method_name(printer: Printer, cls: type) -> str:
    """The method ``Printer._print`` calls for an expression of class ``cls`` (when the
    expression does not print itself): the first ``_print_<name>`` along its classes, with
    SymPy's exceptions for undefined functions and renamed subclasses of functions."""
    classes = cls.__mro__
    if AppliedUndef in classes:
        classes = classes[classes.index(AppliedUndef):]
    if UndefinedFunction in classes:
        classes = classes[classes.index(UndefinedFunction):]
    if sympy.Function in classes:
        i = classes.index(sympy.Function)
        classes = tuple(c for c in classes[:i] if c.__name__ == classes[0].__name__ or
                        c.__name__.endswith("Base")) + classes[i:]
    for c in classes:
        name = "_print_" + c.__name__
        if getattr(printer, name, None) is not None:
            return name
    return "emptyPrinter"


class FastDispatch(Printer):
    """``Printer._print`` with the method for each class of expression found once.

    SymPy's dispatcher walks the class's MRO on every call, building method names and
    failing attribute lookups on the way (an eighth of the printing of a deep network's
    summary); the choice depends only on the two classes, so it is remembered per pair.
    An expression that prints itself (``printmethod``) goes to SymPy's own dispatcher.
    """

    def _print(self, expr: Any, **kwargs: Any) -> str:
        if self.printmethod and hasattr(expr, self.printmethod):
            return super()._print(expr, **kwargs)  # type: ignore[no-any-return]
        key = (type(self), type(expr))
        name = _METHODS.get(key)
        if name is None:
            if len(_METHODS) >= 4096:
                _METHODS.clear()  # (classes of undefined functions are made per name)
            name = _METHODS[key] = _method_name(self, type(expr))
        if name == "emptyPrinter":
            return super()._print(expr, **kwargs)  # type: ignore[no-any-return]
        self._print_level += 1
        try:
            return getattr(self, name)(expr, **kwargs)  # type: ignore[no-any-return]
        finally:
            self._print_level -= 1


class TextPrinter(FastDispatch, StrPrinter):
    """SymPy's ``StrPrinter`` with textbook quotients inside floor and ceiling, and large
    powers of small primes as powers."""

    def _print_Integer(self, expr: sympy.Integer) -> str:
        return power_text(int(expr)) or str(int(expr))

    def _print_Rational(self, expr: sympy.Rational) -> str:
        q = sympy.Integer(expr.q)
        bottom = self._print(q)
        if is_power_product(q):
            bottom = f"({bottom})"
        return f"{self._print(sympy.Integer(expr.p))}/{bottom}"

    def parenthesize(self, item: object, level: int, strict: bool = False) -> str:
        # a printed power is a Pow, a product of powers a Mul, for precedence
        if is_power(item):
            prec = PRECEDENCE["Mul"] if is_power_product(item) else PRECEDENCE["Pow"]
            text = self._print(item)
            if int(item) < 0:  # type: ignore[call-overload]
                prec = min(prec, PRECEDENCE["Add"])
            return f"({text})" if prec < level or (not strict and prec <= level) else text
        prec = _precedence(item)  # StrPrinter.parenthesize, with the cheaper precedence
        if prec < level or (not strict and prec <= level):
            return f"({self._print(item)})"
        return str(self._print(item))

    def _quotient(self, arg: sympy.Expr) -> str:
        num, den = quotient(arg)
        if den == 1:
            return str(self._print(num))
        top = self._print(num)
        if _precedence(num) < PRECEDENCE["Mul"]:
            top = f"({top})"
        bottom = self._print(den)
        if _precedence(den) <= PRECEDENCE["Mul"] and not den.is_Atom or is_power_product(den):
            bottom = f"({bottom})"
        return f"{top}/{bottom}"

    def _print_floor(self, expr: sympy.floor) -> str:
        return self._rounded("floor", expr)

    def _print_ceiling(self, expr: sympy.ceiling) -> str:
        return self._rounded("ceiling", expr)

    def _rounded(self, name: str, expr: sympy.Expr) -> str:
        # a deep network shows each floor in its row, the next MACs and the totals: once
        text: str | None = _ROUNDED.get(type(self), expr)  # printers write integers apart
        if text is None:
            text = f"{name}({self._quotient(expr.args[0])})"
            _ROUNDED.put(type(self), expr, text)
        return text

    def _print_Mul(self, expr: sympy.Mul) -> str:
        # a product is printed in its row (a layer's MACs) and again in the total
        return _memo_text(self, expr, lambda: self._mul_text(expr))

    def _mul_text(self, expr: sympy.Mul) -> str:
        """``StrPrinter._print_Mul``, ordering long sums and floors among the factors in
        linear time, and without SymPy's ``precedence`` (which negates a product to see its
        sign).

        SymPy orders factors by ``sort_key``, which for a sum of n terms builds n dense
        exponent vectors over all its symbols (n^2: a layer's MACs with one symbolic kernel
        per layer are products of such sums), and for a floor its nargs set anew.  For an
        evaluated product of plain factors (no denominator) this is StrPrinter's own branch
        with :func:`sort_key` (the same keys); anything else goes to StrPrinter.
        """
        args = expr.args
        plain = expr.is_commutative and args[0] is not sympy.S.One and not any(
            isinstance(a, sympy.Number) or a.is_Pow and all(x.is_Integer for x in a.args)
            for a in args[1:]) and not any(
            a.is_Pow and a.exp.as_coeff_Mul()[0] < 0 or a.is_Rational and a.q != 1
            for a in args)
        if not plain:  # (StrPrinter's precedence() of a product negates it: every product
            return str(super()._print_Mul(expr))  # that can is printed here)
        prec = _precedence(expr)
        c, rest = expr.as_coeff_Mul()
        sign = ""
        if c.p < 0 if c.is_Rational else c < 0:
            expr, sign = _keep_coeff(-c, rest), "-"
        factors = by_sort_key(sympy.Mul.make_args(expr))
        shown = [x for x in factors if not (x.is_Rational and x.p == 1)] or [sympy.S.One]
        return sign + "*".join(self.parenthesize(x, prec, strict=False) for x in shown)

    def _print_Add(self, expr: sympy.Add, order: str | None = None) -> str:
        if order is None:  # a size is printed in its row, the next MACs, the totals: once
            return _memo_text(self, expr, lambda: self._add_text(expr, None))
        return self._add_text(expr, order)

    def _add_text(self, expr: sympy.Add, order: str | None) -> str:
        # textbook order: ``n - k``, not SymPy's alphabetical ``-k + n``
        # (SymPy's order keys floors by SymPy's sort keys, recursively: not for nested ones)
        terms = _ordered_terms(expr) if order is None else \
            list(self._as_ordered_terms(expr, order=order))
        level = _precedence(expr)
        shown = [(t, *self._term(t, level)) for t in terms]
        # positive terms first, then negative ones, then the constant
        ordered = [x for x in shown if not x[0].is_Number and not x[1]] + \
            [x for x in shown if not x[0].is_Number and x[1]] + \
            [x for x in shown if x[0].is_Number]
        parts: list[str] = []
        for _, _, sign, text in ordered:
            parts += [sign, text]
        first = parts.pop(0)
        return ("-" if first == "-" else "") + " ".join(parts)

    def _term(self, term: sympy.Expr, level: int) -> tuple[bool, str, str]:
        """(could extract a minus sign, sign, text) of a term of a sum at precedence
        ``level``; memoised, since a deep network's sums share most of their terms."""
        found: tuple[bool, str, str] | None = _TERMS.get((type(self), level), term)
        if found is None:
            text = self._print(term)
            sign = "+"
            if text.startswith("-") and not term.is_Add:
                sign, text = "-", text[1:]
            if _precedence(term) < level or term.is_Add:
                text = f"({text})"
            found = (_minus_sign(term), sign, text)
            _TERMS.put((type(self), level), term, found)
        return found

    def _print_Relational(self, expr: sympy.core.relational.Relational) -> str:
        return f"{self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)}"


def _precedence(item: object) -> int:
    """SymPy's ``precedence(item)``; for a product, :func:`precedence_Mul`'s rule with the
    sign found by :func:`_minus_sign` (SymPy's builds the negated product each time)."""
    if isinstance(item, sympy.Mul) and type(item) is sympy.Mul:
        mul: int = PRECEDENCE["Mul"]
        if any(_is_function(type(a)) and hasattr(a, "precedence") and
               a.precedence < mul for a in item.args):
            return mul
        return int(PRECEDENCE["Add"]) if _minus_sign(item) else mul
    if hasattr(item, "precedence") or isinstance(item, type):
        return int(precedence(item))
    # SymPy's precedence() walks the item's classes on every call: found once per class
    rule = _PRECEDENCE_RULES.get(type(item))
    if rule is None:
        if len(_PRECEDENCE_RULES) >= 4096:
            _PRECEDENCE_RULES.clear()  # (SymPy makes a class per undefined function name)
        rule = _PRECEDENCE_RULES[type(item)] = _precedence_rule(type(item))
    return rule if isinstance(rule, int) else int(rule(item))


_PRECEDENCE_RULES: dict[type, int | Callable[[Any], int]] = {}
_FUNCTIONS: dict[type, bool] = {}


def _is_function(cls: type) -> bool:
    """``issubclass(cls, sympy.Function)``, once per class (``isinstance`` through SymPy's
    function metaclass, for every factor of every product printed, was a share of it)."""
    known = _FUNCTIONS.get(cls)
    if known is None:
        if len(_FUNCTIONS) >= 4096:
            _FUNCTIONS.clear()
        known = _FUNCTIONS[cls] = issubclass(cls, sympy.Function)
    return known


def _precedence_rule(cls: type) -> int | Callable[[Any], int]:
    """What ``precedence`` gives an instance of ``cls`` (without a ``precedence`` of its
    own): the value or function of the first of its classes that has one."""
    for c in cls.mro():
        if c.__name__ in PRECEDENCE_FUNCTIONS:
            return PRECEDENCE_FUNCTIONS[c.__name__]  # type: ignore[no-any-return]
        if c.__name__ in PRECEDENCE_VALUES:
            return int(PRECEDENCE_VALUES[c.__name__])
    return int(PRECEDENCE["Atom"])


def _minus_sign(term: sympy.Expr) -> bool:
    """``term.could_extract_minus_sign()``; for a product of finite factors without building
    ``-term`` (``Mul``'s own test compares ``term`` with ``-term``, whose construction runs
    assumption queries on every floor of a deep network's MACs): a finite non-zero product
    never equals its negation, so the answer is whether its leading factor is a negative
    number.

    >>> from convsym.expr import parse_expr
    >>> [_minus_sign(parse_expr(x)) for x in ("-3*H*floor(W/2)", "2*H", "H*W", "-H")]
    [True, False, False, True]
    """
    if term.is_Mul:
        # Mul.flatten gathers every number into the leading factor: a rational there means
        # no infinity anywhere; no number there, no sign to extract
        first = term.args[0]
        if first.is_Rational:
            return bool(first.p < 0)
        if not first.is_Number:
            return False
    return bool(term.could_extract_minus_sign())


_TEXTS = IdMemo(1 << 14)
_TERMS = IdMemo(1 << 16)


def _memo_text(printer: object, expr: sympy.Expr, make: Callable[[], str]) -> str:
    """The printed text of a sum or product, memoised per printer class (expressions are
    immutable; printers differ in how they write integers)."""
    text: str | None = _TEXTS.get(type(printer), expr)
    if text is None:
        text = make()
        _TEXTS.put(type(printer), expr, text)
    return text


_LONG = 8
"""Sums with more terms than this are ordered by :func:`_ordered_terms`."""

_SORT_KEYS = IdMemo(1 << 14)


def sort_key(expr: sympy.Expr) -> tuple[object, ...]:
    """``expr.sort_key()`` (SymPy's canonical order), in linear time for a long sum and for
    a power or product with one among its factors, and without deep recursion for nested
    floors: ``Expr.sort_key`` keys a sum by its terms in ``as_ordered_terms`` order, which
    :func:`_ordered_terms` gives without SymPy's dense exponent vectors; the rest is
    ``Expr.sort_key``'s own recipe (:func:`_recipe`).

    SymPy computes a floor's key from the key of the floor inside it, cached in a cache of
    1,000 entries: a floor nested 300 deep whose inner keys were evicted needs thousands of
    frames.  Here the keys of everything holding a floor are taken innermost first (an
    iterative walk) and kept in convsym's own memo.

    >>> from convsym.expr import parse_expr
    >>> e = parse_expr("h - k0 - k1 - k2 - k3 - k4 - k5 - k6 - k7 - k8 + 9")
    >>> all(sort_key(x) == x.sort_key() for x in (e, e**2, -3*e*parse_expr("w - 1")))
    True
    >>> x = parse_expr("n")
    >>> for i in range(400):
    ...     x = sympy.floor((x - sympy.Symbol(f"k{i}")) / 2, evaluate=False)
    >>> sort_key(x)[0] == sympy.floor.class_key()
    True
    """
    key: tuple[object, ...] | None = _SORT_KEYS.get(None, expr)
    if key is not None:
        return key
    if not _ours(expr):
        return expr.sort_key()  # type: ignore[no-any-return]
    return _keys_inner_first(expr)


def _ours(expr: sympy.Expr) -> bool:
    """Whether :func:`sort_key` keys ``expr`` itself: a floor or ceiling, a long sum, a power
    or product of one, or anything with a floor or ceiling among its arguments' arguments."""
    if is_round(expr) or _long_sum(expr):
        return True
    for a in expr.args:
        if is_round(a) or _long_sum(a):
            return True
        if any(is_round(b) for b in a.args):
            return True
    return False


def _keys_inner_first(expr: sympy.Expr) -> tuple[object, ...]:
    """:func:`_recipe` for ``expr`` and, first, for every node below it that holds a floor
    (a walk with its own stack: each recipe then finds its arguments' keys remembered)."""
    keyed: dict[int, tuple[object, ...]] = {}  # this walk's keys (the memo may be emptied)
    stack: list[tuple[sympy.Basic, bool]] = [(expr, False)]
    seen: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        if children_done:
            if _ours(node) or any(id(a) in keyed for a in node.args):
                keyed[id(node)] = _recipe(node, keyed)
            continue
        if id(node) in seen or node.is_Atom:
            continue
        seen.add(id(node))
        known: tuple[object, ...] | None = _SORT_KEYS.get(None, node)
        if known is not None:
            keyed[id(node)] = known
            continue
        stack.append((node, True))
        stack.extend((a, False) for a in node.args)
    found = keyed.get(id(expr))
    return found if found is not None else _recipe(expr, keyed)


def _recipe(expr: sympy.Expr, keyed: Mapping[int, tuple[object, ...]]
            ) -> tuple[object, ...]:
    """``Expr.sort_key``'s recipe for ``expr``, taking its arguments' keys from ``keyed``
    (or :func:`sort_key`), remembered."""

    def key_of(a: sympy.Expr) -> tuple[object, ...]:
        found = keyed.get(id(a))
        return found if found is not None else sort_key(a)

    if is_round(expr):
        # Expr.sort_key of a function: its class key (which builds SymPy's nargs set on
        # each call), then its argument's key; a deep network sorts each floor in its
        # row's MACs and again in the totals
        key: tuple[object, ...] = (_class_key(type(expr)), (1, (key_of(expr.args[0]),)),
                                   sympy.S.One.sort_key(), sympy.S.One)
        _remember_key(expr, key)
        return key
    coeff, rest = expr.as_coeff_Mul()
    exp: sympy.Expr = sympy.S.One
    if rest.is_Pow and rest.base is not sympy.S.Exp1:
        rest, exp = rest.base, rest.exp
    if rest.is_Atom:
        return expr.sort_key()  # type: ignore[no-any-return]
    if rest.is_Add:
        args = _ordered_terms(rest)
    elif rest.is_Mul:
        c_part, nc_part = rest.args_cnc()
        args = by_sort_key(c_part) + nc_part
    else:
        args = list(rest.args)
    keys = tuple(key_of(a) for a in args)
    key = (rest.class_key(), (len(keys), keys), exp.sort_key(), coeff)
    _remember_key(expr, key)
    return key


def by_sort_key(items: Iterable[sympy.Expr]) -> list[sympy.Expr]:
    """``sorted(items, key=sort_key)``, comparing the keys in time linear in their depth,
    and each pair of sub-keys once.

    Python compares two tuples by finding the first unequal items (each an equality test)
    and then ordering those (a second pass down): keys of nested floors that differ only at
    the bottom (a chain's H and W sizes) cost the square of the depth per comparison, and
    each row of a deep network compares such a pair again one level deeper.  Here the walk
    goes down once, skipping items that are the same object, and every comparison of two
    sub-keys is remembered (SymPy caches an expression's key, so the next row's walk stops
    at the pair the row before compared).
    """
    items = list(items)
    if not any(map(_nested_round, items)):  # shallow keys: Python's own comparison
        plain = [_plain_sort_key(x) for x in items]
        if None in plain:  # (a plain key must not meet a SymPy float: Fraction == Float fails)
            return sorted(items, key=sort_key)
        return [x for _, x in sorted(zip(plain, items), key=_first)]
    keyed = [(sort_key(x), x) for x in items]

    def order(a: tuple[tuple[object, ...], sympy.Expr],
              b: tuple[tuple[object, ...], sympy.Expr]) -> int:
        return _compare(a[0], b[0])

    keyed.sort(key=cmp_to_key(order))
    return [x for _, x in keyed]


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _plain_sort_key(expr: sympy.Expr) -> tuple[object, ...] | None:
    """:func:`sort_key` with SymPy's integers and rationals as Python ``int`` and
    ``Fraction`` (which order and compare equal exactly as they do), built without SymPy's
    ``sort_key``; None for an expression holding another number (a float, an infinity) or
    another kind of expression, whose key must be SymPy's (and so those it is compared with).

    Sorting compares the numbers in the keys (a chain's ``ceiling(H/s**k)`` differ only in
    ``-k``), and each SymPy comparison sympifies its operand: sorting the 2,000 ceilings of
    a 1,000-layer total by SymPy's keys took 0.25 s, with these a few milliseconds.

    >>> from convsym.expr import parse_expr
    >>> e = parse_expr("ceiling(H/s**7)/3 + floor(W*k/2)**2")
    >>> _plain_sort_key(e) == e.sort_key(), type(_plain_sort_key(e.args[1])[-1])
    (True, <class 'fractions.Fraction'>)
    >>> _plain_sort_key(parse_expr("H")*1.5) is None
    True
    """
    key: tuple[object, ...] | bool | None = _SORT_KEYS.get("plain", expr)
    if key is None:
        try:
            key = _plain_key(expr)
        except (_NotPlain, RecursionError):
            key = False
        _SORT_KEYS.put("plain", expr, key)
    return key if isinstance(key, tuple) else None


class _NotPlain(Exception):
    """An expression whose key this recipe does not build."""


_ONE_KEY = ((1, 0, "Number"), (0, ()), (), 1)
"""``S.One.sort_key()`` with a plain 1."""


def _plain_number(number: object) -> int | Fraction:
    if isinstance(number, sympy.Integer):
        return int(number)
    if isinstance(number, sympy.Rational):
        return Fraction(int(number.p), int(number.q))
    raise _NotPlain


def _plain_key(expr: object) -> tuple[object, ...]:
    """``Expr.sort_key``'s recipe (SymPy 1.x), for symbols, rationals and the sums,
    products, powers and functions of them."""
    if not isinstance(expr, sympy.Expr):
        raise _NotPlain
    cls = type(expr)
    if cls is sympy.Symbol:
        return (_class_key(cls), (1, (expr.name,)), _ONE_KEY, 1)
    if isinstance(expr, sympy.Rational):
        return (_class_key(cls), (0, ()), (), _plain_number(expr))
    if cls.sort_key is not sympy.Expr.sort_key:
        raise _NotPlain
    c, rest = expr.as_coeff_Mul()
    coeff = _plain_number(c)
    exp: tuple[object, ...] = _ONE_KEY
    if rest.is_Pow:
        base, power = rest.as_base_exp()
        if base is sympy.S.Exp1:
            raise _NotPlain
        rest, exp = base, _plain_key_of(power)
    kind = type(rest)
    if rest.is_Dummy or getattr(kind.class_key, "__self__", None) is not kind:
        raise _NotPlain  # (a class key that is not the class's own: SymPy's, via sort_key)
    if rest.is_Atom:  # a symbol, or a power's integer base
        name = rest.name if kind is sympy.Symbol else str(rest)
        return (_class_key(kind), (1, (name,)), exp, coeff)
    if rest.is_Add:
        args = _ordered_terms(rest)
    elif rest.is_Mul:
        factors, nc = rest.args_cnc()
        if nc:
            raise _NotPlain
        args = [x for _, x in sorted(((_plain_key_of(x), x) for x in factors), key=_first)]
    else:
        args = list(rest.args)
    keys = tuple(map(_plain_key_of, args))
    return (_class_key(kind), (len(keys), keys), exp, coeff)


def _plain_key_of(expr: sympy.Expr) -> tuple[object, ...]:
    key = _plain_sort_key(expr)
    if key is None:
        raise _NotPlain
    return key


def _nested_round(x: sympy.Expr) -> bool:
    """True for a floor or ceiling with another one in its argument's terms (one level
    down: a chain's nested floors), whose sort keys are deep."""
    if not is_round(x):
        return False
    arg = x.args[0]
    for factor in arg.args if arg.is_Mul else (arg,):  # (make_args sympifies each call)
        for term in factor.args if factor.is_Add else (factor,):
            if any(is_round(f)
                   for f in (term.args if term.is_Mul else (term,))):
                return True
    return False


_COMPARED: dict[tuple[int, int], tuple[int, object, object]] = {}
"""``(id(a), id(b)) -> (order, a, b)``: the keys are held, so their ids are not reused."""


def _compare(a: object, b: object) -> int:
    """-1, 0 or 1 as ``a < b``, ``a == b`` or ``a > b`` (tuples lexicographically).

    The walk keeps its own stack (a floor nested 300 deep has a key nested four times as
    deep, past Python's recursion limit), and remembers the order of every pair of tuples
    it finishes.

    >>> deep_a, deep_b = (1,), (2,)
    >>> for _ in range(3000):
    ...     deep_a, deep_b = (0, deep_a), (0, deep_b)
    >>> _compare(deep_a, deep_b), _compare(deep_b, deep_a), _compare((1, 2), (1, 2, 0))
    (-1, 1, -1)
    """
    order = _shallow(a, b)
    if order is not None:
        return order
    stack: list[list[Any]] = [[a, b, 0]]  # [tuple, tuple, index of the next items]
    order = 0  # the order of the pair last finished
    while True:
        frame = stack[-1]
        x, y, i = frame
        if order == 0 and i < min(len(x), len(y)):
            frame[2] = i + 1
            inner = _shallow(x[i], y[i])
            if inner is None:
                stack.append([x[i], y[i], 0])
            else:
                order = inner
            continue
        if order == 0:
            order = (len(x) > len(y)) - (len(x) < len(y))
        if len(_COMPARED) >= 1 << 16:
            _COMPARED.clear()  # bounded memory; a miss only costs the walk again
        _COMPARED[(id(x), id(y))] = (order, x, y)
        stack.pop()
        if not stack:
            return order


def _shallow(a: object, b: object) -> int | None:
    """The order of ``a`` and ``b`` when known without walking two tuples, else None."""
    if a is b:
        return 0
    if not (type(a) is tuple and type(b) is tuple):
        return -1 if a < b else (1 if a > b else 0)  # type: ignore[operator]
    found = _COMPARED.get((id(a), id(b)))
    return None if found is None else int(found[0])


def _remember_key(expr: sympy.Expr, key: tuple[object, ...]) -> None:
    _SORT_KEYS.put(None, expr, key)


_CLASS_KEYS: dict[type, tuple[object, ...]] = {}


def _class_key(cls: type[sympy.Expr]) -> tuple[object, ...]:
    key = _CLASS_KEYS.get(cls)
    if key is None:
        key = _CLASS_KEYS[cls] = cls.class_key()
    return key


def _long_sum(expr: sympy.Expr) -> bool:
    base = expr.base if expr.is_Pow else expr
    return bool(base.is_Add and len(base.args) > _LONG)


_ROWS = IdMemo(1 << 16)


_NUMBERS = (sympy.Number, sympy.NumberSymbol)


def _ordered_terms(expr: sympy.Add) -> list[sympy.Expr]:
    """``expr.as_ordered_terms()`` in linear space, memoised (a size's sum is ordered for its
    text and again for its sort key, as a factor of the layer's MACs)."""
    found: list[sympy.Expr] | None = _ROWS.get("ordered", expr)
    if found is None:
        found = _order_terms(expr)
        _ROWS.put("ordered", expr, found)
    return list(found)


def _order_terms(expr: sympy.Add) -> list[sympy.Expr]:
    """``expr.as_ordered_terms()`` in linear space.

    SymPy orders terms by their dense exponent vectors over every generator of the sum, so a
    sum of n products of distinct floors costs n^2 (the total MACs of a deep network).  The
    same order from sparse vectors: the key of a term is its (generator index, -exponent)
    pairs in index order closed by a sentinel, which compares exactly as SymPy's negated
    dense vector does when every exponent is a positive integer; otherwise SymPy's own.
    Like SymPy, a positive number and a product with a negative coefficient (``1 - n``)
    keep the number first.

    >>> from convsym.expr import parse_expr
    >>> [_ordered_terms(parse_expr(x)) for x in ("1 - n", "n + 1", "3 - floor(n/2)")]
    [[1, -n], [n, 1], [3, -floor(n/2)]]
    """
    if len(expr.args) == 2:  # Expr.as_ordered_terms' own special case, as it reads it
        number, other = sorted(expr.args, key=lambda x: not isinstance(x, _NUMBERS))
        if isinstance(number, _NUMBERS) and isinstance(other, sympy.Mul):
            factors = sorted(other.args, key=lambda x: not isinstance(x, sympy.Number))
            if len(factors) == 2 and isinstance(factors[0], sympy.Number) and \
                    number.is_positive and factors[0].is_negative:
                return [number, other]
    rows = []
    gens: dict[int, sympy.Expr] = {}  # by identity: SymPy's hash of 1/2**k repeats every 61 k
    for term in expr.args:
        row: tuple[sympy.Expr, dict[sympy.Expr, int], tuple[object, ...]] | None = \
            _ROWS.get(None, term)
        if row is None:
            coeff, rest = term.as_coeff_Mul()
            powers: dict[sympy.Expr, int] = {}
            if rest is not sympy.S.One:
                for factor in sympy.Mul.make_args(rest):
                    base, exp = decompose_power(factor)
                    if is_number(factor) or not commutative(factor) or factor.is_Order or \
                            not isinstance(exp, int) or exp <= 0 or base in powers:
                        return list(expr.as_ordered_terms())
                    powers[base] = exp
            c = _complex(coeff)
            row = (term, powers, ((bool(c.imag), c.imag), (c.real, c.imag)))
            _ROWS.put(None, term, row)  # terms repeat across a deep network's sums
        for g in row[1]:
            gens[id(g)] = g
        rows.append(row)
    index, count = _gen_indices(by_sort_key(gens.values()))
    end = (count,)

    def key(row: tuple[sympy.Expr, dict[sympy.Expr, int], object]) -> tuple[object, ...]:
        _, powers, coeff = row
        sparse = sorted((index[id(b)], -e) for b, e in powers.items())
        return (*sparse, end), coeff

    return [row[0] for row in sorted(rows, key=key)]


def _gen_indices(ordered: list[sympy.Expr]) -> tuple[dict[int, int], int]:
    """``id -> i`` numbering the distinct expressions of the sorted ``ordered`` (distinct
    objects that are equal share a number: equal expressions have equal sort keys, so they
    lie in one run of equal keys), and how many numbers were given."""
    index: dict[int, int] = {}
    count = 0
    run: list[sympy.Expr] = []
    run_key: object = None
    plain = [_plain_sort_key(g) for g in ordered]
    keys: list[tuple[object, ...]] = [k for k in plain if k is not None]
    same = _same_plain
    if len(keys) < len(plain):  # (never mixed)
        keys, same = [sort_key(g) for g in ordered], _same_key
    for g, k in zip(ordered, keys):
        if not run or not same(k, run_key):
            run, run_key = [], k
        twin = next((x for x in run if equal(x, g)), None)
        if twin is None:
            index[id(g)] = count
            count += 1
            run.append(g)
        else:
            index[id(g)] = index[id(twin)]
    return index, count


def _same_plain(a: tuple[object, ...], b: object) -> bool:
    """Whether two plain sort keys (Python numbers, text and tuples) are equal: Python's own
    comparison (in C, and stopping at shared sub-keys), or the iterative walk when they are
    nested too deep for it."""
    try:
        return a == b
    except RecursionError:
        return _same_key(a, b)


def _same_key(a: tuple[object, ...], b: object) -> bool:
    return _compare(a, b) == 0  # (iterative: keys of deep floors)


class CountPrinter(TextPrinter):
    """:class:`TextPrinter` with thousands separators in integers of 1,000 or more."""

    def _print_Integer(self, expr: sympy.Integer) -> str:
        value = int(expr)
        return power_text(value) or (f"{value:,}" if abs(value) >= 1000 else str(value))


def _complex(number: sympy.Expr) -> complex:
    """``complex(number)`` as SymPy computes it (via ``evalf``), directly for an integer
    that fits a float (correctly rounded both ways)."""
    if isinstance(number, sympy.Integer):
        try:
            return complex(float(int(number)))
        except OverflowError:
            pass
    return complex(number)


_PRINTER = TextPrinter()
_COUNTS = CountPrinter()


def sstr(expr: object) -> str:
    """The text form of a SymPy expression, relation or integer."""
    return _text(expr, group=False)


def count_text(expr: object) -> str:
    """A count (parameters, MACs, elements) for reading, digits grouped as Keras prints them.

    The one rule for numbers in convsym's output: a count has thousands separators, whether
    it stands alone or is a constant of a symbolic count (as LaTeX's ``18{,}528``); sizes,
    shapes, answer sets and everything meant to be typed back (JSON, ``--where``) do not.

    >>> from convsym.expr import parse_expr
    >>> count_text(18496), count_text(parse_expr("288*c + 18528")), count_text(640)
    ('18,496', '288*c + 18,528', '640')
    """
    return _text(expr, group=True)


def _text(expr: object, *, group: bool) -> str:
    if isinstance(expr, int):
        return (power_text(expr) or f"{expr:,}") if group else str(expr)
    if isinstance(expr, sympy.Basic):
        text: str | None = _PRINTED.get(group, expr)
        if text is None:
            printer = _COUNTS if group else _PRINTER
            for node in inner_first(expr, done=lambda f: _ROUNDED.get(type(printer), f)
                                    is not None):
                printer._print(node)  # deep nesting: the inner floors first (memoised)
            text = str(printer.doprint(expr))
            _PRINTED.put(group, expr, text)
        return text
    return str((_COUNTS if group else _PRINTER).doprint(expr))


_PRINTED = IdMemo(8192)
"""Whole texts, per expression and digit grouping (a row's shape, its MACs, the totals)."""


def shape_text(shape: tuple[object, ...], batch: bool = True) -> str:
    """``(None, 26, 26, 32)``-style text; ``batch=False`` drops the None.

    >>> shape_text((26, 26, 32), batch=False), shape_text((10,))
    ('(26, 26, 32)', '(None, 10)')
    """
    parts = (["None"] if batch else []) + [sstr(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


# --- derivations as plain text ---------------------------------------------------------------

WIDTH = 88
"""Paragraphs are wrapped to this many columns; a long formula breaks between its terms."""

TABLE_WIDTH = 100
"""Tables keep within this many columns (their cells wrap)."""


def value_text(expr: object, *, group: bool = True) -> str:
    """:func:`count_text` when ``group`` (a count), else :func:`sstr` (a size)."""
    return count_text(expr) if group else sstr(expr)


def term_text(t: D.Term) -> str:
    """The text of one math term."""
    if isinstance(t, D.Value):
        return value_text(t.expr, group=t.group)
    if isinstance(t, D.Letter):
        return t.text
    if isinstance(t, D.Product):
        return " * ".join(f"({sstr(f)})" if isinstance(f, sympy.Add) else sstr(f)
                          for f in t.factors)
    if isinstance(t, D.Sum):
        return " + ".join(value_text(x) for x in t.terms)
    if isinstance(t, D.Tup):
        items = [term_text(i) for i in t.items]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    return fill(t.formula.text, {k: (term_text(v), _compound(v)) for k, v in t.values.items()},
                "(", ")", ("(", ")"))


def math_text(m: D.Math) -> str:
    """A formula as text: terms joined by their relations."""
    terms = [term_text(t) for t in m.terms]
    out = terms[0]
    for op, t in zip(m.rels, terms[1:]):
        out += f" {D.RELATIONS[op][1]} {t}"
    return out


_NBSP = "\u00a0"


def _line(items: D.Line) -> str:
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, D.Math):
            out.append(_keep_together(math_text(item)))
        elif isinstance(item, D.Code):
            out.append(_keep_together(item.text))
        else:
            out.append(item.text)
    return "".join(out)


SHORT = 60
"""An inline formula or code this short never breaks across lines (a longer one breaks
after a comma or before an operator, outside parentheses)."""


def _keep_together(text: str) -> str:
    """Spaces that must not break made non-breaking: all of them in a short formula, all
    but those :func:`wrap_math` may break at in a long one."""
    if len(text) <= SHORT:
        return text.replace(" ", _NBSP)
    return " ".join(p.replace(" ", _NBSP) for p in _pieces(text, outer_only=True))


def wrap_math(text: str, width: int) -> list[str]:
    """A formula's text broken into lines of at most ``width`` characters where it may
    break: after a comma, or before a ``+``, ``-`` or relation (kept with what follows).
    Breaks outside parentheses come first; a piece longer than ``width`` stays whole.

    >>> wrap_math("(floor((H - 124)/8), floor((W - 124)/8), 512)", 20)
    ['(floor((H - 124)/8),', 'floor((W - 124)/8),', '512)']
    >>> wrap_math("a*b + c*d - e >= 5", 9)
    ['a*b + c*d', '- e >= 5']
    """
    pieces: list[str] = []
    for piece in _pieces(text, outer_only=True):  # a piece too long breaks inside, too
        pieces += [piece] if len(piece) <= width else _pieces(piece, outer_only=False)
    return _fill(pieces, width)


def _pieces(text: str, *, outer_only: bool) -> list[str]:
    """The unbreakable pieces (``outer_only``: only the breaks outside parentheses, and
    between a tuple's items)."""
    pieces: list[str] = []
    depth = 0
    for word in text.split(" "):
        # outer breaks: after a tuple's commas, before an operator outside parentheses
        comma = bool(pieces) and pieces[-1].endswith(",") and (depth <= 1 or not outer_only)
        operator = bool(pieces) and word in _BREAK_BEFORE and (depth == 0 or not outer_only)
        if comma or operator:
            pieces.append(word)
        elif pieces:
            pieces[-1] += " " + word
        else:
            pieces.append(word)
        depth += word.count("(") - word.count(")")
    return pieces


def _fill(pieces: list[str], width: int) -> list[str]:
    lines: list[str] = []
    for piece in pieces:
        if lines and len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines.append(piece)
    return lines


_BREAK_BEFORE = frozenset({"+", "-", "==", ">=", "<=", "!=", "=", ">", "<"})


def display_lines(m: D.Math, width: int = WIDTH) -> list[str]:
    """A displayed formula, indented; a long chain continues below at its relations.

    >>> from convsym.printing.doc import Letter, eq
    >>> a, b = Letter("a", "a" * 30, "a"), Letter("b", "b" * 30, "b")
    >>> print("\\n".join(display_lines(eq(a, b, a), 72)))
        aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
            = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    """
    one = "    " + math_text(m)
    if len(one) <= width:
        return [one]
    terms = [term_text(t) for t in m.terms]
    lines = ["    " + terms[0]]
    for op, t in zip(m.rels, terms[1:]):
        piece = f"{D.RELATIONS[op][1]} {t}"
        if len(lines) == 1 and len(lines[0]) + 1 + len(piece) <= width:
            lines[0] += " " + piece
        else:
            lines += ["        " + p for p in wrap_math(piece, width - 8)]
    return lines


def fit_widths(rows: list[list[str]], width: int, gap: int) -> list[int]:
    """Column widths for ``rows`` within ``width``: natural widths when they fit, else the
    widest columns narrowed (their cells then wrap: the first at its words, the others
    with :func:`wrap_math`), none below its longest unbreakable piece or 12 characters.

    >>> fit_widths([["Layer", "Shape"], ["conv", "(" + "n, " * 30 + "n)"]], 40, 2)
    [5, 33]
    """
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    words = max(len(w) for r in rows for w in r[0].split(" "))
    pieces = [max(len(p) for r in rows for p in _pieces(r[i], outer_only=False))
              for i in range(len(widths))]
    floors = [max(words, 12) if i == 0 else max(pieces[i], 12) for i in range(len(widths))]
    while sum(widths) + gap * (len(widths) - 1) > width:
        i = max(range(len(widths)), key=lambda j: widths[j] - floors[j])
        if widths[i] <= floors[i]:
            break
        widths[i] -= 1
    return widths


def table_lines(cells: list[str], widths: list[int], align: str, gap: str) -> list[str]:
    """One table row as lines: each cell wrapped to its column (the first at its words),
    ``r`` columns right-aligned.

    >>> table_lines(["conv", "(H - 2, W - 2)", "640"], [4, 8, 3], "llr", "  ")
    ['conv  (H - 2,   640', '      W - 2)']
    """
    parts = [(textwrap.wrap(c, w, break_long_words=False) if i == 0 else wrap_math(c, w)) or
             [""] for i, (c, w) in enumerate(zip(cells, widths))]
    out = []
    for i in range(max(len(p) for p in parts)):
        line = [(p[i] if i < len(p) else "") for p in parts]
        out.append(gap.join(c.rjust(w) if a == "r" else c.ljust(w)
                            for c, w, a in zip(line, widths, align)).rstrip())
    return out


def line_text(items: D.Line) -> str:
    """A line of prose, code and formulas as one plain-text string (how wide it reads)."""
    return _line(items).replace(_NBSP, " ")


def _wrap(text: str, indent: str = "", first: str = "") -> str:
    lines = textwrap.wrap(text, WIDTH, initial_indent=first or indent,
                          subsequent_indent=indent, break_on_hyphens=False,
                          break_long_words=False)
    return "\n".join(lines).replace(_NBSP, " ")


def _block(b: D.Block) -> str:
    if isinstance(b, D.Heading):
        text = line_text(b.line)
        return f"{text}\n{('-' if b.level == 1 else '~') * len(text)}"
    if isinstance(b, D.Para):
        return _wrap(_line(b.line))
    if isinstance(b, D.Display):
        return "\n".join(display_lines(b.math))
    if isinstance(b, D.Items):
        return "\n".join(_wrap(_line(i), "    ", "  - ") for i in b.items)
    cells = [[line_text(c) for c in b.header]] + [[line_text(c) for c in row] for row in b.rows]
    widths = fit_widths(cells, TABLE_WIDTH, 2)
    rule = "  ".join("-" * w for w in widths)
    rows = [line for r in cells[1:] for line in table_lines(r, widths, b.align, "  ")]
    return "\n".join([*table_lines(cells[0], widths, b.align, "  "), rule, *rows])


def render_document(document: D.Document) -> str:
    """A document model as plain text."""
    head = [document.title, "=" * len(document.title)]
    if document.subtitle:
        head.append(f"({document.subtitle})")
    return "\n".join(head) + "\n\n" + "\n\n".join(_block(b) for b in document.blocks) + "\n"


