"""HyperSpy front end: the signal classes registered by this extension and what they do.

* :mod:`~hyperspy_eelsid.signals.eels_id` - the ``EELS_ID`` signal type and its lazy twin;
* :mod:`~hyperspy_eelsid.signals.identification` - ``identify_elements``, ``elemental_map``,
  ``plot_identification``, built from :mod:`~hyperspy_eelsid.signals.validation` (the
  user's input), :mod:`~hyperspy_eelsid.signals.probabilities` (the ensemble on every
  spectrum, eager or block by block), :mod:`~hyperspy_eelsid.signals.checks` (coincident
  edges) and :mod:`~hyperspy_eelsid.signals.summary` (what was found, and what to doubt);
* :mod:`~hyperspy_eelsid.signals.quantification` - exSpy's model with the detected elements,
  fitted pixel by pixel (:mod:`~hyperspy_eelsid.signals.linear_fit`), and
  :mod:`~hyperspy_eelsid.signals.composition` (atomic percent, areal density);
* :mod:`~hyperspy_eelsid.signals.loading` - files through HyperSpy, and two-column text spectra.
"""

from hyperspy_eelsid.signals.eels_id import EELSIDSpectrum, LazyEELSIDSpectrum

__all__ = ["EELSIDSpectrum", "LazyEELSIDSpectrum"]
