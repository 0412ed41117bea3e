"""Receptive field, effective stride (jump) and effective padding of every layer, symbolic.

Per spatial axis, with ``r`` the receptive field size, ``j`` the jump (distance in input
pixels between adjacent outputs) and ``P`` the effective left padding, a layer with kernel
``k``, dilation ``d``, stride ``s`` and left padding ``p_l`` gives (Dumoulin & Visin 2016;
Araujo, Norris & Sim 2019)::

    r' = r + (d(k - 1)) j        j' = j s        P' = P + p_l j

starting from ``r = j = 1`` and ``P = 0`` at the input.  The first output's receptive field
spans input positions ``[-P, -P + r - 1]``; its centre is ``-P + (r - 1)/2``.  Padding and
cropping layers act as ``k = s = 1`` with ``p_l`` the padding (negative for a crop).  Where
branches merge, the field is the union of the branches' fields (their jumps must agree).

Not defined (``None``, with a reason): after upsampling or a transposed convolution (the jump
would be a fraction), after adaptive pooling to a size other than 1 or the input's, and after
layers that leave the spatial layout (Flatten, Dense, Reshape).  Global pooling (and adaptive
pooling to 1) sees the whole input: ``global``.

>>> from convsym.examples import example
>>> last = receptive_field(example("wavenet"))[-1]
>>> last.axes["L"].size, last.axes["L"].jump
(1025, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from convsym import formulas as F
from convsym.intdiv import QExpr, QPoly, ext, to_sympy
from convsym.layers.base import AxisStep
from convsym.network import Network, require_network
from convsym.sizes import add_sizes, agreement, negate
from convsym.summary import json_value

ONE, ZERO = QPoly.const(1), QPoly.const(0)

Axis = tuple[QExpr, QExpr, QExpr]  # (r, j, P)


@dataclass(frozen=True)
class AxisField:
    """The receptive field on one axis: size ``r``, jump ``j``, effective padding ``P``."""

    size: sympy.Expr
    jump: sympy.Expr
    padding: sympy.Expr

    @property
    def start(self) -> sympy.Expr:
        """Where the first output's receptive field starts: ``-P``."""
        return -self.padding

    @property
    def center(self) -> sympy.Expr:
        """The centre of the first output's receptive field: ``-P + (r - 1)/2``."""
        return -self.padding + (self.size - 1) / sympy.Integer(2)


@dataclass(frozen=True)
class FieldRow:
    """One layer: per-axis fields, or ``axes=None`` with ``status`` saying why."""

    name: str
    type: str
    status: str
    axes: dict[str, AxisField] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        axes = None if self.axes is None else {
            a: {"size": json_value(f.size), "jump": json_value(f.jump),
                "padding": json_value(f.padding)} for a, f in self.axes.items()}
        return {"name": self.name, "type": self.type, "status": self.status, "axes": axes}


@dataclass
class _State:
    status: str  # "ok", "global" or a reason it is undefined
    axes: dict[str, Axis]


NOT_SPATIAL = "not defined: the layer leaves the spatial layout"


def receptive_field(network: Network) -> list[FieldRow]:
    """Receptive field, jump and effective padding after each row of ``network``."""
    require_network(network, "receptive_field")
    states: list[_State] = []
    by_name: dict[str, _State] = {}
    for index, node in enumerate(network.nodes):
        if index in network.input_shapes or not node.parents:
            state = _State("ok", {})
        else:
            parents = [states[p] for p in node.parents]
            inference = _inference(network, node.name)
            state = _step(node.layer, parents, inference, network.shapes, node, index)
        states.append(state)
        by_name[node.name] = state
    rows = []
    for row in network.rows:
        state = by_name[row.name]
        axes = None
        if state.status == "ok":
            names = [s.axis for s in row.inference.steps] or list(state.axes)
            axes = {a: _field(state.axes.get(a, (ONE, ONE, ZERO)))
                    for a in (names or list(state.axes))}
        rows.append(FieldRow(row.name, row.type, state.status, axes))
    return rows


