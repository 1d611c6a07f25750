"""Convolutional network: a one-dimensional VGG-11."""

from __future__ import annotations

import torch
from torch import nn

from hyperspy_eelsid.networks.layers import EELSNet, FeatureReduction, InputEncoding, MLPHead, norm1d
from hyperspy_eelsid.networks.registry import register

__all__ = ["VGG1d"]

VGG11_CONVS = (1, 1, 2, 2, 2)
"""Convolutions per stage of VGG-11 (each stage ends in a max-pool)."""


@register(
    "cnn",
    presets={
        "default": {},  # VGG-11 widths, flatten, ~45 M parameters
        "compact": {
            "channels": [8, 16, 32, 32, 32],
            "stem_pool": 2,
            "reduction": "weighted_sum",
            "reduction_maps": 4,
            "head_hidden": [256],
        },
    },
)
class VGG1d(EELSNet):
    """One-dimensional VGG-11 with a fully connected head.

    Five stages of 3-wide convolutions (1, 1, 2, 2, 2 per stage), each stage
    followed by a max-pool of 2, then a dimension reduction and an MLP head.

    Parameters
    ----------
    channels : sequence of 5 int
        Channels of the five stages (VGG-11: 64, 128, 256, 512, 512).
    convs : sequence of 5 int
        Convolutions per stage.
    kernel_size : int
        Convolution width.
    stem_pool : int
        Average-pool the input by this factor first (1: none); cheap speed-up
        for compact models (the input has 1 eV channels).
    norm : {"batch", "layer", "none"}
        Normalisation after every convolution.
    reduction : {"flatten", "weighted_sum", "gap"}
        How feature maps become a vector (see :class:`FeatureReduction`).
    reduction_maps : int
        Output maps of the ``"weighted_sum"`` reduction.
    head_hidden : sequence of int
        Hidden widths of the MLP head.
    dropout : float
        Dropout in the head.
    input_encoding : {"linear", "log", "linear+log"}
        How the spectrum enters the first layer (see :class:`InputEncoding`).
    """

    def __init__(self, channels=(64, 128, 256, 512, 512), convs=VGG11_CONVS, kernel_size: int = 3,
                 stem_pool: int = 1, norm: str = "batch", reduction: str = "flatten",
                 reduction_maps: int = 1, head_hidden=(820, 820), dropout: float = 0.3,
                 input_encoding: str = "linear"):
        super().__init__()
        if len(channels) != len(convs):
            raise ValueError("channels and convs must have the same length")
        self.encode = InputEncoding(input_encoding)
        layers: list[nn.Module] = [nn.AvgPool1d(stem_pool)] if stem_pool > 1 else []
        c_in, length = self.encode.channels, self.n_channels // stem_pool
        for c_out, n in zip(channels, convs):
            for _ in range(n):
                layers += [nn.Conv1d(c_in, c_out, kernel_size, padding=kernel_size // 2),
                           norm1d(norm, c_out), nn.ReLU(inplace=True)]
                c_in = c_out
            layers.append(nn.MaxPool1d(2))
            length //= 2
        self.features = nn.Sequential(*layers)
        self.reduce = FeatureReduction(reduction, c_in, length, reduction_maps)
        self.head = MLPHead(self.reduce.out_features, head_hidden, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 80)`` of spectra ``(B, 3072)``."""
        x = self.features(self.encode(self._check_input(x)))
        return self.head(self.reduce(x))
