"""Per-block recursions of an architecture, derived by the symbolic interpreter.

For two inputs a, b with equal per-unit second moment q and angle theta, pushing the
state (q, q, q cos theta; population moment m) through the repeated block gives

* the population recursion  m_{l+1} = G(m_l), m_0 = 1  (solved with ``rsolve``),
* the norm map              q_{l+1} = F(q_l; l)       (m replaced by its solution),
* the angle map             cos theta_{l+1} = C(theta_l; l).

The angle map is stated for a pair drawn from the input population (per-coordinate
variance 1, so q_l = m_l), which is the setting of the paper's Theorems 2, 5 and 6.
Depth is 0-based: block l maps the state at depth l to depth l + 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .activations import THETA
from .architectures import Architecture, get_architecture
from .blocks import BLOCK_INDEX, DEPTH, KernelState
from .cache import memoize

#: per-unit second moment of each input of the pair
Q = sp.Symbol("q", positive=True)
#: population per-unit second moment
M = sp.Symbol("m", positive=True)


@dataclass(frozen=True)
class BlockMaps:
    """The one-block maps of an architecture (all SymPy).

    population_map: G(m), the population second moment after one block.
    population: m_l in closed form (m_0 = 1), or None if ``rsolve`` finds none.  When G does
        not depend on m (the block normalises first, e.g. ``mlp-bn``), m_l = G holds for
        l >= 1 only; ``log_q`` is then 0 at l = 0 and the norm map (which reads m_l) holds
        for l >= 1 (``norm_map_from`` = 1).
    norm_map: q_{l+1} as an expression in ``Q`` and ``l`` (for one input of any norm).
    norm_ratio: q_{l+1}/q_l when it does not depend on q (else None).
    angle_cos: cos theta_{l+1} as an expression in ``THETA`` and ``l``.
    log_q: log q_l in closed form for a pair at the population norm (q_0 = 1), or None.
    """

    architecture: str
    population_map: sp.Expr
    population: sp.Expr | None
    norm_map: sp.Expr
    norm_ratio: sp.Expr | None
    angle_cos: sp.Expr
    log_q: sp.Expr | None
    angle_cos_raw: sp.Expr | None = None  # the same map before collecting terms (faster to expand)
    norm_map_from: int = 0  # first block index at which norm_map holds

    @property
    def angle_map(self) -> sp.Expr:
        """theta_{l+1} = arccos C(theta_l; l)."""
        return sp.acos(self.angle_cos)

    @property
    def depends_on_block_index(self) -> bool:
        return BLOCK_INDEX in self.angle_cos.free_symbols or (
            self.norm_ratio is not None and BLOCK_INDEX in self.norm_ratio.free_symbols)

    def latex(self) -> dict:
        q_l, q_n = sp.Symbol("q_{l}"), sp.Symbol("q_{l+1}")
        th_l, th_n = sp.Symbol(r"\theta_{l}"), sp.Symbol(r"\theta_{l+1}")
        norm = sp.latex(sp.Eq(q_n, self.norm_map.subs(Q, q_l)))
        angle = sp.latex(sp.Eq(sp.cos(th_n), self.angle_cos.subs(THETA, th_l)))
        return {"norm_map": norm, "angle_map": angle}

    def text(self) -> dict:
        norm = f"q_{{l+1}} = {sp.sstr(self.norm_map.subs(Q, sp.Symbol('q_l')))}"
        if self.norm_map_from:
            norm += f" for l >= {self.norm_map_from} (block 0 reads the input's population moment 1)"
        angle = f"cos(theta_{{l+1}}) = {sp.sstr(self.angle_cos.subs(THETA, sp.Symbol('theta_l')))}"
        return {"norm_map": norm, "angle_map": angle}


def _nice(expr: sp.Expr) -> sp.Expr:
    """A readable canonical form: collect over cos/sin of theta after simplification."""
    expr = sp.expand(sp.simplify(expr))
    parts = sp.collect(expr, [sp.cos(THETA), sp.sin(THETA)], evaluate=False)
    return sp.Add(*(sp.factor(coeff) * term for term, coeff in parts.items()))


def solve_population(G: sp.Expr) -> sp.Expr | None:
    """Solve m_{l+1} = G(m_l), m_0 = 1 in closed form (None when ``rsolve`` cannot)."""
    if M not in G.free_symbols:
        return sp.simplify(G)  # constant after the first block
    m = sp.Function("m")
    try:
        sol = sp.rsolve(m(BLOCK_INDEX + 1) - G.subs(M, m(BLOCK_INDEX)), m(BLOCK_INDEX), {m(0): 1})
    except (ValueError, NotImplementedError, TypeError):  # rsolve raises these on nonlinear maps
        return None
    if sol is None:
        return None
    return sp.simplify(sol)


def derive_maps(arch: Architecture | str) -> BlockMaps:
    """Run the symbolic interpreter on one block of ``arch`` (a registered name or an Architecture;
    results are remembered per Architecture object, so re-registering a name re-derives)."""
    return _derive_maps(get_architecture(arch))


@memoize(disk=True)
def _derive_maps(arch: Architecture) -> BlockMaps:
    g = arch.gaussian_inputs
    s0 = KernelState(qa=Q, qb=Q, qab=Q * sp.cos(THETA), m=M, gaussian=g, centred=True)
    s1 = arch.block.kernel(s0)
    G = sp.simplify(s1.m)
    population = solve_population(G)
    # a single input of any norm q: its own second moment after one block
    single = arch.block.kernel(KernelState(qa=Q, qb=Q, qab=Q, m=M, gaussian=g, centred=True))
    norm_map = single.qa
    cos_next = sp.cancel(s1.qab / s1.qa)
    cos_next = sp.cancel(cos_next.subs(Q, M))  # the pair is drawn from the input population
    if population is not None:
        norm_map = norm_map.subs(M, population)
        if M in cos_next.free_symbols:  # only population BN (or non-homogeneous maps) keep m
            cos_next = cos_next.subs(M, population)
    norm_map = sp.factor(sp.simplify(norm_map))
    ratio = sp.simplify(norm_map / Q)
    norm_ratio = ratio if Q not in ratio.free_symbols else None
    raw = sp.cancel(cos_next)
    angle_cos = _nice(cos_next) if not raw.has(sp.acos) else raw
    log_q = None
    from_block = 0
    if population is not None:
        log_q = sp.expand_log(sp.log(population), force=True)
        if M not in G.free_symbols and sp.simplify(population - 1) != 0:
            # m_l = G for l >= 1 only: the input keeps m_0 = 1 (e.g. a plain MLP with BN)
            log_q = sp.Piecewise((sp.Integer(0), sp.Eq(BLOCK_INDEX, 0)), (log_q, True))
            from_block = 1 if single.qa.has(M) else 0
    return BlockMaps(arch.name, G, population, norm_map, norm_ratio, angle_cos, log_q, raw, from_block)


__all__ = ["BlockMaps", "derive_maps", "solve_population", "Q", "M", "THETA", "BLOCK_INDEX", "DEPTH"]
