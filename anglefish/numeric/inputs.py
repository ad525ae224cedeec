"""Inputs for simulations: a pair at a given angle inside a batch of whitened inputs."""
from __future__ import annotations

import math

import numpy as np

from ..errors import AnglefishError


def pair_batch(theta0: float, dim: int, batch: int, rngs: list, dtype=np.float64,
               gaussian: bool = False) -> np.ndarray:
    """Per-seed inputs of shape (S, dim, batch): columns 0 and 1 are the pair, the rest random.

    The pair is x_a = sqrt(dim) e_1, x_b = sqrt(dim) (cos theta0 e_1 + sin theta0 e_2): exact
    angle theta0 and per-coordinate second moment exactly 1 (the paper whitens its inputs).
    Because the first Dense has Gaussian weights, only inner products matter, so the
    choice of directions is immaterial.  The other batch - 2 columns are i.i.d. N(0, I)
    vectors, drawn from each seed's generator (they matter only for batch-statistics BN).

    ``gaussian=True`` (architectures whose theory reads the input coordinates directly):
    the pair is instead a random Gaussian direction u and a second direction w orthogonal
    to it, per seed, x_a = sqrt(dim) u, x_b = sqrt(dim)(cos theta0 u + sin theta0 w), so
    that its coordinates look like a Gaussian sample while angle and norms stay exact.
    """
    theta0 = float(theta0)
    if not math.isfinite(theta0) or not 0.0 <= theta0 <= math.pi:
        raise AnglefishError(f"theta0 must be an angle in [0, pi] radians, got {theta0}")
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 2:
        raise AnglefishError(f"batch must be an integer >= 2 (the pair plus others), got {batch!r}")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 2:
        raise AnglefishError(f"width/dimension must be an integer >= 2, got {dim!r}")
    s = len(rngs)
    x = np.zeros((s, dim, batch), dtype=dtype)
    root = math.sqrt(dim)
    x[:, 0, 0] = root
    x[:, 0, 1] = root * math.cos(theta0)
    x[:, 1, 1] = root * math.sin(theta0)
    for k, g in enumerate(rngs):
        if gaussian:
            u, w = g.standard_normal((2, dim))
            u /= np.linalg.norm(u)
            w -= np.dot(w, u) * u
            w /= np.linalg.norm(w)
            x[k, :, 0] = root * u
            x[k, :, 1] = root * (math.cos(theta0) * u + math.sin(theta0) * w)
        if batch > 2:
            x[k, :, 2:] = g.standard_normal((dim, batch - 2), dtype=dtype)
    return x


def given_inputs(x: np.ndarray, seeds: int, dtype=np.float64) -> np.ndarray:
    """Caller-supplied inputs (B, D) -- rows are inputs, the pair first -- for every seed."""
    x = np.asarray(x, dtype=dtype)
    if x.ndim != 2 or x.shape[0] < 2 or not np.all(np.isfinite(x)):
        raise AnglefishError("inputs must be a finite (batch, dim) array with batch >= 2")
    return np.broadcast_to(x.T[None], (seeds,) + x.T.shape).copy()
