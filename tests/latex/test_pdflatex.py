"""Every standalone document in ``derivations/`` compiles with a real pdflatex, cleanly.

Skips only when pdflatex is not installed (CI installs Debian's texlive packages and turns
every skip into a failure).  Beyond "no errors", the log must show no undefined references
and no line sticking out of the margin by more than a few points: the documents are meant to
be handed out.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess

import pytest

from convsym.derivation import derive
from convsym.examples import example
from convsym.printing.latex import PREAMBLE

pytestmark = pytest.mark.latex

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCUMENTS = sorted((ROOT / "derivations").glob("*.tex"))
PDFLATEX = shutil.which("pdflatex")
OVERFULL_LIMIT_PT = 5.0


def _compile(tex: pathlib.Path, workdir: pathlib.Path) -> str:
    if PDFLATEX is None:
        pytest.skip("pdflatex is not installed")
    result = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
         f"-output-directory={workdir}", str(tex)],
        cwd=workdir, capture_output=True, text=True, timeout=300)
    log = (workdir / (tex.stem + ".log")).read_text(encoding="latin-1")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert result.returncode == 0 and not errors, f"{tex.name}: {errors or result.stdout[-2000:]}"
    assert (workdir / (tex.stem + ".pdf")).exists()
    return log


def _overfull(log: str) -> list[str]:
    return [m.group(0) for m in re.finditer(r"Overfull \\hbox \((\d+\.\d+)pt too wide\)[^\n]*",
                                            log) if float(m.group(1)) > OVERFULL_LIMIT_PT]


def test_there_are_documents() -> None:
    assert len(DOCUMENTS) >= 8


@pytest.mark.parametrize("tex", DOCUMENTS, ids=lambda p: p.name)
def test_compiles_without_errors(tex: pathlib.Path, tmp_path: pathlib.Path) -> None:
    log = _compile(tex, tmp_path)
    assert "undefined" not in log.lower() or "Reference" not in log
    assert not _overfull(log), f"{tex.name}: lines too wide: {_overfull(log)}"


def test_fragment_compiles_inside_a_document(tmp_path: pathlib.Path) -> None:
    """A fragment for \\input needs only the packages its header comment names."""
    fragment = derive(example("seed3_symbolic")).to_latex()
    (tmp_path / "fragment.tex").write_text(fragment, encoding="utf-8")
    doc = tmp_path / "notes.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage{amsmath,booktabs,longtable}\n"
                   "\\begin{document}\n\\input{fragment}\n\\end{document}\n", encoding="utf-8")
    _compile(doc, tmp_path)


def test_preamble_uses_basic_texlive_packages_only() -> None:
    packages = set(re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", PREAMBLE))
    assert packages <= {"amsmath", "amssymb", "geometry", "booktabs", "longtable", "microtype"}
