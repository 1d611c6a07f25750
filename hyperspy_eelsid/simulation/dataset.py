"""Simulated datasets on disk (HDF5) and a torch ``Dataset`` that reads them.

File layout (all chunked, gzip-compressed):

``spectra``
    float32 ``(N, 3072)``, normalised spectra on the 0..3071 eV grid.
``labels``
    uint8 ``(N, 80)``, multi-hot in ``element_names`` order.
``params/<name>``
    float32 ``(N,)`` per drawn scalar (see ``PARAMETER_NAMES``) plus
    ``params/elements`` int16 ``(N, M)`` (element indices, -1 unused),
    ``params/anchor_onset_ev`` float32 and ``params/chemical_shift_ev`` int8
    ``(N, M)``.
``element_names``
    the 80 symbols.
root attributes
    ``config`` (JSON), ``version``, ``seed``, ``batch_size``, ``device``,
    ``gos_file``, ``n_spectra``.

Spectra are written batch by batch, so memory stays bounded by the batch.
"""

from __future__ import annotations

import json
import os
import sys
import time

import h5py
import numpy as np

from hyperspy_eelsid import elements as el
from hyperspy_eelsid._version import __version__
from hyperspy_eelsid.preprocessing import N_CHANNELS

from .config import SimulationConfig
from .simulator import Simulator

__all__ = ["write_dataset", "read_config", "SimulatedDataset"]

_INT_PARAMS = {"elements": np.int16, "chemical_shift_ev": np.int8}


