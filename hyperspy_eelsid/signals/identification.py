"""Element identification on HyperSpy EELS signals.

These functions accept any exSpy ``EELSSpectrum`` (eager or lazy), and
:class:`~hyperspy_eelsid.signals.EELSIDSpectrum` exposes them as methods.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from hyperspy_eelsid.elements import (
    ELEMENTS,
    LANTHANIDES,
    N_ELEMENTS,
    atomic_number,
    coincident_edges,
    element_index,
    minor_edges_near,
    subshells,
)
from hyperspy_eelsid.inference import Predictor
from hyperspy_eelsid.line_ratios import coincident_line_pairs, summarise_verdicts, vetoes, white_line_verdicts
from hyperspy_eelsid._stack import user_stacklevel
from hyperspy_eelsid.pair_classifier import PAIR as SC_N_PAIR
from hyperspy_eelsid.pair_classifier import pair_verdicts, pair_vetoes, summarise_pair_verdicts
from hyperspy_eelsid.preprocessing import (
    E_MIN_NETWORK,
    GRID,
    EnergyAxis,
    PreprocessingError,
    ReadoutCuts,
    energy_axis_from_signal,
    readout_windows,
    resample_to_grid,
    resampling_matrix,
    spectra_last,
)

__all__ = [
    "IdentificationSummary",
    "identify_elements",
    "elemental_map",
    "identification_summary",
    "plot_identification",
]

_METADATA = "EELSID"

#: Two edges whose onsets lie this close (eV) are listed as coincident in the
#: summary: the networks tell them apart only by fine structure and other edges.
COINCIDENCE_EV = 5.0

#: A detected element's major edge within this many eV of a minor edge (L1,
#: M1-M3, ...) of another detected element is listed in the summary: the minor
#: edge alone may be what the networks read.
MINOR_EDGE_EV = 10.0


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# probabilities
# --------------------------------------------------------------------------
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
    :func:`_line_verdicts` and :func:`_sc_n_verdicts` choose them), so they
    cost nothing where no pair element is detected.
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
    data = spectra_last(signal)
    if data.chunks[-1] != (data.shape[-1],):
        data = data.rechunk({data.ndim - 1: -1})
    return data


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


# --------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------
@dataclass
class IdentificationSummary:
    """What :func:`identify_elements` found, one row per element worth listing.

    Attributes
    ----------
    detected : list of str
        Elements detected (in at least ``min_fraction`` of the pixels).
    threshold, min_fraction : float
        The detection settings used.
    n_spectra : int
        Number of spectra identified (those ``navigation_mask`` left out
        not counted).
    max_probability, fraction : dict
        Per element: highest probability over the pixels, and the fraction of
        pixels where it reaches the threshold (and, with the white-line
        check, is not contradicted by it).
    edges : dict
        Per element: the names of its edges inside the measured energy range.
    model : str
        The model or ensemble used.
    coincident : dict
        Per detected element with such edges: lists ``[edge, other, ...]`` of
        exSpy edge names (e.g. ``["N_K", "Sc_L3", "Cd_M5"]``), one of the
        element's major edges in range followed by the other elements' major
        edges that start within :data:`COINCIDENCE_EV` of it
        (:func:`~hyperspy_eelsid.elements.coincident_edges`): detections to
        check against the fine structure and the other edges.
    minor_overlaps : dict
        Per detected element with such edges: lists ``[edge, minor, ...]``,
        one of the element's major edges in range followed by the minor
        edges of the other detected elements that start within
        :data:`MINOR_EDGE_EV` of it (:func:`~hyperspy_eelsid.elements.minor_edges_near`),
        e.g. ``["Au_M5", "Sr_L1"]``: the minor edge alone may explain the
        detection.
    white_lines : list of dict
        The white-line ratio check of each coincident pair (Co L3,2 / Ba
        M5,4, Cu L3,2 / Pr M5,4) detected in some spectrum:
        ``pair``, ``ranges``, ``fitted``, ``verdicts`` and ``median_ratio``
        (see :func:`~hyperspy_eelsid.line_ratios.summarise_verdicts`).
    sc_n : dict or None
        The Sc / N classifier, where the networks name both: ``pair``,
        ``fitted`` (spectra classified), ``verdicts`` and ``median_p``
        (median P(Sc)); see
        :func:`~hyperspy_eelsid.pair_classifier.summarise_pair_verdicts`.
        None when it did not run.
    dropped : list of str
        Elements the networks detected that the white-line check or the Sc / N
        classifier removed: once their vetoes are applied, they reach the
        threshold in fewer than ``min_fraction`` of the spectra (or in none).
    n_masked : int
        Spectra left out by ``navigation_mask``.
    read_from : dict or None
        For a single spectrum read from a gain splice or the end of a
        saturated run on: ``energy_ev`` (the first energy read) and
        ``reasons`` (``"gain splice"``, ``"saturation"``). Edges below it are
        not in ``edges``. None otherwise.
    cut_from : list of int or None
        For a signal cut from an identified scan with ``inav`` (or ``[...]``):
        the navigation shape of that scan. The summary is the scan's; the
        probabilities (and so the maps) are cut like the signal. None otherwise.
    """

    detected: list
    threshold: float
    min_fraction: float
    n_spectra: int
    max_probability: dict = field(repr=False)
    fraction: dict = field(repr=False)
    edges: dict = field(repr=False)
    model: str = ""
    coincident: dict = field(default_factory=dict, repr=False)
    minor_overlaps: dict = field(default_factory=dict, repr=False)
    white_lines: list = field(default_factory=list, repr=False)
    sc_n: dict | None = field(default=None, repr=False)
    dropped: list = field(default_factory=list)
    n_masked: int = 0
    read_from: dict | None = None
    cut_from: list | None = None

    def rows(self, min_probability: float = 0.1, candidates: int = 5):
        """(element, max probability, fraction, edges) of the detected elements,
        then of up to ``candidates`` others that reached ``min_probability``."""
        others = [el for el in ELEMENTS if el not in self.detected and self.max_probability[el] >= min_probability]
        others = sorted(others, key=lambda el: -self.max_probability[el])[:candidates]
        names = sorted(self.detected, key=lambda el: -self.max_probability[el]) + others
        return [(el, self.max_probability[el], self.fraction[el], self.edges.get(el, [])) for el in names]

    def named_from_n_edges(self) -> list:
        """Detected lanthanides whose only major edges in the measured range are N4,5 edges.

        Their N4,5 edges lie 4-11 eV apart and have no shape of their own in the
        simulated training spectra, so from these edges alone the networks often
        name a neighbouring lanthanide (docs/results.md); the M5,4 edges tell them apart.
        """
        return [el for el in self.detected
                if el in LANTHANIDES and self.edges.get(el) and all(e.startswith("N") for e in self.edges[el])]

    def _heading(self) -> str:
        return (
            f"Element identification: {len(self.detected)} element(s) detected in "
            f"{self.n_spectra} spectr{'um' if self.n_spectra == 1 else 'a'} "
            f"(threshold {self.threshold:.3g}"
            + (f", in >= {100 * self.min_fraction:g} % of pixels" if self.n_spectra > 1 else "")
            + f"; model {self.model})"
            + (f"; {self.n_masked} left out by the navigation mask" if self.n_masked else "")
        )

    def _read_from_text(self) -> str | None:
        if not self.read_from:
            return None
        return (f"Read from {self.read_from['energy_ev']:.0f} eV on ("
                + " and ".join({"gain splice": "a gain splice", "saturation": "the end of a saturated run"}[r]
                               for r in self.read_from["reasons"])
                + "): edges below it were not seen.")

    def _cut_from_text(self) -> str | None:
        if not self.cut_from:
            return None
        shape = " x ".join(str(n) for n in self.cut_from)
        return (f"This signal was cut from the identified scan ({shape} spectra) that this summary describes; "
                "its probabilities and maps are cut like it. identify_elements() on it gives its own summary.")

    def _notes(self) -> list:
        """The cautions under the table, as groups of lines: a statement, then its details."""
        notes = []
        if self.coincident:
            group = [f"Edges starting within {COINCIDENCE_EV:g} eV of another element's edge "
                     "(check the fine structure and the other edges):"]
            for el in self.detected:
                for edge, *others in self.coincident.get(el, []):
                    near = ", ".join(f"{_edge_text(o)} (max p {self.max_probability[o.split('_')[0]]:.3f})"
                                     for o in others)
                    group.append(f"{_edge_text(edge)}: {near}")
            notes.append(group)
        if self.minor_overlaps:
            group = [f"Edges starting within {MINOR_EDGE_EV:g} eV of a minor edge of another detected element "
                     "(the minor edge alone may explain them):"]
            for el in self.detected:
                for edge, *minor in self.minor_overlaps.get(el, []):
                    group.append(f"{_edge_text(edge)}: {', '.join(_edge_text(m) for m in minor)}")
            notes.append(group)
        n_only = self.named_from_n_edges()
        if n_only:
            m5 = ", ".join(_edge_text(f"{el}_M5") for el in n_only)
            notes.append([f"{', '.join(n_only)}: named from N4,5 edges alone. Neighbouring lanthanides are often "
                          f"confused there; a spectrum reaching the M5,4 edges confirms ({m5})."])
        notes.extend(_white_line_text(check, self.dropped) for check in self.white_lines)
        if self.sc_n is not None:
            notes.append(_sc_n_text(self.sc_n, self.dropped))
        return notes

    def __str__(self):
        lines = [self._heading()]
        if self.cut_from:
            lines.append(f"  {self._cut_from_text()}")
        if self.read_from:
            lines.append(f"  {self._read_from_text()}")
        lines.append(f"  {'':1}{'El':<3} {'max p':>6} {'pixels >= t':>12}  edges in range")
        for el, p, frac, edges in self.rows():
            mark = "*" if el in self.detected else " "
            lines.append(f"  {mark}{el:<3} {p:6.3f} {100 * frac:11.1f}%  {' '.join(edges) or '-'}")
        lines.append("  (* detected; other lines: the most likely undetected elements)")
        for first, *rest in self._notes():
            lines.append(f"  {first}")
            lines.extend(f"    {line}" for line in rest)
        return "\n".join(lines)

    def _repr_html_(self):
        """The summary as an HTML table, for Jupyter notebooks."""
        from html import escape

        parts = [f"<p><b>{escape(self._heading())}</b></p>"]
        if self.cut_from:
            parts.append(f"<p>{escape(self._cut_from_text())}</p>")
        if self.read_from:
            parts.append(f"<p>{escape(self._read_from_text())}</p>")
        parts.append("<table><thead><tr><th>element</th><th>max p</th><th>pixels &ge; t</th>"
                     "<th>edges in range</th><th>detected</th></tr></thead><tbody>")
        for el, p, frac, edges in self.rows():
            found = el in self.detected
            cell = (lambda text: f"<b>{text}</b>") if found else (lambda text: text)
            parts.append(f"<tr><td>{cell(escape(el))}</td><td>{p:.3f}</td><td>{100 * frac:.1f} %</td>"
                         f"<td>{escape(' '.join(edges) or '-')}</td><td>{'yes' if found else ''}</td></tr>")
        parts.append("</tbody></table>")
        notes = self._notes()
        if notes:
            items = []
            for first, *rest in notes:
                sub = "".join(f"<li>{escape(line)}</li>" for line in rest)
                items.append(f"<li>{escape(first)}" + (f"<ul>{sub}</ul>" if sub else "") + "</li>")
            parts.append(f"<ul>{''.join(items)}</ul>")
        return "".join(parts)

    def as_dict(self):
        """A JSON-friendly dictionary (used for metadata and the CLI)."""
        return {
            "detected": list(self.detected),
            "threshold": self.threshold,
            "min_fraction": self.min_fraction,
            "n_spectra": self.n_spectra,
            "model": self.model,
            "max_probability": {k: float(v) for k, v in self.max_probability.items()},
            "fraction": {k: float(v) for k, v in self.fraction.items()},
            "edges": {k: list(v) for k, v in self.edges.items()},
            "coincident": {k: [list(row) for row in v] for k, v in self.coincident.items()},
            "minor_overlaps": {k: [list(row) for row in v] for k, v in self.minor_overlaps.items()},
            "white_lines": [dict(c) for c in self.white_lines],
            "sc_n": None if self.sc_n is None else dict(self.sc_n),
            "dropped": list(self.dropped),
            "n_masked": int(self.n_masked),
            "cut_from": None if not self.cut_from else [int(n) for n in self.cut_from],
            "read_from": None if not self.read_from else {"energy_ev": float(self.read_from["energy_ev"]),
                                                          "reasons": list(self.read_from["reasons"])},
        }


def _read_from(signal, readout=(True, True)):
    """For a single spectrum cut at a gain splice or after a saturated run: the first energy the
    networks read and why (the summary's ``read_from``); None otherwise (scans: per pixel)."""
    if not any(readout) or int(np.prod(signal.axes_manager.navigation_shape, dtype=int)) > 1:
        return None
    window, cuts = readout_windows(np.asarray(spectra_last(signal)), energy_axis_from_signal(signal), *readout)
    found = {r: float(e.max()) for r, e in (("gain splice", cuts.splices), ("saturation", cuts.saturation)) if e.size}
    if not found or not window[0].any():
        return None
    reasons = [r for r, e in found.items() if e == max(found.values())]  # the cut that sets the start
    return {"energy_ev": float(GRID[np.argmax(window[0])]), "reasons": reasons}


def _energy_range(signal, read_from=None):
    """The energy range whose edges the summary lists as in range: the signal axis's, from
    ``read_from`` on where a single spectrum was cut."""
    energy = energy_axis_from_signal(signal).centres  # eV, increasing
    lo = float(energy[0]) if read_from is None else max(float(energy[0]), read_from["energy_ev"])
    return lo, float(energy[-1])


def _edge_text(label):
    """``"N_K"`` -> ``"N K 401 eV"``."""
    element, name = label.split("_", 1)
    onset = next(s.onset_energy for s in subshells(element, 0, 1e6, supplementary=True) if s.name == name)
    return f"{element} {name} {onset:g} eV"


def _white_line_text(check, dropped):
    a, b = check["pair"]
    ranges = ", ".join(f"{el} {lo:g}-{hi:g}" for el, (lo, hi) in check["ranges"].items())
    v = check["verdicts"]
    ratio = "" if check["median_ratio"] is None else f"; median ratio {check['median_ratio']:.2f}"
    return [
        f"White-line ratio of {a} and {b} (first line / second; {ranges}): {check['fitted']} "
        f"spectr{'um' if check['fitted'] == 1 else 'a'} fitted, {v[a]} point to {a}, {v[b]} to {b}, "
        f"{v['neither']} to neither{ratio}.",
        _removed_text((a, b), dropped, "the ratio"),
    ]


def _sc_n_text(check, dropped):
    a, b = check["pair"]
    v = check["verdicts"]
    return [
        f"{a} L3,2 or {b} K (classifier of the 360-500 eV region, where both are detected): "
        f"{check['fitted']} spectr{'um' if check['fitted'] == 1 else 'a'} classified, {v[a]} point to {a}, "
        f"{v[b]} to {b}, {v['neither']} undecided; median P({a}) {check['median_p']:.2f}.",
        _removed_text((a, b), dropped, "the classifier"),
    ]


def _removed_text(pair, dropped, by):
    """The second line of a check's summary: which of the pair's detections it removed."""
    gone = [el for el in pair if el in dropped]
    return f"Not detected: {', '.join(gone)} (contradicted by {by})." if gone else "No detection removed."


def _detected(max_p, frac, threshold, min_fraction):
    return [
        el
        for i, el in enumerate(ELEMENTS)
        if frac[i] > 0 and frac[i] >= min_fraction and max_p[i] >= threshold
    ]


def _summarise(max_p, frac, threshold, min_fraction, n, energy_range, model, checked=None, n_masked=0,
               read_from=None):
    """``checked``: what :func:`_run_checks` returned, if a check ran."""
    lo, hi = energy_range
    detected = _detected(max_p, frac, threshold, min_fraction)
    white_lines, dropped = [], []
    sc_n = None
    if checked is not None:
        if checked["white"] is not None:
            white_lines = summarise_verdicts(*checked["white"])
        if checked["sc_n"] is not None:
            sc_n = summarise_pair_verdicts(*checked["sc_n"])
        kept = _detected(max_p, checked["frac"], threshold, min_fraction)
        dropped = [el for el in detected if el not in kept]
        detected, frac = kept, checked["frac"]
    edges = {el: [s.name for s in subshells(el, lo, hi, major_only=True)] for el in ELEMENTS}
    coincident = {
        el: [[edge.label] + [o.label for o in others]
             for edge, others in coincident_edges(el, lo, hi, COINCIDENCE_EV)]
        for el in detected
    }
    minor = {
        el: [[edge.label] + [m.label for m in near]
             for edge, near in minor_edges_near(el, detected, lo, hi, MINOR_EDGE_EV)]
        for el in detected
    }
    return IdentificationSummary(
        detected=detected,
        threshold=threshold,
        min_fraction=min_fraction,
        n_spectra=n,
        max_probability=dict(zip(ELEMENTS, map(float, max_p))),
        fraction=dict(zip(ELEMENTS, map(float, frac))),
        edges=edges,
        model=model,
        coincident={el: rows for el, rows in coincident.items() if rows},
        minor_overlaps={el: rows for el, rows in minor.items() if rows},
        white_lines=white_lines,
        sc_n=sc_n,
        dropped=dropped,
        n_masked=n_masked,
        read_from=read_from,
    )


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------
def identify_elements(
    signal,
    threshold: float | None = None,
    min_fraction: float = 0.01,
    device: str = "auto",
    batch_size: int | None = None,
    show_progressbar: bool | None = None,
    weights=None,
    print_summary: bool = True,
    cut_splices: bool = True,
    cut_saturation: bool = True,
    check_white_lines: bool = True,
    check_sc_n: bool = True,
    navigation_mask=None,
):
    """Identify the elements in every spectrum of an EELS signal.

    Parameters
    ----------
    signal : exspy.signals.EELSSpectrum
        Core-loss spectrum, line scan or spectrum image (eager or lazy), with
        an energy axis in eV or keV covering at least 20 eV of 75-3071 eV.
    threshold : float, optional
        Probability at or above which an element counts as detected in a
        spectrum, strictly between 0 and 1. Defaults to the threshold in the
        ensemble's card.
    min_fraction : float
        In a line scan or spectrum image, an element is detected when it
        reaches the threshold in at least this fraction of the spectra (the
        paper's 1 % filter; default 0.01).
    device : str
        ``"auto"`` (CUDA when present, else CPU), ``"cpu"`` or ``"cuda"``.
    batch_size : int, optional
        Spectra per forward pass; a device-dependent default when omitted.
    show_progressbar : bool, optional
        Show a progress bar; HyperSpy's preference when omitted.
    weights : str or pathlib.Path, optional
        Another model or ensemble directory instead of the shipped ensemble.
    print_summary : bool
        Print the table of detected elements (default True).
    cut_splices : bool
        Spectra stitched from a weak low-loss and a strong core-loss read-out
        (a jump of 30 times or more in the counts, as in Gatan EELS Atlas
        spectra) are read from the jump on, with a
        :class:`~hyperspy_eelsid.splices.SpliceWarning` (default True; lazy
        signals warn per block when computed). False uses every channel.
    cut_saturation : bool
        Spectra clipped at the detector's highest count at the start of their
        range (5 or more consecutive channels at exactly the spectrum's
        maximum, starting at most 30 eV in, as when the camera overflowed)
        are read from the end of the clipped run on, with a
        :class:`~hyperspy_eelsid.saturation.SaturationWarning`; runs further in
        (a clipped white line) are read as recorded, with a
        :class:`~hyperspy_eelsid.saturation.ClippedPeaksWarning` (default True;
        see :mod:`hyperspy_eelsid.saturation`). False uses the clipped
        channels and reports nothing.
    check_white_lines : bool
        Where the networks detect Co or Ba, or Cu or Pr, whose two white
        lines start at the same energies, fit the ratio of the two lines in
        each such spectrum and drop a detection the ratio contradicts (Co's
        and Cu's L3 line is 2-5 times their L2 line, Ba's and Pr's M5 line
        at most about as high as their M4 line; see
        :mod:`hyperspy_eelsid.line_ratios`). Spectra whose lines are too
        noisy or too weak are left as the networks called them. The
        probabilities returned are the networks' either way (default True).
    check_sc_n : bool
        Where the networks detect both Sc and N (Sc L3 402 eV and N K
        401 eV start together), run a small classifier of the 360-500 eV
        region trained on simulated Sc and N edges
        (:mod:`hyperspy_eelsid.pair_classifier`) and drop the element it
        rules out where it is confident (P >= 0.8 either way) and no other
        detected element has an edge there. Where a specimen holds both
        (ScN), the stronger edge wins. The probabilities returned are the
        networks' either way (default True).
    navigation_mask : numpy.ndarray or hyperspy.signal.BaseSignal, optional
        Boolean, of the navigation shape of the data (as in HyperSpy's
        ``decomposition``): True leaves that spectrum out, e.g. vacuum, a
        hole or dead pixels. Left-out spectra are never read (they may hold
        NaN), get NaN probabilities and do not count in the 1 % filter,
        whose fractions are then of the remaining spectra. Line scans and
        spectrum images only.

    Returns
    -------
    hyperspy.signals.Signal1D
        The probabilities, with the navigation axes of ``signal`` and one value
        per element along the signal axis (symbols in
        ``metadata.EELSID.elements``), which is calibrated in atomic number
        (Be 4 to Bi 83), so that ``p.isig[22.]`` is Ti's. Lazy for lazy input.

    Notes
    -----
    The signal's elements are set to the detected ones (as ``add_elements``
    would, replacing earlier ones), and ``signal.metadata.EELSID`` keeps the
    probabilities and the summary. Its data are never changed.
    """
    _check_signal(signal)
    threshold = _check_threshold(threshold)
    min_fraction = _check_min_fraction(min_fraction)
    mask = _check_navigation_mask(navigation_mask, signal)
    predictor = Predictor(weights, device=device, batch_size=batch_size)
    if threshold is None:
        threshold = predictor.threshold
    progress = _progressbar(show_progressbar)

    if signal._lazy:
        import dask
        import dask.array as da

        # the checks' verdicts come from the same pass over the data as the probabilities
        out = _lazy_probabilities(signal, predictor, (cut_splices, cut_saturation), mask,
                                  (threshold, check_white_lines, check_sc_n))
        probs = out[..., :N_ELEMENTS]
        nav_axes = tuple(range(probs.ndim - 1))
        n_kept = probs[..., 0].size if mask is None else int((~mask).sum())
        reductions = (da.nanmax(probs, axis=nav_axes), (probs >= threshold).sum(axis=nav_axes) / n_kept)
        if progress:
            from dask.diagnostics import ProgressBar

            with ProgressBar():
                out, max_p, frac = _persist_and_reduce(dask, out, reductions)
        else:
            out, max_p, frac = _persist_and_reduce(dask, out, reductions)
        probs, computed = out[..., :N_ELEMENTS], out[..., N_ELEMENTS:]
    else:
        probs = _eager_probabilities(signal, predictor, progress, (cut_splices, cut_saturation), mask)
        flat = probs.reshape(-1, N_ELEMENTS)
        if mask is not None:
            flat = flat[~mask.ravel()]
        max_p, frac = flat.max(axis=0), (flat >= threshold).mean(axis=0)

    n = int(np.prod(signal.axes_manager.navigation_shape, dtype=int)) or 1
    n_masked = 0 if mask is None else int(mask.sum())
    checked = _run_checks(signal, probs, max_p, frac, threshold, check_white_lines, check_sc_n,
                          (cut_splices, cut_saturation), mask, computed if signal._lazy else None)
    read_from = _read_from(signal, (cut_splices, cut_saturation))
    summary = _summarise(max_p, frac, threshold, min_fraction, n - n_masked, _energy_range(signal, read_from),
                         predictor.name, checked, n_masked, read_from)
    result = _probability_signal(signal, probs, predictor, threshold)

    signal.elements = set()
    signal.subshells = set()
    if summary.detected:
        signal.add_elements(summary.detected)
    else:
        signal.metadata.set_item("Sample.elements", [])
    signal.metadata.set_item(f"{_METADATA}.probabilities", result)
    signal.metadata.set_item(f"{_METADATA}.summary", summary.as_dict())
    if print_summary:
        print(summary)
    return result


def _persist_and_reduce(dask, probs, reductions):
    probs, max_p, frac = dask.persist(probs, *reductions)
    max_p, frac = dask.compute(max_p, frac)
    return probs, np.asarray(max_p), np.asarray(frac)


def _stored_probabilities(signal):
    """The probabilities :func:`identify_elements` stored on ``signal``, checked to belong to
    its spectra (HyperSpy copies metadata into rebinned, summed, cropped or stacked
    signals too, whose spectra are others)."""
    probs = signal.metadata.get_item(f"{_METADATA}.probabilities")
    if probs is None or signal.metadata.get_item(f"{_METADATA}.summary") is None:
        raise ValueError("No identification yet: run `s.identify_elements()` first.")
    have, want = probs.axes_manager.navigation_shape, signal.axes_manager.navigation_shape
    if tuple(have) != tuple(want):
        raise ValueError(
            f"The identification in this signal's metadata was made on spectra of navigation shape "
            f"{tuple(have)}, and this signal's is {tuple(want)}: it was rebinned, summed, cropped or "
            "stacked since, so its spectra are others. Run `s.identify_elements()` on it again."
        )
    return probs


def identification_summary(signal) -> IdentificationSummary:
    """The summary of the last :func:`identify_elements` run on ``signal``.

    For a signal cut from an identified scan with ``inav`` the summary is the
    scan's, and says so (``cut_from``).

    Raises
    ------
    ValueError
        If ``identify_elements`` has not been run on this signal, or if the
        signal's navigation shape changed since (rebinned, summed, ...).
    """
    _stored_probabilities(signal)
    stored = signal.metadata.get_item(f"{_METADATA}.summary")
    d = stored.as_dictionary() if hasattr(stored, "as_dictionary") else dict(stored)
    return IdentificationSummary(**d)


def _follow_slicing(source, target, slices, isNavigation):
    """Cut the stored probabilities like a signal cut with ``inav`` or ``[...]`` (HyperSpy's
    ``_slicer``), so that the cut signal's maps are of its own spectra; an energy crop
    (``isig``) leaves them as they are. The summary stays the scan's and records the
    scan's navigation shape (``cut_from``)."""
    probs = source.metadata.get_item(f"{_METADATA}.probabilities")
    n_nav = source.axes_manager.navigation_dimension
    if probs is None or not n_nav or isNavigation is False:
        return
    if tuple(probs.axes_manager.navigation_shape) != tuple(source.axes_manager.navigation_shape):
        return  # already stale: _stored_probabilities reports it
    slices = slices if isinstance(slices, tuple) else (slices,)
    nav_slices = slices if isNavigation else slices[:n_nav]
    if not nav_slices:
        return
    target.metadata.set_item(f"{_METADATA}.probabilities", probs._slicer(nav_slices, isNavigation=True))
    summary = source.metadata.get_item(f"{_METADATA}.summary")
    if summary is not None and not summary.get_item("cut_from"):
        target.metadata.set_item(f"{_METADATA}.summary.cut_from",
                                 [int(n) for n in source.axes_manager.navigation_shape])


def elemental_map(signal, elements=None, thresholded: bool = False):
    """The network's probability map of each element.

    Parameters
    ----------
    signal : exspy.signals.EELSSpectrum
        A signal on which :func:`identify_elements` has run.
    elements : str or list of str, optional
        Elements to map; the detected elements by default.
    thresholded : bool
        Return 0/1 maps (probability >= the identification threshold) instead
        of probabilities.

    Returns
    -------
    list of hyperspy.signals.BaseSignal
        One map per element with the navigation axes (and calibration) of
        ``signal`` as signal axes (a line profile for line scans, an image for
        2-D scans), titled with the element.

    Raises
    ------
    ValueError
        If no identification has been run, or for unknown elements.
    """
    probs = _stored_probabilities(signal)
    if elements is None:
        elements = list(identification_summary(signal).detected)
    elif isinstance(elements, str):
        elements = [elements]
    threshold = float(probs.metadata.get_item(f"{_METADATA}.threshold"))
    maps = []
    for el in elements:
        index = element_index(el)
        m = probs.isig[index].T if probs.axes_manager.navigation_dimension else probs.isig[index]
        if thresholded:
            m = m >= threshold
            m.change_dtype("uint8")
        m.metadata.General.title = el
        m.metadata.Signal.quantity = "Detected (0/1)" if thresholded else "Probability"
        if m.metadata.has_item(f"{_METADATA}.elements"):  # one element's map: not the list of 80
            m.metadata.EELSID.__delattr__("elements")
        m.metadata.set_item(f"{_METADATA}.element", el)
        m.metadata.set_item(f"{_METADATA}.quantity", "detected (0/1)" if thresholded else "probability")
        maps.append(m)
    return maps



def plot_identification(signal, present=None, title=None, ax=None, pixel=False):
    """Draw the last identification on the periodic table (the paper's Fig. 6).

    Each element's cell is coloured by its highest probability over the
    spectra; the reported elements get a red frame and elements that reach
    the threshold somewhere but were not reported (too few pixels, or ruled
    out by a check) a dashed orange one
    (:func:`~hyperspy_eelsid.plotting.plot_periodic_table`).

    Parameters
    ----------
    signal : exspy.signals.EELSSpectrum
        A signal on which :func:`identify_elements` has run.
    present : iterable of str, optional
        Known composition, marked with a green dot for comparison.
    title : str, optional
        Axes title; default the signal's title, or "Highest probability
        over the scan" when it has none and holds several spectra.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    pixel : bool
        Scans: draw the probabilities of the current pixel instead, and
        follow the navigator: after ``s.plot()``, moving its pointer (or
        setting ``s.axes_manager.indices``) redraws the table for the pixel
        under it, until the figure is closed. Frames then mark the elements
        at or above the threshold in that pixel: red for the reported ones.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If no identification has been run.
    """
    from hyperspy_eelsid.plotting import plot_periodic_table, update_periodic_table

    summary = identification_summary(signal)
    if title is None:
        title = signal.metadata.get_item("General.title") or (
            "Highest probability over the scan" if summary.n_spectra > 1 and not pixel else None)
    if not (pixel and signal.axes_manager.navigation_dimension):
        return plot_periodic_table(summary.max_probability, threshold=summary.threshold, title=title,
                                   present=present, ax=ax, detected=summary.detected)
    probs = _stored_probabilities(signal)
    manager = signal.axes_manager

    def here():
        values = probs.data[tuple(manager.indices[::-1])]
        return np.asarray(values.compute() if hasattr(values, "compute") else values, dtype=float)

    def heading():
        return f"{title + ': ' if title else ''}pixel {tuple(int(i) for i in manager.indices)}"

    fig = plot_periodic_table(here(), threshold=summary.threshold, title=heading(), present=present, ax=ax,
                              detected=summary.detected)
    table = fig.axes[0] if ax is None else ax

    import matplotlib.pyplot as plt

    def stop(event=None):
        if follow in manager.events.indices_changed.connected:
            manager.events.indices_changed.disconnect(follow)

    def follow():
        number = getattr(fig, "number", None)  # pyplot's figures only
        if number is not None and not plt.fignum_exists(number):  # closed without an event
            stop()
            return
        update_periodic_table(table, here())
        table.set_title(heading())

    manager.events.indices_changed.connect(follow, [])
    fig.canvas.mpl_connect("close_event", stop)
    return fig


def _warn_unidentifiable(n_bad, n):
    if n_bad:
        warnings.warn(
            f"{n_bad} of {n} spectra have no positive counts inside 75-3071 eV; their "
            "probabilities are set to 0 (check for dead pixels or a wrong energy axis; "
            "`navigation_mask` leaves pixels out).",
            stacklevel=user_stacklevel(),
        )
