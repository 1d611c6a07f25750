"""Transformer encoder shared by the ViT and the CCT."""

from __future__ import annotations

import torch
from torch import nn

from hyperspy_eelsid.networks.layers import MLPHead, TokenReduction

__all__ = ["TransformerEncoder", "TokenTransformer"]


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


class TokenTransformer:
    """Mixin for networks that classify a token sequence with a transformer (ViT, CCT).

    :meth:`_build_encoder` adds the shared tail (optional class token,
    learned positions, encoder, token reduction, MLP head) and :meth:`_encode`
    runs it. The attribute names are part of the saved weights' format.
    """

    def _build_encoder(self, n_tokens: int, dim: int, layers: int, heads: int, mlp_ratio: float,
                       reduction: str, head_hidden, dropout: float) -> None:
        self.use_class_token = reduction == "class_token"
        if self.use_class_token:
            self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
            n_tokens += 1
        self.position = nn.Parameter(torch.randn(1, n_tokens, dim) * 0.02)
        self.encoder = TransformerEncoder(dim, layers, heads, mlp_ratio, dropout)
        self.reduce = TokenReduction(reduction, dim, n_tokens)
        self.head = MLPHead(self.reduce.out_features, head_hidden, dropout=dropout, activation=nn.GELU)

    def _encode(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits of a ``(B, T, dim)`` token sequence."""
        if self.use_class_token:
            tokens = torch.cat([self.class_token.expand(tokens.shape[0], -1, -1), tokens], dim=1)
        tokens = self.encoder(tokens + self.position)
        return self.head(self.reduce(tokens))
