"""Animated arithmetic figures: one frame per output cell, as GIF or APNG (matplotlib draws
the frames, Pillow joins them).

>>> from convsym.keras import Conv1D
>>> from convsym.intdiv import QPoly
>>> from convsym.drawing.arithmetic import arithmetic_figure
>>> fig = arithmetic_figure(Conv1D(1, 3, strides=2), (QPoly.const(5), QPoly.const(1)))
>>> animate(fig, "gif")[:6]
b'GIF89a'
"""

from __future__ import annotations

import io
from typing import Any

from convsym.drawing.raster import pyplot, render
from convsym.errors import UsageError

MAX_FRAMES = 64
FORMATS = {"gif": "GIF", "apng": "PNG"}


def animate(figure: Any, fmt: str = "gif", *, frame_ms: int = 700, dpi: int = 100) -> bytes:
    """The figure's frames as an animated ``gif`` or ``apng`` that loops."""
    if fmt not in FORMATS:
        raise UsageError(f"format {fmt!r}: animations are gif or apng", code="bad_format")
    scenes = figure.frames()
    if len(scenes) > MAX_FRAMES:
        raise UsageError(f"{len(scenes)} output cells make too many frames (at most "
                         f"{MAX_FRAMES}); draw the layer on a smaller input (--input-size)",
                         code="too_large")
    pyplot()  # a clear error when matplotlib is missing
    # why: Pillow is optional (the draw extra)
    from PIL import Image

    frames = [Image.open(io.BytesIO(render(scene, "png", dpi=dpi))).convert("RGB")
              for scene in scenes]
    size = (max(f.width for f in frames), max(f.height for f in frames))
    frames = [_pad(f, size) for f in frames]
    buffer = io.BytesIO()
    frames[0].save(buffer, format=FORMATS[fmt], save_all=True, append_images=frames[1:],
                   duration=frame_ms, loop=0)
    return buffer.getvalue()


def _pad(frame: Any, size: tuple[int, int]) -> Any:
    """Frames of one size (the last row of a grid may draw narrower)."""
    if frame.size == size:
        return frame
    # why: Pillow is optional (the draw extra)
    from PIL import Image

    canvas = Image.new("RGB", size, "white")
    canvas.paste(frame, (0, 0))
    return canvas
