"""Full-batch gradient descent on dense random networks, and the monotone-decrease threshold.

Convention: the network, its parameters and the FIM are those of :mod:`anglefish.numeric.fisher`
(f(x) = v^T h^L, standard parameterisation, all weights including v trained, no biases).
Loss L(theta) = (1/2T) sum_t (f(x_t) - y_t)^2 on T fixed inputs; one step is
theta <- theta - eta grad L(theta), all parameters at once.  Population BN stays a fixed
division (a constant of the architecture); batch BN is differentiated through its statistics.

Targets (``targets=``):
* ``'teacher'`` (default): y_t = g(x_t), the output of an independent random network g of the
  same architecture, depth and width (own generator, see :func:`teacher_generators`).
* ``'sign'``: y_t = sign(w . x_t) with w ~ N(0, I_D) (labels +-1).

Why the monotone threshold is ~ 2 / lambda_max: near the initialisation the residual
r = f - y obeys the linearised dynamics r <- (I - eta K/T) r (K the empirical NTK Gram,
K/T having the nonzero spectrum of the FIM F = Hessian of L at zero residual).  Every mode
with eta lambda_i < 2 shrinks in modulus and the loss sum_i c_i (1 - eta lambda_i)^{2k} falls
at every step; for eta > 2/lambda_max the top mode grows by |1 - eta lambda_max| > 1 per step
and the loss eventually rises.  How soon depends on the residual's weight on the top
eigenvector (close to the all-ones direction: all outputs share a common component) and on
how fast the other modes fall, hence a step budget K (``steps``) rather than a single step.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import AnglefishError
from ..theory.architectures import Architecture, get_architecture
from ..theory.blocks import BN_KINDS
from ..validation import TARGETS, check_choice, check_dtype, check_int
from .fisher import (
    Params,
    _backward_network,
    _check_inputs,
    _forward_network,
    draw_inputs,
    init_params,
    ntk_gram,
)
from ..seeds import generators
from .network import Weights, one_blas_thread

#: A step "raises the loss" when L_{k+1} > L_k (1 + RISE_RTOL) while L_k >= CONVERGED x L_0.
#: Why the floor: the outputs f carry float64 rounding of order 1e-14 |f| after a deep forward
#: pass, so once |f - y| ~ 1e-4 |f| (L ~ 1e-8 L_0) the computed loss has relative noise ~1e-10,
#: still below RISE_RTOL; further down, rounding alone could fake a "rise".  The rises that
#: decide the threshold happen while L is of order L_0, many orders above the floor.
RISE_RTOL = 1e-9
CONVERGED = 1e-8


def _check_eta(eta) -> float:
    try:
        eta = float(eta)
    except (TypeError, ValueError):
        raise AnglefishError(f"learning rate eta must be a positive number, got {eta!r}") from None
    if not (eta > 0 and math.isfinite(eta)):
        raise AnglefishError(f"learning rate eta must be a positive finite number, got {eta!r}")
    return eta


def loss_and_gradient(params: Params, x: np.ndarray, y: np.ndarray):
    """(loss (S,), gradient) of L = (1/2T) sum_t (f(x_t) - y_t)^2 per seed.

    The gradient is a pair (list of dL/dW like params.weights, dL/dv like params.readout).
    Manual backward pass (no autodiff): cotangent (r_t / T) v at h_L(x_t), pulled back
    through every block; dL/dW = G H^T at each Dense.
    """
    x = _check_inputs(params, x)
    return _loss_and_gradient(params, x, _check_targets(params, x, y))


def _check_targets(params: Params, x: np.ndarray, y) -> np.ndarray:
    """Targets y (S, T) for checked inputs x, as float64."""
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (params.seeds, x.shape[2]):
        raise AnglefishError(f"targets must have shape (seeds, samples) = {(params.seeds, x.shape[2])}, "
                             f"got {y.shape}")
    return y


def _loss_and_gradient(params: Params, x: np.ndarray, y: np.ndarray):
    """:func:`loss_and_gradient` of inputs and targets already checked (:func:`_check_inputs`,
    :func:`_check_targets`): the step loops check them once, not on every step."""
    h_l, caches, f = _forward_network(params, x)
    t = x.shape[2]
    grads = [None] * len(params.weights)

    def on_dense(index, h, g):
        grads[index] = np.matmul(g[:, 0], h.transpose(0, 2, 1))

    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run overflows: reported as inf
        r = f - y
        value = 0.5 * np.mean(r * r, axis=1)
        scaled = (r / t).astype(params.dtype, copy=False)
        g = params.readout[:, None, :, None] * scaled[:, None, None, :]
        _backward_network(params, caches, g, on_dense)
        grad_v = np.einsum("snt,st->sn", h_l, scaled)
    return value, (grads, grad_v)


def loss(params: Params, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """L = (1/2T) sum_t (f(x_t) - y_t)^2 per seed, shape (S,)."""
    return _loss(params, _check_inputs(params, x), np.asarray(y, dtype=np.float64))


def _loss(params: Params, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:func:`loss` of checked inputs x and float64 targets y."""
    with np.errstate(over="ignore", invalid="ignore"):
        f = _forward_network(params, x)[2]
        r = f - y
        return 0.5 * np.mean(r * r, axis=1)


