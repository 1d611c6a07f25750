"""Shot noise of the recorded counts.

Counts below :data:`NORMAL_ABOVE` are drawn from the Poisson distribution;
larger means from its normal limit ``N(lam, lam)``, rounded to integers and
kept non-negative. At ``lam >= 100`` the two differ only in a skewness of
``lam^-1/2 <= 0.1`` that no spectrum can show, and the normal draw costs
about a third of torch's Poisson sampler (most channels of a spectrum hold
thousands to millions of counts).
"""

from __future__ import annotations

import torch

__all__ = ["NORMAL_ABOVE", "shot_noise"]

#: Means from which on the normal limit is used.
NORMAL_ABOVE = 100.0


def shot_noise(counts: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Integer-valued noisy counts with mean and variance ``counts`` (>= 0)."""
    large = counts >= NORMAL_ABOVE
    small = torch.poisson(torch.where(large, torch.zeros_like(counts), counts), generator=generator)
    z = torch.randn(counts.shape, generator=generator, device=counts.device, dtype=counts.dtype)
    normal = torch.clamp(torch.round(counts + torch.sqrt(counts) * z), min=0.0)
    return torch.where(large, normal, small)
