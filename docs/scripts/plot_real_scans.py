"""Probability maps of two real scans from ``../shared/eels-benchmark``.

* the LSMO/STO line scan (HyperSpy demo data, La, Mn, O, Ti documented):
  the network's probability profile of every element detected with the 1 %
  filter, next to the mean spectrum of each half of the scan, and the
  profile of each element's fitted edge intensity from ``quantify_elements``
  with those elements and the file's microscope parameters (each profile
  divided by its highest value); it prints each element's intensity ratio
  to O, an atomic ratio, over the pixels that hold the element, without and
  with ``fine_structure=True``, and from the mean spectrum of those pixels
  fitted by exSpy's own non-linear fit, and the median atomic percent of
  every fitted element (``composition.atomic_percent``) over those pixels,
  with the median of the pixels' standard errors;
* the unlabelled 49 x 6 perovskite spectrum image (SciFiReaders test data):
  the probability map of every detected element.

The data are read from the benchmark folder and never copied into the
repository; only the figures are written.

Usage::

    python docs/scripts/plot_real_scans.py [--weights DIR] [--benchmark PATH]
        [--out docs/figures]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _benchmark import add_benchmark_option, open_benchmark

HERE = Path(__file__).resolve().parent
SCANS = {"bf21ec0d9c": "real_lsmo_sto_linescan.png", "b8b0b9d8e8": "real_perovskite_maps.png"}


def _mean_ratios(s, where, element):
    """Intensity ratio element/O of the mean spectrum of the pixels ``where``, fitted by exSpy's
    model (non-linear, every identified element) without and with the edges' fine-structure
    splines (exSpy's default width), which take up white lines that atomic cross sections lack."""
    import numpy as np

    mean = s.inav[np.flatnonzero(where).min():np.flatnonzero(where).max() + 1].mean()
    ratios = []
    for fine_structure in (False, True):
        m = mean.create_model()
        if fine_structure:
            m.enable_fine_structure()
        m.fit_background()
        m.fit()
        intensity = {c.element: c.intensity.value for c in m
                     if getattr(c, "element", None) and c.intensity.twin is None}
        ratios.append(intensity[element] / intensity["O"])
    return ratios


def _print_atomic_percent(scan_id, quantified, fits):
    """Median atomic percent of every fitted element over the pixels that hold each non-O
    element (above half its highest intensity), for each fit (label -> maps)."""
    import numpy as np

    from hyperspy_eelsid.signals.composition import atomic_percent

    for label, maps in fits.items():
        shares = {m.metadata.EELSID.element: (m.data, np.sqrt(m.metadata.Signal.Noise_properties.variance.data))
                  for m in atomic_percent(maps)}
        for element, values in quantified.items():
            if element == "O":
                continue
            where = values > 0.5 * np.nanmax(values)
            print(f"{scan_id}: atomic percent{label} (+- the median standard error of a pixel) over the "
                  f"{where.sum()} pixels that hold {element}: "
                  + ", ".join(f"{el} {np.median(v[where]):.1f} +- {np.median(e[where]):.1f}"
                              for el, (v, e) in sorted(shares.items())))


def plot_scan(entry, root, weights, out):
    """Identify one scan and draw its spectra and probability maps."""
    import matplotlib.pyplot as plt
    import numpy as np

    from hyperspy_eelsid.plotting import plot_maps
    from hyperspy_eelsid.signals.identification import elemental_map, identify_elements
    from hyperspy_eelsid.signals.loading import load_spectrum
    from hyperspy_eelsid.signals.quantification import quantify_elements

    s = load_spectrum(root / entry["file"])
    identify_elements(s, weights=weights, print_summary=False, show_progressbar=False)
    summary = s.identification
    detected = [e for e in summary.detected if e not in entry.get("ignore", [])]
    maps = elemental_map(s, elements=detected) if detected else []
    documented = entry["present"] or "not documented"
    title = (f"{Path(entry['source'].split(':')[-1]).name}: detected {', '.join(detected) or 'nothing'} "
             f"(documented: {documented}), t = {summary.threshold:.2f}")
    if s.axes_manager.navigation_dimension == 1:
        fig, (ax_s, ax_p, ax_q) = plt.subplots(1, 3, figsize=(16, 3.6))
        e = s.axes_manager.signal_axes[0].axis
        data = np.asarray(s.data, dtype=float)
        half = data.shape[0] // 2
        for part, label in ((data[:half], "first half of the scan"), (data[half:], "second half")):
            ax_s.plot(e, part.mean(axis=0), lw=1, label=label)
        ax_s.set(xlabel="Energy loss (eV)", ylabel="counts", title="mean spectra")
        ax_s.legend(fontsize=8)
        nav = s.axes_manager.navigation_axes[0]
        for m in maps:
            ax_p.plot(nav.axis, m.data, marker="o", ms=3, label=m.metadata.General.title)
        ax_p.axhline(summary.threshold, color="k", ls=":", lw=1, label="threshold")
        ax_p.set(xlabel=f"{nav.name} ({nav.units})", ylabel="probability", ylim=(-0.02, 1.02),
                 title="network probability along the scan")
        ax_p.legend(fontsize=8, ncol=2)
        # model-based quantification with the detected elements (the file holds the microscope parameters)
        fitted = quantify_elements(s, show_progressbar=False)
        quantified = {m.metadata.General.title: m.data for m in fitted}
        for element, values in quantified.items():
            ax_q.plot(nav.axis, values / np.nanmax(values), marker="o", ms=3, label=element)
        if "O" in quantified:  # intensity ratios are atomic ratios (same electrons, same collection)
            fitted_fs = quantify_elements(s, show_progressbar=False, fine_structure=True)
            with_fs = {m.metadata.General.title: m.data for m in fitted_fs}
            _print_atomic_percent(entry["id"], quantified, {"": fitted, " with fine_structure=True": fitted_fs})
            for element, values in quantified.items():
                where = values > 0.5 * np.nanmax(values)  # the pixels that hold the element
                if element == "O":
                    continue
                for label, maps in (("", quantified), (" with fine_structure=True", with_fs)):
                    ratio = maps[element][where] / maps["O"][where]
                    print(f"{entry['id']}: {element}/O{label} over the {where.sum()} pixels above half its "
                          f"highest intensity: median {np.median(ratio):.3f}, "
                          f"range {ratio.min():.3f}-{ratio.max():.3f}")
                print(f"{entry['id']}: {element}/O of the mean spectrum of those pixels, exSpy's "
                      "non-linear fit without / with its fine-structure splines: "
                      + " / ".join(f"{r:.3f}" for r in _mean_ratios(s, where, element)))
        ax_q.axhline(0.0, color="k", lw=0.5)
        ax_q.set(xlabel=f"{nav.name} ({nav.units})", ylabel="fitted edge intensity / its highest value",
                 title="quantify_elements along the scan")
        ax_q.legend(fontsize=8, ncol=2)
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
    else:
        fig = plot_maps(maps, title=title, vmax=1.0)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return detected


def main(argv=None):
    import matplotlib

    matplotlib.use("Agg")

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None, help="ensemble directory (default: shipped)")
    add_benchmark_option(parser)
    parser.add_argument("--out", default=str(HERE.parent / "figures"))
    args = parser.parse_args(argv)
    root, manifest = open_benchmark(args.benchmark)
    if manifest is None:
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for entry in manifest["scans"]:
        if entry["id"] in SCANS:
            detected = plot_scan(entry, root, args.weights, out / SCANS[entry["id"]])
            print(f"{entry['id']}: detected {detected}; wrote {out / SCANS[entry['id']]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
