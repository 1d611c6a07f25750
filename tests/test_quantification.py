"""Model-based quantification with the identified elements."""

import warnings

import numpy as np
import pytest

hs = pytest.importorskip("hyperspy.api")

from hyperspy_eelsid.signals.quantification import (  # noqa: E402
    MicroscopeParametersError,
    create_model,
    quantify_elements,
)


def _si(shape=(6, 8)):
    s = hs.signals.Signal1D(np.ones(shape + (400,)))
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = 350.0, 1.0, "eV"
    s.set_signal_type("EELS_ID")
    return s


def _synthetic_ti_o(gos, background=None, low_loss=None):
    """Ti L + O K spectrum image made from the same model, with Poisson noise; with
    ``background``, a power law of that amplitude (exponent 3) is added to the counts; with
    ``low_loss``, the edges are convolved with it (plural scattering)."""
    s = _si()
    s.set_microscope_parameters(beam_energy=200, convergence_angle=10, collection_angle=30)
    s.add_elements(["Ti", "O"])
    m = s.create_model(low_loss=low_loss, **gos)
    truth = {"Ti": np.where(np.arange(8) < 4, 2e4, 1e3) * np.ones((6, 1)), "O": np.full((6, 8), 3e4)}
    for c in m:
        if hasattr(c, "intensity") and c.intensity.twin is None:
            c.intensity.map["values"][:] = truth[c.element]
            c.intensity.map["is_set"][:] = True
    bg = m[0]
    bg.A.map["values"][:], bg.r.map["values"][:] = 1e9, 3.0
    bg.A.map["is_set"][:] = bg.r.map["is_set"][:] = True
    clean = m.as_signal(show_progressbar=False).data
    if background is not None:
        clean = clean + background * s.axes_manager.signal_axes[0].axis ** -3.0
    s.data = np.random.default_rng(0).poisson(clean).astype(float)
    return s, truth


def test_quantify_recovers_intensity_maps():
    gos = {"GOS": "hydrogenic"}
    s, truth = _synthetic_ti_o(gos)
    before = s.data.copy()
    maps = s.quantify_elements(show_progressbar=False, **gos)
    assert [m.metadata.General.title for m in maps] == ["O", "Ti"]
    for m in maps:
        assert m.axes_manager.signal_shape == s.axes_manager.navigation_shape
        np.testing.assert_allclose(m.data, truth[m.metadata.General.title], rtol=0.02)
    np.testing.assert_array_equal(s.data, before)


def test_quantify_leaves_masked_pixels_out():
    # dead pixels (NaN) in column 7: masked, the other pixels get what the image without that column gets
    gos = {"GOS": "hydrogenic"}
    s, truth = _synthetic_ti_o(gos)
    clean = s.inav[:7].deepcopy()
    mask = np.zeros((6, 8), bool)
    mask[:, 7] = True
    s.data[mask] = np.nan
    before = s.data.copy()
    maps = s.quantify_elements(show_progressbar=False, navigation_mask=mask, **gos)
    np.testing.assert_array_equal(s.data, before)  # NaN included
    expected = clean.quantify_elements(show_progressbar=False, **gos)
    for m, e in zip(maps, expected):
        assert np.isnan(m.data[:, 7]).all()
        np.testing.assert_allclose(m.data[:, :7], e.data, rtol=1e-6)
        np.testing.assert_allclose(m.data[:, :7], truth[m.metadata.General.title][:, :7], rtol=0.02)
    with pytest.raises(ValueError, match="shape"):
        s.quantify_elements(show_progressbar=False, navigation_mask=mask.T, **gos)


def _low_loss(shape=(6, 8), scale=1.0):
    """Low-loss spectrum image of unit area: a zero-loss peak and a plasmon (22 eV) holding 0.3-0.7
    of the electrons, varying over the scan; ``scale`` eV per channel."""
    e = np.arange(-20.0, 80.0, scale)
    zlp = np.exp(-0.5 * (e / max(scale, 1.0)) ** 2)
    plasmon = np.exp(-0.5 * ((e - 22) / 5) ** 2)
    fraction = np.random.default_rng(1).uniform(0.3, 0.7, shape + (1,))
    ll = hs.signals.Signal1D((1 - fraction) * zlp / zlp.sum() + fraction * plasmon / plasmon.sum())
    ll.set_signal_type("EELS")
    ax = ll.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = -20.0, scale, "eV"
    return ll


