"""The paper's metrics, the precision = recall threshold and confused pairs, on hand-computed cases."""

import numpy as np
import pytest

from hyperspy_eelsid.elements import ELEMENTS
from hyperspy_eelsid.evaluation import (
    confused_pairs,
    counts_at_thresholds,
    element_counts,
    evaluate_predictions,
    exact_match_rate,
    micro_scores,
    rmse,
    threshold_at_equal_precision_recall,
    weighted_scores,
)

# 4 spectra x 3 elements; per element (TP, FP, FN): (2, 0, 1), (1, 0, 1), (1, 1, 0)
Y_TRUE = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [1, 0, 0]])
Y_PRED = np.array([[1, 0, 0], [1, 0, 1], [0, 1, 1], [0, 0, 0]])


def test_counts_per_element():
    c = element_counts(Y_TRUE, Y_PRED)
    np.testing.assert_array_equal(c.tp, [2, 1, 1])
    np.testing.assert_array_equal(c.fp, [0, 0, 1])
    np.testing.assert_array_equal(c.fn, [1, 1, 0])
    np.testing.assert_array_equal(c.support, [3, 2, 1])


def test_scores_are_weighted_by_element_occurrence():
    w = weighted_scores(element_counts(Y_TRUE, Y_PRED))
    # P_k = (1, 1, 1/2), R_k = (2/3, 1/2, 1), F1_k = (4/5, 2/3, 2/3), weights (3, 2, 1) / 6
    assert w["precision"] == pytest.approx(5.5 / 6)
    assert w["recall"] == pytest.approx(4 / 6)
    assert w["f1"] == pytest.approx(4.4 / 6)
    # weighted F1 is not the harmonic mean of weighted P and R (the paper's remark)
    assert w["f1"] != pytest.approx(2 * w["precision"] * w["recall"] / (w["precision"] + w["recall"]))


def test_micro_scores():
    m = micro_scores(element_counts(Y_TRUE, Y_PRED))
    assert m["precision"] == pytest.approx(4 / 5)
    assert m["recall"] == pytest.approx(4 / 6)
    assert m["f1"] == pytest.approx(2 * 0.8 * (4 / 6) / (0.8 + 4 / 6))


def test_exact_match_rate_and_ignore_mask():
    assert exact_match_rate(Y_TRUE, Y_PRED) == pytest.approx(0.25)
    ignore = np.zeros_like(Y_TRUE, dtype=bool)
    ignore[1, 2] = True  # the only false positive is left out
    assert exact_match_rate(Y_TRUE, Y_PRED, ignore) == pytest.approx(0.5)
    w = weighted_scores(element_counts(Y_TRUE, Y_PRED, ignore))
    assert w["precision"] == pytest.approx(1.0)
    # a per-element mask (e.g. carbon) applies to every spectrum
    per_element = np.array([True, False, False])
    c = element_counts(Y_TRUE, Y_PRED, per_element)
    np.testing.assert_array_equal(c.support, [0, 2, 1])


def test_rmse_of_probabilities_with_ignore():
    y = np.array([[1, 0]])
    p = np.array([[0.8, 0.4]])
    assert rmse(y, p) == pytest.approx(np.sqrt(0.1))
    assert rmse(y, p, ignore=np.array([[False, True]])) == pytest.approx(0.2)


def test_threshold_where_precision_equals_recall():
    # one element: P=R=1/2 for thresholds in (0.4, 0.6], elsewhere P != R
    y = np.array([[1], [1], [0], [0]])
    p = np.array([[0.9], [0.4], [0.6], [0.1]])
    best = threshold_at_equal_precision_recall(y, p)
    assert best["threshold"] == pytest.approx(0.401)
    assert best["precision"] == pytest.approx(0.5) and best["recall"] == pytest.approx(0.5)


def test_threshold_ignores_thresholds_that_find_nothing():
    rng = np.random.default_rng(0)
    y = rng.random((200, 6)) < 0.3
    p = np.clip(0.6 * y + 0.5 * rng.random(y.shape), 0, 1)  # good but imperfect model
    best = threshold_at_equal_precision_recall(y, p)
    assert best["recall"] > 0.5
    assert abs(best["precision"] - best["recall"]) < 0.05


