"""The EELS_ID signal type is registered with HyperSpy and keeps exSpy's behaviour."""

import numpy as np
import pytest

hs = pytest.importorskip("hyperspy.api")
exspy = pytest.importorskip("exspy")

from hyperspy_eelsid import __version__  # noqa: E402
from hyperspy_eelsid.signals import EELSIDSpectrum, LazyEELSIDSpectrum  # noqa: E402

from .conftest import shared_path  # noqa: E402


def _spectrum(shape=(3, 2)):
    rng = np.random.default_rng(0)
    s = hs.signals.Signal1D(rng.poisson(100.0, shape + (300,)).astype(float))
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units, ax.name = 400.0, 1.0, "eV", "Energy loss"
    return s


def test_version_is_defined():
    assert isinstance(__version__, str) and __version__[0].isdigit()


def test_extension_is_registered_under_its_own_signal_type():
    from hyperspy.extensions import ALL_EXTENSIONS

    signals = ALL_EXTENSIONS["signals"]
    assert signals["EELSIDSpectrum"]["signal_type"] == "EELS_ID"
    assert signals["LazyEELSIDSpectrum"]["lazy"] is True
    # exSpy keeps the plain "EELS" type for itself
    assert signals["EELSSpectrum"]["signal_type"] == "EELS"


def test_set_signal_type_gives_subclass_and_keeps_elements():
    s = _spectrum()
    s.set_signal_type("EELS")
    s.add_elements(["Fe", "O"])
    s.set_signal_type("EELS_ID")
    assert type(s) is EELSIDSpectrum
    assert isinstance(s, exspy.signals.EELSSpectrum)
    assert sorted(s.metadata.Sample.elements) == ["Fe", "O"]
    s.set_signal_type("EELS")
    assert type(s) is exspy.signals.EELSSpectrum


def test_lazy_inav_deepcopy_keep_class_and_elements():
    s = _spectrum()
    s.set_signal_type("EELS_ID")
    s.add_elements(["Ti"])
    lazy = s.as_lazy()
    assert type(lazy) is LazyEELSIDSpectrum
    assert isinstance(lazy, exspy.signals.LazyEELSSpectrum)
    for other in (lazy, s.inav[1, 0], s.deepcopy(), lazy.inav[0]):
        assert isinstance(other, EELSIDSpectrum)
        assert other.metadata.Sample.elements == ["Ti"]
    lazy.compute()
    assert type(lazy) is EELSIDSpectrum
    assert lazy.metadata.Sample.elements == ["Ti"]


def test_hspy_round_trip_keeps_class_and_elements(tmp_path):
    s = _spectrum()
    s.set_signal_type("EELS_ID")
    s.add_elements(["Ba", "Ti", "O"])
    s.save(tmp_path / "si.hspy")
    back = hs.load(tmp_path / "si.hspy")
    assert type(back) is EELSIDSpectrum
    assert sorted(back.metadata.Sample.elements) == ["Ba", "O", "Ti"]
    np.testing.assert_array_equal(back.data, s.data)
    lazy = hs.load(tmp_path / "si.hspy", lazy=True)
    assert type(lazy) is LazyEELSIDSpectrum
    assert sorted(lazy.metadata.Sample.elements) == ["Ba", "O", "Ti"]


def test_msa_file_loads_as_subclass(tmp_path):
    s = _spectrum(shape=())
    s.save(tmp_path / "spectrum.msa")
    back = hs.load(tmp_path / "spectrum.msa", signal_type="EELS_ID")
    assert type(back) is EELSIDSpectrum
    assert back.axes_manager.signal_axes[0].offset == pytest.approx(400.0)
    assert type(back.as_lazy()) is LazyEELSIDSpectrum


def test_real_msa_from_benchmark_loads_as_subclass(benchmark_manifest):
    entry = next(e for e in benchmark_manifest["spectra"] if e["file"].endswith(".msa"))
    path = shared_path("eels-benchmark", entry["file"])
    s = hs.load(path, signal_type="EELS_ID")
    assert type(s) is EELSIDSpectrum
    assert s.data.size > 0
