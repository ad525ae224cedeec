"""The one finite-network interpreter: the dense simulator, the Fisher/training network and the
classifier run the same block rules on the same weights, so their outputs agree exactly (same
generators), for every registered architecture."""
import numpy as np
import pytest

from anglefish.numeric import classify
from anglefish.numeric.fisher import _forward_network, draw_inputs, init_params
from anglefish.numeric.network import draw_weights, forward, new_pass, spawn_generators
from anglefish.numeric.simulate import simulate
from anglefish.theory import architectures, get_architecture


@pytest.mark.parametrize("name", sorted(architectures()))
def test_every_finite_network_pass_computes_the_same_network(name):
    arch = get_architecture(name)
    depth, width, batch = 3, 6, 4
    x = draw_inputs(width, batch, spawn_generators(9, 2))
    x[:, :, 1] = x[:, :, 0] * 0.5 + x[:, :, 1]  # a correlated pair
    # the interpreter itself, weights drawn from generators 0, 1 of seed 5
    net = draw_weights(arch, depth, width, width, spawn_generators(5, 2))
    h, _, _ = forward(net, x, new_pass(net))
    # Fisher / training: the same hidden weights (readout drawn after them)
    params = init_params(arch, depth, width, width, spawn_generators(5, 2))
    for a, b in zip(params.weights, net.weights):
        assert np.array_equal(a, b)
    np.testing.assert_array_equal(_forward_network(params, x)[0], h)
    # the classifier (hidden layers at width = input dimension)
    clf = classify.init_classifier(arch, depth, width, spawn_generators(5, 2))
    np.testing.assert_array_equal(clf.weights[0], net.weights[0])
    if not arch.uses_batch_bn():
        np.testing.assert_allclose(classify.hidden_features(clf, x[0].T)[0], h[0].T, rtol=1e-12)
    # the dense simulator, which draws one block's weights at a time from the same generators
    traj = simulate(arch, x, depth, width, spawn_generators(5, 2), sampler="dense", at=[depth])
    true = traj.pair_gram[-1] * np.exp(2 * traj.log_scale[-1])[:, None, None]
    np.testing.assert_allclose(true, np.einsum("sni,snj->sij", h[:, :, :2], h[:, :, :2]), rtol=1e-10)
