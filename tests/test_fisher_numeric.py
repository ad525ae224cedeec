"""Empirical FIM / NTK Gram and gradient descent on dense random networks (anglefish.numeric.fisher,
anglefish.numeric.training).

Every check here is deterministic (fixed seeds): none has a false-alarm rate in the statistical
sense.  Where a check compares a measured learning-rate threshold with 2/lambda_max, the
docstring gives the spread of that ratio over other seeds, measured once, so the tolerance is
known not to be tuned to one lucky seed.
"""
from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp

from anglefish.errors import AnglefishError
from anglefish.numeric import spawn_generators
from anglefish.numeric.fisher import (draw_inputs, fisher_spectrum,
                                      init_params, network_outputs, ntk_gram)
from anglefish.numeric.training import (gradient_descent, loss, loss_and_gradient, make_targets,
                                        monotone_threshold, train)
from anglefish.theory import (BLOCK_INDEX, Act, Activation, Architecture, BatchNorm, Dense, ReLU,
                              Residual, Serial, get_architecture)

CASES = [("mlp", None), ("resnet", None), ("resnet-bn", None), ("resnet-bn", "batch")]
IDS = ["mlp", "resnet", "resnet-bn-population", "resnet-bn-batch"]


# ----------------------------------------------------------------- helpers
def _arrays(params):
    return [*params.weights, params.readout]


def _fd_jacobian(params, x, step=1e-6):
    """(S, T, P) Jacobian of the outputs by central differences, one parameter at a time."""
    cols = []
    for a in _arrays(params):
        for idx in np.ndindex(a.shape[1:]):
            sl = (slice(None),) + idx
            old = a[sl].copy()
            a[sl] = old + step
            fp = network_outputs(params, x)
            a[sl] = old - step
            fm = network_outputs(params, x)
            a[sl] = old
            cols.append((fp - fm) / (2 * step))
    return np.stack(cols, axis=-1)


def _tiny(name, bn, depth=2, width=4, samples=3, seeds=2, seed=0):
    rngs = spawn_generators(seed, seeds)
    x = draw_inputs(width, samples, rngs)
    return init_params(name, depth, width, width, rngs, bn=bn), x


# ----------------------------------------------------------------- the key correctness check
@pytest.mark.parametrize("name,bn", CASES, ids=IDS)
def test_gram_spectrum_equals_brute_force_fisher(name, bn):
    """The T x T Gram route gives the spectrum of the P x P FIM built from explicit per-sample
    gradients (central differences of the forward pass alone: no shared code with the backward
    pass).  Width 4, depth 2, T = 3, two seeds; rounding error of the differences ~1e-9."""
    params, x = _tiny(name, bn)
    t = x.shape[2]
    jac = _fd_jacobian(params, x)  # (S, T, P)
    fim = np.einsum("stp,stq->spq", jac, jac) / t  # the P x P matrix, only because P is tiny
    assert fim.shape[1] == params.n_params() == jac.shape[2]
    k = ntk_gram(name, params, x)
    np.testing.assert_allclose(k, np.einsum("sap,sbp->sab", jac, jac), rtol=1e-6, atol=1e-8)
    top = np.linalg.eigvalsh(fim)[:, -t:]
    np.testing.assert_allclose(np.linalg.eigvalsh(k / t), top, rtol=1e-6, atol=1e-8)
    # m_lambda = tr F / P
    np.testing.assert_allclose(np.einsum("stt->s", k) / (t * params.n_params()),
                               np.einsum("spp->s", fim) / params.n_params(), rtol=1e-6)
    # the remaining P - T eigenvalues of F vanish
    assert np.max(np.abs(np.linalg.eigvalsh(fim)[:, :-t])) < 1e-8 * np.max(top)