def test_low_loss_must_match_the_dispersion_and_hold_the_zero_loss():
    s, _ = _synthetic_ti_o({"GOS": "hydrogenic"})
    with pytest.raises(ValueError, match=r"0\.5 eV per channel.*1 eV"):
        s.quantify_elements(low_loss=_low_loss(scale=0.5), GOS="hydrogenic")
    shifted = _low_loss()
    shifted.axes_manager.signal_axes[0].offset = 5.0  # 5-104 eV: no zero-loss peak
    with pytest.raises(ValueError, match="0 eV"):
        s.create_model(low_loss=shifted, GOS="hydrogenic")
    in_kev = _low_loss()
    ax = in_kev.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = -0.02, 0.001, "keV"  # used to be told "0.001 eV per channel"
    with pytest.raises(ValueError, match="low loss's energy axis is in 'keV'"):
        s.quantify_elements(low_loss=in_kev, GOS="hydrogenic")
    with pytest.raises(TypeError, match="low_loss must be a HyperSpy spectrum"):
        s.create_model(low_loss=_low_loss().data, GOS="hydrogenic")  # an array: was an AttributeError


def test_quantify_with_low_loss_recovers_intensities():
    # made with the same model convolved with each pixel's low loss: exSpy fits pixel by pixel
    gos = {"GOS": "hydrogenic"}
    ll = _low_loss()
    s, truth = _synthetic_ti_o(gos, background=1e15, low_loss=ll)
    maps = s.quantify_elements(low_loss=ll, show_progressbar=False, **gos)
    # within 3 %: the exponent comes from the mean spectrum, which the mean low loss models only
    # approximately where the plasmon and the Ti amount both vary (the weak Ti pixels are 2 % high)
    for m in maps:
        np.testing.assert_allclose(m.data, truth[m.metadata.General.title], rtol=0.03)
    # fitted without the low loss, the plural scattering is not modelled and the intensities are off
    without = s.quantify_elements(show_progressbar=False, **gos)
    assert max(np.max(np.abs(m.data / truth[m.metadata.General.title] - 1)) for m in without) > 0.1


def test_one_low_loss_spectrum_serves_every_pixel_of_a_scan(monkeypatch):
    """A scan with one low-loss spectrum (recorded at one point) was refused ("navigation shape"),
    and the message asked the user to repeat it over the pixels. It now gives what that repetition
    gives, eager and lazy, with a warning about the assumption; the user's low loss is unchanged."""
    from hyperspy_eelsid.signals import quantification

    gos = {"GOS": "hydrogenic"}
    s, _ = _synthetic_ti_o(gos, background=1e15)
    one = _low_loss((1,)).inav[0]
    repeated = hs.signals.Signal1D(np.broadcast_to(one.data, (6, 8) + one.data.shape).copy())
    repeated.axes_manager.signal_axes[0].update_from(one.axes_manager.signal_axes[0], ("offset", "scale", "units"))
    repeated.set_signal_type("EELS")
    expected = s.quantify_elements(low_loss=repeated, show_progressbar=False, **gos)
    before = one.data.copy()
    with pytest.warns(UserWarning, match="One low-loss spectrum for the 48 spectra of the scan"):
        maps = s.quantify_elements(low_loss=one, show_progressbar=False, **gos)
    monkeypatch.setattr(quantification, "LAZY_BLOCK_SPECTRA", 10)
    with pytest.warns(UserWarning, match="One low-loss spectrum"):
        lazy = s.as_lazy().quantify_elements(low_loss=one.as_lazy(), show_progressbar=False, **gos)
    for a, b, c in zip(expected, maps, lazy):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-9)
        np.testing.assert_allclose(c.data, a.data, rtol=1e-9)
    np.testing.assert_array_equal(one.data, before)
    assert one.axes_manager.navigation_shape == ()
    with pytest.warns(UserWarning, match="One low-loss spectrum"):  # saved as a scan of one pixel
        pixel = s.quantify_elements(low_loss=_low_loss((1,)), show_progressbar=False, **gos)
    for a, b in zip(expected, pixel):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-9)
    with pytest.warns(UserWarning, match="One low-loss spectrum"):
        assert s.create_model(low_loss=one, **gos).low_loss.axes_manager.navigation_shape == (8, 6)


