"""The periodic-table figure of element probabilities."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hyperspy_eelsid.elements import ELEMENTS  # noqa: E402
from hyperspy_eelsid.plotting import periodic_table_position, plot_periodic_table  # noqa: E402


def test_positions_are_the_periodic_table():
    assert periodic_table_position("Be") == (2, 2)
    assert periodic_table_position("O") == (2, 16)
    assert periodic_table_position("Fe") == (4, 8)
    assert periodic_table_position("La") == (6, 3)
    assert periodic_table_position("Hf") == (6, 4)
    assert periodic_table_position("Bi") == (6, 15)
    cells = [periodic_table_position(el) for el in ELEMENTS]
    assert len(set(cells)) == 80  # no two elements share a cell


def test_figure_marks_detected_elements():
    p = np.zeros(80)
    p[ELEMENTS.index("Ti")] = 0.97
    p[ELEMENTS.index("O")] = 0.6
    fig = plot_periodic_table(p, threshold=0.5, present=["Ti", "O"], title="TiO2")
    ax = fig.axes[0]
    red = [r for r in ax.patches if r.get_linewidth() > 2]
    assert len(red) == 2
    labels = {t.get_text() for t in ax.texts}
    assert {"Ti", "97", "O", "60", "Bi"} <= labels


def test_documented_composition_one_symbol_and_symbols_off_the_table():
    """present="Ti" marks Ti (not "T" and "i"); a misspelt symbol or Li warns instead of
    leaving the dot out silently."""
    from matplotlib.lines import Line2D

    p = np.zeros(80)
    fig = plot_periodic_table(p, present="Ti")
    assert len([a for a in fig.axes[0].get_children() if isinstance(a, Line2D)]) == 1
    with pytest.warns(UserWarning, match="'Li', 'ti' not among the 80 elements"):
        fig = plot_periodic_table(p, present=["O", "ti", "Li"])
    assert len([a for a in fig.axes[0].get_children() if isinstance(a, Line2D)]) == 1


def test_figure_tells_reported_elements_from_those_a_check_ruled_out():
    """The demo's Co reaches the threshold but the white-line check rules it out: its frame
    must not look like the detected Ba's."""
    from matplotlib.colors import to_rgba

    p = np.zeros(80)
    p[[ELEMENTS.index("Ba"), ELEMENTS.index("Co")]] = 0.9, 0.99
    fig = plot_periodic_table(p, threshold=0.475, detected=["Ba"])
    ax = fig.axes[0]
    framed = {tuple(r.get_xy()): r for r in ax.patches if r.get_linewidth() > 1.5}
    assert len(framed) == 2
    cell = {el: framed[next(xy for xy in framed if abs(xy[0] - periodic_table_position(el)[1]) < 1e-9)]
            for el in ("Ba", "Co")}
    assert cell["Ba"].get_edgecolor() == to_rgba("C3") and cell["Ba"].get_linestyle() == "solid"
    assert cell["Co"].get_edgecolor() == to_rgba("C1") and cell["Co"].get_linestyle() != "solid"
    notes = {t.get_text() for t in ax.texts}
    assert "red frame: detected" in notes
    assert "dashed frame: p >= 0.475, not reported (too few pixels, or a check)" in notes


def test_update_redraws_values_and_frames_and_needs_a_drawn_table():
    import matplotlib.pyplot as plt

    from hyperspy_eelsid.plotting import update_periodic_table

    fig = plot_periodic_table({"Fe": 0.9}, threshold=0.5, detected=["Fe"])
    ax = fig.axes[0]
    update_periodic_table(ax, {"Fe": 0.2, "Co": 0.7})
    rect, _, value = ax._eelsid_cells["Fe"]
    assert value.get_text() == "20" and rect.get_linewidth() < 1  # reported, but below t here: no frame
    rect, _, value = ax._eelsid_cells["Co"]
    assert value.get_text() == "70" and rect.get_linestyle() != "solid"  # above t, not reported: dashed
    with pytest.raises(ValueError, match="no periodic table"):
        update_periodic_table(plt.subplots()[1], {"Fe": 0.1})


def test_mapping_input_and_wrong_length():
    fig = plot_periodic_table({"Fe": 0.9})
    assert "90" in {t.get_text() for t in fig.axes[0].texts}
    with pytest.raises(ValueError, match="80 probabilities"):
        plot_periodic_table(np.zeros(79))


def test_model_fit_figure_shows_spectrum_model_and_background():
    pytest.importorskip("exspy")
    from hyperspy_eelsid.plotting import plot_model_fit

    from .test_composition import _spectra

    scan, _ = _spectra(low_loss=False)
    one = scan.inav[2, 0]
    one.add_elements(["Ti", "O"])
    maps, model = one.quantify_elements(show_progressbar=False, return_model=True)
    fig = plot_model_fit(model, title="Ti, O")
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["spectrum", "fitted model", "power-law background"]
    spectrum, fitted, background = (line.get_ydata() for line in ax.get_lines())
    np.testing.assert_array_equal(spectrum, one.data)
    above_o = one.axes_manager.signal_axes[0].axis > 560  # beyond the O K onset
    assert np.all(background[above_o] < fitted[above_o])  # the edges sit on the background
    assert np.nanmax(np.abs(fitted - spectrum) / spectrum) < 0.1  # it is a fit of this spectrum
    assert ax.get_xlim()[0] >= one.axes_manager.signal_axes[0].axis[0]
    with pytest.raises(ValueError, match="one spectrum"):
        _, scan_model = scan.quantify_elements(show_progressbar=False, return_model=True)
        plot_model_fit(scan_model)


def _map(data, title, scale=2.0):
    hs = pytest.importorskip("hyperspy.api")
    m = hs.signals.BaseSignal(np.asarray(data, dtype=float))  # every axis a signal (scan) axis
    for axis in m.axes_manager.signal_axes:
        axis.scale, axis.units = scale, "nm"
    m.metadata.General.title = title
    m.metadata.set_item("EELSID.quantity", "probability")
    return m


def test_maps_are_drawn_as_calibrated_images_profiles_or_first_frames():
    """plot_maps draws what the map and quantify commands write. Maps of a stack of spectrum
    images (three scan dimensions) failed inside matplotlib ("x and y must have same first
    dimension"), ending `eelsid map` and `eelsid quantify --out` without a figure."""
    import warnings

    from hyperspy_eelsid.plotting import plot_maps

    image = np.arange(12.0).reshape(3, 4) / 12
    fig = plot_maps([_map(image, "Ti"), _map(image[::-1], "O")], title="probability", vmax=1.0)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["Ti", "O"]
    drawn = panels[0].get_images()[0]
    np.testing.assert_array_equal(drawn.get_array(), image)
    assert drawn.get_extent() == [-1.0, 7.0, 5.0, -1.0]  # 4 x 3 pixels of 2 nm, centred on them
    assert panels[0].get_xlabel().endswith("(nm)")

    fig = plot_maps([_map(np.linspace(0, 1, 5), "Ti")])
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [0, 2, 4, 6, 8])

    stack = np.stack([image, 1 - image])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plot_maps([_map(stack, "Ti")])
    assert any("3 scan dimensions; the figure draws their first frame" in str(w.message) for w in caught)
    np.testing.assert_array_equal(fig.axes[0].get_images()[0].get_array(), image)
    with pytest.raises(ValueError, match="No maps"):
        plot_maps([])