def test_batch_bn_gram_is_not_the_per_sample_factorisation():
    """With batch BN f(x_s) depends on every input, so sum_W (Delta^T Delta) o (H^T H) with
    Delta from one backward pass of sum_t f(x_t) is NOT the Gram (that is why ntk_gram takes the
    full-Jacobian route).  Shows the brute-force comparison above would catch that shortcut."""
    from anglefish.numeric.fisher import _backward_network, _forward_network
    params, x = _tiny("resnet-bn", "batch", samples=4)
    jac = _fd_jacobian(params, x)
    k_true = np.einsum("sap,sbp->sab", jac, jac)
    h_l, caches, _ = _forward_network(params, x)
    k_wrong = np.matmul(h_l.transpose(0, 2, 1), h_l)

    def on_dense(index, h, g):
        k_wrong[...] += np.matmul(g[:, 0].transpose(0, 2, 1), g[:, 0]) * np.matmul(h.transpose(0, 2, 1), h)
    v = params.readout
    _backward_network(params, caches, np.broadcast_to(v[:, None, :, None], (2, 1, 4, 4)), on_dense)
    assert np.allclose(ntk_gram("resnet-bn", params, x), k_true, rtol=1e-6, atol=1e-8)
    assert not np.allclose(k_wrong, k_true, rtol=1e-2)


@pytest.mark.parametrize("name,bn", CASES, ids=IDS)
def test_loss_gradient_matches_finite_differences(name, bn):
    """The manual backward pass of L = (1/2T) sum (f - y)^2 against central differences, every parameter."""
    params, x = _tiny(name, bn, samples=5)
    y = np.random.default_rng(7).standard_normal((2, 5))
    _, (gw, gv) = loss_and_gradient(params, x, y)
    for a, g in zip(_arrays(params), [*gw, gv]):
        assert g.shape == a.shape
        for idx in np.ndindex(a.shape[1:]):
            sl = (slice(None),) + idx
            old = a[sl].copy()
            a[sl] = old + 1e-6
            lp = loss(params, x, y)
            a[sl] = old - 1e-6
            lm = loss(params, x, y)
            a[sl] = old
            np.testing.assert_allclose(g[sl], (lp - lm) / 2e-6, rtol=1e-5, atol=1e-8)


def test_depth_dependent_variance_and_smooth_activation():
    """A Dense variance that depends on the block index l and a non-piecewise activation (tanh, phi'
    from SymPy) go through the same machinery; Gram vs brute force again."""
    @dataclass(frozen=True)
    class Tanh(Activation):
        def phi(self, x):
            return sp.tanh(x)

    arch = Architecture("tanh-res-test", Residual(Dense(2 / (BLOCK_INDEX + 1)), Act(Tanh("tanh")), Dense(1)))
    rngs = spawn_generators(4, 2)
    x = draw_inputs(3, 3, rngs)
    params = init_params(arch, 3, 3, 3, rngs)
    # block l's first Dense was drawn with variance 2/(l+1): compare with a fresh draw
    ref = spawn_generators(4, 2)
    draw_inputs(3, 3, ref)
    z = np.empty((2, 3, 3))
    for s, g in enumerate(ref):
        g.standard_normal(out=z[s])
    np.testing.assert_allclose(params.weights[0], z * np.sqrt(2 / 3))
    jac = _fd_jacobian(params, x)
    np.testing.assert_allclose(ntk_gram(arch, params, x), np.einsum("sap,sbp->sab", jac, jac), rtol=1e-6)
    with pytest.raises(AnglefishError, match="population second moment"):
        bad = Architecture("tanh-bn-test", Residual(Dense(1), Act(Tanh("tanh")), Dense(1), BatchNorm()))
        rg = spawn_generators(0, 1)
        network_outputs(init_params(bad, 1, 3, 3, rg), draw_inputs(3, 2, rg))


def test_scaled_residual_branch_matches_brute_force():
    """Scale(alpha) with alpha depending on the depth L (e.g. a 1/sqrt(L) branch): Gram vs brute force."""
    from anglefish.theory import DEPTH
    from anglefish.theory.blocks import Scale
    arch = Architecture("scaled-res-test", Residual(Dense(2), ReLU(), Dense(1), Scale(1 / sp.sqrt(DEPTH))))
    rngs = spawn_generators(6, 2)
    x = draw_inputs(4, 3, rngs)
    params = init_params(arch, 3, 4, 4, rngs)
    jac = _fd_jacobian(params, x)
    np.testing.assert_allclose(ntk_gram(arch, params, x), np.einsum("sap,sbp->sab", jac, jac), rtol=1e-6)


