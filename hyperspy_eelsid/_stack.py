"""Warnings that point at the user's line, however deep inside the package they are raised."""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE = str(Path(__file__).resolve().parent)


def user_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` made by the caller of this function that
    attributes the warning to the first frame outside ``hyperspy_eelsid`` (the user's call,
    e.g. ``s.identify_elements()``), however many package frames lie between."""
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level
