"""benchmarks/real_spectra.py runs end to end (with the fake model) and skips without ../shared."""

import numpy as np
import pytest

from .conftest import load_script, shared_path
from .test_identification import fake_model  # noqa: F401


def _load():
    return load_script("benchmarks/real_spectra.py")


def test_absent_benchmark_exits_cleanly(tmp_path, capsys):
    assert _load().main(["--shared", str(tmp_path)]) == 0
    assert "absent" in capsys.readouterr().out


def test_scores_real_spectra_through_front_end(fake_model, tmp_path, capsys):  # noqa: F811
    shared = shared_path("eels-benchmark", "manifest.json").parents[1]
    out = tmp_path / "figures.json"
    assert _load().main(["--shared", str(shared), "--limit", "6", "--no-scans", "--device", "cpu",
                         "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "6 real spectra" in text and "P = R on this set" in text
    import json

    figures = json.loads(out.read_text())
    r = figures["spectra"]["model card"]
    assert r["n_spectra"] == 6 and 0 <= r["f1"] <= 1 and 0 <= r["emr"] <= 1
    assert np.isfinite(r["rmse"])


def test_card_metrics_script_adds_real_and_table1_figures(tmp_path):
    import json

    module = load_script("scripts/add_card_metrics.py")
    card = tmp_path / "ensemble.json"
    card.write_text(json.dumps({"name": "x", "threshold": 0.3, "metrics": {"test": {"f1": 0.8}}}))
    real = tmp_path / "real.json"
    real.write_text(json.dumps({
        "spectra": {"model card": {"threshold": 0.3, "f1": 0.7}, "P = R on this set": {"threshold": 0.5, "f1": 0.72}},
        "scans": [{"id": "a", "equal": True}],
    }))
    table1 = tmp_path / "t1.json"
    table1.write_text(json.dumps({"threshold": 0.3, "f1": 0.79}))
    assert module.main([str(card), "--real", str(real), "--real-source", "bench", "--table1", str(table1),
                        "--table1-data", "test20k"]) == 0
    m = json.loads(card.read_text())["metrics"]
    assert m["test"] == {"f1": 0.8}  # what the card had stays
    assert m["real_benchmark"]["at_card_threshold"]["f1"] == 0.7
    assert m["real_benchmark"]["at_card_threshold"]["threshold_chosen_on_this_set"] is False
    assert m["real_benchmark"]["at_p_equals_r_on_this_set"]["threshold"] == 0.5
    assert m["real_benchmark"]["scans_1_percent_filter"] == [{"id": "a", "equal": True}]
    assert m["real_benchmark"]["source"] == "bench"
    assert m["test_table1"] == {"threshold": 0.3, "f1": 0.79, "data": "test20k"}
    with pytest.raises(SystemExit):
        module.main([str(card)])  # nothing to add: a clear usage error


def test_scan_report_names_the_pixels_behind_each_wrong_element(capsys):
    rows = [{"id": "bn", "kind": "line", "shape": (200,), "present": ["B", "N"], "detected": ["Cl", "N"],
             "equal": False, "mismatch": {"B": {"fraction": 0.0, "max_probability": 0.15},
                                          "Cl": {"fraction": 1.0, "max_probability": 0.999}}},
            {"id": "si", "kind": "SI", "shape": (6, 49), "present": None, "detected": ["O"], "equal": None,
             "mismatch": {}}]
    _load().print_scans(rows, 0.426)
    out = capsys.readouterr().out
    assert "bn line" in out and "DIFFERENT" in out and "n/a (undocumented)" in out
    assert "missed B :   0.0 % of pixels >= t, max p 0.150" in out
    assert "extra Cl: 100.0 % of pixels >= t, max p 0.999" in out


class _HalfFake:
    """The fake model's probabilities halved: fewer detections than the fake one."""

    name, threshold = "half-fake", 0.6

    def __init__(self, model):
        self.model = model

    def predict_proba(self, x):
        return 0.5 * self.model.predict_proba(x)


def test_uncertainty_script_prints_intervals_and_paired_differences(fake_model, tmp_path, capsys,  # noqa: F811
                                                                     monkeypatch):
    import json

    from hyperspy_eelsid import inference

    shared = shared_path("eels-benchmark", "manifest.json").parents[1]
    other = tmp_path / "other"
    key = (inference.Predictor(str(other), device="cpu").weights, "cpu")
    monkeypatch.setitem(inference._CACHE, key, _HalfFake(fake_model))
    out = tmp_path / "u.json"
    module = load_script("benchmarks/real_uncertainty.py")
    assert module.main(["--shared", str(shared), "--limit", "8", "--device", "cpu", "--n", "300",
                        "--compare", str(other), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "8 real spectra, 300 bootstrap resamples" in text and "(paired;" in text
    figures = json.loads(out.read_text())
    for rule in ("card, checks", "leave-one-out"):
        r = figures["models"]["shipped"][rule]["f1"]
        assert r["low"] <= r["value"] <= r["high"]
        d = figures["differences"][str(other)][rule]["emr"]
        assert d["low"] <= d["difference"] <= d["high"] and 0 <= d["b_better"] <= 1


def test_uncertainty_script_exits_cleanly_without_benchmark(tmp_path, capsys):
    assert load_script("benchmarks/real_uncertainty.py").main(["--shared", str(tmp_path)]) == 0
    assert "absent" in capsys.readouterr().out
