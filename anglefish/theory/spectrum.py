"""Moments of the Fisher spectrum, bounds on its largest eigenvalue, and the bulk edge
where the pair kernel kappa2 vanishes -- derived from the NTK order parameters.

Convention
----------
That of :mod:`anglefish.theory.ntk` (its module docstring): T inputs with i.i.d. N(0, 1)
coordinates in dimension N (= width), scalar readout f = v . h^L with v ~ N(0, 1/N), no
biases, standard parameterisation, 0-based block index, population BatchNorm a fixed
division (not differentiated).  A *selection* is a parameter subset: ``'all'`` (every weight
and v), ``'layer:K'`` (the weights of repeated block K), ``'layer:first'`` (K = 0),
``'layer:last'`` (K = L - 1) or ``'layer:readout'`` (v); P is its number of weights.
F = (1/T) sum_t grad f(x_t) grad f(x_t)^T restricted to the selection (the diagonal block of
the full FIM); its nonzero eigenvalues are those of K/T, K the T x T empirical NTK Gram of the
selection.  kappa1 = lim K_tt / N (one input), kappa2 = lim K_st / N (two orthogonal inputs).

Moments (identities, then their infinite-width values)
------------------------------------------------------
    m_lambda = tr F / P   = tr K / (T P)
    s_lambda = tr F^2 / P = ||K||_F^2 / (T^2 P)          (sum of squared eigenvalues over P)

With E K_tt^2 = N^2 kappa1^2 + N omega1 + O(1) and E K_st^2 = N^2 kappa2^2 + N omega2 + O(1)
(s != t; omega1, omega2 are the finite-width second-moment coefficients of the Gram):

    E s_lambda = [N^2 kappa1^2 + N omega1 + (T-1) (N^2 kappa2^2 + N omega2)] / (T P) + O(1/P)

and at N -> oo (K = N[(kappa1 - kappa2) I + kappa2 11^T]):

    m_lambda = N kappa1 / P,    s_lambda = N^2 [kappa1^2 + (T-1) kappa2^2] / (T P),
    lambda_max = N [kappa1 + (T-1) kappa2] / T   (kappa2 >= 0).

The dimensionless *concentration* s_lambda / (P m_lambda^2) = ||K||_F^2 / (tr K)^2 is
[kappa1^2 + (T-1) kappa2^2] / (T kappa1^2) in [1/T, 1]: free of the common scale of the
network (the fluctuating readout norm, ...), so it is measured with far less noise than
s_lambda itself and reacts to kappa2 exactly as s_lambda does.

When kappa2 = 0 (the MLP's first block: its weights see the orthogonal inputs; odd
activations everywhere) the off-diagonal entries are O(sqrt N) fluctuations and the term
(T-1) N omega2 competes with N^2 kappa1^2 once T omega2 >~ N kappa1^2.

Input-driven order-1 terms (derived here for every selection)
-------------------------------------------------------------
Given the inputs, K_st / N tends to the selection's kernel kappa(q_s, q_t, q_st) of the
*empirical* input moments q_t = |x_t|^2 / N = 1 + O(N^-1/2), q_st = x_s . x_t / N = O(N^-1/2)
(El Karoui 2010, kernel random matrices).  Expanding to second order (Var q_t = 2/N,
Var q_st = 1/N, all uncorrelated):

    E K_tt = N kappa1 + h''(1) + ...,        h(q) = kappa(q, q, q)
    E K_st = N kappa2 + 2 d^2kappa/dq_a^2 + (1/2) d^2kappa/dq_ab^2 + ...   (at (1, 1, 0))
    K_st   = N kappa2 + sqrt(N) kappa'(0) z_st + ...   with kappa'(0) = dkappa/dq_ab at (1, 1, 0)

so omega2 >= kappa'(0)^2 (equality where the network's own fluctuation of K_st is of lower
order, which is the case for the first block when kappa2 = 0) and omega1 >= 2 h'(1)^2.  The
network-driven O(1) shift of E K (the finite-width expansion of REFERENCE.md section 5) is
NOT derived here; measured for mlp, resnet, resnet-bn at L = 1..10 and N = 32..128 it is
consistent with zero at the 0.5 % level (|N delta| <~ 2), sign not resolved.

Backward fluctuations of MLP-type blocks (Serial of one Dense, one activation and fixed
scalings), first block
-------------------------------------------------------------------------------------
K^{W_0}_tt = |x_t|^2 |Delta_t|^2 with Delta_t = phi'(u^0_t) o z^0_t the backward signal at
W_0's output.  Block l multiplies |Delta|^2 by |phi'(u^l) o z^l|^2 / |z^l|^2-type factors in
which z^l (the signal arriving at block l's output, Gaussian under gradient independence, with
correlation r_l between two inputs) and phi'(u^l) are independent.  To O(1/N) the log-norms
add, with per block

    N Var  = V_l = 3 E[phi'^4] / E[phi'^2]^2 - 1                        (one input; ReLU: 5)
    N Cov  = C_l = E[phi'(u_s)^2 phi'(u_t)^2] (1 + 2 r_l^2) / E[phi'^2]^2 - 1   (two inputs)

(expectations at block l's activation input; the readout gives r = 1 at the top), hence
Var K_tt / (N kappa1)^2 = [2 h'(1)^2 / kappa1^2 + sum_l V_l] / N (ReLU: (2 + 5L)/N, the
Hanin-Nica rate), and the per-input spread of |Delta_t|^2 within one network has relative
variance sigma_d^2 = sum_l (V_l - C_l) / N.

Bulk edge where kappa2 = 0 (first block, MLP-type)
---------------------------------------------------
K = (Delta^T Delta) o (X^T X) with X the N x T inputs.  At infinite width
Delta^T Delta -> p1 I + p2 (11^T - I) with p1 = kappa1 and p2 = kappa'(0) (the pair's
backward moment at W_0's output), so

    K = N [(p1 - p2) I + p2 W] + O(1),   W = X^T X / N  (Marchenko-Pastur, ratio c = T/N),

and the largest eigenvalue of F = K/T tends (N, T -> oo, T/N = c) to the MP edge

    lambda_edge = (N/T) [kappa1 + p2 ((1 + sqrt c)^2 - 1)] = (N/T) [kappa1 + p2 (2 sqrt c + c)],

which is kappa1 (1 + sqrt(T/N))^2 N/T only if p2 = p1 (perfectly correlated backward
signals).  For the ReLU MLP at L = 1, p2 / p1 = 1/2; it grows towards 1 with depth while the
backward signals of the two inputs align.  The rank-one input-driven mean a (11^T - I) lies
below the BBP threshold in the tested range.  At finite width the per-input spread
sigma_d^2 ~ L/N of |Delta_t|^2 pushes the top eigenvalue further up; the reduced model
K = D^(1/2) [(p1 - p2) diag(X^T X) + p2 X^T X] D^(1/2) + a (11^T - I), d_t log-normal with
variance sigma_d^2 (all parameters derived here), is sampled by
:func:`anglefish.numeric.spectrum.bulk_edge_model`.

Bounds
------
For any PSD F with P rows: s/m <= lambda_max <= sqrt(P s) and lambda_max <= P m = tr F
(Karakida, Akaho & Amari 2019).  In sample space: lambda_max(K/T) >= 1^T K 1 / T^2 (Rayleigh
quotient of the uniform vector) and >= max_t K_tt / T; lambda_max(K/T) <= max_t sum_s |K_st| / T
(Gershgorin).  lambda_max is convex, so E lambda_max(K) >= lambda_max(E K) (Jensen) at every
width.  :func:`theory_bounds` evaluates them at infinite width (Jensen with the input-driven
O(1) terms of E K); the sample bounds are in :mod:`anglefish.numeric.spectrum`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import mpmath
import sympy as sp

from ..errors import AnglefishError
from .architectures import Architecture, get_architecture
from .blocks import BLOCK_INDEX, DEPTH, KernelState
from .cache import memoize
from .kappas import kappa_numeric
from .ntk import (
    DEFAULT_DPS,
    QA,
    QAB,
    QB,
    SAMPLES,
    WIDTH,
    count_params,
    ntk_recursion,
    parse_params,
)
from .recursion import M

#: order parameters and finite-width coefficients in the symbolic moments
KAPPA1 = sp.Symbol("kappa_1", positive=True)
KAPPA2 = sp.Symbol("kappa_2", real=True)
OMEGA1, OMEGA2 = sp.symbols("omega_1 omega_2", nonnegative=True)
NPARAMS = sp.Symbol("P", positive=True)
#: the selections the moments are derived for (as accepted by ntk.parse_params)
SELECTIONS = ("all", "layer:first", "layer:last", "layer:K", "layer:readout")
#: step sizes of the central differences of the selection kernel (mpmath at ``dps`` digits)
_H1, _H2 = mpmath.mpf("1e-3"), mpmath.mpf("1e-2")


# =============================================================== selections
def normalise_selection(params: str) -> str:
    """Accept the short names 'first', 'last', 'readout', 'block:K' / 'K' for 'layer:...'."""
    if isinstance(params, str) and params != "all" and not params.startswith("layer:"):
        tail = params[len("block:"):] if params.startswith("block:") else params
        return f"layer:{tail}"
    return params


def selection(params: str, depth: int) -> tuple:
    """(kind, k) of a selection at a depth: ('all', None), ('readout', None) or ('block', K)."""
    return parse_params(normalise_selection(params), depth)


def selection_subset(params: str, depth: int) -> str:
    """The subset name :func:`anglefish.numeric.fisher.fisher_spectrum` takes for a selection."""
    kind, k = selection(params, depth)
    return {"all": "all", "readout": "layer:readout"}.get(kind, f"layer:{k}")


def _n_weight(arch: Architecture) -> int:
    return arch.block.weight_count()


# =============================================================== symbolic moments
def _kappa1_closed(arch: Architecture, kind: str, k) -> sp.Expr | None:
    """kappa1 of a selection in closed form in L (None if SymPy has none)."""
    rec = ntk_recursion(arch)
    l, L = BLOCK_INDEX, DEPTH
    if kind == "all":
        return rec.kappa1
    if rec.population is None or rec.block_term_single is None:
        return None
    if kind == "readout":
        return sp.simplify(rec.population.subs(l, L))
    index = {"first": 0, "last": L - 1}.get(kind, k)
    return sp.simplify(rec.block_term_single.subs(l, index))


def first_block_kappa2_vanishes(arch) -> bool:
    """kappa2 of block 0 is exactly 0: its weights see orthogonal inputs (q_ab = 0) and the
    block's pair share vanishes there (derived from the generic block map)."""
    arch = get_architecture(arch)
    at = {QA: 1, QB: 1, QAB: 0, M: 1, BLOCK_INDEX: 0}
    return sp.simplify(sp.sympify(_generic_block(arch)[1].contribution).subs(at)) == 0


