"""Validate the package's HFS GOS table against the Hartree-Slater reference.

Usage::

    python docs/scripts/plot_gos_validation.py [--reference PATH] [--gos PATH]
        [--table docs/figures/physics_validation_table.md]
        [--figure docs/figures/physics_gos_validation.png]

Runs every reference edge through exSpy (see
:mod:`hyperspy_eelsid.physics.reference_check`), prints the summary
statistics, writes a Markdown per-edge table and plots a K, an L, an M and
an N edge, ours against the reference, with the ratio below each panel.
The reference file is never copied; only derived statistics are written.
"""

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REF = ROOT.parent / "shared" / "reference" / "hartree_slater_rez_edges.npz"
PANELS = ("Si_K", "Fe_L", "Au_M", "Lu_N")


def summary(results):
    """Summary statistics over edges with points beyond onset + 30 eV."""
    used = [r for r in results if r["mask"].any()]
    med = np.median([r["median_abs_dev"] for r in used])
    within = np.mean([r["max_abs_dev"] <= 0.15 for r in used])
    each = [r for r in used if r["mask_each"].any()]
    return {"edges": len(results), "compared": len(used),
            "median_of_median_abs_dev": float(med), "fraction_within_15pct": float(within),
            # the 30 eV above every onset of the shell left out, not only above the lowest
            "compared_each_onset": len(each),
            "median_of_median_abs_dev_each_onset": float(np.median([r["median_abs_dev_each"] for r in each])),
            "fraction_within_15pct_each_onset": float(np.mean([r["max_abs_dev_each"] <= 0.15 for r in each]))}


def markdown_table(results):
    lines = ["| edge | onset (eV) | points | median ratio | median abs(ratio-1) | max abs(ratio-1) "
             "| max abs(ratio-1), 30 eV above each onset left out |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        n = int(r["mask"].sum())
        if n:
            each = f"{r['max_abs_dev_each']:.3f}" if r["mask_each"].any() else "-"
            lines.append(f"| {r['name']} | {r['onset']:.0f} | {n} | {r['median_ratio']:.3f} | "
                         f"{r['median_abs_dev']:.3f} | {r['max_abs_dev']:.3f} | {each} |")
        else:
            lines.append(f"| {r['name']} | {r['onset']:.0f} | 0 | - | - | - | - |")
    return "\n".join(lines) + "\n"


def plot(results, figure):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_name = {r["name"]: r for r in results}
    fig, axes = plt.subplots(2, 4, figsize=(14, 5.5), sharex="col",
                             gridspec_kw={"height_ratios": [3, 1]})
    for k, name in enumerate(PANELS):
        r = by_name.get(name)
        if r is None:
            continue
        ax, axr = axes[0, k], axes[1, k]
        ax.plot(r["energy"], r["ref"], "k-", lw=1.5, label="Hartree-Slater (Rez)")
        ax.plot(r["energy"], r["ours"], "C3--", lw=1.5, label="this work (HFS)")
        ax.axvline(r["onset"] + 30, color="0.6", lw=0.8, ls=":")
        ax.set_title(name.replace("_", " "))
        ax.set_ylabel("cross section (barn/eV)")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(r["ref"] > 0, r["ours"] / r["ref"], np.nan)
        axr.plot(r["energy"], ratio, "C0-")
        axr.axhspan(0.85, 1.15, color="0.9")
        axr.axhline(1, color="k", lw=0.8)
        axr.set_ylim(0.4, 1.6)
        axr.set_xlabel("energy loss (eV)")
        axr.set_ylabel("ours / ref")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("100 kV, 5 mrad convergence, 10 mrad collection; every edge intensity 1")
    fig.tight_layout()
    fig.savefig(figure, dpi=110)


def main(argv=None):
    from hyperspy_eelsid.physics.gos_table import gos_file
    from hyperspy_eelsid.physics.reference_check import compare_all

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reference", default=str(DEFAULT_REF))
    p.add_argument("--gos", default=None)
    p.add_argument("--table", default=str(ROOT / "docs" / "figures" / "physics_validation_table.md"))
    p.add_argument("--figure", default=str(ROOT / "docs" / "figures" / "physics_gos_validation.png"))
    args = p.parse_args(argv)
    gos = args.gos or gos_file()
    results = compare_all(args.reference, gos)
    stats = summary(results)
    print(stats)
    Path(args.table).write_text(markdown_table(results))
    plot(results, args.figure)
    return stats


if __name__ == "__main__":
    main()
