"""Where in the model's own code the tracer is: the innermost frame outside convsym and torch,
for the line a refusal or a condition names.

>>> import traceback
>>> location([traceback.FrameSummary("/home/me/models/net.py", 12, "forward",
...                                  line="x = x.view(-1)")])
'me/models/net.py:12 `x = x.view(-1)`'
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Sequence
from types import FrameType

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[str, str]:
    """convsym's and torch's folders: frames there are not the model's own code."""
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    return _HERE + os.sep, os.path.dirname(os.path.abspath(torch.__file__)) + os.sep


def _library(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_library_dirs()) or \
        filename.startswith("<frozen")


def model_frame() -> list[traceback.FrameSummary]:
    """The innermost frame of the model's own code, kept for a refusal made later (its line
    is read only then)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _library(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return []
    return [traceback.FrameSummary(frame.f_code.co_filename, frame.f_lineno,
                                   frame.f_code.co_name, lookup_line=False)]


def location(frames: Sequence[traceback.FrameSummary]) -> str:
    for frame in reversed(frames):
        path = os.path.abspath(frame.filename)
        if _library(frame.filename):
            continue
        parts = path.split(os.sep)
        short = "/".join(parts[-3:])
        code = (frame.line or "").strip()
        return f"{short}:{frame.lineno}" + (f" `{code[:100]}`" if code else "")
    return "an unknown line"