def spectrum_symbolic(arch, params: str = "all") -> dict:
    """The moments and bounds of the spectrum as SymPy expressions.

    Keys: ``P`` (in L, N), ``m_lambda``, ``s_lambda`` (N -> oo), ``s_lambda_finite`` (with the
    finite-width coefficients omega1, omega2), ``lambda_max`` (N -> oo), ``concentration``,
    ``bounds`` (name -> (expression, inequality, kind)), all in the order parameters
    KAPPA1, KAPPA2 and P; ``kappa1_closed`` / ``kappa2_closed`` (closed forms in L or None),
    ``in_L`` (the same moments with P and the closed forms substituted) and ``selection``.
    """
    arch = get_architecture(arch)
    params = normalise_selection(params)
    kind, k = parse_params(params)
    N, T, L = WIDTH, SAMPLES, DEPTH
    k1, k2, P = KAPPA1, KAPPA2, NPARAMS
    n_w = _n_weight(arch)
    p_expr = {"all": n_w * L * N**2 + N, "readout": N}.get(kind, n_w * N**2)
    m = N * k1 / P
    s_inf = N**2 * (k1**2 + (T - 1) * k2**2) / (T * P)
    s_fin = (N**2 * k1**2 + N * OMEGA1 + (T - 1) * (N**2 * k2**2 + N * OMEGA2)) / (T * P)
    lam = N * (k1 + (T - 1) * k2) / T
    bounds = {
        "s_over_m": (sp.simplify(s_inf / m), "s_lambda / m_lambda <= lambda_max", "lower"),
        "sqrt_P_s": (sp.sqrt(sp.simplify(P * s_inf)), "lambda_max <= sqrt(P s_lambda)", "upper"),
        "trace": (sp.simplify(P * m), "lambda_max <= P m_lambda = tr F", "upper"),
        "rayleigh_uniform": (lam, "lambda_max >= 1^T K 1 / T^2", "lower"),
        "max_diagonal": (N * k1 / T, "lambda_max >= max_t K_tt / T", "lower"),
        "gershgorin": (N * (k1 + (T - 1) * sp.Abs(k2)) / T, "lambda_max <= max_t sum_s |K_st| / T", "upper"),
    }
    k1_closed = _kappa1_closed(arch, kind, k)
    k2_closed = None
    rec = ntk_recursion(arch)
    if kind == "all" and rec.kappa2 is not None:
        k2_closed = rec.kappa2
    elif kind == "first" and first_block_kappa2_vanishes(arch):
        k2_closed = sp.Integer(0)
    sub = {P: p_expr}
    if k1_closed is not None:
        sub[k1] = k1_closed
    if k2_closed is not None:
        sub[k2] = k2_closed
    in_l = {"m_lambda": sp.simplify(m.subs(sub)), "s_lambda": sp.simplify(s_inf.subs(sub)),
            "lambda_max": sp.simplify(lam.subs(sub))}
    return {"architecture": arch.name, "params": params, "selection": kind, "P": p_expr,
            "m_lambda": m, "s_lambda": s_inf, "s_lambda_finite": s_fin, "lambda_max": lam,
            "concentration": sp.simplify(s_inf / (P * m**2)), "bounds": bounds,
            "kappa1_closed": k1_closed, "kappa2_closed": k2_closed, "in_L": in_l}


