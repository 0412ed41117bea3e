"""Every closed form convsym uses, one function each, with its convention in the docstring.

Arguments are canonical sizes (:class:`~convsym.intdiv.QPoly`, or ``QExpr`` for a size that
may be a Min/Max); results are canonical too.  Notation for one spatial axis: ``n`` input
size, ``k`` kernel, ``s`` stride, ``d`` dilation, ``k_e = d(k-1)+1``, ``P`` total padding.

>>> from convsym.expr import symbol
>>> from convsym.intdiv import QPoly, to_sympy
>>> n = QPoly.sym(symbol("n"))
>>> c = QPoly.const
>>> to_sympy(conv_out(n, k=c(3), s=c(2), d=c(1), pad=c(2)))
ceiling(n/2)
>>> to_sympy(same_out(n, s=c(4)))
ceiling(n/4)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from convsym.budget import Budgets, current
from convsym.intdiv import (
    QExpr,
    QPoly,
    add,
    diff_bounds,
    div_ceil,
    div_floor,
    ext,
    floordiv_plus,
    scale,
)
from convsym.sizes import Product, add_sizes, mul_sizes, product_later, settle

ONE = QPoly.const(1)
ZERO = QPoly.const(0)


def effective_kernel(k: QPoly, d: QPoly) -> QPoly:
    """``k_e = d(k - 1) + 1``: the span of a dilated kernel (all frameworks)."""
    ki, di = k.as_int(), d.as_int()
    if ki is not None and di is not None:  # the common case: no polynomial arithmetic
        return QPoly.const(di * (ki - 1) + 1)
    return d * (k - ONE) + ONE


def conv_out(n: QExpr, *, k: QPoly, s: QPoly, d: QPoly, pad: QPoly) -> QExpr:
    """Explicit padding (all frameworks): ``floor((n + P - k_e)/s) + 1``, if ``n + P >= k_e``.

    This also covers 'valid' (``P = 0``), PyTorch pooling in floor mode and Keras 'causal'
    (``P = k_e - 1``).
    """
    return windows(conv_room(n, k=k, d=d, pad=pad), s=s)


def windows(room: QExpr, *, s: QPoly) -> QExpr:
    """``floor(room/s) + 1``: the window positions along an axis whose room (padded input
    minus the effective kernel, :func:`conv_room`) is ``room >= 0``."""
    if type(room) is QPoly:  # (most rooms: add and div_floor come to this)
        return floordiv_plus(room, s, 1)
    return add(div_floor(room, s), ONE)


def conv_room(n: QExpr, *, k: QPoly, d: QPoly, pad: QPoly) -> QExpr:
    """``n + P - k_e``: must be ``>= 0`` for at least one window to fit."""
    p, ki, di = pad.as_int(), k.as_int(), d.as_int()
    if p is not None and ki is not None and di is not None:  # most layers: integers
        return add(n, QPoly.const(p - di * (ki - 1) - 1))
    return add(n, pad - effective_kernel(k, d))


def same_out(n: QExpr, *, s: QPoly) -> QExpr:
    """TF / Keras / JAX / ONNX SAME (upper or lower): ``ceil(n/s)``, for any stride."""
    return div_ceil(n, s)


def same_pad_total(n: QExpr, *, k: QPoly, s: QPoly, d: QPoly, out: QExpr | None = None
                   ) -> QExpr:
    """TF SAME total padding ``P = max((ceil(n/s) - 1) s + k_e - n, 0)``; ``out`` is
    ``ceil(n/s)`` when the caller has it already (:func:`same_out`)."""
    if out is None:
        out = same_out(n, s=s)
    used = add(scale(add(out, -ONE), s), effective_kernel(k, d))
    total = _minus(used, n)
    low = diff_bounds(total)[0] if isinstance(total, QPoly) else None
    if low is not None and low >= 0:
        return _settle(total)  # max(P, 0) = P when P >= 0 is seen from exact bounds
    return _settle(ext("max", [total, ZERO]))


def _settle(e: QExpr) -> QExpr:
    """Drop what the period check proves idle (a Max argument that never wins, a constant
    in disguise); the value is unchanged."""
    return _settled(e, current())


@functools.lru_cache(maxsize=4096)
def _settled(e: QExpr, budgets: Budgets) -> QExpr:
    """:func:`settle` once per size and budgets: the H and W axes of a square layer ask the
    same period checks (about a second each for a kernel ``n**64*m**64``)."""
    return settle(e)


def _minus(a: QExpr, b: QExpr) -> QExpr:
    """``a - b``; with Min/Max on both sides (a broadcast merge's ``max`` before a 'same'
    convolution) subtraction distributes: ``max(x, y) - b = max(x - b, y - b)``."""
    if isinstance(b, QPoly):
        return add(a, -b)
    if isinstance(a, QPoly):
        return add(scale(b, QPoly.const(-1)), a)
    return ext(a.kind, (_minus(x, b) for x in a.args))


def split_pad(total: QExpr, *, odd_at_end: bool = True) -> tuple[QExpr, QExpr]:
    """``(before, after)`` from a total: the odd pixel at the end (TF, PyTorch 'same') or start."""
    bounds = diff_bounds(total) if isinstance(total, QPoly) else (None, None)
    half_down = _half(total, bounds, up=False)
    half_up = _half(total, bounds, up=True)
    return (half_down, half_up) if odd_at_end else (half_up, half_down)


def _half(total: QExpr, bounds: tuple[int | None, int | None], *, up: bool) -> QExpr:
    """``ceil(total/2)`` or ``floor(total/2)``, settled.  When exact bounds of ``total``
    (:func:`~convsym.intdiv.diff_bounds`) give one value for the half, that constant is it
    (floor and ceiling are monotone): a 'same' stack's total padding ``2*ceiling(n/2) - n + 1``
    lies in [1, 2], so its larger half is 1 at any depth, where the period check behind
    :func:`settle` runs out of budget once the divisors pass a few thousand."""
    two = QPoly.const(2)
    lo, hi = bounds
    if lo is not None and hi is not None:
        a, b = (-(-lo // 2), -(-hi // 2)) if up else (lo // 2, hi // 2)
        if a == b:
            return QPoly.const(a)
    return _settle(div_ceil(total, two) if up else div_floor(total, two))


def torch_same_pad_total(*, k: QPoly, d: QPoly) -> QPoly:
    """PyTorch ``padding='same'`` (stride 1 only): ``P = d(k - 1)``; output size ``n``."""
    return d * (k - ONE)


def causal_pad(*, k: QPoly, d: QPoly) -> QPoly:
    """Keras 'causal' (Conv1D): ``p_l = d(k - 1)``, ``p_r = 0``; output ``floor((n-1)/s) + 1``."""
    return d * (k - ONE)


def keras_pool_out(n: QExpr, *, k: QPoly, s: QPoly, same: bool) -> QExpr:
    """Keras pooling: 'valid' ``floor((n - k)/s) + 1``; 'same' ``floor((n - 1)/s) + 1``."""
    if same:
        return add(div_floor(add(n, -ONE), s), ONE)
    return add(div_floor(add(n, -k), s), ONE)


def torch_pool_ceil_out(n: QExpr, *, k: QPoly, s: QPoly, d: QPoly, p: QPoly) -> QExpr:
    """PyTorch/ONNX pooling with ``ceil_mode=True``.

    ``o = ceil((n + 2p - k_e)/s) + 1``, then ``o -= 1`` when ``(o - 1) s >= n + p`` (the last
    window may not start in the right padding; pytorch #57178).  Equivalently
    ``min(ceil((n + 2p - k_e)/s), floor((n + p - 1)/s)) + 1``.
    """
    full = div_ceil(add(n, p * QPoly.const(2) - effective_kernel(k, d)), s)
    start_limit = div_floor(add(n, p - ONE), s)
    return add(ext("min", [full, start_limit]), ONE)


def pool_ceil_out(n: QExpr, *, k: QPoly, s: QPoly, d: QPoly, p_l: QPoly, p_r: QPoly) -> QExpr:
    """ONNX pooling with ``ceil_mode=1`` and pads ``(p_l, p_r)``: as PyTorch's, the last window
    must start inside the input or the left padding (onnxruntime 1.32, measured):
    ``min(ceil((n + P - k_e)/s), floor((n + p_l - 1)/s)) + 1``.
    """
    full = div_ceil(add(n, p_l + p_r - effective_kernel(k, d)), s)
    start_limit = div_floor(add(n, p_l - ONE), s)
    return add(ext("min", [full, start_limit]), ONE)


def onnx_same_pool_out(n: QExpr, *, k: QPoly, s: QPoly, d: QPoly) -> QExpr:
    """ONNX Runtime pooling with ``auto_pad`` SAME_UPPER / SAME_LOWER (measured, 1.32).

    Without dilation: ``ceil(n/s)``.  With dilation the padding is sized for the UNdilated
    kernel, ``P = (ceil(n/s) - 1)s + k - n``, and windows of the dilated one are counted:
    ``floor((n + P - k_e)/s) + 1 = ceil(n/s) - ceil((d - 1)(k - 1)/s)``, valid when that is
    at least 1 (onnxruntime's C++ division truncates a quotient in ``(-1, 0)`` to 0 and so
    gives 1 where no window fits; convsym refuses those inputs, docs/conventions-onnx.md).
    """
    if d.as_int() == 1:
        return div_ceil(n, s)
    lost = div_ceil((d - ONE) * (k - ONE), s)
    assert isinstance(lost, QPoly)  # a polynomial divided by a stride: a floor form
    return add(div_ceil(n, s), -lost)


def onnx_same_pad_total(n: QExpr, *, k: QPoly, s: QPoly) -> QExpr:
    """ONNX Runtime's SAME padding total ``P = (ceil(n/s) - 1)s + k - n`` (undilated ``k``;
    negative when ``k < s`` leaves input cells unread)."""
    used = add(scale(add(same_out(n, s=s), -ONE), s), k)
    return _minus(used, n)


def conv_transpose_out_onnx(n: QExpr, *, k: QPoly, s: QPoly, d: QPoly, p_l: QPoly, p_r: QPoly,
                            output_padding: QPoly) -> QExpr:
    """ONNX ConvTranspose, explicit pads: ``s(n - 1) + op + k_e - p_l - p_r``."""
    return add(scale(add(n, -ONE), s), output_padding + effective_kernel(k, d) - p_l - p_r)


def conv_transpose_same_onnx(n: QExpr, *, k: QPoly, s: QPoly, d: QPoly,
                             output_padding: QPoly) -> QExpr:
    """ONNX ConvTranspose with auto_pad SAME_*: ``n s`` when ``op + k_e >= s``, else the
    unpadded ``(n - 1)s + op + k_e`` (onnxruntime clamps the total padding at 0; measured)."""
    full = add(scale(add(n, -ONE), s), output_padding + effective_kernel(k, d))
    return _settle(ext("min", [scale(n, s), full]))


def conv_transpose_out_torch(n: QExpr, *, k: QPoly, s: QPoly, d: QPoly, pad: QPoly,
                             output_padding: QPoly) -> QExpr:
    """PyTorch ConvTranspose: ``(n - 1)s - P + d(k - 1) + op + 1`` (``P = 2p``)."""
    ki, di, oi, pi = k.as_int(), d.as_int(), output_padding.as_int(), pad.as_int()
    if ki is not None and di is not None and oi is not None and pi is not None:
        rest = QPoly.const(di * (ki - 1) + oi + 1 - pi)  # integers: no polynomial arithmetic
    else:
        rest = d * (k - ONE) + output_padding + ONE - pad
    return add(scale(add(n, -ONE), s), rest)


def conv_transpose_out_keras(n: QExpr, *, k: QPoly, s: QPoly, d: QPoly, same: bool,
                             output_padding: QPoly | None) -> QExpr:
    """Keras Conv*DTranspose.

    'valid': ``(n - 1)s + k_e + op`` with default ``op = max(k_e, s) - k_e``, i.e.
    ``(n - 1)s + max(k_e, s)``; 'same': ``n s`` when op is None, else
    ``(n - 1)s + (k_e mod 2) + op``.
    """
    ke = effective_kernel(k, d)
    base = scale(add(n, -ONE), s)
    if output_padding is None:
        if same:
            return scale(n, s)
        widest = ext("max", [ke, s])
        return _plus(base, widest)
    if same:
        return add(base, ke - QPoly.const(2) * _floordiv_poly(ke, 2) + output_padding)
    return add(base, ke + output_padding)


def keras_transpose_default_op(*, k: QPoly, s: QPoly, d: QPoly) -> QExpr:
    """Keras 'valid' transposed convolution's default ``op = max(k_e, s) - k_e``."""
    ke = effective_kernel(k, d)
    return add(ext("max", [ke, s]), -ke)


