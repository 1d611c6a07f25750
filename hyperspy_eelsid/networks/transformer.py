"""Transformer encoder shared by the ViT and the CCT."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["TransformerEncoder"]


class TransformerEncoder(nn.Module):
    """Stack of pre-norm transformer encoder layers (GELU MLP).

    Parameters
    ----------
    dim : int
        Token width.
    layers : int
        Number of encoder layers.
    heads : int
        Attention heads.
    mlp_ratio : float
        Width of the MLP relative to ``dim``.
    dropout : float
        Dropout in attention and MLP.
    """

    def __init__(self, dim: int, layers: int, heads: int, mlp_ratio: float = 2.0,
                 dropout: float = 0.1):
        super().__init__()
        layer = nn.TransformerEncoderLayer(
            d_model=dim, nhead=heads, dim_feedforward=int(dim * mlp_ratio), dropout=dropout,
            activation="gelu", batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.norm(self.layers(x))
