"""identify_elements / elemental_map on HyperSpy signals, with a transparent fake model.

The fake model's probability for element k is the normalised intensity at
channel 100 + 10 k, so tests can put any element above the threshold in any
pixel and check the front end's bookkeeping exactly (shape, axes, metadata, the
1 % filter, lazy == eager, distributed == eager).
"""

import warnings

import numpy as np
import pytest

hs = pytest.importorskip("hyperspy.api")
torch = pytest.importorskip("torch")

from hyperspy_eelsid import inference  # noqa: E402
from hyperspy_eelsid.elements import ELEMENTS  # noqa: E402
from hyperspy_eelsid.signals import EELSIDSpectrum  # noqa: E402
from hyperspy_eelsid.signals.identification import identify_elements  # noqa: E402

CHANNEL = {el: 100 + 10 * i for i, el in enumerate(ELEMENTS)}


class FakeEnsemble:
    name = "fake-test-model"
    threshold = 0.6

    def predict_proba(self, x):
        idx = torch.tensor([CHANNEL[el] for el in ELEMENTS])
        return x[:, idx].clamp(0, 1)


@pytest.fixture
def fake_model(monkeypatch):
    model = FakeEnsemble()
    monkeypatch.setitem(inference._CACHE, (None, "cpu"), model)
    return model


def make_si(nav=(4, 5), hot=None, offset=80.0, n=1000):
    """Spectrum image at 1 eV/channel from `offset`, flat 0.5 with element spikes.

    hot: dict element -> boolean mask over the navigation shape (row-major).
    """
    data = np.full(nav + (n,), 50.0)
    if offset <= 95:
        data[..., 95 - int(offset)] = 100.0  # reference peak: sets the normalisation
    for el, where in (hot or {}).items():
        ch = CHANNEL[el] - int(offset)
        data[where, ch] = 100.0
    s = hs.signals.Signal1D(data)
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units, ax.name = offset, 1.0, "eV", "Energy loss"
    for i, nax in enumerate(s.axes_manager.navigation_axes):
        nax.scale, nax.units, nax.offset = 0.5 + i, "nm", 1.0
    s.set_signal_type("EELS_ID")
    s.metadata.General.title = "test SI"
    return s


def test_probabilities_signal_axes_and_metadata(fake_model):
    nav = (4, 5)
    ti = np.zeros(nav, bool)
    ti[1, 2] = True
    s = make_si(nav, hot={"Ti": ti, "O": np.ones(nav, bool)})
    before = s.data.copy()
    p = s.identify_elements(device="cpu", print_summary=False, min_fraction=0.01)
    assert p.axes_manager.navigation_shape == s.axes_manager.navigation_shape
    assert p.axes_manager.signal_shape == (80,)
    for a, b in zip(p.axes_manager.navigation_axes, s.axes_manager.navigation_axes):
        assert (a.scale, a.offset, a.units) == (b.scale, b.offset, b.units)
    assert p.metadata.EELSID.elements == list(ELEMENTS)
    assert p.metadata.EELSID.threshold == 0.6
    assert p.data[1, 2, ELEMENTS.index("Ti")] == pytest.approx(1.0)
    assert p.data[0, 0, ELEMENTS.index("Ti")] == pytest.approx(0.5)
    assert sorted(s.metadata.Sample.elements) == ["O", "Ti"]
    assert s.metadata.EELSID.summary["detected"] == ["O", "Ti"]
    np.testing.assert_array_equal(s.data, before)


def test_one_percent_filter(fake_model):
    nav = (20, 20)  # 400 pixels: 1 % is 4 pixels
    few, enough = np.zeros(nav, bool), np.zeros(nav, bool)
    few.flat[:3] = True
    enough.flat[:4] = True
    s = make_si(nav, hot={"Mn": few, "Ba": enough})
    s.identify_elements(device="cpu", print_summary=False)
    assert s.metadata.Sample.elements == ["Ba"]
    summary = s.identification
    assert summary.fraction["Mn"] == pytest.approx(0.0075)
    assert summary.max_probability["Mn"] == pytest.approx(1.0)
    s.identify_elements(device="cpu", print_summary=False, min_fraction=0.005)
    assert sorted(s.metadata.Sample.elements) == ["Ba", "Mn"]
    s.identify_elements(device="cpu", print_summary=False, threshold=0.4)
    assert len(s.metadata.Sample.elements) == 80  # every channel is 0.5 >= 0.4


