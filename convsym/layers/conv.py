"""The one convolution core behind Keras ``Conv*D`` and PyTorch ``Conv*d``.

Front ends normalise their arguments into a :class:`ConvConfig`; :func:`infer_conv` applies
the closed forms of :mod:`convsym.formulas` axis by axis, checks validity three-valued, and
records the weight tensors in the dialect's layout.

>>> from convsym.layers.keras import Conv2D
>>> from convsym.intdiv import QPoly, to_sympy
>>> out = Conv2D(64, 3).infer([(QPoly.const(26), QPoly.const(26), QPoly.const(32))])
>>> [to_sympy(s) for s in out.shape], to_sympy(out.trainable)
([24, 24, 64], 18496)
"""

# Messages are built by lambdas that check_room/require_equal call before returning, inside
# the loop iteration that made them, so late binding of loop variables cannot bite.
# ruff: noqa: B023

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from convsym import formulas as F
from convsym.intdiv import QExpr, QPoly, add, as_int, floordiv, to_sympy
from convsym.layers.base import AxisStep, Condition, Inference, Layer, Shape, Weight, check_room
from convsym.sizes import Product, product_later

ZERO = QPoly.const(0)
AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


@dataclass(frozen=True)
class ConvConfig:
    """A convolution's hyperparameters, normalised (per-axis tuples of canonical sizes).

    ``padding`` is ``"valid"``, ``"same_tf"`` (Keras/TF: ``ceil(n/s)``), ``"same_torch"``
    (stride 1 only, ``P = d(k-1)``), ``"causal"`` (Keras Conv1D) or ``"explicit"`` with
    ``pads`` giving ``(before, after)`` per axis.
    """

    rank: int
    filters: QPoly
    kernel: tuple[QPoly, ...]
    strides: tuple[QPoly, ...]
    dilation: tuple[QPoly, ...]
    groups: QPoly
    bias: bool
    padding: str
    pads: tuple[tuple[QPoly, QPoly], ...] | None
    channels_first: bool
    dialect: str
    in_channels: QPoly | None = None
    padding_mode: str = "zeros"

    def weights(self, per_group: QPoly) -> tuple[Weight, ...]:
        """The weight tensors in the dialect's layout for ``per_group`` input channels per
        group, made once per configuration and ``per_group`` (immutable: a chain's layers
        share them)."""
        made: dict[QPoly, tuple[Weight, ...]] = self.__dict__.setdefault("_weights", {})
        found = made.get(per_group)
        if found is None:
            if self.dialect == "keras":
                found = (Weight("kernel", (*self.kernel, per_group, self.filters)),)
            else:
                found = (Weight("weight", (self.filters, per_group, *self.kernel)),)
            if self.bias:
                found += (Weight("bias", (self.filters,)),)
            if len(made) < 64:  # (bounded: a symbolic per_group differs layer by layer)
                made[per_group] = found
        return found

    @cached_property
    def windows(self) -> tuple[tuple[QPoly, QPoly, QPoly, QPoly], ...]:
        """Per axis, for 'valid' or explicit padding: ``(p_l, p_r, P, P - k_e)``, the last
        the room of an empty input (:func:`~convsym.formulas.conv_room` at ``n = 0``), so
        that a layer's room is ``n`` plus it: made once per configuration, which every
        layer of a chain shares."""
        out = []
        for i in range(self.rank):
            before, after = self.pads[i] if self.pads is not None else (ZERO, ZERO)
            pad = before + after
            offset = F.conv_room(ZERO, k=self.kernel[i], d=self.dilation[i], pad=pad)
            assert isinstance(offset, QPoly)
            out.append((before, after, pad, offset))
        return tuple(out)


def split_channels(layer: Layer, shape: Shape, rank: int, channels_first: bool
                   ) -> tuple[QExpr, list[QExpr]]:
    """``(channels, spatial sizes)`` of an input, checking its rank."""
    if len(shape) != rank + 1:
        shown = "(" + ", ".join(str(to_sympy(s)) for s in shape) + ")"
        raise layer.shape_error("input shape", shown,
                                f"expects {rank + 1} axes without the batch "
                                f"({rank} spatial + channels), got {len(shape)}",
                                code="wrong_rank")
    if channels_first:
        return shape[0], list(shape[1:])
    return shape[-1], list(shape[:-1])


def join_channels(channels: QExpr, spatial: list[QExpr], channels_first: bool) -> Shape:
    """The shape tuple with channels first or last."""
    return (channels, *spatial) if channels_first else (*spatial, channels)


