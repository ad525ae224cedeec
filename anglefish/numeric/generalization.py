"""Measured generalization gaps of MLP, ResNet1 and ResNet2 trained by full-batch gradient descent.

The networks are those of :mod:`anglefish.theory.generalization` (``gap_architecture(kind,
activation)``), built, run and trained by the project's one finite-network interpreter
(:func:`anglefish.numeric.fisher.init_params`, :func:`~anglefish.numeric.fisher.ntk_gram`,
:func:`~anglefish.numeric.fisher.network_outputs`, :func:`anglefish.numeric.training.gradient_descent`):
width N = input dimension d, f(x) = v . h^L, standard parameterisation, no biases, all weights
trained.  Loss l = (f - y)^2 / 2; training loss = mean over the n examples; gap = test loss -
training loss of the trained network.

Tasks (inputs are columns, (S, d, n) per replicate; replicate s of every architecture, depth and
n sees the same data, so architectures are compared *paired*)
-----------------------------------------------------------------------------------------------
* ``teacher``: x ~ N(0, I_d), y = beta* . x + eps, beta* ~ N(0, I_d/d) (|beta*|^2 ~ 1),
  eps ~ N(0, noise^2).  Test loss: for linear networks the exact expected loss
  (|beta - beta*|^2 + noise^2)/2 (beta the end-to-end map, read off the outputs at the basis
  vectors); for ReLU networks the mean over ``n_test`` fresh examples.
* ``digits``: classes 0 and 1 of scikit-learn's bundled 8x8 digits
  (:func:`anglefish.numeric.study.cached_dataset`, PCA-whitened on the whole training split),
  the first ``dim`` whitened coordinates (the top principal components), targets -1 / +1.
  Replicate s trains on n examples drawn without replacement from the training split; the test
  loss is the mean over the whole test split.
The largest n is drawn once per replicate and smaller n take its first examples.

Training: eta_s = ``lr_factor`` / lambda_max(K_s/n) per replicate, K_s the NTK Gram of its
training inputs at initialisation (2/lambda_max is the monotone-decrease threshold; the run is
repeated with every eta halved if some replicate's loss turns non-finite or rises above its
initial value at any step), ``steps``
full-batch steps, losses recorded at ``checkpoints``.  Stability, as in its definition: the same
initialisation and step size trained on the sample without example 0 (a uniformly random
example; the data are exchangeable); measured are the change of the loss on the removed
example (its mean is the leave-one-out form of the expected gap) and the mean and max over
test points of the absolute change of the loss.

Cost: the quick settings take about 3 s of CPU for the teacher study; the full teacher study
and the digits study at n = 64 (what the claims run, 90 units) together 84 s of CPU in one process
(137 s before a run that will be repeated with eta halved stopped at its first loss above L_0, and
before the interpreter's per-step overhead was cut; the same numbers, byte for byte:
benchmarks/gap_study_cpu.py, load 2.3-3.0).

Seeds: replicate s of the data draws from ``SeedSequence(seed, spawn_key=(0, task, s))``; the
initialisation of (activation, kind, depth) replicate s from
``SeedSequence(seed, spawn_key=(1, activation, kind, depth, s))`` (indices into ACTIVATIONS,
KINDS); the results do not depend on which other runs are made or in which order.
"""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from ..errors import AnglefishError
from ..theory.generalization import (
    ACTIVATIONS,
    KINDS,
    gap_architecture,
    least_squares_reference,
    linear_population_loss,
    linearized_gd,
    pl_constant,
    stability_bound,
)
from .fisher import _mean_se, check_int, init_params, network_outputs, ntk_gram
from .training import gradient_descent

TASKS = ("teacher", "digits")
#: the study's defaults; QUICK overrides them in quick mode (seconds)
FULL = {"task": "teacher", "activations": list(ACTIVATIONS), "kinds": list(KINDS), "depths": [1, 2, 4, 6, 10],
        "dim": 16, "ns": [8, 64], "seeds": 16, "steps": 1000, "checkpoints": [0, 10, 30, 100, 300, 1000],
        "lr_factor": 1.0, "noise": 0.5, "n_test": 1000, "stability": True}
QUICK = {"depths": [1, 3], "dim": 8, "ns": [4, 32], "seeds": 16, "steps": 200, "checkpoints": [0, 10, 30, 100, 200],
         "n_test": 256}

_CACHE: "OrderedDict[tuple, dict]" = OrderedDict()
_CACHE_SIZE = 6


