"""Driver that builds the package's GOSH table of HFS GOS.

For every element, the SCF HFS atom is solved once
(:func:`.atom.solve_atom`) and the GOS of every shell needed by the
element table's subshells with onsets in [``emin``, ``emax``] eV is computed
(:func:`.gos.subshell_gos`) on shared energy and momentum grids:

* ``free_energies``: ``E_i = a (exp(b i) - 1)``, ``i = 0..N_E-1``, first
  step 0.5 eV, last point 3500 eV above threshold (``N_E = 128``).
* ``q``: ``N_q = 128`` points logarithmically spaced in ``q a0`` from 0.005
  to 60 (1/bohr), stored in 1/m. The lower end lies below ``q_min`` of a
  50 eV loss at 300 kV (``q a0 = 0.017``) and the upper end above
  ``q_max`` for 100 mrad at 300 kV (``q a0 ~ 17``) and the Bethe ridge of a
  7.5 keV loss (``q a0 ~ 23``).

Output is deterministic: no dates, sorted groups, no HDF5 timestamps.
"""

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.optimize import brentq

from .._version import __version__
from .atom import solve_atom
from .gos import subshell_gos
from .gosh_io import BOHR_RADIUS_M, SUBSHELL_TABLES, generation_attribute, table_quantum_numbers, write_gosh

__all__ = [
    "energy_grid",
    "q_grid",
    "tables_for_element",
    "compute_element",
    "build_gosh",
    "DEFAULT_EMIN",
    "DEFAULT_EMAX",
]

DEFAULT_EMIN = 50.0
DEFAULT_EMAX = 4000.0
N_ENERGY = 128
#: Slater exchange parameter of the shipped table: 2/3 (Kohn-Sham-Gaspar). It
#: reproduces the Hartree-Slater reference better than Herman-Skillman's 1
#: (87 % against 66 % of edges within 15 %; docs/physics_validation.md).
DEFAULT_ALPHA = 2.0 / 3.0

E_FIRST_STEP = 0.5
E_LAST = 3500.0
N_Q = 128
QA0_MIN = 0.005
QA0_MAX = 60.0
METHOD = (
    "Non-relativistic Hartree-Fock-Slater (Herman-Skillman type) atom: Slater "
    "X-alpha exchange (alpha in scf), Latter tail -1/r, spherically averaged ground-state "
    "configuration. Continuum final states in the same ground-state potential "
    "(no core hole), normalised per unit energy (WKB amplitude at 300 bohr). "
    "First Born approximation GOS df/dE summed over final l' and multipoles "
    "lambda with j_lambda(qr) radial matrix elements; whole shell, exSpy "
    "applies the 2j+1 occupancy ratio. Energy loss = |HFS eigenvalue| + E."
)


def energy_grid(n=N_ENERGY, first_step=E_FIRST_STEP, last=E_LAST):
    """Ejected-electron energies (eV) of the tables.

    Parameters
    ----------
    n : int
        Number of points.
    first_step : float
        ``E_1 - E_0`` in eV.
    last : float
        ``E_{n-1}`` in eV.

    Returns
    -------
    ndarray
    """
    b = brentq(lambda b: np.expm1((n - 1) * b) / np.expm1(b) - last / first_step,
               1e-6, 600.0 / (n - 1))
    a = first_step / np.expm1(b)
    e = a * np.expm1(b * np.arange(n))
    e[-1] = last
    return e


def q_grid(n=N_Q, qa0_min=QA0_MIN, qa0_max=QA0_MAX):
    """Momentum transfers of the tables in 1/bohr.

    Parameters
    ----------
    n : int
    qa0_min, qa0_max : float

    Returns
    -------
    ndarray
    """
    return np.geomspace(qa0_min, qa0_max, n)


