"""``convsym derive --pdf`` gives a finished PDF with one command (real pdflatex)."""

from __future__ import annotations

import json
import os
import pathlib
import shutil

import pytest

from convsym.cli import main

pytestmark = pytest.mark.latex


@pytest.fixture(autouse=True)
def _need_pdflatex() -> None:
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")


def test_pdf_to_a_named_file(tmp_path: pathlib.Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "notes.pdf"
    assert main(["derive", "example:seed3_symbolic", "--pdf", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert f"wrote {out} (pdflatex, 1 run)" in capsys.readouterr().err


def test_pdf_default_name_and_rerun_for_a_long_table(tmp_path: pathlib.Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    spec = {"name": "deep_mlp", "input": [16],
            "layers": [{"Dense": {"units": 16}} for _ in range(40)]}
    (tmp_path / "deep_mlp.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["derive", "deep_mlp.json", "--pdf"]) == 0
    assert (tmp_path / "deep_mlp.pdf").read_bytes().startswith(b"%PDF")
    err = capsys.readouterr().err
    assert "(pdflatex, 2 runs)" in err  # the longtable asked for a second run
    assert sorted(os.listdir(tmp_path)) == ["deep_mlp.json", "deep_mlp.pdf"]  # nothing else


def test_a_latex_error_is_one_line(tmp_path: pathlib.Path) -> None:
    from convsym.commands.pdflatex import LatexError, compile_pdf

    with pytest.raises(LatexError, match=r"^pdflatex failed: Undefined control sequence"):
        compile_pdf("\\documentclass{article}\\begin{document}\\nosuchmacro\\end{document}\n",
                    str(tmp_path / "x.pdf"))
