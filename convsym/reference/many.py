"""Many convolutions or poolings at once, each with its own sizes, in a few vectorised passes.

:func:`windows_many` computes a batch of configurations of one windowed layer, every one with
its own input size ``n``, kernel ``k``, stride ``s``, padding ``(before, after)`` and dilation
``d`` per spatial axis, on random data, and *measures* each output's size.  It is what checking
thousands of closed-form sizes per second needs: the per-configuration functions
(:func:`~convsym.reference.conv`, :func:`~convsym.reference.pool`) pay Python overhead per
call, here one pass serves a whole batch.

How a batch is computed, from first principles (no output-size formula is used):

- every configuration's padded input is laid in a shared canvas (real data, then the padding
  value: 0 for convolutions and averages, ``-inf`` for max pooling); every cell past it is
  ``NaN``, "nothing there";
- the windows are computed one axis at a time, last axis first (exact: a max or a sum over a
  box is one over its rows of one over its columns, and a kernel is contracted one axis at
  a time); for each axis, configurations with the same stride and dilation along it are
  stacked, and every candidate window (one per start inside the extended padded input, plus
  one more) reads its kernel offset ``t`` at ``j*s + t*d`` through one strided slice for
  all of them; offsets past a configuration's kernel count as nothing;
- a window that reads a ``NaN`` cell gives ``NaN``; the output is the block of finite
  windows, and its size along each axis is counted.  The block must be a rectangle starting
  at the origin and the extra candidate must be ``NaN`` (else ``ShapeError``, code
  ``ragged_output``: the enumeration would not have shown the end).

Ceil-mode pooling (PyTorch, ONNX) extends the padded input by ``s - 1`` neutral cells
(``-inf`` for max, ``0`` and not counted for averages): windows go on until one covers the last
padded cell; a window that starts in the right padding is dropped (pytorch issue 57178).
Averages divide by the window's cells inside the padded input (``count_include_pad``).
A configuration without a single window (the kernel longer than the padded input) has no
finite output: it measures 0 on every axis, where the per-configuration functions raise.
Convolutions use a random kernel per configuration.  Each configuration's values equal
:func:`~convsym.reference.conv` / :func:`~convsym.reference.pool` on the same data (tested).

Stacks hold at most about ``chunk_elements`` cells (configurations of similar size
together); a configuration whose arrays alone exceed the ``verify_elements`` budget is
refused (``budget_exceeded``), before any work.

>>> import numpy as np
>>> n, k, s, d = (np.array([[7], [5]]), np.array([[3], [2]]), np.array([[2], [1]]),
...               np.array([[1], [2]]))
>>> pads = np.array([[[1, 1]], [[0, 0]]])
>>> windows_many("conv", n, k, s, pads, d).sizes.tolist()
[[4], [3]]
>>> windows_many("max", n, k, s, pads, d, ceil_mode=True).sizes.tolist()
[[4], [3]]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convsym.budget import current as current_budgets
from convsym.budget import exceeded
from convsym.errors import LayerConfigError, ShapeError

__all__ = ["Many", "windows_many"]

Array = NDArray[Any]
OPS = ("conv", "max", "avg")


@dataclass
class Many:
    """What :func:`windows_many` computed: measured sizes, and with ``keep`` the arrays."""

    sizes: Array
    """``(B, rank)`` int64: each configuration's output size per spatial axis, as measured."""
    inputs: list[Array] = field(default_factory=list)
    """With ``keep``: configuration ``b``'s input, ``(1, *n)`` (one channel, no padding)."""
    weights: list[Array] = field(default_factory=list)
    """With ``keep`` and ``conv``: its kernel, PyTorch layout ``(1, 1, *k)``."""
    outputs: list[Array] = field(default_factory=list)
    """With ``keep``: its output ``(1, *sizes[b])``."""


