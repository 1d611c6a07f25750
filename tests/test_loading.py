"""Loading spectra from files, including headerless two-column text."""

import numpy as np
import pytest

hs = pytest.importorskip("hyperspy.api")

from hyperspy_eelsid.signals import EELSIDSpectrum  # noqa: E402
from hyperspy_eelsid.signals.loading import (  # noqa: E402
    SpectrumFileError,
    load_spectrum,
    read_two_column_text,
)


@pytest.mark.parametrize("sep", [", ", "\t", " ", ";"])
def test_headerless_two_column_msa_loads(tmp_path, sep):
    energy = np.arange(400.0, 900.0, 0.5)
    counts = 1e3 * np.exp(-energy / 300.0)
    path = tmp_path / "eelsdb.msa"
    np.savetxt(path, np.c_[energy, counts], delimiter=sep)
    assert hs.load(path).data.size == 0  # what HyperSpy alone gives
    s = load_spectrum(path)
    assert type(s) is EELSIDSpectrum
    ax = s.axes_manager.signal_axes[0]
    assert ax.units == "eV" and ax.offset == pytest.approx(400.0) and ax.scale == pytest.approx(0.5)
    np.testing.assert_allclose(s.data, counts, rtol=1e-6)


def test_two_column_non_uniform_and_unsorted(tmp_path):
    energy = 100.0 + np.linspace(0, 1, 300) ** 1.5 * 500.0
    counts = np.linspace(1, 2, 300)
    path = tmp_path / "spec.txt"
    rows = np.c_[energy, counts][::-1]
    path.write_text("# energy counts\n" + "\n".join(f"{e},{c}" for e, c in rows))
    e, c = read_two_column_text(path)
    np.testing.assert_allclose(e, energy)
    s = load_spectrum(path)
    assert not s.axes_manager.signal_axes[0].is_uniform
    np.testing.assert_allclose(s.axes_manager.signal_axes[0].axis, energy)


@pytest.mark.parametrize(
    "header, line",
    [
        ("Energy (eV),Counts", "{e:.2f},{c:.3f}"),  # a spreadsheet export: header and commas
        ("eV\tcounts", "{e:.2f}\t{c:.3f}"),
        ("Energy;Intensity", "{e:.2f};{c:.3f}"),
    ],
)
def test_text_spectra_with_a_column_header_load(tmp_path, header, line):
    energy = np.arange(400.0, 600.0, 0.25)
    counts = 1e3 * np.exp(-energy / 300.0)
    path = tmp_path / "export.csv"
    path.write_text(header + "\n" + "\n".join(line.format(e=e, c=c) for e, c in zip(energy, counts)))
    s = load_spectrum(path)
    ax = s.axes_manager.signal_axes[0]
    assert ax.offset == pytest.approx(400.0) and ax.scale == pytest.approx(0.25) and ax.size == energy.size
    np.testing.assert_allclose(s.data, counts, atol=1e-3)


@pytest.mark.parametrize("sep", [";", "\t", " "])
def test_decimal_commas_are_read_as_decimal_marks(tmp_path, sep):
    """400,25;12,5 is 400.25 eV and 12.5 counts, not four columns (400, 25, 12, 5)."""
    energy = np.arange(400.0, 410.0, 0.25)
    counts = np.linspace(10.0, 20.0, energy.size)
    path = tmp_path / "decimal_comma.txt"
    path.write_text("\n".join(f"{e:.2f}{sep}{c:.2f}".replace(".", ",") for e, c in zip(energy, counts)))
    e, c = read_two_column_text(path)
    np.testing.assert_allclose(e, energy)
    np.testing.assert_allclose(c, counts, atol=5e-3)


def test_text_after_the_numbers_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "footer.txt"
    path.write_text("eV counts\n400 1\n401 2\nEnd of spectrum\n")
    with pytest.raises(SpectrumFileError, match="line 4 is not two numbers"):
        read_two_column_text(path)


def test_hyperspy_formats_load_through_hyperspy(tmp_path):
    s = hs.signals.Signal1D(np.arange(200.0).reshape(2, 100))
    s.axes_manager.signal_axes[0].units = "eV"
    s.save(tmp_path / "si.hspy")
    back = load_spectrum(tmp_path / "si.hspy", lazy=True)
    assert back._lazy and back.axes_manager.navigation_shape == (2,)
    assert back.metadata.Signal.signal_type == "EELS_ID"


def test_empty_missing_and_garbage_files_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_spectrum(tmp_path / "missing.msa")
    (tmp_path / "empty.msa").write_text("")
    with pytest.raises(SpectrumFileError, match="empty"):
        load_spectrum(tmp_path / "empty.msa")
    (tmp_path / "notes.txt").write_text("hello world\nthis is not a spectrum\n")
    with pytest.raises(SpectrumFileError, match="notes.txt.*not a readable spectrum"):
        load_spectrum(tmp_path / "notes.txt")
    (tmp_path / "one.txt").write_text("1 2\n")
    with pytest.raises(SpectrumFileError, match="fewer than two"):
        read_two_column_text(tmp_path / "one.txt")


