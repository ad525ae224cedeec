"""The generalization gap of MLP, ResNet1 and ResNet2 (Furusho, Liu & Ikeda, INNS-BDDL 2019).

The claim: a ResNet whose skip spans two weight layers (ResNet2) has a smaller generalization
gap -- expected loss minus empirical loss -- than one whose skip spans one weight layer
(ResNet1) or an MLP; shown for linear networks through algorithmic stability (Charles &
Papailiopoulos 2018: an algorithm that converges to global minima of a function satisfying the
Polyak-Lojasiewicz (PL) inequality with constant mu is stable in proportion to 1/(mu n)).
This module derives what can be derived; :mod:`anglefish.numeric.generalization` measures.

The architectures (block lists; names chosen so that no registered name changes meaning)
-------------------------------------------------------------------------------------------
"ResNet-k" in the claim's sense is a residual block whose branch holds k weight layers.  The
registered ``resnet`` (h + W2 relu(W1 h)) therefore is ResNet2 with ReLU, and the registered
``resnet2`` (three weight layers in its branch) is *not* the claim's ResNet2.  The six networks:

==========  ==================  ===========================================  ====================
claim       activation          block (repeated L times)                     registry name
==========  ==================  ===========================================  ====================
MLP         linear              Dense(1), Act('linear'):   h' = W h            ``mlp-linear``
ResNet1     linear              Residual(Act('linear'), Dense(1)): h + W h    ``skip1-linear``
ResNet2     linear              Residual(Dense(1), Act('linear'), Dense(1))   ``skip2-linear``
                                : h' = h + W2 W1 h
MLP         ReLU                Dense(2), ReLU():  relu(W h)  (He)           ``mlp`` (existing)
ResNet1     ReLU                Residual(ReLU(), Dense(1)): h + W relu(h)    ``skip1``
ResNet2     ReLU                Residual(Dense(2), ReLU(), Dense(1))          ``resnet`` (existing)
                                : h + W2 relu(W1 h)  (He, Xavier)
==========  ==================  ===========================================  ====================

Initialisation ("standard"): ``Dense(v)`` draws W_ij ~ N(0, v/fan_in); v = 2 (He) for a
layer followed by a ReLU, v = 1 (Xavier/LeCun) otherwise -- the ACML 2019 convention, under
which every linear block list above equals its ReLU list with the ReLU replaced by the identity
and the He variance by 1.  ResNet1 with ReLU needs its activation somewhere: the branch must end
in a weight layer (skip and branch then stay uncorrelated), so the ReLU goes before W
(pre-activation form; the theory treats the residual stream as Gaussian, ``gaussian_inputs``).
Width N = input dimension d (a residual block keeps the width; as in the paper).  Readout: the
project's scalar f(x) = v . h^L, v ~ N(0, 1/N), trained with everything else (all weights, no
biases; :mod:`anglefish.numeric.fisher`).  The architectures are *not* registered on import
(``anglefish list`` and the contract suite stay as they are);
:func:`register_gap_architectures` registers the four new ones.

Loss convention: per-example loss l(f, y) = (f - y)^2 / 2; empirical loss L_S = mean over the n
training examples (``anglefish.numeric.training``); expected loss = E over a fresh (x, y).
Gap = expected loss - empirical loss of the trained network.

What is derived (and why the three architectures can differ at all)
--------------------------------------------------------------------
A linear network realises f(x) = beta(theta) . x, so the training loss depends on theta only
through the end-to-end vector beta.  Its tangent kernel is K(x, x') = x^T M x' with the
*tangent metric* M = sum_p d beta/d theta_p d beta/d theta_p^T (d x d); for one Dense W with
f = u^T W C x, M_W = |u|^2 C^T C, and the readout adds A^T A.  At infinite width (N = d -> oo)
M = kappa1 I, where kappa1(L) is the NTK diagonal of :func:`anglefish.theory.ntk.ntk_recursion`:
L + 1 (MLP), 2^(L-1) (L + 2) (ResNet1), 2^L (L + 1) (ResNet2), and the output variance at
initialisation is q_L = E f_0(x)^2: 1, 2^L, 2^L (from the norm map).

* PL constant.  With r the training residuals and K = X^T M X (n x n),
  |grad L_S|^2 / 2 = r^T K r / (2 n^2) >= lambda_min+(K/n) (L_S - L_S*), so
  mu = lambda_min+(K/n), the smallest nonzero eigenvalue of the empirical NTK Gram over n (the
  Fisher matrix's smallest nonzero eigenvalue).  At infinite width mu = kappa1 lambda_min+(X^T X/n),
  and for Gaussian inputs lambda_min+ -> (sqrt(d) - sqrt(n))^2 / n (Marchenko-Pastur edge).
* Stability bound (Charles & Papailiopoulos 2018, Thm 3): epsilon <= 2 Lip^2 / (mu (n - 1)) with
  Lip the Lipschitz constant of l in theta; here |grad_theta l_i|^2 = r_i^2 K_ii.  Scaling theta
  multiplies Lip^2 and mu alike, so only the ratio is a property of the learning problem.  At
  infinite width kappa1 cancels and the bound depends on the architecture only through q_L.
  The bare "1/(mu n)" comparison (Lip taken equal) orders by kappa1 instead: ResNet2 < ResNet1 < MLP.
* Exact gap at convergence.  n >= d: every architecture reaches the same least-squares beta
  (the training loss is a function of beta only, and its minimiser in beta is unique), so the
  gaps are equal: for x ~ N(0, I_d), y = beta*.x + eps, Var eps = sigma^2,
  E gap = (sigma^2 / 2) (d/n + d/(n - d - 1))  (n >= d + 2).
  n < d: GD stops at the interpolant its initialisation selects.  In the lazy (linearised,
  infinite-width) dynamics beta_inf = beta_0 + M X (X^T M X)^{-1} (y - X^T beta_0); with
  M = kappa1 I: E gap = [(1 - n/d) (q_L + |beta*|^2) + sigma^2 (1 + n/(d - n - 1))] / 2
  (n <= d - 2; train loss 0): the architectures differ only through q_L.
* Finite time.  Linearised GD with step eta: residuals r_k = (I - eta K/n)^k r_0 (exact for the
  end-to-end map at infinite width); :func:`linearized_gd` gives beta_k for any M, and
  :func:`isotropic_gap` the expected gap after k steps at M = kappa1 I given the design's
  spectrum.  With eta = c / lambda_max(K/n) the step depends on the architecture only through
  q_L, again.

So in the linear case ResNet1 and ResNet2 can differ only at finite width (M anisotropic, GD not
lazy), and the MLP differs from both through the output variance q_L at initialisation.

Measured (``generalization_claims(quick=False)``: teacher task, d = N = 16, noise sd 0.5, 16
paired replicates, 1000 GD steps at eta = 1/lambda_max): n = 64 > d, wherever GD converged
(L <= 3) the three gaps are the least-squares gap of the same data, 0.0694 (differences
< 1e-4); deeper ResNets are not converged after 1000 steps and have *larger* gaps (L = 10:
MLP 0.072, ResNet1 0.16, ResNet2 0.41).  n = 8 < d: MLP 0.63-0.89 at every depth, ResNet1 and
ResNet2 equal within their intervals and growing with q_L = 2^L (L = 4: 2.1 and 2.2; L = 10: 44
and 39).  At N = d the infinite-width interpolant law overstates the deep ResNets' gap
(L = 10: 256): the tangent metric is anisotropic and dominated by the directions of the initial
function beta_0 = A^T v, and the linearised dynamics with each network's own initial metric
predicts the measured gap (L = 10: 38 and 36).

Numbers: everything symbolic is SymPy (symbols ``n``, ``d``, ``L``, ``sigma2``, ``b2``);
functions of matrices are numpy (leading seed axis S), deterministic.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp

from ..errors import AnglefishError
from .architectures import (
    Architecture,
    architectures,
    get_architecture,
    register_architecture,
)
from .blocks import DEPTH, Act, Dense, ReLU, Residual, Serial

__all__ = ["KINDS", "ACTIVATIONS", "gap_architecture", "gap_architectures", "register_gap_architectures",
           "output_variance", "tangent_kappa", "mp_edge", "pl_constant_law", "ls_gap_law",
           "interpolation_gap_law", "gap_law", "stability_bound_law", "mu_only_bound_law", "theory_at",
           "pl_constant", "stability_bound", "linearized_gd", "linear_population_loss", "isotropic_gap",
           "least_squares_reference"]

#: the claim's three architectures (ResNet-k: k weight layers inside the skip)
KINDS = ("mlp", "resnet1", "resnet2")
ACTIVATIONS = ("linear", "relu")
LABELS = {"mlp": "MLP", "resnet1": "ResNet1", "resnet2": "ResNet2"}
SOURCE = "Furusho, Liu & Ikeda, INNS-BDDL 2019 (generalization gap, skip over one vs two layers)"

#: SymPy symbols of the laws: sample size, input dimension (= width), depth, noise variance,
#: squared norm of the teacher, output variance at initialisation
n, d = sp.symbols("n d", positive=True)
sigma2, b2, q0 = sp.symbols("sigma2 b2 q0", nonnegative=True)
L = DEPTH

_NEW = {
    ("mlp", "linear"): Architecture(
        "mlp-linear", Serial(Dense(1), Act("linear")),
        description="h' = W h, W ~ N(0, 1/N): deep linear MLP (ResNet0 of the gap claim)",
        source=SOURCE, tags=("extension",)),
    ("resnet1", "linear"): Architecture(
        "skip1-linear", Residual(Act("linear"), Dense(1)),
        description="h' = h + W h, W ~ N(0, 1/N): linear ResNet1 (skip over one weight layer)",
        source=SOURCE, tags=("extension",), gaussian_inputs=True),
    ("resnet2", "linear"): Architecture(
        "skip2-linear", Residual(Dense(1), Act("linear"), Dense(1)),
        description="h' = h + W2 W1 h, W1, W2 ~ N(0, 1/N): linear ResNet2 (skip over two weight layers)",
        source=SOURCE, tags=("extension",)),
    ("resnet1", "relu"): Architecture(
        "skip1", Residual(ReLU(), Dense(1)),
        description="h' = h + W relu(h), W ~ N(0, 1/N): ReLU ResNet1 (skip over one weight layer)",
        source=SOURCE, tags=("extension",), gaussian_inputs=True),
}
#: (kind, activation) -> registered name of an existing architecture
_EXISTING = {("mlp", "relu"): "mlp", ("resnet2", "relu"): "resnet"}


def _check(kind: str, activation: str) -> None:
    if kind not in KINDS:
        raise AnglefishError(f"architecture kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if activation not in ACTIVATIONS:
        raise AnglefishError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")


def gap_architecture(kind: str, activation: str = "linear") -> Architecture:
    """The claim's ``kind`` ('mlp' | 'resnet1' | 'resnet2') with ``activation`` ('linear' | 'relu')."""
    _check(kind, activation)
    if (kind, activation) in _EXISTING:
        return get_architecture(_EXISTING[kind, activation])
    name = _NEW[kind, activation].name
    return architectures().get(name, _NEW[kind, activation])


