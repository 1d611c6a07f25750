"""Preprocessing of any spectrum onto the network grid, against analytic input."""

import numpy as np
import pytest

from hyperspy_eelsid.preprocessing import (
    E_MIN_NETWORK,
    GRID,
    N_CHANNELS,
    EnergyAxis,
    PreprocessingError,
    finalise_on_grid,
    preprocess,
    resample_to_grid,
)


def density(E):
    """A smooth, positive 'spectrum' in counts per eV: power law plus a bump."""
    return 1e4 * ((E + 300.0) / 400.0) ** -2.5 * (1.0 + 0.3 * np.exp(-(((E - 500.0) / 40.0) ** 2)))


def sampled(dispersion, offset, span=2400.0):
    """Counts per channel of :func:`density` on a uniform axis."""
    energy = offset + dispersion * np.arange(int(span / dispersion))
    return energy, density(energy) * dispersion


@pytest.mark.parametrize(
    "dispersion, offset",
    [(0.1, -20.37), (0.25, -7.1), (1.01, -3.3), (4.0, -11.7), (1.0, -50.5), (0.5, -0.2)],
)
def test_smooth_function_lands_on_grid_within_one_percent(dispersion, offset):
    energy, counts = sampled(dispersion, offset)
    grid, window = resample_to_grid(counts, EnergyAxis.from_values(energy))
    assert window.sum() > 1000
    np.testing.assert_allclose(grid[window], density(GRID[window]), rtol=0.01)
    # and after normalisation: the shape of the analytic function
    x, _ = preprocess(counts, energy)
    ref = np.where(window, density(GRID), 0.0)
    np.testing.assert_allclose(x, ref / ref.max(), rtol=0.01, atol=1e-7)


@pytest.mark.parametrize("dispersion", [0.01, 0.1, 0.2, 0.25, 0.5])
def test_fine_sources_conserve_integrated_counts(dispersion):
    rng = np.random.default_rng(1)
    # channel edges aligned with the 1 eV bin edges: every count has one home
    n = int(round(300 / dispersion))
    energy = 99.5 + dispersion * (np.arange(n) + 0.5)
    counts = rng.poisson(50.0, (4, n)).astype(float)
    grid, window = resample_to_grid(counts, EnergyAxis.from_values(energy))
    np.testing.assert_allclose(grid.sum(axis=-1), counts.sum(axis=-1), rtol=1e-5)
    assert window.sum() == 300


def test_fine_source_noise_is_binned_not_aliased():
    rng = np.random.default_rng(2)
    energy = 200.0 + 0.1 * np.arange(10000)
    counts = rng.poisson(10.0, energy.size).astype(float)
    grid, window = resample_to_grid(counts, EnergyAxis.from_values(energy))
    inner = grid[window][1:-1]
    # each 1 eV bin sums 10 channels of Poisson(10): mean 100, std 10
    assert inner.mean() == pytest.approx(100.0, rel=0.01)
    assert inner.std() == pytest.approx(10.0, rel=0.15)


def test_zero_below_75_ev_and_outside_measured_range():
    energy, counts = sampled(0.5, -30.0, span=900.0)  # -30 .. 870 eV
    x, window = preprocess(counts, energy)
    assert x.shape == (N_CHANNELS,) and x.dtype == np.float32
    assert np.all(x[GRID < E_MIN_NETWORK] == 0)
    assert np.all(x[GRID > 870.0] == 0)
    assert np.all(x[~window] == 0)
    assert np.all(x[window] > 0) and x.max() == pytest.approx(1.0)
    assert window[75] and not window[74] and not window[871]


def test_kev_axis_equals_ev_axis():
    energy, counts = sampled(0.3, 10.0, span=1500.0)
    x_ev, w_ev = preprocess(counts, energy, units="eV")
    x_kev, w_kev = preprocess(counts, energy / 1000.0, units="keV")
    np.testing.assert_allclose(x_kev, x_ev, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(w_kev, w_ev)


def test_non_uniform_axis_matches_analytic():
    u = np.linspace(0.0, 1.0, 3000)
    energy = 80.0 + 1500.0 * u**1.3  # channel width grows from ~0.01 to ~0.65 eV
    widths = np.gradient(energy)
    grid, window = resample_to_grid(density(energy) * widths, EnergyAxis.from_values(energy))
    np.testing.assert_allclose(grid[window], density(GRID[window]), rtol=0.01)


def test_decreasing_axis_is_read_backwards():
    energy, counts = sampled(0.5, 100.0, span=800.0)
    x, _ = preprocess(counts, energy)
    x_rev, _ = preprocess(counts[::-1], energy[::-1])
    np.testing.assert_allclose(x_rev, x, rtol=1e-6, atol=1e-8)


def test_leading_navigation_shape_and_caller_data_untouched():
    energy, counts = sampled(0.25, 50.0, span=600.0)
    stack = np.stack([counts * k for k in (1.0, 2.0, 3.0)] * 2).reshape(2, 3, -1)
    before = stack.copy()
    x, window = preprocess(stack, energy, block_size=4)
    assert x.shape == (2, 3, N_CHANNELS)
    np.testing.assert_array_equal(stack, before)
    # normalisation removes the overall scale
    np.testing.assert_allclose(x[0, 0], x[1, 2], rtol=1e-6)


def test_integer_data_accepted():
    energy = 300.0 + np.arange(500.0)
    x, _ = preprocess(np.full(500, 7, dtype=np.int32), energy)
    assert x.dtype == np.float32 and x[400] == pytest.approx(1.0)


def test_empty_and_negative_spectra_give_zeros_not_nan():
    energy = 300.0 + np.arange(500.0)
    x, _ = preprocess(np.stack([np.zeros(500), -np.ones(500)]), energy)
    assert np.all(x == 0)


def test_finalise_on_grid_torch_matches_numpy():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    spectra = rng.random((5, N_CHANNELS)).astype(np.float32)
    mask = np.zeros((5, N_CHANNELS), bool)
    mask[:, 100:900] = True
    mask[2] = False
    ref = finalise_on_grid(spectra, mask)
    out = finalise_on_grid(torch.from_numpy(spectra), torch.from_numpy(mask))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)
    assert np.all(ref[2] == 0) and ref[0, 99] == 0 and ref[0].max() == pytest.approx(1)


