"""The ensemble's probabilities for every spectrum of a signal, eager or block by block.

An eager signal is read in batches (:func:`_eager_probabilities`); a lazy one
becomes a dask array computed one block of the data at a time
(:func:`_lazy_probabilities`), with the checks of coincident edges
(:mod:`~hyperspy_eelsid.signals.checks`) computed in the same pass.
:func:`_probability_signal` wraps the result as a HyperSpy signal whose
signal axis is the atomic number.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from hyperspy_eelsid._stack import user_stacklevel
from hyperspy_eelsid.elements import ELEMENTS, N_ELEMENTS, atomic_number
from hyperspy_eelsid.line_ratios import coincident_line_pairs
from hyperspy_eelsid.preprocessing import (
    E_MIN_NETWORK,
    EnergyAxis,
    ReadoutCuts,
    energy_axis_from_signal,
    energy_in_one_chunk,
    spectra_last,
)
from hyperspy_eelsid.signals.checks import _line_verdicts, _sc_n_verdicts

__all__: list = []

_METADATA = "EELSID"


def _energy(signal):
    ax = signal.axes_manager.signal_axes[0]
    return np.asarray(ax.axis, dtype=float), ax.units


# ``readout``: (cut_splices, cut_saturation), as identify_elements takes them
def _eager_probabilities(signal, predictor, show_progressbar, readout=(True, True), mask=None):
    data = spectra_last(signal)
    axis = energy_axis_from_signal(signal)
    flat = data.reshape(-1, data.shape[-1])
    if mask is not None:  # left-out spectra are never read; NaN probabilities
        keep = ~mask.ravel()
        full = np.full((flat.shape[0], N_ELEMENTS), np.nan, dtype=np.float32)
        full[keep] = _eager_probabilities_flat(flat[keep], axis, predictor, show_progressbar, readout)
        return full.reshape(data.shape[:-1] + (N_ELEMENTS,))
    out = _eager_probabilities_flat(flat, axis, predictor, show_progressbar, readout)
    return out.reshape(data.shape[:-1] + (N_ELEMENTS,))


def _eager_probabilities_flat(flat, axis, predictor, show_progressbar, readout):
    out = np.empty((flat.shape[0], N_ELEMENTS), dtype=np.float32)
    step = max(predictor.batch_size, 1)
    starts = range(0, flat.shape[0], step)
    if show_progressbar and flat.shape[0] > step:
        from tqdm.auto import tqdm

        starts = tqdm(starts, total=math.ceil(flat.shape[0] / step), desc="Identifying", unit="batch")
    n_empty, cuts, negative = 0, [], []
    for start in starts:
        # preprocess() of one batch, without its warnings: one per kind of cut for the whole signal below
        out[start : start + step], empty, cut = predictor.identify_block(flat[start : start + step], axis, *readout)
        n_empty += int(np.count_nonzero(empty))
        cuts.append(cut)
        negative.append(_negative_fraction(flat[start : start + step], axis))
    _warn_unidentifiable(n_empty, flat.shape[0])
    _warn_negative(np.concatenate(negative) if negative else np.empty(0))
    ReadoutCuts.concatenate(cuts).warn(flat.shape[0])
    return out


#: A spectrum with more than this share of negative channels above 75 eV looks background-subtracted.
NEGATIVE_FRACTION = 0.2


def _negative_fraction(flat, axis):
    """Share of each raw spectrum's channels at or above 75 eV that are negative."""
    n_above = int(np.count_nonzero(axis.centres >= E_MIN_NETWORK))
    if n_above == 0 or flat.shape[0] == 0:
        return np.zeros(flat.shape[0])
    # the channels at or above 75 eV are the last n_above (the first ones of a decreasing axis)
    part = np.asarray(flat)[:, :n_above] if axis.reversed else np.asarray(flat)[:, -n_above:]
    return np.count_nonzero(part < 0, axis=1) / n_above


def _warn_negative(fractions):
    """Warn when spectra look background-subtracted (many negative channels): the networks need raw counts."""
    bad = fractions > NEGATIVE_FRACTION
    if bad.any():
        warnings.warn(
            f"{int(bad.sum())} of {fractions.size} spectra have more than {NEGATIVE_FRACTION:.0%} of their "
            f"channels above 75 eV negative (up to {fractions.max():.0%}): they look background-subtracted or "
            "offset. The networks were trained on raw spectra, background included: identify the raw "
            "spectrum, before any background subtraction.",
            stacklevel=user_stacklevel(),
        )