def gap_architectures(activation: str = "linear") -> dict:
    """{kind: Architecture} for the three kinds with one activation."""
    return {k: gap_architecture(k, activation) for k in KINDS}


def register_gap_architectures() -> list:
    """Register ``mlp-linear``, ``skip1-linear``, ``skip2-linear`` and ``skip1`` (idempotent);
    returns their names.  Not called on import: registering adds them to ``anglefish list`` and
    to the contract suite."""
    names = []
    for arch in _NEW.values():
        if arch.name not in architectures():
            register_architecture(arch)
        names.append(arch.name)
    return names


# ============================================================== symbolic laws
@lru_cache(maxsize=None)
def output_variance(arch) -> sp.Expr:
    """q_L = E f_0(x)^2 at initialisation (inputs with per-coordinate variance 1, v ~ N(0, 1/N)),
    from the architecture's norm map: the per-unit second moment after L blocks (exact at any
    width for linear networks, the infinite-width value for ReLU)."""
    from .blocks import BLOCK_INDEX
    from .recursion import derive_maps

    pop = derive_maps(get_architecture(arch)).population
    if pop is None:
        raise AnglefishError(f"{get_architecture(arch).name}: no closed form of the norm map")
    return sp.simplify(pop.subs(BLOCK_INDEX, L))