def test_summary_table_lists_detected_with_edges(fake_model, capsys):
    s = make_si((3,), hot={"Ti": np.ones(3, bool)})
    s.identify_elements(device="cpu")
    out = capsys.readouterr().out
    assert "1 element(s) detected in 3 spectra" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("*Ti"))
    assert "1.000" in line and "100.0%" in line and "L3 L2" in line


def test_summary_names_coincident_edges_and_survives_saving(fake_model, capsys, tmp_path):
    s = make_si((3,), hot={"N": np.ones(3, bool)})
    s.identify_elements(device="cpu")
    out = capsys.readouterr().out
    # N K at 401 eV starts 1 eV from Sc L3 and 3 eV from Cd M5, both in range (80-1079 eV)
    assert "N K 401 eV: Sc L3 402 eV (max p 0.500), Cd M5 404 eV (max p 0.500)" in out
    assert s.identification.coincident == {"N": [["N_K", "Sc_L3", "Cd_M5"]]}
    s.save(tmp_path / "n.hspy")
    loaded = hs.load(tmp_path / "n.hspy")
    assert loaded.identification.coincident == {"N": [["N_K", "Sc_L3", "Cd_M5"]]}


def test_summary_shows_as_an_html_table_in_notebooks(fake_model):
    s = make_si((3,), hot={"N": np.ones(3, bool)})
    s.identify_elements(device="cpu", print_summary=False, threshold=0.625)
    html = s.identification._repr_html_()
    assert "<b>Element identification: 1 element(s) detected in 3 spectra (threshold 0.625," in html
    assert "<tr><td><b>N</b></td><td>1.000</td><td>100.0 %</td><td>K</td><td>yes</td></tr>" in html
    assert html.count("<tr>") == 1 + len(s.identification.rows())  # header + one row per listed element
    # the coincident-edge caution, its detail nested under it, quotes escaped
    assert "another element&#x27;s edge" in html
    assert "<ul><li>N K 401 eV: Sc L3 402 eV (max p 0.500), Cd M5 404 eV (max p 0.500)</li></ul>" in html
    assert "(threshold 0.625;" in str(s.identification).replace(", in >= 1 % of pixels", "")


def test_summary_names_minor_edges_next_to_a_detection(fake_model, capsys, tmp_path):
    """La M3 (1123 eV) starts 8 eV above Ga L3 (1115 eV): with both detected, the summary says
    that La's minor edge alone may explain Ga; with La alone, nothing is said."""
    s = make_si((3,), hot={"La": np.ones(3, bool), "Ga": np.ones(3, bool)}, n=1100)  # 80-1179 eV
    s.identify_elements(device="cpu")
    out = capsys.readouterr().out
    assert "within 10 eV of a minor edge of another detected element" in out
    assert "    Ga L3 1115 eV: La M3 1123 eV" in out
    # and La N4,5 (99 eV) starts 1 eV below Ga M3 (100 eV) and 4.5 eV below Ga M2 (103.5 eV)
    expected = {"Ga": [["Ga_L3", "La_M3"]], "La": [["La_N4", "Ga_M3", "Ga_M2"]]}
    assert s.identification.minor_overlaps == expected
    assert "<li>Ga L3 1115 eV: La M3 1123 eV</li>" in s.identification._repr_html_()
    s.save(tmp_path / "la_ga.hspy")
    assert hs.load(tmp_path / "la_ga.hspy").identification.minor_overlaps == expected
    s = make_si((3,), hot={"La": np.ones(3, bool)}, n=1100)
    s.identify_elements(device="cpu")
    assert "minor edge" not in capsys.readouterr().out and s.identification.minor_overlaps == {}


def test_probability_axis_reads_the_atomic_number(fake_model):
    s = make_si((2, 3), hot={"Ti": np.ones((2, 3), bool)})
    p = s.identify_elements(device="cpu", print_summary=False)
    axis = p.axes_manager.signal_axes[0]
    assert (axis.name, axis.offset, axis.scale, axis.size) == ("Atomic number", 4.0, 1.0, 80)
    assert axis.axis[-1] == 83.0  # Bi
    np.testing.assert_array_equal(p.isig[22.0].data, np.ones((2, 3), np.float32))  # Ti, Z = 22
    np.testing.assert_array_equal(p.isig[22.0].data, s.elemental_map("Ti")[0].data)