# =============================================================== the selection's kernel at any input state
@memoize(disk=True)
def _generic_block(arch: Architecture, single: bool = False):
    """One block's forward state and Backward for a generic input state (q_a, q_b, q_ab, m), or
    for one input (q, q, q, m) with ``single``, by the symbolic interpreters (``Block.kernel``
    and :func:`anglefish.theory.ntk.backward`)."""
    if single:
        state = KernelState(QA, QA, QA, M, gaussian=arch.gaussian_inputs, centred=True)
    else:
        state = KernelState(QA, QB, QAB, M, gaussian=arch.gaussian_inputs, centred=True)
    return arch.block.kernel(state), arch.block.ntk_backward(state, sp.Integer(1))


@memoize
def _generic_maps(arch: Architecture, single: bool = False):
    """mpmath functions of one block's maps: forward (q_a, q_b, q_ab, m) and backward (p_in / p_out
    of the pair moment, the block's share of K_ab / N per unit p_out).  The one-input maps are
    derived on the state (q, q, q, m) itself, where SymPy sets q_ab^2 = q_a q_b exactly (the maps
    have a square-root singularity there that would amplify rounding)."""
    f, b = _generic_block(arch, single)
    args = (QA, QB, QAB, M, BLOCK_INDEX, DEPTH)
    forward = sp.lambdify(args, [f.qa, f.qb, f.qab, f.m], "mpmath")
    backward = sp.lambdify(args, [sp.sympify(b.p_in), sp.sympify(b.contribution)], "mpmath")
    return forward, backward


