"""Load spectra from files: through HyperSpy, with a fallback for two-column text.

Many spectra downloaded from the EELS database are plain two-column text
(energy, counts) under an ``.msa`` name without the EMSA header; HyperSpy reads
those as an empty signal, and spreadsheet exports (``.csv``, ``.txt``, often with
a column header) have no HyperSpy reader. :func:`load_spectrum` detects both and
reads the two columns itself.
"""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

import numpy as np

__all__ = ["SpectrumFileError", "load_spectrum", "read_two_column_text"]


class SpectrumFileError(ValueError):
    """A file cannot be read as a spectrum; the message names the file and the reason."""


# Column separators: semicolons, tabs, a comma followed by blanks, or blanks.
# With one of these, a comma inside a field is a decimal comma ("400,5;12,3");
# a line with none of them is split on its commas ("400.5,12.3").
_SEPARATORS = re.compile(r"\s*[;\t]\s*|\s*,\s+|\s+")


def _numbers(text: str):
    """The numbers of one text line, or None when a field is not a number."""
    fields = [f for f in _SEPARATORS.split(text) if f]
    if len(fields) == 1:
        fields = fields[0].split(",")
    else:
        fields = [f.replace(",", ".") if f.count(",") == 1 and "." not in f else f for f in fields]
    try:
        return [float(f) for f in fields]
    except ValueError:
        return None


