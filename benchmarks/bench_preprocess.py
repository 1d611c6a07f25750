"""Time the preprocessing of a spectrum image onto the network grid.

Prints wall time, spectra per second and peak resident memory for a
synthetic Poisson spectrum image (default 256 x 256 x 2048, the size named in
issue 2) at several dispersions, for numpy input and block by block through
dask. ``--splice-check N`` instead times the gain-splice check alone on N
spectra (a power law with Poisson noise, 2,048 channels of 0.25 eV, no
splice): ``splice_onsets`` as it runs, with its quick screen, against its
sliding windows run on every spectrum (what it did before the screen). Run::

    python benchmarks/bench_preprocess.py [--shape 256 256 2048] [--threads 2]
    python benchmarks/bench_preprocess.py --splice-check 8192
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_identify import peak_rss_gib  # noqa: E402


def splice_check(n_spectra):
    """Seconds for the splice check of ``n_spectra`` spectra, screened and with the windows on all."""
    from hyperspy_eelsid import splices

    energy = 30.0 + 0.25 * np.arange(2048)
    rng = np.random.default_rng(0)
    data = rng.poisson(1000.0 * (energy / 50.0) ** -3.0 + 5.0, (n_spectra, energy.size)).astype(np.float32)
    t0 = time.perf_counter()
    onsets = splices.splice_onsets(data, energy)
    screened = time.perf_counter() - t0
    t0 = time.perf_counter()
    splices._windows(data, energy, 10.0, 10.0, 20.0)  # splice_onsets' default windows
    every = time.perf_counter() - t0
    assert np.isnan(onsets).all()
    passed = splices._may_step(data, energy, splices.SPLICE_FACTOR, 10.0, 10.0, 20.0).size
    print(f"splice check of {n_spectra} spectra x 2048 channels: {screened:.3f} s screened "
          f"({passed} passed the screen), {every:.3f} s with the sliding windows on every spectrum")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=[256, 256, 2048])
    parser.add_argument("--dispersions", type=float, nargs="+", default=[0.25, 1.0, 2.0])
    parser.add_argument("--chunk", type=int, default=32, help="dask rows per chunk")
    parser.add_argument("--splice-check", type=int, default=None, metavar="N",
                        help="time the gain-splice check alone on N spectra instead")
    args = parser.parse_args(argv)
    if args.splice_check:
        return splice_check(args.splice_check)

    import dask.array as da

    from hyperspy_eelsid.preprocessing import preprocess

    ny, nx, n = args.shape
    rng = np.random.default_rng(0)
    data = rng.poisson(200.0, (ny, nx, n)).astype(np.float32)
    print(f"spectrum image {ny} x {nx} x {n} float32 ({data.nbytes / 2**30:.2f} GiB)")
    print(f"{'input':>6} {'eV/ch':>6} {'time s':>7} {'spectra/s':>10} {'peak RSS GiB':>12}")
    for dispersion in args.dispersions:
        energy = 150.0 + dispersion * np.arange(n)
        preprocess(data[:1, :1], energy)  # build the resampling matrix once
        t0 = time.perf_counter()
        x, _ = preprocess(data, energy)
        dt = time.perf_counter() - t0
        print(f"{'numpy':>6} {dispersion:6.2f} {dt:7.2f} {ny * nx / dt:10.0f} {peak_rss_gib():12.2f}")
        del x
        lazy = da.from_array(data, chunks=(args.chunk, nx, n))
        t0 = time.perf_counter()
        x, _ = preprocess(lazy, energy)
        total = x.sum(axis=-1).compute()  # stream the blocks, keep nothing large
        dt = time.perf_counter() - t0
        assert np.isfinite(total).all()
        print(f"{'dask':>6} {dispersion:6.2f} {dt:7.2f} {ny * nx / dt:10.0f} {peak_rss_gib():12.2f}")


if __name__ == "__main__":
    main()
