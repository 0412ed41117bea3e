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
from collections.abc import Callable
from typing import TYPE_CHECKING

import sympy
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from convsym.printing import doc as D

if TYPE_CHECKING:
    from convsym.derivation import Derivation


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


_ROUNDED: dict[sympy.Expr, str] = {}


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
        for f in arg.args:
            if f.is_Rational:
                above.append(sympy.Integer(f.p))
                below.append(sympy.Integer(f.q))
            elif f.is_Pow and f.base.is_Symbol and f.exp.is_Integer and f.exp < 0:
                below.append(sympy.Pow(f.base, -f.exp))
            elif f.is_Symbol or f.is_Pow and f.base.is_Symbol and f.exp.is_Integer:
                above.append(f)
            else:
                break
        else:
            return sympy.Mul(*above), sympy.Mul(*below)
    return sympy.fraction(sympy.together(arg))  # type: ignore[no-any-return]


def _plain_factor(f: sympy.Expr) -> bool:
    base, exp = f.as_base_exp()
    return bool(exp.is_Integer and exp > 0 and (base.is_Symbol or
                                                isinstance(base, (sympy.floor, sympy.ceiling))))


class TextPrinter(StrPrinter):
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
        return str(super().parenthesize(item, level, strict))

    def _quotient(self, arg: sympy.Expr) -> str:
        num, den = quotient(arg)
        if den == 1:
            return str(self._print(num))
        top = self._print(num)
        if precedence(num) < PRECEDENCE["Mul"]:
            top = f"({top})"
        bottom = self._print(den)
        if precedence(den) <= PRECEDENCE["Mul"] and not den.is_Atom or is_power_product(den):
            bottom = f"({bottom})"
        return f"{top}/{bottom}"

    def _print_floor(self, expr: sympy.floor) -> str:
        return self._rounded("floor", expr)

    def _print_ceiling(self, expr: sympy.ceiling) -> str:
        return self._rounded("ceiling", expr)

    def _rounded(self, name: str, expr: sympy.Expr) -> str:
        # a deep network shows each floor in its row, the next MACs and the totals: once
        text = _ROUNDED.get(expr)
        if text is None:
            text = f"{name}({self._quotient(expr.args[0])})"
            if len(_ROUNDED) >= 1 << 14:
                _ROUNDED.clear()
            _ROUNDED[expr] = text
        return text

    def _print_Mul(self, expr: sympy.Mul) -> str:
        # a product is printed in its row (a layer's MACs) and again in the total
        return _memo_text(expr, lambda: self._mul_text(expr))

    def _mul_text(self, expr: sympy.Mul) -> str:
        """``StrPrinter._print_Mul``, ordering long sums among the factors in linear time.

        SymPy orders factors by ``sort_key``, which for a sum of n terms builds n dense
        exponent vectors over all its symbols (n^2: a layer's MACs with one symbolic kernel
        per layer are products of such sums).  For an evaluated product of plain factors
        (no denominator) this is StrPrinter's own branch with :func:`sort_key` (the same
        keys); anything else goes to StrPrinter.
        """
        args = expr.args
        plain = expr.is_commutative and args[0] is not sympy.S.One and not any(
            isinstance(a, sympy.Number) or a.is_Pow and all(x.is_Integer for x in a.args)
            for a in args[1:]) and not any(
            a.is_Pow and a.exp.as_coeff_Mul()[0] < 0 or a.is_Rational and a.q != 1
            for a in args)
        if not plain or not any(a.is_Add and len(a.args) > _LONG for a in args):
            return str(super()._print_Mul(expr))
        prec = precedence(expr)
        c, rest = expr.as_coeff_Mul()
        sign = ""
        if c < 0:
            from sympy.core.mul import _keep_coeff

            expr, sign = _keep_coeff(-c, rest), "-"
        factors = sorted(sympy.Mul.make_args(expr), key=sort_key)
        shown = [x for x in factors if not (x.is_Rational and x.p == 1)] or [sympy.S.One]
        return sign + "*".join(self.parenthesize(x, prec, strict=False) for x in shown)

    def _print_Add(self, expr: sympy.Add, order: str | None = None) -> str:
        if order is None:  # a size is printed in its row, the next MACs, the totals: once
            return _memo_text(expr, lambda: self._add_text(expr, None))
        return self._add_text(expr, order)

    def _add_text(self, expr: sympy.Add, order: str | None) -> str:
        # textbook order: ``n - k``, not SymPy's alphabetical ``-k + n``
        terms = _ordered_terms(expr) if order is None and len(expr.args) > _LONG else \
            list(self._as_ordered_terms(expr, order=order))
        level = precedence(expr)
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
        key = (term, level)
        found = _TERMS.get(key)
        if found is None:
            text = self._print(term)
            sign = "+"
            if text.startswith("-") and not term.is_Add:
                sign, text = "-", text[1:]
            if precedence(term) < level or term.is_Add:
                text = f"({text})"
            found = (bool(term.could_extract_minus_sign()), sign, text)
            if len(_TERMS) >= 1 << 16:
                _TERMS.clear()
            _TERMS[key] = found
        return found

    def _print_Relational(self, expr: sympy.core.relational.Relational) -> str:
        return f"{self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)}"


