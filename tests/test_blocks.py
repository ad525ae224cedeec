"""Each block's kernel map on the symbolic state, and the refusals."""
import pytest
import sympy as sp

from anglefish.errors import AnglefishError
from anglefish.theory import (Act, Architecture, BatchNorm, Dense, KernelState, ReLU, Residual, Serial,
                              derive_maps, get_architecture, register_architecture,
                              unregister_architecture)
from anglefish.theory.activations import THETA

q, m = sp.symbols("q m", positive=True)


def state(**kw):
    base = dict(qa=q, qb=2 * q, qab=q * sp.cos(THETA), m=m, gaussian=False, centred=True)
    base.update(kw)
    return KernelState(**base)


def test_dense_scales_every_moment_and_makes_fresh_gaussian():
    out = Dense(3).kernel(state())
    assert (out.qa, out.qb, out.qab, out.m) == (3 * q, 6 * q, 3 * q * sp.cos(THETA), 3 * m)
    assert out.gaussian and out.centred and out.fresh


def test_dense_rejects_nonpositive_or_nonsense_variance():
    with pytest.raises(AnglefishError):
        Dense(0)
    with pytest.raises(AnglefishError):
        Dense(-1)
    with pytest.raises(AnglefishError):
        Dense("not a number +")


def test_relu_halves_the_diagonal():
    out = ReLU().kernel(state(gaussian=True))
    assert sp.simplify(out.qa - q / 2) == 0 and sp.simplify(out.qb - q) == 0
    assert sp.simplify(out.m - m / 2) == 0
    assert not out.gaussian and not out.centred


def test_activation_needs_gaussian_input():
    with pytest.raises(AnglefishError, match="Gaussian"):
        ReLU().kernel(state(gaussian=False))


def test_residual_adds_moments():
    s = state()
    out = Residual(Dense(2), ReLU(), Dense(1)).kernel(s)
    assert sp.simplify(out.qa - 2 * q) == 0
    assert sp.simplify(out.m - 2 * m) == 0


def test_residual_branch_must_end_in_dense():
    with pytest.raises(AnglefishError, match="end in a Dense"):
        Residual(Dense(2), ReLU()).kernel(state())


def test_population_batchnorm_divides_by_population_moment():
    out = BatchNorm("population").kernel(state(gaussian=True))
    assert sp.simplify(out.qa - q / m) == 0 and out.m == 1


def test_batch_batchnorm_has_no_closed_kernel_map_and_bad_kind_is_refused():
    with pytest.raises(AnglefishError, match="batch"):
        BatchNorm("batch").kernel(state(gaussian=True))
    with pytest.raises(AnglefishError):
        BatchNorm("layer")


def test_population_batchnorm_after_relu_is_refused():
    with pytest.raises(AnglefishError, match="mean"):
        Serial(Dense(1), ReLU(), BatchNorm()).kernel(state())


def test_serial_flattens_and_rejects_non_blocks():
    assert Serial(Dense(1), [ReLU(), Dense(2)]).blocks[2] == Dense(2)
    with pytest.raises(AnglefishError):
        Serial(Dense(1), "relu")


def test_registering_a_new_architecture_needs_no_interpreter_change():
    arch = Architecture("test-leaky-resnet", Residual(Dense(2), Act("linear"), Dense(sp.Rational(1, 2))),
                        description="test")
    register_architecture(arch)
    try:
        assert get_architecture("test-leaky-resnet") is arch
        maps = derive_maps("test-leaky-resnet")
        # linear branch: q' = q + 2*(1/2) q = 2q, covariances likewise: the angle is preserved
        assert sp.simplify(maps.norm_ratio - 2) == 0
        assert sp.simplify(maps.angle_cos - sp.cos(THETA)) == 0
        with pytest.raises(AnglefishError, match="already registered"):
            register_architecture(arch)
    finally:
        unregister_architecture("test-leaky-resnet")
    with pytest.raises(AnglefishError, match="unknown architecture"):
        get_architecture("test-leaky-resnet")


def test_repr_round_trips_the_block_list():
    arch = get_architecture("resnet-bn")
    assert repr(arch.block) == "Residual(Dense(2), BatchNorm('population'), ReLU(), Dense(1))"
