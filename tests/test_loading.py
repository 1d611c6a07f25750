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
