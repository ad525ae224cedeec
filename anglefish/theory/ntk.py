"""Infinite-width NTK and Fisher information of an architecture, derived by a symbolic
backward interpreter.

Convention (the project's contract)
-----------------------------------
* Inputs: T vectors x_1 .. x_T in R^N with i.i.d. N(0, 1) coordinates; N is also the width
  of every block.  At infinite width every input has per-unit second moment q^0 = 1 (equal
  to the population moment m^0 = 1) and two different inputs are orthogonal (q^0_st = 0,
  angle pi/2).
* Network: the architecture's block (``Architecture.block``, a Serial) repeated L times,
  0-based block index l = 0 .. L-1, followed by the scalar readout f(x) = v . h^L with
  v_i ~ N(0, 1/N) and no bias.  ``Dense(v)``: W_ij ~ N(0, v / fan_in), fan_in = fan_out = N
  (standard parameterisation), no biases.
* Parameters: ALL weights -- every Dense in every block (N*N each) and v (N); P is their
  number.  A *block of F* (``params='layer:K'``) keeps only the weights inside repeated
  block K (every Dense of it, e.g. W1 and W2 of a ResNet block); ``'layer:readout'`` keeps v.
* Empirical FIM F = (1/T) sum_t grad f(x_t) grad f(x_t)^T, the Hessian of
  (1/2T) sum_t (f(x_t) - y_t)^2 at zero residual.  Its nonzero eigenvalues are those of
  K/T, K_st = grad f(x_s) . grad f(x_t) (the empirical NTK Gram, restricted to the chosen
  parameters).  m_lambda = tr F / P; eta_max = 2 / lambda_max is the largest step size
  for which gradient descent on that loss decreases monotonically near such a point.
* Population BatchNorm is a fixed division by the population standard deviation sqrt(m)
  (see ``blocks.py``) and is NOT differentiated through statistics.  Batch BatchNorm has
  no closed map and is refused.

Backward moments
----------------
delta(x) = df/dh at some point of the network.  The backward moment is the FULL inner
product p_st = E[delta(x_s) . delta(x_t)] (a sum over the N units; per unit it is p/N).
At the readout delta = v for every input, so p^L_st = E[v . v] = 1 for s = t and s != t.
The maps are the infinite-width ones with the usual gradient-independence rule (W^T in the
backward pass is treated as independent of W), which gives the exact infinite-width NTK
when the readout is a zero-mean Gaussian (Yang 2020, Tensor Programs II):

* Dense(v):       p_in = v p_out                             (fan_in = fan_out = N)
* Act(phi):       p_pre = s_dk E[phi'(u_s) phi'(u_t)] p_post  (the activation's derived
                  ``derivative_kernel``; s_dk = 1 except in mutation tests)
* Residual:       p_in = p_out + (branch backward of p_out)  (skip-branch cross terms vanish:
                  the branch ends in fresh zero-mean weights)
* BatchNorm:      p_in = p_out / m   (population; m = population moment at BN's input)

A weight matrix W (fan_in N) contributes K^W_st = N p^{out(W)}_st q^{in(W)}_st, with
p^{out(W)} the backward moment at W's output and q^{in(W)} the per-unit forward covariance
of its input; the readout contributes N q^L_st.  Hence K_st / N -> kappa_st, a sum of
products of forward and backward kernels.  kappa1 = kappa_ss (one input), kappa2 =
kappa_st (s != t, orthogonal inputs), and, K being N[(kappa1 - kappa2) I + kappa2 11^T],

    lambda_max = (N/T) [kappa1 + (T - 1) kappa2]   (kappa2 >= 0; T - 1 further eigenvalues
                                                    equal N (kappa1 - kappa2) / T),
    m_lambda   = N kappa1 / P,     eta_max = 2 / lambda_max.

These are the leading orders as N -> oo at fixed T and L (the relative corrections vanish
as N grows and grow with L/N).

What is derived
---------------
* :func:`ntk_recursion`: the per-block maps as SymPy expressions, and for one input
  (q^0 = 1) the closed forms q_l, p^l = prod_{j>=l} B0(j), block l's share T1(l, L) of
  kappa1 and kappa1(L) (``summation`` / ``sum_over_blocks``).  kappa2 has a closed form
  only when the pair's maps are linear in q_ab; for ReLU networks it does not.
* :func:`kappa_exact` (SymPy numbers) and :func:`kappa_numeric` (mpmath at any precision):
  the maps iterated over L blocks, forward then backward, per block.
* :func:`fisher_theory`: lambda_max, m_lambda, eta_max at a given depth, width and T.
* :func:`fisher_law`: the large-L law.  kappa1 from its closed form; kappa2 from the angle
  law theta_l ~ Lambda(l) of ``asymptotics.depth_law`` and two series at theta = 0: the
  pair/single backward ratio 1 - a(l) theta and the angle map theta - c(l) theta^2.  When
  nu = a/c is constant, prod_{j>l} (1 - a theta_j) = C_l (theta_L/theta_{l+1})^nu with C_l -> 1,
  so kappa2 ~ q^L + Lambda(L)^nu sum_l T1(l, L) Lambda(l)^-nu, whose divergent sum is taken
  from the leading term of its summand.  Whatever kappa2 does, 0 <= kappa2 <= kappa1 gives
  kappa1/T <= lambda_max/N <= kappa1, so lambda_max/N always has the class of kappa1.

New block types plug in by registering :func:`forward_trace` (if they contain blocks),
:func:`backward` and :func:`weight_matrices` for their class -- this module is not edited.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache, singledispatch

import mpmath
import sympy as sp

from ..errors import AnglefishError
from .activations import THETA
from .architectures import Architecture, get_architecture
from .asymptotics import depth_law, sum_over_blocks
from .blocks import (BLOCK_INDEX, DEPTH, Act, BatchNorm, Block, Dense, KernelState, Residual, Scale,
                     Serial)
from .recursion import M, Q, derive_maps

#: second moments of a generic state (two inputs a, b)
QA, QB = sp.symbols("q_a q_b", positive=True)
QAB = sp.Symbol("q_ab", real=True)
#: scale applied to every derivative kernel (1 for the true theory; mutation tests change it)
DK_SCALE = sp.Symbol("s_dk", positive=True)
#: number of inputs T and width N in the laws
SAMPLES = sp.Symbol("T", positive=True)
WIDTH = sp.Symbol("N", positive=True)
#: cos(theta) and sin(theta) as separate arguments of the compiled pair maps (exact at pi/2)
_COS, _SIN = sp.symbols("c_theta s_theta", real=True)
#: continuous stand-ins for the block index and the depth when taking limits
_X = sp.Symbol("x", positive=True)
_LC = sp.Symbol("L", positive=True)
_J = sp.Symbol("j", integer=True, nonnegative=True)

#: working precision (decimal digits) of the numeric iteration
DEFAULT_DPS = 30


# =============================================================== symbolic interpreter
@dataclass(frozen=True)
class Backward:
    """One block's backward step, for an incoming backward moment p_out.

    p_in: backward moment at the block's input.
    contribution: sum over the weight matrices inside the block of p^{out(W)}_st q^{in(W)}_st
        (the block's share of K_st / N).
    terms: one (label, p^{out(W)} q^{in(W)}) per weight matrix, in forward order.
    """

    p_in: sp.Expr
    contribution: sp.Expr
    terms: tuple = ()


@singledispatch
def forward_trace(block: Block, state: KernelState) -> tuple:
    """The forward states at the input of each child of ``block`` and at its output.

    A block without children gives (state_in, state_out).  Register a container type here
    so that :func:`backward` can see the states inside it.
    """
    return (state, block.kernel(state))


@forward_trace.register
def _(block: Serial, state: KernelState) -> tuple:
    states = [state]
    for child in block.blocks:
        states.append(child.kernel(states[-1]))
    return tuple(states)


@singledispatch
def backward(block: Block, state: KernelState, p_out, dk_scale=1) -> Backward:
    """Map the backward moment from the output of ``block`` to its input.

    ``state`` is the forward state at the block's input; ``dk_scale`` multiplies every
    derivative kernel (1 for the true theory).  Register new block types with
    ``@backward.register``.
    """
    raise AnglefishError(f"no backward map for block type {type(block).__name__}; register one "
                         "with anglefish.theory.ntk.backward.register")


@backward.register
def _(block: Dense, state: KernelState, p_out, dk_scale=1) -> Backward:
    term = p_out * state.qab
    return Backward(p_in=block.variance * p_out, contribution=term, terms=((repr(block), term),))


@backward.register
def _(block: Act, state: KernelState, p_out, dk_scale=1) -> Backward:
    if not state.gaussian:
        raise AnglefishError(f"{block!r}: the derivative kernel needs a jointly Gaussian input "
                             "(put a Dense, or a population BatchNorm after a Dense, before it)")
    dk = block.activation.derivative_kernel(state.qa, state.qb, state.qab)
    return Backward(p_in=dk_scale * dk * p_out, contribution=sp.Integer(0))


@backward.register
def _(block: Scale, state: KernelState, p_out, dk_scale=1) -> Backward:
    return Backward(p_in=block.alpha**2 * p_out, contribution=sp.Integer(0))


@backward.register
def _(block: BatchNorm, state: KernelState, p_out, dk_scale=1) -> Backward:
    if block.kind == "batch":
        raise AnglefishError("BatchNorm(kind='batch') has no closed backward map at infinite width "
                             "(it is differentiated through the mini-batch statistics); use "
                             "kind='population' for theory or the numeric simulator")
    return Backward(p_in=p_out / state.m, contribution=sp.Integer(0))


@backward.register
def _(block: Serial, state: KernelState, p_out, dk_scale=1) -> Backward:
    states = forward_trace(block, state)
    p, total, terms = p_out, sp.Integer(0), []
    for i in reversed(range(len(block.blocks))):
        step = backward(block.blocks[i], states[i], p, dk_scale)
        p = step.p_in
        total += step.contribution
        terms[:0] = [(f"{i}:{label}", value) for label, value in step.terms]
    return Backward(p_in=p, contribution=total, terms=tuple(terms))


@backward.register
def _(block: Residual, state: KernelState, p_out, dk_scale=1) -> Backward:
    block.kernel(state)  # the forward interpreter checks that the branch ends fresh
    branch = backward(block.branch, replace(state, fresh=False), p_out, dk_scale)
    terms = tuple((f"branch/{label}", value) for label, value in branch.terms)
    return Backward(p_in=p_out + branch.p_in, contribution=branch.contribution, terms=terms)


@singledispatch
def weight_matrices(block: Block) -> int:
    """Number of N x N weight matrices inside ``block`` (a Dense holds one)."""
    return sum(weight_matrices(child) for child in block.children())


@weight_matrices.register
def _(block: Dense) -> int:
    return 1


def count_params(arch: Architecture | str, depth: int, width: int, params: str = "all") -> int:
    """P: the number of weights the chosen block of F is taken over (see the module docstring)."""
    arch = get_architecture(arch)
    depth, width = _check_int(depth, "depth"), _check_int(width, "width")
    kind, _ = parse_params(params, depth)
    per_block = weight_matrices(arch.block) * width * width
    if kind == "all":
        return depth * per_block + width
    if kind == "readout":
        return width
    return per_block


# =============================================================== per-block NTK recursion
@dataclass(frozen=True)
class NTKRecursion:
    """The symbolic per-block maps of the NTK of an architecture.

    Generic state (q_a, q_b, q_ab, m) at the input of block l, incoming backward moment 1:
      forward:  the state at the block's output (QA, QB, QAB, M symbols);
      backward_factor: p_in / p_out;  contribution: the block's share of K_st/N per unit p_out;
      terms: the share of each weight matrix.
    One input at the population norm (q_l = m_l, closed form ``population``):
      backward_factor_single B0(l), contribution_single Tc0(l),
      backward_single p^l = prod_{j=l}^{L-1} B0(j) (p^L = 1),
      block_term_single T1(l, L) = Tc0(l) p^{l+1} (block l's share of kappa1),
      kappa1 = q^L + sum_{l<L} T1(l, L) in closed form (None if SymPy cannot sum it).
    Two inputs at the population norm and angle THETA at block l:
      angle_cos (cos theta_{l+1}), backward_factor_pair B(theta, l), contribution_pair Tc(theta, l).
    kappa2 has no closed form when the angle map is nonlinear (``kappa2_note`` says why).
    """

    architecture: str
    weight_matrices: int
    forward: KernelState
    backward_factor: sp.Expr
    contribution: sp.Expr
    terms: tuple
    population: sp.Expr | None
    backward_factor_single: sp.Expr | None
    contribution_single: sp.Expr | None
    backward_single: sp.Expr | None
    block_term_single: sp.Expr | None
    kappa1: sp.Expr | None
    angle_cos: sp.Expr
    backward_factor_pair: sp.Expr | None
    contribution_pair: sp.Expr | None
    kappa2: sp.Expr | None = None
    kappa2_note: str = ""

    def text(self) -> dict:
        s = lambda e: None if e is None else sp.sstr(e)
        return {
            "convention": "p = E[delta_s . delta_t] (full inner product), p^L = 1; "
                          "K_st/N = q^L_st + sum_W p^out(W)_st q^in(W)_st",
            "forward": {k: sp.sstr(getattr(self.forward, k)) for k in ("qa", "qb", "qab", "m")},
            "backward_factor": s(self.backward_factor),
            "contribution": s(self.contribution),
            "terms": {label: sp.sstr(value) for label, value in self.terms},
            "q_l": s(self.population),
            "backward_factor_single": s(self.backward_factor_single),
            "contribution_single": s(self.contribution_single),
            "p_l_single": s(self.backward_single),
            "block_term_single": s(self.block_term_single),
            "kappa1": s(self.kappa1),
            "angle_cos": s(self.angle_cos),
            "backward_factor_pair": s(self.backward_factor_pair),
            "contribution_pair": s(self.contribution_pair),
            "kappa2": s(self.kappa2),
            "kappa2_note": self.kappa2_note,
        }


def _generic_state(qa, qb, qab, m=M, gaussian=False) -> KernelState:
    """The input state; ``gaussian`` follows the architecture's ``gaussian_inputs``."""
    return KernelState(qa=qa, qb=qb, qab=qab, m=m, gaussian=gaussian, centred=True)


@lru_cache(maxsize=None)
def _symbolic_block(arch: Architecture, kind: str, dk_scale=DK_SCALE):
    """Forward output and Backward of one block for a generic / single / pair input state."""
    g = arch.gaussian_inputs
    if kind == "generic":
        s = _generic_state(QA, QB, QAB, gaussian=g)
    elif kind == "single":
        s = _generic_state(Q, Q, Q, gaussian=g)
    else:  # pair at norm Q and angle THETA
        s = _generic_state(Q, Q, Q * sp.cos(THETA), gaussian=g)
    return arch.block.kernel(s), backward(arch.block, s, sp.Integer(1), dk_scale)


def _simplify(expr):
    return sp.factor(sp.simplify(expr))


def _product_over_blocks(factor: sp.Expr) -> sp.Expr:
    """prod_{j=l}^{L-1} factor(j) in closed form."""
    value = sp.product(factor.subs(BLOCK_INDEX, _J), (_J, BLOCK_INDEX, DEPTH - 1))
    return sp.simplify(sp.gammasimp(value))


def _sum_blocks_to_depth(term: sp.Expr) -> sp.Expr | None:
    """sum_{l=0}^{L-1} term(l, L) in closed form, or None."""
    try:
        value = sum_over_blocks(term, DEPTH)
    except AnglefishError:
        value = None
    if value is None or value.has(sp.Sum):
        value = sp.summation(term, (BLOCK_INDEX, 0, DEPTH - 1))
        if value.has(sp.Sum):
            return None
    return sp.simplify(value)


def _kappa2_closed_form(arch: Architecture, fwd: KernelState, gen: Backward, pop):
    """kappa2 in closed form when the pair's maps are linear in q_ab (e.g. linear activations):
    q_ab,l from ``rsolve`` (q_ab,0 = 0), p_pair^l as a product, the block sum by summation.
    Returns (expr or None, note)."""
    nonlinear = ("no closed form: the pair's forward covariance is a nonlinear function of q_ab "
                 "(for ReLU, cos theta_(l+1) is the arc-cosine kernel of theta_l), so kappa2 is known "
                 "per depth (kappa_numeric) and as a large-L law (fisher_law)")
    one = {DK_SCALE: 1}
    exprs = (fwd.qab, sp.sympify(gen.contribution).subs(one))
    if pop is None or any(sp.simplify(sp.diff(e, QAB, 2)) != 0 for e in exprs) or \
            QAB in sp.sympify(gen.p_in).free_symbols:
        return None, nonlinear
    at = {QA: pop, QB: pop, M: pop}
    A = sp.simplify(sp.diff(fwd.qab, QAB).subs(at))
    B = sp.simplify(fwd.qab.subs(QAB, 0).subs(at))
    c = sp.Function("c")
    try:
        qab = sp.rsolve(c(BLOCK_INDEX + 1) - A * c(BLOCK_INDEX) - B, c(BLOCK_INDEX), {c(0): 0})
    except (ValueError, NotImplementedError, TypeError):
        qab = None
    if qab is None:
        return None, "no closed form: rsolve could not solve the pair's (linear) covariance recursion"
    p_pair = _product_over_blocks(sp.simplify(sp.sympify(gen.p_in).subs(one).subs(at)))
    share = sp.simplify(exprs[1].subs(QAB, qab).subs(at) * p_pair.subs(BLOCK_INDEX, BLOCK_INDEX + 1))
    total = _sum_blocks_to_depth(share)
    if total is None:
        return None, "no closed form: SymPy could not sum the pair's block shares"
    return sp.simplify(qab.subs(BLOCK_INDEX, DEPTH) + total), "closed form (the pair's maps are linear in q_ab)"


@lru_cache(maxsize=None)
def ntk_recursion(arch: Architecture | str) -> NTKRecursion:
    """Derive the per-block forward/backward maps of ``arch`` and kappa1 in closed form."""
    arch = get_architecture(arch)
    fwd, gen = _symbolic_block(arch, "generic")
    gen_f = replace(fwd, qa=sp.simplify(fwd.qa), qb=sp.simplify(fwd.qb), qab=sp.simplify(fwd.qab),
                    m=sp.simplify(fwd.m))
    one = {DK_SCALE: 1}
    pop = derive_maps(arch).population
    _, single = _symbolic_block(arch, "single")
    _, pair = _symbolic_block(arch, "pair")
    B0 = Tc0 = B = Tc = p_l = T1 = kappa1 = None
    if pop is not None:
        at_pop = {Q: pop, M: pop}
        B0 = _simplify(single.p_in.subs(one).subs(at_pop))
        Tc0 = _simplify(single.contribution.subs(one).subs(at_pop))
        B = _simplify(pair.p_in.subs(one).subs(at_pop))
        Tc = _simplify(pair.contribution.subs(one).subs(at_pop))
        p_l = _product_over_blocks(B0)
        T1 = sp.simplify(Tc0 * p_l.subs(BLOCK_INDEX, BLOCK_INDEX + 1))
        total = _sum_blocks_to_depth(T1)
        if total is not None:
            kappa1 = sp.simplify(pop.subs(BLOCK_INDEX, DEPTH) + total)
    kappa2, note = _kappa2_closed_form(arch, fwd, gen, pop)
    return NTKRecursion(
        architecture=arch.name, weight_matrices=weight_matrices(arch.block), forward=gen_f,
        backward_factor=sp.simplify(gen.p_in.subs(one)), contribution=sp.simplify(gen.contribution.subs(one)),
        terms=tuple((label, sp.simplify(v.subs(one))) for label, v in gen.terms),
        population=pop, backward_factor_single=B0, contribution_single=Tc0, backward_single=p_l,
        block_term_single=T1, kappa1=kappa1, angle_cos=derive_maps(arch).angle_cos,
        backward_factor_pair=B, contribution_pair=Tc, kappa2=kappa2, kappa2_note=note)


# =============================================================== input validation
def _check_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
        raise AnglefishError(f"{name} must be an integer >= {minimum}, got {value!r}")
    value = int(value.__index__()) if not isinstance(value, int) else value
    if value < minimum:
        raise AnglefishError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def parse_params(params: str, depth: int | None = None):
    """Parse a parameter selection.

    'all' -> ('all', None); 'layer:readout' -> ('readout', None); 'layer:K' -> ('block', K)
    with 0 <= K < depth; 'layer:first' -> ('block', 0); 'layer:last' -> ('block', depth - 1).
    Without a depth (laws), 'layer:first' and 'layer:last' stay symbolic: ('first', 0),
    ('last', None), and 'layer:K' means block K held fixed as L grows: ('block', K).
    """
    usage = "params must be 'all', 'layer:K' (0-based block), 'layer:first', 'layer:last' or 'layer:readout'"
    if not isinstance(params, str):
        raise AnglefishError(f"{usage}, got {params!r}")
    if params == "all":
        return "all", None
    if not params.startswith("layer:"):
        raise AnglefishError(f"{usage}, got {params!r}")
    tail = params[len("layer:"):]
    if tail == "readout":
        return "readout", None
    if tail == "first":
        return ("block", 0) if depth is not None else ("first", 0)
    if tail == "last":
        return ("block", depth - 1) if depth is not None else ("last", None)
    if tail.isascii() and tail.isdigit():
        k = int(tail)
        if depth is not None and k >= depth:
            raise AnglefishError(f"params 'layer:{k}' needs 0 <= K < depth = {depth} (0-based block index)")
        return "block", k
    raise AnglefishError(f"{usage}, got {params!r}")


# =============================================================== exact numbers per depth
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
            step = backward(arch.block, states[l], p, scale)
            sub = {BLOCK_INDEX: l, DEPTH: depth}
            shares[l] = sp.sympify(step.contribution).subs(sub)
            p = sp.sympify(step.p_in).subs(sub)
        thetas = tuple(sp.acos(s.qab / sp.sqrt(s.qa * s.qb)) for s in states)
        out[name] = (tuple(shares), states[-1].qab, thetas)
    return KappaTrajectory(depth, out["single"][0], out["pair"][0], out["single"][1], out["pair"][1],
                           out["pair"][2])


@lru_cache(maxsize=None)
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


@lru_cache(maxsize=64)
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


# =============================================================== Fisher spectrum
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


# =============================================================== large-depth laws
@dataclass(frozen=True)
class Scale:
    """f(L) ~ coefficient * base^L * L^power * (log L)^log_power as L -> oo."""

    base: sp.Expr
    power: sp.Expr
    log_power: sp.Expr
    coefficient: sp.Expr

    def leading(self, var=DEPTH) -> sp.Expr:
        return self.coefficient * self.base**var * var**self.power * sp.log(var) ** self.log_power

    @property
    def law_class(self) -> str:
        b, p, s = self.base, self.power, self.log_power
        if self.coefficient == 0:
            return "zero"
        if (b > 1) == sp.true:
            return "exponential"
        if (b < 1) == sp.true:
            return "exponentially decaying"
        if p == 0 and s == 0:
            return "constant"
        if p == 0:
            return "logarithmic" if (s > 0) == sp.true else "logarithmic decay"
        if p == 1 and s == 0:
            return "linear"
        if p == 1 and s == 1:
            return "L log L"
        return "power" if (p > 0) == sp.true else "power decay"

    def grows(self) -> bool:
        return bool((self.base > 1) == sp.true or (self.base == 1 and ((self.power > 0) == sp.true or (
            self.power == 0 and (self.log_power > 0) == sp.true))))

    def compare(self, other: "Scale") -> int:
        """-1, 0, 1 as self grows slower than, like, faster than ``other`` (coefficients aside)."""
        for a, b in ((sp.log(self.base), sp.log(other.base)), (self.power, other.power),
                     (self.log_power, other.log_power)):
            d = sp.simplify(a - b)
            if d != 0:
                return 1 if (d > 0) == sp.true else -1
        return 0

    def as_dict(self) -> dict:
        return {"base": sp.sstr(self.base), "power": sp.sstr(self.power),
                "log_power": sp.sstr(self.log_power), "coefficient": sp.sstr(self.coefficient)}


ZERO_SCALE = Scale(sp.Integer(1), sp.Integer(0), sp.Integer(0), sp.Integer(0))


def leading_scale(expr: sp.Expr, var: sp.Symbol = DEPTH) -> Scale:
    """The leading behaviour of a positive expression as ``var`` -> oo, by successive limits:
    base = exp(lim log f / x), power = lim log(f / base^x) / log x, log_power likewise with
    log log x, coefficient = the remaining limit (other symbols are parameters)."""
    expr = sp.sympify(expr)
    if expr == 0:
        return ZERO_SCALE
    f = expr.subs(var, _X).rewrite(sp.digamma)
    lim = lambda e: sp.limit(e, _X, sp.oo)
    rate = sp.simplify(lim(sp.log(f) / _X))
    g = sp.simplify(f * sp.exp(-rate * _X))
    power = sp.simplify(lim(sp.log(g) / sp.log(_X)))
    h = sp.simplify(g / _X**power)
    log_power = sp.simplify(lim(sp.log(h) / sp.log(sp.log(_X))))
    coefficient = sp.simplify(lim(h / sp.log(_X) ** log_power))
    for v in (rate, power, log_power, coefficient):
        if not (v.is_finite and v.is_real):
            raise AnglefishError(f"cannot find the leading behaviour of {sp.sstr(expr)} as {var} -> oo")
    return Scale(sp.simplify(sp.exp(rate)), power, log_power, coefficient)


def _sum_leading(summand: Scale, upper: sp.Expr = _LC):
    """Leading behaviour of sum_{x<upper} c b^x x^p (log x)^s (c may depend on ``upper``) as a
    SymPy expression in ``upper``; None if the sum converges (its value then depends on the
    first terms, where the leading form does not apply)."""
    c, b, p, s = summand.coefficient, summand.base, summand.power, summand.log_power
    if (b > 1) == sp.true:  # geometric: dominated by the last terms, sum_{x<upper} b^x ~ b^upper/(b-1)
        return c * b**upper * upper**p * sp.log(upper) ** s / (b - 1)
    if b != 1:
        return None
    if (p > -1) == sp.true:
        return c * upper ** (p + 1) * sp.log(upper) ** s / (p + 1)
    if p == -1 and (s > -1) == sp.true:
        return c * sp.log(upper) ** (s + 1) / (s + 1)
    return None


@dataclass(frozen=True)
class _PairAsymptotics:
    """The ingredients of the large-L law of the pair (kappa2)."""

    angle_law: sp.Expr  # Lambda(l): theta_l ~ Lambda(l)
    angle_class: str
    c: sp.Expr  # theta_{l+1} = theta_l - c(l) theta_l^2 + ...
    a: sp.Expr  # B(theta, l)/B0(l) = 1 - a(l) theta + ...
    nu: sp.Expr  # a / c (constant)
    local_limit: sp.Expr  # lim_{theta->0} Tc(theta, l)/Tc0(l)


@lru_cache(maxsize=None)
def _pair_asymptotics(arch: Architecture) -> _PairAsymptotics:
    rec = ntk_recursion(arch)
    if rec.backward_factor_pair is None:
        raise AnglefishError(f"{arch.name}: the population moment has no closed form; no depth law")
    law = depth_law(arch)
    if law.law_class not in ("power", "logarithmic"):
        raise AnglefishError(f"{arch.name}: the angle law is '{law.law_class}'; the kappa2 law is "
                             "derived only for angles that decay like a power or a logarithm")
    c = sp.simplify(-law.angle_series.coeff(THETA, 2))
    ratio = sp.simplify(rec.backward_factor_pair / rec.backward_factor_single)
    ser = sp.expand(sp.series(ratio, THETA, 0, 2).removeO())
    if sp.simplify(ser.coeff(THETA, 0) - 1) != 0:
        raise AnglefishError(f"{arch.name}: the pair's backward factor does not tend to the single one")
    a = sp.simplify(-ser.coeff(THETA, 1))
    nu = sp.simplify(a / c)
    if BLOCK_INDEX in nu.free_symbols or not (nu.is_positive):
        raise AnglefishError(f"{arch.name}: a(l)/c(l) = {sp.sstr(nu)} is not a positive constant; "
                             "no kappa2 law derived")
    local = sp.simplify(sp.limit(rec.contribution_pair / rec.contribution_single, THETA, 0))
    if local != 1:
        raise AnglefishError(f"{arch.name}: the pair's block share does not tend to the single one")
    return _PairAsymptotics(law.leading, law.law_class, c, a, nu, local)


@lru_cache(maxsize=None)
def _kappa_laws(arch: Architecture, kind: str, k: int | None):
    """(kappa1 closed form, kappa1 Scale, kappa2 Scale or None, derivation steps)."""
    rec = ntk_recursion(arch)
    if rec.block_term_single is None or rec.kappa1 is None:
        raise AnglefishError(f"{arch.name}: kappa1 has no closed form in L (population moment or "
                             "block sum not solved); no depth law")
    l, L = BLOCK_INDEX, DEPTH
    T1 = rec.block_term_single
    qL = sp.simplify(rec.population.subs(l, L))
    steps = [
        f"forward (one input, q^0 = 1): q_l = {sp.sstr(rec.population)}",
        f"backward (one input): p_in = B0(l) p_out with B0(l) = {sp.sstr(rec.backward_factor_single)}; "
        f"p^l = prod_(j=l)^(L-1) B0(j) = {sp.sstr(rec.backward_single)}",
        f"block l's share of kappa1: T1(l, L) = Tc0(l) p^(l+1) = {sp.sstr(rec.contribution_single)} * "
        f"p^(l+1) = {sp.sstr(T1)}",
    ]
    if kind == "all":
        kappa1 = rec.kappa1
        what = "kappa1 = q^L + sum_(l<L) T1(l, L)"
    elif kind == "readout":
        kappa1, what = qL, "readout: kappa1 = q^L"
    elif kind == "last":
        kappa1, what = sp.simplify(T1.subs(l, L - 1)), "last block (K = L-1): kappa1 = T1(L-1, L)"
    else:
        kappa1, what = sp.simplify(T1.subs(l, k)), f"block K = {k} held fixed: kappa1 = T1({k}, L)"
    s1 = leading_scale(kappa1)
    steps.append(f"{what} = {sp.sstr(kappa1)}  ~  {sp.sstr(s1.leading())}")
    if kind == "all" and rec.kappa2 is not None:
        s2 = leading_scale(rec.kappa2)
        steps.append(f"kappa2 in closed form: {sp.sstr(rec.kappa2)}  ~  {sp.sstr(s2.leading())}")
        return kappa1, s1, s2, steps
    try:
        pa = _pair_asymptotics(arch)
    except AnglefishError as err:
        steps.append(f"kappa2: no large-L law derived ({err})")
        return kappa1, s1, None, steps
    steps += [
        f"angle (orthogonal inputs): theta_(l+1) = theta_l - c(l) theta_l^2 + ..., c(l) = {sp.sstr(pa.c)}; "
        f"theta_l ~ {sp.sstr(pa.angle_law)} ({pa.angle_class}, from depth_law)",
        f"pair backward: B(theta, l)/B0(l) = 1 - a(l) theta + O(theta^2), a(l) = {sp.sstr(pa.a)}; "
        f"nu = a/c = {sp.sstr(pa.nu)}, so prod_(j=l+1)^(L-1) B/B0 = C_l (theta_L/theta_(l+1))^nu "
        "with C_l -> 1 as l -> oo (the O(theta^2) remainders are summable)",
        "pair block share: Tc(theta, l)/Tc0(l) -> 1 as theta -> 0, so block l's share of kappa2 is "
        "T2(l, L) = T1(l, L) (theta_L/theta_l)^nu (1 + o(1)) for large l",
    ]
    Lam = lambda v: pa.angle_law.subs(l, v)
    if kind == "all":
        summand = leading_scale(T1.subs(L, _LC).subs(l, _X) * Lam(_X) ** (-pa.nu), _X)
        total = _sum_leading(summand)
        if total is None:
            steps.append("kappa2: the sum over blocks converges, so its law depends on the first blocks "
                         "(where theta is not small); no law derived")
            return kappa1, s1, None, steps
        s2 = leading_scale((qL.subs(L, _LC) + Lam(_LC) ** pa.nu * total).subs(_LC, L))
        steps.append(
            f"kappa2 = q^L cos theta_L + sum_l T2(l, L) ~ q^L + Lambda(L)^nu sum_l T1(l, L) Lambda(l)^(-nu); "
            f"the summand ~ {sp.sstr(summand.leading(l))}, the sum ~ {sp.sstr(total.subs(_LC, L))} "
            f"(a divergent sum is dominated by large l, where the approximations hold); "
            f"kappa2 ~ {sp.sstr(s2.leading())}")
    elif kind in ("readout", "last"):
        s2 = s1
        steps.append("kappa2 = kappa1 (1 + o(1)): the pair's share at the readout / last block differs "
                     "from the single input's by a factor that tends to 1 as theta_L -> 0")
    else:
        head = None  # Tc(theta_K, K) at the exact input angle is known in closed form for K = 0
        if k == 0:
            head = sp.simplify(rec.contribution_pair.subs(l, 0).subs(THETA, sp.pi / 2))
        if head == 0:
            s2 = ZERO_SCALE
            steps.append("kappa2 = 0 exactly: block 0's weights see the orthogonal inputs (Tc(pi/2, 0) = 0)")
        else:
            ck = sp.Symbol(f"C_{k}", positive=True)
            s2 = leading_scale(ck * kappa1 * Lam(L) ** pa.nu)
            steps.append(f"kappa2 = Tc(theta_{k}, {k}) p^({k}+1)_pair ~ C_{k} T1({k}, L) theta_L^nu = "
                         f"{sp.sstr(s2.leading())} with a trajectory constant C_{k} > 0")
    return kappa1, s1, s2, steps


def _law_dict(scale: Scale, what: str) -> dict:
    return {"quantity": what, "class": scale.law_class, "leading": sp.sstr(scale.leading()),
            "scale": scale.as_dict()}


@lru_cache(maxsize=None)
def _fisher_law(arch: Architecture, params: str) -> dict:
    kind, k = parse_params(params)
    if kind == "first":
        kind, k = "block", 0
    rec = ntk_recursion(arch)
    kappa1, s1, s2, steps = _kappa_laws(arch, kind, k)
    steps = list(steps)
    T = SAMPLES
    if s2 is not None and s1.compare(s2) < 0:
        raise AnglefishError(f"{arch.name}: kappa2 grows faster than kappa1, impossible for a Gram matrix")
    if s2 is None:
        c = sp.Symbol("c_T", positive=True)
        lam = Scale(s1.base, s1.power, s1.log_power, c)
        how = (f"without a kappa2 law only the class is known; c_T lies between {sp.sstr(s1.coefficient / T)} "
               f"and {sp.sstr(s1.coefficient)}")
    elif s2.coefficient == 0 or s1.compare(s2) > 0:
        lam = Scale(s1.base, s1.power, s1.log_power, sp.simplify(s1.coefficient / T))
        how = "kappa2 = o(kappa1), so lambda_max/N ~ kappa1/T"
    else:
        coeff = sp.factor(sp.simplify(s1.coefficient / T + (T - 1) / T * s2.coefficient))
        lam = Scale(s1.base, s1.power, s1.log_power, coeff)
        how = "kappa1 and kappa2 have the same order, so lambda_max/N ~ (lead kappa1 + (T-1) lead kappa2)/T"
    steps.append(f"lambda_max/N = kappa1/T + (T-1)/T kappa2 (orthogonal inputs, kappa2 >= 0); {how}: "
                 f"{sp.sstr(lam.leading())}")
    steps.append("class without the kappa2 law: 0 <= kappa2 <= kappa1 (K is a Gram matrix, so "
                 "kappa2 <= kappa1; kappa2 >= 0 is checked at the accuracy depths), hence "
                 "kappa1/T <= lambda_max/N <= kappa1 and lambda_max/N has the class of kappa1 "
                 f"({s1.law_class}) for every fixed T")
    n_w = rec.weight_matrices
    if kind == "all":
        mean = Scale(s1.base, s1.power - 1, s1.log_power, sp.simplify(s1.coefficient / n_w))
        mean_q = "N * m_lambda (N -> oo; P = L n_W N^2 + N)"
        steps.append(f"m_lambda = N kappa1 / P with P = {n_w} L N^2 + N: N m_lambda -> kappa1 / ({n_w} L) ~ "
                     f"{sp.sstr(mean.leading())}")
    elif kind == "readout":
        mean = s1
        mean_q = "m_lambda (P = N: the readout block's mean eigenvalue is kappa1 = q^L, not O(1/N))"
        steps.append(f"readout block: P = N, m_lambda = kappa1 = q^L ~ {sp.sstr(mean.leading())}")
    else:
        mean = Scale(s1.base, s1.power, s1.log_power, sp.simplify(s1.coefficient / n_w))
        mean_q = f"N * m_lambda (P = {n_w} N^2)"
        steps.append(f"one block: P = {n_w} N^2, N m_lambda = kappa1 / {n_w} ~ {sp.sstr(mean.leading())}")
    eta = Scale(sp.simplify(1 / lam.base), -lam.power, -lam.log_power, sp.simplify(2 / lam.coefficient))
    steps.append(f"eta_max = 2 / lambda_max: N eta_max ~ {sp.sstr(eta.leading())}")
    reading = {"all": "all weights", "readout": "the readout v only",
               "last": "the weights of the last block, K = L - 1, as L grows",
               "block": f"the weights of block K = {k}, held fixed as L grows"}[kind]
    return {
        "architecture": arch.name, "params": params, "reading": reading,
        "quantity": "lambda_max / N (N -> oo, T inputs)",
        "class": lam.law_class, "leading": sp.sstr(lam.leading()), "scale": lam.as_dict(),
        "kappa1": {**_law_dict(s1, "kappa1"), "closed_form": sp.sstr(kappa1)},
        "kappa2": {**(_law_dict(s2, "kappa2") if s2 is not None else
                      {"quantity": "kappa2", "class": "not derived", "leading": None, "scale": None}),
                   "closed_form": None, "note": rec.kappa2_note},
        "mean_eigenvalue": _law_dict(mean, mean_q),
        "eta_max": _law_dict(eta, "N * eta_max"),
        "steps": steps,
        "bounds": "kappa1/T <= lambda_max/N <= kappa1",
    }


def fisher_law(arch: Architecture | str, params: str = "all") -> dict:
    """The large-L law of lambda_max / N (and of kappa1, kappa2, m_lambda, eta_max).

    ``params``: 'all'; 'layer:first' (block 0), 'layer:K' (block K held fixed as L grows);
    'layer:last' (block L-1, moving with L); 'layer:readout' (v).  Keys: ``class``
    ('constant', 'logarithmic', 'linear', 'L log L', 'power', 'exponential', 'decaying', ...),
    ``leading`` (SymPy string in L and T = number of inputs), ``scale`` (base^L L^power
    (log L)^log_power times coefficient), the laws of ``kappa1``, ``kappa2``,
    ``mean_eigenvalue`` and ``eta_max``, and the derivation ``steps``.
    """
    arch = get_architecture(arch)
    parse_params(params)
    return _fisher_law_with_accuracy(arch, params)


@lru_cache(maxsize=None)
def _fisher_law_with_accuracy(arch: Architecture, params: str) -> dict:
    from .accuracy import law_accuracy

    law = _fisher_law(arch, params)
    return {**law, "accuracy": law_accuracy(arch, params, law=law)}


def law_value(law_entry: dict, depth: int, samples: int | None = None, dps: int = DEFAULT_DPS):
    """A law's leading expression (a ``fisher_law`` entry) at a depth (and T), as an mpmath
    number (no float overflow for exponential laws)."""
    expr = sp.sympify(law_entry["leading"], locals={"L": DEPTH, "T": SAMPLES})
    sub = {DEPTH: depth}
    if samples is not None:
        sub[SAMPLES] = samples
    value = expr.subs(sub)
    if value.free_symbols:
        raise AnglefishError(f"the law {law_entry['leading']} has free symbols "
                             f"{sorted(map(str, value.free_symbols))} at L = {depth}")
    with mpmath.workdps(dps):
        return mpmath.mpf(sp.N(value, dps)._to_mpmath(mpmath.mp.prec))


__all__ = ["equicorrelated_spectrum", "Backward", "KappaTrajectory", "NTKRecursion", "Scale", "backward", "count_params",
           "fisher_law", "fisher_theory", "forward_trace", "kappa_exact", "kappa_numeric",
           "law_value", "leading_scale", "ntk_recursion", "parse_params", "weight_matrices",
           "DK_SCALE", "SAMPLES", "WIDTH"]
