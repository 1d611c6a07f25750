"""The Sc / N classifier on measured spectra of ../shared/eels-benchmark (skipped when absent)."""

import pytest

pytest.importorskip("hyperspy.api")
pytest.importorskip("torch")

from hyperspy_eelsid import pair_classifier as pc  # noqa: E402
from hyperspy_eelsid import preprocessing as pp  # noqa: E402
from hyperspy_eelsid.signals.identification import identify_elements  # noqa: E402
from hyperspy_eelsid.signals.loading import load_spectrum  # noqa: E402


def _load(manifest, spectrum_id):
    entry = next(e for e in manifest["spectra"] + manifest["scans"] if e["id"] == spectrum_id)
    return load_spectrum(manifest["root"] / entry["file"])


@pytest.mark.parametrize("spectrum_id, sc", [
    ("579e58f058", True), ("ef359d620e", True),  # Sc2O3
    ("77560a882e", False), ("a5a71ffeda", False),  # N2
    ("375c4a6157", False),  # h-BN line scan (mean over its pixels)
])
def test_measured_n_k_and_sc_l_edges_are_told_apart(benchmark_manifest, spectrum_id, sc):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, _ = pp.preprocess(_load(benchmark_manifest, spectrum_id))
    p = pc.probability_first(pc.load_pair_classifier(), pc.crop_features(x.reshape(-1, x.shape[-1]), *pc.CROP_EV))
    assert (p.mean() >= 0.8) if sc else (p.mean() <= 0.3)


def test_front_end_drops_the_n_the_networks_add_to_sc2o3(benchmark_manifest):
    s = _load(benchmark_manifest, "579e58f058")
    identify_elements(s, show_progressbar=False, print_summary=False)
    assert "Sc" in s.metadata.Sample.elements and "N" not in s.metadata.Sample.elements
    assert s.identification.dropped == ["N"] and s.identification.sc_n["verdicts"]["Sc"] == 1