class _BlockIdentifier:
    """Picklable dask block function: raw spectra block -> probabilities block.

    With ``checks = (threshold, white_lines, sc_n)``, the white-line verdicts
    and ratios (``2 n_pairs`` columns) and the Sc / N verdict and P(Sc) (2
    columns) of the block's spectra follow the probabilities on the last
    axis (:func:`_check_columns`): computed while the raw block is in memory,
    so that the checks need no second pass over the data. They are
    computed only for the spectra whose probabilities call for them (as
    :func:`~hyperspy_eelsid.signals.checks._line_verdicts` and
    :func:`~hyperspy_eelsid.signals.checks._sc_n_verdicts` choose them), so
    they cost nothing where no pair element is detected.
    """

    def __init__(self, predictor, energy, units, readout=(True, True), checks=None):
        self.predictor, self.axis = predictor, EnergyAxis.from_values(energy, units)
        self.readout = tuple(readout)
        self.checks = checks

    def __call__(self, block, mask=None):
        flat = np.asarray(block).reshape(-1, block.shape[-1])
        keep = slice(None) if mask is None else ~np.asarray(mask).ravel()
        probs = np.full((flat.shape[0], N_ELEMENTS), np.nan, dtype=np.float32)
        probs[keep], _, cuts = self.predictor.identify_block(flat[keep], self.axis, *self.readout)
        cuts.warn(flat.shape[0])
        _warn_negative(_negative_fraction(flat[keep], self.axis))
        columns = [probs]
        if self.checks is not None:
            threshold, white_lines, sc_n = self.checks
            if white_lines:  # left-out spectra have NaN probabilities: never selected, never read
                verdict, ratio = _line_verdicts(flat, probs, self.axis, threshold, self.readout)
                columns += [verdict.astype(np.float32), ratio.astype(np.float32)]
            if sc_n:
                verdict, p_first = _sc_n_verdicts(flat, probs, self.axis, threshold, self.readout)
                columns += [verdict.astype(np.float32)[:, None], p_first.astype(np.float32)[:, None]]
        out = np.concatenate(columns, axis=1) if len(columns) > 1 else probs
        return out.reshape(block.shape[:-1] + (out.shape[1],))


def _check_columns(white_lines: bool, sc_n: bool) -> int:
    """Columns that :class:`_BlockIdentifier` adds after the probabilities for these checks."""
    return (2 * len(coincident_line_pairs()) if white_lines else 0) + (2 if sc_n else 0)


def _lazy_spectra(signal):
    """The lazy data with the whole energy axis in every chunk."""
    return energy_in_one_chunk(spectra_last(signal))


def _lazy_probabilities(signal, predictor, readout=(True, True), mask=None, checks=None):
    """Lazy probabilities of every spectrum, one block of the data at a time; with ``checks``, the
    check columns of :class:`_BlockIdentifier` after them."""
    import dask.array as da

    data = _lazy_spectra(signal)
    energy, units = _energy(signal)
    extra = ()
    if mask is not None:  # one mask block per data block, the energy axis of length 1
        extra = (da.from_array(mask[..., None], chunks=data.chunks[:-1] + ((1,),)),)
    width = N_ELEMENTS + (0 if checks is None else _check_columns(checks[1], checks[2]))
    return da.map_blocks(
        _BlockIdentifier(predictor, energy, units, readout, checks),
        data,
        *extra,
        dtype=np.float32,
        chunks=data.chunks[:-1] + ((width,),),
        meta=np.empty((0,) * data.ndim, dtype=np.float32),
    )


def _probability_signal(signal, probs, predictor, threshold):
    import hyperspy.api as hs

    nav = [ax.get_axis_dictionary() for ax in signal.axes_manager.navigation_axes[::-1]]
    # Be..Bi are Z = 4..83 without a gap: the axis reads the atomic number, so p.isig[22.] is Ti
    element_axis = {"size": N_ELEMENTS, "name": "Atomic number", "units": "", "navigate": False,
                    "offset": float(atomic_number(ELEMENTS[0])), "scale": 1.0}
    lazy = not isinstance(probs, np.ndarray)
    cls = hs.signals.Signal1D
    out = cls(probs, axes=nav + [element_axis])
    if lazy:
        out = out.as_lazy() if not out._lazy else out
    title = signal.metadata.General.get_item("title", "")
    out.metadata.General.title = f"Element probabilities{': ' + title if title else ''}"
    out.metadata.Signal.quantity = "Probability"  # HyperSpy's plot labels
    out.metadata.set_item(f"{_METADATA}.elements", list(ELEMENTS))
    out.metadata.set_item(f"{_METADATA}.threshold", threshold)
    out.metadata.set_item(f"{_METADATA}.model", predictor.name)
    return out



def _warn_unidentifiable(n_bad, n):
    if n_bad:
        warnings.warn(
            f"{n_bad} of {n} spectra have no positive counts inside 75-3071 eV; their "
            "probabilities are set to 0 (check for dead pixels or a wrong energy axis; "
            "`navigation_mask` leaves pixels out).",
            stacklevel=user_stacklevel(),
        )
