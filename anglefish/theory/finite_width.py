r"""Finite-width theory to O(1/N): moment closure for a pair of inputs, block by block.

What is carried
---------------
At every point of a network of width N (every layer has N units) and for two inputs a, b
let K-hat = (K-hat_aa, K-hat_bb, K-hat_ab) be the *empirical* per-unit second moments,
K-hat_ab = (1/N) sum_i h_i(a) h_i(b).  Over the random weights K-hat is random; to O(1/N)

    E K-hat   = K + dK / N + O(1/N^2),      Cov K-hat = V / N + O(1/N^2),

with K the infinite-width kernel (the maps of ``recursion.py``) and dK, V N-independent
coefficients (3-vector and symmetric 3 x 3 matrix in the component order aa, bb, ab).
Higher cumulants of K-hat are O(1/N^2) and are dropped.  Carrying the coefficients
(not dK/N, V/N) makes one recursion serve every width.

Two facts make a closure
------------------------
(1) *Conditional Gaussianity.*  A Dense(v) layer draws W_ij ~ N(0, v/N), independent of
everything upstream.  Given the layer below (per-unit values g_j, empirical moments G-hat),
the N pre-activation pairs z_i = (z_i(a), z_i(b)) are i.i.d. N(0, S) with S = v G-hat.
They are Gaussian only *conditionally*: unconditionally S is random.  So the Dense rule
does not "sample" at all; it marks the state *deferred*: (moments of the layer below,
factor c), meaning "i.i.d. rows N(0, c G-hat)".  Scalings (Scale(alpha): c -> alpha^2 c)
and the population batch norm (a fixed division by sqrt(m), m the population second
moment of the simulator and of the kernel map: c -> c/m) keep it deferred.  The *consumer*
then samples:

* an activation phi reads the deferred rows directly.  The outputs phi(z_i) are i.i.d.
  given G-hat, so the new K-hat' is an average of N i.i.d. terms:

      E[K-hat' | G-hat] = F(c G-hat),      N Cov[K-hat' | G-hat] = C(c G-hat),

  F the Gaussian kernel map (E phi(u)^2, E phi(v)^2, E phi(u) phi(v)) and C the
  covariance of (phi(u)^2, phi(v)^2, phi(u) phi(v)) for (u, v) ~ N(0, S):
      C_aa,aa = E phi(u)^4 - F_aa^2,          C_aa,bb = E phi(u)^2 phi(v)^2 - F_aa F_bb,
      C_aa,ab = E phi(u)^3 phi(v) - F_aa F_ab, C_ab,ab = E phi(u)^2 phi(v)^2 - F_ab^2, ...
  Expanding F around the mean of S = c G-hat (mean c(G + dG/N), covariance c^2 V_G/N):

      K' = F(cG),   dK' = J (c dG) + 1/2 H : (c^2 V_G),   V' = J (c^2 V_G) J^T + C(cG),

  J, H the first and second derivatives of F at cG (H : V = sum_jk H_i,jk V_jk).  The law
  of total covariance gives V' (E of the conditional covariance plus covariance of the
  conditional mean); the terms dropped are O(1/N^2).
* a linear consumer (a residual sum, the measured layer, the next Dense) *materialises*
  the rows: K-hat_z = c G-hat + (Wishart fluctuation), E[.|G-hat] = c G-hat and
  N Cov[.|G-hat] = W(c G-hat) with W(S)_{ab,cd} = S_ac S_bd + S_ad S_bc, i.e.

      K' = cG,   dK' = c dG,   V' = c^2 (V_G + W(G)).

Applying the Wishart step before an activation would be wrong: phi(z) given K-hat_z is
not a function of K-hat_z alone.  This is the subtlety the deferral handles.

(2) *Linear response inside residual branches.*  h' = h + B(h) with B ending in a Dense
(deferred, factor c, branch point g = the layer below that Dense).  Given (h, g) the branch
rows z_i are i.i.d. N(0, c G-hat) and independent of h_i, so
    K-hat' = K-hat_h + (1/N) sum_i (h_i z_i^T + z_i h_i^T) + K-hat_z,
whose conditional mean is K-hat_h + c G-hat and whose conditional covariance is
(1/N)[W(K-hat_h + c G-hat) - W(K-hat_h)] (the cross term contributes
K_ac S_bd + K_ad S_bc + S_ac K_bd + S_ad K_bc; skip-branch terms that vanish at infinite
width but fluctuate at O(1/N)).  The unconditional covariance needs Cov(K-hat_h, G-hat):
the branch is a function of h plus fresh noise that is conditionally mean-zero, so to O(1/N)
G-hat - E G-hat = J_B (K-hat_h - E K-hat_h) + (fresh noise), J_B the Jacobian of the
branch's infinite-width map K_h -> G.  Hence

    K' = K_h + c G,   dK' = dK_h + c dG,
    V' = V_h + c (V_h J_B^T + J_B V_h) + c^2 V_G + W(K_h + c G) - W(K_h).

Predictions (all to O(1/N))
---------------------------
With K-bar = K + dK/N at the measured point (the output of a block, materialised):
* seed-averaged angle (the paper's quantity, arccos of seed-averaged inner products):
  theta_finite = arccos(K-bar_ab / sqrt(K-bar_aa K-bar_bb)), the angle of the exact
  function of E K-hat -- not linearised, because for the ReLU MLP the O(1/N) correction
  to 1 - cos theta eventually exceeds 1 - cos theta itself while E K-hat stays accurate;
* single-network angle theta(K-hat): mean and standard deviation by the delta method,
  sd = sqrt(grad theta V grad theta^T / N);
* per-unit second moment q-hat = (K-hat_aa + K-hat_bb)/2: log E q-hat (what the seed
  average measures), and E log q-hat = log q-bar - s^2/2, SD log q-hat = s with
  s^2 = Var q-hat / q-bar^2 (the O(1/N) log-variance; exact if q-hat is log-normal, which
  Li, Nica & Roy show holds for ReLU ResNets; the ReLU He MLP gives s^2 = 5 L/N).

Single-network mean: theta(K) + (grad theta . dK + (1/2) H_theta : V) / N (linearised
around K: theta is scale-free, so the norm fluctuations cancel between the two terms).

Validity: the expansion parameter is the size of the fluctuations against what they
perturb.  For the angle that is the single network's relative spread sd(theta-hat)/theta:
the ReLU kernel's curvature in cos theta is 1/(2 pi sin theta), so the k-th Taylor term of
E F scales like (sd/theta)^k.  Predictions are given while sd/theta <= ``MAX_ANGLE_SPREAD``
(0.5) and are None with the reason beyond.  Measured (tests/finite_width_mc.py, ReLU MLP,
theta0 = 1.2): relative error of theta_finite about 2% at sd/theta = 0.44, 6% at 0.62.  The
O(1/N) change of 1 - cos theta of the seed average is *not* an expansion parameter: for
the MLP at L/N = 1/8 it exceeds 1 - cos theta itself while theta_finite stays within 2% of
Monte Carlo, because E K-hat is what is expanded and the angle is an exact function of it.
When an activation is not positively homogeneous (tanh, erf, GELU) the norm fluctuations
reach the angle as well, and the sd of log K-hat_aa must also be at most MAX_ANGLE_SPREAD.
The log-norm predictions of homogeneous networks carry no such limit: their log-variance
(5 L/N for the ReLU MLP) is the first-order one, which the log-normal form keeps exact.
The remainder is O(1/N^2) at fixed depth and measured to be within 0.3 (L/N)^2 radians on
the issue's grid (the tolerance the tests use; see tests/test_finite_width_mc.py).

Conventions: depth l = number of blocks applied (0-based block index inside the maps,
as in ``recursion.py``); inputs with per-coordinate second moment 1 and exact angle theta0
(as ``numeric.inputs.pair_batch`` draws them); every width equal to N; BatchNorm only in
its population form (a fixed scaling by the population moment, as in the paper's proof).
Activations: positively homogeneous piecewise-linear ones (ReLU, leaky ReLU) in closed
form from the polar integrals of ``activations.polar_expectation``; erf and activations
given as SymPy expressions by a 2-d trapezoid rule (see QuadratureMoments), with derivatives
of F by Price's theorem  d^(i+j+k) E[f(u) g(v)] / dS_aa^i dS_bb^j dS_ab^k
= 2^-(i+j) E[f^(2i+k)(u) g^(2j+k)(v)].
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from ..errors import AnglefishError
from .activations import PiecewiseLinear
from .architectures import Architecture, get_architecture
from .blocks import BLOCK_INDEX, DEPTH, Act, BatchNorm, Block, Serial
from .cache import memoize

#: component order of K-hat: (aa, bb, ab)
COMPONENTS = ("aa", "bb", "ab")
#: validity: largest allowed sd(theta-hat) / theta of a single network
MAX_ANGLE_SPREAD = 0.5



# ------------------------------------------------------------------ the carried state
@dataclass(frozen=True)
class MomentState:
    """Mean, O(1/N) shift and O(1/N) covariance coefficients of K-hat at one point.

    K: (K_aa, K_bb, K_ab), the N = inf mean.   dK: N (E K-hat - K).   V: N Cov K-hat (3 x 3).
    m: population per-unit second moment at this point (for population BN).
    defer: None if (K, dK, V) describe the values here; else the factor c of a deferred
        Gaussian: the values are i.i.d. rows N(0, c K-hat) given the layer that (K, dK, V)
        describe (right after a Dense, kept by scalings).
    """

    K: sp.Matrix
    dK: sp.Matrix
    V: sp.Matrix
    m: sp.Expr
    defer: sp.Expr | None = None


def wishart(K) -> sp.Matrix:
    """N Cov of the empirical second moments of N i.i.d. N(0, K) pairs: S_ac S_bd + S_ad S_bc."""
    ka, kb, kab = K
    return sp.Matrix([[2 * ka**2, 2 * kab**2, 2 * ka * kab],
                      [2 * kab**2, 2 * kb**2, 2 * kb * kab],
                      [2 * ka * kab, 2 * kb * kab, ka * kb + kab**2]])


def materialize(state: MomentState) -> MomentState:
    """Sample a deferred Gaussian (the Wishart step); a no-op on values already described."""
    if state.defer is None:
        return state
    c = state.defer
    return MomentState(c * state.K, c * state.dK, c**2 * (state.V + wishart(state.K)), state.m)


def scaled(state: MomentState, a2) -> MomentState:
    """Multiply the values by sqrt(a2) (second moments by a2)."""
    if state.defer is not None:
        return replace(state, defer=state.defer * a2, m=state.m * a2)
    return MomentState(a2 * state.K, a2 * state.dK, a2**2 * state.V, a2 * state.m)


def finite_width_rule(block: Block, state: "MomentState") -> "MomentState":
    """Push the O(1/N) moment state through ``block``: the block type's own rule
    ``Block.finite_width`` (:mod:`anglefish.theory.blocks`)."""
    return block.finite_width(state)


def describe(arch: Architecture | str) -> list[str]:
    """The O(1/N) rule applied by each block of ``arch``, one line per block (depth first)."""
    arch = get_architecture(arch)
    lines = []

    def walk(block, indent):
        doc = " ".join((type(block).finite_width.__doc__ or "no finite-width rule").split())
        lines.append(f"{'  ' * indent}{type(block).__name__ if isinstance(block, Serial) else repr(block)}: {doc}")
        for child in block.children():
            walk(child, indent + 1)

    walk(arch.block, 0)
    lines.append("block output: materialised (Wishart step if it ends deferred) and measured")
    return lines


# ------------------------------------------------------------------ the one-block map
KA, KB, KAB = sp.symbols("K_aa K_bb K_ab", positive=True)
DKA, DKB, DKAB = sp.symbols("dK_aa dK_bb dK_ab", real=True)
_V_NAMES = ("aa_aa", "aa_bb", "aa_ab", "bb_bb", "bb_ab", "ab_ab")
V_SYMBOLS = sp.symbols(" ".join(f"V_{n}" for n in _V_NAMES), real=True)
M_SYMBOL = sp.Symbol("m", positive=True)
_V_INDEX = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


def _v_matrix(entries) -> sp.Matrix:
    V = sp.zeros(3, 3)
    for (i, j), e in zip(_V_INDEX, entries):
        V[i, j] = V[j, i] = e
    return V


def symbolic_state() -> MomentState:
    """The state at a block's input as symbols (materialised values)."""
    return MomentState(sp.Matrix([KA, KB, KAB]), sp.Matrix([DKA, DKB, DKAB]), _v_matrix(V_SYMBOLS), M_SYMBOL)


