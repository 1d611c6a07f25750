"""benchmarks/pair_separability.py: a dedicated classifier for two elements on a crop."""

import pytest

pytest.importorskip("torch")

from .conftest import load_script  # noqa: E402


def test_classifier_separates_two_elements_with_distinct_edges_and_scores_the_model():
    script = load_script("benchmarks/pair_separability.py")
    # O K (532 eV) and Fe L2,3 (708 eV) both lie in the crop: an easy pair
    res = script.run("O", "Fe", (500, 760), end_max=800, n=2048, epochs=4, weights=("shipped",))
    assert res["classifier"] > 0.8  # chance is 0.5; 0.91 here with these seeds
    assert res["models"]["shipped"] > 0.95  # the shipped ensemble tells O from Fe too


def test_crop_is_standardised_and_pooled():
    import numpy as np

    script = load_script("benchmarks/pair_separability.py")
    x = np.random.default_rng(0).random((3, 3072)).astype("float32")
    f = script.crop_features(x, 100, 200, pool=4)
    assert tuple(f.shape) == (3, 25)
    assert np.allclose(f.mean(1).numpy(), 0, atol=1e-5) and np.allclose(f.std(1).numpy(), 1, atol=1e-3)


def test_linear_probe_finds_a_linear_difference_and_not_noise():
    import numpy as np

    script = load_script("benchmarks/pair_separability.py")
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(200), np.zeros(200)]
    f = rng.normal(size=(400, 5))
    f[:, 2] += 3 * y  # one feature carries the class
    noise = rng.normal(size=(400, 5))
    tr, te = np.arange(0, 400, 2), np.arange(1, 400, 2)
    assert script.linear_probe(f[tr], y[tr], f[te], y[te]) > 0.9
    assert script.linear_probe(noise[tr], y[tr], noise[te], y[te]) < 0.7


def test_probe_reads_the_maps_and_hidden_layer_of_a_member(tmp_path):
    from hyperspy_eelsid.networks.io import save_model
    from hyperspy_eelsid.networks.registry import build_model

    script = load_script("benchmarks/pair_separability.py")
    model = build_model("unet", preset="compact")
    card = tmp_path / "tiny.json"
    save_model(model, card)
    import numpy as np

    x = np.random.default_rng(1).random((6, 3072)).astype("float32")
    feats = script.member_features(card, x)
    assert tuple(feats["maps"].shape) == (6, 4, 768)  # 4 channels at 4 eV before the weighted sum
    assert tuple(feats["hidden"].shape) == (6, 256)
    out = script.probe([card], (x[:3], x[3:]), (x[:3], x[3:]), (100, 200), n_probe=6)
    assert set(out) == {"raw crop", f"{card}: maps", f"{card}: hidden"}
    assert all(0 <= v <= 1 for v in out.values())


def test_axis_offset_items_must_read_id_equals_ev():
    script = load_script("benchmarks/pair_separability.py")
    with pytest.raises(SystemExit):  # before any simulation or training
        script.main(["Sc", "N", "--crop", "360", "500", "--real", "--axis-offset", "a31acd318c"])


def test_group_against_element_and_narrow_shifts():
    """``O+Fe`` against ``Fe`` (an O K edge on top of Fe L2,3 or not) is told apart, the model
    comparison is skipped for a group, and ``shift_ev`` changes the simulated spectra."""
    script = load_script("benchmarks/pair_separability.py")
    assert script.group("B+P") == ["B", "P"] and script.group("Sc") == "Sc"
    res = script.run("O+Fe", "Fe", (500, 760), end_max=800, n=1024, epochs=4, weights=("shipped",))
    assert res["classifier"] > 0.65 and res["models"] == {}  # chance 0.5; 0.73 with these seeds
    narrow = script.run("O+Fe", "Fe", (500, 760), end_max=800, n=1024, epochs=4, weights=(), shift_ev=0)
    assert narrow["classifier"] != res["classifier"]
