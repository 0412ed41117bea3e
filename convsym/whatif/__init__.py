"""What-if engine: compare variants, solve for sizes and hyperparameters, admissible inputs."""

from convsym.whatif.compare import CompareRow, Comparison, compare
from convsym.whatif.inputs import Admissible, accepts, admissible_inputs
from convsym.whatif.intset import IntSet, Progression
from convsym.whatif.misconception import DepthwiseWhatIf, LayerFigures, depthwise_whatif
from convsym.whatif.solution import Solution
from convsym.whatif.solve import solve

__all__ = ["Admissible", "CompareRow", "Comparison", "DepthwiseWhatIf", "IntSet",
           "LayerFigures", "Progression", "Solution", "accepts", "admissible_inputs", "compare",
           "depthwise_whatif", "solve"]
