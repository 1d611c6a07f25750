"""benchmarks/per_element_thresholds.py: thresholds per element, and a clean skip without ../shared."""

import numpy as np

from hyperspy_eelsid.evaluation import leave_one_out_report

from .conftest import load_script


def _load():
    return load_script("benchmarks/per_element_thresholds.py")


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


def test_relative_probabilities_put_each_threshold_at_one_half():
    m = _load()
    p = np.array([[0.9, 0.2, 0.0], [0.3, 0.8, 1.0], [0.5, 0.05, 0.4]])
    t = np.array([0.5, 0.1, 0.4])
    assert ((m.relative_probabilities(p, t) >= 0.5) == (p >= t)).all()


def test_leave_one_out_moves_all_thresholds_together():
    m = _load()
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]], dtype=bool)
    p = np.where(y, 0.9, 0.1)
    for t in ([0.5, 0.5], [0.95, 0.95]):  # thresholds above every probability are moved down too
        r = leave_one_out_report(y, m.relative_probabilities(p, np.array(t)))
        assert r["f1"] == 1.0 and r["emr"] == 1.0  # separable: every spectrum right