def test_plot_identification_draws_the_last_identification(fake_model):
    import matplotlib

    matplotlib.use("Agg")
    s = make_si((4,), hot={"Ti": np.array([True, True, False, False])})
    with pytest.raises(ValueError, match="No identification yet"):
        s.plot_identification()
    s.identify_elements(device="cpu", print_summary=False, threshold=0.6)
    fig = s.plot_identification(present=["Ti", "O"])
    ax = fig.axes[0]
    framed = [r for r in ax.patches if r.get_linewidth() > 1.5]
    assert len(framed) == 1 and framed[0].get_linestyle() == "solid"  # Ti, the one detection
    texts = {t.get_text() for t in ax.texts}
    assert {"Ti", "100", "50"} <= texts  # Ti's highest probability; the others' 0.5
    assert ax.get_title() == s.metadata.General.title
    assert len([line for line in ax.lines if line.get_marker() == "o"]) == 2  # the two documented elements
    # Ti reaches the threshold in half the spectra: with a 60 % filter it is not reported, and dashed
    s.identify_elements(device="cpu", print_summary=False, threshold=0.6, min_fraction=0.6)
    framed = [r for r in s.plot_identification().axes[0].patches if r.get_linewidth() > 1.5]
    assert len(framed) == 1 and framed[0].get_linestyle() != "solid"


def test_maps_of_a_cut_signal_are_of_its_own_spectra(fake_model, tmp_path):
    """HyperSpy copies metadata when a scan is cut with inav: the stored probabilities must be
    cut with it (else the maps are of the whole scan), an energy crop must leave them, and a
    rebinned or summed signal, whose spectra are others, must be told to identify again."""
    hot = np.zeros((6, 8), bool)
    hot[2, 5] = True  # navigation (x, y) = (8, 6): pixel x = 5, y = 2
    s = make_si((6, 8), hot={"Ti": hot})
    s.identify_elements(device="cpu", print_summary=False, threshold=0.6, min_fraction=0.01)
    (full,) = s.elemental_map("Ti")
    cut = s.inav[4:7, 1:4]
    (m,) = cut.elemental_map("Ti")
    assert m.data.shape == (3, 3) and m.data[1, 1] == pytest.approx(1.0)
    np.testing.assert_array_equal(m.data, full.data[1:4, 4:7])
    assert m.axes_manager[0].offset == cut.axes_manager.navigation_axes[0].offset  # calibrated like the cut
    summary = cut.identification
    assert summary.cut_from == [8, 6] and summary.n_spectra == 48  # the scan's summary, and it says so
    assert "cut from the identified scan (8 x 6 spectra)" in str(summary)
    one = s.inav[5, 2]
    assert one.elemental_map("Ti")[0].data.tolist() == [pytest.approx(1.0)]
    assert one.identification.cut_from == [8, 6]
    cut.save(tmp_path / "cut.hspy")
    assert hs.load(tmp_path / "cut.hspy").elemental_map("Ti")[0].data.shape == (3, 3)
    x, y = (ax.axis for ax in s.axes_manager.navigation_axes)
    roi = hs.roi.RectangularROI(left=x[4], top=y[1], right=x[7], bottom=y[4])  # the same region, drawn
    np.testing.assert_array_equal(roi(s).elemental_map("Ti")[0].data, m.data)
    cropped = s.isig[200.0:600.0]
    assert cropped.identification.cut_from is None
    np.testing.assert_array_equal(cropped.elemental_map("Ti")[0].data, full.data)
    for other in (s.rebin(scale=(2, 2, 1)), s.sum(axis=(0, 1))):
        with pytest.raises(ValueError, match="navigation shape .*identify_elements"):
            other.elemental_map()
        with pytest.raises(ValueError, match="was rebinned, summed"):
            other.identification


def test_plot_identification_follows_the_navigator_pixel_by_pixel(fake_model):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hot = np.zeros((2, 3), bool)
    hot[1, 2] = True  # navigation (x, y) = (3, 2): Ti only at x = 2, y = 1
    s = make_si((2, 3), hot={"Ti": hot})
    s.identify_elements(device="cpu", print_summary=False, threshold=0.6)
    events = s.axes_manager.events.indices_changed
    before = len(events.connected)
    fig = s.plot_identification(pixel=True)
    ax = fig.axes[0]

    def shown(el):  # the probability printed in the element's cell, and its frame's line width
        rect, _, value = ax._eelsid_cells[el]
        return value.get_text(), rect.get_linewidth() > 1.5

    assert ax.get_title().endswith("pixel (0, 0)") and shown("Ti") == ("50", False)
    s.axes_manager.indices = (2, 1)
    assert ax.get_title().endswith("pixel (2, 1)") and shown("Ti") == ("100", True)
    assert len(events.connected) == before + 1
    plt.close(fig)
    s.axes_manager.indices = (0, 0)  # a closed figure stops following
    assert len(events.connected) == before and shown("Ti") == ("100", True)
    # on axes of a figure made without pyplot (a GUI or a notebook widget)
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    s.plot_identification(pixel=True, ax=ax)
    s.axes_manager.indices = (2, 1)
    assert shown("Ti") == ("100", True)
    # a pixel's indices are not taken for True (which draws the current pixel, not that one)
    with pytest.raises(TypeError, match=r"pixel is True or False, got \(2, 1\).*axes_manager\.indices"):
        s.plot_identification(pixel=(2, 1))


