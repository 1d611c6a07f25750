"""Where the Hartree-Slater reference edges have kinks (its table's energy nodes).

Usage::

    python docs/scripts/reference_energy_nodes.py [Xe_M Pb_M Ce_M ...] [--reference PATH]

exSpy interpolates a GOS table linearly in energy, so between two tabulated
energies an edge computed from it is (nearly) a straight chord, with a kink
at each tabulated energy. This script finds those kinks in the reference
spectra (local maxima of the relative second difference, above three times
its median) and prints them as energies above the lowest onset of the
window, which tells how finely the reference table resolves the first tens
of eV above an onset. Only derived numbers are printed; the reference file
is not copied.
"""

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REF = ROOT.parent / "shared" / "reference" / "hartree_slater_rez_edges.npz"


def kinks(spectrum, energy, factor=3.0):
    """Energies of the kinks of a spectrum (local maxima of |d2 s| / s)."""
    d2 = np.abs(np.diff(spectrum, 2)) / (np.abs(spectrum[1:-1]) + 1e-30)
    level = factor * np.median(d2)
    idx = [j for j in range(1, d2.size - 1)
           if d2[j] > level and d2[j] >= d2[j - 1] and d2[j] >= d2[j + 1]]
    return energy[np.array(idx, dtype=int) + 1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("edges", nargs="*", default=["Pb_M", "Xe_M", "Ce_M", "Sr_L"])
    p.add_argument("--reference", default=str(DEFAULT_REF))
    args = p.parse_args(argv)
    if not Path(args.reference).is_file():
        print(f"reference not found: {args.reference}")
        return 0
    ref = np.load(args.reference)
    names = [str(n) for n in ref["name_list"]]
    for name in args.edges:
        i = names.index(name)
        s = np.asarray(ref["spectrum_list"][i], float)
        emin, emax = float(ref["emin_list"][i]), float(ref["emax_list"][i])
        energy = emin + (emax - emin) / s.size * np.arange(s.size)
        onset = emin / 0.95
        nodes = kinks(s, energy)
        print(f"{name}: channel {energy[1] - energy[0]:.2f} eV, kinks at onset + "
              + ", ".join(f"{e - onset:.0f}" for e in nodes) + " eV")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
