"""Simulator throughput: prints spectra per second.

Usage::

    python benchmarks/bench_simulate.py [--device cuda] [--batch-size 1024]
        [--batches 5] [--threads N] [--workers N] [--gos-file FILE]
        [--config configs/simulation/realistic_v7.json]

``--config`` times a simulator setting other than Table 1 (a JSON file of
overrides, as for ``eelsid simulate --config``).

``--workers N`` (CPU) simulates the batches in N processes of one torch
thread each (``eelsid simulate --workers``); the rate counts the batches
after each worker has finished one warm-up batch.

Without the package's GOSH table (``hyperspy_eelsid/data/eelsid_hfs.gosh``)
pass ``--gos-file``; ``--fixture`` writes a small hydrogenic K/L table with
exSpy (test-only physics, but the same amount of work per edge).
"""

from __future__ import annotations

import argparse
import time


def main(argv=None):
    import torch

    from hyperspy_eelsid.physics.cross_sections import GOSHDatabase, load_gosh
    from hyperspy_eelsid.simulation.simulator import Simulator

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--batches", type=int, default=5, help="timed batches (after one warm-up)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--gos-file", default=None)
    p.add_argument("--fixture", action="store_true", help="use a hydrogenic K/L test table")
    p.add_argument("--workers", type=int, default=1, help="CPU worker processes (one thread each)")
    p.add_argument("--config", default=None, help="JSON file of simulator settings (default: Table 1)")
    a = p.parse_args(argv)
    a.config = _config(a.config)
    if a.workers > 1:
        return _bench_workers(a)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.fixture:
        import sys
        import tempfile
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.test_cross_sections_fixture import DEFAULT_EDGES, write_gosh

        path = write_gosh(tempfile.mktemp(suffix=".gosh"), edges=DEFAULT_EDGES, n_energy=128, n_q=128)
        db = GOSHDatabase(path)
    else:
        db = load_gosh(a.gos_file)
    t0 = time.perf_counter()
    sim = Simulator(a.config, device=a.device, database=db)
    setup = time.perf_counter() - t0

    def sync():
        if sim.device.type == "cuda":
            torch.cuda.synchronize()

    sim.simulate(a.batch_size, seed=0)
    sync()
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(a.batches):
        sim.simulate(a.batch_size, seed=i + 1)
    sync()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = a.batches * a.batch_size
    print(f"device={sim.device} threads={torch.get_num_threads()} batch={a.batch_size} "
          f"tables={len(sim.xs.tables)} elements={len(sim.catalogue.elements)} "
          f"setup={setup:.1f}s")
    print(f"{n / dt:,.0f} spectra/s ({n} spectra in {dt:.2f} s wall)")
    # on a shared machine the wall-clock rate depends on the other load; the
    # process CPU time tells how much work a spectrum takes
    print(f"{n / cpu:,.0f} spectra per CPU-second ({cpu:.2f} s CPU in this process)")


def _config(path):
    from hyperspy_eelsid.simulation.config import SimulationConfig, read_overrides

    return SimulationConfig() if path is None else SimulationConfig.from_dict(read_overrides(path))


def _bench_workers(a):
    from hyperspy_eelsid.simulation.parallel import parallel_batches

    if a.fixture or a.device != "cpu":
        raise SystemExit("--workers runs on the CPU with the package's table or --gos-file")
    warm = a.workers  # the first batch of each worker includes its start-up
    stamps = []
    t0 = time.perf_counter()
    for spectra, _, _ in parallel_batches((warm + a.batches) * a.batch_size, seed=0,
                                          batch_size=a.batch_size, workers=a.workers, config=a.config,
                                          gos_file=a.gos_file):
        stamps.append(time.perf_counter())
    n = a.batches * a.batch_size
    dt = stamps[-1] - stamps[warm - 1]
    print(f"device=cpu workers={a.workers} (1 torch thread each) batch={a.batch_size} "
          f"start-up and warm-up={stamps[warm - 1] - t0:.1f}s")
    print(f"{n / dt:,.0f} spectra/s ({n} spectra in {dt:.2f} s wall)")


if __name__ == "__main__":
    main()
