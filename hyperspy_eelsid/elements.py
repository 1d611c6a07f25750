"""The element and edge table: the 80 elements Be..Bi and their core-loss subshells.

This module is the single owner of

* the network output order (:data:`ELEMENTS`, the paper's order Be..Bi), and
* for every element, its core-loss subshells between 50 and 4000 eV with their
  onset energies, names in exSpy's convention (``K``, ``L1``, ``L2``, ``L3``,
  ``M4``, ``M5``, ...) and relevance (``"Major"`` / ``"Minor"``).

It reads ``data/elements.json``, which ``scripts/make_element_table.py``
generates from exSpy's element table, so it imports neither HyperSpy nor
exSpy (the training machine has only numpy/scipy/torch/h5py).

exSpy lists the subshells an EELS user quantifies, not every subshell a
spectrum shows (the 5d metals have no M1-M3 or N edges there, the
lanthanides no N1-N3, S and Cl no K edge). The table also holds those
*supplementary* subshells, with the edge energies of Elam, Ravel & Sieber
(2002), all "Minor"; :func:`subshells` returns them only when asked
(``supplementary=True``): the GOS file has tables for them and the simulator
can draw them, while labels and quantification follow exSpy's list.

Examples
--------
>>> from hyperspy_eelsid.elements import ELEMENTS, subshells
>>> ELEMENTS[0], ELEMENTS[-1], len(ELEMENTS)
('Be', 'Bi', 80)
>>> [s.name for s in subshells("Fe", emin=75, emax=3071)]
['L3', 'L2', 'L1']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = [
    "ELEMENTS",
    "LANTHANIDES",
    "N_ELEMENTS",
    "Subshell",
    "atomic_number",
    "element_index",
    "subshells",
    "edges_in_window",
    "coincident_edges",
    "minor_edges_near",
    "shell_of",
]

_TABLE_FILE = "elements.json"


@dataclass(frozen=True)
class Subshell:
    """One core-loss subshell of one element.

    Attributes
    ----------
    element : str
        Chemical symbol, e.g. ``"Fe"``.
    name : str
        Subshell name in exSpy's convention, e.g. ``"L3"``.
    onset_energy : float
        Edge onset energy in eV (exSpy's table, from the Gatan EELS Atlas).
    relevance : str
        ``"Major"`` or ``"Minor"``, as in exSpy's table.
    edge : str
        Qualitative edge shape from the Atlas (e.g. ``"Delayed maximum"``),
        may be empty.
    supplementary : bool
        ``True`` for a subshell exSpy does not list (onset from Elam et al.).
    """

    element: str
    name: str
    onset_energy: float
    relevance: str
    edge: str = ""
    supplementary: bool = False

    @property
    def label(self) -> str:
        """exSpy's component name, e.g. ``"Fe_L3"``."""
        return f"{self.element}_{self.name}"

    @property
    def shell(self) -> str:
        """The shell letter: ``"K"``, ``"L"``, ``"M"``, ``"N"`` or ``"O"``."""
        return shell_of(self.name)

    @property
    def is_major(self) -> bool:
        """True for the edges exSpy marks ``"Major"``."""
        return self.relevance == "Major"


@lru_cache(maxsize=1)
def _table() -> dict:
    text = resources.files("hyperspy_eelsid").joinpath("data", _TABLE_FILE).read_text()
    return json.loads(text)


@lru_cache(maxsize=1)
def _by_symbol() -> dict:
    """``{symbol: (Z, exSpy subshells, exSpy + supplementary subshells)}``."""
    extra = _table().get("supplementary", {}).get("subshells", {})
    out = {}
    for entry in _table()["elements"]:
        symbol = entry["symbol"]
        listed = tuple(
            Subshell(
                element=symbol,
                name=s["name"],
                onset_energy=float(s["onset_energy"]),
                relevance=s["relevance"],
                edge=s.get("edge", ""),
            )
            for s in entry["subshells"]
        )
        added = tuple(
            Subshell(element=symbol, name=s["name"], onset_energy=float(s["onset_energy"]),
                     relevance=s["relevance"], supplementary=True)
            for s in extra.get(symbol, ())
        )
        both = tuple(sorted(listed + added, key=lambda s: (s.onset_energy, s.name)))
        out[symbol] = (int(entry["Z"]), listed, both)
    return out


ELEMENTS: tuple[str, ...] = tuple(e["symbol"] for e in _table()["elements"])
"""The 80 elements Be..Bi in network output order."""

N_ELEMENTS: int = len(ELEMENTS)
"""Number of network outputs (80)."""

LANTHANIDES: tuple[str, ...] = ELEMENTS[ELEMENTS.index("La"):ELEMENTS.index("Lu") + 1]
"""La..Lu: their N4,5 edges (99-195 eV) lie a few eV apart, their M5,4 edges at 832-1639 eV."""

_INDEX = {symbol: i for i, symbol in enumerate(ELEMENTS)}


def _check(symbol: str) -> str:
    if symbol not in _INDEX:
        raise ValueError(
            f"{symbol!r} is not one of the {N_ELEMENTS} elements the networks know "
            f"(Be..Bi, e.g. 'Fe', 'Ba'); element symbols are case-sensitive."
        )
    return symbol


def element_index(symbol: str) -> int:
    """Position of ``symbol`` in the network output vector.

    Raises
    ------
    ValueError
        If ``symbol`` is not one of :data:`ELEMENTS`.
    """
    return _INDEX[_check(symbol)]


def atomic_number(symbol: str) -> int:
    """Atomic number Z of ``symbol`` (4 for Be ... 83 for Bi)."""
    return _by_symbol()[_check(symbol)][0]


def shell_of(subshell_name: str) -> str:
    """Shell letter of an exSpy subshell name (``"L3"`` -> ``"L"``, ``"L2,3"`` -> ``"L"``)."""
    return subshell_name[0]


def subshells(
    symbol: str,
    emin: float = 50.0,
    emax: float = 4000.0,
    major_only: bool = False,
    supplementary: bool = False,
) -> tuple[Subshell, ...]:
    """Core-loss subshells of one element with onsets in ``[emin, emax]`` eV.

    Parameters
    ----------
    symbol : str
        Chemical symbol, one of :data:`ELEMENTS`.
    emin, emax : float
        Onset energy range in eV (inclusive). The table covers 50-4000 eV.
    major_only : bool
        Keep only the subshells exSpy marks ``"Major"``.
    supplementary : bool
        Add the subshells exSpy does not list (all "Minor", see the module
        docstring); ignored with ``major_only``.

    Returns
    -------
    tuple of Subshell
        Sorted by onset energy.
    """
    subs = _by_symbol()[_check(symbol)][2 if supplementary else 1]
    return tuple(
        s
        for s in subs
        if emin <= s.onset_energy <= emax and (s.is_major or not major_only)
    )


def edges_in_window(
    emin: float, emax: float, major_only: bool = True
) -> list[Subshell]:
    """Every subshell of every element with an onset in ``[emin, emax]`` eV.

    Parameters
    ----------
    emin, emax : float
        Onset energy range in eV (inclusive).
    major_only : bool
        Keep only ``"Major"`` subshells (default), as the benchmark labels do.

    Returns
    -------
    list of Subshell
        Sorted by onset energy.
    """
    out = [
        s for symbol in ELEMENTS for s in subshells(symbol, emin, emax, major_only)
    ]
    return sorted(out, key=lambda s: (s.onset_energy, s.element, s.name))


def _major_edges_once(symbol: str, emin: float, emax: float, tolerance: float):
    """``symbol``'s major edges in the window, one per tabulated onset (N4 and N5, M4 and M5
    can share one), after checking the onset tolerance of the callers below."""
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be a non-negative number of eV, got {tolerance!r}")
    seen = set()
    for edge in subshells(symbol, emin, emax, major_only=True):
        if edge.onset_energy not in seen:
            seen.add(edge.onset_energy)
            yield edge


def coincident_edges(
    symbol: str, emin: float = 50.0, emax: float = 4000.0, tolerance: float = 5.0
) -> list[tuple[Subshell, list[Subshell]]]:
    """Major edges of other elements that start within ``tolerance`` eV of one
    of ``symbol``'s major edges.

    Two edges this close (N K at 401 eV and Sc L3 at 402 eV, Be K at 111 eV
    and Pr N5 at 113 eV) are told apart only by their fine structure and
    by the element's other edges, so a detection of either is worth
    checking against the spectrum.

    Parameters
    ----------
    symbol : str
        Chemical symbol, one of :data:`ELEMENTS`.
    emin, emax : float
        Onset range in eV: the measured window (inclusive).
    tolerance : float
        Largest onset difference in eV.

    Returns
    -------
    list of (Subshell, list of Subshell)
        For each major edge of ``symbol`` in the window that has any (one
        of two edges at the same tabulated onset, such as N4 and N5), the
        nearest major edge of each other element within ``tolerance`` in
        the window, sorted by onset distance.

    Examples
    --------
    >>> [(e.label, [o.label for o in others]) for e, others in coincident_edges("N", 75, 3071)]
    [('N_K', ['Sc_L3', 'Cd_M5'])]
    """
    out = []
    for edge in _major_edges_once(symbol, emin, emax, tolerance):
        lo, hi = max(emin, edge.onset_energy - tolerance), min(emax, edge.onset_energy + tolerance)
        others = sorted((s for s in edges_in_window(lo, hi) if s.element != edge.element),
                        key=lambda s: (abs(s.onset_energy - edge.onset_energy), s.onset_energy, s.element))
        named, near = set(), []
        for s in others:  # the nearest edge of each other element
            if s.element not in named:
                named.add(s.element)
                near.append(s)
        if near:
            out.append((edge, near))
    return out


def minor_edges_near(
    symbol: str, others, emin: float = 50.0, emax: float = 4000.0, tolerance: float = 10.0
) -> list[tuple[Subshell, list[Subshell]]]:
    """Minor edges of ``others`` that start within ``tolerance`` eV of one of
    ``symbol``'s major edges.

    A minor edge (L1, M1-M3, N1-N3, ...) of an element that is in the
    specimen is weak and broad, but it is there, and where it starts next to
    another element's major edge it can be read as that element. On the real
    benchmark spectra the shipped ensemble named Au in SrTiO3 where Sr L1
    (2216 eV) lies 10 eV above Au M5 (2206 eV), and Ga in La2O3 where La M3
    (1123 eV) lies 8 eV above Ga L3 (1115 eV). Minor edges are broad and
    their onsets ill-defined, hence a wider tolerance than
    :func:`coincident_edges`.

    Parameters
    ----------
    symbol : str
        Chemical symbol, one of :data:`ELEMENTS`.
    others : iterable of str
        The other elements thought present (``symbol`` itself is skipped).
    emin, emax : float
        Onset range in eV: the measured window (inclusive).
    tolerance : float
        Largest onset difference in eV.

    Returns
    -------
    list of (Subshell, list of Subshell)
        For each major edge of ``symbol`` in the window that has any (one of
        two edges at the same tabulated onset listed once), the minor edges
        of ``others`` in the window within ``tolerance`` of it, exSpy's and
        the supplementary ones, nearest first.

    Examples
    --------
    >>> [(e.label, [m.label for m in near]) for e, near in minor_edges_near("Au", ["Sr"], 1780, 2803)]
    [('Au_M5', ['Sr_L1'])]
    """
    minor = [s for other in dict.fromkeys(others) if other != symbol
             for s in subshells(other, emin, emax, supplementary=True) if not s.is_major]
    out = []
    for edge in _major_edges_once(symbol, emin, emax, tolerance):
        near = sorted((s for s in minor if abs(s.onset_energy - edge.onset_energy) <= tolerance),
                      key=lambda s: (abs(s.onset_energy - edge.onset_energy), s.onset_energy, s.element, s.name))
        if near:
            out.append((edge, near))
    return out
