"""Population BN in front of a smooth activation (tanh, GELU): the population moment after
BN is a Gaussian integral at unit variance like any other, so the maps are derived, iterated
numerically (quadrature kernels) and held against Monte Carlo with the tolerance model.

False-alarm rate: each theory-vs-Monte-Carlo check runs at ALPHA = 1e-5 (two quantities per
architecture, four checks in all: below 1e-4 together).  The power check asserts that the
ReLU network's theory is rejected for the tanh network; it cannot pass by accident because
the two angles differ by about 4 times the check's tolerance at this depth (measured).
"""
import math

import pytest

from anglefish.theory.recursion import derive_maps
from anglefish.verify.contracts import exact_theory, monte_carlo_pair, symbolic_vs_numeric, theory_vs_gram

ALPHA = 1e-5


@pytest.fixture(scope="module")
def mc_tanh():
    # an unregistered copy: a module fixture runs outside the per-test registry snapshot
    from anglefish.theory.architectures import with_activation

    return monte_carlo_pair(with_activation("resnet-bn", "tanh"), 10, 1.0, 512, 128, seed=3)


@pytest.mark.parametrize("arch,depth", [("resnet-bn[tanh]", 10), ("mlp-bn[gelu]", 6)])
def test_theory_matches_monte_carlo(arch, depth, mc_tanh):
    mc = mc_tanh if arch == "resnet-bn[tanh]" else monte_carlo_pair(arch, depth, 1.0, 512, 128, seed=3)
    outcomes = theory_vs_gram(mc, alpha=ALPHA)
    assert {o.id for o in outcomes} == {"theory_vs_gram", "log_norm_vs_gram"}
    for o in outcomes:
        assert o.applicable and o.passed, o.as_dict()


def test_a_wrong_theory_is_rejected(mc_tanh):
    """Power: the ReLU ResNet+BN theory (angles shrink) is rejected for the tanh one (they grow)."""
    wrong = exact_theory("resnet-bn", 10, 1.0)
    right = exact_theory(mc_tanh.arch, 10, 1.0)
    assert right[0] > 1.0 > wrong[0]
    angle = theory_vs_gram(mc_tanh, theory=wrong, alpha=ALPHA)[0]
    assert angle.id == "theory_vs_gram" and not angle.passed, angle.as_dict()


@pytest.mark.parametrize("arch", ["resnet-bn[tanh]", "resnet-bn[gelu]", "mlp-bn[tanh]", "mlp-bn[gelu]"])
def test_maps_evaluate_numerically(arch):
    outcome = symbolic_vs_numeric(arch)
    assert outcome.applicable and outcome.passed, outcome.as_dict()


def test_mlp_bn_starts_at_the_input_moment():
    """m_0 = 1 at the input; BN in front of the activation makes m_l constant only from l = 1."""
    from anglefish.theory.evaluate import maps_for_depth

    for arch in ("mlp-bn", "mlp-bn[gelu]"):
        _, _, log_q = maps_for_depth(arch, 3).iterate(1.0, 3)
        assert log_q[0] == 0.0 and log_q[1] == log_q[3] != 0.0
    assert "for l >= 1" in derive_maps("mlp-bn").text()["norm_map"]
    # the ReLU moment after BN is 1/2 exactly
    assert math.isclose(maps_for_depth("mlp-bn", 3).iterate(1.0, 3)[2][2], math.log(0.5))
