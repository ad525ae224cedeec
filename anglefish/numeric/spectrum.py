"""Moments and bounds of the Fisher spectrum measured on sampled networks, and the sampled
reduced model of the bulk edge where kappa2 = 0.

Convention: :mod:`anglefish.numeric.fisher` (F = (1/T) sum_t grad f grad f^T over a parameter
subset of P weights; its nonzero eigenvalues are those of K/T, K the T x T NTK Gram).  Every
function here takes the Grams K (S, T, T) of S networks; per network:

    lambda_max = largest eigenvalue of K/T,  m_lambda = tr K / (T P),
    s_lambda = ||K||_F^2 / (T^2 P) = tr F^2 / P,  concentration = ||K||_F^2 / (tr K)^2.

Sample bounds on each network's own lambda_max (deterministic: they hold for every PSD
matrix, so the only slack is rounding; a violation beyond ``RTOL`` is a bug):

    s/m, 1^T K 1 / T^2, max_t K_tt / T  <=  lambda_max  <=  sqrt(P s), P m = tr K / T,
                                                           max_t sum_s |K_st| / T.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import AnglefishError
from ..theory.spectrum import INEQUALITIES, Bound, bulk_edge, selection_subset
from .fisher import _mean_se, check_int, fisher_spectrum
from .simulate import spawn_generators

#: relative rounding allowance of the deterministic sample-bound check (eigvalsh in float64)
RTOL = 1e-9
#: the sample bounds, in the order they are reported
SAMPLE_BOUNDS = ("s_over_m", "rayleigh_uniform", "max_diagonal", "sqrt_P_s", "trace", "gershgorin")


def _check_grams(grams) -> np.ndarray:
    k = np.asarray(grams, dtype=np.float64)
    if k.ndim == 2:
        k = k[None]
    if k.ndim != 3 or k.shape[1] != k.shape[2] or k.shape[1] < 1:
        raise AnglefishError(f"grams must have shape (S, T, T), got {np.shape(grams)}")
    if not np.all(np.isfinite(k)):
        raise AnglefishError("grams must be finite")
    return k


def gram_moments(grams, n_params: int) -> dict:
    """Per-network arrays (length S): ``lambda_max``, ``m_lambda``, ``s_lambda``, ``concentration``
    and ``eigenvalues`` (S, T) of F = K/T, from the Grams K (S, T, T) of a subset of P weights."""
    k = _check_grams(grams)
    n_params = check_int(n_params, "n_params")
    t = k.shape[-1]
    eig = np.linalg.eigvalsh(k / t)
    trace = np.einsum("stt->s", k)
    frob2 = np.einsum("sab,sab->s", k, k)
    return {"lambda_max": eig[:, -1], "m_lambda": trace / (t * n_params),
            "s_lambda": frob2 / (t * t * n_params), "concentration": frob2 / trace**2, "eigenvalues": eig}


def sample_bounds(grams, n_params: int) -> dict:
    """Per-network values (length S) of every sample bound (module docstring), in units of
    eigenvalues of F = K/T."""
    k = _check_grams(grams)
    mom = gram_moments(k, n_params)
    t = k.shape[-1]
    p = float(n_params)
    return {
        "s_over_m": mom["s_lambda"] / mom["m_lambda"],
        "rayleigh_uniform": k.sum(axis=(1, 2)) / t**2,
        "max_diagonal": np.einsum("stt->st", k).max(axis=1) / t,
        "sqrt_P_s": np.sqrt(p * mom["s_lambda"]),
        "trace": p * mom["m_lambda"],
        "gershgorin": np.abs(k).sum(axis=2).max(axis=1) / t,
    }


def check_sample_bounds(grams, n_params: int, rtol: float = RTOL) -> dict:
    """Hold every network's lambda_max between its own sample bounds.  Deterministic (false-alarm
    rate 0: the inequalities hold for every PSD matrix); ``rtol`` absorbs float64 rounding.
    Returns {name: {"violations": count, "worst_margin": min over networks of the relative
    slack (>= -rtol when the bound holds)}} and ``passed``."""
    k = _check_grams(grams)
    lam = gram_moments(k, n_params)["lambda_max"]
    out, ok = {}, True
    for name, values in sample_bounds(k, n_params).items():
        kind = INEQUALITIES[name][1]
        slack = (lam - values) if kind == "lower" else (values - lam)
        margin = slack / np.maximum(np.abs(lam), np.finfo(float).tiny)
        bad = int(np.sum(margin < -rtol))
        ok &= bad == 0
        out[name] = {"violations": bad, "worst_margin": float(margin.min()), "kind": kind}
    out["passed"] = bool(ok)
    return out


def spectrum_mc(arch, depth: int, width: int, samples: int, seeds: int, params: str = "all", seed: int = 0,
                bn: str | None = None, dtype=np.float64, sampler: str = "projected", progress=None) -> dict:
    """Sample ``seeds`` random networks (:func:`fisher_spectrum`: same draws, same seeds, same
    ``sampler``) and return :func:`spectrum_summary` of them.  ``params`` is a selection of
    :mod:`anglefish.theory.spectrum` ('all', 'layer:K', 'layer:first', 'layer:last', 'first', ...)."""
    subset = selection_subset(params, depth)
    r = fisher_spectrum(arch, depth, width, samples, seeds, subset=subset, seed=seed, bn=bn, dtype=dtype,
                        sampler=sampler, progress=progress)
    return spectrum_summary(r, params)


def spectrum_summary(run: dict, params: str | None = None) -> dict:
    """The moments and sample bounds of a :func:`fisher_spectrum` result ``run``: the seed means
    and standard errors (sd / sqrt(S)) of lambda_max, m_lambda, s_lambda and the concentration,
    the means of the sample bounds, the deterministic per-network bound check (``bounds_check``),
    the per-network arrays, ``n_params`` and the Grams.  ``params``: the selection's name as given
    (default: the run's subset)."""
    k, p = run["grams"], run["n_params"]
    mom = gram_moments(k, p)
    out = {"architecture": run["architecture"], "depth": run["depth"], "width": run["width"],
           "samples": run["samples"], "seeds": run["seeds"], "seed": run["seed"],
           "params": run["subset"] if params is None else params, "subset": run["subset"], "n_params": p,
           "sampler": run.get("sampler", "dense")}
    for key in ("lambda_max", "m_lambda", "s_lambda", "concentration"):
        out[key], out[f"{key}_se"] = _mean_se(mom[key])
        out[f"{key}_per_seed"] = mom[key]
    bounds = sample_bounds(k, p)
    out["sample_bounds"] = {name: _mean_se(v) for name, v in bounds.items()}
    out["sample_bounds_per_seed"] = bounds
    out["bounds_check"] = check_sample_bounds(k, p)
    out["grams"] = k
    return out


def sample_bound_objects(mc: dict) -> list:
    """The sample bounds of :func:`spectrum_mc` as :class:`Bound` objects (value: mean over
    networks; each network's lambda_max lies within its own bounds -- ``bounds_check``)."""
    out = []
    check = mc["bounds_check"]
    for name in SAMPLE_BOUNDS:
        mean, _ = mc["sample_bounds"][name]
        c = check[name]
        note = (f"mean over {mc['seeds']} networks of each network's own bound; it holds for "
                f"{mc['seeds'] - c['violations']} of {mc['seeds']} networks")
        out.append(Bound(name, mean, INEQUALITIES[name][0], INEQUALITIES[name][1], "sample", "each network", note))
    return out


# ----------------------------------------------------------------- the bulk edge's reduced model
def bulk_edge_model(p1: float, p2: float, a: float, sigma_d2: float, width: int, samples: int,
                    draws: int = 64, seed: int = 0) -> dict:
    """Sample the reduced model of the first block's Gram where kappa2 = 0
    (:mod:`anglefish.theory.spectrum`, "Bulk edge"):

        K = D^(1/2) [(p1 - p2) diag(X^T X) + p2 X^T X] D^(1/2) + a (11^T - I),

    X (N x T) i.i.d. N(0, 1), D = diag(d_t) with d_t i.i.d. log-normal, E d = 1, Var log d =
    sigma_d2 (the per-input spread of |Delta_t|^2 within a network; the spread common to all
    inputs only rescales K and is left out: it does not move E lambda_max).  Returns the mean and
    standard error of lambda_max(K/T) over ``draws`` draws (generator per draw, from ``seed``)."""
    n, t = check_int(width, "width"), check_int(samples, "samples")
    draws = check_int(draws, "draws")
    if not (sigma_d2 >= 0 and math.isfinite(sigma_d2)):
        raise AnglefishError(f"sigma_d2 must be a finite number >= 0, got {sigma_d2!r}")
    sig = math.sqrt(sigma_d2)
    lam = np.empty(draws)
    off = a * (np.ones((t, t)) - np.eye(t))
    for i, g in enumerate(spawn_generators(seed, draws)):
        x = g.standard_normal((n, t))
        d = np.exp(sig * g.standard_normal(t) - sigma_d2 / 2)
        gram = x.T @ x
        k = p2 * gram
        k[np.diag_indices(t)] = p1 * np.diag(gram)
        k *= np.sqrt(np.outer(d, d))
        lam[i] = np.linalg.eigvalsh(k + off)[-1] / t
    mean, se = _mean_se(lam)
    return {"lambda_max": mean, "lambda_max_se": se, "per_draw": lam, "draws": draws}


def bulk_edge_prediction(arch, depth: int, width: int, samples: int, params: str = "layer:first",
                         draws: int = 64, seed: int = 0) -> dict:
    """The derived edge of :func:`anglefish.theory.spectrum.bulk_edge` with the finite-width
    reduced model sampled (``model``: mean, SE) -- the prediction of lambda_max where kappa2 = 0."""
    edge = bulk_edge(arch, depth, width, samples, params)
    model = bulk_edge_model(edge["p1"], edge["p2"], edge["a"], edge["sigma_d2"], width, samples, draws, seed)
    without_spread = bulk_edge_model(edge["p1"], edge["p2"], edge["a"], 0.0, width, samples, draws, seed)
    edge["model"] = model["lambda_max"]
    edge["model_se"] = model["lambda_max_se"]
    edge["model_without_spread"] = without_spread["lambda_max"]
    return edge


__all__ = ["RTOL", "SAMPLE_BOUNDS", "bulk_edge_model", "bulk_edge_prediction", "check_sample_bounds",
           "gram_moments", "sample_bound_objects", "sample_bounds", "spectrum_mc", "spectrum_summary"]
