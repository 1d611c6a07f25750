"""Generalized oscillator strength (GOS) of an atomic subshell.

For a closed (or spherically averaged) subshell ``nl`` holding ``N``
electrons, ionised into continuum states ``E l'`` of the same central
potential, the first Born approximation gives, in Hartree atomic units,

.. math::

    \\frac{df}{dE}(E, q) = \\frac{2 \\Delta E}{q^2}\\, N
    \\sum_{l'} \\sum_{\\lambda} (2\\lambda + 1)(2 l' + 1)
    \\begin{pmatrix} l' & \\lambda & l \\\\ 0 & 0 & 0 \\end{pmatrix}^2
    \\left| \\int_0^\\infty u_{nl}(r)\\, j_\\lambda(q r)\\, u_{E l'}(r)\\, dr
    \\right|^2 ,

with :math:`\\Delta E = |\\epsilon_{nl}| + E` the energy loss, ``E`` the
kinetic energy of the ejected electron, ``u_{El'}`` normalised per unit
energy (:mod:`.continuum`) and :math:`j_\\lambda` spherical Bessel functions
(multipole expansion of :math:`e^{i\\mathbf{q}\\cdot\\mathbf{r}}`). The sum
over final magnetic sub-states and the average over initial ones are done
analytically (the 3j symbol); parity restricts ``l + l' + lambda`` to even
values. The radial matrix elements for all ``q`` and ``E`` are computed as
one matrix product per ``(l', lambda)`` pair.

The result is returned per eV (``df/dE`` in 1/eV), which is the unit
exSpy's :class:`~exspy._misc.eels.gosh_gos.GoshGOS` integrates.
"""

from math import lgamma

import numpy as np
from scipy.integrate import simpson
from scipy.special import spherical_jn

from .atom import HARTREE_EV
from .continuum import continuum_grid, continuum_states

__all__ = ["threej_000", "subshell_gos", "default_lmax", "simpson_weights"]


def threej_000(l1, l2, l3):
    """Wigner 3j symbol (l1 l2 l3; 0 0 0).

    Parameters
    ----------
    l1, l2, l3 : int

    Returns
    -------
    float
    """
    big_j = l1 + l2 + l3
    if big_j % 2 or l3 > l1 + l2 or l3 < abs(l1 - l2):
        return 0.0
    g = big_j // 2
    logv = 0.5 * (
        lgamma(big_j - 2 * l1 + 1)
        + lgamma(big_j - 2 * l2 + 1)
        + lgamma(big_j - 2 * l3 + 1)
        - lgamma(big_j + 2)
    )
    logv += lgamma(g + 1) - lgamma(g - l1 + 1) - lgamma(g - l2 + 1) - lgamma(g - l3 + 1)
    return (-1) ** g * np.exp(logv)


def simpson_weights(grid, n):
    """Weights ``w_i`` with ``sum w_i f(r_i) ~ int f dr`` on ``grid.r[:n]``.

    Parameters
    ----------
    grid : RadialGrid
    n : int

    Returns
    -------
    ndarray
    """
    eye = np.eye(n)
    # Simpson weights in x for unit vectors (exact for the composite rule)
    wx = simpson(eye, dx=grid.h, axis=1)
    return wx * grid.dr[:n]


def default_lmax(l, k_max, r_extent):
    """Highest final-state ``l'`` kept for a subshell.

    Partial waves with ``l' + 1/2 > k r`` are kept out of the region
    ``r < r_extent`` of the bound orbital by the centrifugal barrier. The
    rule ``l'_max = 0.6 k_max r_extent + 6`` (capped to [l + 4, 45]), with
    ``r_extent`` the radius holding all but 1e-6 of the orbital norm, loses
    less than 3e-4 of the q-integrated GOS at 3.5 keV for the outermost
    shells tabulated (C 1s, Fe 3p, Ba 4d were checked against l'_max = 70)
    and nothing measurable below 1 keV.

    Parameters
    ----------
    l : int
        Initial-state angular momentum.
    k_max : float
        Largest final-state wave number (1/bohr).
    r_extent : float
        Radius (bohr) holding all but ~1e-6 of the bound orbital's norm.

    Returns
    -------
    int
    """
    return int(min(45, max(l + 4, np.ceil(0.6 * k_max * r_extent) + 6)))


