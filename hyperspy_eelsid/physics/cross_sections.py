"""Ionisation cross sections from a GOSH generalised-oscillator-strength table.

A GOSH file (the HDF5 layout exSpy's ``GoshGOS`` reads) tabulates, for every
element and subshell table, the generalised oscillator strength per eV,
``GOS[E, q]``, on a relative energy axis (``free_energies``) and a momentum
axis ``q`` (1/m). This module loads such a file once and turns it into
energy-differential cross sections ``dsigma/dE`` (barn / eV / atom) for a beam
energy ``E0`` (keV), convergence semi-angle ``alpha`` and collection
semi-angle ``beta`` (mrad), with the same physics as exSpy's ``EELSCLEdge``:

1. an effective collection angle (Egerton's formula, evaluated at the
   tabulated onset) replaces ``beta`` when the beam is convergent;
2. at each tabulated energy the GOS is integrated over ``ln((q a0)^2)``
   between the kinematic limits ``qmin(E)`` and ``qmax(E, angle)``;
3. the result is interpolated with a not-a-knot cubic spline between the
   onset and the last tabulated energy, is zero below the onset and is
   extrapolated above the table with the power law through the last two
   tabulated points.

Two implementations share the tables:

* :func:`cross_section` (numpy, one edge, any energy grid) follows exSpy's
  quadrature (Simpson's rule over the tabulated ``q`` nodes);
* :class:`TorchCrossSections` (torch, batched, CPU or CUDA with the same
  code) evaluates many edges of many spectra at once. Its ``q`` integral uses
  the exact integral of the piecewise-linear (in ``q``) interpolant of the
  table, which differs from Simpson's rule by far less than 1 %.

This module imports neither HyperSpy nor exSpy.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

import h5py
import numpy as np
from scipy import constants, integrate, interpolate

__all__ = [
    "GOSTable",
    "GOSHDatabase",
    "load_gosh",
    "effective_angle",
    "integrate_gos",
    "cross_section",
    "TorchCrossSections",
]

RYDBERG_EV = constants.value("Rydberg constant times hc in eV")
"""Rydberg energy in eV (the value exSpy uses)."""

BOHR_RADIUS_M = constants.value("Bohr radius")
"""Bohr radius in m."""

_PREFACTOR_BARN = 4.0 * math.pi * BOHR_RADIUS_M**2 * RYDBERG_EV**2 * 1e28
"""``4 pi a0^2 R^2`` in barn eV^2; divided by ``E T`` it gives barn/eV per unit GOS."""


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class GOSTable:
    """The tabulated GOS of one element subshell.

    Attributes
    ----------
    element : str
        Chemical symbol.
    subshell : str
        Subshell name in exSpy's convention (``"K"``, ``"L3"``, ``"M5"``...).
    onset_energy : float
        Nominal onset energy in eV; the table's first energy lies here.
    occupancy : float
        The file's ``occupancy_ratio`` for this subshell (multiplies the GOS).
    q : numpy.ndarray
        Momentum transfer axis, shape ``(n_q,)``, in 1/m, increasing.
    rel_energy : numpy.ndarray
        Energy above onset, shape ``(n_E,)``, in eV, starting at 0.
    gos : numpy.ndarray
        GOS per eV, shape ``(n_E, n_q)``.
    """

    element: str
    subshell: str
    onset_energy: float
    occupancy: float
    q: np.ndarray
    rel_energy: np.ndarray
    gos: np.ndarray

    @property
    def label(self) -> str:
        """``"<element>_<subshell>"``, e.g. ``"Fe_L3"``."""
        return f"{self.element}_{self.subshell}"

    @property
    def energy(self) -> np.ndarray:
        """Absolute tabulated energies (eV) at the nominal onset."""
        return self.rel_energy + self.onset_energy


def _default_onsets() -> dict[str, float]:
    """Onsets of every subshell known to :mod:`hyperspy_eelsid.elements`."""
    from hyperspy_eelsid import elements as el

    out = {}
    for symbol in el.ELEMENTS:
        for sub in el.subshells(symbol, emin=0.0, emax=1e9, supplementary=True):
            out[sub.label] = sub.onset_energy
    return out


class GOSHDatabase(Mapping):
    """All GOS tables of a GOSH file, read once, keyed ``"Fe_L3"``.

    Parameters
    ----------
    path : str or os.PathLike
        The GOSH HDF5 file.
    onsets : mapping of str to float, optional
        Onset energy (eV) per ``"<element>_<subshell>"``. Defaults to the
        package's element table (the same Atlas onsets exSpy uses). Subshells
        without a known onset are skipped unless the file stores an
        ``onset_energy`` attribute on the table group.
    elements : iterable of str, optional
        Only read these elements.

    Notes
    -----
    Layout (as read by exSpy's ``GoshGOS``): ``/metadata/edges_info/<subshell>``
    carries the attributes ``table`` (dataset group name inside each element
    group) and ``occupancy_ratio``; ``/<element>/<table>`` holds ``data``
    (``squeeze(data.T)`` has shape ``(n_E, n_q)``), ``q`` (1/m) and
    ``free_energies`` (eV, relative energies are ``free_energies - min``).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        onsets: Mapping[str, float] | None = None,
        elements: Iterable[str] | None = None,
    ):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"GOSH file not found: {self.path}")
        onsets = dict(_default_onsets() if onsets is None else onsets)
        wanted = None if elements is None else set(elements)
        tables: dict[str, GOSTable] = {}
        arrays: dict[tuple, tuple] = {}
        with h5py.File(self.path, "r") as h:
            if "metadata/edges_info" not in h:
                raise ValueError(
                    f"{self.path} is not a GOSH file: no /metadata/edges_info group."
                )
            info = h["metadata/edges_info"]
            conventions = {
                name: (str(_as_str(info[name].attrs["table"])),
                       float(info[name].attrs["occupancy_ratio"]))
                for name in info
            }
            for element in h:
                if element == "metadata" or (wanted is not None and element not in wanted):
                    continue
                group = h[element]
                for subshell, (table_name, occupancy) in conventions.items():
                    if table_name not in group:
                        continue
                    tg = group[table_name]
                    label = f"{element}_{subshell}"
                    onset = onsets.get(label)
                    if onset is None and "onset_energy" in tg.attrs:
                        onset = float(tg.attrs["onset_energy"])
                    if onset is None:
                        continue
                    key = (element, table_name)
                    if key not in arrays:  # subshells sharing a table share arrays
                        arrays[key] = (
                            np.squeeze(np.asarray(tg["data"][()], dtype=float).T),
                            np.asarray(tg["q"][()], dtype=float).ravel(),
                            np.asarray(tg["free_energies"][()], dtype=float).ravel(),
                        )
                    gos, q, free = arrays[key]
                    if gos.shape != (free.size, q.size):
                        raise ValueError(
                            f"{label}: GOS shape {gos.shape} does not match "
                            f"(n_energies, n_q) = {(free.size, q.size)}"
                        )
                    tables[label] = GOSTable(
                        element=element,
                        subshell=subshell,
                        onset_energy=float(onset),
                        occupancy=occupancy,
                        q=q,
                        rel_energy=free - free.min(),  # new array per subshell is tiny
                        gos=gos,
                    )
        self._tables = tables

    def __getitem__(self, label: str) -> GOSTable:
        try:
            return self._tables[label]
        except KeyError:
            raise KeyError(
                f"{label!r} has no GOS table in {self.path} "
                f"(available for {len(self.elements)} elements)"
            ) from None

    def __iter__(self):
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    @property
    def elements(self) -> tuple[str, ...]:
        """Elements with at least one table, sorted by first appearance."""
        return tuple(dict.fromkeys(t.element for t in self._tables.values()))

    def tables_of(self, element: str) -> tuple[GOSTable, ...]:
        """Tables of one element, sorted by onset energy."""
        return tuple(
            sorted(
                (t for t in self._tables.values() if t.element == element),
                key=lambda t: t.onset_energy,
            )
        )


