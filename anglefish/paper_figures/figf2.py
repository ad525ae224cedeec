"""Fig. F2: the largest learning rate at which gradient descent decreases the loss monotonically.

Convention (:mod:`anglefish.numeric.training`): full-batch gradient descent on
L = (1/2T) sum_t (f(x_t) - y_t)^2, all weights trained, f(x) = v^T h^L, T inputs with
i.i.d. N(0, 1) coordinates (D = N), teacher targets (an independent random network of the
same architecture).  For every architecture, depth and seed, one initialisation is drawn and
:func:`~anglefish.numeric.training.monotone_threshold` measures

* ``measured_eta``: the largest eta at which no step among the first ``steps`` raises the loss
  (bisection on log eta to ``tolerance``);
* ``predicted_eta`` = 2 / lambda_max of THIS initialisation's FIM (F = K/T);
* ``diverges_at``: the smallest eta (to ``divergence_tolerance``) at which the loss after ``steps``
  steps exceeds ``divergence_factor`` x L_0 (searched up to ``divergence_search`` x predicted_eta;
  inf if none).  Between the two the loss first rises, then falls (catapult).

The line is the infinite-width theory ``fisher_theory(arch, L, N, T)['eta_max']``.  Per
architecture one panel (log y): measured threshold mean +-sd over seeds, 2/lambda_max of the
same initialisations mean +-sd, divergence mean +-sd, the catapult band shaded between the
measured threshold and divergence.  Last panel: measured / predicted and diverges / predicted
per seed, mean +-sd.  Generic: ``params.arch`` draws user architectures (no line where the
theory refuses).

Settings (every argument of ``monotone_threshold``):
    depths [1, 2, 4, 8, 12] (quick [1, 2, 4, 8]); width N 256 (quick 64);
    samples T 128 (quick 32); seeds 3; steps 50; targets 'teacher';
    tolerance 0.03; divergence_tolerance 0.1; divergence_factor 1000; divergence_search 64.
Until 2026-11 (issue 14) the full settings had depths [1, 2, 4, 6, 8, 12], 4 seeds, tolerance 0.01 and
the divergence point to 1%, and ``monotone_threshold`` walked a float64 grid to divergence: 15-18 min
on 2 busy cores.  The cut keeps what the claim rests on, seed 0 (before: 72 units, the new search;
after: 45): measured/predicted mean +-sd mlp 1.056 +-0.058 -> 1.051 +-0.036, resnet 1.085 +-0.044 ->
1.087 +-0.041, resnet-bn 1.103 +-0.061 -> 1.093 +-0.064; diverges/predicted mlp 10.4 -> 12.0 (2.3 to
~48), resnet 2.82 -> 2.76, resnet-bn 2.37 -> 2.40; the mean measured eta per depth within 5% of
before at every kept depth (1/L for the MLP, exponential for the ResNet).
Until 2026-11-29 tolerance was 0.02 and divergence_tolerance 0.05: each bisection now stops one point
earlier (final brackets 4^(1/64) = 1.022 instead of 1.011 for the threshold, 2^(1/8) = 1.09 instead of
2^(1/16) = 1.044 for divergence): about a fifth less work with the cheaper rise runs of monotone_threshold.
The threshold's points are the first ones of the old search, so measured_eta is the old value or at most
1.1% below it (22 of the 45 unchanged, 23 lower by 1.1%); the divergence search starts from
measured_eta_upper, so where that moved its points moved too (diverges_at -3% to +10% per initialisation,
every one found).  What the claim rests on, before -> after (seed 0, the full CSVs): measured/predicted mean +-sd mlp
1.051 +-0.036 -> 1.046 +-0.037, resnet 1.087 +-0.041 -> 1.080 +-0.043, resnet-bn 1.093 +-0.064 -> 1.086
+-0.065; diverges/predicted mlp 11.97 -> 12.21 (2.4 to 51), resnet 2.76 -> 2.84, resnet-bn 2.40 -> 2.42;
the mean measured eta per depth within 1.1% of before at every depth (1/L for the MLP, exponential for
the ResNet).
Time (45 units, measured in one process, load average 2.3-3.5, so +-15%): full 132 s of CPU (147 s before
this change), the largest unit (a depth-12 ResNet) 8-9 s; on a deterministic count of the work (passes
x depth x networks, a backward pass counted as 2 forward ones, float32 as half of float64) of one seed
per architecture and depth, 59870 -> 46823 (-22%: -4% from monotone_threshold's cheaper rise runs, the
same thresholds, the rest from the tolerances).  Quick: a few seconds.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import AnglefishError
from .base import FigureParams, Table, derive_seed, settings
from .style import color, label, lighten, new_figure, styled

NAME = "figF2"
TITLE = "Monotone-decrease learning-rate threshold vs depth: measured, 2/lambda_max and infinite-width theory"
PAPER = ("INNS-BDDL 2019 (abstract only): the largest learning rate that converges is exponentially small in "
         "depth for the ResNet and about 1/L with BN; no figure of this form is available")
CLAIM = ("gradient descent decreases the loss monotonically up to eta ~ 2/lambda_max of the initialisation "
         "(measured/predicted within ~10-25%), so the threshold falls like 1/lambda_max: about 1/L for the MLP, "
         "exponentially for the ResNet, about 1/(L log L) for the ResNet+BN; divergence comes only at a few "
         "times 2/lambda_max")
DATA_SOURCE = ("synthetic: T inputs with i.i.d. N(0, 1) coordinates (D = N) and teacher targets (an independent "
               "random network of the same architecture), anglefish.numeric.training")
GENERIC = True
FULL = {"depths": [1, 2, 4, 8, 12], "width": 256, "samples": 128, "seeds": 3, "steps": 50,
        "targets": "teacher", "tolerance": 0.03, "divergence_tolerance": 0.1, "divergence_factor": 1000.0,
        "divergence_search": 64.0}
QUICK = {"depths": [1, 2, 4, 8], "width": 64, "samples": 32}
COLUMNS = {"architecture": "architecture name", "depth": "number of blocks L",
           "seed_index": "initialisation index k (0 .. seeds-1)", "seed": "the seed passed to monotone_threshold",
           "lambda_max": "largest FIM eigenvalue of this initialisation",
           "predicted_eta": "2 / lambda_max of this initialisation",
           "measured_eta": "largest tested eta with no loss rise in the first `steps` steps",
           "measured_eta_upper": "smallest tested eta with a rise (bracket upper end)",
           "ratio": "measured_eta / predicted_eta", "rise_step": "step at which the loss first rose at the upper end",
           "diverges_at": "smallest eta with loss > divergence_factor x L_0 after `steps` steps (empty: none found)",
           "diverges_ratio": "diverges_at / predicted_eta (empty: none found up to divergence_search)",
           "initial_loss": "L_0", "theory_eta": "infinite-width theory eta_max = 2 / lambda_max (fisher_theory)",
           "theory_lambda_max": "infinite-width theory lambda_max (fisher_theory)"}


def _theory(arch, depth, width, samples):
    from ..theory.fisher_theory import fisher_theory

    try:
        return fisher_theory(arch, depth, width, samples)
    except AnglefishError:
        return None


def _depths(s: dict) -> list:
    depths = sorted({int(d) for d in s["depths"]})
    if not depths or depths[0] < 1:
        raise AnglefishError(f"figF2 depths must be integers >= 1, got {s['depths']!r}")
    return depths


def units(params: FigureParams) -> list:
    """One :func:`~anglefish.numeric.training.monotone_threshold` per (architecture, depth, seed index),
    in the order of the table's rows (:mod:`anglefish.units`)."""
    from ..numeric.training import monotone_threshold
    from ..units import COST_PER_SECOND, arch_name, unit

    s = settings(params, FULL, QUICK)
    width, samples = int(s["width"]), int(s["samples"])
    return [unit(monotone_threshold, arch=arch_name(arch), depth=depth, width=width, samples=samples,
                 seed=derive_seed(params.seed, NAME, arch, depth, k), steps=int(s["steps"]), targets=s["targets"],
                 tolerance=float(s["tolerance"]), divergence_tolerance=float(s["divergence_tolerance"]),
                 divergence_factor=float(s["divergence_factor"]),
                 divergence_search=float(s["divergence_search"]),
                 cost=COST_PER_SECOND * 0.6 * depth * width * width * samples / (256 * 256 * 128))
            for arch in params.architectures() for depth in _depths(s) for k in range(int(s["seeds"]))]


