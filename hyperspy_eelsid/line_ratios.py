"""White-line ratios: telling apart two elements whose white lines coincide.

Two pairs of elements have both of their white lines within a few eV of
each other: Co L3,2 (779, 794 eV) and Ba M5,4 (781, 796 eV), and Cu L3,2
(931, 951 eV) and Pr M5,4 (931, 951 eV). Onsets alone cannot tell them
apart, and the networks often name both. What does is the intensity ratio of
the two lines, the one measurement a microscopist makes to decide: the 3d
metals' L3 line is two to five times their L2 line (Leapman, Grunes & Fejes,
Phys. Rev. B 26, 614 (1982)), while Ba's and the light lanthanides' M4 line
is about as high as, or higher than, their M5 line (Thole et al., Phys. Rev.
B 32, 5107 (1985)). The ranges are those of
:data:`~hyperspy_eelsid.simulation.white_lines.WHITE_LINE_RATIOS`, which the
simulator also draws from.

:func:`fit_line_ratio` measures the ratio in spectra on the network's 1 eV
grid: it subtracts a power law fitted before the first line and fits two
Lorentzian lines, each on a smoothed edge step, by linear least squares over
a grid of positions, splittings and widths. :func:`judge_pair` turns the
ratio into a verdict, and abstains when the lines are too noisy or too weak
or the ratio fits neither element.

No HyperSpy: the fits run on numpy arrays (the ratio table is imported from
the simulation package).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

__all__ = [
    "LineFit",
    "LinePair",
    "MIN_CONTRAST",
    "MAX_OUTSIDE",
    "MIN_SNR",
    "RATIO_MARGIN",
    "coincident_line_pairs",
    "fit_line_ratio",
    "judge_pair",
    "line_pair",
    "summarise_verdicts",
    "vetoes",
    "white_line_verdicts",
]

#: A line's fitted area must be this many standard errors above zero for a verdict.
MIN_SNR = 5.0

#: The higher line's peak must be at least this many times the edge steps
#: behind the lines (:attr:`LineFit.contrast`) for a verdict: white lines
#: stand out of their edge, random fine structure on it mostly does not.
MIN_CONTRAST = 1.5

#: The measured ratio must lie this factor closer (in log) to one element's range
#: than to the other's for a verdict ...
RATIO_MARGIN = 1.3

#: ... and at most this factor outside that element's own range.
MAX_OUTSIDE = 2.0

_PRE_EDGE_EV = (45.0, 6.0)  # power-law fit window: first line - 45 eV .. first line - 6 eV
_WIDTHS_EV = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)  # FWHM of the fitted lines


@dataclass(frozen=True)
class LinePair:
    """The two white lines of one element's edge.

    Attributes
    ----------
    element : str
    first, second : str
        Subshells of the lower-energy and the higher-energy line (``"L3"``,
        ``"L2"`` or ``"M5"``, ``"M4"``).
    first_ev, second_ev : float
        Their onsets in the element table (eV).
    ratio : tuple of float
        Range ``(low, high)`` of the ratio first line / second line.
    """

    element: str
    first: str
    second: str
    first_ev: float
    second_ev: float
    ratio: tuple

    @property
    def label(self) -> str:
        """E.g. ``"Co L3/L2"``."""
        return f"{self.element} {self.first}/{self.second}"


def line_pair(element: str) -> LinePair | None:
    """The white-line pair of ``element``'s L2,3 or M4,5 edge, if it has one.

    Returns
    -------
    LinePair or None
        None for elements without a ratio in
        :data:`~hyperspy_eelsid.simulation.white_lines.WHITE_LINE_RATIOS`.
    """
    from hyperspy_eelsid.elements import atomic_number, subshells
    from hyperspy_eelsid.simulation.white_lines import WHITE_LINE_RATIOS, has_white_line

    z = atomic_number(element)
    if z not in WHITE_LINE_RATIOS:
        return None
    onsets = {s.name: s.onset_energy for s in subshells(element, 0.0, 1e6)}
    for first, second in (("L3", "L2"), ("M5", "M4")):
        if first in onsets and second in onsets and has_white_line(first, z):
            return LinePair(element, first, second, float(onsets[first]), float(onsets[second]),
                            tuple(map(float, WHITE_LINE_RATIOS[z])))
    return None


@lru_cache(maxsize=4)
def coincident_line_pairs(tolerance_ev: float = 6.0) -> tuple:
    """Pairs of elements whose two white lines both lie within ``tolerance_ev``.

    Returns
    -------
    tuple of (LinePair, LinePair)
        With the table's onsets: (Co L3/L2, Ba M5/M4) and (Cu L3/L2, Pr M5/M4).

    Examples
    --------
    >>> [(a.element, b.element) for a, b in coincident_line_pairs()]
    [('Co', 'Ba'), ('Cu', 'Pr')]
    """
    from hyperspy_eelsid.elements import ELEMENTS

    pairs = [p for p in map(line_pair, ELEMENTS) if p is not None]
    out = []
    for i, a in enumerate(pairs):
        for b in pairs[i + 1:]:
            if abs(a.first_ev - b.first_ev) <= tolerance_ev and abs(a.second_ev - b.second_ev) <= tolerance_ev:
                out.append((a, b))
    return tuple(out)


def _fit_range(first_ev, splitting_ev):
    """Grid channels: start of the pre-edge window, start and end (exclusive) of the line fit."""
    return (int(round(first_ev - _PRE_EDGE_EV[0])), int(round(first_ev - 8.0)),
            int(round(first_ev + splitting_ev + 20.0)))


def _bin_lorentzian(energy, centre, fwhm):
    """Area-1 Lorentzian integrated over 1 eV bins centred on ``energy``."""
    g = 0.5 * fwhm
    return (np.arctan((energy + 0.5 - centre) / g) - np.arctan((energy - 0.5 - centre) / g)) / np.pi


def _step(energy, centre, fwhm):
    return 0.5 + np.arctan((energy - centre) / (0.5 * fwhm)) / np.pi


def _power_law_residual(y, energy, first_ev):
    """Spectra minus a power law fitted before the first line, and the noise.

    ``y`` holds the spectra on the channels ``energy`` (eV). Returns
    ``(residual, sigma, ok)``: ``ok`` is False where the pre-edge window holds
    non-positive counts (no fit).
    """
    pre_window = (energy >= first_ev - _PRE_EDGE_EV[0]) & (energy < first_ev - _PRE_EDGE_EV[1])
    pre = y[:, pre_window]
    ok = np.all(pre > 0, axis=1)
    design = np.stack([np.ones(pre.shape[1]), np.log(energy[pre_window])], 1)
    coef = np.linalg.lstsq(design, np.log(np.where(ok[:, None], pre, 1.0)).T, rcond=None)[0]  # (2, n)
    residual = y - np.exp(coef[0][:, None] + coef[1][:, None] * np.log(energy)[None, :])
    diffs = np.diff(residual[:, pre_window], axis=1)
    sigma = 1.4826 * np.median(np.abs(diffs - np.median(diffs, axis=1, keepdims=True)), axis=1) / np.sqrt(2)
    return residual, sigma, ok


class LineFit(NamedTuple):
    """What :func:`fit_line_ratio` measured, one entry per spectrum.

    Attributes
    ----------
    area_ratio : numpy.ndarray
        Fitted area (integrated intensity) of the first line over that of the
        second; ``inf`` where the second is not positive, NaN where no fit
        was possible.
    height_ratio : numpy.ndarray
        The same for the lines' peak heights (area over width).
    snr : numpy.ndarray
        ``(n, 2)``: each line's area over its standard error (from the noise
        of the pre-edge region).
    centres, widths : numpy.ndarray
        ``(n, 2)``: fitted positions and FWHM of the two lines (eV).
    contrast : numpy.ndarray
        Peak height of the higher line over the height of the two edge steps
        together: white lines stand well above the continuum edge behind
        them (contrast of one or more), fine-structure wiggles do not.
    """

    area_ratio: np.ndarray
    height_ratio: np.ndarray
    snr: np.ndarray
    centres: np.ndarray
    widths: np.ndarray
    contrast: np.ndarray


#: Spectra fitted together against the whole grid of line positions and widths (memory: grid
#: points x 4 x this many floats, 14 MB).
_FIT_CHUNK = 64


class _LineDesigns(NamedTuple):
    """The fit's design matrices for every grid point, in the grid's loop order: centres and
    widths ``(grid, 2)`` of the two lines, ``Q^T`` ``(grid, 4, channels)`` and ``R^-1``
    ``(grid, 4, 4)`` of each design's QR decomposition."""

    centres: np.ndarray
    widths: np.ndarray
    q_t: np.ndarray
    inv_r: np.ndarray