@lru_cache(maxsize=None)
def tangent_kappa(arch) -> sp.Expr:
    """kappa1(L): the infinite-width NTK diagonal per unit (K(x, x)/N for |x|^2 = N); for a linear
    network at N = d the tangent metric is M = kappa1 I."""
    from .ntk import ntk_recursion

    k1 = ntk_recursion(get_architecture(arch)).kappa1
    if k1 is None:
        raise AnglefishError(f"{get_architecture(arch).name}: kappa1 has no closed form")
    return sp.simplify(k1)


def mp_edge(n_=n, d_=d) -> sp.Expr:
    """(sqrt(d) - sqrt(n))^2 / n: the smallest nonzero eigenvalue of X^T X / n (equivalently of
    X X^T / n) for X with i.i.d. N(0, 1) entries, d x n, as n, d -> oo at fixed d/n
    (Marchenko-Pastur edge).  Zero at n = d."""
    return (sp.sqrt(d_) - sp.sqrt(n_)) ** 2 / n_


@lru_cache(maxsize=None)
def pl_constant_law(arch) -> sp.Expr:
    """mu = kappa1(L) (sqrt(d) - sqrt(n))^2 / n: the PL constant lambda_min+(K/n) at infinite width
    (M = kappa1 I) and Gaussian design (large n, d)."""
    return tangent_kappa(arch) * mp_edge()


