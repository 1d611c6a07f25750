"""Every real spectrum of ../shared/eels-benchmark reaches the networks in good shape."""

import numpy as np
import pytest

from hyperspy_eelsid.preprocessing import N_CHANNELS, preprocess

from .conftest import shared_path

hs = pytest.importorskip("hyperspy.api")


def _entries():
    import json

    from .conftest import SHARED

    path = SHARED / "eels-benchmark" / "manifest.json"
    if not path.exists():
        return []
    manifest = json.loads(path.read_text())
    return manifest["spectra"] + manifest["scans"]


@pytest.mark.parametrize("entry", _entries() or [None], ids=lambda e: e["id"] if e else "absent")
def test_benchmark_spectrum_preprocesses(entry):
    if entry is None:
        shared_path("eels-benchmark", "manifest.json")  # skips with a message
    s = hs.load(shared_path("eels-benchmark", entry["file"]))
    before = np.array(s.data, copy=True)
    x, window = preprocess(s)
    assert x.shape == s.axes_manager.navigation_shape[::-1] + (N_CHANNELS,)
    assert x.dtype == np.float32 and np.all(np.isfinite(x))
    lo = max(entry.get("e_min_eV", 75.0), 75.0) if "e_min_eV" in entry else 75.0
    assert window.sum() >= 20 and window.argmax() >= np.floor(lo) - 1
    assert np.all(x[..., ~window] == 0)
    # every spectrum with counts is normalised to a peak of 1 in its window
    peaks = x.reshape(-1, N_CHANNELS).max(axis=-1)
    assert np.all((np.abs(peaks - 1) < 1e-6) | (peaks == 0)) and peaks.max() == pytest.approx(1)
    np.testing.assert_array_equal(s.data, before)