def orbital_extent(grid, u, tol=1e-12):
    """Radius beyond which ``int u^2 dr < tol``.

    Parameters
    ----------
    grid : RadialGrid
    u : ndarray
        Normalised bound orbital.
    tol : float

    Returns
    -------
    index : int
        First grid index beyond that radius.
    radius : float
    """
    cum = np.cumsum((u**2 * grid.dr)[::-1])[::-1] * grid.h
    idx = int(np.nonzero(cum > tol)[0][-1]) + 1
    return idx, float(grid.r[min(idx, grid.size - 1)])


def subshell_gos(atom, n, l, energies_ev, q_au, lmax=None, r_max=300.0,
                 energy_chunk=32, return_partial=False):
    """GOS ``df/dE`` of subshell ``(n, l)`` of an SCF atom.

    Parameters
    ----------
    atom : Atom
        Converged :class:`~.atom.Atom`.
    n, l : int
        Subshell quantum numbers.
    energies_ev : array_like, shape (nE,)
        Kinetic energies of the ejected electron above threshold (eV),
        increasing.
    q_au : array_like, shape (nq,)
        Momentum transfers (1/bohr).
    lmax : int, optional
        Highest final-state angular momentum; default :func:`default_lmax`
        evaluated for each chunk of energies.
    r_max : float
        Outer radius of the continuum grid (bohr).
    energy_chunk : int
        Energies solved per Numerov sweep (memory bound).
    return_partial : bool
        Also return the contributions of each ``l'``.

    Returns
    -------
    gos : ndarray, shape (nE, nq)
        ``df/dE`` in 1/eV for the whole subshell (all ``N`` electrons).
    partial : ndarray, shape (lmax + 1, nE, nq)
        Only with ``return_partial``.
    """
    energies_ev = np.asarray(energies_ev, float)
    q_au = np.asarray(q_au, float)
    occ = atom.occupations[(n, l)]
    e_bind = -atom.energies[(n, l)]
    u_b = atom.orbitals[(n, l)]
    bgrid = atom.grid
    n_in, _ = orbital_extent(bgrid, u_b, 1e-12)
    _, r_ext = orbital_extent(bgrid, u_b, 1e-6)
    e_ha = energies_ev / HARTREE_EV
    order = np.argsort(e_ha)
    if np.any(np.diff(order) != 1):
        raise ValueError("energies must be increasing")
    fixed_lmax = lmax
    if lmax is None:
        lmax = default_lmax(l, np.sqrt(2 * e_ha.max()), r_ext)
    cgrid = continuum_grid(bgrid, r_max)
    tail_charge = -atom.potential[-1] * bgrid.r[-1]
    v = np.concatenate([atom.potential, -tail_charge / cgrid.r[bgrid.size:]])
    wts = simpson_weights(cgrid, n_in)
    r_in = cgrid.r[:n_in]
    lam_max = lmax + l
    # B[lam] = j_lam(q r) u_b(r) w(r): (nlam, nq, n_in)
    qr = q_au[:, None] * r_in[None, :]
    bmat = np.empty((lam_max + 1, q_au.size, n_in))
    for lam in range(lam_max + 1):
        jl = spherical_jn(lam, qr)
        if lam == 0:
            # <b|c> = 0 exactly (same Hamiltonian); dropping the constant
            # term of j_0 removes the round-off that 1/q^2 would amplify.
            jl = jl - 1.0
        bmat[lam] = jl * (u_b[:n_in] * wts)[None, :]
    partial = np.zeros((lmax + 1, e_ha.size, q_au.size))
    for start in range(0, e_ha.size, energy_chunk):
        sl = slice(start, start + energy_chunk)
        if fixed_lmax is None:
            lmax_c = default_lmax(l, np.sqrt(2 * e_ha[sl].max()), r_ext)
        else:
            lmax_c = lmax
        ls = np.arange(lmax_c + 1)
        uc = continuum_states(cgrid, v, e_ha[sl], ls, n_in, tail_charge)  # (nl, nEc, n_in)
        for lp in ls:
            for lam in range(abs(lp - l), lp + l + 1):
                c = threej_000(lp, lam, l)
                if c == 0.0:
                    continue
                mel = uc[lp] @ bmat[lam].T  # (nEc, nq)
                partial[lp, sl] += (2 * lam + 1) * (2 * lp + 1) * c * c * mel**2
    d_e = (e_bind + e_ha)[:, None]
    pref = 2.0 * d_e / q_au[None, :] ** 2 * occ / HARTREE_EV
    partial *= pref[None]
    gos = partial.sum(axis=0)
    if return_partial:
        return gos, partial
    return gos