def test_summary_has_no_coincidence_lines_when_none(fake_model, capsys):
    s = make_si((3,), hot={"Ti": np.ones(3, bool)}, n=300)  # Ti L3 456 eV is outside 80-379 eV
    s.identify_elements(device="cpu")
    assert "within 5 eV" not in capsys.readouterr().out
    assert s.identification.coincident == {}


@pytest.mark.parametrize("n, cautioned", [(620, True), (1000, False)])
def test_summary_cautions_on_a_lanthanide_named_from_n45_edges_alone(fake_model, capsys, tmp_path, n, cautioned):
    """80-699 eV holds La N4,5 (99 eV) but not La M5 (832 eV): the summary says so;
    80-1079 eV holds both, and it does not."""
    s = make_si((3,), hot={"La": np.ones(3, bool)}, n=n)
    s.identify_elements(device="cpu")
    out = capsys.readouterr().out
    assert "La" in s.identification.detected
    assert ("La: named from N4,5 edges alone" in out) is cautioned
    assert ("La M5 832 eV" in out) is cautioned
    assert s.identification.named_from_n_edges() == (["La"] if cautioned else [])
    s.save(tmp_path / "la.hspy")
    assert hs.load(tmp_path / "la.hspy").identification.named_from_n_edges() == (["La"] if cautioned else [])


def test_single_spectrum(fake_model):
    s = make_si((), hot={"Fe": np.True_})
    p = s.identify_elements(device="cpu", print_summary=False)
    assert p.data.shape == (80,)
    assert s.metadata.Sample.elements == ["Fe"]
    (m,) = s.elemental_map()
    assert m.metadata.General.title == "Fe" and m.data.ravel()[0] == pytest.approx(1.0)


def test_exspy_edge_markers_show_the_detected_elements(fake_model):
    import matplotlib

    matplotlib.use("Agg")
    s = make_si((), hot={"Fe": np.True_, "O": np.True_})
    s.identify_elements(device="cpu", print_summary=False)
    s.plot(plot_edges=True)  # exSpy's own markers, from s.metadata.Sample.elements
    try:
        names = set(s._edge_markers["names"])
        assert {"Fe_L3", "Fe_L2", "O_K"} <= names
        assert {n.split("_")[0] for n in names} == {"Fe", "O"}
    finally:
        s._plot.close()


def test_elemental_map_line_scan_and_image(fake_model):
    line = make_si((6,), hot={"Ti": np.arange(6) < 3})
    line.identify_elements(device="cpu", print_summary=False)
    (m,) = line.elemental_map()
    assert m.axes_manager.signal_dimension == 1 and m.data.shape == (6,)
    assert m.axes_manager.signal_axes[0].scale == line.axes_manager.navigation_axes[0].scale
    np.testing.assert_allclose(m.data, [1, 1, 1, 0.5, 0.5, 0.5])
    assert m.metadata.Signal.quantity == "Probability"  # HyperSpy's plots label the colour bar with it
    assert not m.metadata.has_item("EELSID.elements")  # one element's map, not the list of 80
    image = make_si((4, 5), hot={"Ti": np.eye(4, 5, dtype=bool), "O": np.ones((4, 5), bool)})
    image.identify_elements(device="cpu", print_summary=False)
    maps = image.elemental_map(["Ti", "O"], thresholded=True)
    assert [m.metadata.General.title for m in maps] == ["Ti", "O"]
    assert maps[0].metadata.Signal.quantity == "Detected (0/1)"
    assert maps[0].axes_manager.signal_shape == image.axes_manager.navigation_shape
    np.testing.assert_array_equal(maps[0].data, np.eye(4, 5))
    assert maps[1].data.sum() == 20


