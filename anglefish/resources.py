"""Predicted peak memory and rough run time of a command, before anything is drawn.

Every estimate is built from the array shapes the code allocates (float64, 8 bytes a number):

* ``angles`` (Gram sampler): the per-unit values of the batch, (S, N, B) per array, about
  four such arrays alive at once inside a block (input, fresh normals, output, activation;
  two more for activations that are not positively homogeneous); the dense sampler adds one
  weight matrix per seed, (S, N, N); the recorded pair statistics, about 21 arrays of (R, S)
  for R recorded depths, and the output rows (Python dicts and the printed text, about 2.6 kB
  a row).  Time: per block and seed a fixed cost of ~15 us per Dense plus ~30 ns per number
  drawn (N B normals, N^2 with the dense sampler), plus the exact map, ~3 us a step (closed
  series), ~0.4 ms (nested maps) or ~4 ms (quadrature kernels).
* ``fisher``, projected sampler (the default): no weights; per network O(L N T): every block
  element's (N, T) values and, per Dense, Q and Omega (chunks of about
  :data:`anglefish.numeric.fisher.PASS_MEMORY` bytes), four (N, R T) temporaries of the
  backward pass (R = T with batch BN), the Grams; time ~20 N T^2 flops and 2 N T normals per
  Dense and network (:func:`_estimate_fisher_projected`).
* ``fisher``, dense sampler: the weights of one chunk of networks (P = sum of fan-in x fan-out
  over the Dense layers, plus the readout; chunks hold at most
  :data:`anglefish.numeric.fisher.WEIGHT_MEMORY` bytes of weights but at least one network),
  the forward caches (one (N, T) array per block element per block and network), the T x T
  NTK Gram of every network and the eigen-decomposition's copies; with batch-statistics BN
  the Jacobian of all T outputs, about four (T, N, T) arrays per network.  Time: ~6 N^2 T
  + 4 N T^2 flops per Dense and network and 10 T^3 for the spectrum, at FLOP_RATE.
* ``lr``: one network's weights four times (initialisation, the copy being trained, its
  gradient, the teacher), its forward caches twice, the Gram and the loss history of every
  run (steps + 1 numbers); time: about RUNS_LR gradient-descent runs of ``steps`` steps, each
  step one forward and backward pass.

``tests/test_resources.py`` holds the memory estimates to the peak measured by tracemalloc
on small runs: measured <= estimate <= MEMORY_FACTOR x measured.  Times are rough (within a
factor of ~3 on the development machine: 2 cores of an AMD EPYC, numpy at ~24 GFLOP/s on one
thread); they only decide refusals of runs far beyond the time limit and label progress.

The budget: :func:`memory_budget` is ``ANGLEFISH_MEMORY_BUDGET`` (bytes, or with a suffix
K, M, G, T) if set, else half the memory the operating system reports available when the
command starts.  The time limit: :func:`time_limit` is ``ANGLEFISH_TIME_LIMIT`` (seconds,
or with a suffix s, m, h, d) if set, else 24 hours.  :func:`require` refuses, in one line
naming the estimate, the limit and the flags that lower it, any estimate beyond either.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

from .errors import AnglefishError

MEMORY_ENV = "ANGLEFISH_MEMORY_BUDGET"
TIME_ENV = "ANGLEFISH_TIME_LIMIT"
#: fraction of the available memory a command may plan to use
BUDGET_FRACTION = 0.5
#: used when the available memory cannot be read
FALLBACK_BUDGET = 4 * 2**30
DEFAULT_TIME_LIMIT = 24 * 3600.0
#: the estimate is at least the measured peak and at most this factor above it (tests)
MEMORY_FACTOR = 4.0
#: floating-point operations per second assumed for time estimates (about half of what numpy's
#: matmul reached on one core of the development machine, for the smaller products used here)
FLOP_RATE = 1e10
#: seconds per random number drawn and per element touched (measured: ~22-25 ns)
NORMAL_SECONDS = 30e-9
#: fixed cost of one Dense layer of the Gram sampler per seed (Python and numpy call overhead)
LAYER_SECONDS = 15e-6
#: seconds per step of the exact map, per starting angle: closed series, nested (stable pair
#: interpreter), quadrature kernels (measured: 3e-6, 1.6e-4 to 3.4e-4, 0.9e-3 to 3.9e-3)
THEORY_STEP_SECONDS = {"closed": 3e-6, "nested": 4e-4, "quadrature": 4e-3}
#: bytes per recorded row of an angle table (dicts, floats, printed text; measured ~2.5 kB)
ROW_BYTES = 2600
#: float64 arrays of shape (R, S) alive while the pair statistics are formed (measured ~21)
STAT_ARRAYS = 21
#: gradient-descent runs of one `lr` call: bracket (2-4), bisection to 1% (8), divergence
#: grid up to 64 x 2/lambda_max at ratio 2^(1/4) (24) and its refinement (5)
RUNS_LR = 40
#: seconds SymPy needs to derive an architecture's maps (first use in a process)
DERIVATION_SECONDS = 5.0
#: bytes of Python objects any run creates besides its arrays (measured 0.1-0.2 MiB)
BOOKKEEPING_BYTES = 2**18
_F8 = 8


# ----------------------------------------------------------------------------- limits
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_TIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def available_memory() -> int | None:
    """Bytes the operating system reports available now (MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _parse_amount(text: str, units: dict, env: str, what: str) -> float:
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([a-z]?)i?b?\s*", str(text).lower())
    if not m or m.group(2) not in units:
        raise AnglefishError(f"{env} must be {what}, got {text!r}")
    value = float(m.group(1)) * units[m.group(2)]
    if not (value > 0 and math.isfinite(value)):
        raise AnglefishError(f"{env} must be positive, got {text!r}")
    return value


def memory_budget() -> tuple[int, str]:
    """(bytes, where the number comes from)."""
    if os.environ.get(MEMORY_ENV, "").strip():
        value = _parse_amount(os.environ[MEMORY_ENV], _UNITS, MEMORY_ENV, "bytes, e.g. 2G or 512M")
        return int(value), f"set by {MEMORY_ENV}"
    avail = available_memory()
    if avail is None:
        return FALLBACK_BUDGET, f"available memory unknown; set {MEMORY_ENV} to change it"
    return int(BUDGET_FRACTION * avail), f"half the available memory; {MEMORY_ENV} overrides"


def time_limit() -> tuple[float, str]:
    if os.environ.get(TIME_ENV, "").strip():
        return _parse_amount(os.environ[TIME_ENV], _TIME_UNITS, TIME_ENV, "seconds, e.g. 3600 or 2h"), \
            f"set by {TIME_ENV}"
    return DEFAULT_TIME_LIMIT, f"{TIME_ENV} overrides"


def format_bytes(n: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}" if n / size < 1e4 else f"{n / size:.3e} {unit}"
    return f"{n:.0f} bytes"


def format_seconds(t: float) -> str:
    if t >= 3.15e7 * 100:
        return f"{t / 3.15e7:.2e} years"
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if t >= size:
            return f"{t / size:.3g} {unit}"
    return f"{t:.2g} s"


# ----------------------------------------------------------------------------- estimates
@dataclass(frozen=True)
class Estimate:
    """Predicted peak memory (bytes above what the process held before) and rough run time.

    memory_terms / time_terms: named contributions; memory_flags / time_flags: for each term,
    the flags that make it smaller (the refusal names those of the largest term).
    """

    command: str
    memory_terms: dict
    time_terms: dict
    memory_flags: dict = field(default_factory=dict)
    time_flags: dict = field(default_factory=dict)

    @property
    def bytes(self) -> float:
        return float(sum(self.memory_terms.values()))

    @property
    def seconds(self) -> float:
        return float(sum(self.time_terms.values()))

    def as_dict(self) -> dict:
        return {"command": self.command, "bytes": self.bytes, "seconds": self.seconds,
                "memory_terms": dict(self.memory_terms), "time_terms": dict(self.time_terms)}

    def _lower(self, terms: dict, flags: dict) -> str:
        biggest = max(terms, key=terms.get)
        return flags.get(biggest, "the sizes")

    def text(self) -> str:
        """'about 1.2 GiB and 3 minutes' (for progress labels)."""
        return f"about {format_bytes(self.bytes)} and {format_seconds(self.seconds)}"


def require(estimate: Estimate, budget: tuple | None = None, limit: tuple | None = None) -> Estimate:
    """Raise AnglefishError (one line) if ``estimate`` exceeds the memory budget or the time limit."""
    budget = budget or memory_budget()
    limit = limit or time_limit()
    for amount, (cap, source), fmt, verb, terms, flags in (
            (estimate.bytes, budget, format_bytes, "need about {} of memory, more than the budget of {}",
             estimate.memory_terms, estimate.memory_flags),
            (estimate.seconds, limit, format_seconds, "take about {}, more than the limit of {}",
             estimate.time_terms, estimate.time_flags)):
        if amount > cap:
            raise AnglefishError(f"{estimate.command} would {verb.format(fmt(amount), fmt(cap))} ({source}); "
                                 f"lower {estimate._lower(terms, flags)}")
    return estimate


@dataclass(frozen=True)
class _Shape:
    """What the estimates need to know of a block: counts, read from the block list."""

    dense: int  # Dense layers per block
    elements: int  # leaf blocks per block (each leaves about one array in the forward caches)
    batch_bn: bool
    quadrature: bool  # an activation evaluated by quadrature
    homogeneous: bool  # every activation positively homogeneous (piecewise linear)
    nested: bool  # more than one activation per block, or one reading the residual stream

    @classmethod
    def of(cls, arch, bn: str | None = None) -> "_Shape":
        from .theory.activations import PiecewiseLinear, QuadratureActivation
        from .theory.blocks import Act, BatchNorm, Dense, Residual, Serial

        leaves = [b for b in arch.block.walk() if not isinstance(b, (Serial, Residual))]
        acts = [b for b in leaves if isinstance(b, Act)]
        first = next((b for b in leaves if isinstance(b, (Act, Dense))), None)
        return cls(dense=sum(isinstance(b, Dense) for b in leaves), elements=len(leaves) + 1,
                   batch_bn=any(isinstance(b, BatchNorm) and (bn or b.kind) == "batch" for b in leaves),
                   quadrature=any(isinstance(a.activation, QuadratureActivation) for a in acts),
                   homogeneous=all(isinstance(a.activation, PiecewiseLinear) for a in acts),
                   nested=len(acts) > 1 or isinstance(first, Act))

    def theory_step(self) -> float:
        if self.quadrature:
            return THEORY_STEP_SECONDS["quadrature"]
        if self.nested or not self.homogeneous:
            return THEORY_STEP_SECONDS["nested"]
        return THEORY_STEP_SECONDS["closed"]


def recorded_rows(depth: int, every: int) -> int:
    """Rows of an angle table: every ``every``-th depth from 0 and the last."""
    return depth // every + 1 + (1 if depth % every else 0)


def estimate_angles(arch, depth: int, width: int, seeds: int, batch: int | None = None, sampler: str = "gram",
                    every: int = 1, theory_only: bool = False, bn: str | None = None) -> Estimate:
    """``anglefish angles``: the exact map, and unless ``theory_only`` the Monte Carlo."""
    from .theory import get_architecture

    arch = get_architecture(arch)
    shape = _Shape.of(arch, bn)
    rows = recorded_rows(depth, every)
    has_theory = not shape.batch_bn
    mem = {"output rows": float(rows) * ROW_BYTES, "bookkeeping": BOOKKEEPING_BYTES}
    mem_flags = {"output rows": "--depth or raise --every"}
    time, time_flags = {}, {}
    if has_theory:
        time["exact map"] = DERIVATION_SECONDS + depth * shape.theory_step()
        time_flags["exact map"] = "--depth"
        mem["exact map"] = float(rows) * 3 * _F8
    if not theory_only:
        b = batch or (32 if shape.batch_bn else 2)
        snb = float(seeds) * width * b * _F8
        mem["network signals"] = snb * (4.5 + (0 if shape.homogeneous else 2))
        mem_flags["network signals"] = "--width or --seeds" + (" or --batch" if b > 2 else "")
        mem["pair statistics"] = float(rows) * seeds * (STAT_ARRAYS + 5) * _F8
        mem_flags["pair statistics"] = "--seeds or --depth, or raise --every"
        per_layer = LAYER_SECONDS + NORMAL_SECONDS * width * b + 2.0 * width * b * b / FLOP_RATE
        if sampler == "dense":
            # the dense sampler holds one repeated block's weights at a time (all its Dense layers)
            mem["weight matrices"] = float(seeds) * width * width * _F8 * 1.1 * max(shape.dense, 1)
            mem_flags["weight matrices"] = "--width or --seeds, or use --sampler gram"
            per_layer += NORMAL_SECONDS * float(width) * width + 2.0 * width * width * b / FLOP_RATE
        time["simulation"] = float(depth) * seeds * max(shape.dense, 1) * per_layer
        time_flags["simulation"] = "--depth, --seeds or --width"
    return Estimate("angles", mem, time, mem_flags, time_flags)


def _network_size(shape: _Shape, depth: int, width: int) -> float:
    """Parameters of one network: every Dense is width x width (input dimension = width), plus v."""
    return float(depth) * shape.dense * width * width + width


def estimate_fisher(arch, depth: int, width: int, samples: int, seeds: int, bn: str | None = None,
                    networks_per_seed: int = 1, sampler: str = "projected") -> Estimate:
    """``anglefish fisher`` (:func:`anglefish.numeric.fisher.fisher_spectrum` with ``sampler``)."""
    from .numeric.fisher import SAMPLERS
    from .theory import get_architecture
    from .validation import check_choice

    check_choice(sampler, "sampler", SAMPLERS)
    arch = get_architecture(arch)
    shape = _Shape.of(arch, bn)
    if sampler == "projected":
        return _estimate_fisher_projected(arch, shape, depth, width, samples, seeds, networks_per_seed)
    from .numeric.fisher import WEIGHT_MEMORY

    p = _network_size(shape, depth, width)
    chunk = max(1, min(seeds, int(WEIGHT_MEMORY // (p * _F8))))
    t = float(samples)
    nt = float(width) * t * _F8
    mem = {"weights": chunk * p * _F8,
           "forward caches": chunk * (shape.elements * depth + 4) * nt,
           "NTK Grams": float(seeds) * t * t * _F8 * 3 + chunk * t * t * _F8 * 3,
           "bookkeeping": BOOKKEEPING_BYTES}
    # networks are drawn chunk by chunk (chunk <= seeds): with several per chunk, fewer seeds also help
    also = "--seeds, " if chunk > 1 else ""
    flags = {"weights": f"{also}--width or --depth, or use --sampler projected",
             "forward caches": f"{also}--width, --samples or --depth", "NTK Grams": "--samples or --seeds"}
    if shape.batch_bn:
        mem["batch-BN Jacobian"] = 4.0 * t * t * width * _F8 * (shape.dense + 1)
        flags["batch-BN Jacobian"] = "--samples or --width"
    flops = shape.dense * depth * (6.0 * width * width * t + 4.0 * width * t * t)
    if shape.batch_bn:
        flops *= t
    time = {"networks": seeds * networks_per_seed * (flops / FLOP_RATE + NORMAL_SECONDS * p),
            "spectra": seeds * networks_per_seed * 10.0 * t**3 / FLOP_RATE}
    time_flags = {"networks": "--seeds, --width, --depth or --samples", "spectra": "--samples or --seeds"}
    return Estimate("fisher", mem, time, flags, time_flags)


def _estimate_fisher_projected(arch, shape: _Shape, depth: int, width: int, samples: int, seeds: int,
                               networks_per_seed: int) -> Estimate:
    """The projected sampler (:func:`anglefish.numeric.fisher.projected_gram`): no weight matrices.

    Memory O(L N T) per network: the pass keeps every block element's (N, T) values plus, per
    Dense, Q and Omega (:func:`anglefish.numeric.fisher.projected_pass_bytes`); networks run in
    chunks of about PASS_MEMORY bytes (one at a time with batch BN).  The backward pass holds about
    four (N, R T) arrays at a Dense (cotangent, its column copy, the orthogonal draw, the result),
    R = 1, or R = T with batch BN, where, as for the dense sampler, four such arrays per Dense of
    a block and one more are counted for the BN backward's temporaries (then also a row block of
    a fresh N x N Gaussian where T^2 > N).
    Time: ~20 N k^2 flops per Dense and network (QR of H and of G, the products with Q, Omega,
    R_G and the Gram's Hadamard terms; k = min(N, T), k^2 -> k R T with R functionals) and
    2 N k normals, plus the T x T spectra."""
    from .numeric.fisher import PASS_MEMORY, projected_pass_bytes
    from .numeric.projected import GAMMA_BLOCK_BYTES

    t = float(samples)
    k = float(min(width, samples))
    per_network = float(projected_pass_bytes(arch, depth, width, samples))
    chunk = 1 if shape.batch_bn else max(1, min(seeds, int(PASS_MEMORY // per_network)))
    r = t if shape.batch_bn else 1.0
    mem = {"network passes": chunk * per_network,
           "backward temporaries": chunk * 4.0 * width * t * r * _F8 * ((shape.dense + 1) if shape.batch_bn else 1),
           "NTK Grams": float(seeds) * t * t * _F8 * 3 + chunk * t * t * _F8 * 3,
           "bookkeeping": BOOKKEEPING_BYTES}
    also = "--seeds, " if chunk > 1 else ""
    flags = {"network passes": f"{also}--width, --samples or --depth",
             "backward temporaries": f"{also}--width or --samples", "NTK Grams": "--samples or --seeds"}
    columns = k * r
    if shape.batch_bn and r * t > width:
        mem["fresh Gaussian block"] = min(float(GAMMA_BLOCK_BYTES), float(width) * width * _F8)
        flags["fresh Gaussian block"] = "--width"
    normals = shape.dense * depth * (width * k + width * min(float(width), r * t)) + width * (t + 1)
    flops = shape.dense * depth * (10.0 * width * k * k + 10.0 * width * columns * min(float(width), r * t))
    time = {"networks": seeds * networks_per_seed * (flops / FLOP_RATE + NORMAL_SECONDS * normals
                                                     + LAYER_SECONDS * shape.elements * depth),
            "spectra": seeds * networks_per_seed * 10.0 * t**3 / FLOP_RATE}
    time_flags = {"networks": "--seeds, --width, --depth or --samples", "spectra": "--samples or --seeds"}
    return Estimate("fisher", mem, time, flags, time_flags)


def estimate_lr(arch, depth: int, width: int, samples: int, steps: int, initialisations: int = 1,
                runs: int = RUNS_LR, bn: str | None = None, batched: bool = False) -> Estimate:
    """``anglefish lr``: gradient descent from ``initialisations`` networks, about ``runs`` runs of
    ``steps`` steps each.  ``batched=False``: one network held at a time
    (:func:`anglefish.numeric.training.monotone_threshold`); ``batched=True``: the search of
    :func:`anglefish.numeric.training.learning_rate_thresholds` -- the initialisations' networks, plus
    one chunk of runs in a pass (as many copies as keep a weight matrix's chunk within
    ``training._CHUNK_BYTES``; each with its gradients and, while finished runs leave the pass, a
    second copy), over a grid pass and the bisection passes of both thresholds."""
    from .numeric.training import _CHUNK_BYTES, THRESHOLD_GRID
    from .theory import get_architecture

    arch = get_architecture(arch)
    shape = _Shape.of(arch, bn)
    p = _network_size(shape, depth, width)
    t = float(samples)
    nt = float(width) * t * _F8
    if batched:
        held = min(initialisations * len(THRESHOLD_GRID), max(1, _CHUNK_BYTES // int(width * width * _F8)))
        copies = initialisations + 3 * held
        runs = 2 * len(THRESHOLD_GRID) + 2 * 4  # both grids (at most), then 4 bisection passes per threshold
    else:
        held, copies = 1, 4  # the network, its gradient and two temporaries of its size
    mem = {"weights": p * _F8 * copies,
           "forward caches": 2 * (shape.elements * depth + 4) * nt * held,
           "NTK Gram": 3 * t * t * _F8 * (t if shape.batch_bn else 1) * (initialisations if batched else 1),
           "loss history": 2.0 * (steps + 1) * _F8 * held, "bookkeeping": BOOKKEEPING_BYTES}
    flags = {"weights": "--width, --depth or --inits", "forward caches": "--width, --samples, --depth or --inits",
             "NTK Gram": "--samples", "loss history": "--steps"}
    step_flops = shape.dense * depth * 6.0 * width * width * t * (t if shape.batch_bn else 1)
    time = {"gradient descent": initialisations * runs * float(steps) * step_flops / FLOP_RATE
            + (1 if batched else initialisations * runs) * steps * LAYER_SECONDS * shape.elements * depth,
            "spectrum": initialisations * estimate_fisher(arch, depth, width, samples, 1, bn, sampler="dense").seconds}
    time_flags = {"gradient descent": "--steps, --width, --depth, --samples or --inits",
                  "spectrum": "--width, --depth or --samples"}
    return Estimate("lr", mem, time, flags, time_flags)