def compute(params: FigureParams) -> Table:
    from ..units import run_units

    s = settings(params, FULL, QUICK)
    depths = _depths(s)
    width, samples, n_seeds = int(s["width"]), int(s["samples"]), int(s["seeds"])
    archs = params.architectures()
    results = iter(run_units(units(params)))
    rows, seeds, curves = [], {}, {}
    for arch in archs:
        curve = []
        for depth in range(1, depths[-1] + 1):
            th = _theory(arch, depth, width, samples)
            curve.append(None if th is None else th["eta_max"])
        curves[arch] = curve
        for depth in depths:
            th = _theory(arch, depth, width, samples)
            for k in range(n_seeds):
                seed = derive_seed(params.seed, NAME, arch, depth, k)
                seeds[f"{arch}/L={depth}/{k}"] = seed
                r = next(results)
                div = r["diverges_at"]
                rows.append({
                    "architecture": arch, "depth": depth, "seed_index": k, "seed": seed,
                    "lambda_max": r["lambda_max"], "predicted_eta": r["predicted_eta"],
                    "measured_eta": r["measured_eta"], "measured_eta_upper": r["measured_eta_upper"],
                    "ratio": r["ratio"], "rise_step": r["rise_step"],
                    "diverges_at": div if math.isfinite(div) else None,
                    "diverges_ratio": r["diverges_ratio"] if math.isfinite(div) else None,
                    "initial_loss": r["initial_loss"],
                    "theory_eta": None if th is None else th["eta_max"],
                    "theory_lambda_max": None if th is None else th["lambda_max"],
                })
    return Table.from_rows(rows, list(COLUMNS),
                           {"settings": s, "seeds": seeds, "columns": COLUMNS, "architectures": list(archs),
                            "theory_eta_curves": curves})