def check_groups(layer: Layer, c_in: QExpr, cfg_groups: QPoly, c_out: QPoly,
                 fld: str = "groups") -> list[Condition]:
    """Groups must divide both the input and the output channels."""
    conditions: list[Condition] = []
    g = as_int(cfg_groups)
    if g == 1:
        return conditions  # one group divides every channel count
    for what, channels in (("input channels", c_in), ("filters", c_out)):
        value = as_int(channels)
        if g is not None and value is not None:
            if value % g:
                raise layer.config_error(fld, g, f"must divide the {what} ({value}); "
                                         f"{value} / {g} is not an integer",
                                         code="groups_not_dividing")
        elif g != 1 and isinstance(channels, QPoly):
            remainder = channels - cfg_groups * floordiv(channels, cfg_groups)
            conditions.append(Condition(remainder, "eq", "", "channels",
                                        f"{fld} must divide the {what}"))
    return conditions


def infer_conv(layer: Layer, shape: Shape, cfg: ConvConfig) -> Inference:
    """Output shape, weights, conditions and derivation steps of a convolution."""
    if len(shape) != cfg.rank + 1:
        split_channels(layer, shape, cfg.rank, cfg.channels_first)  # (raises: wrong rank)
    first = cfg.channels_first  # (split_channels, inline: every layer)
    c_in, spatial = (shape[0], shape[1:]) if first else (shape[-1], shape[:-1])
    if not isinstance(c_in, QPoly):
        raise layer.shape_error("channels", str(to_sympy(c_in)), "must not be a Min/Max",
                                code="bad_channels")
    terms = c_in.terms if c_in.factors is None else None
    memo = cfg.__dict__.get("_channels")
    known = memo.get(terms.get(())) if memo is not None and terms is not None and \
        len(terms) == 1 else None
    conditions: list[Condition]
    if known is not None:  # (a constant channel count checked before for this config)
        conditions, per_group, weights = [], known[0], list(known[1])
    else:
        conditions, per_group, weights = _channels(layer, cfg, c_in)
    names = AXIS_NAMES[cfg.rank]
    out: list[QExpr] = []
    steps: list[AxisStep] = []
    for i, n in enumerate(spatial):
        axis = names[i]
        k, s, d = cfg.kernel[i], cfg.strides[i], cfg.dilation[i]
        size, step, conds = _axis(layer, cfg, axis, n, k, s, d, i)
        out.append(size)
        steps.append(step)
        conditions += conds
    # the counts are multiplied out when read (a summary), not by every build; the output
    # positions, multiplied out once for both
    macs = F.conv_macs(out, kernel=cfg.kernel, c_in_per_group=per_group, c_out=cfg.filters)
    bias_macs: QExpr | Product = QPoly.const(0)
    if cfg.bias:  # (a subset of the MACs' factors: within the budgets when those are)
        bias_macs = Product(tuple(out), (cfg.filters,)) if isinstance(macs, Product) else \
            product_later(tuple(out), (cfg.filters,))
    return Inference.made((cfg.filters, *out) if first else (*out, cfg.filters), weights,
                          conditions, steps, macs, bias_macs)  # (join_channels, inline)


def _channels(layer: Layer, cfg: ConvConfig, c_in: QPoly
              ) -> tuple[list[Condition], QExpr, list[Weight]]:
    """The conditions on the input channels ``c_in`` (groups dividing them, the declared
    ``in_channels``), the channels per group and the weights.

    When the channels, groups, filters and declared ``in_channels`` are all integers, the
    checks either raise or state no condition; a pass is then remembered by the
    configuration (which every layer of a chain shares) with the channels per group and
    the weights, by channel count: what the next layer on as many channels finds.  A
    refusal is never remembered: it is raised again."""
    conditions = check_groups(layer, c_in, cfg.groups, cfg.filters)
    if cfg.in_channels is not None:
        conditions += _check_in_channels(layer, c_in, cfg.in_channels)
    per_group = c_in if as_int(cfg.groups) == 1 else floordiv(c_in, cfg.groups)
    weights = cfg.weights(per_group)
    value = c_in.as_int()
    if value is not None and not conditions and cfg.groups.as_int() is not None and \
            cfg.filters.as_int() is not None and \
            (cfg.in_channels is None or cfg.in_channels.as_int() is not None):
        memo: dict[int, tuple[QExpr, tuple[Weight, ...]]] = \
            cfg.__dict__.setdefault("_channels", {})
        if len(memo) < 64:  # (bounded, as the weights' memo)
            memo[value] = (per_group, weights)
    return conditions, per_group, list(weights)


