"""Model-based quantification with the identified elements and our GOS tables.

After :func:`~hyperspy_eelsid.signals.identification.identify_elements` has set
the signal's elements, :func:`create_model` builds exSpy's ``EELSModel`` with
those elements, the project's Hartree-Fock-Slater GOS tables (which give
offline K, L, M and N edges), a power-law background and, optionally, the
low-loss spectrum for plural scattering. :func:`quantify_elements` fits every
pixel and returns one intensity map per element, like the paper's Fig. 7c.
"""

from __future__ import annotations

import contextlib

import numpy as np

from hyperspy_eelsid.physics.cross_sections import MAX_ANGLE_MRAD
from hyperspy_eelsid.signals.linear_fit import _fit_linear, fit_linear

__all__ = ["MicroscopeParametersError", "create_model", "model_signal", "quantify_elements"]

_PARAMETERS = {
    "beam_energy": "Acquisition_instrument.TEM.beam_energy",
    "convergence_angle": "Acquisition_instrument.TEM.convergence_angle",
    "collection_angle": "Acquisition_instrument.TEM.Detector.EELS.collection_angle",
}


class MicroscopeParametersError(ValueError):
    """The microscope parameters that cross sections need are missing or implausible."""


#: Typical values, for the examples in the messages about missing parameters.
_EXAMPLE_PARAMETERS = {"beam_energy": 200, "convergence_angle": 10, "collection_angle": 30}
#: Plausible values, in the units exSpy uses: (lowest, highest, whether the lowest is allowed,
#: what they mean). Outside them the cross sections are computed for another microscope, most
#: often one whose beam energy was given in eV or whose angles were given in rad.
_PARAMETER_RANGES = {
    "beam_energy": (0.0, 3000.0, False, "keV, above 0 and at most 3,000: 300 kV is 300, not 300000"),
    "convergence_angle": (0.0, MAX_ANGLE_MRAD, True,
                          f"mrad, 0 for a parallel beam, at most {MAX_ANGLE_MRAD:,.0f}: 20 mrad is 20"),
    "collection_angle": (0.0, MAX_ANGLE_MRAD, False,
                         f"mrad, above 0 and at most {MAX_ANGLE_MRAD:,.0f}: 40 mrad is 40"),
}


def _missing_microscope_parameters(signal) -> list:
    """The names (``beam_energy``, ...) of the parameters ``signal``'s metadata lacks."""
    return [name for name, item in _PARAMETERS.items() if not signal.metadata.has_item(item)]


def _implausible_microscope_parameters(signal) -> list:
    """``(name, value, what a plausible value is)`` of each recorded parameter outside
    ``_PARAMETER_RANGES``."""
    bad = []
    for name, (low, high, zero_allowed, hint) in _PARAMETER_RANGES.items():
        value = signal.metadata.get_item(_PARAMETERS[name])
        if value is None:
            continue  # missing: reported as such
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not ((low <= number if zero_allowed else low < number) and number <= high):
            bad.append((name, value, hint))
    return bad


def _require_microscope_parameters(signal):
    missing = _missing_microscope_parameters(signal)
    if missing:
        example = ", ".join(f"{name}={_EXAMPLE_PARAMETERS[name]}" for name in missing)
        raise MicroscopeParametersError(
            "Quantification needs the microscope parameters; missing: "
            + ", ".join(missing)
            + f". Set them with `s.set_microscope_parameters({example})` "
            "(beam energy in keV, semi-angles in mrad)."
        )
    implausible = _implausible_microscope_parameters(signal)
    if implausible:
        name, value, hint = implausible[0]
        raise MicroscopeParametersError(
            f"{name} = {value!r} is not a plausible value ({hint}). "
            f"Set it with `s.set_microscope_parameters({name}=...)`."
        )


def _require_ev(signal, which: str, why: str, name: str):
    """A clear error unless ``signal``'s energy axis is in eV; ``which`` starts the message,
    ``why`` says what needs eV, ``name`` is the signal's name in the suggested code."""
    units = signal.axes_manager.signal_axes[0].units
    if units != "eV":
        axis = f"{name}.axes_manager.signal_axes[0]"
        raise ValueError(
            f"{which} is in {units!r}; {why}. Convert it on a copy (`{name} = {name}.deepcopy(); "
            f"{axis}.convert_to_units('eV')`) or, if it is in eV already, name its units "
            f"(`{axis}.units = 'eV'`)."
        )


def _check_quantifiable(signal):
    """exSpy's EELS model needs one spectrum per pixel, real counts and an energy axis in eV."""
    from hyperspy_eelsid.signals.validation import _check_eels_spectra

    _check_eels_spectra(signal, "Quantification", ValueError)
    _require_ev(signal, "The energy axis", "exSpy's EELS model places the edges in eV", "s")


def _require_elements(signal):
    """The signal must have elements, and exSpy must find an edge of at least one of them on its
    energy axis (otherwise its model holds the background alone)."""
    elements = signal.metadata.get_item("Sample.elements")
    if not elements:
        raise ValueError(
            "The signal has no elements to model. Run `s.identify_elements()` first "
            "(or name them with `s.add_elements([...])`)."
        )
    if len(_elements_without_edges(signal)) == len(set(elements)):
        raise ValueError(
            f"No edge of the signal's elements lies on its energy axis ({_energy_range(signal)}), "
            f"so exSpy's model would hold the background alone: {_edges_elsewhere(elements)}. "
            "Quantify a spectrum that covers their edges, or set the elements whose edges it holds "
            "(`s.identify_elements()` does)."
        )


