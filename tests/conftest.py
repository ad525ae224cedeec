import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

# A fresh disk cache of derivations (anglefish/theory/cache.py) for this test session, shared with
# the CLI subprocesses the tests start (they inherit the environment) and removed at exit: no test
# reads a result that an earlier run or the user's own cache left behind.
# Under pytest-xdist the controller makes the directory and removes it at its exit; its workers
# inherit it (they start after this file is loaded), so a derivation one worker made is read by the other.
if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("ANGLEFISH_TEST_SESSION_CACHE"):
    _CACHE_DIR = os.environ["ANGLEFISH_TEST_SESSION_CACHE"]
else:
    _CACHE_DIR = tempfile.mkdtemp(prefix="anglefish-test-cache-")
    os.environ["ANGLEFISH_TEST_SESSION_CACHE"] = _CACHE_DIR
    atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)
os.environ["ANGLEFISH_CACHE_DIR"] = _CACHE_DIR

# 'ci': derandomized and bounded, so CI is reproducible and quick; 'dev': more examples.
settings.register_profile("ci", derandomize=True, max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


import pytest


@pytest.fixture(autouse=True)
def _isolated_registries():
    """Tests may register architectures, activations and blocks; restore the registries
    afterwards so that no test sees another's additions (e.g. in `anglefish list`)."""
    import sys

    import anglefish.theory  # noqa: F401  (loads the modules below)

    acts = sys.modules["anglefish.theory.activations"]
    archs = sys.modules["anglefish.theory.architectures"]
    blocks = sys.modules["anglefish.theory.blocks.base"]

    saved = (dict(archs._ARCHITECTURES), dict(acts._ACTIVATIONS), dict(blocks._BLOCK_TYPES))
    yield
    changed = False
    for registry, snapshot in zip((archs._ARCHITECTURES, acts._ACTIVATIONS, blocks._BLOCK_TYPES), saved):
        if registry != snapshot:
            changed = True
            registry.clear()
            registry.update(snapshot)
    if changed:
        from anglefish.theory.cache import clear_caches

        clear_caches()


@pytest.fixture(autouse=True)
def _restore_mpmath_precision():
    """A test may change mpmath's global working precision; restore it afterwards."""
    import mpmath

    dps = mpmath.mp.dps
    yield
    mpmath.mp.dps = dps


@pytest.fixture(scope="session")
def rendered_figures(tmp_path_factory):
    """Every registered figure rendered once in quick mode (seed 0), shared by the figure tests:
    (output directory, written paths)."""
    from anglefish.paper_figures import render

    out = tmp_path_factory.mktemp("figures")
    paths = render(None, out, quick=True, seed=0)
    return out, paths
