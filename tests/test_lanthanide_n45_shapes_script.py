"""benchmarks/lanthanide_n45_shapes.py: where an N4,5 edge peaks and how much of it comes before the peak."""

import numpy as np
import pytest

from .conftest import load_script


def _spectrum(onset, peak_above, early_level, width=10.0):
    """A power-law background with an edge: ``early_level`` from the onset on, a
    Lorentzian of height 1 ``peak_above`` eV above the onset."""
    e = np.arange(3072, dtype=float)
    s = 50.0 * (np.maximum(e, 1.0) / 100.0) ** -3.0
    edge = np.where(e >= onset, early_level, 0.0)
    edge += (width / 2) ** 2 / ((e - onset - peak_above) ** 2 + (width / 2) ** 2) * (e >= onset)
    s = s + edge
    s[:75] = 0.0
    return s


def test_edge_shape_reads_the_peak_position_the_early_signal_and_the_width():
    script = load_script("benchmarks/lanthanide_n45_shapes.py")
    peak, early, fwhm = script.edge_shape(_spectrum(99.0, 18.0, 0.05), 99.0)
    assert peak == 18
    # the step plus the resonance's tail 7 eV above the onset, over the maximum (step + 1)
    assert early == pytest.approx((0.05 + 25 / (11**2 + 25)) / 1.05, rel=0.02)
    assert 9 <= fwhm <= 12
    _, early_step, _ = script.edge_shape(_spectrum(99.0, 18.0, 0.5), 99.0)
    assert early_step > 0.3
    # an edge whose window is cut (zeros where the fit or the edge should be) gets no verdict
    cut = _spectrum(99.0, 18.0, 0.05)
    cut[:95] = 0.0
    assert script.edge_shape(cut, 99.0) is None


def test_simulated_shapes_follow_the_fano_setting():
    pytest.importorskip("torch")
    script = load_script("benchmarks/lanthanide_n45_shapes.py")
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs" / "simulation"
    lorentzian = script.simulated_shapes(str(root / "realistic_v21.json"), "La", n=64)
    fano = script.simulated_shapes(str(root / "realistic_v22.json"), "La", n=64)
    assert len(lorentzian) >= 10 and len(fano) >= 10
    # the Fano profile empties the first eV above the La onset; its maximum stays near 117 eV
    assert np.median(fano[:, 1]) < 0.5 * np.median(lorentzian[:, 1])
    assert 14 <= np.median(fano[:, 0]) <= 26
