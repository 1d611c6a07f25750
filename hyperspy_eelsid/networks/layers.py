"""Building blocks shared by the architectures.

* :class:`EELSNet` - base class of every network: ``forward`` returns the 80
  logits, :meth:`EELSNet.predict_proba` applies the sigmoid.
* :func:`norm1d` - batch or layer normalisation of ``(B, C, L)`` feature maps.
* :class:`FeatureReduction` - turns ``(B, C, L)`` feature maps into a vector
  (flatten, learnable weighted sum / 1x1 convolution, global average pooling).
* :class:`TokenReduction` - turns ``(B, T, D)`` tokens into a vector (class
  token, sequence pooling, global average pooling, flatten).
* :class:`MLPHead` - the fully connected classification head.
* :class:`InputEncoding` - how the preprocessed spectrum enters a network
  (as it is, or with a logarithmic channel that makes small edges visible).

Nothing here imports HyperSpy: the training machine has only torch, numpy,
scipy and h5py.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from hyperspy_eelsid.elements import N_ELEMENTS
from hyperspy_eelsid.preprocessing import N_CHANNELS

__all__ = [
    "EELSNet",
    "ChannelLayerNorm",
    "norm1d",
    "FeatureReduction",
    "TokenReduction",
    "MLPHead",
    "InputEncoding",
    "INPUT_ENCODINGS",
    "FEATURE_REDUCTIONS",
    "TOKEN_REDUCTIONS",
    "fuse_batchnorm",
]

FEATURE_REDUCTIONS = ("flatten", "weighted_sum", "gap")
"""Dimension reductions for convolutional feature maps ``(B, C, L)``."""

TOKEN_REDUCTIONS = ("class_token", "seq_pool", "gap", "flatten")
"""Dimension reductions for transformer tokens ``(B, T, D)``."""

INPUT_ENCODINGS = ("linear", "log", "linear+log")
"""How a preprocessed spectrum is presented to the first layer (:class:`InputEncoding`)."""


class InputEncoding(nn.Module):
    """Present ``(B, 3072)`` preprocessed spectra as ``(B, C, 3072)`` input channels.

    Preprocessing divides every spectrum by its maximum, so on a power-law
    background an edge at 2 keV is a step of about 1e-4 on a signal of order
    1 near 100 eV: invisible on a linear scale. On a logarithmic scale every
    edge is a step of similar size, whatever its energy. The encoding is
    part of the network (not of the preprocessing), so real and simulated
    spectra still share one preprocessing function.

    Parameters
    ----------
    mode : {"linear", "log", "linear+log"}
        ``"linear"``: the spectrum as it is (the paper; 1 channel).
        ``"log"``: ``(log10(max(x, 0) + floor) - log10(floor)) / -log10(floor)``,
        which maps the zero padding to 0 and the maximum to about 1
        (1 channel). ``"linear+log"``: both (2 channels).
    floor : float
        Smallest resolved intensity of the logarithmic channel, relative to
        the spectrum maximum.
    """

    def __init__(self, mode: str = "linear", floor: float = 1e-5):
        super().__init__()
        if mode not in INPUT_ENCODINGS:
            raise ValueError(f"input_encoding must be one of {INPUT_ENCODINGS}, got {mode!r}")
        if not 0 < floor < 1:
            raise ValueError(f"the logarithmic floor must lie in (0, 1), got {floor}")
        self.mode = mode
        self.floor = float(floor)
        self.channels = 2 if mode == "linear+log" else 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if self.mode == "linear":
            return x[:, None]
        decades = -np.log10(self.floor)
        logx = (torch.log10(x.clamp(min=0) + self.floor) + decades) / decades
        if self.mode == "log":
            return logx[:, None]
        return torch.stack([x, logx], dim=1)


class EELSNet(nn.Module):
    """Base class: ``(B, 3072)`` preprocessed spectra -> ``(B, 80)`` logits.

    Subclasses implement :meth:`forward`. The registry sets
    :attr:`architecture` and :attr:`config` so that a model can be saved and
    rebuilt (:mod:`hyperspy_eelsid.networks.io`).
    """

    n_channels: int = N_CHANNELS
    n_outputs: int = N_ELEMENTS
    architecture: str = ""
    config: dict = {}

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[-1] != self.n_channels:
            raise ValueError(
                f"expected preprocessed spectra of shape (batch, {self.n_channels}), "
                f"got {tuple(x.shape)}; use hyperspy_eelsid.preprocessing.preprocess first"
            )
        return x

    @torch.inference_mode()
    def predict_proba(self, x, batch_size: int = 1024):
        """Probability that each element is present (sigmoid of the logits).

        Parameters
        ----------
        x : numpy.ndarray or torch.Tensor
            Preprocessed spectra, shape ``(B, 3072)`` or ``(3072,)``.
        batch_size : int
            Spectra per forward pass.

        Returns
        -------
        numpy.ndarray or torch.Tensor
            Shape ``(B, 80)`` (or ``(80,)``), float32, same kind as ``x``;
            columns follow :data:`hyperspy_eelsid.elements.ELEMENTS`.
        """
        return _batched(self, x, batch_size, lambda out: torch.sigmoid(out.float()))


def _batched(module: nn.Module, x, batch_size: int, post, forward=None):
    """Run ``module`` (or ``forward``) in eval mode over ``x`` in batches; keep numpy/torch kind."""
    forward = forward or module
    was_training = module.training
    module.eval()
    try:
        is_numpy = not isinstance(x, torch.Tensor)
        t = torch.as_tensor(np.asarray(x, dtype=np.float32)) if is_numpy else x
        squeeze = t.ndim == 1
        if squeeze:
            t = t[None]
        param = next(module.parameters(), None)
        device = param.device if param is not None else t.device
        outs = [
            post(forward(t[i : i + batch_size].to(device=device, dtype=torch.float32))).cpu()
            for i in range(0, t.shape[0], batch_size)
        ]
        out = torch.cat(outs) if outs else torch.zeros((0, N_ELEMENTS))
        if squeeze:
            out = out[0]
        return out.numpy() if is_numpy else out
    finally:
        module.train(was_training)


class ChannelLayerNorm(nn.Module):
    """Layer normalisation over the channels of ``(B, C, L)`` feature maps."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


