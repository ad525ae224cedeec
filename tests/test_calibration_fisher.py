"""The calibration's derivative-kernel mutants: judged on projected networks in verify --full, on the
contract's own dense networks in verify --quick; the contract suite's Fisher checks stay on dense ones."""
import numpy as np
import pytest

from anglefish.errors import AnglefishError
from anglefish.theory.architectures import get_architecture
from anglefish.verify.calibration import DK_SCALES, _fisher_units, fisher_mutant_rows
from anglefish.verify.contracts import _projected_grams, fisher_mc, fisher_vs_dense
from anglefish.verify.report import FULL, QUICK, _fisher_networks, contract_units
from anglefish.verify.tolerance import DEFAULT_ALPHA

TINY = dict(depths=(2,), width=16, samples=4, seeds=8, sampler="projected")


def _fisher(units):
    return [u for u in units if u.function.endswith(":fisher_mc")]


def test_full_calibration_uses_the_projected_sampler_and_the_contract_stays_dense():
    cal = _fisher_units(("mlp", "resnet", "resnet-bn"), FULL.calibration_fisher, 0)
    assert len(cal) == 3 and {u.kwargs["sampler"] for u in cal} == {"projected"}
    assert {u.kwargs["sampler"] for u in _fisher(contract_units(FULL, 0))} == {"dense"}
    assert "projected sampler" in _fisher_networks(FULL.calibration_fisher)
    # quick: the calibration's Fisher units are the contract's own (the same payloads: simulated once)
    quick_cal = {u.payload() for u in _fisher_units(("mlp", "resnet", "resnet-bn"), QUICK.calibration_fisher, 0)}
    assert quick_cal <= {u.payload() for u in _fisher(contract_units(QUICK, 0))}
    assert _fisher_networks(QUICK.calibration_fisher) == "dense networks"


def test_fisher_mutant_rows_on_projected_networks_name_their_sampler():
    rows, null = fisher_mutant_rows(("mlp",), TINY, seed=0, alpha=DEFAULT_ALPHA)
    assert [r["mutant"] for r in rows] == [f"derivative kernel x {s:g}" for s in DK_SCALES]
    for r in rows:
        assert r["family"] == "fisher" and r["sampler"] == "projected" and isinstance(r["caught"], bool)
        assert all(c.endswith("_vs_projected (L=2)") for c in r["failed_checks"])
        assert r["caught"] == bool(r["failed_checks"])
    assert len(null) == 3 and all(o.id.endswith("_vs_projected") and o.details["sampler"] == "projected"
                                  for o in null)


def test_projected_and_dense_fisher_networks_are_separate_streams_and_cache_entries():
    config = dict(depth=2, width=16, samples=4, seeds=8, seed=0)
    projected, dense = fisher_mc("mlp", **config, sampler="projected"), fisher_mc("mlp", **config)
    assert {row["sampler"] for row in projected.values()} == {"projected"}
    assert {row["sampler"] for row in dense.values()} == {"dense"}
    assert projected[16, "all"]["lambda_max"] != dense[16, "all"]["lambda_max"]
    with pytest.raises(AnglefishError, match="judged as dense"):
        fisher_vs_dense("mlp", **config, mc=projected)
    with pytest.raises(AnglefishError, match="sampler"):
        fisher_mc("mlp", **config, sampler="gram")


def test_projected_subsets_are_computed_on_the_same_networks():
    """Each subset's pass replays the network's own generator: the blocks' Grams and the readout's of
    one network add up to its whole Gram (they would not if each subset drew other networks)."""
    subsets = ["all", "layer:0", "layer:1", "layer:2", "layer:readout"]
    grams, n_params = _projected_grams(get_architecture("resnet"), 3, 16, 4, 6, 1, subsets)
    np.testing.assert_allclose(sum(grams[s] for s in subsets[1:]), grams["all"], rtol=1e-10)
    assert n_params["all"] == sum(n_params[s] for s in subsets[1:])


def test_the_calibration_report_names_the_networks_of_its_fisher_mutants():
    """End to end on a tiny calibration: the Fisher family says its sampler, and report.md's calibration
    lines name the projected sampler and never claim dense networks for the mutants."""
    from anglefish.verify.calibration import calibrate
    from anglefish.verify.report import _calibration_section

    cal = calibrate(architectures=("mlp",), width=32, seeds=16, repeats=1, fisher=TINY).as_dict()
    assert cal["families"]["fisher"]["sampler"] == "projected" and cal["families"]["fisher"]["checks_run"] == 3
    assert sum(r["family"] == "fisher" for r in cal["mutants"]) == len(DK_SCALES)
    line = next(x for x in _calibration_section(cal) if x.startswith("- Derivative-kernel mutants"))
    assert "projected sampler" in line and "on dense networks" not in line