def rose(prev: np.ndarray, cur: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Per seed: did the step prev -> cur raise the loss?  cur > prev (1 + RISE_RTOL), counted only
    while prev >= CONVERGED x first (L_0); a non-finite cur after a finite prev is a rise."""
    return (cur > prev * (1 + RISE_RTOL)) & (prev >= CONVERGED * first)


def _loss_step(params: Params, x, y, with_gradient: bool):
    """(loss per seed with overflow as inf, gradient or (None, None)) at the current parameters, for
    inputs and targets checked once by the caller (:func:`_checked`)."""
    if with_gradient:
        lk, grads = _loss_and_gradient(params, x, y)
    else:
        lk, grads = _loss(params, x, y), (None, None)
    return np.where(np.isfinite(lk), lk, np.inf), grads


def _checked(params: Params, x, y):
    """(x, y) checked and converted once for a loop of steps (:func:`_loss_step`)."""
    x = _check_inputs(params, x)
    return x, _check_targets(params, x, y)


def _descend(params: Params, gw: list, gv: np.ndarray, step_w: np.ndarray, step_v: np.ndarray,
             own: bool = True) -> None:
    """theta <- theta - step x gradient, in place (steps: numpy scalars or arrays): the one update rule of
    every GD loop here (and figF3's).  ``own``: the gradients are the caller's to overwrite, so each is
    scaled in place (g x step is the product step x g, element for element) when it has the step's dtype
    (the product's dtype unchanged); otherwise (or with ``own=False``: gradients shared between runs)
    through a temporary -- the same numbers either way."""
    with np.errstate(over="ignore", invalid="ignore"):
        for w, g in zip(params.weights, gw):
            if own and g.dtype == step_w.dtype:
                g *= step_w
                w -= g
            else:
                w -= step_w * g
        if own and gv.dtype == step_v.dtype:
            gv *= step_v
            params.readout -= gv
        else:
            params.readout -= step_v * gv


def gradient_descent(params: Params, x: np.ndarray, y: np.ndarray, eta: float, steps: int,
                     stop_on_rise: bool = False, stop_when_converged: bool = False, stop_above=None):
    """Run up to ``steps`` full-batch GD steps in place on ``params``; return the losses L_0 .. L_steps.

    ``eta``: one positive step size, or one per seed (a sequence of S positive numbers).
    Returns an array (steps + 1, S); a non-finite loss is recorded as inf (and the run stops);
    rows after an early stop are nan.  ``stop_on_rise``: stop at the first step that raised any
    seed's loss (:func:`rose`).  ``stop_when_converged``: stop once every seed's loss is below
    CONVERGED x L_0.  ``stop_above`` (S values): stop at the first loss of some seed s above
    ``stop_above[s]`` (the generalization study's runs stop as soon as they are known to be repeated).
    """
    if np.ndim(eta) == 0:
        step = params.dtype(_check_eta(eta))
        step_w, step_v = step, step
    else:
        if np.shape(eta) != (params.seeds,):
            raise AnglefishError(f"per-seed learning rates need shape ({params.seeds},), got {np.shape(eta)}")
        step = np.array([_check_eta(e) for e in eta], dtype=params.dtype)
        step_w, step_v = step[:, None, None], step[:, None]
    steps = check_int(steps, "steps")
    x, y = _checked(params, x, y)
    losses = np.full((steps + 1, params.seeds), np.nan)
    for k in range(steps + 1):
        lk, (gw, gv) = _loss_step(params, x, y, k < steps)
        losses[k] = lk
        if k == steps or not np.all(np.isfinite(lk)):
            break
        if stop_on_rise and k > 0 and np.any(rose(losses[k - 1], lk, losses[0])):
            break
        if stop_when_converged and np.all(lk < CONVERGED * losses[0]):
            break
        if stop_above is not None and np.any(lk > stop_above):
            break
        _descend(params, gw, gv, step_w, step_v)
    return losses


def teacher_generators(seed: int, seeds: int = 1, start: int = 0) -> list:
    """The targets' generators: for student seed s (generator s of ``spawn_generators(seed, .)``,
    i.e. SeedSequence(seed, spawn_key=(s,))) the teacher draws from its first child,
    SeedSequence(seed, spawn_key=(s, 0)): independent of the student, fixed by (seed, s).
    Students start .. start + seeds - 1."""
    return [np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(s, 0))))
            for s in range(start, start + seeds)]


def make_targets(arch: Architecture | str, depth: int, width: int, x: np.ndarray, seed: int,
                 targets: str = "teacher", bn: str | None = None, start: int = 0) -> np.ndarray:
    """Targets (S, T) for per-seed inputs x (S, D, T) of seeds start .. start + S - 1: 'teacher' or
    'sign' (module docstring).  Seed s's targets come from its teacher generator
    (:func:`teacher_generators`) only."""
    arch = get_architecture(arch)
    if targets not in TARGETS:
        raise AnglefishError(f"targets must be one of {', '.join(TARGETS)}, got {targets!r}")
    x = np.asarray(x)
    if x.ndim != 3:
        raise AnglefishError(f"inputs must have shape (seeds, dim, samples), got {x.shape}")
    gens = teacher_generators(seed, x.shape[0], start)
    if targets == "teacher":
        teacher = init_params(arch, depth, width, x.shape[1], gens, bn=bn, dtype=x.dtype.type)
        _, _, y = _forward_network(teacher, _check_inputs(teacher, x))
        return np.asarray(y, dtype=np.float64)
    w = np.stack([g.standard_normal(x.shape[1]) for g in gens])
    return np.sign(np.einsum("sd,sdt->st", w, x.astype(np.float64)))


def _draw_problem(arch, depth, width, samples, seed, targets, bn, dtype, inits: int = 1, start: int = 0):
    """Validated arguments and the drawn problem of ``inits`` initialisations start .. start + inits - 1:
    (arch, params, x, y).  Initialisation s is generator s of SeedSequence(seed) (spawn key (s,)) --
    inputs, then weights, as :func:`fisher_spectrum` draws them -- with the targets of
    :func:`make_targets`."""
    arch = get_architecture(arch)
    depth = check_int(depth, "depth")
    width = check_int(width, "width")
    samples = check_int(samples, "samples")
    inits = check_int(inits, "inits")
    check_choice(bn, "bn", BN_KINDS, allow_none=True)
    if arch.uses_batch_bn(bn) and samples < 2:
        raise AnglefishError("batch-statistics BatchNorm needs at least 2 inputs (samples >= 2)")
    if targets not in TARGETS:
        raise AnglefishError(f"targets must be one of {', '.join(TARGETS)}, got {targets!r}")
    dtype = check_dtype(dtype)
    rngs = generators(seed, inits, start=start)
    x = draw_inputs(width, samples, rngs, dtype)
    params = init_params(arch, depth, width, width, rngs, bn=bn, dtype=dtype)
    y = make_targets(arch, depth, width, x, seed, targets, bn, start)
    return arch, params, x, y


def _setup(arch, depth, width, samples, seed, targets, bn, dtype):
    # one initialisation: the same as fisher_spectrum(seed=seed, seeds=1, sampler="dense")
    return _draw_problem(arch, depth, width, samples, seed, targets, bn, dtype)


def train(arch: Architecture | str, depth: int, width: int, samples: int, seed: int, eta: float,
          steps: int, targets: str = "teacher", bn: str | None = None, dtype=np.float64) -> np.ndarray:
    """Losses L_0 .. L_steps of full-batch GD from the initialisation of ``seed`` (shape (steps+1,))."""
    eta = _check_eta(eta)
    steps = check_int(steps, "steps")
    _, params, x, y = _setup(arch, depth, width, samples, seed, targets, bn, dtype)
    return gradient_descent(params, x, y, eta, steps)[:, 0]


def _bisect_log(pred, lo, hi, tolerance):
    """Bisect on log(eta) with pred(lo) False, pred(hi) True, until hi/lo <= 1 + tolerance."""
    evaluations = 0
    while hi / lo > 1 + tolerance:
        mid = math.sqrt(lo * hi)
        evaluations += 1
        if pred(mid):
            hi = mid
        else:
            lo = mid
    return lo, hi, evaluations


def _rise_stop(ls: np.ndarray) -> int:
    """The step at which ``gradient_descent(..., stop_on_rise=True, stop_when_converged=True)`` stops a
    run with losses ``ls`` (L_0, L_1, ...): the first non-finite loss, rise (:func:`rose`) or loss below
    CONVERGED x L_0, else the last step."""
    for k in range(len(ls)):
        if not np.isfinite(ls[k]) or ls[k] < CONVERGED * ls[0] or (k and rose(ls[k - 1], ls[k], ls[0])):
            return k
    return len(ls) - 1


def _rise_run(params: Params, x, y, eta: float, steps: int, first: np.ndarray, grads) -> np.ndarray:
    """The losses L_0 .. L_K (K: where it stops) of network 0's run in :func:`monotone_threshold`, equal
    bit for bit to those of ``gradient_descent(params.copy(), x, y, eta, steps, stop_on_rise=True,
    stop_when_converged=True)``, for less work: step 0's loss ``first`` and gradient ``grads`` (the same
    for every eta) are given, and L_1 is computed by a forward pass alone -- most runs above the
    threshold rise at the first step and stop there.  Otherwise the run goes on from step 1 with
    :func:`gradient_descent` (whose stopping rules, measured against L_1 instead of L_0, never stop it
    before the run from step 0 would stop), and the losses are cut where the run from step 0 stops."""
    p = params.copy()
    step = p.dtype(_check_eta(eta))
    _descend(p, grads[0], grads[1], step, step, own=False)  # step 0's gradient serves every eta: not scaled in place
    ls = np.array([first[0], _loss_step(p, x, y, False)[0][0]])
    if steps > 1 and np.isfinite(ls[1]) and ls[1] >= CONVERGED * ls[0] and not rose(ls[0], ls[1], ls[0]):
        rest = gradient_descent(p, x, y, eta, steps - 1, stop_on_rise=True, stop_when_converged=True)[:, 0]
        ls = np.concatenate([ls[:1], rest[~np.isnan(rest)]])  # nan only marks steps not run
    return ls[:_rise_stop(ls) + 1]


def monotone_threshold(arch: Architecture | str, depth: int, width: int, samples: int, seed: int,
                       steps: int = 50, targets: str = "teacher", bn: str | None = None,
                       tolerance: float = 0.01, divergence_factor: float = 1e3,
                       divergence_search: float | None = 64.0, dtype=np.float64,
                       divergence_tolerance: float | None = None) -> dict:
    """The largest eta at which GD's loss does not rise in any of the first ``steps`` steps.

    One fixed initialisation (generator 0 of ``spawn_generators(seed, 1)``: inputs, then weights,
    exactly as :func:`fisher_spectrum` with seeds=1 and sampler="dense") and fixed targets (``targets``).

    * ``predicted_eta`` = 2 / lambda_max, lambda_max the largest eigenvalue of this
      initialisation's F = K/T (:func:`anglefish.numeric.fisher.ntk_gram`).
    * ``measured_eta``: bisection on log(eta) for the switch of "some step k < ``steps`` raised the
      loss" (:func:`rose`: L_{k+1} > L_k (1 + 1e-9), counted while L_k >= 1e-8 L_0; a run whose
      loss falls below 1e-8 L_0 is stopped and counts as not rising), in the problem's ``dtype``,
      until the bracket [measured_eta, measured_eta_upper] has ratio <= 1 + ``tolerance``;
      ``measured_eta`` is the largest tested eta with no rise.  The bracket starts at
      predicted_eta x [1/2, 2] and is widened by factors 2 if needed.  The bisection assumes a single
      switch in eta; so the lower end predicted_eta / 2 is run only if no larger eta was found
      without a rise (until 2026-11 it was always run first: the same points and result, one
      full-length run fewer).  The first point, predicted_eta itself, is always run: skipping it
      too (bisecting [predicted_eta, 2 predicted_eta] at once, the same points where the rise flags
      switch once) changed 1 of figF2's 45 full-mode units, resnet-bn L = 1, whose loss rose at
      step 46 at predicted_eta but at no larger bisection point (ratio 0.968 -> 1.127).  ``rise_step`` is the step at which the loss first rose at
      ``measured_eta_upper``.  Each run is :func:`_rise_run`: the losses of ``gradient_descent(stop_on_rise=True,
      stop_when_converged=True)`` bit for bit, with step 0 (the same for every eta) computed once and the
      first step's rise, where most runs above the threshold stop, found by a forward pass alone.
    * ``diverges_at``: the smallest eta, to relative resolution ``divergence_tolerance`` (default:
      ``tolerance``), at which the loss after ``steps`` steps exceeds ``divergence_factor`` x L_0 or
      is not finite (a run whose loss falls below 1e-8 L_0 is stopped and counts as not diverging);
      ``inf`` if none up to ``divergence_search`` x predicted_eta, ``nan`` (not searched) if
      ``divergence_search`` is None.  Search: measured_eta_upper x 2^k, k = 1, 2, ... (the bound
      ``divergence_search`` x predicted_eta last) up to the first that diverges, then bisection on
      log(eta) in the last doubling (measured_eta_upper itself is run only if every bisection point
      diverged); ``diverges_at`` is the upper end of the final bracket.  Like the monotone search
      it assumes one switch in eta.  The runs of this search are in float32 when ``dtype`` is
      float64 (:data:`DIVERGENCE_DTYPE`: whether the loss after K steps exceeds 1e3 L_0 does not
      hinge on the last bits; :func:`_decide` with question 'divergence').  Until 2026-11 this was
      a walk on a grid of ratio 2^(1/4) from measured_eta_upper in float64, then bisection; the
      doubling and float32 cut the GD steps of the search by about 3x in step count and 2x per step
      (benchmarks/figures.py, the report of issue 14).  Between the two thresholds lies the catapult
      phase: the loss rises, then falls (ReLU MLPs may get there by switching most units off).

    Choice of ``steps`` (default 50) and what it does to the ratio measured/predicted.  Two
    effects pull in opposite directions.  (i) Slow visibility: when the residual's weight on the
    top eigenvector (close to the all-ones direction) is small, the growing top mode needs many
    steps to outweigh the decay of the other modes; too few steps overstate the threshold.
    (ii) lambda_max itself moves: at eta ~ 2/lambda_max(init) it first falls by a few percent in
    the first steps (width 512), which hides a top mode that has not shown by then, and later
    creeps up again (progressive sharpening), so very many steps make the loss rise below
    2/lambda_max(init) ("edge of stability").  Measured at width 512, depth 2, T = 64, seeds 0-3
    (ratios): mlp 1.02-1.10 (5 steps), 1.02-1.04 (50 and 200 steps); resnet 1.04-1.24 (5),
    1.03-1.09 (50), 1.02-1.09 (200); resnet-bn 1.07-1.42 (5), 1.03-1.10 (50), 1.01-1.10 (200).
    Rises that decide the threshold came at steps 0-3, or at steps 22-45 for the slowly
    visible seeds (steps 80 with 200 allowed).  At width 256 a rise at eta = 2/lambda_max(init)
    came at step 47 after lambda_max had grown 3% (so longer runs drift below 1).
    Over mlp/resnet/resnet-bn x depths 2, 5, 10 x seeds 0-3 at width 512 with 50 steps, the ratio
    lay in [1.011, 1.102] with T = 128 (one of 36 above 1.1) and in [1.016, 1.176] with T = 64
    (three above 1.1): 2/lambda_max(init) is confirmed to ~10%, with a systematic offset of
    +1% to +10% from the early fall of lambda_max.  Prefer T >= 128.
    """
    steps = check_int(steps, "steps")
    tolerance = float(tolerance)
    if not (0 < tolerance < 1):
        raise AnglefishError(f"tolerance must be in (0, 1), got {tolerance}")
    div_tolerance = tolerance if divergence_tolerance is None else float(divergence_tolerance)
    if not (0 < div_tolerance < 1):
        raise AnglefishError(f"divergence_tolerance must be in (0, 1), got {divergence_tolerance}")
    if not float(divergence_factor) > 1:
        raise AnglefishError(f"divergence_factor must be > 1, got {divergence_factor}")
    if divergence_search is not None and not float(divergence_search) > 1:
        raise AnglefishError(f"divergence_search must be > 1 (a multiple of 2/lambda_max) or None, "
                             f"got {divergence_search}")
    arch, params, x, y = _setup(arch, depth, width, samples, seed, targets, bn, dtype)
    k = ntk_gram(arch, params, x)
    lam = float(np.linalg.eigvalsh(k[0] / samples)[-1])
    predicted = 2.0 / lam
    start = _loss_step(params, x, y, True)  # step 0 of every rise run: L_0 and the gradient at the initialisation
    loss0 = float(start[0][0])
    evaluations = 0
    first_rise, rise_flags = {}, {}

    def rises(eta):
        nonlocal evaluations
        if eta not in rise_flags:
            evaluations += 1
            ls = _rise_run(params, x, y, eta, steps, *start)
            up = np.nonzero(rose(ls[:-1], ls[1:], ls[0]))[0]
            if up.size:
                first_rise[eta] = int(up[0])
            rise_flags[eta] = bool(up.size)
        return rise_flags[eta]

    div_dtype = DIVERGENCE_DTYPE if params.dtype == np.float64 else params.dtype
    one = np.zeros(1, dtype=int)

    def diverges(eta):
        nonlocal evaluations
        evaluations += 1
        return bool(_decide(params, x, y, one, np.array([eta]), steps, "divergence", float(divergence_factor),
                            div_dtype)[0])

    def widened():
        """The bracket found by widening predicted x [1/2, 2] by factors 2 (each end tried)."""
        lo, hi = predicted / 2, predicted * 2
        for _ in range(20):
            if not rises(lo):
                break
            hi, lo = lo, lo / 2
        else:
            raise AnglefishError("the loss rose at every learning rate tried down to 2^-20 x 2/lambda_max")
        for _ in range(20):
            if rises(hi):
                break
            lo, hi = hi, hi * 2
        else:
            raise AnglefishError("the loss never rose up to 2^20 x 2/lambda_max")
        return _bisect_log(rises, lo, hi, tolerance)[:2]

    measured = None
    if rises(predicted * 2):  # the usual case: bisect at once, try the lower end only if never moved
        measured, upper, _ = _bisect_log(rises, predicted / 2, predicted * 2, tolerance)
        if measured == predicted / 2 and rises(measured):
            measured = None
    if measured is None:
        measured, upper = widened()

    div_at = math.inf if divergence_search is not None else math.nan
    bound = math.inf if divergence_search is None else float(divergence_search) * predicted
    if upper <= bound:
        points = [upper]
        while points[-1] * 2 < bound:
            points.append(points[-1] * 2)
        if points[-1] < bound:
            points.append(bound)
        if len(points) == 1:
            div_at = upper if diverges(upper) else div_at
        for lo, hi in zip(points[:-1], points[1:]):
            if diverges(hi):
                lo, div_at, _ = _bisect_log(diverges, lo, hi, div_tolerance)
                if lo == upper and diverges(upper):
                    div_at = upper
                break
    return {
        "architecture": arch.name, "depth": params.depth, "width": params.width, "samples": samples,
        "seed": seed, "bn": bn, "targets": targets, "steps": steps, "tolerance": tolerance,
        "divergence_tolerance": div_tolerance,
        "lambda_max": lam, "predicted_eta": predicted, "measured_eta": measured,
        "measured_eta_upper": upper, "ratio": measured / predicted,
        "rise_step": first_rise.get(upper), "diverges_at": div_at,
        "diverges_ratio": div_at / predicted, "divergence_factor": divergence_factor,
        "initial_loss": loss0, "evaluations": evaluations,
    }


# ----------------------------------------------------------------- both thresholds, several initialisations
#: grid of the first pass, in units of 2/lambda_max of each initialisation: 2^(k/2), k = -2 .. 12
THRESHOLD_GRID = tuple(2.0 ** (k / 2) for k in range(-2, 13))


def _repeat(params: Params, copies: int) -> Params:
    """Each network of ``params`` repeated ``copies`` times along the seed axis (network s becomes
    rows s*copies .. s*copies + copies - 1)."""
    net = params.net
    weights = [np.repeat(w, copies, axis=0) for w in net.weights]
    return Params(Weights(net.arch, net.depth, net.width, net.in_dim, weights, list(net.owners)),
                  np.repeat(params.readout, copies, axis=0), params.bn)


def batched_runs(params: Params, x: np.ndarray, y: np.ndarray, etas: np.ndarray, steps: int,
                 divergence_factor: float = 1e3):
    """Full-batch GD of every network s of ``params`` with its own learning rate ``etas[s]``, all at
    once (one array pass per step; the networks are independent along the seed axis).

    Per network: ``rose`` -- some step k < ``steps`` raised the loss (:func:`rose`, counted while
    L_k >= CONVERGED x L_0); ``rise_step`` -- the first such step (-1 if none); ``diverged`` -- the loss
    after ``steps`` steps exceeds ``divergence_factor`` x L_0 or is not finite.  A network whose loss
    falls below CONVERGED x L_0 is frozen (counts as neither rising nor diverging), as in
    :func:`monotone_threshold`; a network whose loss overflows is frozen as diverged.
    """
    s = params.seeds
    etas = np.asarray(etas, dtype=np.float64)
    if etas.shape != (s,) or not np.all(np.isfinite(etas) & (etas > 0)):
        raise AnglefishError(f"etas must be {s} positive finite numbers")
    steps = check_int(steps, "steps")
    x, y = _checked(params, x, y)
    rise_step = np.full(s, -1)
    active = np.ones(s, dtype=bool)
    first = prev = None
    final = np.full(s, np.nan)
    for k in range(steps + 1):
        lk, (gw, gv) = _loss_step(params, x, y, k < steps)
        if first is None:
            first = lk.copy()
        final = np.where(active, lk, final)
        if prev is not None:
            up = rose(prev, lk, first) & active & (rise_step < 0)
            rise_step[up] = k - 1
        done_now = ~np.isfinite(lk) | (lk < CONVERGED * first)
        active &= ~done_now
        if k == steps or not active.any():
            break
        prev = lk
        step = np.where(active, etas, 0.0).astype(params.dtype)
        _descend(params, gw, gv, step[:, None, None], step[:, None])  # frozen networks may hold nan: never read
    diverged = ~np.isfinite(final) | (final > divergence_factor * first)
    return {"rose": rise_step >= 0, "rise_step": rise_step, "diverged": diverged, "final_loss": final,
            "initial_loss": first}


def _first_switch(flags: np.ndarray) -> int:
    """Index of the first True in a row of grid flags (len if none)."""
    hits = np.nonzero(flags)[0]
    return int(hits[0]) if hits.size else len(flags)


def _mean_ci(values, level: float = 0.95) -> dict:
    """Mean of a sample with its Student-t confidence interval (None bounds for one value)."""
    from scipy import stats

    v = np.asarray([x for x in values if np.isfinite(x)], dtype=np.float64)
    out = {"mean": float(v.mean()) if v.size else None, "n": int(v.size), "level": level,
           "lo": None, "hi": None, "sd": None}
    if v.size >= 2:
        sd = float(v.std(ddof=1))
        half = float(stats.t.ppf((1 + level) / 2, v.size - 1)) * sd / math.sqrt(v.size)
        out.update(sd=sd, lo=out["mean"] - half, hi=out["mean"] + half)
    return out


def learning_rate_thresholds(arch: Architecture | str, depth: int, width: int, samples: int, inits: int = 4,
                             seed: int = 0, steps: int = 50, targets: str = "teacher", bn: str | None = None,
                             refine: int = 15, divergence_factor: float = 1e3, dtype=np.float64,
                             progress=None, workers: int | None = 1) -> dict:
    """Both learning-rate thresholds of full-batch GD, over ``inits`` random initialisations.

    Initialisation s is generator s of ``spawn_generators(seed, inits)``: inputs, then weights (as
    :func:`fisher_spectrum`), targets from :func:`make_targets` (``targets``).  For each one, in
    units r = eta lambda_max / 2 of its own lambda_max (largest eigenvalue of F = K/T at
    initialisation):

    * ``monotone``: the smallest r on the grid at which the loss rises within ``steps`` steps
      (:func:`rose`); below it GD decreases the loss monotonically in those steps.  Theory: r = 1
      (eta = 2/lambda_max), up to the drift of lambda_max during training.
    * ``divergence``: the smallest r at which the loss after ``steps`` steps exceeds
      ``divergence_factor`` x L_0 or is not finite -- the largest learning rate at which training
      still converges (in the sense of this step budget) lies below it.  Above r = 1 and below it
      lies the catapult phase: the loss first rises, then falls.

    Search: every r of :data:`THRESHOLD_GRID` (ratio sqrt(2), 0.5 .. 64) at once, then the bracket
    [r_(k-1), r_k] of each switch split into ``refine`` + 1 log-equal parts (resolution
    2^(1/(2 (refine + 1))), 2.2% for refine = 15): for the monotone threshold every part is tried
    (the first that answers yes; a bisection can miss it, as the rise flags need not switch once
    inside a bracket), for divergence the parts are bisected; all initialisations and learning rates
    of a pass run in one batched array pass per step; a run stops once its answer is known (the
    first rise; an overflow; convergence); for float64 problems the monotone search's runs go in
    guarded float32 (float64 where the guard cannot decide: float64's flags) and the divergence
    bisection in float32 (:func:`_thresholds`; the monotone thresholds are those of the exhaustive
    search :func:`_thresholds_exhaustive` on every problem of tests/test_lr_search.py and
    benchmarks/lr.py, the divergence thresholds on all but one of benchmarks/lr.py's, where the
    divergence flags switch twice inside a bracket and the bisection, in float32 or float64, finds
    another switch).  The grid assumes one switch in r
    (the count of extra switches on the first grid is reported as ``non_monotone``); a switch beyond
    64 is reported as None.

    Returns per initialisation (lists): lambda_max, eta_monotone, eta_divergence (the upper end of
    the final bracket, None if not found), ratio_monotone, ratio_divergence; and summaries (mean and
    95% t-interval over initialisations) of each, plus the settings.

    ``workers``: processes over blocks of initialisations (:func:`threshold_block` as units of
    :func:`anglefish.units.run_units`); initialisation s's numbers depend on s alone, so not on it.
    """
    from ..units import arch_name, blocks, run_units, unit

    steps = check_int(steps, "steps")
    refine = check_int(refine, "refine")
    inits = check_int(inits, "inits")
    dtype = check_dtype(dtype)
    parts = blocks(inits, workers)
    if len(parts) == 1:
        return threshold_block(arch, depth, width, samples, seed, 0, inits, steps, targets, bn, refine,
                               divergence_factor, np.dtype(dtype).name, progress)
    kwargs = dict(arch=arch_name(arch), depth=depth, width=width, samples=samples, seed=seed, steps=steps,
                  targets=targets, bn=bn, refine=refine, divergence_factor=float(divergence_factor),
                  dtype=np.dtype(dtype).name)
    results = run_units([unit(threshold_block, start=a, stop=b, cost=b - a, **kwargs) for a, b in parts],
                        workers, progress)
    per = {key: [v for r in results for v in r["per_init"][key]] for key in results[0]["per_init"]}
    return {**results[0], "inits": inits, "per_init": per, "summary": _summary(per)}


def threshold_block(arch, depth: int, width: int, samples: int, seed: int, start: int, stop: int, steps: int = 50,
                    targets: str = "teacher", bn: str | None = None, refine: int = 15,
                    divergence_factor: float = 1e3, dtype="float64", progress=None) -> dict:
    """:func:`learning_rate_thresholds` of initialisations start .. stop-1 of the run with master
    ``seed`` (a unit of work; initialisation s draws from generator s and its teacher only)."""
    with one_blas_thread():  # many small batched products: one thread is fastest
        problem = _draw_problem(arch, depth, width, samples, seed, targets, bn, np.dtype(dtype).type, stop - start,
                                start)
        return _thresholds(*problem, seed, steps, targets, bn, refine, divergence_factor, progress)


def _summary(per: dict) -> dict:
    """Mean and 95% t-interval over initialisations of each per-initialisation quantity."""
    summary = {key: _mean_ci([v if v is not None else math.nan for v in per[key]])
               for key in ("lambda_max", "eta_monotone", "eta_divergence", "ratio_monotone", "ratio_divergence")}
    summary["log_eta_divergence"] = _mean_ci([math.log(v) if v else math.nan for v in per["eta_divergence"]])
    summary["log_eta_monotone"] = _mean_ci([math.log(v) if v else math.nan for v in per["eta_monotone"]])
    return summary


#: dtype of the divergence bisection when the problem is drawn in float64:
#: whether the loss after K steps exceeds 1e3 L_0 does not hinge on the last bits (float32 overflows
#: sooner, at 3e38 L_0 instead of 1e308, far above 1e3 L_0); benchmarks/lr.py and tests/test_lr_search.py
#: compare the thresholds found in float32 and float64 on several problems.
DIVERGENCE_DTYPE = np.float32

#: dtype of the monotone search's runs when the problem is drawn in float64: float32 runs whose every
#: step is decided by a margin the float32 rounding cannot bridge (:func:`_rise_guard`); the others are
#: run again in float64 (``_thresholds``), so the rise flags are those of float64 runs.
RISE_DTYPE = np.float32

#: the stated bound on the float32 run's loss L32_k against the float64 run's L64_k (the same network,
#: learning rate and step k): |L32_k / L64_k - 1| <= RISE_GUARD_REL + RISE_GUARD x u32 x sqrt(L_0 / L32_k),
#: u32 = 2^-24 the float32 unit roundoff.  Why this form: the float32 trajectory carries output errors of
#: order c u32 |y| (rounding in the forward and backward passes and the updates), and the loss is
#: |f - y|^2, so its relative error grows like c u32 sqrt(L_0 / L) as the loss falls (the second term);
#: and a ReLU network is piecewise linear, so a rounding that flips a unit's sign moves the trajectory by
#: more than rounding (the first term: up to 3.3e-3 measured, mlp L = 10 at L = 0.02 L_0).
#: Measured over the rise runs of benchmarks/lr.py's 13 problems: the largest deviation is below a tenth
#: of the bound (benchmarks/lr.py prints the fraction); tests/test_lr_search.py checks the flags.
RISE_GUARD_REL = 0.03
RISE_GUARD = 1000.0
_U32 = float(np.finfo(np.float32).eps) / 2


def _loss_bound(lk: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The stated bound (:data:`RISE_GUARD_REL`, :data:`RISE_GUARD`) on |L32 / L64 - 1| at a float32 loss
    ``lk`` (L_0 = ``first``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return RISE_GUARD_REL + RISE_GUARD * _U32 * np.sqrt(first / lk)


def _rise_guard(prev: np.ndarray, cur: np.ndarray, first: np.ndarray):
    """(certainly rose, certainly did not rise) for the float64 runs, from the float32 step prev -> cur.

    The float64 losses lie within the bound (:func:`_loss_bound`) of the float32 ones; a step is decided
    when :func:`rose` gives the same answer for every float64 loss in those intervals, and the float64
    run certainly still counts it (prev above CONVERGED x L_0 for every L_0 in its interval).  A
    non-finite loss is never decided (float32 overflows where float64 need not)."""
    bp, bc, b0 = _loss_bound(prev, first), _loss_bound(cur, first), _loss_bound(first, first)
    finite = np.isfinite(cur) & np.isfinite(prev) & (bp < 1) & (bc < 1)
    counted = prev * (1 - bp) >= CONVERGED * first * (1 + b0)
    up = finite & counted & (cur * (1 - bc) > prev * (1 + bp) * (1 + RISE_RTOL))
    down = finite & counted & (cur * (1 + bc) <= prev * (1 - bp) * (1 + RISE_RTOL))
    return up, down


#: largest per-layer array (bytes) of one chunk of runs in :func:`_decide`: below glibc's largest mmap
#: threshold (32 MiB), so the gradients of every step reuse memory instead of mapping fresh pages
_CHUNK_BYTES = 16 * 2**20


def _cast(params: Params, index: np.ndarray, dtype) -> Params:
    """The networks ``index`` of ``params`` (copies) in ``dtype``."""
    net = params.net
    weights = [np.asarray(w[index], dtype=dtype) for w in net.weights]
    return Params(Weights(net.arch, net.depth, net.width, net.in_dim, weights, list(net.owners)),
                  np.asarray(params.readout[index], dtype=dtype), params.bn)


def _decide(params: Params, x, y, nets: np.ndarray, etas: np.ndarray, steps: int, question: str,
            divergence_factor: float, dtype, guarded: bool = False, stats: dict | None = None):
    """One flag per run: run j trains (a copy of) network ``nets[j]`` of ``params`` at ``etas[j]``, in
    ``dtype``, all runs in one array pass per step; a run leaves the pass as soon as its answer is known.

    ``question='rise'``: did some step k < ``steps`` raise the loss (:func:`rose`)?  Known at the first
    rise (True) or once the loss is below CONVERGED x L_0 (False).  ``question='divergence'``: does the
    loss after ``steps`` steps exceed ``divergence_factor`` x L_0 or overflow?  Known at an overflow
    (True) or below CONVERGED x L_0 (False).  These are the flags of :func:`batched_runs` (the same
    trajectories: the networks are independent along the seed axis), computed only as long as needed.

    ``guarded`` (question 'rise', float32 runs of a float64 problem): returns (flags, marginal) with the
    flags of the float64 runs where ``marginal`` is False -- every step up to the answer is decided by
    :func:`_rise_guard`; a run leaves the pass at its first step that is not (marginal, flag False).
    ``stats``: if given, ``stats['steps']`` is increased by the network-steps run (one per run and step).
    """
    n = len(nets)
    flags, marginal = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    if n == 0:
        return (flags, marginal) if guarded else flags
    chunk = max(1, _CHUNK_BYTES // (max(w[0].size for w in params.weights) * np.dtype(dtype).itemsize))
    if n > chunk:  # one chunk at a time: the same flags, arrays small enough for malloc to reuse
        parts = [_decide(params, x, y, nets[i:i + chunk], etas[i:i + chunk], steps, question, divergence_factor,
                         dtype, guarded, stats) for i in range(0, n, chunk)]
        if guarded:
            return np.concatenate([f for f, _ in parts]), np.concatenate([m for _, m in parts])
        return np.concatenate(parts)
    alive = np.arange(n)
    p = _cast(params, np.asarray(nets), dtype)
    xs, ys = _checked(p, np.asarray(x[nets], dtype=dtype), np.asarray(y[nets]))
    eta = np.asarray(etas, dtype=np.float64)
    first = prev = None
    for k in range(steps + 1):
        lk, (gw, gv) = _loss_step(p, xs, ys, k < steps)
        if stats is not None:
            stats["steps"] = stats.get("steps", 0) + (len(alive) if k < steps else 0)
        if first is None:
            first = lk.copy()
        converged = lk < CONVERGED * first
        if question == "rise" and guarded:
            decided = np.zeros(len(alive), dtype=bool)
            if prev is not None:
                up, down = _rise_guard(prev, lk, first)
                flags[alive[up]] = True
                marginal[alive[~(up | down)]] = True
                decided = ~down
        elif question == "rise":
            decided = converged.copy()
            if prev is not None:
                up = rose(prev, lk, first)
                flags[alive[up]] = True
                decided |= up
        else:
            overflow = ~np.isfinite(lk)
            flags[alive[overflow]] = True
            decided = overflow | converged
            if k == steps:
                flags[alive] |= lk > divergence_factor * first
        if k == steps:
            break
        keep = ~decided
        if not keep.any():
            break
        if not keep.all():  # drop the decided runs from the pass
            alive, first, lk, eta, xs, ys = alive[keep], first[keep], lk[keep], eta[keep], xs[keep], ys[keep]
            p = _cast(p, keep, dtype)
            gw, gv = [g[keep] for g in gw], gv[keep]
        prev = lk
        step = eta.astype(dtype)
        _descend(p, gw, gv, step[:, None, None], step[:, None])
    return (flags, marginal) if guarded else flags


def _fine_points(grid: np.ndarray, idx: np.ndarray, refine: int):
    """The bracket [lo, hi] of each switch (first True at grid index ``idx``; hi = inf if none) and its
    ``refine`` log-equal interior points (inits, refine)."""
    g = len(grid)
    lo = np.where(idx > 0, grid[np.clip(idx - 1, 0, g - 1)], grid[0] / 2 ** 0.5)
    hi = np.where(idx < g, grid[np.clip(idx, 0, g - 1)], np.inf)
    steps_in = np.arange(1, refine + 1) / (refine + 1)
    finite_hi = np.where(np.isfinite(hi), hi, lo * 2 ** 0.5)
    return lo, hi, np.exp(np.log(lo)[:, None] + steps_in[None, :] * np.log(finite_hi / lo)[:, None])


def _non_monotone(flags: np.ndarray, idx: int) -> int:
    """Switches of a row of grid flags beyond the first."""
    g = len(flags)
    return int(np.sum(np.diff(flags.astype(int)) != 0) - (1 if idx < g else 0))


def _thresholds(arch, params, x, y, seed, steps, targets, bn, refine, divergence_factor, progress,
                divergence_dtype=None, rise_dtype=None, stats: dict | None = None):
    """The search of :func:`learning_rate_thresholds`: per question ('rise' for the monotone threshold,
    'divergence'), every grid ratio at once, then, for the monotone threshold, every one of the
    ``refine`` interior points of the bracket in one pass (the first that answers yes) and, for
    divergence, a bisection over them (log2(refine + 1) passes of one run per initialisation; every
    interior point where the grid switched more than once); runs leave a pass once their answer is
    known (:func:`_decide`).  A grid ratio that did not raise the loss does not diverge (the loss never
    rose above L_0), so the divergence grid runs only where the loss rose.  The same points and rule as
    :func:`_thresholds_exhaustive`.

    dtypes for float64 problems: the divergence bisection in ``divergence_dtype`` (default
    :data:`DIVERGENCE_DTYPE`; the divergence grid in float64); the rise runs in ``rise_dtype`` (default :data:`RISE_DTYPE`), guarded
    (:func:`_rise_guard`): a float32 run that is not decided by a safe margin at every step is run again
    in float64 (in the bracket only where the answer can matter: before the first float32 run that
    certainly rose), so the rise flags -- and the monotone threshold and the grid's ``non_monotone``
    count -- are those of float64 runs: identical monotone thresholds to the float64 search and the
    exhaustive search on every problem of tests/test_lr_search.py and benchmarks/lr.py.

    ``stats``: if given, filled with the network-steps of each phase ('rise grid', 'divergence grid',
    'rise bracket', 'divergence bracket', with ' float64 again' for the guarded runs' re-runs) and the
    number of re-runs ('rise reruns')."""
    inits, samples = params.seeds, x.shape[2]
    lam = np.linalg.eigvalsh(ntk_gram(arch, params, x) / samples)[:, -1]
    grid = np.asarray(THRESHOLD_GRID)
    g = len(grid)
    wide = params.dtype == np.float64
    dtypes = {"rise": (rise_dtype or RISE_DTYPE) if wide else params.dtype,
              "divergence": (divergence_dtype or DIVERGENCE_DTYPE) if wide else params.dtype}
    guarded = dtypes["rise"] != params.dtype
    stats = {} if stats is None else stats
    # at most: the two grids, the rise bracket's points, erratic divergence brackets' points, the bisection,
    # and the float64 re-runs of the rise grid and bracket
    passes = 2 + 1 + 1 + math.ceil(math.log2(refine + 1)) + (2 if guarded else 0)
    done = 0

    def run(question, phase, nets, ratios, needed=None, dtype=None):
        """Flags of the runs (nets, ratios); guarded rise runs: the marginal ones among ``needed(flags,
        marginal)`` (default: all) run again in float64."""
        nonlocal done
        etas = 2.0 * ratios / lam[nets]
        counter = {}
        if question == "rise" and guarded:
            flags, marginal = _decide(params, x, y, nets, etas, steps, question, divergence_factor, dtypes[question],
                                      guarded=True, stats=counter)
            again = np.nonzero(marginal & (True if needed is None else needed(flags, marginal)))[0]
            stats[f"{phase} float64 again"] = stats.get(f"{phase} float64 again", 0)
            if again.size:
                sub = {}
                flags[again] = _decide(params, x, y, nets[again], etas[again], steps, question, divergence_factor,
                                       params.dtype, stats=sub)
                stats[f"{phase} float64 again"] += sub.get("steps", 0)
                done += 1
            stats["rise reruns"] = stats.get("rise reruns", 0) + int(again.size)
        else:
            flags = _decide(params, x, y, nets, etas, steps, question, divergence_factor, dtype or dtypes[question],
                            stats=counter)
        stats[phase] = stats.get(phase, 0) + counter.get("steps", 0)
        done += 1
        if progress is not None:
            progress(min(done, passes), passes)
        return flags

    every, ratios = np.repeat(np.arange(inits), g), np.tile(grid, inits)
    rose1 = run("rise", "rise grid", every, ratios).reshape(inits, g)
    div1 = np.zeros_like(rose1)
    # the divergence grid in the problem's dtype: in float32 its flags beyond the switch (and so the
    # non_monotone count) differed from float64 on a small mlp (tests/test_lr_search.py), the threshold not
    div1[rose1] = run("divergence", "divergence grid", every[rose1.ravel()], ratios[rose1.ravel()], dtype=params.dtype)
    per = {"lambda_max": [float(v) for v in lam]}
    for name, question, flags in (("monotone", "rise", rose1), ("divergence", "divergence", div1)):
        idx = np.array([_first_switch(f) for f in flags])
        lo, hi, points = _fine_points(grid, idx, refine)
        extra = [_non_monotone(f, i) for f, i in zip(flags, idx)]
        # b indexes the first interior point that answers yes (refine + 1: hi).  Monotone threshold:
        # every interior point, the first yes kept (as the exhaustive search) -- the rise flags need
        # not switch once inside a bracket even where they switch once on the grid (the README's lr
        # example, resnet-bn L = 5, N = 256, T = 64, initialisation 1: the loss rises at r = 1.022 but
        # not at some larger interior points; a bisection found 1.139).  Divergence: bisection
        # (a indexes a known no, b a known yes), every interior point where the grid switched more
        # than once; it agrees with the exhaustive search on every problem of tests/test_lr_search.py
        # and on all but one of benchmarks/lr.py (resnet-bn L = 8, N = 96, T = 64, seed 9,
        # initialisation 2: 2.65 against 2.43, the flags switch twice inside the bracket; float64 and
        # float32 bisections agree there).
        a, b = np.zeros(inits, dtype=int), np.full(inits, refine + 1)
        open_ = np.isfinite(hi)
        every_point = np.nonzero(open_ & ((np.array(extra) > 0) | (question == "rise")))[0]
        phase = "rise bracket" if question == "rise" else "divergence bracket"
        if every_point.size and refine:
            hit = run(question, phase, np.repeat(every_point, refine), points[every_point].ravel(),
                      _before_first_certain(refine))
            b[every_point] = [1 + _first_switch(h) for h in hit.reshape(every_point.size, refine)]
            open_[every_point] = False
        while True:
            todo = np.nonzero(open_ & (b - a > 1))[0]
            if todo.size == 0:
                break
            mid = (a[todo] + b[todo]) // 2
            hit = run(question, phase, todo, points[todo, mid - 1])
            b[todo[hit]] = mid[hit]
            a[todo[~hit]] = mid[~hit]
        upper = [None if not np.isfinite(hi[i]) else float(points[i, b[i] - 1]) if b[i] <= refine
                 else float(hi[i]) for i in range(inits)]
        per[f"ratio_{name}"] = upper
        per[f"eta_{name}"] = [None if r is None else 2.0 * r / float(lam[i]) for i, r in enumerate(upper)]
        per[f"non_monotone_{name}"] = extra
    if progress is not None:
        progress(passes, passes)
    return _threshold_result(arch, params, samples, seed, steps, targets, bn, refine, divergence_factor, per)


def _before_first_certain(refine: int):
    """needed(flags, marginal) for a bracket's rows of ``refine`` points: only the points before the
    row's first run that certainly answered yes can change the row's first yes."""
    def needed(flags, marginal):
        certain = (flags & ~marginal).reshape(-1, refine)
        first = np.array([_first_switch(row) for row in certain])
        return (np.arange(refine)[None, :] < first[:, None]).ravel()
    return needed


def _thresholds_exhaustive(arch, params, x, y, seed, steps, targets, bn, refine, divergence_factor, progress):
    """The reference search (the one before bisection): every grid ratio, then every one of the ``refine``
    interior points of both brackets, all in float64 batched passes (:func:`batched_runs`) that run
    every network for all ``steps`` steps."""
    inits, samples = params.seeds, x.shape[2]
    lam = np.linalg.eigvalsh(ntk_gram(arch, params, x) / samples)[:, -1]
    grid = np.asarray(THRESHOLD_GRID)
    g = len(grid)

    def run(ratios: np.ndarray):
        """ratios (inits, k) -> (rose, diverged) flags of the same shape."""
        k = ratios.shape[1]
        p = _repeat(params, k)
        xs, ys = np.repeat(x, k, axis=0), np.repeat(y, k, axis=0)
        etas = (2.0 * ratios / lam[:, None]).reshape(-1)
        out = batched_runs(p, xs, ys, etas, steps, divergence_factor)
        return out["rose"].reshape(inits, k), out["diverged"].reshape(inits, k)

    total = 2
    rose1, div1 = run(np.broadcast_to(grid, (inits, g)).copy())
    if progress is not None:
        progress(1, total)
    result = {}
    fine = []
    for name, flags in (("monotone", rose1), ("divergence", div1)):
        idx = np.array([_first_switch(f) for f in flags])
        lo, hi, points = _fine_points(grid, idx, refine)
        fine.append(points)
        result[name] = {"non_monotone": [_non_monotone(f, i) for f, i in zip(flags, idx)], "hi": hi}
    rose2, div2 = run(np.concatenate(fine, axis=1))
    if progress is not None:
        progress(2, total)
    per = {"lambda_max": [float(v) for v in lam]}
    for j, (name, flags) in enumerate((("monotone", rose2[:, :refine]), ("divergence", div2[:, refine:]))):
        hi, points = result[name]["hi"], fine[j]
        upper = []
        for i in range(inits):
            if not np.isfinite(hi[i]):
                upper.append(None)
                continue
            k = _first_switch(flags[i])
            upper.append(float(points[i, k]) if k < refine else float(hi[i]))
        per[f"ratio_{name}"] = upper
        per[f"eta_{name}"] = [None if r is None else 2.0 * r / float(lam[i]) for i, r in enumerate(upper)]
        per[f"non_monotone_{name}"] = result[name]["non_monotone"]
    return _threshold_result(arch, params, samples, seed, steps, targets, bn, refine, divergence_factor, per)


def _threshold_result(arch, params, samples, seed, steps, targets, bn, refine, divergence_factor, per):
    """The returned structure of :func:`learning_rate_thresholds` from the per-initialisation lists."""
    resolution = 2 ** (0.5 / (refine + 1)) - 1
    return {"architecture": arch.name, "depth": params.depth, "width": params.width, "samples": samples,
            "inits": params.seeds, "seed": seed, "steps": steps, "targets": targets, "bn": bn,
            "divergence_factor": divergence_factor,
            "resolution": resolution, "grid": list(THRESHOLD_GRID), "per_init": per, "summary": _summary(per),
            "convention": ("thresholds in units of 2/lambda_max of each initialisation (ratio_*) and as learning "
                           "rates (eta_*); eta_* is the upper end of a bracket of relative width 'resolution'; "
                           "monotone: the loss rises within 'steps' steps; divergence: the loss after 'steps' "
                           "steps exceeds divergence_factor x L0")}