STATE_SYMBOLS = (KA, KB, KAB, DKA, DKB, DKAB) + tuple(V_SYMBOLS) + (M_SYMBOL,)


@dataclass(frozen=True)
class FiniteWidthMaps:
    """The one-block O(1/N) recursion of an architecture (SymPy), and its numeric evaluator.

    state: the block's output state (materialised) as expressions in :data:`STATE_SYMBOLS`
        and the block index ``l`` / depth ``L``; ``first``: the same with the deterministic
        input substituted (dK = V = 0), which avoids 0 * inf where the activation's
        curvature is singular (ReLU at theta = 0 or pi).
    homogeneous: the block map is homogeneous of degree 1 in (K, m) (ReLU-type activations,
        no batch norm), so the evaluator may rescale the state (norms grow like 2^L).
    """

    architecture: str
    state: MomentState
    first: MomentState
    homogeneous: bool

    def outputs(self, state: MomentState | None = None):
        s = state or self.state
        return list(s.K) + list(s.dK) + [s.V[i, j] for i, j in _V_INDEX] + [s.m]

    @property
    def equations(self) -> dict:
        """The recursion as {name: expression}: K', dK', V' (coefficients of 1/N) and m'."""
        names = ["K_aa", "K_bb", "K_ab", "dK_aa", "dK_bb", "dK_ab"] + [f"V_{n}" for n in _V_NAMES] + ["m"]
        return {f"{n}'": e for n, e in zip(names, self.outputs())}


