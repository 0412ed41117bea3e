"""Lay a :class:`~convsym.derivation.Derivation` out as a document, using the templates.

This is where the prose is chosen: relationships numbered in order of first use, the
substitution of each layer's values, one line of why, the channel sum of a convolution, the
parameter counts and the totals.  Every formula is a tracked :class:`~convsym.printing.doc.Math`
so the printers stay dumb and the tests can parse each formula back.

>>> from convsym.derivation import derive
>>> from convsym.examples import example
>>> from convsym.printing.render import compose
>>> doc = compose(derive(example("seed1")))
>>> doc.title
'seed1: output sizes and parameters, step by step'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import sympy

from convsym.derivation import ChannelMix, Derivation, SizeStep, Step, WeightCount
from convsym.printing import templates as T
from convsym.printing.doc import (
    Block,
    Code,
    Display,
    Fill,
    Formula,
    Heading,
    Inline,
    Items,
    Letter,
    Line,
    Math,
    Para,
    Product,
    Strong,
    Sum,
    Table,
    Term,
    Tup,
    Value,
    eq,
    rel,
)
from convsym.printing.latex import primed_latex, symbol_latex
from convsym.printing.prose import primed, primed_words, prose, relation
from convsym.printing.text import math_text, sstr, term_text

MAX_SUM_TERMS = 8
"""Totals with more parts than this show the result only (the table lists the parts)."""


def network_blocks(d: Derivation) -> list[Block]:
    """Introduction, one section per layer, summary and side conditions.

    A letter of the notation that is also the name of one of the network's symbols is
    written primed (``n'``, ``k'``) everywhere the notation is meant, so it never reads as
    the user's ``n`` or ``k``.
    """
    numbers: dict[tuple[str, str], int] = {}
    blocks: list[Block] = [Para(prose(d.intro))] if d.intro else []
    names = frozenset(d.symbols)
    with primed(names):
        body: list[Block] = [Para(_intro(d))]
        for step in d.steps:
            body += _layer(step, numbers)
        body += summary_blocks(d)
        body += _conditions(d)
    return blocks + [prime_block(b, names) for b in body] if names else blocks + body


def _intro(d: Derivation) -> Line:
    dialect = T.DIALECT.get(d.dialect, d.dialect)
    line: list[Inline] = []
    for i, (_name, shape) in enumerate(d.inputs):
        line += ["Input " if i == 0 else ", input ", _shape(shape)]
    line += [f" (without the batch axis), with {dialect} conventions. "]
    line += prose("Notation for one spatial axis, as in Dumoulin and Visin's guide to "
                  "convolution arithmetic: $n$ is the input size, $k$ the kernel or window "
                  "size, $s$ the stride, $P$ the total zero padding and $o$ the output size.")
    if d.symbols:
        # the network's symbols are values, never primed: not Letters of the notation
        names = [Math((Value(sympy.Symbol(s)),)) for s in d.symbols]
        line += [" The sizes are symbolic: "]
        for i, m in enumerate(names):
            line += [", " if 0 < i < len(names) - 1 else (" and " if i else ""), m]
        line += [" stands for any positive integer." if len(names) == 1 else
                 " stand for any positive integers."]
        clash = sorted(set(d.symbols) & NOTATION,
                       key=lambda c: (_FIRST.index(c) if c in _FIRST else len(_FIRST), c))
        if clash:
            c = clash[0]
            line += [" A letter of the notation that is also the name of one of these symbols "
                     "is primed to keep the two apart: ",
                     Math((Letter(primed_latex(_letter_tex(c)), c + "'", c + "'"),)),
                     " is the notation's letter, ", Math((Value(sympy.Symbol(c)),)),
                     " the network's symbol."]
    return tuple(line)


_FIRST = "nksPo"
"""The notation's letters in the order the introduction names them."""


def _letter_tex(name: str) -> str:
    return symbol_latex(name)



# --- one layer -------------------------------------------------------------------------------


