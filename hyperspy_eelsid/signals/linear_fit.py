"""Linear least squares of an exSpy model in every pixel at once, where HyperSpy goes pixel by pixel.

HyperSpy fits a linear model in every pixel at once only when the model is
the same in every pixel and each component has one free parameter. Two
cases that matter for quantification fall outside that, and HyperSpy then
solves pixel by pixel (with a low loss, 74 spectra/s for a 40 x 50 image in
``benchmarks/bench_quantify.py``, against 1,837 spectra/s here for 100 x 100):

* a low-loss spectrum: exSpy convolves the edges with each pixel's own low
  loss, so the model differs from pixel to pixel;
* fine structure: an edge with exSpy's fine-structure spline has its
  intensity and the spline's coefficients free. The model is
  ``intensity * spline(c)`` in the first eV above the onset, which is linear
  in ``d = intensity * c``, so each coefficient becomes a column of its own.

Here the columns of the design matrix (one per free linear parameter or
spline coefficient, twinned subshells added to their master) are computed
once, on exSpy's convolution axis where there is a low loss and convolved
with every pixel's low loss by FFT, and the small least-squares problems
are solved in batches. It is the same model on the same channels as a
linear fit of each pixel, so it gives the same parameters (to rounding).
"""

from __future__ import annotations

import numpy as np
from scipy.fft import next_fast_len

__all__ = ["fit_linear"]

#: Spectra per batch. Small batches stay in the processor's caches; 64 was
#: faster than 512 in a one-off timing on the development machine.
BATCH = 64


def _spline(component):
    """The component's fine-structure coefficients if they are free, else None."""
    p = getattr(component, "fine_structure_coeff", None)
    if p is not None and p.free and component.fine_structure_active and component.fine_structure_spline_active:
        return p
    return None


def _design(model):
    """The unknowns, and per unknown its column on exSpy's convolution axis (convolved components)
    and on the energy axis (the others), with the constant parts.

    An unknown is ``(parameter, None)`` for a free linear parameter, or ``(coefficients, k,
    master)`` for the k-th free spline coefficient of an edge whose intensity is ``master``.
    """
    from hyperspy.model import _twinned_parameter

    components = model.active_components
    splines = {c: _spline(c) for c in components}
    scalars = [p for c in components for p in c.parameters if p.free and p is not splines[c]]
    nonlinear = [p for p in scalars if not p._linear]
    if nonlinear:
        raise ValueError("A linear fit needs every free parameter to be linear; these are not: "
                         + ", ".join(f"{p.component.name}.{p.name}" for p in nonlinear))
    twins = {p: _twinned_parameter(p) for c in components for p in c.parameters
             if _twinned_parameter(p) is not None}
    for p in scalars:  # HyperSpy's linear fit evaluates each column with its parameter at 1
        p.value = 1.0
    convolved = bool(getattr(model, "convolved", False))
    axes = {True: model._convolution_axis if convolved else None, False: model.axis.axis}
    unknowns = [(p, None) for p in scalars]
    cols = {True: [], False: []}  # (unknown index, values) per axis
    constant = {k: np.zeros(ax.size) for k, ax in axes.items() if ax is not None}
    for c in components:
        on_conv = convolved and bool(c.convolved)
        x = axes[on_conv]
        spline = splines[c]
        if spline is not None:
            spline.value = (0.0,) * spline._number_of_elements
        values = np.broadcast_to(np.asarray(c.function(x), dtype=float), x.shape).copy()
        free = [p for p in c.parameters if (p.free or p in twins) and p is not spline]
        if len(free) > 1:
            raise ValueError(f"Component {c.name} has more than one free linear parameter.")
        if not free:
            constant[on_conv] += values
            continue
        master = twins.get(free[0], free[0])
        fixed = float(np.asarray(getattr(c, "_constant_term", 0.0)))
        cols[on_conv].append((scalars.index(master), values - fixed))
        constant[on_conv] += fixed
        if spline is not None:
            for k in range(spline._number_of_elements):
                unit = np.zeros(spline._number_of_elements)
                unit[k] = 1.0
                spline.value = tuple(unit)
                cols[on_conv].append((len(unknowns), np.asarray(c.function(x), dtype=float) - values))
                unknowns.append((spline, k, master))
            spline.value = (0.0,) * spline._number_of_elements
    columns = {}
    for k, ax in axes.items():
        if ax is not None:
            columns[k] = np.zeros((len(unknowns), ax.size))
            for index, values in cols[k]:
                columns[k][index] += values
    return unknowns, columns, constant


def _convolve_valid(low_loss, spectra_fft, n_fft, n_low_loss, n_out):
    """``np.convolve(curve, low_loss, "valid")`` of every low loss (rows of ``low_loss``) with every
    curve whose FFT is in ``spectra_fft`` (last axis), as (pixels, curves, n_out)."""
    ll_fft = np.fft.rfft(low_loss, n_fft)[:, None, :]
    full = np.fft.irfft(ll_fft * spectra_fft[None], n_fft)
    return full[..., n_low_loss - 1 : n_low_loss - 1 + n_out]