def _summary(t: Table, name: str):
    """Per depth: (depths, mean, sd, n_missing) of a column over seeds (empty cells skipped)."""
    depths = t.unique("depth")
    mean, sd, missing = [], [], []
    for d in depths:
        v = t.where(depth=d).column(name)
        ok = v[np.isfinite(v)]
        mean.append(ok.mean() if ok.size else np.nan)
        sd.append(ok.std(ddof=1) if ok.size > 1 else 0.0)
        missing.append(int(v.size - ok.size))
    return np.array(depths, dtype=float), np.array(mean), np.array(sd), np.array(missing)


def _bars(ax, x, y, sd, *, color, marker, filled, label, size=4.5, linestyle="none", zorder=3):
    ok = np.isfinite(y)
    lower = np.minimum(sd[ok], 0.95 * y[ok])  # a log axis cannot show a bar below zero
    ax.errorbar(x[ok], y[ok], yerr=[lower, sd[ok]], fmt="none", ecolor=color, elinewidth=1.0, zorder=zorder)
    ax.plot(x[ok], y[ok], linestyle=linestyle, linewidth=0.9, marker=marker, markersize=size, color=color,
            markerfacecolor=color if filled else "white", markeredgecolor=color, markeredgewidth=1.1,
            label=label, zorder=zorder + 1)