def _layer(step: Step, numbers: dict[tuple[str, str], int]) -> list[Block]:
    blocks: list[Block] = [Heading(2, (f"Layer {step.index}: ", Code(step.name),
                                       f" ({step.type})"))]
    line: list[Inline] = [Code(step.layer), " maps "]
    for i, shape in enumerate(step.inputs):
        line += [" and " if i else "", _shape(shape)]
    line += [" to ", _shape(step.output), "."]
    blocks.append(Para(tuple(line)))
    previous: tuple[str, str] | None = None
    for size in step.sizes:
        blocks += _size(size, numbers, repeat=_key(size) == previous)
        previous = _key(size)
    blocks += _kind_blocks(step)
    if step.channels is not None:
        blocks += _channels(step.channels)
    blocks += _weights(step)
    for note in step.notes:
        blocks.append(Para((note,)))
    if step.conditions:
        blocks.append(Para(("This layer also needs ", *_join([relation(c) for c in
                                                                step.conditions]), ".")))
    return blocks


def _kind_blocks(step: Step) -> list[Block]:
    if step.kind == "flatten" and step.inputs and len(step.output) == 1:
        return [Para((*prose(T.WHY["flatten"]), " ",
                      _chain(Product(step.inputs[0]), Value(step.output[0])), "."))]
    if step.kind == "dense" and step.inputs:
        n_in = step.inputs[0][-1]
        bias = any(w.name == "bias" for w in step.weights)
        return [Para(("Each of the ", _num(step.output[-1]), " outputs is a weighted sum of "
                      "all ", _num(n_in), " inputs" + (" plus its own bias." if bias else "."),
                      ))]
    if step.kind == "identity":
        return [Para(prose(T.WHY["identity"]))]
    if step.kind == "batchnorm":
        return [Para(prose(T.WHY["batchnorm_" + step.dialect]))] \
            if "batchnorm_" + step.dialect in T.WHY else []
    if step.kind == "pool":
        return [Para(prose(T.WHY["pool"]))]
    if step.kind == "merge":
        return [Para(prose(T.WHY.get("merge_" + step.type, T.WHY["merge"])))]
    if step.kind in ("depthwise", "separable", "transpose") and step.kind + "_" + \
            step.dialect in T.WHY:
        return [Para(prose(T.WHY[step.kind + "_" + step.dialect]))]
    return []


def _key(size: SizeStep) -> tuple[str, str]:
    """Which relationship a size uses: the rule, and whether the kernel is dilated."""
    return size.rule, "k_e" if size.values.get("d", 1) != 1 else "k"


def _size(size: SizeStep, numbers: dict[tuple[str, str], int], *, repeat: bool = False
          ) -> list[Block]:
    """The relationship (stated the first time, cited after) and its substitution.

    ``repeat`` is true for the second axis of a layer under the same relationship.
    """
    tpl = T.template(size.rule)
    if tpl is None or not tpl.forms:
        return _fallback(size)
    key = _key(size)
    kernel = key[1]
    dilated = kernel == "k_e"
    blocks: list[Block] = []
    letters = _letters(kernel)
    if key not in numbers:
        numbers[key] = len(numbers) + 1
        blocks.append(Para((Strong(f"Relationship {numbers[key]}"), " (", *prose(tpl.name),
                            "; ", *prose(tpl.convention), ")."), ))
        blocks.append(Display(eq(T.LETTERS["o"], Fill(tpl.general, letters))))
        blocks += _general_notes(tpl, letters, dilated)
    elif not repeat:
        blocks.append(Para((f"By Relationship {numbers[key]} (", *prose(tpl.name), "):")))
    values = _values(tpl, size, kernel)
    axes = _axes(size.axes)
    form = Fill(tpl.form(size.values), values)
    chain: list[Term] = [*_outputs(size.axes), form]
    if _text(form) != sstr(size.result):
        chain.append(Value(size.result, group=False))
    blocks.append(Para((f"{axes}:",)))
    blocks.append(Display(eq(*chain)))
    extras = _extra_lines(tpl, values, size)
    if len(extras) == 1:
        blocks.append(Para(("Padding: ", *extras[0])))
    elif extras:
        blocks.append(Para(("Padding:",)))
        blocks.append(Items(tuple(extras)))
    checks = _checks(tpl, values, size)
    if checks:
        blocks.append(Para(tuple(checks)))
    return blocks


