"""Atomic percent and areal density from the fitted intensity maps of quantify_elements.

The spectra are built here from the package's own cross sections in barn/eV
(numpy path, not exSpy's model) for known numbers of atoms per barn, so these
tests check the whole chain of units: channel width, incident electrons,
the low loss's counts and barn -> nm^2.
"""

import warnings

import numpy as np
import pytest

hs = pytest.importorskip("hyperspy.api")
pytest.importorskip("exspy")

from hyperspy_eelsid.physics.cross_sections import cross_section, load_gosh  # noqa: E402
from hyperspy_eelsid.signals.composition import areal_density, atomic_percent  # noqa: E402

E0, ALPHA, BETA = 200.0, 10.0, 30.0
D = 0.5  # eV per channel
I0 = 1e9  # electrons per spectrum (160 pA for 1 s)
# atoms per barn: O as in 50 nm of SrTiO3 (2,520 atoms/nm^2), Ti from none to SrTiO3's
N_O = 2.52e-7
N_TI = np.array([0.0, 0.25, 0.5, 1.0]) * 8.4e-8


def _spectra(low_loss: bool, n_ti=N_TI, rows=3, seed=3):
    """``rows`` x 4 scan of Ti L + O K on a power law, Poisson noise; Ti varies along x (``n_ti``). With
    ``low_loss``, the edges are convolved with a low loss (zero loss + a plasmon holding 40 % of
    the electrons) whose counts add up to ``I0``, and that low loss is returned too."""
    db = load_gosh()
    energy = 350.0 + D * np.arange(800)
    sigma = {el: sum(cross_section(db[f"{el}_{sub}"], energy, E0, ALPHA, BETA) for sub in subs)
             for el, subs in (("Ti", ("L3", "L2", "L1")), ("O", ("K",)))}
    e_ll = -20.0 + D * np.arange(200)
    shape = np.exp(-0.5 * (e_ll / 1.0) ** 2) * 0.6 / np.exp(-0.5 * (e_ll / 1.0) ** 2).sum()
    plasmon = np.exp(-0.5 * ((e_ll - 22.0) / 5.0) ** 2)
    shape = shape + 0.4 * plasmon / plasmon.sum()
    zero = int(np.argmin(np.abs(e_ll)))
    counts = np.empty((rows, len(n_ti), energy.size))
    for j, n in enumerate(n_ti):
        edges = I0 * D * (n * sigma["Ti"] + N_O * sigma["O"])
        if low_loss:
            edges = np.convolve(edges, shape)[zero : zero + energy.size]
        counts[:, j] = edges + 1.5e12 * D * energy ** -3.0  # O K jump ratio about 2
    s = hs.signals.Signal1D(np.random.default_rng(seed).poisson(counts).astype(float))
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = energy[0], D, "eV"
    s.set_signal_type("EELS_ID")
    s.set_microscope_parameters(beam_energy=E0, convergence_angle=ALPHA, collection_angle=BETA)
    s.add_elements(["Ti", "O"])
    if not low_loss:
        return s, None
    ll = hs.signals.Signal1D(np.broadcast_to(I0 * shape, counts.shape[:2] + (e_ll.size,)).copy())
    ll.set_signal_type("EELS")
    lax = ll.axes_manager.signal_axes[0]
    lax.offset, lax.scale, lax.units = e_ll[0], D, "eV"
    return s, ll


def _truth_percent():
    ti = 100.0 * N_TI / (N_TI + N_O)
    return {"Ti": ti, "O": 100.0 - ti}


