"""Derived results are keyed by the architecture object, not its name: re-registering a name
changes every derived result (maps, laws, numeric maps, NTK, Fisher theory, Table 1 row)."""
import math


from anglefish.theory import Architecture, Dense, ReLU, Residual, derive_maps, register_architecture
from anglefish.theory.asymptotics import depth_law
from anglefish.theory.evaluate import numeric_maps
from anglefish.theory.fisher_laws import fisher_law
from anglefish.theory.fisher_theory import fisher_theory
from anglefish.theory.kappas import kappa_numeric
from anglefish.theory.ntk import ntk_recursion


def _everything(name):
    return {"map": derive_maps(name).angle_cos, "norm": derive_maps(name).norm_ratio,
            "law": depth_law(name).leading, "step": float(numeric_maps(name).step(1.0, 0)),
            "kappa1": ntk_recursion(name).kappa1, "kappa_numeric": float(kappa_numeric(name, 3).kappas("all", None)[0]),
            "lambda_max": fisher_theory(name, 3, 64, 8)["lambda_max"], "fisher_law": fisher_law(name)["leading"]}


def test_reregistering_an_architecture_changes_every_derived_result():
    register_architecture(Architecture("cache-test", (Dense(2), ReLU())))
    before = _everything("cache-test")
    register_architecture(Architecture("cache-test", Residual(Dense(2), ReLU(), Dense(1))),
                          replace=True)
    after = _everything("cache-test")
    for key in before:
        assert before[key] != after[key], key
    assert math.isclose(after["step"], float(numeric_maps("cache-test").step(1.0, 0)))
