"""Saving and loading weights (safetensors + JSON cards), ensembles, and clear file errors."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hyperspy_eelsid.elements import ELEMENTS  # noqa: E402
from hyperspy_eelsid.networks import build_model  # noqa: E402
from hyperspy_eelsid.networks.ensemble import Ensemble  # noqa: E402
from hyperspy_eelsid.networks.io import (  # noqa: E402
    ModelFileError,
    load_ensemble,
    load_model,
    save_ensemble,
    save_model,
)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return build_model("cnn", preset="compact").eval()


@pytest.fixture
def x():
    return torch.rand(4, 3072)


def test_round_trip_float32_is_exact(model, x, tmp_path):
    card = save_model(model, tmp_path / "cnn_a", threshold=0.7, metrics={"f1": 0.9},
                      training={"steps": 10})
    loaded = load_model(tmp_path / "cnn_a.json")
    np.testing.assert_array_equal(loaded.predict_proba(x).numpy(), model.predict_proba(x).numpy())
    assert loaded.threshold == 0.7 and loaded.card["metrics"] == {"f1": 0.9}
    assert card["architecture"] == "cnn" and card["outputs"] == list(ELEMENTS)
    assert card["weights"]["file"] == "cnn_a.safetensors" and len(card["weights"]["sha256"]) == 64
    assert {"git_commit", "package_version"} <= set(card["code"])
    on_disk = json.loads((tmp_path / "cnn_a.json").read_text())
    assert on_disk["config"] == model.config
    # the other spellings of the same model
    assert load_model(tmp_path / "cnn_a").n_parameters == model.n_parameters
    assert load_model(tmp_path / "cnn_a.safetensors").n_parameters == model.n_parameters


def test_float16_storage_halves_the_file_and_keeps_predictions(model, x, tmp_path):
    c32 = save_model(model, tmp_path / "a")
    c16 = save_model(model, tmp_path / "b", dtype="float16")
    assert c16["weights"]["bytes"] < 0.6 * c32["weights"]["bytes"]
    loaded = load_model(tmp_path / "b")
    assert next(loaded.parameters()).dtype == torch.float32
    np.testing.assert_allclose(loaded.predict_proba(x).numpy(), model.predict_proba(x).numpy(), atol=2e-3)


def test_missing_files_are_clear_errors(model, tmp_path):
    # the user's own path: check it (a typo is likelier than a broken install)
    with pytest.raises(ModelFileError, match=r"nothing\.json is missing; check the path") as err:
        load_model(tmp_path / "nothing")
    assert "reinstall" not in str(err.value)
    # a file of the shipped ensemble: reinstall
    from hyperspy_eelsid.inference import default_weights

    with pytest.raises(ModelFileError, match=r"gone\.json is missing; reinstall hyperspy-eelsid"):
        load_model(default_weights() / "gone")
    save_model(model, tmp_path / "m")
    (tmp_path / "m.safetensors").unlink()
    with pytest.raises(ModelFileError, match=r"m\.safetensors \(named in m\.json\) is missing"):
        load_model(tmp_path / "m")


def test_corrupt_files_are_clear_errors(model, tmp_path):
    save_model(model, tmp_path / "m")
    weights = tmp_path / "m.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:-64] + b"\0" * 64)
    with pytest.raises(ModelFileError, match=r"m\.safetensors is corrupt"):
        load_model(tmp_path / "m")
    weights.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelFileError, match="cannot be read"):
        load_model(tmp_path / "m", verify=False)
    (tmp_path / "m.json").write_text("{ broken")
    with pytest.raises(ModelFileError, match=r"m\.json is corrupt"):
        load_model(tmp_path / "m")


def test_a_card_threshold_that_is_no_probability_is_refused(model, tmp_path):
    """An edited card's threshold became the default of every identification unchecked: 2
    detected nothing, 0 everything."""
    save_model(model, tmp_path / "m", threshold=0.5)
    save_ensemble(tmp_path, ["m"], threshold=0.5)
    for bad in (2, 0, -0.1, "0.5", True):
        for path in (tmp_path / "m.json", tmp_path / "ensemble.json"):
            good = path.read_text()
            path.write_text(json.dumps({**json.loads(good), "threshold": bad}))
            with pytest.raises(ModelFileError, match=rf"{path.name}: its threshold {bad!r} is not a probability"):
                load_ensemble(tmp_path) if path.name == "ensemble.json" else load_model(tmp_path / "m")
            path.write_text(good)
    assert load_ensemble(tmp_path).threshold == 0.5


def test_weights_that_do_not_fit_the_card(model, tmp_path):
    save_model(model, tmp_path / "m")
    card = json.loads((tmp_path / "m.json").read_text())
    card["config"]["head_hidden"] = [64]
    (tmp_path / "m.json").write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="does not fit the cnn"):
        load_model(tmp_path / "m", verify=False)


def test_ensemble_averages_member_probabilities(tmp_path, x):
    torch.manual_seed(1)
    members = [build_model("mlp", preset="compact", hidden=[32]).eval(),
               build_model("vit", preset="compact", layers=1).eval()]
    for name, m in zip(("a", "b"), members):
        save_model(m, tmp_path / name, dtype="float16")
    card = save_ensemble(tmp_path, ["a", "b"], threshold=0.6, name="test-ensemble")
    assert card["weights_bytes"] == sum((tmp_path / f"{n}.safetensors").stat().st_size for n in "ab")
    ensemble = load_ensemble(tmp_path)
    assert isinstance(ensemble, Ensemble) and ensemble.threshold == 0.6
    assert ensemble.name == "test-ensemble"
    loaded = [load_model(tmp_path / n) for n in "ab"]
    expected = (loaded[0].predict_proba(x) + loaded[1].predict_proba(x)) / 2
    got = ensemble.predict_proba(x)
    torch.testing.assert_close(got, expected)
    assert isinstance(ensemble.predict_proba(x.numpy()), np.ndarray)
    torch.testing.assert_close(torch.sigmoid(ensemble(x)), expected, rtol=1e-4, atol=1e-5)
    assert load_ensemble(tmp_path / "ensemble.json").threshold == 0.6


def test_ensemble_errors_name_the_file(tmp_path, model):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_ensemble(tmp_path / "nowhere")
    with pytest.raises(ModelFileError, match=r"ensemble\.json is missing"):
        load_ensemble(tmp_path)
    save_model(model, tmp_path / "a")
    save_model(model, tmp_path / "b")
    save_ensemble(tmp_path, ["a", "b"])
    (tmp_path / "b.json").unlink()
    with pytest.raises(ModelFileError, match=r"b\.json is missing"):
        load_ensemble(tmp_path)


def test_a_training_run_directory_as_weights_names_its_model_cards(tmp_path, model):
    # `eelsid train --out run` leaves <name>.json and best.json but no ensemble.json
    from hyperspy_eelsid.inference import load_predictor_model

    save_model(model, tmp_path / "cnn_compact")
    save_model(model, tmp_path / "best")
    (tmp_path / "config.json").write_text("{}")
    for load in (load_ensemble, load_predictor_model):
        with pytest.raises(ModelFileError) as err:
            load(tmp_path)
        message = str(err.value)
        assert "not an ensemble directory" in message and "best.json, cnn_compact.json" in message
        assert str(tmp_path / "cnn_compact.json") in message and "eelsid ensemble" in message
        assert "reinstall" not in message
    assert load_predictor_model(tmp_path / "cnn_compact.json").name == "cnn_compact"


def test_build_ensemble_copies_members_and_sets_the_pr_threshold(tmp_path):
    from hyperspy_eelsid.evaluation.threshold import threshold_at_equal_precision_recall
    from hyperspy_eelsid.networks.ensemble import build_ensemble

    torch.manual_seed(2)
    src = tmp_path / "runs"
    for name in ("a", "b"):
        save_model(build_model("mlp", preset="compact", hidden=[16]).eval(), src / name, dtype="float16")
    rng = np.random.default_rng(0)
    x = rng.random((64, 3072), dtype=np.float32)
    y = (rng.random((64, 80)) < 0.05).astype(np.float32)
    out = tmp_path / "weights"
    card = build_ensemble([src / "a.json", src / "b"], out, (x, y), test_data=(x[:32], y[:32]),
                          note="unit test")
    assert sorted(p.name for p in out.iterdir()) == [
        "a.json", "a.safetensors", "b.json", "b.safetensors", "ensemble.json"]
    ensemble = load_ensemble(out)
    expected = threshold_at_equal_precision_recall(y, ensemble.predict_proba(x))["threshold"]
    assert ensemble.threshold == pytest.approx(expected) and card["note"] == "unit test"
    assert set(card["metrics"]) == {"validation", "test"}
    assert card["metrics"]["test"]["n_spectra"] == 32
    with pytest.raises(ValueError, match="two members are called 'a'"):
        build_ensemble([src / "a", src / "a"], tmp_path / "w2", (x, y))