# ----------------------------------------------------------------------------- tasks
def _generator(seed: int, *key) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key))))


def teacher_task(dim: int, n_max: int, seeds: int, seed: int = 0, noise: float = 0.5, n_test: int = 1000) -> dict:
    """Per replicate: x (d, n_max), beta* ~ N(0, I/d), y = beta*.x + noise N(0, 1), and n_test test examples."""
    dim, n_max, seeds, n_test = (check_int(v, k) for v, k in ((dim, "dim"), (n_max, "n"), (seeds, "seeds"),
                                                               (n_test, "n_test")))
    if not (isinstance(noise, (int, float)) and noise >= 0 and math.isfinite(noise)):
        raise AnglefishError(f"noise must be a non-negative number, got {noise!r}")
    xs, ys, bs, xt, yt = [], [], [], [], []
    for s in range(seeds):
        g = _generator(seed, 0, TASKS.index("teacher"), s)
        beta = g.standard_normal(dim) / math.sqrt(dim)
        x = g.standard_normal((dim, n_max))
        y = beta @ x + noise * g.standard_normal(n_max)
        x_test = g.standard_normal((dim, n_test))
        xs.append(x), ys.append(y), bs.append(beta), xt.append(x_test)
        yt.append(beta @ x_test + noise * g.standard_normal(n_test))
    return {"task": "teacher", "x": np.array(xs), "y": np.array(ys), "x_test": np.array(xt), "y_test": np.array(yt),
            "beta_star": np.array(bs), "noise_var": float(noise) ** 2, "teacher_norm2": 1.0, "dim": dim}


def digits_task(dim: int, n_max: int, seeds: int, seed: int = 0) -> dict:
    """Per replicate: n_max training examples of digits 0/1 (first ``dim`` whitened coordinates,
    targets -1/+1) drawn without replacement; the whole test split as test set."""
    from .study import cached_dataset

    dim, n_max, seeds = check_int(dim, "dim"), check_int(n_max, "n"), check_int(seeds, "seeds")
    data = cached_dataset("digits", None, (0, 1), 1000, 1000, 0)
    if dim > data.dim:
        raise AnglefishError(f"digits has {data.dim} whitened coordinates, dim = {dim} asked")
    pool_x, pool_y = data.x_train[:, :dim], 2.0 * data.y_train - 1.0
    if n_max > len(pool_y):
        raise AnglefishError(f"digits has {len(pool_y)} training images of classes 0 and 1, n = {n_max} asked")
    xs, ys = [], []
    for s in range(seeds):
        idx = _generator(seed, 0, TASKS.index("digits"), s).choice(len(pool_y), size=n_max, replace=False)
        xs.append(pool_x[idx].T), ys.append(pool_y[idx])
    x_test = np.broadcast_to(data.x_test[:, :dim].T, (seeds, dim, len(data.y_test))).copy()
    y_test = np.broadcast_to(2.0 * data.y_test - 1.0, (seeds, len(data.y_test))).copy()
    return {"task": "digits", "x": np.array(xs), "y": np.array(ys), "x_test": x_test, "y_test": y_test,
            "beta_star": None, "noise_var": None, "teacher_norm2": None, "dim": dim}


def make_task(task: str, dim: int, n_max: int, seeds: int, seed: int = 0, noise: float = 0.5,
              n_test: int = 1000) -> dict:
    if task == "teacher":
        return teacher_task(dim, n_max, seeds, seed, noise, n_test)
    if task == "digits":
        return digits_task(dim, n_max, seeds, seed)
    raise AnglefishError(f"task must be one of {', '.join(TASKS)}, got {task!r}")


# ----------------------------------------------------------------------------- linear networks
def tangent_metric(params) -> np.ndarray:
    """M = sum_p dbeta/dtheta_p dbeta/dtheta_p^T (S, d, d) of linear networks: the NTK Gram at the
    basis vectors e_1 .. e_d (K(e_i, e_j) = M_ij)."""
    eye = np.broadcast_to(np.eye(params.in_dim), (params.seeds, params.in_dim, params.in_dim)).copy()
    return ntk_gram(params.arch, params, eye)


def end_to_end(params) -> np.ndarray:
    """beta (S, d) with f(x) = beta . x, for linear networks: the outputs at the basis vectors."""
    eye = np.broadcast_to(np.eye(params.in_dim), (params.seeds, params.in_dim, params.in_dim)).copy()
    return network_outputs(params, eye)


