"""The tolerance model: the one place that decides whether theory and simulation agree.

A Monte Carlo estimate at width N carries noise (standard error SE over seeds) and a
finite-width bias that shrinks like 1/N (REFERENCE.md: the paper's seed-averaged angle
is biased roughly in proportion to L/N).  A fixed relative tolerance therefore fails at
depth.  The check used everywhere is width extrapolation:

    R = 2 m(2N) - m(N)                      (Richardson: removes the 1/N term)
    SE_R = sqrt(4 SE(2N)^2 + SE(N)^2)
    b = kappa |m(2N) - m(N)|                (allowance for the O(1/N^2) remainder)
    pass  iff  |theory - R| <= z SE_R + b,  z = Phi^{-1}(1 - alpha/2).

Under a correct theory and Gaussian noise the false-alarm rate is at most alpha (the
allowance only widens the interval).  b is measured from the width doubling itself, so it
shrinks as N grows; kappa = 1/4 states the assumption that the second-order remainder is
at most a quarter of the first-order change (verified by the calibration in verify/).
A wrong theory off by delta fails once delta exceeds z SE_R + b, which shrinks with both
more seeds and more width: this is what makes the check able to fail.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist

#: default false-alarm rate of one check
DEFAULT_ALPHA = 1e-3
#: the second-order remainder is taken to be at most this fraction of the width-doubling change
KAPPA = 0.25


@dataclass(frozen=True)
class Estimate:
    mean: float
    se: float
    width: int


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    statistic: float  # |theory - R|
    tolerance: float  # z SE_R + b
    extrapolated: float
    se: float
    allowance: float
    z: float
    false_alarm_rate: float

    def as_dict(self) -> dict:
        return asdict(self)


def z_for(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    return NormalDist().inv_cdf(1 - alpha / 2)


def width_extrapolated_check(theory: float, small: Estimate, large: Estimate,
                             alpha: float = DEFAULT_ALPHA, kappa: float = KAPPA) -> CheckResult:
    """Compare ``theory`` with Monte Carlo at widths N (``small``) and 2N (``large``)."""
    if large.width != 2 * small.width:
        raise ValueError("the large width must be twice the small one")
    r = 2 * large.mean - small.mean
    se = math.hypot(2 * large.se, small.se)
    b = kappa * abs(large.mean - small.mean)
    z = z_for(alpha)
    statistic = abs(theory - r)
    tolerance = z * se + b
    return CheckResult(bool(statistic <= tolerance), statistic, tolerance, r, se, b, z, alpha)


def plain_check(theory: float, estimate: Estimate, allowance: float = 0.0,
                alpha: float = DEFAULT_ALPHA) -> CheckResult:
    """|theory - m| <= z SE + allowance, for quantities without finite-width bias."""
    z = z_for(alpha)
    statistic = abs(theory - estimate.mean)
    tolerance = z * estimate.se + allowance
    return CheckResult(bool(statistic <= tolerance), statistic, tolerance, estimate.mean, estimate.se,
                       allowance, z, alpha)
