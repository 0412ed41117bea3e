"""Compile a standalone LaTeX document to PDF with pdflatex, as many runs as it asks for.

``longtable`` aligns its columns from widths written to the ``.aux`` file, so a long table
needs a second run; pdflatex says so in its log ("Rerun LaTeX", "Rerun to get ...").
:func:`compile_pdf` runs pdflatex in a temporary folder until the log stops asking, at most
:data:`MAX_RUNS` times, each run bounded by :data:`RUN_SECONDS`, and copies the PDF out.

>>> needs_rerun("Package longtable Warning: Table widths have changed. Rerun LaTeX.")
True
>>> needs_rerun("Output written on notes.pdf (3 pages, 95000 bytes).")
False
>>> overfull(r"Overfull \\hbox (12.5pt too wide) in paragraph at lines 3--4")
[12.5]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from convsym.errors import ConvsymError
from convsym.readers import write_file

MAX_RUNS = 4
"""pdflatex runs at most this many times (a document that never settles is not looped on)."""

RUN_SECONDS = 120
"""Each pdflatex run may take this long; a handout of a large network takes a few seconds."""

_RERUN = re.compile(r"Rerun (LaTeX|to get)|Label\(s\) may have changed")
_OVERFULL = re.compile(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)")


class LatexError(ConvsymError):
    """pdflatex is missing, failed, or stopped on an error in the document."""

    code = "latex_failed"


@dataclass(frozen=True)
class Compiled:
    """The outcome: where the PDF is, how many runs it took, and the last run's log."""

    pdf: str
    runs: int
    log: str

    @property
    def overfull(self) -> list[float]:
        """How far each overfull line sticks out, in points."""
        return overfull(self.log)


def needs_rerun(log: str) -> bool:
    """True when a pdflatex log asks for another run."""
    return _RERUN.search(log) is not None


def overfull(log: str) -> list[float]:
    """The widths (pt) by which each overfull ``\\hbox`` in a log is too wide."""
    return [float(m.group(1)) for m in _OVERFULL.finditer(log)]


def pdflatex() -> str:
    """The path of pdflatex, or a one-line error saying how to get it."""
    found = shutil.which("pdflatex")
    if found is None:
        raise LatexError("--pdf needs pdflatex, which is not on PATH; install a TeX "
                         "distribution (e.g. Debian's texlive-latex-recommended) or write "
                         "the .tex with --standalone -o FILE.tex", code="no_pdflatex")
    return found


def compile_pdf(tex: str, output: str) -> Compiled:
    """Compile the standalone document ``tex`` and write the PDF to ``output``."""
    program = pdflatex()
    with tempfile.TemporaryDirectory(prefix="convsym-pdf-") as work:
        source = os.path.join(work, "handout.tex")
        with open(source, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(tex)
        log = ""
        runs = 0
        while runs < MAX_RUNS:
            runs += 1
            try:
                result = subprocess.run(
                    [program, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                     "handout.tex"], cwd=work, capture_output=True, timeout=RUN_SECONDS,
                    check=False)
            except subprocess.TimeoutExpired:
                raise LatexError(f"pdflatex took longer than {RUN_SECONDS} s and was stopped",
                                 code="latex_timeout") from None
            except OSError as err:
                raise LatexError(f"cannot run pdflatex: {err.strerror}") from None
            log = _read(os.path.join(work, "handout.log"))
            if result.returncode != 0:
                first = next((line for line in log.splitlines() if line.startswith("!")),
                             f"exit status {result.returncode}")
                raise LatexError(f"pdflatex failed: {first.lstrip('! ')}")
            if not needs_rerun(log):
                break
        with open(os.path.join(work, "handout.pdf"), "rb") as made:  # (ours: a small file)
            write_file(output, made.read())
    return Compiled(os.path.abspath(output), runs, log)


def _read(path: str) -> str:
    try:
        with open(path, encoding="latin-1") as handle:
            return handle.read()
    except OSError:
        return ""
