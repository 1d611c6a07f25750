"""Speed, memory and accuracy of ``quantify_elements`` on synthetic spectrum images.

The spectrum images are made from exSpy's own model with our GOS tables: a
power-law background and the edges of La, Mn, O, Ba, Ti and Sr (the demo's
superlattice elements), their amounts changing in layers across the scan,
with Poisson noise. The fit therefore has the right model, and the figures
measure the method (exponent from the mean spectrum, then linear least
squares in every pixel), its speed and its memory.

Two rows:

1. ``eager HxWxN``: an in-memory spectrum image (default 100 x 100 x 2048);
2. ``lazy HxWxN``: a lazy one (default 512 x 512 x 2048, 2 GiB in float64)
   whose blocks are made by dask when read, so it is never in memory; the
   fit reads it block by block.

Each row runs in a fresh Python process and prints the wall time, the
spectra per second, the peak resident memory of that process (making the
data included), and the median and 95th percentile over
pixels of abs(fitted / true - 1) over all elements. Run::

    python benchmarks/bench_quantify.py [--eager-shape 100 100 2048]
                                        [--lazy-shape 512 512 2048] [--no-lazy]
                                        [--low-loss [--hyperspy-shape 20 20 2048]]
                                        [--fine-structure [--fs-low-loss-shape 50 50 2048]]

With ``--low-loss`` the same images are made again with their edges
convolved with a unit-area low loss (zero-loss peak and a plasmon holding
20-70 % of the electrons, varying from pixel to pixel), and fitted with it
(rows ``eager+ll`` and ``lazy+ll``). ``--hyperspy-shape H W N`` adds a row
``eager+ll HS``: an image of that shape fitted the same way except that
HyperSpy's own ``multifit`` solves the convolved model, pixel by pixel,
instead of :func:`hyperspy_eelsid.signals.linear_fit.fit_linear`.
``--fine-structure`` adds a row ``eager+fs``: the in-memory image fitted
with ``quantify_elements(fine_structure=True)``; with ``--low-loss`` also a
row ``eager+ll+fs``, an image of ``--fs-low-loss-shape`` (default 50 x 50 x
2048) convolved with its low loss and fitted with both.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_identify import peak_rss_gib  # noqa: E402

warnings.filterwarnings("ignore", message=r"Importing `\w+` from `hyperspy\._signals")  # exSpy's imports

ELEMENTS = ("Ba", "La", "Mn", "O", "Sr", "Ti")
#: Edge intensity of each element (counts / barn) in each of the three layers.
LAYERS = {
    "Ba": (0.0, 4e3, 0.0), "La": (4e3, 0.0, 0.0), "Mn": (4e3, 0.0, 0.0),
    "O": (1.2e4, 1.2e4, 1.2e4), "Sr": (0.0, 0.0, 4e3), "Ti": (0.0, 4e3, 4e3),
}
LAYER_WIDTH = 16  # columns


#: Low-loss axis (eV) of the ``--low-loss`` rows: a zero-loss peak and a plasmon at 22 eV.
LOW_LOSS_AXIS = np.arange(-20.0, 80.0)


def _template(n_channels, low_loss=False):
    """One spectrum signal (to build the images from) and each component's curve: the background
    on the energy axis, each element's edges (intensity 1) on the energy axis or, with
    ``low_loss``, on exSpy's convolution axis (to be convolved with each pixel's low loss)."""
    import hyperspy.api as hs

    from hyperspy_eelsid.signals.quantification import create_model

    s = hs.signals.Signal1D(np.ones(n_channels))
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units, ax.name = 400.0, 1.0, "eV", "Energy loss"
    s.set_signal_type("EELS_ID")
    s.set_microscope_parameters(beam_energy=200, convergence_angle=10, collection_angle=30)
    s.add_elements(list(ELEMENTS))
    m = create_model(s, low_loss=_low_loss_signal(np.array(0.5)) if low_loss else None)
    for component in m:
        if getattr(component, "element", None) and component.intensity.twin is None:
            component.intensity.value = 1.0
    x = m._convolution_axis if low_loss else ax.axis
    curves = {"background": 1e4 * (ax.axis / 400.0) ** -3.0}  # 1e4 counts at 400 eV
    for element in ELEMENTS:
        curves[element] = sum(c.function(x) for c in m if getattr(c, "element", None) == element)
    return s, curves


def _plasmon_fraction(first, rows, nx):
    """Share of the electrons in the plasmon, 0.2-0.7, varying from pixel to pixel."""
    index = np.arange(first * nx, (first + rows) * nx).reshape(rows, nx)
    return 0.2 + 0.5 * (index % 97) / 96.0


def _low_loss_counts(fraction):
    """Unit-area low-loss spectra for an array of plasmon fractions (last axis: LOW_LOSS_AXIS)."""
    zlp = np.exp(-0.5 * LOW_LOSS_AXIS**2)
    plasmon = np.exp(-0.5 * ((LOW_LOSS_AXIS - 22.0) / 5.0) ** 2)
    f = fraction[..., None]
    return (1 - f) * zlp / zlp.sum() + f * plasmon / plasmon.sum()


def _low_loss_signal(fraction):
    import hyperspy.api as hs

    ll = hs.signals.Signal1D(_low_loss_counts(fraction))
    ll.set_signal_type("EELS")
    ax = ll.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units, ax.name = LOW_LOSS_AXIS[0], 1.0, "eV", "Energy loss"
    return ll


def _truth(nx):
    layer = (np.arange(nx) // LAYER_WIDTH) % 3
    return {el: np.asarray(LAYERS[el])[layer] for el in ELEMENTS}


def _block(curves, truth, seed, low_loss, block_info=None):
    """Counts of the rows of the image that dask asks for (all columns), seeded by their position;
    with ``low_loss``, the edges convolved with each pixel's low loss."""
    first, last = block_info[None]["array-location"][0]
    rows, nx = last - first, truth["O"].size
    rng = np.random.default_rng([seed, first])
    edges = sum(truth[el][:, None] * curves[el] for el in ELEMENTS)  # (nx, channels or conv. axis)
    if low_loss:
        ll = _low_loss_counts(_plasmon_fraction(first, rows, nx))
        n_out, n_ll = curves["background"].size, LOW_LOSS_AXIS.size
        n_fft = edges.shape[-1] + n_ll - 1
        full = np.fft.irfft(np.fft.rfft(ll, n_fft) * np.fft.rfft(edges, n_fft)[None], n_fft)
        edges = full[..., n_ll - 1 : n_ll - 1 + n_out]  # np.convolve(edges, ll, "valid"), as exSpy
    clean = curves["background"] + np.broadcast_to(edges, (rows, nx, curves["background"].size))
    return rng.poisson(np.maximum(clean, 0.0)).astype(np.float64)