def _as_str(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float) -> GOSHDatabase:
    return GOSHDatabase(path)


def load_gosh(path: str | os.PathLike | None = None) -> GOSHDatabase:
    """Load (once per file version) a GOSH database.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Defaults to the package's own Hartree-Fock-Slater table,
        :func:`hyperspy_eelsid.physics.gos_table.gos_file`.

    Returns
    -------
    GOSHDatabase
    """
    if path is None:
        from hyperspy_eelsid.physics.gos_table import gos_file

        path = gos_file()
    path = os.path.abspath(os.fspath(path))
    if not os.path.exists(path):
        raise FileNotFoundError(f"GOSH file not found: {path}")
    return _load_cached(path, os.path.getmtime(path))


# --------------------------------------------------------------------------
# Kinematics shared by numpy and torch (array-namespace generic)
# --------------------------------------------------------------------------


def _xp(x):
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return torch
    except ImportError:  # pragma: no cover
        pass
    return np


def effective_angle(E0, onset_energy, alpha, beta):
    """Effective collection semi-angle for a convergent beam (Egerton).

    Parameters
    ----------
    E0 : float or array or torch.Tensor
        Beam energy in keV.
    onset_energy : float or array or torch.Tensor
        Energy loss in eV at which the angle is evaluated (exSpy uses the
        tabulated edge onset).
    alpha, beta : float or array or torch.Tensor
        Convergence and collection semi-angles in mrad.

    Returns
    -------
    float or array or torch.Tensor
        Effective collection semi-angle in mrad (``beta`` where ``alpha == 0``),
        broadcast over the inputs.
    """
    args = (E0, onset_energy, alpha, beta)
    xp = np
    for a in args:
        if _xp(a) is not np:
            xp = _xp(a)
    if xp is np:
        E0, E, alpha, beta = (np.asarray(a, dtype=float) for a in args)
    else:
        ref = next(a for a in args if _xp(a) is xp)
        E0, E, alpha, beta = (
            a if _xp(a) is xp else xp.as_tensor(a, dtype=ref.dtype, device=ref.device)
            for a in args
        )
    tgt = E0 * (1.0 + E0 / 1022.0) / (1.0 + E0 / 511.0)
    theta_e = E / tgt
    a2 = alpha * alpha * 1e-6
    b2 = beta * beta * 1e-6
    t2 = theta_e * theta_e * 1e-6
    safe_a2 = xp.where(a2 > 0, a2, xp.ones_like(a2) if xp is not np else 1.0)
    eta1 = xp.sqrt((a2 + b2 + t2) ** 2 - 4.0 * a2 * b2) - a2 - b2 - t2
    eta2 = 2.0 * b2 * xp.log(0.5 / t2 * (xp.sqrt((a2 + t2 - b2) ** 2 + 4.0 * b2 * t2) + a2 + t2 - b2))
    eta3 = 2.0 * a2 * xp.log(0.5 / t2 * (xp.sqrt((b2 + t2 - a2) ** 2 + 4.0 * a2 * t2) + b2 + t2 - a2))
    f1 = (eta1 + eta2 + eta3) / 2.0 / safe_a2 / xp.log(1.0 + b2 / t2)
    f2 = xp.where(alpha > beta, f1 * a2 / b2, f1)
    bstar = theta_e * xp.sqrt(xp.exp(f2 * xp.log(1.0 + b2 / t2)) - 1.0)
    out = xp.where(alpha == 0, beta * (xp.ones_like(bstar) if xp is not np else 1.0), bstar)
    if xp is np and np.ndim(out) == 0:
        return float(out)
    return out