def _general_notes(tpl: T.RuleTemplate, letters: Mapping[str, Term], dilated: bool
                   ) -> list[Block]:
    line: list[Inline] = []
    if len(tpl.extras) > 1:
        for i, extra in enumerate(_extra_lines(tpl, letters, None)):
            line += [", " if i else "Padding: ", *extra[:-1]]
        line.append(". ")
    if tpl.checks:
        line += ["Valid when ", *_join([rel(Fill(c.lhs, letters), ">=", Fill(c.rhs, letters))
                                        for c in tpl.checks]),
                 " (", *prose("; ".join(c.sentence for c in tpl.checks)), "). "]
    if dilated:
        line += prose("With dilation $d$, the window spans $k_e = d*(k - 1) + 1$ inputs. ")
    elif tpl.kernel_slot:
        line += prose("With a dilation $d$ other than 1, $k$ becomes $k_e = d*(k - 1) + 1$. ")
    line += ["Why: ", *prose(tpl.why), "."]
    return [Para(tuple(line))]


def _letters(kernel: str) -> dict[str, Term]:
    out: dict[str, Term] = dict(T.LETTERS)
    out["K"] = T.LETTERS[kernel]
    return out


def _values(tpl: T.RuleTemplate, size: SizeStep, kernel: str) -> dict[str, Term]:
    out: dict[str, Term] = {k: Value(v, group=False) for k, v in size.values.items()}
    if kernel in size.values or "k" in size.values:
        out["K"] = out.get("k_e", out.get("k", Value(sympy.Integer(0))))
    out["o"] = Value(size.result, group=False)
    for slot, key in tpl.aliases:
        if key in size.values:
            out[slot] = Value(size.values[key], group=False)
    return out


def _extra_lines(tpl: T.RuleTemplate, slots: Mapping[str, Term], size: SizeStep | None
                 ) -> list[Line]:
    """One line per padding quantity; later ones refer to the earlier by letter."""
    lines: list[Line] = []
    done: dict[str, Term] = {}
    for extra in tpl.extras:
        letter = T.LETTERS[extra.letter]
        form = Fill(next(f.formula for f in extra.forms
                         if size is None or f.applies(size.values)), {**slots, **done})
        terms: list[Term] = [letter, form]
        if size is not None:
            value = size.values.get(extra.letter)
            # a value the engine could not free of its max/min says what the formula says,
            # in another form: one form per quantity
            if value is not None and _text(form) != sstr(value) and \
                    not value.has(sympy.Max, sympy.Min):
                terms.append(Value(value, group=False))
            done[extra.letter] = letter
        lines.append((eq(*terms), f" {extra.label}", ";"))
    if lines:
        lines[-1] = (*lines[-1][:-1], ".")
    return lines


def _checks(tpl: T.RuleTemplate, values: Mapping[str, Term], size: SizeStep) -> list[Inline]:
    if not tpl.checks:
        return []
    shown = [rel(Fill(c.form(size.values), values), ">=", Fill(c.rhs, values))
             for c in tpl.checks]
    if not size.symbolic:
        return ["Valid: ", *_join(shown), "."]
    if size.conditions:
        engine = [relation(c) for c in size.conditions]
        same = [_math_text(m) for m in shown] == [_math_text(m) for m in engine]
        return ["Valid when ", *_join(shown), *(() if same else (", that is when ",
                                                               *_join(engine))),
                " (kept as a side condition)."]
    return ["Valid: ", *_join(shown), " holds for all positive values of the symbols."]


def _fallback(size: SizeStep) -> list[Block]:
    pairs = [eq(Letter(_letter_tex(k), k, k), Value(v, group=False))
             for k, v in size.values.items()]
    return [Para((f"{_axes(size.axes)}: rule ", Code(size.rule), " (no textbook template "
                  "yet) with ", *_join(pairs), " gives")),
            Display(eq(*_outputs(size.axes), Value(size.result, group=False)))]


def _outputs(axes: tuple[str, ...]) -> list[Term]:
    """``o_H``, ``o_W``: the output size on each axis."""
    return [Letter(f"o_{{{a}}}", f"o_{a}", f"o_{a}") for a in axes]


