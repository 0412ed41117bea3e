"""Derivations as data: what each layer computes, from which rule, with which values.

:func:`derive` turns a network, a single layer (with an input shape) or a proof into a
:class:`Derivation`: per layer the size rule applied on each axis (:class:`SizeStep`), every
weight tensor with its shape in the dialect's layout (:class:`WeightCount`), how the output
maps mix the input maps (:class:`ChannelMix`), side conditions and totals.  Nothing here
writes prose; :mod:`convsym.printing` lays a derivation out as LaTeX, Markdown or text.

>>> from convsym.layers.keras import Conv2D
>>> d = derive(Conv2D(64, 3), input_shape=(26, 26, 32))
>>> step = d.steps[0]
>>> step.sizes[0].axes, step.sizes[0].rule, step.sizes[0].result
(('H', 'W'), 'valid', 24)
>>> [(w.name, w.shape, w.count) for w in step.weights]
[('kernel', (3, 3, 32, 64), 18432), ('bias', (64,), 64)]
>>> d.totals.total
18496
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sympy

from convsym import deep
from convsym.budget import Budgets, checkpoint, current, timed
from convsym.conditions import condition_relation, reduced_conditions
from convsym.errors import ConvsymError, ConvsymTypeError, UsageError, shorten
from convsym.expr import parse_expr
from convsym.formulas import effective_kernel
from convsym.intdiv import Ext, QExpr, QPoly, as_int, evaluate, ext, free_symbols
from convsym.intdiv import to_sympy as _to_sympy
from convsym.layers.base import Layer
from convsym.layers.conv import ConvConfig
from convsym.layers.pool import PoolConfig
from convsym.layers.transpose import TransposeConfig
from convsym.network import Network, Sequential
from convsym.period import decide_eq, decide_nonneg
from convsym.printing.display import Rich
from convsym.seam import upward

if TYPE_CHECKING:
    from convsym.layers.base import Inference, Layer, Shape
    from convsym.network import Network, Row

SympyShape = tuple[sympy.Expr, ...]


@dataclass(frozen=True)
class SizeStep:
    """One size rule applied on one or more axes that share values and result.

    ``values`` holds the rule's letters (``n``, ``k``, ``s``, ``d``, ``P``, ``p_l``, ``p_r``,
    and the derived ``k_e``); ``result`` is the engine's canonical size; ``conditions`` are the
    validity conditions the engine could not decide (symbolic sizes only).
    """

    axes: tuple[str, ...]
    rule: str
    values: Mapping[str, sympy.Expr]
    result: sympy.Expr
    conditions: tuple[sympy.Basic, ...] = ()

    @property
    def symbolic(self) -> bool:
        """True when some value has a symbol."""
        return not deep.is_number(self.result) or not all(
            map(deep.is_number, self.values.values()))


@dataclass(frozen=True)
class WeightCount:
    """One weight tensor: name, shape in the dialect's layout, the letters of that layout."""

    name: str
    shape: SympyShape
    count: sympy.Expr
    trainable: bool = True
    layout: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelMix:
    """How a convolution's output maps come from its input maps (the seed questions' point).

    Output map ``j`` is ``b_j + sum_i x_i * w_ij`` over all input maps ``i`` (of its group);
    ``filter_shape`` is one filter in the dialect's layout, ``index`` where the filters of map
    ``j`` sit in the weight tensor (``[:, :, :, j]`` in Keras, ``[j]`` in PyTorch).
    ``full`` asks for the whole explanation (else one sentence).
    """

    c_in: sympy.Expr
    c_out: sympy.Expr
    kernel: SympyShape
    groups: sympy.Expr
    filter_shape: SympyShape
    weight: str
    index: str
    bias: bool
    dialect: str
    full: bool


