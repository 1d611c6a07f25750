"""Figures a microscopist reads: element probabilities on the periodic table,
element maps, and a spectrum with its fitted model.

Pure matplotlib, no HyperSpy import: usable from the front end, the CLI and
the benchmark scripts alike (:func:`plot_model_fit` takes a fitted exSpy
model that the caller made).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from hyperspy_eelsid._stack import user_stacklevel
from hyperspy_eelsid.elements import ELEMENTS, atomic_number

__all__ = ["periodic_table_position", "plot_periodic_table", "update_periodic_table", "plot_maps", "plot_model_fit"]

# Z at the start of each period and the group of every Z in periods 2-6.
_PERIOD_STARTS = {2: 3, 3: 11, 4: 19, 5: 37, 6: 55}
_LANTHANIDE_ROW = 7  # drawn apart, below the main table (Ce..Lu)


def periodic_table_position(symbol: str) -> tuple[int, int]:
    """(row, column) of an element in the drawn table, 1-based like period/group.

    Ce..Lu are drawn in a separate row below the main table, starting under
    group 4; La stays in group 3.
    """
    z = atomic_number(symbol)
    period = max(p for p, start in _PERIOD_STARTS.items() if z >= start)
    offset = z - _PERIOD_STARTS[period]
    if period in (2, 3):
        group = offset + 1 if offset < 2 else offset + 11
    elif period in (4, 5):
        group = offset + 1
    else:  # period 6 with the lanthanides
        if 58 <= z <= 71:
            return _LANTHANIDE_ROW, z - 58 + 4
        group = offset + 1 if z <= 57 else z - 72 + 4
    return period, group


def _as_array(probabilities) -> np.ndarray:
    if isinstance(probabilities, Mapping):
        return np.array([float(probabilities.get(el, np.nan)) for el in ELEMENTS])
    values = np.asarray(probabilities, dtype=float).ravel()
    if values.size != len(ELEMENTS):
        raise ValueError(
            f"Expected {len(ELEMENTS)} probabilities (one per element Be..Bi), got {values.size}."
        )
    return values


def plot_periodic_table(
    probabilities,
    threshold: float | None = None,
    title: str | None = None,
    present=None,
    ax=None,
    cmap: str = "Blues",
    detected=None,
):
    """Draw per-element probabilities on the periodic table (the paper's Fig. 6).

    Parameters
    ----------
    probabilities : array_like or mapping
        80 values in :data:`~hyperspy_eelsid.elements.ELEMENTS` order, or a
        mapping ``{symbol: probability}``.
    threshold : float, optional
        Elements with a probability at or above it get a bold red frame
        (detected).
    title : str, optional
        Axes title.
    present : str or iterable of str, optional
        Known composition: these elements get a green dot in the corner, so
        predictions and truth can be compared at a glance.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    cmap : str
        Matplotlib colour map for the probabilities.
    detected : iterable of str, optional
        The elements an identification reported (``s.identification.detected``).
        With it, only these get the red frame; elements at or above
        ``threshold`` that were not reported (in fewer than ``min_fraction``
        of the pixels, or ruled out by the white-line or Sc / N check) get a
        dashed orange one.

    Returns
    -------
    matplotlib.figure.Figure

    Warns
    -----
    UserWarning
        If ``present`` names something that is not one of the 80 elements on
        the table (a misspelt symbol, or an element outside Be..Bi such as Li):
        no dot is drawn for it.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    values = _as_array(probabilities)
    if ax is None:
        fig, ax = plt.subplots(figsize=(11, 5.6))
    else:
        fig = ax.figure
    colormap = plt.get_cmap(cmap)
    present = {present} if isinstance(present, str) else set(present or ())
    off_table = sorted(present - set(ELEMENTS))
    if off_table:
        warnings.warn(f"present: {', '.join(map(repr, off_table))} not among the 80 elements on the table "
                      "(Be..Bi, symbols case-sensitive); no dot is drawn for them.", stacklevel=user_stacklevel())
    reported = None if detected is None else set(detected)
    cells = {}
    for symbol in ELEMENTS:
        row, col = periodic_table_position(symbol)
        y = -row - (0.35 if row == _LANTHANIDE_ROW else 0.0)
        rect = ax.add_patch(Rectangle((col, y), 0.94, 0.94))
        label = ax.text(col + 0.47, y + 0.6, symbol, ha="center", va="center", fontsize=10, fontweight="bold")
        value = ax.text(col + 0.47, y + 0.22, "", ha="center", va="center", fontsize=7)
        cells[symbol] = (rect, label, value)
        if symbol in present:
            ax.plot(col + 0.82, y + 0.82, "o", color="C2", ms=4)
    ax._eelsid_cells = cells  # for update_periodic_table
    ax._eelsid_style = (threshold, reported, colormap)
    update_periodic_table(ax, values)
    ax.set_xlim(0.8, 19.2)
    ax.set_ylim(-_LANTHANIDE_ROW - 0.9, -0.95)
    ax.set_aspect("equal")
    ax.axis("off")
    sm = plt.cm.ScalarMappable(cmap=colormap, norm=plt.Normalize(0, 100))
    bar = fig.colorbar(sm, ax=ax, fraction=0.025, pad=0.01)
    bar.set_label("probability (%)")
    note = []
    if reported is not None:
        note.append("red frame: detected")
        if threshold is not None:
            note.append(f"dashed frame: p >= {threshold:.3g}, not reported (too few pixels, or a check)")
    elif threshold is not None:
        note.append(f"red frame: p >= {threshold:.3g}")
    if present:
        note.append("green dot: documented composition")
    for i, line in enumerate(note):  # in the gap above the transition metals
        ax.text(3.2, -1.3 - 0.3 * i, line, fontsize=8, va="center", color="0.3")
    if title:
        ax.set_title(title)
    return fig


def update_periodic_table(ax, probabilities):
    """Show other probabilities in a figure drawn by :func:`plot_periodic_table`.

    Colours, values and frames are redrawn with the figure's threshold and
    reported elements, so that one figure can follow, for example, the
    pixel under HyperSpy's navigator (:func:`~hyperspy_eelsid.signals.identification.plot_identification`
    with ``pixel=True``).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes :func:`plot_periodic_table` drew on.
    probabilities : array_like or mapping
        As for :func:`plot_periodic_table`.
    """
    cells = getattr(ax, "_eelsid_cells", None)
    if cells is None:
        raise ValueError("These axes hold no periodic table drawn by plot_periodic_table.")
    threshold, reported, colormap = ax._eelsid_style
    for symbol, p in zip(ELEMENTS, _as_array(probabilities)):
        rect, label, value = cells[symbol]
        missing = bool(np.isnan(p))
        rect.set_facecolor("0.92" if missing else colormap(0.05 + 0.95 * float(np.clip(p, 0, 1))))
        if threshold is None:  # frames from the reported elements alone, if given
            red, dashed = reported is not None and symbol in reported, False
        else:  # a reported element below the threshold here (one pixel of a scan) gets no frame
            above = not missing and p >= threshold
            red = above and (reported is None or symbol in reported)
            dashed = above and not red
        frame = ("C3", 2.2, "solid") if red else ("C1", 2.0, (0, (2, 1.5))) if dashed else ("0.6", 0.6, "solid")
        rect.set_edgecolor(frame[0])
        rect.set_linewidth(frame[1])
        rect.set_linestyle(frame[2])
        dark = not missing and p > 0.55
        label.set_color("white" if dark else "black")
        value.set_text("" if missing else f"{100 * p:.0f}")
        value.set_color("white" if dark else "0.25")
    ax.figure.canvas.draw_idle()


def _axis_label(axis, fallback: str) -> str:
    name = axis.name if axis.name not in (None, "", "<undefined>") else fallback
    units = axis.units if axis.units not in (None, "", "<undefined>") else ""
    return f"{name} ({units})" if units else name


def _extent(signal):
    axes = signal.axes_manager.signal_axes
    x, y = axes[0], axes[1]
    half_x, half_y = 0.5 * x.scale, 0.5 * y.scale
    return (x.axis[0] - half_x, x.axis[-1] + half_x, y.axis[-1] + half_y, y.axis[0] - half_y)


def _first_frames(maps):
    """Maps of scans with more than two dimensions (a stack or series of spectrum images) as
    their first 2-D frame, with a warning that says so and how to draw another."""
    extra = maps[0].axes_manager.signal_axes[2:]
    if not extra:
        return maps
    names = ", ".join(f"'{a.name}'" for a in extra)
    warnings.warn(
        f"The maps have {2 + len(extra)} scan dimensions; the figure draws their first frame "
        f"(index 0 along {names}). The maps hold every frame: draw another with "
        f"plot_maps([m.isig[:, :, {', '.join(['k'] * len(extra))}] for m in maps]).",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return [m.isig[(slice(None), slice(None)) + (0,) * len(extra)] for m in maps]


def plot_maps(maps, title: str | None = None, ncols: int | None = None, vmax=None):
    """Draw element maps (probabilities or fitted intensities) side by side.

    Parameters
    ----------
    maps : list of hyperspy signals
        One map per element, as returned by ``elemental_map`` or
        ``quantify_elements``: 2-D maps are drawn as calibrated images, line
        scans as profiles; of scans with more dimensions (a stack of
        spectrum images) the first 2-D frame is drawn, with a warning. Each
        map's title names its element.
    title : str, optional
        Figure title.
    ncols : int, optional
        Panels per row (default: up to 4).
    vmax : float, optional
        Common upper colour limit (e.g. 1 for probabilities); each map's own
        maximum when omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not maps:
        raise ValueError("No maps to draw.")
    maps = _first_frames(maps)
    n = len(maps)
    ncols = ncols or min(n, 4)
    nrows = -(-n // ncols)
    two_d = maps[0].axes_manager.signal_dimension == 2
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.2 * ncols, (3.0 if two_d else 2.4) * nrows),
        squeeze=False, constrained_layout=True,
    )
    for ax, m in zip(axes.flat, maps):
        name = m.metadata.General.title
        quantity = m.metadata.get_item("EELSID.quantity", "")
        if two_d:
            im = ax.imshow(np.asarray(m.data, dtype=float), extent=_extent(m), vmin=0, vmax=vmax,
                           cmap="magma", interpolation="nearest")
            fig.colorbar(im, ax=ax, shrink=0.8, label=quantity)
            xa, ya = m.axes_manager.signal_axes[:2]
            ax.set_xlabel(_axis_label(xa, "x"))
            ax.set_ylabel(_axis_label(ya, "y"))
        else:
            xa = m.axes_manager.signal_axes[0]
            ax.plot(xa.axis, np.asarray(m.data, dtype=float).ravel(), color="C0")
            ax.set_ylim(0, vmax if vmax is not None else None)
            ax.set_xlabel(_axis_label(xa, "position"))
            ax.set_ylabel(quantity)
        ax.set_title(name)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig


def plot_model_fit(model, title: str | None = None, ax=None):
    """Draw one spectrum, its fitted model and the model's power-law background.

    Parameters
    ----------
    model : exspy.models.EELSModel
        A fitted model of one spectrum in memory, e.g. from
        ``quantify_elements(return_model=True)`` on a single spectrum, or
        ``m.inav[i]``'s current pixel of a scan's model.
    title : str, optional
        Axes title.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on. Only the fitted energy range is shown; the
        residual between the spectrum and the model there (white lines,
        fine structure the atomic cross sections lack) is what to check.
    """
    import logging

    import matplotlib.pyplot as plt

    from hyperspy_eelsid.signals.quantification import model_signal

    if model.signal._lazy or model.axes_manager.navigation_dimension:
        raise ValueError("plot_model_fit draws one spectrum in memory: pass the model of one spectrum "
                         "(quantify_elements(return_model=True) on `s.inav[i]`).")
    energy = model.signal.axes_manager.signal_axes[0].axis
    data = np.asarray(model.signal.data, dtype=float).ravel()
    hs_log = logging.getLogger("hyperspy.model")
    level = hs_log.level
    hs_log.setLevel(logging.ERROR)  # HyperSpy's "slow as_signal" notice: one spectrum, nothing slow
    try:
        fitted = np.asarray(model_signal(model, show_progressbar=False).data, dtype=float).ravel()
        background = [c for c in model if c.active and hasattr(c, "function_nd")]
        bg = None
        if background:
            bg = np.asarray(model.as_signal(component_list=background, show_progressbar=False).data, dtype=float)
    finally:
        hs_log.setLevel(level)
    inside = np.isfinite(fitted)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.0, 3.6), constrained_layout=True)
    fig = ax.figure
    ax.plot(energy, data, color="0.2", lw=0.8, label="spectrum")
    ax.plot(energy, fitted, color="tab:red", lw=1.2, label="fitted model")
    if bg is not None:
        ax.plot(energy, np.where(inside, bg.ravel(), np.nan), color="tab:blue", lw=1.0, ls="--",
                label="power-law background")
    if inside.any():
        lo, hi = energy[inside][[0, -1]]
        shown = data[(energy >= lo) & (energy <= hi)]
        ax.set_xlim(lo, hi)
        ax.set_ylim(min(0.0, np.nanmin(shown)), 1.05 * np.nanmax(shown))
    ax.set_xlabel("Energy loss (eV)")
    ax.set_ylabel("Counts")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    return fig
