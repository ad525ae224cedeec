"""The infinite-width NTK / Fisher theory (anglefish.theory.ntk) and the FIM claims.

Expected values typed in this file are independent hand derivations (explained in comments)
or the defining formulas of the convention; everything else is computed."""
import math
from dataclasses import dataclass

import mpmath
import numpy as np
import pytest
import sympy as sp

from anglefish.errors import AnglefishError
from anglefish.theory.activations import RELU, THETA
from anglefish.theory.blocks import (BLOCK_INDEX, DEPTH, Act, BatchNorm, Block, Dense, KernelState, ReLU,
                                     Residual, Serial)
from anglefish.theory.asymptotics import GrowthLaw as Scale
from anglefish.theory.fisher_laws import fisher_law, law_value
from anglefish.theory.fisher_theory import equicorrelated_spectrum, fisher_theory
from anglefish.theory.kappas import kappa_exact, kappa_numeric
from anglefish.theory.ntk import QA, QAB, QB, count_params, ntk_recursion


def backward(block, state, p_out, dk_scale=1):
    """The block's own NTK rule (every block type keeps it with its other rules)."""
    return block.ntk_backward(state, p_out, dk_scale)
from anglefish.verify.fisher_claims import CLAIMS, fisher_claims, judge_scale
from anglefish.verify.verdicts import VERDICTS, validate

ARCHS = ("mlp", "resnet", "resnet-bn")
P = sp.Symbol("p", positive=True)
M = sp.Symbol("m", positive=True)


def gaussian_state(qa=QA, qb=QB, qab=QAB, m=M):
    return KernelState(qa=qa, qb=qb, qab=qab, m=m, gaussian=True, centred=True, fresh=True)


# ------------------------------------------------------------------ derivative kernel
def test_act_backward_uses_the_derived_derivative_kernel():
    s = gaussian_state()
    step = backward(Act(RELU), s, P)
    assert sp.simplify(step.p_in - P * RELU.derivative_kernel(QA, QB, QAB)) == 0
    assert step.contribution == 0


@pytest.mark.parametrize("qa,qb,rho", [(1.0, 1.0, 0.0), (2.0, 0.5, 0.3), (1.7, 3.1, -0.6), (1.0, 1.0, 0.95)])
def test_derived_derivative_kernel_is_the_gaussian_orthant_probability(qa, qb, rho):
    """E[relu'(u) relu'(v)] = P(u > 0, v > 0), computed here by scipy's bivariate normal CDF
    (independent of the polar integral the library derives the kernel from)."""
    from scipy.stats import multivariate_normal

    qab = rho * math.sqrt(qa * qb)
    cov = [[qa, qab], [qab, qb]]
    orthant = multivariate_normal(mean=[0, 0], cov=cov).cdf([0, 0])  # P(u<0,v<0) = P(u>0,v>0)
    derived = float(backward(Act(RELU), gaussian_state(qa, qb, qab), 1).p_in)
    assert derived == pytest.approx(orthant, abs=1e-6)


# ------------------------------------------------------------------ block backward maps
def test_dense_backward_and_weight_contribution():
    s = gaussian_state()
    step = backward(Dense(3), s, P)
    assert step.p_in == 3 * P
    # K^W_st / N = p^{out(W)} q^{in(W)}_st
    assert step.contribution == P * QAB
    assert Dense(3).weight_count() == 1


def test_population_batchnorm_divides_by_m_and_batch_bn_is_refused():
    s = gaussian_state()
    assert backward(BatchNorm("population"), s, P).p_in == P / M
    with pytest.raises(AnglefishError):
        backward(BatchNorm("batch"), s, P)


