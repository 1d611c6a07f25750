"""identify_elements with real saved weights (a tiny untrained network on disk)."""

import numpy as np
import pytest

hs = pytest.importorskip("hyperspy.api")
torch = pytest.importorskip("torch")

from hyperspy_eelsid.networks import build_model  # noqa: E402
from hyperspy_eelsid.networks.io import ModelFileError, save_ensemble, save_model  # noqa: E402
from hyperspy_eelsid.preprocessing import preprocess  # noqa: E402

from .test_identification import make_si  # noqa: E402


@pytest.fixture(scope="module")
def tiny_ensemble(tmp_path_factory):
    directory = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    for name in ("a", "b"):
        model = build_model("mlp", preset="compact", hidden=[16])
        save_model(model, directory / name, threshold=0.5)
    save_ensemble(directory, ["a", "b"], threshold=0.55, name="tiny-test-ensemble")
    return directory


def test_probabilities_are_the_networks_on_preprocessed_spectra(tiny_ensemble):
    from hyperspy_eelsid.networks.io import load_ensemble

    s = make_si((3, 2), hot={"Ti": np.ones((3, 2), bool)})
    p = s.identify_elements(weights=tiny_ensemble, device="cpu", print_summary=False)
    assert p.metadata.EELSID.threshold == pytest.approx(0.55)
    assert p.metadata.EELSID.model == "tiny-test-ensemble"
    x, _ = preprocess(s)
    expected = load_ensemble(tiny_ensemble).predict_proba(torch.from_numpy(x.reshape(-1, x.shape[-1])))
    np.testing.assert_allclose(p.data.reshape(-1, 80), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_single_model_card_is_accepted(tiny_ensemble):
    s = make_si((2,))
    p = s.identify_elements(weights=tiny_ensemble / "a.json", device="cpu", print_summary=False)
    assert p.metadata.EELSID.threshold == pytest.approx(0.5)


def test_missing_and_corrupt_weights_are_clear_errors(tiny_ensemble, tmp_path):
    import shutil

    s = make_si((2,))
    with pytest.raises(ModelFileError, match="nowhere.json is missing"):
        s.identify_elements(weights=tmp_path / "nowhere", device="cpu")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_ensemble, broken)
    weights = broken / "b.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100] + b"\0" * 100)
    with pytest.raises(ModelFileError, match="b.safetensors is corrupt"):
        s.identify_elements(weights=broken, device="cpu")
    (broken / "a.json").unlink()
    with pytest.raises(ModelFileError, match="a.json"):
        s.identify_elements(weights=broken, device="cpu")
    np.testing.assert_array_equal(s.data, make_si((2,)).data)  # user data untouched


def test_process_cluster_loads_weights_by_path(tiny_ensemble):
    distributed = pytest.importorskip("distributed")
    nav = (4, 4)
    eager = make_si(nav).identify_elements(weights=tiny_ensemble, device="cpu", print_summary=False)
    lazy = make_si(nav).as_lazy()
    lazy.data = lazy.data.rechunk((2, 2, -1))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster):
            p = lazy.identify_elements(weights=tiny_ensemble, device="cpu", print_summary=False,
                                       show_progressbar=False)
            np.testing.assert_allclose(np.asarray(p.data), eager.data, rtol=1e-5, atol=1e-6)
