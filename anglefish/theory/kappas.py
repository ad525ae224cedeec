"""The exact infinite-width kernels of the NTK per depth: kappa1 (one input) and kappa2 (two
orthogonal inputs), block by block -- as exact SymPy numbers (:func:`kappa_exact`) or mpmath numbers
at any precision (:func:`kappa_numeric`).  Convention: :mod:`anglefish.theory.ntk`."""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import sympy as sp

from ..errors import AnglefishError
from .activations import THETA
from .architectures import Architecture, get_architecture
from .blocks import BLOCK_INDEX, DEPTH, KernelState
from .cache import memoize
from .ntk import (
    _COS,
    _SIN,
    DEFAULT_DPS,
    DK_SCALE,
    _check_int,
    _generic_state,
    _symbolic_block,
)
from .recursion import M, Q


@dataclass(frozen=True)
class KappaTrajectory:
    """Per-block shares of kappa1 and kappa2 at one depth, and the readout's.

    block1[l], block2[l]: block l's share of kappa1 / kappa2 (one input / two orthogonal inputs).
    readout1, readout2: q^L and q^L_st (the readout v's share).
    theta: the forward angle at the input of each block, then at the readout (length L + 1).
    """

    depth: int
    block1: tuple
    block2: tuple
    readout1: object
    readout2: object
    theta: tuple
    dps: int | None = None  # mpmath working precision of the numbers (None: exact SymPy)

    def kappas(self, kind: str, k: int | None):
        """(kappa1, kappa2) of a selection: kind 'all', 'readout' or 'block' (block index k)."""
        if kind == "all":
            with mpmath.workdps(self.dps or mpmath.mp.dps):  # sums at the numbers' precision
                k2 = None if self.readout2 is None else self.readout2 + sum(self.block2)
                return self.readout1 + sum(self.block1), k2
        if kind == "readout":
            return self.readout1, self.readout2
        return self.block1[k], self.block2[k]


def _at_block(state: KernelState, l: int, depth: int) -> KernelState:
    sub = {BLOCK_INDEX: l, DEPTH: depth}
    return state.map(lambda e: sp.sympify(e).subs(sub))


def kappa_exact(arch: Architecture | str, depth: int, *, pair: bool = True,
                derivative_kernel_scale=1) -> KappaTrajectory:
    """Exact SymPy numbers: the symbolic interpreter run on the exact input states.

    One input: q^0 = m^0 = 1 (rational numbers throughout for the paper's architectures).
    Two inputs (if ``pair``): orthogonal, q^0_st = 0 (nested arc-cosines: keep ``depth``
    small); without ``pair`` the kappa2 fields are None.
    """
    arch = get_architecture(arch)
    depth = _check_int(depth, "depth")
    scale = sp.nsimplify(derivative_kernel_scale)
    out = {"pair": ((None,) * depth, None, ())}
    cases = (("single", sp.Integer(1)), ("pair", sp.Integer(0))) if pair else (("single", sp.Integer(1)),)
    for name, q0ab in cases:
        states = [_generic_state(sp.Integer(1), sp.Integer(1), q0ab, sp.Integer(1), gaussian=arch.gaussian_inputs)]
        for l in range(depth):
            states.append(_at_block(arch.block.kernel(states[-1]), l, depth))
        p, shares = sp.Integer(1), [None] * depth
        for l in reversed(range(depth)):
            step = arch.block.ntk_backward(states[l], p, scale)
            sub = {BLOCK_INDEX: l, DEPTH: depth}
            shares[l] = sp.sympify(step.contribution).subs(sub)
            p = sp.sympify(step.p_in).subs(sub)
        thetas = tuple(sp.acos(s.qab / sp.sqrt(s.qa * s.qb)) for s in states)
        out[name] = (tuple(shares), states[-1].qab, thetas)
    return KappaTrajectory(depth, out["single"][0], out["pair"][0], out["single"][1], out["pair"][1],
                           out["pair"][2])


@memoize
def _compiled(arch: Architecture):
    """mpmath functions of the single-input and pair maps (one call per block each)."""
    fwd1, bw1 = _symbolic_block(arch, "single")
    fwd2, bw2 = _symbolic_block(arch, "pair")
    trig = {sp.cos(THETA): _COS, sp.sin(THETA): _SIN}
    args1 = (Q, M, BLOCK_INDEX, DEPTH, DK_SCALE)
    single = sp.lambdify(args1, [fwd1.qa, fwd1.m, bw1.p_in, bw1.contribution], "mpmath")
    args2 = (Q, M, THETA, _COS, _SIN, BLOCK_INDEX, DEPTH, DK_SCALE)
    pair_exprs = [sp.sympify(e).subs(trig) for e in (fwd2.qab / fwd2.qa, bw2.p_in, bw2.contribution)]
    pair = sp.lambdify(args2, pair_exprs, "mpmath")
    return single, pair


@memoize(maxsize=64)
def _numeric_trajectory(arch: Architecture, depth: int, scale: float, dps: int) -> KappaTrajectory:
    single, pair = _compiled(arch)
    with mpmath.workdps(dps):
        s = mpmath.mpf(scale)
        q, m = mpmath.mpf(1), mpmath.mpf(1)
        th, c, sn = mpmath.pi / 2, mpmath.mpf(0), mpmath.mpf(1)  # orthogonal inputs, exact cos/sin
        steps, thetas = [], [th]
        big_l = mpmath.mpf(depth)  # mpf block index and depth: no float under/overflow in 2**(-l)
        for l in range(depth):
            ml = mpmath.mpf(l)
            q1, m1, b1, t1 = single(q, m, ml, big_l, s)
            c1, b2, t2 = pair(q, m, th, c, sn, ml, big_l, s)
            steps.append((b1, t1, b2, t2))
            q, m = q1, m1
            c = min(mpmath.mpf(1), max(mpmath.mpf(-1), c1))
            th = mpmath.acos(c)
            sn = mpmath.sin(th)
            thetas.append(th)
        p1 = p2 = mpmath.mpf(1)
        block1, block2 = [None] * depth, [None] * depth
        for l in reversed(range(depth)):
            b1, t1, b2, t2 = steps[l]
            block1[l], block2[l] = t1 * p1, t2 * p2
            p1, p2 = p1 * b1, p2 * b2
        return KappaTrajectory(depth, tuple(block1), tuple(block2), q, q * c, tuple(thetas), dps)


def kappa_numeric(arch: Architecture | str, depth: int, *, derivative_kernel_scale=1.0,
                  dps: int = DEFAULT_DPS) -> KappaTrajectory:
    """The per-block shares of kappa1, kappa2 at ``depth`` as mpmath numbers at ``dps`` digits.

    The compiled SymPy maps are iterated: forward through the L blocks (one input with
    q^0 = 1; two orthogonal inputs), then backward from p^L = 1.
    """
    arch = get_architecture(arch)
    depth = _check_int(depth, "depth")
    scale = float(derivative_kernel_scale)
    if not math.isfinite(scale) or scale <= 0:
        raise AnglefishError(f"derivative_kernel_scale must be a positive number, got {derivative_kernel_scale!r}")
    return _numeric_trajectory(arch, depth, scale, int(dps))



__all__ = ["KappaTrajectory", "kappa_exact", "kappa_numeric"]
