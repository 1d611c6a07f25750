"""Preprocessing: any measured or simulated spectrum -> network input.

One code path serves the HyperSpy front end, the benchmarks and the
simulator's final step, so that real and simulated spectra reach the networks
identically:

1. **Resample** (:func:`resample_to_grid`) the spectrum onto the paper's grid of
   :data:`N_CHANNELS` = 3072 channels of 1 eV centred on 0, 1, ..., 3071 eV.
   The data are read as counts per channel and turned into counts per 1 eV:

   * sources finer than 1 eV: every 1 eV bin ``[k - 0.5, k + 0.5)`` is
     *integrated* (exact overlap of source channels with the bin), which
     conserves counts and never aliases noise;
   * sources of 1 eV or coarser: a cubic spline of the count density
     (counts / channel width) is evaluated at the bin centres (the paper's
     Fig. 3), which interpolates without inventing structure.

   Both are linear in the data, so they are applied as one sparse matrix per
   energy axis (:func:`resampling_matrix`), block by block.
2. **Finalise** (:func:`finalise_on_grid`): channels below
   :data:`E_MIN_NETWORK` = 75 eV (zero-loss peak and low-loss region) and
   channels outside the measured range are zero; each spectrum is divided by
   its maximum inside the measured window. The simulator calls this same
   function on its torch tensors.

Measured spectra stitched from a weak low-loss and a strong core-loss read-out
(gain splices, common in reference collections such as the Gatan EELS Atlas)
are measured, for the networks, from the splice on: :func:`preprocess` finds
the splice with :func:`hyperspy_eelsid.splices.splice_onsets` and leaves the
channels below it out of the window (``cut_splices=False`` keeps them).
Spectra clipped at the detector's highest count over a run of channels
(:mod:`hyperspy_eelsid.saturation`) are likewise read from the end of the
saturated run on (``cut_saturation=False`` keeps those channels).

:func:`preprocess` chains the two for numpy arrays, dask arrays and HyperSpy
signals. The caller's data are never modified.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.interpolate import CubicSpline

from hyperspy_eelsid._stack import user_stacklevel
from hyperspy_eelsid.saturation import (
    SATURATION_START_EV,
    ClippedPeaksWarning,
    SaturationWarning,
    saturated_runs,
    saturated_runs_torch,
)
from hyperspy_eelsid.splices import SpliceWarning, splice_onsets, splice_onsets_torch

__all__ = [
    "N_CHANNELS",
    "E_MIN_NETWORK",
    "E_MAX_NETWORK",
    "MIN_WINDOW_EV",
    "GRID",
    "EnergyAxis",
    "PreprocessingError",
    "energy_axis_from_signal",
    "spectra_last",
    "energy_in_one_chunk",
    "resampling_matrix",
    "resample_to_grid",
    "finalise_on_grid",
    "preprocess_on_device",
    "preprocess",
    "ReadoutCuts",
    "readout_windows",
]

N_CHANNELS: int = 3072
"""Number of network input channels: 1 eV each, 0..3071 eV."""

E_MIN_NETWORK: float = 75.0
"""Channels below this energy loss (eV) are zeroed: zero-loss and low-loss region."""

E_MAX_NETWORK: float = float(N_CHANNELS - 1)
"""Highest channel centre of the network grid (eV)."""

MIN_WINDOW_EV: float = 20.0
"""A spectrum must have at least this many eV measured inside 75..3071 eV."""

GRID: np.ndarray = np.arange(N_CHANNELS, dtype=np.float64)
"""Channel centres of the network grid in eV."""
GRID.setflags(write=False)

MIN_DISPERSION, MAX_DISPERSION = 0.01, 10.0
"""Supported channel widths (eV per channel)."""

_UNIT_SCALE = {"ev": 1.0, "kev": 1e3, "mev": 1e-3}
_DEFAULT_BLOCK = 4096


class PreprocessingError(ValueError):
    """Raised when a spectrum cannot be turned into a network input."""


# --------------------------------------------------------------------------
# Energy axes
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class EnergyAxis:
    """Channel centres of a measured spectrum, in eV, strictly increasing.

    Parameters
    ----------
    centres : numpy.ndarray
        Channel centres in eV.
    reversed : bool
        True when the original axis ran from high to low energy: the data
        must then be read backwards along the energy axis.
    """

    centres: np.ndarray
    reversed: bool = False

    @classmethod
    def from_values(cls, values, units: str = "eV") -> "EnergyAxis":
        """Build an axis from channel centres in ``units`` (eV, keV or meV).

        Raises
        ------
        PreprocessingError
            For unknown units, non-finite values, fewer than two channels,
            non-monotonic axes or channel widths outside 0.01-10 eV.
        """
        scale = _unit_scale(units)
        centres = np.asarray(values, dtype=np.float64).ravel() * scale
        if centres.size < 2:
            raise PreprocessingError(
                "The energy axis has fewer than two channels: a spectrum needs an "
                "energy axis with one value per channel."
            )
        if not np.all(np.isfinite(centres)):
            raise PreprocessingError("The energy axis contains NaN or inf values.")
        steps = np.diff(centres)
        rev = False
        if np.all(steps < 0):
            centres, steps, rev = centres[::-1].copy(), -steps[::-1], True
        elif not np.all(steps > 0):
            raise PreprocessingError(
                "The energy axis is not strictly monotonic; sort the channels by "
                "energy loss before identifying elements."
            )
        width = float(np.median(steps))
        if not MIN_DISPERSION * (1 - 1e-9) <= width <= MAX_DISPERSION * (1 + 1e-9):
            raise PreprocessingError(
                f"The energy axis has {width:g} eV per channel; the supported range "
                f"is {MIN_DISPERSION}-{MAX_DISPERSION} eV per channel. Check the axis "
                "scale and units (e.g. a keV axis labelled eV)."
            )
        centres.setflags(write=False)
        return cls(centres=centres, reversed=rev)

    @property
    def edges(self) -> np.ndarray:
        """Channel boundaries (n + 1,), half-way between centres."""
        c = self.centres
        mid = 0.5 * (c[1:] + c[:-1])
        return np.concatenate(([c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]))

    @property
    def widths(self) -> np.ndarray:
        """Channel widths in eV (n,)."""
        return np.diff(self.edges)

    @property
    def dispersion(self) -> float:
        """Median channel width in eV."""
        return float(np.median(self.widths))


def _unit_scale(units) -> float:
    key = str(units).strip().lower()
    if key not in _UNIT_SCALE:
        raise PreprocessingError(
            f"Unknown energy units {units!r}: the energy axis must be in 'eV' or "
            "'keV'. For a HyperSpy signal set them with "
            "`s.axes_manager.signal_axes[0].units = 'eV'` (after checking the scale)."
        )
    return _UNIT_SCALE[key]


def energy_axis_from_signal(signal) -> EnergyAxis:
    """The :class:`EnergyAxis` of a HyperSpy signal's (only) signal axis.

    Works for uniform and non-uniform axes in eV or keV.

    Raises
    ------
    PreprocessingError
        If the signal does not have exactly one signal dimension, or for the
        axis errors listed in :meth:`EnergyAxis.from_values`.
    """
    sig_axes = signal.axes_manager.signal_axes
    if len(sig_axes) != 1:
        raise PreprocessingError(
            f"Element identification needs a 1-D spectrum per pixel, but this signal "
            f"has signal dimension {len(sig_axes)}. Use a Signal1D/EELSSpectrum, e.g. "
            "`s.transpose(signal_axes=[<energy axis>])`."
        )
    axis = sig_axes[0]
    return EnergyAxis.from_values(axis.axis, axis.units)


def spectra_last(signal):
    """The data of a HyperSpy signal with its (only) signal axis last.

    A view (numpy) or a lazy transposition (dask); nothing is copied.
    """
    data = signal.data
    index = signal.axes_manager.signal_axes[0].index_in_array
    if index != data.ndim - 1:
        data = data.swapaxes(index, -1) if signal._lazy else np.moveaxis(data, index, -1)
    return data


def energy_in_one_chunk(data):
    """A dask array of spectra (energy last) with the whole energy axis in every chunk.

    Returned unchanged when it already is. Otherwise the navigation chunks are
    chosen again by dask (``"auto"``, within its ``array.chunk-size``): keeping them
    while joining the energy chunks would multiply each block's size by the number
    of energy chunks (a 512 x 512 x 2048 image stored in 64-channel chunks would be
    read in one 2 GiB block).
    """
    if data.chunks[-1] == (data.shape[-1],):
        return data
    return data.rechunk({**{i: "auto" for i in range(data.ndim - 1)}, data.ndim - 1: -1})


# --------------------------------------------------------------------------
# Resampling as a sparse linear operator
# --------------------------------------------------------------------------
def _integration_matrix(axis: EnergyAxis):
    """Exact overlap of source channels with the 1 eV bins."""
    edges = axis.edges
    lo = GRID - 0.5
    hi = GRID + 0.5
    measured = (lo >= edges[0] - 1e-9) & (hi <= edges[-1] + 1e-9)
    ks = np.nonzero(measured)[0]
    rows, cols, vals = [], [], []
    # source channels overlapping bin k: from searchsorted of the bin limits
    first = np.searchsorted(edges, lo[ks], side="right") - 1
    last = np.searchsorted(edges, hi[ks], side="left") - 1
    first = np.clip(first, 0, axis.centres.size - 1)
    last = np.clip(last, 0, axis.centres.size - 1)
    span = int((last - first).max()) + 1 if ks.size else 0
    for j in range(span):
        i = first + j
        ok = i <= last
        kk, ii = ks[ok], i[ok]
        overlap = np.minimum(edges[ii + 1], hi[kk]) - np.maximum(edges[ii], lo[kk])
        frac = overlap / (edges[ii + 1] - edges[ii])
        keep = frac > 0
        rows.append(ii[keep])
        cols.append(kk[keep])
        vals.append(frac[keep])
    matrix = sparse.csr_matrix(
        (np.concatenate(vals) if vals else [], (np.concatenate(rows) if rows else [], np.concatenate(cols) if cols else [])),
        shape=(axis.centres.size, N_CHANNELS),
    )
    return matrix, measured


def _spline_matrix(axis: EnergyAxis, tol: float = 1e-7, margin: int = 24):
    """Cubic-spline interpolation of the count density at the bin centres."""
    c = axis.centres
    measured = (GRID >= c[0] - 1e-9) & (GRID <= c[-1] + 1e-9)
    ks = np.nonzero(measured)[0]
    # Only channels near the grid matter: spline weights decay by about a
    # factor 4 per channel, so `margin` channels beyond the grid suffice.
    i0 = max(int(np.searchsorted(c, GRID[0])) - margin, 0)
    i1 = min(int(np.searchsorted(c, GRID[-1])) + margin, c.size)
    sub = c[i0:i1]
    # The spline is linear in the data: interpolating the identity gives the
    # weight of every source channel at every target energy.
    weights = CubicSpline(sub, np.eye(sub.size), axis=0)(GRID[ks]).T
    weights[np.abs(weights) < tol] = 0.0
    # counts -> density (divide by source width); density x 1 eV = counts per bin
    weights /= axis.widths[i0:i1, None]
    rows, cols = np.nonzero(weights)
    matrix = sparse.csr_matrix(
        (weights[rows, cols], (rows + i0, ks[cols])), shape=(c.size, N_CHANNELS)
    )
    return matrix, measured


@lru_cache(maxsize=16)
def _cached_matrix(centres_bytes: bytes, n: int):
    axis = EnergyAxis(np.frombuffer(centres_bytes, dtype=np.float64, count=n))
    if axis.dispersion < 1.0:
        matrix, measured = _integration_matrix(axis)
    else:
        matrix, measured = _spline_matrix(axis)
    window = measured & (GRID >= E_MIN_NETWORK)
    window.setflags(write=False)
    return matrix.astype(np.float32), window


def resampling_matrix(axis: EnergyAxis):
    """Sparse matrix that maps counts per source channel to counts per 1 eV bin.

    Parameters
    ----------
    axis : EnergyAxis
        The source energy axis (increasing, in eV).

    Returns
    -------
    matrix : scipy.sparse.csr_matrix
        Shape ``(n_source, 3072)``, float32: ``grid = data @ matrix``.
    window : numpy.ndarray
        Boolean ``(3072,)``: channels that are measured and at or above 75 eV.

    Raises
    ------
    PreprocessingError
        If fewer than :data:`MIN_WINDOW_EV` eV of the spectrum lie inside
        75..3071 eV.
    """
    c = np.ascontiguousarray(axis.centres, dtype=np.float64)
    matrix, window = _cached_matrix(c.tobytes(), c.size)
    n_window = int(window.sum())
    if n_window < MIN_WINDOW_EV:
        raise PreprocessingError(
            f"The spectrum covers {axis.centres[0]:.1f}-{axis.centres[-1]:.1f} eV, which "
            f"leaves {n_window} eV inside the range the networks see "
            f"({E_MIN_NETWORK:g}-{E_MAX_NETWORK:g} eV); at least {MIN_WINDOW_EV:g} eV "
            "are needed. Core-loss edges must be measured within 75-3071 eV."
        )
    return matrix, window


def _check_values(block: np.ndarray) -> None:
    if not np.all(np.isfinite(block)):
        raise PreprocessingError(
            "The spectrum contains NaN or inf values. Replace them first, e.g. "
            "`s.data = np.nan_to_num(s.data)` on a copy, or crop the affected channels; "
            "in a spectrum image, `identify_elements(navigation_mask=...)` leaves whole pixels out."
        )


def _as_real_float(data) -> np.ndarray:
    if np.iscomplexobj(data):
        raise PreprocessingError(
            "The spectrum is complex-valued; element identification needs real "
            "counts (take the modulus or real part explicitly first)."
        )
    dtype = np.dtype(data.dtype)
    if not (np.issubdtype(dtype, np.number) or dtype == np.bool_):
        raise PreprocessingError(f"The spectrum has non-numeric dtype {dtype}.")
    return data


def _check_channels(data, axis: EnergyAxis) -> None:
    if data.ndim < 1 or data.shape[-1] != axis.centres.size:
        raise PreprocessingError(
            f"The data have {data.shape[-1] if data.ndim else 0} channels along the "
            f"last axis but the energy axis has {axis.centres.size}."
        )


def _resample_block(block: np.ndarray, matrix) -> np.ndarray:
    flat = np.asarray(block, dtype=np.float32).reshape(-1, block.shape[-1])
    _check_values(flat)
    out = np.asarray(flat @ matrix, dtype=np.float32)
    return out.reshape(block.shape[:-1] + (N_CHANNELS,))


class ReadoutCuts(NamedTuple):
    """Where preprocessing started reading spectra after a read-out artefact.

    ``splices``: for each spectrum cut at a gain splice, the energy (eV) it is
    read from (:func:`~hyperspy_eelsid.splices.splice_onsets`);
    ``saturation``: for each spectrum cut after a saturated run, the first
    energy after the run (:func:`~hyperspy_eelsid.saturation.saturated_runs`);
    ``clipped``: for each spectrum with a saturated run that was not cut
    (well inside its range: a clipped peak), where the run starts.
    """

    splices: np.ndarray
    saturation: np.ndarray
    clipped: np.ndarray

    @classmethod
    def none(cls) -> "ReadoutCuts":
        return cls(np.empty(0), np.empty(0), np.empty(0))

    @classmethod
    def concatenate(cls, parts) -> "ReadoutCuts":
        parts = list(parts)
        if not parts:
            return cls.none()
        return cls(*(np.concatenate([p[k] for p in parts]) for k in range(3)))

    def warn(self, n_spectra: int) -> None:
        """One :class:`~hyperspy_eelsid.splices.SpliceWarning`, one
        :class:`~hyperspy_eelsid.saturation.SaturationWarning` and one
        :class:`~hyperspy_eelsid.saturation.ClippedPeaksWarning`, for what was
        found, attributed to the user's call."""
        for energies, kind in ((self.splices, SpliceWarning), (self.saturation, SaturationWarning),
                               (self.clipped, ClippedPeaksWarning)):
            if energies.size:
                warnings.warn(kind(energies.size, n_spectra, energies), stacklevel=user_stacklevel())


