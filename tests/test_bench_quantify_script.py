"""benchmarks/bench_quantify.py: synthetic layered spectrum images, fitted eagerly and lazily."""

import numpy as np
import pytest

from .conftest import load_script

pytest.importorskip("exspy")


def test_layers_hold_the_documented_elements():
    script = load_script("benchmarks/bench_quantify.py")
    truth = script._truth(48)
    # three layers of 16 columns: LaMnO3, BaTiO3, SrTiO3
    assert truth["La"][0] > 0 and truth["La"][16] == 0 and truth["Ba"][16] > 0 and truth["Sr"][32] > 0
    assert (truth["O"] > 0).all() and truth["Ti"][0] == 0


def test_eager_and_lazy_fits_recover_the_maps(capsys):
    script = load_script("benchmarks/bench_quantify.py")
    s, _, _ = script.spectrum_image((9, 20, 2048), lazy=True)
    assert s._lazy
    np.testing.assert_array_equal(s.data[3:5].compute(), s.data[3:5].compute())  # the same counts each read
    assert script.main(["--eager-shape", "6", "20", "2048", "--lazy-shape", "9", "20", "2048",
                        "--low-loss", "--hyperspy-shape", "2", "20", "2048", "--fine-structure",
                        "--fs-low-loss-shape", "4", "20", "2048"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert [r[0] for r in rows] == ["eager", "lazy", "eager+ll", "lazy+ll", "eager+ll", "eager+fs", "eager+ll+fs"]
    assert rows[-3][1] == "HS"
    for r in rows:
        median, p95 = float(r[-2]), float(r[-1])
        # the right model (with the low loss: exSpy's convolution, made here by FFT), Poisson noise
        assert median < 0.01 and p95 < 0.05