def _losses(params, task: dict, linear: bool, f=None) -> tuple:
    """(test loss (S,), per-test-point losses (S, m)); ``f``: the outputs at the test inputs if known."""
    f = network_outputs(params, task["x_test"]) if f is None else f
    per_point = 0.5 * (f - task["y_test"]) ** 2
    if linear and task["beta_star"] is not None:
        test = linear_population_loss(end_to_end(params), task["beta_star"], task["noise_var"])
    else:
        test = per_point.mean(axis=1)
    return test, per_point


def _train_loss(params, x, y, f=None) -> np.ndarray:
    """Training loss (S,); ``f``: the outputs at x if known."""
    return 0.5 * np.mean(((network_outputs(params, x) if f is None else f) - y) ** 2, axis=1)


# ----------------------------------------------------------------------------- one run
#: a run in which a loss turns non-finite or rises above its initial value is repeated with eta halved,
#: at most this often
MAX_HALVINGS = 3


def _train(params, x, y, eta, checkpoints, task, linear, initial=None, give_up: bool = False) -> dict:
    """GD in place from ``params``, recording training loss and gap at the checkpoints.  ``ok``: every
    replicate's loss stayed finite and never rose above its initial value (no catapult).  ``initial``:
    the outputs (at x, at the test inputs) of ``params`` as given, if known (checkpoint 0 reuses them
    instead of running the same forward passes again).  ``give_up``: a run that is not ok is only
    repeated (:func:`gap_run`), so stop it at the first loss above the initial training loss (the
    first checkpoint's) and return {'ok': False} alone; an ok run is the same either way."""
    gap_at, train_at, done, peak = [], [], 0, None
    with np.errstate(over="ignore", invalid="ignore"):
        for c in checkpoints:
            if c > done:
                ceiling = train_at[0] if give_up and train_at else None
                losses = gradient_descent(params, x, y, eta, c - done, stop_above=ceiling)
                top = np.max(np.where(np.isnan(losses), np.inf, losses), axis=0)
                peak = top if peak is None else np.maximum(peak, top)
                done = c
                if ceiling is not None and np.any(peak > ceiling):
                    return {"ok": False}
            f_train, f_test = initial if (done == 0 and initial is not None) else (None, None)
            train = _train_loss(params, x, y, f_train)
            test, per_point = _losses(params, task, linear, f_test)
            gap_at.append(test - train), train_at.append(train)
    gap_at, train_at = np.array(gap_at), np.array(train_at)
    finite = np.all(np.isfinite(gap_at), axis=0) & np.all(np.isfinite(train_at), axis=0)
    ok = bool(np.all(finite) and (peak is None or np.all(peak <= train_at[0])))
    return {"params": params, "gap_at": gap_at, "train_at": train_at, "test": test, "per_point": per_point,
            "finite": finite, "ok": ok}


