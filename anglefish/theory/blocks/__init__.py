"""Blocks: the data an architecture is made of, each block type with every rule that interprets it
(theory, stable numeric maps, Gram sampler, dense network); see :mod:`.base`."""
from .activation import Act, ReLU
from .base import (BLOCK_INDEX, DEPTH, RULES, Backward, Block, KernelState, as_expr, block_types, block_value,
                   check_complete, missing_rules, register_block)
from .batchnorm import KINDS as BN_KINDS
from .batchnorm import BatchNorm
from .dense import Dense
from .residual import Residual
from .scale import Scale
from .serial import Serial

__all__ = ["Act", "BLOCK_INDEX", "BN_KINDS", "Backward", "BatchNorm", "Block", "DEPTH", "Dense", "KernelState",
           "RULES", "ReLU", "Residual", "Scale", "Serial", "as_expr", "block_types", "block_value", "check_complete",
           "missing_rules", "register_block"]
