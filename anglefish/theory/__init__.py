"""Symbolic theory: activations' Gaussian kernels, blocks, architectures, recursions,
large-depth asymptotics.  SymPy and mpmath only; no randomness."""
from .activations import (THETA, Activation, Erf, PiecewiseLinear, QuadratureActivation, activations,
                          get_activation, leaky_relu, make_activation, register_activation)
from .architectures import (Architecture, architectures, get_architecture, register_architecture,
                            unregister_architecture, with_activation)
from .blocks import (BLOCK_INDEX, DEPTH, Act, BatchNorm, Block, Dense, KernelState, ReLU, Residual,
                     Scale, Serial, block_types, register_block)
from .recursion import BlockMaps, derive_maps