@lru_cache(maxsize=None)
def ls_gap_law() -> sp.Expr:
    """E gap of the least-squares fit, n >= d + 2, x ~ N(0, I_d), y = beta*.x + eps, Var eps = sigma2.

    Derived from two facts: E |(I - H) eps|^2 = sigma2 (n - d) (H the hat matrix, trace d), so
    E L_S = sigma2 (n - d)/(2n); beta_hat - beta* = (X X^T)^{-1} X eps and E (X X^T)^{-1} =
    I/(n - d - 1) (inverse Wishart), so E L = sigma2 (1 + d/(n - d - 1))/2.  The same for every
    parametrisation that reaches the global minimum.
    """
    train = sigma2 * (n - d) / (2 * n)
    test = (sigma2 + sigma2 * d / (n - d - 1)) / 2
    return sp.simplify(test - train)


@lru_cache(maxsize=None)
def interpolation_gap_law(q_init=q0) -> sp.Expr:
    """E gap of the interpolant GD reaches in the lazy, isotropic (M = kappa1 I) limit, n <= d - 2.

    beta_inf - beta* = (I - P)(beta_0 - beta*) + X (X^T X)^{-1} eps with P the projector on the span
    of the n inputs (uniformly random, independent of beta_0 - beta*): E |(I - P) z|^2 =
    (1 - n/d) E|z|^2 with E|z|^2 = q_init + b2 (beta_0 independent of beta*, E|beta_0|^2 = q_init), and
    E (X^T X)^{-1} = I/(d - n - 1).  The training loss is 0.
    """
    return ((1 - n / d) * (q_init + b2) + sigma2 * (1 + n / (d - n - 1))) / 2


@lru_cache(maxsize=None)
def gap_law(arch, regime: str) -> sp.Expr:
    """The exact expected gap at convergence of ``arch`` (linear) in ``regime`` 'n>=d' (least
    squares, all architectures alike) or 'n<d' (lazy interpolant, q_L of the architecture)."""
    if regime == "n>=d":
        return ls_gap_law()
    if regime == "n<d":
        return interpolation_gap_law(output_variance(arch))
    raise AnglefishError(f"regime must be 'n>=d' or 'n<d', got {regime!r}")


@lru_cache(maxsize=None)
def stability_bound_law(arch) -> sp.Expr:
    """2 Lip^2 / (mu (n - 1)) at infinite width with Lip^2 = E r_i^2 K_ii (the mean over training
    points, not the supremum), r_i the residual at initialisation, Gaussian design:
    E r^2 |x|^2 = (q_L + b2)(d + 2) + sigma2 d and K_ii = kappa1 |x_i|^2, mu = kappa1 mp_edge;
    kappa1 cancels."""
    lip2 = tangent_kappa(arch) * ((output_variance(arch) + b2) * (d + 2) + sigma2 * d)
    return sp.powsimp(2 * lip2 / (pl_constant_law(arch) * (n - 1)))


@lru_cache(maxsize=None)
def mu_only_bound_law(arch) -> sp.Expr:
    """1 / (mu n): the stability bound's architecture dependence when the Lipschitz constant is
    taken equal across architectures (not invariant under rescaling the parameters)."""
    return 1 / (pl_constant_law(arch) * n)