def _is_homogeneous(arch: Architecture) -> bool:
    for b in arch.block.walk():
        if isinstance(b, BatchNorm):
            return False
        if isinstance(b, Act) and not isinstance(b.activation, PiecewiseLinear):
            return False
    return True


def finite_width_maps(arch: Architecture | str) -> FiniteWidthMaps:
    """Derive the O(1/N) one-block recursion of ``arch`` from its block list."""
    return _finite_width_maps(get_architecture(arch))


@memoize(disk=True)
def _finite_width_maps(arch: Architecture) -> FiniteWidthMaps:
    if arch.gaussian_inputs:
        raise AnglefishError(
            f"{arch.name}: an activation reads the residual stream or the input directly, which is not "
            "conditionally Gaussian at finite width; the O(1/N) closure does not apply")
    out = materialize(finite_width_rule(arch.block, symbolic_state()))
    first = materialize(finite_width_rule(arch.block, replace(symbolic_state(), dK=sp.zeros(3, 1),
                                                              V=sp.zeros(3, 3))))
    return FiniteWidthMaps(arch.name, out, first, _is_homogeneous(arch))


@memoize
def _compiled(arch: Architecture):
    maps = finite_width_maps(arch)
    args = STATE_SYMBOLS + (BLOCK_INDEX, DEPTH)
    step = sp.lambdify(args, maps.outputs(), modules=["math"], cse=True)
    first = sp.lambdify(args, maps.outputs(maps.first), modules=["math"], cse=True)
    return step, first