def test_residual_adds_the_branch_backward_and_serial_composes():
    s = KernelState(qa=QA, qb=QB, qab=QAB, m=M, gaussian=False, centred=True)
    res = backward(Residual(Dense(2), ReLU(), Dense(1)), s, P)
    # branch by hand: Dense(1) -> x1, relu at the W1 output state (2qa, 2qb, 2qab) -> dk, Dense(2) -> x2
    dk = RELU.derivative_kernel(2 * QA, 2 * QB, 2 * QAB)
    assert sp.simplify(res.p_in - (P + 2 * dk * P)) == 0
    # W2 sees relu(W1 h): its input covariance is the ReLU kernel; W1 sees h and p_out(W1) = dk p
    relu_qab = RELU.kernel(2 * QA, 2 * QB, 2 * QAB)
    assert sp.simplify(res.contribution - (P * relu_qab + dk * P * QAB)) == 0
    assert len(res.terms) == 2
    serial = backward(Serial(Dense(2), ReLU()), s, P)
    assert sp.simplify(serial.p_in - 2 * dk * P) == 0


def test_incomplete_block_types_are_refused_naming_the_missing_rules():
    from anglefish.theory.blocks import RULES, Scale as ScaleBlock, register_block

    @dataclass(frozen=True, repr=False)
    class Halve(Block):
        def kernel(self, s):
            return s.map(lambda e: e / 4)

    with pytest.raises(AnglefishError, match="lacks the rules ntk_backward, weight_count"):
        register_block(Halve)
    with pytest.raises(AnglefishError, match="lacks the rules"):
        Serial(Dense(2), Halve()) and __import__("anglefish").theory.Architecture("halve", (Dense(2), Halve()))

    @dataclass(frozen=True, repr=False)
    class Quarter(ScaleBlock):  # a complete type: it inherits every rule and overrides two
        def kernel(self, s):
            return s.map(lambda e: e / 16)

        def ntk_backward(self, state, p_out, dk_scale=1):
            return __import__('anglefish.theory.blocks', fromlist=['Backward']).Backward(p_in=p_out / 16, contribution=sp.Integer(0))

    register_block(Quarter)
    s = gaussian_state()
    assert backward(Serial(Dense(2), Quarter()), s, P).p_in == P / 8
    assert len(RULES) >= 10


# ------------------------------------------------------------------ spectrum of K
@pytest.mark.parametrize("T", [1, 2, 5, 17])
def test_lambda_max_formula_matches_numpy_eigenvalues(T):
    rng = np.random.default_rng(T)
    for _ in range(5):
        k1 = rng.uniform(0.5, 3)
        k2 = rng.uniform(-0.3, 1) * k1
        N = 37
        K = N * ((k1 - k2) * np.eye(T) + k2 * np.ones((T, T)))
        eig = np.linalg.eigvalsh(K / T)
        lam, top, other = equicorrelated_spectrum(k1, k2, N, T)
        assert lam == pytest.approx(eig.max(), rel=1e-12)
        assert top == pytest.approx(N * (k1 + (T - 1) * k2) / T, rel=1e-12)
        if T > 1:
            assert np.sum(np.isclose(eig, other, rtol=1e-10)) == T - 1


def test_fisher_theory_combines_kappas_and_counts_parameters():
    out = fisher_theory("resnet", 3, 50, 4)
    assert out["n_params"] == 3 * 2 * 50 * 50 + 50
    assert out["lambda_max"] == pytest.approx(50 / 4 * (out["kappa1"] + 3 * out["kappa2"]), rel=1e-12)
    assert out["mean_eigenvalue"] == pytest.approx(50 * out["kappa1"] / out["n_params"], rel=1e-12)
    assert out["eta_max"] == pytest.approx(2 / out["lambda_max"], rel=1e-12)
    # the blocks of F add up to the whole trace: sum of kappa1 over layers + readout
    parts = [fisher_theory("resnet", 3, 50, 4, f"layer:{k}")["kappa1"] for k in range(3)]
    parts.append(fisher_theory("resnet", 3, 50, 4, "layer:readout")["kappa1"])
    assert sum(parts) == pytest.approx(out["kappa1"], rel=1e-12)
    assert count_params("resnet", 3, 50, "layer:1") == 2 * 50 * 50
    assert count_params("resnet", 3, 50, "layer:readout") == 50


