"""Detector saturation: clipped runs are found and read past, unclipped spectra are left alone."""

import warnings

import numpy as np
import pytest

from hyperspy_eelsid.preprocessing import EnergyAxis, preprocess, preprocess_on_device
from hyperspy_eelsid.saturation import (
    SATURATION_MIN_CHANNELS,
    ClippedPeaksWarning,
    SaturationWarning,
    saturated_runs,
    saturated_runs_torch,
    saturation_ends,
)


def power_law(energy, scale=1e7):
    return scale * (np.maximum(energy, 5.0) / 100.0) ** -3


def clipped(energy, level):
    """A power-law spectrum whose channels above `level` counts read `level` (an overflowing camera)."""
    return np.minimum(power_law(energy), level)


@pytest.mark.parametrize("dispersion", [0.1, 0.5, 1.0, 4.0])
def test_saturated_run_ends_where_the_counts_fall_below_the_clip(dispersion):
    energy = np.arange(80.0, 1500.0, dispersion)
    counts = clipped(energy, 1e7 * (300.0 / 100.0) ** -3)  # clipped up to 300 eV
    end = float(saturation_ends(counts, energy))
    assert 300.0 < end <= 300.0 + dispersion + 1e-9


def test_short_runs_low_counts_and_noisy_spectra_are_not_saturation():
    energy = np.arange(80.0, 1000.0)
    rng = np.random.default_rng(0)
    at_max = power_law(energy)
    short = at_max.copy()
    short[: SATURATION_MIN_CHANNELS - 1] = short.max()  # one channel too few
    sparse = np.zeros_like(energy)
    sparse[100:110] = 3.0  # ten equal channels, but 3 counts: chance, not a camera limit
    noisy = rng.poisson(np.stack([power_law(energy, s) for s in (1e3, 1e5, 1e7)])).astype(float)
    stack = np.concatenate([np.stack([at_max, short, sparse, np.full(energy.size, 1e4)]), noisy])
    assert np.isnan(saturation_ends(stack, energy)).all()


def test_runs_below_75_ev_are_ignored_and_later_runs_are_reported():
    energy = np.arange(0.0, 1000.0)
    counts = power_law(energy)
    counts[10:20] = counts[500:520] = counts[600:610] = 2 * counts.max()  # a clipped zero-loss region, two peaks
    to_end = power_law(energy)
    to_end[-6:] = 2 * to_end.max()
    first, after, rest, after_rest = saturated_runs(np.stack([counts, to_end]), energy)
    np.testing.assert_array_equal(first, [500.0, 994.0])
    np.testing.assert_array_equal(after, [520.0, np.nan])  # a run to the last channel has no end
    np.testing.assert_array_equal(rest, [600.0, np.nan])
    np.testing.assert_array_equal(after_rest, [610.0, np.nan])


def test_torch_version_agrees():
    torch = pytest.importorskip("torch")
    energy = np.arange(60.0, 1200.0, 0.5)
    rng = np.random.default_rng(1)
    levels = 1e7 * (rng.uniform(90.0, 700.0, 64) / 100.0) ** -3
    stack = rng.poisson(np.minimum(power_law(energy)[None, :], levels[:, None])).astype(np.float64)
    stack[::2] = np.minimum(stack[::2], levels[::2, None])  # half clipped after the noise, as a camera does
    stack[5, 30:40] = stack[5].max()  # a run of a noisy maximum
    expected = saturation_ends(stack, energy)
    assert 30 <= np.isfinite(expected).sum() < 64
    got = saturated_runs_torch(torch.from_numpy(stack), energy)
    for g, e in zip(got, saturated_runs(stack, energy)):
        np.testing.assert_array_equal(g.numpy(), e)


