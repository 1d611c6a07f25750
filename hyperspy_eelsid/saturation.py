"""Detector saturation: runs of channels clipped at the highest count the read-out can hold.

A spectrometer camera that overflows records the same, highest possible
count in every overflowing channel: a flat top on the spectrum where the
true counts were higher. Reference spectra recorded with one long exposure
for a wide energy range are the usual case (in the real-spectrum benchmark,
a Se spectrum clipped at 522,240 counts over 228-470 eV and an RbF spectrum
clipped at 512,000 over 516-588 eV). A network reads the end of the flat top
as an edge (N K after the Se plateau, O K after the RbF one), and the
normalisation divides by the clipped level.

:func:`saturation_ends` finds such a run: at least
:data:`SATURATION_MIN_CHANNELS` consecutive channels that all hold exactly
the spectrum's highest count, that count being at least
:data:`SATURATION_MIN_COUNT`. :func:`hyperspy_eelsid.preprocessing.preprocess`
then treats the channels up to the end of the last such run as not measured,
as it does for the weak part of a gain splice (:mod:`hyperspy_eelsid.splices`):
below a saturated region the counts are the highest of the spectrum (the
background falls with energy), so they were recorded at or near the limit too.

Noisy counts practically never repeat one value five times in a row at their
maximum, so unsaturated spectra are left alone; the lower bound on the count
keeps very sparse spectra (a few counts per channel, where equal runs do
happen by chance) out of the test.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import minimum_filter1d

from hyperspy_eelsid.splices import energy_span

__all__ = [
    "SATURATION_MIN_CHANNELS",
    "SATURATION_MIN_COUNT",
    "SaturationWarning",
    "saturation_ends",
    "saturation_ends_torch",
]

SATURATION_MIN_CHANNELS: int = 5
"""Fewest consecutive channels at the spectrum's highest count that count as saturated."""

SATURATION_MIN_COUNT: float = 100.0
"""Lowest highest-count (counts per channel) at which a run is taken for saturation."""


class SaturationWarning(UserWarning):
    """Some spectra were clipped at the read-out's highest count; the channels up to there were not used.

    Attributes
    ----------
    n_saturated : int
        Number of spectra with a saturated run that was cut.
    n_spectra : int
        Number of spectra looked at.
    energies : numpy.ndarray
        Where each saturated spectrum is read from (eV): the first channel after its last saturated run.
    """

    def __init__(self, n_saturated: int, n_spectra: int, energies=()):
        self.n_saturated, self.n_spectra = int(n_saturated), int(n_spectra)
        self.energies = np.asarray(energies, dtype=float).ravel()
        where = energy_span(self.energies, "up to")
        super().__init__(
            f"{self.n_saturated} of {self.n_spectra} spectra are saturated: {SATURATION_MIN_CHANNELS} or "
            f"more consecutive channels hold exactly the highest count{where} (the detector overflowed). "
            "The channels up to the end of the saturated run were not used. Record with a shorter "
            "exposure to see that region, or pass cut_saturation=False to use the clipped channels."
        )


def _runs_end(at: np.ndarray, n: int) -> np.ndarray:
    """Per row, the index of the last channel of the last run of ``n`` or more True; -1 where none."""
    if at.shape[-1] < n:
        return np.full(at.shape[0], -1)
    # full[:, j]: channels j - n + 1 .. j are all True (j >= n - 1)
    full = minimum_filter1d(at.astype(np.uint8), n, axis=-1, origin=(n - 1) - n // 2) > 0
    full[:, : n - 1] = False
    last = at.shape[-1] - 1 - np.argmax(full[:, ::-1], axis=-1)
    return np.where(full.any(axis=-1), last, -1)


def saturation_ends(spectra, energy, min_channels: int = SATURATION_MIN_CHANNELS,
                    min_count: float = SATURATION_MIN_COUNT) -> np.ndarray:
    """Energy from which each spectrum is free of detector saturation.

    Parameters
    ----------
    spectra : array_like
        Counts per channel, energy along the last axis (increasing), any
        leading shape. Read only.
    energy : array_like
        Channel centres in eV, increasing, one per channel.
    min_channels : int
        Fewest consecutive channels at the spectrum's highest count that make a saturated run.
    min_count : float
        Spectra whose highest count is below this are not tested.

    Returns
    -------
    numpy.ndarray
        float64, the leading shape of ``spectra``: the centre (eV) of the
        first channel after the last saturated run, NaN for spectra without
        one (or whose saturated run reaches the last channel).

    Examples
    --------
    >>> import numpy as np
    >>> energy = np.arange(100.0, 600.0)
    >>> counts = np.minimum(1e7 * (energy / 100.0) ** -3, 5e6)
    >>> saturation_ends(counts, energy)
    array(126.)
    >>> saturation_ends(1e7 * (energy / 100.0) ** -3, energy)
    array(nan)
    """
    data = np.asarray(spectra, dtype=np.float32)
    lead, flat = data.shape[:-1], data.reshape(-1, data.shape[-1])
    energy = np.asarray(energy, dtype=np.float64)
    out = np.full(flat.shape[0], np.nan)
    if flat.size == 0:
        return out.reshape(lead)
    top = flat.max(axis=-1, keepdims=True)
    at = (flat == top) & (top >= min_count)
    last = _runs_end(at, int(min_channels))
    rows = np.flatnonzero((last >= 0) & (last < flat.shape[-1] - 1))
    out[rows] = energy[last[rows] + 1]
    return out.reshape(lead)


def saturation_ends_torch(spectra, energy, min_channels: int = SATURATION_MIN_CHANNELS,
                          min_count: float = SATURATION_MIN_COUNT):
    """:func:`saturation_ends` for a torch tensor ``(N, n_channels)``, on its device.

    Returns a float64 tensor ``(N,)`` on the same device: energies in eV, NaN where there is no saturated run.
    """
    import torch
    import torch.nn.functional as F

    energy = np.asarray(energy, dtype=np.float64)
    x = spectra.float()
    out = torch.full((x.shape[0],), float("nan"), dtype=torch.float64, device=x.device)
    n, n_ch = int(min_channels), x.shape[-1]
    if x.numel() == 0 or n_ch < n:
        return out
    top = x.amax(dim=-1, keepdim=True)
    at = ((x == top) & (top >= min_count)).float()
    # full[:, k]: channels k .. k + n - 1 all saturated; the run's last channel is k + n - 1
    full = -F.max_pool1d(-at[:, None, :], n, stride=1)[:, 0] > 0
    has = full.any(dim=-1)
    last = (full.shape[-1] - 1 - torch.argmax(full.flip(-1).to(torch.uint8), dim=-1)) + n - 1
    ok = has & (last < n_ch - 1)
    if bool(ok.any()):
        out[ok] = torch.as_tensor(energy, device=x.device)[last[ok] + 1]
    return out
