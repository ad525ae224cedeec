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

Each block type's NTK rules live with the type (``Block.ntk_backward``, ``Block.weight_count``,
:mod:`anglefish.theory.blocks`); this module only interprets them.  The numbers per depth are in
:mod:`.kappas`, the Fisher spectrum at a depth in :mod:`.fisher_theory`, the large-L laws in
:mod:`.fisher_laws` (the growth-law class :class:`~.asymptotics.GrowthLaw` in :mod:`.asymptotics`);
their names are also reachable from here.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from ..errors import AnglefishError
from .activations import THETA
from .architectures import Architecture, get_architecture
from .asymptotics import sum_over_blocks
from .blocks import BLOCK_INDEX, DEPTH, Backward, KernelState
from .cache import memoize
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


# =============================================================== parameters
def count_params(arch: Architecture | str, depth: int, width: int, params: str = "all") -> int:
    """P: the number of weights the chosen block of F is taken over (see the module docstring)."""
    arch = get_architecture(arch)
    depth, width = _check_int(depth, "depth"), _check_int(width, "width")
    kind, _ = parse_params(params, depth)
    per_block = arch.block.weight_count() * width * width
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


@memoize(disk=True)
def _symbolic_block(arch: Architecture, kind: str, dk_scale=DK_SCALE):
    """Forward output and Backward of one block for a generic / single / pair input state."""
    g = arch.gaussian_inputs
    if kind == "generic":
        s = _generic_state(QA, QB, QAB, gaussian=g)
    elif kind == "single":
        s = _generic_state(Q, Q, Q, gaussian=g)
    else:  # pair at norm Q and angle THETA
        s = _generic_state(Q, Q, Q * sp.cos(THETA), gaussian=g)
    return arch.block.kernel(s), arch.block.ntk_backward(s, sp.Integer(1), dk_scale)


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


def ntk_recursion(arch: Architecture | str) -> NTKRecursion:
    """Derive the per-block forward/backward maps of ``arch`` and kappa1 in closed form."""
    return _ntk_recursion(get_architecture(arch))


@memoize(disk=True)
def _ntk_recursion(arch: Architecture) -> NTKRecursion:
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
        architecture=arch.name, weight_matrices=arch.block.weight_count(), forward=gen_f,
        backward_factor=sp.simplify(gen.p_in.subs(one)), contribution=sp.simplify(gen.contribution.subs(one)),
        terms=tuple((label, sp.simplify(v.subs(one))) for label, v in gen.terms),
        population=pop, backward_factor_single=B0, contribution_single=Tc0, backward_single=p_l,
        block_term_single=T1, kappa1=kappa1, angle_cos=derive_maps(arch).angle_cos,
        backward_factor_pair=B, contribution_pair=Tc, kappa2=kappa2, kappa2_note=note)


# =============================================================== input validation
from ..validation import check_int as _check_int  # noqa: E402  (the one integer validator)


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



# names that moved to the modules of their own job, still reachable from here
_MOVED = {
    "KappaTrajectory": "kappas", "kappa_exact": "kappas", "kappa_numeric": "kappas",
    "equicorrelated_spectrum": "fisher_theory", "fisher_theory": "fisher_theory",
    "fisher_law": "fisher_laws", "law_value": "fisher_laws",
    "GrowthLaw": "asymptotics", "leading_scale": "asymptotics",
}


def __getattr__(name):  # PEP 562: lazy, so that those modules may import this one
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f".{_MOVED[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Backward", "DK_SCALE", "DEFAULT_DPS", "NTKRecursion", "SAMPLES", "WIDTH", "count_params", "ntk_recursion",
           "parse_params", *_MOVED]
