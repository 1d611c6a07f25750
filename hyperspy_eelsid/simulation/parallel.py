"""Simulate batches in worker processes, one torch thread each.

Many of the simulator's steps are too small for torch's intra-op threads
to keep two cores busy (two threads give about 1.6 times the rate of one on
the 2-core development machine). Separate processes with one thread each
simulate separate batches instead, and scale with the cores.

Batch ``i`` uses the seed :func:`~hyperspy_eelsid.simulation.simulator.batch_seed`
``(seed, i)`` in whichever process it runs, and a CPU batch does not depend on
the number of torch threads, so the batches are the same as those of
:meth:`Simulator.batches <hyperspy_eelsid.simulation.simulator.Simulator.batches>`
and come back in the same order. The pool uses the ``spawn`` start method (no
fork of a process whose OpenMP threads are running); each worker loads the GOS
tables once.
"""

from __future__ import annotations

import collections
import itertools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .config import SimulationConfig

__all__ = ["parallel_batches"]

_WORKER = {}


def _init_worker(config_dict, gos_file):
    import torch

    from ..physics.cross_sections import load_gosh
    from .simulator import Simulator

    torch.set_num_threads(1)
    config = SimulationConfig.from_dict(config_dict)
    _WORKER["sim"] = Simulator(config, device="cpu", database=load_gosh(gos_file or config.gos_file))


def _simulate(size, batch_seed):
    return _WORKER["sim"].simulate(size, seed=batch_seed).arrays()


def parallel_batches(n: int, seed: int = 0, batch_size: int = 1024, workers: int = 2,
                     config: SimulationConfig | None = None, gos_file=None):
    """Yield the batches of ``n`` simulated spectra, simulated in ``workers`` processes.

    Parameters
    ----------
    n : int
        Number of spectra.
    seed : int
        Run seed (batch ``i`` uses ``batch_seed(seed, i)``).
    batch_size : int
        Spectra per batch (the last batch may be smaller).
    workers : int
        Worker processes (>= 1), each with one torch thread.
    config : SimulationConfig, optional
        Default Table 1.
    gos_file : str, optional
        GOSH file (default ``config.gos_file`` or the package's table).

    Yields
    ------
    spectra : ndarray
        float32 ``(b, 3072)``.
    labels : ndarray
        uint8 ``(b, 80)``.
    params : dict of ndarray
        The drawn parameters, as in :class:`SimulatedBatch`.

    Notes
    -----
    At most ``2 * workers`` batches are in flight, which bounds the memory.
    """
    from .simulator import batch_seed

    if n < 0 or batch_size < 1:
        raise ValueError("need n >= 0 and batch_size >= 1")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    config = config or SimulationConfig()
    jobs = [(min(batch_size, n - a), batch_seed(seed, i)) for i, a in enumerate(range(0, n, batch_size))]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(config.to_dict(), None if gos_file is None else str(gos_file))) as pool:
        jobs = iter(jobs)
        pending = collections.deque(pool.submit(_simulate, *job) for job in itertools.islice(jobs, 2 * workers))
        while pending:
            spectra, labels, params = pending.popleft().result()
            nxt = next(jobs, None)
            if nxt is not None:
                pending.append(pool.submit(_simulate, *nxt))
            yield np.asarray(spectra), np.asarray(labels), params
