"""Linear least squares of an exSpy model convolved with each pixel's low loss, all pixels at once.

HyperSpy fits a linear model in every pixel at once only when the model is
the same in every pixel. With a low-loss spectrum, exSpy convolves the edges
with each pixel's own low loss, and HyperSpy then solves pixel by pixel
(67 spectra/s for a 40 x 50 image in ``benchmarks/bench_quantify.py``, against
1,639 spectra/s here for 100 x 100, both end to end). Here the columns of the design matrix (one per
free linear parameter, twinned subshells added to their master) are computed
once on exSpy's convolution axis, convolved with every pixel's low loss by
FFT, and the small least-squares problems are solved in batches. It is the
same model on the same channels as HyperSpy's linear fit, so it gives the
same parameters (to rounding).
"""

from __future__ import annotations

import numpy as np
from scipy.fft import next_fast_len

__all__ = ["fit_convolved"]

#: Spectra per batch. Small batches stay in the processor's caches: on the
#: development machine, batches of 64 fitted 10,000 spectra of 2,048
#: channels in 2.1-2.5 s, batches of 512 in 3.4-3.7 s.
BATCH = 64


def _design(model):
    """The free linear parameters and, per parameter, its column on exSpy's convolution axis
    (convolved components) and on the energy axis (the others), with the constant parts."""
    from hyperspy.model import _twinned_parameter

    components = model.active_components
    parameters = [p for c in components for p in c.parameters if p.free]
    nonlinear = [p for p in parameters if not p._linear]
    if nonlinear:
        raise ValueError("A linear fit needs every free parameter to be linear; these are not: "
                         + ", ".join(f"{p.component.name}.{p.name}" for p in nonlinear))
    twins = {p: _twinned_parameter(p) for c in components for p in c.parameters
             if _twinned_parameter(p) is not None}
    for p in parameters:  # HyperSpy's linear fit evaluates each column with its parameter at 1
        p.value = 1.0
    axes = {True: model._convolution_axis, False: model.axis.axis}
    columns = {k: np.zeros((len(parameters), ax.size)) for k, ax in axes.items()}
    constant = {k: np.zeros(ax.size) for k, ax in axes.items()}
    for c in components:
        x = axes[bool(c.convolved)]
        values = np.broadcast_to(np.asarray(c.function(x), dtype=float), x.shape)
        free = [p for p in c.parameters if p.free or p in twins]
        if len(free) > 1:
            raise ValueError(f"Component {c.name} has more than one free linear parameter.")
        if free:
            p = twins.get(free[0], free[0])
            fixed = float(np.asarray(getattr(c, "_constant_term", 0.0)))
            columns[bool(c.convolved)][parameters.index(p)] += values - fixed
            constant[bool(c.convolved)] += fixed
        else:
            constant[bool(c.convolved)] += values
    return parameters, columns, constant


def _convolve_valid(low_loss, spectra_fft, n_fft, n_low_loss, n_out):
    """``np.convolve(curve, low_loss, "valid")`` of every low loss (rows of ``low_loss``) with every
    curve whose FFT is in ``spectra_fft`` (last axis), as (pixels, curves, n_out)."""
    ll_fft = np.fft.rfft(low_loss, n_fft)[:, None, :]
    full = np.fft.irfft(ll_fft * spectra_fft[None], n_fft)
    return full[..., n_low_loss - 1 : n_low_loss - 1 + n_out]


