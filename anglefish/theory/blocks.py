"""Blocks: the data an architecture is made of, and their symbolic kernel maps.

A block is a frozen dataclass.  Its :meth:`Block.kernel` pushes a
:class:`KernelState` (the second moments of two inputs a, b at one point of the
network, in the infinite-width limit) through the block as SymPy expressions.  The
numeric interpreters (``anglefish.numeric``) dispatch on the same classes, so a new
block type plugs in by subclassing :class:`Block` and registering its numeric
implementations -- no interpreter is edited.

Conventions
-----------
* All second moments are **per unit**: q_a = E[h_i(a)^2], q_ab = E[h_i(a) h_i(b)]
  (= E||h||^2 / N of the paper, whose N is constant through the network).
* ``Dense(v)`` draws W_ij ~ N(0, v / fan_in) with no bias.
* ``m`` is the *population* second moment per unit at the same point: the second
  moment over inputs (per-coordinate variance 1 at the input) and weights.  The
  population batch norm divides by sqrt(m) -- the paper's proof of its Theorem 6.
* Depth-dependent blocks may use the symbols :data:`BLOCK_INDEX` (``l``, 0-based
  index of the repeated block) and :data:`DEPTH` (``L``, number of blocks).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace

import sympy as sp

from ..errors import AnglefishError
from .activations import RELU, Activation, get_activation

#: 0-based index of the repeated block (the paper's l).
BLOCK_INDEX = sp.Symbol("l", integer=True, nonnegative=True)
#: Number of repeated blocks (the depth L).
DEPTH = sp.Symbol("L", integer=True, positive=True)


@dataclass(frozen=True)
class KernelState:
    """Second moments of two inputs at one point of an infinitely wide network.

    qa, qb, qab: per-unit second moments E h(a)^2, E h(b)^2, E h(a) h(b).
    m: population per-unit second moment at this point (for population batch norm).
    gaussian: the per-unit values are jointly Gaussian (true right after a Dense).
    centred: the per-unit values have mean zero over the weights.
    fresh: the values are a zero-mean function of weights drawn after everything
        upstream (right after a Dense, kept by scalings and odd activations); a
        residual branch must end fresh so that skip and branch are uncorrelated.
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


