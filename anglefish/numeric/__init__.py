"""Monte Carlo on finite random networks: the exact Gram sampler, the one finite-network interpreter
(dense simulator, Fisher, training, classifiers), inputs and estimators with standard errors (numpy)."""
from .angles import angle_table, compare_bn_kinds
from .estimators import PairStatistics, pair_statistics
from .fisher import draw_inputs, fisher_spectrum, init_params, ntk_gram
from .inputs import given_inputs, pair_batch
from .network import Pass, Weights, draw_weights, new_pass, spawn_generators
from .simulate import Context, Signal, Trajectory, simulate
from .training import gradient_descent, learning_rate_thresholds, monotone_threshold

__all__ = ["Context", "PairStatistics", "Pass", "Signal", "Trajectory", "Weights", "angle_table", "compare_bn_kinds",
           "draw_inputs", "draw_weights", "fisher_spectrum", "given_inputs", "gradient_descent", "init_params",
           "learning_rate_thresholds", "monotone_threshold", "new_pass", "ntk_gram", "pair_batch", "pair_statistics",
           "simulate", "spawn_generators"]