def test_preprocess_reads_a_clipped_spectrum_from_the_end_of_the_run():
    energy = np.arange(100.0, 1200.0)
    counts = np.stack([clipped(energy, 1e7 * (400.0 / 100.0) ** -3), power_law(energy)])
    before = counts.copy()
    with pytest.warns(SaturationWarning, match="1 of 2 spectra are saturated.*up to 401 eV") as caught:
        x, window = preprocess(counts, energy)
    assert caught[0].message.n_saturated == 1 and caught[0].message.energies.tolist() == [401.0]
    assert window[100] and window[1199]  # the window is of the axis, before any cut
    assert np.all(x[0, :402] == 0) and x[0, 402] == pytest.approx(1.0)  # read from just after the run
    assert np.all(x[1, 100:1200] > 0)  # the unclipped spectrum is untouched
    np.testing.assert_array_equal(counts, before)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SaturationWarning)
        kept, _ = preprocess(counts, energy, cut_saturation=False)
    assert np.all(kept[0, 100:400] == 1.0)  # the flat top, as recorded


def test_saturated_zero_loss_peak_cuts_nothing_and_is_not_reported():
    energy = np.arange(-20.0, 1000.0, 0.5)
    counts = power_law(energy) + 1e9 * np.exp(-0.5 * (energy / 1.0) ** 2)
    counts = np.minimum(counts, 1e8)  # the zero-loss peak overflows, the core-loss region does not
    assert np.isnan(saturation_ends(counts, energy))  # runs below 75 eV are not looked at
    with warnings.catch_warnings():
        warnings.simplefilter("error", SaturationWarning)
        x, _ = preprocess(counts, energy)
        y, _ = preprocess(counts, energy, cut_saturation=False)
    np.testing.assert_array_equal(x, y)


def test_device_path_cuts_like_the_numpy_path():
    pytest.importorskip("torch")
    energy = np.arange(80.0, 1500.0, 0.5)
    counts = np.stack([clipped(energy, 1e7 * (e / 100.0) ** -3) for e in (90.0, 250.0, 700.0)] + [power_law(energy)])
    with pytest.warns(SaturationWarning, match="3 of 4"):
        expected, _ = preprocess(counts, energy)
    x, _, cuts = preprocess_on_device(counts, EnergyAxis(energy), "cpu")
    assert cuts.saturation.size == 3 and cuts.splices.size == 0
    np.testing.assert_allclose(x.numpy(), expected, rtol=2e-5, atol=2e-6)


