"""Hypothesis strategies for layer configurations, and a checker for your own shape formulas.

Use them in your own test suite (hypothesis is imported only when a strategy is built):

* :func:`conv_configs`, :func:`pool_configs` and :func:`layer_configs` draw
  :class:`LayerCase` s: a layer class of PyTorch or Keras, its arguments (valid for that
  framework), and an input shape.  ``case.layer()`` is the convsym layer,
  ``case.expected()`` convsym's output shape (or its error), ``case.framework_layer()`` the
  real ``torch.nn`` module or ``keras.layers`` object.
* :func:`check_shape_formula` checks a formula you wrote for one axis against the NumPy
  reference, which computes real convolutions and poolings; parameters your formula does not
  take stay at their defaults (``p = 0``, ``d = 1`` ...).  Where the reference gives an empty
  output, your formula must return a number below 1 (or None, or raise ValueError).

>>> from convsym.testing import check_shape_formula
>>> check_shape_formula(lambda n, k, s, p, d: (n + 2*p - d*(k - 1) - 1) // s + 1, "conv")
>>> check_shape_formula(lambda n, k, s: -(-(n - k + 1) // s), "conv", examples=50)
>>> floor_formula = lambda n, k, s, p: (n + 2*p - k) // s + 1
>>> try:
...     check_shape_formula(floor_formula, "pool", ceil_mode=True)
... except AssertionError as err:
...     print(err)
your pool formula gives 0 but the reference gives 1 at n=1, k=2, s=2, p=0, ceil_mode=True
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from convsym.errors import ShapeError, UsageError, did_you_mean
from convsym.layers import keras, torch
from convsym.network import Sequential

__all__ = ["LayerCase", "check_shape_formula", "conv_configs", "layer_configs", "pool_configs"]


@dataclass(frozen=True)
class LayerCase:
    """One layer configuration and one input shape (without the batch axis).

    ``kind`` is the framework's class name (``Conv2d``, ``MaxPooling1D``), ``kwargs`` its
    arguments by the framework's names, ``dialect`` ``"torch"`` or ``"keras"``.
    """

    dialect: str
    kind: str
    kwargs: Mapping[str, Any]
    input_shape: tuple[int, ...]
    notes: tuple[str, ...] = field(default=())

    def layer(self) -> Any:
        """The convsym layer (raises a ConvsymError for a configuration convsym refuses)."""
        table = torch.LAYERS if self.dialect == "torch" else keras.LAYERS
        return table[self.kind](**self.kwargs)

    def expected(self) -> tuple[int, ...]:
        """convsym's output shape for this input; raises a ConvsymError where it refuses."""
        net = Sequential([self.layer()], input_shape=self.input_shape)
        return tuple(int(s) for s in net.output_shape)

    def framework_layer(self) -> Any:
        """The real ``torch.nn`` module or ``keras.layers`` object (imports the framework)."""
        if self.dialect == "torch":
            # why: PyTorch is optional (the frameworks extra) and heavy
            import torch

            return getattr(torch.nn, self.kind)(**self.kwargs)
        # why: Keras is optional (the frameworks extra) and heavy
        import keras

        return getattr(keras.layers, self.kind)(**self.kwargs)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.kind}({args}) on {self.input_shape}"


# --- strategies -------------------------------------------------------------------------------


def _st() -> Any:
    try:
        # why: hypothesis is optional (the test extra)
        from hypothesis import strategies
    except ImportError:
        raise UsageError("convsym.testing needs hypothesis: pip install hypothesis",
                         code="missing_hypothesis") from None
    return strategies


