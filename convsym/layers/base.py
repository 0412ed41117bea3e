"""Layer value objects, hyperparameter coercion and the records a layer's inference returns.

A layer is a frozen dataclass whose repr round-trips and omits defaults.  ``infer`` takes the
input shapes (tuples of canonical sizes, no batch axis) and returns an :class:`Inference`:
the output shape, parameter counts, side conditions and :class:`AxisStep` records that the
derivation printers turn into prose.  Layers never print and never compute prose.

>>> from convsym.layers.keras import Conv2D
>>> Conv2D(32, 3)
Conv2D(filters=32, kernel_size=3)
"""

from __future__ import annotations

import dataclasses
import itertools
import keyword
import math
import numbers
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, cast, overload

import sympy

from convsym.budget import current as current_budgets
from convsym.errors import (
    ConvsymError,
    LayerConfigError,
    LayerTypeError,
    ShapeError,
    UsageError,
    did_you_mean,
)
from convsym.expr import MAX_INT, MAX_TEXT_LENGTH, as_expr, symbol
from convsym.intdiv import (
    NotQuasiPolynomial,
    QExpr,
    QPoly,
    add,
    as_int,
    directions,
    falls,
    from_sympy,
    lower_bound,
    rises,
    shown_briefly,
    to_sympy,
    uniform_value,
)
from convsym.intdiv import add as q_add
from convsym.intdiv import scale as q_scale
from convsym.period import decide_nonneg, unbounded_below
from convsym.sizes import Product, rising_threshold, witnessed

Shape = tuple[QExpr, ...]
T = TypeVar("T")
L = TypeVar("L", bound="Layer")


@dataclass(frozen=True)
class Condition:
    """A side condition ``expr >= 0`` (kind ``"ge"``) or ``expr == 0`` (kind ``"eq"``).

    ``layer`` and ``axis`` say where it comes from, ``rule`` why (one sentence).
    """

    expr: QExpr
    kind: str
    layer: str
    axis: str
    rule: str
    sides: tuple[QExpr, QExpr] | None = None
    shown: sympy.Basic | None = None
    """How to show the condition when ``expr`` is an encoding (a broadcast's disjunction)."""

    @staticmethod
    def equal(lhs: QExpr, rhs: QPoly, axis: str, rule: str) -> Condition:
        """The condition ``lhs == rhs``, shown with its two sides."""
        return Condition(add(lhs, -rhs), "eq", "", axis, rule, (lhs, rhs))

    def at(self, layer: str) -> Condition:
        """This condition, stated by ``layer`` (``dataclasses.replace``, or even the frozen
        class's own constructor, costs a few times more, once per condition of every
        layer): a copy of the fields with ``layer`` set."""
        out = object.__new__(Condition)
        fields = out.__dict__
        fields.update(self.__dict__)
        fields["layer"] = layer
        return out

    def relation(self) -> sympy.Basic:
        """The condition as a SymPy relation, the constant moved to the right."""
        if self.shown is not None:
            return self.shown
        if self.sides is not None:
            lhs, rhs = (to_sympy(s) for s in self.sides)
            return sympy.Eq(lhs, rhs, evaluate=False) if self.kind == "eq" else \
                sympy.Ge(lhs, rhs, evaluate=False)
        return relation_of(self.expr, self.kind)


@dataclass(frozen=True)
class AxisStep:
    """One application of a closed form on one axis, as data for the derivation.

    ``rule`` names the formula (``conv_explicit``, ``same_tf``, ``pool_ceil_torch``, ...),
    ``values`` maps the formula's letters to this layer's values, ``result`` is the size.
    """

    axis: str
    rule: str
    values: dict[str, QExpr]
    result: QExpr

    @staticmethod
    def made(axis: str, rule: str, values: dict[str, QExpr], result: QExpr) -> AxisStep:
        """``AxisStep(axis, rule, values, result)`` without the frozen class's constructor,
        which sets each field through ``object.__setattr__`` (every axis of every layer
        makes one): the same fields, set in the instance's dictionary at once.

        >>> AxisStep.made("H", "valid", {}, QPoly.const(3)) == AxisStep("H", "valid", {},
        ...                                                             QPoly.const(3))
        True
        """
        step = object.__new__(AxisStep)
        step.__dict__.update(axis=axis, rule=rule, values=values, result=result)
        return step


