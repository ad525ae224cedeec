"""Blocks: the data an architecture is made of, each block type with every rule that interprets it
(theory, stable numeric maps, Gram sampler, dense network); see :mod:`.base`."""
# imported in the order ``anglefish list`` shows the block types (registration order)
from .base import (BLOCK_INDEX, DEPTH, RULES, Backward, Block, KernelState, as_expr, block_types, block_value,  # isort: skip
                   check_complete, missing_rules, register_block)
from .dense import Dense  # isort: skip
from .activation import Act, ReLU  # isort: skip
from .serial import Serial  # isort: skip
from .residual import Residual  # isort: skip
from .batchnorm import KINDS as BN_KINDS  # isort: skip
from .batchnorm import BatchNorm  # isort: skip
from .scale import Scale  # isort: skip

__all__ = ["Act", "BLOCK_INDEX", "BN_KINDS", "Backward", "BatchNorm", "Block", "DEPTH", "Dense", "KernelState",
           "RULES", "ReLU", "Residual", "Scale", "Serial", "as_expr", "block_types", "block_value", "check_complete",
           "missing_rules", "register_block"]
