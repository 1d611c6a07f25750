"""Cross sections from GOSH tables agree with exSpy's EELSCLEdge."""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hyperspy_eelsid.physics.cross_sections import (  # noqa: E402
    GOSHDatabase,
    TorchCrossSections,
    cross_section,
    effective_angle,
    load_gosh,
)
from .test_cross_sections_fixture import write_gosh  # noqa: E402

ENERGY = np.arange(0.0, 3272.0)
# (E0 keV, alpha mrad, beta mrad, onset shift eV)
CONDITIONS = [(200, 10.0, 30.0, 0.0), (60, 20.0, 5.0, 3.0), (300, 1.0, 100.0, -5.0), (100, 0.0, 20.0, 2.5)]


@pytest.fixture(scope="module")
def gosh_file(tmp_path_factory):
    return str(write_gosh(tmp_path_factory.mktemp("gosh") / "hydrogenic.gosh",
                          edges=("C_K", "O_K", "Ti_L3", "Fe_L3")))


def _exspy_edge(label, path, E0, alpha, beta, shift):
    exspy = pytest.importorskip("exspy")
    edge = exspy.components.EELSCLEdge(label, GOS="dft", gos_file_path=path)
    edge.set_microscope_parameters(E0=E0, alpha=alpha, beta=beta, energy_scale=1.0)
    edge.onset_energy.value = edge.GOS.onset_energy + shift
    return edge.function(ENERGY)


def _check_against_exspy(db, path, labels, conditions, tol=0.01):
    tc = TorchCrossSections([db[l] for l in labels])
    for label in labels:
        for E0, alpha, beta, shift in conditions:
            ref = _exspy_edge(label, path, E0, alpha, beta, shift)
            above = ref > 0
            assert above.sum() > 100
            mine = cross_section(db[label], ENERGY, E0, alpha, beta, shift)
            np.testing.assert_allclose(mine[above], ref[above], rtol=tol)
            assert np.all(mine[~above] == 0)
            t = tc.evaluate_pairs(torch.tensor([tc.index(label)]), E0, alpha, beta, shift,
                                  torch.as_tensor(ENERGY))[0].numpy()
            np.testing.assert_allclose(t[above], ref[above], rtol=tol)
            assert np.all(t[~above] == 0)


def test_numpy_and_torch_match_exspy_on_fixture(gosh_file):
    db = GOSHDatabase(gosh_file)
    _check_against_exspy(db, gosh_file, ["C_K", "Ti_L3", "Fe_L3"], CONDITIONS)


def test_effective_angle_matches_exspy():
    from exspy._misc.eels.effective_angle import effective_angle as ref

    for E0, e, a, b in [(200, 284, 10, 30), (60, 700, 20, 5), (300, 1000, 0, 20), (100, 100, 15, 15)]:
        assert effective_angle(E0, e, a, b) == pytest.approx(ref(E0, e, a, b), rel=1e-10)
        got = effective_angle(torch.tensor([float(E0)], dtype=torch.float64), float(e), float(a), float(b))
        assert float(got[0]) == pytest.approx(ref(E0, e, a, b), rel=1e-10)


def test_batched_torch_each_spectrum_its_own_parameters(gosh_file):
    db = GOSHDatabase(gosh_file)
    labels = ["C_K", "O_K", "Fe_L3"]
    tc = TorchCrossSections([db[l] for l in labels])
    edges = torch.tensor([[0, 2, -1], [1, -1, -1], [2, 1, 0]])
    E0 = torch.tensor([60.0, 200.0, 300.0])
    alpha = torch.tensor([5.0, 20.0, 1.0])
    beta = torch.tensor([50.0, 10.0, 100.0])
    shift = torch.tensor([[1.0, -2.0, 0.0], [4.0, 0.0, 0.0], [-5.0, 0.0, 3.0]])
    out = tc(edges, E0, alpha, beta, shift, torch.as_tensor(ENERGY))
    assert out.shape == (3, 3, ENERGY.size)
    for b in range(3):
        for k in range(3):
            e = int(edges[b, k])
            if e < 0:
                assert torch.all(out[b, k] == 0)
                continue
            ref = cross_section(db[labels[e]], ENERGY, float(E0[b]), float(alpha[b]),
                                float(beta[b]), float(shift[b, k]))
            np.testing.assert_allclose(out[b, k].numpy(), ref, rtol=5e-3, atol=1e-12 * ref.max())


