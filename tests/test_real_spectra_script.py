"""benchmarks/real_spectra.py runs end to end (with the fake model) and skips without ../shared."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from .conftest import shared_path
from .test_identification import fake_model  # noqa: F401

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "real_spectra.py"


def _load():
    spec = importlib.util.spec_from_file_location("real_spectra", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