def _cut_starts(onsets, runs, first_read, xp=np):
    """Per spectrum: where to start reading (``fmax`` of the splice and the end of a first saturated
    run that starts within ``SATURATION_START_EV`` of the read start), that end, and where the clipped
    channels that are not cut start and end (a peak clipped further in; the end is infinite for a
    run that reaches the last channel). ``runs``: the four outputs of ``saturated_runs``; ``xp``:
    numpy or torch."""
    first, after_first, rest, after_rest = runs
    nan = xp.full_like(after_first, float("nan"))
    read_start = xp.fmax(onsets, xp.full_like(onsets, first_read))
    at_start = (first - read_start) <= SATURATION_START_EV  # False where there is no run (NaN)
    ends = xp.where(at_start, after_first, nan)
    clipped = xp.where(at_start, rest, first)
    clipped_end = xp.fmax(xp.where(at_start, nan, after_first), after_rest)
    clipped_end = xp.where(xp.isfinite(clipped) & ~xp.isfinite(clipped_end), xp.full_like(nan, float("inf")),
                           clipped_end)
    return xp.fmax(onsets, ends), ends, clipped, clipped_end


def _readout_scan(flat: np.ndarray, energy, cut_splices: bool = True, cut_saturation: bool = True):
    """Per spectrum of ``flat`` ``(n, channels)``: the splice onset and the four outputs of
    ``saturated_runs`` (NaN where there is none or where that check is off)."""
    nan = np.full(flat.shape[0], np.nan)
    onsets = splice_onsets(flat, energy) if cut_splices and flat.size else nan
    runs = saturated_runs(flat, energy) if cut_saturation and flat.size else (nan,) * 4
    return onsets, runs


