"""Neural networks for element identification (torch only, no HyperSpy).

Every network maps preprocessed spectra ``(B, 3072)`` (float32, see
:mod:`hyperspy_eelsid.preprocessing`) to ``(B, 80)`` logits, one per element
of :data:`hyperspy_eelsid.elements.ELEMENTS`; ``predict_proba`` applies the
sigmoid (multi-label).
"""

from hyperspy_eelsid.networks.layers import EELSNet
from hyperspy_eelsid.networks.registry import (
    architectures,
    build_model,
    count_parameters,
    preset_config,
    presets,
)

__all__ = [
    "EELSNet",
    "architectures",
    "build_model",
    "count_parameters",
    "preset_config",
    "presets",
]
