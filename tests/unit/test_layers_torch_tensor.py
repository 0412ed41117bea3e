"""The tensor-operation layers of PyTorch forwards against Python's own semantics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.errors import ConvsymError
from convsym.expr import symbol
from convsym.intdiv import QPoly, evaluate, to_sympy
from convsym.layers.torch_tensor import (
    BatchExpanded,
    Expand,
    Gather,
    InPlace,
    Narrow,
    PadAxes,
    Permute,
    Reduce,
    Repeat,
    Reshape,
    Select,
    Slice,
    Stack,
    TensorOperand,
    Unsqueeze,
)

C = QPoly.const
N = symbol("n")


def _shape(layer: object, *shape: QPoly) -> tuple[object, ...]:
    return tuple(to_sympy(s) for s in layer.infer([shape]).shape)  # type: ignore[attr-defined]


bound = st.one_of(st.none(), st.integers(-40, 40))


@settings(deadline=None)
@given(n=st.integers(1, 30), start=bound, stop=bound, step=st.integers(1, 5))
def test_slice_is_python_slicing(n: int, start: int | None, stop: int | None, step: int
                                 ) -> None:
    expected = len(range(n)[start:stop:step])
    layer = Slice(1, start, stop, step)
    if expected == 0:
        with pytest.raises(ConvsymError):
            layer.infer([(C(n),)])
        return
    assert _shape(layer, C(n)) == (expected,)


@settings(deadline=None)
@given(n=st.integers(1, 40), a=st.integers(0, 6), b=st.integers(0, 6), step=st.integers(1, 4))
def test_symbolic_slice_instantiates_to_python_slicing(n: int, a: int, b: int, step: int
                                                       ) -> None:
    """``x[:, a : n - b : step]`` with a symbolic n: the closed form, where it holds."""
    out = Slice(1, a, N - b if b else None, step).infer([(QPoly.sym(N),)])
    expected = len(range(n)[a:(n - b) if b else None:step])
    holds = all(evaluate(c.expr, {N: n}) >= 0 if c.kind == "ge" else
                evaluate(c.expr, {N: n}) == 0 for c in out.conditions)
    if holds:
        assert evaluate(out.shape[0], {N: n}) == expected
    elif b and n - b < 0:  # Python would count this stop from the end: a different closed
        # form, which convsym does not claim; the failing condition says so
        broken = [c.rule for c in out.conditions if evaluate(c.expr, {N: n}) < 0]
        assert "a negative stop would count from the end of the axis instead" in broken
    else:  # refused: empty, or a start past the end
        assert expected == 0 or a > n


def test_a_slice_past_the_end_is_clamped_when_decided() -> None:
    assert _shape(Slice(1, 2, 100), C(10)) == (8,)
    assert _shape(Slice(1, -100, 3), C(10)) == (3,)
    out = Slice(1, None, 5).infer([(QPoly.sym(N),)])
    assert [str(c.relation()) for c in out.conditions] == ["n >= 5"]


def test_shape_layers() -> None:
    n = QPoly.sym(N)
    assert _shape(Permute((0, 2, 3, 1)), C(4), n, C(5)) == (to_sympy(n), 5, 4)
    assert _shape(Reshape((2, -1)), C(4), n) == (2, 2 * N)
    assert _shape(Select(2, -1), C(4), n) == (4,)
    assert _shape(Unsqueeze(1), C(4), n) == (1, 4, N)
    assert _shape(Unsqueeze(3), C(4), n) == (4, N, 1)
    assert _shape(Reduce("mean", (2, 3), True), C(4), n, n) == (4, 1, 1)
    assert _shape(Reduce("sum", -1), C(4), n) == (4,)
    assert _shape(Expand((-1, 3, 7)), C(4), C(1), C(1)) == (4, 3, 7)
    assert _shape(TensorOperand("multiply", (4, 1, 1), 4), C(4), n, n) == (4, N, N)
    assert Stack(1).infer([(C(4), n), (C(4), n)]).shape == (C(2), C(4), n)


@pytest.mark.parametrize(("make", "shape", "words"), [
    (lambda: Permute((1, 0, 2)), (C(4), C(5)), "keeps the batch axis"),
    (lambda: Reduce("mean", 0), (C(4),), "is the batch axis"),
    (lambda: Select(1, 4), (C(4),), "outside the axis"),
    (lambda: Reshape((3, -1)), (C(4), C(5)), "does not divide"),
    (lambda: Expand((3,)), (C(2), C(5)), "has fewer axes"),
    (lambda: Expand((-1, 3)), (C(2), C(5)), "neither 1 nor the target size"),
    (lambda: TensorOperand("add", (3, 1)), (C(4), C(5)), "never agree"),
])
def test_bad_shape_operations_are_refused(make: object, shape: tuple[QPoly, ...], words: str
                                          ) -> None:
    with pytest.raises(ConvsymError) as info:
        make().infer([shape])  # type: ignore[operator]
    assert words in str(info.value)


@settings(deadline=None)
@given(n=st.integers(1, 30), start=st.integers(-40, 40), length=st.integers(0, 40))
def test_narrow_is_pytorchs_narrow(n: int, start: int, length: int) -> None:
    """No clamping, unlike a slice: past the end (or an empty result) is refused."""
    begin = start + n if start < 0 else start
    fits = 0 <= begin and begin + length <= n and length > 0
    layer = Narrow(1, start, length)
    if not fits:
        with pytest.raises(ConvsymError):
            layer.infer([(C(n),)])
        return
    assert _shape(layer, C(n)) == (length,)


def test_a_symbolic_narrow_keeps_that_it_fits() -> None:
    out = Narrow(1, 1, 1000).infer([(QPoly.sym(N),)])
    assert [str(c.relation()) for c in out.conditions] == ["n >= 1001"]
    with pytest.raises(ConvsymError, match="past the end"):
        Narrow(1, 0, N + 5).infer([(QPoly.sym(N),)])


@settings(deadline=None)
@given(a=st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=3), data=st.data())
def test_in_place_results_keep_the_target_shape(a: list[int], data: st.DataObject) -> None:
    """``a.add_(b)``: ``a``'s shape when each of ``b``'s sizes is ``a``'s or 1, else refused
    (the broadcast would grow ``a``), for a traced ``b`` and a fixed operand alike."""
    b = data.draw(st.lists(st.sampled_from([1, 2, 3]), min_size=len(a), max_size=len(a)))
    fits = all(y in (x, 1) for x, y in zip(a, b))
    shape = tuple(C(v) for v in a)
    for infer in (lambda: InPlace("add").infer([shape, tuple(C(v) for v in b)]),
                  lambda: TensorOperand("multiply", (1, *b), inplace=True).infer([shape])):
        if fits:
            assert tuple(to_sympy(s) for s in infer().shape) == tuple(a)
        else:
            with pytest.raises(ConvsymError):
                infer()


def test_batch_expanded_has_its_own_shape_whatever_the_input() -> None:
    n = QPoly.sym(N)
    token = BatchExpanded((1, 8), 8)
    assert _shape(token, n, C(3)) == _shape(token, C(5)) == (1, 8)
    assert to_sympy(token.infer([(n,)]).trainable) == 8
    assert _shape(BatchExpanded((to_sympy(n), 3)), C(2)) == (N, 3)
    assert to_sympy(BatchExpanded((1, 8)).infer([(n,)]).trainable) == 0
    # a size may be 0 (an encoding made at H // 8), as PyTorch's; never below
    assert _shape(BatchExpanded((0, 8)), C(2)) == (0, 8)
    with pytest.raises(ConvsymError):
        BatchExpanded((-1, 8)).infer([(n,)])


def test_pad_axes_pads_from_the_last_axis_back() -> None:
    n = QPoly.sym(N)
    assert _shape(PadAxes((0, 0, 1, 0, 0, 0)), C(2), n, C(8)) == (2, N + 1, 8)
    assert _shape(PadAxes((1, 2)), C(2), n, C(8)) == (2, N, 11)
    assert _shape(PadAxes((0, 0, -1, -1)), C(3), C(4)) == (1, 4)
    out = PadAxes((0, 0, -2, 0)).infer([(C(3), n, C(4))])
    assert "n >= 3" in [str(c.relation()) for c in out.conditions]
    for pads in [(1, 2, 3), (0,) * 8, ()]:
        with pytest.raises(ConvsymError):
            PadAxes(pads).infer([(C(3), n, C(4))])
    with pytest.raises(ConvsymError):  # nothing left of the axis
        PadAxes((0, 0, -2, -2)).infer([(C(3), C(4))])


def test_gather_takes_count_entries_that_must_exist() -> None:
    n = QPoly.sym(N)
    assert _shape(Gather(2, 4, 0, 3), C(3), n) == (3, 4)
    assert _shape(Gather(1, 2, -1, 0), C(3), n) == (2, N)
    out = Gather(2, 2, -5, 9).infer([(C(3), n)])
    assert sorted(str(c.relation()) for c in out.conditions) == ["n >= 10", "n >= 5"]
    with pytest.raises(ConvsymError):  # index 3 of an axis of 3
        Gather(1, 2, 0, 3).infer([(C(3), n)])
    with pytest.raises(ConvsymError):  # the batch axis
        Gather(0, 2, 0, 1).infer([(C(3), n)])


def test_repeat_multiplies_each_axis() -> None:
    n = QPoly.sym(N)
    assert _shape(Repeat((2, 1)), C(3), n) == (6, N)
    assert _shape(Repeat((1, "n")), C(3), n) == (3, N**2)
    with pytest.raises(ConvsymError):  # one count per axis
        Repeat((2,)).infer([(C(3), n)])