# ------------------------------------------------------------------ predictions
def _angle_derivatives():
    k = sp.Matrix([KA, KB, KAB])
    theta = sp.acos(KAB / sp.sqrt(KA * KB))
    grad = sp.Matrix([theta]).jacobian(k)
    hess = sp.hessian(theta, k)
    return (sp.lambdify((KA, KB, KAB), list(grad), "math"), sp.lambdify((KA, KB, KAB), hess.tolist(), "math"))


_THETA_GRAD, _THETA_HESS = _angle_derivatives()


def _angle_of(ka, kb, kab):
    """arccos(kab / sqrt(ka kb)), computed as 2 asin(sqrt((1 - c)/2)) for precision near 0."""
    ra, rb = math.sqrt(ka), math.sqrt(kb)
    d = ka + kb - 2 * kab
    one_minus_c = (d - (ka - kb) ** 2 / (ra + rb) ** 2) / (2 * ra * rb)
    one_minus_c = min(max(one_minus_c, 0.0), 2.0)
    return 2 * math.asin(math.sqrt(one_minus_c / 2))


def _v_full(v6):
    V = np.zeros((3, 3))
    for (i, j), e in zip(_V_INDEX, v6):
        V[i, j] = V[j, i] = e
    return V


def _norm_predictions(K, dK, V, log_scale, n):
    """log E q-hat and the mean and sd of log q-hat, q-hat = (K-hat_aa + K-hat_bb) / 2."""
    q_inf, q_bar = (K[0] + K[1]) / 2, (K[0] + K[1] + (dK[0] + dK[1]) / n) / 2
    s2 = (V[0, 0] + V[1, 1] + 2 * V[0, 1]) / (4 * n) / q_bar**2
    log_q_bar = math.log(q_bar) + 2 * log_scale
    return {"log_q_theory": math.log(q_inf) + 2 * log_scale, "log_q_theory_finite": log_q_bar,
            "log_q_mean_theory": log_q_bar - s2 / 2, "log_q_sd_theory": math.sqrt(max(s2, 0.0))}


