"""Would one threshold per element do better on real spectra than one for all?

The paper, and the shipped cards, use one decision threshold for all 80
elements. The networks are not equally sure of every element, though: on
simulated validation spectra the threshold where precision equals recall is
0.8 for Sc and N (often confused with each other) and 0.01 for Bi. This
script measures whether per-element thresholds help on the real benchmark:

1. the model or ensemble predicts a simulated validation file (HDF5 from
   ``eelsid simulate``, e.g. 16,384 realistic_v8 spectra with seed 2);
2. the global threshold and, for every element with at least 50 occurrences
   there, its own threshold are chosen where precision equals recall;
3. the real spectra of ../shared/eels-benchmark go through the front end
   (as in ``real_spectra.py``) and are scored with the global simulated
   threshold, with the per-element simulated thresholds, and with each of
   the two moved by one shift in logit space that is chosen where precision
   equals recall on the other real spectra (leave-one-out, as
   ``real_spectra.py`` chooses the card threshold for real spectra).

Skips cleanly when ../shared is absent::

    eelsid simulate --n 16384 --seed 2 --config configs/simulation/realistic_v8.json \\
        --out data/realistic_v8_val16k.h5
    python benchmarks/per_element_thresholds.py [--weights DIR] [--val data/realistic_v8_val16k.h5]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MIN_OCCURRENCES = 50
SHIFTS = np.linspace(-3.0, 3.0, 241)  # logit shifts tried for the real spectra


def _logit(p):
    return np.log(p / (1.0 - p))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def element_thresholds(labels, probabilities, min_occurrences=MIN_OCCURRENCES):
    """Global and per-element thresholds where precision equals recall.

    Elements with fewer than ``min_occurrences`` positives keep the global one.
    """
    from hyperspy_eelsid.evaluation.threshold import threshold_at_equal_precision_recall

    y = np.asarray(labels, dtype=bool)
    p = np.asarray(probabilities, dtype=float)
    t_global = threshold_at_equal_precision_recall(y, p)["threshold"]
    per = np.full(y.shape[1], t_global)
    for j in np.flatnonzero(y.sum(0) >= min_occurrences):
        per[j] = threshold_at_equal_precision_recall(y[:, j:j + 1], p[:, j:j + 1])["threshold"]
    return t_global, per


def scores(labels, decisions, ignore):
    """Occurrence-weighted F1 and exact match rate."""
    from hyperspy_eelsid.evaluation.metrics import element_counts, exact_match_rate, weighted_scores

    return weighted_scores(element_counts(labels, decisions, ignore))["f1"], exact_match_rate(labels, decisions, ignore)


def leave_one_out_shift(labels, probabilities, ignore, thresholds):
    """Decisions with ``thresholds`` moved by one logit shift, chosen for
    each spectrum where weighted precision equals recall on the others."""
    from hyperspy_eelsid.evaluation.metrics import element_counts, weighted_scores

    y, p, ign = (np.asarray(a) for a in (labels, probabilities, ignore))
    moved = _sigmoid(_logit(np.asarray(thresholds))[None, :] + SHIFTS[:, None])  # (S, 80)
    gaps = np.empty((len(y), len(SHIFTS)))
    for k, t in enumerate(moved):
        decided = p >= t[None, :]
        for i in range(len(y)):
            rest = np.arange(len(y)) != i
            w = weighted_scores(element_counts(y[rest], decided[rest], ign[rest]))
            gaps[i, k] = abs(w["precision"] - w["recall"])
    best = gaps.argmin(1)
    return np.stack([p[i] >= moved[best[i]] for i in range(len(y))])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None, help="model or ensemble (default: shipped)")
    parser.add_argument("--val", default="data/realistic_v8_val16k.h5", help="simulated validation HDF5")
    parser.add_argument("--shared", default=str(HERE.parents[1] / "shared" / "eels-benchmark"))
    args = parser.parse_args(argv)

    root = Path(args.shared)
    spec = importlib.util.spec_from_file_location("real_spectra", HERE / "real_spectra.py")
    real = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(real)
    from hyperspy_eelsid.evaluation.benchmark import read_manifest

    manifest = read_manifest(root)
    if manifest is None:
        print(f"real-spectrum benchmark absent ({root}): nothing to score")
        return 0
    if not Path(args.val).is_file():
        print(f"no validation file {args.val}: make it with `eelsid simulate` (see this script's docstring)")
        return 1

    import h5py
    import torch

    from hyperspy_eelsid.elements import ELEMENTS
    from hyperspy_eelsid.inference import load_predictor_model

    model = load_predictor_model(args.weights, device="cpu")
    with h5py.File(args.val, "r") as f:
        x, y = f["spectra"][:].astype(np.float32), f["labels"][:].astype(bool)
    with torch.inference_mode():
        p_val = model.predict_proba(torch.from_numpy(x)).numpy()
    t_global, per = element_thresholds(y, p_val)
    print(f"{len(y)} simulated validation spectra ({args.val}): global threshold {t_global:.3f}")
    far = {el: round(float(per[j]), 3) for j, el in enumerate(ELEMENTS) if abs(per[j] - t_global) > 0.1}
    print(f"per-element thresholds more than 0.1 from it: {far}")

    r = real.score_spectra(manifest, root, weights=args.weights, device="cpu")
    p, labels, ignore = r["probabilities"], r["y_true"].astype(bool), r["ignore"]
    glob = np.full(p.shape[1], t_global)
    print(f"{len(p)} real spectra: weighted F1 / exact match rate")
    rows = [
        ("global simulated threshold", p >= glob[None, :]),
        ("per-element simulated thresholds", p >= per[None, :]),
        ("global, shifted on real (leave-one-out)", leave_one_out_shift(labels, p, ignore, glob)),
        ("per-element, shifted on real (leave-one-out)", leave_one_out_shift(labels, p, ignore, per)),
    ]
    for name, decided in rows:
        f1, emr = scores(labels, decided, ignore)
        print(f"  {name:<46} {f1:.3f} / {emr:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
