"""The tracer's handlers of functional layers with weights (``F.conv2d``, ``F.linear``, the
norms) and the accounting of their parameters: the layer's own weights, or a weight computed
in ``forward`` from parameters (followed back through autograd's record), counted once.

>>> import pytest
>>> torch = pytest.importorskip("torch")
>>> from convsym.importers.torch_module import from_torch
>>> class Strided(torch.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.weight = torch.nn.Parameter(torch.randn(16, 8, 3, 3))
...     def forward(self, x):
...         return torch.nn.functional.conv2d(x, self.weight, stride=2)
>>> net = from_torch(Strided(), (8, "H", "W"))
>>> [(r.name, r.output_shape) for r in net.rows], net.total_params
([('conv2d', (16, floor(H/2 - 1/2), floor(W/2 - 1/2)))], 1152)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from convsym.importers.common import applied
from convsym.importers.torch_args import _build, as_tuple, parameter_of
from convsym.importers.torch_frames import model_frame
from convsym.intdiv import to_sympy
from convsym.layers import torch as T
from convsym.layers.base import Layer
from convsym.layers.torch import GroupNorm, LayerNorm, Linear, RMSNorm

if TYPE_CHECKING:
    from convsym.importers.torch_trace import Trace


CONVS = {"conv1d": "Conv1d", "conv2d": "Conv2d", "conv3d": "Conv3d"}


NORMS = frozenset({"layer_norm", "batch_norm", "group_norm", "instance_norm", "rms_norm"})


def _data_ptr(t: Any) -> int:
    """Where ``t``'s storage starts (0 when it has none: a meta tensor)."""
    try:
        return int(t.untyped_storage().data_ptr())
    except (RuntimeError, NotImplementedError):  # no storage (a meta or sparse tensor)
        return 0


def _shares_storage(t: Any, module: Any) -> bool:
    """True when ``t`` views a parameter of ``module`` (``w.detach()``, ``w.data``)."""
    try:
        ptr = t.untyped_storage().data_ptr()
        return any(p.untyped_storage().data_ptr() == ptr for p in module.parameters())
    except (RuntimeError, NotImplementedError):  # no storage (a meta or sparse tensor)
        return False


