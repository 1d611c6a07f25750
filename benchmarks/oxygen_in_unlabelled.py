"""How much O K signal the real benchmark spectra labelled *without* oxygen carry.

The benchmark labels an element present only when it belongs to the
documented compound. Metals and gases handled in air often carry an oxide
skin or adsorbed oxygen, and then an O K edge (532 eV) that the label calls
absent. This script measures it for every spectrum whose window covers
490-552 eV, whose labels do not include O (nor ignore it) and whose own
elements have no edge between 470 and 562 eV (Sb M4,5 and V L2,3 sit on O K):

* the spectrum is put on the networks' 1 eV grid with the preprocessing of the
  front end (``resample_to_grid``, no normalisation);
* a power law ``A E^-r`` is fitted (least squares in log-log) to 490-527 eV
  and extrapolated;
* ``net`` is the mean of (data - background) over 532-552 eV relative to the
  background there (the O K jump), and ``z`` is that mean divided by its
  standard error estimated from the scatter of the fit residuals (so it does
  not rely on the data being raw counts).

With ``--weights`` (default: the shipped ensemble) the O probability of the
network is listed too. With ``--rescore`` the model is scored on the whole
benchmark (as ``real_spectra.py`` does) twice: as labelled, and with O left
out of the scoring (like an ``ignore`` element) on the spectra whose O K edge
is clear, which tells how much of the error is this label noise. Skips cleanly
when ../shared is absent::

    python benchmarks/oxygen_in_unlabelled.py [--shared ../shared/eels-benchmark] [--weights DIR] [--rescore]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

FIT = (490, 527)
EDGE = (532, 552)
CLEAR = 0.04  # an O K jump of 4 % or more, at 10 standard errors or more


def oxygen_jump(grid: np.ndarray, window: np.ndarray):
    """``(net, z)`` of the O K edge in one spectrum on the 1 eV grid, or ``None``
    when the window does not cover the fit and edge ranges."""
    e = np.arange(grid.size, dtype=float)
    fit = (e >= FIT[0]) & (e <= FIT[1])
    edge = (e >= EDGE[0]) & (e <= EDGE[1])
    if not (window[fit].all() and window[edge].all()) or np.any(grid[fit | edge] <= 0):
        return None
    slope, icpt = np.polyfit(np.log(e[fit]), np.log(grid[fit]), 1)
    bg = np.zeros_like(e)
    bg[fit | edge] = np.exp(icpt + slope * np.log(e[fit | edge]))
    resid = grid[fit] / bg[fit] - 1.0
    net = float(np.mean(grid[edge] / bg[edge] - 1.0))
    z = net / (np.std(resid, ddof=2) / np.sqrt(edge.sum()))
    return net, float(z)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path,
                        default=Path(__file__).resolve().parents[1] / ".." / "shared" / "eels-benchmark")
    parser.add_argument("--weights", default=None, help="model or ensemble directory (default: shipped)")
    parser.add_argument("--rescore", action="store_true",
                        help="score the benchmark with and without O on the spectra with a clear O K edge")
    args = parser.parse_args(argv)

    from hyperspy_eelsid.evaluation import read_manifest

    manifest = read_manifest(args.shared)
    if manifest is None:
        print(f"no benchmark at {args.shared}: skipped")
        return 0
    from hyperspy_eelsid.elements import element_index, subshells
    from hyperspy_eelsid.preprocessing import energy_axis_from_signal, resample_to_grid, spectra_last
    from hyperspy_eelsid.signals.identification import identify_elements
    from hyperspy_eelsid.signals.loading import load_spectrum

    io = element_index("O")
    rows = []
    for entry in manifest["spectra"]:
        if "O" in entry.get("present", ()) or "O" in entry.get("ignore", ()):
            continue
        own = [x for x in entry.get("composition", ()) if x in manifest["elements"]]
        if any(subshells(x, FIT[0] - 20, EDGE[1] + 10, supplementary=True) for x in own):
            continue  # the element's own edge lies on O K
        s = load_spectrum(args.shared / entry["file"])
        grid, window = resample_to_grid(spectra_last(s).reshape(-1, s.axes_manager.signal_shape[0]),
                                        energy_axis_from_signal(s))
        res = oxygen_jump(grid[0], window)
        if res is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = identify_elements(s, weights=args.weights, print_summary=False, show_progressbar=False)
        rows.append((entry["id"], entry["compound"], *res, float(np.asarray(p.data).ravel()[io])))
    print(f"{len(rows)} benchmark spectra without O in their labels cover {FIT[0]}-{EDGE[1]} eV "
          "with no edge of their own elements there")
    print(f"O K jump: mean (data - power law) / power law over {EDGE[0]}-{EDGE[1]} eV, fit {FIT[0]}-{FIT[1]} eV;"
          " z: in units of its standard error")
    print(f"{'id':>10s}  {'compound':8s} {'O K jump':>9s} {'z':>7s} {'P(O)':>6s}")
    for r in sorted(rows, key=lambda r: -r[3]):
        print(f"{r[0]:>10s}  {r[1]:8s} {r[2]:9.3f} {r[3]:7.1f} {r[4]:6.2f}")
    strong = [r for r in rows if r[2] >= CLEAR and r[3] >= 10]
    print(f"{len(strong)} of {len(rows)} have an O K jump of {CLEAR:.0%} or more at 10 standard errors or more:",
          ", ".join(f"{r[1]} ({r[2]:.0%})" for r in strong))
    if args.rescore:
        rescore(manifest, args.shared, args.weights, {r[0] for r in strong})
    return 0


def rescore(manifest, root, weights, oxidised):
    """Print the benchmark figures as labelled and with O not scored on ``oxidised`` spectra."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from real_spectra import score_spectra

    from hyperspy_eelsid.elements import element_index
    from hyperspy_eelsid.evaluation import benchmark_report

    spectra = score_spectra(manifest, root, weights=weights)
    p, y, ignore = spectra["probabilities"], spectra["y_true"], spectra["ignore"]
    relaxed = ignore.copy()
    rows = [i for i, entry in enumerate(spectra["entries"]) if entry["id"] in oxidised]
    relaxed[rows, element_index("O")] = True
    print(f"\n{len(p)} spectra; O not scored on {len(rows)} of them in the second line of each pair")
    print(f"{'threshold':>18s} {'O scored':>9s} {'t':>6s} {'F1':>6s} {'EMR':>6s} {'RMSE':>6s}")
    for label, t in (("model card", spectra["card_threshold"]), ("P = R", None)):
        for name, ign in (("yes", ignore), ("no", relaxed)):
            r = benchmark_report(y, p, ignore=ign, threshold=t)
            print(f"{label:>18s} {name:>9s} {r['threshold']:6.3f} {r['f1']:6.3f} {r['emr']:6.3f} {r['rmse']:6.3f}")


if __name__ == "__main__":
    sys.exit(main())
