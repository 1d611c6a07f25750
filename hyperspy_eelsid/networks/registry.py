"""The one registry of network architectures and their named configurations.

Every architecture module registers its class with :func:`register` together
with named presets:

* ``"default"`` - in the spirit of the paper's Table 2 (parameter counts of the
  same order);
* ``"compact"`` - small and fast on CPU, so that an ensemble fits in the
  shipped weight budget (<= 25 MB in float16) and runs at >= 1,000 spectra/s
  on two CPU cores.

Examples
--------
>>> from hyperspy_eelsid.networks import build_model
>>> model = build_model("vit", preset="compact")
>>> model.architecture, model.config["dim"]
('vit', 64)
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field

__all__ = [
    "register",
    "build_model",
    "architectures",
    "presets",
    "preset_config",
    "count_parameters",
]


@dataclass
class _Entry:
    cls: type
    presets: dict = field(default_factory=dict)


_REGISTRY: dict[str, _Entry] = {}


def register(name: str, presets: dict | None = None):
    """Class decorator: register an :class:`~.layers.EELSNet` subclass.

    Parameters
    ----------
    name : str
        Architecture name used in configs and model cards.
    presets : dict of str to dict
        Named keyword-argument sets; must contain ``"default"``.
    """

    def decorate(cls):
        _REGISTRY[name] = _Entry(cls, dict(presets or {"default": {}}))
        return cls

    return decorate


def _load_all() -> None:
    # importing the modules runs their @register decorators
    from hyperspy_eelsid.networks import cct, cnn, mlp, resnet, unet, vit  # noqa: F401


def architectures() -> list[str]:
    """Names of the registered architectures."""
    _load_all()
    return list(_REGISTRY)


def _entry(name: str) -> _Entry:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown architecture {name!r}; choose one of {sorted(_REGISTRY)}"
        ) from None


def presets(name: str) -> list[str]:
    """Names of the presets of architecture ``name``."""
    return list(_entry(name).presets)


def preset_config(name: str, preset: str = "default", **overrides) -> dict:
    """Full keyword arguments of ``name`` at ``preset``, with ``overrides`` applied.

    Unknown keyword arguments raise ``TypeError`` naming the valid ones.
    """
    entry = _entry(name)
    if preset not in entry.presets:
        raise ValueError(f"{name!r} has no preset {preset!r}; choose one of {list(entry.presets)}")
    sig = inspect.signature(entry.cls.__init__)
    valid = [p for p in sig.parameters if p != "self"]
    config = {p: sig.parameters[p].default for p in valid}
    for key, value in {**entry.presets[preset], **overrides}.items():
        if key not in config:
            raise TypeError(f"{name!r} has no option {key!r}; options: {valid}")
        config[key] = value
    # tuples from TOML/JSON arrive as lists: normalise for a stable card
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()}


def build_model(name: str, preset: str = "default", **overrides):
    """Build architecture ``name`` at ``preset`` with ``overrides``.

    Parameters
    ----------
    name : str
        One of :func:`architectures`: ``"mlp"``, ``"cnn"``, ``"unet"``,
        ``"resnet"``, ``"vit"``, ``"cct"``.
    preset : str
        ``"default"`` (paper scale) or ``"compact"`` (CPU ensemble scale).
    **overrides
        Any constructor argument of the architecture.

    Returns
    -------
    EELSNet
        Maps ``(B, 3072)`` float32 spectra to ``(B, 80)`` logits; its
        ``architecture`` and ``config`` attributes rebuild it exactly.
    """
    config = preset_config(name, preset, **overrides)
    model = _entry(name).cls(**copy.deepcopy(config))
    model.architecture = name
    model.config = config
    return model


def count_parameters(model) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
