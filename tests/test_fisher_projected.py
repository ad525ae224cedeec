"""The projected Fisher sampler (anglefish.numeric.projected): no weight matrices, the dense law.

Two kinds of checks.

* Deterministic (no false alarms): a projected pass whose two draws replay explicit weights
  (Omega = W Q forward, E = W^T G backward) must reproduce the dense pass -- K to rounding -- for
  every architecture case, every subset, T > N (Q square, no orthogonal part) and rank-deficient
  inputs (repeated columns).  This checks the identity W^T G = Q (W Q)^T G + (I - Q Q^T) W^T G as
  the code applies it, inside whole networks.
* Statistical: the projected and the dense sampler, run with independent seeds, must agree in
  distribution.  Per configuration, two-sample Kolmogorov-Smirnov tests (scipy.stats.ks_2samp)
  of five per-network statistics -- lambda_max, m_lambda, s_lambda, the Gram entries K_00 and
  K_01 -- each at alpha / 5 (Bonferroni), so a configuration fails by chance with probability
  <= ALPHA = 1e-3 for fresh seeds (the seeds here are fixed, so the outcome is deterministic).
  The tests can fail: the same battery rejects a plausible bug -- adding the orthogonal draw E
  without projecting out its part in the span of the input -- in every configuration (p-values
  below 1e-8 measured; the 'mutant' test).  A subtler wrong sampler, the gradient-independence
  approximation (the backward pass through a fresh, independent W), was NOT distinguishable from
  the dense law at these sizes (N = 16..64, 400 networks; smallest p-value 0.13), so these tests
  do not claim power against it.
"""
import numpy as np
import pytest
from scipy.stats import ks_2samp

import anglefish.numeric.projected as projected
from anglefish.errors import AnglefishError
from anglefish.numeric.fisher import (_gram_of_pass, draw_inputs, fisher_spectrum, init_params, ntk_gram,
                                      parse_subset, projected_gram)
from anglefish.numeric.network import backward, forward, one_blas_thread, spawn_generators
from anglefish.numeric.projected import ProjectedPass, lazy_weights

ALPHA = 1e-3
STATISTICS = ("lambda_max", "m_lambda", "s_lambda", "K_00", "K_01")


class ReplayPass(ProjectedPass):
    """The projected pass with both draws replaced by the projections of explicit weights."""

    explicit: list = None

    def forward_projection(self, index, q, n_out, scale):
        return np.matmul(self.explicit[index], q)

    def orthogonal_draw(self, index, cols, n_in, scale):
        return np.matmul(self.explicit[index].transpose(0, 2, 1), cols)


def replayed_gram(name, params, x, subset="all"):
    net = lazy_weights(params.arch, params.depth, params.width, params.in_dim, params.seeds)
    ctx = ReplayPass(net, params.bn, rngs=spawn_generators(0, params.seeds))
    ctx.explicit = params.weights
    h, _, caches = forward(net, x, ctx)
    f = np.einsum("sn,snt->st", params.readout, h)
    blocks, readout = parse_subset(subset, params.depth)

    def pull_back(g, on_dense, lowest):
        ctx.on_dense = on_dense
        return backward(net, caches, g, ctx, lowest)

    batch = params.arch.uses_batch_bn(params.bn) and bool(blocks)
    return _gram_of_pass(h, f, params.readout, net.owners, pull_back, blocks, readout, batch), ctx


CASES = [("mlp", None), ("resnet", None), ("resnet-bn", None), ("resnet-bn", "batch")]
IDS = ["mlp", "resnet", "resnet-bn-population", "resnet-bn-batch"]


@pytest.mark.parametrize("name,bn", CASES, ids=IDS)
@pytest.mark.parametrize("width,samples", [(12, 5), (4, 7)], ids=["T<N", "T>N"])
def test_replaying_explicit_weights_reproduces_the_dense_pass(name, bn, width, samples):
    rngs = spawn_generators(3, 2)
    x = draw_inputs(width, samples, rngs)
    x[:, :, 1] = x[:, :, 0]  # a repeated input: rank-deficient H in every layer
    params = init_params(name, 3, width, width, rngs, bn=bn)
    for subset in ("all", "layer:0", "layer:2", "layer:readout"):
        dense = ntk_gram(name, params, x, subset)
        replay, ctx = replayed_gram(name, params, x, subset)
        np.testing.assert_allclose(replay, dense, rtol=1e-9, atol=1e-11 * np.abs(dense).max())
    n_dense = len(params.weights)
    assert ctx.weights.owners == params.owners and len(ctx.weights.fans) == n_dense
    assert ctx.weights.n_params(frozenset(range(3))) + width == params.n_params()


def test_a_projected_pass_is_single_use():
    rngs = spawn_generators(1, 1)
    x = draw_inputs(8, 3, rngs)
    net = lazy_weights("mlp", 2, 8, 8, 1)
    ctx = ProjectedPass(net, rngs=rngs)
    h, _, caches = forward(net, x, ctx)
    g = np.ones((1, 1, 8, 3))
    backward(net, caches, g, ctx)
    with pytest.raises(AnglefishError, match="pulled back twice"):
        backward(net, caches, g, ctx)


