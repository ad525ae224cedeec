"""Architectures as data, and the registry that names them.

An :class:`Architecture` is one block repeated ``depth`` times (the paper's L).  The
inputs are vectors in R^N with per-coordinate variance 1 (the paper PCA-whitens),
so the population second moment at the input is 1.  Registering a new architecture
is a call to :func:`register_architecture`; no interpreter changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..errors import AnglefishError
from .blocks import (
    DEPTH,
    BatchNorm,
    Block,
    Dense,
    ReLU,
    Residual,
    Scale,
    Serial,
    check_complete,
)
from .cache import clear_caches


@dataclass(frozen=True)
class Architecture:
    """A named block, repeated ``depth`` times.

    name: registry key (``anglefish derive NAME``).
    block: the repeated block (a Block or a sequence of blocks, read as Serial).
    description: one line for ``anglefish list``.
    source: where it comes from (paper, section), if anywhere.
    """

    name: str
    block: Block
    description: str = ""
    source: str = ""
    tags: tuple = field(default_factory=tuple)
    #: the theory treats input coordinates as jointly Gaussian (needed when an activation
    #: reads the input or the residual stream directly, e.g. a pre-activation ResNet); the
    #: simulators then draw the input pair as Gaussian vectors at the exact angle
    gaussian_inputs: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or any(c.isspace() for c in self.name):
            raise AnglefishError(f"architecture name must be a non-empty word, got {self.name!r}")
        block = self.block
        if isinstance(block, (list, tuple)):
            block = Serial(*block)
        if not isinstance(block, Block):
            raise AnglefishError(f"architecture '{self.name}': block must be a Block, got {block!r}")
        if not isinstance(block, Serial):
            block = Serial(block)
        object.__setattr__(self, "block", block)
        for b in block.walk():  # a block type is complete or refused
            check_complete(type(b))

    def blocks(self):
        """Every block inside the repeated block, depth first."""
        return list(self.block.walk())

    def uses(self, block_type: type) -> bool:
        return any(isinstance(b, block_type) for b in self.block.walk())

    def uses_batch_bn(self, bn: str | None = None) -> bool:
        """Does the network use mini-batch BN (after the override ``bn``: 'population' | 'batch')?"""
        return any(isinstance(b, BatchNorm) and (bn or b.kind) == "batch" for b in self.block.walk())


def with_activation(arch: "Architecture | str", activation, name: str | None = None) -> Architecture:
    """A copy of ``arch`` with every activation block replaced by ``activation`` (an
    Activation or a registered name); weight variances and structure are kept."""
    from .activations import Activation, get_activation
    from .blocks import Act

    arch = get_architecture(arch)
    if isinstance(activation, str):
        activation = get_activation(activation)
    if not isinstance(activation, Activation):
        raise AnglefishError(f"expected an Activation or its name, got {activation!r}")

    def swap(block):
        if isinstance(block, Act):
            return Act(activation)
        if isinstance(block, Serial):
            return Serial(*(swap(b) for b in block.blocks))
        if isinstance(block, Residual):
            return Residual(*(swap(b) for b in block.branch.blocks))
        return block

    import re

    # the formula in the description names the activation: say the new one
    described = re.sub(r"\brelu\(", f"{activation.name}(", arch.description)
    return Architecture(name or f"{arch.name}[{activation.name}]", swap(arch.block),
                        description=f"{described} (activation: {activation.name})",
                        source=arch.source, tags=tuple(t for t in arch.tags if t != "paper"),
                        gaussian_inputs=arch.gaussian_inputs)


_ARCHITECTURES: dict[str, Architecture] = {}


def register_architecture(arch: Architecture, *, replace: bool = False) -> Architecture:
    """Add ``arch`` to the registry (``anglefish list`` shows it; every command accepts it)."""
    if not isinstance(arch, Architecture):
        raise AnglefishError(f"register_architecture needs an Architecture, got {type(arch).__name__}")
    if arch.name in _ARCHITECTURES and not replace:
        raise AnglefishError(f"architecture '{arch.name}' is already registered (pass replace=True)")
    _ARCHITECTURES[arch.name] = arch
    clear_caches()
    return arch


def unregister_architecture(name: str) -> None:
    if _ARCHITECTURES.pop(name, None) is not None:
        clear_caches()


def get_architecture(name) -> Architecture:
    """The registered architecture ``name``; ``"base[activation]"`` (e.g. ``"mlp[tanh]"``)
    is ``base`` with its activation swapped (weight variances kept), registered on first use."""
    if isinstance(name, Architecture):
        return name
    try:
        return _ARCHITECTURES[name]
    except (KeyError, TypeError):
        pass
    if isinstance(name, str) and name.endswith("]") and "[" in name:
        base, act = name[:-1].split("[", 1)
        if base in _ARCHITECTURES:
            return register_architecture(with_activation(base, act.strip(), name=name))
    known = ", ".join(sorted(_ARCHITECTURES))
    raise AnglefishError(f"unknown architecture '{name}'; registered: {known} "
                         "(or BASE[ACTIVATION], e.g. mlp[tanh])")


def architectures() -> dict[str, Architecture]:
    return dict(_ARCHITECTURES)


ACML = "Furusho & Ikeda, ACML 2019"

register_architecture(Architecture(
    "mlp", Serial(Dense(2), ReLU()),
    description="h' = relu(W h), W ~ N(0, 2/N) (He)",
    source=f"{ACML}, MLP block (Theorem 2)", tags=("paper",)))
register_architecture(Architecture(
    "resnet", Residual(Dense(2), ReLU(), Dense(1)),
    description="h' = h + W2 relu(W1 h), W1 ~ N(0, 2/N) (He), W2 ~ N(0, 1/N) (Xavier)",
    source=f"{ACML}, ResNet block (Theorem 5)", tags=("paper",)))
register_architecture(Architecture(
    "resnet-bn", Residual(Dense(2), BatchNorm("population"), ReLU(), Dense(1)),
    description="h' = h + W2 relu(BN(W1 h)), population BN (the paper's proof), He/Xavier",
    source=f"{ACML}, ResNet+BN block (Theorem 6)", tags=("paper",)))

# ---------------------------------------------------------------- beyond the paper
register_architecture(Architecture(
    "resnet2", Residual(Dense(2), ReLU(), Dense(2), ReLU(), Dense(1)),
    description="h' = h + W3 relu(W2 relu(W1 h)): the skip spans two Dense-ReLU layers (He, He, Xavier)",
    source="Furusho & Ikeda, INNS-BDDL 2019 (skip over two layers)", tags=("extension",)))
register_architecture(Architecture(
    "resnet-scaled", Residual(Dense(2), ReLU(), Dense(1), Scale(1 / sp.sqrt(DEPTH))),
    description="h' = h + alpha W2 relu(W1 h) with alpha = 1/sqrt(L) (down-scaled branch)",
    source="De & Smith 2020; mean-field ResNets (Yang & Schoenholz 2017)", tags=("extension",)))
register_architecture(Architecture(
    "preact-resnet", Residual(ReLU(), Dense(2), ReLU(), Dense(1)),
    description="h' = h + W2 relu(W1 relu(h)): pre-activation ResNet (inputs taken as Gaussian vectors)",
    source="He et al. 2016b (identity mappings)", tags=("extension",), gaussian_inputs=True))
register_architecture(Architecture(
    "mlp-bn", Serial(Dense(2), BatchNorm("population"), ReLU()),
    description="h' = relu(BN(W h)): batch normalisation in a plain MLP (population BN; --bn batch to simulate)",
    source="Yang et al. 2019, mean-field theory of batch normalisation", tags=("extension",)))
