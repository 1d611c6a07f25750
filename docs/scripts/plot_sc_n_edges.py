"""Sc L2,3 against N K in spectra simulated with realistic_v8 and realistic_v13.

N K (401 eV) and Sc L2,3 (402 / 407 eV) start within the simulator's shifts
of each other. This draws the edges with their white lines, pi* peaks and
random fine structure (before the low-loss convolution, background and
noise) of four spectra of each element per setting, 380-460 eV. Run::

    python docs/scripts/plot_sc_n_edges.py

It writes docs/figures/simulation_sc_n_edges.png.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from hyperspy_eelsid.simulation.config import SimulationConfig, exact_elements, read_overrides  # noqa: E402
from hyperspy_eelsid.simulation.simulator import Simulator  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "figures" / "simulation_sc_n_edges.png"
SETTINGS = ("realistic_v8", "realistic_v13")
N_DRAWS = 4


def edges(setting: str, element: str, n: int, seed: int = 5):
    """Edges with fine structure of ``n`` single-element spectra ending at most at 600 eV."""
    overrides = exact_elements(read_overrides(ROOT / "configs" / "simulation" / f"{setting}.json"), [element], 600)
    batch = Simulator(SimulationConfig.from_dict(overrides)).simulate(n, seed=seed, components=True)
    return batch.components["edges_fs"].numpy()


def main():
    energy = np.arange(3072)
    window = (energy >= 380) & (energy <= 460)
    fig, axes = plt.subplots(len(SETTINGS), 2, figsize=(10, 6), sharex=True)
    for row, setting in enumerate(SETTINGS):
        for col, element in enumerate(("Sc", "N")):
            ax = axes[row, col]
            for y in edges(setting, element, N_DRAWS):
                ax.plot(energy[window], y[window] / y[window].max())
            for onset in (401, 402, 407):
                ax.axvline(onset, color="0.8", lw=0.8, zorder=0)
            ax.set_title(f"{element} alone, {setting}", fontsize=10)
            ax.set_yticks([])
    for ax in axes[-1]:
        ax.set_xlabel("energy loss (eV)")
    for ax in axes[:, 0]:
        ax.set_ylabel("edge (each scaled to 1)")
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=100)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
