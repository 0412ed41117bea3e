"""Derivation data (convsym.derivation) and what the seed derivations must say."""

from __future__ import annotations

import pathlib

import pytest
import sympy

from convsym.cli import main
from convsym.derivation import ChannelMix, Derivation, derive, settle
from convsym.errors import ConvsymError
from convsym.examples import example
from convsym.expr import symbol
from convsym.intdiv import QPoly, ceildiv, floordiv, to_sympy
from convsym.layers import keras as K
from convsym.layers import torch as T

# --- data ------------------------------------------------------------------------------------


def test_single_keras_layer() -> None:
    d = derive(K.Conv2D(64, 3), input_shape=(26, 26, 32))
    assert d.kind == "layer" and d.dialect == "keras"
    (step,) = d.steps
    assert step.kind == "conv" and step.output == (24, 24, 64)
    (size,) = step.sizes
    assert size.axes == ("H", "W") and size.rule == "valid" and size.result == 24
    assert size.values["n"] == 26 and size.values["k_e"] == 3
    assert [(w.name, w.shape, w.count, w.layout) for w in step.weights] == [
        ("kernel", (3, 3, 32, 64), 18432, ("k_h", "k_w", "C_in", "C_out")),
        ("bias", (64,), 64, ("C_out",))]
    assert step.params == 18496 and d.totals is not None and d.totals.total == 18496


def test_single_torch_layer_uses_the_torch_layout() -> None:
    step = derive(T.Conv2d(32, 64, 3), input_shape=(32, 26, 26)).steps[0]
    assert step.weights[0].shape == (64, 32, 3, 3)
    assert step.weights[0].layout == ("C_out", "C_in", "k_h", "k_w")
    assert step.channels is not None and step.channels.index == "[j]"
    assert step.channels.filter_shape == (32, 3, 3)


def test_keras_index_has_one_colon_per_kernel_axis_and_channels() -> None:
    mix = derive(K.Conv1D(8, 3), input_shape=(20, 4)).steps[0].channels
    assert mix is not None and mix.index == "[:, :, j]"
    mix = derive(K.Conv3D(8, 3), input_shape=(9, 9, 9, 4)).steps[0].channels
    assert mix is not None and mix.index == "[:, :, :, :, j]"


def test_grouped_convolution() -> None:
    step = derive(T.Conv2d(8, 16, 3, groups=4, bias=False), input_shape=(8, 12, 12)).steps[0]
    assert step.weights[0].shape == (16, 2, 3, 3)
    assert step.weights[0].layout == ("C_out", "C_in/g", "k_h", "k_w")
    assert step.channels is not None and step.channels.groups == 4
    assert "groups=4" in derive(T.Conv2d(8, 16, 3, groups=4), input_shape=(8, 12, 12)).to_text()


def test_channel_sum_is_explained_in_full_at_the_first_multichannel_conv() -> None:
    steps = derive(example("seed1")).steps
    first, second = (s.channels for s in steps)
    assert isinstance(first, ChannelMix) and isinstance(second, ChannelMix)
    assert (first.c_in, first.full) == (1, False)
    assert (second.c_in, second.c_out, second.full) == (32, 64, True)
    assert all(s.channels and s.channels.full for s in derive(example("seed3"), explain="all")
               .steps if s.kind == "conv")
    assert all(s.channels is None for s in derive(example("seed1"), explain="none").steps)


def test_symbolic_network_keeps_conditions_and_symbols() -> None:
    d = derive(example("seed1_symbolic"))
    n = symbol("n")
    assert d.symbols == ("c", "n")
    assert [c.relation for c in d.conditions] == [sympy.Ge(n, 5)]
    assert d.conditions[0].layer == "conv2d_1" and d.conditions[0].axis == "H"
    assert d.steps[0].sizes[0].conditions == (sympy.Ge(n, 3),)
    assert d.steps[0].weights[0].count == 288 * symbol("c")
    assert d.steps[0].sizes[0].symbolic and not derive(example("seed1")).steps[0].sizes[0] \
        .symbolic


def test_same_padding_values_are_settled_by_the_engine() -> None:
    size = derive(example("seed3_symbolic")).steps[0].sizes[0]
    assert size.rule == "same_tf"
    n = symbol("n")
    assert size.values["p_l"] == 1  # max(0, ceil(n/2) + floor(n/2) - n + 1) is always 1
    assert size.values["P"] == 2 * sympy.ceiling(n / 2) - n + 2


