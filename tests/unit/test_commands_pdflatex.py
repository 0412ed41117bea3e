"""``convsym derive --pdf`` without a real compile: option rules, a missing pdflatex, the log
readers (the real compile is in ``tests/latex/test_pdf_command.py``)."""

from __future__ import annotations

import pathlib

import pytest

from convsym.cli import main
from convsym.commands import pdflatex


def test_missing_pdflatex_is_one_clear_line(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: pathlib.Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(pdflatex.shutil, "which", lambda name: None)
    status = main(["derive", "example:seed1", "--pdf", "-o", str(tmp_path / "x.pdf")])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert len(err.splitlines()) == 1
    assert "--pdf needs pdflatex, which is not on PATH" in err
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["--pdf", "--format", "text"], "--pdf makes LaTeX; drop --format text"),
    (["--pdf", "-f", "markdown"], "--pdf makes LaTeX; drop --format markdown"),
    (["--figures"], "--figures is for --format latex"),
])
def test_option_rules(argv: list[str], message: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["derive", "example:seed1", *argv]) == 2
    assert message in capsys.readouterr().err


def test_log_readers() -> None:
    log = ("Overfull \\hbox (3.5pt too wide) in paragraph at lines 1--2\n"
           "Overfull \\hbox (12pt too wide) in alignment at lines 5--9\n"
           "Package longtable Warning: Table widths have changed. Rerun LaTeX.\n")
    assert pdflatex.overfull(log) == [3.5, 12.0]
    assert pdflatex.needs_rerun(log)
    assert not pdflatex.needs_rerun("Output written on x.pdf (1 page).")
    assert pdflatex.needs_rerun("LaTeX Warning: Label(s) may have changed. Rerun to get "
                                "cross-references right.")
