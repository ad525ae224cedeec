"""The derived one-block maps reduce to Theorems 2, 5 and 6 of Furusho & Ikeda (ACML 2019).

The theorems' right-hand sides are typed here, in the tests, as the claims to check;
the library derives its maps from the block lists alone."""
import sympy as sp

from anglefish.theory import BLOCK_INDEX as l, derive_maps
from anglefish.theory.activations import THETA as th

psi = (sp.sin(th) + (sp.pi - th) * sp.cos(th)) / sp.pi  # the paper's psi


def reduces(expr, target):
    return sp.simplify(expr - target) == 0


def test_theorem2_mlp():
    maps = derive_maps("mlp")
    assert reduces(maps.norm_ratio, 1)
    assert reduces(maps.angle_cos, psi)
    assert not maps.depends_on_block_index


def test_theorem5_resnet():
    maps = derive_maps("resnet")
    assert reduces(maps.norm_ratio, 2)
    assert reduces(maps.angle_cos, psi / 2 + sp.cos(th) / 2)
    assert reduces(maps.log_q, l * sp.log(2))


def test_theorem6_resnet_bn():
    maps = derive_maps("resnet-bn")
    assert reduces(maps.norm_ratio, (l + 3) / (l + 2))
    assert reduces(maps.angle_cos, psi / (l + 3) + (l + 2) / (l + 3) * sp.cos(th))
    # the population variance of the BN input at block l is l + 2 (paper, proof of Thm 6):
    # it is twice the population second moment of h^l (He weights, variance 2)
    assert reduces(2 * maps.population, l + 2)
    assert maps.depends_on_block_index


def test_near_misses_do_not_reduce():
    """The reduction test can fail: perturbed theorems are told apart."""
    assert not reduces(derive_maps("resnet-bn").angle_cos, psi / (l + 2) + (l + 1) / (l + 2) * sp.cos(th))
    assert not reduces(derive_maps("resnet").angle_cos, sp.Rational(51, 100) * psi + sp.Rational(49, 100) * sp.cos(th))


def test_maps_have_latex_and_text():
    for name in ("mlp", "resnet", "resnet-bn"):
        maps = derive_maps(name)
        assert "\\cos" in maps.latex()["angle_map"]
        assert maps.text()["norm_map"].startswith("q_{l+1} = ")