def _readout_mask(block: np.ndarray, axis: EnergyAxis, window: np.ndarray, cut_splices: bool = True,
                  cut_saturation: bool = True, without_clipped: bool = False):
    """Measured channels per spectrum, without those below a gain splice or up to a saturated run.

    Returns the mask (``window`` itself when no spectrum of ``block`` is
    cut, else one row per spectrum) and the :class:`ReadoutCuts` made. A cut
    that would leave less than ``MIN_WINDOW_EV`` measured is not made. With
    ``without_clipped``, the channels of clipped peaks (which the networks
    read as recorded) are left out too.
    """
    flat = np.asarray(block).reshape(-1, block.shape[-1])
    onsets, runs = _readout_scan(flat, axis.centres, cut_splices, cut_saturation)
    first_read = GRID[np.argmax(window)] if window.any() else np.inf
    start, ends, clipped, clipped_end = _cut_starts(onsets, runs, first_read)
    peaks = np.flatnonzero(np.isfinite(clipped)) if without_clipped else np.empty(0, dtype=int)
    cut = np.flatnonzero(np.isfinite(start))
    if cut.size == 0 and peaks.size == 0:
        return window, ReadoutCuts(np.empty(0), np.empty(0), clipped[np.isfinite(clipped)])
    mask = np.repeat(window[None, :], flat.shape[0], axis=0)
    # the 1 eV bins that hold part of a clipped peak
    mask[peaks] &= ~((GRID[None, :] > clipped[peaks, None] - 1.0) & (GRID[None, :] < clipped_end[peaks, None]))
    clipped = clipped[np.isfinite(clipped)]
    if cut.size == 0:
        return mask.reshape(block.shape[:-1] + (N_CHANNELS,)), ReadoutCuts(np.empty(0), np.empty(0), clipped)
    # the 1 eV bin holding the first channel read may hold part of the rise (or of the clipped run)
    kept = mask[cut] & (GRID[None, :] >= start[cut, None] + 1.0)
    enough = kept.sum(axis=-1) >= MIN_WINDOW_EV  # else the spectrum is left as measured
    mask[cut[enough]] = kept[enough]
    mask = mask.reshape(block.shape[:-1] + (N_CHANNELS,))
    made = cut[enough]
    return mask, ReadoutCuts(onsets[made][np.isfinite(onsets[made])], ends[made][np.isfinite(ends[made])], clipped)


