"""The ensemble shipped in weights/: cards, size, integrity, and what it finds in the demo."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hyperspy_eelsid.elements import ELEMENTS  # noqa: E402
from hyperspy_eelsid.inference import default_weights  # noqa: E402
from hyperspy_eelsid.networks.io import load_ensemble  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def card():
    path = default_weights() / "ensemble.json"
    assert path.is_file(), f"no shipped ensemble at {path}"
    return json.loads(path.read_text())


def test_cards_say_how_each_member_was_made(card):
    directory = default_weights()
    assert 0 < card["threshold"] < 1 and card["outputs"] == list(ELEMENTS)
    assert card["code"]["git_commit"] and card["metrics"]["validation"]["f1"] > 0.5
    assert len(card["members"]) >= 2
    for member in card["members"]:
        m = json.loads((directory / member["card"]).read_text())
        assert m["architecture"] in ("mlp", "cnn", "unet", "resnet", "vit", "cct")
        assert m["config"] and 0 < m["threshold"] < 1
        assert m["training"]["steps_run"] > 0 and m["training"]["hardware"]
        assert m["code"]["git_commit"]
        assert m["metrics"]["validation"]["f1"] > 0.5


def test_weights_are_small_and_verified_on_load(card):
    directory = default_weights()
    files = [p for p in directory.iterdir() if p.suffix in (".safetensors", ".json")]
    assert sum(p.stat().st_size for p in files) <= 25e6
    assert not list(directory.glob("*.pt")) and not list(directory.glob("*.pkl"))
    ensemble = load_ensemble(directory)  # checks every member's sha256
    assert ensemble.threshold == pytest.approx(card["threshold"])
    p = ensemble.predict_proba(np.zeros((2, 3072), np.float32))
    assert p.shape == (2, 80) and np.all((p >= 0) & (p <= 1))


def test_shipped_ensemble_finds_the_demo_layers():
    """On the demo superlattice all five elements with edges in range are found, and
    La where its layers are."""
    pytest.importorskip("hyperspy.api")
    from hyperspy_eelsid.cli import demo_signal

    s, scene = demo_signal(seed=0, shape=(4, 40))
    p = s.identify_elements(device="cpu", print_summary=False, show_progressbar=False)
    detected = set(s.identification.detected)
    assert {"La", "Ti", "Mn", "Ba", "O"} <= detected  # every element with an edge in the range
    t = s.identification.threshold
    la = p.data[..., ELEMENTS.index("La")] >= t
    density = scene.element_maps["La"] / scene.element_maps["La"].max()
    # La found in the middle of its layers and nowhere away from them (the
    # diffuse interface columns in between may go either way)
    assert la[density > 0.9].all()
    assert not la[density < 0.05].any()