@styled
def plot(table: Table):
    s = table.metadata["settings"]
    curves = table.metadata.get("theory_eta_curves", {})
    archs = table.unique("architecture")
    n = len(archs) + 1
    ncols = 2 if n == 4 else min(n, 3)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(4.1 * ncols, 3.3 * nrows, nrows, ncols)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    ratio_ax = flat[n - 1]
    max_depth = int(max(table.column("depth")))
    bound = float(s["divergence_search"])
    for k, arch in enumerate(archs):
        ax, c = flat[k], color(arch)
        t = table.where(architecture=arch)
        curve = np.array([np.nan if v is None else v for v in curves.get(arch, [])], dtype=float)
        if np.any(np.isfinite(curve)):
            ax.plot(np.arange(1, curve.size + 1), curve, color="0.3", linewidth=1.2, zorder=2,
                    label="theory 2/λ$_{max}$ (N = ∞)")
        d, meas, meas_sd, _ = _summary(t, "measured_eta")
        _, pred, pred_sd, _ = _summary(t, "predicted_eta")
        _, div, div_sd, div_missing = _summary(t, "diverges_at")
        ax.fill_between(d, meas, np.where(np.isfinite(div), div, meas), color=lighten(c, 0.8), linewidth=0,
                        zorder=1, label="loss rises, then falls")
        _bars(ax, d + 0.06 * max_depth / 8, pred, pred_sd, color="0.3", marker="s", filled=False,
              label="2/λ$_{max}$ of the same inits")
        _bars(ax, d, meas, meas_sd, color=c, marker="o", filled=True, linestyle="-",
              label="measured: monotone up to")
        _bars(ax, d, div, div_sd, color=c, marker="x", filled=True, linestyle="--", size=5,
              label=f"loss > {s['divergence_factor']:g}×L$_0$ from")
        for x, p, miss in zip(d, pred, div_missing):
            if miss:  # no divergence found up to the search bound for some seeds
                ax.plot([x], [bound * p], marker="^", color=c, markersize=5, linestyle="none", zorder=4)
                ax.annotate(f"{miss} not by {bound:g}×", (x, bound * p), textcoords="offset points",
                            xytext=(3, 2), fontsize=6, color=c)
        ax.set_yscale("log")
        ax.set_xlim(0.3, max_depth + 0.7)
        ax.set_xlabel("depth L (blocks)")
        ax.set_ylabel("learning rate η (log scale)")
        ax.set_title(label(arch))
        ax.legend(loc="lower left", fontsize=7)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo / (hi / lo) ** 0.45, hi)  # room for the legend below the curves
        # the ratio panel: per-seed ratios to 2/lambda_max(init), mean +-sd
        offset = (k - (len(archs) - 1) / 2) * 0.08 * max_depth / 8
        _, r, r_sd, _ = _summary(t, "ratio")
        _bars(ratio_ax, d + offset, r, r_sd, color=c, marker="o", filled=True, linestyle="-",
              label=f"{label(arch)}: monotone threshold")
        _, q, q_sd, _ = _summary(t, "diverges_ratio")
        _bars(ratio_ax, d + offset, q, q_sd, color=c, marker="x", filled=True, linestyle="--", size=5,
              label=f"{label(arch)}: divergence")
    ratio_ax.axhline(1.0, color="0.3", linewidth=0.9)
    ratio_ax.set_yscale("log")
    ratio_ax.set_xlim(0.3, max_depth + 0.7)
    ratio_ax.set_xlabel("depth L (blocks)")
    ratio_ax.set_ylabel("η / (2/λ$_{max}$ of the init)")
    ratio_ax.set_title("relative to 2/λ$_{max}$ of each initialisation")
    from .style import plain_log_ticks

    lo, hi = ratio_ax.get_ylim()
    plain_log_ticks(ratio_ax.yaxis, [v for v in (1, 1.5, 2, 3, 4, 6, 8, 16, 32, 64) if lo <= v <= hi])
    ratio_ax.legend(loc="upper left", fontsize=6.5, ncol=2)
    ratio_ax.set_ylim(lo, hi * (hi / lo) ** 0.35)
    fig.suptitle(f"full-batch GD, width N = {s['width']}, T = {s['samples']} inputs, {s['targets']} targets, first "
                 f"{s['steps']} steps; mean ±sd over {s['seeds']} initialisations per depth", fontsize=8.5)
    return fig