def _angle_predictions(K, dK, V, n, scale_free):
    """Seed-averaged angle, and mean and sd of the single-network angle, with the validity test.
    ``scale_free``: every activation is positively homogeneous, so norm fluctuations do not
    reach the angle; otherwise they must be small too (sd of log K-hat_aa, K-hat_bb)."""
    if not (np.all(np.isfinite(dK)) and np.all(np.isfinite(V))):
        return {"theta_theory": _angle_of(*K), "angle_spread": None}, (
            "the quadrature of the activation's Gaussian moments is not resolved at these second "
            "moments (see finite_width.QuadratureMoments)")
    Kbar = K + dK / n
    theta_inf = _angle_of(*K)
    out = {"theta_theory": theta_inf}
    g = np.array(_THETA_GRAD(*K), dtype=float)
    h = np.array(_THETA_HESS(*K), dtype=float)
    out["theta_theory_finite"] = _angle_of(*Kbar)
    out["single_mean_theory"] = theta_inf + (float(g @ dK) + 0.5 * float(np.sum(h * V))) / n
    out["single_sd_theory"] = math.sqrt(max(float(g @ V @ g) / n, 0.0))
    out["angle_spread"] = spread = out["single_sd_theory"] / theta_inf
    reasons = []
    if theta_inf < 1e-6:
        reasons.append(f"theta = {theta_inf:.2g} is below 1e-6, where the (K_aa, K_bb, K_ab) coordinates "
                       "lose the digits of 1 - cos theta")
    if spread > MAX_ANGLE_SPREAD:
        reasons.append(f"single-network angle sd/theta = {spread:.2f} exceeds {MAX_ANGLE_SPREAD} "
                       "(L/N too large for the O(1/N) expansion)")
    norm_spread = math.sqrt(max(V[0, 0] / K[0] ** 2, V[1, 1] / K[1] ** 2, 0.0) / n)
    if not scale_free and norm_spread > MAX_ANGLE_SPREAD:
        reasons.append(f"sd of log K-hat_aa = {norm_spread:.2f} exceeds {MAX_ANGLE_SPREAD}; the activation is "
                       "not homogeneous, so norm fluctuations reach the angle (L/N too large)")
    if min(Kbar[0], Kbar[1]) <= 0:
        reasons.append("the O(1/N) shift makes a second moment non-positive")
    return out, ("; ".join(reasons) or None)


_FINITE_KEYS = ("theta_theory_finite", "single_mean_theory", "single_sd_theory", "log_q_theory_finite",
                "log_q_mean_theory", "log_q_sd_theory")


