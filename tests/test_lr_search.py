"""The learning-rate search of learning_rate_thresholds (issue 14): the search with early-stopping runs
finds what the exhaustive search (every grid ratio, every interior point, every run to the end) finds,
also where the rise flags switch more than once inside a bracket (a bisection does not; divergence is
bisected); its runs give the flags of batched_runs; the divergence bisection gives the same thresholds
in float32 as in float64 on these problems (benchmarks/lr.py shows it on larger ones); the guarded float32
rise runs give the flags of float64 runs wherever they are not marginal, and the search with them the
thresholds and non_monotone counts of the float64 search."""
import numpy as np
import pytest

from anglefish.numeric import training
from anglefish.numeric.network import one_blas_thread
from anglefish.numeric.training import _decide, _draw_problem, batched_runs

SETTINGS = (30, "teacher", None, 15, 1e3, None)  # steps, targets, bn, refine, divergence_factor, progress

PROBLEMS = [("resnet", 2, 24, 8, 3, 2), ("resnet-bn", 2, 24, 8, 4, 2), ("mlp", 3, 32, 8, 5, 2)]


@pytest.fixture(scope="module", params=PROBLEMS, ids=lambda p: p[0])
def problem(request):
    arch, depth, width, samples, seed, inits = request.param
    return seed, _draw_problem(arch, depth, width, samples, seed, "teacher", None, np.float64, inits)


def test_the_search_finds_what_the_exhaustive_search_finds(problem):
    seed, drawn = problem
    fast = training._thresholds(*drawn, seed, *SETTINGS, divergence_dtype=np.float64)
    slow = training._thresholds_exhaustive(*drawn, seed, *SETTINGS)
    assert fast["per_init"] == slow["per_init"]
    assert fast["summary"] == slow["summary"]


def test_guarded_float32_rise_runs_give_the_float64_search(problem):
    seed, drawn = problem
    stats = {}
    guarded = training._thresholds(*drawn, seed, *SETTINGS, divergence_dtype=np.float64, stats=stats)
    wide = training._thresholds(*drawn, seed, *SETTINGS, divergence_dtype=np.float64, rise_dtype=np.float64)
    assert guarded["per_init"] == wide["per_init"]
    assert stats["rise grid"] > 0 and stats["rise bracket"] > 0  # the float32 rise runs did run


def test_marginal_rise_runs_are_run_again_in_float64(problem, monkeypatch):
    """With a bound so wide that no float32 step is decided, every rise run is run again in float64:
    the search then is the float64 search (the re-run path gives its flags)."""
    seed, drawn = problem
    monkeypatch.setattr(training, "RISE_GUARD", 1e9)
    stats = {}
    guarded = training._thresholds(*drawn, seed, *SETTINGS, divergence_dtype=np.float64, stats=stats)
    wide = training._thresholds(*drawn, seed, *SETTINGS, divergence_dtype=np.float64, rise_dtype=np.float64)
    assert guarded["per_init"] == wide["per_init"]
    assert stats["rise reruns"] >= len(training.THRESHOLD_GRID)  # the whole rise grid at least


def test_guarded_float32_rise_flags_are_the_float64_flags_where_decided():
    arch, params, x, y = _draw_problem("resnet", 3, 48, 16, 7, "teacher", None, np.float64, 2)
    lam = np.linalg.eigvalsh(training.ntk_gram(arch, params, x) / 16)[:, -1]
    ratios = np.exp(np.linspace(np.log(0.4), np.log(3.0), 24))
    nets = np.tile([0, 1], 12)
    etas = 2 * ratios / lam[nets]
    wide = _decide(params, x, y, nets, etas, 40, "rise", 1e3, np.float64)
    flags, marginal = _decide(params, x, y, nets, etas, 40, "rise", 1e3, np.float32, guarded=True)
    assert flags[~marginal].tolist() == wide[~marginal].tolist()
    assert not flags[marginal].any()
    assert 0 < wide[~marginal].sum() < (~marginal).sum()  # both answers decided: not vacuous


def test_float32_divergence_bisection_gives_the_float64_thresholds(problem):
    seed, drawn = problem
    f32 = training._thresholds(*drawn, seed, *SETTINGS, divergence_dtype=np.float32)
    f64 = training._thresholds(*drawn, seed, *SETTINGS, divergence_dtype=np.float64)
    assert f32["per_init"] == f64["per_init"]


@pytest.mark.slow
def test_a_bracket_whose_flags_switch_twice():
    """Initialisation 1 of the README's example (`lr resnet-bn --depth 5 --width 256 --samples 64`):
    the grid switches once, but inside the monotone bracket the loss rises at r = 1.022 and not at
    some larger points; a bisection over the bracket returned 1.139, the first rise is 1.022."""
    drawn = _draw_problem("resnet-bn", 5, 256, 64, 0, "teacher", None, np.float64, 1, 1)
    settings = (50, "teacher", None, 15, 1e3, None)
    with one_blas_thread():
        fast = training._thresholds(*drawn, 0, *settings)
        slow = training._thresholds_exhaustive(*drawn, 0, *settings)
    assert fast["per_init"]["ratio_monotone"] == slow["per_init"]["ratio_monotone"]
    assert fast["per_init"]["non_monotone_monotone"] == [0]  # the grid alone does not show it
    assert abs(slow["per_init"]["ratio_monotone"][0] - 1.0219) < 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("arch, depth, width, samples, seed", [
    ("mlp", 10, 64, 32, 4),  # the largest float32 deviation measured by benchmarks/lr.py (a ReLU sign flip)
    ("resnet", 5, 128, 32, 5), ("resnet-bn", 8, 96, 64, 9), ("resnet", 10, 128, 16, 8)])
def test_guarded_search_on_larger_problems(arch, depth, width, samples, seed):
    drawn = _draw_problem(arch, depth, width, samples, seed, "teacher", None, np.float64, 2)
    settings = (50, "teacher", None, 15, 1e3, None)
    with one_blas_thread():  # as threshold_block runs it (two BLAS threads are many times slower on a busy machine)
        guarded = training._thresholds(*drawn, seed, *settings, divergence_dtype=np.float64)
        wide = training._thresholds(*drawn, seed, *settings, divergence_dtype=np.float64, rise_dtype=np.float64)
        slow = training._thresholds_exhaustive(*drawn, seed, *settings)
    assert guarded["per_init"] == wide["per_init"] == slow["per_init"]


@pytest.mark.parametrize("question", ["rise", "divergence"])
def test_early_stopping_runs_give_the_flags_of_full_runs(question):
    arch, params, x, y = _draw_problem("resnet", 2, 16, 8, 3, "teacher", None, np.float64, 2)
    etas = np.array([0.01, 0.2, 3.0, 40.0])
    nets = np.array([0, 1, 0, 1])
    full = batched_runs(_subset(params, nets), x[nets], y[nets], etas, 20)
    flags = _decide(params, x, y, nets, etas, 20, question, 1e3, np.float64)
    expected = full["rose"] if question == "rise" else full["diverged"]
    assert flags.tolist() == expected.tolist()
    assert 0 < flags.sum() < len(flags)  # both answers occur: the comparison is not vacuous


def _subset(params, nets):
    return training._cast(params, nets, params.dtype)