# ------------------------------------------------------------------ exact values, by hand
def test_mlp_small_depths_by_hand():
    """MLP block h' = relu(W h), W ~ N(0, 2/N); f = v.h^L, v ~ N(0, 1/N); inputs |x|^2 = N.

    Depth 1, one input: grad_v f = relu(W x), |.|^2 / N = E relu(u)^2 with u ~ N(0, 2): 1.
    grad_W f = (v o relu'(u)) x^T: |.|^2 / N = N E[v_i^2] P(u_i > 0) |x|^2 / N = 1/2.
    kappa1 = 3/2.  Two orthogonal inputs: the W part is proportional to x_s.x_t = 0; the
    readout part is E relu(u_s) relu(u_t) for uncorrelated u (variance 2): (E relu(u))^2 =
    (sqrt(2) / sqrt(2 pi))^2 = 1/pi.  kappa2 = 1/pi.
    Depth 2: each layer adds 1/2 to kappa1 (the backward moment stays 1: 2 * 1/2), so 2.
    kappa2: h^1 has per-unit covariance 1/pi (and variance 1); layer 1's pre-activations have
    variance 2 and correlation c = 1/pi.  Readout: 2 (sqrt(1-c^2) + (pi - acos c) c)/(2 pi);
    layer 1's weights: P(u_s > 0, u_t > 0) * (1/pi) = (pi - acos c)/(2 pi) * c (Sheppard);
    layer 0's weights see x_s.x_t = 0.
    """
    e1 = kappa_exact("mlp", 1)
    k1, k2 = e1.kappas("all", None)
    assert k1 == sp.Rational(3, 2) and sp.simplify(k2 - 1 / sp.pi) == 0
    e2 = kappa_exact("mlp", 2)
    k1, k2 = e2.kappas("all", None)
    c = 1 / sp.pi
    hand = (sp.sqrt(1 - c**2) + (sp.pi - sp.acos(c)) * c) / sp.pi + (sp.pi - sp.acos(c)) / (2 * sp.pi) * c
    assert k1 == 2
    assert abs(sp.N(k2 - hand, 30)) < 1e-25


def test_resnet_and_resnet_bn_depth_one_by_hand():
    """ResNet block h + W2 relu(W1 h), W1 ~ 2/N, W2 ~ 1/N, one block, one input:
    readout |h^1|^2/N = 1 + 1 = 2; W2: p = 1 times E relu(u)^2 = 1 (u ~ N(0, 2)): 1;
    W1: p at W1's output = 1 (W2) * 1/2 (relu') = 1/2, times q^0 = 1: 1/2.  kappa1 = 7/2.
    Orthogonal pair: readout and W2 both see (E relu(u))^2 = 1/pi, W1 sees 0: kappa2 = 2/pi.
    With population BN (divide W1 h by sqrt(2)): u ~ N(0, 1), E relu^2 = 1/2, so
    readout 1 + 1/2, W2 1/2, W1: (1/2) * (1/2) (BN's 1/m with m = 2) = 1/4; kappa1 = 9/4.
    Pair: (E relu(u))^2 = 1/(2 pi) twice: kappa2 = 1/pi.
    """
    k1, k2 = kappa_exact("resnet", 1).kappas("all", None)
    assert k1 == sp.Rational(7, 2) and sp.simplify(k2 - 2 / sp.pi) == 0
    k1, k2 = kappa_exact("resnet-bn", 1).kappas("all", None)
    assert k1 == sp.Rational(9, 4) and sp.simplify(k2 - 1 / sp.pi) == 0


def test_numeric_iteration_equals_exact_iteration():
    for arch in ARCHS:
        for depth in (1, 2, 3):
            exact = kappa_exact(arch, depth)
            num = kappa_numeric(arch, depth)
            for kind, k in (("all", None), ("readout", None), ("block", 0), ("block", depth - 1)):
                for a, b in zip(exact.kappas(kind, k), num.kappas(kind, k)):
                    with mpmath.workdps(30):
                        diff = abs(mpmath.mpf(str(sp.N(a, 30))) - b)
                        assert diff <= 1e-20 * max(1, abs(b))