def _exspy_edges(element) -> list:
    """``(subshell, onset in eV)`` of each edge exSpy's element database lists for ``element``
    (``Ti_L3``, ...; none ending in 'a', as ``generate_subshells`` takes them), by onset."""
    from exspy._misc.elements import elements as database

    if element not in database:
        return []
    binding = database[element]["Atomic_properties"]["Binding_energies"]
    return sorted(((f"{element}_{shell}", float(info["onset_energy (eV)"])) for shell, info in binding.items()
                   if not shell.endswith("a")), key=lambda edge: edge[1])


def _model_subshells(signal) -> list:
    """The subshells (``'Ti_L3'``, ...) of the elements in ``signal.metadata.Sample.elements``
    that start on the energy axis: what exSpy's ``add_elements`` puts in ``signal.subshells``
    (its criterion: onset between the first and the last channel). exSpy's model takes its edges
    from ``signal.subshells``, which is only updated by ``add_elements``; elements set in the
    metadata directly (``s.metadata.Sample.elements = [...]``) were left without edges, and
    elements removed from it kept theirs. The metadata decide here."""
    axis = signal.axes_manager.signal_axes[0].axis
    low, high = sorted((float(axis[0]), float(axis[-1])))
    return [name for element in sorted(set(signal.metadata.get_item("Sample.elements", [])))
            for name, onset in _exspy_edges(element) if low <= onset <= high]


def _elements_without_edges(signal) -> list:
    """The signal's elements of which exSpy's model has no edge: none of the subshells exSpy
    lists for them starts on the energy axis."""
    modelled = {name.split("_")[0] for name in _model_subshells(signal)}
    return sorted(set(signal.metadata.get_item("Sample.elements", [])) - modelled)


def _add_edges(model, signal):
    """exSpy's edges of the signal's elements (:func:`_model_subshells`), added as exSpy's
    ``auto_add_edges`` adds them: one master edge per element, its other subshells twinned."""
    names = _model_subshells(signal)
    if names:
        model._add_edges_from_subshells_names(e_shells=names)


def _energy_range(signal) -> str:
    axis = signal.axes_manager.signal_axes[0]
    return f"{float(axis.low_value):.0f}-{float(axis.high_value):.0f} eV"


def _edges_elsewhere(elements) -> str:
    """Where the edges of ``elements`` start, for the messages: ``'Bi M5 2580 eV, M4 2688 eV'``."""
    parts = []
    for element in elements:
        edges = [edge for edge in _exspy_edges(element) if edge[1] >= 50.0][:3]  # core-loss edges
        listed = ", ".join(f"{name.split('_', 1)[1]} {onset:.0f} eV" for name, onset in edges)
        parts.append(f"{element} {listed}" if listed else f"{element} (no edge in exSpy's table)")
    return "; ".join(parts)


