"""Gain splices: spectra stitched from two read-outs of very different gain.

Many reference spectra, the Gatan EELS Atlas among them, are stored as one
record made of a short low-loss read-out and a long core-loss read-out: below
a *splice* energy (anywhere from 50 to 700 eV) the counts come from the
weak read-out (or are blanked to a constant), above it they jump by one to
three orders of magnitude within a few eV and stay there. A network trained
on single read-outs reads that step as an edge, and the maximum used for the
normalisation sits just after it. :func:`splice_onsets` finds the splice, and
:func:`hyperspy_eelsid.preprocessing.preprocess` then treats the channels
below it as not measured.

A splice is a step that no core-loss edge makes: within ``ramp_ev`` (10 eV)
of a channel the counts rise to at least ``factor`` (30) times the highest
count of the ``before_ev`` (10 eV) before it, and stay above that for the
next ``after_ev`` (20 eV). Measured splices rise 34 times or more; on 2,048
spectra of the most extreme simulator setting (``realistic_v6``: white lines
and fine structure up to 10 and 30 times the edge, jump ratios up to 1.5)
the largest such step is 20 times. Channels with zero or negative counts
before the step (background-subtracted or blanked data) never start one, so
the detection leaves such spectra alone.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d

__all__ = ["SPLICE_FACTOR", "SpliceWarning", "splice_onsets", "largest_steps"]

SPLICE_FACTOR: float = 30.0
"""Smallest rise (after / before) that counts as a gain splice."""

#: Splices are looked for from this energy loss (eV) on: below it the
#: zero-loss peak rises far more steeply than any splice.
SPLICE_E_MIN: float = 40.0


class SpliceWarning(UserWarning):
    """Some spectra were stitched from two read-outs; the weak part was not used.

    Attributes
    ----------
    n_spliced : int
        Number of spectra with a splice.
    n_spectra : int
        Number of spectra looked at.
    energies : numpy.ndarray
        Where each spliced spectrum restarts (eV).
    """

    def __init__(self, n_spliced: int, n_spectra: int, energies=()):
        self.n_spliced, self.n_spectra = int(n_spliced), int(n_spectra)
        self.energies = np.asarray(energies, dtype=float).ravel()
        where = energy_span(self.energies, "at")
        super().__init__(
            f"{self.n_spliced} of {self.n_spectra} spectra are stitched from two read-outs "
            f"(the counts jump at least {SPLICE_FACTOR:g}-fold{where}, as in Gatan EELS Atlas "
            "spectra); the channels below the jump were not used. Pass cut_splices=False "
            "to use them."
        )


def energy_span(energies, word: str) -> str:
    """`` <word> 300 eV`` or `` <word> 300-420 eV`` for a warning; empty for no energies."""
    energies = np.asarray(energies, dtype=float).ravel()
    if energies.size == 0:
        return ""
    lo, hi = float(energies.min()), float(energies.max())
    return f" {word} {lo:.0f} eV" if hi - lo < 1 else f" {word} {lo:.0f}-{hi:.0f} eV"


def _window_channels(width_ev: float, dispersion: float, minimum: int) -> int:
    return max(minimum, int(round(width_ev / dispersion)))


def _window_sizes(energy, before_ev, ramp_ev, after_ev):
    """Channels in the before, ramp and after windows, and the candidate
    channels ``first .. last - 1`` (``last <= first`` when there are none)."""
    n = energy.size
    dispersion = float(np.median(np.diff(energy))) if n > 1 else 1.0
    nb = _window_channels(before_ev, dispersion, 1)
    nr = _window_channels(ramp_ev, dispersion, 1)
    na = _window_channels(after_ev, dispersion, 2)
    last = n - nr - na  # exclusive: the after-window must fit
    first = max(int(np.searchsorted(energy, SPLICE_E_MIN)), nb)
    return nb, nr, na, first, last


def _windows(flat, energy, before_ev, ramp_ev, after_ev):
    """For each candidate channel i: the highest and lowest count of the
    ``before_ev`` up to i and the lowest count of the ``after_ev`` that follow
    a rise of ``ramp_ev``; ``None`` when the spectrum is too short."""
    nb, nr, na, first, last = _window_sizes(energy, before_ev, ramp_ev, after_ev)
    if flat.size == 0 or last <= first:
        return None
    # before: channels i - nb .. i; after: channels i + nr + 1 .. i + nr + na
    s_before = nb + 1
    before_max = maximum_filter1d(flat, s_before, axis=-1, origin=nb - s_before // 2)
    before_min = minimum_filter1d(flat, s_before, axis=-1, origin=nb - s_before // 2)
    after_min = minimum_filter1d(flat, na, axis=-1, origin=-(na // 2))
    i = np.arange(first, last)
    return i, before_min[:, first:last], before_max[:, first:last], after_min[:, first + nr + 1 : last + nr + 1]


def _may_step(flat, energy, factor, before_ev, ramp_ev, after_ev):
    """Rows of ``flat`` that may hold a rise of ``factor``: a splice at channel i needs
    ``0 < x[i]`` and ``x[i + nr + 1] >= factor * x[i]`` (x[i] is in the before-window, whose
    maximum it cannot exceed, and x[i + nr + 1] in the after-window, whose minimum it cannot
    undercut), a test of two shifted views that is far cheaper than the sliding windows.
    Every other row has no splice."""
    nb, nr, na, first, last = _window_sizes(energy, before_ev, ramp_ev, after_ev)
    if flat.size == 0 or last <= first:
        return np.empty(0, dtype=np.intp)
    before, after = flat[:, first:last], flat[:, first + nr + 1 : last + nr + 1]
    return np.flatnonzero(((before > 0) & (after >= np.float32(factor) * before)).any(axis=-1))


def _flat(spectra, energy):
    data = np.asarray(spectra, dtype=np.float32)
    return data.shape[:-1], data.reshape(-1, data.shape[-1]), np.asarray(energy, dtype=np.float64)


def splice_onsets(
    spectra,
    energy,
    factor: float = SPLICE_FACTOR,
    before_ev: float = 10.0,
    ramp_ev: float = 10.0,
    after_ev: float = 20.0,
) -> np.ndarray:
    """Energy at which each spectrum restarts after a gain splice.

    Parameters
    ----------
    spectra : array_like
        Counts, energy along the last axis (increasing), any leading shape.
        Read only.
    energy : array_like
        Channel centres in eV, increasing, one per channel.
    factor : float
        Smallest rise, after over before, that counts as a splice.
    before_ev, ramp_ev, after_ev : float
        Widths (eV) of the window before the step, of the rise allowed, and
        of the window after it in which the counts must stay high.

    Returns
    -------
    numpy.ndarray
        float64, the leading shape of ``spectra``: the centre (eV) of the
        first channel that reaches half the level after the first splice,
        NaN for spectra without one.

    Examples
    --------
    >>> import numpy as np
    >>> energy = np.arange(50.0, 600.0)
    >>> counts = np.where(energy < 200, 1e3, 1e5) * (energy / 50.0) ** -3
    >>> splice_onsets(counts, energy)
    array(200.)
    >>> splice_onsets(np.full(energy.size, 1e3), energy)
    array(nan)
    """
    lead, flat, energy = _flat(spectra, energy)
    out = np.full(flat.shape[0], np.nan)
    candidates = _may_step(flat, energy, factor, before_ev, ramp_ev, after_ev)
    windows = _windows(flat[candidates], energy, before_ev, ramp_ev, after_ev) if candidates.size else None
    if windows is None:
        return out.reshape(lead)
    i, before_min, before_max, after = windows
    step = (before_min > 0) & (after >= factor * before_max)
    for r in np.flatnonzero(step.any(axis=-1)):
        k = int(np.argmax(step[r]))
        start = i[k] + 1
        level = 0.5 * after[r, k]
        row = flat[candidates[r]]
        out[candidates[r]] = energy[start + int(np.argmax(row[start:] >= level))]
    return out.reshape(lead)


def splice_onsets_torch(spectra, energy, factor: float = SPLICE_FACTOR, before_ev: float = 10.0,
                        ramp_ev: float = 10.0, after_ev: float = 20.0):
    """:func:`splice_onsets` for a torch tensor ``(N, n_channels)``, on its device.

    The same windows and rules, vectorised over the spectra (sliding maxima
    and minima by pooling), so that spectra preprocessed on a GPU never
    travel back to the host for this step. Returns a float64 tensor ``(N,)``
    on the same device: splice energies in eV, NaN where there is none.
    """
    import torch
    import torch.nn.functional as F

    energy = np.asarray(energy, dtype=np.float64)
    x = spectra.float()
    out = torch.full((x.shape[0],), float("nan"), dtype=torch.float64, device=x.device)
    nb, nr, na, first, last = _window_sizes(energy, before_ev, ramp_ev, after_ev)
    if x.numel() == 0 or last <= first:
        return out
    col = x[:, None, :]
    # pool[j] covers channels j .. j + size - 1
    before_max = F.max_pool1d(col, nb + 1, stride=1)[:, 0, first - nb : last - nb]
    before_min = -F.max_pool1d(-col, nb + 1, stride=1)[:, 0, first - nb : last - nb]
    after = -F.max_pool1d(-col, na, stride=1)[:, 0, first + nr + 1 : last + nr + 1]
    step = (before_min > 0) & (after >= factor * before_max)
    has = step.any(dim=-1)
    if not bool(has.any()):
        return out
    k = torch.argmax(step[has].to(torch.uint8), dim=-1)
    rows = x[has]
    start = first + k + 1
    level = 0.5 * after[has].gather(1, k[:, None])
    channel = torch.arange(x.shape[-1], device=x.device)
    reached = (channel[None, :] >= start[:, None]) & (rows >= level)
    first_high = torch.argmax(reached.to(torch.uint8), dim=-1)
    out[has] = torch.as_tensor(energy, device=x.device)[first_high]
    return out


def largest_steps(spectra, energy, before_ev: float = 10.0, ramp_ev: float = 10.0,
                  after_ev: float = 20.0) -> np.ndarray:
    """The largest rise (after over before, as :func:`splice_onsets` measures it) of each spectrum.

    Shows how far a spectrum is from counting as spliced: it is spliced
    where this reaches ``SPLICE_FACTOR``. Windows whose counts before the
    rise are not all positive are not counted.

    Returns
    -------
    numpy.ndarray
        float64, the leading shape of ``spectra``; 0 where no window counts.

    Examples
    --------
    >>> import numpy as np
    >>> energy = np.arange(50.0, 600.0)
    >>> float(largest_steps(np.where(energy < 200, 1e3, 1e5), energy))
    100.0
    """
    lead, flat, energy = _flat(spectra, energy)
    windows = _windows(flat, energy, before_ev, ramp_ev, after_ev)
    if windows is None:
        return np.zeros(lead)
    _, before_min, before_max, after = windows
    ratio = np.where(before_min > 0, after / np.where(before_min > 0, before_max, 1.0), 0.0)
    return ratio.max(axis=-1).astype(np.float64).reshape(lead)
