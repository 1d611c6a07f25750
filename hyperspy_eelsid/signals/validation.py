"""Checks of what the user passes to the front end: the signal, the threshold, the
minimum fraction and the navigation mask, each with an error that says what to do.

Shared by identification and quantification; no check changes the signal.
"""

from __future__ import annotations

import warnings

import numpy as np

from hyperspy_eelsid._stack import user_stacklevel
from hyperspy_eelsid.preprocessing import PreprocessingError, energy_axis_from_signal, resampling_matrix, spectra_last

__all__: list = []


def _check_eels_spectra(signal, task: str, error=PreprocessingError):
    """An EELS signal with one real-valued spectrum per pixel, or a clear error naming ``task``
    (``"Element identification"``, ``"Quantification"``); ``error`` for the value checks."""
    from exspy.signals import EELSSpectrum

    if not isinstance(signal, EELSSpectrum):
        kind = type(signal).__name__
        raise TypeError(
            f"{task} needs an EELS spectrum, got a {kind}. If the data "
            "are core-loss EELS, call `s.set_signal_type('EELS_ID')` first."
        )
    if signal.axes_manager.signal_dimension != 1:
        raise error(
            f"{task} needs one spectrum per pixel (signal dimension 1), "
            f"this signal has signal dimension {signal.axes_manager.signal_dimension}."
        )
    if np.issubdtype(signal.data.dtype, np.complexfloating):
        raise error(f"The signal is complex-valued; {task.lower()} needs real counts.")


def _check_signal(signal):
    _check_eels_spectra(signal, "Element identification")
    axis = energy_axis_from_signal(signal)  # units, dispersion
    resampling_matrix(axis)  # range inside 75-3071 eV
    return axis


def _check_threshold(threshold):
    if threshold is None:
        return None
    t = float(threshold)
    if not 0.0 < t < 1.0:
        raise ValueError(
            f"threshold must lie strictly between 0 and 1 (a probability), got {threshold!r}."
        )
    return t


def _check_min_fraction(min_fraction):
    f = float(min_fraction)
    if not 0.0 <= f <= 1.0:
        raise ValueError(f"min_fraction must lie in [0, 1], got {min_fraction!r}.")
    return f


def _check_navigation_mask(navigation_mask, signal):
    """Boolean array of the data's navigation shape (True: left out), or None."""
    if navigation_mask is None:
        return None
    nav_shape = tuple(signal.axes_manager._navigation_shape_in_array)
    if not nav_shape:
        raise ValueError("navigation_mask needs a line scan or spectrum image; this signal holds one spectrum.")
    data = getattr(navigation_mask, "data", navigation_mask)  # a HyperSpy signal or an array
    if hasattr(data, "compute"):
        data = data.compute()
    mask = np.asarray(data)
    if mask.dtype != bool:
        if not (np.issubdtype(mask.dtype, np.number) and np.isin(mask, (0, 1)).all()):
            raise ValueError("navigation_mask must be boolean (True for the spectra to leave out), "
                             f"got dtype {mask.dtype}.")
        mask = mask.astype(bool)
    if mask.shape != nav_shape:
        raise ValueError(
            f"navigation_mask has shape {mask.shape}, but the navigation shape of the data is {nav_shape} "
            "(rows, columns as in `s.data`; a map from `s.elemental_map()` or `s.sum(-1)` has it)."
        )
    if mask.all():
        raise ValueError("navigation_mask leaves out every spectrum; True marks the spectra to leave out.")
    return mask


def _progressbar(show_progressbar):
    if show_progressbar is None:
        from hyperspy.defaults_parser import preferences

        show_progressbar = preferences.General.show_progressbar
    return bool(show_progressbar)


#: A lazy signal's stored chunks split the energy axis and, taken as whole spectra, the
#: pixels of one of them exceed this many times dask's ``array.chunk-size``: warn.
SPLIT_ENERGY_FACTOR = 4


def _warn_split_energy_axis(signal, consequence: str):
    """Warn when a lazy signal is stored in chunks that split the energy axis over so many
    pixels that working on whole spectra costs memory or repeated reads (``consequence`` says
    which); chunks small in the navigation axes as well cost little and pass silently."""
    if not signal._lazy:
        return
    import dask
    from dask.utils import parse_bytes

    data = spectra_last(signal)
    if len(data.chunks[-1]) == 1:
        return
    pixels = int(np.prod([max(c) for c in data.chunks[:-1]], dtype=np.int64))
    whole = pixels * data.shape[-1] * data.dtype.itemsize
    limit = SPLIT_ENERGY_FACTOR * parse_bytes(dask.config.get("array.chunk-size"))
    if whole <= limit:
        return
    warnings.warn(
        f"The lazy data are stored in {len(data.chunks[-1])} chunks along the energy axis, each over "
        f"{pixels} pixels ({whole / 2**20:.0f} MiB as whole spectra); every block of whole spectra needs "
        f"all of them, so {consequence}. Store the spectra whole once and load that file lazily: "
        "`s.rechunk(inplace=False).save('si_rechunked.hspy')`.",
        UserWarning, stacklevel=user_stacklevel(),
    )
