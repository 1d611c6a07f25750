"""Residual network, 35 weight layers deep, in one dimension."""

from __future__ import annotations

import torch
from torch import nn

from hyperspy_eelsid.networks.layers import EELSNet, FeatureReduction, InputEncoding, MLPHead, norm1d
from hyperspy_eelsid.networks.registry import register

__all__ = ["ResNet1d", "BasicBlock1d"]


class BasicBlock1d(nn.Module):
    """Two 3-wide convolutions with an identity (or 1x1 projection) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int, norm: str, kernel_size: int = 3):
        super().__init__()
        pad = kernel_size // 2
        self.body = nn.Sequential(
            nn.Conv1d(c_in, c_out, kernel_size, stride=stride, padding=pad, bias=False),
            norm1d(norm, c_out), nn.ReLU(inplace=True),
            nn.Conv1d(c_out, c_out, kernel_size, padding=pad, bias=False),
            norm1d(norm, c_out),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), norm1d(norm, c_out))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.act(self.body(x) + self.shortcut(x))


@register(
    "resnet",
    presets={
        "default": {},  # stem + (3, 4, 6, 3) blocks + 2-layer head = 35 layers, ~41 M
        "compact": {
            "widths": [8, 16, 24, 32],
            "stem_width": 16,
            "stem_kernel": 9,
            "stem_stride": 8,
            "reduction": "weighted_sum",
            "reduction_maps": 4,
            "head_hidden": [256],
        },
    },
)
class ResNet1d(EELSNet):
    """One-dimensional ResNet with basic blocks.

    With the default ``blocks=(3, 4, 6, 3)`` the network has 1 stem
    convolution, 32 block convolutions and a head with one hidden layer:
    35 weight layers (shortcut projections not counted).

    Parameters
    ----------
    blocks : sequence of int
        Basic blocks per stage; every stage after the first halves the length.
    widths : sequence of int
        Channels per stage.
    stem_width : int
        Channels of the stem convolution.
    stem_kernel : int
        Width of the stem convolution.
    stem_stride : int
        Total down-sampling of the stem (convolution stride x max-pool 2).
    norm : {"batch", "layer", "none"}
        Normalisation.
    reduction : {"flatten", "weighted_sum", "gap"}
        How feature maps become a vector.
    reduction_maps : int
        Output maps of the ``"weighted_sum"`` reduction.
    head_hidden : sequence of int
        Hidden widths of the MLP head.
    dropout : float
        Dropout in the head.
    input_encoding : {"linear", "log", "linear+log"}
        How the spectrum enters the first layer (see :class:`InputEncoding`).
    """

    def __init__(self, blocks=(3, 4, 6, 3), widths=(64, 128, 256, 512), stem_width: int = 64,
                 stem_kernel: int = 7, stem_stride: int = 4, norm: str = "batch",
                 reduction: str = "flatten", reduction_maps: int = 1, head_hidden=(680,),
                 dropout: float = 0.3, input_encoding: str = "linear"):
        super().__init__()
        if stem_stride % 2 or stem_stride < 2:
            raise ValueError("stem_stride must be an even number >= 2")
        self.encode = InputEncoding(input_encoding)
        self.stem = nn.Sequential(
            nn.Conv1d(self.encode.channels, stem_width, stem_kernel, stride=stem_stride // 2,
                      padding=stem_kernel // 2, bias=False),
            norm1d(norm, stem_width), nn.ReLU(inplace=True), nn.MaxPool1d(2))
        length = self.n_channels // stem_stride
        stages, c_in = [], stem_width
        for i, (n, width) in enumerate(zip(blocks, widths)):
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                stages.append(BasicBlock1d(c_in, width, stride, norm))
                c_in = width
            if i > 0:
                length = (length + 1) // 2
        self.stages = nn.Sequential(*stages)
        self.reduce = FeatureReduction(reduction, c_in, length, reduction_maps)
        self.head = MLPHead(self.reduce.out_features, head_hidden, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 80)`` of spectra ``(B, 3072)``."""
        x = self.stages(self.stem(self.encode(self._check_input(x))))
        return self.head(self.reduce(x))
