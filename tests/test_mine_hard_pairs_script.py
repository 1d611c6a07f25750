"""scripts/mine_hard_pairs.py: which element pairs a model confuses."""

import numpy as np

from .conftest import load_script


def test_pairs_count_false_positives_next_to_present_elements_in_either_order():
    script = load_script("scripts/mine_hard_pairs.py")
    elements = ["N", "O", "Sc"]
    y_true = np.array([[0, 0, 1], [0, 0, 1], [1, 0, 0], [1, 1, 0]])
    y_pred = np.array([[1, 0, 1], [1, 0, 0], [1, 0, 1], [1, 1, 0]])
    # Sc present with a false N (twice), N present with a false Sc (once); the last spectrum is right
    assert script.pair_counts(y_true, y_pred, elements) == {"N-Sc": 3}
    # a false O next to N and Sc in one spectrum counts for both pairs
    y_pred2 = np.array([[0, 1, 1], [0, 0, 1], [1, 0, 0], [1, 1, 0]])
    y_true2 = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 0], [1, 1, 0]])
    assert script.pair_counts(y_true2, y_pred2, elements) == {"N-O": 1, "O-Sc": 1}