def conv_configs(*, dialect: str = "torch", rank: int | None = None, transposed: bool = False,
                 max_size: int = 12, refusals: bool = False) -> Any:
    """Convolutions (``Conv2d``, ``ConvTranspose1d``, ``Conv3D``, ``Conv2DTranspose`` ...).

    Configurations are valid for the framework unless ``refusals=True``, which also draws
    ones it rejects on construction or on call (stride with 'same' in PyTorch, stride with
    dilation in Keras, too much output padding).  Input sizes run from 1 to ``max_size``, so
    some inputs are too small: both the framework and convsym must refuse those.
    """
    st = _st()
    _check(dialect, rank)

    @st.composite  # type: ignore[untyped-decorator]
    def draw(d: Any) -> LayerCase:
        r = rank or d(st.integers(1, 3))
        top = 3 if r == 3 else 4
        k = d(_tuple(st, r, 1, top))
        s = d(_tuple(st, r, 1, 3))
        dil = d(_tuple(st, r, 1, 3))
        g = d(st.integers(1, 3))
        c_in, c_out = g * d(st.integers(1, 2)), g * d(st.integers(1, 2))
        n = d(_tuple(st, r, 1, max_size if r < 3 else min(max_size, 8)))
        bias = d(st.booleans())
        if dialect == "torch":
            return _torch_conv(d, st, r, transposed, k, s, dil, g, c_in, c_out, n, bias, refusals)
        return _keras_conv(d, st, r, transposed, k, s, dil, g, c_in, c_out, n, bias, refusals)

    return draw()


def _torch_conv(d: Any, st: Any, r: int, transposed: bool, k: Any, s: Any, dil: Any, g: int,
                c_in: int, c_out: int, n: Any, bias: bool, refusals: bool) -> LayerCase:
    kwargs: dict[str, Any] = {"in_channels": c_in, "out_channels": c_out, "kernel_size": k,
                              "stride": s, "dilation": dil, "groups": g, "bias": bias}
    if transposed:
        kwargs["padding"] = d(_tuple(st, r, 0, 3))
        limit = [max(a, b) - 1 for a, b in zip(s, dil)]
        if refusals and d(st.integers(0, 9)) == 0:
            limit = [v + 1 for v in limit]  # output_padding must be < max(stride, dilation)
        kwargs["output_padding"] = tuple(d(st.integers(0, v)) for v in limit)
        return LayerCase("torch", f"ConvTranspose{r}d", kwargs, (c_in, *n))
    padding = d(st.sampled_from(["int", "int", "valid", "same"]))
    if padding == "same" and not refusals:
        kwargs["stride"] = (1,) * r  # PyTorch allows padding='same' only with stride 1
    kwargs["padding"] = d(_tuple(st, r, 0, 3)) if padding == "int" else padding
    kwargs["padding_mode"] = d(st.sampled_from(["zeros", "zeros", "reflect", "replicate",
                                                "circular"]))
    return LayerCase("torch", f"Conv{r}d", kwargs, (c_in, *n))


def _keras_conv(d: Any, st: Any, r: int, transposed: bool, k: Any, s: Any, dil: Any, g: int,
                c_in: int, c_out: int, n: Any, bias: bool, refusals: bool) -> LayerCase:
    if not refusals or d(st.integers(0, 9)):
        # Keras forbids strides > 1 together with dilation_rate > 1
        if d(st.booleans()):
            dil = (1,) * r
        else:
            s = (1,) * r
    kwargs: dict[str, Any] = {"filters": c_out, "kernel_size": k, "strides": s,
                              "dilation_rate": dil, "use_bias": bias}
    if transposed:
        kwargs["padding"] = d(st.sampled_from(["valid", "same"]))
        if d(st.booleans()):
            kwargs["output_padding"] = tuple(
                d(st.integers(0, v - (0 if refusals and d(st.integers(0, 9)) == 0 else 1)))
                for v in s)
        return LayerCase("keras", f"Conv{r}DTranspose", kwargs, (*n, c_in))
    kwargs["padding"] = d(st.sampled_from(["valid", "same", "causal"] if r == 1
                                          else ["valid", "same"]))
    kwargs["groups"] = g
    return LayerCase("keras", f"Conv{r}D", kwargs, (*n, c_in))


