"""HyperSpy front end: the signal classes registered by this extension."""

from hyperspy_eelsid.signals.eels_id import EELSIDSpectrum, LazyEELSIDSpectrum

__all__ = ["EELSIDSpectrum", "LazyEELSIDSpectrum"]