def theory_at(arch, depth: int, n_: int, d_: int, noise_var: float, teacher_norm2: float) -> dict:
    """All laws of ``arch`` at numbers (floats): q_L, kappa1, mu, the bounds and the exact gap at
    convergence (None outside the range n >= d + 2 / n <= d - 2 of the closed forms)."""
    sub = {L: int(depth), n: int(n_), d: int(d_), sigma2: float(noise_var), b2: float(teacher_norm2)}

    def num(expr):
        try:
            value = float(sp.sympify(expr).subs(sub))
        except (TypeError, ZeroDivisionError):
            return None
        return value if math.isfinite(value) else None

    regime = "n>=d" if n_ >= d_ else "n<d"
    exact = None
    if (regime == "n>=d" and n_ >= d_ + 2) or (regime == "n<d" and n_ <= d_ - 2):
        exact = num(gap_law(arch, regime))
    return {"q_L": num(output_variance(arch)), "kappa1": num(tangent_kappa(arch)),
            "mu": num(pl_constant_law(arch)) if n_ != d_ else None,
            "bound": num(stability_bound_law(arch)) if n_ != d_ else None,
            "mu_only_bound": num(mu_only_bound_law(arch)) if n_ != d_ else None,
            "gap_exact": exact, "regime": regime}


