"""All-pixel linear fit of a model convolved with each pixel's low loss (low_loss_fit)."""

import numpy as np
import pytest

hs = pytest.importorskip("hyperspy.api")

from hyperspy_eelsid.signals.low_loss_fit import fit_convolved  # noqa: E402

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
    ours = fit_convolved(_model(s, ll), mask=mask)
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
        fit_convolved(m)


def test_fixed_parameters_that_vary_over_the_scan_are_refused():
    s, ll = _convolved_image()
    m = _model(s, ll)
    m[0].r.map["values"][0, 0] = 2.5  # the exponent no longer the same everywhere
    with pytest.raises(ValueError, match="PowerLaw.r"):
        fit_convolved(m)