def pool_configs(*, dialect: str = "torch", rank: int | None = None, kind: str | None = None,
                 max_size: int = 12, refusals: bool = False) -> Any:
    """Max and average pooling (``MaxPool2d``, ``AvgPool1d``, ``MaxPooling3D`` ...).

    PyTorch cases draw padding up to half the kernel (more with ``refusals=True``), dilation
    (max pooling) and ``ceil_mode``; Keras cases draw 'valid' or 'same' and ``strides=None``.
    """
    st = _st()
    _check(dialect, rank)

    @st.composite  # type: ignore[untyped-decorator]
    def draw(d: Any) -> LayerCase:
        r = rank or d(st.integers(1, 3))
        which = kind or d(st.sampled_from(["max", "avg"]))
        k = d(_tuple(st, r, 1, 4))
        n = d(_tuple(st, r, 1, max_size if r < 3 else min(max_size, 8)))
        c = d(st.integers(1, 2))
        if dialect == "keras":
            name = ("MaxPooling" if which == "max" else "AveragePooling") + f"{r}D"
            strides = None if d(st.booleans()) else d(_tuple(st, r, 1, 3))
            kwargs = {"pool_size": k, "strides": strides,
                      "padding": d(st.sampled_from(["valid", "same"]))}
            return LayerCase("keras", name, kwargs, (*n, c))
        name = ("MaxPool" if which == "max" else "AvgPool") + f"{r}d"
        extra = 1 if refusals and d(st.integers(0, 9)) == 0 else 0
        kwargs = {"kernel_size": k, "stride": d(_tuple(st, r, 1, 3)),
                  "padding": tuple(d(st.integers(0, ki // 2 + extra)) for ki in k),
                  "ceil_mode": d(st.booleans())}
        if which == "max":
            kwargs["dilation"] = d(_tuple(st, r, 1, 3))
        return LayerCase("torch", name, kwargs, (c, *n))

    return draw()


def layer_configs(*, dialect: str = "torch", rank: int | None = None, max_size: int = 12,
                  refusals: bool = False) -> Any:
    """Any of convolution, transposed convolution and pooling."""
    st = _st()
    return st.one_of(
        conv_configs(dialect=dialect, rank=rank, max_size=max_size, refusals=refusals),
        conv_configs(dialect=dialect, rank=rank, max_size=max_size, refusals=refusals,
                     transposed=True),
        pool_configs(dialect=dialect, rank=rank, max_size=max_size, refusals=refusals))


def _tuple(st: Any, rank: int, low: int, high: int) -> Any:
    return st.tuples(*[st.integers(low, high)] * rank)


def _check(dialect: str, rank: int | None) -> None:
    if dialect not in ("torch", "keras"):
        raise UsageError(f"dialect must be 'torch' or 'keras', got {dialect!r}",
                         code="bad_dialect")
    if rank is not None and rank not in (1, 2, 3):
        raise UsageError(f"rank must be 1, 2 or 3, got {rank!r}", code="bad_rank")


# --- your own formula against the reference ----------------------------------------------------

_DEFAULTS = {"k": 1, "s": 1, "p": 0, "d": 1, "op": 0}
KINDS: dict[str, tuple[str, ...]] = {
    "conv": ("n", "k", "s", "p", "d"),
    "conv_same": ("n", "k", "s", "d"),
    "conv_causal": ("n", "k", "s", "d"),
    "conv_transpose": ("n", "k", "s", "p", "d", "op"),
    "pool": ("n", "k", "s", "p", "d"),
    "avg_pool": ("n", "k", "s", "p"),
}
"""The layer kinds :func:`check_shape_formula` knows and the parameters each formula may take:
explicit padding ``p`` on both sides (PyTorch), TF/Keras 'same', Keras 'causal', PyTorch's
transposed convolution with output padding ``op``, PyTorch max and average pooling."""


def check_shape_formula(formula: Callable[..., Any], layer_kind: str, *, examples: int = 200,
                        max_size: int = 24, ceil_mode: bool = False, seed: int = 0) -> None:
    """Check a one-axis output-size formula against :mod:`convsym.reference`.

    ``formula`` takes some of the parameters of ``layer_kind`` (see :data:`KINDS`) by name;
    the others stay at ``k = 1, s = 1, p = 0, d = 1, op = 0``.  Raises AssertionError with
    the smallest disagreeing case hypothesis finds.
    """
    if layer_kind not in KINDS:
        raise UsageError(f"unknown layer kind {layer_kind!r}{did_you_mean(layer_kind, KINDS)}; "
                         f"the kinds are {', '.join(KINDS)}", code="bad_kind")
    names = list(inspect.signature(formula).parameters)
    unknown = [n for n in names if n not in KINDS[layer_kind]]
    if unknown or "n" not in names:
        raise UsageError(f"a {layer_kind} formula takes n and any of "
                         f"{', '.join(KINDS[layer_kind][1:])}; got {', '.join(names)}",
                         code="bad_formula")
    if ceil_mode and layer_kind not in ("pool", "avg_pool"):
        raise UsageError("ceil_mode applies to pooling only", code="bad_formula")
    # why: hypothesis is optional (the test extra)
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    st = _st()

    @st.composite  # type: ignore[untyped-decorator]
    def cases(d: Any) -> dict[str, int]:
        values = {"n": d(st.integers(1, max_size))}
        for name in names:
            if name == "k":
                values["k"] = d(st.integers(1, 6))
            elif name in ("s", "d"):
                values[name] = d(st.integers(1, 4))
        for name in names:
            if name == "p":
                k = values.get("k", 1)
                top = k // 2 if layer_kind in ("pool", "avg_pool") else 4
                values["p"] = d(st.integers(0, top))
            elif name == "op":
                values["op"] = d(st.integers(0, max(values.get("s", 1), values.get("d", 1)) - 1))
        return values

    @hypothesis_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(cases())
    def run(values: dict[str, int]) -> None:
        full = {**_DEFAULTS, **values}
        want = _measure(layer_kind, full, ceil_mode)
        try:
            got = formula(**values)
        except (ValueError, ZeroDivisionError):
            got = None
        if want is None:
            ok = got is None or got < 1
        else:
            ok = got == want
        if not ok:
            shown = ", ".join(f"{k}={v}" for k, v in values.items())
            if ceil_mode:
                shown += ", ceil_mode=True"
            raise AssertionError(f"your {layer_kind} formula gives {got} but the reference "
                                 f"gives {'an empty output' if want is None else want} at "
                                 f"{shown}")

    run()


def _measure(kind: str, v: Mapping[str, int], ceil_mode: bool) -> int | None:
    """The reference's output size on one axis, or None for an empty output."""
    # why: NumPy loads only when real arrays are computed
    import numpy as np

    # why: the NumPy reference loads only when a formula is measured
    from convsym import reference

    x = np.zeros((1, v["n"]), dtype=np.float32)
    k, s, p, d = v["k"], v["s"], v["p"], v["d"]
    try:
        if kind in ("conv", "conv_same", "conv_causal"):
            pads = {"conv": (p, p), "conv_same": reference.same_padding(v["n"], k, s, d),
                    "conv_causal": (d * (k - 1), 0)}[kind]
            out = reference.conv(x, np.zeros((1, 1, k), dtype=np.float32), stride=(s,),
                                 padding=(pads,), dilation=(d,))
        elif kind == "conv_transpose":
            out = reference.conv_transpose(x, np.zeros((1, 1, k), dtype=np.float32),
                                           stride=(s,), padding=((p, p),),
                                           output_padding=(v["op"],), dilation=(d,))
        else:
            out = reference.pool(x, "max" if kind == "pool" else "avg", kernel=(k,),
                                 stride=(s,), padding=((p, p),),
                                 dilation=(d,) if kind == "pool" else None, ceil_mode=ceil_mode)
    except ShapeError:
        return None
    return int(out.shape[1])
