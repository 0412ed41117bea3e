"""The seed misconception as a what-if: "each filter applied to each input map separately".

A convolution with ``C`` input maps and ``F`` filters mixes all ``C`` maps into each output
map (each filter spans every input map, and the ``C`` products are summed).  Applying each
of ``F`` filters to each input map *separately* is a different layer: a depthwise
convolution with depth multiplier ``m = F`` (Keras ``DepthwiseConv2D(depth_multiplier=F)``,
PyTorch ``Conv2d(C, C*F, k, groups=C)``), whose output has ``C*F`` maps.
:func:`depthwise_whatif` builds that layer in the network's own dialect, infers it on the
same input, and sets its maps and parameters beside the standard layer's, with the knock-on
effect on the rest of the network when the network still builds.

>>> from convsym.examples import example
>>> w = depthwise_whatif(example("seed3"), "conv2d_1")
>>> (w.standard.maps, w.standard.params), (w.imagined.maps, w.imagined.params)
((20, 1820), (200, 2000))
>>> w.kernel_weights_equal
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy

from convsym.errors import LayerError, UsageError, did_you_mean
from convsym.intdiv import QExpr, QPoly, to_sympy
from convsym.layers import keras, torch
from convsym.layers.conv import ConvConfig, split_channels
from convsym.network import require_network
from convsym.printing.display import Rich
from convsym.printing.text import shape_text, sstr
from convsym.summary import count_text, json_value
from convsym.whatif.compare import Comparison, compare
from convsym.whatif.steps import Step, render

if TYPE_CHECKING:
    from convsym.layers.base import Inference, Layer, Shape
    from convsym.network import Network, Row


@dataclass(frozen=True)
class LayerFigures:
    """One layer's output shape, output maps, weights, biases, parameters and MACs."""

    layer: str
    output: tuple[sympy.Expr, ...]
    maps: sympy.Expr
    kernel_weights: sympy.Expr
    biases: sympy.Expr
    params: sympy.Expr
    macs: sympy.Expr


@dataclass(frozen=True, repr=False)
class DepthwiseWhatIf(Rich):
    """The standard layer beside the imagined one, the derivation and the network effect."""

    _display = "depthwise"

    row: str
    input_maps: sympy.Expr
    filters: sympy.Expr
    standard: LayerFigures
    imagined: LayerFigures
    steps: tuple[Step, ...]
    comparison: Comparison | None
    note: str = ""

    @property
    def kernel_weights_equal(self) -> bool:
        """True when both layers hold the same number of kernel weights (groups = 1)."""
        return bool(sympy.simplify(self.standard.kernel_weights - self.imagined.kernel_weights)
                    == 0)

    def text(self) -> str:
        """The derivation, then the network comparison when there is one."""
        head = [f"What if each filter of {self.row!r} were applied to each input map "
                "separately?",
                f"  standard : {self.standard.layer}: output {_shape(self.standard.output)}, "
                f"{sstr(self.standard.maps)} maps, {_count(self.standard.params)} parameters",
                f"  imagined : {self.imagined.layer}: output {_shape(self.imagined.output)}, "
                f"{sstr(self.imagined.maps)} maps, {_count(self.imagined.params)} parameters",
                "", render(self.steps, "text")]
        if self.comparison is not None:
            head += ["", self.comparison.text()]
        elif self.note:
            head += ["", self.note]
        return "\n".join(head)

    def derivation(self, fmt: str = "text") -> str:
        """The steps alone, in ``text``, ``markdown`` or ``latex``."""
        return render(self.steps, fmt)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        def figures(f: LayerFigures) -> dict[str, Any]:
            return {"layer": f.layer, "output": [json_value(s) for s in f.output],
                    "maps": json_value(f.maps), "kernel_weights": json_value(f.kernel_weights),
                    "biases": json_value(f.biases), "params": json_value(f.params),
                    "macs": json_value(f.macs)}

        return {"row": self.row, "input_maps": json_value(self.input_maps),
                "filters": json_value(self.filters), "standard": figures(self.standard),
                "imagined": figures(self.imagined),
                "derivation": [s.to_dict() for s in self.steps],
                "network": self.comparison.to_dict() if self.comparison else None,
                "note": self.note}

    def __str__(self) -> str:
        return self.text()


