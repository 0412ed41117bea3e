"""The ``convsym`` command: argparse subcommands over the public API; the only place that prints.

Exit status: 0 success (or "proved"), 1 refuted, 2 bad input (one clear line, no traceback),
3 unknown, 4 internal error (a bug in convsym: one line asking to report it, no traceback;
``CONVSYM_TRACEBACK=1`` shows the traceback too).  Output that the terminal's encoding cannot
show (a non-ASCII layer name under ``LANG=C``) is printed with backslash escapes.

>>> main(["summary", "example:seed3"])  # doctest: +ELLIPSIS
Model: "seed3" (keras)
...
Total params: 15,120
...
0
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from convsym import __version__
from convsym.errors import MAX_MESSAGE, SURFACE, ConvsymError, InternalError, shorten
from convsym.guarded import too_deep

SUBCOMMANDS = ["summary", "derive", "prove", "solve", "inputs", "compare", "verify",
               "examples", "draw"]
"""Subcommand modules under :mod:`convsym.commands`, registered when present."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exit status 2 with one line, no usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse quotes the whole offending word: capped like every convsym message
        print(f"convsym: error: {one_line(shorten(message, MAX_MESSAGE))}", file=sys.stderr)
        raise SystemExit(2)

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> object:
        # argparse drops a lone "--" even when it is an option's value (`--at=--`), and then
        # stores an empty list where one text is expected; refuse it as the missing value
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            self.error(f"argument {'/'.join(action.option_strings)}: expected one argument")
        return super()._get_values(action, arg_strings)


def one_line(message: str) -> str:
    r"""``message`` with control characters and line breaks escaped: one line, no terminal codes.

    >>> one_line('bad "\x1b[2J" or\nthis')
    'bad "\\x1b[2J" or\\nthis'
    """
    if message.isprintable():
        return message
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = _Parser(prog="convsym",
                     description="Derive, explain and prove the shapes of convolutional "
                                 "networks, in closed form.")

    parser.add_argument("--version", action="version", version=f"convsym {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"convsym.commands.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"convsym.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


INTERNAL_ERROR = 4
"""Exit status for a bug in convsym (never for bad input)."""


def _escape_unprintable() -> None:
    """Let stdout and stderr show any text: what the encoding lacks comes out escaped."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a closed or detached stream
                pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    _escape_unprintable()
    try:
        return _main(argv)
    except BrokenPipeError:
        return _reader_gone()
    except MemoryError:
        print("convsym: error: ran out of memory (the input needs more than this machine "
              "or its memory limit allows)", file=sys.stderr)
        return 2
    except RecursionError:  # (raised before a command knew its name: _main names it)
        print(f"convsym: error: {too_deep('the input')}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - a bug: one line, never a traceback

        if os.environ.get("CONVSYM_TRACEBACK"):
            traceback.print_exc()
        text = one_line(shorten(f"{type(err).__name__}: {err}", 300))
        print(f"convsym: internal error: {text} (a bug in convsym; please report it with "
              "the command line that caused it)", file=sys.stderr)
        return INTERNAL_ERROR


def _reader_gone() -> int:
    """The reader of stdout went away (``convsym summary ... | head``): not an error."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured in a test)
        pass
    return 0


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exit_:
        return int(exit_.code or 0) if isinstance(exit_.code, int) else 2
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    surface = SURFACE.set("cli")  # errors give advice in the command line's words
    try:
        return int(args.run(args))
    except InternalError as err:  # a bug caught behind the public API
        print(f"convsym: internal error: {one_line(str(err))}", file=sys.stderr)
        return INTERNAL_ERROR
    except ConvsymError as err:
        print(f"convsym: error: {one_line(str(err))}", file=sys.stderr)
        return 2
    except RecursionError:
        print(f"convsym: error: {too_deep(str(args.command))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("convsym: interrupted", file=sys.stderr)
        return 130
    finally:
        SURFACE.reset(surface)


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())


if __name__ == "__main__":
    entry()