def gap_run(activation: str, kind: str, depth: int, n: int, task: dict, seed: int = 0, steps: int = 3000,
            checkpoints=None, lr_factor: float = 1.0, stability: bool = True) -> dict:
    """Train ``S`` networks (one per replicate of ``task``) and measure gap, stability and the theory's inputs.

    Returns per-replicate arrays (S,): ``gap``, ``train``, ``test`` after ``steps`` steps;
    ``gap_at``/``train_at`` (C, S) at ``checkpoints``; ``eta`` (after ``eta_halvings`` halvings:
    a run in which some replicate's loss turns non-finite or rises above its start is repeated from the same initialisation
    with half the step, at most MAX_HALVINGS times; ``diverged`` flags replicates still not finite),
    ``lambda_max`` (of K/n at
    initialisation), ``mu`` (PL constant lambda_min+(K/n) at initialisation), ``bound``
    (2 Lip^2/(mu (n-1)) at initialisation, Lip^2 = max_i r_i^2 K_ii) and ``bound_typical`` (mean
    over i), ``q0`` (mean f_0^2 over the test inputs); with ``stability``: ``loo_delta`` (loss
    change on the removed example), ``stab_mean``/``stab_max`` (mean / max |loss change| over test
    points).  Linear networks add ``lazy_gap`` (the linearised dynamics with the initial tangent
    metric, converged) and ``lazy_gap_at``; with n >= d also ``ls_gap`` (exact least squares),
    ``opt_error`` (training loss minus the least-squares minimum) and ``ls_loo_delta``.
    """
    arch = gap_architecture(kind, activation)
    linear = activation == "linear"
    depth, n, steps = check_int(depth, "depth"), check_int(n, "n"), check_int(steps, "steps")
    x_all, y_all = task["x"], task["y"]
    seeds, dim = x_all.shape[0], task["dim"]
    if n > x_all.shape[2] or n < 2:
        raise AnglefishError(f"n must be between 2 and the task's {x_all.shape[2]} examples, got {n}")
    checkpoints = sorted({int(c) for c in (checkpoints or [0, steps]) if 0 <= int(c) <= steps} | {steps})
    x, y = x_all[:, :, :n].copy(), y_all[:, :n].copy()
    rngs = [_generator(seed, 1, ACTIVATIONS.index(activation), KINDS.index(kind), depth, s) for s in range(seeds)]
    params = init_params(arch, depth, dim, dim, rngs)
    init = params.copy()
    k0 = ntk_gram(arch, params, x)
    lam_max = np.linalg.eigvalsh(k0 / n)[:, -1]
    eta = lr_factor / lam_max
    f0, f0_test = network_outputs(params, x), network_outputs(params, task["x_test"])
    r0 = f0 - y
    out = {"activation": activation, "kind": kind, "architecture": arch.name, "depth": depth, "n": n,
           "dim": dim, "checkpoints": checkpoints, "eta": eta, "lambda_max": lam_max, "mu": pl_constant(k0),
           "bound": stability_bound(k0, r0, "max"), "bound_typical": stability_bound(k0, r0, "mean"),
           "q0": np.mean(f0_test ** 2, axis=1)}
    for halvings in range(MAX_HALVINGS + 1):
        trained = _train(init.copy(), x, y, eta, checkpoints, task, linear, (f0, f0_test),
                         give_up=halvings < MAX_HALVINGS)
        if trained["ok"] or halvings == MAX_HALVINGS:
            break
        eta = eta / 2
    params, per_point = trained["params"], trained["per_point"]
    out.update(eta=eta, eta_halvings=halvings, gap_at=trained["gap_at"], train_at=trained["train_at"],
               gap=trained["gap_at"][-1], train=trained["train_at"][-1], test=trained["test"],
               diverged=~trained["finite"])
    if linear:
        m0, beta0 = tangent_metric(init), end_to_end(init)
        lazy = []
        for c in checkpoints + [None]:
            beta = linearized_gd(m0, x, y, beta0, eta, c)
            train = 0.5 * np.mean((np.einsum("sd,sdn->sn", beta, x) - y) ** 2, axis=1)
            if task["beta_star"] is not None:
                test = linear_population_loss(beta, task["beta_star"], task["noise_var"])
            else:
                test = 0.5 * np.mean((np.einsum("sd,sdn->sn", beta, task["x_test"]) - task["y_test"]) ** 2, axis=1)
            lazy.append(test - train)
        out["lazy_gap_at"], out["lazy_gap"] = np.array(lazy[:-1]), lazy[-1]
    if linear and n >= dim and task["beta_star"] is not None:
        ref = least_squares_reference(x, y)
        ls_test = linear_population_loss(ref["beta"], task["beta_star"], task["noise_var"])
        out.update(ls_gap=ls_test - ref["train_loss"], opt_error=out["train"] - ref["train_loss"])
        if n > dim + 1:
            out["ls_loo_delta"] = ref["loo_loss"] - 0.5 * (np.einsum("sd,sd->s", ref["beta"], x[:, :, 0]) - y[:, 0]) ** 2
    elif linear and n >= dim:
        ref = least_squares_reference(x, y)
        f_ls = np.einsum("sd,sdm->sm", ref["beta"], task["x_test"])
        out.update(ls_gap=0.5 * np.mean((f_ls - task["y_test"]) ** 2, axis=1) - ref["train_loss"],
                   opt_error=out["train"] - ref["train_loss"])
    if stability:
        loo = init
        with np.errstate(over="ignore", invalid="ignore"):
            gradient_descent(loo, x[:, :, 1:].copy(), y[:, 1:].copy(), eta, steps)
            removed = lambda p: 0.5 * (network_outputs(p, x[:, :, :1])[:, 0] - y[:, 0]) ** 2
            _, per_point_loo = _losses(loo, task, linear)
            change = np.abs(per_point_loo - per_point)
        out.update(loo_delta=removed(loo) - removed(params), stab_mean=change.mean(axis=1),
                   stab_max=change.max(axis=1))
    return out


