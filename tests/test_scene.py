"""Spectrum images of a given specimen (the demo's superlattice), on a hydrogenic GOSH fixture."""

import numpy as np
import pytest

from hyperspy_eelsid.simulation.scene import Microscope, simulate_scene, superlattice_scene

from .test_cross_sections_fixture import write_gosh


@pytest.fixture(scope="module")
def gosh(tmp_path_factory):
    path = tmp_path_factory.mktemp("gosh") / "hydrogenic.gosh"
    write_gosh(path, edges=("O_K", "Ti_L3", "Mn_L3"))
    return str(path)


def test_superlattice_layers_and_ground_truth(gosh):
    sc = superlattice_scene(shape=(3, 40), gos_file=gosh)
    assert sc.counts.shape == (3, 40, 2048) and sc.counts.dtype == np.float32
    assert np.allclose(sc.fractions.sum(-1), 1.0)
    ti, mn = sc.element_maps["Ti"][0], sc.element_maps["Mn"][0]
    assert ti[:8].min() > 300 and mn[:8].max() < 1  # SrTiO3 substrate first
    assert mn.max() > 300 and np.all((ti > 1) | (mn > 1))  # every column has Ti or Mn
    assert set(sc.visible) == {"Mn", "O", "Ti"}  # Ba/La M and Sr not in the fixture / range


def test_same_seed_same_scene_and_poisson_counts(gosh):
    a = superlattice_scene(shape=(2, 12), seed=3, gos_file=gosh)
    b = superlattice_scene(shape=(2, 12), seed=3, gos_file=gosh)
    c = superlattice_scene(shape=(2, 12), seed=4, gos_file=gosh)
    np.testing.assert_array_equal(a.counts, b.counts)
    assert not np.array_equal(a.counts, c.counts)
    assert np.all(a.counts == np.round(a.counts)) and a.counts.min() >= 0


def test_edges_scale_with_areal_density_and_dose(gosh):
    mic = Microscope(offset=500.0, dispersion=0.5, n_channels=400)
    phases = {"thin": {"O": 500.0}, "thick": {"O": 1000.0}}
    frac = np.array([[1.0, 0.0], [0.0, 1.0]])
    sc = simulate_scene(phases, frac, microscope=mic, electrons=1e10, background_scale=0.0, gos_file=gosh)
    above = (sc.energy > 560) & (sc.energy < 650)
    ratio = sc.counts[1, above].sum() / sc.counts[0, above].sum()
    assert ratio == pytest.approx(2.0, rel=0.02)
    below = sc.energy < 520
    assert sc.counts[:, below].sum() < 1e-3 * sc.counts[:, above].sum()  # nothing before the onset


def test_bad_fractions_shape_is_a_clear_error(gosh):
    with pytest.raises(ValueError, match="phases"):
        simulate_scene({"a": {"O": 1.0}}, np.ones((3, 2)), gos_file=gosh)


def test_white_line_pairs_follow_each_element_ratio():
    # shipped tables: Ba M4 (796 eV) is the higher line of its pair, Mn L3 (640 eV) about 3 x L2 (651 eV)
    mic = Microscope(offset=600.0, dispersion=0.5, n_channels=500)
    sc = simulate_scene({"a": {"Ba": 100.0, "Mn": 100.0}}, np.ones((1, 1)), microscope=mic, electrons=1e12,
                        background_scale=0.0, t_over_lambda=0.0)
    counts, e = sc.counts[0], sc.energy

    def line(onset):  # the line (1 eV above the onset) over the edge just before it
        at = np.abs(e - (onset + 1.0)) < 0.3
        before = (e > onset - 4.0) & (e < onset - 2.0)
        return counts[at].max() - counts[before].mean()

    assert line(796.0) > 1.1 * line(781.0)  # Ba: M4 above M5, as measured, not the statistical 2:3
    assert 2.0 < line(640.0) / line(651.0) < 4.5  # Mn: L3 well above L2
