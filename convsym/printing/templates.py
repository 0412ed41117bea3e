"""Hand-written textbook templates for every size rule: relationship, substitution, why.

Each :class:`RuleTemplate` states the general relationship in the style of Dumoulin &
Visin's numbered relationships, with its validity condition and the dialect's convention,
then substitution *forms*: slot patterns (``<n>``, ``<s>``...) filled with this layer's values,
the first whose guard matches the values is used (``s = 1`` drops the floor).  The general
relationship is the last, unguarded form filled with letters.  SymPy prints only the values.

A rule without a template gets :func:`fallback`, which lists the values and the result;
``tests/unit/test_printing_templates.py`` fails when a layer records a rule name that has no
template here, so new rules are caught.

>>> TEMPLATES["valid"].name, TEMPLATES["valid"].convention
('no padding', "Keras `padding='valid'`, PyTorch `padding=0`")
>>> TEMPLATES["same_tf"].convention
'the Keras/TF convention, for any stride'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy

from convsym.printing.doc import Formula, Letter

Env = Mapping[str, sympy.Basic]


def _f(latex: str, text: str, meaning: Callable[[Env], sympy.Basic]) -> Formula:
    return Formula(latex, text, meaning)


def floor_(x: sympy.Basic) -> sympy.Basic:
    """``floor`` without evaluation surprises on symbolic arguments."""
    return sympy.floor(x)


LETTERS: dict[str, Letter] = {
    "n": Letter("n", "n", "n"),
    "k": Letter("k", "k", "k"),
    "s": Letter("s", "s", "s"),
    "d": Letter("{d}", "d", "d"),
    "P": Letter("P", "P", "P"),
    "p": Letter("p", "p", "p"),
    "p_l": Letter("p_{l}", "p_l", "p_l"),
    "p_r": Letter("p_{r}", "p_r", "p_r"),
    "k_e": Letter("k_{e}", "k_e", "k_e"),
    "o": Letter("o", "o", "o"),
    "op": Letter(r"\mathit{op}", "op", "op"),
    "c_l": Letter("c_{l}", "c_l", "c_l"),
    "c_r": Letter("c_{r}", "c_r", "c_r"),
    "t": Letter("t", "t", "t"),
    "a": Letter("a", "a", "a"),
    "b": Letter("b", "b", "b"),
    "e": Letter("e", "e", "e"),
}
"""The letters of the notation (Dumoulin & Visin's, with ``n`` for the input size)."""


@dataclass(frozen=True)
class Form:
    """A substitution pattern used when every value named in ``when`` equals the given int."""

    formula: Formula
    when: tuple[tuple[str, int], ...] = ()

    def applies(self, values: Env) -> bool:
        """True when the guard matches."""
        return all(values.get(k) == v for k, v in self.when)


@dataclass(frozen=True)
class Extra:
    """A further quantity shown after the size (the padding of 'same'): letter = forms."""

    letter: str
    forms: tuple[Form, ...]
    label: str


@dataclass(frozen=True)
class Check:
    """A validity condition ``lhs >= rhs`` as two patterns, with a sentence.

    ``forms`` are simpler left-hand sides for particular values (``p = 0``).
    """

    lhs: Formula
    rhs: Formula
    sentence: str
    forms: tuple[Form, ...] = ()

    def form(self, values: Env) -> Formula:
        """The left-hand side for these values."""
        return next((f.formula for f in self.forms if f.applies(values)), self.lhs)


@dataclass(frozen=True)
class RuleTemplate:
    """The textbook template of one size rule."""

    rule: str
    name: str
    convention: str
    forms: tuple[Form, ...]
    why: str
    checks: tuple[Check, ...] = ()
    extras: tuple[Extra, ...] = ()
    kernel_slot: bool = True
    aliases: tuple[tuple[str, str], ...] = ()
    """Slots filled from a differently named value: ``("t", "o")`` fills ``<t>`` with ``o``."""

    @property
    def general(self) -> Formula:
        """The general relationship's pattern (the last, unguarded form)."""
        return self.forms[-1].formula

    def form(self, values: Env) -> Formula:
        """The most specific pattern whose guard matches ``values``."""
        return next(f.formula for f in self.forms if f.applies(values))


# --- reusable patterns -----------------------------------------------------------------------

_FLOOR_NPK = _f(r"\left\lfloor \frac{<n> + <P> - <K>}{<s>} \right\rfloor + 1",
                "floor((<n> + <P> - <K>)/<s>) + 1",
                lambda v: floor_((v["n"] + v["P"] - v["K"]) / v["s"]) + 1)
_UNIT_NPK = _f(r"<n> + <P> - <K> + 1", "<n> + <P> - <K> + 1",
               lambda v: v["n"] + v["P"] - v["K"] + 1)
_FLOOR_NK = _f(r"\left\lfloor \frac{<n> - <K>}{<s>} \right\rfloor + 1",
               "floor((<n> - <K>)/<s>) + 1",
               lambda v: floor_((v["n"] - v["K"]) / v["s"]) + 1)
_UNIT_NK = _f(r"<n> - <K> + 1", "<n> - <K> + 1", lambda v: v["n"] - v["K"] + 1)
_FLOOR_N2PK = _f(r"\left\lfloor \frac{<n> + 2 \cdot <p> - <K>}{<s>} \right\rfloor + 1",
                 "floor((<n> + 2*<p> - <K>)/<s>) + 1",
                 lambda v: floor_((v["n"] + 2 * v["p"] - v["K"]) / v["s"]) + 1)

_N_PLUS_P = _f(r"<n> + <P>", "<n> + <P>", lambda v: v["n"] + v["P"])
_N = _f(r"<n>", "<n>", lambda v: v["n"])
_K = _f(r"<K>", "<K>", lambda v: v["K"])

_HALF_FLOOR = Form(_f(r"\left\lfloor \frac{<P>}{2} \right\rfloor", "floor(<P>/2)",
                      lambda v: floor_(v["P"] / 2)))
_REST = Form(_f(r"<P> - <p_l>", "<P> - <p_l>", lambda v: v["P"] - v["p_l"]))

_PADDED = Check(_N_PLUS_P, _K, "the padded input must hold at least one window",
                (Form(_N, (("P", 0),)),))
_FITS = Check(_N, _K, "the input must hold at least one window")


def _split(sentence: str) -> tuple[Extra, Extra]:
    return (Extra("p_l", (_HALF_FLOOR,), "before"),
            Extra("p_r", (_REST,), f"after ({sentence})"))


TEMPLATES: dict[str, RuleTemplate] = {}
"""Every rule's template, by the rule name the layers record in ``AxisStep.rule``."""


def register(template: RuleTemplate) -> RuleTemplate:
    """Add (or replace) the template of a rule."""
    TEMPLATES[template.rule] = template
    return template


register(RuleTemplate(
    "valid", "no padding",
    "Keras `padding='valid'`, PyTorch `padding=0`",
    (Form(_UNIT_NK, (("s", 1),)), Form(_FLOOR_NK)),
    "a window of size $k$ fits at the $n - k + 1$ positions where it starts no later than "
    "$n - k$; a stride $s$ keeps every $s$-th of them, starting with the first",
    checks=(_FITS,)))

register(RuleTemplate(
    "explicit", "explicit zero padding",
    "all frameworks: $p_l$ zeros before the input and $p_r$ after, $P = p_l + p_r$",
    (Form(_UNIT_NK, (("s", 1), ("P", 0))), Form(_FLOOR_NK, (("P", 0),)),
     Form(_UNIT_NPK, (("s", 1),)), Form(_FLOOR_NPK)),
    "the padded input is $n + P$ long, so a window of size $k$ fits at $n + P - k + 1$ "
    "positions, and a stride $s$ keeps every $s$-th of them",
    checks=(_PADDED,),
    extras=(Extra("P", (Form(_f(r"<p_l> + <p_r>", "<p_l> + <p_r>",
                                lambda v: v["p_l"] + v["p_r"])),), "in total"),)))

register(RuleTemplate(
    "same_tf", "`'same'` padding",
    "the Keras/TF convention, for any stride",
    (Form(_f(r"\left\lceil \frac{<n>}{<s>} \right\rceil", "ceiling(<n>/<s>)",
             lambda v: sympy.ceiling(v["n"] / v["s"]))),),
    "Keras pads just enough for one output per $s$ inputs, a last partial group included; "
    "the padding sets where the windows sit, not how many there are",
    extras=(Extra("P", (Form(_f(
        r"\max\left(\left(<o> - 1\right) \cdot <s> + <K> - <n>, 0\right)",
        "max((<o> - 1)*<s> + <K> - <n>, 0)",
        lambda v: sympy.Max((v["o"] - 1) * v["s"] + v["K"] - v["n"], 0))),),
        "in total"),
        *_split("the odd pixel goes at the end"))))

register(RuleTemplate(
    "same_torch", "`'same'` padding",
    "the PyTorch convention, stride 1 only",
    (Form(_UNIT_NPK),),
    "PyTorch pads $P = d*(k - 1)$ in total, exactly what a window needs to fit at each of the "
    "$n$ positions",
    extras=(Extra("P", (Form(_f(r"<d> \cdot \left(<k> - 1\right)", "<d>*(<k> - 1)",
                                lambda v: v["d"] * (v["k"] - 1))),), "in total"),
            *_split("the odd pixel goes at the end"))))

register(RuleTemplate(
    "causal", "causal padding",
    "Keras `padding='causal'` (Conv1D): all the padding before the input",
    (Form(_UNIT_NPK, (("s", 1),)), Form(_FLOOR_NPK)),
    "output $t$ sees the inputs up to $t$ only; the zeros in front stand in for the missing past",
    extras=(Extra("P", (Form(_f(r"<d> \cdot \left(<k> - 1\right)", "<d>*(<k> - 1)",
                                lambda v: v["d"] * (v["k"] - 1))),), "all before the input"),)))

register(RuleTemplate(
    "pool_valid_keras", "pooling without padding",
    "Keras `padding='valid'`; `strides` defaults to `pool_size`",
    (Form(_UNIT_NK, (("s", 1),)), Form(_FLOOR_NK)),
    "a pooling window fits at as many positions as a convolution window of the same size",
    checks=(_FITS,)))

register(RuleTemplate(
    "pool_same_keras", "`'same'` pooling",
    "Keras `padding='same'`; equal to $ceiling(n/s)$",
    (Form(_f(r"\left\lfloor \frac{<n> - 1}{<s>} \right\rfloor + 1", "floor((<n> - 1)/<s>) + 1",
             lambda v: floor_((v["n"] - 1) / v["s"]) + 1)),),
    "windows start at $0$, $s$, $2*s$, ... for as long as they start inside the input",
    kernel_slot=False))

register(RuleTemplate(
    "pool_floor_torch", "pooling with padding $p$ on each side",
    "PyTorch `ceil_mode=False`; $p$ may be at most half the window",
    (Form(_UNIT_NK, (("s", 1), ("p", 0))), Form(_FLOOR_NK, (("p", 0),)), Form(_FLOOR_N2PK)),
    "the padded input is $n + 2*p$ long, and windows are counted as for a convolution",
    checks=(Check(_f(r"<n> + 2 \cdot <p>", "<n> + 2*<p>", lambda v: v["n"] + 2 * v["p"]), _K,
                  "the padded input must hold at least one window",
                  (Form(_N, (("p", 0),)),)),)))

register(RuleTemplate(
    "pool_ceil_torch", "pooling with `ceil_mode=True`",
    "PyTorch: the last window must start inside the input or the left padding",
    (Form(_f(r"\min\left(\left\lceil \frac{<n> + 2 \cdot <p> - <K>}{<s>} \right\rceil, "
             r"\left\lfloor \frac{<n> + <p> - 1}{<s>} \right\rfloor\right) + 1",
             "min(ceiling((<n> + 2*<p> - <K>)/<s>), floor((<n> + <p> - 1)/<s>)) + 1",
             lambda v: sympy.Min(sympy.ceiling((v["n"] + 2 * v["p"] - v["K"]) / v["s"]),
                                 floor_((v["n"] + v["p"] - 1) / v["s"])) + 1)),),
    "ceil_mode keeps a last, partial window, but PyTorch drops it when it would start in the "
    "right padding; the documented formula alone overcounts (PyTorch issue 57178)",
    checks=(Check(_f(r"<n> + 2 \cdot <p> + <s> - 1", "<n> + 2*<p> + <s> - 1",
                     lambda v: v["n"] + 2 * v["p"] + v["s"] - 1), _K,
                  "a last window may overhang the padded input by up to $s - 1$",
                  (Form(_f(r"<n> + <s> - 1", "<n> + <s> - 1", lambda v: v["n"] + v["s"] - 1),
                        (("p", 0),)),)),)))


_TRANSPOSE_WHY = ("each of the $n$ input cells scatters a window of size $k$, the windows "
                  "$s$ apart: the last starts at $(n - 1)*s$ and ends $k - 1$ later")

register(RuleTemplate(
    "conv_transpose_torch", "transposed convolution",
    "PyTorch: $p$ cells trimmed from each side ($P = 2*p$), `output_padding` $op$ added at "
    "the end, which must be smaller than the stride or the dilation",
    (Form(_f(r"\left(<n> - 1\right) \cdot <s> + <K>", "(<n> - 1)*<s> + <K>",
             lambda v: (v["n"] - 1) * v["s"] + v["K"]), (("P", 0), ("op", 0))),
     Form(_f(r"\left(<n> - 1\right) \cdot <s> - <P> + <K> + <op>",
             "(<n> - 1)*<s> - <P> + <K> + <op>",
             lambda v: (v["n"] - 1) * v["s"] - v["P"] + v["K"] + v["op"]))),
    _TRANSPOSE_WHY + "; the padding trims and $op$ extends"))

register(RuleTemplate(
    "conv_transpose_keras_valid", "transposed convolution without padding",
    "Keras `padding='valid'` with `output_padding` $op$ given, smaller than the stride",
    (Form(_f(r"\left(<n> - 1\right) \cdot <s> + <K>", "(<n> - 1)*<s> + <K>",
             lambda v: (v["n"] - 1) * v["s"] + v["K"]), (("op", 0),)),
     Form(_f(r"\left(<n> - 1\right) \cdot <s> + <K> + <op>", "(<n> - 1)*<s> + <K> + <op>",
             lambda v: (v["n"] - 1) * v["s"] + v["K"] + v["op"]))),
    _TRANSPOSE_WHY + "; $op$ extra cells are added at the end"))

register(RuleTemplate(
    "conv_transpose_keras_valid_default", "transposed convolution without padding",
    "Keras `padding='valid'`, `output_padding=None`: Keras fills the gap when the stride "
    "exceeds the window, $op = max(k, s) - k$",
    (Form(_f(r"\left(<n> - 1\right) \cdot <s> + \max\left(<K>, <s>\right)",
             "(<n> - 1)*<s> + max(<K>, <s>)",
             lambda v: (v["n"] - 1) * v["s"] + sympy.Max(v["K"], v["s"]))),),
    _TRANSPOSE_WHY + "; when $s > k$ the last window is stretched to the stride"))

register(RuleTemplate(
    "conv_transpose_keras_same", "transposed convolution with `'same'` padding",
    "Keras `padding='same'` with `output_padding` $op$ given: "
    "the window's parity $k - 2*floor(k/2)$ is kept",
    (Form(_f(r"\left(<n> - 1\right) \cdot <s> + <K> - 2 \left\lfloor \frac{<K>}{2} "
             r"\right\rfloor + <op>",
             "(<n> - 1)*<s> + <K> - 2*floor(<K>/2) + <op>",
             lambda v: (v["n"] - 1) * v["s"] + v["K"] - 2 * floor_(v["K"] / 2) + v["op"])),),
    "Keras trims the padding of a 'same' convolution from the scattered windows, which leaves "
    "$(n - 1)*s$ plus the window's parity, then adds $op$"))

register(RuleTemplate(
    "conv_transpose_keras_same_default", "transposed convolution with `'same'` padding",
    "Keras `padding='same'`, `output_padding=None`: exactly $n*s$",
    (Form(_f(r"<n> \cdot <s>", "<n>*<s>", lambda v: v["n"] * v["s"])),),
    "it undoes a stride-$s$ 'same' convolution, which maps $n*s$ inputs to $n$ outputs",
    kernel_slot=False))

register(RuleTemplate(
    "upsample", "upsampling by an integer factor",
    "Keras `UpSampling`, PyTorch `nn.Upsample(scale_factor=s)`",
    (Form(_f(r"<n> \cdot <s>", "<n>*<s>", lambda v: v["n"] * v["s"])),),
    "every input cell is repeated (or interpolated into) $s$ output cells",
    kernel_slot=False))

register(RuleTemplate(
    "pad", "padding",
    "$p_l$ cells before the input and $p_r$ after",
    (Form(_f(r"<n> + <p_l> + <p_r>", "<n> + <p_l> + <p_r>",
             lambda v: v["n"] + v["p_l"] + v["p_r"])),),
    "padding adds cells at both ends and changes nothing else", kernel_slot=False))

register(RuleTemplate(
    "crop", "cropping",
    "$c_l$ cells removed before and $c_r$ after",
    (Form(_f(r"<n> - <c_l> - <c_r>", "<n> - <c_l> - <c_r>",
             lambda v: v["n"] - v["c_l"] - v["c_r"])),),
    "cropping removes cells at both ends; at least one must remain", kernel_slot=False))

register(RuleTemplate(
    "global_pool", "global pooling",
    "one value per channel, whatever the input size",
    (Form(_f("1", "1", lambda v: sympy.Integer(1))),),
    "the window is the whole input", kernel_slot=False))

register(RuleTemplate(
    "adaptive_pool", "adaptive pooling",
    "the output size $t$ is chosen; bin $i$ spans the inputs from $floor(i*n/t)$ up to "
    "$ceiling((i + 1)*n/t)$",
    (Form(_f("<t>", "<t>", lambda v: v["t"])),),
    "the windows adapt to the input, so the size is the requested one", kernel_slot=False,
    aliases=(("t", "o"),)))

register(RuleTemplate(
    "resize_to", "resizing to a given size",
    "PyTorch `nn.Upsample(size=t)`: the output size $t$ is given",
    (Form(_f("<t>", "<t>", lambda v: v["t"])),),
    "the size is the requested one, whatever the input", kernel_slot=False,
    aliases=(("t", "o"),)))


# --- the ONNX dialect (docs/conventions-onnx.md) ----------------------------------------------

_CEIL_NS = Form(_f(r"\left\lceil \frac{<n>}{<s>} \right\rceil", "ceiling(<n>/<s>)",
                   lambda v: sympy.ceiling(v["n"] / v["s"])))
_SAME_P = Extra("P", (Form(_f(
    r"\max\left(\left(<o> - 1\right) \cdot <s> + <K> - <n>, 0\right)",
    "max((<o> - 1)*<s> + <K> - <n>, 0)",
    lambda v: sympy.Max((v["o"] - 1) * v["s"] + v["K"] - v["n"], 0))),), "in total")

register(RuleTemplate(
    "same_upper_onnx", "`auto_pad=SAME_UPPER`",
    "ONNX: $ceiling(n/s)$ for any stride, the odd padding cell at the end",
    (_CEIL_NS,),
    "ONNX pads just enough for one output per $s$ inputs; SAME_UPPER puts the odd cell of "
    "padding after the input (as TF does)",
    extras=(_SAME_P, *_split("SAME_UPPER: the odd cell goes at the end"))))

register(RuleTemplate(
    "same_lower_onnx", "`auto_pad=SAME_LOWER`",
    "ONNX: $ceiling(n/s)$ for any stride, the odd padding cell at the START "
    "($p_l = ceiling(P/2)$)",
    (_CEIL_NS,),
    "the same size as SAME_UPPER; only where the windows sit differs, the odd cell of padding "
    "going before the input",
    extras=(_SAME_P,)))

register(RuleTemplate(
    "pool_same_onnx", "pooling with `auto_pad=SAME_*`",
    "onnxruntime: the padding $(ceiling(n/s) - 1)*s + k - n$ is sized for the undilated "
    "window, so a dilation $d$ costs $ceiling((d - 1)*(k - 1)/s)$ outputs",
    (Form(_CEIL_NS.formula, (("d", 1),)),
     Form(_f(r"\left\lceil \frac{<n>}{<s>} \right\rceil - \left\lceil \frac{\left(<d> - 1"
             r"\right) \cdot \left(<k> - 1\right)}{<s>} \right\rceil",
             "ceiling(<n>/<s>) - ceiling((<d> - 1)*(<k> - 1)/<s>)",
             lambda v: sympy.ceiling(v["n"] / v["s"]) -
             sympy.ceiling((v["d"] - 1) * (v["k"] - 1) / v["s"])))),
    "windows of the dilated kernel are counted over the input padded for the undilated one",
    kernel_slot=False))

register(RuleTemplate(
    "pool_ceil_onnx", "pooling with `ceil_mode=1`",
    "ONNX (onnxruntime): pads $p_l$ before and $p_r$ after; the last window must start inside "
    "the input or the left padding",
    (Form(_f(r"\min\left(\left\lceil \frac{<n> + <P> - <K>}{<s>} \right\rceil, "
             r"\left\lfloor \frac{<n> + <p_l> - 1}{<s>} \right\rfloor\right) + 1",
             "min(ceiling((<n> + <P> - <K>)/<s>), floor((<n> + <p_l> - 1)/<s>)) + 1",
             lambda v: sympy.Min(sympy.ceiling((v["n"] + v["P"] - v["K"]) / v["s"]),
                                 floor_((v["n"] + v["p_l"] - 1) / v["s"])) + 1)),),
    "ceil_mode keeps a last, partial window, but not one that would start in the right "
    "padding (as PyTorch)",
    extras=(Extra("P", (Form(_f(r"<p_l> + <p_r>", "<p_l> + <p_r>",
                                lambda v: v["p_l"] + v["p_r"])),), "in total"),)))

register(RuleTemplate(
    "conv_transpose_onnx", "transposed convolution with explicit pads",
    "ONNX ConvTranspose: $p_l$ and $p_r$ trimmed, `output_padding` $op$ added",
    (Form(_f(r"<s> \cdot \left(<n> - 1\right) + <op> + <K> - <p_l> - <p_r>",
             "<s>*(<n> - 1) + <op> + <K> - <p_l> - <p_r>",
             lambda v: v["s"] * (v["n"] - 1) + v["op"] + v["K"] - v["p_l"] - v["p_r"])),),
    _TRANSPOSE_WHY + "; the pads trim and $op$ extends"))

register(RuleTemplate(
    "conv_transpose_onnx_same", "transposed convolution with `auto_pad=SAME_*`",
    "ONNX (onnxruntime): $n*s$, unless the window and $op$ do not cover the stride "
    "(the total padding is clamped at 0)",
    (Form(_f(r"\min\left(<n> \cdot <s>, \left(<n> - 1\right) \cdot <s> + <op> + <K>\right)",
             "min(<n>*<s>, (<n> - 1)*<s> + <op> + <K>)",
             lambda v: sympy.Min(v["n"] * v["s"], (v["n"] - 1) * v["s"] + v["op"] + v["K"]))),),
    "SAME undoes a stride-$s$ SAME convolution; it can only trim padding, never add it"))

register(RuleTemplate(
    "conv_transpose_onnx_output_shape", "transposed convolution with `output_shape`",
    "ONNX: the size is the given $t$; the padding is what makes it fit",
    (Form(_f("<t>", "<t>", lambda v: v["t"])),),
    "the attribute fixes the size; it must not exceed $s*(n - 1) + op + k$",
    kernel_slot=False, aliases=(("t", "o"),)))

register(RuleTemplate(
    "slice_onnx", "slicing",
    "ONNX Slice: from $b$ up to (not including) $e$, every $s$-th cell; the bounds are "
    "clamped to the axis",
    (Form(_f("<e> - <b>", "<e> - <b>", lambda v: v["e"] - v["b"]), (("s", 1),)),
     Form(_f(r"\left\lceil \frac{<e> - <b>}{<s>} \right\rceil", "ceiling((<e> - <b>)/<s>)",
             lambda v: sympy.ceiling((v["e"] - v["b"]) / v["s"])))),
    "a slice keeps the cells $b$, $b + s$, ... below $e$", kernel_slot=False))

register(RuleTemplate(
    "resize_scale_onnx", "resizing by a fractional scale",
    "ONNX Resize: $floor(n*a/b)$ for the scale $a/b$",
    (Form(_f(r"\left\lfloor \frac{<n> \cdot <a>}{<b>} \right\rfloor", "floor(<n>*<a>/<b>)",
             lambda v: floor_(v["n"] * v["a"] / v["b"]))),),
    "the output has $n*a/b$ cells, rounded down", kernel_slot=False))


def fallback(rule: str) -> RuleTemplate:
    """The template of a rule nobody wrote one for: it states the values and the result."""
    return RuleTemplate(rule, f"rule '{rule}'", f"'{rule}' (no textbook template yet)", (), "")


def template(rule: str) -> RuleTemplate | None:
    """The template for ``rule``, or None (the caller then uses :func:`fallback`)."""
    return TEMPLATES.get(rule)


# --- sentences for layers without a size rule ------------------------------------------------

WHY = {
    "flatten": "Flatten lays every value of the input out along one axis and has no "
               "parameters; the length is the product of the input's sizes:",
    "dense": "Each of the outputs is a weighted sum of all the inputs plus its own bias.",
    "identity": "The layer acts on each value separately, so the shape passes through; it has "
                "no parameters.",
    "batchnorm_keras": "Keras keeps four vectors of length C: gamma and beta are trained, the "
                       "moving mean and variance are non-trainable statistics.",
    "batchnorm_torch": "PyTorch's parameters are weight and bias (2C); the running mean and "
                       "variance are buffers, not parameters.",
    "pool": "Pooling has no parameters and keeps the number of channels.",
    "merge": "The layer combines its inputs; it has no parameters.",
    "depthwise_keras": "A depthwise convolution does not sum over the input maps: each input "
                       "map $i$ is convolved with its own $m$ filters (`depth_multiplier`), "
                       "giving output maps $i*m$ to $i*m + m - 1$, so there are $C_in*m$ "
                       "output maps. The filters of input map $i$ are `kernel[:, :, i, :]`.",
    "separable_keras": "A separable convolution is a depthwise step (each input map convolved "
                       "with its own $m$ filters, no sum over maps) followed by a pointwise "
                       "1 by 1 convolution that sums over all $C_in*m$ maps like an ordinary "
                       "convolution; Keras gives it a single bias.",
    "transpose_keras": "Every input map feeds every output map: each input cell is scattered "
                       "through the slice of the kernel for that pair of maps, and the "
                       "results are added. Keras stores the kernel as "
                       "$(k_h, k_w, C_out, C_in)$, output maps before input maps.",
    "transpose_torch": "Every input map feeds every output map (of its group): each input cell "
                       "is scattered through the slice of the weight for that pair of maps, "
                       "and the results are added. PyTorch stores the weight as "
                       "$(C_in, C_out/g, k_h, k_w)$, input maps first.",
    "merge_Add": "Add sums its inputs value by value, so they must have the same shape, "
                 "which is the output's; it has no parameters.",
    "merge_Concatenate": "Concatenate joins its inputs along one axis: that axis's sizes add "
                         "up and every other size must agree; it has no parameters.",
    "merge_Multiply": "Multiply takes the product of its inputs value by value, so they must "
                      "have the same shape; it has no parameters.",
}
"""One line of why for layers explained by kind rather than by a size rule."""

DIALECT = {"keras": "Keras", "torch": "PyTorch", "onnx": "ONNX"}
"""How each dialect is named in prose."""
