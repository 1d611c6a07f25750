"""Composition and areal density from the fitted edge intensities.

:func:`~hyperspy_eelsid.signals.quantification.quantify_elements` fits each
element's edges with absolute cross sections (barn per atom), so each fitted
intensity is the element's number of atoms per barn of specimen area times
the number of electrons that reached the spectrometer. That electron count is
the same for every element of a spectrum, so:

* ratios of the intensities are atomic ratios, and :func:`atomic_percent`
  gives each element's share in atomic percent, with or without a low loss;
* with a low-loss spectrum (which carries the electron count into the
  model), each intensity is the areal density itself, and
  :func:`areal_density` gives it in atoms per nm^2.
"""

from __future__ import annotations

import numpy as np

__all__ = ["areal_density", "atomic_percent"]

#: 1 nm^2 = 1e10 barn (1 barn = 1e-28 m^2).
BARN_PER_NM2 = 1e10


def _check_maps(maps) -> list:
    if hasattr(maps, "metadata"):
        maps = [maps]
    maps = list(maps)
    if not maps:
        raise ValueError("No maps given: pass the list that quantify_elements returned.")
    for m in maps:
        if not (hasattr(m, "metadata") and m.metadata.has_item("EELSID.element")):
            raise ValueError(
                "Each map must be one that quantify_elements returned (its metadata names the element "
                f"under EELSID.element); got {m!r}."
            )
        quantity = m.metadata.get_item("EELSID.quantity", "")
        if quantity != "fitted edge intensity":
            raise ValueError(
                f"The map of {m.metadata.EELSID.element} holds the {quantity}, not a fitted edge intensity: "
                "pass the maps that quantify_elements returned."
            )
        if m.data.shape != maps[0].data.shape:
            raise ValueError(
                f"The maps have different shapes ({maps[0].data.shape} and {m.data.shape}): pass the maps "
                "of one quantify_elements call."
            )
    elements = [m.metadata.EELSID.element for m in maps]
    if len(set(elements)) != len(elements):
        raise ValueError(f"An element appears more than once among the maps: {elements}.")
    with_ll = [m.metadata.get_item("EELSID.low_loss", False) for m in maps]
    if any(with_ll) and not all(with_ll):
        # with a low loss the intensity is an areal density, without it that times the number of
        # electrons: their ratios are not the elements' ratios
        named = {flag: ", ".join(e for e, f in zip(elements, with_ll) if f == flag) for flag in (True, False)}
        raise ValueError(
            f"The maps of {named[True]} were fitted with a low-loss spectrum and those of {named[False]} "
            "without one, so their intensities are in different units: pass the maps of one "
            "quantify_elements call."
        )
    return maps


def _variance(m):
    """The map's variance (``metadata.Signal.Noise_properties.variance``) as an array, or None."""
    v = m.metadata.get_item("Signal.Noise_properties.variance")
    if v is None:
        return None
    v = np.asarray(getattr(v, "data", v), dtype=float)
    return np.broadcast_to(v, m.data.shape)


def _covariance(maps):
    """The covariance of the maps' intensities, ``(..., n, n)`` in the maps' order, from the rows
    that ``quantify_elements`` keeps in each map's metadata; None if a map has none."""
    elements = [m.metadata.EELSID.element for m in maps]
    rows = []
    for m in maps:
        names = m.metadata.get_item("EELSID.covariance_elements")
        row = m.metadata.get_item("EELSID.covariance")
        if names is None or row is None or not set(elements) <= set(names):
            return None
        row = np.asarray(row, dtype=float)
        rows.append(row[..., [list(names).index(e) for e in elements]])
    return np.stack(rows, axis=-2)


def _derived(m, values, title, quantity, what, variance=None):
    out = m.deepcopy()  # same axes and metadata; the fitted map itself is not changed
    out.data = np.asarray(values, dtype=float)
    out.metadata.General.title = title
    out.metadata.set_item("Signal.quantity", quantity)
    out.metadata.set_item("EELSID.quantity", what)
    for key in ("covariance", "covariance_elements"):  # of the intensities, not of these values
        if out.metadata.has_item(f"EELSID.{key}"):
            delattr(out.metadata.EELSID, key)
    if out.metadata.has_item("Signal.Noise_properties.variance"):
        out.metadata.Signal.Noise_properties.variance = None
    if variance is not None:
        v = out.deepcopy()
        v.metadata.set_item("Signal.Noise_properties.variance", None)
        v.data = np.asarray(variance, dtype=float)
        v.metadata.General.title = f"variance of {title}"
        out.metadata.set_item("Signal.Noise_properties.variance", v)
    return out


