"""Writer (and minimal reader) for GOSH-format HDF5 GOS tables.

Layout, as read by exSpy's :class:`~exspy._misc.eels.gosh_gos.GoshGOS`:

* ``/metadata/edges_info/<subshell>``: group with attributes ``table``
  (name of the tabulated shell, e.g. ``"L23"`` for ``L2`` and ``L3``) and
  ``occupancy_ratio`` (fraction of the tabulated shell that the subshell
  holds, e.g. 1/3 for L2 and 2/3 for L3: the statistical ``2j+1`` weights).
* ``/metadata/data_ref``: attribute ``data_doi``.
* ``/<Element>/<table>/data``: ``df/dE`` in 1/eV, float32, shape
  ``(n_q, n_E)`` (exSpy transposes it to ``(n_E, n_q)``).
* ``/<Element>/<table>/q``: momentum transfer in 1/m (exSpy multiplies by
  the Bohr radius and integrates over ``ln (q a0)^2``).
* ``/<Element>/<table>/free_energies``: kinetic energy of the ejected
  electron, eV, starting at 0 (exSpy adds the edge onset).

The GOS is that of the whole tabulated shell (all its electrons); exSpy
multiplies it by ``occupancy_ratio`` for each spin-orbit subshell.

Files are written without HDF5 timestamps and in sorted order so that the
same input gives byte-identical output.
"""

import json

import h5py
import numpy as np

__all__ = [
    "SUBSHELL_TABLES",
    "table_quantum_numbers",
    "write_gosh",
    "generation_attribute",
    "read_table",
    "BOHR_RADIUS_M",
]

BOHR_RADIUS_M = 5.29177210903e-11
"""Bohr radius in metres (CODATA 2018)."""

_SHELL_N = {"K": 1, "L": 2, "M": 3, "N": 4, "O": 5, "P": 6}


def _subshell_tables():
    table = {"K": ("K1", 1.0)}
    for shell in "LMNO":
        table[f"{shell}1"] = (f"{shell}1", 1.0)
        for lo, l in ((2, 1), (4, 2), (6, 3)):
            hi = lo + 1
            name = f"{shell}{lo}{hi}"
            # j = l - 1/2 holds 2l electrons, j = l + 1/2 holds 2l + 2
            table[f"{shell}{lo}"] = (name, l / (2 * l + 1))
            table[f"{shell}{hi}"] = (name, (l + 1) / (2 * l + 1))
            table[f"{shell}{lo},{hi}"] = (name, 1.0)
    return table


SUBSHELL_TABLES = _subshell_tables()
"""``{exSpy subshell name: (table name, occupancy_ratio)}``."""


def table_quantum_numbers(table):
    """Quantum numbers ``(n, l)`` of a table name such as ``'M45'``.

    Parameters
    ----------
    table : str

    Returns
    -------
    tuple of int
    """
    n = _SHELL_N[table[0]]
    l = {"1": 0, "23": 1, "45": 2, "67": 3}[table[1:]]
    return n, l


def generation_attribute(value):
    """How :func:`write_gosh` stores one metadata value: nested values as JSON text."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list, tuple)) else value


def write_gosh(path, tables, q_m, free_energies_ev, metadata, data_doi):
    """Write a GOSH file.

    Parameters
    ----------
    path : str or Path
    tables : dict
        ``{element: {table: gos}}`` with ``gos`` of shape ``(n_E, n_q)`` in
        1/eV.
    q_m : ndarray
        Momentum transfers in 1/m (shared by all tables).
    free_energies_ev : ndarray
        Ejected-electron energies in eV (shared by all tables).
    metadata : dict
        JSON-serialisable description stored as attributes of
        ``/metadata/generation`` (nested values are stored as JSON text).
    data_doi : str
        Stored as ``/metadata/data_ref`` attribute ``data_doi``.
    """
    q_m = np.asarray(q_m, dtype=np.float64)
    fe = np.asarray(free_energies_ev, dtype=np.float64)
    with h5py.File(path, "w", track_order=False) as h:
        meta = h.create_group("metadata")
        edges = meta.create_group("edges_info")
        for sub in sorted(SUBSHELL_TABLES):
            name, ratio = SUBSHELL_TABLES[sub]
            g = edges.create_group(sub)
            g.attrs["table"] = name
            g.attrs["occupancy_ratio"] = float(ratio)
        ref = meta.create_group("data_ref")
        ref.attrs["data_doi"] = data_doi
        gen = meta.create_group("generation")
        for key in sorted(metadata):
            gen.attrs[key] = generation_attribute(metadata[key])
        for el in sorted(tables):
            ge = h.create_group(el)
            for tab in sorted(tables[el]):
                gos = np.asarray(tables[el][tab], dtype=np.float32)
                if gos.shape != (fe.size, q_m.size):
                    raise ValueError(f"{el} {tab}: shape {gos.shape}")
                gt = ge.create_group(tab)
                gt.create_dataset("data", data=gos.T, track_times=False)
                gt.create_dataset("q", data=q_m, track_times=False)
                gt.create_dataset("free_energies", data=fe, track_times=False)


def read_table(path, element, table):
    """Read one table back.

    Parameters
    ----------
    path : str or Path
    element, table : str

    Returns
    -------
    gos : ndarray, shape (n_E, n_q)
        df/dE in 1/eV.
    q : ndarray
        1/m.
    free_energies : ndarray
        eV.
    """
    with h5py.File(path, "r") as h:
        g = h[f"{element}/{table}"]
        return g["data"][:].T, g["q"][:], g["free_energies"][:]
