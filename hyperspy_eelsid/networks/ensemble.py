"""Ensembles: the mean of the member networks' probabilities."""

from __future__ import annotations

import torch
from torch import nn

from hyperspy_eelsid.networks.layers import _batched

__all__ = ["Ensemble"]


class Ensemble(nn.Module):
    """Average of the sigmoid probabilities of several networks.

    Parameters
    ----------
    members : sequence of EELSNet
        Networks mapping ``(B, 3072)`` spectra to ``(B, 80)`` logits.
    threshold : float, optional
        The ensemble's decision threshold.

    Notes
    -----
    The ensemble is created in eval mode. ``forward`` returns the logit of the averaged probability (so that an
    ensemble can stand in for a single network, e.g. in evaluation code);
    :meth:`predict_proba` returns the averaged probability itself.
    """

    def __init__(self, members, threshold: float | None = None):
        super().__init__()
        if len(members) == 0:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)
        self.threshold = threshold
        self.card: dict = {}
        self.name = "ensemble"
        self.eval()  # an inference object: members in eval mode

    @property
    def n_parameters(self) -> int:
        """Total parameters of all members."""
        return sum(p.numel() for p in self.parameters())

    def mean_probability(self, x: torch.Tensor) -> torch.Tensor:
        """Averaged member probabilities ``(B, 80)`` of spectra ``(B, 3072)``."""
        total = None
        for m in self.members:
            p = torch.sigmoid(m(x).float())
            total = p if total is None else total + p
        return total / len(self.members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of the averaged probability, ``(B, 80)``."""
        return torch.logit(self.mean_probability(x), eps=1e-7)

    @torch.inference_mode()
    def predict_proba(self, x, batch_size: int = 1024):
        """Averaged member probabilities (numpy in -> numpy out, torch -> torch)."""
        return _batched(self, x, batch_size, lambda out: out, forward=self.mean_probability)
