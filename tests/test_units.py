"""anglefish.units: unit descriptions, the executors, and the same numbers for any number of workers."""
import dataclasses
import json

import numpy as np
import pytest

from anglefish.errors import AnglefishError
from anglefish.units import Plan, blocks, make_executor, reusing, run_units, unit


#: wall-clock times carried in results (how long a simulation took): the only fields allowed to differ
TIMINGS = ("elapsed_s", "simulation_s")


def _same(a, b):
    """Exact equality of nested results (arrays bit for bit, NaN equal to NaN), wall-clock times
    (:data:`TIMINGS`) apart."""
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b)
        _same(vars(a), vars(b))
    elif isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            if k not in TIMINGS:
                _same(a[k], b[k])
    elif isinstance(a, (list, tuple)) and not isinstance(a, str):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, (np.ndarray, float, np.floating)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    else:
        assert a == b


def test_units_are_json_descriptions_of_anglefish_functions():
    from anglefish.verify.work import mc_unit

    u = mc_unit("resnet", 3, 1.0, 64, 8, 5, "claims", "resnet", 3, 1.0)
    payload = json.loads(u.payload())
    assert payload["function"] == "anglefish.verify.work:monte_carlo"
    assert payload["kwargs"]["labels"] == ["claims", "resnet", 3, 1.0]
    with pytest.raises(AnglefishError, match="JSON-able"):
        unit("anglefish.verify.work:monte_carlo", arch=object())
    with pytest.raises(AnglefishError, match="module-level"):
        unit(lambda: 1)
    with pytest.raises(AnglefishError, match="belong to anglefish"):
        run_units([unit("os:getcwd")], workers=1)
    with pytest.raises(AnglefishError, match="workers"):
        make_executor(0)


def test_blocks_cover_every_index_once():
    for count in (1, 5, 64):
        for workers in (1, 2, 3):
            parts = blocks(count, workers)
            assert [i for a, b in parts for i in range(a, b)] == list(range(count))
    assert blocks(10, 1) == [(0, 10)]


def test_identical_units_run_once_and_reuse_is_strict():
    from anglefish.verify.work import mc_unit

    u = mc_unit("mlp", 2, 1.0, 16, 4, 0, "test")
    seconds = {}
    a, b = run_units([u, u], workers=1, seconds=seconds)
    _same(a, b)
    assert seconds[1] == 0.0 and a is not b
    results = Plan().add([u]).run(workers=1)
    with reusing(results, strict=True):
        _same(run_units([u])[0], a)
        with pytest.raises(AnglefishError, match="not in the plan"):
            run_units([mc_unit("mlp", 2, 1.0, 16, 4, 1, "test")])


def test_seed_blocks_give_the_networks_of_one_run():
    """Splitting networks into blocks (in this process) changes no number: network s draws from
    generator s alone, and nothing in a block mixes networks."""
    from anglefish.numeric.angles import seed_block
    from anglefish.numeric.fisher import network_grams

    whole = seed_block("resnet-bn", 6, 0.7, 32, 3, 0, 6, batch=4)
    parts = [seed_block("resnet-bn", 6, 0.7, 32, 3, a, b, batch=4) for a, b in ((0, 1), (1, 4), (4, 6))]
    np.testing.assert_array_equal(whole.pair_gram, np.concatenate([p.pair_gram for p in parts], axis=1))
    np.testing.assert_array_equal(whole.log_scale, np.concatenate([p.log_scale for p in parts], axis=1))
    whole = network_grams("resnet", 3, 24, 6, 2, 0, 5)
    parts = [network_grams("resnet", 3, 24, 6, 2, a, b) for a, b in ((0, 2), (2, 5))]
    np.testing.assert_array_equal(whole["grams"], np.concatenate([p["grams"] for p in parts]))