MAX_ANGLE_MRAD = 1000.0
"""Largest semi-angle (mrad) the cross sections accept (57 degrees; EELS collects tens of mrad)."""


def _check_beam(E0, alpha=0.0, beta=None) -> None:
    """Refuse microscope parameters no cross section can be computed for, saying which.

    Raises
    ------
    ValueError
        A beam energy (keV) that is not finite and positive, a convergence
        semi-angle (mrad) that is negative, or a collection semi-angle that is
        not positive; or an angle above :data:`MAX_ANGLE_MRAD`.
    """
    def bad(name, value, rule):
        raise ValueError(f"{name} must be {rule}, got {value!r} (beam energy in keV, semi-angles in mrad)")

    if not (np.isfinite(E0) and E0 > 0):
        bad("the beam energy E0", E0, "a positive number")
    if not (np.isfinite(alpha) and 0 <= alpha <= MAX_ANGLE_MRAD):
        bad("the convergence semi-angle alpha", alpha, f"between 0 and {MAX_ANGLE_MRAD:g}")
    if beta is not None and not (np.isfinite(beta) and 0 < beta <= MAX_ANGLE_MRAD):
        bad("the collection semi-angle beta", beta, f"above 0 and at most {MAX_ANGLE_MRAD:g}")


def _beam(E0):
    """Relativistic factor and ``T = m v^2 / 2`` (eV) as exSpy computes them."""
    gamma = 1.0 + E0 / 511.06
    T = 511060.0 * (1.0 - 1.0 / gamma**2) / 2.0
    return gamma, T


def _qa0_limits(E, E0, angle):
    """Kinematic limits of ``(q a0)^2`` for energy loss ``E`` (eV), ``angle`` in rad."""
    xp = _xp(E)
    gamma, T = _beam(E0)
    qmin2 = E**2 / (4.0 * RYDBERG_EV * T) + E**3 / (8.0 * gamma**3 * RYDBERG_EV * T**2)
    p02 = T / (RYDBERG_EV * (1.0 - 2.0 * T / 511060.0))
    pp2 = p02 - E / RYDBERG_EV * (gamma - E / 1022120.0)
    qmax2 = qmin2 + 4.0 * xp.sqrt(p02 * pp2) * xp.sin(angle / 2.0) ** 2
    return qmin2, qmax2


# --------------------------------------------------------------------------
# numpy: one edge
# --------------------------------------------------------------------------


def _lerp(q1, g1, q2, g2, q):
    return g1 + (g2 - g1) * (q - q1) / (q2 - q1)


