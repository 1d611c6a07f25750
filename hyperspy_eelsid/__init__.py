"""hyperspy-eelsid: automatic element identification in core-loss EELS."""

from hyperspy_eelsid._version import __version__

__all__ = ["__version__"]
