"""The resource estimator against what the code allocates, and the refusals it drives.

Each memory estimate is held to the peak that tracemalloc measures on a small run of the same
library call (numpy registers its buffers with tracemalloc): measured <= estimate <=
MEMORY_FACTOR x measured.  The runs are sized so that arrays, not the interpreter's fixed
overhead, dominate the peak.  Deterministic: no false alarms from chance.
"""
import tracemalloc
import warnings

import pytest

from anglefish import resources as R
from anglefish.errors import AnglefishError


def peak_bytes(fn, *args, **kw):
    fn(*args, **kw)  # first call: compile maps, fill caches (not the run's own memory)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fn(*args, **kw)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def angles_json(arch, depth, width, seeds, batch=None, sampler="gram", every=1):
    from anglefish.jsonout import dumps
    from anglefish.numeric import angle_table

    return dumps(angle_table(arch, depth, 1.0, width, seeds, batch=batch, sampler=sampler, every=every))


slow = pytest.mark.slow
ANGLES = [  # (arch, depth, width, seeds, batch, sampler, every): signals, dense weights, many rows
    ("mlp", 10, 2048, 32, None, "gram", 1),
    ("mlp", 4, 256, 16, None, "dense", 1),
    ("mlp", 1000, 16, 8, None, "gram", 1),
    pytest.param("resnet-bn", 20, 512, 32, 32, "gram", 1, marks=slow),
    pytest.param("resnet", 4, 256, 16, None, "dense", 1, marks=slow),
    pytest.param("mlp", 1500, 16, 8, None, "gram", 1, marks=slow),
    pytest.param("mlp[tanh]", 10, 2048, 64, None, "gram", 1, marks=slow),
]


@pytest.mark.parametrize("arch,depth,width,seeds,batch,sampler,every", ANGLES)
def test_angles_estimate_bounds_the_measured_peak(arch, depth, width, seeds, batch, sampler, every):
    measured = peak_bytes(angles_json, arch, depth, width, seeds, batch, sampler, every)
    est = R.estimate_angles(arch, depth, width, seeds, batch=batch, sampler=sampler, every=every).bytes
    assert measured <= est <= R.MEMORY_FACTOR * measured, (measured, est)


FISHER = [("mlp", 3, 256, 64, 8, "dense"), ("mlp", 3, 2048, 64, 8, "projected"),
          ("resnet-bn", 3, 512, 16, 2, "projected"),
          pytest.param("resnet", 2, 512, 16, 4, "dense", marks=slow),
          pytest.param("resnet-bn", 3, 128, 128, 16, "dense", marks=slow),
          pytest.param("mlp", 2, 64, 64, 200, "dense", marks=slow),
          pytest.param("mlp", 10, 8192, 64, 2, "projected", marks=slow),
          pytest.param("resnet", 2, 64, 64, 200, "projected", marks=slow),
          pytest.param("mlp", 3, 32, 64, 4, "projected", marks=slow)]  # T > N: Q square


@pytest.mark.parametrize("arch,depth,width,samples,seeds,sampler", FISHER)
def test_fisher_estimate_bounds_the_measured_peak(arch, depth, width, samples, seeds, sampler):
    from anglefish.numeric.fisher import fisher_spectrum

    measured = peak_bytes(fisher_spectrum, arch, depth, width, samples, seeds, sampler=sampler)
    est = R.estimate_fisher(arch, depth, width, samples, seeds, sampler=sampler).bytes
    assert measured <= est <= R.MEMORY_FACTOR * measured, (measured, est)


@pytest.mark.parametrize("bn", [None, "batch"])
def test_projected_fisher_estimate_with_batch_bn(bn):
    """Batch BN carries T functionals through the backward pass (one network at a time)."""
    from anglefish.numeric.fisher import fisher_spectrum

    measured = peak_bytes(fisher_spectrum, "resnet-bn", 2, 96, 16, 2, bn=bn)
    est = R.estimate_fisher("resnet-bn", 2, 96, 16, 2, bn=bn).bytes
    assert measured <= est <= R.MEMORY_FACTOR * measured, (measured, est)