def depthwise_whatif(net: Network, row: str | int) -> DepthwiseWhatIf:
    """The seed misconception for one convolution row of ``net`` (by name or index)."""
    target, index = _find_row(require_network(net, "depthwise_whatif"), row)
    config = getattr(target.layer, "config", None)
    if not isinstance(config, ConvConfig) or target.layer.type_name.startswith(
            ("Depthwise", "Separable")):
        raise UsageError(f"depthwise_whatif: row {target.name!r} is a {target.type}, not a "
                         "standard convolution", code="not_a_convolution")
    if config.groups.as_int() != 1:
        raise UsageError(f"depthwise_whatif: row {target.name!r} is already grouped "
                         f"(groups = {to_sympy(config.groups)})", code="grouped_convolution")
    in_shape = _input_shape(net, index)
    c_in, _ = split_channels(target.layer, in_shape, config.rank, config.channels_first)
    if not isinstance(c_in, QPoly):
        raise UsageError("depthwise_whatif: the input channels are a Min/Max",
                         code="bad_channels")
    replacement = _depthwise_layer(target.layer, net.dialect, c_in, config)
    imagined_inf = replacement.infer([in_shape])
    standard = _figures(target.layer, target.inference, config.kernel, c_in, config.filters)
    imagined = _figures(replacement, imagined_inf, config.kernel, QPoly.const(1),
                        c_in * config.filters)
    steps = _steps(target.name, net.dialect, config.kernel, c_in, config.filters, standard,
                   imagined, replacement)
    comparison, note = _network_effect(net, index, replacement)
    if comparison is not None:
        steps.append(_effect_step(comparison, target.name))
    return DepthwiseWhatIf(target.name, to_sympy(c_in), to_sympy(config.filters), standard,
                           imagined, tuple(steps), comparison, note)


def _find_row(net: Network, row: str | int) -> tuple[Row, int]:
    rows = net.rows
    if isinstance(row, int) and not isinstance(row, bool):
        if not 0 <= row < len(rows):
            raise UsageError(f"depthwise_whatif: row index {row} is out of range "
                             f"(0..{len(rows) - 1})", code="bad_row")
        chosen = rows[row]
    else:
        names = {r.name: r for r in rows}
        if not isinstance(row, str) or row not in names:
            raise UsageError(f"depthwise_whatif: no row named {row!r}"
                             f"{did_you_mean(str(row), names)}; the rows are "
                             f"{', '.join(names)}", code="bad_row")
        chosen = names[str(row)]
    index = next(i for i, n in enumerate(net.nodes) if n.name == chosen.name)
    return chosen, index


def _input_shape(net: Network, index: int) -> Shape:
    node = net.nodes[index]
    if len(node.parents) != 1:
        raise UsageError("depthwise_whatif: the layer must have exactly one input",
                         code="bad_row")
    parent = node.parents[0]
    if parent in net.input_shapes:
        return net.input_shapes[parent]
    name = net.nodes[parent].name
    for r in net.rows:
        if r.name == name:
            return r.shape
    raise UsageError(f"depthwise_whatif: cannot find the input of {node.name!r}",
                     code="bad_row")


def _depthwise_layer(layer: Layer, dialect: str, c_in: QPoly, config: Any) -> Layer:
    """The layer the misconception describes, in the network's dialect."""
    a: Any = layer
    if dialect == "keras":
        cls = {1: "DepthwiseConv1D", 2: "DepthwiseConv2D"}.get(config.rank)
        if cls is None or not hasattr(keras, cls):
            raise UsageError(f"depthwise_whatif: Keras has no {config.rank}-D depthwise "
                             "convolution", code="no_depthwise")
        made: Layer = getattr(keras, cls)(kernel_size=a.kernel_size, strides=a.strides,
                                   padding=a.padding, depth_multiplier=a.filters,
                                   data_format=a.data_format, dilation_rate=a.dilation_rate,
                                   use_bias=a.use_bias, name=a.name)
        return made

    cls_t = getattr(torch, type(layer).__name__)
    channels = to_sympy(c_in)
    grouped: Layer = cls_t(a.in_channels, _value(channels * to_sympy(config.filters)),
                           a.kernel_size, stride=a.stride, padding=a.padding,
                           dilation=a.dilation, groups=a.in_channels, bias=a.bias,
                           padding_mode=a.padding_mode)
    return grouped


