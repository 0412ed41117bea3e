"""Networks: propagate shapes through layers, collect per-layer rows, totals and conditions.

A network is a small graph of nodes (``Sequential`` is a chain).  Propagation runs once, on
construction; every size stays in canonical form, and every undecided validity condition is
kept, pruned of those implied by another.

>>> from convsym.layers.keras import Input, Conv2D
>>> net = Sequential([Input(("n", "n", 1)), Conv2D(32, 3), Conv2D(64, 3)])
>>> [row.output_shape for row in net.rows]
[(n - 2, n - 2, 32), (n - 4, n - 4, 64)]
>>> net.conditions
[n >= 5]
>>> net.subs(n=28).rows[-1].output_shape
(24, 24, 64)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import sympy

from convsym.budget import Doing, building
from convsym.errors import (
    BudgetExceeded,
    ConvsymError,
    ConvsymTypeError,
    LayerError,
    UsageError,
    did_you_mean,
    said,
    shorten,
)
from convsym.expr import as_expr
from convsym.guarded import public
from convsym.intdiv import (
    Floor,
    NotQuasiPolynomial,
    QExpr,
    QPoly,
    add,
    as_int,
    difference,
    free_symbols,
    from_sympy,
    scale,
    single_linear_floor,
    subs,
    to_sympy,
)
from convsym.layers.base import Condition, Inference, Layer, Shape, to_size
from convsym.layers.keras import Input
from convsym.layers.sharing import SharedInferences
from convsym.period import decide_nonneg, unbounded_below, without_floor
from convsym.seam import upward
from convsym.sizes import threshold, zero_and_nonzero
from convsym.sums import total


@dataclass
class Node:
    """One layer application: the layer, its row name and the indices of its parents.

    ``shares`` is the index of an earlier node applying the same layer object (Keras weight
    sharing): its weights are counted there, once.
    """

    layer: Layer
    name: str
    parents: tuple[int, ...]
    shares: int | None = None


@dataclass
class Row:
    """One row of a network's summary: a layer, its output shape and its counts."""

    name: str
    layer: Layer
    shape: Shape
    inference: Inference
    parents: tuple[str, ...] = ()
    conditions: list[Condition] = field(default_factory=list)

    @property
    def type(self) -> str:
        """The layer's class name in its framework."""
        return self.layer.type_name

    @cached_property
    def output_shape(self) -> tuple[sympy.Expr, ...]:
        """The output shape without the batch axis, as SymPy expressions."""
        return tuple(to_sympy(s) for s in self.shape)

    @cached_property
    def trainable(self) -> sympy.Expr:
        """Trainable parameters."""
        return _count(self.inference.trainable)

    @cached_property
    def non_trainable(self) -> sympy.Expr:
        """Non-trainable parameters (Keras BatchNorm's moving statistics)."""
        return _count(self.inference.non_trainable)

    @cached_property
    def params(self) -> sympy.Expr:
        """All parameters, trainable or not."""
        count = _plain_params(self)
        if count is not None:  # integers: their sum, without SymPy arithmetic
            return sympy.Integer(count)
        if self.non_trainable == 0:  # x + 0 is x: no SymPy addition per row and total
            return self.trainable
        return self.trainable + self.non_trainable

    @property
    def warnings(self) -> list[str]:
        """What this layer's result warns about (e.g. an empty axis, as Keras gives it)."""
        return self.inference.warnings

    @cached_property
    def macs(self) -> sympy.Expr:
        """Multiply-accumulates of this layer (convolution and dense, without bias)."""
        return _count(self.inference.macs)


def _plain_params(row: Row) -> int | None:
    """The row's parameters as an integer when every weight's shape is concrete (the sum of
    its trainable and non-trainable counts, in one pass), else None."""
    total = 0
    for weight in row.inference.weights:
        known = weight.__dict__.get("_plain")  # (Weight.plain_count's memo, read here)
        size = known[0] if known is not None else weight.plain_count()
        if size is None:
            return None
        total += size
    return total


def _count(e: QExpr) -> sympy.Expr:
    """A count as SymPy: a constant (every count of a network with concrete channels) is
    the Integer itself, without a trip through the display conversion (the same value)."""
    value = e.as_int() if isinstance(e, QPoly) else None
    return sympy.Integer(value) if value is not None else to_sympy(e)