# ----------------------------------------------------------------------------- the study
def _settings(quick: bool, overrides: dict | None) -> dict:
    s = dict(FULL)
    if quick:
        s.update(QUICK)
    for key, value in (overrides or {}).items():
        if key not in FULL:
            raise AnglefishError(f"unknown gap-study setting {key!r}; known: {', '.join(sorted(FULL))}")
        s[key] = value
    s = {k: (list(v) if isinstance(v, tuple) else v) for k, v in s.items()}
    for a in s["activations"]:
        if a not in ACTIVATIONS:
            raise AnglefishError(f"activations must be among {', '.join(ACTIVATIONS)}, got {a!r}")
    for k in s["kinds"]:
        if k not in KINDS:
            raise AnglefishError(f"kinds must be among {', '.join(KINDS)}, got {k!r}")
    if s["task"] not in TASKS:
        raise AnglefishError(f"task must be one of {', '.join(TASKS)}, got {s['task']!r}")
    if check_int(s["seeds"], "seeds") < 2:
        raise AnglefishError(f"seeds must be at least 2 (standard errors), got {s['seeds']}")
    for v in s["depths"]:
        check_int(v, "depth")
    for v in s["ns"]:
        check_int(v, "n", 2)
    return s


def summarize(values) -> dict:
    """Mean, standard error (sd/sqrt(S), ddof 1) and the 95% t-interval of the finite per-replicate values."""
    from scipy.stats import t as student

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": math.nan, "se": math.nan, "ci_low": math.nan, "ci_high": math.nan, "count": 0}
    mean, se = _mean_se(v)
    half = float(student.ppf(0.975, v.size - 1)) * se if v.size > 1 else math.nan
    return {"mean": mean, "se": se, "ci_low": mean - half, "ci_high": mean + half, "count": int(v.size)}


def _task(s: dict, seed: int) -> dict:
    return make_task(s["task"], int(s["dim"]), max(int(v) for v in s["ns"]), int(s["seeds"]), seed,
                     float(s["noise"]), int(s["n_test"]))


def gap_cell(settings: dict, seed: int, activation: str, kind: str, depth: int, n: int) -> dict:
    """One :func:`gap_run` of the study with these (complete) settings and master ``seed`` (a unit of
    work; the task is rebuilt from its seed)."""
    s = _settings(False, settings)
    return gap_run(activation, kind, depth, n, _task(s, seed), seed, int(s["steps"]), s["checkpoints"],
                   float(s["lr_factor"]), bool(s["stability"]))


def gap_study_units(quick: bool = True, seed: int = 0, **overrides) -> list:
    """The study's units of work, one :func:`gap_cell` per (activation, depth, n, kind), in run order."""
    from ..units import COST_PER_SECOND, unit

    s = _settings(quick, overrides)
    return [unit(gap_cell, settings=s, seed=int(seed), activation=a, kind=k, depth=int(L), n=int(n_),
                 cost=COST_PER_SECOND * int(s["seeds"]) * int(s["steps"]) * int(L) * int(n_) * int(s["dim"]) ** 2
                 / 5.9e8)  # ~ CPU seconds of a cell (measured at 5374084)
            for a in s["activations"] for L in s["depths"] for n_ in s["ns"] for k in s["kinds"]]


def gap_study(quick: bool = True, seed: int = 0, progress=None, workers: int | None = 1, **overrides) -> dict:
    """Every (activation, kind, depth, n) of the settings (``FULL``, ``QUICK`` in quick mode,
    then ``overrides``): a list of :func:`gap_run` results under ``runs`` plus ``settings``.

    Remembered per (settings, seed) for the process, so the figure and the claims share one run.
    The runs are units of work (:func:`gap_study_units`) on ``workers`` processes; the numbers do not
    depend on it.  ``progress(done, total)`` is called after each run.
    """
    from ..units import run_units

    s = _settings(quick, overrides)
    key = (repr(sorted(s.items())), int(seed))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    task = _task(s, seed)
    runs = run_units(gap_study_units(quick, seed, **overrides), workers, progress)
    result = {"settings": s, "seed": int(seed), "runs": runs,
              "task": {k: task[k] for k in ("task", "dim", "noise_var", "teacher_norm2")}}
    _CACHE[key] = result
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


def find_run(result: dict, activation: str, kind: str, depth: int, n: int) -> dict:
    for r in result["runs"]:
        if (r["activation"], r["kind"], r["depth"], r["n"]) == (activation, kind, depth, n):
            return r
    raise AnglefishError(f"no run for {activation} {kind} depth {depth} n {n} in this study")