def read_two_column_text(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a text spectrum of two columns, energy (eV) and counts.

    Columns may be separated by commas, tabs, semicolons or blanks; with
    semicolons, tabs or blanks between the columns, a comma inside a number
    is read as a decimal comma (``400,5;12,3``). Lines starting with ``#`` are
    skipped, and so are the lines before the first line of numbers (a column
    header such as ``Energy (eV),Counts``). Further columns are ignored.

    Returns
    -------
    energy, counts : numpy.ndarray
        Both 1-D float64, by increasing energy (a file written from high to
        low energy is reversed).

    Raises
    ------
    SpectrumFileError
        If the file has no two numeric columns, fewer than two rows, a line
        that is not numbers after the first line of numbers, energies that
        repeat or are not in order (ascending or descending), or non-finite
        values.
    """
    path = Path(path)
    rows, first = [], None
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        first = first or text
        values = _numbers(text)
        if values is None:
            if not rows:
                continue  # a header before the numbers
            raise SpectrumFileError(
                f"{path}: line {number} is not two numbers (energy, counts): {text[:60]!r}"
            )
        if len(values) < 2:
            raise SpectrumFileError(
                f"{path}: line {number} has one column; expected energy and counts."
            )
        rows.append(values[:2])
    if not rows:
        opening = f"; it opens with {first[:60]!r}" if first else ""
        raise SpectrumFileError(f"{path}: no line of two numbers (energy, counts){opening}.")
    if len(rows) < 2:
        raise SpectrumFileError(f"{path}: fewer than two (energy, counts) rows.")
    table = np.asarray(rows)
    if not np.all(np.isfinite(table)):
        raise SpectrumFileError(f"{path}: contains NaN or inf values.")
    steps = np.diff(table, axis=0)
    if np.any(steps[:, 0] == 0):
        raise SpectrumFileError(f"{path}: repeated energy values in the first column.")
    if not (np.all(steps[:, 0] > 0) or np.all(steps[:, 0] < 0)):
        swapped = np.all(steps[:, 1] > 0) or np.all(steps[:, 1] < 0)
        raise SpectrumFileError(
            f"{path}: the first column is not in order, so it is not an energy axis; it must hold "
            "the energy loss of each channel (eV), ascending or descending, and the second the counts"
            + (" (here the second column is in order: are the columns swapped?)." if swapped else ".")
        )
    if steps[0, 0] < 0:  # written from high to low energy
        table = table[::-1]
    return table[:, 0], table[:, 1]


class _HeldRecords(logging.Handler):
    """Keeps the log records of a load attempt until it is known whether they matter."""

    def __init__(self):
        super().__init__(level=logging.NOTSET)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@contextlib.contextmanager
def _held_log(names=("hyperspy", "rsciio")):
    """Hold back what HyperSpy and RosettaSciIO log during a load attempt.

    Yields the held records; the caller passes them on with :func:`_pass_on` when
    HyperSpy's result is used. When the file is then read as two-column text instead,
    their messages ("Unable to infer file type", "please report this error to the
    RosettaSciIO developers") are about an attempt the user never asked for and are
    dropped; the reason HyperSpy failed is kept in the exception text.
    """
    handler = _HeldRecords()
    loggers = [logging.getLogger(name) for name in names]
    saved = [(lg.propagate, list(lg.handlers)) for lg in loggers]
    for lg in loggers:
        lg.handlers = [handler]
        lg.propagate = False
    try:
        yield handler.records
    finally:
        for lg, (propagate, handlers) in zip(loggers, saved):
            lg.handlers = handlers
            lg.propagate = propagate


def _pass_on(records):
    """Log held records as if they had never been held."""
    for record in records:
        logging.getLogger(record.name).handle(record)


def _signal_from_columns(energy, counts, title):
    import hyperspy.api as hs

    steps = np.diff(energy)
    if np.allclose(steps, steps.mean(), rtol=1e-4, atol=0):
        axis = {
            "offset": float(energy[0]),
            "scale": float(steps.mean()),
            "size": energy.size,
            "units": "eV",
            "name": "Energy loss",
            "navigate": False,
        }
    else:
        axis = {"axis": energy, "units": "eV", "name": "Energy loss", "navigate": False}
    s = hs.signals.Signal1D(counts, axes=[axis])
    s.metadata.General.title = title
    return s


def _role_score(signal, role: str) -> float:
    """How well a spectrum fits ``role``: for the core loss, how many eV of the networks'
    75-3071 eV its energy axis covers; for the low loss, 1 if it holds 0 eV. 0 for an axis in
    units the preprocessing does not know."""
    from hyperspy_eelsid.preprocessing import _UNIT_SCALE, E_MAX_NETWORK, E_MIN_NETWORK

    axis = signal.axes_manager.signal_axes[0]
    factor = _UNIT_SCALE.get(str(axis.units).strip().lower())
    if factor is None:
        return 0.0
    start, end = sorted((float(axis.low_value) * factor, float(axis.high_value) * factor))
    if role == "low loss":
        return float(start <= 0.0 <= end)
    return max(0.0, min(end, E_MAX_NETWORK) - max(start, E_MIN_NETWORK))


def _choose_spectrum(spectra, path, role: str):
    """The spectrum of a file holding several: for the core loss the one that covers most of the
    networks' 75-3071 eV, for the low loss the one that holds 0 eV (the first such one); a
    warning names it. One spectrum is returned as it is."""
    import warnings

    from hyperspy_eelsid._stack import user_stacklevel

    if len(spectra) == 1:
        return spectra[0]
    best = int(np.argmax([_role_score(c, role) for c in spectra]))  # the first of equals
    chosen = spectra[best]
    axis = chosen.axes_manager.signal_axes[0]
    warnings.warn(
        f"{path} holds {len(spectra)} spectra; the {role} is taken to be number {best + 1} "
        f"('{chosen.metadata.General.title}', {float(axis.low_value):g}-{float(axis.high_value):g} "
        f"{axis.units}), the one that {'covers most of 75-3071 eV' if role == 'core loss' else 'holds 0 eV'}. "
        "To use another, load the file with `hs.load` and pick it.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return chosen


def load_spectrum(path, signal_type: str = "EELS_ID", lazy: bool = False, role: str = "core loss"):
    """Load one spectrum or spectrum image file as an ``EELS_ID`` signal.

    Files HyperSpy can read load through ``hyperspy.api.load``. Two-column
    text files (energy in eV, counts), which HyperSpy reads as an empty signal,
    are read by :func:`read_two_column_text`. When a file holds several
    spectra (a dual-EELS acquisition saved as one file), the one ``role``
    names is used, with a warning that says which: for the core loss, the
    one whose energy axis covers most of the networks' 75-3071 eV; for the
    low loss, the one that holds 0 eV.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    signal_type : str
        Signal type to give the result (default ``"EELS_ID"``).
    lazy : bool
        Load lazily where the file format allows it.
    role : {"core loss", "low loss"}
        Which spectrum a file with several is read for (default the core
        loss).

    Returns
    -------
    EELSIDSpectrum or LazyEELSIDSpectrum

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IsADirectoryError
        If ``path`` is a folder.
    SpectrumFileError
        If the file is empty, unreadable or holds no 1-D spectrum; the
        message says which file and why.
    """
    import hyperspy.api as hs

    if role not in ("core loss", "low loss"):
        raise ValueError(f"role must be 'core loss' or 'low loss', got {role!r}.")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{path}: a folder, not a file; name the spectrum files in it (e.g. {path / '*.dm4'})."
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise SpectrumFileError(f"{path}: the file is empty.")
    reason = None
    signal = None
    with _held_log() as records:
        try:
            loaded = hs.load(path, lazy=lazy)
        except Exception as err:  # HyperSpy/RosettaSciIO raise many types
            loaded, reason = None, f"{type(err).__name__}: {err}"
    candidates = loaded if isinstance(loaded, list) else [loaded] if loaded is not None else []
    spectra = [c for c in candidates if c.axes_manager.signal_dimension == 1 and c.data.size > 0]
    if spectra:
        signal = _choose_spectrum(spectra, path, role)
    others = [c for c in candidates if c.axes_manager.signal_dimension != 1 and c.data.size > 0]
    if signal is not None:
        _pass_on(records)
    elif others:  # a format HyperSpy knows, holding images or the like: not a case for the text reader
        what = ", ".join(f"a {type(c).__name__} of signal shape {c.axes_manager.signal_shape}" for c in others)
        raise SpectrumFileError(
            f"{path}: HyperSpy read no spectrum from it, only {what}. "
            "Identification needs spectra: one energy axis as the signal axis (a Signal1D; "
            "`s.as_signal1D(axis)` turns an image stack's energy axis into it)."
        )
    else:
        try:
            energy, counts = read_two_column_text(path)
        except (SpectrumFileError, UnicodeError) as err:
            detail = reason or (
                "HyperSpy read no 1-D spectrum from it"
                if candidates
                else "HyperSpy could not read it"
            )
            why_not_text = str(err).removeprefix(f"{path}: ")
            raise SpectrumFileError(
                f"{path}: not a readable spectrum ({detail}); it is not two-column "
                f"text either ({why_not_text.rstrip('.')})."
            ) from None
        signal = _signal_from_columns(energy, counts, path.stem)
        if lazy:
            signal = signal.as_lazy()
    signal.set_signal_type(signal_type)
    return signal