@pytest.mark.parametrize("arch", ARCHS)
def test_pair_forward_angle_is_the_papers_angle_map(arch):
    """The forward part of the pair iteration reproduces the stable angle maps of
    theory.evaluate (iterated from the orthogonal angle pi/2)."""
    from anglefish.theory.evaluate import numeric_maps

    depth = 60
    traj = kappa_numeric(arch, depth)
    _, theta, _ = numeric_maps(arch).iterate(np.array([math.pi / 2]), depth)
    ours = np.array([float(t) for t in traj.theta])
    np.testing.assert_allclose(ours, theta[:, 0], rtol=1e-11)


@pytest.mark.parametrize("arch", ARCHS)
def test_kappa1_closed_form_equals_the_iterated_exact_values(arch):
    closed = ntk_recursion(arch).kappa1
    assert closed is not None
    for depth in range(1, 21):
        k1 = kappa_exact(arch, depth, pair=False).kappas("all", None)[0]
        assert sp.nsimplify(closed.subs(DEPTH, depth)) == k1


def test_linear_activation_closed_forms_equal_the_iteration():
    """With a linear activation the pair's maps are linear, so kappa2 has a closed form too
    (0 here: orthogonal inputs stay orthogonal through linear maps)."""
    from anglefish.theory.architectures import with_activation

    for base in ("mlp", "resnet"):
        arch = with_activation(base, "linear")
        rec = ntk_recursion(arch)
        assert rec.kappa2 is not None
        for depth in range(1, 9):
            k1, k2 = kappa_exact(arch, depth).kappas("all", None)
            assert sp.nsimplify(rec.kappa1.subs(DEPTH, depth)) == k1
            assert sp.simplify(rec.kappa2.subs(DEPTH, depth) - k2) == 0


def test_closed_forms_by_hand():
    """Per-block recursions of one input (q_l, p^l) derived by hand from the block lists:
    MLP q = 1, p = 1, each layer 1/2: kappa1 = 1 + L/2.  ResNet: q_l = 2^l, p^l = 2^(L-l)
    (factor 1 + 2 * 1/2 per block), block share q_l p^(l+1) (1 + 1/2) = 3 2^(L-2):
    kappa1 = 2^L + 3 L 2^(L-2)."""
    assert sp.simplify(ntk_recursion("mlp").kappa1 - (1 + DEPTH / 2)) == 0
    assert sp.simplify(ntk_recursion("resnet").kappa1 - (2**DEPTH + 3 * DEPTH * 2 ** (DEPTH - 2))) == 0
    bn = ntk_recursion("resnet-bn")
    assert sp.simplify(bn.backward_single - (DEPTH + 2) / (BLOCK_INDEX + 2)) == 0


# ------------------------------------------------------------------ large-L laws
@pytest.mark.slow
def test_kappa1_laws_are_the_limits_of_the_closed_forms():
    for arch in ARCHS:
        law = fisher_law(arch)
        lead = sp.sympify(law["kappa1"]["leading"], locals={"L": DEPTH})
        ratio = (ntk_recursion(arch).kappa1 / lead).rewrite(sp.digamma)
        assert sp.limit(ratio.subs(DEPTH, sp.Symbol("x", positive=True)), sp.Symbol("x", positive=True), sp.oo) == 1


def test_law_classes_match_the_hand_analysis():
    """By hand (see test_closed_forms_by_hand): MLP kappa1 ~ L/2 (linear), N m_lambda ->
    kappa1/L -> 1/2; ResNet kappa1 ~ 3 L 2^L / 4; ResNet+BN: block l's share is
    (3/4)(L+2)/(l+3), so kappa1 ~ (3/4) L log L, the first block's share ~ L/4 and the last
    block's 3/4."""
    expect = {
        ("mlp", "all"): "linear", ("mlp", "layer:first"): "constant", ("mlp", "layer:last"): "constant",
        ("resnet", "all"): "exponential", ("resnet", "layer:first"): "exponential",
        ("resnet", "layer:last"): "exponential",
        ("resnet-bn", "all"): "L log L", ("resnet-bn", "layer:first"): "linear",
        ("resnet-bn", "layer:last"): "constant", ("resnet-bn", "layer:readout"): "linear",
    }
    from anglefish.theory import get_architecture
    from anglefish.theory.fisher_laws import _fisher_law

    for (arch, params), cls in expect.items():  # the laws alone (their numeric accuracy: test_law_accuracy.py)
        assert _fisher_law(get_architecture(arch), params)["class"] == cls, (arch, params)
    assert fisher_law("mlp")["mean_eigenvalue"]["leading"] == "1/2"
    assert fisher_law("resnet-bn")["mean_eigenvalue"]["class"] == "logarithmic"
    assert fisher_law("resnet")["kappa2"]["leading"] == "3*2**L*L/16"