def test_atomic_percent_recovers_the_composition_without_a_low_loss():
    s, _ = _spectra(low_loss=False)
    maps = s.quantify_elements(show_progressbar=False)
    fitted = [m.data.copy() for m in maps]
    shares = atomic_percent(maps)
    assert [m.metadata.General.title for m in shares] == ["atomic percent of O", "atomic percent of Ti"]
    np.testing.assert_allclose(sum(m.data for m in shares), 100.0)
    truth = _truth_percent()
    for m in shares:
        el = m.metadata.EELSID.element
        assert m.axes_manager.signal_shape == s.axes_manager.navigation_shape
        assert m.metadata.Signal.quantity == "Composition (at.%)"
        np.testing.assert_allclose(m.data, np.broadcast_to(truth[el], (3, 4)), atol=0.5)  # at.%
    for m, before in zip(maps, fitted):
        np.testing.assert_array_equal(m.data, before)  # the intensity maps are not changed
    # no low loss: the intensities hold the incident electrons too, so no areal density
    assert maps[0].metadata.Signal.quantity == "Edge intensity (atoms/barn x electrons)"
    with pytest.raises(ValueError, match=r"without a low-loss spectrum.*quantify_elements\(low_loss=ll\)"):
        areal_density(maps)


def test_areal_density_from_a_fit_with_the_low_loss():
    s, ll = _spectra(low_loss=True)
    maps = s.quantify_elements(low_loss=ll, show_progressbar=False)
    assert maps[0].metadata.Signal.quantity == "Areal density (atoms/barn)"
    density = {m.metadata.EELSID.element: m for m in areal_density(maps)}
    assert density["O"].metadata.General.title == "areal density of O"
    np.testing.assert_allclose(density["O"].data, 2520.0, rtol=0.02)  # atoms/nm^2
    np.testing.assert_allclose(density["Ti"].data[:, 1:], np.broadcast_to(N_TI[1:] * 1e10, (3, 3)), rtol=0.03)
    assert np.abs(density["Ti"].data[:, 0]).max() < 0.01 * 840.0  # no Ti: within 1 % of SrTiO3's
    shares = {m.metadata.EELSID.element: m.data for m in atomic_percent(maps)}
    np.testing.assert_allclose(shares["Ti"], np.broadcast_to(_truth_percent()["Ti"], (3, 4)), atol=0.5)
    # an O map fitted without the low loss holds O x the number of electrons: mixed with the Ti map
    # fitted with it, atomic_percent compared quantities in different units without a word
    without = {m.metadata.EELSID.element: m for m in s.quantify_elements(show_progressbar=False)}
    mixed = [without["O"]] + [m for m in maps if m.metadata.EELSID.element != "O"]
    with pytest.raises(ValueError, match="maps of .* were fitted with a low-loss spectrum and those of O without"):
        atomic_percent(mixed)


def test_masked_pixels_and_bad_input():
    s, _ = _spectra(low_loss=False)
    mask = np.zeros((3, 4), bool)
    mask[1, 2] = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shares = atomic_percent(s.quantify_elements(show_progressbar=False, navigation_mask=mask))
    # the left-out spectrum is not the user's concern: no division warning from exSpy's first estimate
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    for m in shares:
        assert np.isnan(m.data[1, 2]) and np.isfinite(m.data[~mask]).all()
    with pytest.raises(ValueError, match="No maps"):
        atomic_percent([])
    with pytest.raises(ValueError, match="quantify_elements returned"):
        atomic_percent([hs.signals.Signal2D(np.ones((3, 4)))])
    with pytest.raises(ValueError, match="holds the atomic percent, not a fitted edge intensity"):
        atomic_percent(shares)  # shares of shares
    assert not shares[0].metadata.has_item("EELSID.covariance")