def test_projected_networks_are_fixed_by_their_own_generator():
    """Network s draws only from generator s: the result does not depend on how many networks run
    or on how they are chunked."""
    import anglefish.numeric.fisher as fisher

    a = fisher_spectrum("resnet", 3, 16, 8, seeds=2, seed=11)
    b = fisher_spectrum("resnet", 3, 16, 8, seeds=5, seed=11)
    np.testing.assert_array_equal(a["grams"], b["grams"][:2])
    assert a["sampler"] == "projected"
    old = fisher.PASS_MEMORY
    try:
        fisher.PASS_MEMORY = 1
        c = fisher_spectrum("resnet", 3, 16, 8, seeds=5, seed=11)
    finally:
        fisher.PASS_MEMORY = old
    np.testing.assert_array_equal(c["grams"], b["grams"])
    x = draw_inputs(16, 8, spawn_generators(2, 1))
    k, p = projected_gram("mlp", 2, 16, x, spawn_generators(2, 1), "layer:1")
    assert p == 16 * 16 and k.shape == (1, 8, 8)
    with pytest.raises(AnglefishError, match="sampler"):
        fisher_spectrum("mlp", 2, 16, 8, 2, sampler="sparse")


# ----------------------------------------------------------------- the law
def _statistics(run):
    k = run["grams"]
    return {"lambda_max": run["lambda_max_per_seed"], "m_lambda": run["mean_eigenvalue_per_seed"],
            "s_lambda": run["s_lambda_per_seed"], "K_00": k[:, 0, 0], "K_01": k[:, 0, 1]}


def two_sample_pvalues(config, networks, seed, mutant=None):
    """KS p-values of the five statistics: dense (seed 2 seed) against projected (seed 2 seed + 1)."""
    arch, depth, width, samples, bn, subset = config
    with one_blas_thread():
        dense = fisher_spectrum(arch, depth, width, samples, networks, subset, seed=2 * seed, bn=bn,
                                sampler="dense")
        if mutant is not None:
            original, projected.ProjectedPass = projected.ProjectedPass, mutant
        try:
            proj = fisher_spectrum(arch, depth, width, samples, networks, subset, seed=2 * seed + 1, bn=bn)
        finally:
            if mutant is not None:
                projected.ProjectedPass = original
    assert dense["n_params"] == proj["n_params"]
    a, b = _statistics(dense), _statistics(proj)
    return {name: ks_2samp(a[name], b[name]).pvalue for name in STATISTICS}


LAW_CONFIGS = [  # (arch, depth, width, samples, bn, subset)
    ("mlp", 3, 64, 16, None, "all"),
    ("resnet", 3, 64, 16, None, "layer:1"),
    ("resnet-bn", 4, 64, 16, None, "all"),
    ("resnet-bn", 2, 32, 8, "batch", "all"),
    ("mlp", 2, 16, 32, None, "all"),  # T > N: Q square, W drawn whole through Omega
]


@pytest.mark.parametrize("config", LAW_CONFIGS, ids=lambda c: f"{c[0]}-L{c[1]}-N{c[2]}-T{c[3]}-{c[4] or 'nobn'}")
def test_projected_and_dense_agree_in_distribution(config):
    p = two_sample_pvalues(config, 400, seed=7)
    assert min(p.values()) > ALPHA / len(STATISTICS), p


@pytest.mark.slow
@pytest.mark.parametrize("config", [("mlp", 5, 1024, 32, None, "all"), ("resnet-bn", 5, 1024, 32, None, "all"),
                                    ("resnet", 3, 512, 64, None, "layer:first"),
                                    ("resnet-bn", 2, 256, 16, "batch", "all")],
                         ids=lambda c: f"{c[0]}-L{c[1]}-N{c[2]}-T{c[3]}-{c[4] or 'nobn'}")
def test_projected_and_dense_agree_in_distribution_at_larger_width(config):
    p = two_sample_pvalues(config, 96, seed=8)
    assert min(p.values()) > ALPHA / len(STATISTICS), p


class UnprojectedMutant(ProjectedPass):
    """A plausible bug: the orthogonal draw E added whole, its part in the span of H not removed."""

    def orthogonal_draw(self, index, cols, n_in, scale):
        e = super().orthogonal_draw(index, cols, n_in, scale)
        self.last = e.copy()
        return e

    def apply_dense_transposed(self, cache, g):
        out = super().apply_dense_transposed(cache, g)
        q = cache[2]
        if q.shape[2] < q.shape[1]:
            s, n_fun, _, t = g.shape
            span = np.matmul(q, np.matmul(q.transpose(0, 2, 1), self.last))
            out += span.reshape(s, q.shape[1], n_fun, t).transpose(0, 2, 1, 3)
        return out


@pytest.mark.parametrize("config", [LAW_CONFIGS[0], LAW_CONFIGS[3]], ids=["mlp", "resnet-bn-batch"])
def test_the_two_sample_battery_rejects_a_wrong_sampler(config):
    p = two_sample_pvalues(config, 400, seed=7, mutant=UnprojectedMutant)
    assert min(p.values()) < ALPHA / len(STATISTICS), p