def _axes(axes: tuple[str, ...]) -> str:
    if len(axes) == 1:
        return f"Axis {axes[0]}"
    return "Axes " + ", ".join(axes[:-1]) + " and " + axes[-1]


# --- channels and parameters -----------------------------------------------------------------

_SUM = Formula(r"b_{j} + \sum_{i=0}^{<last>} x_{i} * w_{ij}",
               "b_j + sum(x_i * w_ij for i = 0, ..., <last>)",
               lambda v: sympy.Symbol("b_j") + sympy.Sum(
                   sympy.Symbol("x_i") * sympy.Symbol("w_ij"), (sympy.Symbol("i"), 0, v["last"])))
_SUM_NO_BIAS = Formula(r"\sum_{i=0}^{<last>} x_{i} * w_{ij}",
                       "sum(x_i * w_ij for i = 0, ..., <last>)",
                       lambda v: sympy.Sum(sympy.Symbol("x_i") * sympy.Symbol("w_ij"),
                                           (sympy.Symbol("i"), 0, v["last"])))


_CONVOLVED = Formula(r"x_{i} * w_{ij}", "x_i * w_ij",
                     lambda v: sympy.Symbol("x_i") * sympy.Symbol("w_ij"))


def _channels(mix: ChannelMix) -> list[Block]:
    where = T.DIALECT.get(mix.dialect, mix.dialect)
    index = Code(f"{mix.weight}{mix.index}")
    filt = _shape(mix.filter_shape)
    if mix.groups != 1:
        return [Para(("With ", Code(f"groups={sstr(mix.groups)}"), ", the ", _num(mix.c_in),
                      " input maps are split into ", _num(mix.groups), " groups; each of the ",
                      _num(mix.c_out), " filters has shape ", filt, " and sums over the maps "
                      "of its own group only. The filters of output map ", _j(), " are ",
                      index, f" (the {where} layout)."))]
    if not mix.full:
        spans: list[Inline] = [" and gives one output map"] if mix.c_in == 1 else \
            [", spans all ", _num(mix.c_in), " input maps and gives one output map"]
        return [Para(("Each of the ", _num(mix.c_out), " filters has shape ", filt, *spans,
                      "; the filters of output map ", _j(), " are ", index, "."))]
    last = Value(mix.c_in - 1, group=False)
    product = mix.c_in * mix.c_out
    line: list[Inline] = [
        Strong(f"Why {sstr(mix.c_out)} output maps."), " Each of the ", _num(mix.c_out),
        " filters has shape ", filt, ": it spans all ", _num(mix.c_in), " input maps at once. "
        "Output map ", _j(), " is one sum over every input map ", _i(), ":"]
    sum_formula = _SUM if mix.bias else _SUM_NO_BIAS
    y = Letter("y_{j}", "y_j", "y_j")
    second: list[Inline] = [
        "where ", Math((Fill(_CONVOLVED),)),
        " is input map ", _i(), " convolved with the slice ", _w(), " of filter ", _j(),
        *((", and ", Math((Letter("b_{j}", "b_j", "b_j"),)), " is its bias") if mix.bias
          else ()),
        ". The ", _num(mix.c_in), " convolutions are added into one map, not kept apart, so ",
        _num(mix.c_out), " filters give ", _num(mix.c_out), " maps, not ",
        eq(Product((mix.c_in, mix.c_out)), Value(product)) if product.is_Integer
        else Math((Product((mix.c_in, mix.c_out)),)),
        f". In the {where} layout the filters of output map ", _j(), " are ", index,
        ", of shape ", filt, "."]
    return [Para(tuple(line)),
            Display(eq(y, Fill(sum_formula, {"last": last}))),
            Para(tuple(second))]


