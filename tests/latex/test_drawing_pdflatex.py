"""convsym's TikZ pictures compile with a real pdflatex, as a standalone document and as a
fragment inside a handout that loads only ``tikz``; the log has no errors and nothing wider
than the page."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess

import pytest

from convsym.drawing import draw

pytestmark = pytest.mark.latex

PDFLATEX = shutil.which("pdflatex")


def _compile(tex: pathlib.Path) -> str:
    if PDFLATEX is None:
        pytest.skip("pdflatex is not installed")
    result = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
         f"-output-directory={tex.parent}", str(tex)],
        cwd=tex.parent, capture_output=True, text=True, timeout=300)
    log = tex.with_suffix(".log").read_text(encoding="latin-1")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert result.returncode == 0 and not errors, f"{tex.name}: {errors or result.stdout[-2000:]}"
    assert tex.with_suffix(".pdf").exists()
    return log


def test_standalone_arithmetic_figure(tmp_path: pathlib.Path) -> None:
    fig = draw("example:dcgan", layer=_first_transpose("example:dcgan"), input_size=(3, 3))
    tex = tmp_path / "figure.tex"
    tex.write_text(fig.to_tikz(standalone=True), encoding="utf-8")  # type: ignore[union-attr]
    _compile(tex)


def test_fragments_inside_a_handout(tmp_path: pathlib.Path) -> None:
    """An architecture diagram and a pooling figure, \\input into an article."""
    (tmp_path / "resnet.tex").write_text(
        draw("example:resnet18").to_tikz(), encoding="utf-8")  # type: ignore[union-attr]
    (tmp_path / "pool.tex").write_text(
        draw("example:resnet18", layer="maxpool",  # type: ignore[union-attr]
             input_size=(5, 5), mode="overlay").to_tikz(), encoding="utf-8")
    doc = tmp_path / "notes.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage[margin=2cm]{geometry}\n"
                   "\\usepackage{tikz}\n\\begin{document}\n\\noindent\\input{resnet}\n\n"
                   "\\noindent\\input{pool}\n\\end{document}\n", encoding="utf-8")
    log = _compile(doc)
    assert not re.search(r"Overfull \\hbox \((\d{2,}|[6-9])\.\d+pt", log), "too wide"


def _first_transpose(source: str) -> str:
    from convsym.sources import resolve

    net = resolve(source)
    return next(r.name for r in net.rows if "Transpose" in r.type)


def test_derivation_with_figures(tmp_path: pathlib.Path) -> None:
    from convsym.cli import main

    tex = tmp_path / "derivation.tex"
    assert main(["derive", "example:seed3", "--format", "latex", "--standalone", "--figures",
                 "-o", str(tex)]) == 0
    text = tex.read_text(encoding="utf-8")
    assert text.count("\\begin{tikzpicture}") == 2 and "\\usepackage{tikz}" in text
    _compile(tex)
