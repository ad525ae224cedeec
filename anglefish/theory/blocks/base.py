"""The block base class: what a block *is* (data) and the rules every block type must provide.

An architecture is a block list, and the block list is its only definition.  Every interpreter of
anglefish reads it through the *rules* of the block types, and each block type keeps all its rules
together, in its own class (one module per type in this package):

theory (SymPy, infinite width)
    ``kernel(state)``                 second moments of a pair, :class:`KernelState` -> KernelState
    ``ntk_backward(state, p_out, dk_scale)``  backward moment and the block's NTK share -> :class:`Backward`
    ``weight_count()``                number of N x N weight matrices inside
    ``pair_supported()`` / ``pair_step(q, d, log_m, l, depth)``
                                      the stable numeric pair map (gap d = q - q_ab carried without
                                      cancellation); supported only for positively homogeneous maps
    ``finite_width(state)``           the O(1/N) moment closure (:mod:`anglefish.theory.finite_width`):
                                      mean, shift and covariance of the empirical second moments
numeric (numpy, finite width)
    ``needs_units()`` / ``gram_step(sig, ctx, need_units)``
                                      the exact Gram sampler (:mod:`anglefish.numeric.simulate`)
    ``init(n_in, ctx)``               draw the block's weights for ``ctx`` (returns the output width)
    ``forward(h, log_m, ctx)``        the dense network (:mod:`anglefish.numeric.network`): true values
                                      (S, N, T) -> (values, log population moment, cache)
    ``backward(cache, g, ctx)``       its vector-Jacobian product, cotangent (S, R, N, T)
    ``homogeneous()``                 is the block positively homogeneous of degree 1 in its input?
                                      (then a simulator may rescale the signal per network)

:func:`register_block` refuses a block type that lacks a rule, naming the missing ones, and an
:class:`~anglefish.theory.architectures.Architecture` refuses blocks of an incomplete type: a block
type is complete or refused.  A rule may still refuse a *particular* block (e.g. mini-batch BN has no
closed kernel map) with an AnglefishError; a check that needs that rule is then reported as not run,
with the reason, never as passed.

Conventions: second moments are per unit (q_a = E h_i(a)^2); ``Dense(v)`` draws W_ij ~ N(0, v /
fan_in); ``m`` is the population per-unit second moment (for population BN); depth is 0-based, and a
block parameter may use the symbols :data:`BLOCK_INDEX` (l) and :data:`DEPTH` (L).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from functools import lru_cache

import sympy as sp

from ...errors import AnglefishError

#: 0-based index of the repeated block (the paper's l).
BLOCK_INDEX = sp.Symbol("l", integer=True, nonnegative=True)
#: Number of repeated blocks (the depth L).
DEPTH = sp.Symbol("L", integer=True, positive=True)

#: every rule a block type must define (see the module docstring)
RULES = ("kernel", "ntk_backward", "weight_count", "pair_supported", "pair_step", "finite_width", "needs_units",
         "gram_step", "init", "forward", "backward", "homogeneous")


@dataclass(frozen=True)
class KernelState:
    """Second moments of two inputs at one point of an infinitely wide network.

    qa, qb, qab: per-unit second moments E h(a)^2, E h(b)^2, E h(a) h(b).
    m: population per-unit second moment at this point (for population batch norm).
    gaussian: the per-unit values are jointly Gaussian (true right after a Dense).
    centred: the per-unit values have mean zero over the weights.
    fresh: the values are a zero-mean function of weights drawn after everything upstream (right
        after a Dense, kept by scalings and odd activations); a residual branch must end fresh so
        that skip and branch are uncorrelated.
    """

    qa: sp.Expr
    qb: sp.Expr
    qab: sp.Expr
    m: sp.Expr
    gaussian: bool = False
    centred: bool = True
    fresh: bool = False

    def map(self, f) -> "KernelState":
        """Apply ``f`` to all four second moments."""
        return replace(self, qa=f(self.qa), qb=f(self.qb), qab=f(self.qab), m=f(self.m))


@dataclass(frozen=True)
class Backward:
    """One block's NTK backward step for an incoming backward moment p_out (see anglefish.theory.ntk).

    p_in: backward moment at the block's input.
    contribution: sum over the weight matrices inside the block of p^{out(W)}_st q^{in(W)}_st
        (the block's share of K_st / N).
    terms: one (label, p^{out(W)} q^{in(W)}) per weight matrix, in forward order.
    """

    p_in: sp.Expr
    contribution: sp.Expr
    terms: tuple = ()


class Block:
    """Base class of all blocks.  Subclasses are frozen dataclasses and define every rule of
    :data:`RULES` (the module docstring says what each one does)."""

    #: one-line description shown by ``anglefish list``
    summary: str = ""

    # ---- structure
    def children(self) -> tuple["Block", ...]:
        return ()

    def walk(self):
        """This block and all blocks inside it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()

    # ---- the rules (each block type overrides all of them)
    def kernel(self, state: KernelState) -> KernelState:
        raise NotImplementedError

    def ntk_backward(self, state: KernelState, p_out, dk_scale=1) -> Backward:
        raise NotImplementedError

    def weight_count(self) -> int:
        raise NotImplementedError

    def pair_supported(self) -> bool:
        raise NotImplementedError

    def pair_step(self, q, d, log_m: float, l: int, depth: int):
        raise NotImplementedError

    def finite_width(self, state):
        raise NotImplementedError

    def needs_units(self) -> bool:
        raise NotImplementedError

    def gram_step(self, sig, ctx, need_units: bool = True):
        raise NotImplementedError

    def init(self, n_in: int, ctx) -> int:
        raise NotImplementedError

    def forward(self, h, log_m: float, ctx):
        raise NotImplementedError

    def backward(self, cache, g, ctx):
        raise NotImplementedError

    def homogeneous(self) -> bool:
        raise NotImplementedError

    def __repr__(self):  # compact, round-trippable look: Dense(2), Residual(Dense(2), ReLU())
        args = [repr(getattr(self, f.name)) for f in dataclasses.fields(self)] if dataclasses.is_dataclass(self) else []
        return f"{type(self).__name__}({', '.join(args)})"


def missing_rules(cls: type) -> list:
    """The rules of :data:`RULES` that block type ``cls`` does not define."""
    return [rule for rule in RULES if getattr(cls, rule, None) is getattr(Block, rule)]


def check_complete(cls: type) -> type:
    """Raise AnglefishError naming the missing rules unless ``cls`` defines every rule."""
    if not (isinstance(cls, type) and issubclass(cls, Block)):
        raise AnglefishError(f"a block type must subclass anglefish.theory.Block, got {cls!r}")
    missing = missing_rules(cls)
    if missing:
        raise AnglefishError(f"block type {cls.__name__} lacks the rules {', '.join(missing)}; every block type "
                             "defines all of them (see anglefish.theory.blocks.base and docs/extending.md)")
    return cls


_BLOCK_TYPES: dict[str, type] = {}


def register_block(cls: type) -> type:
    """Class decorator: check that the block type is complete and list it in ``anglefish list``."""
    check_complete(cls)
    _BLOCK_TYPES[cls.__name__] = cls
    from ..cache import clear_caches

    clear_caches()
    return cls


def block_types() -> dict[str, type]:
    return dict(_BLOCK_TYPES)


def as_expr(value, what: str) -> sp.Expr:
    """A block parameter as an exact SymPy expression (floats become rationals)."""
    try:
        expr = sp.sympify(value)
    except (sp.SympifyError, TypeError):
        raise AnglefishError(f"{what} must be a number or SymPy expression, got {value!r}") from None
    if isinstance(value, float):
        expr = sp.nsimplify(value, rational=True)
    return expr


def block_value(expr, block_index: int, depth: int) -> float:
    """A block parameter (a number or an expression in l and L) at block ``block_index`` of a network
    of ``depth`` blocks, as a float: the one evaluator every interpreter uses (remembered: the forward
    pass asks for the same values at every step of gradient descent)."""
    try:
        return _remembered_value(expr, block_index, depth)
    except TypeError:  # an unhashable parameter: evaluated every time
        return _value(expr, block_index, depth)


@lru_cache(maxsize=4096)
def _remembered_value(expr, block_index: int, depth: int) -> float:
    return _value(expr, block_index, depth)


def _value(expr, block_index: int, depth: int) -> float:
    if getattr(expr, "free_symbols", None):
        expr = expr.subs({BLOCK_INDEX: block_index, DEPTH: depth})
        if expr.free_symbols:
            raise AnglefishError(f"block parameter {expr} depends on symbols other than l and L")
    return float(expr)


__all__ = ["BLOCK_INDEX", "DEPTH", "RULES", "Backward", "Block", "KernelState", "as_expr", "block_types",
           "block_value", "check_complete", "missing_rules", "register_block"]
