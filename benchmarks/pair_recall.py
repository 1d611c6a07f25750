"""How often a model finds each of two elements that appear together.

Simulates spectra that contain exactly the two elements (any other settings
from a simulator JSON file, default ``configs/simulation/realistic_v5.json``)
and prints, for every model or ensemble given, the recall of each element at
the model's card threshold and the median probability. Example: O next to
Ti, whose O K edge lies 76 eV above Ti L3::

    python benchmarks/pair_recall.py Ti O --weights shipped runs/variants/v5_oxide/cnn_compact/cnn_compact.json

``shipped`` is the package's ensemble. The spectra use seeds 100, 101, ...
(batches of 512), so every model sees the same ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    from hyperspy_eelsid.elements import element_index
    from hyperspy_eelsid.inference import Predictor
    from hyperspy_eelsid.simulation.config import SimulationConfig, exact_elements, read_overrides
    from hyperspy_eelsid.simulation.simulator import Simulator

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("first")
    p.add_argument("second")
    p.add_argument("--weights", nargs="+", default=["shipped"], help="models or ensembles ('shipped': the package's)")
    p.add_argument("--setting", default=str(ROOT / "configs" / "simulation" / "realistic_v5.json"))
    p.add_argument("--n", type=int, default=1024, help="spectra (multiple of 512)")
    a = p.parse_args(argv)
    sim = Simulator(SimulationConfig.from_dict(exact_elements(read_overrides(a.setting), [a.first, a.second])))
    x = np.concatenate([sim.simulate(512, seed=100 + i).spectra.numpy() for i in range(max(1, a.n // 512))])
    idx = [element_index(a.first), element_index(a.second)]
    print(f"{len(x)} simulated spectra with {a.first} and {a.second} ({Path(a.setting).name})")
    for w in a.weights:
        pred = Predictor(None if w == "shipped" else w, device="cpu")
        prob = pred(x)
        t = pred.threshold
        cols = "; ".join(f"{el} recall {np.mean(prob[:, i] >= t):.3f} (median p {np.median(prob[:, i]):.3f})"
                         for el, i in zip((a.first, a.second), idx))
        print(f"  {w}: t = {t:.3f}: {cols}")


if __name__ == "__main__":
    main()