def test_settle() -> None:
    n = QPoly.sym(symbol("n"))
    two = QPoly.const(2)
    assert to_sympy(settle(ceildiv(n, two) + floordiv(n, two) - n)) == 0
    assert settle(n) == n
    assert to_sympy(settle(floordiv(n, two))) == sympy.floor(symbol("n") / 2)


def test_totals_and_non_trainable() -> None:
    d = derive(example("seed3"))
    assert d.totals is not None and d.totals.total == 15120
    assert [name for name, _ in d.totals.parts] == ["conv2d", "conv2d_1", "dense"]
    bn = derive(K.BatchNormalization(), input_shape=(8, 8, 64))
    assert bn.totals is not None
    assert (bn.totals.trainable, bn.totals.non_trainable) == (128, 128)
    assert "128 non-trainable" in bn.to_text()


def test_identity_flatten_and_merge_kinds() -> None:
    kinds = [s.kind for s in derive(example("seed3")).steps]
    assert kinds == ["conv", "conv", "flatten", "dense"]
    assert derive(T.ReLU(), input_shape=(3, 4, 4)).steps[0].kind == "identity"
    d = derive(example("resnet18"))
    assert "merge" in {s.kind for s in d.steps}
    add = next(s for s in d.steps if s.kind == "merge")
    assert len(add.inputs) == 2


@pytest.mark.parametrize(("call", "code", "message"), [
    (lambda: derive(example("seed1"), input_shape=(3, 3)), "unexpected_input_shape",
     "input_shape is for a single layer"),
    (lambda: derive(K.Conv2D(8, 3)), "missing_input", "needs input_shape"),
    (lambda: derive(42), "not_derivable", "cannot derive a int"),
    (lambda: derive(example("seed1"), explain="most"), "bad_choice", "explain='most'"),
    (lambda: derive(example("seed1")).render("pdf"), "bad_format", "unknown format 'pdf'"),
])
def test_errors(call: object, code: str, message: str) -> None:
    with pytest.raises(ConvsymError) as info:
        call()  # type: ignore[operator]
    assert info.value.code == code and message in str(info.value)


def test_not_derivable_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        derive(object())


def test_jupyter_reprs() -> None:
    d = derive(example("seed1"))
    assert d._repr_latex_().startswith("\\section*{seed1")
    assert d._repr_markdown_().startswith("# seed1")
    assert str(d) == d.to_text()


# --- proofs ----------------------------------------------------------------------------------


def test_proved_statement() -> None:
    from convsym.proof import prove

    d = derive(prove("ceiling(n/2) == floor((n + 1)/2)"))
    assert d.kind == "proof" and d.proof is not None and d.proof.status == "proved"
    text = d.to_text()
    assert "Proved by" in text and "Ceiling as floor" in text


def test_refuted_statement_shows_the_counterexample() -> None:
    from convsym.proof import prove

    d = derive(prove("floor(n/2) == ceiling(n/2)"))
    assert d.proof is not None and d.proof.status == "refuted"
    assert d.proof.counterexample and d.proof.counterexample[0][0] == "n"
    assert "Refuted. Counterexample: n = " in d.to_text()


def test_unknown_statement_says_why() -> None:
    from types import SimpleNamespace

    proof = SimpleNamespace(status="unknown", method="bounded", statement=sympy.Eq(
        symbol("n"), symbol("n")), steps=(), reason="checked up to 1000 only",
        counterexample=None, assumptions=())
    assert "Not decided: checked up to 1000 only." in derive(proof).to_text()


# --- what the seed derivations must show -------------------------------------------------------

SEEDS = ["seed1", "seed1_symbolic", "seed2", "seed3", "seed3_symbolic"]


@pytest.mark.parametrize("name", SEEDS)
def test_seed_derivations_explain_the_channel_sum(name: str) -> None:
    d = derive(example(name))
    text, latex, md = d.to_text(), d.to_latex(), d.to_markdown()
    bias = name != "seed2"
    assert ("y_j = b_j + sum(x_i * w_ij for i = 0, ..." if bias
            else "y_j = sum(x_i * w_ij for i = 0, ...") in text
    assert "convolved with the slice w_ij of filter j" in text
    assert "are added into one map, not kept apart" in text
    assert "kernel[:, :, :, j]" in text and "the filters of output map j are" in text
    assert r"\sum_{i=0}^{" in latex and r"x_{i} * w_{ij}" in latex
    assert r"\sum_{i=0}^{" in md


