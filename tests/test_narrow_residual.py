"""Residual blocks at widths below twice the batch: the Gram sampler's Wishart draw is singular
there (Bartlett's decomposition needs dof >= batch) and is drawn as G^T G instead.  Held against
the dense simulator by the contract's KS tests (false-alarm rate alpha = 1e-3 per check,
Bonferroni over depths and Gram entries)."""
import pytest

from anglefish.verify.contracts import gram_vs_dense


@pytest.mark.parametrize("width", [2, 3])
@pytest.mark.parametrize("arch", ["resnet", "resnet-bn"])
def test_gram_sampler_matches_dense_at_tiny_width(arch, width):
    outcome = gram_vs_dense(arch, depth=3, width=width, seeds=1500, seed=1)
    assert outcome.passed, outcome.as_dict()
