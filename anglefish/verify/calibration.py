"""Calibration of the contract suite: its false-alarm rate under the correct theory and
its power against deliberately wrong theories (mutants).

Mutants, each a complete alternative theory of an architecture:
* every coefficient of the angle recursion cos theta' = sum_k c_k(theta; l) f_k(theta)
  (collected over cos theta and sin theta) scaled by 0.98 and by 1.02, and the norm
  recursion's ratio scaled likewise;
* psi replaced by a near miss: the ReLU kernel re-derived with the angle stretched by 2%
  (J(1.02 theta)) and with a bump 0.02 sin^2(theta) / (2 pi) added; the architecture is
  re-derived with the mutated activation, so every map that uses psi changes;
* for population BN: the (l+3) of Theorem 6 replaced by (l+2) (the map at block l-1);
* the ReLU derivative kernel scaled by 0.95 and 1.05 in the NTK theory, judged by the
  Fisher contract (with ``fisher=``, run by ``verify --full`` and ``--quick``) on the networks of
  the setting's ``sampler``: 'projected' (no weight matrix, the dense networks' law: ``--full``) or
  'dense' (the default: ``--quick`` judges them on its contract suite's own dense networks).

The Monte Carlo is computed once per configuration and every theory (correct or mutant) is
judged against the same numbers with the same checks, so power and false alarms are
measured on one footing.  A mutant is caught when any check of the battery fails.

Tolerance model (:mod:`.tolerance`): where the finite-width theory applies (ReLU-type
architectures at L/N <= 1/4, N <= 1024: all of the battery) a mutant's infinite-width value
plus the architecture's own O(1/N) correction is held against one width with all the seeds;
elsewhere the width extrapolation judges it.  Each failed check names the model that failed it,
and ``families['angle']['models']`` counts the correct theory's checks per model.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from ..theory.activations import RELU, THETA, PiecewiseLinear, angle_of
from ..theory.architectures import get_architecture, with_activation
from ..theory.blocks import BLOCK_INDEX, BatchNorm
from ..theory.recursion import derive_maps
from ..units import Plan, reusing, run_units
from ..errors import AnglefishError
from .contracts import TOLERANCE_MODELS, theory_vs_gram
from .tolerance import DEFAULT_ALPHA
from .work import fisher_unit, mc_unit

PERTURBATION = 0.02


@dataclass(frozen=True)
class Mutant:
    name: str
    architecture: str
    angle_cos: sp.Expr
    norm_ratio: sp.Expr

    def theory(self, depth: int, theta0: float) -> tuple[float, float]:
        """(theta_L, log q_L) by iterating the mutated maps in float64 (clipped to [-1, 1])."""
        c = _compiled(self.angle_cos)
        r = _compiled_ratio(self.norm_ratio)
        theta, log_q = float(theta0), 0.0
        for l in range(depth):
            theta = math.acos(min(1.0, max(-1.0, c(theta, l))))
            log_q += math.log(r(l))
        return theta, log_q


@lru_cache(maxsize=None)
def _compiled(expr):
    return sp.lambdify((THETA, BLOCK_INDEX), expr, "math")


@lru_cache(maxsize=None)
def _compiled_ratio(expr):
    f = sp.lambdify(BLOCK_INDEX, expr, "math")
    return lambda l: float(f(l))


@dataclass(frozen=True)
class _NearMissReLU(PiecewiseLinear):
    """ReLU whose derived kernel is deliberately wrong (a near miss of psi)."""

    stretch: float = 1.0
    bump: float = 0.0

    def kernel(self, qa, qb, qab):
        theta = angle_of(qab / (sp.sqrt(qa) * sp.sqrt(qb)))
        unit = RELU.derivation().unit_kernel.subs(THETA, sp.nsimplify(self.stretch) * theta)
        unit = unit + sp.nsimplify(self.bump) * sp.sin(theta) ** 2 / (2 * sp.pi)
        return sp.sqrt(qa) * sp.sqrt(qb) * unit


def mutants(arch) -> list:
    """All mutants of ``arch`` (see the module docstring)."""
    arch = get_architecture(arch)
    maps = derive_maps(arch)
    out = []
    ratio = maps.norm_ratio if maps.norm_ratio is not None else sp.Integer(1)
    parts = sp.collect(sp.expand(maps.angle_cos), [sp.cos(THETA), sp.sin(THETA)], evaluate=False)
    for term, coeff in parts.items():
        for factor in (1 - PERTURBATION, 1 + PERTURBATION):
            mutated = maps.angle_cos + (factor - 1) * coeff * term
            out.append(Mutant(f"coefficient of {term} x {factor:g}", arch.name, mutated, ratio))
    for factor in (1 - PERTURBATION, 1 + PERTURBATION):
        out.append(Mutant(f"norm ratio x {factor:g}", arch.name, maps.angle_cos, ratio * factor))
    for label, act in (("psi(1.02 theta)", _NearMissReLU("relu~stretch", stretch=1 + PERTURBATION)),
                       ("psi + 0.02 sin^2/pi", _NearMissReLU("relu~bump", bump=2 * PERTURBATION))):
        if any(getattr(b, "activation", None) is RELU for b in arch.block.walk()):
            near = derive_maps(with_activation(arch, act, name=f"{arch.name}~{act.name}"))
            out.append(Mutant(f"psi replaced by {label}", arch.name, near.angle_cos,
                              near.norm_ratio if near.norm_ratio is not None else ratio))
    if arch.uses(BatchNorm) and BLOCK_INDEX in maps.angle_cos.free_symbols:
        out.append(Mutant("BN (l+3) replaced by (l+2)", arch.name,
                          maps.angle_cos.subs(BLOCK_INDEX, BLOCK_INDEX - 1), ratio))
    return out


#: the battery of Monte Carlo configurations (depth, theta0) per architecture
BATTERY = ((1, 0.4), (1, 2.5), (10, 1.0), (30, 1.5))


@dataclass
class Calibration:
    power: float
    caught: int
    mutants: list
    false_alarm_rate: float
    false_alarm_upper_95: float
    false_alarms: int
    checks_run: int
    z_within_2: float  # fraction of standardised residuals with |t| <= 2 (nominal 0.9545)
    elapsed_s: float
    settings: dict = field(default_factory=dict)
    families: dict = field(default_factory=dict)  # per family of checks (angle, fisher): power, false alarms

    def as_dict(self) -> dict:
        return {"power": self.power, "caught": self.caught, "mutants": self.mutants,
                "false_alarm_rate": self.false_alarm_rate, "false_alarm_upper_95": self.false_alarm_upper_95,
                "false_alarms": self.false_alarms, "checks_run": self.checks_run,
                "fraction_abs_t_within_2": self.z_within_2, "nominal_fraction_within_2": 0.9545,
                "elapsed_s": self.elapsed_s, "settings": self.settings, "families": self.families}


def clopper_pearson_upper(failures: int, trials: int, level: float = 0.95) -> float:
    from scipy import stats

    if trials == 0:
        return 1.0
    if failures >= trials:
        return 1.0
    return float(stats.beta.ppf(level, failures + 1, trials - failures))


#: derivative-kernel mutants: the ReLU derivative kernel scaled in the NTK theory
DK_SCALES = (0.95, 1.05)


def _fisher_config(config: dict) -> tuple:
    """(depths, the other settings of the Fisher contract, sampler included) of a calibration's
    ``fisher`` setting: {depths (or depth), width, samples, seeds, sampler ('dense' if absent)}."""
    base = {k: v for k, v in config.items() if k not in ("depths", "depth")}
    base.setdefault("sampler", "dense")
    return tuple(config.get("depths", (config.get("depth", 3),))), base


def _fisher_units(architectures, config: dict, seed: int) -> list:
    depths, base = _fisher_config(config)
    return [fisher_unit(a, depth, seed=seed, **base) for a in architectures for depth in depths]


def fisher_mutant_rows(architectures, config: dict, seed: int, alpha: float, workers: int | None = 1) -> tuple:
    """Judge the correct NTK theory and each derivative-kernel mutant by the Fisher contract on
    the same networks of the setting's sampler (:func:`_fisher_config`; simulated once per architecture
    and depth, as units of work on ``workers`` processes; the theory is cheap to re-evaluate).  Returns
    (mutant rows, each naming the ``sampler`` of its networks, outcomes of the correct theory)."""
    from .contracts import fisher_vs_dense

    depths, base = _fisher_config(config)
    networks = iter(run_units(_fisher_units(architectures, config, seed), workers))
    rows, null = [], []
    for a in architectures:
        failed = {scale: [] for scale in DK_SCALES}
        for depth in depths:
            mc = next(networks)
            null += [o for o in fisher_vs_dense(a, depth=depth, seed=seed, alpha=alpha, mc=mc, **base)
                     if o.applicable]
            for scale in DK_SCALES:
                outcomes = fisher_vs_dense(a, depth=depth, derivative_kernel_scale=scale, seed=seed, alpha=alpha,
                                           mc=mc, **base)
                failed[scale] += [f"{o.id} (L={depth})" for o in outcomes if o.applicable and not o.passed]
        for scale in DK_SCALES:
            rows.append({"architecture": a, "mutant": f"derivative kernel x {scale:g}", "family": "fisher",
                         "sampler": base["sampler"], "caught": bool(failed[scale]), "failed_checks": failed[scale]})
    return rows, null


def _battery_units(architectures, width: int, seeds: int, repeats: int, seed: int, tolerance: str = "auto") -> list:
    """One Monte Carlo pair per (repeat r, architecture, battery configuration): part
    ("calibration", r, architecture, depth, theta0) of the master seed."""
    return [mc_unit(a, depth, theta0, width, seeds, seed, "calibration", r, a, depth, theta0, tolerance=tolerance)
            for r in range(repeats) for a in architectures for depth, theta0 in BATTERY]


def calibration_units(architectures=("mlp", "resnet", "resnet-bn"), width: int = 1024, seeds: int = 256,
                      repeats: int = 3, seed: int = 0, fisher: dict | None = None, tolerance: str = "auto") -> list:
    """The calibration's units of work: the Monte Carlo batteries and, with ``fisher``, the Fisher
    networks (of the setting's sampler, :func:`_fisher_config`) of each (architecture, depth)."""
    return _battery_units(architectures, width, seeds, repeats, seed, tolerance) + (
        _fisher_units(architectures, fisher, seed) if fisher is not None else [])


def calibrate(architectures=("mlp", "resnet", "resnet-bn"), width: int = 1024, seeds: int = 256,
              repeats: int = 3, seed: int = 0, alpha: float = DEFAULT_ALPHA, progress=None,
              fisher: dict | None = None, tolerance: str = "auto", workers: int | None = 1) -> Calibration:
    """Power against all mutants and the false-alarm rate of the correct theory.

    ``repeats`` independent Monte Carlo batteries (parts ("calibration", r, ...) of the master seed,
    r = 0 .. repeats-1) are run; the correct theory is checked on each (false alarms); each mutant is
    judged on the first.  ``tolerance``: "auto" (the finite-width model where it applies) or
    "extrapolation" (the width extrapolation everywhere), see :func:`.contracts.monte_carlo_pair`.
    The cost of each tolerance model is reported in ``families['angle']['models']``: configurations,
    simulated width x seeds (``cost_width_seeds``) and simulation wall time.  The simulations
    (:func:`calibration_units`) run on ``workers`` processes (``progress(done, total)`` counts them);
    the numbers do not depend on ``workers``.
    """
    t0 = time.perf_counter()
    if tolerance not in TOLERANCE_MODELS:
        raise AnglefishError(f"tolerance must be one of {', '.join(TOLERANCE_MODELS)}, got {tolerance!r}")
    units_ = calibration_units(architectures, width, seeds, repeats, seed, fisher, tolerance)
    with reusing(Plan().add(units_).run(workers, progress)):
        return _calibrate(architectures, width, seeds, repeats, seed, alpha, fisher, t0, tolerance)


def _calibrate(architectures, width, seeds, repeats, seed, alpha, fisher, t0, tolerance="auto") -> Calibration:
    per = len(architectures) * len(BATTERY)
    flat = run_units(_battery_units(architectures, width, seeds, repeats, seed, tolerance))
    batteries = [flat[r * per:(r + 1) * per] for r in range(repeats)]
    failures, checks, ts = 0, 0, []
    models: dict = {}
    for battery in batteries:
        for mc in battery:
            model = models.setdefault(mc.model.name, {"configurations": 0, "cost_width_seeds": 0,
                                                      "simulation_s": 0.0, "checks_run": 0, "false_alarms": 0})
            model["configurations"] += 1
            model["cost_width_seeds"] += mc.cost
            model["simulation_s"] += mc.elapsed_s
            for outcome in theory_vs_gram(mc, alpha=alpha):
                if not outcome.applicable:
                    continue
                checks += 1
                failures += not outcome.passed
                model["checks_run"] += 1
                model["false_alarms"] += not outcome.passed
                se = outcome.details["se"]
                if se > 0:
                    ts.append((outcome.details["theory"] - outcome.details["extrapolated"]) / se)
    rows = []
    for a in architectures:
        for m in mutants(a):
            failed = []
            for mc in batteries[0]:
                if mc.architecture != m.architecture:
                    continue
                for outcome in theory_vs_gram(mc, theory=m.theory(mc.depth, mc.theta0), alpha=alpha):
                    if not outcome.passed:
                        failed.append(f"{outcome.id} (L={mc.depth}, theta0={mc.theta0}, {outcome.details['model']})")
            rows.append({"architecture": a, "mutant": m.name, "family": "angle", "caught": bool(failed),
                         "failed_checks": failed})
    families = {"angle": {"checks_run": checks, "false_alarms": failures, "models": models}}
    if fisher is not None:
        fisher_rows, fisher_null = fisher_mutant_rows(architectures, fisher, seed, alpha)
        rows += fisher_rows
        f_fail = sum(not o.passed for o in fisher_null)  # the correct theory on the networks that judge the mutants
        families["fisher"] = {"checks_run": len(fisher_null), "false_alarms": f_fail,
                              "sampler": _fisher_config(fisher)[1]["sampler"]}
        checks += len(fisher_null)
        failures += f_fail
    for name, fam in families.items():
        own = [r for r in rows if r.get("family") == name]
        fam.update(mutants=len(own), caught=sum(r["caught"] for r in own),
                   power=sum(r["caught"] for r in own) / len(own) if own else float("nan"),
                   false_alarm_rate=fam["false_alarms"] / fam["checks_run"] if fam["checks_run"] else float("nan"),
                   false_alarm_upper_95=clopper_pearson_upper(fam["false_alarms"], fam["checks_run"]))
    caught = sum(r["caught"] for r in rows)
    ts = np.asarray(ts)
    return Calibration(
        power=caught / len(rows) if rows else float("nan"), caught=caught, mutants=rows,
        false_alarm_rate=failures / checks if checks else float("nan"),
        false_alarm_upper_95=clopper_pearson_upper(failures, checks), false_alarms=failures,
        checks_run=checks, z_within_2=float(np.mean(np.abs(ts) <= 2)) if len(ts) else float("nan"),
        elapsed_s=time.perf_counter() - t0, families=families,
        settings={"width": width, "seeds": seeds, "repeats": repeats, "alpha": alpha, "seed": seed,
                  "tolerance": tolerance,
                  "battery": [list(b) for b in BATTERY], "architectures": list(architectures),
                  "perturbation": PERTURBATION,
                  "fisher": fisher if fisher is not None else "derivative-kernel mutants not run (--full runs them)"})
