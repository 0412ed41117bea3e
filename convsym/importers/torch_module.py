"""Read a live ``torch.nn.Module`` into a convsym network (torch is imported only when called).

The module's ``forward`` runs on symbolic tensors (:mod:`convsym.importers.torch_trace`):
known ``torch.nn`` modules map through :mod:`convsym.importers.torch_table` and are rows
named by their qualified name from ``named_modules()`` (``features.0``, ``layer1.0.conv1``);
tensor operations are rows named after the module whose forward ran them
(``layer1.0.add``).  Shape-preserving functions (``F.relu``, ``torch.sigmoid``, dropout)
are followed without a row.  Everything else is refused with the module's name and class or
the operation, and the source line.  A forward that returns several tensors (a tuple, list
or dict) gives a network with one output each.

Parameters are counted once, where the forward first uses them.  Submodules the forward never
runs (an Inception aux head in eval mode) are listed in :attr:`TorchNetwork.not_run`: the
network's totals leave them out, while PyTorch's ``sum(p.numel())`` counts them
(:attr:`TorchNetwork.torch_params`).

>>> import pytest
>>> nn = pytest.importorskip("torch").nn
>>> net = from_torch(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.Flatten()), (3, "H", "W"))
>>> [row.name for row in net.rows], net.subs(H=32, W=33).output_shape
(['0', '1'], (1920,))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from convsym.errors import LayerError, SpecError, UsageError, did_you_mean
from convsym.importers.torch_table import ELEMENTWISE, ModuleLayers, module_parameters
from convsym.importers.torch_trace import run_forward
from convsym.intdiv import as_int
from convsym.layers.base import Inference, Layer, Shape, to_size
from convsym.layers.torch import LAYERS
from convsym.network import Network, Node, _TorchInput


def from_torch(module: Any, input_shape: Sequence[object] | Sequence[Sequence[object]]
               ) -> Network:
    """The convsym network of ``module`` for inputs of ``input_shape`` (without the batch).

    Sizes may be symbols, e.g. ``(3, "H", "W")``; a module with several inputs takes a list
    of shapes, one per argument of ``forward``.
    """
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    if not isinstance(module, torch.nn.Module):
        raise UsageError(f"from_torch takes a torch.nn.Module, not {type(module).__name__}",
                         code="not_a_module")
    builder = _Builder(module, _shapes(input_shape))
    return builder.build()


def _shapes(given: object) -> list[tuple[object, ...]]:
    def bad() -> UsageError:
        return UsageError("input_shape must be a tuple of sizes without the batch axis, e.g. "
                          f"(3, 224, 224) or (3, 'H', 'W'), or a list of them; got {given!r}",
                          code="bad_input_shape")

    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence) or not given:
        raise bad()
    if all(isinstance(g, Sequence) and not isinstance(g, (str, bytes)) for g in given):
        if any(not g for g in given):
            raise bad()
        return [tuple(g) for g in given]
    return [tuple(given)]


@dataclass(frozen=True)
class NotRun:
    """Parameters the forward never reads: a submodule it never calls, or a parameter."""

    name: str
    kind: str
    params: int


class TorchNetwork(Network):
    """A network read from a ``torch.nn.Module``, with what the forward did not run.

    ``module_outputs`` maps each module called by the forward (qualified name, ``""`` for the
    root) to its calls, each a tuple of output node indices; ``not_run`` lists parameters the
    forward never used; ``torch_params`` is PyTorch's ``sum(p.numel())``, which counts them.
    ``folded`` holds the nodes whose tensor folds windows into the batch axis (Swin's
    ``(B*nW, N, C)``): PyTorch's dim 0 there is the batch times the row's first size.
    ``fixed_calls`` names the modules the forward ran on fixed tensors (a parameter or
    buffer, not the input): they have no rows, and their parameters count in the row that
    reads their result.
    """

    module_outputs: dict[str, list[tuple[int, ...]]]
    folded: frozenset[int] = frozenset()
    fixed_calls: frozenset[str] = frozenset()
    not_run: tuple[NotRun, ...]
    torch_params: int

    def __init__(self, *args: Any, inferred: Mapping[int, tuple[Layer, Inference]] | None = None,
                 **kwargs: Any) -> None:
        # the trace inferred every layer on the same inputs: reused, not inferred twice
        self._inferred = dict(inferred or {})
        super().__init__(*args, **kwargs)
        del self._inferred  # back to the class's empty, read-only table

    def _rebuild(self, nodes: list[Node], shapes: dict[int, Shape]) -> Network:
        net = TorchNetwork(nodes, shapes, dialect=self.dialect, name=self.name,
                           hidden=sorted(self._hidden), outputs=self.outputs)
        net.module_outputs = self.module_outputs
        net.folded = self.folded
        net.fixed_calls = self.fixed_calls
        net.not_run = self.not_run
        net.torch_params = self.torch_params
        return net

    @property
    def params_note(self) -> str | None:
        """The summary's note on the totals, when the forward leaves parameters unused."""
        return self.params_convention if self.not_run else None

    @property
    def params_convention(self) -> str:
        """Which parameters the totals count, in one sentence."""
        if not self.not_run:
            return "totals count every parameter (as PyTorch's sum(p.numel()))"
        left = sum(n.params for n in self.not_run)
        names = ", ".join(f"{n.name} ({n.kind}, {n.params:,})" for n in self.not_run[:5])
        more = f" and {len(self.not_run) - 5} more" if len(self.not_run) > 5 else ""
        return (f"totals count the parameters the forward uses; {left:,} parameters are in "
                f"parts it never runs in eval mode: {names}{more}; PyTorch's sum(p.numel()) "
                f"counts them too: {self.torch_params:,}")


