"""The paper's metrics for multi-label element identification.

All functions take

* ``y_true`` - ``(N, K)`` labels in {0, 1} (element present in spectrum),
* ``y_pred`` - ``(N, K)`` thresholded predictions in {0, 1}, or ``y_prob`` -
  ``(N, K)`` probabilities,
* ``ignore`` - optional ``(N, K)`` boolean mask, ``True`` where an entry must
  be left out (on real spectra: carbon, and each benchmark spectrum's
  ``ignore`` elements). A ``(K,)`` mask applies to every spectrum.

Definitions (only non-ignored entries count):

* per element ``k``: ``precision_k = TP_k / (TP_k + FP_k)``,
  ``recall_k = TP_k / (TP_k + FN_k)``, ``F1_k`` their harmonic mean
  (0 where undefined);
* **weighted** precision/recall/F1: average of the per-element values
  weighted by the element's occurrence ``support_k = TP_k + FN_k`` (elements
  that never occur get weight 0), so the weighted F1 need not lie between the
  weighted precision and recall;
* **micro** precision/recall/F1: from the counts summed over elements;
* **EMR** (exact match rate): fraction of spectra whose predicted set equals
  the true set on all non-ignored elements;
* **RMSE**: root mean square of ``y_prob - y_true`` over non-ignored entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ElementCounts",
    "element_counts",
    "per_element_scores",
    "weighted_scores",
    "micro_scores",
    "exact_match_rate",
    "rmse",
    "evaluate_predictions",
    "SUMMARY_KEYS",
    "summary",
]

SUMMARY_KEYS = ("threshold", "n_spectra", "precision", "recall", "f1", "micro_precision",
                "micro_recall", "micro_f1", "emr", "rmse")
"""The headline figures of :func:`evaluate_predictions` (what cards and reports show)."""


def _as_2d(a, name: str, dtype=None) -> np.ndarray:
    a = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a)
    if dtype is not None:
        a = a.astype(dtype, copy=False)
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2:
        raise ValueError(f"{name} must have shape (n_spectra, n_elements), got {a.shape}")
    return a


def _keep_mask(ignore, shape) -> np.ndarray:
    """Boolean (N, K) mask of the entries that count."""
    if ignore is None:
        return np.ones(shape, dtype=bool)
    ignore = np.asarray(ignore.detach().cpu() if hasattr(ignore, "detach") else ignore, dtype=bool)
    try:
        return ~np.broadcast_to(ignore, shape)
    except ValueError:
        raise ValueError(f"ignore of shape {ignore.shape} does not fit labels of shape {shape}") from None


def _check_shapes(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"labels {a.shape} and predictions {b.shape} differ in shape")


def _label_decision_keep(y_true, y_pred, ignore):
    """``(t, p, keep)``: labels and decisions as boolean ``(N, K)`` arrays of
    equal shape, and the mask of the entries that count."""
    t = _as_2d(y_true, "y_true").astype(bool)
    p = _as_2d(y_pred, "y_pred").astype(bool)
    _check_shapes(t, p)
    return t, p, _keep_mask(ignore, t.shape)


@dataclass(frozen=True)
class ElementCounts:
    """Per-element confusion counts, each of shape ``(K,)``."""

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray

    @property
    def support(self) -> np.ndarray:
        """Occurrences of each element (``TP + FN``)."""
        return self.tp + self.fn


def element_counts(y_true, y_pred, ignore=None) -> ElementCounts:
    """Per-element TP, FP, FN, TN over the non-ignored entries.

    Parameters
    ----------
    y_true, y_pred : array_like
        ``(N, K)`` in {0, 1}.
    ignore : array_like of bool, optional
        ``(N, K)`` or ``(K,)``; ``True`` entries are left out.
    """
    t, p, keep = _label_decision_keep(y_true, y_pred, ignore)
    return ElementCounts(
        tp=np.sum(t & p & keep, axis=0),
        fp=np.sum(~t & p & keep, axis=0),
        fn=np.sum(t & ~p & keep, axis=0),
        tn=np.sum(~t & ~p & keep, axis=0),
    )


def _ratio(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _f1(p, r):
    return _ratio(2 * p * r, p + r)


def per_element_scores(counts: ElementCounts) -> dict:
    """Per-element ``precision``, ``recall``, ``f1`` and ``support`` arrays ``(K,)``."""
    precision = _ratio(counts.tp, counts.tp + counts.fp)
    recall = _ratio(counts.tp, counts.support)
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall),
            "support": counts.support}


def weighted_scores(counts: ElementCounts) -> dict:
    """Precision, recall and F1 per element, averaged weighted by occurrence."""
    scores = per_element_scores(counts)
    w = counts.support.astype(float)
    total = w.sum()
    if total == 0:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    return {k: float(np.sum(scores[k] * w) / total) for k in ("precision", "recall", "f1")}


def micro_scores(counts: ElementCounts) -> dict:
    """Precision, recall and F1 from counts summed over all elements."""
    tp, fp, fn = counts.tp.sum(), counts.fp.sum(), counts.fn.sum()
    precision = float(_ratio(tp, tp + fp))
    recall = float(_ratio(tp, tp + fn))
    return {"precision": precision, "recall": recall, "f1": float(_f1(precision, recall))}


def exact_match_rate(y_true, y_pred, ignore=None) -> float:
    """Fraction of spectra whose non-ignored predictions all equal the labels."""
    t = _as_2d(y_true, "y_true").astype(bool)
    p = _as_2d(y_pred, "y_pred").astype(bool)
    _check_shapes(t, p)
    if t.shape[0] == 0:
        return 0.0
    keep = _keep_mask(ignore, t.shape)
    return float(np.mean(np.all((t == p) | ~keep, axis=1)))


def rmse(y_true, y_prob, ignore=None) -> float:
    """Root mean square error of the probabilities over non-ignored entries."""
    t = _as_2d(y_true, "y_true", np.float64)
    p = _as_2d(y_prob, "y_prob", np.float64)
    _check_shapes(t, p)
    keep = _keep_mask(ignore, t.shape)
    if not keep.any():
        return 0.0
    return float(np.sqrt(np.mean((p - t)[keep] ** 2)))


def evaluate_predictions(y_true, y_prob, threshold: float = 0.5, ignore=None,
                         elements=None) -> dict:
    """All metrics of probabilities ``y_prob`` at ``threshold``.

    Parameters
    ----------
    y_true : array_like
        ``(N, K)`` labels in {0, 1}.
    y_prob : array_like
        ``(N, K)`` probabilities; an element is predicted present where
        ``y_prob >= threshold``.
    threshold : float
        Decision threshold.
    ignore : array_like of bool, optional
        ``(N, K)`` or ``(K,)``; ``True`` entries are left out.
    elements : sequence of str, optional
        Column names; defaults to :data:`hyperspy_eelsid.elements.ELEMENTS`
        when ``K`` is 80.

    Returns
    -------
    dict
        ``threshold``, ``n_spectra``, ``n_occurrences``, ``precision``,
        ``recall``, ``f1`` (weighted), ``micro_precision``, ``micro_recall``,
        ``micro_f1``, ``emr``, ``rmse`` and ``per_element`` (symbol ->
        precision, recall, f1, support for every element that occurs or is
        predicted). JSON-serialisable.
    """
    t = _as_2d(y_true, "y_true")
    prob = _as_2d(y_prob, "y_prob", np.float64)
    _check_shapes(t, prob)
    pred = prob >= threshold
    counts = element_counts(t, pred, ignore)
    weighted = weighted_scores(counts)
    micro = micro_scores(counts)
    per = per_element_scores(counts)
    if elements is None and t.shape[1] == 80:
        from hyperspy_eelsid.elements import ELEMENTS as elements
    names = list(elements) if elements is not None else [str(k) for k in range(t.shape[1])]
    per_element = {
        names[k]: {"precision": float(per["precision"][k]), "recall": float(per["recall"][k]),
                   "f1": float(per["f1"][k]), "support": int(per["support"][k]),
                   "predicted": int(counts.tp[k] + counts.fp[k])}
        for k in range(t.shape[1]) if counts.support[k] or counts.fp[k]
    }
    return {
        "threshold": float(threshold),
        "n_spectra": int(t.shape[0]),
        "n_occurrences": int(counts.support.sum()),
        **weighted,
        **{f"micro_{k}": v for k, v in micro.items()},
        "emr": exact_match_rate(t, pred, ignore),
        "rmse": rmse(t, prob, ignore),
        "per_element": per_element,
    }


def summary(metrics: dict) -> dict:
    """The :data:`SUMMARY_KEYS` entries of an :func:`evaluate_predictions` result."""
    return {k: metrics[k] for k in SUMMARY_KEYS if k in metrics}