def test_lazy_equals_eager_and_stays_lazy(fake_model):
    nav = (6, 7)
    hot = np.random.default_rng(0).random(nav) > 0.7
    s = make_si(nav, hot={"La": hot})
    p_eager = s.identify_elements(device="cpu", print_summary=False)
    lazy = make_si(nav, hot={"La": hot}).as_lazy()
    lazy.data = lazy.data.rechunk((2, 3, -1))
    p_lazy = lazy.identify_elements(device="cpu", print_summary=False, show_progressbar=False)
    assert p_lazy._lazy
    np.testing.assert_allclose(np.asarray(p_lazy.data), p_eager.data)
    assert lazy.metadata.Sample.elements == s.metadata.Sample.elements == ["La"]


def test_lazy_data_chunked_along_energy_is_read_in_bounded_blocks(fake_model):
    """Joining the energy chunks must not join navigation chunks too: a spectrum image stored
    in chunks of a few channels would otherwise be read as one block the size of the data."""
    import dask

    nav = (8, 12)
    hot = np.random.default_rng(1).random(nav) > 0.5
    eager = make_si(nav, hot={"La": hot}).identify_elements(device="cpu", print_summary=False)
    lazy = make_si(nav, hot={"La": hot}).as_lazy()
    lazy.data = lazy.data.rechunk((8, 12, 50))  # whole navigation, 20 chunks along energy
    block_limit = 8 * 1000 * 8  # bytes: 8 spectra of 1,000 float64 channels
    with dask.config.set({"array.chunk-size": block_limit}):
        # each stored chunk spans all 96 pixels: 768 kB as whole spectra, over 4 x 64 kB
        with pytest.warns(UserWarning, match=r"20 chunks along the energy axis, each over 96 pixels.*rechunk"):
            p = lazy.identify_elements(device="cpu", print_summary=False, show_progressbar=False)
        small = make_si(nav, hot={"La": hot}).as_lazy()
        small.data = small.data.rechunk((2, 3, 50))  # 6 pixels per chunk: cheap to join, no warning
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            small.identify_elements(device="cpu", print_summary=False, show_progressbar=False)
    n_spectra = np.prod([max(c) for c in p.data.chunks[:-1]])  # the largest block
    assert n_spectra * 1000 * 8 <= block_limit  # 8 of the 96 spectra per block at most
    np.testing.assert_allclose(np.asarray(p.data), eager.data)
    assert lazy.metadata.Sample.elements == ["La"]


def test_distributed_cluster_equals_eager(fake_model):
    distributed = pytest.importorskip("distributed")
    nav = (4, 4)
    hot = np.zeros(nav, bool)
    hot[:2] = True
    eager = make_si(nav, hot={"Sr": hot}).identify_elements(device="cpu", print_summary=False)
    lazy = make_si(nav, hot={"Sr": hot}).as_lazy()
    lazy.data = lazy.data.rechunk((2, 2, -1))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False) as cluster:
        with distributed.Client(cluster):
            p = lazy.identify_elements(device="cpu", print_summary=False, show_progressbar=False)
            np.testing.assert_allclose(np.asarray(p.data), eager.data)


def test_plain_exspy_spectrum_accepted(fake_model):
    s = make_si((2,), hot={"Ca": np.ones(2, bool)})
    s.set_signal_type("EELS")
    assert type(s) is not EELSIDSpectrum
    identify_elements(s, device="cpu", print_summary=False)
    assert s.metadata.Sample.elements == ["Ca"]


def test_bad_input_is_a_clear_error(fake_model):
    s = make_si((2,))
    for bad in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            s.identify_elements(threshold=bad)
    plain = hs.signals.Signal1D(np.ones(100))
    with pytest.raises(TypeError, match="set_signal_type"):
        identify_elements(plain)
    img = hs.signals.Signal2D(np.ones((2, 10, 10)))
    with pytest.raises(TypeError, match="needs an EELS spectrum"):
        identify_elements(img)
    far = make_si((2,), offset=3100.0, n=100)
    with pytest.raises(ValueError, match="at least 20 eV"):
        far.identify_elements(device="cpu")
    nan = make_si((2,))
    nan.data[0, 10] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        nan.identify_elements(device="cpu")
    with pytest.raises(ValueError, match="No identification yet"):
        make_si((2,)).elemental_map()
    for bad in (0, -5, 2.5, "256", True):  # 0 used to mean the default, 2.5 to be cut to 2
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            s.identify_elements(device="cpu", batch_size=bad)
    for bad in ("gpu", "mps", "CUDA"):  # torch's own error listed 20 device types
        with pytest.raises(ValueError, match="device must be 'auto', 'cpu' or 'cuda'"):
            s.identify_elements(device=bad)


