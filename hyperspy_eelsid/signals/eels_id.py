"""The ``EELS_ID`` signal type: exSpy's EELS spectrum, extended with element identification."""

from exspy.signals import EELSSpectrum, LazyEELSSpectrum


class EELSIDSpectrum(EELSSpectrum):
    """Core-loss EELS spectrum (or spectrum image) with automatic element identification.

    A subclass of :class:`exspy.signals.EELSSpectrum` registered under its own
    ``signal_type`` ``"EELS_ID"``: everything exSpy offers (``add_elements``,
    ``create_model``, ``set_microscope_parameters``, ...) works unchanged.

    Examples
    --------
    >>> import hyperspy.api as hs
    >>> s = hs.load("spectrum.msa", signal_type="EELS_ID")  # doctest: +SKIP
    >>> s.set_signal_type("EELS_ID")  # doctest: +SKIP
    """

    _signal_type = "EELS_ID"
    _alias_signal_types = ["EELSID"]


class LazyEELSIDSpectrum(EELSIDSpectrum, LazyEELSSpectrum):
    """Lazy (dask-backed) twin of :class:`EELSIDSpectrum`."""
