"""Small random networks for the soundness campaign, and an independent brute-force evaluator.

A network spec is plain data: a dialect (``keras`` or ``torch``), a spatial rank (1 or 2),
the input channels and a list of operations, each reading earlier nodes (node 0 is the
input; the last operation is the output):

* ``pool``: max/avg pooling, kernel and stride per axis; Keras ``valid``/``same`` (stride
  None means the pool size), PyTorch explicit padding and ``ceil_mode``;
* ``conv``: convolution with 1..3 filters, Keras ``valid``/``same``, PyTorch padding;
* ``up`` (nearest upsampling by an integer factor), ``pad`` (zero padding) and ``global``
  (global pooling keeping the axes as 1: Keras ``keepdims=True``, PyTorch adaptive pooling
  to 1, as squeeze-and-excitation blocks do);
* merges: ``add``, ``mul``, ``sub``, ``div`` (torch), ``max``/``min``/``avg`` (Keras) and
  ``cat`` (concatenate channels).

:func:`brute` propagates concrete integer shapes with the frameworks' rules, written here
from their documentation and measured behaviour, sharing nothing with convsym: element-wise
merges broadcast every axis whose size is 1 (shapes of one rank, aligned), concatenation
needs equal spatial sizes.  :func:`build_convsym`, :func:`run_torch` and :func:`run_keras`
build the same spec for convsym and run it in real PyTorch / Keras.

Run ``python tests/soundness/netkit.py 500`` for a hunt with counts (see docs/broadcasting.md).
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from typing import Any

Spec = dict[str, Any]
Shape = tuple[int, ...]  # channels first: (C, n) or (C, H, W), whatever the dialect

MERGES = {"keras": ("add", "mul", "sub", "max", "min", "avg", "cat"),
          "torch": ("add", "mul", "sub", "div", "cat")}


# --- generation ----------------------------------------------------------------------------


def random_spec(rng: random.Random, *, dialect: str | None = None, rank: int | None = None,
                max_ops: int = 5) -> Spec:
    """A random spec; merges read two or three earlier nodes."""
    dialect = dialect or rng.choice(["keras", "torch"])
    rank = rank or rng.choice([1, 2])
    ops: list[dict[str, Any]] = []
    for i in range(rng.randint(1, max_ops)):
        nodes = i + 1  # the input and the operations so far
        roll = rng.random()
        if roll < 0.4 and nodes >= 2 or (i == max_ops - 1 and nodes >= 2):
            kind = rng.choice(MERGES[dialect])
            count = 2 if kind in ("sub", "div") else rng.choice([2, 2, 3])
            srcs = [rng.randrange(nodes) for _ in range(count)]
            ops.append({"op": kind, "srcs": srcs})
            continue
        src = rng.randrange(nodes) if rng.random() < 0.5 else nodes - 1
        ops.append(_layer_op(rng, dialect, rank, src))
    spec = {"dialect": dialect, "rank": rank, "channels": rng.choice([1, 2, 3]), "ops": ops}
    dangling = sorted(set(range(1, len(ops))) - ancestors(spec))
    if dangling:  # every operation feeds the output (frameworks run them all)
        kind = rng.choice([k for k in MERGES[dialect] if k not in ("sub", "div")])
        ops.append({"op": kind, "srcs": [len(ops), *dangling]})
    return spec


def _layer_op(rng: random.Random, dialect: str, rank: int, src: int) -> dict[str, Any]:
    kind = rng.choices(["pool", "conv", "up", "pad", "global"], [5, 3, 1, 1, 1])[0]
    if kind == "global":
        return {"op": "global", "src": src, "kind": rng.choice(["max", "avg"])}
    if kind == "up":
        return {"op": "up", "src": src, "f": tuple(rng.choice([2, 3]) for _ in range(rank))}
    if kind == "pad":
        return {"op": "pad", "src": src, "p": tuple(rng.randint(1, 2) for _ in range(rank))}
    k = tuple(rng.randint(1, 5) for _ in range(rank))
    op: dict[str, Any] = {"op": kind, "src": src, "k": k}
    if kind == "pool":
        op["kind"] = rng.choice(["max", "avg"])
    else:
        op["filters"] = rng.choice([1, 2, 3])
    if dialect == "keras":
        if kind == "pool" and rng.random() < 0.3:
            op["s"] = None  # strides=None: the pool size
        else:
            op["s"] = tuple(rng.randint(1, 3) for _ in range(rank))
        op["pad"] = rng.choice(["valid", "same"])
    else:
        op["s"] = tuple(rng.randint(1, 3) for _ in range(rank))
        op["pad"] = tuple(rng.randint(0, kk // 2) if kind == "pool" else rng.randint(0, 2)
                          for kk in k)
        if kind == "pool":
            op["ceil"] = rng.random() < 0.4
    return op


def ancestors(spec: Spec) -> set[int]:
    """Nodes the output depends on (node 0 is the input, node i + 1 is ops[i])."""
    ops = spec["ops"]
    seen: set[int] = set()
    todo = [len(ops)]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if node:
            op = ops[node - 1]
            todo.extend(op["srcs"] if "srcs" in op else [op["src"]])
    return seen


def channels(spec: Spec) -> list[int]:
    """Each node's channel count (independent of the spatial sizes; a bad merge keeps max)."""
    out = [spec["channels"]]
    for op in spec["ops"]:
        if "srcs" in op:
            cs = [out[s] for s in op["srcs"]]
            out.append(sum(cs) if op["op"] == "cat" else max(cs))
        else:
            out.append(op.get("filters", out[op["src"]]))
    return out