def _total(values: Iterable[sympy.Expr]) -> sympy.Expr:
    """``sympy.Add(*values)``; integers (every count of a network with concrete channels)
    are summed as Python integers, without SymPy's flatten of a thousand terms."""
    items = list(values)
    if all(isinstance(x, sympy.Integer) for x in items):
        return sympy.Integer(sum(int(x) for x in items))
    return total(items)  # (Add's own collection is quadratic on a stride-2 stack's rows)


class Network:
    """A network of layers in one dialect, with every shape derived in closed form."""

    _first = 0  # index of nodes[0] in the caller's list of layers (messages say layers[i])
    # Inferences an importer already made on the same inputs (the torch trace), keyed by
    # node with the layer they were made for; set by the importer's subclass, never public.
    _inferred: Mapping[int, tuple[Layer, Inference]] = MappingProxyType({})

    def __init__(self, nodes: Sequence[Node], input_shapes: Mapping[int, Shape], *,
                 dialect: str, name: str = "model", hidden: Sequence[int] = (),
                 outputs: Sequence[int] | None = None) -> None:
        self.nodes = list(nodes)
        self.input_shapes = dict(input_shapes)
        self.dialect = dialect
        self.name = name
        self._hidden = set(hidden)
        self.outputs: list[int] = list(outputs) if outputs is not None else \
            [len(self.nodes) - 1]
        self.rows: list[Row] = []
        self.shapes: list[Shape] = []
        self._conditions: list[Condition] = []
        self._kept: set[tuple[str, QExpr]] = set()  # (kind, expr) of each of _conditions
        self._seen: set[tuple[str, object]] = set()  # conditions as layers stated them
        # differences of conditions found while pruning them, for the next layer's
        # (intdiv.difference): emptied once the network is built
        self._differences: dict[tuple[int, int], tuple[QPoly, QPoly, QPoly]] = {}
        # the x >= t form (or None) of each condition compared while pruning, read once
        self._bounds: dict[QPoly, tuple[sympy.Symbol, int] | None] = {}
        for label in [name, *(node.name for node in self.nodes)]:
            if not isinstance(label, str) or not label.isprintable():  # printed in tables
                raise UsageError(f"the name {label!r:.80} must be printable text (no control "
                                 "characters or line breaks)", code="bad_name")
        self._propagate()

    # --- propagation ------------------------------------------------------------------------
    def _propagate(self) -> None:
        with building() as check:  # wall-clock budget build_seconds, checked per layer
            try:
                self._propagate_within(check)
            finally:
                self._differences = {}
                self._bounds = {}

    def _propagate_within(self, check: Callable[[Doing], None]) -> None:
        shapes, nodes, inputs, inferred = self.shapes, self.nodes, self.input_shapes, \
            self._inferred
        shared = SharedInferences()  # a layer repeated on equal shapes is inferred once
        for index, node in enumerate(nodes):
            layer = node.layer
            if index not in inputs:  # (the text made only when the time is up)
                check(lambda: f"{type(layer).__name__} {self._where(index)}")  # noqa: B023
            parents = node.parents
            if len(parents) == 1:  # (a chain's every node: the lists without a comprehension)
                first = parents[0]
                names = [nodes[first].name]
                found = [shapes[first]] if first < len(shapes) else None
            else:
                names = [nodes[p].name for p in parents]
                found = None
            try:
                known = inferred.get(index)
                if index in inputs:
                    inference = Inference(inputs[index])
                elif known is not None and known[0] is layer:
                    inference = known[1]  # the same layer on the same input shapes
                else:
                    inference = shared.infer(layer, found if found is not None else
                                             [shapes[p] for p in parents], names)
            except LayerError as err:
                err.locate(self._where(index))
                raise
            except BudgetExceeded as err:  # a size too large to expand: say which layer
                raise type(err)(f"{type(layer).__name__} {self._where(index)}: {err}",
                                code=err.code) from None
            if node.shares is not None:
                inference.weights = []  # counted at the first application of the layer
            shapes.append(inference.shape)
            row_conditions = []
            if inference.conditions:
                where = self._where(index)
                for cond in inference.conditions:
                    located = cond.at(node.name)
                    row_conditions.append(located)
                    self._add_condition(located, node, where)
            if index not in self._hidden:
                self.rows.append(Row(node.name, layer, inference.shape, inference,
                                     tuple(names), row_conditions))

    def _where(self, index: int) -> str:
        """Where node ``index`` is, for messages: its name and place in the caller's list."""
        return f"{self.nodes[index].name!r} at layers[{index + self._first}]"

    def _add_condition(self, cond: Condition, node: Node, where: str) -> None:
        # A condition met before, as the layer stated it, adds nothing: it was kept (perhaps
        # rewritten as x >= t below) or found implied, and a kept condition is only ever
        # replaced by one that implies it.  Every conv of a dense block or U-Net level
        # states the same room; normalising it again cost a period check per layer.
        raw = (cond.kind, cond.expr)
        if raw in self._seen:
            return
        self._seen.add(raw)
        if cond.kind == "eq":
            if isinstance(cond.expr, QPoly) and not cond.expr.terms:
                return
            if raw in self._kept:
                return
            never = _provably_nonzero(cond.expr)
            if never is not None:
                raise _located(node.layer.shape_error(
                    cond.axis, None, f"{cond.rule}, but they never agree: {never}",
                    code="never_equal"), where)
            self._conditions.append(cond)
            self._kept.add(raw)
            return
        if raw in self._kept:
            return  # the same condition from another axis or branch
        cut = threshold(cond.expr)
        if cut is not None:  # e >= 0 is exactly x >= t: show it that way
            x, t = cut  # (x - t, as QPoly.sym(x) - QPoly.const(t) makes it)
            bound = QPoly._raw({((x, 1),): 1, (): -t} if t else {((x, 1),): 1})
            self._bounds[bound] = cut
            cond = Condition(bound, cond.kind, cond.layer, cond.axis, cond.rule, cond.sides,
                             cond.shown)
        kept: list[Condition] = []
        known, bounds = self._differences, self._bounds
        for old in self._conditions:
            if old.kind == "ge" and _implies(old.expr, cond.expr, known, bounds):
                return  # the new condition adds nothing
            if not (old.kind == "ge" and _implies(cond.expr, old.expr, known, bounds)):
                kept.append(old)
        kept.append(cond)
        self._conditions = kept
        self._kept = {(c.kind, c.expr) for c in kept}

    # --- results ----------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The layers, in order."""
        return [node.layer for node in self.nodes]

    @property
    def conditions(self) -> list[sympy.Basic]:
        """Side conditions under which every layer is valid, as SymPy relations."""
        return [c.relation() for c in self._conditions]

    @property
    def condition_records(self) -> list[Condition]:
        """Side conditions with the layer, axis and rule each comes from."""
        return list(self._conditions)

    @property
    def output_shape(self) -> tuple[sympy.Expr, ...]:
        """The shape of the (first) output."""
        return self.output_shapes[0]

    @property
    def output_shapes(self) -> list[tuple[sympy.Expr, ...]]:
        """The shapes of every output, in order."""
        return [tuple(to_sympy(s) for s in self.shapes[i]) for i in self.outputs]

    @property
    def total_params(self) -> sympy.Expr:
        """All parameters."""
        plain = 0
        for row in self.rows:  # integers (concrete channels): summed as Python integers
            count = _plain_params(row)
            if count is None:
                return _total(r.params for r in self.rows)
            plain += count
        return sympy.Integer(plain)

    @property
    def trainable_params(self) -> sympy.Expr:
        """Trainable parameters."""
        return _total(r.trainable for r in self.rows)

    @property
    def non_trainable_params(self) -> sympy.Expr:
        """Non-trainable parameters."""
        return _total(r.non_trainable for r in self.rows)

    @property
    def total_macs(self) -> sympy.Expr:
        """Multiply-accumulates of convolution and dense layers, without bias."""
        return _total(r.macs for r in self.rows)

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        """Every symbol in the shapes, counts and conditions."""
        out: set[sympy.Symbol] = set()
        for row in self.rows:
            for s in row.shape:
                out |= free_symbols(s)
            out |= row.inference.trainable.free_symbols()
            out |= row.inference.non_trainable.free_symbols()
        for c in self._conditions:
            out |= free_symbols(c.expr)
        return out

    # --- conveniences: the analyses built on a network, called through the one declared seam
    # upward, convsym.seam (a network may not import them: they import it) ------------------
    def costs(self, *, bias: bool = False, include: Any = ("conv", "dense")) -> Any:
        """Per-layer MACs, FLOPs and activations: :func:`convsym.costing.costs`."""
        return upward("costs")(self, bias=bias, include=include)

    def receptive_field(self) -> Any:
        """Per-layer receptive fields: :func:`convsym.receptive.receptive_field`."""
        return upward("receptive_field")(self)

    def summary(self) -> Any:
        """A :class:`~convsym.summary.Summary`: ``str()`` is a table, ``to_dict()`` JSON."""
        return upward("summary").of(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {len(self.rows)} layers, " \
               f"output {self.output_shape}>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self) if cycle else str(self.summary()))

    def _repr_html_(self) -> str:
        return str(self.summary()._repr_html_())  # the summary's table

    # --- what-if ------------------------------------------------------------------------------
    def accepts(self, values: Mapping[str, int] | None = None, **sizes: int) -> bool:
        """Whether the network accepts these concrete sizes, keyed by symbol name.

        See :func:`convsym.whatif.accepts`; e.g. ``net.accepts(H=63, W=64)``.
        """
        return bool(upward("accepts")(self, values, **sizes))

    def solve(self, unknowns: Any, where: Any = (), bounds: Any = None, *,
              timeout: float | None = 10.0) -> Any:
        """Every integer value of the unknowns meeting the targets: :func:`convsym.whatif.solve`."""
        return upward("solve")(self, unknowns, where=where, bounds=bounds, timeout=timeout)

    def admissible_inputs(self, *, timeout: float | None = 10.0) -> Any:
        """The exact set of input sizes accepted: :func:`convsym.whatif.admissible_inputs`."""
        return upward("admissible_inputs")(self, timeout=timeout)

    def compare(self, other: Network, *, at: Mapping[str, int] | None = None) -> Any:
        """What changes between this network and ``other``: :func:`convsym.whatif.compare`."""
        return upward("compare")(self, other, at=at)

    def subs(self, values: Mapping[str, object] | None = None, **kwargs: object) -> Network:
        """The network with symbols replaced by values, keyed by symbol name.

        Values may be integers, text for the safe parser, or SymPy expressions.
        """
        if values is not None and not isinstance(values, Mapping):
            raise UsageError(f"subs: values must map symbol names to values, not "
                             f"{type(values).__name__}", code="bad_usage")
        given = dict(values or {}, **kwargs)
        known = {s.name: s for s in self.all_symbols()}
        mapping: dict[sympy.Symbol, sympy.Expr] = {}
        for key, value in given.items():
            if not isinstance(key, str) or key not in known:
                raise UsageError(f"{said('subs', '--set')}: {key} is not a symbol of this network"
                                 f"{did_you_mean(str(key), known)}; its symbols are "
                                 f"{', '.join(sorted(known)) or 'none'}",
                                 code="unknown_symbol")
            mapping[known[key]] = as_expr(value, field=key)
        qmap = {}
        for sym, expr in mapping.items():
            try:
                q = from_sympy(expr)
            except NotQuasiPolynomial:  # n/2, abs(n - 3): not an integer expression
                q = None
            except BudgetExceeded as err:
                raise type(err)(f"{said('subs:', '--set')} {sym} = {shorten(expr)}: {err}",
                                code=err.code) from None
            if not isinstance(q, QPoly):
                raise UsageError(f"{said('subs:', '--set')} {sym} = {expr} is not an integer "
                                 "expression",
                                 code="bad_value")
            qmap[sym] = q
        nodes = [dataclasses.replace(n, layer=_subs_layer(n.layer, mapping)) for n in self.nodes]
        shapes = {i: tuple(_subs_q(s, qmap) for s in shape)
                  for i, shape in self.input_shapes.items()}
        return type(self)._rebuild(self, nodes, shapes)

    def _rebuild(self, nodes: list[Node], shapes: dict[int, Shape]) -> Network:
        return Network(nodes, shapes, dialect=self.dialect, name=self.name,
                       hidden=sorted(self._hidden), outputs=self.outputs)

    def all_symbols(self) -> set[sympy.Symbol]:
        """Symbols of the input shapes and of every derived size, count and condition.

        A hyperparameter symbol (``Conv2D(8, "k")``) shows up in the derived sizes or
        counts, so it is found here too.
        """
        out = set(self.free_symbols)
        for shape in self.input_shapes.values():
            for s in shape:
                out |= free_symbols(s)
        return out