class Block:
    """Base class of all blocks.  Subclasses are frozen dataclasses."""

    #: one-line description shown by ``anglefish list``
    summary: str = ""

    def kernel(self, state: KernelState) -> KernelState:  # pragma: no cover - interface
        raise NotImplementedError(f"{type(self).__name__} has no kernel map")

    def children(self) -> tuple["Block", ...]:
        return ()

    def walk(self):
        """This block and all blocks inside it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()

    def __repr__(self):  # compact, round-trippable look: Dense(2), Residual(Dense(2), ReLU())
        args = [repr(getattr(self, f.name)) for f in dataclasses.fields(self)] if dataclasses.is_dataclass(self) else []
        return f"{type(self).__name__}({', '.join(args)})"


_BLOCK_TYPES: dict[str, type] = {}


def register_block(cls: type) -> type:
    """Class decorator: list a block type in ``anglefish list``.  No interpreter is edited."""
    if not (isinstance(cls, type) and issubclass(cls, Block)):
        raise AnglefishError("register_block decorates subclasses of anglefish.theory.Block")
    _BLOCK_TYPES[cls.__name__] = cls
    return cls


def block_types() -> dict[str, type]:
    return dict(_BLOCK_TYPES)


def _as_expr(value, what: str) -> sp.Expr:
    try:
        expr = sp.sympify(value)
    except (sp.SympifyError, TypeError):
        raise AnglefishError(f"{what} must be a number or SymPy expression, got {value!r}") from None
    if isinstance(value, float):
        expr = sp.nsimplify(value, rational=True)
    return expr


@register_block
@dataclass(frozen=True, repr=False)
class Dense(Block):
    """Fully connected layer without bias, W_ij ~ N(0, variance / fan_in).

    Kernel: q -> variance * q for every second moment; the output is Gaussian, centred
    and fresh (drawn after everything upstream).
    """

    variance: sp.Expr = sp.Integer(1)
    summary = "h -> W h, W_ij ~ N(0, variance/fan_in), no bias"

    def __post_init__(self):
        v = _as_expr(self.variance, "Dense variance")
        if v.is_number and not (v.is_positive):
            raise AnglefishError(f"Dense variance must be positive, got {v}")
        object.__setattr__(self, "variance", v)

    def kernel(self, s):
        v = self.variance
        return KernelState(qa=v * s.qa, qb=v * s.qb, qab=v * s.qab, m=v * s.m,
                           gaussian=True, centred=True, fresh=True)

    def __repr__(self):
        return f"Dense({self.variance})"


@register_block
@dataclass(frozen=True, repr=False)
class Act(Block):
    """Elementwise activation phi, given by name or as an :class:`Activation`.

    Kernel: (q_a, q_b, q_ab) -> (E phi(u)^2, E phi(v)^2, E phi(u) phi(v)) for the
    Gaussian pair (u, v); needs a jointly Gaussian input (put a Dense before it).
    """

    activation: Activation = RELU
    summary = "h -> phi(h) elementwise (phi: a registered activation)"

    def __post_init__(self):
        if isinstance(self.activation, str):
            object.__setattr__(self, "activation", get_activation(self.activation))
        if not isinstance(self.activation, Activation):
            raise AnglefishError(f"Act needs an Activation or its name, got {self.activation!r}")

    def kernel(self, s):
        if not s.gaussian:
            raise AnglefishError(
                f"{self!r} acts on a signal that is not jointly Gaussian at infinite width; "
                "the kernel map needs a Dense (or a population BatchNorm after a Dense) before it")
        k = self.activation.kernel
        odd = self.activation.is_odd
        return KernelState(qa=k(s.qa, s.qa, s.qa), qb=k(s.qb, s.qb, s.qb), qab=k(s.qa, s.qb, s.qab),
                           m=k(s.m, s.m, s.m), gaussian=False, centred=odd and s.centred,
                           fresh=odd and s.fresh)

    def __repr__(self):
        if self.activation is RELU:
            return "ReLU()"
        return f"Act({self.activation.name!r})"


def ReLU() -> Act:
    """The rectifier phi(u) = max(0, u) as a block."""
    return Act(RELU)


@register_block
@dataclass(frozen=True, repr=False)
class Serial(Block):
    """Blocks applied one after another."""

    blocks: tuple = ()
    summary = "blocks in series"

    def __init__(self, *blocks):
        flat = []
        for b in blocks:
            if isinstance(b, (list, tuple)):
                flat.extend(b)
            else:
                flat.append(b)
        for b in flat:
            if not isinstance(b, Block):
                raise AnglefishError(f"expected a Block, got {b!r}")
        object.__setattr__(self, "blocks", tuple(flat))

    def children(self):
        return self.blocks

    def kernel(self, s):
        for b in self.blocks:
            s = b.kernel(s)
        return s

    def __repr__(self):
        return ", ".join(repr(b) for b in self.blocks)


@register_block
@dataclass(frozen=True, repr=False)
class Residual(Block):
    """Identity skip around a branch: h -> h + branch(h).

    Kernel: second moments add, because a branch that ends in a Dense (with fresh
    zero-mean weights) is uncorrelated with the skip; other branches are refused.
    """

    branch: Serial = dataclasses.field(default_factory=Serial)
    summary = "h -> h + branch(h); the branch ends in a Dense (optionally scaled)"

    def __init__(self, *branch):
        object.__setattr__(self, "branch", Serial(*branch))

    def children(self):
        return (self.branch,)

    def kernel(self, s):
        out = self.branch.kernel(replace(s, fresh=False))
        if not out.fresh:
            raise AnglefishError(
                f"{self!r}: the branch must end in a Dense (optionally followed by scalings) "
                "so that skip and branch are uncorrelated; this branch does not")
        return KernelState(qa=s.qa + out.qa, qb=s.qb + out.qb, qab=s.qab + out.qab, m=s.m + out.m,
                           gaussian=s.gaussian and out.gaussian, centred=s.centred and out.centred,
                           fresh=False)

    def __repr__(self):
        return f"Residual({self.branch!r})"


@register_block
@dataclass(frozen=True, repr=False)
class BatchNorm(Block):
    """Batch normalisation without learnable scale and shift, per unit.

    kind="population": the paper's proof -- subtract the population mean (0 after a
    Dense) and divide by the population standard deviation sqrt(m) at this point; a
    fixed scaling, so its kernel map is q -> q / m.
    kind="batch": the mini-batch mean and variance of each unit, as a real network
    computes them (with a small eps).  Its infinite-width map depends on the whole
    batch and is not a closed map of (q_a, q_b, q_ab); anglefish simulates it.
    """

    kind: str = "population"
    eps: float = 1e-5
    summary = "per-unit normalisation: kind='population' (paper's proof) or 'batch' (mini-batch)"

    def __post_init__(self):
        if self.kind not in ("population", "batch"):
            raise AnglefishError(f"BatchNorm kind must be 'population' or 'batch', got {self.kind!r}")

    def kernel(self, s):
        if self.kind == "batch":
            raise AnglefishError(
                "BatchNorm(kind='batch') has no closed kernel map of (q_a, q_b, q_ab): it depends "
                "on the whole mini-batch; use kind='population' for theory or simulate it")
        if not s.centred:
            raise AnglefishError(
                f"{self!r} after a signal with non-zero population mean is not supported by the "
                "kernel interpreter; place it after a Dense")
        m = s.m
        return replace(s, qa=s.qa / m, qb=s.qb / m, qab=s.qab / m, m=sp.Integer(1))

    def __repr__(self):
        return f"BatchNorm({self.kind!r})"


@register_block
@dataclass(frozen=True, repr=False)
class Scale(Block):
    """Multiply the signal by a constant ``alpha`` (may use the depth L, e.g. 1/sqrt(L)).

    Kernel: q -> alpha^2 q for every second moment; keeps the flags (a scaling).
    """

    alpha: sp.Expr = sp.Integer(1)
    summary = "h -> alpha h (alpha may depend on the depth L)"

    def __post_init__(self):
        a = _as_expr(self.alpha, "Scale factor")
        if a.is_number and a.is_zero:
            raise AnglefishError("Scale factor must be non-zero")
        object.__setattr__(self, "alpha", a)

    def kernel(self, s):
        a2 = self.alpha**2
        return replace(s, qa=a2 * s.qa, qb=a2 * s.qb, qab=a2 * s.qab, m=a2 * s.m)

    def __repr__(self):
        return f"Scale({self.alpha})"
