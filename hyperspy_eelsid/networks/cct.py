"""Compact convolutional transformer: a convolutional tokenizer instead of patches."""

from __future__ import annotations

import torch
from torch import nn

from hyperspy_eelsid.networks.layers import EELSNet, InputEncoding, norm1d
from hyperspy_eelsid.networks.registry import register
from hyperspy_eelsid.networks.transformer import TokenTransformer

__all__ = ["CCT1d"]


@register(
    "cct",
    presets={
        "default": {},  # 3 conv tokenizer layers (/16), dim 256, 7 layers, ~5 M parameters
        "compact": {"tokenizer_channels": [8, 16, 64], "pool": [4, 4, 4], "dim": 64, "layers": 2,
                    "heads": 4, "head_hidden": []},
    },
)
class CCT1d(TokenTransformer, EELSNet):
    """One-dimensional compact convolutional transformer.

    A convolutional tokenizer (convolution, normalisation, ReLU, max-pool per
    layer) turns the spectrum into a sequence of tokens, which a transformer
    encoder processes; sequence pooling (an attention-weighted average of the
    tokens) feeds the head.

    Parameters
    ----------
    tokenizer_channels : sequence of int
        Channels of the tokenizer convolutions; the last one must equal ``dim``
        or a linear projection is added.
    kernel_size : int
        Tokenizer convolution width.
    pool : sequence of int
        Max-pool factor after each tokenizer convolution (their product is the
        number of eV per token).
    norm : {"batch", "layer", "none"}
        Normalisation in the tokenizer.
    dim : int
        Token width.
    layers : int
        Transformer encoder layers.
    heads : int
        Attention heads.
    mlp_ratio : float
        Encoder MLP width relative to ``dim``.
    reduction : {"seq_pool", "class_token", "gap", "flatten"}
        How tokens become a vector.
    head_hidden : sequence of int
        Hidden widths of the MLP head.
    dropout : float
        Dropout in the encoder and the head.
    input_encoding : {"linear", "log", "linear+log"}
        How the spectrum enters the first layer (see :class:`InputEncoding`).
    """

    def __init__(self, tokenizer_channels=(64, 128, 256), kernel_size: int = 5, pool=(4, 2, 2),
                 norm: str = "batch", dim: int = 256, layers: int = 7, heads: int = 8,
                 mlp_ratio: float = 3.0, reduction: str = "seq_pool", head_hidden=(),
                 dropout: float = 0.1, input_encoding: str = "linear"):
        super().__init__()
        if len(pool) != len(tokenizer_channels):
            raise ValueError("pool and tokenizer_channels must have the same length")
        self.encode = InputEncoding(input_encoding)
        convs, c_in, n_tokens = [], self.encode.channels, self.n_channels
        for c_out, p in zip(tokenizer_channels, pool):
            convs += [nn.Conv1d(c_in, c_out, kernel_size, padding=kernel_size // 2),
                      norm1d(norm, c_out), nn.ReLU(inplace=True), nn.MaxPool1d(p)]
            c_in, n_tokens = c_out, n_tokens // p
        self.tokenizer = nn.Sequential(*convs)
        self.project = nn.Linear(c_in, dim) if c_in != dim else nn.Identity()
        self._build_encoder(n_tokens, dim, layers, heads, mlp_ratio, reduction, head_hidden, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 80)`` of spectra ``(B, 3072)``."""
        x = self.tokenizer(self.encode(self._check_input(x)))  # (B, C, T)
        tokens = self.project(x.transpose(1, 2))
        return self._encode(tokens)
