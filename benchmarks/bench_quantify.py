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

Each row prints the wall time, the spectra per second, the peak resident
memory of the process so far, and the median and 95th percentile over
pixels of abs(fitted / true - 1) over all elements. Run::

    python benchmarks/bench_quantify.py [--eager-shape 100 100 2048]
                                        [--lazy-shape 512 512 2048] [--no-lazy]
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore", message=r"Importing `\w+` from `hyperspy\._signals")  # exSpy's imports

ELEMENTS = ("Ba", "La", "Mn", "O", "Sr", "Ti")
#: Edge intensity of each element (counts / barn) in each of the three layers.
LAYERS = {
    "Ba": (0.0, 4e3, 0.0), "La": (4e3, 0.0, 0.0), "Mn": (4e3, 0.0, 0.0),
    "O": (1.2e4, 1.2e4, 1.2e4), "Sr": (0.0, 0.0, 4e3), "Ti": (0.0, 4e3, 4e3),
}
LAYER_WIDTH = 16  # columns


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far, in GiB (Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _template(n_channels):
    """One spectrum signal (to build the images from) and the model curve of each component."""
    import hyperspy.api as hs

    from hyperspy_eelsid.signals.quantification import create_model

    s = hs.signals.Signal1D(np.ones(n_channels))
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units, ax.name = 400.0, 1.0, "eV", "Energy loss"
    s.set_signal_type("EELS_ID")
    s.set_microscope_parameters(beam_energy=200, convergence_angle=10, collection_angle=30)
    s.add_elements(list(ELEMENTS))
    m = create_model(s)
    curves = {}
    for component in m:
        if getattr(component, "element", None) and component.intensity.twin is None:
            component.intensity.value = 1.0
    m[0].A.value, m[0].r.value = 1e4 * 400.0**3, 3.0  # 1e4 counts at 400 eV
    for component in m:
        key = "background" if component is m[0] else getattr(component, "element", None)
        if key is None or (key != "background" and component.intensity.twin is not None):
            continue
        members = [component] if key == "background" else [c for c in m if getattr(c, "element", None) == key]
        curves[key] = m._get_current_data(component_list=members)
    return s, curves


def _truth(nx):
    layer = (np.arange(nx) // LAYER_WIDTH) % 3
    return {el: np.asarray(LAYERS[el])[layer] for el in ELEMENTS}


def _block(curves, truth, seed, block_info=None):
    """Counts of the rows of the image that dask asks for (all columns), seeded by their position."""
    first, last = block_info[None]["array-location"][0]
    rng = np.random.default_rng([seed, first])
    clean = curves["background"] + sum(truth[el][:, None] * curves[el] for el in ELEMENTS)
    return rng.poisson(np.broadcast_to(clean, (last - first,) + clean.shape)).astype(np.float64)


def spectrum_image(shape, lazy, seed=0):
    """A synthetic image of ``shape`` (rows, columns, channels) and the true intensity maps."""
    import dask.array as da

    ny, nx, n = shape
    template, curves = _template(n)
    truth = _truth(nx)
    rows = max(1, 4096 // nx)
    data = da.map_blocks(_block, curves, truth, seed, dtype=np.float64,
                         chunks=(tuple(min(rows, ny - a) for a in range(0, ny, rows)), (nx,), (n,)))
    axes = [{"size": ny, "name": "y"}, {"size": nx, "name": "x"},
            template.axes_manager.signal_axes[0].get_axis_dictionary()]
    s = template.__class__(data if lazy else data.compute(), axes=axes,
                           metadata=template.metadata.as_dictionary())
    return (s.as_lazy() if lazy else s), truth


def run(shape, lazy):
    s, truth = spectrum_image(shape, lazy)
    n_spectra = shape[0] * shape[1]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        maps = s.quantify_elements(show_progressbar=False)
    dt = time.perf_counter() - t0
    errors = []
    for m in maps:  # the pixels of the layers that hold the element
        true = truth[m.metadata.General.title]
        errors.append(np.abs(m.data[:, true > 0] / true[true > 0] - 1).ravel())
    errors = np.concatenate(errors)
    name = f"{'lazy' if lazy else 'eager'} {'x'.join(map(str, shape))}"
    print(f"{name:<20} {n_spectra:9d} {dt:8.2f} {n_spectra / dt:10.0f} {peak_rss_gib():12.2f} "
          f"{np.median(errors):10.4f} {np.percentile(errors, 95):10.4f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eager-shape", type=int, nargs=3, default=[100, 100, 2048])
    parser.add_argument("--lazy-shape", type=int, nargs=3, default=[512, 512, 2048])
    parser.add_argument("--no-lazy", action="store_true")
    args = parser.parse_args(argv)
    print(f"{'benchmark':<20} {'spectra':>9} {'time s':>8} {'spectra/s':>10} {'peak RSS GiB':>12} "
          f"{'median err':>10} {'p95 err':>10}")
    run(tuple(args.eager_shape), lazy=False)
    if not args.no_lazy:
        run(tuple(args.lazy_shape), lazy=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