_TEXTS: dict[sympy.Expr, str] = {}
_TERMS: dict[tuple[sympy.Expr, int], tuple[bool, str, str]] = {}


def _memo_text(expr: sympy.Expr, make: Callable[[], str]) -> str:
    """The printed text of a sum or product, memoised (expressions are immutable)."""
    text = _TEXTS.get(expr)
    if text is None:
        text = make()
        if len(_TEXTS) >= 1 << 14:
            _TEXTS.clear()  # bounded memory; a miss only costs printing again
        _TEXTS[expr] = text
    return text


_LONG = 8
"""Sums with more terms than this are ordered by :func:`_ordered_terms`."""

_SORT_KEYS: dict[sympy.Expr, tuple[object, ...]] = {}


def sort_key(expr: sympy.Expr) -> tuple[object, ...]:
    """``expr.sort_key()`` (SymPy's canonical order), in linear time for a long sum and for
    a power or product with one among its factors: ``Expr.sort_key`` keys a sum by its terms
    in ``as_ordered_terms`` order, which :func:`_ordered_terms` gives without SymPy's dense
    exponent vectors; the rest is ``Expr.sort_key``'s own recipe.

    >>> from convsym.expr import parse_expr
    >>> e = parse_expr("h - k0 - k1 - k2 - k3 - k4 - k5 - k6 - k7 - k8 + 9")
    >>> all(sort_key(x) == x.sort_key() for x in (e, e**2, -3*e*parse_expr("w - 1")))
    True
    """
    if not (_long_sum(expr) or (expr.is_Mul or expr.is_Pow) and any(map(_long_sum,
                                                                          expr.args))):
        return expr.sort_key()  # type: ignore[no-any-return]
    key = _SORT_KEYS.get(expr)
    if key is not None:
        return key
    coeff, rest = expr.as_coeff_Mul()
    exp: sympy.Expr = sympy.S.One
    if rest.is_Pow and rest.base is not sympy.S.Exp1:
        rest, exp = rest.base, rest.exp
    if rest.is_Add:
        args = _ordered_terms(rest)
    elif rest.is_Mul:
        c_part, nc_part = rest.args_cnc()
        args = sorted(c_part, key=sort_key) + nc_part
    else:
        args = list(rest.args)
    keys = tuple(sort_key(a) for a in args)
    key = (rest.class_key(), (len(keys), keys), exp.sort_key(), coeff)
    if len(_SORT_KEYS) >= 1 << 14:
        _SORT_KEYS.clear()
    _SORT_KEYS[expr] = key
    return key


def _long_sum(expr: sympy.Expr) -> bool:
    base = expr.base if expr.is_Pow else expr
    return bool(base.is_Add and len(base.args) > _LONG)


_ROWS: dict[sympy.Expr, tuple[sympy.Expr, dict[sympy.Expr, int], tuple[object, ...]]] = {}


