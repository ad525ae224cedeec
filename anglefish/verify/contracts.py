"""The contract suite: checks every registered architecture must pass.

Each check compares two independent computations of the same quantity and returns a
:class:`CheckOutcome` carrying its statistic, its tolerance and its false-alarm rate:

* ``symbolic_vs_numeric``: the SymPy angle map evaluated by SymPy itself at 30 digits
  against the stable float64 evaluation (deterministic; false-alarm rate 0).
* ``theory_vs_gram``: the exact map's angle after L blocks against the Gram-sampler Monte
  Carlo, by the tolerance model of :mod:`.tolerance`: the finite-width (O(1/N)) theory at one
  width where it applies, the width extrapolation (N and 2N) elsewhere.
* ``log_norm_vs_gram``: likewise for log q_L (E||h||^2 is exact at every width for ReLU-type
  networks, so the finite-width correction and its allowance are zero there).
* ``gram_vs_dense``: two-sample KS tests of the pair's per-unit Gram entries, exact Gram
  sampler against the dense simulator (Bonferroni over entries and depths).
* ``fisher_vs_dense``: the NTK theory's lambda_max / N and N m_lambda of the whole FIM and
  N m_lambda of the first block's weights against the exact Fisher spectra of dense networks
  at widths N and 2N (width-extrapolated model).  The same checks on networks of the projected
  sampler (the dense law without weight matrices; ids ``..._vs_projected``) judge the
  calibration's derivative-kernel mutants in ``verify --full``.

A check that cannot run on an architecture (e.g. the theory checks of batch-statistics BN, which
has no closed kernel map) is reported as *not run*, with the reason: ``status = 'not run'``,
``passed = False``, ``applicable = False`` -- never as a pass.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import AnglefishError
from ..numeric import pair_batch, pair_statistics, simulate
from ..seeds import generators, part_seed
from ..theory.architectures import get_architecture
from ..validation import check_choice
from .tolerance import (
    DEFAULT_ALPHA,
    FINITE_WIDTH_SEED_FACTOR,
    Estimate,
    FiniteWidthModel,
    finite_width_check,
    finite_width_model,
    width_extrapolated_check,
)


@dataclass
class CheckOutcome:
    id: str
    architecture: str
    passed: bool
    statistic: float
    tolerance: float
    false_alarm_rate: float
    applicable: bool = True
    details: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        """'passed', 'failed' or 'not run' (with the reason in ``details['reason']``)."""
        if not self.applicable:
            return "not run"
        return "passed" if self.passed else "failed"

    def as_dict(self) -> dict:
        return {**asdict(self), "status": self.status}


def _not_run(check_id, arch, why) -> CheckOutcome:
    """A check that could not run: never a pass."""
    return CheckOutcome(check_id, arch, False, math.nan, math.nan, 0.0, applicable=False, details={"reason": why})


# ------------------------------------------------------------------ symbolic vs numeric
def symbolic_vs_numeric(arch, seed: int = 0, n_points: int = 12, rel_tol: float = 1e-12) -> CheckOutcome:
    """Max relative difference between SymPy's own 30-digit evaluation of arccos C(theta; l)
    and the stable float64 map, at log-uniform angles in [1e-10, pi] and a few block indices."""
    import mpmath
    import sympy as sp

    from ..theory.activations import THETA
    from ..theory.blocks import BLOCK_INDEX, DEPTH
    from ..theory.evaluate import maps_for_depth
    from ..theory.recursion import derive_maps

    name = get_architecture(arch).name
    fixed_depth = 50  # for maps that depend on the total depth L
    try:
        maps = derive_maps(arch)
        nm = maps_for_depth(arch, fixed_depth)
    except AnglefishError as err:
        return _not_run("symbolic_vs_numeric", name, str(err))
    from ..theory.evaluate import PopulationNumericMaps, StablePairMaps
    from ..theory.recursion import M

    rng = np.random.default_rng(seed)
    population = isinstance(nm, PopulationNumericMaps) and not isinstance(nm, StablePairMaps)
    if population:
        # m_l is iterated numerically and kernels may be quadratures evaluated in float64:
        # 1 - C is then formed by subtraction, so only angles >= 0.05 and 1e-9 are meaningful
        thetas = rng.uniform(0.05, np.pi, n_points)
        rel_tol = max(rel_tol, 1e-9)
    else:
        thetas = np.concatenate([10.0 ** rng.uniform(-10, 0, n_points // 2),
                                 rng.uniform(0.05, np.pi, n_points // 2)])
    blocks = rng.integers(0, 1000 if not population else 50, len(thetas))
    if DEPTH in maps.angle_cos.free_symbols:
        blocks = np.minimum(blocks, fixed_depth - 1)
    worst = 0.0
    for theta, l in zip(thetas, blocks):
        subs = {THETA: sp.Float(float(theta), 60), BLOCK_INDEX: int(l), DEPTH: fixed_depth}
        if M in maps.angle_cos.free_symbols:
            subs[M] = sp.Float(nm.population(int(l)), 30)
        # SymPy evaluates arccos of the map with enough precision to resolve 1 - C near 0
        exact = sp.acos(maps.angle_cos.subs(subs)).evalf(60)
        got = float(nm.step(theta, int(l)))
        rel = abs(mpmath.mpf(got) / mpmath.mpf(str(exact)) - 1)
        worst = max(worst, float(rel))
    return CheckOutcome("symbolic_vs_numeric", name, worst <= rel_tol, worst, rel_tol, 0.0,
                        details={"points": len(thetas)})


# ------------------------------------------------------------------ theory vs Monte Carlo
@dataclass(frozen=True)
class MonteCarloPair:
    """Gram-sampler estimates for one configuration (reusable across theories).

    With the finite-width model (``model.applies``): one Estimate per quantity, at width N with
    ``model`` seeds x FINITE_WIDTH_SEED_FACTOR; otherwise two, at widths N and 2N with ``seeds``
    each (the width extrapolation).  ``seeds`` is the number asked for; ``seeds_simulated`` the
    number simulated at each width."""

    architecture: str
    depth: int
    theta0: float
    width: int
    seeds: int
    seed: int
    angle: tuple  # (Estimate at N,) or (Estimate at N, Estimate at 2N)
    log_q: tuple
    arch: object = None  # the Architecture itself (it need not be registered)
    model: FiniteWidthModel | None = None
    seeds_simulated: int | None = None
    elapsed_s: float = 0.0  # wall time of the simulation

    @property
    def cost(self) -> int:
        """Simulated width x seeds summed over the widths (the Gram sampler's work is proportional to it)."""
        return sum(e.width for e in self.angle) * int(self.seeds_simulated or self.seeds)


#: ``tolerance`` of :func:`monte_carlo_pair`: "auto" (the finite-width model where it applies) or
#: "extrapolation" (always the width extrapolation; the calibration compares the two)
TOLERANCE_MODELS = ("auto", "extrapolation")


def monte_carlo_pair(arch, depth: int, theta0: float, width: int, seeds: int, seed: int,
                     tolerance: str = "auto") -> MonteCarloPair:
    """Monte Carlo of the pair for :func:`theory_vs_gram`: at width N with FINITE_WIDTH_SEED_FACTOR x
    ``seeds`` where the finite-width model applies (:func:`.tolerance.finite_width_model`) and
    ``tolerance`` is "auto", else at widths N and 2N with ``seeds`` each.  Network s at width n
    draws from ``generators(seed, count, "angle-pair", n)[s]``."""
    if tolerance not in TOLERANCE_MODELS:
        raise AnglefishError(f"tolerance must be one of {', '.join(TOLERANCE_MODELS)}, got {tolerance!r}")
    t0 = time.perf_counter()
    arch = get_architecture(arch)
    name = arch.name
    if tolerance == "extrapolation":
        model = FiniteWidthModel(False, "the width extrapolation was asked for", int(depth), int(width))
    else:
        model = finite_width_model(arch, depth, width, theta0)
    widths, count = ((width,), FINITE_WIDTH_SEED_FACTOR * seeds) if model.applies else ((width, 2 * width), seeds)
    angle, log_q = [], []
    for n in widths:
        rngs = generators(seed, count, "angle-pair", n)
        traj = simulate(arch, pair_batch(theta0, n, 2, rngs, gaussian=arch.gaussian_inputs), depth, n, rngs,
                        at=[depth])
        s = pair_statistics(traj)
        angle.append(Estimate(float(s.theta_mc[-1]), float(s.theta_mc_se[-1]), n))
        log_q.append(Estimate(float(s.log_q_mc[-1]), float(s.log_q_mc_se[-1]), n))
    return MonteCarloPair(name, depth, theta0, width, seeds, seed, tuple(angle), tuple(log_q), arch, model, count,
                          time.perf_counter() - t0)


def exact_theory(arch, depth: int, theta0: float) -> tuple[float, float] | None:
    """(theta_L, log q_L) from the exact map, or None without a closed kernel map."""
    from ..theory.evaluate import maps_for_depth

    try:
        nm = maps_for_depth(arch, depth)
    except AnglefishError:
        return None
    _, theta, log_q = nm.iterate(theta0, depth, at=[depth])
    return float(theta[-1, 0]), float(log_q[-1])


def theory_vs_gram(mc: MonteCarloPair, theory: tuple | None = None, alpha: float = DEFAULT_ALPHA) -> list:
    """Angle and log-norm checks of one configuration; ``theory`` (the infinite-width (theta_L,
    log q_L)) overrides the exact map (the calibration passes deliberately wrong theories here).

    The tolerance model is the one ``mc`` was simulated for: the finite-width check (theory plus
    the architecture's O(1/N) correction against one width) or the width extrapolation; each
    outcome's details name it (``model``) and, for the extrapolation, why the finite-width theory
    did not apply (``model_reason``).  In both, ``details['extrapolated']`` is the Monte Carlo's
    estimate of the N = inf value and ``details['theory']`` the infinite-width value."""
    if theory is None:
        theory = exact_theory(mc.arch or mc.architecture, mc.depth, mc.theta0)
    config = {"depth": mc.depth, "theta0": mc.theta0, "width": mc.width, "seeds": mc.seeds, "seed": mc.seed,
              "seeds_simulated": mc.seeds_simulated}
    if theory is None:
        why = "no closed kernel map for this architecture"
        return [_not_run("theory_vs_gram", mc.architecture, why),
                _not_run("log_norm_vs_gram", mc.architecture, why)]
    model = mc.model
    finite = model is not None and model.applies and len(mc.angle) == 1
    out = []
    for check_id, value, estimates, quantity in (("theory_vs_gram", theory[0], mc.angle, "angle"),
                                                 ("log_norm_vs_gram", theory[1], mc.log_q, "log_q")):
        if finite:
            correction, allowance = getattr(model, f"{quantity}_correction"), getattr(model, f"{quantity}_allowance")
            r = finite_width_check(value, estimates[0], correction, allowance, alpha=alpha)
            extra = {"model": "finite-width", "mc": estimates[0].mean, "correction": correction,
                     "prediction_at_width": value + correction}
            if quantity == "angle":
                extra["angle_spread"] = model.angle_spread
        else:
            r = width_extrapolated_check(value, *estimates, alpha=alpha)
            extra = {"model": "width-extrapolation",
                     "model_reason": None if model is None else model.reason}
        out.append(CheckOutcome(check_id, mc.architecture, r.passed, r.statistic, r.tolerance, alpha,
                                details={**config, "theory": value, "extrapolated": r.extrapolated,
                                         "se": r.se, "allowance": r.allowance, **extra}))
    return out


# ------------------------------------------------------------------ Gram sampler vs dense
def gram_vs_dense(arch, depth: int = 3, width: int = 32, seeds: int = 1500, seed: int = 0,
                  bn: str | None = None, batch: int = 2, alpha: float = DEFAULT_ALPHA) -> CheckOutcome:
    """KS two-sample tests of G_aa/N, G_ab/N, G_bb/N at every depth; Bonferroni to ``alpha``."""
    from scipy import stats

    name = get_architecture(arch).name
    samples = []
    for sampler in ("gram", "dense"):
        rngs = generators(seed, seeds, "gram-vs-dense", sampler)
        x = pair_batch(1.0, width, batch, rngs, gaussian=get_architecture(arch).gaussian_inputs)
        traj = simulate(arch, x, depth, width, rngs, sampler=sampler, bn=bn)
        samples.append(traj.pair_gram * np.exp(2 * traj.log_scale)[..., None, None] / traj.dims[:, None, None, None])
    entries = [(0, 0), (0, 1), (1, 1)]
    pvalues = [stats.ks_2samp(samples[0][l, :, i, j], samples[1][l, :, i, j]).pvalue
               for l in range(1, depth + 1) for i, j in entries]
    threshold = alpha / len(pvalues)
    p_min = float(min(pvalues))
    return CheckOutcome("gram_vs_dense", name, p_min > threshold, p_min, threshold, alpha,
                        details={"depth": depth, "width": width, "seeds": seeds, "tests": len(pvalues),
                                 "bn": bn, "batch": batch, "statistic_is": "smallest KS p-value",
                                 "tolerance_is": "Bonferroni threshold alpha/tests"})


# ------------------------------------------------------------------ the suite, for any architecture
def check_architecture(arch, depth: int = 10, theta0: float = 1.0, width: int = 512, seeds: int = 128,
                       seed: int = 0, alpha: float = DEFAULT_ALPHA) -> list:
    """Every contract check on one architecture (registered or not) at one configuration."""
    outcomes = [symbolic_vs_numeric(arch, seed=seed)]
    outcomes += theory_vs_gram(monte_carlo_pair(arch, depth, theta0, width, seeds, seed), alpha=alpha)
    outcomes.append(gram_vs_dense(arch, seed=seed, alpha=alpha))
    outcomes += fisher_vs_dense(arch, seed=seed, alpha=alpha)
    return outcomes


CONTRACTS = ("symbolic_vs_numeric", "theory_vs_gram", "gram_vs_dense", "fisher_vs_dense")


def parametrize_with_contracts(architectures_=None):
    """A pytest decorator running every contract on every architecture (default: the registry),
    in the manner of scikit-learn's ``parametrize_with_checks``::

        @parametrize_with_contracts()
        def test_contract(architecture, contract):
            contract()   # raises AssertionError with the outcome if the check fails
    """
    import pytest

    from ..theory.architectures import architectures

    archs = list(architectures_ or architectures())
    cases, ids = [], []
    for arch in archs:
        name = get_architecture(arch).name
        for contract in CONTRACTS:
            cases.append((name, _contract_callable(arch, contract)))
            ids.append(f"{name}-{contract}")
    return pytest.mark.parametrize("architecture,contract", cases, ids=ids)


def _contract_callable(arch, contract):
    def run():
        if contract == "symbolic_vs_numeric":
            outcomes = [symbolic_vs_numeric(arch)]
        elif contract == "theory_vs_gram":
            outcomes = theory_vs_gram(monte_carlo_pair(arch, 10, 1.0, 512, 128, seed=0))
        elif contract == "fisher_vs_dense":
            outcomes = fisher_vs_dense(arch)
        else:
            outcomes = [gram_vs_dense(arch)]
        import pytest

        not_run = [o for o in outcomes if not o.applicable]
        for o in outcomes:
            assert o.passed or not o.applicable, o.as_dict()
        if not_run and len(not_run) == len(outcomes):  # reported as not run, never as passed
            pytest.skip("not run: " + "; ".join(f"{o.id}: {o.details.get('reason', '')}" for o in not_run))
        return outcomes
    return run


# ------------------------------------------------------------------ Fisher theory vs dense networks
#: the Fisher checks: (id, parameter subset, quantity, power of N it is scaled by; both scaled
#: quantities are O(1) at large width).  The first block's mean eigenvalue carries the longest
#: backward chain (every derivative kernel of the network), so it is the sharpest test of it.
FISHER_CHECKS = (("fisher_lambda_max_vs_dense", "all", "lambda_max", -1),
                 ("fisher_mean_eigenvalue_vs_dense", "all", "mean_eigenvalue", 1),
                 ("fisher_first_block_vs_dense", "layer:0", "mean_eigenvalue", 1))


_FISHER_MC: dict = {}

#: the samplers of the Fisher contract's networks: 'dense' (every weight drawn: the reference, the
#: contract suite's) and 'projected' (:mod:`anglefish.numeric.projected`: no weight matrix, the same law
#: of the NTK Gram, O(L N T^2) per network instead of O(L N^2); the calibration's derivative-kernel mutants)
FISHER_SAMPLERS = ("dense", "projected")


def fisher_mc(arch, depth: int = 3, width: int = 128, samples: int = 32, seeds: int = 12,
              seed: int = 0, sampler: str = "dense") -> dict:
    """Exact Fisher spectra of ``seeds`` random networks at widths N and 2N, for every parameter
    subset of :data:`FISHER_CHECKS`: {(width, subset): summary}, each summary naming its ``sampler``.

    ``sampler='dense'`` (the reference): network s of width n draws from generator s of part
    ("fisher-dense", n) of ``seed``: inputs, then every weight, exactly as
    :func:`anglefish.numeric.fisher.fisher_spectrum` draws them; the subsets of one width are computed on
    the same networks (each network drawn once, its Gram restricted to each subset).
    ``sampler='projected'``: network s of width n is that of generator s of part ("fisher-projected", n)
    -- a stream of its own, never shared with the dense networks -- drawn by
    :func:`anglefish.numeric.fisher.network_grams` without weight matrices (same law, another sample);
    every subset is computed on the same networks too (each subset's pass replays the network's own
    generator).  Remembered per process (several theories are judged on the same networks: the
    contract, the calibration's mutants)."""
    arch = get_architecture(arch)
    check_choice(sampler, "sampler", FISHER_SAMPLERS)
    key = (arch.name, repr(arch.block), depth, width, samples, seeds, seed, sampler)
    if key in _FISHER_MC:
        return _FISHER_MC[key]
    subsets = sorted({c[1] for c in FISHER_CHECKS})
    out = {}
    for n in (width, 2 * width):
        grams, n_params = _FISHER_GRAMS[sampler](arch, depth, n, samples, seeds, seed, subsets)
        for sub in subsets:
            lam = [float(np.linalg.eigvalsh(k / samples)[-1]) for k in grams[sub]]
            mean = [float(np.trace(k) / (samples * n_params[sub])) for k in grams[sub]]
            row = {}
            for name, values in (("lambda_max", lam), ("mean_eigenvalue", mean)):
                v = np.asarray(values)
                row[name] = float(v.mean())
                row[f"{name}_se"] = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.nan
            row["n_params"] = n_params[sub]
            row["sampler"] = sampler
            out[n, sub] = row
    _FISHER_MC[key] = out
    while len(_FISHER_MC) > 64:
        _FISHER_MC.pop(next(iter(_FISHER_MC)))
    return out


def _dense_grams(arch, depth: int, n: int, samples: int, seeds: int, seed: int, subsets) -> tuple:
    """({subset: K (seeds, T, T)}, {subset: P}) of the dense networks of width n (:func:`fisher_mc`), one
    network at a time (memory of one network's weights)."""
    from ..numeric.fisher import draw_inputs, init_params, ntk_grams

    grams, n_params = {sub: [] for sub in subsets}, {}
    for g in generators(seed, seeds, "fisher-dense", n):
        x = draw_inputs(n, samples, [g])
        params = init_params(arch, depth, n, n, [g])
        per = ntk_grams(arch, params, x, subsets)  # one forward and one backward pass for all subsets
        for sub in subsets:
            grams[sub].append(per[sub][0])
            n_params[sub] = params.n_params(sub)
    return {sub: np.asarray(k) for sub, k in grams.items()}, n_params


def _projected_grams(arch, depth: int, n: int, samples: int, seeds: int, seed: int, subsets) -> tuple:
    """({subset: K (seeds, T, T)}, {subset: P}) of the projected networks of width n (:func:`fisher_mc`):
    network s from generator s of part ("fisher-projected", n) of ``seed``, the same networks for every
    subset (a projected pass is single-use, so each subset replays the network's generator)."""
    from ..numeric.fisher import network_grams

    part = part_seed(seed, "fisher-projected", n)
    runs = {sub: network_grams(arch, depth, n, samples, part, 0, seeds, subset=sub, sampler="projected")
            for sub in subsets}
    return {sub: r["grams"] for sub, r in runs.items()}, {sub: r["n_params"] for sub, r in runs.items()}


_FISHER_GRAMS = {"dense": _dense_grams, "projected": _projected_grams}


def fisher_vs_dense(arch, depth: int = 3, width: int = 128, samples: int = 32, seeds: int = 12, seed: int = 0,
                    alpha: float = DEFAULT_ALPHA, derivative_kernel_scale: float = 1.0, mc: dict | None = None,
                    sampler: str = "dense") -> list:
    """lambda_max / N and N m_lambda of the whole FIM, and N m_lambda of the first block's
    weights, from the NTK theory against the exact spectra of random networks at widths N and 2N,
    by the width-extrapolated tolerance model (all O(1) at large width; the finite-width
    corrections are O(1/N)).  The networks are those of :func:`fisher_mc` with ``sampler``: dense
    (default: the contract suite's reference; check ids ``fisher_*_vs_dense``) or projected (the same
    law without weight matrices; ids ``fisher_*_vs_projected``).  ``mc`` (from :func:`fisher_mc` with the
    same settings and sampler) lets several theories be judged on the same networks."""
    from ..theory.fisher_theory import fisher_theory

    arch = get_architecture(arch)
    name = arch.name
    check_choice(sampler, "sampler", FISHER_SAMPLERS)
    checks = [(fisher_check_id(check_id, sampler), *rest) for check_id, *rest in FISHER_CHECKS]
    try:
        theory = {sub: fisher_theory(arch, depth, 2 * width, samples, params=sub,
                                     derivative_kernel_scale=derivative_kernel_scale)
                  for sub in {c[1] for c in checks}}
    except AnglefishError as err:
        return [_not_run(c[0], name, str(err)) for c in checks]
    if mc is None:
        mc = fisher_mc(arch, depth, width, samples, seeds, seed, sampler)
    drawn = {row.get("sampler", "dense") for row in mc.values()}
    if drawn != {sampler}:
        raise AnglefishError(f"internal: networks of the {'/'.join(sorted(drawn))} sampler judged as {sampler}")
    out = []
    for check_id, sub, key, power in checks:
        k1, k2 = theory[sub]["kappa1"], theory[sub]["kappa2"]
        if key == "lambda_max" and k1 and k2 is not None and abs(k2) <= 1e-12 * abs(k1):
            # kappa2 = 0 (e.g. linear or odd networks on orthogonal inputs): lambda_max is then the edge of
            # a bulk whose finite-width corrections are O(sqrt(T/N)), not O(1/N), so the width
            # extrapolation does not apply (the bulk-edge model of anglefish.theory.spectrum does)
            out.append(_not_run(check_id, name, "kappa2 = 0: lambda_max is a bulk edge with O(sqrt(T/N)) "
                                                "finite-width corrections; the width-extrapolated check assumes O(1/N)"))
            continue
        est = [Estimate(mc[n, sub][key] * float(n) ** power, mc[n, sub][f"{key}_se"] * float(n) ** power, n)
               for n in (width, 2 * width)]
        value = theory[sub][key] * float(2 * width) ** power
        r = width_extrapolated_check(value, est[0], est[1], alpha=alpha)
        out.append(CheckOutcome(check_id, name, r.passed, r.statistic, r.tolerance, alpha,
                                details={"depth": depth, "width": width, "samples": samples, "seeds": seeds,
                                         "sampler": sampler, "params": sub, "theory": value,
                                         "extrapolated": r.extrapolated, "se": r.se, "allowance": r.allowance,
                                         "quantity": f"{key} of params {sub} scaled by N^{power}"}))
    return out


def fisher_check_id(check_id: str, sampler: str) -> str:
    """The id of a :data:`FISHER_CHECKS` check judged on networks of ``sampler``: the suite's
    ``..._vs_dense`` names the dense sampler; on projected networks it is ``..._vs_projected``."""
    return check_id.removesuffix("_vs_dense") + f"_vs_{sampler}"