def test_dead_pixels_warn_and_get_zero(fake_model):
    s = make_si((3,), hot={"Ti": np.ones(3, bool)})
    s.data[1] = 0
    with pytest.warns(UserWarning, match="1 of 3 spectra have no positive counts"):
        p = s.identify_elements(device="cpu", print_summary=False)
    assert np.all(p.data[1] == 0)


def test_navigation_mask_leaves_pixels_out_of_the_filter_and_the_maps(fake_model, capsys, tmp_path):
    # 20 x 10 image: Ba in 4 pixels (2 %), Mn in 1 (0.5 %: below the 1 % filter)
    nav = (20, 10)
    ba, mn = np.zeros(nav, bool), np.zeros(nav, bool)
    ba[15, :4] = True
    mn[16, 0] = True
    s = make_si(nav, hot={"Ba": ba, "Mn": mn})
    s.identify_elements(device="cpu", print_summary=False)
    assert s.metadata.Sample.elements == ["Ba"]
    # dead pixels (NaN) in the first ten rows; left out, Mn is 1 of the 100 spectra kept (1 %)
    mask = np.zeros(nav, bool)
    mask[:10] = True
    s.data[mask] = np.nan
    before = s.data.copy()
    with pytest.raises(ValueError, match="NaN"):
        s.identify_elements(device="cpu", print_summary=False)
    p = s.identify_elements(device="cpu", navigation_mask=mask)
    out = capsys.readouterr().out
    np.testing.assert_array_equal(s.data, before)  # nothing changed, NaN included
    assert s.identification.n_spectra == 100 and s.identification.n_masked == 100
    assert "detected in 100 spectra" in out and "100 left out by the navigation mask" in out
    assert s.identification.fraction["Mn"] == pytest.approx(0.01)
    assert sorted(s.metadata.Sample.elements) == ["Ba", "Mn"]
    assert np.isnan(p.data[mask]).all() and not np.isnan(p.data[~mask]).any()
    ba_map = s.elemental_map("Ba")[0]
    assert np.isnan(ba_map.data[mask]).all() and ba_map.data[15, 0] == pytest.approx(1.0)
    # a HyperSpy signal works as the mask, lazily too, and gives the eager result
    lazy = s.deepcopy().as_lazy()
    lazy.data = lazy.data.rechunk((3, 4, -1))
    p_lazy = lazy.identify_elements(device="cpu", print_summary=False, show_progressbar=False,
                                    navigation_mask=hs.signals.Signal2D(mask))
    np.testing.assert_array_equal(np.asarray(p_lazy.data), p.data)
    assert lazy.identification.fraction == s.identification.fraction
    assert sorted(lazy.metadata.Sample.elements) == ["Ba", "Mn"]
    # the summary keeps the count when saved
    s.save(tmp_path / "masked.hspy")
    assert hs.load(tmp_path / "masked.hspy").identification.n_masked == 100
    for bad, match in ((np.ones(nav, bool), "every spectrum"), (np.zeros((10, 20), bool), "shape"),
                       (np.full(nav, 0.5), "boolean")):
        with pytest.raises(ValueError, match=match):
            s.identify_elements(device="cpu", navigation_mask=bad)
    with pytest.raises(ValueError, match="line scan or spectrum image"):
        make_si(()).identify_elements(device="cpu", navigation_mask=np.zeros((), bool))


def make_white_line_si(ratio, nav=(3, 4), seed=0):
    """300-999 eV, 1 eV/channel: a power law, an edge with two white lines at
    782 and 797 eV of area ratio ``ratio`` (Poisson noise), and the fake
    model's channels of Co and Ba lit in every pixel (both detected)."""
    energy = 300.0 + np.arange(700)
    lorentz = lambda c, w: (np.arctan((energy + 0.5 - c) / (w / 2)) - np.arctan((energy - 0.5 - c) / (w / 2))) / np.pi  # noqa: E731
    mean = (2e4 * (energy / 700.0) ** -3.5 + 300.0 * (energy >= 781) + 150.0 * (energy >= 796)
            + 4e4 * (lorentz(782.0, 2.0) + lorentz(797.3, 2.0) / ratio))
    data = np.random.default_rng(seed).poisson(np.broadcast_to(mean, nav + (energy.size,))).astype(float)
    for el in ("Co", "Ba"):
        data[..., CHANNEL[el] - 300] = 1e6
    s = hs.signals.Signal1D(data)
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = 300.0, 1.0, "eV"
    s.set_signal_type("EELS_ID")
    return s


