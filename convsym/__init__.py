"""convsym: derive, explain and prove the shapes of convolutional networks, in closed form.

>>> import convsym
>>> from convsym.layers.keras import Input, Conv2D
>>> net = convsym.Sequential([Input(("n", "n", 1)), Conv2D(32, 3), Conv2D(64, 3)])
>>> net.output_shape
(n - 4, n - 4, 64)
"""

from convsym.errors import ConvsymError
from convsym.expr import parse_expr, parse_relation, symbol, symbols
from convsym.layers import keras, torch
from convsym.network import Network, Sequential

__version__ = "0.1.0"

__all__ = [
    "ConvsymError",
    "Network",
    "Sequential",
    "__version__",
    "keras",
    "parse_expr",
    "parse_relation",
    "symbol",
    "symbols",
    "torch",
]