@lru_cache(maxsize=8)
def _line_designs(first_ev: float, splitting_ev: float) -> _LineDesigns:
    """Design matrices of :func:`fit_line_ratio` (they do not depend on the spectra): the
    Lorentzian lines and arctangent steps at every first-line position (from 5 eV below to 8 eV
    above ``first_ev``, 0.5 eV steps), splitting (+-3 eV, 1 eV steps) and pair of widths."""
    _, lo, hi = _fit_range(first_ev, splitting_ev)
    energy = np.arange(lo, hi, dtype=float)[None, :]
    grid = np.array([(c1, c1 + d, w1, w2)
                     for c1 in np.arange(first_ev - 5.0, first_ev + 8.01, 0.5)
                     for d in np.arange(splitting_ev - 3.0, splitting_ev + 3.01, 1.0)
                     for w1 in _WIDTHS_EV for w2 in _WIDTHS_EV])
    c1, c2, w1, w2 = (grid[:, i : i + 1] for i in range(4))
    a = np.stack([_bin_lorentzian(energy, c1, w1), _bin_lorentzian(energy, c2, w2),
                  _step(energy, c1, w1), _step(energy, c2, w2)], axis=2)  # (grid, channels, 4)
    q, r = np.linalg.qr(a)
    return _LineDesigns(grid[:, :2], grid[:, 2:], np.ascontiguousarray(q.transpose(0, 2, 1)), np.linalg.inv(r))


