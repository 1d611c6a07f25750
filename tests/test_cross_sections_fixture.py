"""A small GOSH file for tests, tabulated from exSpy's hydrogenic GOS.

The file has the layout exSpy's ``GoshGOS`` reads, so the same file can be
fed to :class:`hyperspy_eelsid.physics.cross_sections.GOSHDatabase` and to
``exspy.components.EELSCLEdge(..., gos_file_path=...)``. The hydrogenic GOS is
only a convenient smooth source of numbers here, not physics we rely on.
"""

from __future__ import annotations

import numpy as np

#: K and L edges written by default: light-element K edges and 3d-metal L edges.
DEFAULT_EDGES = (
    "B_K", "C_K", "N_K", "O_K", "F_K", "Mg_K", "Al_K", "Si_K",
    "Ti_L3", "Cr_L3", "Mn_L3", "Fe_L3", "Ni_L3", "Cu_L3",
)
#: GOSH table name and occupancy ratio per subshell.
CONVENTIONS = {"K": ("K1", 1.0), "L3": ("L3", 1.0)}


def hydrogenic_table(element_subshell, n_energy=50, n_q=96):
    """Relative energies (eV), q (1/m) and GOS (n_E, n_q) of one hydrogenic edge."""
    from exspy._misc.eels.hydrogenic_gos import HydrogenicGOS
    from scipy import constants

    a0 = constants.value("Bohr radius")
    gos = HydrogenicGOS(element_subshell)
    rel = gos.get_parametrized_energy_axis(50, 3, n_energy)
    qa0 = np.geomspace(5e-3, 60.0, n_q)
    table = np.empty((rel.size, qa0.size))
    for i, e in enumerate(rel + gos.onset_energy):
        for j, x in enumerate(qa0):
            table[i, j] = gos.gosfunc(e, x * x)
    return rel, qa0 / a0, table


def write_gosh(path, edges=DEFAULT_EDGES, n_energy=50, n_q=96):
    """Write a GOSH file with hydrogenic tables for ``edges`` (e.g. ``"C_K"``)."""
    import h5py

    with h5py.File(path, "w") as h:
        meta = h.create_group("metadata")
        meta.create_group("data_ref").attrs["data_doi"] = "none (test fixture)"
        info = meta.create_group("edges_info")
        for sub, (table, ratio) in CONVENTIONS.items():
            g = info.create_group(sub)
            g.attrs["table"] = table
            g.attrs["occupancy_ratio"] = ratio
        for label in edges:
            element, sub = label.split("_")
            rel, q, gos = hydrogenic_table(label, n_energy, n_q)
            grp = h.require_group(element).create_group(CONVENTIONS[sub][0])
            # exSpy reads squeeze(data.T) as (n_E, n_q)
            grp.create_dataset("data", data=gos.T)
            grp.create_dataset("q", data=q)
            grp.create_dataset("free_energies", data=rel + 1.0)
    return path
