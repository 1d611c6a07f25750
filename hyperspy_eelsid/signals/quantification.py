"""Model-based quantification with the identified elements and our GOS tables.

After :func:`~hyperspy_eelsid.signals.identification.identify_elements` has set
the signal's elements, :func:`create_model` builds exSpy's ``EELSModel`` with
those elements, the project's Hartree-Fock-Slater GOS tables (which give
offline K, L, M and N edges), a power-law background and, optionally, the
low-loss spectrum for plural scattering. :func:`quantify_elements` fits every
pixel and returns one intensity map per element, like the paper's Fig. 7c.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MicroscopeParametersError", "create_model", "quantify_elements"]

_PARAMETERS = {
    "beam_energy": "Acquisition_instrument.TEM.beam_energy",
    "convergence_angle": "Acquisition_instrument.TEM.convergence_angle",
    "collection_angle": "Acquisition_instrument.TEM.Detector.EELS.collection_angle",
}


class MicroscopeParametersError(ValueError):
    """The microscope parameters that cross sections need are missing."""


def _require_microscope_parameters(signal):
    missing = [name for name, item in _PARAMETERS.items() if not signal.metadata.has_item(item)]
    if missing:
        example = ", ".join(
            f"{name}={value}"
            for name, value in (("beam_energy", 200), ("convergence_angle", 10), ("collection_angle", 30))
            if name in missing
        )
        raise MicroscopeParametersError(
            "Quantification needs the microscope parameters; missing: "
            + ", ".join(missing)
            + f". Set them with `s.set_microscope_parameters({example})` "
            "(beam energy in keV, semi-angles in mrad)."
        )


def _require_elements(signal):
    if signal.metadata.get_item("Sample.elements"):
        return
    raise ValueError(
        "The signal has no elements to model. Run `s.identify_elements()` first "
        "(or name them with `s.add_elements([...])`)."
    )


def create_model(
    signal,
    low_loss=None,
    auto_background: bool = True,
    auto_add_edges: bool = True,
    GOS: str | None = None,
    gos_file_path=None,
    dictionary=None,
):
    """exSpy's ``EELSModel`` with the identified elements and our GOS tables.

    Parameters
    ----------
    signal : exspy.signals.EELSSpectrum
        The core-loss signal, with its elements set (by ``identify_elements``
        or ``add_elements``) and its microscope parameters.
    low_loss : exspy.signals.EELSSpectrum, optional
        Low-loss spectrum (same navigation shape) for plural scattering.
    auto_background : bool
        Add a power-law background (default True).
    auto_add_edges : bool
        Add the edges of the signal's elements (default True).
    GOS : str, optional
        exSpy GOS kind. Omitted: the project's Hartree-Fock-Slater tables
        (``hyperspy_eelsid.gos_file()``), which work offline.
    gos_file_path : str, optional
        Another GOSH file.
    dictionary : dict, optional
        Recreate a saved model (passed to exSpy unchanged).

    Returns
    -------
    exspy.models.EELSModel

    Raises
    ------
    MicroscopeParametersError
        If beam energy, convergence or collection angle is missing.
    ValueError
        If the signal has no elements.
    """
    from exspy.signals import EELSSpectrum

    if dictionary is None:
        _require_microscope_parameters(signal)
        if auto_add_edges:
            _require_elements(signal)
    if GOS is None:
        GOS = "dft"
        if gos_file_path is None:
            from hyperspy_eelsid.physics.gos_table import gos_file

            gos_file_path = str(gos_file())
    return EELSSpectrum.create_model(
        signal,
        low_loss=low_loss,
        auto_background=auto_background,
        auto_add_edges=auto_add_edges,
        GOS=GOS,
        gos_file_path=gos_file_path,
        dictionary=dictionary,
    )


def _element_edges(model):
    """Master edge (the one that owns the intensity) of each element."""
    edges = {}
    for component in model:
        element = getattr(component, "element", None)
        if element is not None and component.intensity.twin is None:
            edges[element] = component
    return edges


def _mean_spectrum(signal, n_kept=None):
    """The mean spectrum of a scan (a single spectrum as it is); with ``n_kept``, the mean
    of that many spectra kept, the others being zero."""
    nav = signal.axes_manager.navigation_axes
    if not nav:
        return signal
    return signal.mean(axis=nav) if n_kept is None else signal.sum(axis=nav) / n_kept


def _readout_ranges(signal, mask, cut_splices: bool, cut_saturation: bool):
    """What the fit leaves out, as identification does: the energy from which every kept spectrum is
    read (after a gain splice or a saturated run at its start; None when none is cut) and the
    (start, end) of clipped peaks further in (None when there are none), with the same warnings."""
    from hyperspy_eelsid.preprocessing import E_MIN_NETWORK, ReadoutCuts, _cut_starts
    from hyperspy_eelsid.saturation import saturated_runs
    from hyperspy_eelsid.splices import splice_onsets

    energy = np.asarray(signal.axes_manager.signal_axes[0].axis, dtype=float)
    flat = np.asarray(signal.data).reshape(-1, energy.size)
    if mask is not None:
        flat = flat[~np.asarray(mask).ravel()]
    nan = np.full(flat.shape[0], np.nan)
    onsets = splice_onsets(flat, energy) if cut_splices and flat.size else nan
    # as in identification: a splice below 75 eV cuts nothing
    onsets = np.where(onsets + 1.0 > max(energy[0], E_MIN_NETWORK), onsets, np.nan)
    runs = saturated_runs(flat, energy) if cut_saturation and flat.size else (nan,) * 4
    start, ends, clipped, clipped_end = _cut_starts(onsets, runs, max(energy[0], E_MIN_NETWORK))
    ReadoutCuts(onsets[np.isfinite(onsets)], ends[np.isfinite(ends)], clipped[np.isfinite(clipped)]).warn(
        flat.shape[0])
    fit_from = float(np.nanmax(start)) if np.isfinite(start).any() else None
    peaks = None
    if np.isfinite(clipped).any():
        last = float(np.nanmax(clipped_end))
        peaks = (float(np.nanmin(clipped)), last if np.isfinite(last) else None)
    return fit_from, peaks


def _restrict(model, fit_from, clipped_peaks):
    """Fit from ``fit_from`` on, without the clipped peaks' channels."""
    if fit_from is not None:
        model.set_signal_range(fit_from, None)
    if clipped_peaks is not None:
        model.remove_signal_range(*clipped_peaks)