def _warn_elements_without_edges(signal, consequence: str):
    """Warn about the signal's elements that exSpy's model leaves out (no edge on the axis);
    ``consequence`` says what follows, with ``{them}`` for the element(s)."""
    import warnings

    from hyperspy_eelsid._stack import user_stacklevel

    missing = _elements_without_edges(signal)
    if missing:
        warnings.warn(
            f"{', '.join(missing)}: no edge on the energy axis ({_energy_range(signal)}; "
            f"{_edges_elsewhere(missing)}), so {consequence.format(them='it' if len(missing) == 1 else 'them')}.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def _check_low_loss(signal, low_loss):
    """exSpy convolves the edges with the low loss channel by channel, around its 0 eV channel."""
    if low_loss is None:
        return
    manager = getattr(low_loss, "axes_manager", None)
    if manager is None or manager.signal_dimension != 1:
        kind = type(low_loss).__name__
        raise TypeError(
            f"low_loss must be a HyperSpy spectrum (or spectrum image) with its energy axis, got a {kind}. "
            "Load it with `hs.load(..., signal_type='EELS')`, or wrap an array with "
            "`hs.signals.Signal1D(data)` and set its energy axis (offset, scale, units 'eV')."
        )
    _require_ev(low_loss, "The low loss's energy axis", "exSpy convolves in eV", "ll")
    nav, nav_ll = signal.axes_manager.navigation_shape, low_loss.axes_manager.navigation_shape
    if nav_ll != nav and int(np.prod(nav_ll, dtype=int)) != 1:  # one spectrum (or a 1-pixel scan) serves all
        raise ValueError(
            f"The low loss has navigation shape {nav_ll} and the core loss {nav}: exSpy convolves each "
            "spectrum with the low loss of the same pixel, so the two must have the same shape. Give "
            "the low loss recorded with the scan, or one low-loss spectrum for the whole scan."
        )
    core, low = signal.axes_manager.signal_axes[0], low_loss.axes_manager.signal_axes[0]
    if not (core.is_uniform and low.is_uniform):
        return  # exSpy raises its own error for non-uniform axes
    if not np.isclose(low.scale, core.scale, rtol=1e-4):
        raise ValueError(
            f"The low-loss spectrum has {low.scale:g} eV per channel and the core-loss spectrum "
            f"{core.scale:g} eV: exSpy convolves them channel by channel, so the two must be equal. "
            f"Interpolate or rebin the low loss to {core.scale:g} eV per channel first."
        )
    if not low.low_value <= 0.0 <= low.high_value:
        raise ValueError(
            f"The low-loss spectrum covers {low.low_value:g}-{low.high_value:g} eV and so holds no "
            "zero-loss peak (0 eV), which the convolution is centred on. Check its energy axis "
            "(offset and units)."
        )


def _spread_low_loss(signal, low_loss):
    """One low-loss spectrum given for a scan, as a low loss of the scan's navigation axes that
    holds it in every pixel (a broadcast view, lazy for a lazy scan: no copy per pixel), with a
    warning about what that assumes. Any other low loss is returned as it is."""
    if low_loss is None or low_loss.axes_manager.navigation_shape == signal.axes_manager.navigation_shape:
        return low_loss
    import warnings

    import hyperspy.api as hs

    from hyperspy_eelsid._stack import user_stacklevel

    if low_loss.axes_manager.navigation_dimension:  # a scan of one pixel (shapes checked before)
        low_loss = low_loss.inav[(0,) * low_loss.axes_manager.navigation_dimension]
    if not signal.axes_manager.navigation_dimension:
        return low_loss  # one spectrum for one spectrum
    nav_axes = signal.axes_manager.navigation_axes[::-1]  # in array order
    shape = tuple(a.size for a in nav_axes) + low_loss.data.shape
    axes = [dict(a.get_axis_dictionary(), navigate=True) for a in nav_axes]
    axes.append(dict(low_loss.axes_manager.signal_axes[0].get_axis_dictionary(), navigate=False))
    if signal._lazy:
        import dask.array as da

        spread = hs.signals.LazySignal1D(da.broadcast_to(da.asarray(low_loss.data), shape), axes=axes)
    else:  # one spectrum: read into memory if lazy, then a view in every pixel
        one = low_loss.data.compute() if low_loss._lazy else low_loss.data
        spread = hs.signals.Signal1D(np.broadcast_to(np.asarray(one), shape), axes=axes)
    spread.metadata.add_dictionary(low_loss.metadata.as_dictionary())
    spread.set_signal_type("EELS")
    warnings.warn(
        f"One low-loss spectrum for the {int(np.prod(shape[:-1]))} spectra of the scan: each is "
        "convolved with it, which takes the thickness (plural scattering) and, for areal densities, "
        "the number of incident electrons to be the same in every pixel.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return spread


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

    The edges are those of the elements in ``s.metadata.Sample.elements``
    that start on the energy axis, as exSpy's ``add_elements`` finds them,
    also when the elements were written into the metadata directly (exSpy's
    own ``create_model`` then adds no edge).

    Parameters
    ----------
    signal : exspy.signals.EELSSpectrum
        The core-loss signal, with its elements set (by ``identify_elements``
        or ``add_elements``) and its microscope parameters.
    low_loss : exspy.signals.EELSSpectrum, optional
        Low-loss spectrum for plural scattering: of the same navigation
        shape, or one spectrum for every pixel of a scan (with a warning:
        the thickness is then taken to be the same everywhere).
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
    TypeError
        If the signal is not an EELS spectrum, or the low loss is not a
        HyperSpy spectrum.
    MicroscopeParametersError
        If beam energy, convergence or collection angle is missing.
    ValueError
        If the signal has no elements or no edge of them on its energy
        axis, complex data, a signal dimension other than 1 or an energy
        axis not in eV, or the low loss has another navigation shape or
        dispersion than the signal, an energy axis not in eV or no 0 eV
        channel.

    Warns
    -----
    UserWarning
        For each element with no edge on the energy axis: exSpy's model
        has no component for it.
    """
    model = _create_model(signal, low_loss, auto_background, auto_add_edges, GOS, gos_file_path, dictionary)
    if dictionary is None and auto_add_edges:
        _warn_elements_without_edges(signal, "the model has no edge of {them}")
    return model


def _create_model(signal, low_loss=None, auto_background=True, auto_add_edges=True, GOS=None,
                  gos_file_path=None, dictionary=None):
    """:func:`create_model` without its warning about elements without edges (the models that
    :func:`quantify_elements` builds, which warns once itself)."""
    from exspy.signals import EELSSpectrum

    _check_quantifiable(signal)
    if dictionary is None:
        _require_microscope_parameters(signal)
        if auto_add_edges:
            _require_elements(signal)
    _check_low_loss(signal, low_loss)
    low_loss = _spread_low_loss(signal, low_loss)
    if GOS is None:
        GOS = "dft"
        if gos_file_path is None:
            from hyperspy_eelsid.physics.gos_table import gos_file

            gos_file_path = str(gos_file())
    model = EELSSpectrum.create_model(
        signal,
        low_loss=low_loss,
        auto_background=auto_background,
        auto_add_edges=False,
        GOS=GOS,
        gos_file_path=gos_file_path,
        dictionary=dictionary,
    )
    if auto_add_edges and dictionary is None:
        _add_edges(model, signal)
    return model


def _element_edges(model):
    """Master edge (the one that owns the intensity) of each element."""
    edges = {}
    for component in model:
        element = getattr(component, "element", None)
        if element is not None and component.intensity.twin is None:
            edges[element] = component
    return edges


#: Spectra per block when a lazy signal is fitted: 4,096 spectra of 2,048
#: channels are 64 MiB in float64.
LAZY_BLOCK_SPECTRA = 4096


def _mean_spectrum(signal, n_kept=None):
    """The mean spectrum of a scan (a single spectrum as it is); with ``n_kept``, the mean
    of that many spectra kept, the others being zero. Lazy for a lazy signal."""
    if not signal.axes_manager.navigation_dimension:
        return signal
    if signal.data.dtype.kind == "f" and signal.data.dtype.itemsize < 4:
        # float16 sums overflow at 65,504 counts (a few pixels' worth): sum in float32 (lazily
        # for lazy data); the user's signal is not touched
        signal = signal._deepcopy_with_new_data(signal.data.astype(np.float32))
    nav = signal.axes_manager.navigation_axes
    return signal.mean(axis=nav) if n_kept is None else signal.sum(axis=nav) / n_kept


#: Values per spectrum from the pass over the data: splice onset, the four energies of the
#: saturation check, and whether every count is finite (1) or not (0).
_PER_SPECTRUM = 6


def _readout_per_spectrum(block, energy, cut_splices: bool, cut_saturation: bool):
    """Per spectrum of ``block`` (energy last): its splice onset, the four energies of
    :func:`~hyperspy_eelsid.saturation.saturated_runs` (NaN: none) and 1.0 where every count is
    finite (0.0 where one is NaN or inf), stacked on a last axis of ``_PER_SPECTRUM``."""
    from hyperspy_eelsid.preprocessing import _readout_scan

    flat = np.asarray(block).reshape(-1, energy.size)
    finite = np.isfinite(flat).all(axis=-1)
    if not finite.all():  # those spectra are refused anyway (_check_finite); read zeros in their place
        flat = np.where(finite[:, None], flat, 0.0)
    onsets, runs = _readout_scan(flat, energy, cut_splices, cut_saturation)
    return np.stack([onsets, *runs, finite.astype(float)], axis=-1).reshape(block.shape[:-1] + (_PER_SPECTRUM,))


def _readout_ranges(per_spectrum, energy, mask):
    """What the fit leaves out, as identification does: the energy from which every kept spectrum is
    read (after a gain splice or a saturated run at its start; None when none is cut) and the
    (start, end) of clipped peaks further in (None when there are none), with the same warnings.
    ``per_spectrum`` is :func:`_readout_per_spectrum` of every spectrum."""
    from hyperspy_eelsid.preprocessing import E_MIN_NETWORK, ReadoutCuts, _cut_starts

    per = np.asarray(per_spectrum, dtype=float).reshape(-1, _PER_SPECTRUM)[:, :5]
    if mask is not None:
        per = per[~np.asarray(mask).ravel()]
    onsets, runs = per[:, 0], tuple(per[:, 1:].T)
    # as in identification: a splice below 75 eV cuts nothing
    onsets = np.where(onsets + 1.0 > max(energy[0], E_MIN_NETWORK), onsets, np.nan)
    start, ends, clipped, clipped_end = _cut_starts(onsets, runs, max(energy[0], E_MIN_NETWORK))
    ReadoutCuts(onsets[np.isfinite(onsets)], ends[np.isfinite(ends)], clipped[np.isfinite(clipped)]).warn(
        per.shape[0])
    fit_from = float(np.nanmax(start)) if np.isfinite(start).any() else None
    peaks = None
    if np.isfinite(clipped).any():
        last = float(np.nanmax(clipped_end))
        peaks = (float(np.nanmin(clipped)), last if np.isfinite(last) else None)
    return fit_from, peaks


def _fit_window(fit_from, signal_range):
    """The (start, end) of the fit in eV (None: the spectrum's own end): the user's
    ``signal_range`` within the spectrum, starting no lower than the read-out checks'
    ``fit_from``; (None, None) for the whole spectrum."""
    start, end = fit_from, None
    if signal_range is not None:
        lo, hi = signal_range
        start = lo if start is None else max(start, lo)
        end = hi
    if start is not None and end is not None and start >= end:
        raise ValueError(
            f"signal_range ends at {end:g} eV, below {start:g} eV, where the fit has to start (the spectra "
            "are read from there on: gain splice or saturated start). Choose a range above it."
        )
    return start, end


def _check_signal_range(signal, signal_range):
    """``signal_range`` as two floats inside the energy axis, or a clear error."""
    if signal_range is None:
        return None
    try:
        lo, hi = (float(v) for v in signal_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"signal_range must be (start, end) in eV, e.g. (400, 900); got {signal_range!r}."
        ) from None
    axis = signal.axes_manager.signal_axes[0]
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"signal_range must be (start, end) with start < end, in eV; got ({lo:g}, {hi:g}).")
    low, high = float(axis.low_value), float(axis.high_value)
    if hi <= low or lo >= high:
        raise ValueError(
            f"signal_range ({lo:g}, {hi:g}) eV lies outside the spectrum's {low:g}-{high:g} eV."
        )
    return max(lo, low), min(hi, high)


def _check_edges_in_window(model, window):
    """Every element must have an edge that starts below the end of the fit."""
    end = window[1]
    if end is None:
        return
    onsets = {}
    for component in model:
        element = getattr(component, "element", None)
        if element is not None:
            onsets[element] = min(onsets.get(element, np.inf), float(component.onset_energy.value))
    outside = sorted(el for el, onset in onsets.items() if onset >= end)
    if outside:
        raise ValueError(
            f"The fit ends at {end:g} eV, below every edge of {', '.join(outside)} (first onset "
            + ", ".join(f"{el} {onsets[el]:.0f} eV" for el in outside)
            + "): widen signal_range, or leave them out of the signal's elements."
        )


#: exSpy's default width of an edge's fine-structure spline (eV above the onset).
FINE_STRUCTURE_WIDTH = 30.0


def _enable_fine_structure(model, width):
    """exSpy's fine-structure spline on every edge, ``width`` eV wide."""
    for component in model:
        if hasattr(component, "fine_structure_width"):
            component.fine_structure_width = float(width)
    model.enable_fine_structure()


def _fine_structure(fine_structure, fine_structure_width):
    """False, or the splines' width in eV."""
    if not fine_structure:
        if fine_structure_width is not None:
            raise ValueError("fine_structure_width sets the width of the fine-structure splines: "
                             "it needs fine_structure=True.")
        return False
    if fine_structure_width is None:
        return FINE_STRUCTURE_WIDTH
    try:
        width = float(fine_structure_width)
    except (TypeError, ValueError):
        width = np.nan
    if not (np.isfinite(width) and width > 0):
        raise ValueError(f"fine_structure_width must be a positive width in eV, got {fine_structure_width!r}.")
    return width


def _restrict(model, window, clipped_peaks):
    """Fit over ``window`` (:func:`_fit_window`), without the clipped peaks' channels."""
    if window != (None, None):
        model.set_signal_range(*window)
    if clipped_peaks is not None:
        model.remove_signal_range(*clipped_peaks)


def _masked(signal, mask):
    """``signal`` with the spectra ``mask`` marks set to zero: a copy (lazy for a lazy
    signal), so that the user's data are never changed."""
    if mask is None:
        return signal
    if signal._lazy:
        import dask.array as da

        keep = da.from_array(~mask[(...,) + (None,) * signal.axes_manager.signal_dimension])
        return signal._deepcopy_with_new_data(da.where(keep, signal.data, 0))
    signal = signal.deepcopy()  # the fit reads zeros where the user's data may hold NaN
    signal.data[mask] = 0
    return signal


def _in_memory(signal):
    """An eager copy of a lazy signal (the user's signal stays lazy)."""
    signal = signal.deepcopy()
    signal.compute(show_progressbar=False)
    return signal


def _scan(signal, low_loss, mask, cut_splices, cut_saturation):
    """One pass over the data: the read-out ranges and the mean spectra (core loss and low loss)."""
    n_kept = None if mask is None else int((~mask).sum())
    energy = np.asarray(signal.axes_manager.signal_axes[0].axis, dtype=float)
    mean = _mean_spectrum(signal, n_kept)
    mean_ll = None if low_loss is None else _mean_spectrum(low_loss, n_kept)
    if not signal._lazy:
        per = _readout_per_spectrum(np.asarray(signal.data), energy, cut_splices, cut_saturation)
    else:
        import dask
        import dask.array as da

        from hyperspy_eelsid.signals.probabilities import _lazy_spectra

        data = _lazy_spectra(signal)
        per = da.map_blocks(_readout_per_spectrum, data, energy, cut_splices, cut_saturation, dtype=float,
                            chunks=data.chunks[:-1] + ((_PER_SPECTRUM,),), meta=np.empty((0,) * data.ndim))
        lazy_means = [m for m in (mean, mean_ll) if m is not None and m._lazy]
        per, *means = dask.compute(per, *(m.data for m in lazy_means))
        for m, values in zip(lazy_means, means):  # computed in the same pass; now eager
            m.data = da.from_array(values)
            m.compute(show_progressbar=False)
    _check_finite(per, mask, mean_ll)
    return _readout_ranges(per, energy, mask), mean, mean_ll


def _check_finite(per_spectrum, mask, mean_ll):
    """NaN or inf in a spectrum that is fitted, or in the low loss, is a clear error."""
    finite = np.asarray(per_spectrum, dtype=float).reshape(-1, _PER_SPECTRUM)[:, -1] > 0
    if mask is not None:
        finite |= np.asarray(mask).ravel()  # left out: set to zero on our copy, never read
    if not finite.all():
        raise ValueError(
            f"{int((~finite).sum())} of {finite.size} spectra hold NaN or inf values. Leave those pixels "
            "out with `navigation_mask=` (True where a spectrum is to be left out), or replace the values "
            "on a copy (`s2 = s.deepcopy(); s2.data = np.nan_to_num(s2.data)`)."
        )
    if mean_ll is not None and not np.isfinite(np.asarray(mean_ll.data, dtype=float)).all():
        raise ValueError("The low-loss spectrum holds NaN or inf values; replace them on a copy, or leave "
                         "the pixels out with `navigation_mask=`.")


def _background_exponent(mean, mean_ll, window, peaks, gos, fine_structure=False):
    """The power law's exponent, from a full fit of the mean spectrum.

    Without fine structure, exSpy's non-linear fit of every free parameter. With it, the
    splines add tens of free coefficients per edge, which make that fit take minutes; since
    every other parameter is linear once the exponent is fixed, the exponent is then found by
    a one-dimensional search, each step one linear solve (the same least squares)."""
    from scipy.optimize import minimize_scalar

    mean_model = _create_model(mean, low_loss=mean_ll, **gos)
    _restrict(mean_model, window, peaks)
    _check_edges_in_window(mean_model, window)
    mean_model.fit_background()
    if not mean_model._background_components:
        return None
    background = mean_model._background_components[0]
    if not fine_structure:
        mean_model.fit()
        return background.r.value
    start = float(background.r.value)  # from the background-only fit
    _enable_fine_structure(mean_model, fine_structure)
    background.r.free = False
    counts = np.asarray(mean.data, dtype=float)[np.asarray(mean_model._channel_switches)]

    def misfit(r):
        background.r.value = r
        fit_linear(mean_model)
        return float(np.sum((mean_model._get_current_data() - counts) ** 2))

    best = minimize_scalar(misfit, bounds=(max(start - 1.5, 0.5), start + 1.5), method="bounded",
                           options={"xatol": 1e-4})
    return float(best.x)


def _fit_in_memory(signal, low_loss, mask, exponent, window, peaks, gos, show_progressbar,
                   fine_structure=False):
    """exSpy's model of ``signal`` (eager), fitted in every spectrum with the background's
    exponent held at ``exponent``: linear least squares over all spectra at once
    (:func:`~hyperspy_eelsid.signals.linear_fit.fit_linear`). Returns the model and
    ``(elements, covariance)``: the covariance of the elements' intensities, navigation shape +
    (elements, elements)."""
    # exSpy's first estimate of the power law divides by the counts of every spectrum; those that
    # the mask left out are zeros here (ours, not the user's), and the fit below replaces it anyway
    with np.errstate(divide="ignore", invalid="ignore") if mask is not None else contextlib.nullcontext():
        model = _create_model(signal, low_loss=low_loss, **gos)
    _restrict(model, window, peaks)
    if exponent is not None:
        background = model._background_components[0]
        background.r.value = exponent
        background.r.assign_current_value_to_all()
        background.r.free = False
    if fine_structure:
        _enable_fine_structure(model, fine_structure)
    # HyperSpy's linear multifit gives the same values (tests/test_linear_fit.py), but solves models
    # with a low loss or fine structure pixel by pixel (25 times slower, bench_quantify.py), and
    # ours also gives the covariance of the intensities
    edges = _element_edges(model)
    model, covariance = _fit_linear(model, mask, show_progressbar, [e.intensity for e in edges.values()])
    nav_shape = tuple(signal.axes_manager._navigation_shape_in_array)
    if covariance is not None:
        covariance = covariance.reshape(nav_shape + covariance.shape[1:])
    return model, (list(edges), covariance)


def _row_blocks(signal):
    """Slices of the data's first axis that hold about ``LAZY_BLOCK_SPECTRA`` spectra each."""
    nav_shape = tuple(signal.axes_manager._navigation_shape_in_array)
    per_row = int(np.prod(nav_shape[1:], dtype=int))
    rows = max(1, LAZY_BLOCK_SPECTRA // max(per_row, 1))
    return [slice(a, min(a + rows, nav_shape[0])) for a in range(0, nav_shape[0], rows)]


def _model_without_estimate(signal, low_loss, gos, window, peaks, fine_structure):
    """:func:`create_model`'s model, without exSpy's first estimate of the power law: for a lazy
    signal that estimate would read the whole data once more, and the block fits set every
    parameter anyway. The same components in the same order (exSpy adds the background, then
    the edges with this method)."""
    model = _create_model(signal, low_loss=low_loss, auto_add_edges=False, **gos)
    if model._background_components:
        model._background_components[0].A.map["is_set"][:] = True  # exSpy estimates only when unset
    _add_edges(model, signal)
    _restrict(model, window, peaks)
    if fine_structure:
        _enable_fine_structure(model, fine_structure)  # after the range: exSpy sizes the splines to it
    return model


def _intensities(model):
    """Each element's fitted edge intensity and its standard error in every pixel (its master
    edge's maps)."""
    return {element: (edge.intensity.map["values"], edge.intensity.map["std"])
            for element, edge in _element_edges(model).items()}


def _fit_lazy(signal, low_loss, mask, exponent, window, peaks, gos, show_progressbar, whole_model,
              fine_structure=False):
    """Fit a lazy scan block by block, each block read into memory once as an eager signal.

    Returns each element's intensity and standard-error maps, with ``whole_model`` exSpy's model of
    the whole lazy signal holding every pixel's fitted parameters (else None), and the elements
    and covariance of their intensities (None if not estimated). That model is large: exSpy
    keeps a map of every parameter, each edge's fine-structure coefficients included.
    """
    from hyperspy.external.progressbar import progressbar

    from hyperspy_eelsid.signals.validation import _progressbar

    nav_shape = tuple(signal.axes_manager._navigation_shape_in_array)
    intensities, model, covariance = {}, None, None
    if whole_model:
        model = _model_without_estimate(signal, low_loss, gos, window, peaks, fine_structure)
    for rows in progressbar(_row_blocks(signal), disable=not _progressbar(show_progressbar),
                            desc="Fitting blocks", leave=False):
        block_mask = None if mask is None else mask[rows]
        if block_mask is not None and block_mask.all():
            continue
        block = signal.inav[..., rows]
        block.compute(show_progressbar=False)
        block_ll = None
        if low_loss is not None:  # exSpy needs its navigation shape to be the signal's
            block_ll = low_loss.inav[..., rows]
            if block_ll._lazy:
                block_ll.compute(show_progressbar=False)
        fitted, (elements, block_cov) = _fit_in_memory(block, block_ll, block_mask, exponent, window, peaks,
                                                       gos, False, fine_structure)
        for element, (values, std) in _intensities(fitted).items():
            maps = intensities.setdefault(element, (np.full(nav_shape, np.nan), np.full(nav_shape, np.nan)))
            maps[0][rows], maps[1][rows] = values, std
        if block_cov is not None:
            if covariance is None:
                covariance = (elements, np.full(nav_shape + block_cov.shape[-2:], np.nan))
            covariance[1][rows] = block_cov
        if model is None:
            continue
        if [c.name for c in model] != [c.name for c in fitted]:  # exSpy built them alike: guard it
            raise RuntimeError("The block model's components differ from the whole model's; "
                               "quantify `s.inav[...]` regions in memory instead.")
        for whole, part in zip(model, fitted):
            for p, q in zip(whole.parameters, part.parameters):
                for key in ("values", "std", "is_set"):
                    p.map[key][rows] = q.map[key]
    if model is not None and exponent is not None:  # held fixed in the fits: the same in every pixel
        model._background_components[0].r.free = False
    return intensities, model, covariance


def _map_signal(values, signal, mask):
    """``values`` (navigation shape) as a signal whose axes are the scan's (NaN where masked)."""
    from hyperspy.signal import BaseSignal

    axes = signal.axes_manager._get_navigation_axes_dicts()
    values = np.asarray(values, dtype=float)
    if mask is not None:
        values = np.where(mask, np.nan, values)
    m = BaseSignal(values, axes=axes) if axes else BaseSignal(np.atleast_1d(values))  # one spectrum: one value
    for axis in m.axes_manager._axes:
        axis.navigate = False  # the scan's axes are this map's signal axes, as Parameter.as_signal makes them
    m._assign_subclass()
    return m


def _intensity_map(values, std, signal, element, mask, low_loss: bool = False, covariance=None):
    """One element's intensity map as a HyperSpy signal on the scan's axes (NaN where masked), its
    variance (``std`` squared) in ``metadata.Signal.Noise_properties.variance``; ``low_loss``:
    whether the fit was convolved with a low loss (the intensity is then an areal density);
    ``covariance``: the fitted elements and the covariance of their intensities (navigation shape +
    (elements, elements)), of which this element's row is kept."""
    m = _map_signal(values, signal, mask)
    variance = _map_signal(np.asarray(std, dtype=float) ** 2, signal, mask)
    variance.metadata.General.title = f"variance of {element}"
    m.metadata.set_item("Signal.Noise_properties.variance", variance)
    if covariance is not None and covariance[1] is not None:
        elements, cov = covariance
        row = cov[..., elements.index(element), :]
        if mask is not None:
            row = np.where(mask[..., None], np.nan, row)
        m.metadata.set_item("EELSID.covariance_elements", list(elements))
        m.metadata.set_item("EELSID.covariance", row)
    m.metadata.General.title = element
    m.metadata.set_item("EELSID.element", element)
    m.metadata.set_item("EELSID.quantity", "fitted edge intensity")
    m.metadata.set_item("EELSID.low_loss", bool(low_loss))
    m.metadata.set_item("Signal.quantity", "Areal density (atoms/barn)" if low_loss
                        else "Edge intensity (atoms/barn x electrons)")
    return m


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
    fine_structure: bool = False,
    signal_range=None,
    fine_structure_width=None,
):
    """Fit every spectrum with the identified elements; one intensity map each.

    The background is a power law. Its exponent comes from a full fit of the
    mean spectrum and is then held fixed, so the background amplitude and every
    edge intensity are linear. All pixels are then fitted together by linear
    least squares: fast, and free of the starting-value problems of
    pixel-by-pixel non-linear fits. With a low-loss spectrum, exSpy convolves
    the edges with each pixel's low loss, so the model differs from pixel to
    pixel and HyperSpy would solve it pixel by pixel;
    :func:`~hyperspy_eelsid.signals.linear_fit.fit_linear` solves the
    same linear problem for all pixels at once and gives the same result to
    rounding.

    A lazy signal is fitted block by block: one pass over the data for the mean
    spectrum and the read-out checks, then blocks of about
    ``LAZY_BLOCK_SPECTRA`` spectra, each read into memory once. The signal never
    has to fit in memory; the maps (one value per pixel) do.

    Parameters
    ----------
    signal : exspy.signals.EELSSpectrum
        Core-loss signal (eager or lazy) with elements and microscope
        parameters set.
    low_loss : exspy.signals.EELSSpectrum, optional
        Low-loss signal for plural scattering, eager or lazy: of the same
        navigation shape, or one spectrum for every pixel of a scan (with a
        warning: the thickness and the number of incident electrons are
        then taken to be the same everywhere).
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
    fine_structure : bool
        Let exSpy's fine-structure spline of each edge (its first eV above the
        onset, exSpy's default width) take up what atomic cross sections lack
        there, above all white lines, so that each intensity comes from the
        edge's continuum beyond. Still one linear solve for all pixels
        (default False).
    fine_structure_width : float, optional
        With ``fine_structure=True``: how far above each onset the splines
        reach, in eV (exSpy's default, 30 eV, when omitted). Wider splines
        take up near-edge structure that extends further (h-BN's B K
        edge), but they must not reach under the next element's edge,
        where they would take its intensity.
    signal_range : tuple of float, optional
        ``(start, end)`` in eV: fit only these channels, as exSpy's
        ``m.set_signal_range(start, end)`` does (the background exponent
        too), e.g. to leave out a detector artefact at either end of the
        spectrum. The fit still starts no lower than a splice or saturated
        start found by ``cut_splices`` / ``cut_saturation``. Every element
        needs an edge that starts below ``end``. Default: the whole
        spectrum.

    Returns
    -------
    maps : list of hyperspy.signals.BaseSignal
        The fitted edge intensity of each element, on the navigation axes of
        ``signal``, titled with the element. In memory, also for a lazy
        signal. The cross sections are absolute (barn per atom), so each
        intensity is the element's atoms per barn of specimen area times the
        number of electrons in the spectrum; with ``low_loss``, which
        carries that number, the areal density itself (atoms per barn).
        :func:`~hyperspy_eelsid.signals.composition.atomic_percent` turns the
        maps into atomic percent,
        :func:`~hyperspy_eelsid.signals.composition.areal_density` (after a
        fit with a low loss) into atoms per nm^2. Each map carries its
        variance in ``metadata.Signal.Noise_properties.variance`` (the
        sandwich covariance of each pixel's least squares, see
        :func:`~hyperspy_eelsid.signals.linear_fit.fit_linear`) and its
        row of the covariance of the elements' intensities in
        ``metadata.EELSID.covariance`` (elements in
        ``metadata.EELSID.covariance_elements``), from which
        ``atomic_percent`` propagates the errors.
    model : exspy.models.EELSModel
        Only with ``return_model=True``: exSpy's model of ``signal`` (lazy for
        a lazy signal) holding every pixel's fitted parameters. exSpy keeps a
        map of every parameter of every edge, fine-structure coefficients
        included, so for a large lazy scan this model needs far more memory
        than the maps; it is only built when asked for.

    Raises
    ------
    TypeError
        If the signal is not an EELS spectrum, or the low loss is not a
        HyperSpy spectrum.
    MicroscopeParametersError
        If beam energy, convergence or collection angle is missing.
    ValueError
        If the signal has no elements or no edge of them on its energy
        axis, complex data, an energy axis not in eV, or NaN or inf in a
        spectrum that is fitted (leave it out with ``navigation_mask``); if
        the low loss does not match the signal or holds NaN or inf; for a
        ``signal_range`` outside the spectrum or below every edge of an
        element, or a ``fine_structure_width`` that is not a positive
        width.

    Warns
    -----
    UserWarning
        For each element with no edge on the energy axis: there is no map
        of it.
    """
    from hyperspy_eelsid.signals.validation import _check_navigation_mask, _warn_split_energy_axis

    _check_quantifiable(signal)
    _require_microscope_parameters(signal)  # before any pass over the data
    _require_elements(signal)
    _warn_elements_without_edges(signal, "there is no map of {them}")
    _check_low_loss(signal, low_loss)
    low_loss = _spread_low_loss(signal, low_loss)
    signal_range = _check_signal_range(signal, signal_range)
    fine_structure = _fine_structure(fine_structure, fine_structure_width)
    mask = _check_navigation_mask(navigation_mask, signal)
    if signal._lazy and not signal.axes_manager.navigation_dimension:
        signal = _in_memory(signal)  # one spectrum: no blocks to read
    _warn_split_energy_axis(signal, "each block of spectra fitted reads all the chunks over its pixels again")
    if low_loss is not None and low_loss._lazy and not signal._lazy:
        low_loss = _in_memory(low_loss)  # exSpy reads it spectrum by spectrum: load it once
    if mask is not None:
        signal = _masked(signal, mask)
        if low_loss is not None and low_loss.axes_manager.navigation_dimension:
            low_loss = _masked(low_loss, mask)
    gos = {"GOS": GOS, "gos_file_path": gos_file_path}
    (fit_from, peaks), mean, mean_ll = _scan(signal, low_loss, mask, cut_splices, cut_saturation)
    window = _fit_window(fit_from, signal_range)
    exponent = _background_exponent(mean, mean_ll, window, peaks, gos, fine_structure)
    if signal._lazy:
        intensities, model, covariance = _fit_lazy(signal, low_loss, mask, exponent, window, peaks, gos,
                                                   show_progressbar, return_model, fine_structure)
    else:
        model, covariance = _fit_in_memory(signal, low_loss, mask, exponent, window, peaks, gos,
                                           show_progressbar, fine_structure)
        intensities = _intensities(model)
    maps = [_intensity_map(values, std, signal, element, mask, low_loss is not None, covariance)
            for element, (values, std) in sorted(intensities.items())]
    return (maps, model) if return_model else maps


def model_signal(model, show_progressbar=None):
    """The fitted model of every pixel as a signal, for residuals and checks.

    ``model.as_signal()`` of HyperSpy 2 is wrong for exSpy's EELS models: it
    computes the components that have a ``function_nd`` method (the power
    law) for all pixels at once, then the others (the edges) pixel by pixel,
    and that second step overwrites the first, so the background is missing.
    This function computes the two groups separately, each with
    ``as_signal``, and adds them.

    Parameters
    ----------
    model : exspy.models.EELSModel
        A fitted model in memory, e.g. from
        ``quantify_elements(return_model=True)``.
    show_progressbar : bool, optional
        HyperSpy's progress bar preference when omitted.

    Returns
    -------
    hyperspy.signals.BaseSignal
        Like ``s``, holding the model (NaN outside the fitted range).
    """
    if model.signal._lazy:
        raise ValueError("model_signal needs a model of a signal in memory: HyperSpy computes an "
                         "edge component pixel by pixel, which it cannot do lazily. Use a region "
                         "(`m.inav[...]`) of the model, or quantify `s.inav[...].compute()`.")
    components = [c for c in model if c.active]
    groups = [[c for c in components if hasattr(c, "function_nd")],
              [c for c in components if not hasattr(c, "function_nd")]]
    parts = [model.as_signal(component_list=g, show_progressbar=show_progressbar) for g in groups if g]
    out = parts[0]
    for part in parts[1:]:
        out.data = out.data + part.data
    out.metadata.General.title = model.signal.metadata.General.title + " from fitted model"
    return out