def integrate_gos(table: GOSTable, E0: float, angle: float, onset_shift: float = 0.0):
    """Integrate the GOS over momentum transfer at every tabulated energy.

    Parameters
    ----------
    table : GOSTable
    E0 : float
        Beam energy in keV.
    angle : float
        (Effective) collection semi-angle in rad.
    onset_shift : float
        Shift (eV) of the onset with respect to ``table.onset_energy``.

    Returns
    -------
    energy : numpy.ndarray
        Shifted tabulated energies (eV).
    dsigma : numpy.ndarray
        Energy-differential cross section at those energies (barn/eV/atom).
    """
    _check_beam(E0, beta=angle * 1e3)
    energy = table.energy + onset_shift
    q = table.q
    _, T = _beam(E0)
    out = np.empty(energy.size)
    for i, E in enumerate(energy):
        qmin2, qmax2 = _qa0_limits(E, E0, angle)
        qmin = math.sqrt(qmin2) / BOHR_RADIUS_M
        qmax = math.sqrt(qmax2) / BOHR_RADIUS_M
        g = table.gos[i]
        if qmax > q[-1]:
            qs = np.append(q, qmax)
            gs = np.append(g, _lerp(q[-2], g[-2], q[-1], g[-1], qmax))
        else:
            k = max(int(q.searchsorted(qmax)), 1)
            qs = np.append(q[:k], qmax)
            gs = np.append(g[:k], _lerp(q[k - 1], g[k - 1], q[k], g[k], qmax))
        if qmin > 0:
            k = max(int(q.searchsorted(qmin)), 1)
            gmin = _lerp(qs[k - 1], gs[k - 1], qs[k], gs[k], qmin)
            qs = np.append(qmin, qs[k:])
            gs = np.append(gmin, gs[k:])
        out[i] = integrate.simpson(gs.clip(0), x=np.log((BOHR_RADIUS_M * qs) ** 2))
    out *= _PREFACTOR_BARN / (energy * T) * table.occupancy
    return energy, out


def cross_section(
    table: GOSTable,
    energy,
    E0: float,
    alpha: float,
    beta: float,
    onset_shift: float = 0.0,
) -> np.ndarray:
    """Energy-differential cross section of one edge on any energy grid.

    Parameters
    ----------
    table : GOSTable
        From :class:`GOSHDatabase` (e.g. ``load_gosh()["Fe_L3"]``).
    energy : array_like
        Energy losses (eV) at which to evaluate.
    E0 : float
        Beam energy in keV.
    alpha, beta : float
        Convergence and collection semi-angles in mrad.
    onset_shift : float
        Chemical (or any) shift of the onset in eV.

    Returns
    -------
    numpy.ndarray
        ``dsigma/dE`` in barn/eV/atom: zero below the shifted onset, a cubic
        spline through the tabulated points, a power law above the table.

    Raises
    ------
    ValueError
        If ``E0`` is not positive, ``alpha`` is negative, ``beta`` is not
        positive, or an angle exceeds :data:`MAX_ANGLE_MRAD` (or any is NaN).
    """
    _check_beam(E0, alpha, beta)
    energy = np.asarray(energy, dtype=float)
    angle = effective_angle(E0, table.onset_energy, alpha, beta) * 1e-3
    e_tab, s_tab = integrate_gos(table, E0, angle, onset_shift)
    out = np.zeros_like(energy)
    inside = (energy >= e_tab[0]) & (energy < e_tab[-1])
    if inside.any():
        out[inside] = interpolate.make_interp_spline(e_tab, s_tab, k=3)(energy[inside])
    above = energy >= e_tab[-1]
    if above.any():
        e1, e2 = e_tab[-2:]
        y1, y2 = s_tab[-2:]
        r = math.log(y2 / y1) / math.log(e1 / e2)
        out[above] = y1 * (energy[above] / e1) ** (-r)
    return out


# --------------------------------------------------------------------------
# torch: many edges of many spectra
# --------------------------------------------------------------------------


def _spline_second_derivative_operator(x: np.ndarray) -> np.ndarray:
    """Matrix ``D`` with ``D @ y`` = nodal second derivatives of the
    not-a-knot cubic spline through ``(x, y)`` (the spline exSpy uses)."""
    n = x.size
    if n < 4:
        raise ValueError("a cubic spline needs at least 4 tabulated energies")
    eye = np.eye(n)
    return interpolate.CubicSpline(x, eye, axis=0, bc_type="not-a-knot")(x, 2)


