"""What the Sc / N check of identify_elements changes on simulated spectra.

For spectra of Sc alone, N alone and both (simulated with a setting, default
``configs/simulation/realistic_v13.json``, the shipped ensemble's, ending at
or below ``--end-max`` eV), it prints the recall of Sc and of N at the card
threshold of the shipped ensemble without and with the check
(:func:`hyperspy_eelsid.pair_classifier.pair_verdicts`). With ``--test
H5...`` it also scores whole simulated test sets (weighted F1 / EMR at the card
threshold, without and with the check, and how many detections it removed
and how many of those were false)::

    python benchmarks/sc_n_check.py [--n 1024] [--end-max 600] [--test data/realistic_v13_test20k.h5 data/test20k.h5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def sc_n_vetoes(x, prob, threshold):
    """Detections of network inputs ``x`` (probabilities ``prob``) that the Sc / N check drops."""
    from hyperspy_eelsid.pair_classifier import pair_verdicts, pair_vetoes

    verdict, _ = pair_verdicts(x, prob, threshold)
    return pair_vetoes(verdict, prob, threshold)


def checked(pred, x, p=None):
    """Probabilities of ``x`` and the same with the check's vetoes set to zero."""
    p = pred(x) if p is None else p
    return p, np.where(sc_n_vetoes(x, p, pred.threshold), 0.0, p)


def main(argv=None):
    from white_line_pairs import score_test_set

    from hyperspy_eelsid.elements import element_index
    from hyperspy_eelsid.inference import Predictor
    from hyperspy_eelsid.pair_classifier import simulated_inputs
    from hyperspy_eelsid.simulation.config import read_overrides

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--setting", default=str(ROOT / "configs" / "simulation" / "realistic_v13.json"))
    ap.add_argument("--n", type=int, default=1024, help="spectra per row (multiple of 256)")
    ap.add_argument("--end-max", type=int, default=600)
    ap.add_argument("--test", nargs="*", default=[], help="simulated test sets (HDF5) to score as a whole")
    a = ap.parse_args(argv)
    pred = Predictor(None, device="cpu")
    setting = read_overrides(a.setting)
    t = pred.threshold
    print(f"{a.n} spectra per row ({Path(a.setting).name}, ending at or below {a.end_max} eV), "
          f"threshold {t:.3f}: recall without -> with the check")
    for k, group in enumerate((("Sc",), ("N",), ("Sc", "N"))):
        p, q = checked(pred, simulated_inputs(group, a.n, 7000 + 100 * k, setting, a.end_max, batch=256))
        cells = []
        for el in ("Sc", "N"):
            i = element_index(el)
            name = "recall" if el in group else "false rate"
            cells.append(f"{el} {name} {np.mean(p[:, i] >= t):.3f} -> {np.mean(q[:, i] >= t):.3f}")
        print(f"  {'+'.join(group):5s}: " + "; ".join(cells))
    for path in a.test:
        score_test_set(path, pred, sc_n_vetoes)


if __name__ == "__main__":
    main()
