"""The white-line ratio check on measured spectra of ../shared/eels-benchmark (skipped when absent)."""

import pytest

pytest.importorskip("hyperspy.api")

from hyperspy_eelsid.line_ratios import _fit_position, coincident_line_pairs, fit_line_ratio, judge_pair  # noqa: E402
from hyperspy_eelsid.preprocessing import energy_axis_from_signal, resample_to_grid, spectra_last  # noqa: E402
from hyperspy_eelsid.signals.loading import load_spectrum  # noqa: E402


def _verdict(manifest, spectrum_id, pair_index):
    entry = next(e for e in manifest["spectra"] if e["id"] == spectrum_id)
    s = load_spectrum(manifest["root"] / entry["file"])
    grid, _ = resample_to_grid(spectra_last(s), energy_axis_from_signal(s))
    a, b = coincident_line_pairs()[pair_index]
    fit = fit_line_ratio(grid.reshape(-1, grid.shape[-1]).sum(axis=0), *_fit_position(a, b))
    return a.element, b.element, int(judge_pair(fit, a, b)[0])


@pytest.mark.parametrize("spectrum_id, pair_index, expected", [
    ("c74afee690", 0, "Ba"),  # BaO: M5/M4 about 1, not Co's 2-4.5
    ("32d0e663f5", 1, "Pr"),  # Pr6O11: M5/M4 about 1-1.4, not Cu's 2-5
    ("e4558fa655", 1, None),  # Cu metal: no L2 white line, no verdict
])
def test_measured_white_lines_get_the_right_verdict(benchmark_manifest, spectrum_id, pair_index, expected):
    a, b, verdict = _verdict(benchmark_manifest, spectrum_id, pair_index)
    assert {1: a, 2: b, 0: None}[verdict] == expected
