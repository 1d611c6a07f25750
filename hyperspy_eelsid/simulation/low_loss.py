"""Generic low-loss region (zero loss + plasmons) used as a plural-scattering kernel.

``L(E) = P_0 Z(E) + sum_{n=1}^{N} P_n D_n(E)`` with ``Z`` a Lorentzian zero-loss
peak of FWHM 1..3 eV, ``D_n`` the Drude loss function
``E Gamma_n E_n^2 / ((E^2 - E_n^2)^2 + (E Gamma_n)^2)`` of the n-th plasmon
order with ``E_n = n E_p`` and ``Gamma_n = n Gamma_p`` (``E_p``, ``Gamma_p``
integers in 3..20 eV, ``N`` in 2..5), every term normalised to unit area and
``P_n = (t/lambda)^n exp(-t/lambda) / n!`` (Poisson). The kernel is normalised
to unit sum so that convolution redistributes, but conserves, edge counts.
"""

from __future__ import annotations

import math

import torch

__all__ = ["low_loss_kernel", "convolve"]

#: channels of the kernel below 0 eV (the zero-loss peak is symmetric)
NEGATIVE = 32


def low_loss_kernel(zlp_fwhm, plasmon_energy, plasmon_width, n_plasmons, t_over_lambda, length):
    """Low-loss spectra on ``-NEGATIVE .. length-NEGATIVE-1`` eV, shape ``(B, length)``.

    Parameters
    ----------
    zlp_fwhm, plasmon_energy, plasmon_width, t_over_lambda : torch.Tensor
        ``(B,)``.
    n_plasmons : torch.Tensor
        ``(B,)`` integer number of plasmon orders.
    length : int
    """
    dev, dt = zlp_fwhm.device, zlp_fwhm.dtype
    e = torch.arange(length, device=dev, dtype=dt) - NEGATIVE
    g = (zlp_fwhm / 2.0)[:, None]
    zlp = g / (e[None, :] ** 2 + g * g)
    zlp = zlp / zlp.sum(1, keepdim=True)
    tl = t_over_lambda[:, None]
    kernel = torch.exp(-tl) * zlp
    n_max = int(n_plasmons.max()) if n_plasmons.numel() else 0
    ep = torch.clamp(e, min=0.0)[None, :]
    for n in range(1, n_max + 1):
        en = n * plasmon_energy[:, None]
        gn = n * plasmon_width[:, None]
        d = ep * gn * en * en / ((ep * ep - en * en) ** 2 + (ep * gn) ** 2)
        d = d / torch.clamp(d.sum(1, keepdim=True), min=1e-30)
        pn = tl**n * torch.exp(-tl) / math.factorial(n)
        kernel = kernel + torch.where(n <= n_plasmons[:, None], pn * d, torch.zeros_like(d))
    return kernel / kernel.sum(1, keepdim=True)


def convolve(signal, kernel):
    """Convolve ``(B, C)`` signals with ``(B, K)`` kernels from :func:`low_loss_kernel`.

    Returns
    -------
    torch.Tensor
        ``(B, C)``: channel ``c`` is ``sum_e signal[c - e] L(e)``.
    """
    C, K = signal.shape[1], kernel.shape[1]
    n = 1 << (C + K - 1).bit_length()
    full = torch.fft.irfft(torch.fft.rfft(signal, n=n) * torch.fft.rfft(kernel, n=n), n=n)
    return full[:, NEGATIVE : NEGATIVE + C]
