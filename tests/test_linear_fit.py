"""All-pixel linear fits where HyperSpy goes pixel by pixel: low loss, fine structure (linear_fit)."""

import numpy as np
import pytest

hs = pytest.importorskip("hyperspy.api")

from hyperspy_eelsid.signals.linear_fit import fit_linear  # noqa: E402

from .test_quantification import _low_loss  # noqa: E402


def _convolved_image(scale=1.0, shape=(6, 8)):
    """Ti L + O K image with our GOS tables (Ti L3, L2, L1 twinned), convolved with a low loss
    that varies over the scan, Poisson noise; and the model to fit it, exponent fixed."""
    s = hs.signals.Signal1D(np.ones(shape + (int(400 / scale),)))
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = 350.0, scale, "eV"
    s.set_signal_type("EELS_ID")
    s.set_microscope_parameters(beam_energy=200, convergence_angle=10, collection_angle=30)
    s.add_elements(["Ti", "O"])
    ll = _low_loss(shape, scale)
    m = s.create_model(low_loss=ll)
    rng = np.random.default_rng(2)
    for c in m:
        if getattr(c, "element", None) and c.intensity.twin is None:
            c.intensity.map["values"][:] = rng.uniform(1e3, 3e4, shape)
            c.intensity.map["is_set"][:] = True
    m.remove(m[0])  # the background is added below, as a power law of exponent 3
    edges = m.as_signal(show_progressbar=False).data
    s.data = rng.poisson(edges + 1e15 * ax.axis**-3.0).astype(float)
    return s, ll


def _model(s, ll):
    m = s.create_model(low_loss=ll)
    m.set_signal_range(400.0, None)
    m[0].r.value = 3.0
    m[0].r.assign_current_value_to_all()
    m[0].r.free = False
    return m


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_equals_hyperspy_pixel_by_pixel(scale):
    s, ll = _convolved_image(scale)
    mask = np.zeros((6, 8), bool)
    mask[2, 3] = mask[5, 7] = True
    theirs = _model(s, ll)
    theirs.multifit(optimizer="lstsq", show_progressbar=False, mask=mask)  # one pixel at a time
    ours = fit_linear(_model(s, ll), mask=mask)
    compared = 0
    for c1, c2 in zip(theirs, ours):
        for p1, p2 in zip(c1.parameters, c2.parameters):
            np.testing.assert_array_equal(p2.map["is_set"], p1.map["is_set"])
            kept = p1.map["is_set"]
            np.testing.assert_allclose(p2.map["values"][kept], p1.map["values"][kept], rtol=1e-9, atol=0)
            compared += 1
    assert compared > 10
    # and every intensity is a real fit: the twinned L2 follows its L3 per pixel
    l3, l2 = ours["Ti_L3"].intensity.map["values"], ours["Ti_L2"].intensity.map["values"]
    assert np.ptp(l3[~mask]) > 1e3 and np.allclose(l2[~mask] / l3[~mask], (l2 / l3)[0, 0])


def test_a_free_nonlinear_parameter_is_refused():
    s, ll = _convolved_image()
    m = s.create_model(low_loss=ll)  # the background's exponent still free
    with pytest.raises(ValueError, match="PowerLaw.r"):
        fit_linear(m)


def test_fixed_parameters_that_vary_over_the_scan_are_refused():
    s, ll = _convolved_image()
    m = _model(s, ll)
    m[0].r.map["values"][0, 0] = 2.5  # the exponent no longer the same everywhere
    with pytest.raises(ValueError, match="PowerLaw.r"):
        fit_linear(m)


def _with_white_lines():
    """Ti L + O K image (our GOS tables) with Ti L3 and L2 white lines added, in proportion to Ti:
    counts that atomic cross sections do not hold."""
    from .test_quantification import _synthetic_ti_o

    s, truth = _synthetic_ti_o({}, background=1e15)
    e = s.axes_manager.signal_axes[0].axis
    lines = np.exp(-0.5 * ((e - 458.0) / 1.0) ** 2) + 0.7 * np.exp(-0.5 * ((e - 463.5) / 1.2) ** 2)
    s.data = s.data + np.random.default_rng(5).poisson(40.0 * truth["Ti"][..., None] * lines)
    return s, truth


def _fine_structure_model(s):
    m = s.create_model()
    m.enable_fine_structure()
    m[0].r.value = 3.0
    m[0].r.assign_current_value_to_all()
    m[0].r.free = False
    return m


