"""How measured and simulated lanthanide N4,5 edges look to the networks.

For every single spectrum of ``../shared/eels-benchmark`` whose window holds
a lanthanide's N4,5 edge with 15 eV before it, and for simulated spectra of
that lanthanide alone under each setting given, this preprocesses the
spectrum as the front end does, fits a power law over 14-2 eV below the
element's table onset, subtracts it and prints:

* ``peak``: where the edge's maximum lies above the table onset (eV, within
  60 eV);
* ``early``: the largest signal 1-7 eV above the onset over that maximum:
  how much of the edge is there before the giant resonance;
* ``fwhm``: the width of the maximum (eV) where the signal first falls to
  half of it on either side.

Simulated rows give the median and the 10th-90th percentiles of 256 spectra
(seed 0) that start at least 20 eV below the onset and end at least 60 eV
above it::

    python benchmarks/lanthanide_n45_shapes.py [--setting configs/simulation/realistic_v22.json ...]

The real rows are the yardstick of the simulator settings, not a target
fitted to: no setting takes a number from them.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LANTHANIDES = ("La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb")


def n45_onset(symbol: str) -> float:
    from hyperspy_eelsid.elements import subshells

    return min(s.onset_energy for s in subshells(symbol) if s.name in ("N4", "N5"))


def edge_shape(spectrum: np.ndarray, onset: float):
    """``(peak, early, fwhm)`` of the edge at ``onset`` in one 1 eV-grid spectrum
    (channel k at k eV), or None when the window does not hold it."""
    x = np.arange(spectrum.size, dtype=float)
    o = int(round(onset))
    fit = (x >= o - 14) & (x <= o - 2)
    if o + 60 >= spectrum.size or np.any(spectrum[fit] <= 0) or np.any(spectrum[o - 14 : o + 61] == 0):
        return None
    slope, intercept = np.polyfit(np.log(x[fit]), np.log(spectrum[fit]), 1)
    edge = spectrum - np.exp(intercept + slope * np.log(np.maximum(x, 1.0)))
    window = edge[o : o + 61]
    i = int(np.argmax(window))
    top = window[i]
    if top <= 0:
        return None
    early = float(edge[o + 1 : o + 8].max() / top)
    below = np.nonzero(window[:i] < top / 2)[0]
    above = np.nonzero(window[i:] < top / 2)[0]
    lo = below[-1] if below.size else 0
    hi = i + above[0] if above.size else window.size - 1
    return float(i), early, float(hi - lo)


def real_rows(root: Path):
    import hyperspy.api as hs

    from hyperspy_eelsid.preprocessing import preprocess

    manifest = json.loads((root / "manifest.json").read_text())
    rows = []
    for entry in manifest["spectra"]:
        for symbol in entry["present"]:
            if symbol not in LANTHANIDES:
                continue
            onset = n45_onset(symbol)
            if entry["e_min_eV"] > onset - 15 or entry["e_max_eV"] < onset + 60:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = hs.load(root / entry["file"])
                grid, _ = preprocess(np.asarray(s.data, dtype=float)[None], s.axes_manager[-1].axis)
            shape = edge_shape(np.asarray(grid[0], dtype=float), onset)
            if shape is not None:
                rows.append((symbol, f"{entry['id']} {entry['compound']}", onset, shape))
    return rows


def simulated_shapes(setting: str, symbol: str, n: int = 256, seed: int = 0):
    from hyperspy_eelsid.simulation.config import SimulationConfig, read_overrides
    from hyperspy_eelsid.simulation.simulator import Simulator

    onset = n45_onset(symbol)
    overrides = read_overrides(setting)
    cfg = SimulationConfig.from_dict({**overrides, "elements": (symbol,), "n_elements_probs": (1,),
                                      "hard_pair_fraction": 0.0, "oxide_fraction": 0.0, "start_min_ev": max(75.0, onset - 40),
                                      "end_max_ev": onset + 400})
    b = Simulator(cfg).simulate(n, seed=seed)
    start, end = b.params["start_ev"].numpy(), b.params["end_ev"].numpy()
    spectra = b.spectra.numpy()
    shapes = [edge_shape(spectra[k].astype(float), onset) for k in range(n)
              if start[k] <= onset - 20 and end[k] >= onset + 60]
    return np.array([s for s in shapes if s is not None])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--setting", nargs="*", default=[str(ROOT / "configs" / "simulation" / "realistic_v13.json"),
                                                    str(ROOT / "configs" / "simulation" / "realistic_v22.json")])
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    a = p.parse_args(argv)
    root = a.shared / "eels-benchmark"
    real = real_rows(root) if (root / "manifest.json").is_file() else []
    if not real:
        print(f"no real lanthanide N4,5 spectra ({root} absent): simulated rows only")
    symbols = sorted({r[0] for r in real} or {"La", "Nd", "Gd", "Ho"}, key=LANTHANIDES.index)
    print(f"{'':12s}{'spectrum / setting':34s}{'onset':>7s}{'peak (eV above)':>22s}{'early':>20s}{'fwhm (eV)':>22s}")
    for symbol in symbols:
        for sym, name, onset, (peak, early, fwhm) in real:
            if sym == symbol:
                print(f"{symbol:12s}{name:34s}{onset:7.0f}{peak:22.0f}{early:20.2f}{fwhm:22.0f}")
        for setting in a.setting:
            s = simulated_shapes(setting, symbol)
            if s.size == 0:
                continue
            cells = []
            for col, fmt in ((0, "{:.0f}"), (1, "{:.2f}"), (2, "{:.0f}")):
                lo, med, hi = np.percentile(s[:, col], [10, 50, 90])
                cells.append(f"{fmt.format(med)} ({fmt.format(lo)}-{fmt.format(hi)})")
            label = f"simulated, {Path(setting).stem} ({len(s)})"
            print(f"{symbol:12s}{label:34s}{n45_onset(symbol):7.0f}{cells[0]:>22s}{cells[1]:>20s}{cells[2]:>22s}")


if __name__ == "__main__":
    main()