def keras_transpose_same_crop(*, k: QPoly, d: QPoly) -> QPoly:
    """Keras transposed 'same': the full scatter ``(n - 1)s + k_e`` is cropped by
    ``floor(k_e/2)`` at the start (and the output padding settles the end)."""
    return _floordiv_poly(effective_kernel(k, d), 2)


def transpose_as_conv_pads(n: QExpr, out: QExpr, *, k: QPoly, s: QPoly, d: QPoly,
                           crop: QPoly) -> tuple[QExpr, QExpr]:
    """A transposed convolution as a direct one (Dumoulin & Visin, relationship 14).

    Insert ``s - 1`` zeros between input cells (``(n - 1)s + 1`` cells), pad
    ``k_e - 1 - crop`` before and ``out - 1 + k_e - ((n - 1)s + 1) - before`` after, then
    slide the kernel with stride 1 and dilation ``d``: that gives ``out`` cells.  A
    negative padding crops the stretched input.
    """
    before = effective_kernel(k, d) - ONE - crop
    stretched = add(scale(add(n, -ONE), s), ONE)
    after = add(_minus(add(out, effective_kernel(k, d) - ONE), stretched), -before)
    return before, after


def _plus(a: QExpr, b: QExpr) -> QExpr:
    """``a + b`` for sizes, Min/Max allowed."""
    return add_sizes(a, b)


