"""Generic, lifetime-broadened fine structure added above an edge onset.

A fine structure is a sum of ``n`` (10..25) Gaussian peaks with weights drawn
uniformly in [-1, 1], centred uniformly within ``w`` (50..100 eV) above the
onset. A peak at ``eps`` eV above the onset has the lifetime width
``Gamma = hbar / tau`` with ``tau = lambda_i / v``, ``v = sqrt(2 eps / m)`` and
the Seah-Dench mean free path ``lambda_i = 538 a / eps^2 + 0.41 a^1.5 eps^0.5``
(nm, ``a`` the atomic diameter in nm, ``eps`` in eV). ``Gamma`` is used as the
Gaussian FWHM, clipped to ``config.fs_fwhm_clip_ev``.

The sum ``f`` is scaled so that its maximum is ``min(rho, fs_max_scale)``
times the edge peak, ``rho = max(f) / |min(f)|``: fine structures that are
mostly positive (white lines) become strong, oscillating ones stay near the
edge height. The caller adds it to the edge above the onset and keeps the sum
above ``fs_floor`` times the edge.
"""

from __future__ import annotations

import math

__all__ = ["lifetime_fwhm", "fine_structure"]

_HBAR_EV_S = 6.582119569e-16
_ELECTRON_MASS_KG = 9.1093837015e-31
_EV_J = 1.602176634e-19


def mean_free_path_nm(eps, diameter_nm):
    """Seah-Dench inelastic mean free path (nm) at ``eps`` eV above the Fermi level."""
    return 538.0 * diameter_nm / eps**2 + 0.41 * diameter_nm**1.5 * eps**0.5


def lifetime_fwhm(eps, diameter_nm):
    """Lifetime broadening ``hbar v / lambda_i`` (eV) at ``eps`` eV above the onset."""
    import torch

    eps = torch.clamp(eps, min=1e-3)
    v = torch.sqrt(2.0 * eps * _EV_J / _ELECTRON_MASS_KG)  # m/s
    lam = mean_free_path_nm(eps, diameter_nm) * 1e-9
    return _HBAR_EV_S * v / lam


def fine_structure(n_peaks, width, diameter_pm, edge_peak, config, window, gen, offset=None, decay=None):
    """Fine structures of ``Q`` edges on a local grid ``offset + 0..window-1`` eV above onset.

    Parameters
    ----------
    n_peaks, width : torch.Tensor
        ``(Q,)`` number of peaks and window width (eV).
    diameter_pm : torch.Tensor
        ``(Q,)`` atomic diameters.
    edge_peak : torch.Tensor
        ``(Q,)`` peak value of each edge (same units as the result).
    config : SimulationConfig
    window : int
        Local grid length.
    gen : torch.Generator
    offset : torch.Tensor, optional
        ``(Q,)`` energy (eV, relative to the onset) of the first local channel.
    decay : torch.Tensor, optional
        ``(Q,)`` e-folding energies (eV) of an envelope ``exp(-(E - onset) /
        decay)`` applied before the scaling (``config.fs_decay_ev``).

    Returns
    -------
    torch.Tensor
        ``(Q, window)``.
    """
    import torch

    Q = n_peaks.shape[0]
    dev, dt = edge_peak.device, edge_peak.dtype
    P = int(config.fs_peaks[1])
    used = torch.arange(P, device=dev)[None, :] < n_peaks[:, None]
    weight = (2.0 * torch.rand((Q, P), generator=gen, device=dev, dtype=dt) - 1.0) * used
    centre = torch.rand((Q, P), generator=gen, device=dev, dtype=dt) * width[:, None]
    fwhm = lifetime_fwhm(centre, (diameter_pm * 1e-3)[:, None])
    fwhm = torch.clamp(fwhm, *config.fs_fwhm_clip_ev)
    # exp(-(x - c)^2 / (2 sigma^2)) = exp(-((x - c) k)^2), k = sqrt(ln 16) / fwhm
    k = math.sqrt(math.log(16.0)) / fwhm
    x = torch.arange(window, device=dev, dtype=dt)[None, :]
    if offset is not None:
        x = x + offset[:, None]
    f = torch.zeros((Q, window), device=dev, dtype=dt)
    for a in range(0, P, 5):  # a few peaks at a time bounds memory at 5 Q window
        rows = (n_peaks > a).nonzero(as_tuple=True)[0]  # edges with peaks in this group
        if rows.numel() == 0:
            break
        if rows.numel() == Q:
            rows = slice(None)
        xr = x if x.shape[0] == 1 else x[rows]
        z = (xr[:, None, :] - centre[rows, a : a + 5, None]).mul_(k[rows, a : a + 5, None])
        f[rows] += torch.einsum("qp,qpw->qw", weight[rows, a : a + 5], z.square_().neg_().exp_())
    if decay is not None:
        f *= torch.exp(-torch.clamp(x, min=0.0) / decay[:, None])
    top = f.amax(1)
    bottom = (-f).amax(1)
    rho = torch.where(bottom > 0, top / torch.clamp(bottom, min=1e-30), torch.full_like(top, float("inf")))
    amplitude = torch.clamp(rho, max=config.fs_max_scale) * edge_peak
    scale = torch.where(top > 0, amplitude / torch.clamp(top, min=1e-30), torch.zeros_like(top))
    return f * scale[:, None]
