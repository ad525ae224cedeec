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


#: what each theory column is the limit of (``angle_table(..., finite_width=True)``)
THEORY_LIMITS = {
    "theta_theory": "N -> oo: the exact infinite-width kernel map",
    "log_q_theory": "N -> oo: the exact infinite-width norm map",
    "theta_theory_finite": ("the paper's seed-averaged angle at this width N to O(1/N) (finite-width theory; "
                            "remainder O((L/N)^2): within 0.3 (L/N)^2 rad where measured, ReLU networks with N <= 1024, "
                            "L/N <= 1/4)"),
    "single_mean_theory": "mean of the single-network angle at this width N, to O(1/N)",
    "single_sd_theory": "sd of the single-network angle at this width N, to O(1/N) (delta method)",
}
FINITE_KEYS = ("theta_theory_finite", "single_mean_theory", "single_sd_theory")


def finite_width_columns(arch, depth: int, width: int, theta0: float, depths) -> tuple[list, str | None]:
    """Per recorded depth, the finite-width theory columns of :data:`FINITE_KEYS` (None with a
    ``<key>_note`` where the theory is not valid), and a note if it is not derived at all.
    See :func:`anglefish.theory.finite_width.finite_width_theory`."""
    from ..theory.finite_width import finite_width_theory

    try:
        th = finite_width_theory(arch, int(depth), int(width), float(theta0), at=[int(l) for l in depths])
    except AnglefishError as err:
        why = f"no finite-width theory: {err}"
        return [{**{k: None for k in FINITE_KEYS}, **{f"{k}_note": why for k in FINITE_KEYS}} for _ in depths], why
    by_depth = {r["l"]: r for r in th["rows"]}
    cols = []
    for l in depths:
        r = by_depth[int(l)]
        row = {k: r[k] for k in FINITE_KEYS}
        if not r["valid"]:
            row.update({f"{k}_note": f"finite-width theory not valid here: {r['reason']}" for k in FINITE_KEYS})
        cols.append(row)
    return cols, None


def finite_width_warning(rows, width: int) -> str | None:
    """One line about the finite-width bias of the Monte Carlo, or None.

    "explained": at some recorded depth theta_mc differs from theta_theory (N -> oo) by more than
    its SE, the O(1/N) shift theta_theory_finite - theta_theory is itself larger than the SE, and
    theta_mc agrees with theta_theory_finite within z SE + FINITE_WIDTH_ALLOWANCE (L/N)^2 (z for a
    two-sided false-alarm rate DEFAULT_ALPHA = 1e-3 per row, the tolerance model of verify); the
    depth where theta_mc is the most SEs from theta_theory is named.  "unexplained" (takes
    precedence): theta_mc misses both theories by more than that tolerance at some depth where the
    finite-width theory is valid."""
    from ..verify.tolerance import DEFAULT_ALPHA, FINITE_WIDTH_ALLOWANCE, z_for

    z = z_for(DEFAULT_ALPHA)
    explained, unexplained = None, None
    for r in rows:
        inf, fin, mc, se = (r.get(k) for k in ("theta_theory", "theta_theory_finite", "theta_mc", "theta_mc_se"))
        if inf is None or fin is None or mc is None or se is None or not (np.isfinite(se) and se > 0):
            continue
        tol = z * se + FINITE_WIDTH_ALLOWANCE * (r["l"] / width) ** 2
        off_inf, off_fin = abs(mc - inf) / se, abs(mc - fin) / se
        if abs(mc - fin) <= tol:
            if off_inf > 1 and abs(fin - inf) > se and (explained is None or off_inf > explained[0]):
                explained = (off_inf, off_fin, r["l"], mc - inf)
        elif abs(mc - inf) > z * se and (unexplained is None or off_fin > unexplained[1]):
            unexplained = (off_inf, off_fin, r["l"], mc - inf)
    if unexplained is not None:
        off_inf, off_fin, l, _ = unexplained
        return (f"at l = {l} theta_mc misses both the infinite-width theory (theta_theory, N -> oo; by "
                f"{off_inf:.1f} SE) and the finite-width theory (theta_theory_finite, O(1/N) at N = {width}; by "
                f"{off_fin:.1f} SE, beyond its tolerance z SE + {FINITE_WIDTH_ALLOWANCE:g} (L/N)^2 at alpha = "
                f"{DEFAULT_ALPHA:g})")
    if explained is None:
        return None
    off_inf, off_fin, l, gap = explained
    return (f"theta_mc differs from the infinite-width theory (theta_theory, N -> oo) by {gap:+.3g} rad = "
            f"{off_inf:.1f} SE at l = {l}: that is the finite-width bias, which grows like L/N; the O(1/N) theory at N = {width} (theta_theory_finite) agrees within {off_fin:.1f} SE")


def angle_table(arch, depth: int, theta0: float, width: int, seeds: int, batch: int | None = None,
                sampler: str = "gram", bn: str | None = None, seed: int = 0, every: int = 1,
                dtype=np.float64, progress=None, finite_width: bool = False, workers: int | None = 1) -> dict:
    """Monte Carlo and theory of the pair angle through depth, JSON-ready.

    ``finite_width``: also give the finite-width (O(1/N)) theory at this width
    (:data:`FINITE_KEYS`, None with a note where it is not valid or not derived), what each
    theory column is the limit of (``theory_limits``) and ``finite_width_warning`` (see
    :func:`finite_width_warning`; None when there is nothing to warn about).
    Off by default: it derives the O(1/N) recursion with SymPy (seconds, once per process).
    ``workers``: processes over blocks of seeds (:func:`pair_trajectory`; the numbers do not depend
    on it)."""
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
    if finite_width:
        if theory is None:
            cols, why = [{k: None for k in FINITE_KEYS}] * len(rows), out["theory_note"]
        else:
            cols, why = finite_width_columns(arch, depth, width, theta0, traj.depths)
        for row, col in zip(rows, cols):
            row.update(col)
        out["theory_limits"] = dict(THEORY_LIMITS)
        out["finite_width_note"] = why
        out["finite_width_warning"] = finite_width_warning(rows, width)
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
