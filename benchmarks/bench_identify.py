"""Speed of element identification, preprocessing included.

Three figures, each printed as a table row:

1. ``throughput``: spectra per second of the model/ensemble on random
   spectra, preprocessing included (numpy arrays, no HyperSpy; on a CUDA
   device the preprocessing runs on the GPU, as in the front end);
2. ``SI 100x100x2048``: ``identify_elements`` end to end on an eager
   HyperSpy spectrum image (issue 6's target: <= 10 s on 2 CPU cores);
3. ``lazy 512x512x2048`` (with ``--lazy``): a lazy spectrum image that is
   never in memory, processed block by block through dask; wall time and
   peak resident memory. ``--lazy-energy-chunk 64`` stores it in chunks of
   64 channels (about 64 MB each, as many rows as fit) instead of whole
   spectra, as some files are: the blocks then have to be put together
   along the energy axis first.

``--batch-sweep 128 256 1024`` instead times the networks alone (no
preprocessing) at each batch size, the sizes alternating over
``--repeats`` passes of ``--n`` spectra, and prints each size's median
and every pass: how ``inference.CPU_BATCH_SIZE`` was chosen.

``--line-fit 5 4096`` instead times the white-line fit that
``identify_elements`` runs where Co/Ba or Cu/Pr is detected
(``line_ratios.fit_line_ratio`` for the Co L3/L2 and Ba M5/M4 lines) on that many spectra
of Poisson counts on the network grid: the first call in the process and
the median of five more. Run on an older checkout
(``PYTHONPATH=<checkout> python benchmarks/bench_identify.py --line-fit ...``)
to compare.

By default it measures the shipped ensemble. ``--untrained unet:compact vit:compact``
builds untrained networks of those architectures instead: weights do not
change speed, so this measures any architecture before training. Run::

    python benchmarks/bench_identify.py [--weights DIR | --untrained ARCH:PRESET ...]
                                        [--device auto] [--lazy [--lazy-energy-chunk N]]
    python benchmarks/bench_identify.py --device cpu --batch-sweep 128 256 512 1024 2048
    python benchmarks/bench_identify.py --line-fit 5 4096
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far, in GiB (Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def build_untrained(specs, device):
    """An in-memory ensemble of untrained networks, e.g. ``["unet:compact"]``."""
    from hyperspy_eelsid.networks import build_model
    from hyperspy_eelsid.networks.ensemble import Ensemble

    members = []
    for spec in specs:
        arch, _, preset = spec.partition(":")
        members.append(build_model(arch, preset=preset or "compact").to(device).eval())
    ensemble = Ensemble(members, threshold=0.5)
    ensemble.name = "untrained " + "+".join(specs)
    return ensemble


def _spectrum_image(shape, n_channels, seed=0):
    rng = np.random.default_rng(seed)
    energy = 300.0 + 0.5 * np.arange(n_channels)
    background = 1e4 * (energy / energy[0]) ** -3.0
    data = rng.poisson(background, shape + (n_channels,)).astype(np.float32)
    return energy, data


def batch_sweep(model, device, sizes, n, repeats):
    """Spectra/s of ``model`` alone at each batch size, the sizes alternating, ``repeats`` passes each."""
    import torch

    x = torch.rand(n, 3072, device=device)

    def one_pass(size):
        with torch.inference_mode():
            t = time.perf_counter()
            for i in range(0, n, size):
                model.predict_proba(x[i : i + size])
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            return n / (time.perf_counter() - t)

    one_pass(sizes[0])  # warm-up
    speeds = {size: [] for size in sizes}
    for _ in range(repeats):
        for size in sizes:
            speeds[size].append(one_pass(size))
    print(f"{'batch':>6} {'median spectra/s':>17}  every pass")
    for size, v in speeds.items():
        print(f"{size:>6} {np.median(v):>17.0f}  {' '.join(f'{a:.0f}' for a in v)}")
    return speeds


def _checks_run(signal):
    """Which of identify_elements' checks ran on ``signal`` (they read the raw spectra again)."""
    summary = signal.identification
    pairs = ", ".join("/".join(c["pair"]) for c in summary.white_lines) or "none"
    return f"{'':<4}checks run: white lines {pairs}; Sc / N {'yes' if summary.sc_n else 'no'}"


