"""Tests for convsym.reference.many: every configuration of a vectorised batch equals the
per-configuration reference (values and sizes) on the same data, whatever the batch mixes;
bad input and the element budget end in one ConvsymError."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.budget import raised
from convsym.errors import BudgetExceeded, LayerConfigError, ShapeError
from convsym.reference import conv, pool
from convsym.reference.many import windows_many

Config = tuple[list[int], list[int], list[int], list[tuple[int, int]], list[int]]


@st.composite
def configurations(draw: Any, op: str, rank: int, ceil_mode: bool) -> Config:
    """One valid configuration: the window fits the padded input; pooling padding at most
    half the kernel (PyTorch's rule, so no window is padding only)."""
    n, k, s, pads, d = [], [], [], [], []
    for _ in range(rank):
        ki = draw(st.integers(1, 4))
        di = draw(st.integers(1, 3)) if op != "avg" else 1
        si = draw(st.integers(1, 4))
        top = 3 if op == "conv" else ki // 2
        before = draw(st.integers(0, top))
        after = draw(st.integers(0, top)) if op == "conv" else before
        ke = di * (ki - 1) + 1
        ni = draw(st.integers(max(1, ke - before - after), max(1, ke - before - after) + 9))
        n.append(ni)
        k.append(ki)
        s.append(si)
        pads.append((before, after))
        d.append(di)
    return n, k, s, pads, d


def _one(op: str, x: Any, w: Any, cfg: Config, ceil_mode: bool) -> Any:
    n, k, s, pads, d = cfg
    if op == "conv":
        return conv(x, w, stride=s, padding=pads, dilation=d)
    return pool(x, op, kernel=k, stride=s, padding=pads, dilation=d, ceil_mode=ceil_mode)


def _check_batch(op: str, cfgs: list[Config], ceil_mode: bool, **kw: Any) -> None:
    n, k, s, pads, d = (np.array([c[i] for c in cfgs]) for i in range(5))
    many = windows_many(op, n, k, s, pads, d, ceil_mode=ceil_mode, keep=True, **kw)
    assert many.sizes.shape == n.shape
    for b, cfg in enumerate(cfgs):
        w = many.weights[b] if op == "conv" else None
        want = _one(op, many.inputs[b], w, cfg, ceil_mode)
        assert many.outputs[b].shape == want.shape, cfg
        assert tuple(many.sizes[b]) == want.shape[1:], cfg
        np.testing.assert_allclose(many.outputs[b], want, rtol=1e-4, atol=1e-5)


CASES = [("conv", False), ("max", False), ("max", True), ("avg", False), ("avg", True)]


@pytest.mark.parametrize(("op", "ceil_mode"), CASES)
@pytest.mark.parametrize("rank", [1, 2, 3])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_a_batch_equals_the_reference_one_configuration_at_a_time(
        op: str, ceil_mode: bool, rank: int, data: Any) -> None:
    count = data.draw(st.integers(1, 12))
    cfgs = [data.draw(configurations(op, rank, ceil_mode)) for _ in range(count)]
    _check_batch(op, cfgs, ceil_mode, seed=data.draw(st.integers(0, 3)))


def test_tiny_stacks_give_what_one_stack_gives() -> None:
    # strides and dilations mixed, so that configurations are restacked between axes
    rng = np.random.default_rng(1)
    cfgs: list[Config] = []
    for _ in range(40):
        k = rng.integers(1, 4, 2).tolist()
        d = rng.integers(1, 3, 2).tolist()
        ke = [di * (ki - 1) + 1 for ki, di in zip(k, d)]
        n = [e + int(rng.integers(0, 6)) for e in ke]
        cfgs.append((n, k, rng.integers(1, 4, 2).tolist(), [(1, 0), (0, 2)], d))
    _check_batch("conv", cfgs, False, chunk_elements=1)
    n, k, s, pads, d = (np.array([c[i] for c in cfgs]) for i in range(5))
    small = windows_many("max", n, k, s, pads, d, chunk_elements=1).sizes
    large = windows_many("max", n, k, s, pads, d).sizes
    assert (small == large).all()


def test_ceil_mode_drops_a_window_starting_in_the_right_padding() -> None:
    # n=4, k=2, s=3, p=1: ceil((4+2-2)/3)+1 = 3 windows, but the third starts at 6 >= 4+1
    args = [np.array([[v]]) for v in (4, 2, 3)] + [np.array([[[1, 1]]]), np.array([[1]])]
    assert windows_many("max", *args, ceil_mode=True).sizes.tolist() == [[2]]
    assert windows_many("max", *args).sizes.tolist() == [[2]]
    wide = [np.array([[v]]) for v in (5, 2, 2)] + [np.array([[[0, 0]]]), np.array([[1]])]
    assert windows_many("avg", *wide, ceil_mode=True).sizes.tolist() == [[3]]
    assert windows_many("avg", *wide).sizes.tolist() == [[2]]


def test_an_empty_batch() -> None:
    empty = np.zeros((0, 2), np.int64)
    many = windows_many("conv", empty, empty, empty, np.zeros((0, 2, 2), np.int64), empty)
    assert many.sizes.shape == (0, 2)


def _ones(rank: int = 1) -> list[Any]:
    one = np.ones((1, rank), np.int64)
    return [one + 4, one, one, np.zeros((1, rank, 2), np.int64), one]


@pytest.mark.parametrize(("change", "code"), [
    (lambda a: ("gauss", *a), "bad_pool_kind"),
    (lambda a: ("conv", a[0].astype(float), *a[1:]), "not_int"),
    (lambda a: ("conv", a[0] > 0, *a[1:]), "not_int"),
    (lambda a: ("conv", a[0], a[1] - 1, *a[2:]), "below_minimum"),
    (lambda a: ("conv", *a[:3], a[3] - 1, a[4]), "below_minimum"),
    (lambda a: ("conv", a[0], a[1][:, :0], *a[2:]), "bad_arity"),
    (lambda a: ("conv", np.ones((1, 4), np.int64), *a[1:]), "bad_arity"),
])
def test_bad_input_is_one_convsym_error(change: Any, code: str) -> None:
    op, *args = change(_ones())
    with pytest.raises((LayerConfigError, ShapeError)) as err:
        windows_many(op, *args)
    assert err.value.code == code
    assert "\n" not in str(err.value)


def test_ceil_mode_is_for_pooling() -> None:
    with pytest.raises(LayerConfigError) as err:
        windows_many("conv", *_ones(), ceil_mode=True)
    assert err.value.code == "bad_ceil_mode"


def test_a_configuration_over_the_element_budget_is_refused_before_any_work() -> None:
    calls = []
    big = [np.array([[300, 300]]), np.array([[3, 3]]), np.array([[1, 1]]),
           np.zeros((1, 2, 2), np.int64), np.array([[1, 1]])]
    with raised(verify_elements=10_000), pytest.raises(BudgetExceeded) as err:
        windows_many("conv", *big, check=lambda: calls.append(1))
    assert err.value.code == "budget_exceeded" and "verify_elements" in str(err.value)
    assert not calls


def test_the_check_runs_before_each_stack_and_can_stop_the_work() -> None:
    class Stop(Exception):
        pass

    def stop() -> None:
        raise Stop

    with pytest.raises(Stop):
        windows_many("max", *_ones(2), check=stop)


@pytest.mark.parametrize("field", [0, 1, 2, 4])
def test_a_huge_size_is_refused_not_wrapped_around(field: int) -> None:
    args = _ones(3)
    args[field] = args[field] * (1 << 40)  # products of such sizes would wrap an int64
    with pytest.raises(BudgetExceeded) as err:
        windows_many("conv", *args)
    assert err.value.code == "budget_exceeded"


def test_a_configuration_without_a_window_measures_zero_where_the_reference_raises() -> None:
    n, k = np.array([[2, 9], [9, 9]]), np.array([[5, 2], [2, 2]])
    ones, pads = np.ones((2, 2), np.int64), np.zeros((2, 2, 2), np.int64)
    assert windows_many("max", n, k, ones, pads, ones).sizes.tolist() == [[0, 0], [8, 8]]
    with pytest.raises(ShapeError):
        pool(np.zeros((1, 2, 9)), "max", kernel=(5, 2), stride=(1, 1), padding=((0, 0),) * 2)
