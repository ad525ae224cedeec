"""Fig. F3: the training loss after K steps over learning rate (in units of 2/lambda_max) and depth.

Convention (:mod:`anglefish.numeric.training`): full-batch gradient descent on
L = (1/2T) sum_t (f(x_t) - y_t)^2, all weights trained, f(x) = v^T h^L, T inputs with
i.i.d. N(0, 1) coordinates (D = N), targets ``targets`` (default: an independent random
teacher network of the same architecture).  Per architecture and depth ONE initialisation
(the one ``monotone_threshold`` would use with that seed) and its lambda_max (the largest
eigenvalue of its FIM F = K/T) are drawn; gradient descent then runs ``steps`` steps from it at
eta = x * 2 / lambda_max for every x of a log grid ``x_range`` with ``x_points`` points.

Map (one panel per architecture): colour = L_K / L_0 on a log scale centred at 1 (blue: the
loss fell, red: it rose); black: the loss overflowed (not finite).  Dashed line: x = 1, i.e.
eta = 2/lambda_max of the initialisation.  Dots: cells in which some step raised the loss
(``rose``: L_{k+1} > L_k (1 + 1e-9) while L_k >= 1e-8 L_0), i.e. outside the monotone region
(not drawn on overflowed cells, which all rose).
Diamonds: where the infinite-width theory's eta_max = 2/lambda_max(N = oo) falls on this axis,
x = lambda_max(init) / lambda_max(theory).  Generic: ``params.arch`` draws user architectures.

Settings:
    depths [1, 2, 4, 6, 8, 12] (quick [1, 2, 3, 4, 6, 8]); x_range [0.25, 8];
    x_points 21 (quick 11; log-spaced, 4 (quick 2) points per octave); width N 128 (quick 64);
    samples T 64 (quick 32); steps K 50 (quick 20); targets 'teacher'; colour_decades 4
    (colour scale 10^-4 .. 10^4, clipped).
Until 2026-11 (issue 14) the full depths were [1, 2, 3, 4, 5, 6, 8, 10, 12, 16] (about 5.5 min on 2 busy
cores, one process), then [1, 2, 4, 6, 8, 12, 16] until 2026-11-29, when depth 16 went (a third of the
figure's CPU: a cell's cost is about linear in depth; the deepest row is now figF2's deepest depth, 12).
A depth's row depends on that depth alone (its own seed), so the rows kept are unchanged (byte-identical
in the CSV).  Each (architecture, depth) is one unit of work (:func:`cell`), its 21 runs in one array
pass.
Time: full 39 s of CPU in one process (18 units, the depth-12 ResNet cell 5.7 s; 50 s with depth 16, in
the same conditions, load average 2.3-3.5), so about 20 s on 2 free cores; quick about 3 s.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import AnglefishError
from .base import FigureParams, Table, derive_seed, settings
from .style import label, new_figure, plain_log_ticks, styled

NAME = "figF3"
TITLE = "Training loss after K steps over eta * lambda_max / 2 and depth (one initialisation per depth)"
PAPER = ("not in the papers: the landscape behind the INNS-BDDL 2019 learning-rate claim; the boundary of "
         "monotone decrease sits at eta = 2/lambda_max at every depth, whatever lambda_max does with depth")
CLAIM = ("in units of 2/lambda_max of the initialisation the picture is the same at every depth and for every "
         "architecture: monotone decrease below x = 1, a catapult band (the loss rises, then falls) just above, "
         "divergence at a few times 2/lambda_max; the depth dependence of the usable learning rate is entirely "
         "that of lambda_max")
DATA_SOURCE = ("synthetic: T inputs with i.i.d. N(0, 1) coordinates (D = N) and teacher targets (an independent "
               "random network of the same architecture), anglefish.numeric.training")
GENERIC = True
FULL = {"depths": [1, 2, 4, 6, 8, 12], "x_range": [0.25, 8.0], "x_points": 21, "width": 128,
        "samples": 64, "steps": 50, "targets": "teacher", "colour_decades": 4}
QUICK = {"depths": [1, 2, 3, 4, 6, 8], "x_points": 11, "width": 64, "samples": 32, "steps": 20}
COLUMNS = {"architecture": "architecture name", "depth": "number of blocks L",
           "seed": "seed of the initialisation (as monotone_threshold's seed)",
           "x": "eta * lambda_max / 2", "eta": "learning rate",
           "lambda_max": "largest FIM eigenvalue of this initialisation",
           "theory_lambda_max": "infinite-width theory lambda_max (fisher_theory); empty if the theory refuses",
           "initial_loss": "L_0", "final_loss": "L_K after `steps` steps (empty if it overflowed)",
           "loss_ratio": "L_K / L_0 (empty if the loss overflowed)",
           "max_ratio": "max over k of L_k / L_0 (empty if the loss overflowed)",
           "overflow": "the loss became non-finite (the run stopped there)",
           "rose": "some step raised the loss (not monotone)",
           "first_rise": "first step k with L_{k+1} > L_k (empty if none)"}


def _xs(s: dict) -> np.ndarray:
    lo, hi = (float(v) for v in s["x_range"])
    if not (0 < lo < hi):
        raise AnglefishError(f"figF3 x_range must be [low, high] with 0 < low < high, got {s['x_range']!r}")
    return np.geomspace(lo, hi, int(s["x_points"]))


def _depths(s: dict) -> list:
    depths = [int(d) for d in s["depths"]]
    if not depths or min(depths) < 1 or len(set(depths)) != len(depths):
        raise AnglefishError(f"figF3 depths must be distinct integers >= 1, got {s['depths']!r}")
    return depths


def loss_curves(params, x: np.ndarray, y: np.ndarray, etas: np.ndarray, steps: int) -> np.ndarray:
    """Losses (steps + 1, R) of R gradient-descent runs from network 0 of ``params`` (inputs ``x``,
    targets ``y`` of that network), run r at learning rate ``etas[r]``, all runs in one array pass per
    step.  Per run exactly what :func:`~anglefish.numeric.training.gradient_descent` records for it
    alone: a non-finite loss is recorded as inf and that run stops (its later rows are nan; it leaves
    the pass); the others go on for all ``steps`` steps."""
    from ..numeric.training import _cast, _descend, loss, loss_and_gradient

    runs = len(etas)
    index = np.zeros(runs, dtype=int)
    p = _cast(params, index, params.dtype)  # copies of network 0, one per run
    xs, ys = x[index], y[index]
    eta = np.asarray(etas, dtype=params.dtype)
    alive = np.arange(runs)
    losses = np.full((steps + 1, runs), np.nan)
    for k in range(steps + 1):
        if k == steps:  # the last loss needs no gradient (the same value: loss_and_gradient's forward pass)
            lk = loss(p, xs, ys)
            losses[k, alive] = np.where(np.isfinite(lk), lk, np.inf)
            break
        lk, (gw, gv) = loss_and_gradient(p, xs, ys)
        finite = np.isfinite(lk)
        losses[k, alive] = np.where(finite, lk, np.inf)
        if not finite.any():
            break
        if not finite.all():  # overflowed runs stop and leave the pass
            alive, eta, xs, ys = alive[finite], eta[finite], xs[finite], ys[finite]
            p = _cast(p, finite, p.dtype)
            gw, gv = [g[finite] for g in gw], gv[finite]
        _descend(p, gw, gv, eta[:, None, None], eta[:, None])
    return losses


def cell(arch: str, depth: int, seed: int, xs: list, width: int, samples: int, steps: int, targets: str) -> list:
    """The rows of one (architecture, depth): the initialisation of ``seed`` (as ``monotone_threshold``
    draws it) trained ``steps`` steps at eta = x * 2 / lambda_max for every x of ``xs`` (a unit of work)."""
    from ..numeric.fisher import ntk_gram
    from ..numeric.training import _setup, rose
    from ..theory.fisher_theory import fisher_theory

    arch_obj, init, x_in, y = _setup(arch, depth, width, samples, seed, targets, None, np.float64)
    lam = float(np.linalg.eigvalsh(ntk_gram(arch_obj, init, x_in)[0] / samples)[-1])
    try:
        lam_theory = fisher_theory(arch, depth, width, samples)["lambda_max"]
    except AnglefishError:
        lam_theory = None
    etas = np.array([float(x) * 2.0 / lam for x in xs])
    curves = loss_curves(init, x_in, y, etas, steps)
    rows = []
    for j, (x, eta) in enumerate(zip(xs, etas)):
        losses = curves[:, j]
        losses = losses[~np.isnan(losses)]  # nan marks steps not run after an overflow
        l0, last = float(losses[0]), float(losses[-1])
        overflow = not math.isfinite(last)
        up = np.nonzero(rose(losses[:-1], losses[1:], losses[0]))[0]
        rows.append({
            "architecture": arch, "depth": depth, "seed": seed, "x": float(x), "eta": float(eta),
            "lambda_max": lam, "theory_lambda_max": lam_theory, "initial_loss": l0,
            "final_loss": None if overflow else last, "loss_ratio": None if overflow else last / l0,
            "max_ratio": None if overflow else float(losses.max() / l0), "overflow": overflow,
            "rose": bool(up.size), "first_rise": int(up[0]) if up.size else None,
        })
    return rows


def units(params: FigureParams) -> list:
    """One :func:`cell` per (architecture, depth), in the order of the table's rows (:mod:`anglefish.units`)."""
    from ..units import arch_name, unit

    s = settings(params, FULL, QUICK)
    xs = [float(x) for x in _xs(s)]
    width, samples, steps = int(s["width"]), int(s["samples"]), int(s["steps"])
    return [unit(cell, arch=arch_name(arch), depth=depth, seed=derive_seed(params.seed, NAME, arch, depth), xs=xs,
                 width=width, samples=samples, steps=steps, targets=s["targets"],
                 cost=depth * width * width * samples * len(xs) / 1e6)
            for arch in params.architectures() for depth in _depths(s)]


