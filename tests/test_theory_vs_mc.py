"""Theory against Monte Carlo on finite networks, with the tolerance model of verify/.

The property tests draw the architecture (from the registry), depth, width, theta0 and the seed
with hypothesis (profiles 'ci' and 'dev' of conftest.py); the numpy seed of the Monte Carlo is the
drawn integer (``generators(seed, ...)``), so a failing draw replays.  Each draw is judged the way
``anglefish verify`` judges it (:func:`anglefish.verify.contracts.theory_vs_gram`): the infinite-width
theory plus the finite-width O(1/N) correction against one width with all the seeds, within
z SE + 0.3 (L/N)^2 where the finite-width model applies, the width extrapolation elsewhere.
False-alarm rate: ALPHA = 1e-5 per check (two-sided normal; two checks per example), so the 'ci'
profile's examples together stay below 1e-3.
"""
import numpy as np
import pytest
from hypothesis import event, given, settings, strategies as st

from anglefish.numeric import compare_bn_kinds, pair_batch, pair_statistics, simulate, spawn_generators
from anglefish.theory.architectures import architectures
from anglefish.theory.evaluate import numeric_maps
from anglefish.theory.finite_width import finite_width_theory
from anglefish.verify.contracts import exact_theory, monte_carlo_pair, theory_vs_gram
from anglefish.verify.tolerance import FINITE_WIDTH_ALLOWANCE, Estimate, finite_width_check, width_extrapolated_check
from finite_width_mc import pair_mc

ALPHA = 1e-5
SEEDS = 128
PAPER = ("mlp", "resnet", "resnet-bn")


def judge(arch, depth, theta0, width, seed, seeds=SEEDS, theory=None):
    """The verify contract's angle and log-norm checks on one draw (the model it used in details)."""
    return theory_vs_gram(monte_carlo_pair(arch, depth, theta0, width, seeds, seed), theory=theory, alpha=ALPHA)


# ------------------------------------------------------------------ property-based
@settings(max_examples=5)
@given(arch=st.sampled_from(PAPER), depth=st.integers(1, 12), width=st.sampled_from([64, 128, 256]),
       theta0=st.floats(0.1, 3.0), seed=st.integers(0, 2**31))
def test_property_finite_width_theory_matches_monte_carlo(arch, depth, width, theta0, seed):
    """Fast (default suite): the paper's three architectures at depth <= 12 (L/N <= 3/16), where the
    finite-width model always applies: every draw is judged by it, and passes."""
    outcomes = judge(arch, depth, theta0, width, seed)
    for o in outcomes:
        assert o.details["model"] == "finite-width", o.details
        assert o.passed, o.as_dict()
    event(f"{arch}: angle statistic / tolerance {outcomes[0].statistic / outcomes[0].tolerance:.1f}")


def _registry():
    return sorted(architectures())


@pytest.mark.slow
@settings(max_examples=30)
@given(arch=st.sampled_from(_registry()), depth=st.integers(1, 64), width=st.sampled_from([64, 128, 256, 512, 1024]),
       theta0=st.floats(0.05, 3.1), seed=st.integers(0, 2**31))
def test_property_registry_matches_monte_carlo_within_the_tolerance_model(arch, depth, width, theta0, seed):
    """Any registered architecture, depth <= 64, width 64 .. 1024 (L/N up to 1), theta0 and seed:
    the verify contract passes; where the finite-width model does not apply (preact-resnet: not
    derived; L/N > 1/4 or the expansion not valid) it says why and the width extrapolation judges."""
    outcomes = judge(arch, depth, theta0, width, seed)
    for o in outcomes:
        if o.details["model"] == "width-extrapolation":
            assert o.details["model_reason"], o.details
        assert o.passed, o.as_dict()
    event(f"model: {outcomes[0].details['model']}")


@pytest.mark.slow
@settings(max_examples=20)
@given(arch=st.sampled_from(PAPER), depth=st.integers(2, 32), width=st.sampled_from([128, 256, 512]),
       theta0=st.floats(0.2, 2.9), seed=st.integers(0, 2**31))
