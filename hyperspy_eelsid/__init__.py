"""hyperspy-eelsid: automatic element identification in core-loss EELS.

The package is organised as the pipeline it implements:

* :mod:`hyperspy_eelsid.physics` - Hartree-Fock-Slater GOS tables and cross sections;
* :mod:`hyperspy_eelsid.simulation` - training spectra (the paper's Table 1);
* :mod:`hyperspy_eelsid.networks` - the six architectures, training and ensembles;
* :mod:`hyperspy_eelsid.evaluation` - the paper's metrics, thresholds and the real benchmark;
* :mod:`hyperspy_eelsid.signals` - the HyperSpy front end (signal type ``EELS_ID``).

Between the networks and the front end, without HyperSpy (numpy and torch):

* :mod:`hyperspy_eelsid.preprocessing` - any measured spectrum onto the networks' 1 eV grid
  (also the training path's input transform), with :mod:`hyperspy_eelsid.splices` and
  :mod:`hyperspy_eelsid.saturation` finding the read-out artefacts it leaves out;
* :mod:`hyperspy_eelsid.inference` - runs a model or ensemble on spectra (``Predictor``);
* :mod:`hyperspy_eelsid.line_ratios` and :mod:`hyperspy_eelsid.pair_classifier` - the checks
  of elements whose edges start together (Co / Ba, Cu / Pr; Sc / N).

:mod:`hyperspy_eelsid.elements` (the element and edge table) is shared by all of them,
:mod:`hyperspy_eelsid.plotting` draws the figures and :mod:`hyperspy_eelsid.cli` is the
``eelsid`` command. Importing this package does not import HyperSpy.
"""

from hyperspy_eelsid._version import __version__
from hyperspy_eelsid.physics.gos_table import gos_file

__all__ = ["__version__", "gos_file"]