RULES: dict[str, str] = {
    "valid": "convolution without padding: floor((n - k_e)/s) + 1",
    "explicit": "convolution with explicit padding: floor((n + P - k_e)/s) + 1",
    "same_tf": "TF/Keras 'same': ceil(n/s), P = max((ceil(n/s) - 1)s + k_e - n, 0)",
    "same_torch": "PyTorch padding='same' (stride 1): n, P = d(k - 1)",
    "causal": "Keras 'causal': p_l = d(k - 1), p_r = 0",
    "pool_valid_keras": "Keras pooling 'valid': floor((n - k)/s) + 1",
    "pool_same_keras": "Keras pooling 'same': floor((n - 1)/s) + 1",
    "pool_floor_torch": "PyTorch pooling: floor((n + 2p - k_e)/s) + 1",
    "pool_ceil_torch": "PyTorch pooling, ceil_mode: min(ceil((n + 2p - k_e)/s), "
                       "floor((n + p - 1)/s)) + 1",
    "conv_transpose_torch": "PyTorch ConvTranspose: (n - 1)s - 2p + d(k - 1) + op + 1",
    "conv_transpose_keras_valid": "Keras transposed 'valid': (n - 1)s + k_e + op",
    "conv_transpose_keras_valid_default": "Keras transposed 'valid', op None: "
                                          "(n - 1)s + max(k_e, s)",
    "conv_transpose_keras_same": "Keras transposed 'same': (n - 1)s + (k_e mod 2) + op",
    "conv_transpose_keras_same_default": "Keras transposed 'same', op None: n s",
    "pad": "padding: n + p_l + p_r",
    "crop": "cropping: n - c_l - c_r",
    "upsample": "upsampling by an integer factor: n s",
    "resize_to": "resize to a given size: o",
    "global_pool": "global pooling: the axis is reduced (kept as 1 with keepdims)",
    "adaptive_pool": "adaptive pooling: o for any n",
}
"""Every ``AxisStep.rule`` a layer records, with its closed form (for printers and tests)."""


@dataclass(frozen=True)
class Weight:
    """One weight tensor: its name, its shape in the dialect's layout, and whether trainable."""

    name: str
    shape: tuple[QPoly, ...]
    trainable: bool = True

    def plain_count(self) -> int | None:
        """The number of entries as an integer when the shape is concrete, else None
        (computed once: a configuration's weights are every layer's of a chain).

        >>> Weight("w", (QPoly.const(3), QPoly.const(4))).plain_count()
        12
        """
        known = self.__dict__.get("_plain")
        if known is None:
            size: int | None = 1
            for s in self.shape:
                value = s.as_int()
                if value is None:
                    size = None
                    break
                size *= value  # type: ignore[operator]
            known = self.__dict__["_plain"] = (size,)  # (frozen: not a field, never compared)
        return known[0]

    @property
    def count(self) -> QPoly:
        """The number of entries: the product of the shape."""
        values = [s.as_int() for s in self.shape]
        if None not in values:  # concrete hyperparameters: integers, no polynomial products
            return QPoly.const(math.prod(v for v in values if v is not None))
        total = QPoly.const(1)
        for s in self.shape:
            total = total * s
        return total