def test_counts_at_thresholds_match_brute_force():
    rng = np.random.default_rng(1)
    y = rng.random((50, 4)) < 0.4
    p = rng.random((50, 4))
    ignore = rng.random((50, 4)) < 0.1
    thr = np.array([0.05, 0.3, 0.5, 0.77, 0.99])
    many = counts_at_thresholds(y, p, thr, ignore)
    for j, t in enumerate(thr):
        one = element_counts(y, p >= t, ignore)
        for name in ("tp", "fp", "fn", "tn"):
            np.testing.assert_array_equal(getattr(many, name)[j], getattr(one, name))


def test_evaluate_predictions_reports_everything():
    prob = np.where(Y_PRED == 1, 0.9, 0.1)
    m = evaluate_predictions(Y_TRUE, prob, threshold=0.5, elements=["Ce", "Pr", "Nd"])
    assert m["f1"] == pytest.approx(4.4 / 6)
    assert m["emr"] == pytest.approx(0.25)
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean((prob - Y_TRUE) ** 2)))
    assert m["n_occurrences"] == 6
    assert m["per_element"]["Nd"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3),
                                     "support": 1, "predicted": 2}


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="differ in shape"):
        element_counts(Y_TRUE, Y_PRED[:, :2])
    with pytest.raises(ValueError, match="ignore"):
        element_counts(Y_TRUE, Y_PRED, np.zeros((2, 2), bool))


def test_confused_pairs_count_false_positive_false_negative_pairs():
    y = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0]])
    pred = np.array([[0, 1, 0], [0, 1, 0], [1, 1, 0]])
    pairs = confused_pairs(y, pred, elements=["Ce", "Pr", "Nd"])
    assert pairs == [{"predicted": "Pr", "missed": "Ce", "count": 2}]
    ignore = np.array([[False, True, False]] * 3)
    assert confused_pairs(y, pred, ignore=ignore, elements=["Ce", "Pr", "Nd"]) == []


def test_default_element_names_are_the_network_order():
    y = np.zeros((1, 80))
    y[0, ELEMENTS.index("Fe")] = 1
    pred = np.zeros((1, 80))
    pred[0, ELEMENTS.index("Co")] = 1
    assert confused_pairs(y, pred) == [{"predicted": "Co", "missed": "Fe", "count": 1}]
    assert set(evaluate_predictions(y, pred, 0.5)["per_element"]) == {"Fe", "Co"}


def test_benchmark_labels_and_report():
    from hyperspy_eelsid.evaluation import benchmark_report, label_arrays

    entries = [{"present": ["Al"], "ignore": ["C"]},
               {"present": ["Ba", "Ti", "O"], "ignore": ["Sr", "H"]}]  # H is outside Be..Bi
    y, ignore = label_arrays(entries)
    assert y.sum() == 4 and y[1, ELEMENTS.index("Ti")] == 1
    assert ignore[:, ELEMENTS.index("C")].all() and ignore[1, ELEMENTS.index("Sr")]
    assert not ignore[0, ELEMENTS.index("Sr")]
    prob = np.where(y == 1, 0.9, 0.05)
    prob[:, ELEMENTS.index("C")] = 0.99  # carbon everywhere: ignored, costs nothing
    prob[1, ELEMENTS.index("La")] = 0.8  # a real false positive (La next to Ba)
    report = benchmark_report(y, prob, ignore, threshold=0.5)
    assert report["recall"] == 1.0 and report["emr"] == 0.5
    assert report["confused_pairs"] == []  # a false positive without a miss pairs with nothing
    assert report["micro_precision"] == pytest.approx(4 / 5)
    assert benchmark_report(y, prob, ignore)["threshold_chosen_on_this_set"] is True


def test_leave_one_out_scores_each_spectrum_at_a_threshold_chosen_without_it():
    from hyperspy_eelsid.evaluation import leave_one_out_report

    rng = np.random.default_rng(0)
    y = (rng.random((12, 5)) < 0.4).astype(int)
    prob = np.clip(0.5 * y + 0.5 * rng.random((12, 5)), 0, 1)
    report = leave_one_out_report(y, prob)
    assert len(report["thresholds"]) == 12
    decided = np.empty_like(prob, dtype=bool)
    for i in range(12):
        rest = np.arange(12) != i
        t = threshold_at_equal_precision_recall(y[rest], prob[rest])["threshold"]
        assert report["thresholds"][i] == t  # spectrum i never takes part in its own threshold
        decided[i] = prob[i] >= t
    expected = evaluate_predictions(y, decided.astype(float), 0.5)
    assert report["f1"] == pytest.approx(expected["f1"]) and report["emr"] == pytest.approx(expected["emr"])
    assert report["rmse"] == pytest.approx(rmse(y, prob))  # from the probabilities, not the decisions
    with pytest.raises(ValueError, match="at least 2"):
        leave_one_out_report(y[:1], prob[:1])


