"""A forward with ``assert`` statements on sizes, outside the test modules.

pytest rewrites the ``assert`` statements of test modules into its own ``if`` code; user code
is never rewritten, so the module whose asserts convsym must recognise lives here, marked
PYTEST_DONT_REWRITE (which pytest honours even when this file is named on its command line).
"""

from __future__ import annotations

from typing import Any

import torch


class Asserts(torch.nn.Module):
    """``torch._assert`` and a plain ``assert`` (with ``and`` and ``!=``) on input sizes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(8, 4, 3, stride=2)

    def forward(self, x: Any) -> Any:
        torch._assert(x.shape[-2] % 4 == 0, "H must be a multiple of 4")
        assert x.shape[-1] >= 6 and x.shape[-1] != 9, "W"
        return self.conv(x)


class Raises(torch.nn.Module):
    """The other ways code requires sizes: ``if ...: raise``, ``assert not``, a chained
    comparison, ``torch._assert`` of a size (not a comparison)."""

    def forward(self, x: Any) -> Any:
        if x.shape[-2] % 2:
            raise ValueError("H must be even")
        assert not (x.shape[-1] == 9)
        assert 4 < x.shape[-1] < 40
        torch._assert(x.shape[-2] // 2 % 2, "H / 2 must be odd")
        return x.flatten(2)
