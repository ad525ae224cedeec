"""Serial(*blocks): blocks applied one after another -- every rule of it (each rule folds its
children's rules in order)."""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ...errors import AnglefishError
from .base import Backward, Block, register_block


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

    def __repr__(self):
        return ", ".join(repr(b) for b in self.blocks)

    # ---- theory
    def kernel(self, s):
        for b in self.blocks:
            s = b.kernel(s)
        return s

    def ntk_backward(self, state, p_out, dk_scale=1):
        states = [state]
        for child in self.blocks:
            states.append(child.kernel(states[-1]))
        p, total, terms = p_out, sp.Integer(0), []
        for i in reversed(range(len(self.blocks))):
            step = self.blocks[i].ntk_backward(states[i], p, dk_scale)
            p = step.p_in
            total += step.contribution
            terms[:0] = [(f"{i}:{label}", value) for label, value in step.terms]
        return Backward(p_in=p, contribution=total, terms=tuple(terms))

    def weight_count(self):
        return sum(b.weight_count() for b in self.blocks)

    def pair_supported(self):
        return all(b.pair_supported() for b in self.blocks)

    def pair_step(self, q, d, log_m, l, depth):
        for b in self.blocks:
            q, d, log_m = b.pair_step(q, d, log_m, l, depth)
        return q, d, log_m

    # ---- numeric
    def needs_units(self):
        return self.blocks[0].needs_units() if self.blocks else True

    def gram_step(self, sig, ctx, need_units=True):
        blocks = self.blocks
        for i, b in enumerate(blocks):
            need = blocks[i + 1].needs_units() if i + 1 < len(blocks) else need_units
            sig = b.gram_step(sig, ctx, need)
        return sig

    def init(self, n_in, ctx):
        for b in self.blocks:
            n_in = b.init(n_in, ctx)
        return n_in

    def forward(self, h, log_m, ctx):
        caches = []
        for b in self.blocks:
            h, log_m, c = b.forward(h, log_m, ctx)
            caches.append(c)
        return h, log_m, caches

    def backward(self, cache, g, ctx):
        for b, c in zip(reversed(self.blocks), reversed(cache)):
            g = b.backward(c, g, ctx)
        return g

    def homogeneous(self):
        return all(b.homogeneous() for b in self.blocks)

    def finite_width(self, state):
        """the blocks' rules in order"""
        for b in self.blocks:
            state = b.finite_width(state)
        return state
