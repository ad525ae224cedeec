"""A stable numeric interpreter of the pair state for nested maps.

When a block nests activations (arccos inside the one-block map, e.g. a branch with two
ReLU layers, or a pre-activation ResNet), forming 1 - cos theta' by subtraction loses
all relative precision once theta is small.  This interpreter instead carries, for two
inputs of equal norm, the per-unit second moment q and the *gap* d = q - q_ab = q (1 - cos
theta), which every block maps without cancellation:

* Dense(v), Scale(alpha), population BatchNorm: q, d and m are scaled alike;
* Residual: q, d and m add (skip and branch are uncorrelated);
* an activation whose kernel derivation is a function of the angle (positively
  homogeneous, e.g. ReLU): q' = q J(0), d' = q (J(0) - J(theta)) with the *gap*
  J(0) - J(theta) expanded in series below theta* (SymPy, a function of theta alone) and
  evaluated directly above, and theta = 2 asin(sqrt(d / 2q)).

It evaluates the same kernels the symbolic interpreter derives, numerically and with
relative precision ~1e-15 per block at every angle.
"""
from __future__ import annotations

import math
from functools import lru_cache, singledispatch

import numpy as np
import sympy as sp

from ..errors import AnglefishError
from .activations import THETA, PiecewiseLinear
from .blocks import BLOCK_INDEX, DEPTH, Act, BatchNorm, Block, Dense, Residual, Scale, Serial


def _hybrid(expr: sp.Expr, order: int = 16):
    """numpy function of theta: series of ``expr`` below theta*, direct above."""
    series = sp.series(expr, THETA, 0, order).removeO()
    poly = sp.Poly(sp.expand(series), THETA)
    terms = sorted(((m[0], float(c)) for m, c in poly.terms() if c != 0), key=lambda t: t[0])
    (k0, c0), (kn, cn) = terms[0], terms[-1]
    star = min(1.0, (1e-18 * abs(c0) / abs(cn)) ** (1.0 / (kn - k0))) if kn > k0 else 1.0
    f_series = sp.lambdify(THETA, sp.horner(sp.Add(*(c * THETA**k for k, c in terms)), wrt=THETA), "numpy")
    f_direct = sp.lambdify(THETA, expr, "numpy")

    def f(theta):
        theta = np.asarray(theta, dtype=float)
        with np.errstate(all="ignore"):
            return np.where(theta < star, f_series(theta), f_direct(theta))
    return f


@lru_cache(maxsize=None)
def activation_gap(activation: PiecewiseLinear):
    """(J(0), gap(theta) = J(0) - J(theta)) of a positively homogeneous activation."""
    unit = activation.derivation().unit_kernel
    j0 = float(unit.subs(THETA, 0))
    return j0, _hybrid(sp.expand(unit.subs(THETA, 0) - unit))


def supported(block: Block) -> bool:
    """Can this interpreter run ``block``?  (Only positively homogeneous activations.)"""
    for b in block.walk():
        if isinstance(b, Act) and not isinstance(b.activation, PiecewiseLinear):
            return False
        if isinstance(b, BatchNorm) and b.kind != "population":
            return False
        if not isinstance(b, (Act, Dense, Scale, BatchNorm, Residual, Serial)):
            return False
    return True


def _value(expr, l, depth):
    if expr.free_symbols:
        expr = expr.subs({BLOCK_INDEX: l, DEPTH: depth})
    return float(expr)


@singledispatch
def pair_step(block: Block, q, d, log_m, l, depth):
    raise AnglefishError(f"the stable pair interpreter does not know {type(block).__name__}")


@pair_step.register
def _(block: Serial, q, d, log_m, l, depth):
    for b in block.blocks:
        q, d, log_m = pair_step(b, q, d, log_m, l, depth)
    return q, d, log_m


@pair_step.register
def _(block: Dense, q, d, log_m, l, depth):
    v = _value(block.variance, l, depth)
    return q * v, d * v, log_m + math.log(v)


@pair_step.register
def _(block: Scale, q, d, log_m, l, depth):
    a2 = _value(block.alpha, l, depth) ** 2
    return q * a2, d * a2, log_m + math.log(a2)


@pair_step.register
def _(block: BatchNorm, q, d, log_m, l, depth):
    m = math.exp(log_m)
    return q / m, d / m, 0.0


@pair_step.register
def _(block: Act, q, d, log_m, l, depth):
    j0, gap = activation_gap(block.activation)
    theta = 2 * np.arcsin(np.sqrt(np.clip(d / (2 * q), 0, 1)))
    return q * j0, q * gap(theta), log_m + math.log(j0)


@pair_step.register
def _(block: Residual, q, d, log_m, l, depth):
    qb, db, log_mb = pair_step(block.branch, q, d, log_m, l, depth)
    return q + qb, d + db, float(np.logaddexp(log_m, log_mb))
