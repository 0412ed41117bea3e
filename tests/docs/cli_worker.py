"""Runs documented ``convsym`` commands for tests/docs/test_doc_examples.py, in one process.

Protocol: one JSON line in (``{"argv": [...], "cwd": "..."}``), one JSON line out
(``{"status": N, "output": "..."}``: stdout and stderr interleaved as a terminal shows them).
Each command goes through ``convsym.cli.main``, the function behind ``python -m convsym``;
one process per page keeps the start-up (SymPy) to once per page.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys


def main() -> None:
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    # anything written to the real stdout or stderr by a command (not through sys.stdout) is
    # dropped rather than mixed into the protocol
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    from convsym.cli import main as convsym

    for line in sys.stdin:
        request = json.loads(line)
        os.chdir(request["cwd"])
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown), contextlib.redirect_stderr(shown):
            try:
                status = convsym(request["argv"])
            except SystemExit as exit_:  # --help, --version
                status = exit_.code if isinstance(exit_.code, int) else 0
        protocol.write(json.dumps({"status": status, "output": shown.getvalue()}) + "\n")
        protocol.flush()


if __name__ == "__main__":
    main()
