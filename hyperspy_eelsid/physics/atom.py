"""Self-consistent non-relativistic Hartree-Fock-Slater (Herman-Skillman) atom.

Model
-----
Hartree atomic units throughout. The one-electron potential of the neutral
atom with nuclear charge ``Z`` and spherically averaged density
:math:`\\rho(r)` is

.. math:: V(r) = -\\frac{Z}{r} + V_H[\\rho](r)
          - \\frac{3\\alpha}{2} \\left(\\frac{3 \\rho(r)}{\\pi}\\right)^{1/3},

i.e. Slater's statistical exchange with :math:`\\alpha = 1` as used by
Herman & Skillman, *Atomic Structure Calculations* (Prentice-Hall, 1963).
Beyond the outermost radius :math:`r_0` where it crosses
:math:`-(Z - N + 1)/r`, the potential is replaced by that Coulomb tail
(Latter, Phys. Rev. 99, 510 (1955)), so that an electron far from the
neutral atom sees the unit charge of the hole it left behind.

For validation only, ``solve_atom(..., alpha=2/3, correlation="vwn",
latter=False)`` is the local-density approximation (Kohn-Sham-Dirac exchange
plus the Vosko-Wilk-Nusair correlation, no tail correction) of the NIST
reference tables of atomic LDA eigenvalues, which the tests compare with.

Numerics
--------
* Radial grid: :func:`.radial_grid.make_grid`, log-linear,
  ``r_min = 1e-5`` bohr (inner boundary condition u ~ r^(l+1)), ``h = 0.01`` (about 100 points per e-fold near the
  nucleus), linear step ``beta*h = 0.04`` bohr beyond ``beta = 4`` bohr,
  ``r_max = 60`` bohr for bound states.
* Bound orbitals: finite differences of the ``w(x)`` equation give a
  symmetric banded generalized eigenproblem, reduced to standard form with
  the diagonal metric :math:`r'^2`. The lowest states of each ``l`` are
  located with the second-order (tridiagonal) matrix and refined by
  Rayleigh-quotient iteration with the fourth-order (pentadiagonal) one.
* Hartree potential: cumulative Simpson integrals of the charge.
* Self-consistency: Anderson mixing of ``r V(r)``, started from the
  Thomas-Fermi potential in Tietz's approximation. Converged when
  :math:`\\max_r |r V_{out} - r V_{in}| < 10^{-6} Z` hartree bohr and every
  occupied eigenvalue changes by less than :math:`10^{-7} \\max(1, |\\epsilon|)`
  hartree between iterations.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import cumulative_simpson

from .configurations import L_LETTERS, atomic_number, configuration
from .radial_grid import RadialGrid, make_grid

__all__ = ["Atom", "solve_atom", "bound_states", "latter_tail", "hfs_potential",
           "vwn_correlation_potential"]

HARTREE_EV = 27.211386245988
"""Hartree energy in eV (CODATA 2018)."""


@dataclass
class Atom:
    """A converged HFS atom.

    Attributes
    ----------
    z : int
        Atomic number.
    grid : RadialGrid
        Radial grid.
    potential : ndarray
        Total self-consistent potential V(r) in hartree (Latter tail applied).
    occupations : dict
        ``{(n, l): occupation}``.
    energies : dict
        ``{(n, l): eigenvalue}`` in hartree.
    orbitals : dict
        ``{(n, l): u(r)}`` with ``u = r R`` normalised to ``int u^2 dr = 1``.
    iterations : int
        Number of SCF iterations used.
    residual : float
        Final ``max |r V_out - r V_in|``.
    """

    z: int
    grid: RadialGrid
    potential: np.ndarray
    occupations: dict
    energies: dict
    orbitals: dict
    iterations: int = 0
    residual: float = np.inf
    history: list = field(default_factory=list)

    def label(self, n, l):
        """Spectroscopic label such as ``'2p'``."""
        return f"{n}{L_LETTERS[l]}"

    def density(self):
        """Electron density rho(r) (electrons / bohr^3)."""
        return _density(self.grid, self.orbitals, self.occupations)


def _operator_bands(grid, potential, l, order):
    """Banded finite-difference matrix ``A`` of the radial equation in w(x).

    ``A w = E B w`` with ``A = -1/2 D2 + diag(U)``, ``B = diag(r'^2)`` and
    ``U = r'^2 (V + l(l+1)/2r^2) - {r,x}/2``. ``D2`` is the 2nd (``order=2``)
    or 4th (``order=4``) order central difference. Points inside ``r_min``
    are eliminated with the regular small-r behaviour
    ``w(x - k h) = exp(-k (l + 1/2) h) w(x)`` (``u ~ r^(l+1)``).

    Returns
    -------
    lower : list of ndarray
        ``lower[k][i] = A[i + k, i]``.
    upper : list of ndarray
        ``upper[k][i] = A[i, i + k]``.
    """
    r, rp, h = grid.r, grid.dr, grid.h
    diag = rp**2 * (potential + 0.5 * l * (l + 1) / r**2) + 0.5 * grid.schwarz
    rho = np.exp(-(l + 0.5) * h)
    if order == 2:
        c = [1.0 / (h * h), -0.5 / (h * h)]
    else:
        c = [30.0 / (24 * h * h), -16.0 / (24 * h * h), 1.0 / (24 * h * h)]
    d0 = c[0] + diag
    d0[0] += c[1] * rho
    lower = [d0]
    upper = [d0]
    for k in range(1, len(c)):
        lower.append(np.full(r.size - k, c[k]))
        upper.append(np.full(r.size - k, c[k]))
    if order == 4:
        d0[0] += c[2] * rho**2
        lower[1] = lower[1].copy()
        lower[1][0] += c[2] * rho  # row 1 sees w(-1) = rho w(0)
    return lower, upper


def _refine(grid, lower, upper, w, sigma, n_iter=4):
    """Shift-and-invert Rayleigh iteration for ``A w = E B w`` (banded A)."""
    from scipy.linalg import solve_banded

    npts = w.size
    b = grid.dr**2
    p = len(lower) - 1
    ab = np.zeros((2 * p + 1, npts))
    for k in range(1, p + 1):
        ab[p - k, k:] = upper[k]
        ab[p + k, :-k] = lower[k]

    def a_mul(v):
        out = lower[0] * v
        for k in range(1, p + 1):
            out[:-k] += upper[k] * v[k:]
            out[k:] += lower[k] * v[:-k]
        return out

    for _ in range(n_iter):
        ab[p] = lower[0] - sigma * b
        z = solve_banded((p, p), ab, b * w, check_finite=False)
        w = z / np.sqrt(z @ (b * z))
        sigma = (w @ a_mul(w)) / (w @ (b * w))
    return sigma, w


def bound_states(grid, potential, l, nstates):
    """Lowest bound states of angular momentum ``l`` in ``potential``.

    The states are first located with the second-order finite-difference
    tridiagonal eigenproblem (LAPACK bisection + inverse iteration, after
    symmetrisation with the metric :math:`r'^2`) and then refined by
    shift-and-invert Rayleigh iteration with the fourth-order
    (pentadiagonal) discretisation.

    Parameters
    ----------
    grid : RadialGrid
    potential : ndarray
        V(r) in hartree on ``grid``.
    l : int
        Orbital angular momentum.
    nstates : int
        Number of states wanted (the lowest ones).

    Returns
    -------
    energies : ndarray, shape (nstates,)
        Eigenvalues in hartree.
    u : ndarray, shape (nstates, npoints)
        Radial functions ``u = r R`` with ``int u^2 dr = 1`` and positive
        first lobe.
    """
    from scipy.linalg import eigh_tridiagonal

    rp = grid.dr
    s = 1.0 / rp
    (d, e), _ = _operator_bands(grid, potential, l, 2)
    evals, evecs = eigh_tridiagonal(
        d * s * s, e * s[:-1] * s[1:], select="i", select_range=(0, nstates - 1)
    )
    lower, upper = _operator_bands(grid, potential, l, 4)
    ws = np.empty((nstates, rp.size))
    for i in range(nstates):
        evals[i], ws[i] = _refine(grid, lower, upper, evecs[:, i] * s, evals[i])
    u = ws * np.sqrt(rp)[None, :]
    norm = np.sqrt(grid.integrate(u**2))
    u /= norm[:, None]
    # sign convention: positive near the origin
    i0 = np.argmax(np.abs(u) > 1e-6 * np.abs(u).max(axis=1, keepdims=True), axis=1)
    sign = np.sign(u[np.arange(nstates), i0])
    u *= sign[:, None]
    return evals, u


def _density(grid, orbitals, occupations):
    rho = np.zeros_like(grid.r)
    for key, occ in occupations.items():
        rho += occ * orbitals[key] ** 2
    return rho / (4 * np.pi * grid.r**2)


def _cumint(grid, f):
    """Cumulative integral of f(r) dr from r_min outwards."""
    return cumulative_simpson(f * grid.dr, dx=grid.h, initial=0.0)


#: Vosko-Wilk-Nusair (1980) parameters of the paramagnetic correlation energy
#: (their fit "V" to Ceperley-Alder), hartree: A, x0, b, c.
_VWN = (0.0310907, -0.10498, 3.72744, 12.9352)


def vwn_correlation_potential(rho):
    """Vosko-Wilk-Nusair correlation potential of the unpolarised electron gas.

    ``v_c = e_c - (r_s / 3) de_c/dr_s`` with ``r_s = (3 / (4 pi rho))^(1/3)``
    and VWN's interpolation of ``e_c(r_s)`` (Can. J. Phys. 58, 1200 (1980)).

    Parameters
    ----------
    rho : ndarray
        Electron density (electrons / bohr^3).

    Returns
    -------
    ndarray
        v_c in hartree (0 where ``rho`` is 0).
    """
    a, x0, b, c = _VWN
    rho = np.asarray(rho, dtype=float)
    pos = rho > 1e-300
    x = np.sqrt(np.cbrt(3.0 / (4.0 * np.pi * np.where(pos, rho, 1.0))))
    q = np.sqrt(4.0 * c - b * b)
    big_x, big_x0 = x * x + b * x + c, x0 * x0 + b * x0 + c
    atan = np.arctan(q / (2.0 * x + b))
    e_c = a * (np.log(x * x / big_x) + 2.0 * b / q * atan
               - b * x0 / big_x0 * (np.log((x - x0) ** 2 / big_x) + 2.0 * (b + 2.0 * x0) / q * atan))
    den = (2.0 * x + b) ** 2 + q * q
    de_dx = a * (2.0 / x - (2.0 * x + b) / big_x - 4.0 * b / den
                 - b * x0 / big_x0 * (2.0 / (x - x0) - (2.0 * x + b) / big_x - 4.0 * (b + 2.0 * x0) / den))
    return np.where(pos, e_c - x / 6.0 * de_dx, 0.0)  # r_s d/dr_s = (x / 2) d/dx


def hfs_potential(grid, z, rho, alpha=1.0, correlation=None):
    """Hartree + Slater-exchange + nuclear potential of a density.

    Parameters
    ----------
    grid : RadialGrid
    z : int
        Nuclear charge.
    rho : ndarray
        Spherical electron density (electrons / bohr^3).
    alpha : float
        Exchange scaling; 1 is Slater's / Herman-Skillman's value.
    correlation : {None, "vwn"}
        Add the Vosko-Wilk-Nusair correlation potential (LDA; for the
        comparison with published LDA eigenvalues, not used by the tables).

    Returns
    -------
    ndarray
        V(r) in hartree, without the Latter tail.
    """
    r = grid.r
    shell = 4 * np.pi * r**2 * rho
    q_in = _cumint(grid, shell)
    outer = _cumint(grid, shell / r)
    v_h = q_in / r + (outer[-1] - outer)
    v_x = -1.5 * alpha * np.cbrt(3.0 * rho / np.pi)
    v = -z / r + v_h + v_x
    if correlation == "vwn":
        v = v + vwn_correlation_potential(rho)
    elif correlation is not None:
        raise ValueError(f"correlation must be None or 'vwn', got {correlation!r}")
    return v


def latter_tail(grid, potential, ion_charge):
    """Apply Latter's correction V = -(ion_charge + 1)/r at large r.

    Parameters
    ----------
    grid : RadialGrid
    potential : ndarray
        Uncorrected potential (hartree).
    ion_charge : float
        Z - N (0 for the neutral atom).

    Returns
    -------
    ndarray
        Corrected potential: beyond the outermost crossing radius the
        Coulomb tail, inside unchanged.
    """
    tail = -(ion_charge + 1.0) / grid.r
    above = potential > tail
    # outermost crossing: last index from which V stays above the tail
    inside = np.nonzero(~above)[0]
    start = inside[-1] + 1 if inside.size else 0
    out = potential.copy()
    out[start:] = tail[start:]
    return out


def _thomas_fermi_guess(grid, z):
    b = 0.88534 * z ** (-1.0 / 3.0)
    phi = 1.0 / (1.0 + 0.53625 * grid.r / b) ** 2
    v = -z * phi / grid.r
    return latter_tail(grid, v, 0.0)


def _solve_orbitals(grid, potential, occupations):
    energies, orbitals = {}, {}
    lmax = max(l for _, l in occupations)
    for l in range(lmax + 1):
        ns = sorted(n for n, ll in occupations if ll == l)
        if not ns:
            continue
        nstates = max(ns) - l
        evals, u = bound_states(grid, potential, l, nstates)
        for n in ns:
            energies[(n, l)] = evals[n - l - 1]
            orbitals[(n, l)] = u[n - l - 1]
    return energies, orbitals


def _check_occupations(occupations) -> None:
    """Refuse subshells that do not exist or occupations they cannot hold (the SCF would run on,
    or fail to converge after minutes)."""
    for key, occ in occupations.items():
        try:
            n, l = (int(k) for k in key)
        except (TypeError, ValueError):
            raise ValueError(f"occupations are keyed by (n, l), e.g. (3, 2): 6 for 3d6; got {key!r}") from None
        if (n, l) != tuple(key) or n < 1 or not 0 <= l < n:
            raise ValueError(f"subshell {key!r} does not exist: n >= 1 and 0 <= l < n")
        if not (np.isfinite(occ) and 0 <= occ <= 2 * (2 * l + 1)):
            raise ValueError(f"subshell {key!r} holds 0 to {2 * (2 * l + 1)} electrons, got {occ!r}")
    if not sum(occupations.values()) > 0:
        raise ValueError("the occupations hold no electrons")


def solve_atom(
    z,
    occupations=None,
    grid=None,
    alpha=1.0,
    tol=1e-6,
    etol=1e-7,
    max_iter=300,
    mixing=0.3,
    anderson_depth=5,
    correlation=None,
    latter=True,
):
    """Solve the self-consistent HFS (Herman-Skillman) atom.

    Parameters
    ----------
    z : int or str
        Atomic number or chemical symbol.
    occupations : dict, optional
        ``{(n, l): occupation}``; default the ground-state configuration.
    grid : RadialGrid, optional
        Default ``make_grid(r_min=1e-5, r_max=60, h=0.01, beta=4)``.
    alpha : float
        Slater exchange parameter (1 = Herman-Skillman).
    tol : float
        Convergence threshold on ``max |r V_out - r V_in|`` in units of Z
        (hartree bohr).
    etol : float
        Convergence threshold on eigenvalue changes, in units of
        ``max(1, |eigenvalue|)`` hartree.
    max_iter : int
        Maximum number of SCF iterations.
    mixing : float
        Linear mixing parameter of the Anderson scheme.
    anderson_depth : int
        Number of previous iterations used by Anderson mixing.
    correlation : {None, "vwn"}
        Correlation potential (None: HFS; ``"vwn"`` with ``alpha=2/3`` and
        ``latter=False``: the LDA of published reference eigenvalues).
    latter : bool
        Apply Latter's tail correction (HFS); the LDA has none.

    Returns
    -------
    Atom

    Raises
    ------
    ValueError
        If ``z`` is no element of H..Bi, ``alpha`` is negative, or an
        occupation names a subshell that does not exist or more electrons
        than it holds.
    RuntimeError
        If the SCF does not converge.
    """
    if isinstance(z, str):
        z = atomic_number(z)
    if occupations is None:
        occupations = configuration(z)
    _check_occupations(occupations)
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"the exchange parameter alpha must be 0 (Hartree) or positive "
                         f"(2/3 Kohn-Sham-Gaspar, 1 Herman-Skillman), got {alpha!r}")
    if grid is None:
        grid = make_grid()
    nelec = sum(occupations.values())
    ion = z - nelec
    r = grid.r
    v_in = _thomas_fermi_guess(grid, z)
    xs, fs = [], []
    old_e = None
    history = []
    for it in range(1, max_iter + 1):
        energies, orbitals = _solve_orbitals(grid, v_in, occupations)
        rho = _density(grid, orbitals, occupations)
        v_out = hfs_potential(grid, z, rho, alpha, correlation)
        if latter:
            v_out = latter_tail(grid, v_out, ion)
        x_in, f = r * v_in, r * (v_out - v_in)
        res = np.abs(f).max()
        de = (
            np.inf
            if old_e is None
            else max(
                abs(energies[k] - old_e[k]) / max(1.0, abs(energies[k]))
                for k in energies
            )
        )
        history.append((res, de))
        old_e = energies
        if res < tol * z and de < etol:
            return Atom(z, grid, v_in, dict(occupations), energies, orbitals,
                        it, res, history)
        # Anderson mixing on x = r V
        xs.append(x_in)
        fs.append(f)
        xs, fs = xs[-anderson_depth - 1:], fs[-anderson_depth - 1:]
        if len(xs) > 1:
            df = np.array([fs[-1] - fk for fk in fs[:-1]])
            dx = np.array([xs[-1] - xk for xk in xs[:-1]])
            gram = df @ df.T
            gram += 1e-12 * np.trace(gram) * np.eye(len(gram))
            theta = np.linalg.solve(gram, df @ fs[-1])
            x_bar = xs[-1] - theta @ dx
            f_bar = fs[-1] - theta @ df
        else:
            x_bar, f_bar = xs[-1], fs[-1]
        x_new = x_bar + mixing * f_bar
        v_in = latter_tail(grid, x_new / r, ion) if latter else x_new / r
    raise RuntimeError(f"HFS SCF for Z={z} did not converge in {max_iter} iterations")