def _trajectory(arch: Architecture, depth: int, qa, qb, qab):
    """States (q_a, q_b, q_ab, m) at the input of every block and at the readout, and the
    pair backward moments p^l at every block's input (p^L = 1) with the block shares."""
    single = qa == qb == qab
    forward, backward = _generic_maps(arch, single)
    big_l = mpmath.mpf(depth)
    states = [(mpmath.mpf(qa), mpmath.mpf(qb), mpmath.mpf(qab), mpmath.mpf(1))]
    for l in range(depth):
        qa1, qb1, qab1, m1 = (mpmath.re(v) for v in forward(*states[-1], mpmath.mpf(l), big_l))
        if single:
            qb1 = qab1 = qa1
        else:
            bound = mpmath.sqrt(qa1 * qb1)
            qab1 = max(-bound, min(bound, qab1))
        states.append((qa1, qb1, qab1, m1))
    p = [None] * (depth + 1)
    shares = [None] * depth
    p[depth] = mpmath.mpf(1)
    for l in reversed(range(depth)):
        b, c = (mpmath.re(v) for v in backward(*states[l], mpmath.mpf(l), big_l))
        shares[l] = c * p[l + 1]
        p[l] = b * p[l + 1]
    return states, p, shares


def selection_kernel(arch, depth: int, params: str, qa, qb, qab, dps: int = DEFAULT_DPS):
    """kappa_ab = lim K_ab / N of a selection for two inputs with per-unit second moments
    q_a, q_b and covariance q_ab (population moment 1 at the input), by iterating the
    architecture's generic block maps forward and the pair's backward moment back.
    At (1, 1, 1) it is kappa1, at (1, 1, 0) kappa2 (as :func:`anglefish.theory.ntk.kappa_numeric`)."""
    arch = get_architecture(arch)
    kind, k = selection(params, depth)
    with mpmath.workdps(dps):
        states, _, shares = _trajectory(arch, depth, qa, qb, qab)
        if kind == "readout":
            return +states[-1][2]
        if kind == "block":
            return +shares[k]
        return states[-1][2] + mpmath.fsum(shares)