def test_lr_estimate_bounds_the_measured_peak():
    from anglefish.numeric.training import monotone_threshold

    call = dict(depth=2, width=128, samples=16, seed=0, steps=2, divergence_search=None)
    measured = peak_bytes(monotone_threshold, "resnet", **call)
    est = R.estimate_lr("resnet", 2, 128, 16, 2).bytes
    assert measured <= est <= R.MEMORY_FACTOR * measured, (measured, est)


@pytest.mark.parametrize("arch,depth,width,samples,inits", [
    ("resnet-bn", 2, 128, 16, 3),
    pytest.param("resnet", 3, 256, 16, 2, marks=pytest.mark.slow),  # every run of a pass in one chunk
    pytest.param("mlp", 4, 512, 32, 2, marks=pytest.mark.slow)])  # passes split into chunks of 8 runs
def test_batched_lr_estimate_bounds_the_measured_peak(arch, depth, width, samples, inits):
    """The learning-rate search (grid pass, then bisection in chunks of runs)."""
    from anglefish.numeric.training import learning_rate_thresholds

    measured = peak_bytes(learning_rate_thresholds, arch, depth, width, samples, inits=inits, steps=10, workers=1)
    est = R.estimate_lr(arch, depth, width, samples, 10, initialisations=inits, batched=True).bytes
    assert measured <= est <= R.MEMORY_FACTOR * measured, (measured, est)


def test_budget_and_limit_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(R.MEMORY_ENV, "512M")
    assert R.memory_budget()[0] == 512 * 2**20 and R.MEMORY_ENV in R.memory_budget()[1]
    monkeypatch.setenv(R.MEMORY_ENV, "3e9")
    assert R.memory_budget()[0] == 3_000_000_000
    monkeypatch.setenv(R.TIME_ENV, "2h")
    assert R.time_limit()[0] == 7200
    monkeypatch.delenv(R.MEMORY_ENV)
    budget, source = R.memory_budget()
    avail = R.available_memory()
    assert avail is None or budget == int(R.BUDGET_FRACTION * avail)
    for bad in ("lots", "-1G", "0"):
        monkeypatch.setenv(R.MEMORY_ENV, bad)
        with pytest.raises(AnglefishError, match=R.MEMORY_ENV):
            R.memory_budget()


def test_refusal_names_estimate_budget_and_the_flag_that_lowers_it():
    est = R.estimate_angles("mlp", 5, 10**11, 2)
    with pytest.raises(AnglefishError) as err:
        R.require(est, budget=(2**30, "a test budget"), limit=(3600.0, "a test limit"))
    msg = str(err.value)
    assert "TiB" in msg and "1 GiB" in msg and "a test budget" in msg and "--width" in msg
    slow = R.estimate_lr("mlp", 2, 64, 64, 10**9)
    with pytest.raises(AnglefishError, match="would take about .* lower --steps"):
        R.require(slow, budget=(2**60, "huge"), limit=(3600.0, "one hour"))
    small = R.estimate_fisher("mlp", 2, 32, 8, 4)
    assert R.require(small, budget=(2**30, "b"), limit=(3600.0, "l")) is small


def test_time_estimates_grow_with_the_work():
    base = R.estimate_fisher("resnet", 3, 128, 32, 4).seconds
    assert R.estimate_fisher("resnet", 3, 128, 32, 8).seconds == pytest.approx(2 * base)
    assert R.estimate_lr("mlp", 2, 64, 32, 100).seconds > R.estimate_lr("mlp", 2, 64, 32, 10).seconds
    quad = R.estimate_angles("mlp[tanh]", 1000, 8, 2, theory_only=True).seconds
    closed = R.estimate_angles("mlp", 1000, 8, 2, theory_only=True).seconds
    assert quad > closed