def compute(params: FigureParams) -> Table:
    from ..units import run_units

    s = settings(params, FULL, QUICK)
    archs = params.architectures()
    seeds = {f"{arch}/L={depth}": derive_seed(params.seed, NAME, arch, depth) for arch in archs
             for depth in _depths(s)}
    rows = [row for cell_rows in run_units(units(params)) for row in cell_rows]
    return Table.from_rows(rows, list(COLUMNS),
                           {"settings": s, "seeds": seeds, "columns": COLUMNS, "architectures": list(archs)})


def _edges(values, log=False):
    v = np.log(values) if log else np.asarray(values, dtype=float)
    mid = (v[1:] + v[:-1]) / 2
    e = np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]]) if v.size > 1 \
        else np.array([v[0] - 0.5, v[0] + 0.5])
    return np.exp(e) if log else e


def _flag(table: Table, name: str) -> np.ndarray:
    return np.array([v is True or v == "true" for v in table.columns[name]])


@styled
def plot(table: Table):
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm
    from matplotlib.lines import Line2D

    s = table.metadata["settings"]
    archs = table.unique("architecture")
    decades = float(s["colour_decades"])
    norm = LogNorm(vmin=10 ** -decades, vmax=10 ** decades)
    cmap = colormaps["RdBu_r"].with_extremes(over="#67001f", under="#053061", bad="black")
    n = len(archs)
    fig, axes = new_figure(3.3 * n + 1.0, 3.7, 1, n, sharey=True)
    mesh = None
    for j, arch in enumerate(archs):
        ax = axes[0, j]
        t = table.where(architecture=arch)
        depths = [int(d) for d in t.unique("depth")]
        xs = np.array(sorted(set(t.column("x").tolist())))
        grid = np.full((len(depths), xs.size), np.nan)
        rose_grid = np.zeros_like(grid, dtype=bool)
        x_theory = np.full(len(depths), np.nan)
        for i, d in enumerate(depths):
            r = t.where(depth=d)
            idx = np.searchsorted(xs, r.column("x"))
            ratio = r.column("loss_ratio")
            grid[i, idx] = np.where(_flag(r, "overflow"), np.nan, ratio)
            rose_grid[i, idx] = _flag(r, "rose")
            lt = r.column("theory_lambda_max")[0]
            x_theory[i] = r.column("lambda_max")[0] / lt if np.isfinite(lt) else np.nan
        rows = np.arange(len(depths))
        mesh = ax.pcolormesh(_edges(xs, log=True), _edges(rows), np.ma.masked_invalid(grid), cmap=cmap, norm=norm,
                             shading="flat", linewidth=0, rasterized=True)
        yy, xx = np.nonzero(rose_grid & np.isfinite(grid))  # overflowed cells rose too: no dot on black
        ax.plot(xs[xx], rows[yy], linestyle="none", marker=".", markersize=2.2, color="0.15", alpha=0.7)
        ax.axvline(1.0, color="black", linestyle="--", linewidth=1.1)
        ax.plot(x_theory, rows, linestyle="none", marker="D", markersize=4, markerfacecolor="white",
                markeredgecolor="black", markeredgewidth=0.9)
        ax.set_xscale("log")
        ax.set_xlim(_edges(xs, log=True)[[0, -1]])
        plain_log_ticks(ax.xaxis, [v for v in (0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32)
                                   if xs[0] <= v * 1.0001 and v <= xs[-1] * 1.0001])
        ax.set_yticks(rows)
        ax.set_yticklabels([str(d) for d in depths])
        ax.set_ylim(-0.5, len(depths) - 0.5)
        ax.grid(False)
        ax.set_xlabel("x = η λ$_{max}$ / 2  (η in units of 2/λ$_{max}$)")
        if j == 0:
            ax.set_ylabel("depth L (blocks)")
        ax.set_title(label(arch))
    cb = fig.colorbar(mesh, ax=axes[0, :].tolist(), extend="both", shrink=0.9, pad=0.02)
    cb.set_label(f"L$_K$ / L$_0$ after K = {s['steps']} steps (log)")
    handles = [Line2D([], [], color="black", linestyle="--", label="x = 1: η = 2/λ$_{max}$ of the init"),
               Line2D([], [], linestyle="none", marker=".", color="0.15", markersize=5,
                      label="some step raised the loss"),
               Line2D([], [], linestyle="none", marker="D", markerfacecolor="white", markeredgecolor="black",
                      markersize=4, label="η = 2/λ$_{max}$ of the N = ∞ theory"),
               Line2D([], [], linestyle="none", marker="s", color="black", markersize=6, label="loss overflowed")]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=7.5)
    fig.suptitle(f"full-batch GD from one initialisation per depth; width N = {s['width']}, T = {s['samples']} "
                 f"inputs, {s['targets']} targets", fontsize=8.5)
    return fig
