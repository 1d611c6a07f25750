"""Near-edge shapes of N K and Sc L3,2 in the real spectra of ../shared/eels-benchmark.

N K (401 eV) and Sc L3 (402 eV) start at the same energy. This script prints,
for the two N2 spectra, the two Sc2O3 spectra and the mean spectra of the two
h-BN line scans (their axes moved by the offsets their pi* peaks give,
``bn_scan_calibration.py``: -9.7 and -3.0 eV), the edge after a power law
fitted over 380-396 eV is subtracted, on the network's 1 eV grid, every 2 eV
from 396 to 438 eV, scaled to its highest point there. It shows why h-BN's
N K edge reads as Sc: its pi* peak (400-402 eV) and a sigma* peak 6 eV
above it (406-408 eV), of about the same height, look like Sc's L3 and L2
lines, 4 eV apart in Sc2O3 and drawn 5 eV apart (the table's onsets) by the
simulator, while N2 has one pi* line only. It also draws the same edges
over 390-440 eV into ``docs/figures/real_n_k_against_sc_l.png``. Run::

    python docs/scripts/n_k_against_sc_l.py

It exits cleanly with a message when ../shared is absent.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FIGURE = HERE.parent / "figures" / "real_n_k_against_sc_l.png"
BENCHMARK = HERE.parents[2] / "shared" / "eels-benchmark"
#: Benchmark id -> eV added to the file's energy axis (the BN line scans' calibration).
OFFSETS_EV = {"a31acd318c": -9.7, "375c4a6157": -3.0}
SHOWN = ("77560a882e", "a5a71ffeda", "579e58f058", "ef359d620e", "a31acd318c", "375c4a6157")
PRE_EV, SHOWN_EV = (380, 396), (396, 440)


def near_edge(x):
    """Spectrum on the 1 eV grid minus a power law fitted over ``PRE_EV``, scaled to 1 in ``SHOWN_EV``."""
    energy = np.arange(x.size, dtype=float)
    pre = slice(*PRE_EV)
    coef = np.polyfit(np.log(energy[pre]), np.log(np.clip(x[pre], 1e-12, None)), 1)
    edge = x - np.exp(np.polyval(coef, np.log(np.maximum(energy, 1.0))))
    return edge / edge[slice(*SHOWN_EV)].max()


def main():
    if not (BENCHMARK / "manifest.json").is_file():
        print(f"{BENCHMARK} not found: nothing to show.")
        return 0
    from hyperspy_eelsid import preprocessing as pp
    from hyperspy_eelsid.evaluation import read_manifest
    from hyperspy_eelsid.signals.loading import load_spectrum

    manifest = read_manifest(BENCHMARK)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    energies = np.arange(SHOWN_EV[0], SHOWN_EV[1], 2)
    fig, ax = plt.subplots(figsize=(7, 4))
    styles = {"N2": ("tab:blue", "-"), "Sc2O3": ("tab:red", "-"), "h-BN scan": ("tab:green", "-")}
    print("edge minus power law, scaled to its maximum in 396-438 eV")
    print(f"{'':24s}" + "".join(f"{e:6d}" for e in energies))
    for entry in manifest["spectra"] + manifest["scans"]:
        if entry["id"] not in SHOWN:
            continue
        s = load_spectrum(BENCHMARK / entry["file"])
        s.axes_manager.signal_axes[0].offset += OFFSETS_EV.get(entry["id"], 0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x, _ = pp.preprocess(s)
        edge = near_edge(np.asarray(x, dtype=float).reshape(-1, x.shape[-1]).mean(axis=0))
        compound = entry.get("compound") or "h-BN scan"
        label = f"{entry['id']} {compound}"
        print(f"{label:24s}" + "".join(f"{v:+6.2f}" for v in edge[energies]))
        color, _ = styles[compound]
        shown = np.arange(390, 441)
        ax.plot(shown, edge[shown], color=color, lw=1.2,
                label=f"{compound} ({entry['id'][:8]}" + (", calibrated)" if entry["id"] in OFFSETS_EV else ")"))
    for e, name in ((401, "N K / pi*"), (402, "Sc L3"), (407, "Sc L2")):
        ax.axvline(e, color="0.7", lw=0.8, ls="--")
        ax.text(e + 0.3, 1.08, name, fontsize=7, rotation=90, va="top", color="0.4")
    ax.set(xlabel="Energy loss (eV)", ylabel="edge after a power-law background (max = 1)", xlim=(390, 440),
           ylim=(-0.15, 1.12), title="Measured N K and Sc L3,2 edges (../shared/eels-benchmark)")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=100)
    print(f"wrote {FIGURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
