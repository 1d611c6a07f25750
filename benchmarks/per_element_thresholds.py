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
   ``real_spectra.py`` chooses the card threshold for real spectra). Each
   probability is first expressed relative to its element's threshold,
   ``sigmoid(logit(p) - logit(t))``, so that thresholds ``t`` become 0.5
   and a shift of all of them in logit space is one threshold on these
   relative probabilities: the scoring is then the project's own
   (``evaluate_predictions``, ``leave_one_out_report``).

Skips cleanly when ../shared is absent::

    eelsid simulate --n 16384 --seed 2 --config configs/simulation/realistic_v8.json \\
        --out data/realistic_v8_val16k.h5
    python benchmarks/per_element_thresholds.py [--weights DIR] [--val data/realistic_v8_val16k.h5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MIN_OCCURRENCES = 50
EPS = 1e-7  # probabilities are clipped to [EPS, 1 - EPS] before their logit


def _logit(p):
    p = np.clip(p, EPS, 1.0 - EPS)
    return np.log(p / (1.0 - p))


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


def relative_probabilities(probabilities, thresholds):
    """``sigmoid(logit(p) - logit(t))`` per element: at least 0.5 exactly where
    ``p >= t``; moving every ``t`` by one shift in logit space is one
    threshold on these."""
    return 1.0 / (1.0 + np.exp(-(_logit(np.asarray(probabilities, dtype=float)) - _logit(np.asarray(thresholds)))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None, help="model or ensemble (default: shipped)")
    parser.add_argument("--val", default="data/realistic_v8_val16k.h5", help="simulated validation HDF5")
    parser.add_argument("--shared", default=str(HERE.parents[1] / "shared" / "eels-benchmark"))
    args = parser.parse_args(argv)

    from hyperspy_eelsid.evaluation import evaluate_predictions, leave_one_out_report, read_manifest

    root = Path(args.shared)
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

    sys.path.insert(0, str(HERE))
    from real_spectra import score_spectra

    model = load_predictor_model(args.weights, device="cpu")
    with h5py.File(args.val, "r") as f:
        x, y = f["spectra"][:].astype(np.float32), f["labels"][:].astype(bool)
    with torch.inference_mode():
        p_val = model.predict_proba(torch.from_numpy(x)).numpy()
    t_global, per = element_thresholds(y, p_val)
    print(f"{len(y)} simulated validation spectra ({args.val}): global threshold {t_global:.3f}")
    far = {el: round(float(per[j]), 3) for j, el in enumerate(ELEMENTS) if abs(per[j] - t_global) > 0.1}
    print(f"per-element thresholds more than 0.1 from it: {far}")

    r = score_spectra(manifest, root, weights=args.weights, device="cpu")
    p, labels, ignore = r["probabilities"], r["y_true"].astype(bool), r["ignore"]
    print(f"{len(p)} real spectra: weighted F1 / exact match rate")
    for kind, thresholds in (("global", np.full(p.shape[1], t_global)), ("per-element", per)):
        q = relative_probabilities(p, thresholds)
        for how, report in ((f"{kind} simulated threshold(s)", evaluate_predictions(labels, q, 0.5, ignore)),
                            (f"{kind}, shifted on real (leave-one-out)", leave_one_out_report(labels, q, ignore))):
            print(f"  {how:<46} {report['f1']:.3f} / {report['emr']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
