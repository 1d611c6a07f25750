"""Vision transformer: the spectrum cut into patches, encoded, then attended over."""

from __future__ import annotations

import torch
from torch import nn

from hyperspy_eelsid.networks.layers import EELSNet, InputEncoding
from hyperspy_eelsid.networks.registry import register
from hyperspy_eelsid.networks.transformer import TokenTransformer

__all__ = ["ViT1d"]


@register(
    "vit",
    presets={
        "default": {},  # patch 16, dim 128, 10 layers, ~2 M parameters
        "compact": {"patch_size": 64, "dim": 64, "layers": 3, "heads": 4, "mlp_ratio": 2.0,
                    "head_hidden": [128]},
    },
)
class ViT1d(TokenTransformer, EELSNet):
    """One-dimensional vision transformer.

    The 3072 channels are cut into non-overlapping patches, each linearly
    embedded and given a learnable position embedding (the position is the
    energy, the main information for element identification).

    Parameters
    ----------
    patch_size : int
        Channels per patch (must divide 3072).
    dim : int
        Token width.
    layers : int
        Transformer encoder layers.
    heads : int
        Attention heads.
    mlp_ratio : float
        Encoder MLP width relative to ``dim``.
    reduction : {"class_token", "seq_pool", "gap", "flatten"}
        How tokens become a vector (see :class:`TokenReduction`).
    head_hidden : sequence of int
        Hidden widths of the MLP head.
    dropout : float
        Dropout in the encoder and the head.
    input_encoding : {"linear", "log", "linear+log"}
        How the spectrum enters the first layer (see :class:`InputEncoding`).
    """

    def __init__(self, patch_size: int = 16, dim: int = 128, layers: int = 10, heads: int = 4,
                 mlp_ratio: float = 4.0, reduction: str = "class_token", head_hidden=(256,),
                 dropout: float = 0.1, input_encoding: str = "linear"):
        super().__init__()
        if self.n_channels % patch_size:
            raise ValueError(f"patch_size {patch_size} must divide {self.n_channels}")
        n_tokens = self.n_channels // patch_size
        self.patch_size = patch_size
        self.encode = InputEncoding(input_encoding)
        self.embed = nn.Linear(patch_size * self.encode.channels, dim)
        self._build_encoder(n_tokens, dim, layers, heads, mlp_ratio, reduction, head_hidden, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 80)`` of spectra ``(B, 3072)``."""
        x = self.encode(self._check_input(x))  # (B, C, 3072)
        b, c, _ = x.shape
        patches = x.reshape(b, c, -1, self.patch_size).transpose(1, 2).reshape(b, -1, c * self.patch_size)
        tokens = self.embed(patches)
        return self._encode(tokens)
