"""The classifier of anglefish.numeric.classify, the shared training study and the training claims.

Fast: tiny networks for the gradient checks, a few epochs on the bundled digits for training,
tiny study settings (2 depths, 2 seeds, 2 epochs) for the caching and the claims' plumbing.
Everything is seeded, so every check is deterministic.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from anglefish.verify.verdicts import validate

from anglefish.errors import AnglefishError
from anglefish.numeric import study
from anglefish.numeric.classify import (SGDSettings, distance_ratio, evaluate, init_classifier, loss,
                                        loss_and_gradients, train_classifier)
from anglefish.numeric.statistics import pearson_with_ci, spearman_with_ci
from anglefish.numeric.study import cached_dataset, distance_ratio_study
from anglefish.numeric.simulate import spawn_generators
from anglefish.theory.architectures import architectures
from anglefish.theory.blocks import BatchNorm

TINY = {"depths": [1, 2], "seeds": 2, "epochs": 2}


@pytest.fixture(scope="module")
def digits():
    return cached_dataset("digits")


# ------------------------------------------------------------------- gradients
def _cases():
    # the built-in registry (tagged 'paper' or 'extension'), not architectures other test modules
    # may register at import with blocks or activations of their own
    for name, arch in sorted(architectures().items()):
        if not {"paper", "extension"} & set(arch.tags):
            continue
        yield pytest.param(name, None, id=name)
        if arch.uses(BatchNorm):
            yield pytest.param(name, "batch", id=f"{name}-batchBN")


@pytest.mark.parametrize("arch,bn", list(_cases()))
def test_backward_matches_finite_differences(arch, bn):
    rng = np.random.default_rng(3)
    dim, depth = 5, 3
    x = rng.standard_normal((2, 7, dim))  # per-seed batches
    y = np.array([[0, 1, 1, 0, 1, 0, 1], [1, 1, 0, 0, 1, 0, 0]])
    clf = init_classifier(arch, depth, dim, spawn_generators(11, 2), head_init_std=1.0, bn=bn)
    clf.head_b[:] = rng.standard_normal(clf.head_b.shape)
    _, grads = loss_and_gradients(clf, x, y)
    eps = 1e-6
    pairs = [(w, g) for w, g in zip(clf.weights, grads["weights"])] + \
        [(clf.head_w, grads["head_w"]), (clf.head_b, grads["head_b"])]
    checked = 0
    for w, g in pairs:
        flat_w, flat_g = w.reshape(-1), g.reshape(-1)
        for k in rng.choice(flat_w.size, size=min(6, flat_w.size), replace=False):
            seed_index = np.unravel_index(k, w.shape)[0]
            old = flat_w[k]
            flat_w[k] = old + eps
            up = loss_and_gradients(clf, x, y)[0][seed_index]
            flat_w[k] = old - eps
            down = loss_and_gradients(clf, x, y)[0][seed_index]
            flat_w[k] = old
            numeric = (up - down) / (2 * eps)
            # central differences: truncation ~eps^2, rounding ~1e-16/eps = 1e-10
            assert abs(numeric - flat_g[k]) <= 1e-6 * max(1.0, abs(numeric)), (arch, k, numeric, flat_g[k])
            checked += 1
    assert checked > 10


def test_population_bn_is_the_fixed_division_of_the_theory():
    # ResNet+BN (Thm 6): q_{l+1} = (l + 3)/(l + 2) q_l from q_0 = 1, so q_L = (L + 2)/2; the BN of
    # block l divides by sqrt(Var W1 h) = sqrt(l + 2) and the head reads h^L / sqrt((L + 2)/2)
    clf = init_classifier("resnet-bn", 4, 6, spawn_generators(0, 1))
    assert math.isclose(clf.log_m_top, math.log(3), rel_tol=1e-12)
    assert math.isclose(init_classifier("resnet", 4, 6, spawn_generators(0, 1)).log_m_top, 4 * math.log(2))
    assert init_classifier("mlp", 4, 6, spawn_generators(0, 1)).log_m_top == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------------------------- distance ratio
def test_distance_ratio_against_explicit_covariances():
    rng = np.random.default_rng(5)
    n, dim = 40, 6
    labels = (rng.random(n) < 0.4).astype(int)
    labels[:2], labels[2:4] = 0, 1
    features = rng.standard_normal((3, n, dim)) * rng.uniform(0.5, 2, dim) + labels[:, None] * 0.8
    r = distance_ratio(features, labels)
    assert r.shape == (3,)
    for s in range(3):
        f = features[s]
        mp, mm = f[labels == 1].mean(0), f[labels == 0].mean(0)
        sp_, sm = np.cov(f[labels == 1].T), np.cov(f[labels == 0].T)  # explicit N x N, divisor n - 1
        v = mp - mm
        expected = v @ (mp - mm) / (math.sqrt(v @ sp_ @ v) + math.sqrt(v @ sm @ v))
        assert r[s] == pytest.approx(expected, rel=1e-12)
    # invariances: rescaling the features, swapping the classes
    np.testing.assert_allclose(distance_ratio(7.5 * features, labels), r, rtol=1e-12)
    np.testing.assert_allclose(distance_ratio(features, 1 - labels), r, rtol=1e-12)
    # divisor n (ddof 0) gives a larger ratio by sqrt(n_c / (n_c - 1))-type factors
    assert np.all(distance_ratio(features, labels, ddof=0) > r)


def test_distance_ratio_of_separated_points_and_bad_input():
    f = np.array([[0.0, 0], [0, 1], [3, 0], [3, 1]])
    assert float(distance_ratio(f, np.array([0, 0, 1, 1]))) == math.inf  # projections on v do not vary
    with pytest.raises(AnglefishError, match="at least 2 inputs of each class"):
        distance_ratio(f, np.array([0, 1, 1, 1]))
    with pytest.raises(AnglefishError, match="labels must be 0 or 1"):
        distance_ratio(f, np.array([0, 2, 1, 1]))
    with pytest.raises(AnglefishError, match="shape"):
        distance_ratio(f, np.array([0, 1, 1]))
    with pytest.raises(AnglefishError, match="finite"):
        distance_ratio(np.full((4, 2), np.nan), np.array([0, 0, 1, 1]))


# ------------------------------------------------------------------- training
@pytest.mark.parametrize("arch", ["mlp", "resnet", "resnet-bn"])
def test_training_lowers_the_training_loss_and_raises_the_ratio(digits, arch):
    sgd = SGDSettings(learning_rate=0.05, batch_size=20, epochs=10)
    run = train_classifier(arch, digits.x_train, digits.y_train, 3, seeds=2, seed=1, settings=sgd)
    before = loss(run.initial, digits.x_train, digits.y_train)
    after = loss(run.trained, digits.x_train, digits.y_train)
    np.testing.assert_allclose(before, math.log(2), rtol=1e-12)  # zero head: logits 0
    assert np.all(after < 0.5 * before), (before, after)
    assert run.epoch_loss.shape == (10, 2) and np.all(run.epoch_loss[-1] < run.epoch_loss[0])
    ev0 = evaluate(run.initial, digits.x_test, digits.y_test)
    ev1 = evaluate(run.trained, digits.x_test, digits.y_test)
    assert np.all(ev1["ratio"] > ev0["ratio"]) and np.all(ev1["test_error"] < 0.25)


def test_batch_statistics_bn_trains_and_evaluates_with_training_statistics(digits):
    sgd = SGDSettings(epochs=3, bn="batch")
    run = train_classifier("resnet-bn", digits.x_train, digits.y_train, 2, seeds=2, seed=0, settings=sgd)
    assert run.trained.bn_statistics is not None and len(run.trained.bn_statistics) == 2
    assert np.all(loss(run.trained, digits.x_train, digits.y_train) < math.log(2))
    pop = train_classifier("resnet-bn", digits.x_train, digits.y_train, 2, seeds=2, seed=0,
                           settings=SGDSettings(epochs=3))
    assert pop.trained.bn_statistics is None
    assert not np.allclose(pop.trained.weights[0], run.trained.weights[0])  # a different network


def test_training_is_deterministic_given_the_seed(digits):
    sgd = SGDSettings(epochs=2)
    a = train_classifier("resnet", digits.x_train, digits.y_train, 2, seeds=3, seed=7, settings=sgd)
    b = train_classifier("resnet", digits.x_train, digits.y_train, 2, seeds=3, seed=7, settings=sgd)
    c = train_classifier("resnet", digits.x_train, digits.y_train, 2, seeds=3, seed=8, settings=sgd)
    for wa, wb, wc in zip(a.trained.weights, b.trained.weights, c.trained.weights):
        np.testing.assert_array_equal(wa, wb)
        assert not np.array_equal(wa, wc)
    np.testing.assert_array_equal(a.epoch_loss, b.epoch_loss)
    # seed s's network does not depend on how many seeds run with it
    d = train_classifier("resnet", digits.x_train, digits.y_train, 2, seeds=1, seed=7, settings=sgd)
    np.testing.assert_allclose(d.trained.weights[0][0], a.trained.weights[0][0], rtol=0, atol=1e-12)


def test_bad_inputs_raise_one_line_errors(digits):
    x, y = digits.x_train, digits.y_train
    bad = [
        lambda: SGDSettings(learning_rate=-1),
        lambda: SGDSettings(learning_rate=float("nan")),
        lambda: SGDSettings(batch_size=0),
        lambda: SGDSettings(epochs=1.5),
        lambda: SGDSettings(head_input="scaled"),
        lambda: SGDSettings(bn="layer"),
        lambda: SGDSettings(head_init_std=-0.1),
        lambda: train_classifier("no-such-net", x, y, 2),
        lambda: train_classifier("mlp", x, y, 0),
        lambda: train_classifier("mlp", x, y, 2, seeds=0),
        lambda: train_classifier("mlp", x, y + 1, 2),
        lambda: train_classifier("mlp", x, y[:-1], 2),
        lambda: train_classifier("mlp", x, y, 2, settings=SGDSettings(batch_size=len(y) + 1)),
        lambda: train_classifier("resnet-bn", x, y, 2, settings=SGDSettings(batch_size=1, bn="batch")),
        lambda: train_classifier("resnet", x, y, 10, settings=SGDSettings(head_input="raw", head_init_std=1.0,
                                                                         learning_rate=5.0, epochs=1)),
        lambda: evaluate(init_classifier("mlp", 1, 3, spawn_generators(0, 1)), x, y),
        lambda: distance_ratio_study(learning_rat=0.1),
        lambda: distance_ratio_study(depths=[]),
        lambda: pearson_with_ci([1, 2], [1, 2, 3]),
    ]
    for fn in bad:
        with pytest.raises(AnglefishError) as err:
            fn()
        assert "\n" not in str(err.value) and str(err.value)


def test_correlations_and_their_intervals():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(50)
    y = -0.8 * x + 0.4 * rng.standard_normal(50)
    c = pearson_with_ci(x, y)
    assert c["r"] == pytest.approx(np.corrcoef(x, y)[0, 1])
    z, half = math.atanh(c["r"]), 1.959963984540054 / math.sqrt(47)
    assert c["lo"] == pytest.approx(math.tanh(z - half)) and c["hi"] == pytest.approx(math.tanh(z + half))
    assert c["lo"] < c["r"] < c["hi"] < 0
    s = spearman_with_ci(x, y)
    assert -1 < s["lo"] < s["r"] < s["hi"] < 0
    assert not pearson_with_ci(x, np.zeros(50))["defined"]  # constant errors: undefined


# ------------------------------------------------------------------- the shared study
def test_study_is_shared_by_the_figures_and_the_claims(tmp_path, monkeypatch):
    from anglefish.paper_figures import render
    from anglefish.verify.training_claims import training_claims

    calls = []
    real = study.train_classifier
    monkeypatch.setattr(study, "train_classifier", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    render(["fig11", "fig12"], tmp_path, quick=True, seed=5, formats=(),
           options={"fig11": TINY, "fig12": TINY})
    assert len(calls) == 3 * len(TINY["depths"])  # trained once for both figures
    claims = training_claims(quick=True, seed=5, overrides=TINY)
    assert len(calls) == 3 * len(TINY["depths"])  # ... and for the claims
    assert [c["id"] for c in claims] == ["acml-fig11-preserved-angles-train-better",
                                         "acml-fig12-ratio-error-correlation", "acml-remark-mlp-degrades-ratio"]
    for c in claims:
        assert set(c) >= {"id", "source", "statement", "verdict", "evidence", "quantity", "method"}
        validate(c, c["id"])
    # the evidence is the figures' numbers
    from anglefish.paper_figures import Table

    t = Table.read_csv(tmp_path / "fig12" / "fig12.csv").where(kind="correlation", method="pearson",
                                                               subset="all nets")
    assert claims[1]["evidence"]["pearson_all_nets"]["r"] == pytest.approx(t.column("r")[0], rel=1e-15)
    res = distance_ratio_study(seed=5, **TINY)
    assert len(res["rows"]) == 3 * 2 * 2 and len(calls) == 3 * len(TINY["depths"])


def _fake_study(ratio_after, error_after, ratio_before):
    """A study result with given per-net numbers (dicts arch -> depth -> list over seeds)."""
    rows = []
    for arch in ("mlp", "resnet", "resnet-bn"):
        for depth in (1, 2, 3, 4):
            for k in range(4):
                rows.append({"architecture": arch, "depth": depth, "seed_index": k,
                             "ratio_after": ratio_after(arch, depth, k), "error_after": error_after(arch, depth, k),
                             "ratio_before": ratio_before(arch, depth, k)})
    settings = {**study.STUDY_FULL, "depths": [1, 2, 3, 4], "seeds": 4}
    return {"rows": rows, "settings": settings, "architectures": ["mlp", "resnet", "resnet-bn"],
            "dataset": {"n_test": 180, "ratio_inputs": 0.76}, "data_dir": None}


def test_claim_rules_can_fail_and_hold():
    from anglefish.verify.training_claims import (claim_mlp_degrades_ratio, claim_preserved_angles,
                                                  claim_ratio_error_correlation, strong_threshold)

    assert strong_threshold() == pytest.approx(-0.6215, abs=1e-4)
    rank = {"mlp": 0, "resnet": 1, "resnet-bn": 2}
    jitter = lambda a, d, k: 0.01 * ((7 * k + 3 * d + rank[a]) % 5 - 2)  # noqa: E731 - deterministic noise
    good = _fake_study(lambda a, d, k: 1 + 0.3 * rank[a] + jitter(a, d, k),
                       lambda a, d, k: 0.2 - 0.05 * rank[a] + jitter(a, d, k) / 4,
                       lambda a, d, k: math.exp(-(0.2 - 0.08 * rank[a]) * d) + jitter(a, d, k) / 10)
    assert claim_preserved_angles(good)["verdict"] == "holds"
    assert claim_ratio_error_correlation(good)["verdict"] == "holds"
    assert claim_mlp_degrades_ratio(good)["verdict"] == "holds"
    bad = _fake_study(lambda a, d, k: 2 - 0.3 * rank[a] + jitter(a, d, k),  # order reversed
                      lambda a, d, k: 0.05 + jitter(a, d, k) ** 2,  # errors unrelated to r
                      lambda a, d, k: 0.5 + jitter(a, d, k))  # no degradation with depth
    assert claim_preserved_angles(bad)["verdict"] == "fails"
    assert claim_ratio_error_correlation(bad)["verdict"] in ("fails", "holds with another rate")
    assert claim_mlp_degrades_ratio(bad)["verdict"] == "fails"
    flat = _fake_study(lambda a, d, k: 1.0 + jitter(a, d, k), lambda a, d, k: 0.0, lambda a, d, k: 0.5)
    assert claim_ratio_error_correlation(flat)["verdict"] == "not checkable"  # constant test errors


# ------------------------------------------------------------------- figures 8, 11, 12
def test_fig08_pairs_theory_and_simulation(tmp_path):
    from anglefish.paper_figures import Table, render
    from anglefish.theory.evaluate import numeric_maps

    render(["fig08"], tmp_path, quick=True, seed=0, formats=())
    t = Table.read_csv(tmp_path / "fig08" / "fig08.csv")
    assert t.unique("dataset") == ["digits"] and t.unique("target_angle") == [0.93, 1.96]
    for target in (0.93, 1.96):
        sub = t.where(target_angle=target)
        theta0 = sub.column("theta0")[0]
        assert abs(theta0 - target) < 0.02  # the digits hold pairs close to the paper's angles
        for arch in ("mlp", "resnet", "resnet-bn"):
            a = sub.where(architecture=arch)
            ls, theta, _ = numeric_maps(arch).iterate(theta0, 10)
            np.testing.assert_array_equal(a.column("theta_theory"), theta[:, 0])
            assert a.column("theta_mc")[0] == pytest.approx(theta0, abs=1e-12)  # L = 0: the pair itself
            # |MC - theory| <= 5 SE + 3 (L/N) theta: the allowance of fig04's test (jackknife over 64
            # seeds; 66 points, ~1% false alarm for a random seed)
            width = a.column("width")[0]
            d = np.abs(a.column("theta_mc") - a.column("theta_theory"))
            assert np.all(d <= 5 * a.column("theta_mc_se") + 3 * a.column("l") / width * a.column("theta_theory")
                          + 1e-12)
        last = {a: sub.where(architecture=a, l=10).column("theta_theory")[0] for a in ("mlp", "resnet", "resnet-bn")}
        assert last["mlp"] < last["resnet"] < last["resnet-bn"] < theta0


def test_fig08_uses_the_data_sets_found_in_data_dir(tmp_path):
    from anglefish.paper_figures.fig08 import data_plan

    assert [d for d, _ in data_plan(None)[0]] == ["digits"]
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"")
    (tmp_path / "cifar-10-batches-bin").mkdir()
    (tmp_path / "cifar-10-batches-bin" / "test_batch.bin").write_bytes(b"")
    assert [d for d, _ in data_plan(tmp_path)[0]] == ["mnist", "cifar10"]
    from anglefish.paper_figures import render

    with pytest.raises(AnglefishError):  # present but broken files are an error, not a silent fallback
        render(["fig08"], tmp_path / "out", quick=True, formats=(), data_dir=tmp_path)


def test_fig11_fig12_tables_agree_with_the_study(tmp_path):
    from anglefish.paper_figures import Table, render

    render(["fig11", "fig12"], tmp_path, quick=True, seed=3, formats=(), options={"fig11": TINY, "fig12": TINY})
    res = distance_ratio_study(seed=3, **{**study.STUDY_FULL, **study.STUDY_QUICK, **TINY})
    t11 = Table.read_csv(tmp_path / "fig11" / "fig11.csv")
    assert len(t11) == 3 * 2
    row = t11.where(architecture="resnet", depth=2)
    nets = [r for r in res["rows"] if r["architecture"] == "resnet" and r["depth"] == 2]
    assert row.column("ratio_after_mean")[0] == pytest.approx(np.mean([r["ratio_after"] for r in nets]), rel=1e-12)
    assert row.column("ratio_before_sd")[0] == pytest.approx(np.std([r["ratio_before"] for r in nets], ddof=1),
                                                              rel=1e-12)
    t12 = Table.read_csv(tmp_path / "fig12" / "fig12.csv")
    net = t12.where(kind="net")
    c = t12.where(kind="correlation", method="pearson", subset="all nets")
    assert c.column("r")[0] == pytest.approx(np.corrcoef(net.column("ratio_after"), net.column("error_after"))[0, 1],
                                             rel=1e-12)
    assert c.column("lo")[0] < c.column("r")[0] < c.column("hi")[0]