# ---------------------------------------------------------------- bootstrap intervals

def _random_set(n=60, k=12, seed=3):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, k)) < 0.2).astype(np.uint8)
    flip = rng.random((n, k)) < 0.08
    pred = np.where(flip, 1 - y, y)
    ignore = rng.random((n, k)) < 0.05
    return y, pred, ignore


def test_resampled_scores_with_unit_weights_are_the_paper_figures():
    from hyperspy_eelsid.evaluation import resampled_scores

    y, pred, ignore = _random_set()
    ref = evaluate_predictions(y, pred.astype(float), 0.5, ignore, elements=[str(i) for i in range(12)])
    got = resampled_scores(y, pred, np.ones(len(y)), ignore)
    for key in ("precision", "recall", "f1", "micro_f1", "emr"):
        assert got[key].shape == (1,)
        assert got[key][0] == pytest.approx(ref[key], abs=1e-12), key


def test_resampled_scores_count_a_spectrum_as_often_as_it_is_drawn():
    from hyperspy_eelsid.evaluation import resampled_scores

    y, pred, ignore = _random_set(n=20)
    w = np.bincount([0, 3, 3, 7, 7, 7, 19], minlength=20)
    idx = np.repeat(np.arange(20), w)
    ref = evaluate_predictions(y[idx], pred[idx].astype(float), 0.5, ignore[idx], elements=[str(i) for i in range(12)])
    got = resampled_scores(y, pred, w, ignore)
    for key in ("precision", "recall", "f1", "micro_f1", "emr"):
        assert got[key][0] == pytest.approx(ref[key], abs=1e-12), key


def test_bootstrap_interval_holds_the_figure_and_narrows_with_more_spectra():
    from hyperspy_eelsid.evaluation import bootstrap_scores

    y, pred, ignore = _random_set(n=400)
    small = bootstrap_scores(y[:40], pred[:40], ignore[:40], n_resamples=2000, seed=1)
    large = bootstrap_scores(y, pred, ignore, n_resamples=2000, seed=1)
    for r in (small, large):
        for key, v in r.items():
            assert v["low"] <= v["value"] <= v["high"], key
    width = lambda r, k: r[k]["high"] - r[k]["low"]  # noqa: E731
    assert width(large, "f1") < 0.6 * width(small, "f1")
    assert width(large, "emr") < 0.6 * width(small, "emr")
    assert bootstrap_scores(y[:40], pred[:40], ignore[:40], n_resamples=2000, seed=1) == small  # same seed


def test_paired_bootstrap_tells_a_better_model_from_an_equal_one():
    from hyperspy_eelsid.evaluation import paired_bootstrap

    y, pred, ignore = _random_set(n=80)
    same = paired_bootstrap(y, pred, pred.copy(), ignore, n_resamples=1000)
    for v in same.values():
        assert v["difference"] == 0 and v["low"] == 0 and v["high"] == 0 and v["b_better"] == 0
    better = pred.copy()
    better[:40] = y[:40]  # b fixes the errors of half the spectra
    r = paired_bootstrap(y, pred, better, ignore, n_resamples=1000)
    assert r["f1"]["difference"] > 0 and r["f1"]["low"] > 0 and r["f1"]["b_better"] > 0.99
    assert r["emr"]["b"] > r["emr"]["a"] and r["emr"]["low"] > 0


def test_bootstrap_bad_input_says_what_is_wrong():
    from hyperspy_eelsid.evaluation import bootstrap_scores, resampled_scores

    y, pred, ignore = _random_set(n=10)
    with pytest.raises(ValueError, match="at least 2 spectra"):
        bootstrap_scores(y[:1], pred[:1])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_scores(y, pred, confidence=95)
    with pytest.raises(ValueError, match="do not fit"):
        resampled_scores(y, pred, np.ones(9))
    with pytest.raises(ValueError, match="non-negative"):
        resampled_scores(y, pred, -np.ones(10))
