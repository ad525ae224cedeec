"""Monte Carlo of the pair statistics the finite-width theory predicts, and the grid of the
finite-width theory against it (the tests import this; run it as a script for the full grid).

    PYTHONPATH=. python tests/finite_width_mc.py grid [SEEDS]        # the issue's grid, 1024 seeds
    PYTHONPATH=. python tests/finite_width_mc.py ratio ARCH THETA0 L SEEDS N1,N2,...
    PYTHONPATH=. python tests/finite_width_mc.py points SEEDS SEED ARCH:THETA0:N:L ...

The exact Gram sampler (numeric.simulate, sampler 'gram') on the pair of numeric.inputs.pair_batch
(exact angle theta0, per-coordinate second moment 1), seeds spawned from one SeedSequence; large
seed counts run in chunks of the same per-seed generators, so the numbers do not depend on the
chunk size.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from anglefish.numeric import pair_batch, pair_statistics, simulate, spawn_generators
from anglefish.numeric.simulate import Trajectory
from anglefish.theory.finite_width import finite_width_theory

WIDTHS = (128, 256, 512, 1024)
DEPTHS = (4, 8, 16, 32, 64, 128)
ARCHS = ("mlp", "resnet", "resnet-bn")
THETAS = (0.5, 1.2)


@dataclass
class PairMC:
    """Per recorded depth: the paper's angle with its jackknife SE, the single-network angle's
    mean and SD (with SEs), and the mean and SD of log q-hat, q-hat = (K-hat_aa + K-hat_bb)/2."""

    depths: np.ndarray
    theta: np.ndarray
    theta_se: np.ndarray
    single_mean: np.ndarray
    single_sd: np.ndarray
    single_sd_se: np.ndarray
    log_q_mean: np.ndarray
    log_q_mean_se: np.ndarray
    log_q_sd: np.ndarray
    seeds: int


def pair_mc(arch, depth, theta0, width, seeds, seed, at=None, chunk=None) -> PairMC:
    rngs = spawn_generators(seed, seeds)
    chunk = chunk or max(1, int(2**22 // (width * max(depth, 1))))
    grams, scales = [], []
    traj = None
    for start in range(0, seeds, chunk):
        part = rngs[start:start + chunk]
        traj = simulate(arch, pair_batch(theta0, width, 2, part), depth, width, part, at=at)
        grams.append(traj.pair_gram)
        scales.append(traj.log_scale)
    full = Trajectory(traj.architecture, traj.sampler, traj.bn, width, 2, traj.depths,
                      np.concatenate(grams, axis=1), np.concatenate(scales, axis=1), traj.dims, seed)
    st = pair_statistics(full)
    g = full.pair_gram
    with np.errstate(invalid="ignore", divide="ignore"):
        single = np.arccos(np.clip(g[..., 0, 1] / np.sqrt(g[..., 0, 0] * g[..., 1, 1]), -1, 1))
    centred = single - single.mean(axis=1, keepdims=True)
    m2, m4 = np.mean(centred**2, axis=1), np.mean(centred**4, axis=1)
    # SE of the sample SD from the fourth moment (delta method; no normality assumed)
    sd_se = np.sqrt(np.maximum(m4 - m2**2, 0) / seeds) / (2 * np.sqrt(m2))
    q = (g[..., 0, 0] + g[..., 1, 1]) / (2 * full.dims[:, None])
    log_q = np.log(q) + 2 * full.log_scale
    return PairMC(full.depths, st.theta_mc, st.theta_mc_se, st.theta_single_mean, st.theta_single_sd, sd_se,
                  log_q.mean(axis=1), log_q.std(axis=1, ddof=1) / math.sqrt(seeds), log_q.std(axis=1, ddof=1),
                  seeds)


def grid_rows(archs=ARCHS, thetas=THETAS, widths=WIDTHS, depths=DEPTHS, seeds=1024, seed=0, out=None):
    """Theory against MC on the issue's grid (L <= N/8); one MC run per (arch, theta0, N)
    records every L, with its own master seed."""
    rows = []
    for ai, arch in enumerate(archs):
        for ti, theta0 in enumerate(thetas):
            for ni, width in enumerate(widths):
                ls = [l for l in depths if l <= width // 8]
                mc = pair_mc(arch, max(ls), theta0, width, seeds, seed=10_000 * seed + 100 * ai + 10 * ti + ni,
                             at=ls)
                th = finite_width_theory(arch, max(ls), width, theta0, at=ls)
                for i, l in enumerate(mc.depths):
                    r = th["rows"][i]
                    row = {"arch": arch, "theta0": theta0, "N": width, "L": int(l), "mc": float(mc.theta[i]),
                           "se": float(mc.theta_se[i]), "theory_inf": r["theta_theory"],
                           "theory_finite": r["theta_theory_finite"], "valid": r["valid"], "reason": r["reason"],
                           "single_sd_mc": float(mc.single_sd[i]), "single_sd_se": float(mc.single_sd_se[i]),
                           "single_sd_theory": r["single_sd_theory"], "single_mean_mc": float(mc.single_mean[i]),
                           "single_mean_theory": r["single_mean_theory"],
                           "log_q_mean_mc": float(mc.log_q_mean[i]), "log_q_mean_se": float(mc.log_q_mean_se[i]),
                           "log_q_mean_theory": r["log_q_mean_theory"], "log_q_sd_mc": float(mc.log_q_sd[i]),
                           "log_q_sd_theory": r["log_q_sd_theory"], "angle_spread": r["angle_spread"]}
                    rows.append(row)
                    if out is not None:
                        out(format_row(row))
    return rows


def format_row(r) -> str:
    def z(x):
        return "   --  " if x is None else f"{(x - r['mc']) / r['se']:+7.2f}"
    sd = "  -- " if r["single_sd_theory"] is None else f"{r['single_sd_theory'] / r['single_sd_mc']:.3f}"
    return (f"{r['arch']:10s} th0={r['theta0']:.1f} N={r['N']:5d} L={r['L']:4d} L/N={r['L'] / r['N']:.4f} "
            f"mc={r['mc']:.4f}+-{r['se']:.4f} z_finite={z(r['theory_finite'])} z_inf={z(r['theory_inf'])} "
            f"sd_theory/sd_mc={sd} valid={r['valid']}")


if __name__ == "__main__":  # pragma: no cover - a measurement script
    if sys.argv[1] == "grid":
        seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
        grid_rows(seeds=seeds, seed=1, out=lambda s: print(s, flush=True))  # the seeds of the slow test
    elif sys.argv[1] == "points":
        seeds, seed = int(sys.argv[2]), int(sys.argv[3])
        for k, spec in enumerate(sys.argv[4:]):
            arch, theta0, width, depth = spec.split(":")
            theta0, width, depth = float(theta0), int(width), int(depth)
            mc = pair_mc(arch, depth, theta0, width, seeds, seed=seed + k, at=[depth])
            th = finite_width_theory(arch, depth, width, theta0)
            fin = th["theta_theory_finite"]
            print(f"{arch} th0={theta0} N={width} L={depth} mc={mc.theta[-1]:.6f}+-{mc.theta_se[-1]:.6f} "
                  f"theory_inf={th['theta_theory']:.6f} theory_finite={fin} spread={th['angle_spread']:.4f} "
                  f"err_finite={'--' if fin is None else f'{fin - mc.theta[-1]:+.6f}'} "
                  f"sd={mc.single_sd[-1]:.5f}+-{mc.single_sd_se[-1]:.5f} sd_theory={th['single_sd_theory']}",
                  flush=True)
    elif sys.argv[1] == "ratio":
        arch, theta0, depth, seeds = sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        for width in (int(w) for w in sys.argv[6].split(",")):
            mc = pair_mc(arch, depth, theta0, width, seeds, seed=width, at=[depth])
            th = finite_width_theory(arch, depth, width, theta0)
            fin = th["theta_theory_finite"]
            print(f"{arch} th0={theta0} L={depth} N={width} mc={mc.theta[-1]:.6f}+-{mc.theta_se[-1]:.6f} "
                  f"err_inf={th['theta_theory'] - mc.theta[-1]:+.6f} "
                  f"err_finite={'--' if fin is None else f'{fin - mc.theta[-1]:+.6f}'} valid={th['valid']}",
                  flush=True)