@dataclass(frozen=True)
class Step:
    """One layer of a derivation."""

    index: int
    name: str
    type: str
    layer: str
    kind: str
    dialect: str
    inputs: tuple[SympyShape, ...]
    output: SympyShape
    sizes: tuple[SizeStep, ...] = ()
    weights: tuple[WeightCount, ...] = ()
    trainable: sympy.Expr = sympy.Integer(0)
    non_trainable: sympy.Expr = sympy.Integer(0)
    channels: ChannelMix | None = None
    conditions: tuple[sympy.Basic, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def params(self) -> sympy.Expr:
        """All parameters of the layer."""
        return self.trainable + self.non_trainable


@dataclass(frozen=True)
class SideCondition:
    """A condition under which the network is valid, and where it comes from."""

    relation: sympy.Basic
    layer: str
    axis: str
    rule: str


@dataclass(frozen=True)
class Totals:
    """Parameter totals, with each layer's share (layers without parameters left out)."""

    parts: tuple[tuple[str, sympy.Expr], ...]
    trainable: sympy.Expr
    non_trainable: sympy.Expr

    @property
    def total(self) -> sympy.Expr:
        """All parameters."""
        return self.trainable + self.non_trainable


@dataclass(frozen=True)
class ProofStep:
    """One step of a proof: the lemma, one sentence, and the two sides.

    When ``after`` is ``true`` or ``false``, ``before`` is a relation the step decided;
    ``cases`` are the cases a split checked.
    """

    lemma: str
    sentence: str
    before: sympy.Basic
    after: sympy.Basic
    cases: tuple[sympy.Basic, ...] = ()


@dataclass(frozen=True)
class ProofRecord:
    """A proof's outcome as derivation data (read from :mod:`convsym.proof`'s result)."""

    statement: sympy.Basic | str
    assumptions: tuple[sympy.Basic, ...]
    status: str
    method: str
    steps: tuple[ProofStep, ...]
    counterexample: tuple[tuple[str, int], ...]
    reason: str


@dataclass(frozen=True, repr=False)
class Derivation(Rich):
    """A derivation: layer steps (for a network or layer) or a proof, ready to print."""

    _display = "derivation"

    kind: str
    title: str
    dialect: str = ""
    inputs: tuple[tuple[str, SympyShape], ...] = ()
    steps: tuple[Step, ...] = ()
    totals: Totals | None = None
    conditions: tuple[SideCondition, ...] = ()
    symbols: tuple[str, ...] = ()
    proof: ProofRecord | None = None
    context: Derivation | None = field(default=None, repr=False)
    intro: str = ""
    """A paragraph shown first (template prose: ``$math$`` and ```code``` allowed)."""

    @property
    def output(self) -> SympyShape:
        """The output shape of the last layer (empty for a proof)."""
        return self.steps[-1].output if self.steps else ()

    def to_latex(self, *, standalone: bool = False) -> str:
        """LaTeX: a fragment for ``\\input`` or, with ``standalone``, a whole document."""
        return str(upward("render_latex")(self, standalone=standalone))

    def to_markdown(self) -> str:
        """Markdown with ``$...$`` math."""
        return str(upward("render_markdown")(self))

    def to_text(self) -> str:
        """Plain text."""
        return str(upward("render_text")(self))

    def render(self, fmt: str = "text", *, standalone: bool = False) -> str:
        """Render as ``latex``, ``markdown`` or ``text``."""
        if fmt == "latex":
            return self.to_latex(standalone=standalone)
        if fmt == "markdown":
            return self.to_markdown()
        if fmt == "text":
            return self.to_text()
        raise UsageError(f"unknown format {fmt!r}; use latex, markdown or text",
                         code="bad_format")

    def __str__(self) -> str:
        return self.to_text()

    def _repr_latex_(self) -> str:
        """The fragment without its header comment and line-breaking group (a notebook shows
        the LaTeX itself)."""
        return str(upward("render_latex")(self, header=False))

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


EXPLAIN = ("first", "all", "none")
"""When to explain the channel sum in full: the first multi-channel conv, every conv, never."""


def derive(obj: Any, *, input_shape: Sequence[object] | None = None, explain: str = "first",
           title: str | None = None, network: Network | None = None, intro: str = ""
           ) -> Derivation:
    """The derivation of a network, of one layer applied to ``input_shape``, or of a proof.

    ``explain`` says where a convolution's channel sum is explained in full (``"first"``
    multi-channel convolution, ``"all"``, ``"none"``); ``network`` gives a proof its context,
    the network whose shapes it is about; ``intro`` is a first paragraph.
    """
    what = f"deriving {shorten(getattr(obj, 'name', None) or type(obj).__name__)!r}"
    with timed("derive_seconds", what):  # checked per layer and inside long decisions
        derived = _derive(obj, input_shape, explain, title, network)
    return dataclasses.replace(derived, intro=intro)


def _derive(obj: Any, input_shape: Sequence[object] | None, explain: str, title: str | None,
            network: Network | None) -> Derivation:
    if explain not in EXPLAIN:
        raise UsageError(f"explain={explain!r}: use one of {', '.join(EXPLAIN)}",
                         code="bad_choice")
    if isinstance(obj, Network):
        if input_shape is not None:
            raise UsageError("derive: input_shape is for a single layer; a network has its own",
                             code="unexpected_input_shape")
        return _derive_network(obj, explain, title)
    if isinstance(obj, Layer):
        if input_shape is None:
            raise UsageError("derive: a single layer needs input_shape=(...) without the batch "
                             "axis, e.g. derive(Conv2D(64, 3), input_shape=(26, 26, 32))",
                             code="missing_input")
        net = Sequential([obj], input_shape=input_shape, name=title or obj.type_name)
        return _derive_network(net, explain, title or f"{obj!r}", kind="layer")
    if hasattr(obj, "status") and hasattr(obj, "steps"):
        context = _derive_network(network, explain, None) if network is not None else None
        return _derive_proof(obj, title, context)
    raise ConvsymTypeError(f"derive: cannot derive a {type(obj).__name__}; give a network, a "
                           "layer with input_shape=, or a proof", code="not_derivable")


# --- networks --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def to_sympy(e: QExpr) -> sympy.Expr:
    """The engine's display form, computed once per size (shapes repeat layer after layer)."""
    return _to_sympy(e)



def _derive_network(net: Network, explain: str, title: str | None, *, kind: str = "network"
                    ) -> Derivation:
    shapes: dict[str, Shape] = {}
    inputs: list[tuple[str, SympyShape]] = []
    for index, shape in sorted(net.input_shapes.items()):
        name = net.nodes[index].name
        shapes[name] = shape
        inputs.append((name, _shape(shape)))
    steps: list[Step] = []
    explained = False
    names = frozenset(s.name for s in net.all_symbols())
    for i, row in enumerate(net.rows):
        checkpoint(f"layer {row.name!r} (step {i + 1} of {len(net.rows)})")
        shapes[row.name] = row.shape
        parents = [shapes[p] for p in row.parents if p in shapes]
        step = _step(i + 1, row, parents, net.dialect, explain, explained, names)
        if step.channels is not None and step.channels.full:
            explained = True
        steps.append(step)
    parts = tuple((s.name, s.params) for s in steps if s.params != 0)
    totals = Totals(parts, sympy.Add(*(s.trainable for s in steps)),
                    sympy.Add(*(s.non_trainable for s in steps)))
    conditions = tuple(SideCondition(relation, c.layer, c.axis, c.rule)
                       for c, relation in reduced_conditions(net.condition_records))
    symbols = tuple(sorted(s.name for s in net.all_symbols()))
    return Derivation(kind, title or net.name, net.dialect, tuple(inputs), tuple(steps),
                      totals, conditions, symbols)


def _step(index: int, row: Row, parents: list[Shape], dialect: str, explain: str,
          explained: bool, symbols: frozenset[str]) -> Step:
    inference = row.inference
    kind = layer_kind(row.layer, inference, parents)
    by_axis: dict[str, list[sympy.Basic]] = {}
    other: list[sympy.Basic] = []
    for cond in row.conditions:
        if cond.axis in {s.axis for s in inference.steps}:
            by_axis.setdefault(cond.axis, []).append(condition_relation(cond))
        else:
            other.append(condition_relation(cond))
    sizes = _merge([_size(s.axis, s.rule, s.values, s.result, by_axis.get(s.axis, []))
                    for s in inference.steps])
    grouped = as_int(getattr(getattr(row.layer, "config", None), "groups", QPoly.const(1))) != 1
    weights = tuple(WeightCount(w.name, _shape(w.shape), to_sympy(w.count), w.trainable,
                                _layout(kind, dialect, w.name, len(w.shape), grouped))
                    for w in inference.weights)
    channels = None
    if kind == "conv" and explain != "none" and parents:
        channels = _channel_mix(row.layer, inference, parents[0], dialect,
                                full=explain == "all" or not explained)
    return Step(index, row.name, row.type, call_text(row.layer, symbols), kind, dialect,
                tuple(_shape(p) for p in parents), _shape(row.shape), sizes, weights,
                to_sympy(inference.trainable), to_sympy(inference.non_trainable), channels,
                tuple(other), tuple(inference.notes))


_QUOTED = re.compile(r"'([^'\\]*)'")
_WORDS = re.compile(r"(activation|padding_mode|data_format|name|interpolation|mode|dtype)="
                    r"[(\[]?$")
_OPTIONS = frozenset({"valid", "same", "causal", "full", "channels_first", "channels_last"})


def call_text(layer: Layer, symbols: frozenset[str]) -> str:
    """The layer's call with its symbolic values written as symbols, not strings.

    A quoted value is shown bare when it is an expression in the network's symbols and not
    an option word (``padding='same'``, ``activation='relu'`` keep their quotes).

    >>> from convsym.layers.keras import Conv2D
    >>> call_text(Conv2D("f", ("k", 3), strides="s + 1", padding="same"), frozenset("fks"))
    "Conv2D(filters=f, kernel_size=(k, 3), strides=s + 1, padding='same')"
    """
    text = repr(layer)

    def bare(m: re.Match[str]) -> str:
        value = m.group(1)
        if value in _OPTIONS or _WORDS.search(text[max(0, m.start() - 20):m.start()]):
            return m.group(0)
        try:
            expr = parse_expr(value)
        except ConvsymError:
            return m.group(0)
        names = {s.name for s in expr.free_symbols}
        return value if names and names <= symbols else m.group(0)

    return _QUOTED.sub(bare, text)


def layer_kind(layer: Layer, inference: Inference, parents: Sequence[Shape]) -> str:
    """Which explanation a layer gets.

    One of conv, depthwise, separable, transpose, pool, dense, flatten, batchnorm, merge,
    identity, other.
    """
    config = getattr(layer, "config", None)
    name = layer.type_name
    names = [w.name for w in inference.weights]
    if "depthwise_kernel" in names or name.startswith("Separable"):
        return "separable"
    if name.startswith("Depthwise"):
        return "depthwise"
    if isinstance(config, ConvConfig) and names[:1] in (["kernel"], ["weight"]):
        return "conv"
    if isinstance(config, TransposeConfig):
        return "transpose"
    if isinstance(config, PoolConfig):
        return "pool"
    if len(parents) > 1:
        return "merge"
    if name == "Flatten":
        return "flatten"
    if name in ("Dense", "Linear"):
        return "dense"
    if name.startswith("BatchNorm"):
        return "batchnorm"
    if not inference.weights and not inference.steps and len(parents) == 1 and \
            tuple(parents[0]) == tuple(inference.shape):
        return "identity"
    return "other"


def _size(axis: str, rule: str, values: Mapping[str, QExpr], result: QExpr,
          conditions: list[sympy.Basic]) -> SizeStep:
    shown: dict[str, sympy.Expr] = {}
    for key, value in values.items():
        shown[key] = to_sympy(_settled(value, current()) if key in _AUXILIARY else value)
    k, d = values.get("k"), values.get("d")
    if isinstance(k, QPoly) and isinstance(d, QPoly):
        shown["k_e"] = to_sympy(effective_kernel(k, d))
    return SizeStep((axis,), rule, shown, to_sympy(result), tuple(conditions))


def _same(a: Mapping[str, sympy.Expr], b: Mapping[str, sympy.Expr]) -> bool:
    """The same values under the same names (``deep.equal``: a deep network's sizes pass
    Python's recursion limit under ``==``)."""
    return a.keys() == b.keys() and all(deep.equal(a[k], b[k]) for k in a)


_AUXILIARY = ("P", "p_l", "p_r")
"""Values shown in a simpler form when the engine proves it equal (padding amounts)."""


def _merge(sizes: list[SizeStep]) -> tuple[SizeStep, ...]:
    """Join axes whose rule, values and result coincide (H and W of a square layer)."""
    out: list[SizeStep] = []
    for s in sizes:
        for j, t in enumerate(out):
            if t.rule == s.rule and _same(t.values, s.values) and \
                    deep.equal(t.result, s.result) and len(t.conditions) == \
                    len(s.conditions) and all(map(deep.equal, t.conditions, s.conditions)):
                out[j] = SizeStep(t.axes + s.axes, t.rule, t.values, t.result, t.conditions)
                break
        else:
            out.append(s)
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _settled(e: QExpr, budgets: Budgets) -> QExpr:
    """:func:`settle`, once per size and budgets: the H and W axes of a square layer, and
    its padding amounts, ask the same period checks (seconds each for a huge kernel)."""
    return settle(e)


def settle(e: QExpr) -> QExpr:
    """``e`` with Max/Min arguments that never win dropped, and constant values made constant.

    Both are decided by the period check, so the simpler form is equal for every value.

    >>> from convsym.expr import symbol
    >>> from convsym.intdiv import ceildiv, floordiv
    >>> n = QPoly.sym(symbol("n"))
    >>> to_sympy(settle(ceildiv(n, QPoly.const(2)) + floordiv(n, QPoly.const(2)) - n))
    0
    """
    if isinstance(e, Ext):
        kept = [settle(a) for a in e.args]
        changed = True
        while changed and len(kept) > 1:
            changed = False
            for i, a in enumerate(kept):
                if any(j != i and _wins(b, a, e.kind) for j, b in enumerate(kept)):
                    del kept[i]
                    changed = True
                    break
        return ext(e.kind, kept)
    if as_int(e) is not None or not e.floors():
        return e
    one = {sym: 1 for sym in free_symbols(e)}
    guess = QPoly.const(evaluate(e, one))
    return guess if decide_eq(e, guess).holds is True else e


def _wins(b: QExpr, a: QExpr, kind: str) -> bool:
    """True when ``b`` is provably never beaten by ``a`` in a Max (or Min) of the two."""
    if not (isinstance(a, QPoly) and isinstance(b, QPoly)):
        return False
    return decide_nonneg(b - a if kind == "max" else a - b).holds is True


def _channel_mix(layer: Layer, inference: Inference, shape: Shape, dialect: str, *,
                 full: bool) -> ChannelMix | None:
    config = getattr(layer, "config", None)
    kernel_w = next((w for w in inference.weights if w.name in ("kernel", "weight")), None)
    if config is None or kernel_w is None:
        return None
    rank = len(config.kernel)
    c_in = shape[0] if config.channels_first else shape[-1]
    wshape = _shape(kernel_w.shape)
    if dialect == "keras":
        filter_shape, index = wshape[:-1], "[" + ":, " * (rank + 1) + "j]"
    else:
        filter_shape, index = wshape[1:], "[j]"
    return ChannelMix(to_sympy(c_in), to_sympy(config.filters), _shape(config.kernel),
                      to_sympy(config.groups), filter_shape, kernel_w.name, index,
                      bool(config.bias), dialect, full and c_in != QPoly.const(1))


_KERNEL_LETTERS = {1: ("k",), 2: ("k_h", "k_w"), 3: ("k_d", "k_h", "k_w")}


def _layout(kind: str, dialect: str, name: str, rank: int, grouped: bool = False
            ) -> tuple[str, ...]:
    """The letters of a weight's layout: Keras ``(k_h, k_w, C_in, C_out)``, PyTorch's order."""
    if kind == "conv" and name in ("kernel", "weight") and rank >= 3:
        ks = _KERNEL_LETTERS.get(rank - 2, ())
        if not ks:
            return ()
        c_in = "C_in/g" if grouped else "C_in"
        return (*ks, c_in, "C_out") if dialect == "keras" else ("C_out", c_in, *ks)
    if kind in ("conv", "transpose", "separable") and name == "bias":
        return ("C_out",)
    ks = _KERNEL_LETTERS.get(rank - 2, ())
    if kind in ("depthwise", "separable") and name in ("kernel", "depthwise_kernel") and ks:
        return (*ks, "C_in", "m") if dialect == "keras" else ()
    if kind == "depthwise" and name == "bias":
        return ("C_in*m",)
    if kind == "separable" and name == "pointwise_kernel" and ks:
        return (*("1",) * len(ks), "C_in*m", "C_out") if dialect == "keras" else ()
    if kind == "transpose" and name in ("kernel", "weight") and ks:
        c_out = "C_out/g" if grouped else "C_out"
        return (*ks, "C_out", "C_in") if dialect == "keras" else ("C_in", c_out, *ks)
    if kind == "dense" and name in ("kernel", "weight") and rank == 2:
        return ("n_in", "n_out") if dialect == "keras" else ("n_out", "n_in")
    if kind == "dense" and name == "bias":
        return ("n_out",)
    if kind == "batchnorm":
        return ("C",)
    return ()


def _shape(shape: Sequence[QExpr]) -> SympyShape:
    return tuple(to_sympy(s) for s in shape)


# --- proofs ----------------------------------------------------------------------------------


def _derive_proof(proof: Any, title: str | None, context: Derivation | None) -> Derivation:
    """Read a :mod:`convsym.proof` result by its attributes (duck-typed)."""
    steps = []
    for s in getattr(proof, "steps", ()) or ():
        lemma = getattr(s, "lemma", None) or getattr(s, "name", "") or ""
        steps.append(ProofStep(str(lemma), str(getattr(s, "sentence", "") or ""),
                               sympy.sympify(s.before, strict=True),
                               sympy.sympify(s.after, strict=True),
                               tuple(getattr(s, "cases", ()) or ())))
    example = getattr(proof, "counterexample", None) or {}
    counter = tuple(sorted((str(k), int(v)) for k, v in dict(example).items()))
    statement = getattr(proof, "statement", "")
    record = ProofRecord(
        statement if isinstance(statement, sympy.Basic) else str(statement),
        tuple(getattr(proof, "assumptions", ()) or ()),
        str(getattr(proof, "status", "unknown")), str(getattr(proof, "method", "") or ""),
        tuple(steps), counter, str(getattr(proof, "reason", "") or ""))
    shown = title or (f"Proof: {statement}" if statement != "" else "Proof")
    return Derivation("proof", shown, context.dialect if context else "", proof=record,
                      context=context)


__all__ = [
    "ChannelMix",
    "Derivation",
    "ProofRecord",
    "ProofStep",
    "SideCondition",
    "SizeStep",
    "Step",
    "Totals",
    "WeightCount",
    "derive",
    "layer_kind",
    "settle",
]
