"""Turn a :class:`~bench.ir.Net` into a real PyTorch module (a ``torch.fx.GraphModule``).

The module's ``forward`` is straight-line generated code, like a hand-written model's, so
torch.export and the ONNX exporter see an ordinary network.  It returns the probe tensor
(the last feature map whose size depends on the input) and the network output.

Only concrete strides can be built: torch modules have integer hyperparameters.
"""

from __future__ import annotations

import operator
from typing import Any

from bench.ir import Net


def build_module(net: Net, *, stride_value: int | None = None) -> Any:
    """A ``GraphModule`` computing ``(probe, output)`` of ``net`` on ``(1, C, H, W)`` inputs.

    ``stride_value`` replaces a symbolic stride (for checking a symbolic chain by execution).
    """
    import torch
    from torch import fx, nn

    def concrete(values: tuple[Any, ...]) -> tuple[int, ...]:
        out = []
        for v in values:
            if isinstance(v, str):
                if stride_value is None:
                    raise ValueError("a symbolic stride cannot be built as a torch module")
                v = stride_value
            out.append(int(v))
        return tuple(out)

    root = nn.Module()
    graph = fx.Graph()
    values: list[Any] = []
    for i, op in enumerate(net.ops):
        a = op.args
        ins = [values[j] for j in op.inputs]
        target = f"m{i}"
        if op.kind == "input":
            values.append(graph.placeholder("x"))
            continue
        if op.kind == "conv":
            mod = nn.Conv2d(a["cin"], a["cout"], a["kernel"], concrete(a["stride"]),
                            padding=tuple(p[0] for p in a["pads"]), dilation=a["dilation"],
                            groups=a["groups"], bias=a["bias"])
            if any(p[0] != p[1] for p in a["pads"]):
                raise ValueError("asymmetric convolution padding")
            root.add_module(target, mod)
            v = graph.call_module(target, (ins[0],))
            if a.get("relu"):
                v = graph.call_function(torch.relu, (v,))
        elif op.kind in ("maxpool", "avgpool"):
            pads = tuple(p[0] for p in a["pads"])
            if op.kind == "maxpool":
                mod = nn.MaxPool2d(a["kernel"], concrete(a["stride"]), pads, a["dilation"])
            else:
                mod = nn.AvgPool2d(a["kernel"], concrete(a["stride"]), pads)
            root.add_module(target, mod)
            v = graph.call_module(target, (ins[0],))
        elif op.kind == "convT":
            mod = nn.ConvTranspose2d(a["cin"], a["cout"], a["kernel"], concrete(a["stride"]),
                                     padding=a["pads"], output_padding=a["out_pad"],
                                     groups=a["groups"], bias=a["bias"], dilation=a["dilation"])
            root.add_module(target, mod)
            v = graph.call_module(target, (ins[0],))
        elif op.kind == "bn":
            root.add_module(target, nn.BatchNorm2d(a["c"]))
            v = graph.call_module(target, (ins[0],))
        elif op.kind == "act":
            fn = {"ReLU6": nn.functional.relu6, "Tanh": torch.tanh,
                  "Sigmoid": torch.sigmoid}.get(a["fn"], torch.relu)
            v = ins[0] if a["fn"] in ("Dropout", "Identity") else \
                graph.call_function(fn, (ins[0],))
        elif op.kind == "add":
            v = ins[0]
            for other in ins[1:]:
                v = graph.call_function(operator.add, (v, other))
        elif op.kind == "concat":
            v = graph.call_function(torch.cat, (tuple(ins), 1))
        elif op.kind == "crop":
            (t, b), (left, r) = a["crop"]
            index = (slice(None), slice(None), slice(t, -b if b else None),
                     slice(left, -r if r else None))
            v = graph.call_function(operator.getitem, (ins[0], index))
        elif op.kind == "adaptive_avg":
            root.add_module(target, nn.AdaptiveAvgPool2d(a["size"]))
            v = graph.call_module(target, (ins[0],))
        elif op.kind == "flatten":
            v = graph.call_function(torch.flatten, (ins[0], 1))
        elif op.kind == "linear":
            root.add_module(target, nn.Linear(a["cin"], a["cout"], bias=a["bias"]))
            v = graph.call_module(target, (ins[0],))
        else:
            raise ValueError(f"unknown op {op.kind}")
        values.append(v)
    graph.output((values[net.probe], values[net.output]))
    module = fx.GraphModule(root, graph, class_name=f"Bench_{net.name}")
    module.eval()
    return module


def param_count(module: Any) -> int:
    """The number of parameters (not buffers), as PyTorch counts them."""
    return sum(p.numel() for p in module.parameters())


def run_sizes(module: Any, channels: int, sizes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Execute the module on zeros of each (H, W); the probe's (H, W) for each."""
    import torch

    out = []
    with torch.no_grad():
        for h, w in sizes:
            probe, _ = module(torch.zeros(1, channels, h, w))
            out.append((int(probe.shape[2]), int(probe.shape[3])))
    return out
