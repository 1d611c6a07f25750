"""The Sc / N classifier: verdicts, vetoes, the shipped weights and what they decide."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hyperspy_eelsid import pair_classifier as pc  # noqa: E402
from hyperspy_eelsid.elements import ELEMENTS  # noqa: E402
from hyperspy_eelsid.networks.io import ModelFileError  # noqa: E402

SC, N, TI = ELEMENTS.index("Sc"), ELEMENTS.index("N"), ELEMENTS.index("Ti")


class ConstantClassifier(torch.nn.Module):
    """P(Sc) fixed per spectrum, in order of the calls' rows."""

    def __init__(self, p):
        super().__init__()
        self.logits = torch.logit(torch.as_tensor(p, dtype=torch.float32))

    def forward(self, x):
        assert x.shape[1:] == (1, pc.CROP_EV[1] - pc.CROP_EV[0])  # the crop, one channel
        return self.logits[: x.shape[0], None]


def probabilities(rows):
    """(n, 80) with the given elements at 0.9 in each row."""
    p = np.zeros((len(rows), 80), dtype=np.float32)
    for i, els in enumerate(rows):
        p[i, [ELEMENTS.index(el) for el in els]] = 0.9
    return p


def test_verdicts_only_where_both_are_detected_and_only_when_confident():
    probs = probabilities([["Sc", "N"], ["Sc"], ["N", "O"], ["Sc", "N"], ["Sc", "N"], ["Sc", "N", "Ti"]])
    x = np.random.default_rng(0).random((6, 3072)).astype(np.float32)
    # the classifier sees rows 0, 3, 4, 5 (both detected), in that order
    verdict, p = pc.pair_verdicts(x, probs, 0.5, classifier=ConstantClassifier([0.95, 0.1, 0.5, 0.99]))
    assert verdict.tolist() == [1, -1, -1, 2, 0, 0]  # Sc; not run; not run; N; unsure; Ti L in the crop
    assert np.isnan(p[[1, 2]]).all() and p[0] == pytest.approx(0.95)
    veto = pc.pair_vetoes(verdict, probs, 0.5)
    assert np.flatnonzero(veto[0]).tolist() == [N] and np.flatnonzero(veto[3]).tolist() == [SC]
    assert veto[[1, 2, 4, 5]].sum() == 0


def test_no_verdict_without_the_edges_measured():
    probs = probabilities([["Sc", "N"]])
    window = np.zeros(3072, dtype=bool)
    window[420:900] = True  # starts after the onsets
    verdict, _ = pc.pair_verdicts(np.ones((1, 3072)), probs, 0.5, window=window,
                                  classifier=ConstantClassifier([0.99]))
    assert verdict.tolist() == [-1]
    # one window per spectrum (e.g. one read from the end of a saturated run at 450 eV): only the other is judged
    probs = probabilities([["Sc", "N"], ["Sc", "N"]])
    windows = np.ones((2, 3072), dtype=bool)
    windows[1, :451] = False
    verdict, _ = pc.pair_verdicts(np.ones((2, 3072)), probs, 0.5, window=windows,
                                  classifier=ConstantClassifier([0.99]))
    assert verdict.tolist() == [1, -1]


def test_summary_of_verdicts():
    out = pc.summarise_pair_verdicts(np.array([-1, 1, 1, 2, 0]), np.array([np.nan, 0.9, 0.95, 0.1, 0.5]))
    assert out == {"pair": ["Sc", "N"], "fitted": 4, "verdicts": {"Sc": 2, "N": 1, "neither": 1},
                   "median_p": pytest.approx(0.7)}
    assert pc.summarise_pair_verdicts(np.array([-1, -1]), np.full(2, np.nan)) is None


def test_shipped_classifier_card_and_simulated_spectra():
    net = pc.load_pair_classifier()
    card = net.card
    assert card["pair"] == ["Sc", "N"] and card["crop_ev"] == list(pc.CROP_EV)
    assert card["training"]["setting"] == "configs/simulation/realistic_v18.json"
    assert card["metrics"]["held_out"]["accuracy"] > 0.9
    from hyperspy_eelsid.simulation.config import read_overrides

    setting = read_overrides(str(Path(__file__).resolve().parents[1] / card["training"]["setting"]))
    p_sc = pc.probability_first(net, pc.crop_features(pc.simulated_inputs("Sc", 128, 77, setting, 600), *pc.CROP_EV))
    p_n = pc.probability_first(net, pc.crop_features(pc.simulated_inputs("N", 128, 78, setting, 600), *pc.CROP_EV))
    assert np.median(p_sc) > 0.8 and np.median(p_n) < 0.2  # spectra it never saw
    assert 0.5 * ((p_sc > 0.5).mean() + (p_n <= 0.5).mean()) > 0.85


def test_missing_or_corrupt_files_are_clear_errors(tmp_path):
    src = pc.default_pair_classifier()
    for name in (src.name, src.with_suffix(".safetensors").name):
        shutil.copy(src.parent / name, tmp_path / name)
    card = tmp_path / src.name
    weights = card.with_suffix(".safetensors")
    raw = bytearray(weights.read_bytes())
    raw[-1] ^= 0xFF
    weights.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="corrupt"):
        pc.load_pair_classifier(card)
    weights.unlink()
    with pytest.raises(ModelFileError, match="missing"):
        pc.load_pair_classifier(card)
    card.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ModelFileError, match="not a hyperspy-eelsid-pair-classifier card"):
        pc.load_pair_classifier(card)
    with pytest.raises(ModelFileError, match="missing"):
        pc.load_pair_classifier(tmp_path / "nowhere.json")


def test_saved_classifier_reloads_identically(tmp_path):
    torch.manual_seed(3)
    net = pc.build_net()
    card = pc.save_pair_classifier(net, tmp_path / "pair", training={"note": "test"})
    again = pc.load_pair_classifier(card)
    x = pc.crop_features(np.random.default_rng(1).random((4, 3072)), *pc.CROP_EV)
    np.testing.assert_array_equal(pc.probability_first(net, x), pc.probability_first(again, x))
    assert again.card["training"] == {"note": "test"} and again.card["n_parameters"] == net_size(net)


def net_size(net):
    return sum(p.numel() for p in net.parameters())