@pytest.mark.parametrize("ratio, kept, dropped", [(0.8, "Ba", "Co"), (3.0, "Co", "Ba")])
def test_white_line_check_drops_the_contradicted_element(fake_model, capsys, ratio, kept, dropped):
    s = make_white_line_si(ratio)
    p = s.identify_elements(device="cpu", show_progressbar=False)
    assert s.metadata.Sample.elements == [kept]
    summary = s.identification
    assert summary.dropped == [dropped] and summary.fraction[dropped] == 0.0
    (check,) = summary.white_lines
    assert check["pair"] == ["Co", "Ba"] and check["fitted"] == 12 and check["verdicts"][kept] == 12
    assert f"Not detected: {dropped} (contradicted by the ratio)" in capsys.readouterr().out
    # the probabilities are the networks' either way; without the check both stay
    plain = make_white_line_si(ratio)
    q = plain.identify_elements(device="cpu", show_progressbar=False, print_summary=False, check_white_lines=False)
    np.testing.assert_array_equal(p.data, q.data)
    assert sorted(plain.metadata.Sample.elements) == ["Ba", "Co"] and plain.identification.white_lines == []


def test_white_line_check_lazy_equals_eager_and_survives_saving(fake_model, tmp_path):
    eager = make_white_line_si(0.8)
    eager.identify_elements(device="cpu", print_summary=False)
    lazy = make_white_line_si(0.8).as_lazy()
    lazy.data = lazy.data.rechunk((2, 3, -1))
    lazy.identify_elements(device="cpu", print_summary=False, show_progressbar=False)
    assert lazy.metadata.Sample.elements == eager.metadata.Sample.elements == ["Ba"]
    (a,), (b,) = lazy.identification.white_lines, eager.identification.white_lines
    eager.save(tmp_path / "wl.hspy")
    loaded = hs.load(tmp_path / "wl.hspy").identification
    assert loaded.dropped == ["Co"] and loaded.white_lines[0]["verdicts"] == b["verdicts"]
    # the lazy pass keeps the ratios with the float32 probabilities: equal to float32 precision
    assert a["median_ratio"] == pytest.approx(b["median_ratio"], rel=1e-6)
    assert {**a, "median_ratio": 0} == {**b, "median_ratio": 0}
    assert lazy.identification.dropped == ["Co"]


def test_lazy_identification_reads_each_block_once_with_the_checks(fake_model):
    """A lazy scan is read once: the white-line verdicts come from the same pass as the
    probabilities (a second pass would read a file from disk again)."""
    import dask.array as da

    data = make_white_line_si(0.8).data  # 3 x 4 scan, Co and Ba both detected: the check runs
    reads = []

    def read(block_info=None):
        where = block_info[None]["array-location"]
        reads.append(tuple(where[0]))
        return data[tuple(slice(*w) for w in where)]

    lazy_data = da.map_blocks(read, chunks=((1, 1, 1), (4,), (700,)), dtype=data.dtype,
                              meta=np.empty((0, 0, 0), dtype=data.dtype))
    lazy = hs.signals.Signal1D(lazy_data).as_lazy()
    ax = lazy.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = 300.0, 1.0, "eV"
    lazy.set_signal_type("EELS_ID")
    lazy.identify_elements(device="cpu", print_summary=False, show_progressbar=False)
    assert lazy.identification.dropped == ["Co"] and lazy.identification.white_lines[0]["fitted"] == 12
    assert sorted(reads) == [(0, 1), (1, 2), (2, 3)]  # each of the three blocks once


class _SureOf:
    """Stand-in for the Sc / N classifier: the same P(Sc) for every spectrum."""

    def __init__(self, p):
        self.logit = float(np.log(p / (1 - p)))

    def __call__(self, x):
        return torch.full((x.shape[0], 1), self.logit)


def make_sc_n_si(nav=(3, 4), ti=None):
    """Sc and N lit in every pixel (Ti too where ``ti``), 80-1079 eV measured."""
    hot = {"Sc": np.ones(nav, bool), "N": np.ones(nav, bool)}
    if ti is not None:
        hot["Ti"] = ti
    return make_si(nav=nav, hot=hot)


