"""Real-benchmark figures of every mean-of-probabilities combination of some models.

Shows how much the choice of ensemble members matters on the 79 real spectra
of ``../shared/eels-benchmark``: for every combination of 1 to ``--max-size``
of the given model cards, weighted F1 and EMR at the threshold where
precision equals recall on the real set and at fixed thresholds.

Usage::

    python benchmarks/ensemble_combinations.py CARD.json CARD.json ... [--max-size 3]
        [--thresholds 0.3 0.4 0.5] [--benchmark ../shared/eels-benchmark]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(argv=None):
    from real_spectra import score_spectra

    from hyperspy_eelsid.evaluation import benchmark_report, read_manifest

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cards", nargs="+", help="model cards (.json) or ensemble folders")
    p.add_argument("--max-size", type=int, default=3)
    p.add_argument("--thresholds", type=float, nargs="*", default=[0.3, 0.4, 0.5])
    p.add_argument("--benchmark", default=str(HERE.parents[1] / "shared" / "eels-benchmark"))
    a = p.parse_args(argv)
    root = Path(a.benchmark)
    manifest = read_manifest(root)
    if manifest is None:
        print(f"no real-spectrum benchmark at {root}: nothing to do")
        return 0
    probs = {}
    for card in a.cards:
        s = score_spectra(manifest, root, weights=card, device="cpu")
        name = Path(card).stem if Path(card).stem not in probs else card  # two cards may share a name
        probs[name] = s["probabilities"]
        y, ignore = s["y_true"], s["ignore"]
    head = "members | P=R t: t F1 EMR | " + " | ".join(f"t={t}: F1 EMR" for t in a.thresholds)
    print(head)
    for n in range(1, min(a.max_size, len(probs)) + 1):
        for combo in itertools.combinations(probs, n):
            prob = np.mean([probs[c] for c in combo], 0)
            pr = benchmark_report(y, prob, ignore, threshold=None, top_pairs=0)
            cells = [f"{pr['threshold']:.3f} {pr['f1']:.3f} {pr['emr']:.3f}"]
            for t in a.thresholds:
                r = benchmark_report(y, prob, ignore, threshold=t, top_pairs=0)
                cells.append(f"{r['f1']:.3f} {r['emr']:.3f}")
            print(" + ".join(combo), "|", " | ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
