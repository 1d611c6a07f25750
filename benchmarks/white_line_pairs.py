"""How the white-line ratio check decides between coincident white-line pairs.

Co L3,2 (779, 794 eV) and Ba M5,4 (781, 796 eV), Cu L3,2 and Pr M5,4 (931,
951 eV) start at the same energies; the networks often name both. For
simulated spectra holding one element of a pair (or both), this prints how
often :func:`hyperspy_eelsid.line_ratios.white_line_verdicts` points to each
element, and the ensemble's recall of each before and after the vetoes, at
its card threshold::

    python benchmarks/white_line_pairs.py [--setting configs/simulation/realistic_v13.json] [--n 512]
        [--test data/realistic_v13_test20k.h5 data/test20k.h5]

With ``--real`` it fits the white-line pair of every element of every
spectrum of ``../shared/eels-benchmark`` that has one in its window, at the
element's own onsets, and prints the measured ratios next to the element's
range: the check rests on measured lines falling in these ranges.

With ``--test`` it also scores whole simulated test sets (HDF5 files from
``eelsid simulate``) with and without the check: weighted F1 and exact
match rate at the card threshold, and the spectra whose result changed.

``--set fs_max_scale=0.3`` (any ``SimulationConfig`` field, JSON value)
changes the setting, e.g. to weaken the random fine structure. The last line
gives the time the fits took per 1,000 spectra fitted.

The spectra end at most 200 eV above the pair (``end_max_ev``), so that the
lines are often inside the window; seeds 300, 301, ... (batches of 256).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    from hyperspy_eelsid.elements import element_index
    from hyperspy_eelsid.inference import Predictor
    from hyperspy_eelsid.line_ratios import coincident_line_pairs, vetoes, white_line_verdicts
    from hyperspy_eelsid.simulation.config import SimulationConfig, exact_elements, read_overrides
    from hyperspy_eelsid.simulation.simulator import Simulator

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--setting", default=str(ROOT / "configs" / "simulation" / "realistic_v13.json"))
    p.add_argument("--weights", default=None, help="model or ensemble (default: the shipped one)")
    p.add_argument("--n", type=int, default=512, help="spectra per row (multiple of 256)")
    p.add_argument("--test", nargs="*", default=[], help="simulated test sets (HDF5) to score with and without the check")
    p.add_argument("--real", action="store_true", help="measure the white-line ratios of the benchmark's real spectra")
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a field of the setting (JSON value), e.g. fs_max_scale=0.3")
    a = p.parse_args(argv)
    setting = dict(read_overrides(a.setting))
    for item in a.set:
        field, value = item.split("=", 1)
        setting[field] = json.loads(value)
    pred = Predictor(a.weights, device="cpu")
    t = pred.threshold
    print(f"{a.n} simulated spectra per row ({Path(a.setting).name}); {pred.name}, threshold {t:.3f}")
    print(f"{'spectra of':>10} {'covered':>8} {'verdicts (spectra)':>28} {'recall before':>22} {'recall after':>22}")
    k, fitted, seconds = 0, 0, 0.0
    for j, (pa, pb) in enumerate(coincident_line_pairs()):
        end = int(max(pa.second_ev, pb.second_ev) + 200)
        ia, ib = element_index(pa.element), element_index(pb.element)
        for group in ([pa.element], [pb.element], [pa.element, pb.element]):
            sim = Simulator(SimulationConfig.from_dict(exact_elements(setting, group, end)))
            x = np.concatenate([sim.simulate(256, seed=300 + 100 * k + i).spectra.numpy()
                                for i in range(max(1, a.n // 256))])
            k += 1
            prob = pred(x)
            start = time.perf_counter()
            verdict, _ = white_line_verdicts(x, prob, t)
            seconds += time.perf_counter() - start
            fitted += int((verdict >= 0).sum())
            detected = prob >= t
            after = detected & ~vetoes(verdict, prob, t)
            # spectra in which the pre-edge region, both lines and the fitted tail are measured
            covered = np.all(x[:, int(pa.first_ev - 45):int(pa.second_ev + 25)] > 0, axis=1)
            v = verdict[:, j]
            counts = f"{pa.element} {np.sum(v == 1)} / {pb.element} {np.sum(v == 2)} / neither {np.sum(v == 0)}"
            rec = lambda d: f"{pa.element} {d[:, ia].mean():.2f}, {pb.element} {d[:, ib].mean():.2f}"  # noqa: E731
            print(f"{'+'.join(group):>10} {int(covered.sum()):>8} {counts:>28} {rec(detected):>22} {rec(after):>22}")
    print(f"{fitted} spectra fitted in {seconds:.2f} s: {1000 * seconds / max(fitted, 1):.2f} s per 1,000")
    for path in a.test:
        score_test_set(path, pred)
    if a.real:
        real_ratios(a.shared / "eels-benchmark")


def real_ratios(root):
    """Measured white-line ratios of the benchmark's spectra against each element's range."""
    from hyperspy_eelsid.elements import ELEMENTS
    from hyperspy_eelsid.evaluation import read_manifest
    from hyperspy_eelsid.line_ratios import fit_line_ratio, line_pair
    from hyperspy_eelsid.preprocessing import energy_axis_from_signal, resample_to_grid, spectra_last
    from hyperspy_eelsid.signals.loading import load_spectrum

    manifest = read_manifest(root)
    if manifest is None:
        print(f"{root}/manifest.json is absent: no real spectra to measure.")
        return
    print(f"{'spectrum':<10} {'compound':<8} {'lines':<10} {'range':>10} {'area':>6} {'height':>6} "
          f"{'SNR':>10} {'contrast':>8}")
    for entry in manifest["spectra"]:
        for el in entry["composition"]:
            pair = line_pair(el) if el in ELEMENTS else None
            if pair is None or not (entry["e_min_eV"] < pair.first_ev - 45 and entry["e_max_eV"] > pair.second_ev + 25):
                continue
            s = load_spectrum(root / entry["file"])
            grid, _ = resample_to_grid(spectra_last(s), energy_axis_from_signal(s))
            fit = fit_line_ratio(grid.reshape(-1, grid.shape[-1]).sum(axis=0), pair.first_ev,
                                 pair.second_ev - pair.first_ev)
            snr = "/".join(f"{v:.0f}" for v in fit.snr[0])
            print(f"{entry['id']:<10} {entry['compound']:<8} {pair.label:<10} {pair.ratio[0]:>4g}-{pair.ratio[1]:<5g} "
                  f"{fit.area_ratio[0]:6.2f} {fit.height_ratio[0]:6.2f} {snr:>10} {fit.contrast[0]:8.2f}")


def white_line_vetoes(x, prob, threshold):
    """Detections of network inputs ``x`` (probabilities ``prob``) that the white-line check drops."""
    from hyperspy_eelsid.line_ratios import vetoes, white_line_verdicts

    verdict, _ = white_line_verdicts(x, prob, threshold)
    return vetoes(verdict, prob, threshold)


def score_test_set(path, pred, vetoes_of=white_line_vetoes, block=4096):
    """Weighted F1 / EMR of a simulated test set at the card threshold, with and without a check.

    ``vetoes_of(x, prob, threshold)`` gives the boolean ``(n, 80)`` detections the check drops
    (default: the white-line check).
    """
    import h5py

    from hyperspy_eelsid.evaluation.metrics import evaluate_predictions

    t = pred.threshold
    with h5py.File(path, "r") as f:
        y = f["labels"][:].astype(bool)
        probs, veto = [], []
        for i in range(0, y.shape[0], block):
            x = f["spectra"][i:i + block]
            p = pred(x)
            probs.append(p)
            veto.append(vetoes_of(x, p, t))
    prob, veto = np.concatenate(probs), np.concatenate(veto)
    before = evaluate_predictions(y, prob, t)
    after = evaluate_predictions(y, np.where(veto, 0.0, prob), t)
    changed = veto.any(axis=1)
    right = (veto & ~y).sum()
    print(f"{path}: {y.shape[0]} spectra, threshold {t:.3f}: F1 / EMR {before['f1']:.4f} / {before['emr']:.4f} "
          f"without the check, {after['f1']:.4f} / {after['emr']:.4f} with it; {int(changed.sum())} spectra "
          f"changed, {int(veto.sum())} detections removed ({int(right)} of them false)")


if __name__ == "__main__":
    main()
