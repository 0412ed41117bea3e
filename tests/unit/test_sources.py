"""convsym.sources: ``--set`` gives symbols values and never silently renames them; a Keras
document read with ``--from keras`` is named by its file in errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convsym.errors import ConvsymError
from convsym.sources import parse_sets, resolve


@pytest.mark.parametrize("sets, fragment", [
    (["n=abc"], "--set n=abc: abc is not a symbol of 'seed1_symbolic' (its symbols are c, n)"),
    (["n=abc + 2*xyz"], "--set n=abc + 2*xyz: abc, xyz are not symbols of"),
    (["N=3"], "--set N=3: N is not a symbol of 'seed1_symbolic' (did you mean 'n'?)"),
    (["zz=3"], "its symbols are c, n"),
])
def test_set_refuses_names_the_network_lacks(sets: list[str], fragment: str) -> None:
    with pytest.raises(ConvsymError) as info:
        resolve("example:seed1_symbolic", sets=sets)
    assert fragment in str(info.value), str(info.value)
    assert info.value.code == "unknown_symbol"


def test_set_takes_integers_and_expressions_in_the_networks_symbols() -> None:
    assert resolve("example:seed1_symbolic", sets=["n=28", "c=1"]).output_shape == \
        (24, 24, 64)
    odd = resolve("example:seed1_symbolic", sets=["n=2*c + 5"])
    assert {s.name for s in odd.all_symbols()} == {"c"}
    assert parse_sets(["k=2*m+1"])["k"].free_symbols  # parsing alone knows no network


def test_cli_set_n_abc_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    from convsym.cli import main

    assert main(["summary", "example:seed1_symbolic", "--set", "n=abc"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("convsym: error: --set n=abc: abc is not a symbol")
    assert err.count("\n") == 1


def _keras_doc(activation: str) -> dict[str, object]:
    return {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 1], "name": "i"}},
        {"class_name": "Conv2D", "config": {"name": "c", "filters": 4, "kernel_size": [3, 3],
                                            "activation": activation}}]}}


@pytest.mark.parametrize("suffix", [".json", ".txt", ".yaml"])
def test_from_keras_errors_name_the_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"model{suffix}"
    path.write_text(json.dumps(_keras_doc("relux")))
    with pytest.raises(ConvsymError) as info:
        resolve(str(path), from_="keras")
    assert str(info.value).startswith(f"{path}, config.layers[1].config.activation")
    assert "<dict>" not in str(info.value) and "did you mean 'relu'?" in str(info.value)


def test_from_keras_reads_any_suffix(tmp_path: Path) -> None:
    path = tmp_path / "model.txt"
    path.write_text(json.dumps(_keras_doc("relu")))
    assert resolve(str(path), from_="keras").output_shape == (6, 6, 4)
