"""The simulators: shapes, seeding, reuse of weights, scaling, and refusals."""
import math

import numpy as np
import pytest

from anglefish.errors import AnglefishError
from anglefish.numeric import (angle_table, given_inputs, pair_batch, pair_statistics, simulate,
                               spawn_generators)
from anglefish.theory import Architecture, Dense, ReLU, Residual


def test_pair_inputs_have_exact_angle_and_unit_variance():
    rngs = spawn_generators(0, 3)
    x = pair_batch(0.7, 50, 5, rngs)
    a, b = x[0, :, 0], x[0, :, 1]
    assert np.dot(a, a) / 50 == pytest.approx(1.0) and np.dot(b, b) / 50 == pytest.approx(1.0)
    assert math.acos(np.dot(a, b) / 50) == pytest.approx(0.7)
    assert not np.allclose(x[0, :, 2:], x[1, :, 2:])  # other inputs differ per seed


@pytest.mark.parametrize("sampler", ["gram", "dense"])
def test_results_do_not_depend_on_how_seeds_are_split(sampler):
    """Seed s draws only from generator s: running 2 or 5 seeds gives the same first 2."""
    def run(s):
        rngs = spawn_generators(3, s)
        return simulate("resnet", pair_batch(1.0, 16, 3, rngs), 4, 16, rngs, sampler=sampler).pair_gram
    assert np.array_equal(run(5)[:, :2], run(2))


def test_dense_weights_drawn_once_give_the_same_values_on_every_pass():
    from anglefish.numeric.network import draw_weights, forward, new_pass

    rngs = spawn_generators(1, 2)
    x = pair_batch(1.0, 8, 2, rngs)
    net = draw_weights("resnet", 2, 8, 8, rngs)
    first, _, _ = forward(net, x, new_pass(net))
    again, _, _ = forward(net, x, new_pass(net))
    assert len(net.weights) == 4 and net.weights[0].shape == (2, 8, 8) and net.owners == [0, 0, 1, 1]
    assert np.array_equal(first, again)


def test_dense_sampler_rescales_a_deep_resnet_instead_of_overflowing():
    rngs = spawn_generators(4, 2)
    traj = simulate("resnet", pair_batch(1.0, 8, 2, rngs), 3000, 8, rngs, sampler="dense", at=[3000])
    assert np.all(np.isfinite(traj.pair_gram)) and np.all(2 * traj.log_scale[-1] > np.log(np.finfo(float).max))


def test_resnet_runs_thousands_of_blocks_without_overflow():
    rngs = spawn_generators(2, 8)
    traj = simulate("resnet", pair_batch(1.0, 1024, 2, rngs), 1500, 1024, rngs, at=[1500])
    stats = pair_statistics(traj)
    assert np.all(np.isfinite(traj.pair_gram)) and np.all(np.isfinite(stats.log_q_mc))
    assert np.all(2 * traj.log_scale[-1] > np.log(np.finfo(float).max))  # true q overflows float64
    # E||h||^2 doubles per block at every width: log q = L log 2 = 1039.7.  Single networks
    # scatter around it with sd ~ 3 in log at this width, so 0.5% is a loose but failing bar
    # (an off-by-one block would miss it by 0.7).
    assert stats.log_q_mc[-1] == pytest.approx(1500 * math.log(2), rel=0.005)


def test_caller_supplied_inputs():
    x = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]) * math.sqrt(3)
    rngs = spawn_generators(0, 4)
    traj = simulate("mlp", given_inputs(x, 4), 2, 32, rngs)
    assert traj.pair_gram.shape == (3, 4, 2, 2)
    assert traj.pair_gram[0, 0, 0, 1] == 0.0


def test_batch_norm_kinds_and_batch_size():
    t = angle_table("resnet-bn", 3, 1.0, 16, 4, bn="batch", batch=4)
    assert t["bn"] == "batch" and t["batch"] == 4 and t["rows"][-1]["theta_theory"] is None
    t = angle_table("resnet-bn", 3, 1.0, 16, 4)
    assert t["bn"] == "population" and t["batch"] == 2 and t["rows"][-1]["theta_theory"] is not None
    assert angle_table("resnet-bn", 1, 1.0, 64, 2, bn="batch")["batch"] == 32
    t = angle_table("mlp", 2, 1.0, 16, 4, bn="batch")
    assert t["bn"] is None  # no BatchNorm in an MLP: the flag does not apply


@pytest.mark.parametrize("kwargs,match", [
    (dict(seeds=1), "seeds"), (dict(width=1), "width"), (dict(batch=1), "batch"),
    (dict(sampler="exact"), "sampler"), (dict(bn="layer"), "bn"), (dict(theta0=4.0), "theta0"),
    (dict(depth=-1), "depth"), (dict(seed=-5), "seed"),
])
def test_bad_input_raises_one_error_type(kwargs, match):
    args = dict(arch="mlp", depth=2, theta0=1.0, width=16, seeds=4)
    args.update(kwargs)
    with pytest.raises(AnglefishError, match=match):
        angle_table(**args)


def test_batch_statistics_bn_with_a_batch_of_one_is_refused():
    rngs = spawn_generators(0, 2)
    x = np.ones((2, 8, 1))
    with pytest.raises(AnglefishError, match="batch"):
        simulate("resnet-bn", x, 1, 8, rngs, bn="batch")


def test_an_incomplete_block_type_is_refused_before_anything_runs():
    from anglefish.theory import Block

    class Mystery(Block):
        def kernel(self, state):
            return state

    with pytest.raises(AnglefishError, match="Mystery lacks the rules ntk_backward, weight_count"):
        Architecture("test-mystery", (Dense(2), Mystery()))


def test_residual_branch_with_other_output_width_is_refused():
    arch = Architecture("test-bad-res", Residual(Dense(2), ReLU(), Dense(1)))
    rngs = spawn_generators(0, 2)
    x = pair_batch(1.0, 8, 2, rngs)
    with pytest.raises(AnglefishError, match="width"):
        simulate(arch, x, 1, 16, rngs, sampler="dense")
