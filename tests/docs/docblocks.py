"""The runnable examples of the documentation: which fenced blocks run, and how.

The convention (written for authors in ``docs/contributing.md``):

* a ``python`` block runs; the blocks of one page share one namespace and one scratch
  directory, in page order.  A block with ``>>>`` prompts is a doctest: its shown output is
  compared (``...`` matches anything);
* in a ``console`` block, a line ``$ convsym ARGS`` runs and the lines up to the next ``$``
  line are its expected output (stdout and stderr together; ``...`` matches anything).
  ``(exit status N)`` at the end of a line states the exit status; otherwise it must be 0.
  ``$`` lines that do not start with ``convsym`` (``$ python -m pytest``) are not run;
* in a ``bash`` block every line starting with ``convsym`` runs and must exit with 0;
* a directive on the line just above a fence: ``<!-- file: NAME -->`` writes the block into
  the scratch directory as ``NAME`` before the blocks after it run (any language, e.g. a spec
  file that a later command reads); ``<!-- not run: REASON -->`` leaves the block out.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[\w+-]*)")
DIRECTIVE = re.compile(r"^\s*<!--\s*(?P<key>file|not run)\s*:\s*(?P<value>.*?)\s*-->\s*$")
STATUS = re.compile(r"\s*\(exit status (\d+)\)\s*$")


@dataclass
class Block:
    """One fenced block of a page."""

    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    file: str | None = None  # <!-- file: NAME -->
    not_run: str | None = None  # <!-- not run: REASON -->

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass
class Command:
    """One ``convsym`` command line of a console or bash block, with what it must show."""

    argv: list[str]
    where: str
    expected: str | None  # None: output not compared
    status: int = 0
    notes: list[str] = field(default_factory=list)


def blocks(path: Path, root: Path) -> list[Block]:
    """Every fenced block of a Markdown file, with the directive above it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = len(match["indent"]), match["fence"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            line = lines[j]
            body.append(line[indent:] if not line[:indent].strip() else line.lstrip())
            j += 1
        block = Block(str(path.relative_to(root)), i + 1, match["info"].lower(),
                      "\n".join(body) + "\n")
        above = DIRECTIVE.match(lines[i - 1]) if i else None
        if above:
            if above["key"] == "file":
                block.file = above["value"]
            else:
                block.not_run = above["value"] or "no reason given"
        found.append(block)
        i = j + 1
    return found


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined, each with its 0-based first line."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for n, line in enumerate(text.splitlines()):
        if not pending:
            start = n
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        out.append((start, " ".join([*pending, line])))
        pending = []
    return out


def _argv(command: str) -> list[str] | None:
    """The arguments after ``convsym``, or None when the line runs something else."""
    words = shlex.split(command, comments=True)
    if not words or words[0] != "convsym":
        return None
    bad = [w for w in words if w in {"|", "||", "&&", ";", ">", ">>", "<", "&"}]
    if bad:
        raise ValueError(f"shell syntax {bad[0]!r} is not supported in a documented command: "
                         f"{command}")
    return words[1:]


def commands(block: Block) -> list[Command]:
    """The ``convsym`` commands of a console or bash block."""
    found: list[Command] = []
    if block.lang == "bash":
        for n, line in _logical_lines(block.text):
            argv = _argv(line)
            if argv is not None:
                found.append(Command(argv, f"{block.page}:{block.line + 1 + n}", None))
        return found
    current: Command | None = None
    shown: list[str] = []

    def close() -> None:
        if current is not None:
            text = "\n".join(shown).strip("\n")
            current.expected = text or None
            found.append(current)

    for n, line in _logical_lines(block.text):
        if line.startswith("$ "):
            close()
            shown = []
            command = line[2:]
            status = STATUS.search(command)
            command = STATUS.sub("", command)
            argv = _argv(command)
            current = None if argv is None else Command(
                argv, f"{block.page}:{block.line + 1 + n}", None,
                int(status[1]) if status else 0)
            continue
        if current is None:
            continue
        status = STATUS.search(line)
        if status:
            current.status = int(status[1])
            line = STATUS.sub("", line)
        shown.append(line.rstrip())
    close()
    return found


def compare(expected: str, actual: str) -> bool:
    """True when ``actual`` shows ``expected`` (lines right-stripped; ``...`` matches anything)."""
    import doctest

    def norm(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"

    checker = doctest.OutputChecker()
    return checker.check_output(norm(expected), norm(actual), doctest.ELLIPSIS)