def test_a_user_block_type_brings_its_own_forward_and_backward():
    """A new block type keeps its rules in its class; the one interpreter uses them unedited."""
    from anglefish.theory import Scale

    @dataclass(frozen=True, repr=False)
    class UserScale(Scale):
        def forward(self, h, log_m, ctx):
            c = float(self.alpha)
            return h * c, log_m + 2 * np.log(c), c

        def backward(self, cache, g, ctx):
            return g * cache

    arch = Architecture("user-scale-test", Serial(Dense(2), ReLU(), UserScale(sp.Rational(1, 2))))
    rngs = spawn_generators(1, 1)
    x = draw_inputs(4, 3, rngs)
    params = init_params(arch, 2, 4, 4, rngs)
    jac = _fd_jacobian(params, x)
    np.testing.assert_allclose(ntk_gram(arch, params, x), np.einsum("sap,sbp->sab", jac, jac), rtol=1e-6)

    # mutation check: a backward pass 2% off is caught by the brute-force comparison
    @dataclass(frozen=True, repr=False)
    class BadScale(UserScale):
        def backward(self, cache, g, ctx):
            return g * cache * 1.02

    bad = Architecture("bad-scale-test", Serial(Dense(2), ReLU(), BadScale(sp.Rational(1, 2))))
    params_bad = init_params(bad, 2, 4, 4, spawn_generators(1, 1))
    jac_bad = _fd_jacobian(params_bad, x)
    assert not np.allclose(ntk_gram(bad, params_bad, x), np.einsum("sap,sbp->sab", jac_bad, jac_bad), rtol=1e-3)


# ----------------------------------------------------------------- subsets, seeds, shapes
@pytest.mark.parametrize("name,bn", CASES, ids=IDS)
def test_layer_subsets_sum_to_all(name, bn):
    params, x = _tiny(name, bn, depth=3, width=5, samples=4)
    parts = [ntk_gram(name, params, x, f"layer:{k}") for k in range(3)]
    parts.append(ntk_gram(name, params, x, "layer:readout"))
    np.testing.assert_allclose(sum(parts), ntk_gram(name, params, x, "all"), rtol=1e-12, atol=1e-12)
    assert sum(params.n_params(f"layer:{k}") for k in range(3)) + params.n_params("layer:readout") \
        == params.n_params() == params.n_params("all")
    for part in parts:  # each part is a Gram matrix itself
        assert np.all(np.linalg.eigvalsh(part) > -1e-10 * np.abs(part).max())


def test_seed_results_do_not_depend_on_how_many_seeds_run():
    """Seed s draws only from generator s."""
    a = fisher_spectrum("resnet", 3, 16, 8, seeds=2, seed=11)
    b = fisher_spectrum("resnet", 3, 16, 8, seeds=5, seed=11)
    np.testing.assert_array_equal(a["eigenvalues"], b["eigenvalues"][:2])
    assert not np.allclose(b["eigenvalues"][0], b["eigenvalues"][1])


@pytest.mark.parametrize("name,bn", [("resnet", None), ("resnet-bn", "batch")], ids=["resnet", "resnet-bn-batch"])
def test_drawing_networks_in_chunks_changes_no_number(monkeypatch, name, bn):
    import anglefish.numeric.fisher as fisher

    whole = fisher_spectrum(name, 3, 16, 6, 7, subset="layer:1", seed=5, bn=bn)
    per_network = 2 * 3 * 16 * 16 * 8 + 16 * 8  # two 16 x 16 matrices per block and v (float64)
    for networks in (1, 2, 3):
        monkeypatch.setattr(fisher, "WEIGHT_MEMORY", networks * per_network + 1)
        chunked = fisher_spectrum(name, 3, 16, 6, 7, subset="layer:1", seed=5, bn=bn)
        np.testing.assert_array_equal(chunked["eigenvalues"], whole["eigenvalues"])
        np.testing.assert_array_equal(chunked["mean_eigenvalue_per_seed"], whole["mean_eigenvalue_per_seed"])
        assert chunked["n_params"] == whole["n_params"]


