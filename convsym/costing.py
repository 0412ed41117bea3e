"""Costs of a network, per layer and in total, with an explicit convention.

The convention (tools disagree; see CONVENTIONS.md):

* **MACs** (multiply-accumulates) of convolution and dense layers, WITHOUT bias by default.
  A convolution costs ``prod(out spatial) * C_out * prod(k) * C_in/g``; a dense layer
  ``rows * in * out``; depthwise and separable convolutions the sum of their parts.  A
  transposed convolution is costed on its INPUT size, ``prod(in spatial) * C_in * prod(k) *
  C_out/g`` (each input pixel scatters one kernel; ptflops and thop have changed their
  choice over time).  So ResNet-50 at 224x224 costs 4,089,184,256 MACs, and PyTorch's
  ``FlopCounterMode`` reports twice that as FLOPs.
* ``bias=True`` adds one MAC per output element of each convolution or dense layer with a
  bias.
* ``include`` chooses the layer kinds counted: ``conv`` and ``dense`` by default; ``pool``
  (one operation per window cell read, incl. padding; global and adaptive pooling one per
  input element), ``norm`` (one per element), ``merge`` (``inputs - 1`` per output element)
  and ``activation`` (one per element) count operations as MACs; ``"all"`` means every kind.
  Activations fused into a layer (``Conv2D(activation="relu")``) are not counted.
* **FLOPs** = 2 x MACs.  **Activations**: the elements of each layer's output (one sample).

>>> from convsym.examples import example
>>> report = costs(example("resnet50").subs(H=224, W=224))
>>> report.total_macs, report.total_flops
(4089184256, 8178368512)
>>> costs(example("seed1"), bias=True).total_macs == costs(example("seed1")).total_macs + \\
...     26 * 26 * 32 + 24 * 24 * 64
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sympy

from convsym.errors import UsageError, did_you_mean
from convsym.intdiv import QExpr, QPoly, to_sympy
from convsym.network import Network, require_network
from convsym.printing.display import Rich
from convsym.printing.results import costs_text
from convsym.sizes import add_sizes, mul_sizes
from convsym.summary import json_value

KINDS = ("conv", "dense", "pool", "norm", "merge", "activation")
"""The layer kinds :func:`costs` can count; every layer has one (or ``none``)."""

DEFAULT_INCLUDE = ("conv", "dense")


@dataclass(frozen=True)
class CostRow:
    """One layer's costs (SymPy expressions; integers when the sizes are concrete)."""

    name: str
    type: str
    kind: str
    macs: sympy.Expr
    activations: sympy.Expr
    params: sympy.Expr

    @property
    def flops(self) -> sympy.Expr:
        """Two FLOPs per MAC."""
        return 2 * self.macs


@dataclass(frozen=True, repr=False)
class Costs(Rich):
    """Per-layer cost rows and totals, with the options that produced them."""

    _display = "costs"

    rows: tuple[CostRow, ...]
    bias: bool
    include: tuple[str, ...]

    @property
    def total_macs(self) -> sympy.Expr:
        """The MACs of every layer."""
        return sympy.Add(*(r.macs for r in self.rows))

    @property
    def total_flops(self) -> sympy.Expr:
        """Two FLOPs per MAC."""
        return 2 * self.total_macs

    @property
    def total_activations(self) -> sympy.Expr:
        """The elements of every layer's output, summed (one sample)."""
        return sympy.Add(*(r.activations for r in self.rows))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: integers when numeric, else the expression's text."""
        return {
            "convention": {"unit": "MAC", "bias": self.bias, "include": list(self.include),
                           "transposed_conv": "input size", "flops_per_mac": 2},
            "layers": [{"name": r.name, "type": r.type, "kind": r.kind,
                        "macs": json_value(r.macs), "flops": json_value(r.flops),
                        "activations": json_value(r.activations),
                        "params": json_value(r.params)} for r in self.rows],
            "total_macs": json_value(self.total_macs),
            "total_flops": json_value(self.total_flops),
            "total_activations": json_value(self.total_activations),
        }

    def __str__(self) -> str:
        return costs_text(self)


def _kinds(include: str | Iterable[str]) -> tuple[str, ...]:
    if not isinstance(include, (str, list, tuple, set, frozenset)):
        raise UsageError(f"costs: include must be a layer kind or a list of kinds, not "
                         f"{type(include).__name__}", code="bad_usage")
    items = [include] if isinstance(include, str) else list(include)
    if "all" in items:
        return KINDS
    for item in items:
        if item not in KINDS:
            raise UsageError(f"costs: unknown layer kind {item!r}{did_you_mean(item, KINDS)}; "
                             f"the kinds are {', '.join(KINDS)} or 'all'",
                             code="unknown_cost_kind")
    return tuple(k for k in KINDS if k in items)


def costs(network: Network, *, bias: bool = False,
          include: str | Iterable[str] = DEFAULT_INCLUDE) -> Costs:
    """Per-layer MACs, FLOPs, activation elements and parameters under the convention above."""
    require_network(network, "costs")
    if not isinstance(bias, bool):
        raise UsageError(f"costs: bias must be True or False, got {bias!r}", code="bad_usage")
    kinds = _kinds(include)
    rows = []
    for row in network.rows:
        kind = row.layer.cost_kind
        inf = row.inference
        count: QExpr = QPoly.const(0)
        if kind in kinds:
            if kind in ("conv", "dense"):
                count = add_sizes(inf.macs, inf.bias_macs) if bias else inf.macs
            else:
                count = inf.ops
        rows.append(CostRow(row.name, row.type, kind, to_sympy(count),
                            to_sympy(mul_sizes(*row.shape)), row.params))
    return Costs(tuple(rows), bias, kinds)


__all__ = ["KINDS", "CostRow", "Costs", "costs"]