@pytest.mark.parametrize("arch", ["mlp", "resnet"])
def test_kappa2_law_is_approached_by_the_iterate(arch):
    """theta_l ~ c/l: the iterate / leading law tends to 1 with error O(log L / L)."""
    law = fisher_law(arch)["kappa2"]
    errs = []
    for depth in (100, 400, 1600):
        k2 = kappa_numeric(arch, depth).kappas("all", None)[1]
        errs.append(abs(float(k2 / law_value(law, depth)) - 1))
    assert errs[0] > errs[1] > errs[2] and errs[2] < 0.02


def test_kappa2_product_approximation_of_the_derivation():
    """The derivation's key step: block l's share of kappa2 equals its share of kappa1 times
    g(theta_l) (theta_L/theta_(l+1))^nu up to a factor C_l -> 1 as l grows (nu = 3)."""
    for arch in ARCHS:
        rec = ntk_recursion(arch)
        g = sp.lambdify((THETA, BLOCK_INDEX), sp.simplify(rec.contribution_pair / rec.contribution_single), "mpmath")
        depth = 2000
        traj = kappa_numeric(arch, depth)
        th = traj.theta
        C = lambda l: float(traj.block2[l] / (traj.block1[l] * g(th[l], l) * (th[depth] / th[l + 1]) ** 3))
        devs = [abs(C(l) - 1) for l in (10, 100, 1000)]
        assert devs[2] < devs[0] and devs[2] < 0.01, (arch, devs)


def test_lambda_max_is_sandwiched_by_kappa1():
    """0 <= kappa2 <= kappa1 (Cauchy-Schwarz on a Gram matrix), hence the class of
    lambda_max/N is that of kappa1 whatever T."""
    for arch in ARCHS:
        for depth in (1, 2, 5, 30):
            k1, k2 = kappa_numeric(arch, depth).kappas("all", None)
            assert 0 <= k2 <= k1


def test_lambda_max_law_is_approached_for_mlp_and_resnet():
    for arch in ("mlp", "resnet"):
        law = fisher_law(arch)
        values = []
        for depth in (200, 1600):
            out = fisher_theory(arch, depth, 1, 8)
            lam_log10 = out["lambda_max_log10"]
            lead = law_value(law, depth, samples=8)
            values.append(abs(lam_log10 - float(mpmath.log10(lead))))
        assert values[1] < values[0] and values[1] < 0.01


# ------------------------------------------------------------------ mutation
@pytest.mark.parametrize("arch", ARCHS)
def test_perturbed_derivative_kernel_is_detected(arch):
    """Scaling the derivative kernel by 1.03 shifts lambda_max by more than 1% at depth 10 and
    by more at depth 40: a check at that tolerance catches a 3% error in the backward map."""
    shifts = []
    for depth in (10, 40):
        true = fisher_theory(arch, depth, 64, 8)["lambda_max"]
        wrong = fisher_theory(arch, depth, 64, 8, derivative_kernel_scale=1.03)["lambda_max"]
        shifts.append(abs(wrong / true - 1))
    assert shifts[0] > 0.01 and shifts[1] > shifts[0]