class TorchCrossSections:
    """Batched cross sections for a fixed list of GOS tables, in torch.

    Parameters
    ----------
    tables : sequence of GOSTable
        The edges that can be requested, referred to by their position.
    device : str or torch.device, optional
        Where the tables live and the computation runs (``"cpu"``, ``"cuda"``).
    dtype : torch.dtype, optional
        Floating type of the grid evaluation (default ``torch.float32``); the
        q integral and spline set-up always run in float64.

    Notes
    -----
    Tables are padded to a common size. The GOS is stored as a cumulative
    integral over ``ln((q a0)^2)`` of its piecewise-linear interpolant in
    ``q``, so the ``q`` integral between arbitrary limits costs two look-ups.
    The cubic spline's nodal second derivatives come from a per-table linear
    operator, applied once per table present in the batch.
    """

    def __init__(self, tables: Sequence[GOSTable], device=None, dtype=None):
        import torch

        if len(tables) == 0:
            raise ValueError("TorchCrossSections needs at least one GOS table")
        self.tables = tuple(tables)
        self.labels = tuple(t.label for t in self.tables)
        self.device = torch.device(device if device is not None else "cpu")
        self.dtype = dtype or torch.float32
        n_t = len(tables)
        n_e = max(t.rel_energy.size for t in tables)
        n_q = max(t.q.size for t in tables)
        self.n_energy, self.n_q = n_e, n_q

        qa0 = np.empty((n_t, n_q))
        cum = np.zeros((n_t, n_e, n_q))
        gos = np.zeros((n_t, n_e, n_q))
        rel = np.empty((n_t, n_e))
        d2 = np.zeros((n_t, n_e, n_e))
        n_e_t = np.empty(n_t, dtype=np.int64)
        for k, t in enumerate(tables):
            ne, nq = t.rel_energy.size, t.q.size
            x = t.q * BOHR_RADIUS_M
            g = t.gos.clip(0)
            qa0[k, :nq] = x
            # padding keeps the axis sorted; padded nodes are never bracketed
            # because look-ups are clamped to the last real segment
            qa0[k, nq:] = x[-1] * (2.0 + np.arange(n_q - nq))
            gos[k, :ne, :nq] = g
            gos[k, :ne, nq:] = g[:, -1:]
            seg = self._segment_integrals(x, g)  # (ne, nq - 1)
            cum[k, :ne, 2:nq] = np.cumsum(seg[:, 1:], axis=1)
            cum[k, :ne, nq:] = cum[k, :ne, nq - 1 : nq]
            rel[k, :ne] = t.rel_energy
            rel[k, ne:] = t.rel_energy[-1] + 1.0 + np.arange(n_e - ne)
            d2[k, :ne, :ne] = _spline_second_derivative_operator(t.rel_energy)
            n_e_t[k] = ne

        # The q integral and the spline set-up run in float64 (they cost
        # O(pairs x tabulated energies)); only the grid evaluation uses dtype.
        self._work = torch.float64

        def tens(a, dt=None):
            return torch.as_tensor(a, dtype=dt or self._work, device=self.device)

        self._qa0 = tens(qa0)
        self._cum = tens(cum)
        self._gos = tens(gos)
        self._rel = tens(rel)
        self._d2 = tens(d2)
        self._n_e = torch.as_tensor(n_e_t, device=self.device)
        self._nq = torch.as_tensor([t.q.size for t in tables], device=self.device)
        self._onset = tens([t.onset_energy for t in tables])
        self._occ = tens([t.occupancy for t in tables])
        self._emask = self._rel.new_tensor(
            np.arange(n_e)[None, :] < n_e_t[:, None], dtype=torch.bool
        )

    @staticmethod
    def _segment_integrals(x, g):
        """Exact integrals over ``ln x^2`` of the linear-in-``x`` interpolant,
        segment by segment; ``x`` are the ``q a0`` nodes."""
        x0, x1 = x[:-1], x[1:]
        g0, g1 = g[:, :-1], g[:, 1:]
        s = (g1 - g0) / (x1 - x0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_term = np.where(x0 > 0, np.log(x1 / np.where(x0 > 0, x0, 1.0)), np.inf)
        return 2.0 * ((g0 - s * x0) * log_term + s * (x1 - x0))

    def to(self, device):
        """A copy of this object on another device."""
        return TorchCrossSections(self.tables, device=device, dtype=self.dtype)

    def index(self, label: str) -> int:
        """Position of ``"<element>_<subshell>"`` in :attr:`tables`."""
        return self.labels.index(label)

    def _primitive(self, t, qa0):
        """``F(q) = int^{q} GOS dln(q a0)^2`` for pairs ``t`` (P,) and energies,
        ``qa0`` (P, n_E), relative to node 1."""
        import torch

        P, ne = qa0.shape
        nodes = self._qa0[t]  # (P, n_q)
        j = torch.searchsorted(nodes, qa0.contiguous(), right=True) - 1
        last = (self._nq[t] - 2)[:, None]
        j = torch.minimum(torch.clamp(j, min=0), last)
        base = (t[:, None] * self.n_energy + torch.arange(ne, device=qa0.device)) * self.n_q
        g0 = self._gos.reshape(-1)[base + j]
        g1 = self._gos.reshape(-1)[base + j + 1]
        c1 = self._cum.reshape(-1)[base + j + 1]
        x0 = torch.gather(nodes, 1, j)
        x1 = torch.gather(nodes, 1, j + 1)
        s = (g1 - g0) / (x1 - x0)
        back = 2.0 * ((g0 - s * x0) * torch.log(x1 / qa0) + s * (x1 - qa0))
        return c1 - back

    def tabulated(self, t, E0, angle, shift):
        """Cross sections at the tabulated energies.

        Parameters
        ----------
        t : torch.Tensor
            Table positions, shape ``(P,)`` (long).
        E0, angle, shift : torch.Tensor
            Beam energy (keV), effective angle (rad) and onset shift (eV),
            shape ``(P,)``.

        Returns
        -------
        energy, dsigma : torch.Tensor
            Shape ``(P, n_E)``; padded entries of ``dsigma`` are 0.
        """
        import torch

        rel = self._rel[t]
        energy = rel + (self._onset[t] + shift)[:, None]
        E0c, anglec = E0[:, None], angle[:, None]
        qmin2, qmax2 = _qa0_limits(energy, E0c, anglec)
        q_lo, q_hi = torch.sqrt(qmin2), torch.sqrt(qmax2)
        integral = self._primitive(t, q_hi) - self._primitive(t, q_lo)
        _, T = _beam(E0c)
        dsigma = integral * (_PREFACTOR_BARN / T) / energy * self._occ[t][:, None]
        # energy losses the beam cannot provide (pp2 < 0) give NaN: no signal there
        ok = self._emask[t] & torch.isfinite(dsigma)
        dsigma = torch.where(ok, torch.clamp(dsigma, min=0.0), torch.zeros_like(dsigma))
        return energy, dsigma

    def _second_derivatives(self, t, y):
        import torch

        m = torch.zeros_like(y)
        for k in torch.unique(t).tolist():
            sel = (t == k).nonzero(as_tuple=True)[0]
            m[sel] = y[sel] @ self._d2[k].T
        return m

    def evaluate_pairs(self, t, E0, alpha, beta, shift, energy, chunk: int = 1024, out=None, rows=None, group=None,
                       peaks: bool = True, weight=None):
        """Cross sections of ``P`` (edge, spectrum) pairs on energy grids.

        Parameters
        ----------
        t : torch.Tensor
            Table positions, shape ``(P,)``.
        E0, alpha, beta, shift : torch.Tensor
            Per pair: beam energy (keV), convergence and collection
            semi-angles (mrad), onset shift (eV); shape ``(P,)``.
        energy : torch.Tensor
            Shape ``(C,)`` (one grid for all) or ``(P, C)``.
        chunk : int
            Pairs evaluated at once on the grid (bounds memory).
        out : torch.Tensor, optional
            ``(R, >= C)``: instead of returning the ``(P, C)`` array, add
            pair ``p`` to row ``rows[p]`` of ``out[:, :C]`` in place (saves
            the memory and the copies when pairs are summed, e.g. the
            subshells of an edge). Needs a shared sorted ``energy`` grid.
        rows : torch.Tensor, optional
            ``(P,)`` long, the row of ``out`` of each pair.
        group : torch.Tensor, optional
            ``(P,)`` long; pairs that share a row must have different
            groups. Groups are added in increasing order (a fixed summation
            order: the result does not depend on the device's scheduling).
        peaks : bool
            With ``out``: also return each pair's maximum (else ``None``).
        weight : torch.Tensor, optional
            ``(P,)`` factor on each pair's cross section (default 1). The
            maxima returned with ``peaks`` are those of the unweighted
            cross sections.

        Returns
        -------
        torch.Tensor
            ``dsigma/dE`` in barn/eV/atom, shape ``(P, C)``; with ``out``,
            the ``(P,)`` maximum of each pair on the grid instead (or
            ``None`` with ``peaks=False``).
        """
        import torch

        t = torch.as_tensor(t, device=self.device).long()
        w = dict(dtype=self._work, device=self.device)
        f = dict(dtype=self.dtype, device=self.device)
        E0, alpha, beta, shift = (torch.as_tensor(a, **w).expand(t.shape) for a in (E0, alpha, beta, shift))
        if weight is not None:
            weight = torch.as_tensor(weight, **f).expand(t.shape)
        energy = torch.as_tensor(energy, **f)
        angle = effective_angle(E0, self._onset[t], alpha, beta) * 1e-3
        e_tab, y = self.tabulated(t, E0, angle, shift)
        m = self._second_derivatives(t, y)
        n_e = self._n_e[t]
        # power law through the last two tabulated points (float64: the
        # exponent comes from a ratio of nearby values)
        last = (n_e - 1)[:, None]
        e1, e2 = torch.gather(e_tab, 1, last - 1), torch.gather(e_tab, 1, last)
        y1, y2 = torch.gather(y, 1, last - 1), torch.gather(y, 1, last)
        r = torch.log(y2 / y1) / torch.log(e1 / e2)
        r = torch.where(torch.isfinite(r), r, torch.zeros_like(r))
        y1 = torch.where(torch.isfinite(r) & (y2 > 0), y1, torch.zeros_like(y1))
        tail = torch.cat([e1, y1, r], 1).to(self.dtype)
        # cubic of each interval in powers of (E - x_i), evaluated by Horner
        h = e_tab[:, 1:] - e_tab[:, :-1]
        coef = [
            e_tab[:, :-1],
            y[:, :-1],
            (y[:, 1:] - y[:, :-1]) / h - h * (2.0 * m[:, :-1] + m[:, 1:]) / 6.0,
            m[:, :-1] / 2.0,
            (m[:, 1:] - m[:, :-1]) / (6.0 * h),
        ]
        # one more, all-zero interval after the last: the unit-grid look-up
        # sends channels below the onset there, so they evaluate to exactly 0
        coef = [torch.cat([c.to(self.dtype), c.new_zeros((c.shape[0], 1), dtype=self.dtype)], 1).contiguous()
                for c in coef]
        nodes = e_tab.to(self.dtype).contiguous()
        P = t.numel()
        C = energy.shape[-1]
        accumulate = out is not None
        result = torch.zeros(P, **f) if accumulate else torch.zeros((P, C), **f)
        if P == 0:
            return result
        shared = energy.dim() == 1 and bool((energy[1:] >= energy[:-1]).all()) if C > 1 else energy.dim() == 1
        if accumulate and not shared:
            raise ValueError("out= needs one sorted energy grid shared by all pairs")
        # on a shared sorted grid, pairs are processed by increasing onset and
        # each chunk only on the channels at or above its lowest onset
        order = torch.argsort(nodes[:, 0]) if shared else torch.arange(P, device=self.device)
        bounds = [P]
        if accumulate:
            group = torch.zeros(P, dtype=torch.long, device=self.device) if group is None else group.long()
            order = order[torch.argsort(group[order], stable=True)]  # by group, then onset
            # chunks never mix groups, so the rows of a chunk are distinct
            bounds = torch.cumsum(torch.bincount(group[order]), 0).tolist()
        spans = [(a, min(a + chunk, g1)) for g0, g1 in zip([0] + bounds[:-1], bounds) for a in range(g0, g1, chunk)]
        # on a 1 eV integer grid with integer shifts, the spline interval of a
        # channel is a table look-up instead of a binary search
        unit = self._unit_grid_index(energy, t, shift) if shared else None
        for a, e in spans:
            sel = order[a:e]
            lo = 0
            index = None
            if shared:
                lo = int(torch.searchsorted(energy, nodes[sel, 0].min().reshape(1)))
                if lo >= C:
                    continue
                en = energy[lo:]
                if unit is not None:
                    table, base = unit
                    index = table[en.long()[None, :] + base[sel][:, None]]
            else:
                en = energy if energy.dim() == 1 else energy[sel]
            vals = self._evaluate(nodes[sel], [c[sel] for c in coef], n_e[sel], tail[sel], en, index)
            if accumulate and peaks:
                result[sel] = vals.amax(1)
            if weight is not None:
                vals = vals * weight[sel][:, None]
            if accumulate:
                out[:, lo:C].index_add_(0, rows[sel], vals)  # distinct rows: no races
            else:
                result[sel, lo:] = vals  # rows are distinct: no accumulation races
        return result if (peaks or not accumulate) else None

    def _unit_grid_index(self, energy, t, shift):
        """Interval look-up for integer grids ``e0, e0+1, ...`` and integer shifts.

        Returns ``None`` when the grid or the shifts do not qualify, else
        ``(table, base)``: ``table[E + base[p]]`` is the spline interval of
        pair ``p`` at the integer energy ``E`` (eV), or the all-zero interval
        ``n_energy - 1`` where ``E`` lies below the pair's onset. ``table``
        holds one row per table, ``j = E - floor(onset) - shift`` eV running
        over the row after ``pad`` entries of the zero interval, so that no
        channel of the grid needs clamping: ``base = t * width + pad -
        floor(onset) - shift``.
        """
        import torch

        C = energy.numel()
        e0 = float(energy[0])
        if (
            C < 2
            or e0 != round(e0)
            or e0 < 0
            or not bool((energy == e0 + torch.arange(C, device=energy.device, dtype=energy.dtype)).all())
            or not bool((shift == torch.round(shift)).all())
            or bool((shift.abs() > 16).any())
            or bool((self._onset < 0).any())
        ):
            return None
        span = int(e0) + C + 32  # j stays below this for every channel (onset >= 0, |shift| <= 16)
        cache = self.__dict__.setdefault("_unit_cache", {})
        if span not in cache:
            floor_onset = torch.floor(self._onset)
            frac = self._onset - floor_onset
            j = torch.arange(span, device=self.device, dtype=self._work)
            rel = self._rel.contiguous()
            x = (j[None, :] - frac[:, None]).contiguous()
            i = torch.searchsorted(rel, x, right=True) - 1
            i = torch.minimum(torch.clamp(i, min=0), (self._n_e - 2)[:, None])
            zero = self.n_energy - 1
            i = torch.where(x >= 0, i, torch.full_like(i, zero))
            # below the onset (E - floor(onset) - shift < 0, down to -(onset + 16)
            # at E = 0) every entry is the zero interval
            pad = int(floor_onset.max()) + 17
            i = torch.cat([torch.full((i.shape[0], pad), zero, dtype=i.dtype, device=i.device), i], 1)
            cache[span] = (i.reshape(-1), floor_onset.long(), i.shape[1], pad)
        table, floor_onset, width, pad = cache[span]
        return table, t * width + pad - floor_onset[t] - shift.long()

    @staticmethod
    def _evaluate(nodes, coef, n_e, tail, energy, index=None):
        import torch

        P = nodes.shape[0]
        en = energy.expand(P, -1) if energy.dim() == 1 else energy
        last = (n_e - 1)[:, None]
        if index is None:
            i = torch.searchsorted(nodes, en.contiguous(), right=True) - 1
            i = torch.minimum(torch.clamp(i, min=0), last - 1)
        else:
            i = index

        x0, a, b, c, d = (torch.gather(k, 1, i) for k in coef)
        # a + dx (b + dx (c + dx d)), in place on the gathered copies (the
        # same operations in the same order, without the temporaries)
        dx = x0.neg_().add_(en)
        out = d.mul_(dx).add_(c).mul_(dx).add_(b).mul_(dx).add_(a)
        e_last = torch.gather(nodes, 1, last)
        if bool((e_last.min() <= en.max())):  # some channels lie above a table
            e1, y1, r = tail[:, 0:1], tail[:, 1:2], tail[:, 2:3]
            power = y1 * torch.exp(-r * torch.log(torch.clamp(en, min=1e-3) / e1))
            out = torch.where(en >= e_last, power, out)
        if index is not None:  # below the onset the look-up chose the zero interval
            return out
        return torch.where(en >= nodes[:, :1], out, torch.zeros_like(out))

    def __call__(self, edges, E0, alpha, beta, shift, energy):
        """Cross sections of a batch of spectra, each with its own edge set.

        Parameters
        ----------
        edges : torch.Tensor
            Table positions, shape ``(B, K)``; ``-1`` marks an empty slot.
        E0, alpha, beta : torch.Tensor
            Shape ``(B,)``: beam energy (keV), semi-angles (mrad).
        shift : torch.Tensor
            Onset shifts (eV), shape ``(B, K)``.
        energy : torch.Tensor
            Energy grid (eV), shape ``(C,)`` or ``(B, C)``.

        Returns
        -------
        torch.Tensor
            Shape ``(B, K, C)`` in barn/eV/atom; empty slots are 0.
        """
        import torch

        f = dict(dtype=self.dtype, device=self.device)
        w = dict(dtype=self._work, device=self.device)
        edges = torch.as_tensor(edges, device=self.device).long()
        B, K = edges.shape
        E0, alpha, beta = (torch.as_tensor(a, **w).expand(B) for a in (E0, alpha, beta))
        shift = torch.as_tensor(shift, **w).expand(B, K)
        energy = torch.as_tensor(energy, **f)
        valid = edges >= 0
        b_idx, k_idx = valid.nonzero(as_tuple=True)
        en = energy if energy.dim() == 1 else energy[b_idx]
        vals = self.evaluate_pairs(
            edges[b_idx, k_idx], E0[b_idx], alpha[b_idx], beta[b_idx], shift[b_idx, k_idx], en
        )
        out = torch.zeros((B, K, energy.shape[-1]), **f)
        out[b_idx, k_idx] = vals
        return out
