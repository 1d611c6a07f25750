"""Output files of the commands: a missing folder is said before the work, not after it."""

from __future__ import annotations

from pathlib import Path


def missing_folder(path) -> str | None:
    """``"cannot write PATH: its folder does not exist"`` when the folder of the output file
    ``path`` does not exist; None when it does or no path is given."""
    if path and not Path(path).resolve().parent.is_dir():
        return f"cannot write {path}: its folder does not exist"
    return None
