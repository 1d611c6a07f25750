"""benchmarks/member_weights.py: weighted means of two members and the P = R threshold."""

import numpy as np
import pytest

from .conftest import load_script

mw = load_script("benchmarks/member_weights.py")


def test_combine_weights_probabilities_and_logits():
    a, b = np.array([[0.9, 0.2]]), np.array([[0.5, 0.6]])
    np.testing.assert_allclose(mw.combine(a, b, 0.5, "mean"), [[0.7, 0.4]])
    np.testing.assert_allclose(mw.combine(a, b, 1.0, "logit"), a, rtol=1e-6)
    # equal logits' mean of 0.9 and 0.1 is 0.5; a weight towards 0.9 moves above it
    assert mw.combine(np.array([0.9]), np.array([0.1]), 0.5, "logit")[0] == pytest.approx(0.5)
    assert mw.combine(np.array([0.9]), np.array([0.1]), 0.7, "logit")[0] > 0.5


def test_equal_precision_recall_threshold():
    rng = np.random.default_rng(0)
    y = rng.random((400, 80)) < 0.05
    p = np.where(y, rng.uniform(0.4, 1.0, y.shape), rng.uniform(0.0, 0.6, y.shape))
    t = mw.equal_precision_recall(y, p)
    assert 0.4 <= t <= 0.6  # where the two score distributions overlap