def _ordered_terms(expr: sympy.Add) -> list[sympy.Expr]:
    """``expr.as_ordered_terms()`` in linear space.

    SymPy orders terms by their dense exponent vectors over every generator of the sum, so a
    sum of n products of distinct floors costs n^2 (the total MACs of a deep network).  The
    same order from sparse vectors: the key of a term is its (generator index, -exponent)
    pairs in index order closed by a sentinel, which compares exactly as SymPy's negated
    dense vector does when every exponent is a positive integer; otherwise SymPy's own.
    """
    from sympy.core.exprtools import decompose_power

    rows = []
    gens: set[sympy.Expr] = set()
    for term in expr.args:
        row = _ROWS.get(term)
        if row is None:
            coeff, rest = term.as_coeff_Mul()
            powers: dict[sympy.Expr, int] = {}
            if rest is not sympy.S.One:
                for factor in sympy.Mul.make_args(rest):
                    base, exp = decompose_power(factor)
                    if factor.is_number or not factor.is_commutative or factor.is_Order or \
                            not isinstance(exp, int) or exp <= 0 or base in powers:
                        return list(expr.as_ordered_terms())
                    powers[base] = exp
            c = _complex(coeff)
            row = (term, powers, ((bool(c.imag), c.imag), (c.real, c.imag)))
            if len(_ROWS) >= 1 << 16:
                _ROWS.clear()
            _ROWS[term] = row  # terms repeat across a deep network's sums
        gens.update(row[1])
        rows.append(row)
    index = {g: i for i, g in enumerate(sorted(gens, key=sort_key))}
    end = (len(index),)

    def key(row: tuple[sympy.Expr, dict[sympy.Expr, int], object]) -> tuple[object, ...]:
        _, powers, coeff = row
        sparse = sorted((index[b], -e) for b, e in powers.items())
        return (*sparse, end), coeff

    return [row[0] for row in sorted(rows, key=key)]


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


def sstr(expr: object) -> str:
    """The text form of a SymPy expression, relation or integer."""
    if isinstance(expr, int):
        return str(expr)
    if isinstance(expr, sympy.Basic):
        return _sstr(expr)
    return str(_PRINTER.doprint(expr))


@functools.lru_cache(maxsize=8192)
def _sstr(expr: sympy.Basic) -> str:
    return str(_PRINTER.doprint(expr))


# --- derivations as plain text ---------------------------------------------------------------

WIDTH = 88
"""Paragraphs are wrapped to this many columns; formulas are never split."""

def value_text(expr: object, *, group: bool = True) -> str:
    """``18,496`` for a grouped integer, else :func:`sstr`."""
    if group and isinstance(expr, (int, sympy.Integer)):
        return f"{int(expr):,}"
    return sstr(expr)


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
    from convsym.printing.latex import _compound, fill

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
            out.append(math_text(item).replace(" ", _NBSP))
        elif isinstance(item, D.Code):
            out.append(item.text.replace(" ", _NBSP))
        else:
            out.append(item.text)
    return "".join(out)


def _wrap(text: str, indent: str = "", first: str = "") -> str:
    import textwrap

    lines = textwrap.wrap(text, WIDTH, initial_indent=first or indent,
                          subsequent_indent=indent, break_on_hyphens=False,
                          break_long_words=False)
    return "\n".join(lines).replace(_NBSP, " ")


def _block(b: D.Block) -> str:
    if isinstance(b, D.Heading):
        text = _line(b.line).replace(_NBSP, " ")
        return f"{text}\n{('-' if b.level == 1 else '~') * len(text)}"
    if isinstance(b, D.Para):
        return _wrap(_line(b.line))
    if isinstance(b, D.Display):
        return "    " + math_text(b.math)
    if isinstance(b, D.Items):
        return "\n".join(_wrap(_line(i), "    ", "  - ") for i in b.items)
    cells = [[_line(c).replace(_NBSP, " ") for c in b.header]] + \
        [[_line(c).replace(_NBSP, " ") for c in row] for row in b.rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(b.header))]

    def row(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if a == "r" else c.ljust(w)
                         for c, w, a in zip(r, widths, b.align)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([row(cells[0]), rule, *(row(r) for r in cells[1:])])


def render_document(document: D.Document) -> str:
    """A document model as plain text."""
    head = [document.title, "=" * len(document.title)]
    if document.subtitle:
        head.append(f"({document.subtitle})")
    return "\n".join(head) + "\n\n" + "\n\n".join(_block(b) for b in document.blocks) + "\n"


def render(derivation: Derivation) -> str:
    """A derivation as plain text."""
    from convsym.printing.compose import compose

    return render_document(compose(derivation))
