"""The white-line ratio check that tells Co from Ba and Cu from Pr."""

import numpy as np
import pytest

from hyperspy_eelsid.elements import element_index
from hyperspy_eelsid.line_ratios import (
    _bin_lorentzian,
    coincident_line_pairs,
    fit_line_ratio,
    judge_pair,
    line_pair,
    summarise_verdicts,
    vetoes,
    white_line_verdicts,
)

E = np.arange(3072, dtype=float)


def lines_on_edge(ratio, first=782.0, splitting=15.3, fwhm=(2.0, 2.0), area=4e4, step=300.0, n=1, seed=0):
    """Counts per eV: power law + an edge step + two Lorentzian lines of area ratio ``ratio``, Poisson noise."""
    background = 2e4 * (np.maximum(E, 50.0) / 700.0) ** -3.5
    edge = step * (E >= first - 1) + 0.5 * step * (E >= first + splitting - 1)
    peaks = area * (_bin_lorentzian(E, first, fwhm[0]) + _bin_lorentzian(E, first + splitting, fwhm[1]) / ratio)
    mean = background + edge + peaks
    return np.random.default_rng(seed).poisson(np.broadcast_to(mean, (n, E.size))).astype(float)


def co_ba():
    return coincident_line_pairs()[0]


def test_the_coincident_pairs_are_co_ba_and_cu_pr():
    pairs = [(a.element, b.element) for a, b in coincident_line_pairs()]
    assert pairs == [("Co", "Ba"), ("Cu", "Pr")]
    co, ba = co_ba()
    assert (co.first, co.second, co.first_ev, co.second_ev) == ("L3", "L2", 779.0, 794.0)
    assert (ba.first, ba.second) == ("M5", "M4")
    assert co.ratio[0] > ba.ratio[1]  # the ranges do not overlap: the ratio can decide
    assert line_pair("O") is None and line_pair("Fe").first == "L3"


@pytest.mark.parametrize("ratio", [3.0, 0.8])
def test_fit_recovers_the_ratio_of_two_lines(ratio):
    fit = fit_line_ratio(lines_on_edge(ratio), 780.0, 15.0)
    assert fit.area_ratio[0] == pytest.approx(ratio, rel=0.15)
    assert fit.height_ratio[0] == pytest.approx(ratio, rel=0.25)
    np.testing.assert_allclose(fit.centres[0], [782.0, 797.3], atol=1.0)
    assert np.all(fit.snr[0] > 20) and fit.contrast[0] > 1.5


def test_verdicts_point_to_the_element_whose_range_holds_the_ratio():
    co, ba = co_ba()
    assert judge_pair(fit_line_ratio(lines_on_edge(3.0), 780.0, 15.0), co, ba).tolist() == [1]
    assert judge_pair(fit_line_ratio(lines_on_edge(0.8), 780.0, 15.0), co, ba).tolist() == [2]
    # in between the two ranges: no verdict
    assert judge_pair(fit_line_ratio(lines_on_edge(1.45, area=2e5), 780.0, 15.0), co, ba).tolist() == [0]


def test_no_verdict_without_clear_lines():
    co, ba = co_ba()
    # an edge without white lines (like Cu metal): nothing to read
    flat = fit_line_ratio(lines_on_edge(1.0, area=0.0, step=3000.0), 780.0, 15.0)
    # lines buried in noise
    faint = fit_line_ratio(lines_on_edge(3.0, area=150.0), 780.0, 15.0)
    # lines of very different widths: area and height ratios disagree
    wide = fit_line_ratio(lines_on_edge(0.7, fwhm=(1.0, 6.0), area=2e5), 780.0, 15.0)
    for fit in (flat, faint, wide):
        assert judge_pair(fit, co, ba).tolist() == [0]
    # spectra that cannot be fitted (nothing measured before the lines) get NaN, not an error
    empty = fit_line_ratio(np.zeros(3072), 780.0, 15.0)
    assert np.isnan(empty.area_ratio[0]) and judge_pair(empty, co, ba).tolist() == [0]


def test_verdicts_vetoes_and_summary():
    grid = np.concatenate([lines_on_edge(0.8, n=3), lines_on_edge(3.0, n=2, seed=1)])
    probs = np.zeros((5, 80))
    ico, iba, ics = element_index("Co"), element_index("Ba"), element_index("Cs")
    probs[:, ico] = [0.9, 0.9, 0.2, 0.9, 0.9]  # Co detected everywhere but spectrum 2
    probs[:4, iba] = 0.7  # Ba in the first four
    probs[2, ics] = 0.8  # Cs M4,5 (726, 740 eV) lies in the fitted range of spectrum 2
    verdict, ratio = white_line_verdicts(grid, probs, 0.5)
    assert verdict[:, 0].tolist() == [2, 2, 0, 1, 1]  # spectrum 2: no verdict beside a Cs edge
    assert np.all(verdict[:, 1] == -1)  # neither Cu nor Pr detected: Cu/Pr not fitted
    veto = vetoes(verdict, probs, 0.5)
    rows, cols = np.nonzero(veto)
    assert rows.tolist() == [0, 1, 3] and cols.tolist() == [ico, ico, iba]
    (check,) = summarise_verdicts(verdict, ratio)
    assert check["pair"] == ["Co", "Ba"] and check["fitted"] == 5
    assert check["verdicts"] == {"Co": 2, "Ba": 2, "neither": 1}
    # a window that misses the pre-edge region: nothing is fitted
    window = E >= 760
    assert np.all(white_line_verdicts(grid, probs, 0.5, window)[0] == -1)


def test_lines_clipped_by_a_saturated_camera_are_not_fitted():
    """A Co L3 line clipped at the camera's highest count reads as a lower L3/L2 ratio:
    the check, like the networks, does not read a saturated run."""
    from hyperspy_eelsid.preprocessing import EnergyAxis
    from hyperspy_eelsid.signals.checks import _line_verdicts

    energy = np.arange(730.0, 900.0, 0.25)
    per_ev = lines_on_edge(3.0, area=8e4, seed=1)[0]  # counts per eV on the 1 eV grid
    raw = np.interp(energy, E, per_ev)[None].repeat(2, axis=0) * 0.25  # counts per 0.25 eV channel
    l2_top = raw[1, energy > 790].max()
    level = l2_top + 0.05 * (raw[1].max() - l2_top)  # L3 clipped just above L2's height
    raw[1] = np.minimum(raw[1], level)
    assert (raw[1] == level).sum() >= 5 and (raw[1, energy < 770] < level).all()
    probs = np.zeros((2, 80))
    probs[:, element_index("Co")] = 0.9
    verdict, ratio = _line_verdicts(raw, probs, EnergyAxis(energy), 0.5)
    assert verdict[:, 0].tolist() == [1, -1]  # Co from the measured lines; the clipped ones are not fitted
    assert np.isnan(ratio[1, 0])
    verdict, ratio = _line_verdicts(raw, probs, EnergyAxis(energy), 0.5, readout=(True, False))
    assert ratio[1, 0] < 0.8 * ratio[0, 0]  # read through the clip, L3 / L2 falls
