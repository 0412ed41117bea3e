"""FixedTensor (a tensor made from sizes in forward): its shape arithmetic against Python's.

Only sizes matter, so constant sizes and a stand-in trace that decides comparisons of numbers
are enough to check every slice against ``len(range(n)[s])``, which is PyTorch's rule too.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from convsym.importers.torch_fixed import FixedTensor, cat, meshgrid, stack
from convsym.intdiv import QPoly, as_int, floordiv


class _Numbers:
    """The trace's part a fixed tensor uses, for sizes that are numbers."""

    floordiv = staticmethod(floordiv)

    def fail(self, message: str, code: str = "unsupported_operation") -> Exception:
        return ValueError(message)

    def decide(self, left: QPoly, op: str, right: QPoly, text: str) -> Any:
        d = as_int(left - right)
        assert d is not None
        return {"<": d < 0, "<=": d <= 0, ">": d > 0, ">=": d >= 0, "==": d == 0}[op]

    def assume(self, left: QPoly, op: str, right: QPoly, why: str) -> None:
        if not self.decide(left, op, right, why):
            raise ValueError(why)


def _fixed(*sizes: int) -> FixedTensor:
    return FixedTensor(tuple(QPoly.const(n) for n in sizes), _Numbers())


def _ints(t: FixedTensor) -> tuple[int | None, ...]:
    return tuple(as_int(s) for s in t.sizes)


BOUNDS = [None, -9, -4, -1, 0, 1, 3, 9]


@pytest.mark.parametrize("n", [0, 1, 4, 7])
def test_every_slice_has_pythons_length(n: int) -> None:
    t = _fixed(n, 2)
    for start, stop, step in itertools.product(BOUNDS, BOUNDS, [None, 1, 2, 3]):
        s = slice(start, stop, step)
        assert _ints(t[s]) == (len(range(n)[s]), 2), s


def test_indices_none_and_ellipsis_place_axes_as_torch() -> None:
    t = _fixed(5, 6, 7)
    assert _ints(t[1]) == (6, 7)
    assert _ints(t[..., -1]) == (5, 6)
    assert _ints(t[:, None, 2:]) == (5, 1, 4, 7)
    assert _ints(t[None, ..., None]) == (1, 5, 6, 7, 1)
    with pytest.raises(ValueError, match="the index 5 exists"):
        t[5].sizes  # noqa: B018 - (a slice's shape is computed where it is used)


def test_stack_cat_meshgrid_flatten_repeat() -> None:
    a = _fixed(3, 4)
    assert _ints(stack([a, a, a], -1)) == (3, 4, 3)
    assert _ints(cat([a, _fixed(3, 2)], 1)) == (3, 6)
    assert [_ints(g) for g in meshgrid(_fixed(3), _fixed(5), indexing="xy")] == [(5, 3)] * 2
    assert _ints(a.unsqueeze(0).flatten(1)) == (1, 12)
    assert _ints(a.repeat(2, 1, 3)) == (2, 3, 12)
    assert _ints(a[:, :1].expand(2, -1, 9)) == (2, 3, 9)
    with pytest.raises(ValueError, match="cat of tensors whose other axes differ"):
        cat([a, _fixed(2, 4)], 1)
