"""Theory against Monte Carlo on finite networks, with the tolerance model of verify/.

Each check extrapolates in width (N and 2N) and allows z*SE + b (anglefish.verify.tolerance).
False-alarm rate: ALPHA = 1e-5 per check.  (The property test over depth, width and angle
lives in test_contracts.py.)
"""

import numpy as np

from anglefish.numeric import compare_bn_kinds, pair_batch, pair_statistics, simulate, spawn_generators
from anglefish.theory.evaluate import numeric_maps
from anglefish.verify.tolerance import Estimate, width_extrapolated_check

ALPHA = 1e-5
SEEDS = 128


def mc_angle(arch, depth, theta0, width, seed):
    rngs = spawn_generators(seed, SEEDS)
    s = pair_statistics(simulate(arch, pair_batch(theta0, width, 2, rngs), depth, width, rngs, at=[depth]))
    return Estimate(float(s.theta_mc[-1]), float(s.theta_mc_se[-1]), width)


def check(arch, depth, theta0, width, seed, theory=None):
    if theory is None:
        theory = float(numeric_maps(arch).iterate(theta0, depth, at=[depth])[1][-1, 0])
    small = mc_angle(arch, depth, theta0, width, seed)
    large = mc_angle(arch, depth, theta0, 2 * width, seed + 1)
    return width_extrapolated_check(theory, small, large, alpha=ALPHA)


def test_the_check_fails_for_a_wrong_theory():
    """Power: the resnet-bn angle with BN's (l+3) replaced by (l+2) is rejected."""
    import sympy as sp

    from anglefish.theory.activations import THETA
    from anglefish.theory.blocks import BLOCK_INDEX as l

    psi = (sp.sin(THETA) + (sp.pi - THETA) * sp.cos(THETA)) / sp.pi
    wrong = sp.lambdify((THETA, l), sp.acos(psi / (l + 2) + (l + 1) / (l + 2) * sp.cos(THETA)), "math")
    theta = 1.0
    for k in range(20):
        theta = wrong(theta, k)
    assert not check("resnet-bn", 20, 1.0, 1024, seed=7, theory=theta).passed
    assert check("resnet-bn", 20, 1.0, 1024, seed=7).passed


def test_error_shrinks_as_width_grows():
    """The MLP's seed-averaged angle is biased ~ L/N: the error falls like 1/N.

    False-alarm rate: at these sizes the relative error falls from ~0.5 to ~0.06 while
    its noise (jackknife SE / theta) is ~0.01, so a correct 1/N bias breaks the ordering
    or leaves the slope window [-1.4, -0.6] with probability well below 1e-6."""
    depth, theta0 = 20, 1.2
    theory = float(numeric_maps("mlp").iterate(theta0, depth, at=[depth])[1][-1, 0])
    widths = [128, 256, 512, 1024]
    errors = []
    for k, n in enumerate(widths):
        rngs = spawn_generators(40 + k, 400)
        s = pair_statistics(simulate("mlp", pair_batch(theta0, n, 2, rngs), depth, n, rngs, at=[depth]))
        errors.append(abs(s.theta_mc[-1] - theory) / theory)
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    slope = np.polyfit(np.log(widths), np.log(errors), 1)[0]
    assert -1.4 < slope < -0.6, (slope, errors)


def test_batch_bn_differs_from_population_bn():
    """A finding, not an agreement: mini-batch statistics change the angle map.  The gap is
    reported with its standard error; at depth 10 it is many standard errors wide.

    False-alarm rate: |gap| > 5 SE rejects "no gap" at < 1e-6 (Gaussian); the population
    check allows 5 SE + 0.02 for the finite-width bias at N = 256 (false alarm < 1e-6)."""
    out = compare_bn_kinds("resnet-bn", 10, 1.0, 256, 32, batch=16, every=10)
    last = out["rows"][-1]
    assert last["l"] == 10 and last["gap_se"] > 0
    assert abs(last["gap"]) > 5 * last["gap_se"], last
    # population BN on the same seeds still matches theory at this depth
    assert abs(last["theta_population"] - last["theta_theory"]) < 5 * last["theta_population_se"] + 0.02
