"""Compare a GOSH file with the Hartree-Slater (Rez) reference edges.

The reference (``hartree_slater_rez_edges.npz``, not shipped) holds edges
computed with exSpy's ``EELSCLEdge`` at 100 kV, 5 mrad convergence and
10 mrad collection semi-angle, every subshell intensity 1. The same path is
run here with our GOSH file: an ``EELSSpectrum`` with the reference axis and
microscope parameters, ``add_elements``, ``create_model(auto_background=
False, GOS="dft", gos_file_path=...)`` and ``m.as_signal().data``. Both are
absolute cross sections (barn/eV x intensity 1), so they are compared
absolutely, without any rescaling, from 30 eV above the lowest onset of
the shell to the end of the window. A second reading of the reference's
README ("the shapes differ most in the first ~30 eV above each onset")
also leaves out the 30 eV above every other onset of the shell (L2 above
L3, M4 above M5, ...); both are returned.

This module needs HyperSpy and exSpy (imported lazily).
"""

import numpy as np

__all__ = ["model_spectrum", "compare_edge", "compare_all", "covered"]


def covered(name, window, emin=50.0, emax=4000.0):
    """Whether our tables hold every edge exSpy puts in a reference window.

    exSpy's ``add_elements`` adds every subshell of the element whose onset
    lies on the energy axis; all of them must have an onset in our
    tabulated range, and the shell named by the reference must be among
    them.

    Parameters
    ----------
    name : str
        ``"<El>_<shell>"``, e.g. ``"Fe_L"``.
    window : tuple of float
        ``(first, last)`` energy of the reference axis (eV).
    emin, emax : float
        Onset range of the tables (eV).

    Returns
    -------
    bool
    """
    from exspy._misc.elements import elements as db

    from ..elements import ELEMENTS

    element, shell = name.split("_")
    if element not in ELEMENTS:
        return False
    onsets = {k: v["onset_energy (eV)"]
              for k, v in db[element]["Atomic_properties"]["Binding_energies"].items()}
    on_axis = {k: e for k, e in onsets.items() if window[0] <= e <= window[1]}
    if not any(k.startswith(shell) for k in on_axis):
        return False
    return all(emin <= e <= emax for e in on_axis.values())


def model_spectrum(element, emin, emax, n, gos_file, beam_energy=100.0,
                   convergence_angle=5.0, collection_angle=10.0):
    """exSpy model of one element on the axis ``emin + (emax-emin)/n * i``.

    Parameters
    ----------
    element : str
    emin, emax : float
        Window in eV.
    n : int
        Number of channels.
    gos_file : str
        GOSH file.
    beam_energy, convergence_angle, collection_angle : float
        kV, mrad, mrad.

    Returns
    -------
    data : ndarray
        Model spectrum (barn/eV).
    edges : list of (name, onset)
        Edge components in the model.
    """
    import logging

    import exspy  # noqa: F401
    import hyperspy.api as hs

    logging.getLogger("hyperspy").setLevel(logging.ERROR)
    logging.getLogger("exspy").setLevel(logging.ERROR)
    scale = (emax - emin) / n
    s = hs.signals.Signal1D(np.zeros(n))
    s.set_signal_type("EELS")
    ax = s.axes_manager[-1]
    ax.offset, ax.scale, ax.units = emin, scale, "eV"
    s.set_microscope_parameters(beam_energy=beam_energy,
                                convergence_angle=convergence_angle,
                                collection_angle=collection_angle)
    s.add_elements([element])
    m = s.create_model(auto_background=False, GOS="dft", gos_file_path=str(gos_file))
    edges = [(c.name, float(c.onset_energy.value)) for c in m]
    return np.asarray(m.as_signal().data, dtype=float), edges


def compare_edge(name, emin, emax, ref_spectrum, gos_file, offset=30.0, **kw):
    """Ratio ours / reference for one reference edge.

    Parameters
    ----------
    name : str
        ``"<El>_<shell>"``.
    emin, emax : float
    ref_spectrum : ndarray
    gos_file : str
    offset : float
        Start of the compared range above the lowest onset (eV).

    Returns
    -------
    dict
        ``name, energy, ours, ref, ratio, mask, onset, median_abs_dev,
        max_abs_dev, median_ratio``, and ``mask_each, median_abs_dev_each,
        max_abs_dev_each`` for the comparison that also leaves out the
        ``offset`` eV above every other onset of the shell.
    """
    element, shell = name.split("_")
    n = ref_spectrum.size
    ours, edges = model_spectrum(element, emin, emax, n, gos_file, **kw)
    energy = emin + (emax - emin) / n * np.arange(n)
    onsets = [o for c, o in edges if c.split("_")[1].startswith(shell)]
    onset = min(onsets) if onsets else emin / 0.95
    mask = (energy >= onset + offset) & (ref_spectrum > 0)
    ratio = np.full(n, np.nan)
    ratio[mask] = ours[mask] / ref_spectrum[mask]
    dev = np.abs(ratio[mask] - 1)
    near = np.zeros(n, dtype=bool)
    for o in onsets:
        near |= (energy >= o) & (energy < o + offset)
    mask_each = mask & ~near
    dev_each = np.abs(ratio[mask_each] - 1)
    return {
        "name": name, "energy": energy, "ours": ours, "ref": ref_spectrum,
        "ratio": ratio, "mask": mask, "onset": onset,
        "median_abs_dev": float(np.median(dev)) if dev.size else np.nan,
        "max_abs_dev": float(dev.max()) if dev.size else np.nan,
        "median_ratio": float(np.median(ratio[mask])) if dev.size else np.nan,
        "mask_each": mask_each,
        "median_abs_dev_each": float(np.median(dev_each)) if dev_each.size else np.nan,
        "max_abs_dev_each": float(dev_each.max()) if dev_each.size else np.nan,
    }


def compare_all(reference_npz, gos_file, elements=None, names=None):
    """Compare every reference edge of the elements present in our file.

    Parameters
    ----------
    reference_npz : str
    gos_file : str
    elements : iterable of str, optional
        Only these elements (default: all of Be..Bi).
    names : iterable of str, optional
        Only these edges.

    Returns
    -------
    list of dict
        :func:`compare_edge` results.
    """
    from ..elements import ELEMENTS

    ref = np.load(reference_npz)
    allowed = set(ELEMENTS if elements is None else elements)
    out = []
    for i, name in enumerate(ref["name_list"]):
        name = str(name)
        if name.split("_")[0] not in allowed:
            continue
        if names is not None and name not in names:
            continue
        emin_w, emax_w = float(ref["emin_list"][i]), float(ref["emax_list"][i])
        n = len(ref["spectrum_list"][i])
        if not covered(name, (emin_w, emin_w + (emax_w - emin_w) / n * (n - 1))):
            continue
        out.append(compare_edge(name, float(ref["emin_list"][i]),
                                float(ref["emax_list"][i]),
                                np.asarray(ref["spectrum_list"][i], float), gos_file,
                                beam_energy=float(ref["beam_energy"]),
                                convergence_angle=float(ref["convergence_angle"]),
                                collection_angle=float(ref["collection_angle"])))
    return out