def _value(e: sympy.Expr) -> object:
    return int(e) if isinstance(e, sympy.Integer) else e


def _figures(layer: Layer, inf: Inference, kernel: tuple[QPoly, ...], per_filter: QExpr,
             maps: QPoly) -> LayerFigures:
    prod = QPoly.const(1)
    for k in kernel:
        prod = prod * k
    kernel_weights = sum((w.count for w in inf.weights if "bias" not in w.name), QPoly())
    biases = sum((w.count for w in inf.weights if "bias" in w.name), QPoly())
    del per_filter
    return LayerFigures(repr(layer), tuple(to_sympy(s) for s in inf.shape), to_sympy(maps),
                        to_sympy(kernel_weights), to_sympy(biases),
                        to_sympy(inf.trainable + inf.non_trainable), to_sympy(inf.macs))


def _steps(name: str, dialect: str, kernel: tuple[QPoly, ...], c_in: QPoly, filters: QPoly,
           standard: LayerFigures, imagined: LayerFigures, replacement: Layer) -> list[Step]:
    k = " x ".join(str(to_sympy(x)) for x in kernel)
    c, f = to_sympy(c_in), to_sympy(filters)
    prod_k = sympy.Mul(*(to_sympy(x) for x in kernel))
    layout = "kernel[..., :, j]" if dialect == "keras" else "weight[j]"
    return [
        Step("standard", "The standard layer " + repr(name) + ": each of its {0} filters is "
             + k + " x {1} ({2}): it convolves all {1} input maps and adds the {1} results "
             "into ONE map, so the output has {0} maps.",
             (f, c, f"filter j is {layout}")),
        Step("standard", "Its parameters: {0} kernel weights + {1} biases = {2}.",
             (sympy.Mul(prod_k, c, f, evaluate=False), standard.biases, standard.params)),
        Step("imagined", "Applying each filter to each input map separately is a depthwise "
             "convolution with depth multiplier m = {0} ({1}): each of the {2} input maps "
             "gets its own {0} filters of " + k + ", nothing is added across maps, so the "
             "output has {2} x {0} = {3} maps.",
             (f, repr(replacement), c, imagined.maps)),
        Step("imagined", "Its parameters: {0} kernel weights + {1} biases (one per output map) "
             "= {2}.", (sympy.Mul(prod_k, c, f, evaluate=False), imagined.biases,
                        imagined.params)),
        Step("compare", "Both hold one " + k + " slice per (input map, filter) pair, so the "
             "kernel weights are the same ({0}); the standard layer sums the {1} slices of a "
             "filter into one map, the imagined one keeps them apart: {2} maps instead of {3} "
             "(MACs {4} vs {5}).",
             (standard.kernel_weights, c, imagined.maps, standard.maps, standard.macs,
              imagined.macs)),
    ]


def _network_effect(net: Network, index: int, replacement: Layer
                    ) -> tuple[Comparison | None, str]:
    nodes = list(net.nodes)
    nodes[index] = dataclasses.replace(nodes[index], layer=replacement)
    try:
        variant = net._rebuild(nodes, dict(net.input_shapes))
    except LayerError as err:
        return None, ("The rest of the network does not accept the imagined layer's output: "
                      f"{err}")
    return compare(net, variant, labels=(f"{net.name} (standard)",
                                         f"{net.name} (each filter on each map)")), ""


def _effect_step(comparison: Comparison, name: str) -> Step:
    total = comparison.totals
    return Step("network", "In the whole network (see the table) the parameters go from {0} to "
                "{1}: every layer after " + repr(name) + " sees the larger number of maps.",
                (total.params_a, total.params_b))


def _shape(shape: tuple[sympy.Expr, ...]) -> str:
    return shape_text(shape, batch=False)


def _count(value: sympy.Expr) -> str:
    return count_text(value)
