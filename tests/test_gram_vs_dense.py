"""The exact Gram sampler agrees in distribution with the dense simulator.

Two-sample Kolmogorov-Smirnov tests on the per-unit Gram entries of the pair
(G_aa/N, G_ab/N, G_bb/N) after each of 3 blocks, across independent seeds of the two
samplers.  False-alarm rate: the whole file rejects a correct sampler with probability at
most ALPHA_FAMILY = 1e-3 (Bonferroni over all KS tests).  The runs are seeded, so CI sees
the same outcome every time; the rate above is over master seeds.
"""
import numpy as np
import pytest
from scipy import stats

from anglefish.numeric import pair_batch, simulate, spawn_generators
from anglefish.theory import Architecture, Dense, ReLU

ALPHA_FAMILY = 1e-3
CONFIGS = [("mlp", None, 2), ("resnet", None, 2), ("resnet-bn", None, 2), ("resnet-bn", "batch", 4)]
DEPTH, WIDTH, SEEDS = 3, 32, 1500
ENTRIES = [(0, 0), (0, 1), (1, 1)]
N_TESTS = len(CONFIGS) * DEPTH * len(ENTRIES)


def per_unit_grams(arch, sampler, bn, batch, seed):
    rngs = spawn_generators(seed, SEEDS)
    traj = simulate(arch, pair_batch(1.0, WIDTH, batch, rngs), DEPTH, WIDTH, rngs, sampler=sampler, bn=bn)
    return traj.pair_gram * np.exp(2 * traj.log_scale)[..., None, None] / WIDTH


def ks_pvalues(arch_gram, arch_dense, bn, batch):
    gram = per_unit_grams(arch_gram, "gram", bn, batch, seed=101)
    dense = per_unit_grams(arch_dense, "dense", bn, batch, seed=202)
    return [stats.ks_2samp(gram[l, :, i, j], dense[l, :, i, j]).pvalue
            for l in range(1, DEPTH + 1) for i, j in ENTRIES]


@pytest.mark.parametrize("arch,bn,batch", CONFIGS)
def test_gram_sampler_matches_dense_simulator(arch, bn, batch):
    pvalues = ks_pvalues(arch, arch, bn, batch)
    assert min(pvalues) > ALPHA_FAMILY / N_TESTS, pvalues


def test_the_two_sample_test_rejects_a_wrong_sampler():
    """Power: a Gram sampler whose first weight variance is 15% too large is caught."""
    wrong = Architecture("test-mlp-wrong-variance", (Dense(2.3), ReLU()))
    right = Architecture("test-mlp-right-variance", (Dense(2), ReLU()))
    assert min(ks_pvalues(wrong, right, None, 2)) < ALPHA_FAMILY / N_TESTS
