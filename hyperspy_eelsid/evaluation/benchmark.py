"""Labels and report for benchmark sets of real spectra (``manifest.json`` style).

Each benchmark entry lists ``present`` elements and ``ignore`` elements
(carbon, elements whose edges only touch the window, ...). This module turns
those lists into the ``(N, 80)`` label and ignore arrays the metrics take, and
assembles the paper's figures for a report.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hyperspy_eelsid.elements import ELEMENTS, N_ELEMENTS
from hyperspy_eelsid.evaluation.confusion import confused_pairs
from hyperspy_eelsid.evaluation.metrics import evaluate_predictions, rmse
from hyperspy_eelsid.evaluation.threshold import threshold_at_equal_precision_recall

__all__ = ["label_arrays", "benchmark_report", "leave_one_out_report", "read_manifest"]

_INDEX = {s: i for i, s in enumerate(ELEMENTS)}


def read_manifest(root) -> dict | None:
    """The ``manifest.json`` of a benchmark folder, or ``None`` when the folder
    has none (the benchmark material is optional)."""
    path = Path(root) / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else None


def label_arrays(entries, always_ignore=("C",)):
    """Label and ignore arrays of benchmark entries.

    Parameters
    ----------
    entries : sequence of dict
        Each with ``present`` (list of symbols) and optionally ``ignore``.
        Symbols outside Be..Bi are skipped (the networks cannot report them).
    always_ignore : sequence of str
        Elements left out of every spectrum (carbon: sample grids carry it).

    Returns
    -------
    labels : numpy.ndarray
        ``(N, 80)`` uint8, 1 where the element is present.
    ignore : numpy.ndarray
        ``(N, 80)`` bool, ``True`` where the entry is left out of the metrics.
    """
    labels = np.zeros((len(entries), N_ELEMENTS), dtype=np.uint8)
    ignore = np.zeros((len(entries), N_ELEMENTS), dtype=bool)
    for k in always_ignore:
        ignore[:, _INDEX[k]] = True
    for i, entry in enumerate(entries):
        for s in entry.get("present", ()):
            if s in _INDEX:
                labels[i, _INDEX[s]] = 1
        for s in entry.get("ignore", ()):
            if s in _INDEX:
                ignore[i, _INDEX[s]] = True
    return labels, ignore


def benchmark_report(labels, probabilities, ignore=None, threshold: float | None = None,
                     top_pairs: int = 15) -> dict:
    """The paper's figures for one set of spectra.

    Parameters
    ----------
    labels, probabilities : array_like
        ``(N, 80)`` labels and predicted probabilities.
    ignore : array_like of bool, optional
        ``(N, 80)`` entries to leave out.
    threshold : float, optional
        Decision threshold; if omitted, the one where precision equals recall
        on this very set is used and ``threshold_chosen_on_this_set`` is set
        (then the figures are optimistic: choose it on a validation split).
    top_pairs : int
        Number of most frequent confused pairs to list.

    Returns
    -------
    dict
        :func:`~hyperspy_eelsid.evaluation.metrics.evaluate_predictions`
        output plus ``confused_pairs`` and ``threshold_chosen_on_this_set``.
    """
    chosen_here = threshold is None
    if chosen_here:
        threshold = threshold_at_equal_precision_recall(labels, probabilities, ignore=ignore)["threshold"]
    report = evaluate_predictions(labels, probabilities, threshold, ignore)
    pred = np.asarray(probabilities) >= threshold
    report["confused_pairs"] = confused_pairs(labels, pred, ignore, top=top_pairs)
    report["threshold_chosen_on_this_set"] = chosen_here
    return report


def leave_one_out_report(labels, probabilities, ignore=None) -> dict:
    """The figures when each spectrum's threshold is chosen without it.

    For every spectrum ``i`` the threshold where precision equals recall is
    found on all the *other* spectra and applied to spectrum ``i`` alone
    (leave-one-out cross-validation). The figures then estimate how well a
    threshold calibrated on a set of labelled spectra of this kind would
    do on a new spectrum, without the optimism of choosing it on the scored
    spectra themselves (``benchmark_report(..., threshold=None)``).

    Parameters
    ----------
    labels, probabilities : array_like
        ``(N, 80)`` labels and predicted probabilities, ``N >= 2``.
    ignore : array_like of bool, optional
        ``(N, 80)`` entries to leave out.

    Returns
    -------
    dict
        :func:`~hyperspy_eelsid.evaluation.metrics.evaluate_predictions`
        output for the out-of-fold decisions (``rmse`` from the
        probabilities), plus ``thresholds``: the ``N`` thresholds used.
    """
    y = np.asarray(labels)
    p = np.asarray(probabilities, dtype=float)
    ign = np.zeros(y.shape, dtype=bool) if ignore is None else np.asarray(ignore, dtype=bool)
    n = len(y)
    if n < 2:
        raise ValueError(f"leave-one-out needs at least 2 spectra, got {n}")
    thresholds = np.empty(n)
    for i in range(n):
        rest = np.arange(n) != i
        thresholds[i] = threshold_at_equal_precision_recall(y[rest], p[rest], ignore=ign[rest])["threshold"]
    decided = (p >= thresholds[:, None]).astype(float)
    report = evaluate_predictions(y, decided, 0.5, ign)
    report["rmse"] = rmse(y, p, ign)
    report["thresholds"] = thresholds.tolist()
    return report
