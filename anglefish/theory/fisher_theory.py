"""The Fisher spectrum of the infinite-width NTK at a given depth, width and number of inputs:
lambda_max, the mean eigenvalue m_lambda and eta_max = 2 / lambda_max.  Convention:
:mod:`anglefish.theory.ntk`."""
from __future__ import annotations

import math

import mpmath

from .architectures import Architecture, get_architecture
from .kappas import kappa_numeric
from .ntk import DEFAULT_DPS, _check_int, count_params, parse_params


def _float(x) -> float | None:
    """float of an mpmath number, or None when it lies outside the float64 range (then only
    the ``*_log10`` entries carry it): a printed inf or 0.0 would not be true."""
    if x == 0:
        return 0.0
    value = float(x)
    if math.isinf(value) or value == 0.0:
        return None
    return value


def _log10(x) -> float | None:
    return None if x <= 0 else float(mpmath.log10(x))


def equicorrelated_spectrum(kappa1, kappa2, width, samples):
    """Eigenvalues of F from K = N [(kappa1 - kappa2) I + kappa2 11^T] (T x T): returns
    (lambda_max, top, other) with top = N (kappa1 + (T-1) kappa2) / T (eigenvector 1, once) and
    other = N (kappa1 - kappa2) / T (T - 1 times; None if T = 1).  lambda_max = max of the two
    (top unless kappa2 < 0).  Works on numbers of any type (float, mpmath, SymPy)."""
    N, T = width, samples
    top = N * (kappa1 + (T - 1) * kappa2) / T
    if samples == 1:
        return top, top, None
    other = N * (kappa1 - kappa2) / T
    return (top if top >= other else other), top, other


def fisher_theory(arch: Architecture | str, depth: int, width: int, samples: int, params: str = "all",
                  *, derivative_kernel_scale: float = 1.0, dps: int = DEFAULT_DPS) -> dict:
    """Infinite-width Fisher spectrum of ``arch`` at ``depth`` blocks, width N and T inputs.

    Returns a dict with ``lambda_max`` (largest eigenvalue of F), ``mean_eigenvalue``
    (m_lambda = tr F / P), ``eta_max`` (2 / lambda_max), ``kappa1``, ``kappa2`` (K/N for one
    input / two orthogonal inputs, restricted to ``params``), ``n_params`` (P),
    ``other_eigenvalue`` (the (T-1)-fold eigenvalue N (kappa1 - kappa2)/T; None if T = 1) and
    ``lambda_max_log10``, ``eta_max_log10``.  A value outside the float64 range (ResNet beyond
    L ~ 1000) is None, with its log10 given.
    ``params``: 'all', 'layer:K' (weights of repeated block K, 0-based), 'layer:first',
    'layer:last' or 'layer:readout' (v).  ``derivative_kernel_scale`` multiplies every
    derivative kernel (1 = the derived theory; other values exist for mutation tests).
    Convention: module docstring (leading order as N -> oo; orthogonal inputs).
    """
    arch = get_architecture(arch)
    depth = _check_int(depth, "depth")
    width = _check_int(width, "width")
    samples = _check_int(samples, "samples")
    kind, k = parse_params(params, depth)
    traj = kappa_numeric(arch, depth, derivative_kernel_scale=derivative_kernel_scale, dps=dps)
    n_params = count_params(arch, depth, width, params)
    with mpmath.workdps(dps):
        k1, k2 = traj.kappas(kind, k)
        lam, _, other = equicorrelated_spectrum(k1, k2, mpmath.mpf(width), samples)
        mean = width * k1 / n_params
        eta = 2 / lam
        out = {
            "architecture": arch.name, "depth": depth, "width": width, "samples": samples,
            "params": params, "lambda_max": _float(lam), "mean_eigenvalue": _float(mean),
            "eta_max": _float(eta), "kappa1": _float(k1), "kappa2": _float(k2),
            "n_params": int(n_params), "other_eigenvalue": None if other is None else _float(other),
            "lambda_max_log10": _log10(lam), "eta_max_log10": _log10(eta),
            "derivative_kernel_scale": float(derivative_kernel_scale),
        }
    if any(out[key] is None for key in ("lambda_max", "mean_eigenvalue", "eta_max", "kappa1", "kappa2")):
        out["note"] = "values outside the float64 range are None; see lambda_max_log10 and eta_max_log10"
    return out



__all__ = ["equicorrelated_spectrum", "fisher_theory"]
