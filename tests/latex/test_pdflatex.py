"""Every standalone document in ``derivations/`` and every built-in example's handout
compiles with a real pdflatex, cleanly.

Skips only when pdflatex is not installed (CI installs Debian's texlive packages and turns
every skip into a failure).  Beyond "no errors", the log must show no undefined references
and no overfull box at all: the documents are meant to be handed out (symbolic handouts have
the long closed forms that used to run off the page).
"""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess

import pytest

from convsym.commands.pdflatex import compile_pdf, overfull
from convsym.derivation import derive
from convsym.examples import example, names
from convsym.printing.latex import PACKAGES, PREAMBLE

pytestmark = pytest.mark.latex

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCUMENTS = sorted((ROOT / "derivations").glob("*.tex"))
PDFLATEX = shutil.which("pdflatex")
OVERFULL_LIMIT_PT = 0.0


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


@pytest.mark.parametrize("name", names())
def test_example_handout_has_no_overfull_box(name: str, tmp_path: pathlib.Path) -> None:
    """Each built-in example's handout, through the same path as ``derive --pdf``."""
    if PDFLATEX is None:
        pytest.skip("pdflatex is not installed")
    done = compile_pdf(derive(example(name)).to_latex(standalone=True),
                       str(tmp_path / f"{name}.pdf"))
    assert (tmp_path / f"{name}.pdf").stat().st_size > 0
    assert done.overfull == [], f"{name}: {len(done.overfull)} overfull boxes {done.overfull}"
    assert overfull(done.log) == done.overfull
    assert "Rerun" not in done.log or done.runs == 4


_STRESS = {
    # symbolic kernel and stride: closed forms with s**2 in a summary table
    "symbolic stride": {"input": ["n", "n", "c"], "layers": [
        {"Conv2D": {"filters": "f", "kernel_size": "k", "strides": "s"}},
        {"Conv2D": {"filters": 64, "kernel_size": "k", "strides": "s"}},
        {"MaxPooling2D": {"pool_size": 2}}, {"Flatten": {}}, {"Dense": {"units": 10}}]},
    # dilation, padding and ceil_mode all symbolic: displays too long for one line
    "long displays": {"dialect": "torch", "input": ["c", "n", "m"], "layers": [
        {"Conv2d": {"in_channels": "c", "out_channels": "f", "kernel_size": "k",
                    "stride": "s", "padding": "p", "dilation": "d"}},
        {"Conv2d": {"in_channels": "f", "out_channels": "g", "kernel_size": "k",
                    "stride": "s", "padding": "p", "dilation": "d"}},
        {"MaxPool2d": {"kernel_size": "k", "stride": "s", "padding": 1, "ceil_mode": True}},
        {"Conv2d": {"in_channels": "g", "out_channels": 64, "kernel_size": 3, "stride": "t",
                    "padding": "q"}}]},
    # the user's symbols are the notation's letters
    "notation clash": {"dialect": "torch", "input": [3, "n", "n"], "layers": [
        {"Conv2d": {"in_channels": 3, "out_channels": 8, "kernel_size": "k", "stride": "s",
                    "padding": "p", "dilation": "d"}},
        {"MaxPool2d": {"kernel_size": 2}}]},
}


@pytest.mark.parametrize("name", sorted(_STRESS))
def test_stress_handout_has_no_overfull_box(name: str, tmp_path: pathlib.Path) -> None:
    from convsym.spec import load

    if PDFLATEX is None:
        pytest.skip("pdflatex is not installed")
    done = compile_pdf(derive(load(_STRESS[name])).to_latex(standalone=True),
                       str(tmp_path / "stress.pdf"))
    assert done.overfull == [], f"{name}: {len(done.overfull)} overfull boxes {done.overfull}"


def _header_packages(fragment: str) -> str:
    found = re.search(r"^% \\usepackage\{([^}]*)\}$", fragment, re.M)
    assert found, fragment[:300]
    return found.group(1)


@pytest.mark.parametrize("name", names())
def test_fragment_compiles_with_the_packages_its_header_names(
        name: str, tmp_path: pathlib.Path) -> None:
    """A fragment for \\input needs only the packages its header comment names, and fits
    the line of the host document (article's default, narrower than the handout's)."""
    page = ""
    fragment = derive(example(name)).to_latex()
    packages = _header_packages(fragment)
    assert tuple(packages.split(",")) == PACKAGES
    (tmp_path / "fragment.tex").write_text(fragment, encoding="utf-8")
    doc = tmp_path / "notes.tex"
    doc.write_text(f"\\documentclass{{article}}\n{page}\\usepackage{{{packages}}}\n"
                   "\\begin{document}\n\\input{fragment}\n\\end{document}\n", encoding="utf-8")
    log = _compile(doc, tmp_path)
    assert not _overfull(log), _overfull(log)


def test_preamble_uses_basic_texlive_packages_only() -> None:
    packages = set(re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", PREAMBLE))
    assert packages <= {"amsmath", "amssymb", "array", "geometry", "booktabs", "longtable",
                        "microtype"}
    assert set(PACKAGES) <= packages
