"""benchmarks/sc_n_check.py: the Sc / N check's effect on simulated spectra."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hyperspy_eelsid.elements import ELEMENTS  # noqa: E402

from .conftest import load_script  # noqa: E402


class _Pred:
    threshold = 0.5


def test_checked_zeroes_only_the_detection_the_classifier_rules_out(monkeypatch):
    from hyperspy_eelsid import pair_classifier

    monkeypatch.setattr(pair_classifier, "load_pair_classifier",
                        lambda path=None: (lambda x: torch.full((x.shape[0], 1), 5.0)))  # sure of Sc
    script = load_script("benchmarks/sc_n_check.py")
    p = np.zeros((2, 80), dtype=np.float32)
    p[:, ELEMENTS.index("Sc")] = 0.9
    p[0, ELEMENTS.index("N")] = 0.7  # both named in spectrum 0 only
    p[1, ELEMENTS.index("O")] = 0.8
    before, after = script.checked(_Pred(), np.ones((2, 3072), dtype=np.float32), p)
    assert before is p
    changed = np.argwhere(before != after).tolist()
    assert changed == [[0, ELEMENTS.index("N")]] and after[0, ELEMENTS.index("N")] == 0
