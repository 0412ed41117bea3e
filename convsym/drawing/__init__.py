"""Pictures for lecture notes: convolution-arithmetic figures, architecture diagrams, plots.

Builders turn convsym's own data (a layer's derivation steps, a network's rows) into a
:class:`~convsym.drawing.scene.Scene`; writers turn a scene into SVG or TikZ text (no extra
dependency) or, with matplotlib, PNG/PDF.  Plots use matplotlib (``pip install
'convsym[draw]'``).  See ``docs/pictures.md``.

>>> from convsym.drawing import draw
>>> draw("example:seed1", layer="conv2d", input_size=(5, 5)).model.mode
'panels'
"""

from __future__ import annotations

from convsym.drawing.api import Figure, Plot, draw

__all__ = ["Figure", "Plot", "draw"]
