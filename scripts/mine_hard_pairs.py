"""Mine the element pairs a model confuses on simulated spectra (hard-pair training).

Runs a model or ensemble over an HDF5 dataset of simulated spectra and counts,
for every two elements A and B, the spectra in which one is present and the
other is predicted but absent (a false B next to a present A, or a false A
next to a present B). These are the pairs whose edges start within the
simulator's shifts of each other (N K 401 eV and Sc L3 402 eV, Co L3 779 eV
and Ba M5 781 eV, ...). The most frequent ones are printed with their counts
and, last, as the JSON list a simulation setting takes as ``hard_pairs``
(see :class:`hyperspy_eelsid.simulation.config.SimulationConfig`)::

    python scripts/mine_hard_pairs.py --data data/realistic_v13_test20k.h5 \
        --setting configs/simulation/realistic_v13.json --top 16 --max-gap 25

Pairs are unordered and written alphabetically (``"N-Sc"``). With
``--max-gap`` only pairs with two edges whose onsets lie within that many eV
are kept; the others (O next to Si, whose edges are 433 eV apart) come from
the composition prior (O in half the spectra), not from coincident edges.
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def pair_counts(y_true, y_pred, elements):
    """``{"A-B": count}`` of spectra with a false-positive next to a present element of the pair."""
    y = np.asarray(y_true, bool)
    p = np.asarray(y_pred, bool)
    false_pos = p & ~y
    # (K, K): spectra with A present and B a false positive
    counts = y.T.astype(np.int64) @ false_pos.astype(np.int64)
    counts = counts + counts.T
    out = {}
    for a in range(len(elements)):
        for b in range(a + 1, len(elements)):
            if counts[a, b]:
                out["-".join(sorted((elements[a], elements[b])))] = int(counts[a, b])
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def edge_gaps(pairs, setting=None):
    """``{"A-B": eV}``: distance between the closest counted edges of each pair's elements."""
    from hyperspy_eelsid.physics.cross_sections import load_gosh
    from hyperspy_eelsid.simulation.composition import build_catalogue, hard_pair_anchors
    from hyperspy_eelsid.simulation.config import SimulationConfig, read_overrides

    config = SimulationConfig.from_dict(read_overrides(setting) if setting else {})
    cat = build_catalogue(load_gosh(config.gos_file), config)
    gaps = {}
    for pair in pairs:
        try:
            element, anchor = hard_pair_anchors(cat, [pair])
        except ValueError:  # an element the setting cannot draw
            gaps[pair] = np.inf
            continue
        (i, j), (fi, fj) = element[0], anchor[0]
        gaps[pair] = float(abs(cat.fam_onset[i, fi] - cat.fam_onset[j, fj]))
    return gaps


def main(argv=None):
    import h5py

    from hyperspy_eelsid.elements import ELEMENTS
    from hyperspy_eelsid.inference import Predictor

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="HDF5 file with 'spectra' and 'labels'")
    ap.add_argument("--weights", default=None, help="model or ensemble (default: the shipped ensemble)")
    ap.add_argument("--threshold", type=float, default=None, help="decision threshold (default: the card's)")
    ap.add_argument("--top", type=int, default=24, help="how many pairs to keep")
    ap.add_argument("--setting", default=None, help="simulation setting JSON whose counted edges give the gaps")
    ap.add_argument("--max-gap", type=float, default=None, help="keep pairs with edges at most this far apart (eV)")
    ap.add_argument("--n", type=int, default=None, help="only the first N spectra")
    a = ap.parse_args(argv)
    with h5py.File(a.data, "r") as f:
        x = f["spectra"][: a.n]
        y = f["labels"][: a.n]
    predictor = Predictor(a.weights, device="cpu")
    t = predictor.threshold if a.threshold is None else a.threshold
    counts = pair_counts(y, predictor(x) >= t, ELEMENTS)
    gaps = edge_gaps(counts, a.setting)
    if a.max_gap is not None:
        counts = {pair: n for pair, n in counts.items() if gaps[pair] <= a.max_gap}
    top = list(counts.items())[: a.top]
    print(f"{predictor.name} on {len(x)} spectra of {a.data} at t = {t:.3f}: "
          "spectra with one element of the pair present and the other falsely predicted")
    for pair, n in top:
        print(f"  {pair:6s} {n:5d}   closest edges {gaps[pair]:.0f} eV apart")
    print(json.dumps([pair for pair, _ in top]))


if __name__ == "__main__":
    main()
