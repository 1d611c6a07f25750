"""A real spectrum and what the shipped ensemble makes of it, on the periodic table.

The Sc2O3 spectrum of ``../shared/eels-benchmark`` (the identification guide's
example) is identified with the shipped ensemble. The top panel shows the
spectrum with the part the networks did not read (below the gain splice)
shaded and the onsets of the elements involved marked; the bottom panel is
``s.plot_identification()``: each element's probability, the reported
elements framed in red and N, which the networks name but the Sc / N
classifier rules out, in dashed orange. The green dots mark the documented
composition. The data are read from the benchmark folder and never copied
into the repository.

Usage::

    python docs/scripts/plot_real_identification.py [--spectrum 579e58f058] [--benchmark PATH]
        [--out docs/figures/real_sc2o3_identification.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _benchmark import add_benchmark_option, open_benchmark

HERE = Path(__file__).resolve().parent


def main(argv=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from hyperspy_eelsid.elements import subshells
    from hyperspy_eelsid.signals.loading import load_spectrum

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spectrum", default="579e58f058", help="benchmark id (default: Sc2O3)")
    add_benchmark_option(parser)
    parser.add_argument("--out", default=str(HERE.parent / "figures" / "real_sc2o3_identification.png"))
    args = parser.parse_args(argv)
    root, manifest = open_benchmark(args.benchmark)
    if manifest is None:
        return 0
    entry = next(e for e in manifest["spectra"] if e["id"] == args.spectrum)
    s = load_spectrum(root / entry["file"])
    s.identify_elements(show_progressbar=False)
    summary = s.identification

    fig = plt.figure(figsize=(11, 9.5), constrained_layout=True)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.6])
    ax = top.subplots()
    energy = s.axes_manager.signal_axes[0].axis
    start = summary.read_from["energy_ev"] if summary.read_from else energy[0]
    shown = energy >= max(energy[0], start - 60)
    ax.plot(energy[shown], s.data[shown], color="k", lw=0.8)
    if summary.read_from:
        ax.axvspan(energy[shown][0], start, color="0.88", lw=0)
        ax.text(start - 4, 0.97, "not read\n(before the splice)", transform=ax.get_xaxis_transform(),
                ha="right", va="top", fontsize=8, color="0.35")
    named = list(summary.detected) + list(summary.dropped)
    for i, el in enumerate(named):
        dropped = el in summary.dropped
        edges = [e for e in subshells(el, energy[0], energy[-1], major_only=True) if e.onset_energy >= start]
        colour = "C1" if dropped else "C3"
        for edge in edges:
            ax.axvline(edge.onset_energy, color=colour, ls="--" if dropped else "-", lw=0.9)
        if edges:  # one label per element, left of the line for a ruled-out one
            x = edges[0].onset_energy + (-4 if dropped else 4)
            label = f"{el} {','.join(e.name for e in edges)}" + (" (ruled out by a check)" if dropped else "")
            ax.text(x, 0.97 - 0.08 * i, label, transform=ax.get_xaxis_transform(), fontsize=9, va="top",
                    ha="right" if dropped else "left", color=colour)
    visible = s.data[energy >= start]
    ax.set_ylim(0, 1.08 * np.nanmax(visible))
    ax.set_xlim(energy[shown][0], energy[-1])
    ax.set_xlabel("energy loss (eV)")
    ax.set_ylabel("counts")
    ax.set_title(f"{entry['compound']} ({entry['id']}), documented: {', '.join(entry['present'])}")
    s.plot_identification(present=entry["present"], title="Probabilities of the shipped ensemble",
                          ax=bottom.subplots())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"detected {summary.detected}, dropped by a check {summary.dropped}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
