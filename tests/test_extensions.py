"""Activations beyond ReLU, architectures beyond the paper, and their laws."""
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from anglefish.errors import AnglefishError
from anglefish.theory import (Dense, get_architecture, make_activation,
                              with_activation)
from anglefish.theory.activations import ERF, GELU, TANH, Erf, PiecewiseLinear, QuadratureActivation
from anglefish.theory.asymptotics import depth_law, law_errors


def gauss_pair_expectation(f, qa, qb, qab):
    """E f(u) f(v) by adaptive 2-d quadrature (scipy dblquad on [-12, 12]^2, where the
    Gaussian tail beyond is < 1e-32), independent of the Gauss-Hermite rule under test."""
    from scipy.integrate import dblquad

    c = qab / math.sqrt(qa * qb)
    s = math.sqrt(1 - c * c)
    norm = 1 / (2 * math.pi)
    g = lambda z2, z1: (f(math.sqrt(qa) * z1) * f(math.sqrt(qb) * (c * z1 + s * z2))
                        * norm * math.exp(-(z1 * z1 + z2 * z2) / 2))
    value, _ = dblquad(g, -12, 12, -12, 12, epsabs=1e-14, epsrel=1e-12)
    return value


@pytest.mark.parametrize("qa,qb,qab", [(1.0, 1.0, 0.5), (2.0, 0.5, -0.3), (0.3, 0.3, 0.29)])
def test_erf_closed_forms_match_quadrature(qa, qb, qab):
    k = float(ERF.kernel(qa, qb, qab))
    assert k == pytest.approx(float(gauss_pair_expectation(math.erf, qa, qb, qab)), rel=1e-9)
    derf = lambda x: 2 / math.sqrt(math.pi) * math.exp(-x * x)
    kd = float(ERF.derivative_kernel(qa, qb, qab))
    assert kd == pytest.approx(float(gauss_pair_expectation(derf, qa, qb, qab)), rel=1e-9)


@pytest.mark.parametrize("act,f", [(TANH, math.tanh), (GELU, lambda x: x * (1 + math.erf(x / math.sqrt(2))) / 2)])
@pytest.mark.parametrize("qa,qb,qab", [(1.0, 1.0, 0.5), (5.0, 3.0, 1.0), (2.0, 2.0, 1.9)])
def test_quadrature_kernels_meet_their_stated_accuracy(act, f, qa, qb, qab):
    """QuadratureActivation states relative error <= 1e-8 for second moments up to 5."""
    assert float(act.kernel(qa, qb, qab)) == pytest.approx(float(gauss_pair_expectation(f, qa, qb, qab)), rel=1e-8)


def test_make_activation_picks_the_right_kind():
    assert isinstance(make_activation("r", "Max(x, 0)"), PiecewiseLinear)
    assert isinstance(make_activation("e", "erf(x)"), Erf)
    assert isinstance(make_activation("s", "sin(x)"), QuadratureActivation)
    assert isinstance(make_activation("f", np.sin), QuadratureActivation)
    with pytest.raises(AnglefishError):
        make_activation("bad", "x + y")
    with pytest.raises(AnglefishError):
        make_activation("bad", "((")


def test_activation_swap_keeps_weight_variances_and_names():
    arch = get_architecture("resnet[tanh]")
    assert arch.name == "resnet[tanh]"
    assert repr(arch.block) == "Residual(Dense(2), Act('tanh'), Dense(1))"
    assert with_activation("mlp", "erf").block.blocks[0] == Dense(2)
    with pytest.raises(AnglefishError):
        get_architecture("resnet[nope]")


def test_tanh_mlp_is_chaotic_with_fixed_angle_pi_over_2():
    """Independent check (Poole et al. 2016): chi_1 = sigma^2 E[tanh'(u)^2], u ~ N(0, sigma^2 q*),
    and an odd activation without bias maps orthogonal inputs to orthogonal outputs."""
    law = depth_law("mlp[tanh]")
    assert law.law_class == "converges to a fixed angle"
    assert law.fixed_point == pytest.approx(math.pi / 2, abs=1e-9)
    q_star = law.extra["population_fixed_point"]  # per-unit second moment of h, pre-activation 2 q*
    mpmath.mp.dps = 20
    chi1 = 2 * mpmath.quad(lambda z: (1 - mpmath.tanh(mpmath.sqrt(2 * q_star) * z) ** 2) ** 2 * mpmath.npdf(z),
                           [-mpmath.inf, mpmath.inf])
    assert law.extra["chi_1"] == pytest.approx(float(chi1), rel=1e-4)
    assert 0 < float(law.rate) < 1


def test_resnet_scaled_tends_to_a_depth_independent_angle():
    law = depth_law("resnet-scaled")
    assert law.law_class == "depth-independent limit"
    errors = law_errors("resnet-scaled", depths=(100, 1000))["theta_l"]
    for e100, e1000 in zip(errors[100], errors[1000]):
        assert abs(e1000) < abs(e100) / 5  # O(1/L) convergence
    assert max(abs(e) for e in errors[1000]) < 1e-3


@pytest.mark.parametrize("arch,leading", [("resnet2", 3 * sp.pi), ("mlp-bn", 3 * sp.pi), ("preact-resnet", 9 * sp.pi / 2)])
def test_power_laws_of_new_architectures(arch, leading):
    law = depth_law(arch)
    l = sp.Symbol("l", integer=True, nonnegative=True)
    assert law.law_class == "power" and sp.simplify(law.leading - leading / l) == 0
    errors = law_errors(arch, depths=(100, 10000))["theta_l"]
    assert max(abs(e) for e in errors[10000]) < 0.02


def test_gelu_mlp_freezes_angles_as_its_signal_vanishes():
    law = depth_law("mlp[gelu]")
    assert law.law_class == "not decaying" and "0" in law.note


def test_population_maps_iterate_through_the_cli(capsys):
    from anglefish.cli import main

    assert main(["angles", "mlp", "--activation", "tanh", "--depth", "20", "--theta0", "0.5",
                 "--theory-only", "--every", "10", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows[-1]["theta_theory"] > 0.5  # chaotic phase: small angles grow toward pi/2
    assert main(["derive", "mlp", "--activation", "nope", "--quiet"]) == 2