@pytest.mark.parametrize("low_loss, fine_structure", [(False, False), (True, False), (False, True)])
def test_uncertainties_match_the_scatter_of_repeated_spectra(low_loss, fine_structure):
    # 600 spectra of the same specimen, each with its own Poisson noise: the standard errors that the
    # maps carry (sandwich covariance of each pixel's least squares) must match the scatter of the
    # fitted values over the pixels
    s, ll = _spectra(low_loss, n_ti=np.full(30, N_TI[2]), rows=20, seed=11)
    maps = s.quantify_elements(low_loss=ll, show_progressbar=False, fine_structure=fine_structure)
    derived = atomic_percent(maps) + (areal_density(maps) if low_loss else [])
    for m in maps + derived:
        predicted = np.sqrt(m.metadata.Signal.Noise_properties.variance.data)
        scatter = np.std(m.data, ddof=1)  # sampling error of a standard deviation of 600: 3 %
        assert np.median(predicted) == pytest.approx(scatter, rel=0.1), m.metadata.General.title
        assert np.ptp(predicted) < 0.5 * np.median(predicted)  # the same specimen everywhere
    if fine_structure:
        return
    # the shares need the covariance of the intensities (Ti's L continuum lies under O K): taken as
    # independent, their errors come out too small here
    for m in maps:
        m.metadata.EELSID.covariance = None
    alone = atomic_percent(maps)[0]
    predicted = np.median(np.sqrt(alone.metadata.Signal.Noise_properties.variance.data))
    assert predicted < 0.9 * np.std(alone.data, ddof=1)


def test_lazy_fit_keeps_the_same_uncertainties(monkeypatch):
    from hyperspy_eelsid.signals import quantification

    monkeypatch.setattr(quantification, "LAZY_BLOCK_SPECTRA", 8)  # several blocks of two rows
    s, _ = _spectra(low_loss=False, rows=6)
    mask = np.zeros((6, 4), bool)
    mask[2, 1] = True
    eager = s.quantify_elements(show_progressbar=False, navigation_mask=mask)
    lazy = s.as_lazy().quantify_elements(show_progressbar=False, navigation_mask=mask)
    for e, z in zip(eager + atomic_percent(eager), lazy + atomic_percent(lazy)):
        ve, vz = (m.metadata.Signal.Noise_properties.variance.data for m in (e, z))
        assert np.isnan(vz[2, 1]) and np.isfinite(vz[~mask]).all()
        np.testing.assert_allclose(vz, ve, rtol=1e-9)
    for e, z in zip(eager, lazy):
        np.testing.assert_allclose(z.metadata.EELSID.covariance, e.metadata.EELSID.covariance, rtol=1e-9)


def test_one_spectrum():
    # a single spectrum (no navigation axes) gives one value per element, with its error
    s, ll = _spectra(low_loss=True)
    maps = s.inav[3, 0].quantify_elements(low_loss=ll.inav[3, 0], show_progressbar=False)
    assert [m.data.shape for m in maps] == [(1,), (1,)]
    shares = {m.metadata.EELSID.element: m for m in atomic_percent(maps)}
    assert float(shares["Ti"].data[0]) == pytest.approx(_truth_percent()["Ti"][3], abs=0.5)
    assert 0 < float(shares["Ti"].metadata.Signal.Noise_properties.variance.data[0]) < 0.25
    density = {m.metadata.EELSID.element: float(m.data[0]) for m in areal_density(maps)}
    assert density["O"] == pytest.approx(2520.0, rel=0.02)


def test_demo_scene_with_atomic_edges_and_its_low_loss():
    # the demo's simulator (plural scattering by its own low loss, power law, Poisson noise) against
    # quantify_elements with that low loss: with edges that are the atomic cross sections alone, the
    # areal densities come back (benchmarks/demo_quantification.py --atomic-edges for the whole scene)
    from hyperspy_eelsid.cli import demo_low_loss, demo_signal
    from hyperspy_eelsid.simulation.config import SimulationConfig

    s, scene = demo_signal(seed=1, shape=(2, 40), white_line_strength=0.0,
                           config=SimulationConfig(fs_max_scale=1e-6))
    assert scene.low_loss.sum() == pytest.approx(3e8) and 0.0 in scene.low_loss_energy
    ll = demo_low_loss(s, scene)
    s.add_elements(scene.visible)
    for m in areal_density(s.quantify_elements(low_loss=ll, show_progressbar=False)):
        truth = scene.element_maps[m.metadata.EELSID.element]
        held = truth > 100
        assert np.median(np.abs(m.data[held] / truth[held] - 1)) < 0.03, m.metadata.General.title
