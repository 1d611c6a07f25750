"""Train the shipped Sc / N classifier (weights/pair_sc_n.safetensors + pair_sc_n.json).

Simulates 16,384 spectra of Sc alone and 16,384 of N alone with
configs/simulation/realistic_v18.json (tied white-line pairs, sigma* peaks),
ending at or below 600 eV, trains :func:`hyperspy_eelsid.pair_classifier.train_net`
on the 360-500 eV crop of 80 % of them (8 epochs, seed 0) and writes the
held-out figures into the card: accuracy, and at the confidence needed for a
verdict, how many spectra get one and how many of those are right. The same
spectra and seeds as ``benchmarks/pair_separability.py Sc N --crop 360 500
--end-max 600 --setting configs/simulation/realistic_v18.json``. 32 s on the
two-core development machine when idle; the shipped card's 215 s were measured
while two trainings shared it::

    python scripts/train_pair_classifier.py [--out weights/pair_sc_n]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SETTING = "configs/simulation/realistic_v18.json"


def main(argv=None):
    import torch

    from hyperspy_eelsid.networks.io import git_commit
    from hyperspy_eelsid.pair_classifier import MIN_CONFIDENCE, PAIR, fit_on_simulated, save_pair_classifier
    from hyperspy_eelsid.simulation.config import read_overrides

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "weights" / "pair_sc_n"))
    ap.add_argument("--n", type=int, default=16384, help="spectra per element (80 %% train, 20 %% held out)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--end-max", type=int, default=600)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    setting = read_overrides(str(ROOT / SETTING))
    fit = fit_on_simulated(*PAIR, setting, a.n, a.epochs, a.end_max)
    net, pa, pb, accuracy = fit["net"], fit["pa"], fit["pb"], fit["accuracy"]
    p = np.r_[pa, pb]
    truth = np.r_[np.ones(pa.size, bool), np.zeros(pb.size, bool)]
    decided = (p >= MIN_CONFIDENCE) | (p <= 1 - MIN_CONFIDENCE)
    right = decided & ((p >= MIN_CONFIDENCE) == truth)
    seconds = time.perf_counter() - t0
    held = {"spectra": int(p.size), "accuracy": float(accuracy),
            "verdict_rate": float(decided.mean()), "verdict_precision": float(right.sum() / max(decided.sum(), 1))}
    card = save_pair_classifier(
        net, a.out,
        training={"setting": SETTING, "spectra_per_element": a.n, "train_fraction": 0.8, "end_max_ev": a.end_max,
                  "epochs": a.epochs, "seed": 0, "simulation_seeds": [1000, 5000], "seconds": round(seconds, 1),
                  "hardware": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
                  "command": "python scripts/train_pair_classifier.py"},
        metrics={"held_out": held}, commit=git_commit(ROOT))
    print(f"held out: accuracy {accuracy:.3f}; at P >= {MIN_CONFIDENCE} or <= {1 - MIN_CONFIDENCE:.1f}: "
          f"{decided.mean():.3f} of spectra get a verdict, {held['verdict_precision']:.3f} of them right")
    print(f"wrote {card} ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