def _check_in_channels(layer: Layer, c_in: QPoly, declared: QPoly) -> list[Condition]:
    a, b = as_int(c_in), as_int(declared)
    if a is not None and b is not None:
        if a != b:
            raise layer.shape_error("in_channels", b,
                                    f"does not match the input, which has {a} channels",
                                    code="channel_mismatch")
        return []
    if c_in == declared:
        return []
    return [Condition.equal(c_in, declared, "channels",
                            "in_channels must equal the input's channels")]


def _axis(layer: Layer, cfg: ConvConfig, axis: str, n: QExpr, k: QPoly, s: QPoly, d: QPoly,
          i: int) -> tuple[QExpr, AxisStep, list[Condition]]:
    padding = cfg.padding
    if padding == "explicit" or padding == "valid" or padding not in _OTHER_PADDINGS:
        p_l, p_r, pad, offset = cfg.windows[i]
        # F.conv_room(n, k=k, d=d, pad=pad), as add makes it
        room = n._combine(offset, 1) if type(n) is QPoly else add(n, offset)
        conditions = check_room(
            layer, axis, room,
            rule="the padded input n + P must be at least the effective kernel d(k-1)+1",
            what=lambda: (f"padded input {_txt(n)} + {_txt(pad)} = {_txt(add(n, pad))} is "
                          f"smaller than the effective kernel {_txt(F.effective_kernel(k, d))}"
                          ", so the output would be empty"),
        )
        if cfg.padding_mode != "zeros":
            conditions += _padding_mode_room(layer, cfg, axis, n, p_l, p_r)
        size = F.windows(room, s=s)  # F.conv_out from the room already made
        rule = "valid" if padding == "valid" else "explicit"
        return size, AxisStep.made(axis, rule, {"n": n, "k": k, "s": s, "d": d, "P": pad,
                                                "p_l": p_l, "p_r": p_r}, size), conditions
    values: dict[str, QExpr] = {"n": n, "k": k, "s": s, "d": d}
    conditions = []
    if cfg.padding == "same_tf":
        size = F.same_out(n, s=s)
        total = F.same_pad_total(n, k=k, s=s, d=d, out=size)
        before, after = F.split_pad(total)
        values.update({"P": total, "p_l": before, "p_r": after})
        return size, AxisStep(axis, "same_tf", values, size), conditions
    if cfg.padding == "same_torch":
        total = F.torch_same_pad_total(k=k, d=d)
        before, after = F.split_pad(total)
        values.update({"P": total, "p_l": before, "p_r": after})
        # stride is 1 (checked by the front end), so the explicit formula gives n
        size = F.conv_out(n, k=k, s=s, d=d, pad=total)
        assert isinstance(before, QPoly) and isinstance(after, QPoly)
        conditions += _padding_mode_room(layer, cfg, axis, n, before, after)
        return size, AxisStep(axis, "same_torch", values, size), conditions
    if cfg.padding == "causal":
        pad = F.causal_pad(k=k, d=d)
        values.update({"P": pad, "p_l": pad, "p_r": QPoly.const(0)})
        size = F.conv_out(n, k=k, s=s, d=d, pad=pad)
        return size, AxisStep(axis, "causal", values, size), conditions
    raise AssertionError(padding)  # (every other padding is read as explicit, above)


_OTHER_PADDINGS = frozenset({"same_tf", "same_torch", "causal"})
"""The paddings with rules of their own in :func:`_axis` (any other is explicit)."""


def _padding_mode_room(layer: Layer, cfg: ConvConfig, axis: str, n: QExpr, before: QPoly,
                       after: QPoly) -> list[Condition]:
    """PyTorch's reflect padding needs each side < n, circular <= n (explicit or 'same')."""
    conditions: list[Condition] = []
    if cfg.padding_mode in ("reflect", "circular"):
        limit = 1 if cfg.padding_mode == "reflect" else 0
        for side in {before, after}:
            if as_int(side) == 0:
                continue
            conditions += check_room(
                layer, axis, add(n, -(side + QPoly.const(limit))),
                rule=f"padding_mode='{cfg.padding_mode}' needs padding "
                     f"{'<' if limit else '<='} the input size",
                what=lambda side=side: f"padding {_txt(side)} is too large for an input of "  # type: ignore[misc]
                     f"{_txt(n)} with padding_mode='{cfg.padding_mode}'",
            )
    return conditions


def _txt(e: QExpr) -> str:
    return str(to_sympy(e))
