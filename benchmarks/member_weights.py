"""Weighted means of two ensemble members, on simulated and real spectra.

For each weight of the first member, in the mean of probabilities and in the
mean of logits, chooses the threshold where precision equals recall on a
simulated validation set and prints weighted F1 / EMR there, on a simulated
test set at the same threshold, and on the real spectra of
``../shared/eels-benchmark`` with the leave-one-out threshold (skipped when
absent)::

    python benchmarks/member_weights.py weights/unet_cpu.json weights/resnet_cpu.json \\
        --validation data/realistic_v13_val8k_s2.h5 --test data/realistic_v13_test20k.h5

(``eelsid simulate --n 8192 --seed 2 --config configs/simulation/realistic_v13.json
--out data/realistic_v13_val8k_s2.h5`` makes the validation set.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def combine(a, b, weight, mode):
    """``weight`` x ``a`` + (1 - ``weight``) x ``b``, of probabilities or of logits."""
    if mode == "mean":
        return weight * a + (1 - weight) * b
    logit = lambda p: np.log(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1))  # noqa: E731
    return 1.0 / (1.0 + np.exp(-(weight * logit(a) + (1 - weight) * logit(b))))


def equal_precision_recall(y, p, grid=np.linspace(0.05, 0.95, 91)):
    """The threshold on ``grid`` where weighted precision and recall are closest."""
    from hyperspy_eelsid.evaluation.metrics import evaluate_predictions

    gaps = []
    for t in grid:
        r = evaluate_predictions(y, p, t)
        gaps.append(abs(r["precision"] - r["recall"]))
    return float(grid[int(np.argmin(gaps))])


def main(argv=None):
    import h5py

    from hyperspy_eelsid.evaluation import read_manifest
    from hyperspy_eelsid.evaluation.benchmark import leave_one_out_report
    from hyperspy_eelsid.evaluation.metrics import evaluate_predictions
    from hyperspy_eelsid.inference import Predictor

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("members", nargs=2, help="two model cards")
    p.add_argument("--validation", required=True, help="simulated validation set (HDF5)")
    p.add_argument("--test", required=True, help="simulated test set (HDF5)")
    p.add_argument("--weights", nargs="+", type=float, default=[0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    p.add_argument("--shared", type=Path, default=HERE.parents[1] / "shared")
    a = p.parse_args(argv)

    def simulated(path):
        with h5py.File(path, "r") as f:
            x, y = f["spectra"][:], f["labels"][:].astype(bool)
        return y, [Predictor(m, device="cpu")(x) for m in a.members]

    yv, pv = simulated(a.validation)
    yt, pt = simulated(a.test)
    root = a.shared / "eels-benchmark"
    manifest = read_manifest(root)
    real = None
    if manifest is not None:
        from real_spectra import score_spectra

        scored = [score_spectra(manifest, root, weights=m) for m in a.members]
        real = scored[0]["y_true"], scored[0]["ignore"], [s["probabilities"] for s in scored]
    print(f"first member: {a.members[0]}; F1 / EMR")
    for mode in ("mean", "logit"):
        for w in a.weights:
            t = equal_precision_recall(yv, combine(*pv, w, mode))
            rv = evaluate_predictions(yv, combine(*pv, w, mode), t)
            rt = evaluate_predictions(yt, combine(*pt, w, mode), t)
            line = (f"{mode:5s} weight {w:.2f}  t {t:.2f}  validation {rv['f1']:.4f} / {rv['emr']:.4f}  "
                    f"test {rt['f1']:.4f} / {rt['emr']:.4f}")
            if real is not None:
                y, ignore, probs = real
                loo = leave_one_out_report(y, combine(*probs, w, mode), ignore)
                line += f"  real (leave-one-out) {loo['f1']:.3f} / {loo['emr']:.3f}"
            print(line)


if __name__ == "__main__":
    main()
