"""The front end's checks of detections whose edges coincide with another element's.

Where the networks name both elements of a pair whose edges start together,
a check looks at the spectrum itself and drops the detection it rules out:
the white-line ratio for Co / Ba and Cu / Pr
(:mod:`hyperspy_eelsid.line_ratios`) and a small classifier for Sc / N
(:mod:`hyperspy_eelsid.pair_classifier`). This module runs them on the
spectra of a signal where they apply and returns the fractions of pixels
left after their vetoes.
"""

from __future__ import annotations

import numpy as np

from hyperspy_eelsid.elements import N_ELEMENTS, element_index
from hyperspy_eelsid.line_ratios import coincident_line_pairs, vetoes, white_line_verdicts
from hyperspy_eelsid.pair_classifier import PAIR as SC_N_PAIR
from hyperspy_eelsid.pair_classifier import pair_verdicts, pair_vetoes
from hyperspy_eelsid.preprocessing import energy_axis_from_signal, readout_windows, resample_to_grid, spectra_last

__all__: list = []


# --------------------------------------------------------------------------
# white-line ratios of coincident pairs (Co/Ba, Cu/Pr)
# --------------------------------------------------------------------------
def _pair_columns():
    return sorted({element_index(p.element) for pair in coincident_line_pairs() for p in pair})


def _line_verdicts(flat_data, probs, axis, threshold, readout=(True, True), block=4096):
    """Verdicts ``(n, n_pairs)`` and ratios of raw spectra ``(n, channels)``,
    fitted ``block`` spectra at a time (bounds the memory), on the channels the
    networks read (no lines are fitted below a splice or in a saturated run)."""

    probs = np.asarray(probs).reshape(-1, N_ELEMENTS)
    verdict = np.full((probs.shape[0], len(coincident_line_pairs())), -1, dtype=np.int8)
    ratio = np.full(verdict.shape, np.nan)
    rows = np.nonzero((probs[:, _pair_columns()] >= threshold).any(axis=1))[0]
    for start in range(0, rows.size, block):
        some = rows[start:start + block]
        raw = np.asarray(flat_data)[some]
        grid, _ = resample_to_grid(raw, axis)
        window, _ = readout_windows(raw, axis, *readout)
        verdict[some], ratio[some] = white_line_verdicts(grid, probs[some], threshold, window)
    return verdict, ratio


# --------------------------------------------------------------------------
# the Sc / N classifier (N K 401 eV against Sc L3,2 402, 407 eV)
# --------------------------------------------------------------------------
def _sc_n_columns():
    return [element_index(el) for el in SC_N_PAIR]


def _sc_n_verdicts(flat_data, probs, axis, threshold, readout=(True, True), block=4096):
    """Verdicts ``(n,)`` and P(Sc) of raw spectra ``(n, channels)`` where both are detected."""
    from hyperspy_eelsid import preprocessing as pp

    probs = np.asarray(probs).reshape(-1, N_ELEMENTS)
    verdict = np.full(probs.shape[0], -1, dtype=np.int8)
    p_first = np.full(probs.shape[0], np.nan)
    rows = np.nonzero((probs[:, _sc_n_columns()] >= threshold).all(axis=1))[0]
    for start in range(0, rows.size, block):
        some = rows[start:start + block]
        raw = np.asarray(flat_data)[some]
        x, _, _ = pp._numpy_blocks(raw, axis, some.size, finalise=True, cut_splices=readout[0],
                                   cut_saturation=readout[1])
        window, _ = readout_windows(raw, axis, *readout)  # per spectrum: what the networks read
        verdict[some], p_first[some] = pair_verdicts(x, probs[some], threshold, window)
    return verdict, p_first


# --------------------------------------------------------------------------
# both checks: verdicts and the fractions of pixels left after their vetoes
# --------------------------------------------------------------------------
def _run_checks(signal, probs, max_p, frac, threshold, white_lines=True, sc_n=True, readout=(True, True),
                mask=None, computed=None):
    """The white-line check and the Sc / N classifier where their elements are detected.

    Returns None when neither ran, else a dict: ``white`` (verdicts and area
    ratios ``(n, n_pairs)``, :func:`~hyperspy_eelsid.line_ratios.white_line_verdicts`)
    or None, ``sc_n`` (verdicts and P(Sc) ``(n,)``,
    :func:`~hyperspy_eelsid.pair_classifier.pair_verdicts`) or None, and
    ``frac``: the per-element fraction of spectra at or above the threshold
    and not vetoed by either check (of the spectra ``mask`` does not leave
    out). ``computed``: for a lazy signal, the check columns that
    :class:`_BlockIdentifier` computed in the pass that gave ``probs``
    (navigation shape + columns, persisted), so that the data are read
    once.
    """
    line_cols, sc_n_cols = _pair_columns(), _sc_n_columns()
    run_white = white_lines and bool((max_p[line_cols] >= threshold).any())
    run_sc_n = sc_n and bool((max_p[sc_n_cols] >= threshold).all())
    if not (run_white or run_sc_n):
        return None
    cols = sorted(set(line_cols) | set(sc_n_cols))
    white = sc_n_result = None
    n_pairs = len(coincident_line_pairs())
    if signal._lazy:  # computed in the pass over the data that gave the probabilities
        columns = np.asarray(computed, dtype=float).reshape(-1, computed.shape[-1])
        if run_white:
            both = columns[:, :2 * n_pairs]
            white = both[:, :n_pairs].astype(np.int8), both[:, n_pairs:]
        if run_sc_n:
            out = columns[:, -2:]
            sc_n_result = out[:, 0].astype(np.int8), out[:, 1]
        col_probs = np.asarray(probs[..., cols].compute())
    else:
        flat = spectra_last(signal).reshape(-1, signal.axes_manager.signal_axes[0].size)
        axis = energy_axis_from_signal(signal)
        if run_white:
            white = _line_verdicts(flat, probs, axis, threshold, readout)
        if run_sc_n:
            sc_n_result = _sc_n_verdicts(flat, probs, axis, threshold, readout)
        col_probs = probs[..., cols]
    sub = np.zeros((col_probs.size // len(cols), N_ELEMENTS), dtype=np.float32)
    sub[:, cols] = col_probs.reshape(-1, len(cols))
    veto = np.zeros(sub.shape, dtype=bool)
    if white is not None:
        veto |= vetoes(white[0], sub, threshold)
    if sc_n_result is not None:
        veto |= pair_vetoes(sc_n_result[0], sub, threshold)
    kept = (sub[:, cols] >= threshold) & ~veto[:, cols]
    if mask is not None:
        kept = kept[~mask.ravel()]
    frac = np.array(frac, dtype=float)
    frac[cols] = kept.mean(axis=0)
    return {"white": white, "sc_n": sc_n_result, "frac": frac}