def test_mlp_mutation_matches_the_closed_form():
    """One input: kappa1 = 1 + L s/2 for the MLP with derivative kernel scaled by s (p stays
    s^(L-l) (2 * s/2)... by hand: each layer's p factor is 2 * s/2 = s)."""
    s = 1.03
    got = fisher_theory("mlp", 5, 1, 1, derivative_kernel_scale=s)["kappa1"]
    hand = 1 + sum(s ** (5 - l) / 2 for l in range(5))  # p^(l+1) s/2 = s^(L-1-l) s/2
    assert got == pytest.approx(hand, rel=1e-12)


# ------------------------------------------------------------------ finite-width check
def _empirical_kappas(arch, depth, N, rng):
    """K/N for two exactly orthogonal inputs of squared norm N, by explicit backprop through
    a dense random network (independent of the symbolic interpreter)."""
    q, _ = np.linalg.qr(rng.standard_normal((N, 2)))
    h = q * np.sqrt(N)
    cache = []
    for l in range(depth):
        W1 = rng.standard_normal((N, N)) * np.sqrt(2.0 / N)
        u = W1 @ h
        if arch == "mlp":
            cache.append((h, W1, u, 1.0, None))
            h = np.maximum(u, 0)
        else:
            s = math.sqrt(l + 2.0) if arch == "resnet-bn" else 1.0  # population std of W1 h
            a = np.maximum(u / s, 0)
            W2 = rng.standard_normal((N, N)) * np.sqrt(1.0 / N)
            cache.append((h, W1, u, s, (W2, a)))
            h = h + W2 @ a
    v = rng.standard_normal(N) / np.sqrt(N)
    K = h.T @ h
    delta = np.repeat(v[:, None], 2, axis=1)
    for l in reversed(range(depth)):
        hin, W1, u, s, extra = cache[l]
        if extra is None:
            du = delta * (u > 0)
            K += (du.T @ du) * (hin.T @ hin)
            delta = W1.T @ du
        else:
            W2, a = extra
            K += (delta.T @ delta) * (a.T @ a)
            du = (W2.T @ delta) * (u > 0) / s
            K += (du.T @ du) * (hin.T @ hin)
            delta = delta + W1.T @ du
    return K[0, 0] / N, K[0, 1] / N


@pytest.mark.parametrize("arch", ARCHS)
def test_theory_matches_dense_networks(arch):
    """32 seeds at N = 256, depth 3: |mean - theory| <= 4 SE for kappa1 and kappa2.  False-alarm
    rate about 6e-5 per comparison (normal approximation); the finite-width bias, measured at
    N = 256 and 1024, was below 1 SE.  This check catches convention errors (factors of 2 in p,
    BN's 1/m), not percent-level ones (the mutation test does that)."""
    rng = np.random.default_rng(20240917)
    vals = np.array([_empirical_kappas(arch, 3, 256, rng) for _ in range(32)])
    mean, se = vals.mean(0), vals.std(0, ddof=1) / np.sqrt(len(vals))
    theory = np.array([float(x) for x in kappa_numeric(arch, 3).kappas("all", None)])
    assert np.all(np.abs(mean - theory) <= 4 * se), (mean, se, theory)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("kwargs", [dict(depth=0), dict(width=0), dict(samples=0), dict(depth=2.0),
                                    dict(params="layer:3"), dict(params="layer:-1"), dict(params="bogus"),
                                    dict(arch="no-such-arch")])
def test_bad_input_raises_one_line_errors(kwargs):
    args = dict(arch="mlp", depth=3, width=8, samples=2)
    args.update(kwargs)
    with pytest.raises(AnglefishError) as info:
        fisher_theory(**args)
    assert "\n" not in str(info.value)
    with pytest.raises(AnglefishError):
        fisher_law("mlp", "layer:top")