def atomic_percent(maps):
    """Each element's share of the fitted elements, in atomic percent.

    Parameters
    ----------
    maps : list of hyperspy.signal.BaseSignal
        The intensity maps of one
        :func:`~hyperspy_eelsid.signals.quantification.quantify_elements`
        call (all the elements fitted together).

    Returns
    -------
    list of hyperspy.signal.BaseSignal
        One map per element, in the same order, on the same axes, titled
        ``"atomic percent of <El>"``: ``100 * I_el / sum(I)``. The maps add up
        to 100 in every pixel. Where the intensities do not add up to a
        positive number (vacuum, a masked pixel) every map is NaN. A slightly
        negative intensity (an element absent from that pixel, fitted within
        its noise) is kept as it is, so the shares there can be slightly
        negative. Each share carries its variance in
        ``metadata.Signal.Noise_properties.variance``, propagated from the
        covariance of the intensities that ``quantify_elements`` keeps with
        the maps (from their variances alone, as independent, for maps
        without it; none for maps without either).

    Notes
    -----
    Only the fitted elements count: an element not in ``signal.elements``
    (hydrogen, or one whose edges lie outside the spectrum) is not in the
    sum. Cross sections of edges with white lines or strong near-edge
    structure are least certain (see the user guide); ratios that involve
    them are best calibrated against a standard.

    Examples
    --------
    >>> maps = s.quantify_elements()                       # doctest: +SKIP
    >>> for m in atomic_percent(maps):                     # doctest: +SKIP
    ...     print(m.metadata.General.title, float(np.nanmean(m.data)))
    """
    maps = _check_maps(maps)
    values = np.stack([np.asarray(m.data, dtype=float) for m in maps])
    total = values.sum(axis=0)
    valid = np.isfinite(total) & (total > 0)
    safe = np.where(valid, total, 1.0)
    share = np.where(valid, 100.0 * values / safe, np.nan)
    variances = [_variance(m) for m in maps]
    covariance = _covariance(maps)
    if covariance is None and all(v is not None for v in variances):
        covariance = np.zeros(total.shape + (len(maps), len(maps)))  # taken as independent
        for k, v in enumerate(variances):
            covariance[..., k, k] = v
    share_variance = [None] * len(maps)
    if covariance is not None:
        # gradient of share_k = 100 I_k / T: d/dI_j = 100 (delta_kj T - I_k) / T^2
        for k in range(len(maps)):
            gradient = -np.moveaxis(np.broadcast_to(values[k], values.shape), 0, -1).copy()
            gradient[..., k] += safe
            gradient *= (100.0 / safe**2)[..., None]
            var = np.einsum("...i,...ij,...j->...", gradient, covariance, gradient)
            share_variance[k] = np.where(valid, var, np.nan)
    return [
        _derived(m, share[k], f"atomic percent of {m.metadata.EELSID.element}", "Composition (at.%)",
                 "atomic percent", share_variance[k])
        for k, m in enumerate(maps)
    ]


def areal_density(maps):
    """Each element's number of atoms per nm^2 of specimen, from a fit with a low loss.

    With ``low_loss=``, exSpy convolves the edges with the measured low-loss
    spectrum, whose counts hold the number of electrons that reached the
    spectrometer; the fitted intensity is then the areal density in atoms
    per barn, here converted to atoms per nm^2 (1 nm^2 = 1e10 barn). Divide
    by the thickness (nm) for atoms per nm^3.

    Parameters
    ----------
    maps : list of hyperspy.signal.BaseSignal
        The intensity maps of one
        :func:`~hyperspy_eelsid.signals.quantification.quantify_elements`
        call made with ``low_loss=``.

    Returns
    -------
    list of hyperspy.signal.BaseSignal
        One map per element, titled ``"areal density of <El>"``, in atoms/nm^2;
        with its variance in ``metadata.Signal.Noise_properties.variance``
        when the intensity map has one.

    Raises
    ------
    ValueError
        If the maps were fitted without a low loss: their intensities then
        also hold the unknown number of incident electrons. Fit again with
        ``quantify_elements(low_loss=ll)``, or use :func:`atomic_percent`,
        which needs no low loss.

    Notes
    -----
    The low loss must count the same electrons as the core loss: recorded
    with the same collection angle and, if its exposure or gain differed,
    scaled to the core loss's before the fit.
    """
    maps = _check_maps(maps)
    without = [m.metadata.EELSID.element for m in maps if not m.metadata.get_item("EELSID.low_loss", False)]
    if without:
        raise ValueError(
            f"The maps of {', '.join(without)} were fitted without a low-loss spectrum, so their "
            "intensities also hold the number of incident electrons and give no areal density. Fit "
            "with quantify_elements(low_loss=ll) (a low loss recorded like the core loss), or use "
            "atomic_percent(maps), which needs no low loss."
        )
    out = []
    for m in maps:
        variance = _variance(m)
        out.append(_derived(m, np.asarray(m.data, dtype=float) * BARN_PER_NM2,
                            f"areal density of {m.metadata.EELSID.element}", "Areal density (atoms/nm^2)",
                            "areal density (atoms/nm^2)",
                            None if variance is None else variance * BARN_PER_NM2**2))
    return out
