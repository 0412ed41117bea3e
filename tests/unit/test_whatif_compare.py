"""compare(): aligned rows, exact differences, numeric evaluation; the depthwise what-if."""

from __future__ import annotations

import copy

import pytest

from convsym import Sequential
from convsym.errors import UsageError
from convsym.examples import SPECS, example
from convsym.layers.torch import Conv2d, Flatten, Linear, ReLU
from convsym.spec import load
from convsym.whatif import compare, depthwise_whatif


def test_kernel_change() -> None:
    spec = copy.deepcopy(SPECS["seed3"])
    spec["layers"][1]["Conv2D"]["kernel_size"] = 5
    table = compare(example("seed3"), load(spec))
    rows = {r.name: r for r in table.rows}
    assert rows["conv2d_1"].params_b == 5 * 5 * 10 * 20 + 20
    assert rows["conv2d_1"].delta_params == 3200 and rows["conv2d_1"].changed
    assert not rows["dense"].changed
    assert table.totals.params_a == 15120 and table.totals.delta_params == 3200
    assert "* conv2d_1 (Conv2D)" in table.text()


def test_inserted_layer_is_added() -> None:
    spec = copy.deepcopy(SPECS["seed3"])
    spec["layers"].insert(2, {"MaxPooling2D": {"pool_size": 2}})
    table = compare(example("seed3"), load(spec))
    statuses = [(r.name, r.status) for r in table.rows]
    assert ("max_pooling2d", "added") in statuses
    assert dict(statuses)["dense"] == "changed"
    assert table.to_dict()["totals"]["params_b"] == 5520


def test_symbolic_against_numeric_and_at() -> None:
    a = example("seed1_symbolic")
    table = compare(a, a.subs(n=28))
    first = table.rows[0]
    assert str(first.shape_a) == "(n - 2, n - 2, 32)" and first.shape_b[0] == 26
    assert all(table.differs(r) for r in table.rows)
    at = compare(a, a.subs(n=28), at={"n": 28, "c": 1})
    assert not any(at.differs(r) for r in at.rows)
    assert at.to_dict()["rows"][1]["macs_a"] == 10616832


def test_symbolic_difference_is_exact() -> None:
    a = example("seed1_symbolic")
    table = compare(a, a.subs(c="c + 2"))
    assert str(table.rows[0].delta_params) == "576"
    assert table.rows[1].status == "same"


def test_depthwise_whatif_seed3() -> None:
    what = depthwise_whatif(example("seed3"), "conv2d_1")
    assert (what.input_maps, what.filters) == (10, 20)
    assert (what.standard.maps, what.standard.params) == (20, 1820)
    assert (what.imagined.maps, what.imagined.params) == (10 * 20, 9 * 10 * 20 + 200)
    assert what.standard.output == (8, 8, 20) and what.imagined.output == (8, 8, 200)
    assert what.standard.kernel_weights == what.imagined.kernel_weights == 1800
    assert what.standard.macs == what.imagined.macs == 115200
    assert what.comparison is not None
    assert what.comparison.totals.params_b == 130500  # Dense now sees 8*8*200 = 12,800
    text = what.text()
    assert "10 x 20 = 200 maps" in text and "DepthwiseConv2D" in text
    assert [s.kind for s in what.steps][:2] == ["standard", "standard"]
    assert what.to_dict()["imagined"]["params"] == 2000
    assert "\\item" in what.derivation("latex")


def test_depthwise_whatif_torch_groups_and_broken_rest() -> None:
    net = Sequential([Conv2d(3, 10, 4, stride=2, padding=1), ReLU(),
                      Conv2d(10, 20, 3, stride=2, padding=1), Flatten(), Linear(1280, 10)],
                     input_shape=(3, 32, 32))
    what = depthwise_whatif(net, 2)
    assert "groups=10" in what.imagined.layer and what.imagined.params == 2000
    assert what.comparison is None and "12800" in what.note


@pytest.mark.parametrize(("row", "code"), [("dense", "not_a_convolution"),
                                           ("conv2d_9", "bad_row"), (7, "bad_row")])
def test_depthwise_whatif_bad_rows(row: str | int, code: str) -> None:
    with pytest.raises(UsageError) as info:
        depthwise_whatif(example("seed3"), row)
    assert info.value.code == code
