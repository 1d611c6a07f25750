"""Detector saturation: runs of channels clipped at the highest count the read-out can hold.

A spectrometer camera that overflows records the same, highest possible
count in every overflowing channel: a flat top on the spectrum where the
true counts were higher. Reference spectra recorded with one long exposure
for a wide energy range are the usual case (in the real-spectrum benchmark,
a Se spectrum clipped at 522,240 counts over 228-470 eV and an RbF spectrum
clipped at 512,000 over 516-588 eV). A network reads the end of the flat top
as an edge (N K after the Se plateau, O K after the RbF one), and the
normalisation divides by the clipped level.

:func:`saturated_runs` finds such runs: at least
:data:`SATURATION_MIN_CHANNELS` consecutive channels at or above 75 eV that
all hold exactly the spectrum's highest count, that count being at least
:data:`SATURATION_MIN_COUNT`. What :func:`hyperspy_eelsid.preprocessing.preprocess`
does with them depends on where the first one starts:

* within :data:`SATURATION_START_EV` of where the spectrum is read from (the
  start of its measured range, or its gain splice): the camera overflowed
  where the counts are highest, at the start of a core-loss spectrum, so
  the channels up to the end of that run are treated as not measured, as
  the weak part of a gain splice is (:mod:`hyperspy_eelsid.splices`);
* further in (a strong white line clipped at its top, say): the edges below
  it were recorded properly, so nothing is cut; the clipped channels are
  only reported.

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
    "SATURATION_START_EV",
    "ClippedPeaksWarning",
    "SaturationWarning",
    "saturated_runs",
    "saturated_runs_torch",
    "saturation_ends",
]

SATURATION_MIN_CHANNELS: int = 5
"""Fewest consecutive channels at the spectrum's highest count that count as saturated."""

SATURATION_MIN_COUNT: float = 100.0
"""Lowest highest-count (counts per channel) at which a run is taken for saturation."""

SATURATION_START_EV: float = 30.0
"""A first saturated run that starts at most this far (eV) above where a spectrum is read from
is cut with everything below it; one that starts further in is only reported."""

#: Runs are looked for from this energy loss (eV) on; below it lie the zero-loss peak and
#: plasmons, which the networks do not read (a clipped zero-loss peak is common and harmless).
SATURATION_E_MIN: float = 75.0


