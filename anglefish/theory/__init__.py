"""Symbolic theory: activations' Gaussian kernels, blocks (every rule of a block type with the type),
architectures, recursions, large-depth asymptotics, the NTK/Fisher theory.  SymPy and mpmath (and
numpy for the numeric rules of the blocks); no randomness."""
from .activations import (
                          THETA,
                          Activation,
                          Erf,
                          PiecewiseLinear,
                          QuadratureActivation,
                          activations,
                          get_activation,
                          leaky_relu,
                          make_activation,
                          register_activation,
)
from .architectures import (
                          Architecture,
                          architectures,
                          get_architecture,
                          register_architecture,
                          unregister_architecture,
                          with_activation,
)
from .blocks import (
                          BLOCK_INDEX,
                          DEPTH,
                          RULES,
                          Act,
                          BatchNorm,
                          Block,
                          Dense,
                          KernelState,
                          ReLU,
                          Residual,
                          Scale,
                          Serial,
                          block_types,
                          register_block,
)
from .cache import clear_caches
from .recursion import BlockMaps, derive_maps

__all__ = ["Act", "Activation", "Architecture", "BLOCK_INDEX", "BatchNorm", "Block", "BlockMaps", "DEPTH", "Dense",
           "Erf", "KernelState", "PiecewiseLinear", "QuadratureActivation", "RULES", "ReLU", "Residual", "Scale",
           "Serial", "THETA", "activations", "architectures", "block_types", "clear_caches", "derive_maps",
           "get_activation", "get_architecture", "leaky_relu", "make_activation", "register_activation",
           "register_architecture", "register_block", "unregister_architecture", "with_activation"]
