"""Make the paper's Fig. 2 for CeO2 with our simulator.

Panels: (a) Ce and O edges from the GOS tables, (b) with generic fine
structure, (c) the generic low-loss spectrum, (d) edges convolved with it,
(e) plus the power-law background, (f) the final normalised spectrum with
Poisson noise and zero padding.

Usage::

    python docs/scripts/plot_simulation_ceo2.py [--gos-file FILE] [--seed N]
        [--out docs/figures/simulation_ceo2.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def find_batch(sim, seed, tries=200):
    """First spectrum (from ``seed`` on) whose range shows O K and Ce M4,5."""
    for s in range(seed, seed + tries):
        b = sim.simulate(1, seed=s, components=True)
        start, end = float(b.params["start_ev"][0]), float(b.params["end_ev"][0])
        if start < 450 and 1000 < end < 1400 and float(b.params["background_amplitude"][0]) >= 1e5:
            return s, b
    raise RuntimeError("no suitable CeO2 draw found; try another --seed")


def main(argv=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hyperspy_eelsid.elements import ELEMENTS
    from hyperspy_eelsid.physics.cross_sections import load_gosh
    from hyperspy_eelsid.simulation.config import SimulationConfig
    from hyperspy_eelsid.simulation.low_loss import NEGATIVE
    from hyperspy_eelsid.simulation.simulator import Simulator

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gos-file", default=None, help="GOSH file (default: the package's table)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(HERE.parent / "figures" / "simulation_ceo2.png"))
    a = p.parse_args(argv)

    cfg = SimulationConfig(elements=("O", "Ce"), n_elements_probs=(0.0, 1.0), gos_file=a.gos_file)
    sim = Simulator(cfg, database=load_gosh(a.gos_file))
    seed, b = find_batch(sim, a.seed)
    c = {k: v.cpu().numpy() for k, v in b.components.items()}
    prm = {k: v.cpu().numpy()[0] for k, v in b.params.items()}
    E = np.arange(3072)
    start, end = int(prm["start_ev"]), int(prm["end_ev"])
    shells = "KLMNO"

    fig, ax = plt.subplots(3, 2, figsize=(10, 9), constrained_layout=True)
    ax = ax.ravel()
    view = slice(max(start - 50, 0), min(end + 50, 3072))
    for q in range(c["edge_profiles_raw"].shape[0]):
        label = f"{ELEMENTS[int(c['edge_element'][q])]} {shells[int(c['edge_shell'][q])]}"
        ax[0].plot(E[view], c["edge_profiles_raw"][q][view], label=label)
        ax[1].plot(E[view], c["edge_profiles"][q][view], label=label)
    ax[0].set_title("(a) core-loss edges from the GOS tables")
    ax[1].set_title("(b) edges with generic fine structure")
    el = np.arange(c["low_loss"].shape[1]) - NEGATIVE
    ax[2].semilogy(el, c["low_loss"][0])
    ax[2].set_title(
        f"(c) low loss: ZLP {prm['zlp_fwhm_ev']:.1f} eV, {int(prm['n_plasmons'])} plasmons "
        f"at {prm['plasmon_energy_ev']:.0f} eV, t/λ = {prm['t_over_lambda']:.2f}"
    )
    ax[2].set_xlim(el[0], 150)
    ax[3].plot(E[view], c["edges_fs"][0][view], label="edges", alpha=0.6)
    ax[3].plot(E[view], c["convolved"][0][view], label="convolved")
    ax[3].set_title("(d) summed edges convolved with the low loss")
    rng = slice(start, end + 1)
    ax[4].plot(E[rng], (c["convolved"][0] + c["background"][0])[rng], label="edges + background")
    ax[4].plot(E[rng], c["background"][0][rng], "--", label="background")
    ax[4].set_title(
        f"(e) + background A = {prm['background_amplitude']:.0e}, r = {prm['background_exponent']:.2f}; "
        f"jump ratio {prm['jump_ratio']:.2f}"
    )
    ax[5].plot(E, b.spectra[0].cpu().numpy(), lw=0.7)
    ax[5].set_title(f"(f) noise, shift {int(prm['instrumental_shift_ev']):+d} eV, normalised, padded")
    ax[5].set_xlim(0, 3071)
    for i, axis in enumerate(ax):
        axis.set_xlabel("energy loss (eV)")
        axis.title.set_fontsize(10)
        if i in (0, 1, 3, 4):
            axis.legend(fontsize=8)
    fig.suptitle(
        f"Simulated CeO$_2$ spectrum (seed {seed}): E0 = {prm['beam_energy_kv']:.0f} kV, "
        f"α = {prm['convergence_mrad']:.1f} mrad, β = {prm['collection_mrad']:.1f} mrad, "
        f"{start}–{end} eV"
    )
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out, dpi=120)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