def test_quantify_lazy_equals_eager_block_by_block(monkeypatch):
    from hyperspy_eelsid.signals import quantification

    gos = {"GOS": "hydrogenic"}
    s, truth = _synthetic_ti_o(gos)
    mask = np.zeros((6, 8), bool)
    mask[0, 0] = mask[:, 7] = True
    eager, eager_model = s.quantify_elements(show_progressbar=False, navigation_mask=mask, return_model=True, **gos)
    lazy_signal = s.as_lazy()
    lazy_signal.data = lazy_signal.data.rechunk((2, 4, 400))
    monkeypatch.setattr(quantification, "LAZY_BLOCK_SPECTRA", 10)  # one row of 8 spectra per block: 6 blocks
    lazy, lazy_model = lazy_signal.quantify_elements(show_progressbar=False, navigation_mask=mask,
                                                     return_model=True, **gos)
    assert lazy_signal._lazy and lazy_model.signal._lazy
    for a, b in zip(eager, lazy):
        assert a.metadata.General.title == b.metadata.General.title and not b._lazy
        assert b.axes_manager.signal_shape == s.axes_manager.navigation_shape
        np.testing.assert_allclose(b.data, a.data, rtol=1e-9)  # NaN where masked, in both
        np.testing.assert_allclose(b.data[~mask], truth[b.metadata.General.title][~mask], rtol=0.02)
    # the returned model holds every pixel's fit: the background too
    for name in ("A", "r"):
        np.testing.assert_allclose(getattr(lazy_model[0], name).map["values"][~mask],
                                   getattr(eager_model[0], name).map["values"][~mask], rtol=1e-9)
    np.testing.assert_array_equal(lazy_signal.data.compute(), s.data)