def test_dask_block_by_block_equals_numpy():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(4)
    energy = 250.0 + 0.4 * np.arange(1500)
    data = rng.poisson(30.0, (6, 5, 1500)).astype(np.float32)
    ref, _ = preprocess(data, energy)
    lazy, window = preprocess(da.from_array(data, chunks=(2, 5, 500)), energy)
    assert isinstance(lazy, da.Array) and lazy.chunks[-1] == (N_CHANNELS,)
    np.testing.assert_allclose(lazy.compute(), ref, rtol=1e-6)


# ---------------------------------------------------------------- errors
def _energy():
    return 300.0 + np.arange(400.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_inf_is_a_clear_error(bad):
    data = np.ones(400)
    data[10] = bad
    with pytest.raises(PreprocessingError, match="NaN or inf"):
        preprocess(data, _energy())


def test_complex_data_is_a_clear_error():
    with pytest.raises(PreprocessingError, match="complex"):
        preprocess(np.ones(400, complex), _energy())


def test_unknown_units_is_a_clear_error():
    with pytest.raises(PreprocessingError, match="Unknown energy units"):
        preprocess(np.ones(400), _energy(), units="nm")


@pytest.mark.parametrize(
    "energy",
    [np.arange(0.0, 70.0, 0.5), np.arange(3060.0, 3500.0), np.arange(40.0, 90.0, 0.5)],
)
def test_too_little_range_inside_window_is_a_clear_error(energy):
    with pytest.raises(PreprocessingError, match="at least 20 eV"):
        preprocess(np.ones(energy.size), energy)


def test_wrong_dispersion_or_shape_is_a_clear_error():
    with pytest.raises(PreprocessingError, match="per channel"):
        preprocess(np.ones(400), np.arange(400) * 50.0)  # 50 eV per channel
    with pytest.raises(PreprocessingError, match="channels"):
        preprocess(np.ones(399), _energy())
    with pytest.raises(PreprocessingError, match="monotonic"):
        preprocess(np.ones(3), [300.0, 302.0, 301.0])
    with pytest.raises(PreprocessingError, match="energy="):
        preprocess(np.ones(400))


# ---------------------------------------------------------------- HyperSpy signals
hs = pytest.importorskip("hyperspy.api")


def _signal(units="eV", scale=0.5, offset=-20.0, shape=(2, 3), n=2000):
    energy = offset + scale * np.arange(n)
    counts = density(energy) * scale
    s = hs.signals.Signal1D(np.broadcast_to(counts, shape + (n,)).copy())
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = offset, scale, units
    return s


def test_signal_input_uniform_axis():
    s = _signal()
    before = s.data.copy()
    x, window = preprocess(s)
    assert x.shape == (2, 3, N_CHANNELS)
    ref = np.where(window, density(GRID), 0)
    np.testing.assert_allclose(x[1, 2], ref / ref.max(), rtol=0.01, atol=1e-7)
    np.testing.assert_array_equal(s.data, before)


def test_signal_kev_equals_ev():
    s_ev = _signal()
    s_kev = s_ev.deepcopy()
    ax = s_kev.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = -0.02, 0.5e-3, "keV"
    x_ev, _ = preprocess(s_ev)
    x_kev, _ = preprocess(s_kev)
    np.testing.assert_allclose(x_kev, x_ev, rtol=1e-5, atol=1e-7)


def test_signal_non_uniform_axis():
    s = _signal(scale=1.0, offset=0.0, shape=(), n=1500)
    energy = 80.0 + 1400.0 * np.linspace(0, 1, 1500) ** 1.2
    s.axes_manager.signal_axes[0].convert_to_non_uniform_axis()
    s.axes_manager.signal_axes[0].axis = energy
    s.data = density(energy) * np.gradient(energy)
    x, window = preprocess(s)
    ref = np.where(window, density(GRID), 0)
    np.testing.assert_allclose(x, ref / ref.max(), rtol=0.01, atol=1e-7)


def test_lazy_signal_gives_lazy_result():
    s = _signal().as_lazy()
    x, _ = preprocess(s)
    assert hasattr(x, "compute")
    ref, _ = preprocess(_signal())
    np.testing.assert_allclose(x.compute(), ref, rtol=1e-6)


def test_signal_errors_are_clear():
    img = hs.signals.Signal2D(np.ones((10, 10)))
    with pytest.raises(PreprocessingError, match="signal dimension 2"):
        preprocess(img)
    s = _signal(units="<undefined>")
    with pytest.raises(PreprocessingError, match="units"):
        preprocess(s)
