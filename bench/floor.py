"""The two simplest peers: plain-integer propagation and a naive SymPy layer-by-layer formula.

Both walk the same ops (:mod:`bench.ir`) in order and compute every node's (C, H, W) and the
parameter count, with the textbook formula per layer:

* convolution and pooling: ``floor((n + p_before + p_after - d(k - 1) - 1)/s) + 1``;
* transposed convolution: ``(n - 1)s - 2p + d(k - 1) + output_padding + 1``;
* cropping ``n - before - after``; merges take their first input's size; adaptive pooling
  its fixed size.

:func:`propagate_ints` does it with Python integers (the floor any tool must pay: no
symbols, one input size) and checks validity as a shape engine must (windows fit, merged
sizes agree).  :func:`propagate_sympy` does it with SymPy symbols ``H``, ``W`` (and ``s`` for a
symbolic stride) and plain ``sympy.floor``: the obvious way to get a closed form, whose
nested floors SymPy cannot simplify.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.ir import Net


class Invalid(ValueError):
    """The network rejects this input size (a window does not fit or merged sizes differ)."""


def propagate_ints(net: Net, h: int, w: int, s: int | None = None
                   ) -> tuple[list[tuple[int, int, int]], int]:
    """Every node's (C, H, W) (``(F, 0, 0)`` after flattening) and the parameter count."""
    shapes: list[tuple[int, int, int]] = []
    params = 0
    for op in net.ops:
        kind, a = op.kind, op.args
        if kind == "input":
            shapes.append((net.channels, h, w))
            continue
        c, n0, n1 = shapes[op.inputs[0]]
        if kind in ("conv", "maxpool", "avgpool"):
            out = []
            for n, k, st, d, (pb, pa) in zip((n0, n1), a["kernel"], a["stride"],
                                             a["dilation"], a["pads"]):
                room = n + pb + pa - d * (k - 1) - 1
                if room < 0:
                    raise Invalid(f"{op.name}: window larger than the padded input")
                out.append(room // (s if isinstance(st, str) else st) + 1)
            if kind == "conv":
                c_out = a["cout"]
                params += c_out * (a["cin"] // a["groups"]) * a["kernel"][0] * a["kernel"][1] \
                    + (c_out if a["bias"] else 0)
                c = c_out
            shapes.append((c, out[0], out[1]))
        elif kind == "convT":
            out = [(n - 1) * st - 2 * p + d * (k - 1) + op_ + 1
                   for n, k, st, d, p, op_ in zip((n0, n1), a["kernel"], a["stride"],
                                                  a["dilation"], a["pads"], a["out_pad"])]
            if min(out) < 1:
                raise Invalid(f"{op.name}: empty output")
            params += a["cin"] * (a["cout"] // a["groups"]) * a["kernel"][0] * a["kernel"][1] \
                + (a["cout"] if a["bias"] else 0)
            shapes.append((a["cout"], out[0], out[1]))
        elif kind == "crop":
            (t, b), (left, r) = a["crop"]
            if n0 - t - b < 1 or n1 - left - r < 1:
                raise Invalid(f"{op.name}: cropped away")
            shapes.append((c, n0 - t - b, n1 - left - r))
        elif kind in ("add", "concat"):
            others = [shapes[i] for i in op.inputs[1:]]
            if any(o[1:] != (n0, n1) for o in others):
                raise Invalid(f"{op.name}: merged sizes differ")
            if kind == "add":
                shapes.append((c, n0, n1))
            else:
                shapes.append((c + sum(o[0] for o in others), n0, n1))
        elif kind == "bn":
            params += 2 * c if net.dialect == "torch" else 4 * c
            shapes.append((c, n0, n1))
        elif kind == "act":
            shapes.append((c, n0, n1))
        elif kind == "adaptive_avg":
            shapes.append((c, a["size"][0], a["size"][1]))
        elif kind == "flatten":
            shapes.append((c * n0 * n1, 0, 0))
        elif kind == "linear":
            if c != a["cin"]:
                raise Invalid(f"{op.name}: {c} features, expected {a['cin']}")
            params += a["cin"] * a["cout"] + (a["cout"] if a["bias"] else 0)
            shapes.append((a["cout"], 0, 0))
        else:
            raise ValueError(f"unknown op {kind}")
    return shapes, params


def accepts(net: Net, h: int, w: int, s: int | None = None) -> bool:
    """True when plain-integer propagation finds the input valid."""
    try:
        propagate_ints(net, h, w, s)
    except Invalid:
        return False
    return True


def propagate_sympy(net: Net, progress: Callable[[Any], None] | None = None
                    ) -> tuple[list[tuple[Any, Any]], int]:
    """Every node's (H, W) as nested SymPy floors in symbols H, W (and s), and the params."""
    import sympy

    from convsym.expr import symbol

    H, W = symbol("H"), symbol("W")
    s_sym = symbol(net.symbolic_stride) if net.symbolic_stride else None
    sizes: list[tuple[Any, Any]] = []
    params = 0
    for i, op in enumerate(net.ops):
        if progress is not None and i % 10 == 0:
            progress({"node": i, "of": len(net.ops)})
        kind, a = op.kind, op.args
        if kind == "input":
            sizes.append((H, W))
            continue
        n0, n1 = sizes[op.inputs[0]]
        if kind in ("conv", "maxpool", "avgpool"):
            out = tuple(
                sympy.floor((n + pb + pa - d * (k - 1) - 1) / (s_sym if isinstance(st, str)
                                                               else st)) + 1
                for n, k, st, d, (pb, pa) in zip((n0, n1), a["kernel"], a["stride"],
                                                 a["dilation"], a["pads"]))
            if kind == "conv":
                params += a["cout"] * (a["cin"] // a["groups"]) * a["kernel"][0] * \
                    a["kernel"][1] + (a["cout"] if a["bias"] else 0)
            sizes.append((out[0], out[1]))
        elif kind == "convT":
            out = tuple((n - 1) * st - 2 * p + d * (k - 1) + op_ + 1
                        for n, k, st, d, p, op_ in zip((n0, n1), a["kernel"], a["stride"],
                                                       a["dilation"], a["pads"], a["out_pad"]))
            params += a["cin"] * (a["cout"] // a["groups"]) * a["kernel"][0] * a["kernel"][1] \
                + (a["cout"] if a["bias"] else 0)
            sizes.append((out[0], out[1]))
        elif kind == "crop":
            (t, b), (left, r) = a["crop"]
            sizes.append((n0 - t - b, n1 - left - r))
        elif kind == "adaptive_avg":
            sizes.append((sympy.Integer(a["size"][0]), sympy.Integer(a["size"][1])))
        elif kind in ("flatten", "linear"):
            if kind == "linear":
                params += a["cin"] * a["cout"] + (a["cout"] if a["bias"] else 0)
            sizes.append((sympy.Integer(0), sympy.Integer(0)))
        else:
            if kind == "bn":
                params += 2 * a["c"] if net.dialect == "torch" else 4 * a["c"]
            sizes.append((n0, n1))
    return sizes, params