def readout_windows(data, axis: EnergyAxis, cut_splices: bool = True, cut_saturation: bool = True):
    """The channels of the network grid that :func:`preprocess` reads and that hold trustworthy counts.

    The axis's window without the channels below a gain splice or up to a
    saturated run, as the networks see it, and without the channels of
    clipped peaks further in (which the networks read as recorded but whose
    heights are wrong): what a fit of line shapes may use. ``data``: raw
    spectra ``(n, channels)``. Returns a boolean ``(n, 3072)`` array (the
    axis's window repeated where nothing is left out) and the :class:`ReadoutCuts`.
    """
    data = np.asarray(data).reshape(-1, axis.centres.size)
    if axis.reversed:
        data = data[..., ::-1]
    window = resampling_matrix(axis)[1]
    if cut_splices or cut_saturation:
        mask, cuts = _readout_mask(data, axis, window, cut_splices, cut_saturation, without_clipped=True)
    else:
        mask, cuts = window, ReadoutCuts.none()
    return np.broadcast_to(mask, (data.shape[0], N_CHANNELS)), cuts


def _finalise_block(raw: np.ndarray, grid: np.ndarray, axis: EnergyAxis, window, cut_splices: bool,
                    cut_saturation: bool = True):
    """``finalise_on_grid`` of one resampled block; also returns the :class:`ReadoutCuts` made."""
    if not (cut_splices or cut_saturation):
        return finalise_on_grid(grid, window), ReadoutCuts.none()
    mask, cuts = _readout_mask(raw, axis, window, cut_splices, cut_saturation)
    return finalise_on_grid(grid, mask), cuts


