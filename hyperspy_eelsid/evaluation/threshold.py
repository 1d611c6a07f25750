"""Choice of the decision threshold: where precision equals recall.

The paper applies, on test data, the threshold that minimises the difference
between precision and recall on validation data.
"""

from __future__ import annotations

import numpy as np

from hyperspy_eelsid.evaluation.metrics import (
    ElementCounts,
    _as_2d,
    _check_shapes,
    _keep_mask,
    micro_scores,
    weighted_scores,
)

__all__ = ["counts_at_thresholds", "precision_recall_curve", "threshold_at_equal_precision_recall"]


def counts_at_thresholds(y_true, y_prob, thresholds, ignore=None) -> ElementCounts:
    """Per-element counts for many thresholds at once.

    Prediction is ``y_prob >= threshold``. Cost ``O(N K + T K)`` (one pass
    over the data), so fine grids on large validation sets are cheap.

    Parameters
    ----------
    y_true, y_prob : array_like
        ``(N, K)`` labels and probabilities.
    thresholds : array_like
        ``(T,)`` thresholds, increasing.
    ignore : array_like of bool, optional
        ``(N, K)`` or ``(K,)``; ``True`` entries are left out.

    Returns
    -------
    ElementCounts
        Arrays of shape ``(T, K)``.
    """
    t = _as_2d(y_true, "y_true").astype(bool)
    p = _as_2d(y_prob, "y_prob", np.float64)
    _check_shapes(t, p)
    thr = np.asarray(thresholds, dtype=np.float64)
    if thr.ndim != 1 or np.any(np.diff(thr) <= 0):
        raise ValueError("thresholds must be a strictly increasing 1-D sequence")
    keep = _keep_mask(ignore, t.shape)
    n_thr, n_el = thr.size, t.shape[1]
    # level[i, k] = number of thresholds <= p[i, k]; entry counts as predicted for thresholds j < level
    level = np.searchsorted(thr, p, side="right")
    col = np.broadcast_to(np.arange(n_el), t.shape)

    def at_least(mask):
        hist = np.zeros((n_thr + 1, n_el), dtype=np.int64)
        np.add.at(hist, (level[mask], col[mask]), 1)
        # predicted at threshold j <=> level > j: reverse cumulative sum over levels j+1..T
        return np.cumsum(hist[::-1], axis=0)[::-1][1:]

    pos, neg = t & keep, ~t & keep
    tp, fp = at_least(pos), at_least(neg)
    n_pos, n_neg = pos.sum(axis=0), neg.sum(axis=0)
    return ElementCounts(tp=tp, fp=fp, fn=n_pos - tp, tn=n_neg - fp)


def _row(counts: ElementCounts, j: int) -> ElementCounts:
    return ElementCounts(counts.tp[j], counts.fp[j], counts.fn[j], counts.tn[j])


def precision_recall_curve(y_true, y_prob, thresholds=None, ignore=None,
                           average: str = "weighted") -> dict:
    """Precision, recall and F1 as functions of the threshold.

    Parameters
    ----------
    y_true, y_prob : array_like
        ``(N, K)`` labels and probabilities.
    thresholds : array_like, optional
        Increasing thresholds; default 0.001 .. 0.999 in steps of 0.001.
    ignore : array_like of bool, optional
        Entries to leave out.
    average : {"weighted", "micro"}
        Averaging of precision/recall/F1 over elements.

    Returns
    -------
    dict of numpy.ndarray
        ``threshold``, ``precision``, ``recall``, ``f1``, each ``(T,)``.
    """
    if average not in ("weighted", "micro"):
        raise ValueError(f"average must be 'weighted' or 'micro', got {average!r}")
    thr = np.arange(1, 1000) / 1000.0 if thresholds is None else np.asarray(thresholds, float)
    counts = counts_at_thresholds(y_true, y_prob, thr, ignore)
    score = weighted_scores if average == "weighted" else micro_scores
    rows = [score(_row(counts, j)) for j in range(thr.size)]
    return {"threshold": thr, **{k: np.array([r[k] for r in rows]) for k in ("precision", "recall", "f1")}}


def threshold_at_equal_precision_recall(y_true, y_prob, thresholds=None, ignore=None,
                                        average: str = "weighted") -> dict:
    """The threshold where precision and recall are closest (the paper's choice).

    Thresholds at which no true element is found (recall 0, where precision
    and recall are trivially equal) are excluded. Among thresholds with the
    same smallest ``|precision - recall|`` the one with the highest F1 is
    taken (then the lowest threshold).

    Parameters
    ----------
    y_true, y_prob : array_like
        ``(N, K)`` validation labels and probabilities.
    thresholds : array_like, optional
        Candidate thresholds, increasing; default 0.001 .. 0.999 by 0.001.
    ignore : array_like of bool, optional
        Entries to leave out (carbon and benchmark ``ignore`` elements).
    average : {"weighted", "micro"}
        Which precision and recall to equalise (the paper reports weighted).

    Returns
    -------
    dict
        ``threshold``, ``precision``, ``recall``, ``f1`` at that threshold.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[1, 0], [0, 1], [1, 1]])
    >>> p = np.array([[0.9, 0.2], [0.6, 0.7], [0.8, 0.3]])
    >>> best = threshold_at_equal_precision_recall(y, p)
    >>> best["threshold"], best["precision"], best["recall"]
    (0.701, 0.5, 0.5)
    """
    curve = precision_recall_curve(y_true, y_prob, thresholds, ignore, average)
    gap = np.abs(curve["precision"] - curve["recall"])
    # thresholds so high that nothing true is found have P = R = 0: not a solution
    gap = np.where(curve["recall"] > 0, gap, np.inf) if np.any(curve["recall"] > 0) else gap
    best = np.flatnonzero(np.isclose(gap, gap.min(), rtol=0, atol=1e-12))
    j = best[np.argmax(curve["f1"][best])]
    return {k: float(curve[k][j]) for k in ("threshold", "precision", "recall", "f1")}