class _Builder:
    def __init__(self, root: Any, shapes: list[tuple[object, ...]]) -> None:
        self.root = root
        self.shapes = shapes
        self.nodes: list[Node] = []
        self.inputs: dict[int, Shape] = {}
        self.names: set[str] = set()
        self.calls: dict[int, tuple[int, int]] = {}  # id(module) -> (first node, calls)
        self.first_rows: dict[str, Any] = {}  # row name -> module, for the parameter check
        self.origin = f"<torch {type(root).__name__}>"
        self.layers = ModuleLayers()

    def fail(self, message: str, path: str, code: str) -> SpecError:
        return SpecError(message, source=self.origin, path=path, code=code)

    def build(self) -> Network:
        parents = []
        for i, given in enumerate(self.shapes):
            name = "input" if len(self.shapes) == 1 else f"input_{i}"
            head = _TorchInput(given)
            try:
                sizes = tuple(to_size(head, f"input_shape[{j}]", v) for j, v in
                              enumerate(given))
            except LayerError as err:
                raise UsageError(f"input_shape: {err.field} = {err.value}: {err.rule}",
                                 code=err.code) from None
            parents.append(self.add_node(head, name, ()))
            self.inputs[parents[-1]] = sizes
        trace = run_forward(self, self.root, parents, [self.inputs[p] for p in parents])
        if len(self.nodes) == len(self.inputs):
            raise self.fail("the module has no layers", "", "empty_network")
        net = TorchNetwork(self.nodes, self.inputs, dialect="torch",
                           name=type(self.root).__name__, hidden=sorted(self.inputs),
                           outputs=trace.result, inferred=trace.inferred)
        net.module_outputs = trace.calls
        net.folded = frozenset(trace.folded)
        net.fixed_calls = frozenset(trace.fixed_calls)
        net.not_run = tuple(_not_run(trace.modules, trace.params, trace.counted, trace.calls))
        net.torch_params = sum(int(p.numel()) for _, p in trace.params.values())
        self.check_parameters(net)
        return net

    def add_node(self, layer: Layer, name: str, parents: Sequence[int], *,
                 shares: int | None = None) -> int:
        unique, count = name, 1
        while unique in self.names:
            unique, count = f"{name}_{count}", count + 1
        self.names.add(unique)
        self.nodes.append(Node(layer, unique, tuple(parents), shares=shares))
        return len(self.nodes) - 1

    def refusal(self, module: Any, qualname: str) -> str:
        kind = type(module)
        shown = f"module {qualname or '(root)'!r} ({kind.__module__}.{kind.__name__})"
        if kind.__name__.startswith("Lazy"):
            return (f"{shown} is refused: a lazy module has no sizes until it has run once; "
                    "call the model on an example input first")
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch.nn.utils.parametrize as parametrize

        if parametrize.is_parametrized(module):
            return (f"{shown} is refused: its weights are parametrized (weight_norm, "
                    "spectral_norm, ...), which adds tensors convsym does not count")

        hint = did_you_mean(kind.__name__, [*LAYERS, *ELEMENTWISE])
        return f"{shown} is refused: it is not a torch.nn module convsym knows{hint}"

    def leaf(self, module: Any, qualname: str, parents: Sequence[int], *,
             kind: str | None = None, layer: Layer | None = None) -> int:
        """A row for a known ``torch.nn`` module (``kind`` its torch class) on one input, or
        for ``layer`` made by the trace from the module (on the layer's inputs)."""
        if len(parents) != (1 if layer is None else layer.n_inputs):
            raise self.fail(f"module {qualname!r} is called with {len(parents)} tensors; "
                            "convsym's layers take one", qualname, "wrong_input_count")
        try:
            layer = layer or self.layers.of(module, kind)
        except LayerError as err:
            raise self.fail(f"module {qualname!r} ({type(module).__name__}): {err}", qualname,
                            err.code) from None
        first, count = self.calls.get(id(module), (-1, 0))
        row = qualname or type(module).__name__
        if count:
            row = f"{row}[{count}]"
        index = self.add_node(layer, row, parents, shares=first if count else None)
        self.calls[id(module)] = (first if count else index, count + 1)
        if not count:
            self.first_rows[self.nodes[index].name] = module
        return index

    def check_parameters(self, net: Network) -> None:
        """A module's own parameter count must be what convsym counts (weight_norm, spectral
        norm and other parametrizations add tensors convsym does not model), and so must its
        trainable count (``requires_grad``), as PyTorch reports them."""
        totals: dict[int, tuple[int | None, int | None]] = {}  # by weight list: rows of one
        for row in net.rows:                                    # inference share it
            module = self.first_rows.get(row.name)
            if module is None:
                continue
            # (on the canonical counts: no SymPy on the import's path)
            weights = row.inference.weights
            if id(weights) not in totals:
                trainable = row.inference.trainable
                totals[id(weights)] = (as_int(trainable + row.inference.non_trainable),
                                       as_int(trainable))
            counted, trains = totals[id(weights)]
            if counted is None:
                continue
            params = module_parameters(module)
            actual = sum(int(p.numel()) for p in params)
            if actual != counted:
                raise self.fail(f"module {row.name!r} ({type(module).__name__}) has {actual} "
                                f"parameters but convsym counts {counted}; "
                                "parametrizations such as weight_norm are not modelled",
                                row.name, "parameter_mismatch")
            actual = sum(int(p.numel()) for p in params if p.requires_grad)
            if actual != trains:
                raise self.fail(f"module {row.name!r} ({type(module).__name__}) has {actual} "
                                f"parameters that require a gradient but convsym counts "
                                f"{trains} trainable; its weights and its parameters do not "
                                "match by name", row.name, "parameter_mismatch")


