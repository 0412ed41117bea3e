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