def test_quantify_lazy_data_split_along_energy_warns_and_equals_eager(monkeypatch):
    """Stored in chunks of 100 channels over all 48 pixels, each block of spectra fitted reads
    every chunk again (6 blocks of 8 spectra: every chunk read at least 7 times, against at most
    3 when the spectra are stored whole): a warning says so and how to store them whole; the
    result is the same."""
    import dask
    import dask.array as da

    from hyperspy_eelsid.signals import quantification

    gos = {"GOS": "hydrogenic"}
    s, _ = _synthetic_ti_o(gos)
    eager = s.quantify_elements(show_progressbar=False, **gos)
    monkeypatch.setattr(quantification, "LAZY_BLOCK_SPECTRA", 10)  # one row of 8 spectra per block
    n = s.axes_manager.signal_shape[0]

    def lazy_copy(chunks, reads):
        def read(block_info=None):
            reads.append(1)
            return s.data[tuple(slice(*w) for w in block_info[None]["array-location"])]

        blocks = tuple(tuple([c] * (size // c)) for c, size in zip(chunks, (6, 8, n)))
        lazy = hs.signals.Signal1D(da.map_blocks(read, chunks=blocks, dtype=s.data.dtype)).as_lazy()
        lazy.axes_manager.signal_axes[0].update_from(s.axes_manager.signal_axes[0], ("offset", "scale", "units"))
        lazy.set_signal_type("EELS_ID")
        lazy.metadata.add_dictionary(s.metadata.as_dictionary())
        return lazy, len(blocks[0]) * len(blocks[1]) * len(blocks[2])

    split_reads, whole_reads = [], []
    split, n_split = lazy_copy((6, 8, 100), split_reads)
    whole, n_whole = lazy_copy((1, 8, n), whole_reads)
    with dask.config.set({"array.chunk-size": 48 * n * s.data.dtype.itemsize // 5}):  # 4 x it < 48 spectra
        with pytest.warns(UserWarning, match="each block of spectra fitted reads all the chunks over its pixels"):
            lazy = split.quantify_elements(show_progressbar=False, **gos)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            whole.quantify_elements(show_progressbar=False, **gos)
    # split: the scan and each of the 6 blocks read every chunk; whole: two passes (and a pixel or two)
    assert len(split_reads) >= 7 * n_split and len(whole_reads) <= 3 * n_whole
    for a, b in zip(eager, lazy):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-9)


def test_half_precision_data_quantify_like_single_precision():
    """float16 sums overflow at 65,504: with a navigation mask the mean spectrum was a sum of
    the kept pixels in float16, infinite here, and every map came out wrong."""
    gos = {"GOS": "hydrogenic"}
    s, truth = _synthetic_ti_o(gos)
    mask = np.zeros((6, 8), bool)
    mask[0, 0] = True
    scale = s.data.max() / 1e4  # counts up to 10,000 in each channel, which float16 holds
    s.data = s.data / scale
    truth = {el: values / scale for el, values in truth.items()}
    half = s.deepcopy()
    half.change_dtype("float16")
    assert np.isinf(half.data.sum(axis=(0, 1))).any()  # what a float16 sum of these pixels gives
    before = half.data.copy()
    single = s.deepcopy()
    single.data = half.data.astype(np.float32)  # the same counts, rounded to float16
    for a, b in zip(single.quantify_elements(show_progressbar=False, navigation_mask=mask, **gos),
                    half.quantify_elements(show_progressbar=False, navigation_mask=mask, **gos)):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-6)  # NaN where masked, in both
        np.testing.assert_allclose(b.data[~mask], truth[b.metadata.General.title][~mask], rtol=0.03)
    assert half.data.dtype == np.float16 and np.array_equal(half.data, before)


def test_quantify_lazy_with_lazy_low_loss(monkeypatch):
    from hyperspy_eelsid.signals import quantification

    gos = {"GOS": "hydrogenic"}
    ll = _low_loss()
    s, truth = _synthetic_ti_o(gos, background=1e15, low_loss=ll)
    monkeypatch.setattr(quantification, "LAZY_BLOCK_SPECTRA", 16)  # two rows per block
    maps = s.as_lazy().quantify_elements(low_loss=ll.as_lazy(), show_progressbar=False, **gos)
    expected = s.quantify_elements(low_loss=ll, show_progressbar=False, **gos)
    for m, e in zip(maps, expected):
        np.testing.assert_allclose(m.data, e.data, rtol=1e-9)


def test_create_model_uses_identified_elements_and_power_law():
    s = _si((2,))
    s.set_microscope_parameters(beam_energy=300, convergence_angle=5, collection_angle=20)
    s.add_elements(["O"])
    m = create_model(s, GOS="hydrogenic")
    names = [c.name for c in m]
    assert names[0] == "PowerLaw" and "O_K" in names


def test_missing_microscope_parameters_say_how_to_set_them():
    s = _si((2,))
    s.add_elements(["O"])
    s.metadata.set_item("Acquisition_instrument.TEM.Detector.EELS.collection_angle", 30.0)
    assert not s.metadata.has_item("Acquisition_instrument.TEM.beam_energy")
    with pytest.raises(MicroscopeParametersError, match=r"set_microscope_parameters\(beam_energy="):
        s.create_model()
    with pytest.raises(MicroscopeParametersError, match="beam_energy"):
        quantify_elements(s)



def test_implausible_microscope_parameters_say_what_they_should_be():
    """A beam energy in eV or an angle of 0 gave cross sections for another microscope (or
    exSpy's own errors), without a word about the parameter."""
    s = _si((2,))
    s.add_elements(["O"])
    for given, message in [
        (dict(beam_energy=200000, convergence_angle=10, collection_angle=30), "300 kV is 300, not 300000"),
        (dict(beam_energy=200, convergence_angle=-1, collection_angle=30), "convergence_angle = -1 is"),
        (dict(beam_energy=200, convergence_angle=10, collection_angle=0), "collection_angle = 0 is"),
        (dict(beam_energy=200, convergence_angle=10, collection_angle=40000), "40 mrad is 40"),
    ]:
        t = s.deepcopy()
        t.set_microscope_parameters(**given)
        with pytest.raises(MicroscopeParametersError, match=message):
            t.create_model()
        with pytest.raises(MicroscopeParametersError, match="is not a plausible value"):
            quantify_elements(t)
    s.set_microscope_parameters(beam_energy=200, convergence_angle=0, collection_angle=0.05)  # parallel beam,
    assert len(s.create_model(GOS="hydrogenic")) > 1  # a 50 urad aperture: both plausible


def test_no_elements_is_a_clear_error():
    s = _si((2,))
    s.set_microscope_parameters(beam_energy=200, convergence_angle=10, collection_angle=30)
    with pytest.raises(ValueError, match="identify_elements"):
        s.create_model()


def test_elements_without_an_edge_on_the_axis_are_named():
    """An element whose edges all lie outside the spectrum (Bi M at 2580 eV on a 350-749 eV
    axis) used to vanish without a word: no component, no map; with no other element,
    quantify_elements returned an empty list."""
    gos = {"GOS": "hydrogenic"}
    s, truth = _synthetic_ti_o(gos)
    only_bi = _si((2,))
    only_bi.set_microscope_parameters(beam_energy=200, convergence_angle=10, collection_angle=30)
    only_bi.add_elements(["Bi"])
    with pytest.raises(ValueError, match=r"350-749 eV.*Bi M5 2580 eV"):
        only_bi.create_model(**gos)
    with pytest.raises(ValueError, match="No edge of the signal's elements"):
        quantify_elements(only_bi, **gos)
    s.add_elements(["Bi"])
    with pytest.warns(UserWarning, match=r"^Bi: no edge on the energy axis .*model has no edge"):
        assert "Bi" not in {getattr(c, "element", None) for c in s.create_model(**gos)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        maps = s.quantify_elements(show_progressbar=False, **gos)
    said = [str(w.message) for w in caught if "no edge on the energy axis" in str(w.message)]
    assert len(said) == 1 and said[0].endswith("so there is no map of it.")  # once, not once per model built inside
    assert [m.metadata.General.title for m in maps] == ["O", "Ti"]


def test_elements_written_into_the_metadata_are_the_ones_modelled():
    """exSpy's model takes its edges from ``s.subshells``, which only ``add_elements`` updates:
    elements written into ``s.metadata.Sample.elements`` directly (a common HyperSpy idiom) gave
    a background-only model and an empty list of maps, and an element removed there kept its
    edges."""
    gos = {"GOS": "hydrogenic"}
    s, truth = _synthetic_ti_o(gos)
    expected = s.quantify_elements(show_progressbar=False, **gos)
    fresh = _si()
    fresh.data = s.data
    fresh.metadata.Acquisition_instrument = s.metadata.Acquisition_instrument.deepcopy()
    fresh.metadata.set_item("Sample.elements", ["Ti", "O"])
    assert not fresh.subshells  # what exSpy's create_model would add no edge from
    maps = fresh.quantify_elements(show_progressbar=False, **gos)
    assert [m.metadata.General.title for m in maps] == ["O", "Ti"]
    for a, b in zip(maps, expected):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-9)
    assert {c.name for c in fresh.create_model(**gos)} == {"PowerLaw", "O_K", "Ti_L3"}  # hydrogenic: L in one
    s.metadata.Sample.elements = ["Ti"]  # O taken out: no O edge, no O map
    assert "O_K" in s.subshells
    assert "O_K" not in [c.name for c in s.create_model(**gos)]
    assert [m.metadata.General.title for m in s.quantify_elements(show_progressbar=False, **gos)] == ["Ti"]


def test_quantify_fits_above_a_saturated_run():
    # the first 20 eV of every spectrum clipped at one count, as by an overflowing camera
    from hyperspy_eelsid.saturation import SaturationWarning

    gos = {"GOS": "hydrogenic"}
    s, truth = _synthetic_ti_o(gos, background=1e15)  # 2.3e7 counts at 350 eV, 1e7 below Ti L
    level = s.data[..., 20].min()
    s.data = np.minimum(s.data, level)
    assert (s.data[..., :20] == level).all() and (s.data[..., 25:] < level).all()
    before = s.data.copy()
    with pytest.warns(SaturationWarning, match="48 of 48 spectra are saturated"):
        maps = s.quantify_elements(show_progressbar=False, **gos)
    for m in maps:
        np.testing.assert_allclose(m.data, truth[m.metadata.General.title], rtol=0.02)
    np.testing.assert_array_equal(s.data, before)
    # fitted through the flat top, the background is wrong and so are the intensities
    clipped = s.quantify_elements(show_progressbar=False, cut_saturation=False, **gos)
    worst = max(np.max(np.abs(m.data / truth[m.metadata.General.title] - 1)) for m in clipped)
    assert worst > 0.1


def test_quantify_leaves_a_clipped_peak_out_of_the_fit():
    # every spectrum clipped at 85 % of its highest count: the O K onset (532 eV), far inside the range
    from hyperspy_eelsid.saturation import ClippedPeaksWarning

    gos = {"GOS": "hydrogenic"}
    s, truth = _synthetic_ti_o(gos)
    s.data = np.minimum(s.data, 0.85 * s.data.max(axis=-1, keepdims=True))
    with pytest.warns(ClippedPeaksWarning, match="48 of 48 spectra .* from 532 eV"):
        maps = s.quantify_elements(show_progressbar=False, **gos)
    for m in maps:
        np.testing.assert_allclose(m.data, truth[m.metadata.General.title], rtol=0.02)
    through = s.quantify_elements(show_progressbar=False, cut_saturation=False, **gos)
    worst = {m.metadata.General.title: np.max(np.abs(m.data / truth[m.metadata.General.title] - 1)) for m in through}
    assert worst["O"] > 0.1  # fitted through the clipped onset, O comes out wrong


def test_model_signal_holds_background_and_edges():
    # HyperSpy's model.as_signal() leaves the power law out of exSpy's models; model_signal does not
    from hyperspy_eelsid.signals.quantification import model_signal

    s, truth = _synthetic_ti_o({}, background=1e15)  # our GOS tables: Ti L3, L2, L1 twinned
    maps, m = s.quantify_elements(show_progressbar=False, return_model=True)
    fitted = model_signal(m, show_progressbar=False)
    assert fitted.data.shape == s.data.shape
    residual = (fitted.data - s.data) / np.sqrt(np.maximum(s.data, 1))
    assert np.nanmax(np.abs(residual)) < 6  # Poisson noise only, over 19,200 channels
    m.axes_manager.indices = (3, 2)
    np.testing.assert_allclose(fitted.data[2, 3], m._get_current_data(), rtol=1e-9)
    with pytest.raises(ValueError, match="in memory"):
        model_signal(s.as_lazy().create_model())


def test_quantify_lazy_on_a_process_cluster_equals_eager(monkeypatch):
    # the first pass (mean spectrum, read-out checks) and every block's read run on the cluster's
    # worker process; the fits run here
    distributed = pytest.importorskip("distributed")
    from hyperspy_eelsid.signals import quantification

    gos = {"GOS": "hydrogenic"}
    s, truth = _synthetic_ti_o(gos)
    eager = s.quantify_elements(show_progressbar=False, **gos)
    lazy_signal = s.as_lazy()
    lazy_signal.data = lazy_signal.data.rechunk((3, 4, 400))
    monkeypatch.setattr(quantification, "LAZY_BLOCK_SPECTRA", 24)  # three rows per block
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster):
            lazy = lazy_signal.quantify_elements(show_progressbar=False, **gos)
    for a, b in zip(eager, lazy):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-9)


def test_signal_range_leaves_a_broken_end_of_the_spectrum_out(monkeypatch):
    # the last 30 channels read half the counts (a detector artefact at the end of the read-out)
    from hyperspy_eelsid.signals import quantification

    gos = {"GOS": "hydrogenic"}
    s, truth = _synthetic_ti_o(gos, background=1e15)
    s.data[..., -30:] *= 0.5
    before = s.data.copy()
    whole = s.quantify_elements(show_progressbar=False, **gos)
    assert max(np.max(np.abs(m.data / truth[m.metadata.General.title] - 1)) for m in whole) > 0.1
    maps, model = s.quantify_elements(show_progressbar=False, signal_range=(350, 715), return_model=True, **gos)
    for m in maps:
        np.testing.assert_allclose(m.data, truth[m.metadata.General.title], rtol=0.03)
    fitted = model.axis.axis[model._channel_switches]
    assert (fitted[0], fitted[-1]) == (350.0, 715.0)  # the returned model holds the range
    np.testing.assert_array_equal(s.data, before)
    monkeypatch.setattr(quantification, "LAZY_BLOCK_SPECTRA", 16)
    lazy = s.as_lazy().quantify_elements(show_progressbar=False, signal_range=(350, 715), **gos)
    for m, e in zip(lazy, maps):
        np.testing.assert_allclose(m.data, e.data, rtol=1e-9)


def test_signal_range_errors_say_what_is_wrong():
    gos = {"GOS": "hydrogenic"}
    s, _ = _synthetic_ti_o(gos)
    with pytest.raises(ValueError, match="outside the spectrum's 350-749 eV"):
        s.quantify_elements(show_progressbar=False, signal_range=(800, 900), **gos)
    with pytest.raises(ValueError, match="start < end"):
        s.quantify_elements(show_progressbar=False, signal_range=(600, 500), **gos)
    with pytest.raises(ValueError, match=r"\(start, end\) in eV"):
        s.quantify_elements(show_progressbar=False, signal_range=600, **gos)
    with pytest.raises(ValueError, match="below every edge of O.*O 532 eV"):
        s.quantify_elements(show_progressbar=False, signal_range=(350, 520), **gos)


def test_wider_fine_structure_splines_take_up_a_resonance_beyond_30_ev():
    # a sigma*-like peak 43 eV above the O K onset, beyond exSpy's 30 eV splines
    gos = {"GOS": "hydrogenic"}
    s, truth = _synthetic_ti_o(gos, background=1e15)
    e = s.axes_manager.signal_axes[0].axis
    s.data = s.data + np.random.default_rng(5).poisson(3e5 * np.exp(-0.5 * ((e - 575) / 6) ** 2), s.data.shape)

    def worst(maps):
        return max(np.max(np.abs(m.data / truth[m.metadata.General.title] - 1)) for m in maps)

    assert worst(s.quantify_elements(show_progressbar=False, fine_structure=True, **gos)) > 0.05
    wide = s.quantify_elements(show_progressbar=False, fine_structure=True, fine_structure_width=60, **gos)
    assert worst(wide) < 0.03
    with pytest.raises(ValueError, match="needs fine_structure=True"):
        s.quantify_elements(show_progressbar=False, fine_structure_width=60, **gos)
    with pytest.raises(ValueError, match="positive width in eV"):
        s.quantify_elements(show_progressbar=False, fine_structure=True, fine_structure_width=0, **gos)


def test_bad_signals_are_refused_before_any_fit():
    gos = {"GOS": "hydrogenic"}
    s, _ = _synthetic_ti_o(gos)
    kev = s.deepcopy()
    kev.axes_manager.signal_axes[0].convert_to_units("keV")
    with pytest.raises(ValueError, match=r"in 'keV'.*convert_to_units\('eV'\)"):
        kev.quantify_elements(show_progressbar=False, **gos)
    with pytest.raises(ValueError, match="in 'keV'"):
        kev.create_model(**gos)
    with pytest.raises(TypeError, match="set_signal_type"):
        quantify_elements(hs.signals.Signal1D(s.data), **gos)
    nan = s.deepcopy()
    nan.data[2, 3, 100] = np.nan
    before = nan.data.copy()
    for signal in (nan, nan.as_lazy()):
        with pytest.raises(ValueError, match=r"1 of 48 spectra hold NaN or inf.*navigation_mask"):
            signal.quantify_elements(show_progressbar=False, **gos)
    mask = np.zeros((6, 8), bool)
    mask[2, 3] = True
    maps = nan.quantify_elements(show_progressbar=False, navigation_mask=mask, **gos)  # left out: fitted
    assert np.isnan(maps[0].data[2, 3]) and np.isfinite(maps[0].data[~mask]).all()
    np.testing.assert_array_equal(nan.data, before)
    ll = _low_loss()
    ll.data[0, 0, 5] = np.inf
    with pytest.raises(ValueError, match="low-loss spectrum holds NaN or inf"):
        s.quantify_elements(low_loss=ll, show_progressbar=False, **gos)
