"""Energy calibration of the two BN line scans of ../shared/eels-benchmark.

h-BN has two sharp pi* peaks that serve as calibration lines: B K at
192.0 eV and N K at 401.0 eV. This script finds each peak in the mean
spectrum of each BN scan (the highest point above a straight line across a
+-15 eV window around the nominal energy shifted by up to +-12 eV), prints
the offset of the file's energy axis, and identifies the scan with the
shipped ensemble (1 % filter) as recorded and with the axis moved by the
mean measured offset. The benchmark's scoring always uses the files as
recorded; this script only explains the result. Run::

    python docs/scripts/bn_scan_calibration.py [--weights DIR]

It exits cleanly with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BENCHMARK = HERE.parents[2] / "shared" / "eels-benchmark"
#: Calibration lines of h-BN: the pi* peaks of the B K and N K edges (eV).
PI_STAR_EV = {"B": 192.0, "N": 401.0}


def pi_star_position(energy, counts, nominal, search=12.0, half_window=15.0):
    """Energy of the highest point above the chord across ``nominal +- half_window``
    (the window moved by up to ``search`` eV to follow the peak)."""
    best = None
    for centre in np.arange(nominal - search, nominal + search + 0.01, 1.0):
        sel = (energy >= centre - half_window) & (energy <= centre + half_window)
        e, c = energy[sel], counts[sel]
        excess = c - np.interp(e, [e[0], e[-1]], [c[0], c[-1]])
        i = int(np.argmax(excess))
        if best is None or excess[i] > best[1]:
            best = (float(e[i]), float(excess[i]))
    return best[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=None, help="model or ensemble (default: the shipped ensemble)")
    parser.add_argument("--benchmark", type=Path, default=BENCHMARK)
    args = parser.parse_args(argv)
    from hyperspy_eelsid.evaluation import read_manifest

    manifest = read_manifest(args.benchmark)
    if manifest is None:
        print(f"no benchmark at {args.benchmark}: nothing to do")
        return 0
    from hyperspy_eelsid.signals.identification import identify_elements
    from hyperspy_eelsid.signals.loading import load_spectrum

    for entry in manifest["scans"]:
        if set(entry["present"]) != {"B", "N"}:
            continue
        s = load_spectrum(args.benchmark / entry["file"])
        axis = s.axes_manager.signal_axes[0]
        mean = s.data.reshape(-1, s.data.shape[-1]).astype(float).mean(0)
        found = {el: pi_star_position(axis.axis, mean, ev) for el, ev in PI_STAR_EV.items()}
        offsets = {el: found[el] - PI_STAR_EV[el] for el in found}
        shift = float(np.mean(list(offsets.values())))
        print(f"{entry['id']} ({entry['source'].split(':')[-1]}):")
        for el in found:
            print(f"  {el} K pi* at {found[el]:.1f} eV (calibration line {PI_STAR_EV[el]:.1f} eV): "
                  f"axis offset {offsets[el]:+.1f} eV")
        for label, moved in (("as recorded", 0.0), (f"axis moved by {-shift:+.1f} eV", shift)):
            t = s.deepcopy()
            t.axes_manager.signal_axes[0].offset -= moved
            identify_elements(t, weights=args.weights, print_summary=False, show_progressbar=False)
            res = t.identification
            detected = sorted(set(res.detected) - {"C"})
            extra = ", ".join(f"{el} {100 * res.fraction[el]:.1f} %" for el in detected if el not in ("B", "N"))
            print(f"  {label:<24} detected {detected}  (B in {100 * res.fraction['B']:.1f} % of pixels; "
                  f"extras: {extra or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
