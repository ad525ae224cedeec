"""Co-activation: the fraction of ReLU units active for both inputs of the pair."""
from __future__ import annotations

import math

import numpy as np

from ..theory.architectures import get_architecture
from .inputs import pair_batch
from .simulate import _factor, simulate, spawn_generators


def coactivation_rate(arch, depth: int, theta0: float, width: int, seeds: int, seed: int = 0,
                      variance: float = 2.0) -> dict:
    """Fraction of units whose pre-activations are positive for both inputs, in the first
    Dense (variance ``variance``) of the block applied after ``depth`` blocks of ``arch``.

    The pre-activations are sampled exactly from their conditional Gaussian law given the
    state after ``depth`` blocks (Gram sampler); the rate is the mean over seeds of each
    network's fraction, with its standard error.  Also returns the angle at that depth.
    """
    arch = get_architecture(arch)
    rngs = spawn_generators(seed, seeds)
    x = pair_batch(theta0, width, 2, rngs, gaussian=arch.gaussian_inputs)
    traj = simulate(arch, x, depth, width, rngs, at=[depth])
    g = traj.pair_gram[-1]  # (S, 2, 2), scaled; the sign pattern does not depend on scale
    f = _factor(g * (variance / traj.dims[-1]))
    z = np.empty((len(rngs), width, 2))
    for s, r in enumerate(rngs):
        r.standard_normal(out=z[s])
    u = np.matmul(z, f.transpose(0, 2, 1))
    both = np.mean((u[..., 0] > 0) & (u[..., 1] > 0), axis=1)
    cos = g[:, 0, 1] / np.sqrt(g[:, 0, 0] * g[:, 1, 1])
    return {"rate": float(both.mean()), "rate_se": float(both.std(ddof=1) / math.sqrt(len(both))),
            "theta_single_mean": float(np.mean(np.arccos(np.clip(cos, -1, 1)))), "depth": depth,
            "theta0": theta0, "width": width, "seeds": seeds}