def test_fisher_spectrum_reports_what_it_says():
    out = fisher_spectrum("mlp", 2, 32, 16, seeds=3, seed=2)
    lam = out["lambda_max_per_seed"]
    assert out["lambda_max"] == pytest.approx(lam.mean())
    assert out["lambda_max_se"] == pytest.approx(lam.std(ddof=1) / np.sqrt(3))
    assert out["n_params"] == 2 * 32 * 32 + 32
    assert out["eigenvalues"].shape == (3, 16) and np.all(out["eigenvalues"] >= -1e-9)
    assert np.all(lam >= out["mean_eigenvalue_per_seed"])
    one = fisher_spectrum("mlp", 2, 32, 16, seeds=1, seed=2)
    assert np.isnan(one["lambda_max_se"])  # no standard error from one seed


def test_float32_agrees_with_float64():
    """The same weights and inputs in float32 (K accumulated in float64): K within 1e-4 relative.
    (fisher_spectrum(dtype=float32) draws other normals -- numpy's float32 sampler -- so it is
    another sample of networks, not a rounded copy.)"""
    from anglefish.numeric.fisher import Params
    params, x = _tiny("resnet-bn", None, depth=3, width=64, samples=16)
    from anglefish.numeric.network import Weights

    net = params.net
    p32 = Params(Weights(net.arch, net.depth, net.width, net.in_dim, [w.astype(np.float32) for w in net.weights],
                         net.owners), params.readout.astype(np.float32), params.bn)
    k64 = ntk_gram("resnet-bn", params, x)
    k32 = ntk_gram("resnet-bn", p32, x.astype(np.float32))
    assert k32.dtype == np.float64
    np.testing.assert_allclose(k32, k64, rtol=1e-4, atol=1e-4 * np.abs(k64).max())
    b = fisher_spectrum("resnet-bn", 3, 64, 16, seeds=2, seed=1, dtype=np.float32)
    assert b["dtype"] == "float32" and np.all(np.isfinite(b["eigenvalues"]))


# ----------------------------------------------------------------- training
@pytest.mark.parametrize("name,bn", CASES, ids=IDS)
def test_gradient_descent_decreases_the_loss_for_a_small_step(name, bn):
    """eta = 0.2 x 2/lambda_max: every step lowers the loss, and 30 steps lower it clearly."""
    rngs = spawn_generators(3, 1)
    x = draw_inputs(32, 16, rngs)
    params = init_params(name, 3, 32, 32, rngs, bn=bn)
    y = make_targets(params.arch, 3, 32, x, 3, "teacher", bn)
    lam = np.linalg.eigvalsh(ntk_gram(name, params, x)[0] / 16)[-1]
    losses = gradient_descent(params, x, y, 0.2 * 2 / lam, 30)[:, 0]
    assert np.all(np.diff(losses) < 0)
    assert losses[-1] < 0.5 * losses[0]


def test_teacher_targets_are_per_seed_and_independent_of_the_student():
    rngs = spawn_generators(3, 3)
    x = draw_inputs(16, 5, rngs)
    student = init_params("resnet", 2, 16, 16, rngs)
    y = make_targets("resnet", 2, 16, x, 3)
    assert np.array_equal(y[:1], make_targets("resnet", 2, 16, x[:1], 3))
    assert not np.allclose(y, network_outputs(student, x))
    assert not np.allclose(y[0], y[1])


def test_sign_targets_and_train():
    rngs = spawn_generators(0, 1)
    x = draw_inputs(16, 8, rngs)
    y = make_targets(get_architecture("mlp"), 2, 16, x, 0, "sign")
    assert set(np.unique(y)) <= {-1.0, 1.0}
    losses = train("mlp", 2, 16, 8, 0, 1e-3, 5, targets="sign")
    assert losses.shape == (6,) and np.all(np.diff(losses) < 0)