def test_columns_out_of_order_are_refused_not_sorted(tmp_path):
    """Counts written before the energies were sorted as if they were energies and reached the
    networks as a spectrum; the only message was about the "dispersion" of the counts."""
    energy = np.arange(400.0, 420.0)
    counts = np.array([5.0, 3.0, 8.0, 1.0] * 5)
    np.savetxt(tmp_path / "swapped.txt", np.c_[counts, energy], fmt="%.1f")
    with pytest.raises(SpectrumFileError, match="first column is not in order.*are the columns swapped"):
        read_two_column_text(tmp_path / "swapped.txt")
    np.savetxt(tmp_path / "jumbled.txt", np.c_[energy[[0, 2, 1] + list(range(3, 20))], counts], fmt="%.1f")
    with pytest.raises(SpectrumFileError, match=r"first column is not in order.*the second the counts\.$"):
        read_two_column_text(tmp_path / "jumbled.txt")
    np.savetxt(tmp_path / "descending.txt", np.c_[energy[::-1], counts], fmt="%.1f")  # high to low: fine
    e, c = read_two_column_text(tmp_path / "descending.txt")
    np.testing.assert_array_equal(e, energy)
    np.testing.assert_array_equal(c, counts[::-1])


def test_a_file_with_a_low_loss_and_a_core_loss_gives_the_one_asked_for(tmp_path, monkeypatch):
    """A dual-EELS file that HyperSpy reads as two spectra gave the first, the low loss, to the
    identification (which then refused it or saw no edge)."""
    def spectrum(offset, title):
        s = hs.signals.Signal1D(np.ones(2048))
        s.axes_manager.signal_axes[0].offset, s.axes_manager.signal_axes[0].units = offset, "eV"
        s.metadata.General.title = title
        return s

    path = tmp_path / "dual.dm4"
    path.write_bytes(b"stand-in: hs.load is replaced below")
    monkeypatch.setattr(hs, "load", lambda *a, **k: [spectrum(-50.0, "low loss"), spectrum(300.0, "high loss")])
    with pytest.warns(UserWarning, match=r"holds 2 spectra; the core loss is taken to be number 2 \('high loss', 300-2347"):
        core = load_spectrum(path)
    assert core.metadata.General.title == "high loss"
    with pytest.warns(UserWarning, match="the low loss is taken to be number 1 .* holds 0 eV"):
        low = load_spectrum(path, signal_type="EELS", role="low loss")
    assert low.metadata.General.title == "low loss"
    with pytest.raises(ValueError, match="role must be"):
        load_spectrum(path, role="core-loss")


def test_a_folder_or_an_image_file_is_named_for_what_it_is(tmp_path):
    """A folder was reported as "no such file"; an image HyperSpy reads was "not a readable
    spectrum ... it opens with '\\x89HDF'" (the text reader's view of an HDF5 file)."""
    with pytest.raises(IsADirectoryError, match="a folder, not a file; name the spectrum files in it"):
        load_spectrum(tmp_path)
    hs.signals.Signal2D(np.ones((10, 12))).save(tmp_path / "image.hspy")
    with pytest.raises(SpectrumFileError, match=r"only a Signal2D of signal shape \(12, 10\)\. Identification needs"):
        load_spectrum(tmp_path / "image.hspy")


def test_text_files_load_without_hyperspy_error_messages(tmp_path, caplog):
    """HyperSpy's own attempt at a text spectrum logs "Unable to infer file type" and
    "please report this error to the RosettaSciIO developers"; the user asked for neither
    and the file loads, so neither may reach them."""
    import logging

    energy = np.arange(400.0, 600.0, 0.5)
    path = tmp_path / "spectrum.txt"
    np.savetxt(path, np.c_[energy, np.exp(-energy / 300.0)], delimiter="\t", header="Energy\tCounts")
    hyperspy_logger = logging.getLogger("hyperspy")
    handlers, propagate = list(hyperspy_logger.handlers), hyperspy_logger.propagate
    with caplog.at_level("DEBUG"):
        s = load_spectrum(path)
    assert s.data.size == energy.size
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert hyperspy_logger.handlers == handlers and hyperspy_logger.propagate == propagate


def test_what_hyperspy_logs_while_reading_a_file_it_reads_is_passed_on(tmp_path, caplog, monkeypatch):
    import logging

    s = hs.signals.Signal1D(np.arange(100.0))
    s.axes_manager.signal_axes[0].units = "eV"
    real_load = hs.load

    def load(*args, **kwargs):
        logging.getLogger("hyperspy.io").warning("a tag of this file was not understood")
        return real_load(*args, **kwargs)

    s.save(tmp_path / "s.hspy")
    handlers = list(logging.getLogger("hyperspy").handlers)
    monkeypatch.setattr(hs, "load", load)
    with caplog.at_level("WARNING"):
        load_spectrum(tmp_path / "s.hspy")
    assert "a tag of this file was not understood" in caplog.text
    assert logging.getLogger("hyperspy").handlers == handlers


def test_unreadable_file_is_named_once(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello world\n")
    with pytest.raises(SpectrumFileError) as info:
        load_spectrum(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a readable spectrum")
    assert "text either (no line of two numbers (energy, counts); it opens with 'hello world')." in message