def iterate_moments(arch: Architecture | str, depth: int, theta0: float, at=None):
    """(depths, K, dK, V, log_scale) along the network for l in ``at`` (default 0..depth).

    K (n, 3), dK (n, 3) are the mean and N x the O(1/N) mean shift of K-hat; V (n, 3, 3)
    is N x Cov K-hat; true second moments are the scaled ones times exp(2 log_scale).
    """
    arch = get_architecture(arch)
    depth = _check_int(depth, "depth", 0)
    theta0 = float(theta0)
    if not math.isfinite(theta0) or not 0.0 <= theta0 <= math.pi:
        raise AnglefishError(f"theta0 must be an angle in [0, pi] radians, got {theta0}")
    if at is None:
        ls = np.arange(depth + 1)
    else:
        ls = np.unique(np.append(np.asarray(at, dtype=np.int64), depth))
        if ls[0] < 0 or ls[-1] > depth:
            raise AnglefishError(f"recorded depths must lie in [0, {depth}], got {list(at)}")
    maps = finite_width_maps(arch)
    step, first = _compiled(arch)
    # theta0 = 0: identical inputs; the aa-components do not depend on theta0, so run at pi/2
    start = theta0 if theta0 > 0 else math.pi / 2
    x = [1.0, 1.0, math.cos(start)] + [0.0] * 9 + [1.0]
    keep = set(ls.tolist())
    K = np.empty((len(ls), 3))
    dK = np.empty((len(ls), 3))
    V = np.empty((len(ls), 3, 3))
    log_scale = np.empty(len(ls))
    log_s, row = 0.0, 0
    for l in range(depth + 1):
        if l in keep:
            K[row], dK[row], V[row] = x[0:3], x[3:6], _v_full(x[6:12])
            log_scale[row] = log_s
            row += 1
        if l == depth:
            break
        x = list((first if l == 0 else step)(*x, l, depth))
        if maps.homogeneous:
            s = x[0]
            x = [e / s for e in x[:6]] + [e / s**2 for e in x[6:12]] + [x[12] / s]
            log_s += 0.5 * math.log(s)
    if theta0 == 0:  # the b-components equal the a-components
        K[:, 1] = K[:, 2] = K[:, 0]
        dK[:, 1] = dK[:, 2] = dK[:, 0]
        V[:] = V[:, 0:1, 0:1]
    return ls, K, dK, V, log_scale


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise AnglefishError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def finite_width_theory(arch: Architecture | str, depth: int, width: int, theta0: float, at=None) -> dict:
    """Finite-width (O(1/N)) theory of the pair angle and the norm after ``depth`` blocks.

    Keys: theta_theory (N = inf), theta_theory_finite (seed-averaged angle, the paper's
    quantity, to O(1/N)), single_mean_theory / single_sd_theory (angle of one network),
    log_q_theory (N = inf), log_q_theory_finite (log of the seed-averaged per-unit second
    moment of both inputs), log_q_mean_theory / log_q_sd_theory (mean and sd of log q-hat of
    one network), valid, reason (None if valid), and the expansion parameter angle_spread
    (sd/theta; the predictions are valid while it is at most MAX_ANGLE_SPREAD).  Finite-width
    values are None where not valid; the N = inf values are always given.
    ``at``: also return ``rows``, one such dict per recorded depth.
    """
    arch = get_architecture(arch)
    width = _check_int(width, "width", 2)
    ls, K, dK, V, log_scale = iterate_moments(arch, depth, theta0, at=at)
    scale_free = all(isinstance(b.activation, PiecewiseLinear) for b in arch.block.walk() if isinstance(b, Act))
    rows = []
    for i, l in enumerate(ls):
        pred = {"l": int(l)}
        pred.update(_norm_predictions(K[i], dK[i], V[i], log_scale[i], width))
        if theta0 == 0:  # identical inputs stay identical at every width
            pred.update({"theta_theory": 0.0, "theta_theory_finite": 0.0, "single_mean_theory": 0.0,
                         "single_sd_theory": 0.0, "angle_spread": 0.0})
            reason = None
        elif l == 0:  # the input pair is deterministic
            pred.update({"theta_theory": float(theta0), "theta_theory_finite": float(theta0),
                         "single_mean_theory": float(theta0), "single_sd_theory": 0.0, "angle_spread": 0.0})
            reason = None
        else:
            angles, reason = _angle_predictions(K[i], dK[i], V[i], float(width), scale_free)
            pred.update(angles)
        pred["valid"], pred["reason"] = reason is None, reason
        if reason is not None:
            for key in _FINITE_KEYS:
                pred[key] = None
        rows.append(pred)
    result = dict(rows[-1])
    result.update({"architecture": arch.name, "depth": int(depth), "width": width, "theta0": float(theta0)})
    if at is not None:
        result["rows"] = rows
    return result


__all__ = ["describe", "MomentState", "FiniteWidthMaps", "finite_width_rule", "finite_width_maps",
           "finite_width_theory", "iterate_moments", "materialize", "wishart", "MAX_ANGLE_SPREAD"]


def __getattr__(name):  # the activation moments live in finite_width_moments
    from . import finite_width_moments as _m

    if name in ("GaussianMoments", "HomogeneousMoments", "QuadratureMoments", "gaussian_moments", "piecewise_moment"):
        return getattr(_m, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
