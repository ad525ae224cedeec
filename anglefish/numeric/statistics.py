"""Correlations with confidence intervals (Fisher z): Pearson, partial (``controls``) and Spearman."""
from __future__ import annotations

import math

import numpy as np

from ..errors import AnglefishError
from ..validation import check_int


def pearson_with_ci(x, y, level: float = 0.95, controls: int = 0) -> dict:
    """Pearson correlation of paired samples with its Fisher-z confidence interval.

    z = atanh(r), SE = 1 / sqrt(n - 3 - controls), interval tanh(z +- q SE), q the normal
    quantile of (1 + level) / 2; ``controls`` is the number of variables partialled out
    beforehand (for a partial correlation).  Needs n >= 4 + controls and both samples
    non-constant (else r and the interval are nan and 'defined' is False).
    """
    from statistics import NormalDist

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise AnglefishError(f"correlation needs two 1-d samples of equal length, got {x.shape} and {y.shape}")
    if not (0 < level < 1):
        raise AnglefishError(f"confidence level must be in (0, 1), got {level}")
    n = len(x)
    out = {"n": n, "r": math.nan, "lo": math.nan, "hi": math.nan, "level": level, "defined": False}
    controls = check_int(controls, "controls", 0)
    if n < 4 + controls or np.ptp(x) == 0 or np.ptp(y) == 0:
        return out
    r = float(np.corrcoef(x, y)[0, 1])
    r = max(-1.0, min(1.0, r))
    q = NormalDist().inv_cdf((1 + level) / 2)
    z = math.atanh(max(-1 + 1e-15, min(1 - 1e-15, r)))
    se = 1 / math.sqrt(n - 3 - controls)
    out.update(r=r, lo=math.tanh(z - q * se), hi=math.tanh(z + q * se), defined=True)
    return out


def spearman_with_ci(x, y, level: float = 0.95) -> dict:
    """Spearman rank correlation (average ranks for ties) with an approximate Fisher-z interval,
    SE = sqrt(1.06 / (n - 3)) (Fieller, Hartley & Pearson 1957).  Same keys as
    :func:`pearson_with_ci`."""
    from statistics import NormalDist

    from scipy.stats import rankdata

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    out = pearson_with_ci(rankdata(x), rankdata(y), level) if x.shape == y.shape and x.ndim == 1 \
        else pearson_with_ci(x, y, level)
    if out["defined"]:
        q = NormalDist().inv_cdf((1 + level) / 2)
        z = math.atanh(max(-1 + 1e-15, min(1 - 1e-15, out["r"])))
        se = math.sqrt(1.06 / (out["n"] - 3))
        out.update(lo=math.tanh(z - q * se), hi=math.tanh(z + q * se))
    return out



__all__ = ["pearson_with_ci", "spearman_with_ci"]
