"""Log-linear radial grid shared by the bound-state and continuum solvers.

The grid is uniform in the variable

.. math:: x = \\ln r + r / \\beta ,

so that it is logarithmic (step :math:`\\Delta r \\approx r h`) close to the
nucleus, where core orbitals live, and linear (step :math:`\\Delta r
\\approx \\beta h`) far from it, where fast continuum electrons oscillate.
All quantities are in Hartree atomic units (bohr, hartree).

Radial functions :math:`u(r) = r R(r)` are represented through
:math:`w(x) = u(r) / \\sqrt{r'(x)}`, which turns the radial Schroedinger
equation into the first-derivative-free form

.. math:: w'' = \\left[ r'^2 \\left( 2 (V - E) + \\frac{l(l+1)}{r^2} \\right)
          - \\tfrac12 \\{r, x\\} \\right] w ,

with the Schwarzian derivative :math:`\\{r, x\\} = r'''/r' - \\tfrac32
(r''/r')^2`. This form is used both by the finite-difference eigenvalue
solver (:mod:`.atom`) and by the Numerov integrator (:mod:`.continuum`).
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import lambertw

__all__ = ["RadialGrid", "make_grid"]


@dataclass(frozen=True)
class RadialGrid:
    """A log-linear radial grid.

    Attributes
    ----------
    x : ndarray
        Uniform grid variable.
    h : float
        Step in ``x``.
    beta : float
        Crossover radius (bohr) between the logarithmic and linear parts.
    r : ndarray
        Radii (bohr).
    dr : ndarray
        Jacobian :math:`r'(x)`.
    schwarz : ndarray
        :math:`-\\tfrac12 \\{r, x\\}`, the term added to the effective
        potential of the ``w`` equation.
    """

    x: np.ndarray
    h: float
    beta: float
    r: np.ndarray
    dr: np.ndarray
    schwarz: np.ndarray

    @property
    def size(self):
        """Number of grid points."""
        return self.r.size

    def integrate(self, f):
        """Integrate ``f(r) dr`` over the whole grid (Simpson in ``x``).

        Parameters
        ----------
        f : ndarray
            Integrand sampled on the grid; the last axis is the radius.

        Returns
        -------
        ndarray or float
        """
        from scipy.integrate import simpson

        return simpson(f * self.dr, dx=self.h, axis=-1)


def make_grid(r_min=1e-5, r_max=60.0, h=0.01, beta=4.0):
    """Build a :class:`RadialGrid`.

    Parameters
    ----------
    r_min, r_max : float
        First and (approximately) last radius in bohr.
    h : float
        Uniform step in ``x = ln r + r / beta``.
    beta : float
        Crossover radius in bohr; far from the nucleus the step is ``beta*h``.

    Returns
    -------
    RadialGrid
    """
    x0 = np.log(r_min) + r_min / beta
    x1 = np.log(r_max) + r_max / beta
    n = int(np.ceil((x1 - x0) / h)) + 1
    x = x0 + h * np.arange(n)
    # invert x = ln r + r/beta  ->  r = beta W(exp(x)/beta)
    r = beta * np.real(lambertw(np.exp(x) / beta))
    rp = r * beta / (r + beta)
    rpp = rp * beta**2 / (r + beta) ** 2
    rppp = rp * beta**3 * (beta - 2 * r) / (r + beta) ** 4
    schwarzian = rppp / rp - 1.5 * (rpp / rp) ** 2
    return RadialGrid(x=x, h=h, beta=beta, r=r, dr=rp, schwarz=-0.5 * schwarzian)