def test_pairs_added_into_rows_equal_the_returned_array(gosh_file):
    # the simulator's path: subshells summed into their edge's row in place
    db = GOSHDatabase(gosh_file)
    tc = TorchCrossSections([db[l] for l in ("C_K", "O_K", "Ti_L3", "Fe_L3")])
    t = torch.tensor([0, 1, 2, 3, 2, 3, 1])
    E0 = torch.tensor([60.0, 100.0, 200.0, 300.0, 100.0, 200.0, 300.0], dtype=torch.float64)
    alpha = torch.tensor([1.0, 5.0, 10.0, 20.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    beta = torch.tensor([5.0, 10.0, 50.0, 100.0, 20.0, 30.0, 40.0], dtype=torch.float64)
    shift = torch.tensor([-5.0, 0.0, 3.0, 5.0, -1.0, 2.0, -4.0], dtype=torch.float64)
    grid = torch.arange(3072, dtype=torch.float32)
    full = tc.evaluate_pairs(t, E0, alpha, beta, shift, grid, chunk=2)
    rows = torch.tensor([0, 1, 2, 0, 1, 2, 3])
    group = torch.tensor([0, 0, 0, 1, 1, 1, 0])
    out = torch.zeros((4, 3100))
    peaks = tc.evaluate_pairs(t, E0, alpha, beta, shift, grid, chunk=2, out=out, rows=rows, group=group)
    expected = torch.zeros((4, 3072)).index_add_(0, rows, full)
    torch.testing.assert_close(out[:, :3072], expected, rtol=0, atol=0)
    assert torch.all(out[:, 3072:] == 0)
    torch.testing.assert_close(peaks, full.amax(1))
    with pytest.raises(ValueError, match="sorted energy grid"):
        tc.evaluate_pairs(t, E0, alpha, beta, shift, grid.flip(0), out=out, rows=rows)
    # per-pair weights scale what is added (the simulator's continuum fraction); the peaks stay unweighted
    weight = torch.tensor([1.0, 0.5, 0.2, 1.0, 0.1, 1.0, 0.3])
    out_w = torch.zeros((4, 3100))
    peaks_w = tc.evaluate_pairs(t, E0, alpha, beta, shift, grid, chunk=2, out=out_w, rows=rows, group=group,
                                weight=weight)
    torch.testing.assert_close(out_w[:, :3072], torch.zeros((4, 3072)).index_add_(0, rows, full * weight[:, None]))
    torch.testing.assert_close(peaks_w, peaks)
    torch.testing.assert_close(tc.evaluate_pairs(t, E0, alpha, beta, shift, grid, weight=weight), full * weight[:, None])


def test_cross_section_rises_with_collection_angle(gosh_file):
    db = GOSHDatabase(gosh_file)
    small = cross_section(db["O_K"], ENERGY, 200, 1.0, 5.0)
    large = cross_section(db["O_K"], ENERGY, 200, 1.0, 80.0)
    assert np.all(large[ENERGY > 540] > small[ENERGY > 540])


def test_impossible_microscope_parameters_are_clear_errors(gosh_file):
    # they raised IndexError deep in the quadrature (beta 0, E0 0, NaN) or ran (alpha < 0)
    db = GOSHDatabase(gosh_file)
    for (E0, alpha, beta), name in (((0, 10, 30), "beam energy E0"), ((-200, 10, 30), "beam energy E0"),
                                    ((200, -5, 30), "convergence semi-angle alpha"),
                                    ((200, np.nan, 30), "convergence semi-angle alpha"),
                                    ((200, 10, 0), "collection semi-angle beta"),
                                    ((200, 10, 1e6), "collection semi-angle beta")):
        with pytest.raises(ValueError, match=f"{name} must be"):
            cross_section(db["O_K"], ENERGY, E0, alpha, beta)
    assert cross_section(db["O_K"], ENERGY, 200, 0.0, 1000.0).max() > 0  # the limits themselves pass


def test_missing_file_and_table_are_clear_errors(gosh_file, tmp_path):
    with pytest.raises(FileNotFoundError):
        GOSHDatabase(tmp_path / "nope.gosh")
    with pytest.raises(KeyError, match="Zr_L3"):
        GOSHDatabase(gosh_file)["Zr_L3"]


def _shipped_file():
    try:
        from hyperspy_eelsid.physics.gos_table import gos_file

        path = gos_file()
    except (ImportError, FileNotFoundError):
        return None
    return str(path) if path is not None and os.path.exists(path) else None


@pytest.mark.skipif(_shipped_file() is None, reason="the package's GOSH table is not built yet")
def test_shipped_table_matches_exspy():
    path = _shipped_file()
    db = load_gosh(path)
    # a few edges across shells, where present
    wanted = ["C_K", "O_K", "Ti_L3", "Fe_L2", "Ce_M5", "Ba_M4", "Sr_L3", "Au_M5", "Ce_N5"]
    labels = [l for l in wanted if l in db][:5]
    assert labels, "the shipped GOSH file has none of the common test edges"
    _check_against_exspy(db, path, labels, CONDITIONS[:2])
