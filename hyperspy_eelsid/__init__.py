"""hyperspy-eelsid: automatic element identification in core-loss EELS.

The package is organised as the pipeline it implements:

* :mod:`hyperspy_eelsid.physics` - Hartree-Fock-Slater GOS tables and cross sections;
* :mod:`hyperspy_eelsid.simulation` - training spectra (the paper's Table 1);
* :mod:`hyperspy_eelsid.networks` and :mod:`hyperspy_eelsid.evaluation` - models and metrics;
* :mod:`hyperspy_eelsid.signals` - the HyperSpy front end (signal type ``EELS_ID``).

:mod:`hyperspy_eelsid.elements` and :mod:`hyperspy_eelsid.preprocessing` are
shared by all of them. Importing this package does not import HyperSpy.
"""

from hyperspy_eelsid._version import __version__
from hyperspy_eelsid.physics.gos_table import gos_file

__all__ = ["__version__", "gos_file"]
