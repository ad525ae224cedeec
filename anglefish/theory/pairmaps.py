"""A stable numeric interpreter of the pair state for nested maps.

When a block nests activations (arccos inside the one-block map, e.g. a branch with two ReLU layers,
or a pre-activation ResNet), forming 1 - cos theta' by subtraction loses all relative precision once
theta is small.  This interpreter instead carries, for two inputs of equal norm, the per-unit second
moment q and the *gap* d = q - q_ab = q (1 - cos theta), which every block maps without cancellation
(each block type's ``pair_step`` rule):

* Dense(v), Scale(alpha), population BatchNorm: q, d and m are scaled alike;
* Residual: q, d and m add (skip and branch are uncorrelated);
* an activation whose kernel derivation is a function of the angle (positively homogeneous, e.g.
  ReLU): q' = q J(0), d' = q (J(0) - J(theta)) with the *gap* J(0) - J(theta) expanded in series
  below theta* (SymPy, a function of theta alone) and evaluated directly above, and
  theta = 2 asin(sqrt(d / 2q)).

It evaluates the same kernels the symbolic interpreter derives, numerically and with relative
precision ~1e-15 per block at every angle.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .activations import THETA, PiecewiseLinear
from .blocks import Block
from .cache import memoize


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


@memoize
def activation_gap(activation: PiecewiseLinear):
    """(J(0), gap(theta) = J(0) - J(theta)) of a positively homogeneous activation."""
    unit = activation.derivation().unit_kernel
    j0 = float(unit.subs(THETA, 0))
    return j0, _hybrid(sp.expand(unit.subs(THETA, 0) - unit))


def supported(block: Block) -> bool:
    """Can this interpreter run ``block``?  (Only positively homogeneous activations, population BN.)"""
    return block.pair_supported()


def pair_step(block: Block, q, d, log_m, l, depth):
    """One block of the stable pair interpreter: (q, d, log m) -> after the block."""
    return block.pair_step(q, d, log_m, l, depth)
