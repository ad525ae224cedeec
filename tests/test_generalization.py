"""The generalization-gap theory (linear case) against exact least squares and against simulation.

Statistical checks use fixed seeds, so they are deterministic; the false-alarm rate stated with
each is for a random seed.  Exact checks (same data, same algorithm) use rounding tolerances.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from anglefish.errors import AnglefishError
from anglefish.numeric.fisher import init_params, network_outputs, ntk_gram
from anglefish.numeric.generalization import (end_to_end, gap_run, make_task, tangent_metric, teacher_task)
from anglefish.numeric.training import loss_and_gradient
from anglefish.theory import architectures, get_architecture, unregister_architecture
from anglefish.theory.blocks import Act, Dense, Residual
from anglefish.theory.generalization import (L, b2, d, gap_architecture, interpolation_gap_law, isotropic_gap,
                                             least_squares_reference, linearized_gd, ls_gap_law, n,
                                             output_variance, pl_constant, q0, register_gap_architectures,
                                             sigma2, stability_bound, tangent_kappa, theory_at)

Z = 4.0  # two-sided false-alarm rate 6e-5 per check


def _rng(*key):
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(2024, spawn_key=key)))


# --------------------------------------------------------------------------- the architectures
def test_block_lists_skip_one_and_two_weight_layers():
    r1, r2 = gap_architecture("resnet1", "linear"), gap_architecture("resnet2", "linear")
    assert r1.block.blocks == (Residual(Act("linear"), Dense(1)),)
    assert r2.block.blocks == (Residual(Dense(1), Act("linear"), Dense(1)),)
    assert gap_architecture("resnet2", "relu").name == "resnet"  # h + W2 relu(W1 h): ResNet2 of the claim
    assert gap_architecture("mlp", "relu").name == "mlp"
    dense = lambda a: sum(isinstance(b, Dense) for b in a.block.walk())
    assert [dense(gap_architecture(k, a)) for a in ("linear", "relu") for k in ("mlp", "resnet1", "resnet2")] \
        == [1, 1, 2, 1, 1, 2]
    assert dense(get_architecture("resnet2")) == 3  # the registered 'resnet2' is not the claim's ResNet2
    with pytest.raises(AnglefishError, match="kind"):
        gap_architecture("resnet3")
    with pytest.raises(AnglefishError, match="activation"):
        gap_architecture("mlp", "tanh")


def test_registration_is_explicit_and_changes_nothing_existing():
    before = {k: v.block for k, v in architectures().items()}
    assert "skip1-linear" not in before  # not registered on import
    try:
        names = register_gap_architectures()
        assert register_gap_architectures() == names == ["mlp-linear", "skip1-linear", "skip2-linear", "skip1"]
        after = architectures()
        assert all(after[k].block == b for k, b in before.items())
        assert gap_architecture("resnet1", "relu") is after["skip1"]
    finally:
        for name in ("mlp-linear", "skip1-linear", "skip2-linear", "skip1"):
            unregister_architecture(name)


@pytest.mark.slow
def test_new_architectures_meet_the_contract_suite():
    """The four new block lists go through every interpreter (theory, Gram sampler, dense, Fisher): about
    10 s CPU; each check at its stated alpha = 1e-3."""
    from anglefish.verify.contracts import check_architecture

    try:
        for name in register_gap_architectures():
            outcomes = check_architecture(name, depth=5, width=256, seeds=64)
            failed = [o.as_dict() for o in outcomes if o.status == "failed"]
            assert not failed, failed
            # the linear nets have kappa2 = 0: their lambda_max check is not run (a bulk edge), with the reason
            for o in outcomes:
                assert o.status == "passed" or "kappa2 = 0" in o.details["reason"], o.as_dict()
    finally:
        for name in ("mlp-linear", "skip1-linear", "skip2-linear", "skip1"):
            unregister_architecture(name)


def test_output_variance_and_tangent_kappa_laws():
    laws = {k: (output_variance(gap_architecture(k)), tangent_kappa(gap_architecture(k)))
            for k in ("mlp", "resnet1", "resnet2")}
    assert sp.simplify(laws["mlp"][0] - 1) == 0 and sp.simplify(laws["mlp"][1] - (L + 1)) == 0
    assert sp.simplify(laws["resnet1"][0] - 2**L) == 0
    assert sp.simplify(laws["resnet1"][1] - 2**(L - 1) * (L + 2)) == 0
    assert sp.simplify(laws["resnet2"][0] - 2**L) == 0
    assert sp.simplify(laws["resnet2"][1] - 2**L * (L + 1)) == 0


@pytest.mark.parametrize("kind", ["mlp", "resnet1", "resnet2"])
def test_tangent_metric_and_output_variance_match_finite_networks(kind):
    """E tr(M)/d = kappa1 and E |beta_0|^2 = q_L hold exactly at any width for linear networks (products of
    independent Gaussian matrices); checked over 400 networks at d = 6, depth 3 (z = 4)."""
    arch, depth, dim, seeds = gap_architecture(kind), 3, 6, 400
    params = init_params(arch, depth, dim, dim, [_rng(1, s) for s in range(seeds)])
    m, beta0 = tangent_metric(params), end_to_end(params)
    trace = np.einsum("sii->s", m) / dim
    kappa = float(tangent_kappa(arch).subs(L, depth))
    qL = float(output_variance(arch).subs(L, depth))
    for values, expected in ((trace, kappa), (np.sum(beta0**2, axis=1), qL)):
        se = values.std(ddof=1) / math.sqrt(seeds)
        assert abs(values.mean() - expected) <= Z * se, (values.mean(), expected, se)
    # the NTK Gram on any inputs is X^T M X (the tangent metric carries the whole kernel)
    x = np.stack([_rng(2, s).standard_normal((dim, 5)) for s in range(seeds)])
    k = ntk_gram(arch, params, x)
    np.testing.assert_allclose(k, np.einsum("sdi,sde,sej->sij", x, m, x), rtol=1e-10, atol=1e-10 * np.abs(k).max())


# --------------------------------------------------------------------------- exact laws vs least squares
def _mc_least_squares(count, dim, reps, noise, rng):
    gaps = []
    for _ in range(reps):
        x = rng.standard_normal((dim, count))
        beta = rng.standard_normal(dim) / math.sqrt(dim)
        y = beta @ x + noise * rng.standard_normal(count)
        b = np.linalg.lstsq(x.T, y, rcond=None)[0]
        gaps.append(0.5 * (noise**2 + np.sum((b - beta) ** 2)) - 0.5 * np.mean((x.T @ b - y) ** 2))
    return np.array(gaps)


@pytest.mark.parametrize("count,dim", [(40, 10), (15, 10)])
def test_least_squares_gap_law_against_lstsq(count, dim):
    gaps = _mc_least_squares(count, dim, 3000, 0.7, _rng(3, count))
    law = float(ls_gap_law().subs({n: count, d: dim, sigma2: 0.49}))
    se = gaps.std(ddof=1) / math.sqrt(gaps.size)
    assert abs(gaps.mean() - law) <= Z * se, (gaps.mean(), law, se)


def test_interpolation_gap_law_against_pinv():
    """n < d: the interpolant closest to beta_0, beta_0 + X pinv(X) (beta* - beta_0) + pinv(X^T) eps."""
    rng, count, dim, noise, qinit, reps = _rng(4), 6, 20, 0.5, 3.0, 3000
    gaps = []
    for _ in range(reps):
        x = rng.standard_normal((dim, count))
        beta, beta0 = rng.standard_normal(dim) / math.sqrt(dim), rng.standard_normal(dim) * math.sqrt(qinit / dim)
        y = beta @ x + noise * rng.standard_normal(count)
        b = beta0 + np.linalg.pinv(x.T) @ (y - x.T @ beta0)
        assert np.allclose(x.T @ b, y)
        gaps.append(0.5 * (noise**2 + np.sum((b - beta) ** 2)))
    gaps = np.array(gaps)
    law = float(interpolation_gap_law().subs({n: count, d: dim, sigma2: noise**2, q0: qinit, b2: 1}))
    se = gaps.std(ddof=1) / math.sqrt(reps)
    assert abs(gaps.mean() - law) <= Z * se, (gaps.mean(), law, se)


def test_linearized_gd_is_least_squares_or_the_metric_interpolant():
    rng = _rng(5)
    for count, dim in ((30, 8), (5, 8)):
        x, y = rng.standard_normal((3, dim, count)), rng.standard_normal((3, count))
        a = rng.standard_normal((3, dim, dim))
        m = np.matmul(a, a.transpose(0, 2, 1)) + 0.1 * np.eye(dim)
        beta0 = rng.standard_normal((3, dim))
        limit = linearized_gd(m, x, y, beta0, 1.0)
        if count > dim:
            np.testing.assert_allclose(limit, least_squares_reference(x, y)["beta"], atol=1e-9)
        else:
            for s in range(3):
                mx = m[s] @ x[s]
                expected = beta0[s] + mx @ np.linalg.solve(x[s].T @ mx, y[s] - x[s].T @ beta0[s])
                np.testing.assert_allclose(limit[s], expected, atol=1e-9)
        # finite steps: the closed form equals the iteration
        eta = 1.0 / np.linalg.eigvalsh(np.einsum("sdi,sde,sej->sij", x, m, x) / count)[:, -1]
        b = beta0.copy()
        for _ in range(25):
            r = np.einsum("sdn,sd->sn", x, b) - y
            b = b - eta[:, None] * np.einsum("sde,sen,sn->sd", m, x, r) / count
        np.testing.assert_allclose(linearized_gd(m, x, y, beta0, eta, 25), b, atol=1e-9)


def test_isotropic_gap_matches_its_laws_and_simulation():
    """Converged: its mean over designs equals the closed forms (z = 4); after k steps: equals the mean of
    linearised GD at M = I over beta_0, beta*, eps for a fixed design (z = 4)."""
    rng = _rng(6)
    for count, dim in ((40, 10), (6, 20)):
        x = rng.standard_normal((2000, dim, count))
        g = isotropic_gap(x, 2.0, 1.0, 0.25)
        law = ls_gap_law() if count > dim else interpolation_gap_law()
        law = float(law.subs({n: count, d: dim, sigma2: 0.25, q0: 2.0, b2: 1.0}))
        assert abs(g.mean() - law) <= Z * g.std(ddof=1) / math.sqrt(g.size)
    count, dim, reps, steps = 12, 8, 4000, 7
    x1 = rng.standard_normal((dim, count))
    x = np.broadcast_to(x1, (reps, dim, count)).copy()
    beta = rng.standard_normal((reps, dim)) / math.sqrt(dim)
    beta0 = rng.standard_normal((reps, dim)) * math.sqrt(2.0 / dim)
    y = np.einsum("sd,sdn->sn", beta, x) + 0.5 * rng.standard_normal((reps, count))
    eta = 0.8 / np.linalg.eigvalsh(x1.T @ x1 / count)[-1]
    bk = linearized_gd(np.broadcast_to(np.eye(dim), (reps, dim, dim)), x, y, beta0, eta, steps)
    sim = 0.5 * (0.25 + np.sum((bk - beta) ** 2, axis=1)) - 0.5 * np.mean((np.einsum("sd,sdn->sn", bk, x) - y) ** 2, 1)
    theory = isotropic_gap(x1[None], 2.0, 1.0, 0.25, steps=steps, step_fraction=0.8)[0]
    assert abs(sim.mean() - theory) <= Z * sim.std(ddof=1) / math.sqrt(reps), (sim.mean(), theory)


# --------------------------------------------------------------------------- PL constant and the bound
def test_pl_constant_bounds_the_gradient_of_the_network():
    """|grad L|^2 / 2 = r^T K r / (2 n^2) >= mu (L - L*) at the initialisation, with the network's own gradient."""
    arch, count, dim = gap_architecture("resnet2"), 12, 5
    params = init_params(arch, 2, dim, dim, [_rng(7, s) for s in range(4)])
    x = np.stack([_rng(8, s).standard_normal((dim, count)) for s in range(4)])
    y = np.stack([_rng(9, s).standard_normal(count) for s in range(4)])
    value, (gw, gv) = loss_and_gradient(params, x, y)
    grad2 = sum(np.sum(g**2, axis=(1, 2)) for g in gw) + np.sum(gv**2, axis=1)
    k = ntk_gram(arch, params, x)
    r = network_outputs(params, x) - y
    np.testing.assert_allclose(grad2, np.einsum("si,sij,sj->s", r, k, r) / count**2, rtol=1e-9)
    lstar = least_squares_reference(x, y)["train_loss"]
    assert np.all(0.5 * grad2 >= pl_constant(k) * (value - lstar) * (1 - 1e-9))
    bound = stability_bound(k, r)
    assert np.all(bound >= stability_bound(k, r, "mean")) and np.all(bound > 0)