def _d1(f, x):
    h = _H1
    return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h)


def _d2(f, x):
    h = _H2
    return (-f(x + 2 * h) + 16 * f(x + h) - 30 * f(x) + 16 * f(x - h) - f(x - 2 * h)) / (12 * h**2)


def input_driven_terms(arch, depth: int, params: str = "all", dps: int = DEFAULT_DPS) -> dict:
    """The order-1 terms of K that come from the random inputs (module docstring), by central
    differences of :func:`selection_kernel` (steps 1e-3 / 1e-2; exact kernels to ~1e-10,
    quadrature kernels such as tanh to ~1e-4):

    ``kappa_prime``: dkappa/dq_ab at (1, 1, 0) -- K_st = N kappa2 + sqrt(N) kappa_prime z + ...;
    ``offdiag_shift``: E K_st - N kappa2 from the inputs = 2 kappa_aa + kappa_rr / 2;
    ``diag_shift``: E K_tt - N kappa1 from the inputs = h''(1);
    ``norm_slope``: h'(1) (Var K_tt from the input norms = 2 N h'(1)^2)."""
    arch = get_architecture(arch)
    depth = int(depth)
    one, zero = mpmath.mpf(1), mpmath.mpf(0)
    with mpmath.workdps(dps):
        pair = lambda r: selection_kernel(arch, depth, params, one, one, r, dps)
        side = lambda q: selection_kernel(arch, depth, params, q, one, zero, dps)
        diag = lambda q: selection_kernel(arch, depth, params, q, q, q, dps)
        out = {"kappa_prime": _d1(pair, zero), "kappa_rr": _d2(pair, zero), "kappa_aa": _d2(side, one),
               "norm_slope": _d1(diag, one), "diag_shift": _d2(diag, one)}
        out["offdiag_shift"] = 2 * out["kappa_aa"] + out["kappa_rr"] / 2
    return {key: float(v) for key, v in out.items()}


