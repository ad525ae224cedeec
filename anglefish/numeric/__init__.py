"""Monte Carlo on finite random networks: the exact Gram sampler, the dense simulator,
inputs and estimators with standard errors (numpy)."""
from .angles import angle_table, compare_bn_kinds
from .estimators import PairStatistics, pair_statistics
from .inputs import given_inputs, pair_batch
from .simulate import (Context, Signal, Trajectory, needs_units, numeric_activation, propagate, simulate,
                       spawn_generators)
from .fisher import draw_inputs, fisher_spectrum, init_params, ntk_gram
from .training import gradient_descent, monotone_threshold