def fit_line_ratio(spectra, first_ev: float, splitting_ev: float) -> LineFit:
    """Measure the intensity ratio of two white lines ``splitting_ev`` apart.

    A power law fitted from 45 to 6 eV before ``first_ev`` is subtracted;
    then two Lorentzian lines (integrated over the 1 eV bins), each on an
    arctangent edge step of its own width, are fitted by linear least
    squares for every position, splitting and pair of widths on a grid, and
    the best fit is kept.

    Parameters
    ----------
    spectra : array_like
        ``(n, 3072)`` (or ``(3072,)``) counts per eV on the network grid
        (0..3071 eV, see :func:`~hyperspy_eelsid.preprocessing.resample_to_grid`);
        channels from ``first_ev - 45`` to ``first_ev + splitting_ev + 20`` eV
        must be measured.
    first_ev : float
        Expected onset of the first line (eV); the fit looks for it from 5 eV
        below to 8 eV above (energy axes are often a few eV off).
    splitting_ev : float
        Expected distance between the lines; the fit tries +-3 eV.

    Returns
    -------
    LineFit
    """
    start, lo, hi = _fit_range(first_ev, splitting_ev)
    y = np.atleast_2d(np.asarray(spectra))[:, start:hi].astype(float)  # only the channels the fit reads
    n = y.shape[0]
    residual, sigma, ok = _power_law_residual(y, np.arange(start, hi, dtype=float), first_ev)
    r = residual[:, lo - start:].T  # (m, n)
    norm2 = np.einsum("ij,ij->j", r, r)
    design = _line_designs(float(first_ev), float(splitting_ev))
    coef = np.zeros((4, n))
    var = np.zeros((2, n))
    centres = np.zeros((2, n))
    widths = np.zeros((2, n))
    for a in range(0, n, _FIT_CHUNK):  # every grid point at once for a chunk of spectra
        part = slice(a, min(a + _FIT_CHUNK, n))
        proj = np.matmul(design.q_t, r[:, part])  # (grid, 4, chunk)
        rss = norm2[part] - np.einsum("kij,kij->kj", proj, proj)
        rss = np.where(np.isnan(rss), np.inf, rss)
        k = np.argmin(rss, axis=0)  # the first best grid point, as a loop over the grid would keep
        cols = np.arange(k.size)
        found = np.isfinite(rss[k, cols])
        k, cols, where = k[found], cols[found], np.arange(part.start, part.stop)[found]
        coef[:, where] = np.einsum("jab,bj->aj", design.inv_r[k], proj[k, :, cols].T)
        var[:, where] = np.einsum("jab,jab->ja", design.inv_r[k], design.inv_r[k])[:, :2].T  # diag of (A^T A)^-1
        centres[:, where] = design.centres[k].T
        widths[:, where] = design.widths[k].T
    err = np.sqrt(var) * sigma[None, :]
    good = ok & (sigma > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = (coef[:2] / err).T
        area = np.where(coef[1] > 0, coef[0] / coef[1], np.inf)
        height = area * widths[1] / widths[0]
        peaks = 2.0 * coef[:2] / (np.pi * widths)  # Lorentzian peak heights
        contrast = peaks.max(axis=0) / np.abs(coef[2:]).sum(axis=0)
    return LineFit(np.where(good, area, np.nan), np.where(good, height, np.nan), snr, centres.T, widths.T,
                   contrast)


def _verdict(ratio, clear, a: LinePair, b: LinePair, margin: float, outside: float):
    safe = np.where(clear, ratio, 1.0)

    def distance(rng):
        lo, hi = rng
        return np.maximum(np.log(lo / safe), 0.0) + np.maximum(np.log(safe / hi), 0.0)

    da, db = distance(a.ratio), distance(b.ratio)
    m, o = np.log(margin), np.log(outside)
    verdict = np.zeros(np.shape(ratio), dtype=np.int8)
    verdict[clear & (da + m <= db) & (da <= o)] = 1
    verdict[clear & (db + m <= da) & (db <= o)] = 2
    return verdict


def judge_pair(fit: LineFit, a: LinePair, b: LinePair, min_snr: float = MIN_SNR,
               margin: float = RATIO_MARGIN, outside: float = MAX_OUTSIDE,
               min_contrast: float = MIN_CONTRAST):
    """Which of two coincident white-line pairs a measurement points to.

    A spectrum gets a verdict for element ``a`` (``b``) when both lines are
    clear (each area at least ``min_snr`` standard errors above zero, the
    higher peak at least ``min_contrast`` times the edge steps) and
    both the area ratio and the height ratio lie at most ``outside`` times
    outside ``a``'s (``b``'s) range and at least ``margin`` times closer
    (in log) to it than to the other's. Areas and heights differ when the two lines
    differ in width; asking both to agree keeps a verdict for lines whose
    ratio does not depend on how it is read.

    Parameters
    ----------
    fit : LineFit
        From :func:`fit_line_ratio`.
    a, b : LinePair
    min_snr, margin, outside, min_contrast : float

    Returns
    -------
    numpy.ndarray of int8
        Per spectrum: 1 for ``a``, 2 for ``b``, 0 for no verdict.

    Examples
    --------
    >>> co, ba = coincident_line_pairs()[0]
    >>> ratios = np.array([3.0, 0.8, 1.4])
    >>> fit = LineFit(ratios, ratios, np.full((3, 2), 50.0), None, None, np.full(3, 3.0))
    >>> judge_pair(fit, co, ba).tolist()
    [1, 2, 0]
    """
    area = np.asarray(fit.area_ratio, dtype=float)
    height = np.asarray(fit.height_ratio, dtype=float)
    snr = np.asarray(fit.snr, dtype=float).reshape(area.shape + (2,))
    clear = (np.isfinite(area) & (area > 0) & np.isfinite(height) & (height > 0)
             & np.all(snr >= min_snr, axis=-1) & (np.asarray(fit.contrast) >= min_contrast))
    by_area = _verdict(area, clear, a, b, margin, outside)
    by_height = _verdict(height, clear, a, b, margin, outside)
    return np.where(by_area == by_height, by_area, 0).astype(np.int8)


def _covers(window, first_ev: float, splitting_ev: float):
    """Whether the measured channels hold the whole range :func:`fit_line_ratio` reads
    (one bool, or one per row of a ``(n, 3072)`` window)."""
    start, _, hi = _fit_range(first_ev, splitting_ev)
    if start < 0 or hi > window.shape[-1]:
        return np.zeros(window.shape[:-1], dtype=bool) if window.ndim > 1 else False
    return np.all(window[..., start:hi], axis=-1)


def white_line_verdicts(grid, probabilities, threshold: float, window=None):
    """Fit and judge every coincident white-line pair where it is detected.

    For each pair of :func:`coincident_line_pairs`, the spectra in which the
    networks detect either element (probability >= ``threshold``) are
    fitted (:func:`fit_line_ratio`) and judged (:func:`judge_pair`).
    Spectra in which the networks also detect an element with a major edge
    inside the fitted range (45 eV before the first line to 20 eV after the
    second) get no verdict: that edge would be read as part of the lines or
    of the background.

    Parameters
    ----------
    grid : numpy.ndarray
        ``(n, 3072)`` counts per eV on the network grid.
    probabilities : numpy.ndarray
        ``(n, 80)`` network probabilities of the same spectra.
    threshold : float
        Detection threshold.
    window : numpy.ndarray, optional
        Boolean mask of the measured channels, ``(3072,)`` for all spectra or
        ``(n, 3072)`` per spectrum (e.g. without the channels below a gain
        splice or up to a saturated run); a pair whose lines and pre-edge
        region are not all measured is not fitted. Default: every channel
        measured.

    Returns
    -------
    verdict : numpy.ndarray
        int8 ``(n, n_pairs)``: -1 not fitted (neither element detected, or
        not measured), 0 no verdict, 1 the pair's first element, 2 its second.
    ratio : numpy.ndarray
        float ``(n, n_pairs)``: the fitted area ratio, NaN where not fitted.
    """
    from hyperspy_eelsid.elements import element_index

    grid = np.asarray(grid)
    probs = np.asarray(probabilities)
    window = np.ones(grid.shape[-1], dtype=bool) if window is None else np.asarray(window, dtype=bool)
    pairs = coincident_line_pairs()
    verdict = np.full((probs.shape[0], len(pairs)), -1, dtype=np.int8)
    ratio = np.full((probs.shape[0], len(pairs)), np.nan)
    for k, (a, b) in enumerate(pairs):
        first, splitting = _fit_position(a, b)
        detected = (probs[:, element_index(a.element)] >= threshold) | (probs[:, element_index(b.element)] >= threshold)
        detected &= _covers(window, first, splitting)
        if not detected.any():
            continue
        rows = np.nonzero(detected)[0]
        fit = fit_line_ratio(grid[rows], first, splitting)
        crowded = (probs[np.ix_(rows, _edges_in_fit(a, b))] >= threshold).any(axis=1)
        verdict[rows, k] = np.where(crowded, 0, judge_pair(fit, a, b))
        ratio[rows, k] = fit.area_ratio
    return verdict, ratio


@lru_cache(maxsize=8)
def _edges_in_fit(a: LinePair, b: LinePair) -> list:
    """Indices of the other elements with a major edge in the range a pair's fit reads."""
    from hyperspy_eelsid.elements import ELEMENTS, subshells

    start, _, end = _fit_range(*_fit_position(a, b))
    return [i for i, el in enumerate(ELEMENTS)
            if el not in (a.element, b.element) and subshells(el, start, end, major_only=True)]


def _fit_position(a: LinePair, b: LinePair):
    """Expected first line and splitting of a coincident pair (their means)."""
    return 0.5 * (a.first_ev + b.first_ev), 0.5 * ((a.second_ev - a.first_ev) + (b.second_ev - b.first_ev))


def vetoes(verdict, probabilities, threshold: float):
    """Detections that a white-line verdict contradicts.

    Parameters
    ----------
    verdict : numpy.ndarray
        ``(n, n_pairs)`` from :func:`white_line_verdicts`.
    probabilities : numpy.ndarray
        ``(n, 80)``.
    threshold : float

    Returns
    -------
    numpy.ndarray
        Boolean ``(n, 80)``: True where an element reaches the threshold but
        the ratio of its spectrum's lines points to the other element of its
        pair.
    """
    from hyperspy_eelsid.elements import element_index

    probs = np.asarray(probabilities)
    veto = np.zeros(probs.shape, dtype=bool)
    for k, (a, b) in enumerate(coincident_line_pairs()):
        veto[:, element_index(b.element)] |= verdict[:, k] == 1
        veto[:, element_index(a.element)] |= verdict[:, k] == 2
    return veto & (probs >= threshold)


def summarise_verdicts(verdict, ratio) -> list:
    """One dictionary per pair that was fitted in any spectrum.

    Returns
    -------
    list of dict
        ``pair`` (the two elements), ``ranges`` (each one's ratio range),
        ``fitted`` (spectra fitted), ``verdicts`` (spectra pointing to each
        element and to ``"neither"``) and ``median_ratio`` (the median area
        ratio over the spectra with a verdict; None without one).
    """
    out = []
    for k, (a, b) in enumerate(coincident_line_pairs()):
        v = verdict[:, k]
        fitted = v >= 0
        if not fitted.any():
            continue
        decided = v > 0
        out.append({
            "pair": [a.element, b.element],
            "ranges": {a.element: list(a.ratio), b.element: list(b.ratio)},
            "fitted": int(fitted.sum()),
            "verdicts": {a.element: int(np.sum(v == 1)), b.element: int(np.sum(v == 2)),
                         "neither": int(np.sum(v == 0))},
            "median_ratio": float(np.median(ratio[decided, k])) if decided.any() else None,
        })
    return out
