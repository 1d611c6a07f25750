"""Evaluation of element identification: the paper's metrics, threshold choice, confusions,
bootstrap intervals.

numpy only (no torch, no HyperSpy), so it serves the training loop, the
benchmark report and the front end alike.
"""

from hyperspy_eelsid.evaluation.benchmark import benchmark_report, label_arrays, leave_one_out_report, read_manifest
from hyperspy_eelsid.evaluation.confusion import confused_pairs
from hyperspy_eelsid.evaluation.metrics import (
    SUMMARY_KEYS,
    ElementCounts,
    element_counts,
    evaluate_predictions,
    exact_match_rate,
    micro_scores,
    per_element_scores,
    rmse,
    summary,
    weighted_scores,
)
from hyperspy_eelsid.evaluation.uncertainty import (
    UNCERTAINTY_KEYS,
    bootstrap_scores,
    paired_bootstrap,
    resampled_scores,
)
from hyperspy_eelsid.evaluation.threshold import (
    counts_at_thresholds,
    precision_recall_curve,
    threshold_at_equal_precision_recall,
)

__all__ = [
    "SUMMARY_KEYS",
    "UNCERTAINTY_KEYS",
    "ElementCounts",
    "benchmark_report",
    "bootstrap_scores",
    "read_manifest",
    "confused_pairs",
    "counts_at_thresholds",
    "element_counts",
    "evaluate_predictions",
    "exact_match_rate",
    "label_arrays",
    "leave_one_out_report",
    "micro_scores",
    "paired_bootstrap",
    "per_element_scores",
    "precision_recall_curve",
    "resampled_scores",
    "rmse",
    "summary",
    "threshold_at_equal_precision_recall",
    "weighted_scores",
]
