"""Angles through depth: theory and Monte Carlo side by side (what ``anglefish angles`` prints)."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..errors import AnglefishError
from ..seeds import generators
from ..theory.architectures import get_architecture
from ..theory.blocks import BatchNorm
from .estimators import pair_statistics
from .inputs import pair_batch
from .simulate import BN_KINDS, SAMPLERS, Trajectory, simulate

CONVENTION = ("theta in radians between inputs 0 and 1 of the batch; depth l = number of blocks applied; "
              "theta_mc = arccos of seed-averaged inner products over seed-averaged norms (the paper's "
              "angle), theta_mc_se its jackknife standard error over seeds; theta_single_* = mean and sd "
              "of the angles of single networks; log_q = natural log of the per-unit second moment "
              "||h||^2/N (inputs with per-coordinate variance 1), log_q_mc averaged over seeds and both inputs")


def theory_rows(arch, theta0: float, depth: int, every: int = 1, at=None, progress=None):
    """(depths, theta, log_q) from the exact map, or None where no closed map exists."""
    from ..theory.evaluate import maps_for_depth

    try:
        nm = maps_for_depth(get_architecture(arch), depth)
    except AnglefishError:
        return None
    ls, theta, log_q = nm.iterate(theta0, depth, every=every, at=at, progress=progress)
    return ls, theta[:, 0], log_q


def angle_table(arch, depth: int, theta0: float, width: int, seeds: int, batch: int | None = None,
                sampler: str = "gram", bn: str | None = None, seed: int = 0, every: int = 1,
                dtype=np.float64, progress=None, workers: int | None = 1) -> dict:
    """Monte Carlo and theory of the pair angle through depth, JSON-ready.  ``workers``: processes over
    blocks of seeds (:func:`pair_trajectory`; the numbers do not depend on it)."""
    arch = get_architecture(arch)
    if sampler not in SAMPLERS:
        raise AnglefishError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if bn is not None and bn not in BN_KINDS:
        raise AnglefishError(f"bn must be one of {', '.join(BN_KINDS)}, got {bn!r}")
    has_bn = arch.uses(BatchNorm)
    kinds = {b.kind for b in arch.block.walk() if isinstance(b, BatchNorm)}
    effective_bn = (bn or (kinds.pop() if len(kinds) == 1 else None)) if has_bn else None
    if batch is None:
        batch = 32 if effective_bn == "batch" else 2
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 2:
        raise AnglefishError(f"seeds must be an integer >= 2 (standard errors need two), got {seeds!r}")
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 2:
        raise AnglefishError(f"width must be an integer >= 2, got {width!r}")
    if width < batch and sampler == "gram" and batch > 2:
        raise AnglefishError(f"width {width} must be at least the batch {batch} with the Gram sampler")
    traj = pair_trajectory(arch, depth, theta0, width, seeds, batch=batch, sampler=sampler, bn=bn, seed=seed,
                           every=every, dtype=dtype, workers=workers, progress=progress)
    with np.errstate(all="ignore"):  # networks whose output vanished give 0/0: reported below
        stats = pair_statistics(traj)
    theory = None if effective_bn == "batch" else theory_rows(arch, theta0, depth, at=traj.depths)
    g = traj.pair_gram
    dead = np.sum((g[..., 0, 0] <= 0) | (g[..., 1, 1] <= 0), axis=1)  # networks with a zero output, per depth
    # networks whose second moment is below float64's 16 digits relative to the largest vanish from
    # the seed sums (log-norms of deep narrow networks spread over many e-folds)
    with np.errstate(divide="ignore"):
        log_q = np.log(np.maximum(g[..., 0, 0], 0.0)) + 2 * traj.log_scale
    lost = np.sum(log_q - log_q.max(axis=1, keepdims=True) < math.log(np.finfo(float).eps), axis=1)
    rows = []
    for i, l in enumerate(traj.depths):
        row = {
            "l": int(l),
            "theta_theory": None if theory is None else float(theory[1][i]),
            "log_q_theory": None if theory is None else float(theory[2][i]),
            "theta_mc": float(stats.theta_mc[i]),
            "theta_mc_se": float(stats.theta_mc_se[i]),
            "theta_single_mean": float(stats.theta_single_mean[i]),
            "theta_single_sd": float(stats.theta_single_sd[i]),
            "log_q_mc": float(stats.log_q_mc[i]),
            "log_q_mc_se": float(stats.log_q_mc_se[i]),
        }
        for key, value in list(row.items()):
            if isinstance(value, float) and not np.isfinite(value):
                row[key + "_note"] = _why_not_finite(key, int(dead[i]), int(lost[i]), seeds)
        rows.append(row)
    out = {"architecture": arch.name, "theta0": float(theta0), "depth": int(depth), "width": int(width),
           "seeds": int(seeds), "batch": int(batch), "sampler": sampler, "bn": effective_bn, "seed": int(seed),
           "rows": rows, "convention": CONVENTION}
    if theory is None:
        out["theory_note"] = ("no theory: batch-statistics BN has no closed kernel map" if effective_bn == "batch"
                              else "no theory: the exact map of this architecture could not be evaluated")
    return out


def seed_block(arch, depth: int, theta0: float, width: int, seed: int, start: int, stop: int, batch: int = 2,
               sampler: str = "gram", bn: str | None = None, every: int = 1, dtype="float64",
               progress=None) -> Trajectory:
    """The pair's trajectory for networks start .. stop-1 of a run with master ``seed``: network s
    draws its inputs and every weight from generator s of SeedSequence(seed) (spawn key (s,)) only,
    so blocks of any size give the networks of one run of all of them (a unit of work)."""
    arch = get_architecture(arch)
    dtype = np.dtype(dtype).type
    rngs = generators(seed, stop - start, start=start)
    x = pair_batch(theta0, width, batch, rngs, dtype=dtype, gaussian=arch.gaussian_inputs)
    return simulate(arch, x, depth, width, rngs, sampler=sampler, bn=bn, every=every, dtype=dtype,
                    progress=progress, seed=seed)


def pair_trajectory(arch, depth: int, theta0: float, width: int, seeds: int, batch: int = 2, sampler: str = "gram",
                    bn: str | None = None, seed: int = 0, every: int = 1, dtype=np.float64, workers: int | None = 1,
                    progress=None) -> Trajectory:
    """:func:`seed_block` of all ``seeds`` networks, run as blocks of seeds on ``workers`` processes
    (:func:`anglefish.units.run_units`; one block in this process for workers = 1) and joined along
    the seed axis.  ``progress(done, total)``: blocks done (layers done for one block)."""
    from ..units import arch_name, blocks, run_units, unit

    parts = blocks(seeds, workers)
    if len(parts) == 1:
        return seed_block(arch, depth, theta0, width, seed, 0, seeds, batch, sampler, bn, every,
                          np.dtype(dtype).name, progress)
    name = arch_name(arch)
    results = run_units([unit(seed_block, arch=name, depth=depth, theta0=float(theta0), width=width, seed=seed,
                              start=a, stop=b, batch=batch, sampler=sampler, bn=bn, every=every,
                              dtype=np.dtype(dtype).name, cost=b - a) for a, b in parts], workers, progress)
    first = results[0]
    return replace(first, pair_gram=np.concatenate([t.pair_gram for t in results], axis=1),
                   log_scale=np.concatenate([t.log_scale for t in results], axis=1))


def _why_not_finite(key: str, dead: int, lost: int, seeds: int) -> str:
    """Why a Monte Carlo number of an angle table is not finite: a network whose output is
    exactly zero (every ReLU unit off) has no angle and a log-norm of -inf; networks whose
    second moment is below 1e-16 of the largest vanish from the float64 seed sums, and when only
    one is left its leave-one-out (jackknife) average is 0/0."""
    if dead:
        return (f"{dead} of {seeds} networks output exactly zero at this depth (every unit off): "
                f"their angle is undefined and their log-norm is -inf")
    if lost:
        return (f"{lost} of {seeds} networks have second moments below 1e-16 of the largest at this depth "
                f"and vanish from the float64 seed sums, so {key} rests on too few networks")
    return f"{key} is not finite at this depth (overflow or 0/0 in float64)"


def compare_bn_kinds(arch, depth: int, theta0: float, width: int, seeds: int, batch: int = 32,
                     seed: int = 0, every: int = 1, progress=None, workers: int | None = 1) -> dict:
    """Batch-statistics BN against population BN on the same architecture, per depth.

    Both runs use the same master seed and batch; the gap's standard error combines the
    two jackknife errors as if independent (conservative: common random numbers would
    only shrink it).
    """
    runs = {kind: angle_table(arch, depth, theta0, width, seeds, batch=batch, bn=kind, seed=seed,
                              every=every, progress=progress, workers=workers) for kind in BN_KINDS}
    rows = []
    for pop, bat in zip(runs["population"]["rows"], runs["batch"]["rows"]):
        rows.append({"l": pop["l"], "theta_theory": pop["theta_theory"],
                     "theta_population": pop["theta_mc"], "theta_population_se": pop["theta_mc_se"],
                     "theta_batch": bat["theta_mc"], "theta_batch_se": bat["theta_mc_se"],
                     "gap": bat["theta_mc"] - pop["theta_mc"],
                     "gap_se": float(np.hypot(pop["theta_mc_se"], bat["theta_mc_se"]))})
    return {"architecture": get_architecture(arch).name, "theta0": theta0, "width": width, "seeds": seeds,
            "batch": batch, "seed": seed, "rows": rows}