@pytest.mark.parametrize("name", ["mlp", "resnet", "resnet-bn"])
def test_monotone_threshold_lands_near_two_over_lambda_max(name):
    """Width 64, depth 2, T = 32, 50 steps, seeds 0 and 1: the measured largest monotone learning
    rate is within [0.8, 1.4] x 2/lambda_max of the same initialisation, and divergence needs a
    larger eta than the first rise.

    Deterministic.  The band is set from a one-off run of seeds 0-9 (tolerance 0.02), where the
    ratio lay in [0.96, 1.19] (mlp), [0.93, 1.31] (resnet), [0.89, 1.30] (resnet-bn) and
    diverges_at / predicted in [2.1, 30] (mlp: inf for one seed): at width 64 the curvature
    moves during the first steps, which is what widens the band; it shrinks with width
    (ratio 1.03-1.10 at width 512).  A factor-2 error in the gradient, the loss normalisation
    or lambda (K instead of K/T is a factor T) lands far outside it."""
    for seed in (0, 1):
        out = monotone_threshold(name, 2, 64, 32, seed=seed, steps=50, tolerance=0.02)
        assert 0.8 <= out["ratio"] <= 1.4, out
        assert out["measured_eta"] < out["measured_eta_upper"] <= out["measured_eta"] * 1.02 * (1 + 1e-12)
        assert out["diverges_at"] > out["measured_eta_upper"]
        assert out["rise_step"] is not None and 0 <= out["rise_step"] < 50


# ----------------------------------------------------------------- refusals
@pytest.mark.parametrize("call,match", [
    (lambda: fisher_spectrum("mlp", 0, 8, 4, 1), "depth"),
    (lambda: fisher_spectrum("mlp", 2, 8, 0, 1), "samples"),
    (lambda: fisher_spectrum("mlp", 2, 0, 4, 1), "width"),
    (lambda: fisher_spectrum("mlp", 2, 8, 4, 0), "seeds"),
    (lambda: fisher_spectrum("mlp", 2, 8, 4, 1, subset="layer:2"), "0 <= K < depth"),
    (lambda: fisher_spectrum("mlp", 2, 8, 4, 1, subset="layer:-1"), "params"),
    (lambda: fisher_spectrum("mlp", 2, 8, 4, 1, subset="block:0"), "params"),
    (lambda: fisher_spectrum("mlp", 2, 8, 4, 1, subset=0), "params"),
    (lambda: fisher_spectrum("resnet-bn", 2, 8, 1, 1, bn="batch"), "at least 2"),
    (lambda: fisher_spectrum("mlp", 2, 8, 4, 1, bn="layer"), "bn"),
    (lambda: fisher_spectrum("nope", 2, 8, 4, 1), "unknown architecture"),
    (lambda: fisher_spectrum("mlp", 2.5, 8, 4, 1), "depth"),
    (lambda: train("mlp", 2, 8, 4, 0, 0.0, 3), "eta"),
    (lambda: train("mlp", 2, 8, 4, 0, -1.0, 3), "eta"),
    (lambda: train("mlp", 2, 8, 4, 0, float("nan"), 3), "eta"),
    (lambda: train("mlp", 2, 8, 4, 0, 0.1, 0), "steps"),
    (lambda: train("mlp", 2, 8, 4, 0, 0.1, 3, targets="labels"), "targets"),
    (lambda: train("resnet-bn", 2, 8, 1, 0, 0.1, 3, bn="batch"), "at least 2"),
    (lambda: monotone_threshold("mlp", 0, 8, 4, 0), "depth"),
    (lambda: monotone_threshold("mlp", 2, 8, 4, 0, steps=0), "steps"),
    (lambda: monotone_threshold("mlp", 2, 8, 4, 0, tolerance=0), "tolerance"),
])
def test_bad_inputs_raise_one_line_errors(call, match):
    with pytest.raises(AnglefishError, match=match) as err:
        call()
    assert "\n" not in str(err.value)


def test_gram_refuses_mismatched_arguments():
    params, x = _tiny("mlp", None)
    with pytest.raises(AnglefishError, match="architecture"):
        ntk_gram("resnet", params, x)
    with pytest.raises(AnglefishError, match="shape"):
        ntk_gram("mlp", params, x[:, :3])
    with pytest.raises(AnglefishError, match="eta"):
        gradient_descent(params, x, np.zeros((2, 3)), 0, 1)


