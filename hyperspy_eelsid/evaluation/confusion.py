"""Which elements are confused with which: false-positive / false-negative pairs."""

from __future__ import annotations

from collections import Counter

import numpy as np

from hyperspy_eelsid.evaluation.metrics import _label_decision_keep

__all__ = ["confused_pairs"]


def confused_pairs(y_true, y_pred, ignore=None, elements=None, top: int | None = 20) -> list[dict]:
    """Most frequent (predicted-but-absent, present-but-missed) element pairs.

    In every spectrum, each false-positive element is paired with each
    false-negative element of the same spectrum (e.g. predicting Nd where the
    sample has Pr gives the pair ``("Nd", "Pr")``); pairs are counted over all
    spectra. Ignored entries take part in no pair.

    Parameters
    ----------
    y_true, y_pred : array_like
        ``(N, K)`` labels and thresholded predictions in {0, 1}.
    ignore : array_like of bool, optional
        ``(N, K)`` or ``(K,)``; ``True`` entries are left out.
    elements : sequence of str, optional
        Column names (default: the 80 network elements when ``K`` is 80).
    top : int or None
        Return only the ``top`` most frequent pairs (``None``: all).

    Returns
    -------
    list of dict
        ``{"predicted": str, "missed": str, "count": int}``, most frequent
        first (ties in column order).
    """
    t, p, keep = _label_decision_keep(y_true, y_pred, ignore)
    if elements is None and t.shape[1] == 80:
        from hyperspy_eelsid.elements import ELEMENTS as elements
    names = list(elements) if elements is not None else [str(k) for k in range(t.shape[1])]
    fp, fn = p & ~t & keep, t & ~p & keep
    counter: Counter = Counter()
    for i in np.flatnonzero(fp.any(axis=1) & fn.any(axis=1)):
        for a in np.flatnonzero(fp[i]):
            for b in np.flatnonzero(fn[i]):
                counter[(int(a), int(b))] += 1
    pairs = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    if top is not None:
        pairs = pairs[:top]
    return [{"predicted": names[a], "missed": names[b], "count": c} for (a, b), c in pairs]
