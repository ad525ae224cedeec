"""Finite-width fluctuations of the backward signal at the first block's weights (MLP-type
blocks), which set the per-input spread of the NTK Gram's diagonal and push the bulk edge up where
kappa2 = 0.  The derivation is in :mod:`anglefish.theory.spectrum`'s docstring."""
from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp

from ..errors import AnglefishError
from .activations import Activation, PiecewiseLinear
from .architectures import Architecture, get_architecture
from .blocks import BLOCK_INDEX, DEPTH, Act, BatchNorm, Dense, KernelState
from .blocks import Scale as ScaleBlock
from .cache import memoize
from .kappas import kappa_numeric
from .ntk import DEFAULT_DPS, QA, QAB, QB
from .recursion import M
from .spectrum import _trajectory, input_driven_terms, selection


def _mlp_type(arch: Architecture) -> int:
    """Index of the activation inside an MLP-type block (one Dense first, one Act, otherwise only
    population BatchNorm and Scale); AnglefishError naming what is not covered."""
    blocks = arch.block.blocks
    dense = [i for i, b in enumerate(blocks) if isinstance(b, Dense)]
    acts = [i for i, b in enumerate(blocks) if isinstance(b, Act)]
    others = [b for b in blocks if not isinstance(b, (Dense, Act, ScaleBlock)) and
              not (isinstance(b, BatchNorm) and b.kind == "population")]
    if others or dense != [0] or len(acts) != 1:
        raise AnglefishError(f"{arch.name}: the backward-fluctuation model covers MLP-type blocks only "
                             "(one Dense first, one activation, population BatchNorm or Scale); "
                             f"got {arch.block!r}")
    return acts[0]


@memoize
def _act_input_maps(arch: Architecture, index: int):
    """mpmath function of the state (q_a, q_ab) at the input of the block's activation."""
    state = KernelState(QA, QB, QAB, M, gaussian=arch.gaussian_inputs, centred=True)
    for b in arch.block.blocks[:index]:  # the state at the activation's input
        state = b.kernel(state)
    act_in = state
    return sp.lambdify((QA, QB, QAB, M, BLOCK_INDEX, DEPTH), [act_in.qa, act_in.qab], "mpmath")


@memoize
def _squared_derivative(activation: PiecewiseLinear) -> PiecewiseLinear:
    """phi'^2 of a piecewise-linear phi is the derivative of the piecewise-linear function with
    slopes squared, so its Gaussian expectations come from the same polar integral."""
    return PiecewiseLinear(f"{activation.name}'^2", activation.slope_pos**2, activation.slope_neg**2)


def _gauss_hermite_nodes(n: int = 120):
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / math.sqrt(2 * math.pi)


def derivative_moments(activation: Activation, q: float, c: float) -> tuple:
    """(E phi'(u)^2, E phi'(u)^4, E phi'(u)^2 phi'(v)^2) for u, v ~ N(0, q) with correlation c.

    Piecewise-linear activations: exact (the derived derivative kernel of phi'^2); others:
    2-d Gauss-Hermite quadrature (120 x 120 nodes) of the SymPy derivative."""
    if isinstance(activation, PiecewiseLinear):
        sq = _squared_derivative(activation)
        qs = sp.nsimplify(q)
        e2 = activation.derivative_kernel(qs, qs, qs)
        e4 = sq.derivative_kernel(qs, qs, qs)
        e22 = sq.derivative_kernel(sp.Integer(1), sp.Integer(1), sp.Float(c, 30))
        return float(e2), float(e4), float(sp.N(e22))
    d = activation.numpy_dphi()
    z, w = _gauss_hermite_nodes()
    sq = math.sqrt(q)
    g = np.asarray(d(sq * z), dtype=float) ** 2
    e2, e4 = float(w @ g), float(w @ g**2)
    s = math.sqrt(max(0.0, 1 - c * c))
    u = sq * z[:, None]
    v = sq * (c * z[:, None] + s * z[None, :])
    e22 = float(np.sum(np.outer(w, w) * np.asarray(d(u), dtype=float) ** 2 * np.asarray(d(v), dtype=float) ** 2))
    return e2, e4, e22


def backward_fluctuations(arch, depth: int, params: str = "layer:first", dps: int = DEFAULT_DPS) -> dict:
    """Finite-width fluctuations of |Delta_t|^2 at the first block's weights (module docstring).

    Only for the first block (params naming block 0) of MLP-type architectures.  Returns the
    per-block ``V`` (N Var of one input's log-factor) and ``C`` (N Cov between two orthogonal
    inputs), ``input_specific`` = sum (V - C) (N sigma_d^2, the spread within one network),
    ``common`` = sum C, ``norm_term`` = 2 h'(1)^2 / kappa1^2 (the input norms) and
    ``diag_relative_variance_times_N`` = norm_term + sum V (N Var K_tt / E K_tt^2)."""
    arch = get_architecture(arch)
    kind, k = selection(params, depth)
    if kind != "block" or k != 0:
        raise AnglefishError(f"the backward-fluctuation model is derived for the first block only "
                             f"(params naming block 0), got {params!r} at depth {depth}")
    index = _mlp_type(arch)
    activation = arch.block.blocks[index].activation
    act_in = _act_input_maps(arch, index)
    with mpmath.workdps(dps):
        single, p1, _ = _trajectory(arch, depth, 1, 1, 1)
        pair, p2, _ = _trajectory(arch, depth, 1, 1, 0)
        big_l = mpmath.mpf(depth)
        v_list, c_list = [], []
        for l in range(depth):
            qa, _ = act_in(*single[l], mpmath.mpf(l), big_l)
            qpa, qpab = act_in(*pair[l], mpmath.mpf(l), big_l)
            r = float(p2[l + 1] / p1[l + 1])
            c = float(qpab / qpa)
            e2, e4, _ = derivative_moments(activation, float(qa), 1.0)
            f2, _, e22 = derivative_moments(activation, float(qpa), c)
            v_list.append(3 * e4 / e2**2 - 1)
            c_list.append(e22 * (1 + 2 * r * r) / f2**2 - 1)
    terms = input_driven_terms(arch, depth, params, dps)
    k1 = float(kappa_numeric(arch, depth, dps=dps).kappas("block", 0)[0])
    norm_term = 2 * terms["norm_slope"] ** 2 / k1**2
    return {"V": v_list, "C": c_list, "input_specific": float(sum(v - c for v, c in zip(v_list, c_list))),
            "common": float(sum(c_list)), "norm_term": norm_term,
            "diag_relative_variance_times_N": norm_term + float(sum(v_list)),
            "note": "to O(1/N) at fixed L (log-norms of the blocks add); grows like L/N, so the "
                    "expansion fails once L/N is no longer small"}


__all__ = ["backward_fluctuations", "derivative_moments"]