def test_same_numbers_for_one_and_two_workers():
    """A small verify subset (Monte Carlo pairs of the contract suite and the calibration, a Fisher
    dense run) and the seed blocks of angles, fisher and lr give identical numbers in this process
    (K = 1) and on a pool of two worker processes (K = 2)."""
    from anglefish.numeric.angles import angle_table
    from anglefish.numeric.fisher import fisher_spectrum
    from anglefish.numeric.training import learning_rate_thresholds
    from anglefish.verify.work import fisher_unit, mc_unit

    units = [mc_unit(a, d, t, 64, 16, 7, "contracts", a, d, t) for a in ("mlp", "resnet-bn") for d, t in
             ((1, 0.4), (5, 1.0))] + [fisher_unit("resnet", 2, 32, 8, 4, 7)]
    from anglefish import units as units_module

    one, two = run_units(units, workers=1), run_units(units, workers=2)
    assert units_module._POOL["key"][0] == 2  # the second run went to a pool of two processes
    _same(one, two)
    _same(angle_table("resnet", 4, 1.0, 32, 12, seed=3, workers=1),
          angle_table("resnet", 4, 1.0, 32, 12, seed=3, workers=2))
    _same(fisher_spectrum("mlp", 3, 32, 8, 6, seed=2, workers=1),
          fisher_spectrum("mlp", 3, 32, 8, 6, seed=2, workers=2))
    _same(learning_rate_thresholds("resnet", 2, 16, 8, inits=3, seed=1, steps=10, workers=1),
          learning_rate_thresholds("resnet", 2, 16, 8, inits=3, seed=1, steps=10, workers=2))


def test_an_architecture_registered_in_process_is_refused_by_workers_not_replaced():
    """Workers rebuild the registries from the --arch-file paths and plugins; an architecture
    registered in the calling process only is one line (run it with workers=1), not another network."""
    from anglefish.numeric.fisher import fisher_spectrum
    from anglefish.theory import Architecture, Dense, ReLU, Residual, register_architecture, unregister_architecture

    register_architecture(Architecture("test-units-resnet", Residual(Dense(2), ReLU(), Dense(0.5))))
    try:
        with pytest.raises(AnglefishError, match="registered in the calling process"):
            fisher_spectrum("test-units-resnet", 2, 16, 4, 4, workers=2)
        assert fisher_spectrum("test-units-resnet", 2, 16, 4, 4, workers=1)["n_params"] > 0
    finally:
        unregister_architecture("test-units-resnet")


def test_figures_are_the_same_for_one_and_two_workers(tmp_path):
    """figF2 split into one unit per initialisation and fig04 as one whole-figure unit: the same CSV
    in this process and on two worker processes."""
    from anglefish.paper_figures import render

    options = {"figF2": {"depths": [1, 3], "seeds": 2, "width": 16, "samples": 8, "steps": 10},
               "fig04": {"width": 32, "seeds": 8}}
    out = {}
    for k in (1, 2):
        paths = render(["figF2", "fig04"], tmp_path / f"k{k}", quick=True, seed=4, formats=(), options=options,
                       workers=k)
        out[k] = {p.name: p.read_bytes() for p in paths if p.suffix == ".csv"}
    assert len(out[1]) == 2 and out[1] == out[2]


def test_stopping_early_cancels_the_units_and_ends_the_workers():
    """What Ctrl-C does to a run: the stream is left early (here: closed after the first result),
    the units not finished are cancelled and the worker processes end."""
    from anglefish import units as units_module
    from anglefish.units import iterate_units
    from anglefish.verify.work import mc_unit

    stream = iterate_units([mc_unit("mlp", 3, 1.0, 64, 32, s, "stop") for s in range(8)], workers=2)
    next(stream)
    pool = units_module._POOL["pool"]
    processes = list(pool._processes.values())
    stream.close()
    assert "pool" not in units_module._POOL
    assert processes and not any(p.is_alive() for p in processes)


def test_an_installed_executor_takes_every_run_and_changes_no_number():
    """``using(executor)`` is where another backend plugs in: the runs of a whole command go to it (here
    a recording in-process executor claiming 3 workers, so the networks are split into blocks)."""
    from anglefish.numeric.fisher import fisher_spectrum
    from anglefish.units import Executor, execute, using

    class Recording(Executor):
        workers = 3

        def __init__(self):
            self.seen = []

        def stream(self, jobs, context):
            for index, payload in jobs:
                self.seen.append(json.loads(payload)["function"])
                yield index, execute(payload, context.to_json())  # as a remote worker would

    plain = fisher_spectrum("mlp", 2, 16, 4, 7, seed=5, workers=1)
    recording = Recording()
    with using(recording):
        routed = fisher_spectrum("mlp", 2, 16, 4, 7, seed=5, workers=1)
    assert len(recording.seen) == 6 and set(recording.seen) == {"anglefish.numeric.fisher:network_grams"}
    _same(plain, routed)
