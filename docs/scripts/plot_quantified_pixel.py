"""One pixel of the real LSMO/STO line scan, fitted as ``eelsid quantify`` fits it.

The LSMO pixel (index 8) of the HyperSpy demos' line scan in
``../shared/eels-benchmark`` is identified with the shipped ensemble, then
fitted by ``quantify_elements`` with the detected elements and the file's
microscope parameters, without and with ``fine_structure=True``. The figure
shows the spectrum, the fitted model and its power-law background for both
(``plotting.plot_model_fit``, the figure of ``eelsid quantify --out`` for one
spectrum); the script prints the atomic percent of each fit with its
standard error. The data are read from the benchmark folder and never copied
into the repository.

Usage::

    python docs/scripts/plot_quantified_pixel.py [--pixel 8] [--benchmark PATH]
        [--out docs/figures/real_lsmo_pixel_fit.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _benchmark import add_benchmark_option, open_benchmark

HERE = Path(__file__).resolve().parent
SCAN_ID = "bf21ec0d9c"  # the LSMO/STO line scan


def main(argv=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from hyperspy_eelsid.plotting import plot_model_fit
    from hyperspy_eelsid.signals.composition import atomic_percent
    from hyperspy_eelsid.signals.loading import load_spectrum

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pixel", type=int, default=8, help="pixel of the line scan (default 8, in the LSMO)")
    add_benchmark_option(parser)
    parser.add_argument("--out", default=str(HERE.parent / "figures" / "real_lsmo_pixel_fit.png"))
    args = parser.parse_args(argv)
    root, manifest = open_benchmark(args.benchmark)
    if manifest is None:
        return 0
    entry = next(e for e in manifest["scans"] if e["id"] == SCAN_ID)
    s = load_spectrum(root / entry["file"]).inav[args.pixel]
    s.identify_elements(show_progressbar=False, print_summary=False)
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), constrained_layout=True, sharey=True)
    for ax, fine_structure in zip(axes, (False, True)):
        maps, model = s.quantify_elements(show_progressbar=False, return_model=True,
                                          fine_structure=fine_structure)
        shares = atomic_percent(maps)
        text = ", ".join(f"{m.metadata.EELSID.element} {float(m.data[0]):.1f} +- "
                         f"{float(np.sqrt(m.metadata.Signal.Noise_properties.variance.data[0])):.1f}"
                         for m in shares)
        label = "fine_structure=True" if fine_structure else "atomic cross sections only"
        print(f"{SCAN_ID} pixel {args.pixel}, {label}: at.% {text}")
        plot_model_fit(model, title=f"pixel {args.pixel}, {label}: at.% {text}", ax=ax)
        ax.title.set_fontsize(9)
    fig.suptitle(f"LSMO/STO line scan ({SCAN_ID}), elements detected by the network: "
                 f"{', '.join(s.identification.detected)}", fontsize=10)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