def windows_many(op: str, n: Array, k: Array, s: Array, pads: Array, d: Array, *,
                 ceil_mode: bool = False, seed: int = 0, keep: bool = False,
                 chunk_elements: int = 1 << 20,
                 check: Callable[[], None] | None = None) -> Many:
    """Compute ``op`` (``conv``, ``max``, ``avg``) for every configuration; measure sizes.

    ``n, k, s, d`` are ``(B, rank)`` integer arrays, ``pads`` is ``(B, rank, 2)`` (before,
    after).  ``check`` is called before each stack is computed (a deadline, say).
    """
    where = "reference windows_many"
    if op not in OPS:
        raise LayerConfigError(where, "op", repr(op), f"must be one of {', '.join(OPS)}",
                               code="bad_pool_kind")
    if ceil_mode and op == "conv":
        raise LayerConfigError(where, "ceil_mode", True, "applies to pooling only",
                               code="bad_ceil_mode")
    n, k, s, d = (_ints(where, name, v, 1) for name, v in
                  (("n", n), ("k", k), ("s", s), ("d", d)))
    pads = np.asarray(pads)
    if n.ndim != 2 or not 1 <= n.shape[1] <= 3 or any(v.shape != n.shape for v in (k, s, d)) \
            or pads.shape != (*n.shape, 2):
        raise ShapeError(where, "shapes", (n.shape, k.shape, s.shape, pads.shape, d.shape),
                         "n, k, s, d must be (B, rank) with rank 1 to 3 and pads (B, rank, 2)",
                         code="bad_arity")
    pads = _ints(where, "pads", pads, 0)
    budget = current_budgets().verify_elements
    for name, v in (("n", n), ("k", k), ("s", s), ("pads", pads), ("d", d)):
        if v.size and int(v.max()) > budget:  # its arrays would be larger; and no overflow
            raise exceeded(where, "verify_elements", f"{name} = {int(v.max()):,} makes an "
                           "array larger than the limit")
    padded = n + pads[..., 0] + pads[..., 1]
    extended = padded + (s - 1 if ceil_mode else 0)
    g = _Geometry(op, n, k, s, d, pads, padded, extended,
                  -(-extended // s) + 1)  # every start inside, and one past: it reads nothing
    worst = np.zeros(len(n))
    for a in range(n.shape[1]):
        worst = np.maximum(worst, g.cells(a, np.arange(len(n))))
    if worst.size and int(worst.max()) > budget:
        b = int(worst.argmax())
        raise exceeded(where, "verify_elements",
                       f"configuration {b} (n = {n[b].tolist()}, k = {k[b].tolist()}) needs an "
                       f"array of {int(worst[b]):,} elements")
    rng = np.random.default_rng(seed)
    result = Many(np.zeros(n.shape, np.int64))
    if not len(n):
        return result
    data, kept_inputs = _canvases(g, rng, chunk_elements, keep, check)
    weights = None
    if op == "conv":
        taps = [int(v) for v in k.max(axis=0)]
        weights = rng.random((len(n), *taps), dtype=np.float32) - np.float32(0.5)
        for a, top in enumerate(taps):  # offsets past a configuration's kernel: zero
            weights *= _along(np.arange(top)[None, :] < k[:, a, None], a, n.shape[1])
    out = _windows(g, data, weights, chunk_elements, check)
    if op == "avg":  # divided by the cells of each window inside the padded input
        out = [(m, _averages(g, m, v)) for m, v in out]
    for members, values in out:
        sizes, blocks = _measure(g, members, values, ceil_mode, keep)
        result.sizes[members] = sizes
        if keep:
            for b, block in zip(members.tolist(), blocks, strict=True):
                result.outputs.append(block)
                result.inputs.append(kept_inputs[b])
                if weights is not None:
                    kernel: Any = (b, *(slice(0, int(v)) for v in k[b]))
                    result.weights.append(weights[kernel][None, None])
    if keep:
        order = np.argsort(np.concatenate([m for m, _ in out]))
        for name in ("inputs", "weights", "outputs"):
            items = getattr(result, name)
            if items:
                setattr(result, name, [items[i] for i in order])
    return result


def _ints(where: str, name: str, value: Any, minimum: int) -> Array:
    array = np.asarray(value)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise LayerConfigError(where, name, str(array.dtype), "must be an integer array",
                               code="not_int")
    if array.size and int(array.min()) < minimum:
        raise LayerConfigError(where, name, int(array.min()), f"every entry must be >= "
                               f"{minimum}", code="below_minimum")
    return array.astype(np.int64)


def _along(v: Array, axis: int, rank: int) -> Array:
    """A ``(C, w)`` per-configuration vector shaped to broadcast along spatial ``axis``."""
    shape = [v.shape[0]] + [1] * rank
    shape[1 + axis] = v.shape[1]
    return v.reshape(shape)


@dataclass
class _Geometry:
    op: str
    n: Array
    k: Array
    s: Array
    d: Array
    pads: Array
    padded: Array
    extended: Array
    starts: Array

    def dims(self, axis: int, members: Array) -> list[int]:
        """The stacked array's sizes while ``axis`` is done: ``(X_0..X_axis, J_axis+1..,
        P_0..P_axis)`` (X: cells, J: windows, P: a convolution's pending kernel offsets)."""
        rank = self.n.shape[1]
        out = [int(v) for v in self.extended[members, :axis].max(axis=0)]
        s, d = int(self.s[members[0], axis]), int(self.d[members[0], axis])
        # wide enough that the last candidate's last offset is a full slice
        out.append((int(self.starts[members, axis].max()) - 1) * s +
                   (int(self.k[members, axis].max()) - 1) * d + 1)
        out += [int(v) for v in self.starts[members, axis + 1:].max(axis=0)]
        if self.op == "conv" and axis < rank - 1:
            out += [int(v) for v in self.k[members, :axis + 1].max(axis=0)]
        return out

    def own_dims(self, axis: int, members: Array) -> list[Array]:
        """Per member, its own sizes of the array while ``axis`` is done (see ``dims``)."""
        rank = self.n.shape[1]
        out = [self.extended[members, b] for b in range(axis)]
        out.append((self.starts[members, axis] - 1) * self.s[members, axis] +
                   (self.k[members, axis] - 1) * self.d[members, axis] + 1)
        out += [self.starts[members, b] for b in range(axis + 1, rank)]
        if self.op == "conv" and axis < rank - 1:
            out += [self.k[members, b] for b in range(axis + 1)]
        return out

    def cells(self, axis: int, members: Array) -> Array:
        """Per member, the cells its own array needs while ``axis`` is done (float64: a
        product of sizes must not wrap around)."""
        rank = self.n.shape[1]
        own = ((self.starts[members, axis] - 1) * self.s[members, axis] +
               (self.k[members, axis] - 1) * self.d[members, axis] + 1).astype(np.float64)
        own = own * np.prod(self.extended[members, :axis], axis=1)
        own = own * np.prod(self.starts[members, axis + 1:], axis=1)
        if self.op == "conv" and axis < rank - 1:
            own = own * np.prod(self.k[members, :axis + 1], axis=1)
        cells: Array = own
        return cells


def _stacks(g: _Geometry, axis: int, budget: int, waste: float = 3.0) -> list[Array]:
    """Groups of configurations stacked while ``axis`` is done: equal stride and dilation
    along it (one slice serves them all), at most ``budget`` cells once padded to the
    group's largest sizes, and at most ``waste`` times what the members need (plus a little,
    so that small configurations all group).  Similar sizes are sorted together."""
    everyone = np.arange(len(g.n))
    need = g.cells(axis, everyone)
    same = g.s[:, axis] * (int(g.d[:, axis].max()) + 1) + g.d[:, axis]
    sizes = np.stack(g.own_dims(axis, everyone), axis=1).astype(np.float64)  # no wrapping
    # within equal stride/dilation: by each size in steps of 4, the array's first size first
    keys = [need] + [-(-sizes[:, i] // 4) for i in reversed(range(sizes.shape[1]))] + [same]
    order = np.lexsort(keys)
    out: list[Array] = []
    begin = 0
    while begin < len(order):
        stop = begin + int(np.searchsorted(same[order[begin:]], same[order[begin]],
                                           side="right"))
        rows = order[begin:stop]
        # a stack ending at each row holds this many cells (sizes padded to running maxima)
        padded = np.arange(1, len(rows) + 1) * np.prod(
            np.maximum.accumulate(sizes[rows], axis=0), axis=1)
        over = (padded > budget) | (padded > waste * np.cumsum(need[rows]) + (1 << 16))
        end = begin + max(1, int(np.argmax(over)) if over.any() else len(rows))
        out.append(order[begin:end])
        begin = end
    return out


def _averages(g: _Geometry, members: Array, sums: Array) -> Array:
    """Window sums divided by each window's cells inside the padded input.

    A window is a box, so its count is the product over axes of the offsets ``t < k`` whose
    cell ``j*s + t*d`` lies before the end of the padded input (the ceil-mode overhang is not
    counted); the window's size was already measured by the sums (``NaN`` past the input).
    """
    rank = g.n.shape[1]
    counts: Array = np.ones((len(members),) + (1,) * rank, np.float32)
    for a in range(rank):
        j = np.arange(sums.shape[1 + a])[None, :, None]
        t = np.arange(int(g.k[members, a].max()))[None, None, :]
        cell = j * g.s[members, a, None, None] + t * g.d[members, a, None, None]
        inside = (t < g.k[members, a, None, None]) & (cell < g.padded[members, a, None, None])
        counts = counts * _along(inside.sum(axis=2).astype(np.float32), a, rank)
    with np.errstate(invalid="ignore", divide="ignore"):
        averaged: Array = sums / counts
    return averaged


def _canvases(g: _Geometry, rng: np.random.Generator, budget: int, keep: bool,
              check: Callable[[], None] | None) -> tuple[list[tuple[Array, Array]],
                                                         dict[int, Array]]:
    """Stacks of padded inputs of random data for the last axis's first pass.  With
    ``keep``, each configuration's input by index."""
    rank = g.n.shape[1]
    out: list[tuple[Array, Array]] = []
    inputs: dict[int, Array] = {}
    for members in _stacks(g, rank - 1, budget):
        if check is not None:
            check()
        dims = g.dims(rank - 1, members)
        values = rng.random((len(members), *dims), dtype=np.float32)
        fill = -np.inf if g.op == "max" else 0.0
        inside: Array | None = None
        outside: Array | None = None
        for a, w in enumerate(dims):
            i = np.arange(w)[None, :]
            before = g.pads[members, a, 0, None]
            axis_in = _along((i >= before) & (i < before + g.n[members, a, None]), a, rank)
            axis_out = _along(np.where(i >= g.extended[members, a, None], np.nan,
                                       0.0).astype(np.float32), a, rank)
            inside = axis_in if inside is None else inside & axis_in
            outside = axis_out if outside is None else outside + axis_out
        assert inside is not None and outside is not None
        if keep:
            for pos, b in enumerate(members.tolist()):
                box: Any = (pos, *(slice(int(g.pads[b, a, 0]), int(g.pads[b, a, 0] + g.n[b, a]))
                                   for a in range(rank)))
                inputs[b] = values[box][None].copy()
        # padding and overhang take the fill; NaN past the extended input, on any axis
        np.copyto(values, np.float32(fill), where=~inside)
        values += outside
        out.append((members, values))
    return out, inputs


def _windows(g: _Geometry, stacks: list[tuple[Array, Array]], weights: Array | None,
             budget: int, check: Callable[[], None] | None) -> list[tuple[Array, Array]]:
    """Every configuration's windows, one axis at a time, last axis first.

    Kernel offset ``q`` of axis ``a`` reads the strided slice ``q*d, q*d + s, ...`` of that
    axis for every window of every stacked configuration at once; offsets past a
    configuration's kernel add nothing (``-inf`` to a max, ``0`` to a sum).  A convolution
    contracts its kernel's last axis first and keeps the other offsets as trailing axes,
    each read back on the diagonal when its axis is done.  Between axes the configurations
    are restacked by the next axis's stride and dilation (cells past what a source stack
    holds are ``NaN``: nothing there).
    """
    rank = g.n.shape[1]
    for a in reversed(range(rank)):
        if a < rank - 1:
            stacks = _restack(g, stacks, a, budget)
        done: list[tuple[Array, Array]] = []
        for members, t in stacks:
            if check is not None:
                check()
            done.append((members, _axis_pass(g, members, t, a, weights)))
        stacks = done
    return stacks


def _axis_pass(g: _Geometry, members: Array, t: Array, a: int, weights: Array | None) -> Array:
    """One stack (equal stride and dilation along axis ``a``): that axis's cells -> windows."""
    rank = g.n.shape[1]
    neutral = np.float32(-np.inf if g.op == "max" else 0.0)
    s, d = int(g.s[members[0], a]), int(g.d[members[0], a])
    windows = int(g.starts[members, a].max())
    kernel = g.k[members, a]
    pending = weights is not None and a < rank - 1
    parts: list[Array] = []
    acc: Array | None = None
    for q in range(int(kernel.max())):
        source = t[..., q] if pending else t
        cut = [slice(None)] * source.ndim
        cut[1 + a] = slice(q * d, q * d + (windows - 1) * s + 1, s)
        part = source[tuple(cut)]
        if q >= int(kernel.min()):  # shorter kernels have no offset q
            used = (q < kernel).reshape((-1,) + (1,) * (part.ndim - 1))
            part = np.where(used, part, neutral)
        if weights is not None and not pending:
            parts.append(part)
        elif acc is None:
            acc = part.copy() if part.base is not None else part  # never the source
        elif g.op == "max":
            np.maximum(acc, part, out=acc)
        else:
            acc += part
    if weights is not None and not pending:
        # the last axis's offsets contracted with the kernel, one product per configuration;
        # the other axes' offsets stay, as trailing axes
        tops = [int(x) for x in g.k[members].max(axis=0)]
        box: Any = (members, *(slice(0, v) for v in tops))
        w = weights[box].reshape(len(members), -1, tops[-1]).transpose(0, 2, 1)
        stacked = np.stack(parts, axis=-1)
        product: Array = np.matmul(stacked.reshape(len(members), -1, tops[-1]), w)
        return product.reshape(stacked.shape[:-1] + tuple(tops[:-1]))
    if acc is None:
        raise AssertionError("a kernel without offsets")  # k >= 1 was checked
    return acc


def _restack(g: _Geometry, stacks: list[tuple[Array, Array]], axis: int,
             budget: int) -> list[tuple[Array, Array]]:
    """The same configurations, stacked by ``axis``'s stride and dilation; every cell a
    source does not hold is ``NaN``."""
    where_stack = np.zeros(len(g.n), np.int64)
    where_row = np.zeros(len(g.n), np.int64)
    for i, (members, _) in enumerate(stacks):
        where_stack[members] = i
        where_row[members] = np.arange(len(members))
    out: list[tuple[Array, Array]] = []
    for members in _stacks(g, axis, budget):
        dims = g.dims(axis, members)
        t = np.full((len(members), *dims), np.nan, np.float32)
        for i in np.unique(where_stack[members]).tolist():
            mine = where_stack[members] == i
            source = stacks[i][1]
            box = tuple(slice(0, min(x, y)) for x, y in zip(dims, source.shape[1:],
                                                            strict=True))
            to: Any = (np.flatnonzero(mine), *box)
            got: Any = (where_row[members[mine]], *box)
            t[to] = source[got]
        out.append((members, t))
    return out


def _measure(g: _Geometry, members: Array, out: Array, ceil_mode: bool,
             keep: bool) -> tuple[Array, list[Array]]:
    """The size of each configuration's block of finite windows (and the blocks)."""
    c, rank = len(members), g.n.shape[1]
    if ceil_mode:
        for a in range(rank):  # a window may not start in the right padding
            begins = np.arange(out.shape[1 + a])[None, :] * g.s[members, a, None]
            late = begins >= (g.pads[members, a, 0] + g.n[members, a])[:, None]
            out = np.where(_along(late, a, rank), np.nan, out)
    finite = ~np.isnan(out)  # -inf is a max over padding only: a window all the same
    sizes = np.zeros((c, rank), np.int64)
    for a in range(rank):
        other = tuple(1 + b for b in range(rank) if b != a)
        along = finite.any(axis=other) if other else finite
        size = along.sum(axis=1)
        prefix = np.arange(along.shape[1])[None, :] < size[:, None]
        if not (along == prefix).all() or (size >= g.starts[members, a]).any():
            raise ShapeError("reference windows_many", f"axis {a}", "?", "the finite windows "
                             "are not a block starting at the first window and ending before "
                             "the last candidate", code="ragged_output")
        sizes[:, a] = size
    if not (finite.reshape(c, -1).sum(axis=1) == sizes.prod(axis=1)).all():
        raise ShapeError("reference windows_many", "output", "?", "the finite windows are not "
                         "a rectangle", code="ragged_output")
    blocks: list[Array] = []
    for b in range(c if keep else 0):
        block: Any = (b, *(slice(0, int(v)) for v in sizes[b]))
        blocks.append(out[block][None])
    return sizes, blocks
