"""Power-law background ``A (E / E_start)^-r``."""

from __future__ import annotations

import torch

__all__ = ["power_law"]


def power_law(energy, amplitude, exponent, start):
    """Background counts on ``energy`` (``(C,)`` eV) for ``(B,)`` parameters.

    Returns
    -------
    torch.Tensor
        ``(B, C)``; channels below 1 eV are evaluated at 1 eV (they are
        outside any spectrum range and get masked).
    """
    e = torch.clamp(energy, min=1.0)[None, :]
    return amplitude[:, None] * torch.exp(-exponent[:, None] * torch.log(e / start[:, None]))