# ----------------------------------------------------------------- both thresholds, batched
def test_batched_runs_equal_one_run_per_learning_rate():
    """Every network of a batched run follows exactly the gradient descent it would follow alone."""
    from anglefish.numeric.training import _draw_problem, _repeat, batched_runs, rose

    arch, params, x, y = _draw_problem("resnet", 2, 16, 8, 3, "teacher", None, np.float64)
    etas = np.array([0.01, 0.2, 3.0])
    out = batched_runs(_repeat(params, 3), np.repeat(x, 3, axis=0), np.repeat(y, 3, axis=0), etas, 20)
    for k, eta in enumerate(etas):
        losses = gradient_descent(params.copy(), x, y, eta, 20, stop_when_converged=True)[:, 0]
        losses = losses[~np.isnan(losses)]
        rises = np.nonzero(rose(losses[:-1], losses[1:], losses[0]))[0]
        assert out["rose"][k] == bool(rises.size)
        assert out["rise_step"][k] == (rises[0] if rises.size else -1)
        assert out["diverged"][k] == bool(not np.isfinite(losses[-1]) or losses[-1] > 1e3 * losses[0])


def test_learning_rate_thresholds_do_not_depend_on_how_many_initialisations_run():
    from anglefish.numeric.training import learning_rate_thresholds

    two = learning_rate_thresholds("resnet-bn", 2, 24, 8, inits=2, seed=4, steps=30)
    one = learning_rate_thresholds("resnet-bn", 2, 24, 8, inits=1, seed=4, steps=30)
    for key in ("lambda_max", "ratio_monotone", "ratio_divergence"):
        assert one["per_init"][key][0] == two["per_init"][key][0]
    per = two["per_init"]
    for m, d in zip(per["ratio_monotone"], per["ratio_divergence"]):
        assert m is not None and d is not None and 0.5 < m <= d  # monotone decrease ends first
    assert two["summary"]["ratio_divergence"]["lo"] <= two["summary"]["ratio_divergence"]["mean"]


def test_monotone_threshold_brackets_are_checked_runs():
    """Both searches end in a bracket whose ends were run with the stated answers: no rise at
    measured_eta, a rise at measured_eta_upper (float64, as gradient_descent runs it); divergence at
    diverges_at, none at diverges_at / (1 + divergence_tolerance) or below (the float32 runs of the
    search), and the doubling walk started at measured_eta_upper."""
    from anglefish.numeric.training import DIVERGENCE_DTYPE, _decide, _setup, rose

    out = monotone_threshold("mlp", 2, 32, 16, seed=4, steps=30, tolerance=0.02, divergence_tolerance=0.05)
    _, params, x, y = _setup("mlp", 2, 32, 16, 4, "teacher", None, np.float64)

    def rises(eta):
        ls = gradient_descent(params.copy(), x, y, eta, 30, stop_on_rise=True, stop_when_converged=True)[:, 0]
        ls = ls[~np.isnan(ls)]
        return bool(np.any(rose(ls[:-1], ls[1:], ls[0])))

    def diverges(eta):
        return bool(_decide(params, x, y, np.zeros(1, dtype=int), np.array([eta]), 30, "divergence", 1e3,
                            DIVERGENCE_DTYPE)[0])

    assert not rises(out["measured_eta"]) and rises(out["measured_eta_upper"])
    assert out["measured_eta_upper"] <= out["measured_eta"] * 1.02 * (1 + 1e-12)
    div = out["diverges_at"]
    assert np.isfinite(div) and diverges(div)
    if div > out["measured_eta_upper"]:
        assert not diverges(div / 1.05 * (1 - 1e-9))


@pytest.mark.parametrize("arch,bn", [("mlp", None), ("resnet-bn", None), ("resnet-bn", "batch")])
def test_ntk_grams_equal_ntk_gram_of_each_subset(arch, bn):
    """ntk_grams forms several subsets' Grams from one pass: each equals ntk_gram of that subset alone,
    bit for bit (the same terms summed in the same order)."""
    from anglefish.numeric.fisher import draw_inputs, init_params, ntk_gram, ntk_grams

    rngs = [np.random.default_rng(s) for s in (3, 4)]
    x = draw_inputs(12, 5, rngs)
    params = init_params(arch, 3, 12, 12, rngs, bn=bn)
    subsets = ["all", "layer:0", "layer:readout", "layer:last", "layer:1"]
    grams = ntk_grams(arch, params, x, subsets)
    assert list(grams) == subsets
    for sub in subsets:
        np.testing.assert_array_equal(grams[sub], ntk_gram(arch, params, x, sub))
    assert not np.array_equal(grams["layer:0"], grams["layer:1"])
