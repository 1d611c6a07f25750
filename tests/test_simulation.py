"""The spectrum simulator: physics checks, Table 1 ranges, determinism, datasets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hyperspy_eelsid import elements as el  # noqa: E402
from hyperspy_eelsid.physics.cross_sections import GOSHDatabase  # noqa: E402
from hyperspy_eelsid.preprocessing import finalise_on_grid  # noqa: E402
from hyperspy_eelsid.simulation import cli  # noqa: E402
from hyperspy_eelsid.simulation.config import SimulationConfig  # noqa: E402
from hyperspy_eelsid.simulation.dataset import SimulatedDataset, read_config, write_dataset  # noqa: E402
from hyperspy_eelsid.simulation.simulator import Simulator  # noqa: E402
from hyperspy_eelsid.simulation.white_lines import fano_factor, giant_resonance_delay_ev  # noqa: E402

from .test_cross_sections_fixture import write_gosh  # noqa: E402

EDGES = ("B_K", "C_K", "N_K", "O_K", "Al_K", "Si_K", "Ti_L3", "Fe_L3", "Cu_L3")
GRID = np.arange(3072)


@pytest.fixture(scope="module")
def gosh(tmp_path_factory):
    path = write_gosh(tmp_path_factory.mktemp("sim") / "fixture.gosh", edges=EDGES, n_energy=40, n_q=64)
    return GOSHDatabase(path)


@pytest.fixture(scope="module")
def sim(gosh):
    return Simulator(SimulationConfig(), database=gosh)


@pytest.fixture(scope="module")
def batch(sim):
    return sim.simulate(48, seed=3, components=True)


def _np(x):
    return x.cpu().numpy()


def test_shapes_types_and_normalisation(batch):
    assert batch.spectra.shape == (48, 3072) and batch.spectra.dtype == torch.float32
    assert batch.labels.shape == (48, el.N_ELEMENTS) and batch.labels.dtype == torch.uint8
    s = _np(batch.spectra)
    assert np.all(s >= 0) and np.allclose(s.max(1), 1.0)


def test_everything_outside_the_range_is_zero(batch):
    s = _np(batch.spectra)
    start, end = _np(batch.params["start_ev"]), _np(batch.params["end_ev"])
    outside = (GRID[None] < start[:, None]) | (GRID[None] > end[:, None]) | (GRID[None] < 75)
    assert np.all(s[outside] == 0)
    # and the measured range carries signal
    inside = ~outside
    assert np.all((s * inside).sum(1) > 0)


def test_last_step_is_the_preprocessing_normalisation(batch):
    c = batch.components
    again = finalise_on_grid(c["noisy"], c["mask"])
    assert torch.equal(again, batch.spectra)


def test_edges_appear_at_their_onsets(batch, gosh):
    c = batch.components
    onsets = {(t.element, t.subshell[0]): t.onset_energy for t in gosh.values()}
    for q in range(c["edge_profiles_raw"].shape[0]):
        prof = _np(c["edge_profiles_raw"][q])
        element = el.ELEMENTS[int(c["edge_element"][q])]
        shell = "KLMNO"[int(c["edge_shell"][q])]
        nominal = onsets[(element, shell)]
        first = int(np.argmax(prof > 0))
        assert nominal - 5 <= first <= nominal + 6, (element, shell, first, nominal)
        # the rise is sharp: the edge reaches 30 % of its peak within 30 eV of the onset
        assert prof[first : first + 30].max() > 0.3 * prof.max()


def test_anchor_edges_lie_inside_the_range_with_margins(batch):
    p = batch.params
    start, end = _np(p["start_ev"]), _np(p["end_ev"])
    onset, elements = _np(p["anchor_onset_ev"]), _np(p["elements"])
    for b in range(len(start)):
        used = elements[b] >= 0
        assert np.all(onset[b, used] >= start[b] + 10) and np.all(onset[b, used] <= end[b] - 25)
        assert start[b] >= 75 and end[b] <= 3272


def test_labels_match_the_simulated_elements(batch):
    labels = _np(batch.labels)
    elements = _np(batch.params["elements"])
    edge_spectrum = _np(batch.components["edge_spectrum"])
    edge_element = _np(batch.components["edge_element"])
    for b in range(labels.shape[0]):
        expected = set(elements[b][elements[b] >= 0].tolist())
        assert set(np.flatnonzero(labels[b]).tolist()) == expected
        assert set(edge_element[edge_spectrum == b].tolist()) == expected
        assert labels[b].sum() == batch.params["n_elements"][b]


def test_chosen_edge_jump_ratio(batch):
    c, p = batch.components, batch.params
    jump_edge, mask = _np(c["jump_edge"]), _np(c["mask"])
    A, r = _np(p["background_amplitude"]), _np(p["background_exponent"])
    start, onset = _np(p["start_ev"]), _np(p["jump_edge_onset_ev"])
    peak = np.where(mask, jump_edge, 0).max(1)
    ratio = peak / (A * (onset / start) ** -r)
    np.testing.assert_allclose(ratio, _np(p["jump_ratio"]), rtol=1e-3)
    assert np.all((ratio >= 0.2 - 1e-4) & (ratio <= 1.5 + 1e-4))


def test_noise_is_poisson(sim):
    b = sim.simulate(24, seed=11, components=True)
    counts, noisy = _np(b.components["counts"]).astype(float), _np(b.components["noisy"]).astype(float)
    assert np.all(noisy == np.round(noisy))
    sel = counts > 50
    z = (noisy[sel] - counts[sel]) / np.sqrt(counts[sel])
    assert sel.sum() > 1000
    assert abs(z.mean()) < 0.05 and abs(z.var() - 1.0) < 0.1
    low = (counts > 0.5) & (counts < 3)  # small means: genuinely discrete counts
    assert low.sum() == 0 or set(np.unique(noisy[low])) <= set(range(0, 40))


def test_shot_noise_matches_poisson_moments_on_both_sides_of_the_switch():
    from hyperspy_eelsid.simulation.noise import NORMAL_ABOVE, shot_noise

    g = torch.Generator().manual_seed(0)
    for lam in (0.0, 0.3, 4.0, 60.0, NORMAL_ABOVE, 1e4, 1e7):
        x = shot_noise(torch.full((200_000,), lam), g).double()
        assert torch.all(x == torch.round(x)) and torch.all(x >= 0)
        assert abs(float(x.mean()) - lam) < 5 * np.sqrt(lam / x.numel()) + 1e-12
        assert abs(float(x.var()) - lam) < 0.02 * lam + 1e-12
    small = shot_noise(torch.full((200_000,), 0.3), g)
    assert abs(float((small == 0).double().mean()) - np.exp(-0.3)) < 0.005  # Poisson P(0)


def test_same_seed_same_spectra(sim):
    a = sim.simulate(6, seed=5)
    b = sim.simulate(6, seed=5)
    c = sim.simulate(6, seed=6)
    assert torch.equal(a.spectra, b.spectra) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.spectra, c.spectra)
    first = next(sim.batches(4, seed=1, batch_size=4))
    again = next(sim.batches(4, seed=1, batch_size=4))
    assert torch.equal(first.spectra, again.spectra)


def test_table1_ranges_over_a_large_batch(gosh):
    cfg = SimulationConfig(noise=False)
    b = Simulator(cfg, database=gosh).simulate(400, seed=21)
    p = {k: _np(v) for k, v in b.params.items()}

    def within(name, lo, hi, integer=False):
        v = p[name]
        assert v.min() >= lo and v.max() <= hi, name
        # the draws cover the range
        assert v.min() <= lo + 0.15 * (hi - lo) and v.max() >= hi - 0.15 * (hi - lo), name
        if integer:
            assert np.all(v == np.round(v)), name

    assert set(np.unique(p["beam_energy_kv"])) == {60.0, 100.0, 200.0, 300.0}
    within("convergence_mrad", 1, 20)
    within("collection_mrad", 1, 100)
    within("zlp_fwhm_ev", 1, 3)
    within("plasmon_energy_ev", 3, 20, True)
    within("plasmon_width_ev", 3, 20, True)
    within("n_plasmons", 2, 5, True)
    within("t_over_lambda", 0.1, 1)
    within("background_exponent", 2, 4)
    within("jump_ratio", 0.2, 1.5)
    within("instrumental_shift_ev", -5, 5, True)
    assert set(np.unique(p["background_amplitude"])) <= {1e3, 1e4, 1e5, 1e6, 1e7}
    assert len(np.unique(p["background_amplitude"])) == 5
    used = p["elements"] >= 0
    cs = p["chemical_shift_ev"][used]
    assert cs.min() == -5 and cs.max() == 5 and np.all(cs == np.round(cs))
    assert np.all(p["start_ev"] == np.round(p["start_ev"])) and np.all(p["end_ev"] == np.round(p["end_ev"]))
    assert p["start_ev"].min() >= 75 and p["end_ev"].max() <= 3272
    first = np.where(used, p["anchor_onset_ev"], np.inf).min(1)
    last = np.where(used, p["anchor_onset_ev"], -np.inf).max(1)
    assert np.all(p["start_ev"] <= first - 10) and np.all(p["end_ev"] >= last + 25)
    assert set(np.unique(p["n_elements"])) == {1.0, 2.0, 3.0, 4.0}


def test_fine_structure_changes_the_edge_and_keeps_it_non_negative(batch):
    c = batch.components
    raw, fs = _np(c["edge_profiles_raw"]), _np(c["edge_profiles"])
    assert np.all(fs >= 0) and np.all(fs >= 0.25 * raw * (1 - 1e-5) - 1e-30)
    assert np.mean(np.abs(fs - raw).max(1) > 0.05 * raw.max(1)) > 0.9
    # at most fs_max_scale times the edge peak on top of the edge
    assert np.all((fs - raw).max(1) <= 10.0 * raw.max(1) * 1.0001)


def test_fine_structure_envelope_keeps_the_strongest_features_near_the_onset():
    from hyperspy_eelsid.simulation.fine_structure import fine_structure

    cfg = SimulationConfig(fs_decay_ev=(10.0, 10.0))
    Q, W = 400, 192
    args = (torch.full((Q,), 25), torch.full((Q,), 100.0), torch.full((Q,), 100.0), torch.ones(Q), cfg, W)

    def draw(decay):
        return _np(fine_structure(*args, torch.Generator().manual_seed(5), decay=decay)).__abs__()

    flat, damped = draw(None), draw(torch.full((Q,), 10.0))
    # same peaks, same scaling rule: the largest feature stays at most fs_max_scale
    assert damped.max() <= 10.0 * 1.0001 and flat.max() <= 10.0 * 1.0001
    # but 50-100 eV above the onset it is e^-5 weaker relative to the first 20 eV
    ratio = lambda f: f[:, 50:100].mean() / f[:, :20].mean()  # noqa: E731
    assert ratio(damped) < 0.05 * ratio(flat)
    with pytest.raises(ValueError, match="fs_decay_ev"):
        SimulationConfig(fs_decay_ev=(0.0, 10.0))
    # off by default: Table 1 has no envelope
    assert SimulationConfig().fs_decay_ev == (0.0, 0.0)


def test_white_lines_are_off_by_default_and_sit_at_their_onsets(gosh, batch):
    # Table 1 has no white lines
    assert float(batch.components["white_lines"].abs().max()) == 0
    cfg = SimulationConfig(white_line_strength=(2.0, 5.0), elements=("O", "Fe"), n_elements_probs=(0, 1))
    b = Simulator(cfg, database=gosh).simulate(16, seed=1, components=True)
    c = b.components
    wl, raw, shell = _np(c["white_lines"]), _np(c["edge_profiles_raw"]), _np(c["edge_element"])
    onset = _np(c["edge_onset_ev"])
    fe, o = shell == el.element_index("Fe"), shell == el.element_index("O")
    assert fe.any() and o.any()
    assert np.all(wl[o] == 0)  # O K: no white line
    peak_at = wl[fe].argmax(1)
    assert np.all((peak_at >= np.ceil(onset[fe]) - 1) & (peak_at <= onset[fe] + 4))  # 0..3 eV above onset
    ratio = wl[fe].max(1) / raw[fe].max(1)  # Fe here has one subshell (L3): strength range is 2..5
    assert np.all((ratio >= 2.0 * 0.9) & (ratio <= 5.0 * 1.0001))
    # white lines are added like fine structure: the jump ratio stays within Table 1
    assert np.all((_np(b.params["jump_ratio"]) >= 0.2) & (_np(b.params["jump_ratio"]) <= 1.5))
    with pytest.raises(ValueError, match="white_line_strength"):
        SimulationConfig(white_line_strength=(-1.0, 2.0))


def test_giant_resonances_are_broad_peaks_above_the_lanthanide_n45_onsets():
    # the shipped tables: Ce has N4,5 (110 eV) and M4,5 (883 eV) edges
    cfg = SimulationConfig(giant_resonance_strength=(2.0, 2.0), elements=("Ce", "O"), n_elements_probs=(0, 1))
    sim = Simulator(cfg)
    b = sim.simulate(32, seed=6, components=True)
    c = b.components
    gr = _np(c["white_lines"])
    onset, element = _np(c["edge_onset_ev"]), _np(c["edge_element"])
    ce = element == el.element_index("Ce")
    n_edge = ce & (gr.max(1) > 0)
    assert n_edge.any()
    assert np.all(gr[~n_edge] == 0)  # O K and Ce M4,5: nothing (white lines are off)
    assert np.all(onset[n_edge] < 130)  # only the N4,5 edge has one
    grid = np.arange(3072)
    below = grid[None, :] < onset[n_edge, None] - 1e-3
    assert np.all(gr[n_edge][below] == 0)  # nothing below the onset
    peak_at = gr[n_edge].argmax(1)
    assert np.all((peak_at >= onset[n_edge] + 5 - 1) & (peak_at <= onset[n_edge] + 20 + 1))
    half = (gr[n_edge] > 0.5 * gr[n_edge].max(1, keepdims=True)).sum(1)
    assert np.all(half >= 6)  # broad: FWHM 8..20 eV (cut at the onset)
    assert np.all((_np(b.params["jump_ratio"]) >= 0.2) & (_np(b.params["jump_ratio"]) <= 1.5))
    assert float(Simulator(SimulationConfig(elements=("Ce",), n_elements_probs=(1,))).simulate(
        8, seed=6, components=True).components["white_lines"].abs().max()) == 0  # off by default
    with pytest.raises(ValueError, match="giant_resonance"):
        SimulationConfig(giant_resonance_strength=(-1.0, 1.0))


def test_white_line_ratio_by_element_tells_co_l23_from_ba_m45():
    # Co L3 779 / L2 794 eV and Ba M5 781 / M4 796 eV coincide; their line ratios do not:
    # Co's L3 line is 2-4.5 times its L2 line, Ba's M5 line 0.6-1.0 times its M4 line
    ratios = {}
    for symbol, first, second in (("Co", "L3", "L2"), ("Ba", "M5", "M4")):
        onsets = {t.subshell: t.onset_energy for t in Simulator(SimulationConfig(elements=(symbol,))).catalogue.tables
                  if t.element == symbol}
        cfg = SimulationConfig(white_line_strength=(1.0, 10.0), white_line_fwhm_ev=(1.0, 1.0),
                               white_line_offset_ev=(0.0, 0.0), white_line_ratio_by_element=True,
                               elements=(symbol,), n_elements_probs=(1,),
                               chemical_shift_ev=(0, 0), instrumental_shift_ev=(0, 0))
        c = Simulator(cfg).simulate(32, seed=5, components=True).components
        lines, onset = _np(c["white_lines"]), _np(c["edge_onset_ev"])
        pair = lines[np.abs(onset - onsets[first]) < 0.5]
        assert len(pair)
        ratios[symbol] = pair[:, int(round(onsets[first]))] / pair[:, int(round(onsets[second]))]
    assert np.all((ratios["Co"] > 2.0 * 0.98) & (ratios["Co"] < 4.5 * 1.02)), ratios["Co"]
    assert np.all((ratios["Ba"] > 0.6 * 0.98) & (ratios["Ba"] < 1.0 * 1.02)), ratios["Ba"]
    assert ratios["Ba"].std() > 0 and ratios["Co"].std() > 0  # drawn per edge, not fixed


def test_white_line_pair_width_factor_ties_the_second_line_to_the_first():
    # Co L3 779 / L2 794 eV: with the option, the L2 line sits as far above its onset as the L3 line
    # above its own and is 1-1.5 times as broad; without it, widths and positions are drawn apart
    onsets = {t.subshell: t.onset_energy for t in Simulator(SimulationConfig(elements=("Co",))).catalogue.tables
              if t.element == "Co"}

    def pairs(**extra):
        cfg = SimulationConfig(white_line_strength=(1.0, 10.0), white_line_fwhm_ev=(1.0, 4.0),
                               white_line_offset_ev=(0.0, 3.0), white_line_ratio_by_element=True,
                               elements=("Co",), n_elements_probs=(1,), chemical_shift_ev=(0, 0),
                               instrumental_shift_ev=(0, 0), **extra)
        c = Simulator(cfg).simulate(64, seed=8, components=True).components
        lines, onset = _np(c["white_lines"]), _np(c["edge_onset_ev"])
        row = lines[np.abs(onset - onsets["L3"]) < 0.5]
        grid = np.arange(lines.shape[1])
        l3 = row * (np.abs(grid - onsets["L3"] - 2) < 7)  # the L3 line alone
        l2 = row * (np.abs(grid - onsets["L2"] - 2) < 7)  # the L2 line (and the L3 line's far tail)
        p3, p2 = l3.argmax(1), l2.argmax(1)
        width = lambda x, p: (x > 0.5 * x[np.arange(len(x)), p][:, None]).sum(1)  # noqa: E731
        return p3 - onsets["L3"], p2 - onsets["L2"], width(l3, p3), width(l2, p2)

    off_a, off_b, w_a, w_b = pairs(white_line_pair_width_factor=(1.0, 1.5))
    assert np.all(np.abs(off_a - off_b) <= 1)  # same position above the onset (1 eV grid)
    assert np.all(w_b >= w_a - 1) and np.all(w_b <= 1.5 * w_a + 2)  # as broad or up to 1.5 times broader
    off_a, off_b, w_a, w_b = pairs()
    assert np.any(np.abs(off_a - off_b) >= 2) and np.any(w_b < w_a - 1)  # independent by default
    with pytest.raises(ValueError, match="white_line_ratio_by_element"):
        SimulationConfig(white_line_pair_width_factor=(1.0, 1.5))
    with pytest.raises(ValueError, match="white_line_pair_width_factor"):
        SimulationConfig(white_line_pair_width_factor=(-1.0, 1.5), white_line_ratio_by_element=True)


def test_giant_resonance_delay_by_element_follows_the_4f_filling():
    # La: maximum 18 eV above the N4,5 onset (117 eV); Yb: closed 4f shell, at the onset (184 eV)
    assert [giant_resonance_delay_ev(z) for z in (55, 57, 58, 64, 67, 70)] == [18.0, 18.0, 12.0, 8.0, 4.0, 0.0]
    for symbol, delay in (("La", 18.0), ("Gd", 8.0), ("Yb", 0.0)):
        cfg = SimulationConfig(giant_resonance_strength=(2.0, 2.0), giant_resonance_delay_by_element=True,
                               giant_resonance_offset_ev=(-2.0, 2.0), elements=(symbol,), n_elements_probs=(1,),
                               chemical_shift_ev=(0, 0), instrumental_shift_ev=(0, 0))
        c = Simulator(cfg).simulate(16, seed=4, components=True).components
        gr, onset = _np(c["white_lines"]), _np(c["edge_onset_ev"])
        n45 = (gr.max(1) > 0) & (onset < 200)
        assert n45.any()
        shift = gr[n45].argmax(1) - onset[n45]
        assert np.all(np.abs(shift - delay) <= 2 + 1), symbol
    # a range reaching below the onset puts the peak's maximum at the onset, not its cut-off tail
    peaks = []
    for offset in ((-10.0, -10.0), (0.0, 0.0)):
        cfg = SimulationConfig(giant_resonance_strength=(2.0, 2.0), giant_resonance_delay_by_element=True,
                               giant_resonance_offset_ev=offset, elements=("Yb",), n_elements_probs=(1,))
        peaks.append(_np(Simulator(cfg).simulate(8, seed=4, components=True).components["white_lines"]))
    assert peaks[0].max() > 0 and np.array_equal(peaks[0], peaks[1])
    with pytest.raises(ValueError, match="giant_resonance_delay_by_element"):
        SimulationConfig(giant_resonance_strength=(1.0, 2.0), giant_resonance_offset_ev=(-1.0, 1.0))


def test_giant_resonance_continuum_fraction_weakens_the_n45_continuum_only():
    # La N4,5 (99 eV): the resonance keeps its height relative to the unscaled 4d cross section while the
    # continuum under it shrinks by the drawn fraction; La M4,5 (832 eV, no resonance) keeps its continuum
    def ratios(**extra):
        cfg = SimulationConfig(giant_resonance_strength=(2.0, 2.0), giant_resonance_fwhm_ev=(6.0, 6.0),
                               giant_resonance_delay_by_element=True, giant_resonance_offset_ev=(0.0, 0.0),
                               elements=("La",), n_elements_probs=(1,), chemical_shift_ev=(0, 0),
                               instrumental_shift_ev=(0, 0), start_min_ev=80.0, end_max_ev=1100.0, **extra)
        c = Simulator(cfg).simulate(32, seed=9, components=True).components
        gr, raw, onset = _np(c["white_lines"]), _np(c["edge_profiles_raw"]), _np(c["edge_onset_ev"])
        spectrum = _np(c["edge_spectrum"])
        n45, m45 = onset < 120, (onset > 800) & (onset < 900)
        assert np.all(gr[m45] == 0)  # M4,5: no resonance
        both = np.intersect1d(spectrum[n45], spectrum[m45])
        assert both.size >= 8
        n_max = {k: v for k, v in zip(spectrum[n45], raw[n45].max(1))}
        m_max = {k: v for k, v in zip(spectrum[m45], raw[m45].max(1))}
        return gr[n45].max(1) / raw[n45].max(1), np.array([m_max[k] / n_max[k] for k in both])

    resonance_full, m_over_n_full = ratios()
    resonance_weak, m_over_n_weak = ratios(giant_resonance_continuum_fraction=(0.2, 0.2))
    # the resonance over its continuum: 5 times larger; M4,5 over N4,5 continuum: 5 times larger too
    np.testing.assert_allclose(np.median(resonance_weak) / np.median(resonance_full), 5.0, rtol=0.05)
    np.testing.assert_allclose(np.median(m_over_n_weak) / np.median(m_over_n_full), 5.0, rtol=0.15)
    assert SimulationConfig().giant_resonance_continuum_fraction == (1.0, 1.0)  # off by default
    for bad in ((0.0, 0.5), (0.5, 2.0)):
        with pytest.raises(ValueError, match="giant_resonance_continuum_fraction"):
            SimulationConfig(giant_resonance_continuum_fraction=bad)


def test_fano_giant_resonance_leaves_the_la_n45_edge_empty_until_the_resonance():
    # La N4,5 (table onset 99 eV, resonance 18 eV above it): drawn as a Lorentzian on the
    # Hartree-Fock-Slater edge, the first 1-7 eV above the onset hold about 40 % of the
    # maximum; as a Fano profile (q = 2.5) they hold 2 %, as in measured La N4,5 edges, and
    # the maximum stays 18-19 eV above the onset. La M4,5 (no resonance) keeps its shape.
    def run(**extra):
        cfg = SimulationConfig(giant_resonance_fwhm_ev=(8.0, 8.0), giant_resonance_delay_by_element=True,
                               giant_resonance_offset_ev=(0.0, 0.0), elements=("La",), n_elements_probs=(1,),
                               chemical_shift_ev=(0, 0), instrumental_shift_ev=(0, 0), start_min_ev=80.0,
                               end_max_ev=1100.0, **extra)
        c = Simulator(cfg).simulate(16, seed=9, components=True).components
        onset = _np(c["edge_onset_ev"])
        edge = _np(c["edge_profiles_raw"]) + _np(c["white_lines"])
        n45, m45 = onset < 120, (onset > 800) & (onset < 900)
        assert n45.sum() == 16 and m45.sum() == 16
        rel = edge[n45] / edge[n45].max(1, keepdims=True)
        m_shape = edge[m45] / edge[m45].max(1, keepdims=True)
        return rel[:, 100:107].max(1), np.argmax(rel, 1) - 99, m_shape

    near_onset_fano, peak_fano, m_fano = run(giant_resonance_fano_q=(2.5, 2.5))
    near_onset_lor, peak_lor, m_lor = run(giant_resonance_strength=(2.0, 2.0))
    assert np.all(near_onset_fano < 0.05) and np.all(near_onset_lor > 0.3)
    assert np.all((peak_fano >= 18) & (peak_fano <= 19)) and np.all(peak_lor == 18)
    np.testing.assert_allclose(m_fano, m_lor, atol=1e-6)
    assert SimulationConfig().giant_resonance_fano_q == (0.0, 0.0)  # off by default
    with pytest.raises(ValueError, match="giant_resonance_strength = \\(0, 0\\)"):
        SimulationConfig(giant_resonance_fano_q=(1.5, 4.0), giant_resonance_strength=(1.0, 2.0))
    with pytest.raises(ValueError, match="giant_resonance_fano_q"):
        SimulationConfig(giant_resonance_fano_q=(0.0, 4.0))


def test_fano_factor_has_its_zero_maximum_and_continuum_limit_where_fano_put_them():
    centre, fwhm, q = 117.0, 8.0, 2.5
    assert fano_factor(centre - q * fwhm / 2, centre, fwhm, q) == pytest.approx(0.0, abs=1e-12)
    e = np.linspace(60.0, 400.0, 340001)
    f = fano_factor(e, centre, fwhm, q)
    assert e[np.argmax(f)] == pytest.approx(centre + fwhm / (2 * q), abs=1e-3)
    assert f.max() == pytest.approx(1 + q * q, rel=1e-9)
    assert fano_factor(1e6, centre, fwhm, q) == pytest.approx(1.0, abs=1e-4)  # the bare continuum far away
    assert fano_factor(-1e6, centre, fwhm, q) == pytest.approx(1.0, abs=1e-4)


def test_pi_star_peaks_sit_at_the_light_k_edges_only(gosh):
    cfg = SimulationConfig(pi_star_strength=(2.0, 5.0), elements=("N", "Ti"), n_elements_probs=(0, 1))
    c = Simulator(cfg, database=gosh).simulate(16, seed=2, components=True).components
    peaks, raw, element = _np(c["white_lines"]), _np(c["edge_profiles_raw"]), _np(c["edge_element"])
    onset = _np(c["edge_onset_ev"])
    n, ti = element == el.element_index("N"), element == el.element_index("Ti")
    assert n.any() and ti.any()
    assert np.all(peaks[ti] == 0)  # Ti L: no pi* (and white lines are off)
    at = peaks[n].argmax(1)
    assert np.all((at >= np.ceil(onset[n]) - 1) & (at <= onset[n] + 4))  # 0..3 eV above the onset
    ratio = peaks[n].max(1) / raw[n].max(1)
    assert np.all((ratio >= 2.0 * 0.9) & (ratio <= 5.0 * 1.0001))
    with pytest.raises(ValueError, match="pi_star"):
        SimulationConfig(pi_star_strength=(-1.0, 1.0))


def test_pi_star_at_measured_position_puts_b_k_pi_star_at_192_ev(gosh):
    # h-BN: B K pi* at 192.0 eV, 4 eV above the table's B K onset (188 eV); N K pi* at 401.0 eV
    cfg = SimulationConfig(pi_star_strength=(2.0, 5.0), pi_star_at_measured_position=True,
                           pi_star_offset_ev=(-0.5, 0.5), elements=("B", "N"), n_elements_probs=(0, 1),
                           chemical_shift_ev=(0, 0), instrumental_shift_ev=(0, 0))
    c = Simulator(cfg, database=gosh).simulate(16, seed=3, components=True).components
    peaks, element = _np(c["white_lines"]), _np(c["edge_element"])
    at_b = peaks[element == el.element_index("B")].argmax(1)
    at_n = peaks[element == el.element_index("N")].argmax(1)
    assert at_b.size and at_n.size
    assert np.all(np.abs(at_b - 192) <= 1) and np.all(np.abs(at_n - 401) <= 1)
    with pytest.raises(ValueError, match="pi_star_at_measured_position"):
        SimulationConfig(pi_star_strength=(1.0, 2.0), pi_star_offset_ev=(-1.0, 1.0))  # negative needs it


def test_sigma_star_is_a_broad_peak_7_to_12_ev_above_the_pi_star_of_light_k_edges_only(gosh):
    # h-BN N K: pi* at 401 eV, sigma* about 7 eV above it; an L edge (Ti L3,2) gets none
    cfg = SimulationConfig(sigma_star_strength=(1.0, 3.0), sigma_star_offset_ev=(7.0, 12.0),
                           sigma_star_fwhm_ev=(5.0, 8.0), pi_star_at_measured_position=True,
                           elements=("N", "Ti"), n_elements_probs=(0, 1),
                           chemical_shift_ev=(0, 0), instrumental_shift_ev=(0, 0))
    c = Simulator(cfg, database=gosh).simulate(16, seed=5, components=True).components
    peaks, raw, element = _np(c["white_lines"]), _np(c["edge_profiles_raw"]), _np(c["edge_element"])
    n, ti = element == el.element_index("N"), element == el.element_index("Ti")
    assert n.any() and ti.any()
    assert np.all(peaks[ti] == 0)
    at = peaks[n].argmax(1)
    assert np.all((at >= 408) & (at <= 413))  # 401 eV + 7..12 eV
    half = peaks[n] >= 0.5 * peaks[n].max(1, keepdims=True)
    assert np.all(half.sum(1) >= 4)  # broad: at least 4 eV at half maximum, unlike a white line
    ratio = peaks[n].max(1) / raw[n].max(1)
    assert np.all((ratio >= 0.9) & (ratio <= 3.0 * 1.0001))
    with pytest.raises(ValueError, match="sigma_star"):
        SimulationConfig(sigma_star_strength=(1.0, 2.0), sigma_star_offset_ev=(-1.0, 1.0))


def test_log_uniform_end_keeps_the_range_and_ends_closer_to_the_last_edge(gosh):
    def after_last_edge(distribution):
        b = Simulator(SimulationConfig(end_distribution=distribution), database=gosh).simulate(1024, seed=2)
        p = {k: _np(v) for k, v in b.params.items()}
        used = p["elements"] >= 0
        last = np.where(used, p["anchor_onset_ev"], -np.inf).max(1)
        assert np.all(p["end_ev"] >= last + 25) and np.all(p["end_ev"] <= 3272)
        assert np.all(p["end_ev"] == np.round(p["end_ev"]))
        inside = p["end_ev"] < 3071
        after_end = (p["end_ev"][inside] + 1).astype(int)
        assert np.all(_np(b.spectra)[inside][np.arange(inside.sum()), after_end] == 0)
        return np.median(p["end_ev"] - last)

    uniform, log_uniform = after_last_edge("uniform"), after_last_edge("log-uniform")
    assert 600 < uniform and 200 < log_uniform < 600  # measured windows: median about 370 eV
    with pytest.raises(ValueError, match="end_distribution"):
        SimulationConfig(end_distribution="normal")


def test_second_power_law_curves_the_background_and_keeps_the_jump_ratio(gosh):
    cfg = SimulationConfig(background_second_fraction=(0.5, 2.0), background_second_exponent=(0.5, 1.0))
    b = Simulator(cfg, database=gosh).simulate(64, seed=4, components=True)
    p = {k: _np(v) for k, v in b.params.items()}
    bg = _np(b.components["background"]).astype(float)
    e = np.arange(1, 3072, dtype=float)
    start = p["start_ev"][:, None]
    one = p["background_amplitude"][:, None] * (e / start) ** -p["background_exponent"][:, None]
    extra = bg[:, 1:] - one
    # the rest is a second, flatter power law of 0.5..2 x A at the start
    at_start = extra[np.arange(64), p["start_ev"].astype(int) - 1] / p["background_amplitude"]
    assert np.all((at_start > 0.5 * 0.999) & (at_start < 2.0 * 1.001))
    slope = np.log(extra[:, 2000] / extra[:, 500]) / np.log(2001 / 501)
    assert np.all((slope > -1.0 - 1e-3) & (slope < -0.5 + 1e-3))
    assert np.all((p["jump_ratio"] >= 0.2) & (p["jump_ratio"] <= 1.5))
    with pytest.raises(ValueError, match="background_second"):
        SimulationConfig(background_second_fraction=(-1.0, 1.0))


def test_areal_density_changes_edge_ratios_within_its_range(gosh):
    # C and O in every spectrum; the same seed draws the same microscope and edges,
    # so the O/C edge ratio changes only by the drawn densities d_O / d_C.
    common = dict(elements=("C", "O"), n_elements_probs=(0, 1))
    ratios = []
    for density in ((1.0, 1.0), (0.25, 4.0)):
        b = Simulator(SimulationConfig(areal_density=density, **common), database=gosh).simulate(64, seed=5, components=True)
        c = b.components
        el_idx = _np(c["edge_element"])
        prof = _np(c["edge_profiles_raw"]).max(1)
        spec = _np(c["edge_spectrum"])
        o = prof[el_idx == el.element_index("O")]
        cc = prof[el_idx == el.element_index("C")]
        assert np.array_equal(spec[el_idx == el.element_index("O")], np.arange(64))
        ratios.append(o / cc)
        p = _np(b.params["jump_ratio"])
        assert np.all((p >= 0.2) & (p <= 1.5))
    change = np.log(ratios[1] / ratios[0])
    assert np.all(np.abs(change) <= 2 * np.log(4.0) + 1e-4)
    assert change.std() > 0.5  # log-uniform over a factor 16 either way: std ~ 1.1
    with pytest.raises(ValueError, match="areal_density"):
        SimulationConfig(areal_density=(0.0, 2.0))


def test_bad_configuration_values_are_clear_errors(gosh):
    with pytest.raises(ValueError, match="convergence_mrad"):
        SimulationConfig(convergence_mrad=(20, 1))
    with pytest.raises(ValueError, match="plasmon_energy_ev"):
        SimulationConfig(plasmon_energy_ev=(3.5, 20))
    with pytest.raises(ValueError, match="n_elements_probs"):
        SimulationConfig(n_elements_probs=(-1, 2))
    with pytest.raises(ValueError, match="unknown configuration"):
        SimulationConfig.from_dict({"beam_energy": 200})
    with pytest.raises(ValueError, match="Zr"):
        Simulator(SimulationConfig(elements=("Zr",)), database=gosh)
    cfg = SimulationConfig(beam_energies_kv=(200,), elements=("C", "O"))
    assert SimulationConfig.from_dict(json.loads(cfg.to_json())) == cfg


def test_configured_elements_only(gosh):
    b = Simulator(SimulationConfig(elements=("C", "O"), n_elements_probs=(0, 1)), database=gosh).simulate(8, seed=0)
    lab = _np(b.labels)
    assert np.all(lab[:, el.element_index("C")] == 1) and np.all(lab[:, el.element_index("O")] == 1)
    assert np.all(lab.sum(1) == 2)


def test_oxide_fraction_puts_oxygen_into_multi_element_spectra(gosh):
    o = el.element_index("O")
    b = Simulator(SimulationConfig(oxide_fraction=1.0), database=gosh).simulate(64, seed=2)
    lab, n = _np(b.labels), _np(b.params["n_elements"])
    assert (n >= 2).any() and (n == 1).any()
    assert np.all(lab[n >= 2, o] == 1)
    # O replaces an element: the count of distinct elements is unchanged
    assert np.array_equal(lab.sum(1), n)
    off = Simulator(SimulationConfig(), database=gosh).simulate(64, seed=2)
    assert _np(off.labels)[_np(off.params["n_elements"]) >= 2, o].mean() < 1
    with pytest.raises(ValueError, match="oxide_fraction"):
        SimulationConfig(oxide_fraction=1.5)


def test_hard_pairs_hold_one_or_both_elements_of_a_pair_at_their_closest_edges(gosh):
    pairs = {"N-Ti": {"N": 401.0, "Ti": 456.0}, "Al-Si": {"Al": 1560.0, "Si": 1839.0}}
    cfg = SimulationConfig(hard_pairs=tuple(pairs), hard_pair_fraction=1.0)
    b = Simulator(cfg, database=gosh).simulate(96, seed=4)
    lab, start, end = _np(b.labels), _np(b.params["start_ev"]), _np(b.params["end_ev"])
    elements, onsets = _np(b.params["elements"]), _np(b.params["anchor_onset_ev"])
    kinds = set()
    for i in range(len(lab)):
        present = {el.ELEMENTS[k] for k in np.flatnonzero(lab[i])}
        pair = next(p for p in pairs if present <= set(p.split("-")))  # only elements of one pair
        kinds.add((pair, len(present)))
        for k, onset in zip(elements[i], onsets[i]):
            if k < 0:
                continue
            # anchored at the pair's coincident edges (+- the chemical shift), inside the spectrum range
            assert abs(onset - pairs[pair][el.ELEMENTS[k]]) <= 5
            assert start[i] < onset < end[i]
    assert {n for _, n in kinds} == {1, 2} and {p for p, _ in kinds} == set(pairs)
    # off (the default) draws exactly as a setting without pairs: existing datasets stay reproducible
    off = Simulator(SimulationConfig(hard_pairs=tuple(pairs)), database=gosh).simulate(16, seed=5)
    ref = Simulator(SimulationConfig(), database=gosh).simulate(16, seed=5)
    assert torch.equal(off.spectra, ref.spectra) and torch.equal(off.labels, ref.labels)


def test_hard_pairs_are_checked():
    with pytest.raises(ValueError, match="'A-B'"):
        SimulationConfig(hard_pairs=("N-N",))
    with pytest.raises(ValueError, match="'A-B'"):
        SimulationConfig(hard_pairs=("NSc",))
    with pytest.raises(ValueError, match="non-empty hard_pairs"):
        SimulationConfig(hard_pair_fraction=0.2)
    with pytest.raises(ValueError, match="hard_pair_fraction"):
        SimulationConfig(hard_pairs=("N-Ti",), hard_pair_fraction=1.5)


def test_hard_pair_of_an_element_without_tables_names_it(gosh):
    with pytest.raises(ValueError, match=r"'N-Ba'.*\['Ba'\] cannot be drawn"):
        Simulator(SimulationConfig(hard_pairs=("N-Ba",), hard_pair_fraction=0.5), database=gosh)


def test_exact_elements_overrides_a_hard_pair_setting(gosh):
    from hyperspy_eelsid.simulation.config import exact_elements

    setting = {"hard_pairs": ["N-Ti"], "hard_pair_fraction": 1.0, "oxide_fraction": 0.5}
    overrides = exact_elements(setting, ["Fe", "Cu"], end_max_ev=1200)
    assert setting["hard_pair_fraction"] == 1.0  # the caller's overrides are left alone
    b = Simulator(SimulationConfig.from_dict(overrides), database=gosh).simulate(32, seed=1)
    lab = _np(b.labels)
    # every spectrum holds Fe and Cu and nothing else: no O added, no hard pair drawn
    assert np.all(lab[:, el.element_index("Fe")] == 1) and np.all(lab[:, el.element_index("Cu")] == 1)
    assert np.all(lab.sum(1) == 2) and np.all(_np(b.params["end_ev"]) <= 1200)


def test_dataset_round_trip(tmp_path, gosh, sim):
    path = tmp_path / "sim.h5"
    cfg = SimulationConfig()
    write_dataset(path, 20, seed=4, config=cfg, batch_size=8, progress=False, database=gosh)
    ds = SimulatedDataset(path, with_params=True)
    assert len(ds) == 20 and ds.element_names == el.ELEMENTS
    expected = list(sim.batches(20, seed=4, batch_size=8))
    spectra = torch.cat([b.spectra for b in expected])
    labels = torch.cat([b.labels for b in expected])
    for i in (0, 7, 8, 19):
        x, y, p = ds[i]
        assert torch.equal(x, spectra[i]) and torch.equal(y, labels[i].float())
        assert set(p) >= {"beam_energy_kv", "start_ev", "jump_ratio", "elements"}
    assert read_config(path) == cfg
    import h5py

    with h5py.File(path) as h:
        assert h["spectra"].dtype == np.float32 and h["labels"].dtype == np.uint8
        assert h["spectra"].chunks is not None and h["spectra"].compression == "gzip"
        assert h.attrs["version"]
    loader = torch.utils.data.DataLoader(ds, batch_size=5)
    assert next(iter(loader))[0].shape == (5, 3072)


def test_dataset_from_worker_processes_is_the_same_file(tmp_path, gosh):
    import h5py

    one, two = tmp_path / "one.h5", tmp_path / "two.h5"
    write_dataset(one, 50, seed=9, batch_size=16, progress=False, database=gosh)
    write_dataset(two, 50, seed=9, batch_size=16, progress=False, database=gosh, workers=2)
    with h5py.File(one) as a, h5py.File(two) as b:
        for key in ("spectra", "labels", "element_names"):
            assert np.array_equal(a[key][()], b[key][()]), key
        assert set(a["params"]) == set(b["params"])
        for key in a["params"]:
            assert np.array_equal(a["params"][key][()], b["params"][key][()]), key
        assert dict(a.attrs) == dict(b.attrs)
    with pytest.raises(ValueError, match="workers"):
        write_dataset(tmp_path / "bad.h5", 5, workers=0, database=gosh)


def test_cli_simulate(tmp_path, gosh, capsys):
    parser = argparse.ArgumentParser(prog="eelsid")
    cli.register(parser.add_subparsers(dest="command"))
    out = tmp_path / "cli.h5"
    args = parser.parse_args(["simulate", "--n", "6", "--out", str(out), "--seed", "1",
                              "--batch-size", "4", "--gos-file", gosh.path, "--no-progress"])
    assert args.func(args) == 0
    assert len(SimulatedDataset(out)) == 6
    bad = parser.parse_args(["simulate", "--n", "0", "--out", str(out), "--gos-file", gosh.path])
    assert args.func(bad) == 2
    bad = parser.parse_args(["simulate", "--n", "6", "--out", str(tmp_path / "new.h5"), "--device", "gpu",
                             "--gos-file", gosh.path])
    assert args.func(bad) == 2  # was torch's RuntimeError listing 20 device types, after the GOS file was read
    assert "device must be 'auto', 'cpu' or 'cuda'" in capsys.readouterr().err
    bad = parser.parse_args(["simulate", "--n", "6", "--out", str(tmp_path / "no" / "a.h5"), "--gos-file", gosh.path])
    assert args.func(bad) == 2  # was h5py's "Unable to synchronously create file (unable to open file ...)"
    assert "cannot write" in capsys.readouterr().err and not (tmp_path / "no").exists()
    # an existing dataset is not replaced without --overwrite (it was, silently)
    before = out.read_bytes()
    again = ["simulate", "--n", "3", "--out", str(out), "--gos-file", gosh.path, "--no-progress"]
    assert args.func(parser.parse_args(again)) == 2
    assert "cli.h5 exists, holding 6 simulated spectra; pass --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert args.func(parser.parse_args([*again, "--overwrite"])) == 0
    assert len(SimulatedDataset(out)) == 3


def test_an_interrupted_dataset_leaves_the_old_file_and_no_partial_one(tmp_path, gosh, monkeypatch):
    from hyperspy_eelsid.simulation import dataset

    path = tmp_path / "sim.h5"
    write_dataset(path, 8, seed=1, batch_size=4, progress=False, database=gosh)
    before = path.read_bytes()

    def interrupt(self, done):
        raise KeyboardInterrupt

    monkeypatch.setattr(dataset._Progress, "update", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(path, 16, seed=2, batch_size=4, progress=False, database=gosh)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sim.h5"]


def test_simulation_core_does_not_import_hyperspy():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import hyperspy_eelsid.simulation.simulator, hyperspy_eelsid.simulation.dataset\n"
        "import hyperspy_eelsid.simulation.cli, hyperspy_eelsid.physics.cross_sections\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('hyperspy', 'exspy')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _shipped_gos_file():
    try:
        from hyperspy_eelsid.physics.gos_table import gos_file

        return gos_file()
    except (ImportError, FileNotFoundError):
        return None


@pytest.mark.skipif(_shipped_gos_file() is None, reason="the package's GOSH table is not built yet")
def test_simulator_on_the_shipped_table():
    sim = Simulator(SimulationConfig())
    # every element of the network has a counted edge in the shipped table
    assert len(sim.catalogue.elements) == el.N_ELEMENTS
    assert 95 <= sim.catalogue.n_counted_edges <= 115
    b = sim.simulate(32, seed=0, components=True)
    assert torch.isfinite(b.spectra).all() and np.allclose(_np(b.spectra).max(1), 1.0)
    assert np.all(_np(b.labels).sum(1) == _np(b.params["n_elements"]))


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "configs" / "simulation").glob("*.json")),
                         ids=lambda p: p.name)
def test_every_shipped_simulation_setting_loads(path):
    from hyperspy_eelsid.simulation.config import read_overrides

    cfg = SimulationConfig.from_dict(read_overrides(path))
    assert cfg != SimulationConfig()  # each file changes something relative to Table 1


def _edge_step(simulator, seed, span, below, above):
    """Edge signal over ``above`` eV relative to that over ``below`` eV in the
    spectra (64 simulated) whose window covers ``span``, and the labels."""
    b = simulator.simulate(64, seed=seed, components=True)
    edges = _np(b.components["edges"])
    start, end = _np(b.params["start_ev"]), _np(b.params["end_ev"])
    keep = (start < span[0]) & (end > span[1])
    assert keep.sum() >= 5
    return edges[keep, above[0]:above[1]].mean(1) / edges[keep, below[0]:below[1]].mean(1), _np(b.labels)


def test_minor_subshells_add_the_m3_edge_that_sits_under_a_neighbours_m5():
    """Nd M3 (1297 eV) is where Dy M5 starts: simulated only with major_subshells_only=False."""
    cfg = dict(elements=("Nd",), n_elements_probs=(1.0,), noise=False)
    major = Simulator(SimulationConfig(**cfg))
    minor = Simulator(SimulationConfig(**cfg, major_subshells_only=False))
    labels = {t.label for t in minor.catalogue.tables}
    assert "Nd_M3" in labels and "Nd_M3" not in {t.label for t in major.catalogue.tables}
    assert {t.label for t in major.catalogue.tables} < labels

    def step_at_m3(simulator):  # the M3 onset and its shifts lie inside 1270-1330 eV
        return _edge_step(simulator, seed=4, span=(1270, 1330), below=(1270, 1285), above=(1315, 1330))[0]

    # the M4,5 tail falls between 1270 and 1330 eV; the M3 edge lifts it
    assert np.all(step_at_m3(major) < 1.0)
    assert np.median(step_at_m3(minor)) > np.median(step_at_m3(major)) * 1.05


def test_supplementary_subshells_add_w_m3_and_leave_the_labels_alone():
    """W M3 (2281 eV, not in exSpy's table) sits where Au M5 starts (2206 eV):
    simulated only with supplementary_subshells=True, and W stays the only label."""
    cfg = dict(elements=("W",), n_elements_probs=(1.0,), noise=False, major_subshells_only=False)
    plain = Simulator(SimulationConfig(**cfg))
    extra = Simulator(SimulationConfig(**cfg, supplementary_subshells=True))
    added = {t.label for t in extra.catalogue.tables} - {t.label for t in plain.catalogue.tables}
    assert {"W_M3", "W_M2", "W_N4", "W_N5"} <= added
    assert extra.catalogue.n_counted_edges == plain.catalogue.n_counted_edges  # labels: exSpy's Major edges

    def step_at_m3(simulator):
        step, labels = _edge_step(simulator, seed=5, span=(2250, 2310), below=(2255, 2268), above=(2295, 2308))
        assert np.all(labels.sum(1) == 1)
        return step

    assert np.all(step_at_m3(plain) < 1.0)  # the M4,5 tail only falls
    assert np.median(step_at_m3(extra)) > 1.02