@pytest.mark.parametrize("p_sc, kept, dropped", [(0.97, "Sc", "N"), (0.05, "N", "Sc")])
def test_sc_n_check_drops_the_element_the_classifier_rules_out(fake_model, monkeypatch, capsys, p_sc, kept, dropped):
    from hyperspy_eelsid import pair_classifier

    monkeypatch.setattr(pair_classifier, "load_pair_classifier", lambda path=None: _SureOf(p_sc))
    ti = np.zeros((3, 4), bool)
    ti[0, :2] = True  # Ti L3,2 (456 eV) in the classifier's region: no verdict in these two pixels
    s = make_sc_n_si(ti=ti)
    s.identify_elements(device="cpu", show_progressbar=False)
    summary = s.identification
    assert summary.sc_n["fitted"] == 12 and summary.sc_n["verdicts"] == {kept: 10, dropped: 0, "neither": 2}
    assert summary.fraction[dropped] == pytest.approx(2 / 12) and summary.fraction[kept] == 1.0
    assert kept in s.metadata.Sample.elements and dropped in s.metadata.Sample.elements  # 2 of 12 pixels >= 1 %
    assert "Not detected" not in capsys.readouterr().out.split("classifier of the 360-500 eV region")[1]
    # without Ti, the verdict covers every pixel and the ruled-out element goes
    s = make_sc_n_si()
    q = s.identify_elements(device="cpu", show_progressbar=False)
    assert s.identification.dropped == [dropped] and dropped not in s.metadata.Sample.elements
    assert f"Not detected: {dropped} (contradicted by the classifier)" in capsys.readouterr().out
    plain = make_sc_n_si()
    r = plain.identify_elements(device="cpu", show_progressbar=False, print_summary=False, check_sc_n=False)
    assert {"Sc", "N"} <= set(plain.metadata.Sample.elements) and plain.identification.sc_n is None
    np.testing.assert_array_equal(q.data, r.data)  # the probabilities are the networks' either way


def test_sc_n_check_lazy_equals_eager_and_survives_saving(fake_model, monkeypatch, tmp_path):
    from hyperspy_eelsid import pair_classifier

    monkeypatch.setattr(pair_classifier, "load_pair_classifier", lambda path=None: _SureOf(0.9))
    eager = make_sc_n_si()
    eager.identify_elements(device="cpu", print_summary=False)
    lazy = make_sc_n_si().as_lazy()
    lazy.data = lazy.data.rechunk((2, 3, -1))
    lazy.identify_elements(device="cpu", print_summary=False, show_progressbar=False)
    assert sorted(lazy.metadata.Sample.elements) == sorted(eager.metadata.Sample.elements)
    assert "N" not in eager.metadata.Sample.elements
    assert lazy.identification.sc_n == eager.identification.sc_n
    eager.save(tmp_path / "scn.hspy")
    loaded = hs.load(tmp_path / "scn.hspy").identification
    assert loaded.dropped == ["N"] and loaded.sc_n["verdicts"]["Sc"] == 12


def test_background_subtracted_spectra_get_a_warning(flat_weights):
    """Raw spectra (noisy, a few negative channels after dark subtraction) pass quietly;
    a background-subtracted one, half its channels below zero before the edge, is flagged."""
    import warnings

    energy = np.arange(300.0, 800.0)
    rng = np.random.default_rng(0)
    raw = 1e5 * (energy / 300.0) ** -3 + 2e3 * (energy >= 532)
    subtracted = raw - 1e5 * (energy / 300.0) ** -3 + rng.normal(0, 50, energy.size)
    noisy_raw = raw + rng.normal(0, 50, energy.size)
    noisy_raw[::25] = -10.0  # 4 % negative channels, as in a dark-subtracted low-dose record
    s = hs.signals.Signal1D(np.stack([noisy_raw, subtracted]))
    s.axes_manager.signal_axes[0].offset, s.axes_manager.signal_axes[0].units = 300.0, "eV"
    s.set_signal_type("EELS_ID")
    before = s.data.copy()
    with pytest.warns(UserWarning, match=r"1 of 2 spectra .* look background-subtracted") as caught:
        s.identify_elements(device="cpu", weights=flat_weights, print_summary=False)
    assert [w.filename for w in caught if "background" in str(w.message)] == [__file__]
    np.testing.assert_array_equal(s.data, before)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.inav[0].identify_elements(device="cpu", weights=flat_weights, print_summary=False)
    with pytest.warns(UserWarning, match="background-subtracted"):  # lazy: when computed, per block
        s.as_lazy().identify_elements(device="cpu", weights=flat_weights, print_summary=False)