def _check(model):
    if model.signal._lazy or (model.low_loss is not None and model.low_loss._lazy):
        raise ValueError("fit_linear needs a model of a signal in memory (and its low loss).")
    varying = [f"{c.name}.{p.name}" for c in model.active_components for p in c.parameters
               if not p.free and p.twin is None and p.map["is_set"].any()
               and np.ptp(p.map["values"][p.map["is_set"]], axis=0).any()]
    if varying:  # as HyperSpy's own condition for its all-pixels linear fit
        raise ValueError("Fixed parameters must hold one value in every pixel for an all-pixels fit; "
                         "these vary: " + ", ".join(varying))


def fit_linear(model, mask=None, show_progressbar=False):
    """Fit every pixel of an exSpy model by linear least squares, in batches.

    Parameters
    ----------
    model : exspy.models.EELSModel
        A model in memory whose free parameters are linear (the background's
        exponent fixed) or fine-structure spline coefficients, its other
        parameters the same in every pixel; with or without a low-loss
        signal (``model.low_loss``) of the signal's navigation shape.
    mask : numpy.ndarray, optional
        Boolean, of the data's navigation shape: True leaves the pixel out
        (its parameters' maps are left as they are).
    show_progressbar : bool, optional
        A progress bar over the batches; None: HyperSpy's preference
        (default False).

    Returns
    -------
    exspy.models.EELSModel
        ``model``, fitted.

    Notes
    -----
    Sets ``map["values"]`` and ``map["is_set"]`` of every free parameter,
    the maps of the twinned ones from their twin functions, and the current
    values from the maps, as HyperSpy's own linear ``multifit`` does.
    ``map["std"]`` of each free linear parameter (an edge intensity, the
    background amplitude) gets its standard error in each pixel, from the
    sandwich (heteroskedasticity-consistent) covariance of the least squares,
    which follows each channel's own noise from the residuals and needs no
    noise model; it is conditional on the fixed parameters (the background
    exponent) and holds no systematic error of the model. Spline
    coefficients get no standard error (NaN); they are stored as exSpy
    defines them (per unit intensity): zero where the intensity is zero.
    """
    return _fit_linear(model, mask, show_progressbar)[0]


def _fit_linear(model, mask=None, show_progressbar=False, covariance_of=()):
    """:func:`fit_linear`; also returns the covariance of the free linear parameters
    ``covariance_of`` in every pixel, ``(pixels, len(covariance_of), len(covariance_of))``
    (NaN for pixels left out), or None when none are asked for."""
    from hyperspy.external.progressbar import progressbar

    from hyperspy_eelsid.preprocessing import spectra_last
    from hyperspy_eelsid.signals.validation import _progressbar

    _check(model)
    signal, low_loss = model.signal, model.low_loss
    unknowns, columns, constant = _design(model)
    convolved = True in columns
    nav_shape = tuple(signal.axes_manager._navigation_shape_in_array)
    n_pixels = int(np.prod(nav_shape, dtype=int))
    axis = model.axis
    switches = np.flatnonzero(np.asarray(model._channel_switches).ravel())
    if switches.size and switches[-1] - switches[0] + 1 == switches.size:
        switches = slice(switches[0], switches[-1] + 1)  # one range (set_signal_range): a view, no copy
    data = np.asarray(spectra_last(signal)).reshape(n_pixels, -1)
    if convolved:
        lows = np.asarray(spectra_last(low_loss), dtype=float).reshape(n_pixels, -1)
        n_ll = lows.shape[1]
        n_fft = next_fast_len(n_ll + columns[True].shape[1] - 1, real=True)  # no large prime factor
        curves_fft = np.fft.rfft(np.vstack([columns[True], constant[True][None]]), n_fft)
    scale = axis.scale if axis.is_binned else 1.0  # HyperSpy fits data / scale with unbinned columns

    keep = np.ones(n_pixels, bool) if mask is None else ~np.asarray(mask, bool).ravel()
    rows = np.flatnonzero(keep)
    result = np.zeros((n_pixels, len(unknowns)))
    std = np.full((n_pixels, len(unknowns)), np.nan)
    n_scalars = sum(1 for u in unknowns if u[1] is None)  # the free linear parameters come first
    scalars = [u[0] for u in unknowns[:n_scalars]]
    wanted = [scalars.index(p) for p in covariance_of]
    covariance = np.full((n_pixels, len(wanted), len(wanted)), np.nan) if wanted else None
    if not convolved:  # one design matrix for every pixel: its normal equations once
        inverse, Xs, norms = _normal_equations(columns[False][None, :, switches])
        background = constant[False][switches]
        G = inverse[..., :n_scalars, :] @ Xs
    for start in progressbar(range(0, rows.size, BATCH), disable=not _progressbar(show_progressbar),
                             desc="Fitting", leave=False):
        idx = rows[start : start + BATCH]
        y = data[idx][:, switches] / scale
        if convolved:
            conv = _convolve_valid(lows[idx], curves_fft, n_fft, n_ll, axis.size)
            X = (columns[False][None] + conv[:, :-1])[..., switches]
            inverse, Xs, norms = _normal_equations(X)
            background = (constant[False] + conv[:, -1])[:, switches]
            G = inverse[..., :n_scalars, :] @ Xs
        target = y - background
        solution = (inverse @ (Xs @ target[..., None]))[..., 0]
        result[idx] = solution / norms
        n = norms[..., :n_scalars]
        cov = _sandwich_covariance(G, Xs, target, solution)
        cov /= n[..., :, None] * n[..., None, :]
        std[idx, :n_scalars] = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0.0, None))
        if covariance is not None:
            covariance[idx] = cov[:, wanted][:, :, wanted]
    _store(model, unknowns, result, keep, nav_shape, std)
    return model, covariance


