"""Location of the GOS table shipped with the package."""

from pathlib import Path

__all__ = ["gos_file", "GOS_FILE_NAME"]

GOS_FILE_NAME = "eelsid_hfs.gosh"


def gos_file():
    """Path of the shipped GOSH file of HFS generalized oscillator strengths.

    The file holds the non-relativistic Hartree-Fock-Slater GOS of every
    K, L, M, N shell of Be..Bi with an edge onset between 50 and 4000 eV
    (see :mod:`hyperspy_eelsid.physics.build`). Pass it to exSpy as
    ``create_model(GOS="dft", gos_file_path=gos_file())``.

    Returns
    -------
    str
        Absolute path.

    Raises
    ------
    FileNotFoundError
        If the file is missing (rebuild it with ``eelsid gos build``).
    """
    path = Path(__file__).resolve().parent.parent / "data" / GOS_FILE_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing; rebuild it with `eelsid gos build`"
        )
    return str(path)
