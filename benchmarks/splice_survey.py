"""Gain splices and saturated runs in the real benchmark and in simulated spectra, and what cutting them does.

Prints the figures behind docs/preprocessing.md ("Gain splices", "Saturation"):

1. for the real single spectra and scans of ../shared/eels-benchmark: how many
   are spliced (``hyperspy_eelsid.splices.splice_onsets``), the range of their
   steps, the largest step of the spectra that are not, and the spectra with a
   labelled edge below their splice (which the front end does not read); the
   spectra and scan pixels with a saturated run
   (``hyperspy_eelsid.saturation.saturation_ends``), where it lies and at what count;
2. the largest step in simulated spectra of one setting (no splice exists
   there, so this shows the margin to ``SPLICE_FACTOR``) and how many of them
   have a saturated run (none should);
3. a model's real figures (weighted F1 and EMR at its card threshold, through
   ``identify_elements``) with neither cut, with the splice cut only and with
   both, for all spectra and split by whether the record starts below 75 eV.

Run::

    python benchmarks/splice_survey.py [--weights DIR] [--setting configs/simulation/realistic_v6.json | table1]
        [--n 2048] [--seed 100]

Parts 1 and 3 are skipped with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared"


def _counts(s):
    return np.asarray(s.data, dtype=float), np.asarray(s.axes_manager.signal_axes[0].axis, dtype=float)


def survey_real(root, manifest):
    """Spliced real spectra, their steps, and the labelled edges below a splice (not used)."""
    from hyperspy_eelsid.elements import subshells
    from hyperspy_eelsid.signals.loading import load_spectrum
    from hyperspy_eelsid.splices import largest_steps, splice_onsets

    steps, onsets = [], []
    for entry in manifest["spectra"]:
        data, energy = _counts(load_spectrum(root / entry["file"]))
        steps.append(float(largest_steps(data, energy)))
        onsets.append(float(splice_onsets(data, energy)))
    steps, cut = np.array(steps), np.isfinite(onsets)
    print(f"real single spectra: {cut.sum()} of {cut.size} spliced; their steps "
          f"{steps[cut].min():.0f}-{steps[cut].max():.0f} x; largest step of the others {steps[~cut].max():.1f} x")
    for entry, onset in zip(manifest["spectra"], onsets):
        below = [f"{el} {s.name} {s.onset_energy:g} eV" for el in entry["present"]
                 for s in subshells(el, max(entry["e_min_eV"], 75.0) + 10, onset, major_only=True)]  # label rule
        if np.isfinite(onset) and below:
            print(f"  {entry['id']} {entry['compound']}: read from its splice at {onset:.0f} eV on, "
                  f"so these labelled edges are not used: {', '.join(below)}")
    total = spliced = 0
    biggest = 0.0
    for entry in manifest["scans"]:
        data, energy = _counts(load_spectrum(root / entry["file"]))
        flat = data.reshape(-1, data.shape[-1])
        total += flat.shape[0]
        spliced += int(np.isfinite(splice_onsets(flat, energy)).sum())
        biggest = max(biggest, float(largest_steps(flat, energy).max()))
    print(f"real scans: {spliced} of {total} spectra spliced; largest step {biggest:.1f} x")
    survey_saturation(root, manifest)


def survey_saturation(root, manifest):
    """Real spectra and scan pixels with a saturated run: where the run lies and at what count."""
    from hyperspy_eelsid.saturation import saturation_ends
    from hyperspy_eelsid.signals.loading import load_spectrum

    total = found = 0
    for entry in manifest["spectra"] + manifest["scans"]:
        data, energy = _counts(load_spectrum(root / entry["file"]))
        flat = data.reshape(-1, data.shape[-1])
        ends = saturation_ends(flat, energy)
        total += flat.shape[0]
        for row in np.flatnonzero(np.isfinite(ends)):
            found += 1
            last = int(np.searchsorted(energy, ends[row])) - 1  # the last channel of the last run
            first = last
            while first > 0 and flat[row, first - 1] == flat[row, last]:
                first -= 1
            print(f"  saturated: {entry['id']} {entry.get('compound', entry.get('kind', ''))}: "
                  f"{last - first + 1} channels at {flat[row, last]:.0f} counts over {energy[first]:.1f}-"
                  f"{energy[last]:.1f} eV; read from {ends[row]:.1f} eV on")
    print(f"real spectra and scan pixels with a saturated run: {found} of {total}")


def survey_simulated(setting, n, seed):
    from hyperspy_eelsid.preprocessing import GRID
    from hyperspy_eelsid.saturation import saturation_ends
    from hyperspy_eelsid.simulation.config import SimulationConfig, read_overrides
    from hyperspy_eelsid.simulation.simulator import Simulator
    from hyperspy_eelsid.splices import largest_steps, splice_onsets

    config = SimulationConfig() if setting == "table1" else SimulationConfig.from_dict(read_overrides(setting))
    counts = Simulator(config).simulate(n, seed=seed, components=True).components["noisy"].cpu().numpy()
    steps = largest_steps(counts, GRID)
    print(f"simulated ({Path(setting).name}, {n} spectra, seed {seed}): "
          f"{int(np.isfinite(splice_onsets(counts, GRID)).sum())} spliced; largest step {steps.max():.1f} x; "
          f"{int(np.isfinite(saturation_ends(counts, GRID)).sum())} with a saturated run")


def score_real(root, manifest, weights):
    from hyperspy_eelsid.evaluation import benchmark_report, label_arrays
    from hyperspy_eelsid.inference import Predictor
    from hyperspy_eelsid.signals.identification import identify_elements
    from hyperspy_eelsid.saturation import SaturationWarning
    from hyperspy_eelsid.signals.loading import load_spectrum
    from hyperspy_eelsid.splices import SpliceWarning

    threshold = Predictor(weights, device="cpu").threshold
    entries = manifest["spectra"]
    y, ignore = label_arrays(entries)
    low = np.array([e["e_min_eV"] < 75 for e in entries])
    for cut, saturation in ((False, False), (True, False), (True, True)):
        probs = []
        for entry in entries:
            s = load_spectrum(root / entry["file"])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SpliceWarning)
                warnings.simplefilter("ignore", SaturationWarning)
                p = identify_elements(s, threshold=threshold, device="cpu", weights=weights, print_summary=False,
                                      show_progressbar=False, cut_splices=cut, cut_saturation=saturation)
            probs.append(np.asarray(p.data, dtype=float).ravel())
        probs = np.array(probs)
        parts = []
        for name, m in (("all", np.ones_like(low)), ("start < 75 eV", low), ("start >= 75 eV", ~low)):
            r = benchmark_report(y[m], probs[m], ignore=ignore[m], threshold=threshold)
            parts.append(f"{name} ({m.sum()}): F1 {r['f1']:.3f} EMR {r['emr']:.3f} RMSE {r['rmse']:.3f}")
        print(f"cut_splices={cut}, cut_saturation={saturation} (t = {threshold:.3f}): " + "; ".join(parts))


def main(argv=None):
    from hyperspy_eelsid.evaluation import read_manifest

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", default=None, help="model or ensemble (default: shipped ensemble)")
    p.add_argument("--setting", default=str(ROOT / "configs" / "simulation" / "realistic_v6.json"),
                   help="simulator setting file, or 'table1' for the paper's Table 1")
    p.add_argument("--n", type=int, default=2048, help="simulated spectra (one batch)")
    p.add_argument("--seed", type=int, default=100)
    p.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    a = p.parse_args(argv)
    root = a.shared / "eels-benchmark"
    manifest = read_manifest(root)
    if manifest is None:
        print(f"{root}/manifest.json is absent: real-spectrum parts skipped.")
    else:
        survey_real(root, manifest)
    survey_simulated(a.setting, a.n, a.seed)
    if manifest is not None:
        score_real(root, manifest, a.weights)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
