"""What clipping does to the networks, and what reading past the clipped run recovers, on simulated spectra.

The real benchmark holds only four clipped spectra. This script makes many:
it simulates spectra (noisy counts on the 1 eV grid), clips each one at the
count its background-and-edges reaches ``d`` eV into its window (``d`` drawn
from ``--clip-ev``, so that the first ``d`` eV of the window read one flat
count, as from an overflowing camera), and scores the shipped ensemble (or
``--weights``) at its card threshold on

1. the spectra as simulated (the reference);
2. the clipped spectra, all channels used (what the front end did before
   ``cut_saturation``);
3. the clipped spectra read from the end of the clipped run on, as the front
   end does now (:func:`hyperspy_eelsid.saturation.saturated_runs`, a first run
   within ``SATURATION_START_EV`` of the read start, then the channels up to
   its end left out of the window);
4. the spectra as simulated, read from the same energy on: what a spectrum
   recorded from there on would give, the most the cut can recover.

Scores: weighted precision, recall, F1 and exact match rate over all labelled
elements with the numbers of false detections (FP) and missed elements (FN),
and F1 / EMR against only the elements with an edge after the cut (what rows
3 and 4 can still see). No HyperSpy.

Run::

    python benchmarks/saturation_simulated.py [--setting configs/simulation/realistic_v13.json]
        [--n 2048] [--seed 200] [--clip-ev 20 200] [--weights DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def clip_spectra(counts, mask, start_ev, clip_ev, rng):
    """Clip each spectrum at its count ``d`` eV into its window (above 75 eV), ``d`` uniform in ``clip_ev``."""
    from hyperspy_eelsid.preprocessing import E_MIN_NETWORK, GRID

    first = np.maximum(np.ceil(start_ev), E_MIN_NETWORK).astype(int)
    depth = rng.uniform(*clip_ev, size=counts.shape[0]).round().astype(int)
    at = np.minimum(first + depth, GRID.size - 1)
    level = counts[np.arange(counts.shape[0]), at]
    clipped = np.where(mask, np.minimum(counts, level[:, None]), counts)
    return clipped


def visible_labels(labels, params, from_ev):
    """Labels of the elements with an edge onset at or after ``from_ev`` (and in the spectrum's window)."""
    from hyperspy_eelsid.elements import ELEMENTS, subshells

    out = np.zeros_like(labels)
    ends = np.asarray(params["end_ev"], dtype=float)
    for i, j in zip(*np.nonzero(labels)):
        if subshells(ELEMENTS[j], from_ev[i], ends[i] - 10.0, major_only=True):
            out[i, j] = 1
    return out


def score_rows(inputs, labels, beyond, predictor, threshold) -> dict:
    """The figures of every input set (name -> network input) against all labels and against ``beyond``."""
    from hyperspy_eelsid.evaluation import evaluate_predictions

    rows = {}
    for name, x in inputs.items():
        probs = predictor(x)
        detected = probs >= threshold
        r_all = evaluate_predictions(labels, probs, threshold=threshold)
        r_vis = evaluate_predictions(beyond, probs, threshold=threshold)
        rows[name] = {"precision": r_all["precision"], "recall": r_all["recall"], "f1": r_all["f1"],
                      "emr": r_all["emr"], "fp": int((detected & (labels == 0)).sum()),
                      "fn": int((~detected & (labels == 1)).sum()),
                      "f1_after_cut": r_vis["f1"], "emr_after_cut": r_vis["emr"]}
    return rows


def main(argv=None):
    from hyperspy_eelsid.inference import Predictor
    from hyperspy_eelsid.preprocessing import E_MIN_NETWORK, GRID, finalise_on_grid
    from hyperspy_eelsid.saturation import SATURATION_START_EV, saturated_runs
    from hyperspy_eelsid.simulation.config import SimulationConfig, read_overrides
    from hyperspy_eelsid.simulation.simulator import Simulator

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--setting", default=str(ROOT / "configs" / "simulation" / "realistic_v13.json"),
                   help="simulator setting file, or 'table1'")
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--seed", type=int, default=200)
    p.add_argument("--clip-ev", type=float, nargs=2, default=(20.0, 200.0),
                   help="range of the clipped depth into the window (eV)")
    p.add_argument("--weights", default=None)
    a = p.parse_args(argv)

    config = SimulationConfig() if a.setting == "table1" else SimulationConfig.from_dict(read_overrides(a.setting))
    batch = Simulator(config).simulate(a.n, seed=a.seed, components=True)
    counts = batch.components["noisy"].cpu().numpy().astype(np.float64)
    mask = batch.components["mask"].cpu().numpy().astype(bool)
    labels = batch.labels.cpu().numpy().astype(np.uint8)
    params = {k: v.cpu().numpy() for k, v in batch.params.items()}
    clipped = clip_spectra(counts, mask, params["start_ev"], a.clip_ev, np.random.default_rng(a.seed))
    # the front end's rule: a first saturated run within SATURATION_START_EV of the read start is cut
    first, after_first, _, _ = saturated_runs(np.where(mask, clipped, 0.0), GRID)
    first_read = np.maximum(np.ceil(params["start_ev"]), E_MIN_NETWORK)
    ends = np.where(first - first_read <= SATURATION_START_EV, after_first, np.nan)
    found = np.isfinite(ends)
    read_from = np.where(found, ends + 1.0, 0.0)
    cut_mask = mask & (GRID[None, :] >= read_from[:, None])

    predictor = Predictor(a.weights, device="cpu")
    t = predictor.threshold
    inputs = {
        "as simulated": finalise_on_grid(counts.astype(np.float32), mask),
        "clipped, every channel": finalise_on_grid(clipped.astype(np.float32), mask),
        "clipped, read from the end of the run": finalise_on_grid(clipped.astype(np.float32), cut_mask),
        "as simulated, read from the same energy": finalise_on_grid(counts.astype(np.float32), cut_mask),
    }
    beyond = visible_labels(labels, params, read_from)
    print(f"{a.n} spectra of {Path(a.setting).name} (seed {a.seed}), clipped {a.clip_ev[0]:g}-{a.clip_ev[1]:g} eV "
          f"into their window; a saturated run found in {found.sum()} of them; {predictor.name}, t = {t:.3f}")
    rows = score_rows(inputs, labels, beyond, predictor, t)
    print(f"{'':40s}      P      R     F1    EMR    FP    FN   F1 / EMR, edges after the cut")
    for name, r in rows.items():
        print(f"{name:40s} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f} {r['emr']:6.3f} "
              f"{r['fp']:5d} {r['fn']:5d}   {r['f1_after_cut']:.3f} / {r['emr_after_cut']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