def test_property_single_network_sd_and_seed_average(arch, depth, width, theta0, seed):
    """The finite-width theory's own predictions at one width, 1024 seeds, L/N <= 1/4: the
    seed-averaged angle by the tolerance model's finite-width check (alpha 1e-5) and the
    single-network angle's sd within 10% + 4 SE of the sample sd (its SE from the fourth moment;
    false alarm < 1e-4)."""
    depth = min(depth, width // 4)
    th = finite_width_theory(arch, depth, width, theta0)
    if not th["valid"]:
        event("theory not valid")
        return
    mc = pair_mc(arch, depth, theta0, width, 1024, seed=seed, at=[depth])
    r = finite_width_check(th["theta_theory"], Estimate(float(mc.theta[-1]), float(mc.theta_se[-1]), width),
                           th["theta_theory_finite"] - th["theta_theory"],
                           FINITE_WIDTH_ALLOWANCE * (depth / width) ** 2, alpha=ALPHA)
    assert r.passed, (th, r)
    sd, sd_se = float(mc.single_sd[-1]), float(mc.single_sd_se[-1])
    assert abs(th["single_sd_theory"] - sd) <= 0.10 * sd + 4 * sd_se, (th["single_sd_theory"], sd, sd_se)


# ------------------------------------------------------------------ power
def test_the_check_fails_for_a_wrong_theory():
    """Power: the resnet-bn angle with BN's (l+3) replaced by (l+2) is rejected by the contract
    (finite-width model at N = 512, 256 seeds: the wrong angle is 0.035 rad off, the tolerance about
    0.007), the correct theory is not (false alarm 1e-5)."""
    import sympy as sp

    from anglefish.theory.activations import THETA
    from anglefish.theory.blocks import BLOCK_INDEX as l

    psi = (sp.sin(THETA) + (sp.pi - THETA) * sp.cos(THETA)) / sp.pi
    wrong = sp.lambdify((THETA, l), sp.acos(psi / (l + 2) + (l + 1) / (l + 2) * sp.cos(THETA)), "math")
    theta = 1.0
    for k in range(20):
        theta = wrong(theta, k)
    mc = monte_carlo_pair("resnet-bn", 20, 1.0, 512, SEEDS, seed=7)
    right = exact_theory("resnet-bn", 20, 1.0)
    angle = theory_vs_gram(mc, theory=(theta, right[1]), alpha=ALPHA)[0]
    assert angle.details["model"] == "finite-width" and not angle.passed, angle.as_dict()
    assert all(o.passed for o in theory_vs_gram(mc, alpha=ALPHA))


def test_finite_width_check_catches_what_the_extrapolation_misses():
    """The ResNet+BN sin(theta) coefficient x 1.02 at L = 30, theta0 = 1.5, N = 1024 (the mutant the
    extrapolation let escape): 0.0117 rad off.  The finite-width check at N = 1024 with 512 seeds has
    SE ~0.002 and tolerance ~0.007 at alpha = 1e-3, so it is caught with probability ~0.99 (seed 11
    fixed: deterministic); the extrapolation from N and 2N with 256 seeds each has SE_R ~0.005 and
    a tolerance near 0.018 there, and the calibration of `verify --full` before the finite-width
    model missed this mutant in every configuration.  The correct theory passes."""
    from anglefish.verify.calibration import mutants

    mutant = next(m for m in mutants("resnet-bn") if m.name == "coefficient of sin(theta) x 1.02")
    mc = monte_carlo_pair("resnet-bn", 30, 1.5, 1024, 256, seed=11)
    wrong = mutant.theory(30, 1.5)
    fw = theory_vs_gram(mc, theory=wrong, alpha=1e-3)[0]
    assert fw.details["model"] == "finite-width" and not fw.passed, fw.as_dict()
    assert theory_vs_gram(mc, alpha=1e-3)[0].passed


# ------------------------------------------------------------------ the width dependence
def test_error_shrinks_as_width_grows():
    """The MLP's seed-averaged angle is biased ~ L/N: the infinite-width theory's error falls like
    1/N, while the finite-width theory's stays within its tolerance at every width.

    False-alarm rate: at these sizes the relative error falls from ~0.5 to ~0.06 while
    its noise (jackknife SE / theta) is ~0.01, so a correct 1/N bias breaks the ordering
    or leaves the slope window [-1.4, -0.6] with probability well below 1e-6; the finite-width
    checks at alpha 1e-5 each."""
    depth, theta0 = 20, 1.2
    theory = float(numeric_maps("mlp").iterate(theta0, depth, at=[depth])[1][-1, 0])
    widths = [128, 256, 512, 1024]
    errors = []
    for k, n in enumerate(widths):
        rngs = spawn_generators(40 + k, 400)
        s = pair_statistics(simulate("mlp", pair_batch(theta0, n, 2, rngs), depth, n, rngs, at=[depth]))
        errors.append(abs(s.theta_mc[-1] - theory) / theory)
        th = finite_width_theory("mlp", depth, n, theta0)
        r = finite_width_check(theory, Estimate(float(s.theta_mc[-1]), float(s.theta_mc_se[-1]), n),
                               th["theta_theory_finite"] - theory, FINITE_WIDTH_ALLOWANCE * (depth / n) ** 2,
                               alpha=ALPHA)
        assert r.passed, (n, r)
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    slope = np.polyfit(np.log(widths), np.log(errors), 1)[0]
    assert -1.4 < slope < -0.6, (slope, errors)


def test_width_extrapolation_still_judges_where_the_finite_width_theory_is_not_derived():
    """preact-resnet (an activation reads the residual stream: no O(1/N) closure): the contract
    falls back to the width extrapolation, says why, and passes (alpha 1e-5)."""
    outcomes = judge("preact-resnet", 5, 1.0, 128, seed=3)
    for o in outcomes:
        assert o.details["model"] == "width-extrapolation" and "not conditionally Gaussian" in o.details["model_reason"]
        assert o.passed, o.as_dict()
    small, large = (Estimate(0.5, 0.01, 64), Estimate(0.5, 0.01, 128))
    assert width_extrapolated_check(0.5, small, large).passed


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