def line_fit(sizes, repeats=5):
    """Seconds of the white-line fit of the Co/Ba lines on ``sizes`` spectra: first call, median."""
    from hyperspy_eelsid.line_ratios import _fit_position, coincident_line_pairs, fit_line_ratio

    first_ev, splitting_ev = _fit_position(*coincident_line_pairs()[0])  # as white_line_verdicts fits Co / Ba
    rng = np.random.default_rng(0)
    print(f"{'white-line fit':<16} {'spectra':>8} {'first s':>9} {'median s':>9}")
    for n in sizes:
        spectra = rng.poisson(1000.0, size=(n, 3072)).astype(float)
        times = []
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            fit_line_ratio(spectra, first_ev, splitting_ev)
            times.append(time.perf_counter() - t0)
        print(f"{'Co / Ba lines':<16} {n:8d} {times[0]:9.3f} {float(np.median(times[1:])):9.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None, help="model or ensemble (default: shipped ensemble)")
    parser.add_argument("--untrained", nargs="+", default=None, metavar="ARCH:PRESET")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--n", type=int, default=8192, help="spectra for the throughput figure")
    parser.add_argument("--lazy", action="store_true", help="also run the 512x512x2048 lazy spectrum image")
    parser.add_argument("--lazy-shape", type=int, nargs=3, default=[512, 512, 2048])
    parser.add_argument("--lazy-energy-chunk", type=int, default=None, metavar="N",
                        help="store the lazy image in chunks of N channels (default: whole spectra)")
    parser.add_argument("--batch-sweep", type=int, nargs="+", default=None, metavar="SIZE",
                        help="time the networks alone at these batch sizes instead")
    parser.add_argument("--repeats", type=int, default=5, help="passes per size for --batch-sweep")
    parser.add_argument("--line-fit", type=int, nargs="+", default=None, metavar="N",
                        help="time the white-line fit on N spectra instead")
    args = parser.parse_args(argv)
    if args.line_fit:
        return line_fit(args.line_fit)

    import torch

    from hyperspy_eelsid import inference
    from hyperspy_eelsid.preprocessing import EnergyAxis

    device = inference.resolve_device(args.device)
    if args.untrained:
        model = build_untrained(args.untrained, device)
        inference._CACHE[(None, device)] = model  # the front end will use it as the default
        weights = None
    else:
        weights = args.weights
        model = inference.load_predictor_model(weights, device=device)
    predictor = inference.Predictor(weights, device=device, batch_size=args.batch_size, model=model)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {predictor.name} ({n_params / 1e6:.2f} M parameters), device {device}, "
          f"batch {predictor.batch_size}, torch threads {torch.get_num_threads()}")
    if args.batch_sweep:
        batch_sweep(model, device, args.batch_sweep, args.n, args.repeats)
        return
    print(f"{'benchmark':<22} {'spectra':>9} {'time s':>8} {'spectra/s':>10} {'peak RSS GiB':>12}")

    # 1. throughput, preprocessing included (on the GPU for a CUDA device), in
    # the front end's blocks of batch_size spectra
    energy, data = _spectrum_image((args.n,), 2048)
    axis = EnergyAxis(energy)
    predictor.identify_block(data[:256], axis)  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    step = predictor.batch_size
    probs = np.concatenate([predictor.identify_block(data[i : i + step], axis)[0]
                            for i in range(0, args.n, step)])
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    assert probs.shape == (args.n, 80)
    print(f"{'throughput':<22} {args.n:9d} {dt:8.2f} {args.n / dt:10.0f} {peak_rss_gib():12.2f}")

    # 2. identify_elements on a 100 x 100 x 2048 spectrum image
    import hyperspy.api as hs

    energy, data = _spectrum_image((100, 100), 2048, seed=1)
    s = hs.signals.Signal1D(data)
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = float(energy[0]), 0.5, "eV"
    s.set_signal_type("EELS_ID")
    t0 = time.perf_counter()
    s.identify_elements(weights=weights, device=device, batch_size=args.batch_size,
                        show_progressbar=False, print_summary=False)
    dt = time.perf_counter() - t0
    print(f"{'SI 100x100x2048':<22} {10000:9d} {dt:8.2f} {10000 / dt:10.0f} {peak_rss_gib():12.2f}")
    print(_checks_run(s))

    # 3. lazy spectrum image, never in memory
    if args.lazy:
        import dask.array as da

        ny, nx, n = args.lazy_shape
        n_chunk = min(n, args.lazy_energy_chunk or n)
        chunk_rows = min(ny, max(1, 64 * 2**20 // (nx * n_chunk * 4)))  # ~64 MB input chunks
        rng = da.random.default_rng(2)
        lazy_data = rng.poisson(1000.0, size=(ny, nx, n), chunks=(chunk_rows, nx, n_chunk)).astype(np.float32)
        lazy = hs.signals.Signal1D(lazy_data).as_lazy()
        ax = lazy.axes_manager.signal_axes[0]
        ax.offset, ax.scale, ax.units = 300.0, 0.5, "eV"
        lazy.set_signal_type("EELS_ID")
        t0 = time.perf_counter()
        p = lazy.identify_elements(weights=weights, device=device, batch_size=args.batch_size,
                                   show_progressbar=False, print_summary=False)
        dt = time.perf_counter() - t0
        assert p._lazy
        n_spectra = ny * nx
        label = f"lazy {ny}x{nx}x{n}" + (f" /{n_chunk}" if n_chunk < n else "")
        print(f"{label:<22} {n_spectra:9d} {dt:8.2f} {n_spectra / dt:10.0f} {peak_rss_gib():12.2f}")
        print(_checks_run(lazy))


if __name__ == "__main__":
    main()