def _not_run(modules: list[tuple[str, Any]], params: dict[int, tuple[str, Any]],
             counted: set[int], calls: dict[str, Any]) -> list[NotRun]:
    """Parameters never used: whole submodules the forward never called, then loose ones
    (``modules`` and ``params`` are the trace's walk of ``named_modules`` and its parameters).
    """
    out: list[NotRun] = []
    if all(i in counted for i in params):
        return out  # every parameter used (most models): no walk of the submodules
    counted = set(counted)
    skipped: list[str] = []
    for name, module in modules:
        if not name or name in calls or any(name.startswith(s + ".") for s in skipped):
            continue
        unused = [p for p in module.parameters() if id(p) not in counted]
        if unused and not any(id(p) in counted for p in module.parameters()):
            skipped.append(name)
            out.append(NotRun(name, type(module).__name__, sum(int(p.numel()) for p in unused)))
            counted |= {id(p) for p in unused}
    for i, (name, p) in params.items():
        if i not in counted:
            out.append(NotRun(name, "Parameter", int(p.numel())))
    return out


def _is_torch_class(module: Any) -> bool:
    """True when the module's class is ``torch.nn``'s own class of that name (not a user's)."""
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    return type(module) is getattr(torch.nn, type(module).__name__, None)


__all__ = ["NotRun", "TorchNetwork", "from_torch"]