def _numpy_blocks(data, axis: EnergyAxis, block_size: int, finalise: bool, cut_splices: bool = True,
                  cut_saturation: bool = True):
    """Resample (and optionally finalise) a numpy stack block by block.

    Returns the grid, the window and the :class:`ReadoutCuts` made.
    """
    data = _as_real_float(np.asarray(data))
    _check_channels(data, axis)
    if axis.reversed:
        data = data[..., ::-1]
    matrix, window = resampling_matrix(axis)
    flat = data.reshape(-1, data.shape[-1])
    out = np.empty((flat.shape[0], N_CHANNELS), dtype=np.float32)
    cuts = []
    for start in range(0, flat.shape[0], block_size):
        raw = flat[start : start + block_size]
        grid = _resample_block(raw, matrix)
        if finalise:
            grid, cut = _finalise_block(raw, grid, axis, window, cut_splices, cut_saturation)
            cuts.append(cut)
        out[start : start + block_size] = grid
    return out.reshape(data.shape[:-1] + (N_CHANNELS,)), window, ReadoutCuts.concatenate(cuts)


def resample_to_grid(data, axis: EnergyAxis, block_size: int = _DEFAULT_BLOCK):
    """Resample counts per channel to counts per 1 eV on the network grid.

    Parameters
    ----------
    data : array_like
        Spectra, energy along the last axis, any leading (navigation) shape.
        Read only; never modified.
    axis : EnergyAxis
        Energy axis of the last dimension of ``data``.
    block_size : int
        Number of spectra resampled at a time (bounds the memory).

    Returns
    -------
    grid : numpy.ndarray
        float32, shape ``data.shape[:-1] + (3072,)``: counts per eV. Channels
        outside the measured range are zero; the low-loss region is *kept*
        (it is zeroed by :func:`finalise_on_grid`).
    window : numpy.ndarray
        Boolean ``(3072,)`` mask of measured channels at or above 75 eV.
    """
    grid, window, _ = _numpy_blocks(data, axis, block_size, finalise=False)
    return grid, window


