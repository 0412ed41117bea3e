"""convsym.verification with the NumPy reference: agreement, a planted bug found, refusals."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from convsym import Sequential, load
from convsym.cli import main
from convsym.errors import UsageError
from convsym.examples import example
from convsym.intdiv import QPoly, add, as_int
from convsym.layers.base import Inference, Shape
from convsym.layers.frontend import layer_class
from convsym.layers.keras import Conv2D, Input, MaxPooling2D
from convsym.verification import verify

pytest.importorskip("numpy")


@layer_class
class Conv2DOffByOne(Conv2D):
    """A planted bug: one too many rows once the input is taller than 10."""

    @property
    def type_name(self) -> str:
        return "Conv2D"

    def infer_one(self, shape: Shape) -> Inference:
        out = super().infer_one(shape)
        h = as_int(shape[0])
        if h is not None and h > 10:
            out.shape = (add(out.shape[0], QPoly.const(1)), *out.shape[1:])
        return out


@layer_class
class Conv2DPlusOne(Conv2D):
    """A planted bug in the closed form itself: every output is one row too tall."""

    @property
    def type_name(self) -> str:
        return "Conv2D"

    def infer_one(self, shape: Shape) -> Inference:
        out = super().infer_one(shape)
        out.shape = (add(out.shape[0], QPoly.const(1)), *out.shape[1:])
        return out


def test_a_wrong_closed_form_is_caught_by_the_reference() -> None:
    net = Sequential([Input(("n", "m", 2)), Conv2DPlusOne(4, 3, name="bad")])
    result = verify(net, samples=5, backends=["reference"], seed=3)
    mismatch = result.mismatch
    assert mismatch is not None and mismatch.backend == "reference"
    assert mismatch.values == {"n": 3, "m": 3}  # shrunk to the smallest admissible sizes
    assert (mismatch.convsym, mismatch.backend_says) == ("(2, 1, 4)", "(1, 1, 4)")


def test_examples_agree_with_the_reference() -> None:
    for name in ("seed1_symbolic", "seed3_symbolic", "lenet5"):
        result = verify(example(name), samples=4, backends=["reference"])
        assert result.ok, result.mismatch
        assert result.instances == 4
        assert result.compared["reference"] == result.compared["closed form"] > 0


def test_a_planted_bug_is_found_and_shrunk_to_the_smallest_size() -> None:
    net = Sequential([Input(("n", "n", 1)), Conv2DOffByOne(2, 3, name="conv2d")])
    result = verify(net, samples=30, backends=["reference"], seed=1)
    assert not result.ok
    mismatch = result.mismatch
    assert mismatch is not None
    # the concrete instance is built by the buggy layer too, so the closed form and the
    # concrete propagation disagree first, at the smallest n above 10
    assert mismatch.values == {"n": 11}
    assert mismatch.layer == "conv2d"
    assert "(9, 9, 2)" in mismatch.convsym and "(10, 9, 2)" in mismatch.backend_says
    assert "layer 'conv2d' at n = 11" in str(mismatch)


def test_refusals_are_counted_and_conditions_agree_with_propagation() -> None:
    net = Sequential([Input(("n", "n", 3)), Conv2D(4, 5), MaxPooling2D(2)])
    result = verify(net, samples=6, backends=["reference"])
    assert result.ok and result.instances == 6
    assert result.refusals == 5  # n = 1..5, each once: sizes below 6 are refused


def test_concrete_networks_are_checked_once() -> None:
    result = verify(example("seed3"), samples=10, backends=["reference"])
    assert result.ok and result.instances == 1 and result.symbols == []


def test_admissible_sizes_far_above_the_range_are_found() -> None:
    # every valid H is 16t + 12 with t >= 11: nothing in 1..64
    net = example("unet")
    checker_result = verify(net, samples=1, backends=[], refusals=False)
    assert checker_result.instances == 1


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"samples": 0}, "bad_samples"),
    ({"samples": True}, "bad_samples"),
    ({"max_size": 0}, "bad_max_size"),
    ({"backends": ["tensorflow"]}, "bad_backend"),
])
def test_bad_arguments(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(UsageError) as info:
        verify(example("seed1"), **kwargs)
    assert info.value.code == code


def test_cli_exit_codes_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "example:seed1_symbolic", "--samples", "2", "--backend",
                 "reference", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["symbols"] == ["c", "n"] and out["instances"] == 2
    assert main(["verify", "example:seed1", "--samples", "0"]) == 2
    assert "is not an integer from 1 to 10000" in capsys.readouterr().err


def test_cli_reports_a_mismatch_with_exit_1(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import convsym.commands.verify as command

    buggy = Sequential([Input(("n", "n", 1)), Conv2DOffByOne(2, 3, name="conv2d")])
    monkeypatch.setattr(command, "resolve", lambda *a, **k: buggy)
    assert main(["verify", "example:seed1", "--samples", "20", "--backend", "reference"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "n = 11" in out


def test_verify_result_fields() -> None:
    result = verify(example("seed1"), backends=["reference"])
    assert {f.name for f in dataclasses.fields(result)} >= {"instances", "compared", "mismatch"}


def test_cli_refuses_runs_too_large_to_finish(capsys: pytest.CaptureFixture[str]) -> None:
    from convsym.cli import main

    assert main(["verify", "example:seed1", "--samples", "1000000000"]) == 2
    assert "from 1 to 10000" in capsys.readouterr().err
    assert main(["verify", "example:seed1_symbolic", "--max-size", "100000"]) == 2
    assert "from 1 to 4096" in capsys.readouterr().err


def test_a_chain_with_its_own_symbolic_kernel_and_stride_per_layer_finds_sizes() -> None:
    """Random sizes are admissible almost nowhere (every layer's room must hold): it ran to
    verify_seconds with no instance; a corner (hyperparameters 1, input sizes at the top)
    and points near it are admissible."""
    spec = {"dialect": "torch", "input": [2, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 2, "out_channels": 2, "kernel_size": f"k{i}",
                    "stride": f"s{i}"}} for i in range(40)]}
    result = verify(load(spec), samples=3, backends=["reference"])
    assert result.ok and result.instances == 3 and result.refusals == 3


def test_a_budget_during_substitution_is_no_mismatch() -> None:
    # a substitution out of build_seconds is the budget's line, never a "MISMATCH"
    from convsym.budget import raised
    from convsym.errors import BudgetExceeded
    from convsym.keras import Conv2D, Input
    from convsym.verification import verify

    net = Sequential([Input(("n", "n", 3)), Conv2D(4, "k", strides=2), Conv2D(4, 3)])
    with raised(build_seconds=1e-9), pytest.raises(BudgetExceeded, match="build_seconds"):
        verify(net, samples=3, backends=["reference"])
