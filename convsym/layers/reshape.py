"""Cores of Reshape (Keras, with one ``-1``), Unflatten (PyTorch) and Permute (Keras).

A reshape keeps the number of elements: without ``-1`` the product of the target must equal
the input's (proved, refuted, or kept as a side condition); with ``-1`` the missing size is
``total / known``, which must divide exactly (again three-valued).

>>> from convsym.layers.keras import Reshape
>>> from convsym.intdiv import QPoly, to_sympy
>>> from convsym.expr import symbol
>>> n = QPoly.sym(symbol("n"))
>>> out = Reshape((-1, 4)).infer([(n, QPoly.const(4), QPoly.const(2))])
>>> [to_sympy(s) for s in out.shape]
[2*n, 4]
"""

from __future__ import annotations

from collections.abc import Sequence

from convsym.intdiv import (
    NotQuasiPolynomial,
    QExpr,
    QPoly,
    as_int,
    exact_quotient,
    floordiv,
    to_sympy,
)
from convsym.layers.agree import require_equal
from convsym.layers.base import Condition, Inference, Layer, Shape, check_room
from convsym.sizes import mul_sizes


def element_count(layer: Layer, shape: Shape) -> QPoly:
    """The number of elements; every size must be a polynomial (not a Min/Max)."""
    total = mul_sizes(*shape)
    if not isinstance(total, QPoly):
        raise layer.shape_error("input shape", _shape(shape),
                                "cannot reshape a size that is a Min/Max", code="bad_reshape")
    return total


def infer_reshape(layer: Layer, shape: Shape, target: Sequence[QPoly | None],
                  fld: str = "target_shape") -> Inference:
    """Reshape to ``target`` (``None`` marks the one inferred ``-1`` entry)."""
    total = element_count(layer, shape)
    known = QPoly.const(1)
    for t in target:
        if t is not None:
            known = known * t
    conditions: list[Condition] = []
    if None not in target:
        conditions += require_equal(
            layer, fld, total, known,
            rule="a reshape must keep the number of elements",
            what=lambda: f"the input has {_t(total)} elements and the target {_t(known)}")
        return Inference(tuple(t for t in target if t is not None), [], conditions)
    missing = _divide(layer, fld, total, known)
    conditions += check_room(layer, fld, total - known,
                             rule="the known target sizes must not exceed the input",
                             what=lambda: f"the input has {_t(total)} elements, fewer than the "
                                  f"{_t(known)} of the known target sizes")
    conditions += require_equal(
        layer, fld, total, known * missing,
        rule="the input's elements must divide evenly by the known target sizes",
        what=lambda: f"the input has {_t(total)} elements, not a multiple of {_t(known)}")
    return Inference(tuple(missing if t is None else t for t in target), [], conditions)


def _divide(layer: Layer, fld: str, total: QPoly, known: QPoly) -> QPoly:
    a, b = as_int(total), as_int(known)
    if a is not None and b is not None:
        if a % b:
            raise layer.shape_error(fld, None,
                                    f"the input has {a} elements, which {b} (the product of "
                                    "the known target sizes) does not divide",
                                    code="reshape_not_divisible")
        return QPoly.const(a // b)
    exact = exact_quotient(total, known)  # C*ceiling(H/16) by ceiling(H/16): C
    if exact is not None:
        return exact
    try:
        return floordiv(total, known)
    except NotQuasiPolynomial:
        raise layer.config_error(fld, _t(known),
                                 "the known target sizes must multiply to a product of "
                                 "symbols to infer -1 symbolically", code="bad_reshape"
                                 ) from None


def infer_permute(layer: Layer, shape: Shape, dims: Sequence[int]) -> Inference:
    """Keras Permute: ``dims`` (1-based, without the batch) reorders the axes."""
    if sorted(dims) != list(range(1, len(shape) + 1)):
        raise layer.config_error("dims", tuple(dims),
                                 f"must be a permutation of 1..{len(shape)} for a rank-"
                                 f"{len(shape)} input", code="bad_permutation")
    return Inference(tuple(shape[d - 1] for d in dims))


def _t(e: QExpr) -> str:
    return str(to_sympy(e))


def _shape(shape: Shape) -> str:
    return "(" + ", ".join(_t(s) for s in shape) + ")"