# --- the brute-force evaluator ----------------------------------------------------------------


def brute(spec: Spec, sizes: Shape) -> list[Shape] | None:
    """Every node's shape (channels first) at concrete spatial ``sizes``, None if the network
    rejects them."""
    shapes: list[Shape] = [(spec["channels"], *sizes)]
    for op in spec["ops"]:
        shape = _node(spec["dialect"], op, shapes)
        if shape is None:
            return None
        shapes.append(shape)
    return shapes


def _node(dialect: str, op: dict[str, Any], shapes: list[Shape]) -> Shape | None:
    if "srcs" in op:
        return _merge(op["op"], [shapes[s] for s in op["srcs"]])
    x = shapes[op["src"]]
    c, spatial = x[0], x[1:]
    out = []
    for axis, n in enumerate(spatial):
        size = _axis(dialect, op, axis, n)
        if size is None or size < 1:
            return None
        out.append(size)
    return (op.get("filters", c), *out)


def _axis(dialect: str, op: dict[str, Any], axis: int, n: int) -> int | None:
    kind = op["op"]
    if kind == "global":
        return 1
    if kind == "up":
        return n * op["f"][axis]
    if kind == "pad":
        return n + 2 * op["p"][axis]
    k = op["k"][axis]
    s = k if op["s"] is None else op["s"][axis]
    if dialect == "keras":
        if op["pad"] == "same":
            return -(-n // s)
        return (n - k) // s + 1 if n >= k else None
    p = op["pad"][axis]
    if kind == "conv":
        return (n + 2 * p - k) // s + 1 if n + 2 * p >= k else None
    if not op["ceil"]:
        return (n + 2 * p - k) // s + 1
    o = -(-(n + 2 * p - k) // s) + 1
    if (o - 1) * s >= n + p:  # the last window may not start in the right padding
        o -= 1
    return o


def _merge(kind: str, ins: list[Shape]) -> Shape | None:
    if kind == "cat":
        if len({x[1:] for x in ins}) != 1:
            return None
        return (sum(x[0] for x in ins), *ins[0][1:])
    out = []
    for sizes in zip(*ins):  # one rank everywhere: aligned axis by axis
        big = set(sizes) - {1}
        if len(big) > 1:
            return None
        out.append(big.pop() if big else 1)
    return tuple(out)


# --- convsym ---------------------------------------------------------------------------------


@dataclass
class Built:
    """A spec built in convsym: the network and each node's tensor (None where not built)."""

    net: Any
    tensors: list[Any] = field(default_factory=list)


SYMBOLS = {1: ("n",), 2: ("H", "W")}


def build_convsym(spec: Spec, sizes: tuple[object, ...] | None = None) -> Built:
    """The spec as a convsym network, symbolic (``n`` / ``H, W``) unless ``sizes`` given."""
    from convsym.graph import Graph, Model
    from convsym.layers import keras as K
    from convsym.layers import torch as T

    rank, dialect = spec["rank"], spec["dialect"]
    spatial = sizes if sizes is not None else SYMBOLS[rank]
    chans = channels(spec)
    if dialect == "keras":
        x = K.Input((*spatial, spec["channels"]))
        tensors = [x]
        for op in spec["ops"]:
            tensors.append(_keras_layer(K, rank, op)(
                [tensors[s] for s in op["srcs"]] if "srcs" in op else tensors[op["src"]]))
        return Built(Model(inputs=x, outputs=tensors[-1]), tensors)
    g = Graph(input_shape=(spec["channels"], *spatial))
    tensors = [g.input]
    for op in spec["ops"]:
        layer = _torch_layer(T, rank, op, chans[op["src"]] if "src" in op else 0)
        srcs = op["srcs"] if "srcs" in op else [op["src"]]
        tensors.append(g.add(layer, *(tensors[s] for s in srcs)))
    return Built(g.build(tensors[-1]), tensors)


def _keras_layer(K: Any, rank: int, op: dict[str, Any]) -> Any:
    d = f"{rank}D"
    kind = op["op"]
    merges = {"add": "Add", "mul": "Multiply", "sub": "Subtract", "max": "Maximum",
              "min": "Minimum", "avg": "Average", "cat": "Concatenate"}
    if kind in merges:
        return getattr(K, merges[kind])()
    if kind == "global":
        cls = getattr(K, f"Global{'Max' if op['kind'] == 'max' else 'Average'}Pooling{d}")
        return cls(keepdims=True)
    if kind == "up":
        return getattr(K, f"UpSampling{d}")(_arg(op["f"]))
    if kind == "pad":
        return getattr(K, f"ZeroPadding{d}")(_arg(op["p"]))
    s = None if op["s"] is None else _arg(op["s"])
    if kind == "pool":
        cls = getattr(K, f"{'Max' if op['kind'] == 'max' else 'Average'}Pooling{d}")
        return cls(_arg(op["k"]), strides=s, padding=op["pad"])
    return getattr(K, f"Conv{d}")(op["filters"], _arg(op["k"]), strides=s, padding=op["pad"])


def _torch_layer(T: Any, rank: int, op: dict[str, Any], cin: int) -> Any:
    kind = op["op"]
    merges = {"add": "Add", "mul": "Multiply", "sub": "Subtract", "div": "Divide"}
    if kind in merges:
        return getattr(T, merges[kind])()
    if kind == "cat":
        return T.Concat(dim=1)
    return torch_module(T, rank, op, cin)


def torch_module(nn: Any, rank: int, op: dict[str, Any], cin: int) -> Any:
    """The module of a pool/conv/up/pad operation from ``nn``: ``torch.nn`` or convsym's
    torch layers (which have torch's names and arguments)."""
    d = f"{rank}d"
    kind = op["op"]
    if kind == "global":
        return getattr(nn, f"Adaptive{'Max' if op['kind'] == 'max' else 'Avg'}Pool{d}")(1)
    if kind == "up":
        return nn.Upsample(scale_factor=_arg(op["f"]))  # torch's default mode is nearest
    if kind == "pad":
        p = op["p"]
        return getattr(nn, f"ZeroPad{d}")(p[0] if rank == 1 else (p[1], p[1], p[0], p[0]))
    if kind == "pool":
        cls = getattr(nn, f"{'Max' if op['kind'] == 'max' else 'Avg'}Pool{d}")
        return cls(_arg(op["k"]), stride=_arg(op["s"]), padding=_arg(op["pad"]),
                   ceil_mode=op["ceil"])
    return getattr(nn, f"Conv{d}")(cin, op["filters"], _arg(op["k"]), stride=_arg(op["s"]),
                                   padding=_arg(op["pad"]))


def _arg(values: tuple[int, ...]) -> Any:
    return values[0] if len(values) == 1 else values


def layout(spec: Spec, shape: Shape) -> Shape:
    """A channels-first shape in the dialect's layout (Keras puts channels last)."""
    return (*shape[1:], shape[0]) if spec["dialect"] == "keras" else shape


# --- real frameworks -------------------------------------------------------------------------


def run_torch(spec: Spec, sizes: Shape) -> Shape | None:
    """The output shape (channels first, no batch) of a real PyTorch run, None if it raises."""
    import torch

    rank = spec["rank"]
    chans = channels(spec)
    values: list[Any] = [torch.zeros(2, spec["channels"], *sizes)]
    try:
        for op in spec["ops"]:
            kind = op["op"]
            if "srcs" in op:
                ins = [values[s] for s in op["srcs"]]
                if kind == "cat":
                    values.append(torch.cat(ins, dim=1))
                    continue
                out = ins[0]
                for other in ins[1:]:
                    out = {"add": torch.add, "mul": torch.mul, "sub": torch.sub,
                           "div": torch.div}[kind](out, other)
                values.append(out)
                continue
            x = values[op["src"]]
            values.append(torch_module(torch.nn, rank, op, chans[op["src"]])(x))
    except RuntimeError:
        return None
    return tuple(values[-1].shape[1:])


def run_keras(spec: Spec, sizes: Shape) -> Shape | None:
    """The output shape (channels first) of a real Keras model built and run at ``sizes``,
    None if building or running it raises."""
    import keras
    import numpy as np

    rank = spec["rank"]
    try:
        x = keras.Input((*sizes, spec["channels"]))
        tensors = [x]
        for op in spec["ops"]:
            layer = _keras_layer(keras.layers, rank, op)
            tensors.append(layer([tensors[s] for s in op["srcs"]] if "srcs" in op
                                 else tensors[op["src"]]))
        model = keras.Model(x, tensors[-1])
        out = model(np.zeros((2, *sizes, spec["channels"]), dtype="float32"))
    except ValueError:
        return None
    shape = tuple(int(v) for v in out.shape[1:])
    return (shape[-1], *shape[:-1])


# --- a hunt ----------------------------------------------------------------------------------


def points(rank: int, limit: int) -> list[Shape]:
    """Every size up to ``limit`` (1-D) or every pair up to ``limit`` (2-D)."""
    if rank == 1:
        return [(n,) for n in range(1, limit + 1)]
    return [(h, w) for h in range(1, limit + 1) for w in range(1, limit + 1)]


@dataclass
class Tally:
    """What a campaign checked and what it found wrong."""

    networks: int = 0
    rejected: int = 0
    shapes: int = 0
    accepts: int = 0
    sets: int = 0
    unknown: int = 0
    wrong: list[str] = field(default_factory=list)
    wrong_networks: int = 0

    def line(self) -> str:
        """One line of counts."""
        return (f"{self.networks} networks ({self.rejected} rejected as never valid), "
                f"{self.shapes} node shapes, {self.accepts} accepts() answers, "
                f"{self.sets} exact admissible sets checked ({self.unknown} unknown); "
                f"{self.wrong_networks} networks with {len(self.wrong)} wrong answers")


def check(spec: Spec, tally: Tally, *, limit: int | None = None, far: int = 12,
          seed: int = 0) -> None:
    """Compare convsym with :func:`brute` on ``spec``; append what is wrong to the tally."""
    rank = spec["rank"]
    limit = limit or (60 if rank == 1 else 16)
    rng = random.Random(seed)
    box = points(rank, limit)
    extra = [tuple(rng.randint(limit + 1, 5000) for _ in range(rank)) for _ in range(far)]
    truth = {p: brute(spec, p) for p in box + extra}
    tally.networks += 1
    before = len(tally.wrong)
    try:
        _compare(spec, tally, truth)
    finally:
        tally.wrong_networks += len(tally.wrong) > before


def _compare(spec: Spec, tally: Tally, truth: dict[Shape, list[Shape] | None]) -> None:
    from convsym.errors import LayerError
    from convsym.expr import symbol
    from convsym.intdiv import evaluate

    rank = spec["rank"]
    syms = [symbol(s) for s in SYMBOLS[rank]]
    try:
        built = build_convsym(spec)
    except LayerError as err:
        tally.rejected += 1
        valid = [p for p, v in truth.items() if v is not None]
        if valid:
            tally.wrong.append(f"{spec}: rejected ({err.code}: {err}) but valid at {valid[0]}")
        return
    net = built.net
    names = [s.name for s in syms]
    for p, shapes in truth.items():
        env = dict(zip(syms, p))
        said = net.accepts(**dict(zip(names, p)))
        tally.accepts += 1
        if said != (shapes is not None):
            tally.wrong.append(f"{spec}: accepts{p} = {said}, truth {shapes is not None}")
            continue
        if shapes is None:
            continue
        for node in range(1, len(shapes)):  # node 0 is the input itself
            got = tuple(evaluate(q, env) for q in built.tensors[node].inference().shape)
            tally.shapes += 1
            want = layout(spec, shapes[node])
            if got != want:
                tally.wrong.append(f"{spec}: node {node} at {p}: convsym {got}, truth {want}")
    found = net.admissible_inputs()
    if not found.exact:
        tally.unknown += 1
        return
    tally.sets += 1
    for p, shapes in truth.items():
        inside = dict(zip(names, p)) in found
        if inside != (shapes is not None):
            tally.wrong.append(f"{spec}: {p} in admissible_inputs = {inside}, truth "
                               f"{shapes is not None}")
            break


def boundary_sizes(spec: Spec, limit: int, count: int, rng: random.Random) -> list[Shape]:
    """Sizes where validity changes (the interesting ones for real runs), then random ones."""
    box = points(spec["rank"], limit)
    valid = {p: brute(spec, p) is not None for p in box}
    edges = [p for p in box if any(valid.get(q, valid[p]) != valid[p] for q in _next(p))]
    rng.shuffle(edges)
    picked = edges[:count // 2]
    picked += rng.sample(box, min(len(box), count - len(picked)))
    return picked


def _next(p: Shape) -> list[Shape]:
    return [tuple(v + (1 if i == j else 0) for j, v in enumerate(p)) for i in range(len(p))]


def main(argv: list[str]) -> int:
    """``netkit.py [networks] [seed]``: a hunt; prints the counts and every wrong answer."""
    count = int(argv[0]) if argv else 200
    seed = int(argv[1]) if len(argv) > 1 else 1
    rng = random.Random(seed)
    tally = Tally()
    merged = 0
    for i in range(count):
        spec = random_spec(rng)
        merged += any(op["op"] in ("add", "mul", "sub", "div", "max", "min", "avg")
                      for op in spec["ops"])
        check(spec, tally, seed=i)
    print(tally.line(), f"; {merged} with an element-wise merge")
    for line in tally.wrong[:20]:
        print("WRONG", line)
    return 1 if tally.wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