class SaturationWarning(UserWarning):
    """Some spectra were clipped at the read-out's highest count; the channels up to there were not used.

    Attributes
    ----------
    n_saturated : int
        Number of spectra with a saturated run that was cut.
    n_spectra : int
        Number of spectra looked at.
    energies : numpy.ndarray
        Where each saturated spectrum is read from (eV): the first channel after its saturated run.
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


class ClippedPeaksWarning(UserWarning):
    """Some spectra hold channels clipped at the read-out's highest count well inside their range; read as recorded.

    Attributes
    ----------
    n_clipped : int
        Number of spectra with such channels.
    n_spectra : int
        Number of spectra looked at.
    energies : numpy.ndarray
        Where each one's clipped channels start (eV).
    """

    def __init__(self, n_clipped: int, n_spectra: int, energies=()):
        self.n_clipped, self.n_spectra = int(n_clipped), int(n_spectra)
        self.energies = np.asarray(energies, dtype=float).ravel()
        where = energy_span(self.energies, "from")
        super().__init__(
            f"{self.n_clipped} of {self.n_spectra} spectra hold {SATURATION_MIN_CHANNELS} or more consecutive "
            f"channels at exactly their highest count{where}, more than {SATURATION_START_EV:g} eV into the "
            "range they are read from: a peak (a white line, say) clipped where the detector overflowed. "
            "They were read as recorded, so the edges below are used, but the clipped peak is lower than "
            "it was. Record with a shorter exposure to measure it."
        )


def _run_bounds(at: np.ndarray, n: int):
    """First and last channel (inclusive) of every run of ``n`` or more True in a 1-D mask."""
    padded = np.r_[False, at, False].astype(np.int8)
    step = np.diff(padded)
    first, after = np.flatnonzero(step == 1), np.flatnonzero(step == -1)
    keep = after - first >= n
    return first[keep], after[keep] - 1


def saturated_runs(spectra, energy, min_channels: int = SATURATION_MIN_CHANNELS,
                   min_count: float = SATURATION_MIN_COUNT, from_ev: float = SATURATION_E_MIN):
    """Where each spectrum's saturated runs lie.

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
    from_ev : float
        Only channels at or above this energy count (default 75 eV: a clipped
        zero-loss peak is not looked at).

    Returns
    -------
    first, after_first, rest, after_rest : numpy.ndarray
        float64, the leading shape of ``spectra``, NaN where absent: the
        centre (eV) of the first channel of the first run and of the first
        channel after it (NaN if the run reaches the last channel); the first
        channel of the second run and the first channel after the last run
        (NaN without a second run).

    Examples
    --------
    >>> import numpy as np
    >>> energy = np.arange(100.0, 600.0)
    >>> counts = np.minimum(1e7 * (energy / 100.0) ** -3, 5e6)  # clipped up to 125 eV
    >>> [float(v) for v in saturated_runs(counts, energy)]
    [100.0, 126.0, nan, nan]
    """
    data = np.asarray(spectra, dtype=np.float32)
    lead, flat = data.shape[:-1], data.reshape(-1, data.shape[-1])
    energy = np.asarray(energy, dtype=np.float64)
    out = np.full((4, flat.shape[0]), np.nan)
    n, n_ch = int(min_channels), flat.shape[-1]
    if flat.size and n_ch >= n:
        top = flat.max(axis=-1, keepdims=True)
        at = (flat == top) & (top >= min_count) & (energy >= from_ev)[None, :]
        # full[:, j]: channels j - n + 1 .. j all at the top; a cheap screen before the per-spectrum runs
        full = minimum_filter1d(at.astype(np.uint8), n, axis=-1, origin=(n - 1) - n // 2) > 0
        full[:, : n - 1] = False
        for r in np.flatnonzero(full.any(axis=-1)):
            first, last = _run_bounds(at[r], n)
            after = np.where(last + 1 < n_ch, last + 1, -1)
            out[0, r] = energy[first[0]]
            out[1, r] = energy[after[0]] if after[0] >= 0 else np.nan
            if first.size > 1:
                out[2, r] = energy[first[1]]
                out[3, r] = energy[after[-1]] if after[-1] >= 0 else np.nan
    return tuple(o.reshape(lead) for o in out)


def saturated_runs_torch(spectra, energy, min_channels: int = SATURATION_MIN_CHANNELS,
                         min_count: float = SATURATION_MIN_COUNT, from_ev: float = SATURATION_E_MIN):
    """:func:`saturated_runs` for a torch tensor ``(N, n_channels)``: four float64 tensors ``(N,)``
    on its device. The screen runs there; the few spectra with a run are measured on the host."""
    import torch
    import torch.nn.functional as F

    energy = np.asarray(energy, dtype=np.float64)
    x = spectra.float()
    out = [torch.full((x.shape[0],), float("nan"), dtype=torch.float64, device=x.device) for _ in range(4)]
    n, n_ch = int(min_channels), x.shape[-1]
    if x.numel() == 0 or n_ch < n:
        return tuple(out)
    top = x.amax(dim=-1, keepdim=True)
    above = torch.as_tensor(energy >= from_ev, device=x.device)
    at = ((x == top) & (top >= min_count) & above[None, :]).float()
    has = (-F.max_pool1d(-at[:, None, :], n, stride=1)[:, 0] > 0).any(dim=-1)
    if bool(has.any()):
        rows = torch.nonzero(has)[:, 0]
        found = saturated_runs(x[rows].cpu().numpy(), energy, min_channels, min_count, from_ev)
        for o, f in zip(out, found):
            o[rows] = torch.as_tensor(f, dtype=torch.float64, device=x.device)
    return tuple(out)


def saturation_ends(spectra, energy, **kwargs) -> np.ndarray:
    """The first energy after each spectrum's first saturated run (NaN without one):
    the second output of :func:`saturated_runs`, which takes the same keywords.

    Examples
    --------
    >>> import numpy as np
    >>> energy = np.arange(100.0, 600.0)
    >>> saturation_ends(np.minimum(1e7 * (energy / 100.0) ** -3, 5e6), energy)
    array(126.)
    """
    return saturated_runs(spectra, energy, **kwargs)[1]
