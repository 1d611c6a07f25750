"""Multilayer perceptron: the spectrum vector straight into fully connected layers."""

from __future__ import annotations

import torch

from hyperspy_eelsid.networks.layers import EELSNet, InputEncoding, MLPHead
from hyperspy_eelsid.networks.registry import register

__all__ = ["MLP"]


@register(
    "mlp",
    presets={
        "default": {"hidden": [4096, 4096, 4096, 2048]},  # ~55 M parameters
        "compact": {"hidden": [512, 256]},
    },
)
class MLP(EELSNet):
    """Multilayer perceptron on the 3072 channels.

    Parameters
    ----------
    hidden : sequence of int
        Hidden layer widths.
    dropout : float
        Dropout before every linear layer.
    norm : {"batch", "layer", "none"}
        Normalisation after every hidden layer.
    input_encoding : {"linear", "log", "linear+log"}
        How the spectrum enters the first layer (see :class:`InputEncoding`).
    """

    def __init__(self, hidden=(4096, 4096, 4096, 2048), dropout: float = 0.1, norm: str = "batch",
                 input_encoding: str = "linear"):
        super().__init__()
        self.encode = InputEncoding(input_encoding)
        self.head = MLPHead(self.n_channels * self.encode.channels, hidden, dropout=dropout, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 80)`` of spectra ``(B, 3072)``."""
        return self.head(self.encode(self._check_input(x)).flatten(1))