def norm1d(kind: str, channels: int) -> nn.Module:
    """Normalisation layer for ``(B, C, L)`` feature maps.

    Parameters
    ----------
    kind : {"batch", "layer", "none"}
        Batch normalisation, layer normalisation over channels, or identity.
    channels : int
        Number of channels ``C``.
    """
    if kind == "batch":
        return nn.BatchNorm1d(channels)
    if kind == "layer":
        return ChannelLayerNorm(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'layer' or 'none', got {kind!r}")


def _norm_vec(kind: str, features: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(features)
    if kind == "layer":
        return nn.LayerNorm(features)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'layer' or 'none', got {kind!r}")


class FeatureReduction(nn.Module):
    """Reduce ``(B, C, L)`` feature maps to ``(B, F)`` vectors.

    Parameters
    ----------
    mode : {"flatten", "weighted_sum", "gap"}
        ``"flatten"`` keeps everything (``F = C * L``, many head parameters);
        ``"weighted_sum"`` is a learnable weighted sum of the channels at every
        energy (a 1x1 convolution to ``maps`` channels, ``F = maps * L``), which
        keeps the energy axis; ``"gap"`` averages over the energy axis
        (``F = C``) and so discards where an edge is.
    channels, length : int
        ``C`` and ``L`` of the incoming feature maps.
    maps : int
        Output channels of the weighted sum.
    """

    def __init__(self, mode: str, channels: int, length: int, maps: int = 1):
        super().__init__()
        if mode not in FEATURE_REDUCTIONS:
            raise ValueError(f"reduction must be one of {FEATURE_REDUCTIONS}, got {mode!r}")
        self.mode = mode
        if mode == "weighted_sum":
            self.mix = nn.Conv1d(channels, maps, kernel_size=1)
            self.out_features = maps * length
        elif mode == "flatten":
            self.out_features = channels * length
        else:
            self.out_features = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if self.mode == "weighted_sum":
            return self.mix(x).flatten(1)
        if self.mode == "flatten":
            return x.flatten(1)
        return x.mean(dim=-1)


class TokenReduction(nn.Module):
    """Reduce ``(B, T, D)`` transformer tokens to ``(B, F)`` vectors.

    Parameters
    ----------
    mode : {"class_token", "seq_pool", "gap", "flatten"}
        ``"class_token"`` returns token 0 (the model must prepend a learnable
        class token); ``"seq_pool"`` is the CCT's attention-weighted average of
        the tokens; ``"gap"`` is the plain average; ``"flatten"`` keeps all.
    dim : int
        Token width ``D``.
    tokens : int
        Number of tokens ``T`` (only used by ``"flatten"``).
    """

    def __init__(self, mode: str, dim: int, tokens: int):
        super().__init__()
        if mode not in TOKEN_REDUCTIONS:
            raise ValueError(f"reduction must be one of {TOKEN_REDUCTIONS}, got {mode!r}")
        self.mode = mode
        if mode == "seq_pool":
            self.score = nn.Linear(dim, 1)
        self.out_features = dim * tokens if mode == "flatten" else dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if self.mode == "class_token":
            return x[:, 0]
        if self.mode == "seq_pool":
            weights = torch.softmax(self.score(x), dim=1)  # (B, T, 1)
            return (weights * x).sum(dim=1)
        if self.mode == "gap":
            return x.mean(dim=1)
        return x.flatten(1)


class MLPHead(nn.Module):
    """Fully connected classification head ending in 80 logits.

    Parameters
    ----------
    in_features : int
        Width of the incoming vector.
    hidden : sequence of int
        Widths of the hidden layers (may be empty).
    dropout : float
        Dropout before every linear layer.
    activation : type
        Activation module class.
    norm : {"batch", "layer", "none"}
        Normalisation after every hidden linear layer.
    n_outputs : int
        Number of logits.
    """

    def __init__(self, in_features: int, hidden=(), dropout: float = 0.0,
                 activation=nn.ReLU, norm: str = "none", n_outputs: int = N_ELEMENTS):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [nn.Dropout(dropout), nn.Linear(width, h), _norm_vec(norm, h), activation()]
            width = h
        layers += [nn.Dropout(dropout), nn.Linear(width, n_outputs)]
        self.net = nn.Sequential(*(m for m in layers if not _is_noop(m)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.net(x)


def _is_noop(m: nn.Module) -> bool:
    return isinstance(m, nn.Identity) or (isinstance(m, nn.Dropout) and m.p == 0)


def fuse_batchnorm(module: nn.Module) -> nn.Module:
    """Fold every eval-mode ``BatchNorm1d`` into the ``Conv1d`` just before it.

    Inference only: saves one pass over every feature map (5-35 % faster on
    CPU for the compact convolutional models) and gives the same outputs up
    to float rounding. Modifies ``module`` in place and returns it; its state
    dict no longer matches the saved weights, so fuse only models that will
    not be saved again.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    if module.training:
        raise ValueError("fuse_batchnorm needs a model in eval mode")
    for name, child in module.named_children():
        if isinstance(child, nn.Sequential):
            mods = list(child)
            for i in range(len(mods) - 1):
                if (isinstance(mods[i], nn.Conv1d) and isinstance(mods[i + 1], nn.BatchNorm1d)
                        and mods[i + 1].track_running_stats):
                    mods[i] = fuse_conv_bn_eval(mods[i], mods[i + 1])
                    mods[i + 1] = nn.Identity()
            fused = nn.Sequential(*mods)
            fused.train(False)
            setattr(module, name, fused)
            fuse_batchnorm(fused)
        else:
            fuse_batchnorm(child)
    return module