def tables_for_element(symbol, emin=DEFAULT_EMIN, emax=DEFAULT_EMAX):
    """Tables (e.g. ``'L23'``) needed for an element's subshells in range.

    Parameters
    ----------
    symbol : str
    emin, emax : float
        Onset window in eV (element table onsets).

    Returns
    -------
    list of str
        Sorted table names.
    """
    from ..elements import subshells

    names = set()
    for sub in subshells(symbol, emin=emin, emax=emax, supplementary=True):
        names.add(SUBSHELL_TABLES[sub.name][0])
    return sorted(names)


def compute_element(symbol, tables=None, energies_ev=None, q_au=None, alpha=DEFAULT_ALPHA,
                    occupations=None):
    """Solve the atom and compute its tables.

    Parameters
    ----------
    symbol : str
    tables : list of str, optional
        Default :func:`tables_for_element`.
    energies_ev, q_au : ndarray, optional
        Default :func:`energy_grid`, :func:`q_grid`.
    alpha : float
        Slater exchange parameter (1 = Herman-Skillman, 2/3 = Kohn-Sham).
    occupations : dict, optional
        ``{(n, l): occupation}`` of the atom; default its ground-state
        configuration (:func:`~hyperspy_eelsid.physics.configurations.configuration`),
        as the shipped table. Another one serves sensitivity studies.

    Returns
    -------
    dict
        ``{"tables": {table: gos (n_E, n_q)}, "eigenvalues": {...},
        "scf_iterations": int, "seconds": float}``.
    """
    t0 = time.perf_counter()
    if tables is None:
        tables = tables_for_element(symbol)
    if energies_ev is None:
        energies_ev = energy_grid()
    if q_au is None:
        q_au = q_grid()
    atom = solve_atom(symbol, occupations=occupations, alpha=alpha)
    out = {}
    for tab in tables:
        n, l = table_quantum_numbers(tab)
        if (n, l) not in atom.occupations:
            raise ValueError(f"{symbol} has no {n},{l} electrons for table {tab}")
        out[tab] = subshell_gos(atom, n, l, energies_ev, q_au)
    return {
        "tables": out,
        "eigenvalues": {atom.label(*k): float(v) for k, v in atom.energies.items()},
        "scf_iterations": atom.iterations,
        "seconds": time.perf_counter() - t0,
    }


def _worker(job):
    symbol, alpha = job
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    return symbol, compute_element(symbol, alpha=alpha)


def _generation_metadata(alpha):
    """What ``/metadata/generation`` records about how the tables were computed (the
    elements and their eigenvalues are added per file)."""
    return {
        "code": "hyperspy-eelsid",
        "code_version": __version__,
        "method": METHOD,
        "units": "data: df/dE in 1/eV per atom for the whole shell, shape (n_q, n_E); "
                 "q: 1/m; free_energies: eV above threshold",
        "energy_grid": {"n": N_ENERGY, "first_step_eV": E_FIRST_STEP,
                        "last_eV": E_LAST, "form": "a*(exp(b*i)-1)"},
        "q_grid": {"n": N_Q, "qa0_min": QA0_MIN, "qa0_max": QA0_MAX,
                   "form": "logarithmic"},
        "radial_grid": {"form": "x = ln r + r/beta", "r_min_bohr": 1e-5,
                        "h": 0.01, "beta_bohr": 4.0, "r_max_bound_bohr": 60.0,
                        "r_max_continuum_bohr": 300.0},
        "scf": {"exchange": f"Slater X-alpha, alpha={alpha:.6g}", "tail": "Latter -1/r",
                "tolerance": "max|r dV| < 1e-6 Z Ha bohr, eigenvalues 1e-7"},
        "onset_window_eV": [DEFAULT_EMIN, DEFAULT_EMAX],
    }