class _Count:
    """A count field of :class:`Inference` (``macs``, ``bias_macs``): the value set, which
    may be a :class:`~convsym.sizes.Product` (the product of the factors given), multiplied
    out the first time it is read: building a network reads no MACs, a summary reads them
    all (a convolution's area times its kernel was a fifth of a chain's build)."""

    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> QExpr: ...

    @overload
    def __get__(self, obj: Inference, owner: type | None = None) -> QExpr: ...

    def __get__(self, obj: Inference | None, owner: type | None = None) -> QExpr:
        if obj is None:
            return _ZERO  # (the class's value: the field's default, for the dataclass)
        value = obj.__dict__[self.name]
        if type(value) is Product:
            value = obj.__dict__[self.name] = value.value()
        return value  # type: ignore[no-any-return]

    def __set__(self, obj: Inference, value: QExpr | Product) -> None:
        obj.__dict__[self.name] = value


_ZERO = QPoly.const(0)


@dataclass
class Inference:
    """What a layer derives from its input shapes."""

    shape: Shape
    weights: list[Weight] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    steps: list[AxisStep] = field(default_factory=list)
    macs: _Count = _Count()
    notes: list[str] = field(default_factory=list)
    bias_macs: _Count = _Count()
    ops: QExpr = _ZERO  # (immutable: shared, as QPoly.const(0) is)
    warnings: list[str] = field(default_factory=list)
    """``macs``: multiply-accumulates of convolution and dense layers without bias (see
    :mod:`convsym.costing` for the convention); ``bias_macs``: one per output element of a
    layer with a bias; ``ops``: the operations of other layers (pooling window reads,
    normalisation, element-wise merges, activations), counted as one each; ``warnings``: what
    a user should know about a valid result (an empty axis, as the framework gives it)."""

    @staticmethod
    def made(shape: Shape, weights: list[Weight], conditions: list[Condition],
             steps: list[AxisStep], macs: QExpr | Product, bias_macs: QExpr | Product
             ) -> Inference:
        """``Inference(shape, weights, conditions, steps, macs, bias_macs=bias_macs)``, every
        field set in the instance's dictionary at once (the constructor sets the two counts
        through their descriptor, a call each, for every layer): the others as defaulted.

        >>> fast = Inference.made((_ZERO,), [], [], [], _ZERO, _ZERO)
        >>> fast == Inference((_ZERO,), [], [], [], _ZERO, bias_macs=_ZERO)
        True
        >>> list(fast.__dict__) == [f.name for f in dataclasses.fields(Inference)]
        True
        """
        out = object.__new__(Inference)
        out.__dict__.update(shape=shape, weights=weights, conditions=conditions, steps=steps,
                            macs=macs, notes=[], bias_macs=bias_macs, ops=_ZERO, warnings=[])
        return out

    @property
    def trainable(self) -> QPoly:
        """Trainable parameters."""
        return _sum(w.count for w in self.weights if w.trainable)

    @property
    def non_trainable(self) -> QPoly:
        """Non-trainable parameters (Keras BatchNorm moving statistics)."""
        return _sum(w.count for w in self.weights if not w.trainable)


def _sum(items: Any) -> QPoly:
    total = QPoly.const(0)
    for x in items:
        total = total + x
    return total


