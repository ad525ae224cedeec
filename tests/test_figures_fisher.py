"""The Fisher-information and learning-rate figures (figF1, figF2, figF3) against theory.

The three figures are rendered once in quick mode (module fixture, seed 0).  Theory columns
are compared with the library's theory recomputed here (``fisher_theory``) and, where a closed
form is short, with a value derived by hand and typed here; the learning-rate columns are
compared with an independent route to the same initialisation (``fisher_spectrum`` with the dense sampler and
seeds = 1 draws exactly the network ``monotone_threshold`` trains).  Statistical checks use
the fixed seed 0, so they are deterministic.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from anglefish.numeric.fisher import fisher_spectrum
from anglefish.numeric.training import monotone_threshold
from anglefish.paper_figures import Table, get_figure, render
from anglefish.theory.ntk import fisher_theory

ARCHS = ["mlp", "resnet", "resnet-bn"]
NAMES = ["figF1", "figF2", "figF3"]


@pytest.fixture(scope="module")
def rendered(rendered_figures):
    return rendered_figures[0]


def table(out, name) -> Table:
    return Table.read_csv(out / name / f"{name}.csv")


def settings_of(out, name) -> dict:
    return json.loads((out / name / "manifest.json").read_text())["settings"]


def flags(t: Table, name: str) -> np.ndarray:
    return np.array([v == "true" for v in t.columns[name]])


def test_registered_with_aliases():
    for name in NAMES:
        assert get_figure(name).NAME == name
        assert get_figure(name.lower()).NAME == get_figure(name[3:]).NAME == name  # "figf1", "F1"
        module = get_figure(name)
        for attr in ("TITLE", "CLAIM", "PAPER", "DATA_SOURCE", "COLUMNS", "FULL", "QUICK"):
            assert getattr(module, attr), attr
        assert set(module.QUICK) <= set(module.FULL)
        assert module.GENERIC is True


@pytest.mark.slow
def test_manifests_record_every_setting(rendered):
    for name in NAMES:
        manifest = json.loads((rendered / name / "manifest.json").read_text())
        module = get_figure(name)
        assert manifest["quick"] is True and set(manifest["settings"]) == set(module.FULL)
        assert list(table(rendered, name).columns) == list(module.COLUMNS)
        assert manifest["seeds"]


# ------------------------------------------------------------------------------ figF1
@pytest.mark.slow
def test_figF1_theory_column_is_fisher_theory(rendered):
    t = table(rendered, "figF1")
    s = settings_of(rendered, "figF1")
    width, samples = s["width"], s["samples"]
    assert t.unique("architecture") == ARCHS
    assert t.unique("panel") == ["all", "layer:first", "layer:last"]
    assert sorted(set(t.column("depth").astype(int))) == list(range(1, max(s["depths"]) + 1))
    for i in range(len(t)):
        arch, depth, subset = t.columns["architecture"][i], t.columns["depth"][i], t.columns["subset"][i]
        th = fisher_theory(arch, depth, width, samples, params=subset)
        assert t.columns["lambda_theory"][i] == th["lambda_max"] / width
        assert t.columns["mean_eigenvalue_theory"][i] == th["mean_eigenvalue"]
        panel = t.columns["panel"][i]
        assert subset == {"all": "all", "layer:first": "layer:0", "layer:last": f"layer:{depth - 1}"}[panel]
    # simulation only at the simulated depths, theory everywhere
    simulated = sorted(set(t.column("depth")[np.isfinite(t.column("lambda_mc"))].astype(int)))
    assert simulated == sorted(s["depths"])


@pytest.mark.slow
def test_figF1_closed_forms_typed_here(rendered):
    t = table(rendered, "figF1")
    samples = settings_of(rendered, "figF1")["samples"]
    # MLP first block, derived by hand: backward moment 1 at h^1, times E[phi'^2] = 1/2 at the
    # pre-activation; input moment 1; orthogonal inputs give kappa2 = 0, so
    # lambda_max / N = kappa1 / T = 1 / (2T) at every depth.
    first = t.where(architecture="mlp", panel="layer:first").column("lambda_theory")
    np.testing.assert_allclose(first, 1 / (2 * samples), rtol=1e-14)
    # depth classes of the whole FIM: from L = 4 on the ResNet more than doubles per block,
    # the MLP and the ResNet+BN grow by less than 2x per block
    for arch in ARCHS:
        y = t.where(architecture=arch, panel="all").column("lambda_theory")
        growth = y[1:] / y[:-1]
        assert np.all(growth > 1)
        if arch == "resnet":
            assert np.all(growth[3:] > 2)
        else:
            assert np.all(growth[3:] < 2)
    # ResNet+BN: the last block's value stays bounded (below 3/4, its limit), the first block's grows
    last = t.where(architecture="resnet-bn", panel="layer:last").column("lambda_theory")
    assert np.all(np.diff(last) > 0) and last[-1] < 0.75


@pytest.mark.slow
def test_figF1_simulation_follows_theory(rendered):
    t = table(rendered, "figF1")
    mc = t.column("lambda_mc")
    ok = np.isfinite(mc)
    theory = t.column("lambda_theory")[ok]
    ratio = mc[ok] / theory
    se = t.column("lambda_mc_se")[ok] / theory
    panel = np.array(t.columns["panel"])[ok]
    arch = np.array(t.columns["architecture"])[ok]
    subset = np.array(t.columns["subset"])[ok]
    # where kappa2 = 0 (the MLP's block 0) the finite-N top eigenvalue lies above the degenerate
    # infinite-width one (module docstring): only the direction is asserted
    degenerate = (arch == "mlp") & (subset == "layer:0")
    assert np.all(ratio[degenerate] > 1)
    # elsewhere: within 25% + 4 SE (at N = 128, T = 16, 8 seeds the worst point is ~15% off; the
    # finite-width bias is a few percent and the deep ResNet's spread is log-normal)
    rest = ~degenerate
    assert np.all(np.abs(ratio[rest] - 1) <= 0.25 + 4 * se[rest]), ratio[rest]
    assert np.all(t.column("lambda_mc_se")[ok] > 0)
    assert set(panel) == {"all", "layer:first", "layer:last"}


# ------------------------------------------------------------------------------ figF2
@pytest.mark.slow
def test_figF2_predicted_is_two_over_lambda_max_of_the_same_initialisation(rendered):
    t = table(rendered, "figF2")
    s = settings_of(rendered, "figF2")
    width, samples = s["width"], s["samples"]
    assert t.unique("architecture") == ARCHS and t.unique("depth") == s["depths"]
    np.testing.assert_allclose(t.column("predicted_eta"), 2 / t.column("lambda_max"), rtol=1e-15)
    for i in range(len(t)):
        arch, depth, seed = t.columns["architecture"][i], t.columns["depth"][i], t.columns["seed"][i]
        # an independent route to the same network: fisher_spectrum (dense sampler) with seeds = 1 and this seed
        lam = fisher_spectrum(arch, depth, width, samples, 1, seed=seed, sampler="dense")["lambda_max"]
        assert t.columns["predicted_eta"][i] == pytest.approx(2 / lam, rel=1e-12)
        th = fisher_theory(arch, depth, width, samples)
        assert t.columns["theory_eta"][i] == th["eta_max"]
        assert t.columns["theory_lambda_max"][i] == th["lambda_max"]
    # and monotone_threshold itself, re-run on one row (no divergence search: it does not
    # change the threshold)
    row = t.where(architecture="resnet", depth=2, seed_index=1)
    r = monotone_threshold("resnet", 2, width, samples, row.columns["seed"][0], steps=s["steps"],
                           targets=s["targets"], tolerance=s["tolerance"], divergence_search=None)
    assert row.columns["predicted_eta"][0] == r["predicted_eta"] == 2 / r["lambda_max"]
    assert row.columns["measured_eta"][0] == r["measured_eta"]


@pytest.mark.slow
def test_figF2_threshold_near_two_over_lambda_max_and_divergence_later(rendered):
    t = table(rendered, "figF2")
    ratio = t.column("ratio")
    np.testing.assert_allclose(ratio, t.column("measured_eta") / t.column("predicted_eta"), rtol=1e-14)
    # width 64, T = 32, 50 steps: measured/predicted lies in [0.93, 2.6] (docstring of
    # monotone_threshold: ~[1.01, 1.18] at width 512); its median is close to 1
    assert np.all((ratio > 0.85) & (ratio < 3.0)), ratio
    assert 1.0 <= np.median(ratio) < 1.3
    div = t.column("diverges_at")
    assert np.all(np.isfinite(div))  # quick mode: every run diverges below 64 x 2/lambda_max
    assert np.all(div >= t.column("measured_eta_upper"))
    np.testing.assert_allclose(t.column("diverges_ratio"), div / t.column("predicted_eta"), rtol=1e-14)
    # the seeds are different initialisations
    for arch in ARCHS:
        for d in t.unique("depth"):
            assert len(set(t.where(architecture=arch, depth=d).columns["lambda_max"])) == settings_of(
                rendered, "figF2")["seeds"]


# ------------------------------------------------------------------------------ figF3
@pytest.mark.slow
def test_figF3_grid_and_monotone_region(rendered):
    t = table(rendered, "figF3")
    s = settings_of(rendered, "figF3")
    width, samples = s["width"], s["samples"]
    xs = np.geomspace(*s["x_range"], s["x_points"])
    for arch in ARCHS:
        for d in s["depths"]:
            sub = t.where(architecture=arch, depth=d)
            np.testing.assert_array_equal(sub.column("x"), xs)
            np.testing.assert_allclose(sub.column("eta"), xs * 2 / sub.column("lambda_max"), rtol=1e-15)
            lam = fisher_spectrum(arch, d, width, samples, 1, seed=sub.columns["seed"][0], sampler="dense")["lambda_max"]
            assert sub.column("lambda_max")[0] == pytest.approx(lam, rel=1e-12)
            assert sub.column("theory_lambda_max")[0] == fisher_theory(arch, d, width, samples)["lambda_max"]
    x, rose = t.column("x"), flags(t, "rose")
    overflow = flags(t, "overflow")
    # below 2/lambda_max of the initialisation the loss never rises and falls overall
    below = x < 1 - 1e-9
    assert not np.any(rose[below]) and not np.any(overflow[below])
    assert np.all(t.column("loss_ratio")[below] < 1)
    # from 2x on it rises in every run (ReLU MLPs may then still converge by switching units off,
    # so overflow at large x is not asserted everywhere, only that it happens)
    assert np.all(rose[x > 2 - 1e-9])
    assert np.any(overflow[x > 2 - 1e-9])
    # an overflowed run has no finite loss recorded
    assert np.all(np.isnan(t.column("loss_ratio")[overflow]))


# ----------------------------------------------------------------- determinism, generic
TINY = {"figF1": {"depths": [1, 3], "width": 32, "samples": 8, "seeds": 3},
        "figF2": {"depths": [1, 2], "width": 32, "samples": 8, "seeds": 2, "divergence_search": 8.0},
        "figF3": {"depths": [1, 2], "width": 32, "samples": 8, "x_points": 4, "steps": 5}}


def test_same_seed_same_csv_other_seed_other_numbers(tmp_path):
    render(NAMES, tmp_path / "a", quick=True, seed=3, formats=(), options=TINY)
    render(NAMES, tmp_path / "b", quick=True, seed=3, formats=(), options=TINY)
    render(NAMES, tmp_path / "c", quick=True, seed=4, formats=(), options=TINY)
    for name in NAMES:
        a, b = ((tmp_path / k / name / f"{name}.csv").read_bytes() for k in "ab")
        assert a == b, name
    a, c = table(tmp_path / "a", "figF1"), table(tmp_path / "c", "figF1")
    assert a.columns["lambda_theory"] == c.columns["lambda_theory"]
    assert a.columns["lambda_mc"] != c.columns["lambda_mc"]
    a, c = table(tmp_path / "a", "figF2"), table(tmp_path / "c", "figF2")
    assert a.columns["theory_eta"] == c.columns["theory_eta"] and a.columns["lambda_max"] != c.columns["lambda_max"]


def test_generic_architecture(tmp_path):
    render(NAMES, tmp_path, quick=True, seed=0, formats=(), arch="resnet-scaled", options=TINY)
    for name in NAMES:
        t = table(tmp_path, name)
        assert t.unique("architecture") == ["resnet-scaled"]
        assert json.loads((tmp_path / name / "manifest.json").read_text())["arch"] == "resnet-scaled"
    t = table(tmp_path, "figF1").where(panel="all")
    for d, y in zip(t.column("depth").astype(int), t.column("lambda_theory")):
        assert y == fisher_theory("resnet-scaled", d, 32, 8)["lambda_max"] / 32
    assert math.isfinite(table(tmp_path, "figF2").column("measured_eta")[0])


def test_figF3_batched_runs_are_the_one_by_one_runs():
    """figF3's loss_curves (every learning rate in one array pass, overflowed runs leaving it) records
    per run exactly what gradient_descent records for that run alone (bit for bit), including a run
    that overflows (inf, then nan) beside runs that do not."""
    from anglefish.numeric.training import _setup, gradient_descent
    from anglefish.paper_figures.figf3 import loss_curves

    _, init, x, y = _setup("resnet", 3, 32, 16, 5, "teacher", None, np.float64)
    lam = fisher_spectrum("resnet", 3, 32, 16, 1, seed=5, sampler="dense")["lambda_max"]
    etas = np.array([0.5, 1.5, 40.0, 3.0]) * 2 / lam
    curves = loss_curves(init, x, y, etas, 30)
    assert not np.all(np.isfinite(curves[:, 2]))  # the run at 40 x 2/lambda_max overflows
    for j, eta in enumerate(etas):
        np.testing.assert_array_equal(curves[:, j], gradient_descent(init.copy(), x, y, eta, 30)[:, 0])


def test_figF2_rise_runs_are_gradient_descent_runs():
    """monotone_threshold's rise runs (step 0 shared, the step-1 rise found by a forward pass, then
    gradient_descent from step 1) record bit for bit the losses of gradient_descent(stop_on_rise,
    stop_when_converged) from step 0, up to where that run stops: runs that rise at the first step, later,
    overflow, never rise, or converge (the stop below CONVERGED x L_0 the run from step 1 measures
    against L_1)."""
    from anglefish.numeric import training
    from anglefish.numeric.training import _loss_step, _rise_run, _setup, gradient_descent

    _, init, x, y = _setup("resnet-bn", 2, 24, 12, 1, "teacher", None, np.float64)
    lam = fisher_spectrum("resnet-bn", 2, 24, 12, 1, seed=1, sampler="dense")["lambda_max"]
    first, grads = _loss_step(init, x, y, True)
    kinds = set()
    for ratio in (0.5, 0.9, 1.15, 1.2, 3.0, 1e40):
        for steps in (1, 2, 40, 200):
            eta = ratio * 2 / lam
            want = gradient_descent(init.copy(), x, y, eta, steps, stop_on_rise=True, stop_when_converged=True)[:, 0]
            want = want[~np.isnan(want)]
            got = _rise_run(init, x, y, eta, steps, first, grads)
            np.testing.assert_array_equal(got, want)
            up = np.nonzero(training.rose(want[:-1], want[1:], want[0]))[0]
            kinds.add("inf" if not np.isfinite(want[-1]) else f"rise at {min(int(up[0]), 1)}" if up.size
                      else "converged" if want[-1] < training.CONVERGED * want[0] else "no rise")
    assert kinds == {"inf", "rise at 0", "rise at 1", "no rise", "converged"}, kinds
