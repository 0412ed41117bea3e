"""Frozen and counted layer applications (:mod:`convsym.importers.common`)."""

from __future__ import annotations

import pytest

from convsym.importers.common import Applied, applied, unwrap
from convsym.intdiv import QPoly, to_sympy
from convsym.layers.torch import BatchNorm2d, Conv2d

SHAPE = (QPoly.const(2), QPoly.const(8), QPoly.const(8))


def _split(layer: object) -> tuple[object, object]:
    out = layer.infer([SHAPE])  # type: ignore[attr-defined]
    return to_sympy(out.trainable), to_sympy(out.non_trainable)


@pytest.mark.parametrize(("kwargs", "split"), [
    ({}, (76, 0)),
    ({"frozen": True}, (0, 76)),
    ({"frozen_weights": ("bias",)}, (72, 4)),
    ({"frozen_weights": ("weight", "bias")}, (0, 76)),
    ({"counted": 30}, (30, 0)),
    ({"counted": 30, "counted_frozen": 12}, (18, 12)),
    ({"counted": 30, "counted_frozen": 30}, (0, 30)),
    ({"counted": 0}, (0, 0)),
])
def test_an_application_splits_its_parameters(kwargs: dict[str, object],
                                              split: tuple[int, int]) -> None:
    conv = Conv2d(2, 4, 3)  # 72 weights and 4 biases
    layer = applied(conv, **kwargs)  # type: ignore[arg-type]
    assert _split(layer) == split
    assert unwrap(layer) is conv and layer.type_name == "Conv2d"
    assert (layer is conv) == (not kwargs)


def test_a_rewrapped_layer_keeps_only_the_new_marks() -> None:
    bn = BatchNorm2d(2)
    once = applied(bn, frozen=True)
    again = applied(once, frozen_weights=("weight",))
    assert isinstance(again, Applied) and again.layer is bn
    assert _split(again) == (2, 2)