def test_identify_elements_warns_once_and_passes_the_option(flat_weights):
    hs = pytest.importorskip("hyperspy.api")
    from hyperspy_eelsid.signals.identification import identify_elements

    energy = np.arange(100.0, 1000.0)
    pixels = [clipped(energy, 1e7 * (250.0 / 100.0) ** -3) if i % 3 == 0 else power_law(energy) for i in range(6)]
    s = hs.signals.Signal1D(np.array(pixels).reshape(2, 3, -1))
    s.axes_manager.signal_axes[0].units = "eV"
    s.axes_manager.signal_axes[0].offset = 100.0
    s.set_signal_type("EELS_ID")
    before = s.data.copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        identify_elements(s, device="cpu", weights=flat_weights, batch_size=2, print_summary=False)
    saturated = [w for w in caught if issubclass(w.category, SaturationWarning)]
    assert len(saturated) == 1 and "2 of 6 spectra" in str(saturated[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SaturationWarning)
        s.identify_elements(device="cpu", weights=flat_weights, print_summary=False, cut_saturation=False)
    np.testing.assert_array_equal(s.data, before)


def test_the_saturated_benchmark_spectra(benchmark_manifest):
    """Four benchmark spectra are clipped (CsF, N2, RbF, Se); no other spectrum and no scan pixel is."""
    from hyperspy_eelsid.signals.loading import load_spectrum

    root = benchmark_manifest["root"]
    found = {}
    for entry in benchmark_manifest["spectra"] + benchmark_manifest["scans"]:
        s = load_spectrum(root / entry["file"])
        ends = saturation_ends(np.asarray(s.data, float), s.axes_manager.signal_axes[0].axis)
        if np.isfinite(ends).any():
            found[entry["id"]] = (int(np.isfinite(ends).sum()), float(np.nanmax(ends)))
    assert sorted(found) == ["0936a2e563", "77560a882e", "a7f6338256", "f7509d8352"]
    assert found["a7f6338256"] == (1, 472.0)  # Se: clipped at 522,240 counts over 228-470 eV
    assert found["0936a2e563"] == (1, 590.0)  # RbF: clipped at 512,000 counts over 516-588 eV


def test_lazy_input_is_cut_block_by_block_like_the_eager_path():
    da = pytest.importorskip("dask.array")
    energy = np.arange(100.0, 1200.0)
    counts = np.stack([clipped(energy, 1e7 * (e / 100.0) ** -3) for e in (150.0, 400.0)] + [power_law(energy)] * 2)
    with pytest.warns(SaturationWarning):
        expected, window = preprocess(counts, energy)
    lazy, lazy_window = preprocess(da.from_array(counts, chunks=(2, -1)), energy)
    np.testing.assert_array_equal(lazy_window, window)
    with pytest.warns(SaturationWarning, match="2 of 2 spectra"):  # the first block holds both clipped spectra
        np.testing.assert_allclose(lazy.compute(scheduler="synchronous"), expected, rtol=1e-6)


def test_warnings_point_at_the_users_call(flat_weights):
    hs = pytest.importorskip("hyperspy.api")
    from hyperspy_eelsid.signals.identification import identify_elements

    energy = np.arange(100.0, 1000.0)
    counts = clipped(energy, 1e7 * (250.0 / 100.0) ** -3)
    s = hs.signals.Signal1D(counts)
    s.axes_manager.signal_axes[0].units = "eV"
    s.axes_manager.signal_axes[0].offset = 100.0
    s.set_signal_type("EELS_ID")
    calls = [lambda: preprocess(counts, energy),
             lambda: identify_elements(s, device="cpu", weights=flat_weights, print_summary=False),
             lambda: s.identify_elements(device="cpu", weights=flat_weights, print_summary=False)]
    for call in calls:
        with pytest.warns(SaturationWarning) as caught:
            call()
        assert [w.filename for w in caught if w.category is SaturationWarning] == [__file__]


def test_summary_says_where_a_single_spectrum_was_read_from(flat_weights):
    hs = pytest.importorskip("hyperspy.api")

    energy = np.arange(100.0, 1000.0)
    s = hs.signals.Signal1D(clipped(energy, 1e7 * (450.0 / 100.0) ** -3))  # clipped up to 450 eV
    s.axes_manager.signal_axes[0].units = "eV"
    s.axes_manager.signal_axes[0].offset = 100.0
    s.set_signal_type("EELS_ID")
    with pytest.warns(SaturationWarning):
        s.identify_elements(device="cpu", weights=flat_weights, print_summary=False)
    summary = s.identification  # rebuilt from the signal's metadata
    assert summary.read_from == {"energy_ev": 452.0, "reasons": ["saturation"]}
    assert "Read from 452 eV on (the end of a saturated run)" in str(summary)
    assert summary.edges["O"] == ["K"] and summary.edges["C"] == []  # O K 532 eV is read, C K 284 eV is not
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        s.identify_elements(device="cpu", weights=flat_weights, print_summary=False, cut_saturation=False)
    assert s.identification.read_from is None and s.identification.edges["C"] == ["K"]


def test_a_clipped_white_line_inside_the_range_is_reported_not_cut():
    """A strong line clipped far above the start of the range: the edges below it were recorded
    properly, so the spectrum is read as recorded, with a ClippedPeaksWarning."""
    energy = np.arange(300.0, 900.0, 0.25)
    counts = power_law(energy, 1e6) + 4e4 * np.exp(-0.5 * ((energy - 460.0) / 1.0) ** 2)
    level = 0.8 * counts.max()
    counts = np.minimum(counts, level)
    first, after, _, _ = saturated_runs(counts, energy)
    assert 455.0 < float(first) < 460.0 < float(after) < 465.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x, window = preprocess(counts, energy)
    kinds = [w.category for w in caught]
    assert ClippedPeaksWarning in kinds and SaturationWarning not in kinds
    assert "from 459 eV" in str(next(w.message for w in caught if w.category is ClippedPeaksWarning))
    y, _ = preprocess(counts, energy, cut_saturation=False)
    np.testing.assert_array_equal(x, y)  # nothing cut: C K, Ca L, N K below the line stay readable
    assert np.all(x[301:899] > 0)
