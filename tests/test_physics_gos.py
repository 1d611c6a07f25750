"""Tests of the continuum states and of the GOS against analytic limits."""

import numpy as np
import pytest
from scipy.integrate import trapezoid

from hyperspy_eelsid.physics.atom import HARTREE_EV, Atom, bound_states
from hyperspy_eelsid.physics.continuum import continuum_states
from hyperspy_eelsid.physics.gos import subshell_gos, threej_000
from hyperspy_eelsid.physics.radial_grid import make_grid

RYDBERG_EV = HARTREE_EV / 2


def test_threej_known_values():
    assert threej_000(1, 1, 0) ** 2 == pytest.approx(1 / 3)
    assert threej_000(2, 1, 1) ** 2 == pytest.approx(2 / 15)
    assert threej_000(2, 2, 2) ** 2 == pytest.approx(2 / 35)
    assert threej_000(1, 1, 1) == 0.0  # odd l1 + l2 + l3
    assert threej_000(3, 1, 1) == 0.0  # triangle rule


def test_coulomb_continuum_is_energy_normalised():
    """s waves in -Z/r against the analytic Coulomb normalisation.

    Near the origin the regular Coulomb function normalised per hartree is
    u(r) -> sqrt(2/(pi k)) C_0(eta) k r with C_0^2 = 2 pi eta /
    (exp(2 pi eta) - 1), eta = -Z/k.
    """
    z = 6.0
    grid = make_grid(r_max=300.0)
    e_ev = np.array([0.5, 20.0, 300.0, 3000.0])
    e = e_ev / HARTREE_EV
    u = continuum_states(grid, -z / grid.r, e, [0], 10, tail_charge=z)[0]
    k = np.sqrt(2 * e)
    eta = -z / k
    c0 = np.sqrt(2 * np.pi * eta / np.expm1(2 * np.pi * eta))
    slope = np.sqrt(2 / (np.pi * k)) * c0 * k
    r = grid.r[5]
    np.testing.assert_allclose(u[:, 5] / r, slope * (1 - z * r), rtol=2e-3)


def _hydrogenic_k_gos(e_loss_ev, qa0_sq, z):
    """Bethe's closed-form hydrogenic 1s GOS per eV, two 1s electrons.

    The expression of R. F. Egerton's SIGMAK (Electron Energy-Loss
    Spectroscopy in the Electron Microscope, 3rd ed., 2011, Sec. 3.6.1), as
    used by exSpy's ``HydrogenicGOS.gosfuncK`` (there with the screened
    charge Z - 1/2); here the bare charge ``z``.
    """
    r = RYDBERG_EV
    q = qa0_sq / z**2
    kh2 = e_loss_ev / (r * z**2) - 1
    akh = np.sqrt(np.abs(kh2))
    d = 1 - np.exp(-2 * np.pi / akh)
    bp = np.arctan2(2 * akh, q - kh2 + 1)
    c = np.exp(-2 / akh * bp)
    a = ((q - kh2 + 1) ** 2 + 4 * kh2) ** 3
    return 2 * 128 * e_loss_ev / (r * z**4) * c / d * (q + kh2 / 3 + 1 / 3) / (a * r)


@pytest.fixture(scope="module")
def coulomb_k_gos():
    z = 6
    grid = make_grid()
    v = -z / grid.r
    e, u = bound_states(grid, v, 0, 1)
    atom = Atom(z, grid, v, {(1, 0): 2}, {(1, 0): e[0]}, {(1, 0): u[0]})
    energies = np.array([0.0, 0.5, 5.0, 20.0, 100.0, 300.0, 1000.0, 3000.0])
    q = np.geomspace(0.005, 10.0, 12)
    gos = subshell_gos(atom, 1, 0, energies, q)
    return z, e[0], energies, q, gos


def test_pure_coulomb_reproduces_hydrogenic_k_gos(coulomb_k_gos):
    z, e1s, energies, q, gos = coulomb_k_gos
    e_loss = energies - e1s * HARTREE_EV
    ref = _hydrogenic_k_gos(e_loss[1:, None], q[None, :] ** 2, z)
    ratio = gos[1:] / ref
    assert np.max(np.abs(ratio - 1)) < 0.02
    assert np.median(np.abs(ratio - 1)) < 1e-3


def test_pure_coulomb_matches_exspy_hydrogenic_function(coulomb_k_gos):
    """Same check through exSpy's own ``gosfuncK`` (Z - 1/2 screening undone)."""
    hyd = pytest.importorskip("exspy._misc.eels.hydrogenic_gos")
    z, e1s, energies, q, gos = coulomb_k_gos
    obj = object.__new__(hyd.HydrogenicGOS)
    obj.Z = z + 0.5  # exSpy uses Z_s = Z - 0.5 and two electrons
    e_loss = energies - e1s * HARTREE_EV
    for i in (2, 4, 6):
        for j in (0, 5, 9):
            ref = obj.gosfuncK(e_loss[i], q[j] ** 2)
            # exSpy rounds the Rydberg to 13.606 eV
            assert gos[i, j] == pytest.approx(ref, rel=2e-3)


def test_gos_is_positive_and_has_a_dipole_limit(coulomb_k_gos):
    _, _, _, q, gos = coulomb_k_gos
    assert np.all(gos >= 0)
    # df/dE becomes independent of q for q -> 0 (optical limit)
    np.testing.assert_allclose(gos[:, 0], gos[:, 1], rtol=1e-3)


def test_hydrogenic_dipole_continuum_sum():
    """Continuum part of the Bethe sum for a hydrogenic 1s electron.

    In the optical limit the 1s -> continuum oscillator strength of a
    hydrogenic ion is 0.4350 per electron, independent of Z (the discrete
    1s -> np lines hold the remaining 0.5650; Bethe & Salpeter, Quantum
    Mechanics of One- and Two-Electron Atoms, 1957, Sec. 63).
    """
    from hyperspy_eelsid.physics.build import energy_grid

    z = 2
    grid = make_grid()
    v = -z / grid.r
    e, u = bound_states(grid, v, 0, 1)
    atom = Atom(z, grid, v, {(1, 0): 1}, {(1, 0): e[0]}, {(1, 0): u[0]})
    energies = energy_grid(n=160, first_step=0.05, last=3500.0)
    gos = subshell_gos(atom, 1, 0, energies, np.array([1e-3]), lmax=4)[:, 0]
    total = trapezoid(gos, energies)  # scipy's: np.trapezoid needs NumPy 2
    assert total == pytest.approx(0.4350, rel=5e-3)
