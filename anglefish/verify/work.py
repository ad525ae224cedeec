"""The verification's units of work (:mod:`anglefish.units`): what a worker process runs for the
contract suite, the claims and the calibration, with plain data in and out.

Cost hints (:class:`anglefish.units.Unit` ``cost``, used only to start the longest units first) of
every verification unit are on the scale :data:`anglefish.units.COST_PER_SECOND` (measured per unit at
commit 5374084): a Monte Carlo pair at depth 30 (width 1024, 512 networks) is about 0.5 s, a
learning-rate point at depth 10 about 15 s; the calibration's Fisher networks (512 projected ones per
width, commit 6e44bd3) 5-8 s."""
from __future__ import annotations

from dataclasses import replace

from ..seeds import part_seed
from ..units import COST_PER_SECOND, Unit, arch_name, unit


def monte_carlo(arch: str, depth: int, theta0: float, width: int, seeds: int, seed: int, labels: list,
                tolerance: str = "auto"):
    """:func:`anglefish.verify.contracts.monte_carlo_pair` with the seed of part ``labels`` of the run
    with master ``seed`` (:func:`anglefish.seeds.part_seed`) and the tolerance model ``tolerance``;
    returned without the Architecture object (the caller's registry has it under ``architecture``)."""
    from .contracts import monte_carlo_pair

    return replace(monte_carlo_pair(arch, depth, theta0, width, seeds, part_seed(seed, *labels), tolerance=tolerance),
                   arch=None)


def mc_unit(arch, depth: int, theta0: float, width: int, seeds: int, seed: int, *labels,
            tolerance: str = "auto") -> Unit:
    """The unit of one Monte Carlo pair (one width, or widths N and 2N, as the tolerance model needs)
    of part ``labels`` of master ``seed``."""
    return unit(monte_carlo, arch=arch_name(arch), depth=int(depth), theta0=float(theta0), width=int(width),
                seeds=int(seeds), seed=int(seed), labels=list(labels), tolerance=str(tolerance),
                cost=3e-6 * (depth + 1) * seeds * width)


def fisher_unit(arch, depth: int, width: int, samples: int, seeds: int, seed: int, sampler: str = "dense") -> Unit:
    """The unit of :func:`anglefish.verify.contracts.fisher_mc` (networks at N and 2N of ``sampler``:
    'dense', the contract suite's reference, or 'projected', no weight matrices)."""
    from .contracts import fisher_mc

    if sampler == "dense":
        # widths N and 2N: (N^2 + 4 N^2) weights a layer to draw (~1e-8 s each) and multiply by T inputs
        seconds = seeds * depth * 5 * width * width * (1e-8 + 1e-9 * samples)
    else:
        # widths N and 2N, one pass per subset (two): per Dense 2 (N, T) draws and QRs of (N, T) matrices,
        # ~7e-8 s per unit of width and input (512 networks, depth 12, N = 256, T = 8: 5-8 s at commit 6e44bd3)
        seconds = seeds * depth * 3 * width * samples * 1.4e-7
    return unit(fisher_mc, arch=arch_name(arch), depth=int(depth), width=int(width), samples=int(samples),
                seeds=int(seeds), seed=int(seed), sampler=str(sampler), cost=COST_PER_SECOND * seconds)


__all__ = ["fisher_unit", "mc_unit", "monte_carlo"]