def _given(names: tuple[str, ...], args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """A functional call's arguments after its input, by name (``F.batch_norm(x, mean, ...)``)."""
    given = dict(zip(names, args[1:]))
    given.update(kwargs)
    return given


class _Counted(NamedTuple):
    """What a functional layer's weights hold (:meth:`Trace.weights`): ``counted``
    parameters instead of the layer's own weights (a weight computed in forward), or None
    (its own weights); ``frozen`` of the parameters do not require a gradient, and
    ``names`` are the layer's own weights that are such parameters."""

    counted: int | None
    frozen: int
    names: tuple[str, ...]


def _counting(layer: Layer | str, counted: _Counted) -> Layer | str:
    """``layer`` holding what ``counted`` says (see :meth:`Trace.weights`), or as it is (or
    the refusal text)."""
    if isinstance(layer, str) or (counted.counted is None and not counted.names):
        return layer
    if counted.counted is not None:
        return applied(layer, counted=counted.counted, counted_frozen=counted.frozen)
    return applied(layer, frozen_weights=counted.names)


_MAX_GRAPH = 10_000
"""Steps of autograd's record followed back from a weight computed in forward."""


class WeightOps:
    """The handlers of functional layers with weights (mixed into :class:`~convsym.importers.
    torch_trace.Trace`)."""

    def weights(self: Trace, tensors: Sequence[Any], what: str, *, computed: bool = False
                ) -> _Counted:
        """Parameters that a functional layer counts itself: each must be read here first.

        ``tensors`` are the layer's ``weight`` and ``bias`` (or None), in that order: a
        parameter passed as it is counts as the layer's weight of that name, frozen when it
        does not require a gradient.  With ``computed`` (a convolution or linear map), a weight
        that is not a parameter is accepted: one computed in forward from buffers (timm's
        ``BlurPool2d``) or from parameters (``StdConv2d`` standardises its weight,
        ``ScaledStdConv2d`` also scales it by a gain).  The parameters it was computed from
        are read off autograd's record of the computation (the trace runs with gradients on,
        see :func:`run_forward`); the row then holds those no row has counted yet and the
        parameters passed as they are (the bias): :attr:`_Counted.counted`.
        """
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        plain = True
        total = frozen = 0
        names: list[str] = []
        for name, t in zip(("weight", "bias"), tensors):
            if t is None:
                continue
            if not isinstance(t, torch.nn.Parameter):
                if computed and isinstance(t, torch.Tensor) and not self.is_tensor(t):
                    plain = False
                    found = self.computed_from(t, what)
                    total += sum(int(p.numel()) for p in found)
                    frozen += sum(int(p.numel()) for p in found if id(p) in self.frozen)
                    continue
                raise self.fail(f"{what} with a weight that is not a parameter of the model "
                                "(computed in forward); convsym cannot count it")
            if id(t) in self.counted:
                raise self.fail(f"{what} with a parameter already used elsewhere")
            self.counted.add(id(t))
            total += int(t.numel())
            if id(t) in self.frozen:
                frozen += int(t.numel())
                names.append(name)
        return _Counted(None if plain else total, frozen, tuple(names))

    def computed_from(self: Trace, t: Any, what: str) -> list[Any]:
        """The parameters (not counted yet) a weight computed in forward was made from.

        Only the running module's own parameters may be its sources (another module's
        could be counted again when that module runs); and when autograd recorded nothing
        (``torch.inference_mode``; ``detach`` or ``.data`` of a parameter) which parameters
        the weight uses is unknown: both are refused rather than counted wrongly.  A source
        autograd cannot see (a weight computed under ``torch.no_grad``, from ``w.detach()``)
        leaves its parameter uncounted: the module is remembered, and if parameters of its
        own remain uncounted when the forward ends, :meth:`check_computed` refuses.
        """
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        module = self.stack[-1][1] if self.stack else self.b.root
        # its own parameters or its submodules' (torchvision's Swin V2 passes
        # self.qkv.bias.clone() to F.linear): a submodule that runs later as a row of its own
        # is refused there (shared_parameter), so nothing is counted twice
        own = {id(p) for p in module.parameters()}
        found = self.sources(t, what)
        if any(id(p) not in own for p in found):
            raise self.fail(f"{what} with a weight computed from parameters of another "
                            "module; convsym counts a computed weight's parameters only "
                            "from the module computing it or its submodules")
        if not found and (torch.is_inference_mode_enabled() or _shares_storage(t, module)):
            raise self.fail(f"{what} with a weight computed in forward whose parameters "
                            "autograd did not record (inference_mode, no_grad, detach or "
                            "integer parameters); convsym cannot count them")
        self.remember_computing()
        out = []
        for p in found:
            if id(p) not in self.counted:
                self.counted.add(id(p))
                out.append(p)
        return out

    def remember_computing(self: Trace) -> None:
        """Note that the running module computes a tensor from parameters autograd may not
        have seen whole (:meth:`check_computed`)."""
        module = self.stack[-1][1] if self.stack else self.b.root
        if id(module) not in self.computing:
            self.computing[id(module)] = (self.scope()[0], module, model_frame())

    def operand_params(self: Trace, value: Any) -> list[Any]:
        """The parameters a tensor met in arithmetic is made of: the parameter it is or
        views; none for a buffer; autograd's record for one computed in forward (``x *
        torch.sigmoid(self.gate)``); the parameter whose storage it shares (``w.detach()``,
        ``w.data``).  A computed tensor also makes its module remembered: a source autograd
        missed (``torch.no_grad``) would leave a parameter uncounted."""
        owner = parameter_of(value)
        if owner is not None:
            return [owner]
        base = value
        while getattr(base, "_base", None) is not None:
            base = base._base
        if id(base) in self.buffers:
            return []
        found = self.sources(value, "arithmetic") if value.grad_fn is not None else []
        if not found:
            shared = self.storage_parameter(value)
            found = [shared] if shared is not None else []
        self.remember_computing()
        return found

    def storage_parameter(self: Trace, value: Any) -> Any:
        """The parameter whose storage ``value`` shares, else None."""
        storages = self.storages
        if storages is None:
            storages = {}
            for _, p in self.params.values():
                ptr = _data_ptr(p)
                if ptr:
                    storages.setdefault(ptr, p)
            self.storages = storages
        ptr = _data_ptr(value)
        return storages.get(ptr) if ptr else None

    def check_computed(self: Trace) -> None:
        """Refuse when a module that computed a weight in forward still has parameters no
        row counted: autograd records nothing under ``torch.no_grad`` (or from
        ``w.detach()``, ``w.data``), so the weight may well use them, and convsym would
        otherwise report them as never run."""
        for qual, module, frames in self.computing.values():
            left = [n for n, p in module.named_parameters() if id(p) not in self.counted]
            if left:
                shown = ", ".join(left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3
                                               else "")
                self.stack.append((qual, module))
                raise self.fail(
                    f"a tensor computed in forward here (a weight or an operand), while the "
                    f"module's parameters {shown} are used nowhere autograd or convsym can "
                    "see (computed under torch.no_grad, from w.detach() or w.data?); convsym "
                    "cannot tell whether the tensor is made of them", "unattributed_parameters",
                    frames)

    def sources(self: Trace, t: Any, what: str) -> list[Any]:
        """The parameters a tensor computed in forward was computed from (autograd's leaves)."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        found: list[Any] = []
        todo = [t.grad_fn]
        seen: set[int] = set()
        while todo:
            fn = todo.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            if len(seen) > _MAX_GRAPH:
                raise self.fail(f"{what} with a weight computed in more than {_MAX_GRAPH} "
                                "steps; convsym stops following it", "budget_exceeded")
            leaf = getattr(fn, "variable", None)
            if isinstance(leaf, torch.nn.Parameter):
                found.append(leaf)
            todo.extend(f for f, _ in fn.next_functions)
        return found

    def op_layer_norm(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("normalized_shape", "weight", "bias", "eps")
        given = _given(names, args, kwargs)
        weight, bias = given.get("weight"), given.get("bias")
        shape = self.normalized(name, args[0], given["normalized_shape"])
        counted = self.weights([weight, bias], name)
        if weight is None and bias is not None:
            raise self.fail("layer_norm with a bias but no weight")
        layer = LayerNorm(shape, given.get("eps", 1e-5), weight is not None, bias is not None)
        return self.add(_counting(layer, counted), "layer_norm", [args[0]])

    def normalized(self: Trace, name: str, x: Any, shape: Any) -> tuple[Any, ...]:
        """A norm's ``normalized_shape`` as layer fields; over every axis of a tensor whose
        batch axis holds folded windows, refused."""
        sizes = tuple(self.size_value(s) for s in (shape if isinstance(shape, (list, tuple))
                                                    else (shape,)))
        if x._cs_folded and len(sizes) >= self.rank(x):
            raise self.fail(f"{name} over {len(sizes)} axes of a tensor whose batch axis "
                            "holds windows folded in (it would normalise across them)",
                            "batch_size")
        return sizes

    def op_rms_norm(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``F.rms_norm(x, normalized_shape, weight, eps)`` (timm's ``RmsNorm``): a row of
        :class:`RMSNorm` counting ``weight``."""
        given = _given(("normalized_shape", "weight", "eps"), args, kwargs)
        shape = self.normalized(name, args[0], given["normalized_shape"])
        weight = given.get("weight")
        counted = self.weights([weight, None], name)
        layer = _build(lambda: RMSNorm(shape, given.get("eps"), weight is not None))
        return self.add(_counting(layer, counted), "rms_norm", [args[0]])

    def affine(self: Trace, norm: str, given: dict[str, Any], name: str
               ) -> tuple[Any, _Counted]:
        """A batch or group norm's ``weight`` (with ``bias``: both or neither, as its layer
        has them) and what the two hold (:meth:`weights`)."""
        weight, bias = given.get("weight"), given.get("bias")
        if (weight is None) != (bias is None):
            raise self.fail(f"{norm} with only one of weight and bias")
        return weight, self.weights([weight, bias], name)

    def op_batch_norm(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")
        given = _given(names, args, kwargs)
        weight, counted = self.affine("batch_norm", given, name)
        x = args[0]
        rank = self.rank(x)
        channels = self.shapes[x._cs_index][0]
        cls: Any = T.LAYERS[f"BatchNorm{max(rank - 2, 1)}d"]
        layer = _build(lambda: cls(to_sympy(channels), affine=weight is not None,
                                   track_running_stats=given.get("running_mean") is not None))
        return self.add(_counting(layer, counted), "batch_norm", [x])

    def op_group_norm(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("num_groups", "weight", "bias", "eps")
        given = _given(names, args, kwargs)
        weight, counted = self.affine("group_norm", given, name)
        x = args[0]
        channels = self.shapes[x._cs_index][0]
        layer = _build(lambda: GroupNorm(given["num_groups"], to_sympy(channels),
                                         given.get("eps", 1e-5), weight is not None))
        return self.add(_counting(layer, counted), "group_norm", [x])

    def conv(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("weight", "bias", "stride", "padding", "dilation", "groups")
        given = _given(names, args, kwargs)
        weight, bias = given["weight"], given.get("bias")
        counted = self.weights([weight, bias], name, computed=True)
        groups = given.get("groups", 1)
        w = tuple(int(s) for s in weight.shape)
        padding = given.get("padding", 0)
        if isinstance(padding, list):
            padding = tuple(padding)
        cls: Any = T.LAYERS[CONVS[name]]
        layer = _build(lambda: cls(w[1] * groups, w[0], w[2:], as_tuple(given.get("stride", 1)),
                                   padding, as_tuple(given.get("dilation", 1)), groups,
                                   bias is not None))
        return self.add(_counting(layer, counted), name, [args[0]])

    op_conv1d = op_conv2d = op_conv3d = conv

    def op_linear(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        weight = self._dim(args, kwargs, 1, None, "weight")
        bias = self._dim(args, kwargs, 2, None, "bias")
        counted = self.weights([weight, bias], name, computed=True)
        layer = _build(lambda: Linear(int(weight.shape[1]), int(weight.shape[0]),
                                      bias is not None))
        return self.add(_counting(layer, counted), "linear", [args[0]])