def test_theory_at_orders_mu_by_kappa_but_the_bound_by_output_variance():
    t = {k: theory_at(gap_architecture(k), 6, 64, 16, 0.25, 1.0) for k in ("mlp", "resnet1", "resnet2")}
    assert t["resnet2"]["mu"] > t["resnet1"]["mu"] > t["mlp"]["mu"]
    assert t["mlp"]["bound"] < t["resnet1"]["bound"] == pytest.approx(t["resnet2"]["bound"])
    assert t["mlp"]["gap_exact"] == t["resnet1"]["gap_exact"] == t["resnet2"]["gap_exact"]
    below = {k: theory_at(gap_architecture(k), 6, 8, 16, 0.25, 1.0)["gap_exact"] for k in t}
    assert below["mlp"] < below["resnet1"] == pytest.approx(below["resnet2"])


# --------------------------------------------------------------------------- simulation vs exact
@pytest.fixture(scope="module")
def teacher():
    return teacher_task(6, 24, 16, seed=3, noise=0.5, n_test=64)


@pytest.mark.parametrize("kind", ["mlp", "resnet1", "resnet2"])
def test_trained_linear_networks_reach_the_least_squares_gap(teacher, kind):
    """n > d, depth 1: GD converges to the least-squares map, so the gap and the leave-one-out loss change
    equal those of numpy's lstsq on the same data (rounding tolerance, not statistics)."""
    run = gap_run("linear", kind, 1, 24, teacher, steps=1500, checkpoints=[0, 1500])
    assert np.max(np.abs(run["opt_error"])) < 1e-9
    np.testing.assert_allclose(run["gap"], run["ls_gap"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(run["loo_delta"], run["ls_loo_delta"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(run["lazy_gap"], run["ls_gap"], rtol=0, atol=1e-9)


def test_simulated_gap_agrees_with_the_exact_expected_gap(teacher):
    """Mean over 16 replicates of the trained networks' gap vs the closed form (n = 24, d = 6): z = 4 with
    the replicates' SE; the closed form is exact for Gaussian designs at convergence, any width."""
    run = gap_run("linear", "mlp", 1, 24, teacher, steps=1500, checkpoints=[0, 1500], stability=False)
    law = float(ls_gap_law().subs({n: 24, d: 6, sigma2: 0.25}))
    se = run["gap"].std(ddof=1) / 4
    assert abs(run["gap"].mean() - law) <= Z * se, (run["gap"].mean(), law, se)


def test_digits_task_and_bad_input():
    task = make_task("digits", 6, 20, 3, seed=1)
    assert task["x"].shape == (3, 6, 20) and set(np.unique(task["y"])) <= {-1.0, 1.0}
    assert task["x_test"].shape[:2] == (3, 6)
    with pytest.raises(AnglefishError, match="task"):
        make_task("cifar", 6, 20, 3)
    with pytest.raises(AnglefishError, match="n must"):
        gap_run("linear", "mlp", 1, 30, task)