def _floordiv_poly(a: QPoly, by: int) -> QPoly:
    result = div_floor(a, QPoly.const(by))
    assert isinstance(result, QPoly)
    return result


def pad_out(n: QExpr, *, before: QPoly, after: QPoly) -> QExpr:
    """Zero (or constant, reflect, replicate) padding: ``n + p_l + p_r``."""
    return add(n, before + after)


def crop_out(n: QExpr, *, before: QPoly, after: QPoly) -> QExpr:
    """Cropping: ``n - c_l - c_r``, valid when it is at least 1."""
    return add(n, -(before + after))


def upsample_out(n: QExpr, *, factor: QPoly) -> QExpr:
    """Upsampling by an integer factor (Keras UpSampling, ``nn.Upsample(scale_factor=s)``):
    ``n s``."""
    return scale(n, factor)


def adaptive_bin_start(i: QPoly, *, n: QPoly, o: QPoly) -> QExpr:
    """Adaptive pooling (PyTorch, Keras 3): output ``o`` for any ``n >= 1``; bin ``i``
    spans ``[floor(i n / o), ceil((i + 1) n / o))``.  This returns the start."""
    return div_floor(i * n, o)


def conv_macs(out_sizes: Sequence[QExpr], *, kernel: Sequence[QPoly], c_in_per_group: QExpr,
              c_out: QExpr) -> QExpr | Product:
    """Convolution MACs without bias: ``prod(out) * C_out * prod(k) * C_in/g``, the output
    positions multiplied out first; left to multiply out when read where it may be
    (:func:`~convsym.sizes.product_later`: only summaries and cost tables read it)."""
    return product_later(tuple(out_sizes), (c_out, *kernel, c_in_per_group))


