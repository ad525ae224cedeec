"""Monte Carlo estimators of the paper's quantities, with standard errors over seeds.

The paper defines the angle through expectations over the random weights:
theta = arccos( E<h_a, h_b> / sqrt(E||h_a||^2 E||h_b||^2) ).  Its estimate averages the
inner products over seeds first (``theta_mc``).  Its standard error is the jackknife over
seeds (leave one seed out), which handles the nonlinearity of arccos.  The angle of each
single network is summarised separately (``theta_single_mean``/``_sd``, as in Fig. 7).
``log_q_mc`` is the log of the seed-averaged per-unit second moment (both inputs).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .simulate import Trajectory


def _angle_from_moments(qa, qb, qab, dab):
    """arccos(qab / sqrt(qa qb)) evaluated as 2 asin(sqrt((1 - c)/2)) with
    1 - c = (dab - (qa - qb)^2 / (sqrt qa + sqrt qb)^2) / (2 sqrt(qa qb)), dab = qa + qb - 2 qab."""
    ra, rb = np.sqrt(qa), np.sqrt(qb)
    one_minus_c = (dab - (qa - qb) ** 2 / (ra + rb) ** 2) / (2 * ra * rb)
    one_minus_c = np.clip(one_minus_c, 0.0, 2.0)
    return 2 * np.arcsin(np.sqrt(one_minus_c / 2))


@dataclass(frozen=True)
class PairStatistics:
    depths: np.ndarray
    theta_mc: np.ndarray
    theta_mc_se: np.ndarray
    theta_single_mean: np.ndarray
    theta_single_sd: np.ndarray
    log_q_mc: np.ndarray
    log_q_mc_se: np.ndarray
    seeds: int


def pair_statistics(traj: Trajectory) -> PairStatistics:
    """All estimators at every recorded depth of ``traj``."""
    g = traj.pair_gram  # (D, S, 2, 2)
    ls = traj.log_scale  # (D, S)
    s = g.shape[1]
    if s < 2:
        from ..errors import AnglefishError
        raise AnglefishError("standard errors need at least 2 seeds")
    # weights bring every seed to the largest scale at that depth (true = scaled * e^{2 ls})
    top = ls.max(axis=1, keepdims=True)
    w = np.exp(2 * (ls - top)) / traj.dims[:, None]
    qa, qb, qab = g[..., 0, 0] * w, g[..., 1, 1] * w, g[..., 0, 1] * w
    dab = (g[..., 0, 0] + g[..., 1, 1] - 2 * g[..., 0, 1]) * w
    sums = [x.sum(axis=1) for x in (qa, qb, qab, dab)]
    theta = _angle_from_moments(*(x / s for x in sums))
    loo = [(tot[:, None] - x) / (s - 1) for tot, x in zip(sums, (qa, qb, qab, dab))]
    theta_loo = _angle_from_moments(*loo)
    theta_se = np.sqrt((s - 1) / s * np.sum((theta_loo - theta_loo.mean(axis=1, keepdims=True)) ** 2, axis=1))
    # single networks
    with np.errstate(invalid="ignore", divide="ignore"):
        single = _angle_from_moments(g[..., 0, 0], g[..., 1, 1], g[..., 0, 1],
                                     g[..., 0, 0] + g[..., 1, 1] - 2 * g[..., 0, 1])
    # per-unit second moment, both inputs, seed-averaged, in logs
    q = (qa + qb) / 2
    mean_q = q.mean(axis=1)
    log_q = np.log(mean_q) + 2 * top[:, 0]
    log_q_se = q.std(axis=1, ddof=1) / np.sqrt(s) / mean_q
    return PairStatistics(traj.depths, theta, theta_se, single.mean(axis=1), single.std(axis=1, ddof=1),
                          log_q, log_q_se, s)