class _Progress:
    def __init__(self, total, enabled, stream=sys.stderr):
        self.total, self.enabled, self.stream = total, enabled, stream
        self.t0 = time.perf_counter()

    def update(self, done):
        if not self.enabled:
            return
        frac = done / max(self.total, 1)
        rate = done / max(time.perf_counter() - self.t0, 1e-9)
        bar = "#" * int(30 * frac)
        self.stream.write(f"\r[{bar:<30}] {done}/{self.total} spectra ({rate:,.0f}/s)")
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def write_dataset(path, n: int, seed: int = 0, config: SimulationConfig | None = None,
                  device=None, batch_size: int = 1024, progress: bool = True,
                  database=None, chunk_rows: int = 256, workers: int = 1) -> str:
    """Simulate ``n`` spectra and stream them into an HDF5 file.

    Parameters
    ----------
    path : str or os.PathLike
        Output file. It is written under a temporary name beside it and
        renamed when complete, so an existing file is replaced only by a
        finished one (an interrupted run leaves it as it was).
    n : int
        Number of spectra.
    seed : int
        Run seed; batch ``i`` uses ``batch_seed(seed, i)``.
    config : SimulationConfig, optional
    device : str, optional
        ``"cpu"`` or ``"cuda"``.
    batch_size : int
        Spectra simulated at once (bounds memory).
    progress : bool
        Print a progress bar on stderr.
    database : GOSHDatabase, optional
        GOS tables (default: ``config.gos_file`` or the package's table).
    chunk_rows : int
        HDF5 chunk height.
    workers : int
        With more than 1 (CPU only), batches are simulated in that many
        worker processes of one torch thread each
        (:func:`~hyperspy_eelsid.simulation.parallel.parallel_batches`); the
        file is the same as with 1. The workers read the GOS tables from
        ``database.path`` with the package's onsets, so a ``database`` built
        with other ``onsets`` or ``elements`` needs ``workers=1``.

    Returns
    -------
    str
        ``path``.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    config = config or SimulationConfig()
    if workers > 1:
        import torch

        from ..physics.cross_sections import load_gosh
        from .parallel import parallel_batches

        if torch.device(device or "cpu").type != "cpu":
            raise ValueError("workers > 1 runs on the CPU; use workers=1 with a GPU device")
        db = database if database is not None else load_gosh(config.gos_file)
        source = parallel_batches(n, seed=seed, batch_size=batch_size, workers=workers,
                                  config=config, gos_file=db.path)
        device_name = "cpu"
    else:
        sim = Simulator(config, device=device, database=database)
        db, device_name = sim.database, str(sim.device)
        source = (b.arrays() for b in sim.batches(n, seed=seed, batch_size=batch_size))
    rows = max(1, min(chunk_rows, n))
    path = os.fspath(path)
    partial = f"{path}.partial-{os.getpid()}"
    try:
        _write(partial, n, seed, config, batch_size, db, device_name, source, rows, _Progress(n, progress))
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return path


def _write(path, n, seed, config, batch_size, db, device_name, source, rows, bar) -> None:
    """Stream the batches of ``source`` into a new HDF5 file ``path``."""
    # gzip level 1: 35 % faster to write than level 4 for 1 % more bytes (float32 spectra, shuffled)
    comp = dict(compression="gzip", compression_opts=1, shuffle=True)
    with h5py.File(path, "w") as h:
        spectra = h.create_dataset("spectra", (n, N_CHANNELS), np.float32, chunks=(rows, N_CHANNELS), **comp)
        labels = h.create_dataset("labels", (n, el.N_ELEMENTS), np.uint8, chunks=(rows, el.N_ELEMENTS), **comp)
        h.create_dataset("element_names", data=np.array(el.ELEMENTS, dtype="S2"))
        params = h.create_group("params")
        h.attrs.update({
            "config": config.to_json(), "version": __version__, "seed": int(seed),
            "batch_size": int(batch_size), "device": device_name,
            "gos_file": str(db.path), "n_spectra": int(n),
        })
        done = 0
        for batch_spectra, batch_labels, batch_params in source:
            b = batch_spectra.shape[0]
            spectra[done : done + b] = batch_spectra
            labels[done : done + b] = batch_labels
            for name, v in batch_params.items():
                if name not in params:
                    dtype = _INT_PARAMS.get(name, np.float32)
                    params.create_dataset(name, (n,) + v.shape[1:], dtype,
                                          chunks=(rows,) + v.shape[1:], **comp)
                params[name][done : done + b] = v
            done += b
            bar.update(done)


def read_config(path) -> SimulationConfig:
    """The configuration stored in a dataset file."""
    with h5py.File(path, "r") as h:
        return SimulationConfig.from_dict(json.loads(h.attrs["config"]))


try:  # torch is a hard dependency of the package, but keep the writer importable
    from torch.utils.data import Dataset as _TorchDataset
except ImportError:  # pragma: no cover
    _TorchDataset = object


class SimulatedDataset(_TorchDataset):
    """Read a simulated HDF5 dataset as ``(spectrum, label)`` float32 tensors.

    The file is opened lazily in each worker process, so the object can be
    used with ``torch.utils.data.DataLoader(num_workers > 0)``.

    Parameters
    ----------
    path : str or os.PathLike
    with_params : bool
        Also return the dict of drawn parameters of the spectrum.
    """

    def __init__(self, path, with_params: bool = False):
        self.path = os.fspath(path)
        self.with_params = with_params
        with h5py.File(self.path, "r") as h:
            if "spectra" not in h or "labels" not in h:
                raise ValueError(f"{self.path} is not a simulated dataset (no spectra/labels)")
            self._len = int(h["spectra"].shape[0])
            self.element_names = tuple(s.decode() for s in h["element_names"][()])
        self._h = None

    def __len__(self):
        return self._len

    def _file(self):
        if self._h is None:
            self._h = h5py.File(self.path, "r")
        return self._h

    def __getitem__(self, i):
        import torch

        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(i)
        h = self._file()
        x = torch.from_numpy(np.asarray(h["spectra"][i], dtype=np.float32))
        y = torch.from_numpy(np.asarray(h["labels"][i], dtype=np.float32))
        if not self.with_params:
            return x, y
        p = {k: torch.as_tensor(np.asarray(h["params"][k][i])) for k in h["params"]}
        return x, y, p

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_h"] = None
        return state
