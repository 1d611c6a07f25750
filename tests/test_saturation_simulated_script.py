"""benchmarks/saturation_simulated.py: clipped simulated spectra, found and cut as the front end does."""

import numpy as np
import pytest

from .conftest import load_script


def test_clipping_makes_a_run_the_front_end_finds_at_the_clip_depth():
    script = load_script("benchmarks/saturation_simulated.py")
    from hyperspy_eelsid.preprocessing import GRID
    from hyperspy_eelsid.saturation import saturation_ends

    energy = GRID
    counts = np.stack([1e7 * (np.maximum(energy, 5.0) / 100.0) ** -3] * 3)
    mask = (energy >= 80.0) & (energy <= 1500.0)
    mask = np.repeat(mask[None], 3, axis=0)
    clipped = script.clip_spectra(counts, mask, np.array([80.0, 40.0, 300.0]), (50.0, 50.0),
                                  np.random.default_rng(0))
    ends = saturation_ends(np.where(mask, clipped, 0.0), energy)
    # clipped 50 eV into each window (from 80, 75 and 300 eV): read from the next channel on
    np.testing.assert_array_equal(ends, [131.0, 126.0, 351.0])
    assert np.all(clipped[~mask] == counts[~mask])  # outside the window nothing is touched


def test_the_cut_removes_false_detections_and_scores_what_is_left(capsys):
    pytest.importorskip("torch")
    script = load_script("benchmarks/saturation_simulated.py")
    assert script.main(["--n", "96", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines():
        for name in ("as simulated", "clipped, every channel", "clipped, read from the end of the run"):
            if line.startswith(name + " "):
                rows[name] = [float(v) for v in line[40:].replace("/", " ").split()]
    assert len(rows) == 3
    fp = {k: v[4] for k, v in rows.items()}
    # clipping adds false detections; reading past the clipped run removes most of them
    assert fp["clipped, every channel"] > fp["as simulated"]
    assert fp["clipped, read from the end of the run"] < fp["clipped, every channel"]