# =============================================================== bounds
@dataclass(frozen=True)
class Bound:
    """A named bound on lambda_max of F (eigenvalues of K/T).

    kind: 'lower' or 'upper'; source: 'theory' (from the kappas, N -> oo unless the note says
    otherwise) or 'sample' (from one network's own Gram); applies_to: what it bounds --
    'each network' (deterministic), 'E lambda_max' (the mean over networks) or
    'lambda_max(E K)' (the infinite-width matrix only)."""

    name: str
    value: float | None
    inequality: str
    kind: str
    source: str
    applies_to: str
    note: str = ""

    def as_json(self) -> dict:
        out = {"value": self.value, "inequality": self.inequality, "kind": self.kind, "from": self.source,
               "applies_to": self.applies_to}
        if self.note:
            out["note"] = self.note
        return out

    def as_dict(self) -> dict:
        return asdict(self)


INEQUALITIES = {
    "s_over_m": ("s_lambda / m_lambda <= lambda_max", "lower"),
    "sqrt_P_s": ("lambda_max <= sqrt(P s_lambda)", "upper"),
    "sqrt_P_s_finite": ("E lambda_max <= E sqrt(P s_lambda) <= sqrt(P E s_lambda) (E s_lambda to O(1/N))", "upper"),
    "trace": ("lambda_max <= P m_lambda = tr F", "upper"),
    "rayleigh_uniform": ("lambda_max >= 1^T K 1 / T^2 (Rayleigh quotient of the uniform vector)", "lower"),
    "max_diagonal": ("lambda_max >= max_t K_tt / T", "lower"),
    "gershgorin": ("lambda_max <= max_t sum_s |K_st| / T (Gershgorin)", "upper"),
    "jensen": ("E lambda_max(K/T) >= lambda_max(E K / T) (lambda_max is convex)", "lower"),
}


def _f(x) -> float | None:
    value = float(x)
    return value if math.isfinite(value) else None


def theory_bounds(kappa1, kappa2, width: int, samples: int, n_params: int, input_terms: dict | None = None,
                  s_lambda_finite: float | None = None) -> list:
    """The bounds evaluated on the infinite-width Gram K = N[(k1 - k2) I + k2 11^T] (T x T),
    and Jensen's lower bound on E lambda_max at width N with the input-driven order-1 terms of
    E K (``input_terms`` from :func:`input_driven_terms`; without them, the N -> oo value).

    Which bound applies to what (``Bound.applies_to``): every lower bound of lambda_max(E K)
    is a lower bound of E lambda_max (Jensen), up to the O(1) network-driven shift of E K;
    tr F bounds E lambda_max from above exactly (E tr = tr E); sqrt(P s) and Gershgorin of the
    infinite-width Gram bound only lambda_max of that matrix -- at finite width E s_lambda is
    larger (E K_st^2 = (E K_st)^2 + Var K_st), so sqrt(P s_inf) can lie below E lambda_max.  With
    ``s_lambda_finite`` (E s_lambda to O(1/N), where derived) sqrt(P E s) bounds E lambda_max."""
    N, T, P = float(width), int(samples), float(n_params)
    k1, k2 = float(kappa1), float(kappa2)
    q = k1 * k1 + (T - 1) * k2 * k2
    s = N * N * q / (T * P)
    m = N * k1 / P
    inf_note = "infinite-width Gram (N -> oo at fixed L, T); finite-width corrections O(L/N)"
    values = {
        "s_over_m": (s / m, "E lambda_max", inf_note),
        "sqrt_P_s": (math.sqrt(P * s), "lambda_max(E K)",
                     inf_note + "; at finite width E s_lambda > s_lambda(E K), so this bounds lambda_max of the "
                     "infinite-width Gram only"),
        "trace": (P * m, "E lambda_max", inf_note + "; E tr F = tr E F, so it bounds E lambda_max up to the O(1) "
                  "shift of E K_tt"),
        "rayleigh_uniform": (N * (k1 + (T - 1) * k2) / T, "E lambda_max",
                             inf_note + "; E[1^T K 1] / T^2 bounds E lambda_max exactly"),
        "max_diagonal": (N * k1 / T, "E lambda_max", inf_note),
        "gershgorin": (N * (k1 + (T - 1) * abs(k2)) / T, "lambda_max(E K)",
                       "Gershgorin on the infinite-width Gram (tight there); it bounds lambda_max of that "
                       "matrix, not the finite-width mean, which exceeds it by Jensen's gap"),
    }
    b_d = b_o = 0.0
    how = "N -> oo value of E K (input-driven order-1 terms not supplied)"
    if input_terms is not None:
        b_d, b_o = input_terms["diag_shift"], input_terms["offdiag_shift"]
        how = (f"E K = N[(k1 - k2) I + k2 11^T] + {b_d:.4g} I + {b_o:.4g} (11^T - I) (input-driven order-1 "
               "terms, derived); the network-driven O(1) shift of E K is not derived (measured consistent "
               "with 0 at the 0.5% level, sign not resolved)")
    top = (N * k1 + b_d + (T - 1) * (N * k2 + b_o)) / T
    other = (N * k1 + b_d - N * k2 - b_o) / T if T > 1 else top
    values["jensen"] = (max(top, other), "E lambda_max", how)
    if s_lambda_finite is not None:
        values["sqrt_P_s_finite"] = (math.sqrt(P * s_lambda_finite), "E lambda_max",
                                     "E s_lambda to O(1/N) at width N (derived: first block, MLP-type)")
    return [Bound(name, _f(v), INEQUALITIES[name][0], INEQUALITIES[name][1], "theory", applies, note)
            for name, (v, applies, note) in values.items()]


