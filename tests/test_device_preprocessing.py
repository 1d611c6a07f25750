"""The torch preprocessing path (used on GPUs) gives the numpy path's network input.

Runs on the CPU everywhere and also on CUDA where a GPU is present.
"""

import numpy as np
import pytest
import torch

from hyperspy_eelsid.preprocessing import EnergyAxis, PreprocessingError, preprocess, preprocess_on_device
from hyperspy_eelsid.splices import SpliceWarning, splice_onsets, splice_onsets_torch

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _spectra(dispersion, n=600, seed=0):
    """Power-law spectra, a third of them stitched from two read-outs."""
    rng = np.random.default_rng(seed)
    energy = np.arange(60.0, 60.0 + 1400 * dispersion, dispersion)
    counts = 1e7 * (energy / energy[0]) ** -3 * rng.uniform(1, 10, (n, 1))
    jump = rng.uniform(energy[20], energy[-60], (n, 1))
    spliced = rng.random((n, 1)) < 1 / 3
    counts = np.where(spliced & (energy < jump), counts / rng.uniform(60, 300, (n, 1)), counts)
    return energy, rng.poisson(counts).astype(np.float32)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dispersion", [0.25, 1.0, 2.0])
def test_splice_onsets_on_torch_equal_the_numpy_ones(device, dispersion):
    energy, data = _spectra(dispersion)
    expected = splice_onsets(data, energy)
    got = splice_onsets_torch(torch.from_numpy(data).to(device), energy).cpu().numpy()
    assert np.isfinite(expected).sum() > 30  # the test data do hold splices
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dispersion", [0.25, 1.0, 2.0])
def test_device_preprocessing_gives_the_numpy_network_input(device, dispersion):
    energy, data = _spectra(dispersion, seed=1)
    before = data.copy()
    with pytest.warns(SpliceWarning) as caught:
        expected, window = preprocess(data, energy)
    x, window_t, cuts = preprocess_on_device(data, EnergyAxis(energy), device)
    assert x.device.type == device and x.shape == (data.shape[0], 3072)
    np.testing.assert_array_equal(window_t, window)
    assert cuts.splices.size == caught[0].message.n_spliced > 30
    assert cuts.saturation.size == 0
    np.testing.assert_allclose(x.cpu().numpy(), expected, rtol=2e-5, atol=2e-6)
    np.testing.assert_array_equal(data, before)  # the caller's data are untouched


@pytest.mark.parametrize("device", DEVICES)
def test_device_preprocessing_rejects_non_finite_values(device):
    energy, data = _spectra(1.0, n=4)
    data[2, 100] = np.nan
    with pytest.raises(PreprocessingError, match="NaN or inf"):
        preprocess_on_device(data, EnergyAxis(energy), device)


@pytest.mark.parametrize("device", DEVICES)
def test_identify_block_agrees_across_paths(device):
    from hyperspy_eelsid.inference import Predictor
    from hyperspy_eelsid.networks import build_model

    torch.manual_seed(0)
    model = build_model("unet", preset="compact").eval()
    model.threshold = 0.5
    energy, data = _spectra(0.5, n=64, seed=2)
    data[5] = 0.0  # an empty spectrum gets zero probabilities
    axis = EnergyAxis(energy)
    with pytest.warns(SpliceWarning):
        x, _ = preprocess(data, energy)
    expected = Predictor(device="cpu", model=model)(x)
    expected[5] = 0.0
    probs, empty, cuts = Predictor(device=device, model=model.to(device)).identify_block(data, axis)
    assert empty.tolist() == [i == 5 for i in range(64)]
    np.testing.assert_allclose(probs, expected, atol=1e-4)
    assert cuts.splices.size > 0