# --------------------------------------------------------------------------
# Normalisation (shared with the simulator)
# --------------------------------------------------------------------------
def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def finalise_on_grid(spectra, mask):
    """Zero what the networks must not see and normalise each spectrum.

    The one normalisation used for real and simulated spectra alike.

    Parameters
    ----------
    spectra : numpy.ndarray or torch.Tensor
        Counts per eV on the network grid, shape ``(..., 3072)``.
    mask : numpy.ndarray or torch.Tensor
        Boolean, broadcastable to ``spectra``: measured channels.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same type and device as ``spectra``, float32: zero below 75 eV and
        outside ``mask``; every spectrum divided by its maximum inside the
        window (spectra without positive counts stay zero).
    """
    if _is_torch(spectra):
        import torch

        grid = torch.arange(N_CHANNELS, device=spectra.device)
        mask = torch.as_tensor(mask, device=spectra.device).bool() & (grid >= E_MIN_NETWORK)
        x = torch.where(mask, spectra.float(), torch.zeros((), device=spectra.device))
        peak = torch.amax(x, dim=-1, keepdim=True)
        scale = torch.where(peak > 0, 1.0 / torch.where(peak > 0, peak, 1.0), 0.0)
        return x * scale
    spectra = np.asarray(spectra)
    mask = np.asarray(mask, dtype=bool) & (GRID >= E_MIN_NETWORK)
    x = np.where(mask, spectra, np.float32(0)).astype(np.float32, copy=False)
    peak = x.max(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        scale = np.where(peak > 0, np.float32(1) / np.where(peak > 0, peak, 1), 0)
    return (x * scale.astype(np.float32)).astype(np.float32, copy=False)


# --------------------------------------------------------------------------
# The same steps with torch, on a GPU
# --------------------------------------------------------------------------
_DEVICE_MATRICES: dict = {}


def _device_matrix(matrix, device):
    """The resampling matrix as a dense float32 tensor on ``device`` (cached)."""
    import torch

    key = (id(matrix), str(device))
    cached = _DEVICE_MATRICES.get(key)
    if cached is None or cached[0] is not matrix:
        if len(_DEVICE_MATRICES) >= 8:
            _DEVICE_MATRICES.clear()
        cached = (matrix, torch.as_tensor(matrix.toarray(), dtype=torch.float32, device=device))
        _DEVICE_MATRICES[key] = cached
    return cached[1]


def preprocess_on_device(data, axis: EnergyAxis, device, cut_splices: bool = True, cut_saturation: bool = True):
    """:func:`preprocess` of one block of spectra, computed with torch on ``device``.

    The steps and results of the numpy path (resampling matrix, gain splices,
    saturated runs, :func:`finalise_on_grid`), for a GPU: the block is copied to the device
    once and the network input stays there. On a CPU the numpy path is
    faster; the front end uses this function only for CUDA devices.

    Parameters
    ----------
    data : numpy.ndarray
        Spectra ``(N, n_channels)`` (or any leading shape), read only.
    axis : EnergyAxis
        Energy axis of the last dimension.
    device : str or torch.device
        Where to compute, e.g. ``"cuda"``.
    cut_splices, cut_saturation : bool
        As for :func:`preprocess`.

    Returns
    -------
    x : torch.Tensor
        float32 ``(N, 3072)`` on ``device``: the network input.
    window : numpy.ndarray
        Boolean ``(3072,)``, as for :func:`preprocess`.
    cuts : ReadoutCuts
        Energies (eV) from which spliced and saturated spectra were read.

    Raises
    ------
    PreprocessingError
        As for :func:`preprocess`.
    """
    import torch

    data = _as_real_float(np.asarray(data))
    _check_channels(data, axis)
    if axis.reversed:
        data = data[..., ::-1]
    matrix, window = resampling_matrix(axis)
    flat = np.ascontiguousarray(data.reshape(-1, data.shape[-1]), dtype=np.float32)
    raw = torch.from_numpy(flat).to(device, non_blocking=True)
    if not bool(torch.isfinite(raw).all()):
        _check_values(flat)  # raises the numpy path's error
    grid = raw @ _device_matrix(matrix, raw.device)
    mask = torch.from_numpy(window.copy()).to(raw.device)
    cuts = ReadoutCuts.none()
    if cut_splices or cut_saturation:
        nan = torch.full((raw.shape[0],), float("nan"), dtype=torch.float64, device=raw.device)
        onsets = splice_onsets_torch(raw, axis.centres) if cut_splices else nan
        runs = saturated_runs_torch(raw, axis.centres) if cut_saturation else (nan,) * 4
        first_read = float(GRID[np.argmax(window)]) if window.any() else float("inf")
        start, ends, clipped, _ = _cut_starts(onsets, runs, first_read, xp=torch)
        clipped = clipped[torch.isfinite(clipped)].cpu().numpy()
        found = torch.isfinite(start)
        cuts = ReadoutCuts(np.empty(0), np.empty(0), clipped)
        if bool(found.any()):
            centres = torch.arange(N_CHANNELS, dtype=torch.float64, device=raw.device)  # GRID
            kept = mask[None, :] & (centres[None, :] >= start[:, None] + 1.0)
            cut = found & (kept.sum(dim=-1) >= MIN_WINDOW_EV)
            mask = torch.where(cut[:, None], kept, mask[None, :])
            splices, saturation = onsets[cut], ends[cut]
            cuts = ReadoutCuts(splices[torch.isfinite(splices)].cpu().numpy(),
                               saturation[torch.isfinite(saturation)].cpu().numpy(), clipped)
    return finalise_on_grid(grid, mask), window, cuts


# --------------------------------------------------------------------------
# The one entry point
# --------------------------------------------------------------------------
def _preprocess_dask(data, axis, block_size, cut_splices, cut_saturation=True):
    import dask.array as da

    _as_real_float(data)
    _check_channels(data, axis)
    if axis.reversed:
        data = data[..., ::-1]
    matrix, window = resampling_matrix(axis)
    data = energy_in_one_chunk(data)  # navigation chunks kept where the energy axis is one chunk

    def block(b):
        x, cuts = _finalise_block(b, _resample_block(b, matrix), axis, window, cut_splices, cut_saturation)
        cuts.warn(int(np.prod(b.shape[:-1], dtype=int)))
        return x

    out = da.map_blocks(
        block,
        data,
        dtype=np.float32,
        chunks=data.chunks[:-1] + ((N_CHANNELS,),),
        meta=np.empty((0,) * data.ndim, dtype=np.float32),
    )
    return out, window


def preprocess(data, energy=None, units: str = "eV", block_size: int = _DEFAULT_BLOCK,
               cut_splices: bool = True, cut_saturation: bool = True):
    """Turn measured or simulated spectra into network input.

    Parameters
    ----------
    data : numpy.ndarray, dask.array.Array or hyperspy.signals.Signal1D
        Spectra with energy along the last axis and any leading navigation
        shape, or a HyperSpy signal (uniform or non-uniform signal axis, in eV
        or keV; lazy signals give a lazy result). Never modified.
    energy : array_like, optional
        Channel centres of the last axis of an array ``data`` (required for
        arrays, ignored for signals).
    units : str
        Units of ``energy``: ``"eV"`` (default) or ``"keV"``.
    block_size : int
        Spectra processed at a time, which bounds the memory used.
    cut_splices : bool
        Treat the channels below a gain splice (a spectrum stitched from a
        weak and a strong read-out, see :mod:`hyperspy_eelsid.splices`) as
        not measured (default), with a :class:`~hyperspy_eelsid.splices.SpliceWarning`.
    cut_saturation : bool
        Treat the channels up to the end of a saturated run at the start of
        the range (channels clipped at the detector's highest count, see
        :mod:`hyperspy_eelsid.saturation`) as not measured (default), with a
        :class:`~hyperspy_eelsid.saturation.SaturationWarning`; report runs
        further in with a :class:`~hyperspy_eelsid.saturation.ClippedPeaksWarning`.

    Returns
    -------
    x : numpy.ndarray or dask.array.Array
        float32, shape ``navigation shape + (3072,)``, the network input.
    window : numpy.ndarray
        Boolean ``(3072,)``: the measured channels at or above 75 eV (before
        any splice or saturated run is cut).

    Raises
    ------
    PreprocessingError
        For NaN/inf values, complex data, a signal dimension other than 1,
        unknown energy units, channel widths outside 0.01-10 eV or less than
        20 eV measured inside 75-3071 eV.

    Examples
    --------
    >>> import numpy as np
    >>> energy = np.arange(300.0, 900.0, 0.5)
    >>> x, window = preprocess(np.ones((2, energy.size)), energy)
    >>> x.shape, bool(window[400]), bool(window[100])
    ((2, 3072), True, False)
    """
    if hasattr(data, "axes_manager"):
        axis = energy_axis_from_signal(data)
        data = spectra_last(data)
    else:
        if energy is None:
            raise PreprocessingError(
                "An array needs its energy axis: pass `energy=` with one value per "
                "channel (or pass a HyperSpy signal)."
            )
        axis = EnergyAxis.from_values(energy, units)
    if type(data).__module__.startswith("dask"):
        return _preprocess_dask(data, axis, block_size, cut_splices, cut_saturation)
    x, window, cuts = _numpy_blocks(data, axis, block_size, finalise=True, cut_splices=cut_splices,
                                    cut_saturation=cut_saturation)
    cuts.warn(int(np.prod(x.shape[:-1], dtype=int)))
    return x, window
