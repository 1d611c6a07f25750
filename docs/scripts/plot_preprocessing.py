"""Figure for docs/preprocessing.md: real spectra before and after preprocessing.

Three spectra of the real-spectrum benchmark in ../shared/eels-benchmark (not
part of this repository): a 4 eV/channel Gatan Atlas spectrum of Au that starts
below 0 eV and reaches beyond 3071 eV, a 0.2 eV/channel TiO spectrum, and a
2 eV/channel Gatan Atlas Se spectrum that is both spliced and clipped at the
camera's highest count. Run::

    python docs/scripts/plot_preprocessing.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
EXAMPLES = [("0363b2544d", "Au, 4 eV/channel, -216..3876 eV"), ("e83622b63c", "TiO, 0.2 eV/channel"),
            ("a7f6338256", "Se, 2 eV/channel, spliced and saturated")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared")
    parser.add_argument("--out", type=Path, default=HERE.parent / "figures" / "preprocessing.png")
    args = parser.parse_args(argv)
    import json

    import hyperspy.api as hs

    import warnings

    from hyperspy_eelsid.preprocessing import GRID, preprocess
    from hyperspy_eelsid.saturation import SaturationWarning, saturation_ends
    from hyperspy_eelsid.splices import SpliceWarning, splice_onsets

    bench = args.shared / "eels-benchmark"
    manifest = {e["id"]: e for e in json.loads((bench / "manifest.json").read_text())["spectra"]}
    fig, axes = plt.subplots(len(EXAMPLES), 2, figsize=(10, 3 * len(EXAMPLES)), constrained_layout=True)
    for row, (sid, title) in zip(axes, EXAMPLES):
        s = hs.load(bench / manifest[sid]["file"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SpliceWarning)
            warnings.simplefilter("ignore", SaturationWarning)
            x, window = preprocess(s)
        energy = s.axes_manager.signal_axes[0].axis
        splice = float(splice_onsets(s.data, energy))
        clipped_to = float(saturation_ends(s.data, energy))
        row[0].plot(energy, s.data, lw=0.8, color="0.2")
        row[0].set(title=f"measured: {title}", xlabel="energy loss (eV)", ylabel="counts")
        row[0].set_yscale("log" if s.data.min() > 0 else "linear")
        row[1].plot(GRID, x, lw=0.8, color="C0")
        first = np.nanmax([GRID[window][0], splice + 1, clipped_to + 1])
        row[1].axvspan(first, GRID[window][-1], color="C0", alpha=0.08, label="measured window")
        row[1].axvline(75, color="C3", lw=0.8, ls="--", label="75 eV: low-loss cut")
        if not np.isnan(splice):
            row[0].axvline(splice, color="C1", lw=0.8, ls=":", label=f"gain splice ({splice:.0f} eV)")
            row[0].legend(loc="upper right", fontsize=8)
            row[1].axvline(splice, color="C1", lw=0.8, ls=":", label="gain splice")
        if not np.isnan(clipped_to):
            clip = s.data == s.data.max()
            low = energy[clip & (energy >= (0 if np.isnan(splice) else splice))].min()
            row[0].axvspan(low, clipped_to, color="C3", alpha=0.15, label="saturated (camera's highest count)")
            row[0].legend(loc="upper right", fontsize=8)
            row[1].axvline(clipped_to, color="C3", lw=0.8, ls=":", label="end of saturation: read from here")
        row[1].set(title="network input (1 eV, 0..3071 eV, normalised)", xlabel="energy loss (eV)", xlim=(0, 3071))
        row[1].legend(loc="upper right", fontsize=8)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
