"""The LaTeX forms of proofs, solutions and admissible sets (``_repr_latex_``, used when a
notebook is exported to PDF) compile with a real pdflatex in a bare ``article``, even when
the layer names hold LaTeX's special characters."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

import convsym
from convsym.keras import Conv2D, Input

pytestmark = pytest.mark.latex

PDFLATEX = shutil.which("pdflatex")
HOSTILE = "<b>_x^2 & {y} $z$ #1 % \\relax ~"


def test_fragments_compile_in_a_bare_article(tmp_path: pathlib.Path) -> None:
    if PDFLATEX is None:
        pytest.skip("pdflatex is not installed")
    net = convsym.Sequential([Input(("n", "n", 3)), Conv2D(8, 3),
                              Conv2D(16, 3, name=HOSTILE)], name=HOSTILE)
    pieces = [convsym.prove("floor((n - 3)/2) + 1 == ceiling((n - 2)/2)"),
              convsym.prove("floor(n/2) == ceiling(n/2)"),
              net.solve("n", "out_H == 8"), net.admissible_inputs(),
              convsym.Sequential([Input(("H", "W", 1)), Conv2D(4, 3, strides=2)]
                                 ).admissible_inputs()]
    body = "\n\\bigskip\n".join(p._repr_latex_() for p in pieces)  # type: ignore[attr-defined]
    tex = tmp_path / "results.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\n" + body +
                   "\n\\end{document}\n", encoding="utf-8")
    done = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
         f"-output-directory={tmp_path}", str(tex)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    log = tex.with_suffix(".log").read_text(encoding="latin-1")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert done.returncode == 0 and not errors, errors or done.stdout[-2000:]
