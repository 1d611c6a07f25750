"""Gain splices: found where two read-outs were stitched, never in single read-outs."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from hyperspy_eelsid.preprocessing import GRID, preprocess
from hyperspy_eelsid.splices import SPLICE_FACTOR, SpliceWarning, largest_steps, splice_onsets

ROOT = Path(__file__).resolve().parents[1]


def spliced(energy, splice_ev, gain=300.0, ramp_ev=0.0, exponent=3.0):
    """Power-law spectrum whose channels below `splice_ev` come from a read-out `gain` times weaker."""
    counts = 1e6 * (energy / 50.0) ** -exponent
    weight = np.clip((energy - splice_ev) / max(ramp_ev, 1e-9) + 1.0, 0.0, 1.0)
    return counts * (1.0 / gain + (1.0 - 1.0 / gain) * weight)


@pytest.mark.parametrize("dispersion", [0.1, 0.5, 1.0, 4.0])
def test_splice_found_where_the_strong_read_out_starts(dispersion):
    energy = np.arange(-100.0, 1500.0, dispersion)
    counts = spliced(np.maximum(energy, 5.0), 230.0)
    onset = float(splice_onsets(counts, energy))
    assert abs(onset - 230.0) <= dispersion + 1e-9


def test_gradual_splice_starts_at_half_the_strong_level():
    energy = np.arange(0.0, 1000.0)
    counts = spliced(np.maximum(energy, 5.0), 200.0, ramp_ev=6.0)
    onset = float(splice_onsets(counts, energy))
    assert 194.0 <= onset <= 200.0  # the rise spans 194-200 eV


def test_largest_step_reaches_the_factor_exactly_where_a_splice_is_found():
    energy = np.arange(0.0, 1200.0, 0.5)
    base = np.maximum(energy, 5.0)
    stack = np.stack([spliced(base, 300.0, gain=g) for g in (3.0, 10.0, 29.0, 60.0, 100.0, 2000.0)])
    steps = largest_steps(stack, energy)
    found = np.isfinite(splice_onsets(stack, energy))
    np.testing.assert_array_equal(found, steps >= SPLICE_FACTOR)
    assert found.tolist() == [False, False, False, True, True, True]
    assert np.all(np.diff(steps) > 0)


def test_no_splice_in_single_read_outs():
    energy = np.arange(60.0, 2000.0)
    background = 1e6 * (energy / 60.0) ** -3
    edge = np.where(energy >= 532, 1.5 * 1e6 * (532 / 60.0) ** -3 * (energy / 532) ** -3, 0.0)
    white_line = 10 * edge.max() * np.exp(-0.5 * ((energy - 534) / 1.0) ** 2)
    rng = np.random.default_rng(0)
    stack = np.stack([background, background + edge, background + edge + white_line])
    noisy = rng.poisson(stack).astype(float)
    assert np.isnan(splice_onsets(np.concatenate([stack, noisy]), energy)).all()


def test_background_subtracted_or_blank_steps_are_left_alone():
    energy = np.arange(50.0, 800.0)
    counts = spliced(energy, 300.0)
    counts[energy < 300] = 0.0  # unmeasured (zero) channels before the strong part
    assert np.isnan(splice_onsets(counts, energy))
    signed = spliced(energy, 300.0)
    signed[energy < 300] -= 2 * signed[energy < 300].max()  # background-subtracted: negative
    assert np.isnan(splice_onsets(signed, energy))


def test_no_splice_in_the_most_extreme_simulated_spectra():
    pytest.importorskip("torch")
    from hyperspy_eelsid.simulation import SimulationConfig, Simulator

    overrides = json.loads((ROOT / "configs" / "simulation" / "realistic_v6.json").read_text())
    batch = Simulator(SimulationConfig(**overrides)).simulate(256, seed=5, components=True)
    counts = batch.components["noisy"].numpy()
    assert counts.max() > 0
    assert np.isnan(splice_onsets(counts, GRID)).all()
    assert largest_steps(counts, GRID).max() < SPLICE_FACTOR


def test_preprocess_reads_a_spliced_spectrum_from_the_splice_on():
    energy = np.arange(-50.0, 1200.0, 0.5)
    counts = spliced(np.maximum(energy, 5.0), 260.0)
    before = counts.copy()
    with pytest.warns(SpliceWarning, match="1 of 1 spectra"):
        x, window = preprocess(counts[None], energy)
    np.testing.assert_array_equal(counts, before)
    assert window[100] and window[300]  # the window itself is unchanged
    assert np.all(x[0, GRID < 261] == 0)
    assert x[0, 261] == pytest.approx(1.0)  # normalised to the strong read-out
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpliceWarning)
        kept, _ = preprocess(counts[None], energy, cut_splices=False)
    assert kept[0, 100] > 0 and kept[0, 261] == pytest.approx(1.0)  # the weak read-out is used


def test_a_splice_that_leaves_too_little_is_not_cut():
    energy = np.arange(50.0, 400.0)
    counts = spliced(energy, 390.0)  # 10 eV left after the splice: below the 20 eV minimum
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpliceWarning)
        x, _ = preprocess(counts[None], energy)
    assert x[0, 100] > 0


def test_lazy_preprocess_cuts_the_same_splices():
    da = pytest.importorskip("dask.array")
    energy = np.arange(0.0, 1000.0)
    stack = np.stack([spliced(np.maximum(energy, 5.0), s) for s in (150.0, 420.0)] +
                     [1e6 * (np.maximum(energy, 5.0) / 50.0) ** -3])
    with pytest.warns(SpliceWarning):
        eager, _ = preprocess(stack, energy)
    lazy, _ = preprocess(da.from_array(stack, chunks=(1, -1)), energy)
    with pytest.warns(SpliceWarning):
        computed = lazy.compute()
    np.testing.assert_array_equal(computed, eager)
    assert np.all(eager[0, GRID < 151] == 0) and np.all(eager[1, GRID < 421] == 0)
    assert eager[2, 75] == pytest.approx(1.0)  # the unspliced spectrum keeps its window


def test_identify_elements_warns_once_for_a_spectrum_image(flat_weights):
    hs = pytest.importorskip("hyperspy.api")
    from hyperspy_eelsid.signals.identification import identify_elements

    energy = np.arange(0.0, 1000.0)
    pixels = [spliced(np.maximum(energy, 5.0), 300.0) if i % 3 == 0 else
              1e6 * (np.maximum(energy, 5.0) / 50.0) ** -3 for i in range(6)]
    s = hs.signals.Signal1D(np.array(pixels).reshape(2, 3, -1))
    s.axes_manager.signal_axes[0].units = "eV"
    s.set_signal_type("EELS_ID")
    before = s.data.copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        identify_elements(s, device="cpu", weights=flat_weights, batch_size=2, print_summary=False)
    splice = [w for w in caught if issubclass(w.category, SpliceWarning)]
    assert len(splice) == 1 and "2 of 6 spectra" in str(splice[0].message)
    assert "300 eV" in str(splice[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpliceWarning)
        identify_elements(s, device="cpu", weights=flat_weights, print_summary=False, cut_splices=False)
    np.testing.assert_array_equal(s.data, before)


def test_splice_factor_separates_measured_splices(benchmark_manifest):
    """Every scan of the benchmark is a single read-out; the Gatan Atlas Cr spectrum is spliced at 198 eV."""
    from hyperspy_eelsid.signals.loading import load_spectrum

    manifest = benchmark_manifest
    benchmark_root = manifest["root"]
    for entry in manifest["scans"]:
        s = load_spectrum(benchmark_root / entry["file"])
        energy = s.axes_manager.signal_axes[0].axis
        assert np.isnan(splice_onsets(np.asarray(s.data, float), energy)).all(), entry["id"]
    cr = next(e for e in manifest["spectra"] if e["id"] == "450f3afd32")
    s = load_spectrum(benchmark_root / cr["file"])
    assert float(splice_onsets(s.data, s.axes_manager.signal_axes[0].axis)) == pytest.approx(198.0, abs=2.0)
    assert SPLICE_FACTOR == 30.0


def _onsets_by_definition(counts, energy, factor=SPLICE_FACTOR, before_ev=10.0, ramp_ev=10.0, after_ev=20.0):
    """The rule of the module docstring, channel by channel with sliding windows of every row:
    the first channel i whose before-window (i - nb .. i) is all positive and whose
    after-window (i + nr + 1 .. i + nr + na) stays at ``factor`` times its maximum."""
    from numpy.lib.stride_tricks import sliding_window_view

    x = np.asarray(counts, dtype=np.float32)
    d = float(np.median(np.diff(energy)))
    nb, nr, na = (max(m, int(round(w / d))) for w, m in ((before_ev, 1), (ramp_ev, 1), (after_ev, 2)))
    first, last = max(int(np.searchsorted(energy, 40.0)), nb), x.shape[1] - nr - na
    before = sliding_window_view(x, nb + 1, axis=1)[:, first - nb : last - nb]
    after = sliding_window_view(x, na, axis=1)[:, first + nr + 1 : last + nr + 1].min(axis=-1)
    step = (before.min(axis=-1) > 0) & (after >= factor * before.max(axis=-1))
    out = np.full(x.shape[0], np.nan)
    for r in np.flatnonzero(step.any(axis=1)):
        k = int(np.argmax(step[r]))
        start = first + k + 1
        out[r] = energy[start + int(np.argmax(x[r, start:] >= 0.5 * after[r, k]))]
    return out


@pytest.mark.parametrize("dispersion", [0.25, 1.0, 2.0])
def test_quick_screen_drops_no_spliced_spectrum(dispersion):
    # splice_onsets runs its sliding windows only on spectra that pass a cheap necessary test;
    # on steps just below, at and above the factor, noisy and blanked counts, the result must be
    # the rule's own
    rng = np.random.default_rng(7)
    energy = np.arange(30.0, 30.0 + 1200 * dispersion, dispersion)
    n = 400
    counts = rng.lognormal(7.0, 2.0, (n, 1)) * (energy / 50.0) ** -rng.uniform(0.0, 3.0, (n, 1))
    gain = rng.choice([1.0, 10.0, 29.5, 30.0, 30.5, 100.0, 1000.0], (n, 1))
    counts = counts * np.where(energy > rng.uniform(40.0, 600.0, (n, 1)), gain, 1.0)
    counts = rng.poisson(counts).astype(np.float32) - np.float32(rng.choice([0.0, 2.0], (n, 1)))
    # flat, noiseless steps of just below, at and just above the factor: the tightest case
    flat = np.where(energy > rng.uniform(40.0, 600.0, (30, 1)), [[29.9], [30.0], [30.1]] * 10, 1.0)
    counts = np.concatenate([counts, (100.0 * flat).astype(np.float32)])
    expected = _onsets_by_definition(counts, energy)
    assert np.isfinite(expected).sum() > 40  # the stack holds many splices, and many near-misses
    np.testing.assert_array_equal(splice_onsets(counts, energy), expected)


def test_benchmark_times_the_screened_check_against_the_windows(capsys):
    from .conftest import load_script

    load_script("benchmarks/bench_preprocess.py").main(["--splice-check", "64"])
    out = capsys.readouterr().out
    assert "64 spectra" in out and "(0 passed the screen)" in out and "on every spectrum" in out
