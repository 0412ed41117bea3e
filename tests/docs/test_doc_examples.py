"""Every example of the documentation runs, and shows what the page says it shows.

Pages: README.md and every ``docs/**/*.md``.  What runs and how is the convention of
``docblocks`` (for authors: ``docs/contributing.md``).  Each page gets a scratch directory as
its working directory and one ``python -m convsym`` worker for its commands; its Python
blocks share one namespace.  Also: the site builds with ``mkdocs build --strict``, and the CLI
and API references (docs/cli.md, docs/api.md) are what convsym's parser and docstrings
give.
"""

from __future__ import annotations

import doctest
import json
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import api_reference
import cli_reference
import pytest
from docblocks import Block, commands, compare
from docblocks import blocks as page_blocks

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FIXTURES = Path(__file__).with_name("fixtures")
HANG = 300
RUNNABLE = {"python", "pycon", "console", "bash"}


class Worker:
    """A ``convsym`` process for one page (tests/docs/cli_worker.py)."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "torch"),
            "COLUMNS": cli_reference.WIDTH, "PYTHONIOENCODING": "utf-8"}
        env.pop("CONVSYM_TRACEBACK", None)
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name(
            "cli_worker.py"))], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=env, encoding="utf-8")

    def run(self, argv: list[str], cwd: Path) -> tuple[int, str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"argv": argv, "cwd": str(cwd)}) + "\n")
        self.proc.stdin.flush()
        # a guard against a hang (every command has its own, much smaller budgets), not a
        # speed check
        ready, _, _ = select.select([self.proc.stdout], [], [], HANG)
        if not ready:
            self.proc.kill()
            pytest.fail(f"`convsym {' '.join(argv)}` gave no answer in {HANG} s")
        reply = self.proc.stdout.readline()
        assert reply, f"the convsym worker died on {argv}"
        answer: dict[str, Any] = json.loads(reply)
        return int(answer["status"]), str(answer["output"])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture
def worker() -> Iterator[Worker]:
    running = Worker()
    try:
        yield running
    finally:
        running.close()


def _runnable(path: Path) -> list[Block]:
    return [b for b in page_blocks(path, ROOT)
            if b.file or (b.lang in RUNNABLE and not b.not_run)]


def _pages_with_examples() -> list[Path]:
    return [p for p in PAGES if any(b.lang in RUNNABLE and not b.not_run and
                                    (b.lang in {"python", "pycon"} or commands(b))
                                    for b in _runnable(p))]


def _run_python(block: Block, namespace: dict[str, Any]) -> list[str]:
    if ">>>" not in block.text:
        exec(compile(block.text, block.where, "exec"), namespace)  # noqa: S102 - our own docs
        return []
    parser = doctest.DocTestParser()
    test = doctest.DocTest(parser.get_examples(block.text), namespace, block.where,
                           block.page, block.line, block.text)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=report.append, clear_globs=False)
    return report


def _run_commands(block: Block, worker: Worker, cwd: Path) -> list[str]:
    failures = []
    for command in commands(block):
        for i, arg in enumerate(command.argv[:-1]):  # -o DIR/NAME: the folder exists
            if arg in {"-o", "--output"}:
                (cwd / command.argv[i + 1]).parent.mkdir(parents=True, exist_ok=True)
        status, output = worker.run(command.argv, cwd)
        shown = " ".join(["convsym", *command.argv])
        if status != command.status:
            failures.append(f"{command.where}: `{shown}` exited with {status}, the page says "
                            f"{command.status}:\n{output}")
        elif command.expected is not None and not compare(command.expected, output):
            failures.append(f"{command.where}: `{shown}` printed\n{output}\nthe page shows\n"
                            f"{command.expected}")
    return failures


@pytest.mark.parametrize("page", _pages_with_examples(),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(page: Path, worker: Worker, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for fixture in FIXTURES.iterdir():  # files that documented commands name (model.json)
        shutil.copy(fixture, tmp_path / fixture.name)
    namespace: dict[str, Any] = {"__name__": f"docs:{page.name}"}
    failures: list[str] = []
    for block in _runnable(page):
        if block.file:
            target = tmp_path / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        if block.not_run:
            continue
        if block.lang in {"python", "pycon"}:
            failures += _run_python(block, namespace)
        elif block.lang in {"console", "bash"}:
            failures += _run_commands(block, worker, tmp_path)
    assert not failures, "\n\n".join(failures)


def test_the_convention(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("\n".join([
        "<!-- file: a.yaml -->", "```yaml", "input: [8]", "```",
        "```console", "$ convsym prove \"x == x\"   (exit status 0)", "proved ...", "",
        "$ python -m pytest", "anything", "$ convsym summary a.yaml \\", "  --json",
        "```",
        "<!-- not run: needs a file -->", "```bash", "convsym draw m.json -o x.svg", "```",
        "```bash", "pip install . && convsym derive x", "convsym examples  # list", "```"]))
    found = page_blocks(page, tmp_path)
    assert [(b.lang, b.file, b.not_run) for b in found] == [
        ("yaml", "a.yaml", None), ("console", None, None), ("bash", None, "needs a file"),
        ("bash", None, None)]
    prove, summary = commands(found[1])
    assert (prove.argv, prove.status, prove.expected) == (["prove", "x == x"], 0, "proved ...")
    assert (summary.argv, summary.expected, summary.where) == (
        ["summary", "a.yaml", "--json"], None, "page.md:11")
    assert [c.argv for c in commands(found[3])] == [["examples"]]
    assert compare("proved ...", "proved by rewriting: x = x\n")
    assert not compare("Answer: {4}", "Answer: {3}")


@pytest.mark.parametrize("generator", [cli_reference, api_reference],
                         ids=["cli.md", "api.md"])
def test_generated_reference_is_current(generator: Any, update_golden: bool) -> None:
    text = generator.render()
    if update_golden:
        generator.PAGE.write_text(text, encoding="utf-8")
    assert generator.PAGE.read_text(encoding="utf-8") == text, (
        f"docs/{generator.PAGE.name} differs from what {generator.__name__}.py generates from "
        "convsym: rewrite it with `python -m pytest tests/docs --update-golden` and review "
        "the diff")


def test_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="the docs extra: pip install '.[docs]'")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    assert (tmp_path / "site" / "index.html").exists()