def spectrum_image(shape, lazy, low_loss=False, seed=0):
    """A synthetic image of ``shape`` (rows, columns, channels), the true intensity maps, and
    (with ``low_loss``) its low-loss image."""
    import dask.array as da

    ny, nx, n = shape
    template, curves = _template(n, low_loss)
    truth = _truth(nx)
    rows = max(1, 4096 // nx)
    row_chunks = tuple(min(rows, ny - a) for a in range(0, ny, rows))
    data = da.map_blocks(_block, curves, truth, seed, low_loss, dtype=np.float64,
                         chunks=(row_chunks, (nx,), (n,)))
    axes = [{"size": ny, "name": "y"}, {"size": nx, "name": "x"},
            template.axes_manager.signal_axes[0].get_axis_dictionary()]
    s = template.__class__(data if lazy else data.compute(), axes=axes,
                           metadata=template.metadata.as_dictionary())
    ll = None
    if low_loss:
        ll = _low_loss_signal(_plasmon_fraction(0, ny, nx))
        if lazy:
            ll = ll.as_lazy()
            ll.data = ll.data.rechunk((row_chunks, nx, LOW_LOSS_AXIS.size))
    return (s.as_lazy() if lazy else s), truth, ll


def _hyperspy_per_pixel(model, mask=None, show_progressbar=False, covariance_of=()):
    """HyperSpy's own linear multifit, which solves a convolved model pixel by pixel (no covariance)."""
    model.multifit(optimizer="lstsq", show_progressbar=show_progressbar, mask=mask)
    return model, None


def run(shape, lazy, low_loss=False, hyperspy_fit=False, fine_structure=False):
    from hyperspy_eelsid.signals import quantification

    s, truth, ll = spectrum_image(shape, lazy, low_loss)
    n_spectra = shape[0] * shape[1]
    ours = quantification._fit_linear
    if hyperspy_fit:
        quantification._fit_linear = _hyperspy_per_pixel
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            maps = s.quantify_elements(low_loss=ll, show_progressbar=False, fine_structure=fine_structure)
    finally:
        quantification._fit_linear = ours
    dt = time.perf_counter() - t0
    errors = []
    for m in maps:  # the pixels of the layers that hold the element
        true = truth[m.metadata.General.title]
        errors.append(np.abs(m.data[:, true > 0] / true[true > 0] - 1).ravel())
    errors = np.concatenate(errors)
    name = f"{'lazy' if lazy else 'eager'}{'+ll' if low_loss else ''}{'+fs' if fine_structure else ''}" \
           f"{' HS' if hyperspy_fit else ''} " \
           f"{'x'.join(map(str, shape))}"
    print(f"{name:<20} {n_spectra:9d} {dt:8.2f} {n_spectra / dt:10.0f} {peak_rss_gib():12.2f} "
          f"{np.median(errors):10.4f} {np.percentile(errors, 95):10.4f}")


def _in_child(shape, lazy, low_loss=False, hyperspy_fit=False, fine_structure=False):
    """Run one row in a fresh Python process, so that its peak memory is its own."""
    flags = ["--row", *map(str, shape)] + ["--lazy"] * lazy + ["--low-loss"] * low_loss \
        + ["--hyperspy-fit"] * hyperspy_fit + ["--fine-structure"] * fine_structure
    done = subprocess.run([sys.executable, __file__, *flags], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"row {flags} failed:\n{done.stderr}")
    print(done.stdout.strip().splitlines()[-1], flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eager-shape", type=int, nargs=3, default=[100, 100, 2048])
    parser.add_argument("--lazy-shape", type=int, nargs=3, default=[512, 512, 2048])
    parser.add_argument("--no-lazy", action="store_true")
    parser.add_argument("--low-loss", action="store_true",
                        help="also the same images convolved with a low loss that varies per pixel, "
                             "fitted with it")
    parser.add_argument("--hyperspy-shape", type=int, nargs=3, default=None,
                        help="with --low-loss: also an eager image of this shape fitted by HyperSpy's own "
                             "multifit, pixel by pixel (row 'eager+ll HS')")
    parser.add_argument("--fine-structure", action="store_true",
                        help="also the in-memory image fitted with fine_structure=True (row 'eager+fs'); "
                             "with --low-loss also an image of --fs-low-loss-shape fitted with both "
                             "(row 'eager+ll+fs')")
    parser.add_argument("--fs-low-loss-shape", type=int, nargs=3, default=[50, 50, 2048],
                        help="shape of the image fitted with fine structure and a low loss (slower: one "
                             "least-squares problem of some 50 unknowns per pixel)")
    parser.add_argument("--row", type=int, nargs=3, help=argparse.SUPPRESS)  # one row, in this process
    parser.add_argument("--lazy", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hyperspy-fit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.row:
        run(tuple(args.row), lazy=args.lazy, low_loss=args.low_loss, hyperspy_fit=args.hyperspy_fit,
            fine_structure=args.fine_structure)
        return 0
    print(f"{'benchmark':<20} {'spectra':>9} {'time s':>8} {'spectra/s':>10} {'peak RSS GiB':>12} "
          f"{'median err':>10} {'p95 err':>10}")
    for low_loss in (False, True) if args.low_loss else (False,):
        _in_child(args.eager_shape, lazy=False, low_loss=low_loss)
        if not args.no_lazy:
            _in_child(args.lazy_shape, lazy=True, low_loss=low_loss)
    if args.low_loss and args.hyperspy_shape:
        _in_child(args.hyperspy_shape, lazy=False, low_loss=True, hyperspy_fit=True)
    if args.fine_structure:
        _in_child(args.eager_shape, lazy=False, fine_structure=True)
        if args.low_loss:
            _in_child(args.fs_low_loss_shape, lazy=False, low_loss=True, fine_structure=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