def test_seed1_says_64_maps_not_2048() -> None:
    d = derive(example("seed1"))
    assert "64 filters give 64 maps, not 32 * 64 = 2,048" in " ".join(d.to_text().split())
    assert r"$32 \cdot 64 = 2{,}048$" in d.to_latex()
    assert "of shape (3, 3, 32)" in d.to_text()


@pytest.mark.parametrize(("name", "arithmetic"), [
    ("seed1", ["3 * 3 * 32 * 64 = 18,432", "18,432 + 64 = 18,496", "288 + 32 = 320",
               "28 - 3 + 1 = 26", "26 - 3 + 1 = 24", "320 + 18,496 = 18,816"]),
    ("seed2", ["5 * 5 * 3 * 32 = 2,400", "5 * 5 * 32 * 64 = 51,200",
               "2,400 + 51,200 = 53,600"]),
    ("seed3", ["ceiling(32/2) = 16", "4 * 4 * 3 * 10 = 480", "480 + 10 = 490",
               "3 * 3 * 10 * 20 = 1,800", "8 * 8 * 20 = 1,280", "1280 * 10 = 12,800",
               "12,800 + 10 = 12,810", "P = max((16 - 1)*2 + 4 - 32, 0) = 2",
               "p_l = floor(P/2) = 1", "490 + 1,820 + 12,810 = 15,120"]),
])
def test_numeric_arithmetic_is_shown(name: str, arithmetic: list[str]) -> None:
    text = " ".join(derive(example(name)).to_text().split())
    for item in arithmetic:
        assert item in text, item


def test_numeric_arithmetic_in_latex() -> None:
    latex = derive(example("seed1")).to_latex()
    assert r"3 \cdot 3 \cdot 32 \cdot 64 = 18{,}432" in latex
    assert r"18{,}432 + 64 = 18{,}496" in latex


def test_symbolic_results_are_closed_forms() -> None:
    text = " ".join(derive(example("seed3_symbolic")).to_text().split())
    assert "o_H = o_W = ceiling(ceiling(n/2)/2) = ceiling(n/4)" in text
    assert "200*ceiling(n/4)**2 + 2,320" in text  # a count: digits grouped
    text = " ".join(derive(example("seed1_symbolic")).to_text().split())
    assert "o_H = o_W = (n - 2) - 3 + 1 = n - 4" in text
    assert "n >= 5" in text and "3 * 3 * c * 32 = 288*c" in text


def test_dialect_conventions_are_stated() -> None:
    def flat(d: Derivation) -> str:
        return " ".join(d.to_text().split())

    assert "the Keras/TF convention, for any stride" in flat(derive(example("seed3")))
    torch_same = derive(T.Conv2d(4, 4, 3, padding="same"), input_shape=(4, "n", "n"))
    assert "the PyTorch convention, stride 1 only" in flat(torch_same)
    ceil = derive(T.MaxPool2d(2, stride=2, ceil_mode=True), input_shape=(4, "n", "n"))
    assert "right padding" in " ".join(ceil.to_text().split())


def test_relationships_are_numbered_once_and_cited_after() -> None:
    lines = derive(example("seed3")).to_text().splitlines()
    assert sum(line.startswith("Relationship 1 (") for line in lines) == 1
    assert any(line.startswith("By Relationship 1") for line in lines)


# --- the command -------------------------------------------------------------------------------


def test_cli_writes_a_standalone_document(tmp_path: pathlib.Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "seed1.tex"
    assert main(["derive", "example:seed1", "--format", "latex", "--standalone", "-o",
                 str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("\\documentclass")
    assert "wrote" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "status", "message"), [
    (["derive", "example:seed1", "--standalone"], 2, "--standalone is for --format latex"),
    (["derive", "example:nope"], 2, "unknown example"),
    (["derive", "example:seed1", "--format", "pdf"], 2, "invalid choice"),
    (["derive", "example:seed1", "-o", "/nonexistent/dir/x.tex"], 2, "cannot write"),
])
def test_cli_errors(argv: list[str], status: int, message: str,
                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == status
    assert message in capsys.readouterr().err


def test_cli_set_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["derive", "example:seed1_symbolic", "--set", "n=28", "--set", "c=1",
                 "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# seed1_symbolic") and "$\\left(24, 24, 64\\right)$" in out


def test_derivation_is_data() -> None:
    d = derive(example("seed1"))
    assert isinstance(d, Derivation)
    with pytest.raises(AttributeError):
        d.title = "x"  # type: ignore[misc]
