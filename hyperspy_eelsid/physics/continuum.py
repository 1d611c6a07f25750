"""Continuum (free) radial states in a central atomic potential.

The radial equation for an ejected electron of kinetic energy ``E``
(hartree) and angular momentum ``l`` is integrated outwards with the
Numerov method on the uniform ``x`` variable of a
:class:`~.radial_grid.RadialGrid`, vectorised over all requested
``(l, E)`` pairs at once (one Python step per grid point, numpy over the
pairs).

Normalisation per unit energy
-----------------------------
Far from the atom the potential is the Latter tail ``-1/r`` of the neutral
atom, so the solution is a Coulomb wave. It is normalised with the
phase-amplitude (WKB) form ``u = A k_loc^{-1/2} sin(phi)``,
``k_loc^2 = 2 (E - V) - (l + 1/2)^2 / r^2``, evaluated at two points of
the outer grid a quarter of a local wavelength apart:

.. math:: A^2 = \\frac{\\tilde u_a^2 + \\tilde u_b^2 - 2 \\tilde u_a \\tilde
          u_b \\cos\\Delta}{\\sin^2 \\Delta}, \\quad \\tilde u = u
          \\sqrt{k_{loc}}, \\quad \\Delta = \\int_a^b k_{loc}\\,dr ,

and the state is scaled to ``A = sqrt(2/pi)``, which gives
:math:`\\int u_E u_{E'} dr = \\delta(E - E')` with ``E`` in hartree. At the
default outer radius (300 bohr) the WKB corrections to the amplitude are
below 1e-4 for the energies and ``l`` used by the GOS tables. States whose
outer region is still classically forbidden are set to zero (their inner
amplitude is negligible).
"""

import numpy as np

from .radial_grid import make_grid

__all__ = ["continuum_states", "continuum_grid"]


def continuum_grid(bound_grid, r_max=300.0):
    """Extend a bound-state grid outwards (same ``x`` points at the start).

    Parameters
    ----------
    bound_grid : RadialGrid
    r_max : float
        Outer radius in bohr.

    Returns
    -------
    RadialGrid
    """
    g = make_grid(
        r_min=float(bound_grid.r[0]), r_max=r_max, h=bound_grid.h, beta=bound_grid.beta
    )
    assert np.allclose(g.r[: bound_grid.size], bound_grid.r, rtol=1e-12)
    return g


def continuum_states(grid, potential, energies, ls, n_store, tail_charge=1.0,
                     tail_points=600):
    """Energy-normalised continuum radial functions.

    Parameters
    ----------
    grid : RadialGrid
        Integration grid (typically from :func:`continuum_grid`).
    potential : ndarray
        V(r) in hartree on ``grid``; beyond its last meaningful point it must
        be ``-tail_charge / r``.
    energies : array_like, shape (nE,)
        Kinetic energies in hartree (>= 0).
    ls : array_like of int, shape (nl,)
        Orbital angular momenta.
    n_store : int
        Number of inner grid points for which ``u`` is returned.
    tail_charge : float
        Charge of the asymptotic Coulomb tail (1 for the neutral atom with
        the Latter correction). Only used for documentation/checks.
    tail_points : int
        Number of outer points kept to normalise the states.

    Returns
    -------
    u : ndarray, shape (nl, nE, n_store)
        ``u = r R`` on ``grid.r[:n_store]``, normalised per hartree.
    """
    energies = np.asarray(energies, dtype=float)
    ls = np.asarray(ls, dtype=int)
    nl, ne = ls.size, energies.size
    npts, h = grid.size, grid.h
    if np.abs(potential[-1] * grid.r[-1] + tail_charge) > 1e-6 * tail_charge:
        raise ValueError("potential must end on its Coulomb tail")
    lcol = np.repeat(ls, ne).astype(float)
    ecol = np.tile(energies, nl)
    ncol = lcol.size
    ll1 = lcol * (lcol + 1.0)
    h12 = h * h / 12.0
    rp2 = grid.dr**2
    base = rp2 * 2.0 * potential + grid.schwarz  # l- and E-independent part
    inv_r2 = rp2 / grid.r**2

    def f_at(i):
        return base[i] + inv_r2[i] * ll1 - rp2[i] * 2.0 * ecol

    store = np.zeros((n_store, ncol))
    tail_start = npts - tail_points
    tail = np.zeros((tail_points, ncol))
    w_prev = np.ones(ncol)
    w_cur = np.exp((lcol + 0.5) * h)
    f_prev, f_cur = f_at(0), f_at(1)
    store[0], store[1] = w_prev, w_cur
    big = 1e150
    for i in range(1, npts - 1):
        f_next = f_at(i + 1)
        w_next = (2.0 * w_cur * (1.0 + 5.0 * h12 * f_cur)
                  - w_prev * (1.0 - h12 * f_prev)) / (1.0 - h12 * f_next)
        if (i & 31) == 0:
            over = np.abs(w_next) > big
            if over.any():
                w_next[over] /= big
                w_cur[over] /= big
                store[: min(i + 1, n_store), over] /= big
                tail[:, over] /= big
        if i + 1 < n_store:
            store[i + 1] = w_next
        if i + 1 >= tail_start:
            tail[i + 1 - tail_start] = w_next
        w_prev, w_cur = w_cur, w_next
        f_prev, f_cur = f_cur, f_next
    if tail_start <= 0:
        raise ValueError("grid too short for the tail window")

    # normalisation from the outer window
    r_t = grid.r[tail_start:]
    u_t = tail * np.sqrt(grid.dr[tail_start:])[:, None]
    k2 = 2.0 * (ecol[None, :] - potential[tail_start:, None]) - (
        (lcol[None, :] + 0.5) ** 2 / r_t[:, None] ** 2
    )
    ok = np.all(k2 > 0, axis=0)
    k = np.sqrt(np.clip(k2, 1e-30, None))
    # cumulative phase from the window end backwards
    dr = np.diff(r_t)
    seg = 0.5 * (k[1:] + k[:-1]) * dr[:, None]
    phase_back = np.zeros_like(k)
    phase_back[:-1] = np.cumsum(seg[::-1], axis=0)[::-1]
    # point a: phase distance closest to pi/2 before the end
    ia = np.argmin(np.abs(phase_back - 0.5 * np.pi), axis=0)
    cols = np.arange(ncol)
    delta = phase_back[ia, cols]
    ua = u_t[ia, cols] * np.sqrt(k[ia, cols])
    ub = u_t[-1] * np.sqrt(k[-1])
    amp2 = (ua**2 + ub**2 - 2 * ua * ub * np.cos(delta)) / np.sin(delta) ** 2
    good = ok & (delta > 0.3) & (amp2 > 0) & np.isfinite(amp2)
    scale = np.zeros(ncol)
    scale[good] = np.sqrt(2.0 / np.pi / amp2[good])
    u = store * np.sqrt(grid.dr[:n_store])[:, None] * scale[None, :]
    return u.T.reshape(nl, ne, n_store)
