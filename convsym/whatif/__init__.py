"""What-if engine: compare variants, solve for sizes and hyperparameters, admissible inputs.

>>> from convsym.examples import example
>>> print(admissible_inputs(example("unet")).values("H").describe("H"))
H = 16t + 12, t >= 11 (188, 204, 220, ...)
>>> from convsym import Sequential
>>> from convsym.layers.torch import Conv2d
>>> net = Sequential([Conv2d(3, 8, 3, stride="s")], input_shape=(3, 32, 32))
>>> solve(net, "s", where="out_H == 8").points()
[(4,)]
>>> depthwise_whatif(example("seed3"), "conv2d_1").imagined.maps
200

Modules: :mod:`~convsym.whatif.solve` (the system and its answer),
:mod:`~convsym.whatif.inputs` (admissible inputs, ``accepts``), :mod:`~convsym.whatif.compare`,
:mod:`~convsym.whatif.misconception`; the exact machinery is in ``intset``, ``runs``,
``univariate``, ``product`` and ``system``; ``quantities`` names what conditions may mention.
"""

from convsym.whatif.compare import CompareRow, Comparison, compare
from convsym.whatif.inputs import Admissible, accepts, admissible_inputs
from convsym.whatif.intset import IntSet, Progression
from convsym.whatif.misconception import DepthwiseWhatIf, LayerFigures, depthwise_whatif
from convsym.whatif.solution import Solution
from convsym.whatif.solve import solve

__all__ = ["Admissible", "CompareRow", "Comparison", "DepthwiseWhatIf", "IntSet",
           "LayerFigures", "Progression", "Solution", "accepts", "admissible_inputs", "compare",
           "depthwise_whatif", "solve"]
