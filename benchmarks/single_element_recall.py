"""Which element a model names for spectra of one element, and how often the right one.

For every element given, simulates spectra that contain only that element
(other settings from a simulator JSON file, default
``configs/simulation/realistic_v8.json``; ``--end-max`` caps the spectrum end,
e.g. 400 eV to see the lanthanides by their N4,5 edges alone, as in the
benchmark's Eu2O3, Gd2O3, Ho2O3, La2O3 and Pr6O11 spectra recorded from the
zero-loss peak to 390 eV) and prints, for each model or ensemble, the recall
at its card threshold, the median probability and the elements it finds
most probable on average. Coincident onsets show up there: Ho N4,5 at
160 eV against S L2,3 at 165 eV, Pr N4,5 at 113 eV against Be K at 111 eV::

    python benchmarks/single_element_recall.py La Pr Nd Eu Gd Ho --end-max 400 --weights shipped runs/v8/ens

A group such as ``B+P`` simulates spectra that hold every element of the
group (no oxygen added) and prints the recall of each: in BP, whose P L1
edge (189 eV) lies on B K (188 eV), B is the element that goes missing::

    python benchmarks/single_element_recall.py B P B+P --end-max 400

``shipped`` is the package's ensemble. The spectra use seeds 200, 201, ...
(batches of 256), so every model sees the same ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    from hyperspy_eelsid.elements import ELEMENTS, element_index
    from hyperspy_eelsid.inference import Predictor
    from hyperspy_eelsid.pair_classifier import simulated_inputs
    from hyperspy_eelsid.simulation.config import read_overrides

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("elements", nargs="+", help="elements, or groups such as B+P whose spectra hold every one")
    p.add_argument("--weights", nargs="+", default=["shipped"], help="models or ensembles ('shipped': the package's)")
    p.add_argument("--setting", default=str(ROOT / "configs" / "simulation" / "realistic_v8.json"))
    p.add_argument("--end-max", type=int, default=None, help="latest spectrum end (eV)")
    p.add_argument("--n", type=int, default=512, help="spectra per element (multiple of 256)")
    a = p.parse_args(argv)
    setting = read_overrides(a.setting)
    batches = {}
    for k, name in enumerate(a.elements):
        group = name.split("+")  # "B+P": every spectrum holds all of them
        batches[name] = group, simulated_inputs(group, a.n, 200 + 100 * k, setting, a.end_max, batch=256)
    end = f", ending at most at {a.end_max} eV" if a.end_max is not None else ""
    print(f"{a.n} simulated spectra of each element or group ({Path(a.setting).name}{end})")
    for w in a.weights:
        pred = Predictor(None if w == "shipped" else w, device="cpu")
        print(f"{w} (threshold {pred.threshold:.3f}):")
        for name, (group, x) in batches.items():
            prob = pred(x)
            mean = prob.mean(0)
            top = [j for j in np.argsort(-mean)[:4] if mean[j] >= 0.02]
            names = ", ".join(f"{ELEMENTS[j]} {mean[j]:.2f}" for j in top)
            if len(group) == 1:
                i = element_index(name)
                found = f"recall {np.mean(prob[:, i] >= pred.threshold):.3f}, median p {np.median(prob[:, i]):.3f}"
            else:
                found = "recall " + ", ".join(
                    f"{el} {np.mean(prob[:, element_index(el)] >= pred.threshold):.3f}" for el in group)
            print(f"  {name:2s}: {found}; highest mean p: {names}")


if __name__ == "__main__":
    main()