def require_network(value: object, who: str) -> Network:
    """``value`` when it is a network, else a :class:`ConvsymTypeError` naming ``who``."""
    if not isinstance(value, Network):
        raise ConvsymTypeError(f"{who}: expected a convsym network (Sequential, Model, "
                               f"convsym.load(...), convsym.example(...)), not "
                               f"{type(value).__name__}", code="not_a_network")
    return value


def require_mapping(value: object, who: str) -> Mapping[Any, Any]:
    """``value`` (or ``{}`` for None) when it is a mapping, else a UsageError naming ``who``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UsageError(f"{who}: expected a mapping of symbol names to values, not "
                         f"{type(value).__name__}", code="bad_usage")
    return value


def require_sizes(value: object, symbols: set[sympy.Symbol], who: str) -> dict[str, int]:
    """``value`` as ``{name: int}`` for some of ``symbols``: names known, integers exact
    (not bool, float or text), each within its symbol's domain (>= 1, or >= 0 for a
    nonnegative symbol).

    >>> from convsym.expr import symbol
    >>> require_sizes({"n": 2.5}, {symbol("n")}, "compare: at")
    Traceback (most recent call last):
    convsym.errors.ConvsymTypeError: compare: at: n = 2.5: a size must be an integer (an int)
    """
    given = require_mapping(value, who)
    known = {s.name: s for s in symbols}
    out: dict[str, int] = {}
    for name, size in given.items():
        if not isinstance(name, str) or name not in known:
            raise UsageError(f"{who}: {shorten(repr(name))} is not a symbol"
                             f"{did_you_mean(str(name), known)}; the symbols are "
                             f"{', '.join(sorted(known)) or 'none'}", code="unknown_symbol")
        if isinstance(size, bool) or not isinstance(size, int):
            raise ConvsymTypeError(f"{who}: {name} = {shorten(repr(size))}: a size must be an "
                                   "integer (an int)")
        low = 1 if known[name].is_positive else 0
        if size < low:
            raise UsageError(f"{who}: {name} = {shorten(size)}: must be an integer >= {low}",
                             code="bad_value")
        out[name] = size
    return out


def _located(err: LayerError, where: str) -> LayerError:
    err.locate(where)
    return err


def _implies(strong: QExpr, weak: QExpr,
             known: dict[tuple[int, int], tuple[QPoly, QPoly, QPoly]] | None = None,
             bounds: dict[QPoly, tuple[sympy.Symbol, int] | None] | None = None) -> bool:
    """True when ``strong >= 0`` provably implies ``weak >= 0``: ``weak - strong >= 0``
    everywhere, or the same after ``strong >= 0`` is weakened to a floor-free consequence
    and ``weak >= 0`` rewritten without its floor (:func:`_floor_free`).

    The second form prunes the conditions of a chain with symbolic kernels and strides:
    layer i + 1's room ``floor(X/s) + 1 - k >= 0`` implies ``X >= 0``, which is exactly
    layer i's room (its size stored nested, :func:`convsym.intdiv.floordiv`; or, collapsed,
    that room without its floor); so only the last layer's condition is kept, not two per
    layer compared pairwise.

    ``weak - strong`` is found by :func:`convsym.intdiv.difference`, from the short steps
    that made the two from earlier conditions (whose differences ``known`` keeps): a
    chain's rooms are long sums, but consecutive ones differ by a few terms; ``bounds``
    remembers the form ``x >= t`` of each (:func:`_bound_form`), read once per condition.
    """
    if not (isinstance(strong, QPoly) and isinstance(weak, QPoly)):
        return False
    if bounds is None:
        a, b = _bound_form(strong), _bound_form(weak)
    else:
        a, b = _bound_of(strong, bounds), _bound_of(weak, bounds)
    if a is not None and b is not None:
        # x >= t against y >= u (as threshold() writes them): what the steps below find,
        # read off at once (weak - strong is the constant t - u, or falls along x or y)
        return a[0] == b[0] and a[1] >= b[1]
    if _nonneg(difference(weak, strong, known)):
        return True
    consequence = _floor_free(strong)
    if consequence is None:
        return False
    if _nonneg(weak - consequence):
        return True
    plain = without_floor(weak)
    return plain is not None and _nonneg(plain - consequence)


def _bound_of(e: QPoly, bounds: dict[QPoly, tuple[sympy.Symbol, int] | None]
              ) -> tuple[sympy.Symbol, int] | None:
    """:func:`_bound_form` of ``e``, remembered in ``bounds``."""
    if e in bounds:
        return bounds[e]
    found = bounds[e] = _bound_form(e)
    return found


def _bound_form(e: QPoly) -> tuple[sympy.Symbol, int] | None:
    """``(x, t)`` when ``e`` is exactly ``x - t`` for a symbol ``x``, else None."""
    t = -e.terms.get((), 0)
    if len(e.terms) != (2 if t else 1):
        return None
    for mono, c in e.terms.items():
        if mono and (c != 1 or len(mono) != 1 or mono[0][1] != 1 or
                     isinstance(mono[0][0], Floor)):
            return None
        if mono:
            return mono[0][0], t
    return None


def _nonneg(diff: QPoly) -> bool:
    value = diff.as_int()
    if value is not None:
        return value >= 0
    return not unbounded_below(diff) and decide_nonneg(diff, budget=2000).holds is True


def _floor_free(e: QPoly) -> QPoly | None:
    """``Y`` when ``e = floor(Y/D) + Q`` with ``Q`` free of floors and ``-Q >= 0`` provably:
    then ``e >= 0`` gives ``floor(Y/D) >= -Q >= 0``, so ``Y >= 0`` (``D > 0``).  Else None.
    """
    if not e.floor_terms():  # (counted once per room; a long floor-free room is common)
        return None
    f = single_linear_floor(e)
    if f is None:
        return None
    rest = e - QPoly.atom(f)
    if rest.floors() or not _nonneg(-rest):
        return None
    return f.num


def _provably_nonzero(e: QExpr) -> str | None:
    value = as_int(e)
    if value is not None:
        return f"the difference is {value}" if value else None
    if zero_and_nonzero(e):  # 0 somewhere: neither side is always larger
        return None
    positive = decide_nonneg(add(e, QPoly.const(-1)))
    if positive.holds:
        return "the first is always larger"
    negative = decide_nonneg(add(scale(e, QPoly.const(-1)), QPoly.const(-1)))
    if negative.holds:
        return "the second is always larger"
    return None


def _subs_value(value: object, mapping: Mapping[sympy.Symbol, sympy.Expr]) -> object:
    if isinstance(value, tuple):
        return tuple(_subs_value(v, mapping) for v in value)
    if isinstance(value, list):
        return [_subs_value(v, mapping) for v in value]
    if isinstance(value, (str, sympy.Basic)) and not isinstance(value, bool):
        try:
            expr = as_expr(value)
        except ConvsymError:
            return value
        if not expr.free_symbols & set(mapping):
            return value
        new = expr.xreplace(mapping)
        q = from_sympy(new)
        concrete = as_int(q)
        if concrete is not None:
            return concrete
        # the canonical display, unless the value is a huge polynomial: then as substituted
        # (equal; displaying thousands of terms only to read them back costs seconds)
        return new if isinstance(q, QPoly) and len(q.terms) > 200 else to_sympy(q)
    return value


def _subs_layer(layer: Layer, mapping: Mapping[sympy.Symbol, sympy.Expr]) -> Layer:
    changes = {}
    for f in dataclasses.fields(layer):
        if not f.init:
            continue
        old = getattr(layer, f.name)
        new = _subs_value(old, mapping)
        if new is not old:
            changes[f.name] = new
    return dataclasses.replace(layer, **changes) if changes else layer


def _subs_q(e: QExpr, mapping: Mapping[sympy.Symbol, QPoly]) -> QExpr:
    return subs(e, mapping)


class Sequential(Network):
    """A chain of layers, Keras- or PyTorch-style.

    The input shape (without batch) comes from a leading Keras ``Input``, from the first
    layer's ``input_shape`` (Keras 2 style), or from ``input_shape=``; symbols allowed.
    """

    def __init__(self, layers: Sequence[Layer], input_shape: Sequence[object] | None = None,
                 *, name: str | None = None) -> None:
        if not isinstance(layers, (list, tuple)):
            raise UsageError(f"Sequential takes a list of layers, not {type(layers).__name__}",
                             code="not_a_layer")
        layers = list(layers)
        if not layers:
            raise UsageError("Sequential needs at least one layer", code="empty_network")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise UsageError(f"Sequential: layers[{i}] is {type(layer).__name__}, "
                                 "not a convsym layer", code="not_a_layer")
        dialects = {layer.dialect for layer in layers}
        if len(dialects) > 1:
            raise UsageError("Sequential: mixes Keras and PyTorch layers; use one dialect "
                             "(their conventions differ)", code="mixed_dialects")
        dialect = dialects.pop()
        shape_layer: Layer = layers[0]
        if isinstance(layers[0], Input):
            shape = layers[0].sizes
            if input_shape is not None:
                raise UsageError("Sequential: give the input shape once, by Input or by "
                                 "input_shape=", code="duplicate_input")
        else:
            given = input_shape if input_shape is not None else \
                getattr(layers[0], "input_shape", None)
            if given is None:
                raise UsageError(
                    "Sequential: the input shape is unknown; start with Input(shape) or pass "
                    "input_shape=(...) without the batch axis, e.g. (28, 28, 1) or "
                    "(3, 'H', 'W')", code="missing_input")
            if not isinstance(given, (tuple, list)):
                raise UsageError(f"Sequential: input_shape must be a tuple, got {given!r}",
                                 code="bad_input_shape")
            shape = tuple(to_size(shape_layer, f"input_shape[{i}]", v)
                          for i, v in enumerate(given))
            head: Layer = Input(tuple(given)) if dialect == "keras" else _TorchInput(tuple(given))
            layers = [head, *layers]
            self._first = -1  # messages count the caller's layers, not the added input
        nodes = _name_nodes(layers, dialect)
        super().__init__(nodes, {0: shape}, dialect=dialect,
                         name=name or ("sequential" if dialect == "keras" else "Sequential"),
                         hidden=[0])

    def _rebuild(self, nodes: list[Node], shapes: dict[int, Shape]) -> Network:
        net = Network.__new__(Sequential)
        net._first = self._first
        Network.__init__(net, nodes, shapes, dialect=self.dialect, name=self.name, hidden=[0])
        return net


def _name_nodes(layers: list[Layer], dialect: str) -> list[Node]:
    nodes: list[Node] = []
    counts: dict[str, int] = {}
    taken = {getattr(layer, "name", None) for layer in layers} - {None}
    for i, layer in enumerate(layers):
        explicit = getattr(layer, "name", None)
        if explicit:
            name = explicit
        elif dialect == "torch":
            name = "input" if i == 0 else str(i - 1)
        else:
            stem = layer.base_name
            while True:
                count = counts.get(stem, 0)
                counts[stem] = count + 1
                name = stem if count == 0 else f"{stem}_{count}"
                if name not in taken:
                    break
        nodes.append(Node(layer, name, (i - 1,) if i else ()))
    return nodes


@dataclasses.dataclass(frozen=True, repr=False)
class _TorchInput(Layer):
    """The input of a PyTorch network (not a module; never shown as a row)."""

    shape: Any = ()
    dialect = "torch"

    @property
    def type_name(self) -> str:
        """Shown as ``Input``."""
        return "Input"


def _guard_methods() -> None:
    """The public methods keep the API's error contract (a keyword typo is a convsym error)."""
    for name in ("costs", "receptive_field", "summary", "accepts", "solve",
                 "admissible_inputs", "compare", "subs"):
        setattr(Network, name, public(getattr(Network, name)))


_guard_methods()

__all__ = ["Network", "Node", "Row", "Sequential", "require_mapping", "require_network",
           "require_sizes"]
