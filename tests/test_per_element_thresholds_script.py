"""benchmarks/per_element_thresholds.py: thresholds per element, and a clean skip without ../shared."""

import importlib.util
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "per_element_thresholds.py"


def _load():
    spec = importlib.util.spec_from_file_location("per_element_thresholds", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_absent_benchmark_exits_cleanly(tmp_path, capsys):
    assert _load().main(["--shared", str(tmp_path)]) == 0
    assert "absent" in capsys.readouterr().out


def test_each_element_gets_the_threshold_that_separates_it():
    rng = np.random.default_rng(0)
    y = rng.random((400, 3)) < 0.5
    p = np.where(y, 0.5, 0.1) + 0.05 * rng.random((400, 3))  # element 0: present 0.50-0.55, absent 0.10-0.15
    p[:, 1] = np.where(y[:, 1], 0.9, 0.6)                    # element 1: surer of itself: present 0.9, absent 0.6
    y[:, 2] = False
    y[:20, 2] = True                                         # element 2: too rare, keeps the global threshold
    t_global, per = _load().element_thresholds(y, p, min_occurrences=50)
    assert 0.14 < per[0] <= 0.5 and 0.6 < per[1] <= 0.9
    assert per[2] == t_global


def test_leave_one_out_shift_moves_all_thresholds_together():
    m = _load()
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]], dtype=bool)
    p = np.where(y, 0.9, 0.1)
    decided = m.leave_one_out_shift(y, p, np.zeros_like(y), np.array([0.5, 0.5]))
    assert decided.shape == y.shape and (decided == y).all()  # separable: every spectrum right
    # thresholds far above every probability are moved down to where the spectra separate
    assert (m.leave_one_out_shift(y, p, np.zeros_like(y), np.array([0.95, 0.95])) == y).all()
