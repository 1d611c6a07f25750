"""How far the figures of a small test set can be trusted: bootstrap intervals.

A real benchmark of a few dozen spectra moves by one spectrum at a time
(1/79 = 0.013 in exact match rate), so two models' figures on it differ by
chance as well as by skill. Resampling the spectra with replacement
(Efron's bootstrap) gives an interval for each figure and, for two models
scored on the same spectra, an interval for their difference (a paired
bootstrap: both models are scored on the same resampled spectra, so what
the spectra have in common cancels).

The decisions are taken as given (``y_pred`` in {0, 1}, per spectrum and
element): a threshold chosen on the scored set is not re-chosen in each
resample, so intervals at such a threshold are, if anything, too narrow.

Every resample is scored with the paper's definitions (as in
:mod:`~hyperspy_eelsid.evaluation.metrics`) from per-spectrum counts
weighted by how often the resample holds each spectrum, so ten thousand
resamples of a hundred spectra take well under a second.
"""

from __future__ import annotations

import numpy as np

from hyperspy_eelsid.evaluation.metrics import (
    ElementCounts,
    _as_2d,
    _f1,
    _label_decision_keep,
    _ratio,
    per_element_scores,
)

__all__ = ["UNCERTAINTY_KEYS", "resampled_scores", "bootstrap_scores", "paired_bootstrap"]

UNCERTAINTY_KEYS = ("f1", "precision", "recall", "micro_f1", "emr")
"""The figures :func:`resampled_scores` computes per resample."""


def _per_spectrum_counts(y_true, y_pred, ignore):
    t, p, keep = _label_decision_keep(y_true, y_pred, ignore)
    tp = (t & p & keep).astype(float)
    fp = (~t & p & keep).astype(float)
    fn = (t & ~p & keep).astype(float)
    exact = np.all((t == p) | ~keep, axis=1).astype(float)
    return tp, fp, fn, exact


def resampled_scores(y_true, y_pred, weights, ignore=None) -> dict:
    """Weighted precision, recall, F1, micro F1 and exact match rate of
    decisions ``y_pred`` on spectra counted ``weights`` times each.

    Parameters
    ----------
    y_true, y_pred : array_like
        ``(N, K)`` labels and decisions in {0, 1}.
    weights : array_like
        ``(B, N)`` (or ``(N,)``) non-negative counts: how often each of
        ``B`` resamples holds each spectrum. All ones gives the figures of
        the set itself, equal to
        :func:`~hyperspy_eelsid.evaluation.metrics.evaluate_predictions`.
    ignore : array_like of bool, optional
        ``(N, K)`` or ``(K,)``; ``True`` entries are left out.

    Returns
    -------
    dict
        ``key -> (B,)`` array for each key of :data:`UNCERTAINTY_KEYS`.
    """
    tp, fp, fn, exact = _per_spectrum_counts(y_true, y_pred, ignore)
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    if w.shape[1] != tp.shape[0]:
        raise ValueError(f"weights of shape {w.shape} do not fit {tp.shape[0]} spectra")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative counts")
    TP, FP, FN = w @ tp, w @ fp, w @ fn  # (B, K)
    per = per_element_scores(ElementCounts(tp=TP, fp=FP, fn=FN, tn=np.zeros_like(TP)))  # element-wise
    support = per["support"]
    total = support.sum(axis=1)
    out = {k: _ratio((per[k] * support).sum(axis=1), total) for k in ("precision", "recall", "f1")}
    out["micro_f1"] = _f1(_ratio(TP.sum(axis=1), (TP + FP).sum(axis=1)), _ratio(TP.sum(axis=1), total))
    out["emr"] = _ratio(w @ exact, w.sum(axis=1))
    return out


def _set_and_resample_weights(n, n_resamples, seed):
    """``(1 + n_resamples, n)`` counts: the set itself (all ones), then the resamples."""
    if n < 2:
        raise ValueError(f"the bootstrap needs at least 2 spectra, got {n}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    rng = np.random.default_rng(seed)
    return np.vstack([np.ones(n), rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples)])


def _interval(values, confidence):
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    lo, hi = np.percentile(values, [50 * (1 - confidence), 50 * (1 + confidence)])
    return float(lo), float(hi)


def bootstrap_scores(y_true, y_pred, ignore=None, n_resamples: int = 10000, seed: int = 0,
                     confidence: float = 0.95) -> dict:
    """Percentile bootstrap intervals of the paper's figures.

    Parameters
    ----------
    y_true, y_pred : array_like
        ``(N, K)`` labels and decisions in {0, 1}, ``N >= 2``.
    ignore : array_like of bool, optional
        ``(N, K)`` or ``(K,)``; ``True`` entries are left out.
    n_resamples : int
        Number of resamples of the ``N`` spectra (with replacement).
    seed : int
        Seed of the resampling (same seed, same intervals).
    confidence : float
        Coverage of the interval, e.g. 0.95.

    Returns
    -------
    dict
        ``key -> {"value", "low", "high"}`` for each key of
        :data:`UNCERTAINTY_KEYS`: the figure on the set itself and the
        ``confidence`` percentile interval over the resamples.
    """
    w = _set_and_resample_weights(_as_2d(y_true, "y_true").shape[0], n_resamples, seed)
    scores = resampled_scores(y_true, y_pred, w, ignore)
    out = {}
    for k in UNCERTAINTY_KEYS:
        lo, hi = _interval(scores[k][1:], confidence)
        out[k] = {"value": float(scores[k][0]), "low": lo, "high": hi}
    return out


def paired_bootstrap(y_true, pred_a, pred_b, ignore=None, n_resamples: int = 10000, seed: int = 0,
                     confidence: float = 0.95) -> dict:
    """Bootstrap interval of the difference ``b - a`` of two models' figures
    on the same spectra.

    Parameters
    ----------
    y_true : array_like
        ``(N, K)`` labels in {0, 1}.
    pred_a, pred_b : array_like
        ``(N, K)`` decisions of the two models on the same spectra.
    ignore, n_resamples, seed, confidence
        As in :func:`bootstrap_scores`.

    Returns
    -------
    dict
        ``key -> {"a", "b", "difference", "low", "high", "b_better"}``:
        both figures on the set, their difference ``b - a``, its interval,
        and the share of resamples in which ``b`` scores higher than ``a``
        (near 0.5: the set cannot tell the two apart).
    """
    w = _set_and_resample_weights(_as_2d(y_true, "y_true").shape[0], n_resamples, seed)
    sa, sb = resampled_scores(y_true, pred_a, w, ignore), resampled_scores(y_true, pred_b, w, ignore)
    out = {}
    for k in UNCERTAINTY_KEYS:
        diff = sb[k] - sa[k]  # row 0: the set itself
        lo, hi = _interval(diff[1:], confidence)
        out[k] = {"a": float(sa[k][0]), "b": float(sb[k][0]), "difference": float(diff[0]),
                  "low": lo, "high": hi, "b_better": float(np.mean(diff[1:] > 0))}
    return out
