"""``python -m convsym``."""

from convsym.cli import entry

entry()
