"""Element identification on HyperSpy EELS signals.

These functions accept any exSpy ``EELSSpectrum`` (eager or lazy), and
:class:`~hyperspy_eelsid.signals.EELSIDSpectrum` exposes them as methods.
The steps live in their own modules: the checks of the user's input
(:mod:`~hyperspy_eelsid.signals.validation`), the ensemble's probabilities
(:mod:`~hyperspy_eelsid.signals.probabilities`), the checks of coincident
edges (:mod:`~hyperspy_eelsid.signals.checks`) and the summary
(:mod:`~hyperspy_eelsid.signals.summary`).
"""

from __future__ import annotations

import numpy as np

from hyperspy_eelsid.elements import N_ELEMENTS, element_index
from hyperspy_eelsid.inference import Predictor
from hyperspy_eelsid.signals.checks import _run_checks
from hyperspy_eelsid.signals.probabilities import (
    _METADATA,
    _eager_probabilities,
    _lazy_probabilities,
    _probability_signal,
)
from hyperspy_eelsid.signals.summary import (
    COINCIDENCE_EV,
    MINOR_EDGE_EV,
    IdentificationSummary,
    _energy_range,
    _read_from,
    _summarise,
)
from hyperspy_eelsid.signals.validation import (
    _check_min_fraction,
    _check_navigation_mask,
    _check_signal,
    _check_threshold,
    _progressbar,
    _warn_split_energy_axis,
)

__all__ = [
    "COINCIDENCE_EV",
    "MINOR_EDGE_EV",
    "IdentificationSummary",
    "identify_elements",
    "elemental_map",
    "identification_summary",
    "plot_identification",
]


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

        _warn_split_energy_axis(signal, "the chunks over a block's pixels are held in memory together")
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
    present : str or iterable of str, optional
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
    TypeError
        If ``pixel`` is not a bool (e.g. a pixel's indices).
    """
    from hyperspy_eelsid.plotting import plot_periodic_table, update_periodic_table

    if not isinstance(pixel, (bool, np.bool_)):  # a pixel's indices would silently mean "current"
        raise TypeError(f"pixel is True or False, got {pixel!r}; to draw a chosen pixel set "
                        "`s.axes_manager.indices = (x, y)` and pass pixel=True")
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
