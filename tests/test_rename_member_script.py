"""scripts/rename_member.py: members of different runs combined into one ensemble."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from .conftest import load_script  # noqa: E402


def _saved_tiny_unet(path):
    from hyperspy_eelsid.networks.io import save_model
    from hyperspy_eelsid.networks.registry import build_model

    torch.manual_seed(0)
    save_model(build_model("unet", preset="compact"), path)
    return path


def test_renamed_copy_loads_and_predicts_the_same(tmp_path):
    from hyperspy_eelsid.networks.io import load_model

    script = load_script("scripts/rename_member.py")
    card = _saved_tiny_unet(tmp_path / "a" / "unet_cpu.json")
    new = tmp_path / "mix" / "unet_cpu_v13.json"
    script.rename_member(card, new)
    written = json.loads(new.read_text())
    assert written["name"] == "unet_cpu_v13" and written["renamed_from"] == "unet_cpu"
    x = np.random.default_rng(0).random((4, 3072)).astype("float32")
    with torch.no_grad():
        a = load_model(card)(torch.as_tensor(x))
        b = load_model(new)(torch.as_tensor(x))  # verifies the SHA-256 of the copied weights
    assert torch.equal(a, b)


def test_two_runs_members_form_one_ensemble(tmp_path):
    from hyperspy_eelsid.networks.ensemble import build_ensemble

    script = load_script("scripts/rename_member.py")
    first = _saved_tiny_unet(tmp_path / "run1" / "unet_cpu.json")
    second = _saved_tiny_unet(tmp_path / "run2" / "unet_cpu.json")
    x = np.random.default_rng(1).random((16, 3072)).astype("float32")
    y = np.zeros((16, 80), "float32")
    y[:, 3] = 1
    with pytest.raises(ValueError, match="two members"):
        build_ensemble([first, second], tmp_path / "clash", (x, y))
    script.rename_member(first, tmp_path / "mix" / "unet_a.json")
    script.rename_member(second, tmp_path / "mix" / "unet_b.json")
    card = build_ensemble([tmp_path / "mix" / "unet_a.json", tmp_path / "mix" / "unet_b.json"],
                          tmp_path / "mix", (x, y))
    assert [m["name"] for m in card["members"]] == ["unet_a", "unet_b"]


def test_missing_weights_are_named(tmp_path):
    script = load_script("scripts/rename_member.py")
    card = _saved_tiny_unet(tmp_path / "unet_cpu.json")
    card.with_suffix(".safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="unet_cpu.safetensors"):
        script.rename_member(card, tmp_path / "x.json")
