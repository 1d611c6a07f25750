"""scripts/average_weights.py: the uniform average of models' weights (a model soup)."""

import pytest

torch = pytest.importorskip("torch")

from hyperspy_eelsid.networks import build_model  # noqa: E402
from hyperspy_eelsid.networks.io import load_model, read_card, save_model  # noqa: E402

from .conftest import load_script  # noqa: E402


def _mlp(seed):
    torch.manual_seed(seed)
    return build_model("mlp", preset="compact", hidden=[32]).eval()


def test_average_of_two_models_is_the_mean_of_their_weights(tmp_path, capsys):
    a, b = _mlp(0), _mlp(1)
    save_model(a, tmp_path / "a")
    save_model(b, tmp_path / "b", dtype="float16")
    script = load_script("scripts/average_weights.py")
    assert script.main([str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", str(tmp_path / "soup")]) == 0
    assert "average of 2 models" in capsys.readouterr().out
    soup = load_model(tmp_path / "soup.json")  # loads, and its SHA-256 matches its card
    b16 = load_model(tmp_path / "b.json").state_dict()
    for key, value in soup.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, (a.state_dict()[key] + b16[key]) / 2)
    assert read_card(tmp_path / "soup.json")["weights"]["dtype"] == "float32"  # as the first model


def test_models_of_different_architectures_are_refused(tmp_path):
    save_model(_mlp(0), tmp_path / "a")
    save_model(build_model("cnn", preset="compact").eval(), tmp_path / "b")
    script = load_script("scripts/average_weights.py")
    with pytest.raises(ValueError, match="is not a mlp"):
        script.main([str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", str(tmp_path / "soup")])