def fit_convolved(model, mask=None):
    """Fit every pixel of a convolved exSpy model by linear least squares, in batches.

    Parameters
    ----------
    model : exspy.models.EELSModel
        A model with a low-loss signal (``model.low_loss``) of the signal's
        navigation shape, every free parameter linear (the background's
        exponent fixed), the other parameters the same in every pixel. Its
        signal must be in memory.
    mask : numpy.ndarray, optional
        Boolean, of the data's navigation shape: True leaves the pixel out
        (its parameters' maps are left as they are).

    Notes
    -----
    Sets ``map["values"]``, ``map["std"]`` (NaN: not estimated) and
    ``map["is_set"]`` of every free parameter, the maps of the twinned ones
    from their twin functions, and the current values from the maps, as
    HyperSpy's own linear ``multifit`` does.
    """
    from hyperspy_eelsid.preprocessing import spectra_last

    signal, low_loss = model.signal, model.low_loss
    if low_loss is None or signal._lazy or low_loss._lazy:
        raise ValueError("fit_convolved needs a model with a low-loss signal, both signals in memory.")
    varying = [f"{c.name}.{p.name}" for c in model.active_components for p in c.parameters
               if not p.free and p.twin is None and p.map["is_set"].any()
               and np.ptp(p.map["values"][p.map["is_set"]], axis=0).any()]
    if varying:  # as HyperSpy's own condition for its all-pixels linear fit
        raise ValueError("Fixed parameters must hold one value in every pixel for an all-pixels fit; "
                         "these vary: " + ", ".join(varying))
    parameters, columns, constant = _design(model)
    nav_shape = tuple(signal.axes_manager._navigation_shape_in_array)
    n_pixels = int(np.prod(nav_shape, dtype=int))
    axis = model.axis
    switches = np.flatnonzero(np.asarray(model._channel_switches).ravel())
    if switches.size and switches[-1] - switches[0] + 1 == switches.size:
        switches = slice(switches[0], switches[-1] + 1)  # one range (set_signal_range): a view, no copy
    data = np.asarray(spectra_last(signal)).reshape(n_pixels, -1)
    lows = np.asarray(spectra_last(low_loss), dtype=float).reshape(n_pixels, -1)
    n_ll, n_out = lows.shape[1], axis.size
    n_fft = next_fast_len(n_ll + columns[True].shape[1] - 1, real=True)  # not a large prime factor
    curves = np.vstack([columns[True], constant[True][None]])
    curves_fft = np.fft.rfft(curves, n_fft)
    scale = axis.scale if axis.is_binned else 1.0  # HyperSpy fits data / scale with unbinned columns

    keep = np.ones(n_pixels, bool) if mask is None else ~np.asarray(mask, bool).ravel()
    rows = np.flatnonzero(keep)
    result = np.zeros((n_pixels, len(parameters)))
    for start in range(0, rows.size, BATCH):
        idx = rows[start : start + BATCH]
        convolved = _convolve_valid(lows[idx], curves_fft, n_fft, n_ll, n_out)
        X = (columns[False][None] + convolved[:, :-1])[..., switches]
        y = data[idx][:, switches] / scale - (constant[False] + convolved[:, -1])[:, switches]
        norms = np.linalg.norm(X, axis=-1)
        norms[norms == 0] = 1.0
        Xs = X / norms[..., None]  # unit columns: the normal equations stay well conditioned
        gram = Xs @ np.swapaxes(Xs, 1, 2)
        result[idx] = (np.linalg.pinv(gram) @ (Xs @ y[..., None]))[..., 0] / norms
    _store(model, parameters, result, keep, nav_shape)
    return model


def _store(model, parameters, result, keep, nav_shape):
    """The fitted values into the parameters' maps (pixels left out: unchanged), as HyperSpy's linear
    ``multifit`` stores them: fixed parameters at their value (the same in every pixel), twinned
    ones through their twin functions."""
    keep = keep.reshape(nav_shape)

    def put(p, values):
        new = p.map["values"].copy()
        new[keep] = values
        p.map["values"] = new
        std = p.map["std"].copy()
        std[keep] = np.nan  # not estimated, as in HyperSpy's linear multifit
        p.map["std"] = std
        p.map["is_set"] = p.map["is_set"] | keep

    for i, p in enumerate(parameters):
        put(p, result[:, i].reshape(nav_shape)[keep])
    done = set(parameters)
    every = [p for c in model for p in c.parameters]
    for p in every:
        if p.twin is None and p not in done:
            put(p, p.value)
            done.add(p)
    pending = [p for p in every if p.twin is not None]
    while pending:  # a twin of a twin after its twin
        ready = [p for p in pending if p.twin in done]
        if not ready:
            raise RuntimeError("Twinned parameters form a loop: " + ", ".join(p.name for p in pending))
        for p in ready:
            twin_values = p.twin.map["values"][keep]
            # as Parameter.value: the twin's value through the twin function, if there is one
            put(p, np.vectorize(p._twin_function)(twin_values) if p._twin_function else twin_values)
            done.add(p)
            pending.remove(p)
    model.fetch_stored_values()
