"""Every Fisher law carries its accuracy: exact / law from the exact infinite-width recursion.

The exact series (a forward-only recursion, module anglefish.theory.accuracy) is first held to the
independent mpmath iteration (kappa_numeric); then every leading law must tend to 1 at L = 10^5
within 2%, or be marked logarithmically slow with a corrected form whose remaining error shrinks
with depth.  All checks are deterministic (no false-alarm rate)."""
import math

import pytest

from anglefish.theory.accuracy import exact_series, law_accuracy
from anglefish.theory.ntk import kappa_numeric

DEEP = (10**3, 10**4, 10**5)


@pytest.mark.parametrize("arch", ["mlp", "resnet", "resnet-bn", pytest.param("resnet2", marks=pytest.mark.slow)])
def test_exact_series_equals_the_mpmath_iteration(arch):
    series = exact_series(arch, (7, 60), block=2)
    for depth in (7, 60):
        traj = kappa_numeric(arch, depth)
        k1, k2 = traj.kappas("all", None)
        b1, b2 = traj.kappas("block", 2)
        e = series[depth]
        assert math.exp(e["kappa1"]) == pytest.approx(float(k1), rel=1e-11)
        assert math.exp(e["kappa2"]) == pytest.approx(float(k2), rel=1e-11)
        assert math.exp(e["block1"]) == pytest.approx(float(b1), rel=1e-11)
        assert math.exp(e["last1"]) == pytest.approx(float(traj.block1[-1]), rel=1e-11)


@pytest.mark.parametrize("arch", ["mlp", "resnet"])
def test_power_class_laws_are_within_two_percent_at_a_hundred_thousand_blocks(arch):
    acc = law_accuracy(arch, depths=DEEP)
    for name, entry in acc["laws"].items():
        ratios = [entry["exact_over_leading"][str(d)] for d in DEEP]
        assert abs(ratios[-1] - 1) <= 0.02, (name, ratios)
        assert abs(ratios[0] - 1) > abs(ratios[-1] - 1)  # converging, not luckily close
        assert entry["convergence"].startswith("converged")


@pytest.mark.slow
def test_resnet_bn_laws_are_marked_slow_and_their_corrections_shrink():
    acc = law_accuracy("resnet-bn", depths=DEEP)
    for name, entry in acc["laws"].items():
        lead = [entry["exact_over_leading"][str(d)] for d in DEEP]
        if abs(lead[-1] - 1) <= 0.02:
            continue
        assert entry["convergence"].startswith("logarithmically slow"), name
        corrected = [entry["exact_over_corrected"][str(d)] for d in DEEP]
        errors = [abs(r - 1) for r in corrected]
        assert errors[0] > errors[1] > errors[2], (name, corrected)  # shown to shrink with depth
        assert errors[-1] < abs(lead[-1] - 1)
    # the kappa2 leading law is right but slow: 1.27 at 10^4, falling again by 10^5
    k2 = acc["laws"]["kappa2"]["exact_over_leading"]
    assert 1.2 < k2[str(10**4)] < 1.3 and k2[str(10**5)] < k2[str(10**4)]
    # kappa1's two-term expansion of its harmonic-number closed form is accurate to 1e-4 at 10^5
    k1 = acc["laws"]["kappa1"]
    assert "harmonic" in k1["closed_form"] and abs(k1["exact_over_corrected"][str(10**5)] - 1) < 1e-4