# =============================================================== numbers at one depth
def _kappas(arch: Architecture, depth: int, params: str, dps: int):
    kind, k = selection(params, depth)
    return kappa_numeric(arch, depth, dps=dps).kappas(kind, k)


def spectrum_theory(arch, depth: int, width: int, samples: int, params: str = "all", *,
                    kappa2_scale: float = 1.0, input_terms: bool = True, dps: int = DEFAULT_DPS) -> dict:
    """Infinite-width moments, lambda_max and bounds of the Fisher spectrum of a selection.

    Returns ``kappa1``, ``kappa2`` (times ``kappa2_scale``: 1 is the derived theory, other values
    are mutants for calibration), ``n_params`` (P), ``m_lambda``, ``s_lambda``,
    ``concentration`` (s / (P m^2)), ``lambda_max`` (N -> oo), ``bounds`` (list of
    :class:`Bound`), ``input_terms`` (the order-1 terms, if ``input_terms``), ``s_lambda_finite``
    (E s_lambda to O(1/N) where derived: first block of MLP-type architectures, else None) and
    ``limit`` (what the numbers are the limit of)."""
    arch = get_architecture(arch)
    depth = int(depth)
    kind, k = selection(params, depth)
    n_params = count_params(arch, depth, width, normalise_selection(params))
    with mpmath.workdps(dps):
        k1, k2 = _kappas(arch, depth, params, dps)
        k1, k2 = float(k1), float(k2) * float(kappa2_scale)
    N, T, P = float(width), int(samples), float(n_params)
    q = k1 * k1 + (T - 1) * k2 * k2
    terms = input_driven_terms(arch, depth, params, dps) if input_terms else None
    out = {
        "architecture": arch.name, "depth": depth, "width": int(width), "samples": T, "params": params,
        "selection": kind if kind != "block" else f"block {k}", "n_params": int(n_params),
        "kappa1": k1, "kappa2": k2, "kappa2_scale": float(kappa2_scale),
        "m_lambda": N * k1 / P, "s_lambda": N * N * q / (T * P), "concentration": q / (T * k1 * k1),
        "lambda_max": N * max(k1 + (T - 1) * k2, k1 - k2) / T,
        "input_terms": terms, "s_lambda_finite": None,
        "limit": "N -> oo at fixed L and T (finite-width corrections grow like L/N)",
    }
    if kind == "block" and k == 0 and kappa2_scale == 1.0:
        from .spectrum_fluctuations import backward_fluctuations

        try:
            fl = backward_fluctuations(arch, depth, params, dps)
        except AnglefishError:
            fl = None
        if fl is not None and terms is not None:
            omega1 = k1 * k1 * fl["diag_relative_variance_times_N"] + 2 * k1 * terms["diag_shift"]
            omega2 = terms["kappa_prime"] ** 2 + 2 * k2 * terms["offdiag_shift"]
            out["s_lambda_finite"] = (N * N * q + N * omega1 + (T - 1) * N * omega2) / (T * P)
            out["omega"] = {"omega1": omega1, "omega2": omega2,
                            "note": "E K_tt^2 = N^2 k1^2 + N omega1, E K_st^2 = N^2 k2^2 + N omega2 (+ O(1)); "
                                    "omega2 = kappa'(0)^2 is the input-driven fluctuation (the network's own "
                                    "part of Var K_st is O(1) for the first block)"}
    out["bounds"] = theory_bounds(k1, k2, width, samples, n_params, terms, out["s_lambda_finite"])
    return out