@dataclass(frozen=True, repr=False)
class Layer:
    """Base of every layer; subclasses set ``kind`` names and implement :meth:`infer`."""

    dialect: ClassVar[str] = ""
    n_inputs: ClassVar[int] = 1
    is_input: ClassVar[bool] = False
    """True for a Keras ``Input``, which is also the tensor that feeds the first layer."""
    cost_kind: ClassVar[str] = "none"
    """What :func:`convsym.costing.costs` counts this layer as: ``conv``, ``dense``, ``pool``,
    ``norm``, ``merge``, ``activation`` or ``none`` (shape-only layers)."""

    def __call__(self, *inputs: Any, **kwargs: Any) -> Tensor:
        """Apply the layer to symbolic tensors (the Keras functional style).

        >>> from convsym.layers.keras import Input, Conv2D
        >>> x = Input((28, 28, 1))
        >>> Conv2D(32, 3)(x).shape
        (26, 26, 32)
        """
        return call_layer(self, inputs, kwargs)

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            if not f.repr:
                continue
            value = getattr(self, f.name)
            default = f.default if f.default is not dataclasses.MISSING else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING
                else dataclasses.MISSING)
            if value == default and default is not dataclasses.MISSING:
                continue
            parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    @property
    def type_name(self) -> str:
        """The framework's class name (``Conv2D``, ``Conv2d``)."""
        return type(self).__name__

    @property
    def base_name(self) -> str:
        """Keras's automatic name stem (``conv2d``)."""
        return _snake(type(self).__name__)

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """Derive the output from the input shapes."""
        if len(inputs) != 1:
            raise self.config_error("inputs", len(inputs), "takes exactly one input",
                                    code="wrong_input_count")
        return self.infer_one(inputs[0])

    def infer_one(self, shape: Shape) -> Inference:
        """Derive the output from one input shape."""
        raise NotImplementedError(type(self).__name__)

    def infer_named(self, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """Like :meth:`infer`, given the names of the branches that feed each input.

        Merge layers use the names in their messages; other layers ignore them.
        """
        return self.infer(inputs)

    def infer_checked(self, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """:meth:`infer_named`, reporting a size outside the canonical form as a config error.

        A symbolic divisor must be a monomial: ``MaxPool1d("n + m")`` (stride = pool size)
        has no closed form convsym keeps, and says so instead of failing inside the algebra.
        """
        try:
            cls = type(self)
            if len(inputs) == 1 and cls.infer_named is Layer.infer_named and \
                    cls.infer is Layer.infer:
                return self.infer_one(inputs[0])  # (what infer_named and infer come to)
            return self.infer_named(inputs, names)
        except NotQuasiPolynomial as err:
            raise self.config_error("", None, f"no closed form convsym can keep: {err} (a "
                                    "stride or other divisor must be a number, a symbol or "
                                    "a product of symbols)", code="not_quasi_polynomial"
                                    ) from None

    # --- errors ---------------------------------------------------------------------------
    def config_error(self, fld: str, value: object, rule: str, *, code: str) -> LayerConfigError:
        """A configuration error naming this layer."""
        return LayerConfigError(self.type_name, fld, _show(value), rule, code=code)

    def shape_error(self, fld: str, value: object, rule: str, *, code: str) -> ShapeError:
        """A shape error naming this layer."""
        return ShapeError(self.type_name, fld, None if value is None else _show(value), rule,
                          code=code)


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or
                                   (i + 1 < len(name) and name[i + 1].islower())):
            if not name[i - 1].isdigit():
                out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _show(value: object) -> str:
    if isinstance(value, QPoly):
        return shown_briefly(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str):
        return repr(value)
    return str(value)


# --- hyperparameter coercion ---------------------------------------------------------------


def to_size(layer: Layer, fld: str, value: object, *, minimum: int = 1) -> QPoly:
    """Coerce one integer hyperparameter (int, SymPy expression or text) to canonical form.

    Concrete values below ``minimum`` raise; symbolic ones must be provably ``>= minimum``
    (symbols are positive integers unless declared nonnegative).
    """
    if type(value) is int and abs(value) <= MAX_INT:  # the common case, without SymPy
        if value < minimum:
            raise layer.config_error(fld, value, f"must be an integer >= {minimum}",
                                     code="below_minimum")
        return QPoly.const(value)
    # (a SymPy size computed by an importer, a window count, repeats in every block: its
    # decision is as costly as a text's parse)
    key = (value, minimum, current_budgets()) if type(value) is str or isinstance(
        value, sympy.Expr) else None
    known = _SIZES.get(key) if key is not None else None
    if known is not None:
        return known  # the same text, bound and budgets: the same canonical size
    q = _to_size(layer, fld, value, minimum)
    if key is not None:
        if len(_SIZES) >= 4096:
            _SIZES.clear()  # bounded memory; a miss only costs parsing again
        _SIZES[key] = q
    return q


_SIZES: dict[tuple[object, int, object], QPoly] = {}
"""Sizes given as text or SymPy expressions, memoised (only those accepted; a refusal names
its layer): every layer of a chain with the stride ``"s"`` parses and checks it again
otherwise, and every Swin block decides its window counts again."""


def _to_size(layer: Layer, fld: str, value: object, minimum: int) -> QPoly:
    if type(value) is str and minimum <= 1 and is_plain_name(value):
        # what parsing comes to for a lone name ("s"): the positive integer symbol, which
        # is >= 1 >= minimum (the parser, its checks and the period decision skipped)
        return QPoly.sym(symbol(value))
    if isinstance(value, bool) or (isinstance(value, numbers.Real)
                                   and not isinstance(value, numbers.Integral)):
        kind = "bool" if isinstance(value, bool) else "float"
        raise LayerTypeError(layer.type_name, fld, repr(value),
                             f"a {kind} is not an integer" +
                             (f": write {int(float(value))}, not {value!r}"
                              if kind == "float" and float(value).is_integer() else ""),
                             code="not_an_integer")
    try:
        expr = as_expr(value, field=fld, kind=layer.type_name)
    except ConvsymError as err:
        rule = str(err)  # without the layer and field, which the LayerTypeError names
        for prefix in (f"{layer.type_name} {fld}: ", f"{layer.type_name}: {fld} = "):
            if rule.startswith(prefix):
                rule = rule[len(prefix):]
                if prefix.endswith("= ") and ": " in rule:  # the value is shown already
                    rule = rule.split(": ", 1)[1]
        raise LayerTypeError(layer.type_name, fld, _show(value), rule,
                             code=getattr(err, "code", "bad_value")) from None
    try:
        q = from_sympy(expr)
    except NotQuasiPolynomial as err:
        raise LayerConfigError(layer.type_name, fld, str(expr),
                               f"must be an integer expression ({err})",
                               code="not_integer_valued") from None
    if not isinstance(q, QPoly):
        raise LayerConfigError(layer.type_name, fld, str(expr), "must not be a Min/Max",
                               code="not_integer_valued")
    concrete = q.as_int()
    if concrete is not None:
        if concrete < minimum:
            raise layer.config_error(fld, concrete, f"must be an integer >= {minimum}",
                                     code="below_minimum")
        return q
    below = decide_nonneg(q - QPoly.const(minimum))
    if below.holds is False:
        example = ", ".join(f"{k} = {v}" for k, v in below.counterexample.items())
        raise layer.config_error(fld, str(expr),
                                 f"must be an integer >= {minimum}, but is "
                                 f"{q.evaluate(below.counterexample)} when {example}",
                                 code="below_minimum")
    return q


_PLAIN_TYPES = frozenset({int, str, bool, type(None)})


def _typed(value: object) -> object:
    """``value`` with its type, element by element for a tuple or list (``True`` and ``1``,
    ``(3, 3)`` and ``[3, 3]`` are equal in Python, not as hyperparameters); None for a value
    of another kind."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value, kind
    if kind is tuple or kind is list:
        items = [_typed(v) for v in value]  # type: ignore[attr-defined]
        return None if None in items else (kind, tuple(items))
    return None


def remembered(layer: L, make: Callable[[L], T]) -> T:
    """``make(layer)``, a layer's normalised configuration, made once per class, field
    values (with their types) and budgets: every layer of a chain repeats the same
    arguments, which were coerced and checked again for each.  Layers with a value of
    another kind than int, str, bool, None or a tuple or list of them (a SymPy
    expression) are not remembered.  A refusal is never remembered: it is raised again.
    """
    fields = _FIELDS.get(type(layer))
    if fields is None:
        fields = _FIELDS[type(layer)] = tuple(f.name for f in dataclasses.fields(layer))
    values = layer.__dict__
    key: list[object] = [type(layer)]
    for name in fields:
        value = values.get(name)
        kind = type(value)
        if kind in _PLAIN_TYPES:  # (most arguments: inline)
            key.append(value)
            key.append(kind)
            continue
        typed = _typed(value)
        if typed is None:
            return make(layer)
        key.append(typed)
    budgets = current_budgets()
    found = _CONFIGS.get(tuple(key))
    if found is not None and (found[0] is budgets or found[0] == budgets):
        return cast(T, found[1])
    made = make(layer)
    if len(_CONFIGS) >= 4096:
        _CONFIGS.clear()  # bounded memory; a miss only costs checking the arguments again
    _CONFIGS[tuple(key)] = (budgets, made)
    return made


_FIELDS: dict[type, tuple[str, ...]] = {}
_CONFIGS: dict[tuple[object, ...], tuple[object, object]] = {}
"""Configurations made by :func:`remembered`, with the budgets they were made under."""


def is_plain_name(text: str) -> bool:
    """True for text that the expression parser reads as one name, its symbol (an ASCII
    identifier, not a keyword, not reserved, within the text length limit).

    >>> is_plain_name("s"), is_plain_name("k_1"), is_plain_name("if"), is_plain_name(" s")
    (True, True, False, False)
    """
    return len(text) <= MAX_TEXT_LENGTH and text.isascii() and text.isidentifier() and \
        not keyword.iskeyword(text) and not text.startswith("__")


def is_padding_mode(text: str) -> bool:
    """True for PyTorch's padding modes 'valid'/'same' or a near miss of them; other text is
    a size such as ``"p"``.

    >>> is_padding_mode("same"), is_padding_mode("smae"), is_padding_mode("p")
    (True, True, False)
    """
    return text in ("valid", "same") or bool(did_you_mean(text, ["valid", "same"]))


def to_tuple(layer: Layer, fld: str, value: object, rank: int, *, minimum: int = 1
             ) -> tuple[QPoly, ...]:
    """Coerce an int-or-tuple hyperparameter to ``rank`` canonical sizes."""
    if isinstance(value, (list, tuple)):
        if len(value) != rank:
            raise layer.config_error(fld, tuple(value),
                                     f"needs {rank} value{'s' if rank > 1 else ''}, one per "
                                     f"spatial axis, or a single integer",
                                     code="wrong_tuple_length")
        return tuple(to_size(layer, f"{fld}[{i}]", v, minimum=minimum)
                     for i, v in enumerate(value))
    one = to_size(layer, fld, value, minimum=minimum)
    return (one,) * rank


def to_flag(layer: Layer, fld: str, value: object) -> bool:
    """A boolean hyperparameter (``use_bias``, ``ceil_mode``); only ``True``/``False``."""
    if not isinstance(value, bool):
        raise LayerTypeError(layer.type_name, fld, _show(value), "must be True or False",
                             code="not_a_bool")
    return value


def to_choice(layer: Layer, fld: str, value: object, options: Sequence[str]) -> str:
    """A string hyperparameter from a fixed list, with a did-you-mean."""
    if not isinstance(value, str) or value not in options:
        hint = did_you_mean(value, options) if isinstance(value, str) else ""
        raise layer.config_error(fld, value,
                                 "must be one of " + ", ".join(repr(o) for o in options) + hint,
                                 code="bad_choice")
    return value


def is_concrete(e: QExpr) -> bool:
    """True when ``e`` has no symbols."""
    return as_int(e) is not None


def check_room(layer: Layer, axis: str, room: QExpr, *, rule: str,
               what: str | Callable[[], str]) -> list[Condition]:
    """Three-valued check of ``room >= 0``: raise if provably never, condition if undecided.

    ``what`` is a sentence describing the concrete failure (or a function making it, called
    only on failure: printing sizes is slow); ``rule`` the general rule.
    """
    value = room.as_int() if type(room) is QPoly else None  # (as_int: an Ext is no int)
    if value is not None:
        if value < 0:
            raise layer.shape_error(f"axis {axis}", None, sentence(what),
                                    code="input_too_small")
        return []
    bound = lower_bound(room)  # most rooms hold from the signs alone (a window that fits)
    if bound is not None and bound >= 0:
        return []
    holds, never = _room_decision(room)
    if holds:
        return []
    if never:
        raise layer.shape_error(f"axis {axis}", None,
                                f"{sentence(what)}, for every value of its symbols ({rule})",
                                code="input_too_small")
    return [Condition(room, "ge", "", axis, rule)]


def _room_decision(room: QExpr) -> tuple[bool, bool]:
    """Whether ``room >= 0`` provably always holds, and whether it provably never does,
    memoised per room and budgets: every layer of a dense block or a U-Net level checks the
    same room, and each check is a period analysis."""
    key = (room, current_budgets())
    found = _ROOMS.get(key)
    if found is None:
        cut = rising_threshold(room)
        if cut is not None and (cut[0].is_positive or cut[0].is_nonnegative):
            # never decreasing in its one symbol x, without bound (a U-Net level's room):
            # it holds from x = t on, so always when t is x's least value, and never
            # "never" (the network keeps it as x >= t, from the same threshold)
            found = (cut[1] == (1 if cut[0].is_positive else 0), False)
        else:
            found = _decided(room)
        if len(_ROOMS) >= 4096:
            _ROOMS.clear()  # bounded memory; a miss only costs deciding again
        _ROOMS[key] = found
    return found


def _decided(room: QExpr) -> tuple[bool, bool]:
    """:func:`_room_decision` of a room of any form: from the signs, samples and periods."""
    if isinstance(room, QPoly) and room.floor_terms() and falls(room) and rises(room):
        # unbounded both ways, from the signs (as the last branch would conclude, by
        # unbounded_below of room and of -room - 1): a chain's room
        # -k2 + floor((floor(...)... - k1)/s1), without evaluating its nest (nor building
        # the sets of every symbol in it, as directions would)
        return False, False
    rising, falling = directions(room) if isinstance(room, QPoly) else ((), ())
    if rising and falling:  # (the same, read in one pass: a room without floors)
        return False, False
    if _rising_below_zero(room, rising) or witnessed(room, _negative, _nonnegative):
        return False, False  # a negative and a non-negative sample: neither, exactly
    holds = not unbounded_below(room) and decide_nonneg(room).holds is True
    short = q_add(q_scale(room, QPoly.const(-1)), QPoly.const(-1))
    never = not holds and not unbounded_below(short) and decide_nonneg(short).holds is True
    return holds, never


_ROOMS: dict[tuple[QExpr, object], tuple[bool, bool]] = {}


def _rising_below_zero(room: QExpr, rising: Collection[sympy.Symbol]) -> bool:
    """True when ``room`` never decreases and grows without bound along every symbol
    (``rising``, the first of :func:`convsym.intdiv.directions`), each at least 0 or 1,
    and is negative where they are all least: then ``room >= 0`` fails there and holds
    far enough out, exactly (a pooled level's ``floor(H/256) - 1``, with one evaluation
    instead of samples)."""
    if not isinstance(room, QPoly):
        return False
    if not rising:
        return False
    corner: dict[sympy.Symbol, int] = {}
    for x in room.free_symbols():
        if x not in rising:
            return False
        corner[x] = 1 if x.is_positive else 0 if x.is_nonnegative else -1
        if corner[x] < 0:
            return False  # no least value
    if all(v == 1 for v in corner.values()):  # (all positive: the floors' memoised values)
        return uniform_value(room, 1) < 0
    return room.evaluate(corner) < 0


def _negative(value: int) -> bool:
    return value < 0


def _nonnegative(value: int) -> bool:
    return value >= 0


def sentence(what: str | Callable[[], str]) -> str:
    """A message given as text or as a function making it."""
    return what if isinstance(what, str) else what()


def relation_of(e: QExpr, kind: str) -> sympy.Basic:
    """``e >= 0`` (kind ``"ge"``) or ``e == 0`` as a readable SymPy relation.

    >>> from convsym.expr import symbol
    >>> relation_of(QPoly.sym(symbol("n")) - QPoly.const(5), "ge")
    n >= 5
    """
    expr = to_sympy(e)
    const, rest = expr.as_coeff_Add()
    lhs, rhs = rest, -const
    if lhs.could_extract_minus_sign():
        lhs, rhs = -lhs, -rhs
        return sympy.Le(lhs, rhs, evaluate=False) if kind == "ge" else \
            sympy.Eq(lhs, rhs, evaluate=False)
    if kind == "ge":
        return sympy.Ge(lhs, rhs, evaluate=False)
    return sympy.Eq(lhs, rhs, evaluate=False)


# --- calls on symbolic tensors (the functional style: ``Conv2D(8, 3)(x)``) -----------------

_SERIAL = itertools.count()


class Tensor:
    """A symbolic tensor: the output of one layer call (or a network input)."""

    def __init__(self, layer: Layer, parents: tuple[Tensor, ...], *, name: str | None = None,
                 input_shape: Shape | None = None) -> None:
        self.layer = layer
        self.parents = parents
        self.name = name
        self.input_shape = input_shape
        self.serial = next(_SERIAL)
        self._inference: Inference | None = None

    @property
    def is_input(self) -> bool:
        """True for a network input."""
        return self.input_shape is not None

    def inference(self) -> Inference:
        """The layer's inference on this call (computed once, on demand)."""
        if self._inference is None:
            if self.input_shape is not None:
                self._inference = Inference(self.input_shape)
            else:
                shapes = [p.inference().shape for p in self.parents]
                names = [p.label() for p in self.parents]
                self._inference = self.layer.infer_checked(shapes, names)
        return self._inference

    @property
    def shape(self) -> tuple[sympy.Expr, ...]:
        """The shape without the batch axis, as SymPy expressions."""
        return tuple(to_sympy(s) for s in self.inference().shape)

    def label(self) -> str:
        """A name for messages: the explicit name, else the layer's type."""
        return self.name or getattr(self.layer, "name", None) or self.layer.type_name

    def __repr__(self) -> str:
        return f"<Tensor {self.label()} {self.shape}>"


def input_tensor(layer: Any) -> Tensor:
    """The tensor of a Keras ``Input`` (one per Input object)."""
    existing = layer.__dict__.get("_tensor")
    if existing is None:
        sizes: Shape = layer.sizes
        existing = Tensor(layer, (), name=getattr(layer, "name", None), input_shape=sizes)
        object.__setattr__(layer, "_tensor", existing)  # frozen dataclass: not a field
    assert isinstance(existing, Tensor)
    return existing


def as_tensor(value: object, where: str) -> Tensor:
    """A Tensor, or a Keras Input standing for its tensor."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, Layer) and value.is_input:
        return input_tensor(value)
    raise UsageError(f"{where}: expected a tensor (the result of a layer call or an Input), "
                     f"got {type(value).__name__}", code="not_a_tensor")


def call_layer(layer: Layer, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """``layer(x)``, ``layer([x, y])`` or ``layer(x, y)``: a new tensor."""
    name = kwargs.pop("name", None)
    kwargs.pop("training", None)
    if kwargs:
        raise UsageError(f"{layer.type_name}(...)(...): unexpected argument "
                         f"{next(iter(kwargs))!r}", code="bad_call")
    if layer.is_input:
        raise UsageError("an Input is a tensor already; pass it to a layer",
                         code="bad_call")
    flat: list[Any] = []
    for item in inputs:
        flat.extend(item if isinstance(item, (list, tuple)) else [item])
    if not flat:
        raise UsageError(f"{layer.type_name}: called without an input tensor",
                         code="bad_call")
    where = f"{layer.type_name}(...)"
    return Tensor(layer, tuple(as_tensor(x, where) for x in flat), name=name)
