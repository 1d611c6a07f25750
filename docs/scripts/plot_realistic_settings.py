"""White lines and giant resonances in simulated MnO, CeO2 and Nd2O3 spectra.

With the settings of configs/simulation/realistic_v4.json (or --config), for
the first three draws (seed 0) of each compound whose range covers the
plotted window, one panel each: the continuum edges from the GOS tables, the
white lines (Mn L2,3, Ce M4,5) or the 4d -> 4f giant resonance (Nd N4,5)
added on top of them (with ``giant_resonance_fano_q`` the resonance is the
Fano profile's change of the continuum edge), and the edges after fine structure and low-loss
convolution (no background, no noise), all scaled together.

Usage::

    python docs/scripts/plot_realistic_settings.py [--seed N] [--config JSON] [--out docs/figures/simulation_realistic.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

#: compound, elements, plotted window (eV): the spectrum must cover it
CASES = (
    ("MnO", ("Mn", "O"), (580, 800)),
    ("CeO2", ("Ce", "O"), (800, 1020)),
    ("Nd2O3", ("Nd", "O"), (95, 300)),
)


def main(argv=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from hyperspy_eelsid.simulation.config import SimulationConfig, read_overrides
    from hyperspy_eelsid.simulation.simulator import Simulator

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", default=str(ROOT / "configs" / "simulation" / "realistic_v4.json"))
    p.add_argument("--out", default=str(HERE.parent / "figures" / "simulation_realistic.png"))
    a = p.parse_args(argv)
    overrides = read_overrides(a.config)
    n_draws = 3
    fig, axes = plt.subplots(len(CASES), n_draws, figsize=(4 * n_draws, 3.2 * len(CASES)), squeeze=False)
    e = np.arange(3072)
    for row, (name, elements, window) in enumerate(CASES):
        cfg = SimulationConfig.from_dict({**overrides, "elements": elements, "n_elements_probs": (0, 1), "hard_pair_fraction": 0.0})
        b = Simulator(cfg).simulate(256, seed=a.seed, components=True)
        c = b.components
        start, end = b.params["start_ev"].numpy(), b.params["end_ev"].numpy()
        lo, hi = window
        shown = [k for k in range(256) if start[k] <= lo and end[k] >= hi][:n_draws]
        spectrum = c["edge_spectrum"].numpy()
        for col, i in enumerate(shown):
            ax = axes[row, col]
            rows = spectrum == i
            raw = c["edge_profiles_raw"].numpy()[rows].sum(0)
            white = c["white_lines"].numpy()[rows].sum(0)
            final = c["convolved"].numpy()[i]
            sel = (e >= lo) & (e <= hi)
            top = max(final[sel].max(), (raw + white)[sel].max())
            ax.plot(e, raw / top, color="0.5", lw=1, label="continuum edges (GOS)")
            ax.plot(e, (raw + white) / top, color="tab:blue", lw=1, label="+ white lines / giant resonance")
            ax.plot(e, final / top, color="k", lw=1.2, label="+ fine structure, convolved")
            ax.set_xlim(lo, hi)
            ax.set_ylim(0, 1.05)
            ax.set_title(f"{name}, draw {i} (E0 {b.params['beam_energy_kv'][i]:.0f} kV)", fontsize=9)
            ax.set_xlabel("energy loss (eV)")
            if col == 0:
                ax.set_ylabel("relative intensity")
    axes[0, 0].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out, dpi=110)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
