"""benchmarks/shift_averaging.py: the ensemble averaged over energy-shifted copies."""

import numpy as np

from .conftest import load_script


def test_shifted_moves_the_spectrum_by_whole_channels_and_zero_fills():
    script = load_script("benchmarks/shift_averaging.py")
    x = np.arange(1, 7, dtype=np.float32)[None]
    assert script.shifted(x, 2).tolist() == [[0, 0, 1, 2, 3, 4]]  # up in energy
    assert script.shifted(x, -2).tolist() == [[3, 4, 5, 6, 0, 0]]
    assert script.shifted(x, 0).tolist() == x.tolist()


def test_averaging_call_means_the_predictions_of_the_shifted_copies():
    script = load_script("benchmarks/shift_averaging.py")
    seen = []

    def call(self, x):
        seen.append(x.copy())
        return x[..., :1] * np.ones((1, 3), dtype=np.float32)  # "probability" = first channel

    x = np.array([[4.0, 2.0, 0.0]], dtype=np.float32)
    out = script.averaging_call(call, [-1, 0, 1])(None, x)
    assert len(seen) == 3
    assert np.allclose(out, (2.0 + 4.0 + 0.0) / 3)


def test_exits_cleanly_without_the_benchmark(tmp_path, capsys):
    script = load_script("benchmarks/shift_averaging.py")
    assert script.main(["--shifts", "0", "--shared", str(tmp_path)]) == 0
    assert "absent" in capsys.readouterr().out
