"""Fig. 2: the one-block angle map of the ReLU MLP, arccos psi(theta), against the identity.

Theory only.  The map is the derived MLP map (``numeric_maps('mlp').step``), not a typed
formula.  The right panel shows the ratio arccos psi(theta) / theta -- the "a" that the paper's
Table 1 assumes constant -- with its derived limit at theta -> 0 (the slope of the map at 0).

Settings (same in quick and full mode).  Time: about 2 s on 2 cores, of which ~1.2 s is the
SymPy derivation of the MLP map (cached per process) and ~0.8 s drawing PNG + PDF:
    points: number of angles on [0, pi] (default 361).
"""
from __future__ import annotations

import math

import numpy as np

from .base import FigureParams, Table, settings
from .style import new_figure, pi_ticks, styled

NAME = "fig02"
TITLE = "One-block angle map of the ReLU MLP: arccos psi(theta) against theta"
PAPER = "ACML 2019 Fig. 2: arccos psi(theta) vs theta on [0, pi] with the identity line"
CLAIM = ("arccos psi(theta) < theta for theta in (0, pi]: every MLP block shrinks the angle; the ratio "
         "arccos psi(theta)/theta is not constant (1 at theta -> 0, 1/2 at pi), so Table 1's assumption "
         "arccos psi(theta) ~ a theta with constant a < 1 fails for small angles")
DATA_SOURCE = "theory: derived MLP kernel map (no simulation)"
GENERIC = False
FULL = {"points": 361}
QUICK = {}
COLUMNS = {"theta": "input angle theta (rad)",
           "arccos_psi": "output angle arccos psi(theta) of one MLP block (rad), derived map",
           "ratio": "arccos psi(theta) / theta (at theta = 0: the derived slope of the map)"}


def compute(params: FigureParams) -> Table:
    from ..theory.asymptotics import depth_law
    from ..theory.evaluate import numeric_maps

    s = settings(params, FULL, QUICK)
    theta = np.linspace(0.0, math.pi, int(s["points"]))
    out = numeric_maps("mlp").step(theta, 0)
    slope = float(depth_law("mlp").slope_at_zero)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(theta > 0, out / np.where(theta > 0, theta, 1.0), slope)
    return Table({"theta": theta, "arccos_psi": out, "ratio": ratio},
                 {"settings": s, "columns": COLUMNS, "slope_at_zero": slope})


@styled
def plot(table: Table):
    theta, out, ratio = table.column("theta"), table.column("arccos_psi"), table.column("ratio")
    fig, axes = new_figure(7.6, 3.5, 1, 2)
    ax = axes[0, 0]
    ax.plot(theta, theta, color="0.55", linestyle="--", linewidth=1.1, label="identity  θ")
    ax.plot(theta, out, color="#1f77b4", label="arccos ψ(θ)  (MLP block)")
    ax.set_xlim(0, math.pi)
    ax.set_ylim(0, math.pi)
    ax.set_aspect("equal")
    pi_ticks(ax.xaxis)
    pi_ticks(ax.yaxis)
    ax.set_xlabel("input angle θ")
    ax.set_ylabel("output angle arccos ψ(θ)")
    ax.set_title("one MLP block")
    ax.legend(loc="upper left")

    ax = axes[0, 1]
    ax.plot(theta, ratio, color="#1f77b4")
    ax.axhline(table.metadata.get("slope_at_zero", 1.0), color="0.55", linestyle="--", linewidth=1.0)
    ax.axhline(0.5, color="0.55", linestyle=":", linewidth=1.0)
    ax.set_xlim(0, math.pi)
    ax.set_ylim(0.45, 1.03)
    pi_ticks(ax.xaxis)
    ax.set_xlabel("input angle θ")
    ax.set_ylabel("a(θ) = arccos ψ(θ) / θ")
    ax.set_title("the 'a' of Table 1 is not a constant")
    ax.annotate("a(θ) → 1 as θ → 0\n(derived slope of the map at 0)", xy=(0.03, 0.995), xytext=(0.12, 0.70),
                fontsize=8, arrowprops={"arrowstyle": "->", "color": "0.4", "linewidth": 0.8})
    ax.annotate("1/2 at θ = π", xy=(math.pi, 0.5), xytext=(2.0, 0.56), fontsize=8,
                arrowprops={"arrowstyle": "->", "color": "0.4", "linewidth": 0.8})
    return fig