def quantify_elements(
    signal,
    low_loss=None,
    show_progressbar=None,
    return_model: bool = False,
    GOS: str | None = None,
    gos_file_path=None,
    navigation_mask=None,
    cut_splices: bool = True,
    cut_saturation: bool = True,
):
    """Fit every spectrum with the identified elements; one intensity map each.

    The background is a power law. Its exponent comes from a full fit of the
    mean spectrum and is then held fixed, so the background amplitude and every
    edge intensity are linear. All pixels are then fitted together by linear
    least squares: fast, and free of the starting-value problems of
    pixel-by-pixel non-linear fits.

    Parameters
    ----------
    signal : exspy.signals.EELSSpectrum
        Core-loss signal with elements and microscope parameters set.
    low_loss : exspy.signals.EELSSpectrum, optional
        Low-loss signal for plural scattering (same navigation shape).
    show_progressbar : bool, optional
        HyperSpy's progress bar preference when omitted.
    return_model : bool
        Also return the fitted model.
    GOS, gos_file_path : str, optional
        As in :func:`create_model`; our Hartree-Fock-Slater tables by default.
    navigation_mask : numpy.ndarray or hyperspy.signal.BaseSignal, optional
        Boolean, of the navigation shape of the data, as for
        :func:`~hyperspy_eelsid.signals.identification.identify_elements`:
        True leaves that spectrum out (vacuum, holes, dead pixels; they may
        hold NaN). The exponent comes from the mean of the spectra kept, and
        the maps are NaN where the mask is True. The fit then runs on a copy
        of the data with the left-out spectra set to zero; the signal is not
        changed.
    cut_splices, cut_saturation : bool
        As for :func:`~hyperspy_eelsid.signals.identification.identify_elements`:
        where a spectrum is stitched from two read-outs or clipped at the
        camera's highest count at its start, the model is fitted from the
        splice, or from the end of the clipped run, on (for a scan, from the
        highest such energy of its spectra); channels clipped further in (a
        clipped white line) are left out of the fit. Each with a warning
        (default True). False fits every channel.

    Returns
    -------
    maps : list of hyperspy.signals.BaseSignal
        The fitted edge intensity of each element (in units of the GOS cross
        section: counts / barn), on the navigation axes of ``signal``, titled
        with the element.
    model : exspy.models.EELSModel
        Only with ``return_model=True``.
    """
    if signal._lazy:
        raise NotImplementedError(
            "Quantification fits in memory: call it on `s.inav[...]` regions or on "
            "`s.compute()` (the identification itself runs lazily)."
        )
    from hyperspy_eelsid.signals.identification import _check_navigation_mask

    mask = _check_navigation_mask(navigation_mask, signal)
    n_kept = None
    if mask is not None:
        signal = signal.deepcopy()  # the fit reads zeros where the user's data may hold NaN
        signal.data[mask] = 0
        n_kept = int((~mask).sum())
        if low_loss is not None and low_loss.axes_manager.navigation_dimension:
            low_loss = low_loss.deepcopy()
            low_loss.data[mask] = 0
    gos = {"GOS": GOS, "gos_file_path": gos_file_path}
    fit_from, clipped_peaks = _readout_ranges(signal, mask, cut_splices, cut_saturation)
    model = create_model(signal, low_loss=low_loss, **gos)
    _restrict(model, fit_from, clipped_peaks)
    background = model._background_components[0] if model._background_components else None

    # 1. exponent from the mean spectrum (full, non-linear fit)
    mean = _mean_spectrum(signal, n_kept)
    mean_ll = None if low_loss is None else _mean_spectrum(low_loss, n_kept)
    mean_model = create_model(mean, low_loss=mean_ll, **gos)
    _restrict(mean_model, fit_from, clipped_peaks)
    mean_model.fit_background()
    mean_model.fit()
    if background is not None:
        mean_bg = mean_model._background_components[0]
        background.r.value = mean_bg.r.value
        background.r.assign_current_value_to_all()
        background.r.free = False
    # 2. linear least squares over every pixel at once
    model.multifit(optimizer="lstsq", show_progressbar=show_progressbar, mask=mask)

    maps = []
    for element, edge in sorted(_element_edges(model).items()):
        m = edge.intensity.as_signal()
        if mask is not None:
            m.data = np.where(mask, np.nan, m.data)
        if m.axes_manager.navigation_dimension:
            m = m.T
        m.metadata.General.title = element
        m.metadata.set_item("EELSID.element", element)
        m.metadata.set_item("EELSID.quantity", "fitted edge intensity")
        maps.append(m)
    return (maps, model) if return_model else maps