def test_fine_structure_equals_exspy_nonlinear_fit():
    # intensity * spline(c) is linear in intensity * c: one solve gives exSpy's own least squares
    s, _ = _with_white_lines()
    small = s.inav[:3, :2].deepcopy()
    theirs = _fine_structure_model(small)
    theirs.multifit(show_progressbar=False)  # non-linear, pixel by pixel
    ours = fit_linear(_fine_structure_model(small))
    checked = 0
    for c1, c2 in zip(theirs, ours):
        if getattr(c1, "element", None) and c1.intensity.twin is None:
            np.testing.assert_allclose(c2.intensity.map["values"], c1.intensity.map["values"], rtol=1e-6)
            checked += 1
    assert checked == 2
    coeff = ours["Ti_L3"].fine_structure_coeff
    assert coeff.map["values"].shape == (2, 3, coeff._number_of_elements) and np.ptp(coeff.map["values"]) > 0


def test_plain_model_equals_hyperspy_linear_fit():
    s, _ = _with_white_lines()
    theirs = s.create_model()
    ours = s.create_model()
    for m in (theirs, ours):
        m[0].r.value = 3.0
        m[0].r.assign_current_value_to_all()
        m[0].r.free = False
    theirs.multifit(optimizer="lstsq", show_progressbar=False)
    fit_linear(ours)
    for c1, c2 in zip(theirs, ours):
        for p1, p2 in zip(c1.parameters, c2.parameters):
            if p1.twin is None:  # HyperSpy's all-pixels path gives twinned ones the current pixel's value
                np.testing.assert_allclose(p2.map["values"], p1.map["values"], rtol=1e-9, atol=0)
    l3, l2 = ours["Ti_L3"].intensity.map["values"], ours["Ti_L2"].intensity.map["values"]
    np.testing.assert_allclose(l2 / l3, (l2 / l3)[0, 0])  # ours: the twin follows its master per pixel
    assert np.ptp(l2) > 1e3


def test_quantify_with_fine_structure_takes_up_white_lines():
    s, truth = _with_white_lines()
    worst = {}
    for fine_structure in (False, True):
        maps = s.quantify_elements(show_progressbar=False, fine_structure=fine_structure)
        worst[fine_structure] = max(np.max(np.abs(m.data / truth[m.metadata.General.title] - 1)) for m in maps)
    assert worst[False] > 0.04  # the white lines' counts taken for Ti (and O's background pulled down)
    assert worst[True] < 0.02


def test_quantify_with_fine_structure_lazy_equals_eager(monkeypatch):
    from hyperspy_eelsid.signals import quantification

    s, _ = _with_white_lines()
    eager, eager_model = s.quantify_elements(show_progressbar=False, fine_structure=True, return_model=True)
    monkeypatch.setattr(quantification, "LAZY_BLOCK_SPECTRA", 16)  # two rows per block
    lazy, lazy_model = s.as_lazy().quantify_elements(show_progressbar=False, fine_structure=True,
                                                     return_model=True)
    for a, b in zip(eager, lazy):
        np.testing.assert_allclose(b.data, a.data, rtol=1e-9)
    np.testing.assert_allclose(lazy_model["Ti_L3"].fine_structure_coeff.map["values"],
                               eager_model["Ti_L3"].fine_structure_coeff.map["values"], rtol=1e-9, atol=1e-12)


def test_rank_deficient_fine_structure_designs_fit_the_edges():
    """With fine structure the designs are singular (combinations of spline coefficients that vanish
    on the fitted channels); their rounding-level eigenvalues must not be inverted. The layered image of
    benchmarks/bench_quantify.py (LaMnO3 layer, 8 x 8): O within 7 % everywhere (15 % allowed);
    inverting them gave O 35 % off, and garbage fits with NumPy 2.5's LAPACK."""
    from .conftest import load_script

    script = load_script("benchmarks/bench_quantify.py")
    s, truth, ll = script.spectrum_image((8, 8, 2048), False, True)
    maps = s.quantify_elements(low_loss=ll, show_progressbar=False, fine_structure=True)
    checked = 0
    for m in maps:
        true = truth[m.metadata.General.title]
        if (true > 0).any():
            assert np.abs(m.data[:, true > 0] / true[true > 0] - 1).max() < 0.15, m.metadata.General.title
            checked += 1
    assert checked == 3  # La, Mn, O