def conv_transpose_macs(in_sizes: list[QExpr], *, kernel: list[QPoly], c_in: QExpr,
                        c_out_per_group: QExpr) -> QExpr:
    """Transposed convolution MACs, costed on the INPUT size (each input pixel scatters one
    kernel): ``prod(in) * C_in * prod(k) * C_out/g``."""
    return mul_sizes(*in_sizes, c_in, *kernel, c_out_per_group)


def rf_size(r: QExpr, *, k: QPoly, d: QPoly, jump: QExpr) -> QExpr:
    """Receptive field after a layer (Araujo et al. 2019): ``r + (k_e - 1) j``."""
    return _plus(r, mul_sizes(effective_kernel(k, d) - ONE, jump))


def rf_jump(jump: QExpr, *, s: QPoly) -> QExpr:
    """Effective stride (jump) after a layer: ``j s``."""
    return scale(jump, s)


def rf_padding(pad: QExpr, *, p_l: QExpr, jump: QExpr) -> QExpr:
    """Effective left padding after a layer: ``P + p_l j`` (the first output's receptive
    field starts at input position ``-P``)."""
    if isinstance(p_l, QPoly) and p_l.is_const():
        return _plus(pad, scale(jump, p_l))  # a constant, possibly negative (a crop)
    return _plus(pad, mul_sizes(p_l, jump))


def conv_weight_count(kernel: list[QPoly], c_in: QPoly, c_out: QPoly, groups: QPoly) -> QPoly:
    """Kernel weights ``prod(k) * C_in/g * C_out`` (Keras and PyTorch alike).

    ``C_in/g`` must be exact; the caller checks that ``g`` divides ``C_in``.
    """
    total = ONE
    for k in kernel:
        total = total * k
    per_group = _exact_div(c_in, groups)
    return total * per_group * c_out


def _exact_div(a: QPoly, b: QPoly) -> QPoly:
    bi = b.as_int()
    if bi == 1:
        return a
    ai = a.as_int()
    if ai is not None and bi is not None:
        return QPoly.const(ai // bi)
    if b.terms and len(b.terms) == 1:
        result = div_floor(a, b)
        if isinstance(result, QPoly):
            return result
    raise ValueError("inexact channel division")


def dense_params(n_in: QPoly, n_out: QPoly, bias: bool) -> QPoly:
    """Dense / Linear: ``in * out + out`` (bias) or ``in * out``."""
    return n_in * n_out + (n_out if bias else ZERO)


def slice_len(length: QExpr, step: QPoly) -> QExpr:
    """``x[start:stop:step]`` keeps ``ceil((stop - start)/step)`` elements (Python and PyTorch,
    once the bounds are normalised to ``0 <= start < stop <= n``); ``length = stop - start``."""
    return div_ceil(length, step)