def _weights(step: Step) -> list[Block]:
    if not step.weights:
        if step.kind not in ("identity", "flatten", "pool", "merge"):
            return [Para(("No parameters.",))]
        return []
    where = T.DIALECT.get(step.dialect, step.dialect)
    items = [_weight(w) for w in step.weights]
    blocks: list[Block] = [Para((f"Parameters, with shapes in the {where} layout:",)),
                           Items(tuple(items))]
    counts = [w.count for w in step.weights]
    line: list[Inline] = ["Layer total: "]
    if len(counts) > 1:
        line.append(_chain(Sum(tuple(counts)), Value(step.params)))
    else:
        line.append(Math((Value(step.params),)))
    line.append(" parameters")
    if step.non_trainable != 0:
        line += [", of which ", Math((Value(step.non_trainable),)), " non-trainable"]
    line.append(".")
    blocks.append(Para(tuple(line)))
    return blocks


def _weight(w: WeightCount) -> Line:
    shape: Term = Tup(tuple(Value(s, group=False) for s in w.shape))
    line: list[Inline] = [Code(w.name), " of shape "]
    if w.layout and len(w.layout) == len(w.shape):
        line.append(eq(Tup(tuple(_layout_letter(x) for x in w.layout)), shape))
    else:
        line.append(Math((shape,)))
    line.append(": ")
    if len(w.shape) > 1:
        line.append(_chain(Product(w.shape), Value(w.count)))
    else:
        line.append(Math((Value(w.count),)))
    line.append(" weights" if len(w.shape) > 1 else " values")
    if not w.trainable:
        line.append(" (non-trainable)")
    return tuple(line)


_LAYOUT = {"C_in": r"C_{\mathrm{in}}", "C_out": r"C_{\mathrm{out}}",
           "n_in": r"n_{\mathrm{in}}", "n_out": r"n_{\mathrm{out}}"}


def _layout_letter(name: str) -> Term:
    if name.isdigit():
        return Value(sympy.Integer(int(name)), group=False)
    if "*" in name:
        a, b = name.split("*")
        return Fill(Formula(f"{_LAYOUT.get(a, a)} {b}", f"{a}*{b}",
                            lambda v: sympy.Symbol(a) * sympy.Symbol(b)))
    if "/" in name:
        a, b = name.split("/")
        return Fill(Formula(f"{_LAYOUT.get(a, a)}/{b}", f"{a}/{b}",
                            lambda v: sympy.Symbol(a) / sympy.Symbol(b)))
    return Letter(_LAYOUT.get(name, _letter_tex(name)), name, name)


# --- summary and conditions ------------------------------------------------------------------


def summary_blocks(d: Derivation, *, changed_only: bool = False) -> list[Block]:
    """A table of the layers and the parameter totals.

    ``changed_only`` keeps the layers whose output's spatial size differs from their input's.
    """
    steps = [s for s in d.steps if not changed_only or _resizes(s)]
    rows = tuple(((Code(s.name),), (s.type,), (_shape(s.output),),
                  (Math((Value(_params(s)),)),)) for s in steps)
    blocks: list[Block] = [Heading(1, ("Summary",)),
                           Table((("Layer",), ("Type",), ("Output shape",), ("Parameters",)),
                                 rows, "lllr")]
    if d.totals is None:
        return blocks
    t = d.totals
    shown = {s.name: _params(s) for s in d.steps}
    parts = [shown.get(name, p) for name, p in t.parts]
    line: list[Inline] = ["Total parameters: "]
    if 1 < len(parts) <= MAX_SUM_TERMS:
        line.append(_chain(Sum(tuple(parts)), Value(t.total)))
    else:
        line.append(Math((Value(t.total),)))
    if t.non_trainable == 0:
        line.append(", all trainable.")
    else:
        line += [", of which ", Math((Value(t.trainable),)), " trainable and ",
                 Math((Value(t.non_trainable),)), " non-trainable."]
    blocks.append(Para(tuple(line)))
    return blocks


def _params(step: Step) -> sympy.Expr:
    """A layer's parameter count in the form its "Layer total" line shows: the sum of its
    weights' counts (the engine may factor the same count differently)."""
    if not step.weights:
        return step.params
    return sympy.Add(*(w.count for w in step.weights))


def _resizes(step: Step) -> bool:
    """True when a layer changes the size of some spatial axis."""
    return any(size.result != size.values.get("n") for size in step.sizes)


