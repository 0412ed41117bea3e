"""What-if engine: compare variants, solve for sizes and hyperparameters, admissible inputs."""

from convsym.whatif.inputs import Admissible, accepts, admissible_inputs
from convsym.whatif.intset import IntSet, Progression
from convsym.whatif.solution import Solution
from convsym.whatif.solve import solve

__all__ = ["Admissible", "IntSet", "Progression", "Solution", "accepts", "admissible_inputs",
           "solve"]