def _stored_elements(path, alpha, skip=()):
    """The tables and eigenvalues of the elements of an existing GOSH file (other than
    ``skip``), after checking that the file was computed as this build computes.

    Raises
    ------
    ValueError
        If the file records another exchange parameter, grid or method (other than the
        code version), so that its tables cannot stand next to new ones.
    """
    import h5py

    expected = _generation_metadata(alpha)
    with h5py.File(path, "r") as h:
        stored = dict(h["metadata/generation"].attrs) if "metadata/generation" in h else {}
        differ = []
        for key, value in expected.items():
            if key == "code_version":
                continue
            if stored.get(key) != generation_attribute(value):
                differ.append(key)
        if differ:
            raise ValueError(
                f"{path} was not computed as this build computes (it differs in: {', '.join(differ)}; "
                f"this build: {expected['scf']['exchange']}). Rebuild all its elements (`eelsid gos "
                "build` without --elements), or write the chosen ones to another file (--out)."
            )
        eigenvalues = json.loads(stored["hfs_eigenvalues_hartree"])
        return {
            el: {"tables": {tab: h[el][tab]["data"][:].T for tab in h[el]}, "eigenvalues": eigenvalues[el]}
            for el in h if el != "metadata" and el not in skip
        }


def build_gosh(path, elements=None, workers=1, log=print, alpha=DEFAULT_ALPHA, keep_others=False):
    """Build a GOSH file.

    Parameters
    ----------
    path : str or Path
        Output file.
    elements : list of str, optional
        Default all of :data:`hyperspy_eelsid.elements.ELEMENTS`.
    workers : int
        Number of processes.
    log : callable or None
        Progress printer.
    alpha : float
        Slater exchange parameter of the atom (default 2/3, as shipped).
    keep_others : bool
        When ``path`` exists, keep the tables of its other elements and replace
        only those of ``elements`` (what ``eelsid gos build --elements`` does).
        The result is byte for byte the file that one build of all of them with
        the same code gives on the same machine.

    Returns
    -------
    dict
        Summary: elements written, number of tables, wall time (s), and the
        elements kept from the existing file.

    Raises
    ------
    ValueError
        For symbols outside the element table, or with ``keep_others`` when the
        existing file was computed with another ``alpha``, grid or method.
    FileNotFoundError
        If the folder of ``path`` does not exist (checked before computing).
    """
    from pathlib import Path

    from .._output import missing_folder
    from ..elements import ELEMENTS

    if elements is None:
        elements = list(ELEMENTS)
    unknown = [e for e in elements if e not in ELEMENTS]
    if unknown:
        raise ValueError(f"elements not in the element table (Be..Bi, case-sensitive): {unknown}")
    unwritable = missing_folder(path)
    if unwritable:  # before minutes of computing, not after
        raise FileNotFoundError(unwritable)
    kept = _stored_elements(path, alpha, skip=set(elements)) if keep_others and Path(path).is_file() else {}
    t0 = time.perf_counter()
    results = {}
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as ex:
            for sym, res in ex.map(_worker, [(e, alpha) for e in elements]):
                results[sym] = res
                if log:
                    log(f"{sym}: {sorted(res['tables'])} {res['seconds']:.1f} s")
    else:
        for sym in elements:
            _, res = _worker((sym, alpha))
            results[sym] = res
            if log:
                log(f"{sym}: {sorted(res['tables'])} {res['seconds']:.1f} s")
    built = sorted(results)
    results.update(kept)
    e = energy_grid()
    q = q_grid()
    metadata = _generation_metadata(alpha)
    metadata["elements"] = sorted(results)
    metadata["hfs_eigenvalues_hartree"] = {s: results[s]["eigenvalues"] for s in sorted(results)}
    # written next to the output and moved over it when complete: a failed write (a full
    # disk, an interruption) leaves the existing table as it was
    partial = Path(path).with_name(f".{Path(path).name}.{os.getpid()}.partial")
    try:
        write_gosh(partial, {s: results[s]["tables"] for s in results}, q / BOHR_RADIUS_M,
                   e, metadata,
                   data_doi="none: computed by hyperspy-eelsid (eelsid gos build)")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    wall = time.perf_counter() - t0
    return {"elements": built,
            "tables": sum(len(results[s]["tables"]) for s in built),
            "seconds": wall,
            "kept": sorted(kept)}