# ============================================================== numbers from matrices
def _smallest_nonzero(eigenvalues: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Per row: the smallest eigenvalue above rtol x the largest (ascending rows)."""
    top = eigenvalues[..., -1:]
    masked = np.where(eigenvalues > rtol * top, eigenvalues, np.inf)
    return masked.min(axis=-1)


def pl_constant(k: np.ndarray) -> np.ndarray:
    """mu = lambda_min+(K/n) per seed from NTK Grams K (S, n, n) of the training inputs."""
    k = np.asarray(k, dtype=np.float64)
    return _smallest_nonzero(np.linalg.eigvalsh(k / k.shape[-1]))


def stability_bound(k: np.ndarray, residuals: np.ndarray, reduce: str = "max") -> np.ndarray:
    """2 Lip^2 / (mu (n - 1)) per seed (Charles & Papailiopoulos 2018, Thm 3) at one parameter point.

    k: NTK Grams (S, n, n) of the n training inputs; residuals: (S, n) f(x_i) - y_i there.
    |grad_theta l_i|^2 = r_i^2 K_ii; Lip^2 = its max over i (``reduce='max'``, the definition)
    or its mean (``'mean'``, the typical point of :func:`stability_bound_law`).
    """
    k = np.asarray(k, dtype=np.float64)
    r = np.asarray(residuals, dtype=np.float64)
    if k.ndim != 3 or r.shape != k.shape[:2] or k.shape[1] < 2:
        raise AnglefishError(f"stability_bound needs K (S, n, n), n >= 2, and residuals (S, n); got {k.shape}, {r.shape}")
    grad2 = r ** 2 * np.einsum("sii->si", k)
    if reduce not in ("max", "mean"):
        raise AnglefishError(f"reduce must be 'max' or 'mean', got {reduce!r}")
    lip2 = grad2.max(axis=1) if reduce == "max" else grad2.mean(axis=1)
    return 2 * lip2 / (pl_constant(k) * (k.shape[1] - 1))


def linearized_gd(m: np.ndarray, x: np.ndarray, y: np.ndarray, beta0: np.ndarray, eta, steps=None) -> np.ndarray:
    """beta after ``steps`` GD steps on L_S = |X^T beta - y|^2/(2n) in the linearised model with tangent
    metric M: beta <- beta - eta M X (X^T beta - y)/n.  ``steps=None``: the limit (the minimiser
    closest to beta_0 in the M^{-1} metric; the least-squares fit when n >= d and M > 0).

    Shapes: m (S, d, d), x (S, d, n), y (S, n), beta0 (S, d), eta scalar or (S,).  Exact: with
    K = X^T M X = U diag(lam) U^T, r_k = U (1 - eta lam/n)^k U^T r_0 and
    beta_k = beta_0 - M X U diag((1 - (1 - eta lam/n)^k)/lam) U^T r_0 (nonzero lam only).
    """
    m, x, y, beta0 = (np.asarray(a, dtype=np.float64) for a in (m, x, y, beta0))
    s, dim, count = x.shape
    if m.shape != (s, dim, dim) or y.shape != (s, count) or beta0.shape != (s, dim):
        raise AnglefishError(f"linearized_gd: shapes m {m.shape}, x {x.shape}, y {y.shape}, beta0 {beta0.shape} "
                             "do not match (S, d, d), (S, d, n), (S, n), (S, d)")
    mx = np.matmul(m, x)
    k = np.matmul(x.transpose(0, 2, 1), mx)
    lam, u = np.linalg.eigh(k)
    keep = lam > 1e-10 * lam[:, -1:]
    r0 = np.einsum("sdn,sd->sn", x, beta0) - y
    coeff = np.einsum("snk,sn->sk", u, r0)
    safe = np.where(keep, lam, 1.0)
    if steps is None:
        factor = np.where(keep, 1.0 / safe, 0.0)
    else:
        eta = np.broadcast_to(np.asarray(eta, dtype=np.float64), (s,))[:, None]
        decay = (1.0 - eta * safe / count) ** int(steps)
        factor = np.where(keep, (1.0 - decay) / safe, 0.0)
    return beta0 - np.einsum("sdn,snk,sk->sd", mx, u, factor * coeff)


def linear_population_loss(beta: np.ndarray, beta_star: np.ndarray, noise_var: float) -> np.ndarray:
    """Expected loss E (beta.x - y)^2/2 for x ~ N(0, I_d), y = beta*.x + eps, Var eps = noise_var."""
    diff = np.asarray(beta, dtype=np.float64) - np.asarray(beta_star, dtype=np.float64)
    return 0.5 * (float(noise_var) + np.sum(diff * diff, axis=-1))


def isotropic_gap(x: np.ndarray, q_init: float, teacher_norm2: float, noise_var: float,
                  steps=None, step_fraction: float = 1.0) -> np.ndarray:
    """Expected gap of linearised GD at M = kappa1 I (infinite width), given the design X (S, d, n).

    Expectation over beta_0 (isotropic, E|beta_0|^2 = q_init), beta* (isotropic, E|beta*|^2 =
    teacher_norm2) and the noise; exact conditional on X.  eta = step_fraction / lambda_max(K/n),
    so eta kappa1 s_k = step_fraction s_k / s_max for the eigenvalues s_k of X X^T/n and kappa1
    drops out.  ``steps=None``: converged.  Per direction k, e_k = (1 - step_fraction s_k/s_max)^steps
    (1 where s_k = 0): test excess (1 - e_k)^2 noise/(n s_k) + e_k^2 w, training excess
    e_k^2 (s_k w + noise/n), w = (q_init + teacher_norm2)/d.
    """
    x = np.asarray(x, dtype=np.float64)
    s_count, dim, count = x.shape
    s = np.linalg.eigvalsh(np.matmul(x, x.transpose(0, 2, 1)) / count)  # (S, d)
    nonzero = s > 1e-10 * s[:, -1:]
    safe = np.where(nonzero, s, 1.0)
    if steps is None:
        e = np.where(nonzero, 0.0, 1.0)
    else:
        e = np.where(nonzero, (1.0 - step_fraction * safe / s[:, -1:]) ** int(steps), 1.0)
    w = (float(q_init) + float(teacher_norm2)) / dim
    nv = float(noise_var)
    test_excess = np.sum(np.where(nonzero, (1 - e) ** 2 * nv / (count * safe), 0.0) + e ** 2 * w, axis=1)
    rank = nonzero.sum(axis=1)
    train = 0.5 * (nv * (count - rank) / count + np.sum(np.where(nonzero, e ** 2 * (safe * w + nv / count), 0.0),
                                                        axis=1))
    return 0.5 * (nv + test_excess) - train


def least_squares_reference(x: np.ndarray, y: np.ndarray) -> dict:
    """The global minimum of L_S over linear maps, per seed, by numpy.linalg.lstsq.

    x (S, d, n), y (S, n).  Returns ``beta`` (S, d) (minimum-norm if n < d), ``train_loss`` (S,)
    and ``loo_loss`` (S,): the loss on example 0 of the fit without it (n > d only; else nan).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    betas, train, loo = [], [], []
    for xs, ys in zip(x, y):
        beta = np.linalg.lstsq(xs.T, ys, rcond=None)[0]
        betas.append(beta)
        train.append(0.5 * np.mean((xs.T @ beta - ys) ** 2))
        if xs.shape[1] > xs.shape[0] + 1:
            b1 = np.linalg.lstsq(xs[:, 1:].T, ys[1:], rcond=None)[0]
            loo.append(0.5 * (xs[:, 0] @ b1 - ys[0]) ** 2)
        else:
            loo.append(np.nan)
    return {"beta": np.array(betas), "train_loss": np.array(train), "loo_loss": np.array(loo)}