# ------------------------------------------------------------------ verdicts
def test_fisher_claim_verdicts_come_from_the_whole_network_reading():
    rows = fisher_claims(measured=False)
    assert [r["id"] for r in rows] == [c.id for c in CLAIMS]
    for r in rows:
        validate(r, r["id"])
        assert r["verdict"] in VERDICTS
        assert r["primary_reading"]["reading"].startswith("whole FIM: ")
    verdicts = {r["id"]: r["verdict"] for r in rows}
    assert verdicts == {
        "fim-mlp-depth-independent": "fails",  # lambda_max/N ~ L(T+3)/(8T); only m_lambda is constant
        "fim-resnet-exponential": "holds",  # ~ L 2^L
        "fim-resnet-bn-sublinear": "fails",  # ~ L log L: faster than linear
        "lr-resnet-exponentially-small": "holds",
        "lr-resnet-bn-reciprocal": "holds with another rate",  # ~ 1/(L log L)
    }
    # the eigenvalue bounds alone (N kappa1/T <= lambda_max <= N kappa1) decide every claim as the law does
    for r in rows:
        fb = r["from_bounds"]
        assert fb["follows"] and fb["verdict"] == r["verdict"] == fb["primary_verdict"], (r["id"], fb)
    from anglefish.cli_text import claims_text
    from anglefish.verify.fisher_claims import FisherClaim, bounds_conclusion
    from anglefish.verify.verdicts import MEANING

    assert claims_text(rows, MEANING).count("from the bounds alone:") == len(CLAIMS)
    wrong = FisherClaim("x", "test", "resnet", "eigenvalues", "constant", CLAIMS[1].claimed_law, "x")
    assert bounds_conclusion(wrong)["verdict"] == "fails"  # computed: the same bounds, another claimed kind
    assert rows[-1]["from_bounds"]["class"] == "power decay"  # N eta_max between 2/kappa1 and 2T/kappa1
    by_reading = {(r["id"], x["reading"]): x["verdict"] for r in rows for x in r["readings"]}
    # other readings are reported, whatever they say, and do not change the headline
    assert by_reading[("fim-mlp-depth-independent", "whole FIM: mean eigenvalue m_lambda")] == "holds"
    assert by_reading[("fim-resnet-bn-sublinear", "whole FIM: mean eigenvalue m_lambda")] == "holds"
    assert by_reading[("lr-resnet-bn-reciprocal", "per-layer, first block (K = 0): eta_max")] == "holds"
    assert by_reading[("lr-resnet-exponentially-small", "whole FIM: mean eigenvalue m_lambda")] == "not checkable"
    assert "log(L)" in next(r for r in rows if r["id"] == "lr-resnet-bn-reciprocal")["true_law"]


def test_verdict_rules_can_return_every_outcome():
    one = sp.Integer(1)
    const = Scale(one, sp.Integer(0), sp.Integer(0), one)
    linear = Scale(one, one, sp.Integer(0), one)
    sqrt = Scale(one, sp.Rational(1, 2), sp.Integer(0), one)
    decay = Scale(one, sp.Integer(-2), sp.Integer(0), one)
    inv = Scale(one, sp.Integer(-1), sp.Integer(0), one)
    inv_log = Scale(one, sp.Integer(-1), sp.Integer(-1), one)
    exp = Scale(sp.Integer(2), sp.Integer(0), sp.Integer(0), one)
    exp_small = Scale(sp.Rational(1, 2), sp.Integer(0), sp.Integer(0), one)
    l_log_l = Scale(one, one, one, one)
    assert judge_scale("constant", const)[0] == "holds"
    assert judge_scale("constant", linear)[0] == "fails"
    assert judge_scale("constant", decay)[0] == "fails"
    assert judge_scale("sub-linear growth", sqrt)[0] == "holds"
    assert judge_scale("sub-linear growth", const)[0] == "fails"
    assert judge_scale("sub-linear growth", l_log_l)[0] == "fails"
    assert judge_scale("exponential growth", linear)[0] == "fails"
    assert judge_scale("exponential growth", exp)[0] == "holds"
    assert judge_scale("exponentially small", exp_small)[0] == "holds"
    assert judge_scale("exponentially small", inv)[0] == "fails"
    assert judge_scale("reciprocal", inv)[0] == "holds"
    verdict, _, law = judge_scale("reciprocal", inv_log)
    assert verdict == "holds with another rate" and "log" in law
    assert judge_scale("reciprocal", decay)[0] == "holds with another rate"
    assert judge_scale("reciprocal", const)[0] == "fails"
    assert judge_scale("reciprocal", exp_small)[0] == "fails"