def _conditions(d: Derivation) -> list[Block]:
    blocks: list[Block] = [Heading(1, ("Side conditions",))]
    if d.conditions:
        blocks.append(Para(("The derivation holds when:",)))
        types = {s.name: s.type for s in d.steps}
        blocks.append(Items(tuple(
            (relation(c.relation), " (layer ", Code(c.layer),
             f" ({types[c.layer]})" if c.layer in types else "",
             f", axis {c.axis}: {primed_words(c.rule)})")
            for c in d.conditions)))
    elif d.symbols:
        blocks.append(Para(("Every layer is valid for all positive values of the symbols; "
                            "there are no side conditions.",)))
    else:
        blocks.append(Para(("Every size is a number, and each layer was checked: every input "
                            "holds at least one window. There are no side conditions.",)))
    return blocks


# --- notation apart from the user's symbols --------------------------------------------------

NOTATION = frozenset({*T.LETTERS, "i", "j", "o_H", "o_W", "o_D", "C_in", "C_out", "n_in",
                      "n_out", "m", "g", "y_j", "b_j", "x_i", "w_ij"})
"""Names the notation uses (a symbol of the same name gets the notation's letter primed)."""


def prime_term(t: Term, names: frozenset[str]) -> Term:
    """``t`` with each notation letter named in ``names`` primed."""
    if isinstance(t, Letter) and t.name in names:
        return Letter(primed_latex(t.latex), t.text + "'", t.name + "'")
    if isinstance(t, Tup):
        return Tup(tuple(prime_term(i, names) for i in t.items))
    if isinstance(t, Fill) and t.values:
        return Fill(t.formula, {k: prime_term(v, names) for k, v in t.values.items()})
    return t


def _prime_line(line: Line, names: frozenset[str]) -> Line:
    return tuple(Math(tuple(prime_term(t, names) for t in i.terms), i.rels, i.display, i.claim)
                 if isinstance(i, Math) else i for i in line)


def prime_block(b: Block, names: frozenset[str]) -> Block:
    """A block with the notation letters named in ``names`` primed."""
    if isinstance(b, (Heading, Para)):
        return dataclasses.replace(b, line=_prime_line(b.line, names))
    if isinstance(b, Display):
        return Display(_prime_line((b.math,), names)[0])  # type: ignore[arg-type]
    if isinstance(b, Items):
        return Items(tuple(_prime_line(i, names) for i in b.items))
    return Table(_prime_cells(b.header, names), tuple(_prime_cells(r, names) for r in b.rows),
                 b.align)


def _prime_cells(cells: tuple[Line, ...], names: frozenset[str]) -> tuple[Line, ...]:
    return tuple(_prime_line(c, names) for c in cells)


# --- small helpers ---------------------------------------------------------------------------


def _shape(shape: tuple[sympy.Expr, ...]) -> Math:
    return Math((Tup(tuple(Value(s, group=False) for s in shape)),))


def _num(value: sympy.Basic) -> Math:
    return Math((Value(value),))


def _j() -> Math:
    return Math((Letter("j", "j", "j"),))


def _i() -> Math:
    return Math((Letter("i", "i", "i"),))


def _w() -> Math:
    return Math((Letter("w_{ij}", "w_ij", "w_ij"),))


def _chain(*terms: Term) -> Math:
    """``a = b = ...``, dropping a term that reads exactly like the one before it, and a
    sum's value when it reads longer than the sum (one form per quantity: the total of
    ``j*k*ceiling(n/s) + j`` is not restated as ``j*(k*ceiling((n - s)/s) + k + 1)``)."""
    kept: list[Term] = []
    for t in terms:
        if kept and isinstance(kept[-1], Sum) and kept[-1].terms[1:] and \
                len(_text(t)) > len(_text(kept[-1])):
            continue
        if not kept or _text(t) != _text(kept[-1]):
            kept.append(t)
    return eq(*kept)


def _join(maths: list[Math]) -> list[Inline]:
    out: list[Inline] = []
    for i, m in enumerate(maths):
        if i:
            out.append(" and " if i == len(maths) - 1 else ", ")
        out.append(m)
    return out


def _math_text(m: Math) -> str:
    return math_text(m)


def _text(term: Term) -> str:
    return term_text(term)


