"""The built-in example networks: exact totals, canonical shapes, conditions, CLI."""

from __future__ import annotations

import json
from typing import Any

import pytest

from convsym.cli import main
from convsym.costing import costs
from convsym.errors import ShapeError
from convsym.examples import example, names
from convsym.expr import symbol
from convsym.printing.text import sstr

TOTALS = {
    "lenet5": 61_706,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "mobilenet_v2": 3_504_872,
    "unet": 31_030_658,
    "dcgan": 3_576_704,
}


@pytest.mark.parametrize(("name", "total"), sorted(TOTALS.items()))
def test_parameter_totals_match_the_frameworks(name: str, total: int) -> None:
    net = example(name)
    assert net.total_params == total
    assert net.non_trainable_params == 0


def test_every_zoo_example_is_registered() -> None:
    assert set(TOTALS) | {"wavenet", "c3d"} <= set(names())


def test_resnet50_last_feature_map_is_canonical_and_macs_exact() -> None:
    net = example("resnet50")
    last = next(r for r in net.rows if r.name == "layer4.2.relu_out")
    assert [sstr(s) for s in last.output_shape] == ["2048", "ceiling(H/32)", "ceiling(W/32)"]
    assert net.conditions == []  # any H, W >= 1 fits
    at224 = net.subs(H=224, W=224)
    assert at224.total_macs == 4_089_184_256
    assert costs(at224).total_flops == 2 * 4_089_184_256
    assert at224.rows[-1].output_shape == (1000,)


@pytest.mark.parametrize(("name", "macs"), [("resnet18", 1_814_073_344),
                                            ("vgg16", 15_470_264_320),
                                            ("mobilenet_v2", 300_774_272)])
def test_known_macs_at_224(name: str, macs: int) -> None:
    assert example(name).subs(H=224, W=224).total_macs == macs


def test_unet_accepts_only_some_sizes() -> None:
    net = example("unet")
    H = symbol("H")
    assert net.output_shape == (H - 184, symbol("W") - 184, 2)
    assert sum(1 for c in net.condition_records if c.kind == "eq") == 8
    assert net.subs(H=572, W=572).output_shape == (388, 388, 2)
    for ok in (188, 204, 572, 700):
        assert net.subs(H=ok, W=572).output_shape[0] == ok - 184
    for bad in (570, 571, 573, 574, 576):
        with pytest.raises(ShapeError) as err:
            net.subs(H=bad, W=572)
        assert err.value.code == "never_equal" and "Concatenate" in str(err.value)


def test_lenet5_keeps_the_linear_input_condition() -> None:
    net = example("lenet5")
    assert any(c.kind == "eq" for c in net.condition_records)
    assert net.subs(H=32, W=32).output_shape == (10,)
    assert net.subs(H=33, W=32).output_shape == (10,)
    with pytest.raises(ShapeError):
        net.subs(H=36, W=32)


def test_dcgan_generator_upsamples_to_64() -> None:
    net = example("dcgan")
    assert [r.output_shape[1] for r in net.rows if r.type == "ConvTranspose2d"] == \
        [4, 8, 16, 32, 64]
    assert net.output_shape == (3, 64, 64)


def test_wavenet_is_causal_and_keeps_its_length() -> None:
    net = example("wavenet")
    T = symbol("T")
    assert net.output_shape == (T, 256)
    assert net.conditions == []


def test_c3d_has_symbolic_depth_height_width() -> None:
    net = example("c3d")
    assert net.output_shape == (101,)
    assert {str(s) for s in net.free_symbols} == {"D", "H", "W"}
    assert net.subs(D=16, H=112, W=112).rows[1].output_shape == (16, 56, 56, 64)


def test_cli_summary_with_set(capsys: Any) -> None:
    assert main(["summary", "example:resnet50", "--set", "H=224", "--set", "W=224",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total_params"] == 25_557_032
    assert doc["total_macs"] == 4_089_184_256
    assert doc["layers"][-1]["output_shape"] == [1000]