# =============================================================== bulk edge (kappa2 = 0)
def bulk_edge(arch, depth: int, width: int, samples: int, params: str = "layer:first", dps: int = DEFAULT_DPS) -> dict:
    """The top of the spectrum of F where kappa2 = 0 and the selection is the first block of an
    MLP-type architecture (module docstring).  Returns the parameters ``p1`` (= kappa1), ``p2``
    (= kappa'(0)), ``a`` (input-driven off-diagonal mean), ``sigma_d2`` (relative variance of
    |Delta_t|^2 across the inputs of one network, O(L/N)), ``ratio`` c = T/N, and the values
    (eigenvalues of F = K/T): ``edge`` (N, T -> oo at fixed c: (N/T)[k1 + p2((1+sqrt c)^2 - 1)]),
    ``naive_mp`` ((N/T) kappa1 (1 + sqrt c)^2), ``infinite_width`` (N kappa1 / T, the N -> oo
    limit at fixed T).  The finite-width value comes from sampling the reduced model
    (:func:`anglefish.numeric.spectrum.bulk_edge_model`).  AnglefishError where kappa2 != 0 or
    the model is not derived (a reason is given)."""
    arch = get_architecture(arch)
    depth, width, samples = int(depth), int(width), int(samples)
    kind, k = selection(params, depth)
    k1, k2 = (float(v) for v in _kappas(arch, depth, params, dps))
    if abs(k2) > 1e-12 * abs(k1):
        raise AnglefishError(f"{arch.name} {params} at L = {depth}: kappa2 = {k2:.4g} != 0, so lambda_max is the "
                             "isolated uniform mode, not a bulk edge")
    from .spectrum_fluctuations import backward_fluctuations

    fl = backward_fluctuations(arch, depth, params, dps)
    terms = input_driven_terms(arch, depth, params, dps)
    N, T = float(width), float(samples)
    c = T / N
    p2 = terms["kappa_prime"]
    grow = (1 + math.sqrt(c)) ** 2
    return {
        "architecture": arch.name, "depth": depth, "width": width, "samples": samples, "params": params,
        "p1": k1, "p2": p2, "a": terms["offdiag_shift"], "ratio": c,
        "sigma_d2": fl["input_specific"] / N, "diag_relative_variance": fl["diag_relative_variance_times_N"] / N,
        "edge": N / T * (k1 + p2 * (grow - 1)), "naive_mp": N / T * k1 * grow, "infinite_width": N * k1 / T,
        "fluctuations": fl,
        "limits": {"edge": "N, T -> oo at fixed c = T/N and L (sigma_d^2 -> 0)",
                   "infinite_width": "N -> oo at fixed T and L",
                   "model": "reduced random-matrix model at this N, T (sampled)"},
    }


def __getattr__(name):  # the laws and the backward fluctuations live in modules of their own
    import importlib

    for module in ("spectrum_laws", "spectrum_fluctuations"):
        mod = importlib.import_module(f".{module}", __package__)
        if name in getattr(mod, "__all__", ()):
            return getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
