"""Fast cross sections for the simulator: a lattice in beam energy and angle.

Evaluating the cubic-spline cross section of every edge of every spectrum on
3072 channels dominates the cost of a batch. The simulator therefore
tabulates, once per configuration, ``ln dsigma/dE`` of every subshell on the
integer energy grid for each configured beam energy and for ``n_theta``
effective collection angles spaced logarithmically, all computed with
:class:`~hyperspy_eelsid.physics.cross_sections.TorchCrossSections`. A
spectrum's edge is then the linear interpolation in ``ln theta`` between two
lattice rows, translated by its integer chemical shift.

Approximations (documented in ``docs/simulation.md``): the chemical shift
translates the cross section computed at the nominal onset (the exact
calculation also changes the kinematics by a few eV out of hundreds), and the
angle interpolation; :func:`lattice_error` measures the latter.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from hyperspy_eelsid.physics.cross_sections import TorchCrossSections, effective_angle

__all__ = ["CrossSectionLattice", "lattice_error"]

_LOG_ZERO = -200.0


class CrossSectionLattice:
    """``ln dsigma/dE`` of each table on the integer grid, per beam energy and angle.

    Parameters
    ----------
    xs : TorchCrossSections
        The subshell tables (and device).
    beam_energies_kv : sequence of float
        Beam energies the simulator draws from.
    n_channels : int
        Grid length (channels ``0..n_channels-1`` eV).
    theta_range_mrad : (float, float)
        Effective angles covered (clamped outside).
    n_theta : int
        Lattice nodes in angle.
    margin : int
        Extra channels kept beyond the grid for positive/negative shifts.
    """

    def __init__(self, xs: TorchCrossSections, beam_energies_kv, n_channels=3072,
                 theta_range_mrad=(0.2, 250.0), n_theta=24, margin=16):
        self.xs = xs
        self.device = xs.device
        self.beam_energies = tuple(float(e) for e in beam_energies_kv)
        self.n_theta = int(n_theta)
        if self.n_theta < 2:
            raise ValueError("n_theta must be >= 2")
        lo, hi = theta_range_mrad
        self.log_theta0 = math.log(lo)
        self.h = (math.log(hi) - math.log(lo)) / (self.n_theta - 1)
        thetas = np.exp(self.log_theta0 + self.h * np.arange(self.n_theta))
        onsets = np.array([t.onset_energy for t in xs.tables])
        first = np.floor(onsets).astype(np.int64)
        R = np.maximum(n_channels + margin - first, 1)
        nE = len(self.beam_energies)
        rows_per_table = nE * self.n_theta
        base = np.concatenate([[0], np.cumsum(R * rows_per_table)[:-1]])
        flat = torch.empty(int((R * rows_per_table).sum()), dtype=torch.float32, device=self.device)
        for t in range(len(xs.tables)):
            energy = torch.as_tensor(first[t] + np.arange(R[t]), dtype=torch.float32, device=self.device)
            E0 = torch.as_tensor(np.repeat(self.beam_energies, self.n_theta), device=self.device)
            beta = torch.as_tensor(np.tile(thetas, nE), device=self.device)
            idx = torch.full((rows_per_table,), t, device=self.device)
            sig = xs.evaluate_pairs(idx, E0, torch.zeros_like(beta), beta, torch.zeros_like(beta), energy, chunk=256)
            logs = torch.where(sig > 0, torch.log(torch.clamp(sig, min=1e-38)), torch.full_like(sig, _LOG_ZERO))
            flat[int(base[t]) : int(base[t]) + rows_per_table * int(R[t])] = logs.reshape(-1)
        self.flat = flat
        self._first = torch.as_tensor(first, device=self.device)
        self._R = torch.as_tensor(R, device=self.device)
        self._base = torch.as_tensor(base, device=self.device)
        self.nbytes = flat.numel() * 4

    def beam_index(self, E0):
        """Index of each beam energy in :attr:`beam_energies` (must be one of them)."""
        table = torch.as_tensor(self.beam_energies, device=E0.device, dtype=E0.dtype)
        match = (E0[:, None] == table[None, :])
        if not bool(match.any(1).all()):
            raise ValueError("beam energy not in the lattice's beam_energies_kv")
        return match.float().argmax(1)

    def __call__(self, t, E0, alpha, beta, shift, energy):
        """Cross sections (barn/eV) of pairs on an integer grid.

        Parameters
        ----------
        t : torch.Tensor
            ``(P,)`` table positions.
        E0, alpha, beta : torch.Tensor
            ``(P,)`` beam energy (keV, one of the lattice's), angles (mrad).
        shift : torch.Tensor
            ``(P,)`` integer onset shifts (eV).
        energy : torch.Tensor
            ``(C,)`` integer channel energies (eV).

        Returns
        -------
        torch.Tensor
            ``(P, C)``.
        """
        onset = self.xs._onset[t]
        theta = effective_angle(E0.double(), onset, alpha.double(), beta.double())
        u = (torch.log(theta) - self.log_theta0) / self.h
        i0 = torch.clamp(torch.floor(u), 0, self.n_theta - 2)
        w = torch.clamp(u - i0, 0.0, 1.0).float()[:, None]
        R = self._R[t]
        row = (self.beam_index(E0) * self.n_theta + i0.long()) * R + self._base[t]
        k = energy.long()[None, :] - (self._first[t] + shift.long())[:, None]
        valid = k >= 0
        idx = row[:, None] + torch.clamp(k, min=0)
        v0 = self.flat[idx]
        v1 = self.flat[idx + R[:, None]]
        out = torch.exp(v0 + w * (v1 - v0))
        return torch.where(valid, out, torch.zeros_like(out))


def lattice_error(lattice: CrossSectionLattice, n: int = 64, seed: int = 0) -> float:
    """Largest relative error of the lattice against the direct calculation.

    Draws ``n`` random (table, beam energy, angles) at zero shift and compares
    on the channels where the direct cross section exceeds 1e-3 of its maximum.
    """
    g = np.random.default_rng(seed)
    xs = lattice.xs
    t = torch.as_tensor(g.integers(0, len(xs.tables), n), device=lattice.device)
    E0 = torch.as_tensor(g.choice(lattice.beam_energies, n), device=lattice.device)
    alpha = torch.as_tensor(g.uniform(1, 20, n), device=lattice.device)
    beta = torch.as_tensor(g.uniform(1, 100, n), device=lattice.device)
    zero = torch.zeros(n, device=lattice.device)
    energy = torch.arange(3072, device=lattice.device, dtype=torch.float32)
    exact = xs.evaluate_pairs(t, E0, alpha, beta, zero, energy)
    approx = lattice(t, E0.float(), alpha.float(), beta.float(), zero, energy)
    big = exact > 1e-3 * exact.amax(1, keepdim=True)
    return float(((approx - exact).abs() / exact.clamp(min=1e-38))[big].max())