def _sandwich_covariance(G, Xs, target, solution):
    """Covariance of some unknowns of each spectrum (in the unit-column scale of
    :func:`_normal_equations`): the heteroskedasticity-consistent (sandwich) estimate
    ``G diag(r^2) G^T * n / (n - p)``, with ``G = A Xs`` (batch or 1, asked, channels), ``A`` the
    rows of the inverse normal matrix of those unknowns, and ``r`` the residuals. It follows each
    channel's own noise (Poisson counts, or whatever the data hold) and needs no noise model or
    gain. Only the rows asked for are computed: with fine structure there are far more unknowns
    (spline coefficients) than intensities. Without a low loss ``G`` is the same for every pixel
    and is computed once."""
    residual = target - (np.swapaxes(Xs, -1, -2) @ solution[..., None])[..., 0]
    n, p = target.shape[-1], solution.shape[-1]
    return (G * (residual**2)[:, None, :]) @ np.swapaxes(G, -1, -2) * (n / max(n - p, 1))


#: Eigenvalues of a normal matrix below this many times (channels x machine epsilon) of its
#: largest are taken as zero (:func:`_normal_equations`).
ROUNDING_FACTOR = 10.0


def _normal_equations(X):
    """For design matrices ``X`` (batch, unknowns, channels): the pseudo-inverse of the normal
    matrix of the unit-norm columns, those columns, and the norms (the least-squares solution
    for data ``y`` is ``inverse @ (Xs @ y) / norms``).

    Designs with fine structure are often rank-deficient: some combination of an edge's spline
    coefficients vanishes on the fitted channels. Forming the normal matrix rounds such zero
    eigenvalues to about (channels x machine epsilon) of the largest, so eigenvalues below
    :data:`ROUNDING_FACTOR` times that are dropped. NumPy's default cut (1e-15 of the largest)
    lies inside that rounding, so whether such an eigenvalue was inverted (to about 1e15) came
    down to rounding: with a low loss it spoilt some pixels' fits (O up to 35 % off in the test
    image of ``bench_quantify.py``), and with NumPy 2.5's LAPACK also the search for the
    background's exponent."""
    norms = np.linalg.norm(X, axis=-1)
    norms[norms == 0] = 1.0
    Xs = X / norms[..., None]  # unit columns: the normal equations stay well conditioned
    cut = ROUNDING_FACTOR * X.shape[-1] * np.finfo(Xs.dtype).eps
    return np.linalg.pinv(Xs @ np.swapaxes(Xs, 1, 2), cut, hermitian=True), Xs, norms


def _store(model, unknowns, result, keep, nav_shape, std=None):
    """The fitted values into the parameters' maps (pixels left out: unchanged), as HyperSpy's linear
    ``multifit`` stores them: fixed parameters at their value (the same in every pixel), twinned
    ones through their twin functions, spline coefficients per unit intensity; the free linear
    parameters' standard errors (``std``, as ``result``) into ``map["std"]``, NaN elsewhere."""
    keep = keep.reshape(nav_shape)

    def put(p, values, errors=np.nan):
        new = p.map["values"].copy()
        new[keep] = values
        p.map["values"] = new
        std_map = p.map["std"].copy()
        std_map[keep] = errors
        p.map["std"] = std_map
        p.map["is_set"] = p.map["is_set"] | keep

    scalars = [u[0] for u in unknowns if u[1] is None]
    fitted = {p: result[:, i].reshape(nav_shape)[keep] for i, p in enumerate(scalars)}
    for i, p in enumerate(scalars):
        put(p, fitted[p], np.nan if std is None else std[:, i].reshape(nav_shape)[keep])
    splines = {}
    for i, (p, k, *master) in enumerate(unknowns):
        if k is not None:
            intensity = fitted[master[0]]
            d = result[:, i].reshape(nav_shape)[keep]
            splines.setdefault(p, np.zeros(d.shape + (p._number_of_elements,)))[:, k] = np.divide(
                d, intensity, out=np.zeros_like(d), where=intensity != 0)
    for p, values in splines.items():
        put(p, values)
    done = set(scalars) | set(splines)
    every = [p for c in model for p in c.parameters]
    for p in every:
        if p.twin is None and p not in done:
            put(p, p.value)
            done.add(p)
    pending = [p for p in every if p.twin is not None and p not in done]
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