def _inference(network: Network, name: str) -> Any:
    for row in network.rows:
        if row.name == name:
            return row.inference
    return None


def _field(axis: Axis) -> AxisField:
    r, j, p = axis
    return AxisField(to_sympy(r), to_sympy(j), to_sympy(p))


def _step(layer: Any, parents: list[_State], inference: Any, shapes: list[Any], node: Any,
          index: int) -> _State:
    if len(parents) > 1:
        return _merge(parents)
    parent = parents[0]
    if parent.status != "ok":
        return _State(parent.status, {})
    steps: list[AxisStep] = list(inference.steps) if inference is not None else []
    if not steps:
        same = shapes[index] == shapes[node.parents[0]] or layer.cost_kind in ("merge",)
        if same and layer.cost_kind != "dense":
            return _State("ok", dict(parent.axes))
        return _State("global" if layer.cost_kind == "dense" else NOT_SPATIAL, {})
    axes = dict(parent.axes)
    for step in steps:
        old = axes.get(step.axis, (ONE, ONE, ZERO))
        new = _apply(step, old)
        if isinstance(new, str):
            return _State(new, {})
        axes[step.axis] = new
    return _State("ok", axes)


def _apply(step: AxisStep, old: Axis) -> Axis | str:
    r, j, p = old
    v = step.values
    rule = step.rule
    if rule in ("valid", "explicit", "same_tf", "same_torch", "causal", "pool_floor_torch",
                "pool_ceil_torch", "pool_valid_keras", "pool_same_keras"):
        k, s = _poly(v["k"]), _poly(v["s"])
        d = _poly(v.get("d", ONE))
        if "p_l" in v:
            p_l = v["p_l"]
        elif "p" in v:
            p_l = v["p"]
        elif rule == "pool_same_keras":
            p_l = F.split_pad(F.same_pad_total(v["n"], k=k, s=s, d=ONE))[0]
        else:
            p_l = ZERO
        return (F.rf_size(r, k=k, d=d, jump=j), F.rf_jump(j, s=s),
                F.rf_padding(p, p_l=p_l, jump=j))
    if rule == "pad":
        return (r, j, F.rf_padding(p, p_l=_poly(v["p_l"]), jump=j))
    if rule == "crop":
        return (r, j, F.rf_padding(p, p_l=-_poly(v["c_l"]), jump=j))
    if rule == "global_pool":
        return "global"
    if rule == "adaptive_pool":
        o, n = v["o"], v["n"]
        if o == n:
            return old
        if isinstance(o, QPoly) and o.as_int() == 1:
            return "global"
        return "not defined: adaptive pooling bins vary in size"
    if rule.startswith(("conv_transpose", "upsample", "resize_to")):
        return "not defined: upsampling makes the jump a fraction"
    return f"not defined: no receptive-field rule for {rule!r}"


def _poly(e: QExpr) -> QPoly:
    if not isinstance(e, QPoly):
        raise ValueError("a kernel, stride or dilation that is a Min/Max")
    return e


def _merge(parents: list[_State]) -> _State:
    if any(p.status == "global" for p in parents):
        return _State("global", {})
    for p in parents:
        if p.status != "ok":
            return _State(p.status, {})
    names = sorted({a for p in parents for a in p.axes})
    axes: dict[str, Axis] = {}
    for a in names:
        fields = [p.axes.get(a, (ONE, ONE, ZERO)) for p in parents]
        jump = fields[0][1]
        if any(agreement(jump, f[1]).verdict != "always" for f in fields[1:]):
            return _State("not defined: merged branches have different jumps", {})
        pad = ext("max", [f[2] for f in fields])
        end = ext("max", [add_sizes(f[0], negate(f[2]), QPoly.const(-1)) for f in fields])
        axes[a] = (add_sizes(end, pad, ONE), jump, pad)
    return _State("ok", axes)


__all__ = ["AxisField", "FieldRow", "receptive_field"]
