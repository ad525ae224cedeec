"""Fig. 3: one-block angle maps theta^{l+1} against theta^l for MLP, ResNet and ResNet+BN.

Theory only: the derived maps (``numeric_maps(arch).step(theta, l)``).  ``l`` is the 0-based
block index of the paper's Theorem 6 (block l maps depth l to l + 1); only the population-BN
map depends on it (its residual branch is divided by sqrt(l + 2), so its map approaches the
identity as l grows).  The right panel shows the shrinkage theta^l - theta^{l+1} so the three
curves, which lie close to the identity, can be told apart.

Settings (same in quick and full mode).  Time: about 2 s on 2 cores (derivations ~0.8 s,
cached per process; drawing ~1 s):
    points: angles on [0, pi] (default 361);
    blocks: block indices drawn (default [1, 3], as in the paper).
"""
from __future__ import annotations

import math

import numpy as np

from .base import PAPER_ARCHITECTURES, FigureParams, Table, settings
from .style import color, label, new_figure, pi_ticks, styled

NAME = "fig03"
TITLE = "One-block angle maps theta^{l+1}(theta^l) for MLP, ResNet, ResNet+BN at l = 1 and 3"
PAPER = "ACML 2019 Fig. 3: theta^{l+1} vs theta^l for the three architectures at l = 1 and l = 3"
CLAIM = ("all three maps lie below the identity (every block shrinks the angle); the ResNet map is "
         "closer to the identity than the MLP map and the BN map closer still, and the BN map moves "
         "towards the identity as l grows")
DATA_SOURCE = "theory: derived kernel maps (no simulation)"
GENERIC = False
FULL = {"points": 361, "blocks": [1, 3]}
QUICK = {}
COLUMNS = {"block_index": "0-based block index l (block l maps depth l to l+1)",
           "architecture": "architecture name", "theta_in": "theta^l (rad)",
           "theta_out": "theta^{l+1} from the derived map (rad)"}


def compute(params: FigureParams) -> Table:
    from ..theory.evaluate import numeric_maps

    s = settings(params, FULL, QUICK)
    theta = np.linspace(0.0, math.pi, int(s["points"]))
    rows = {"block_index": [], "architecture": [], "theta_in": [], "theta_out": []}
    for l in s["blocks"]:
        for arch in PAPER_ARCHITECTURES:
            out = numeric_maps(arch).step(theta, int(l))
            rows["block_index"] += [int(l)] * len(theta)
            rows["architecture"] += [arch] * len(theta)
            rows["theta_in"] += theta.tolist()
            rows["theta_out"] += out.tolist()
    return Table(rows, {"settings": s, "columns": COLUMNS, "architectures": list(PAPER_ARCHITECTURES)})


@styled
def plot(table: Table):
    blocks = table.unique("block_index")
    fig, axes = new_figure(3.4 * len(blocks) + 3.6, 3.6, 1, len(blocks) + 1)
    for j, l in enumerate(blocks):
        ax = axes[0, j]
        ax.plot([0, math.pi], [0, math.pi], color="0.55", linestyle="--", linewidth=1.0, label="identity")
        sub = table.where(block_index=l)
        for arch in sub.unique("architecture"):
            t = sub.where(architecture=arch)
            ax.plot(t.column("theta_in"), t.column("theta_out"), color=color(arch), label=label(arch))
        ax.set_xlim(0, math.pi)
        ax.set_ylim(0, math.pi)
        ax.set_aspect("equal")
        pi_ticks(ax.xaxis)
        pi_ticks(ax.yaxis)
        ax.set_xlabel(f"θ$^{{{l}}}$")
        ax.set_ylabel(f"θ$^{{{l + 1}}}$")
        ax.set_title(f"block l = {l}")
        ax.legend(loc="upper left")
    ax = axes[0, -1]
    styles = ["-", "--", ":", "-."]
    for arch in table.unique("architecture"):
        curves = [table.where(block_index=l, architecture=arch) for l in blocks]
        outs = [t.column("theta_out") for t in curves]
        same = all(np.array_equal(outs[0], o) for o in outs[1:])
        for j, (l, t) in enumerate(zip(blocks, curves)):
            x = t.column("theta_in")
            ax.plot(x, x - outs[j], color=color(arch), linestyle=styles[j % len(styles)],
                    label=f"{label(arch)}, every l" if same else f"{label(arch)}, l = {l}")
            if same:
                break
    ax.set_xlim(0, math.pi)
    ax.set_ylim(bottom=0)
    pi_ticks(ax.xaxis)
    ax.set_xlabel("θ$^l$")
    ax.set_ylabel("shrinkage θ$^l$ − θ$^{l+1}$")
    ax.set_title("how much one block removes")
    ax.legend(loc="upper left", ncol=1)
    return fig
