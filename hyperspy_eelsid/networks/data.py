"""Training data plumbing: batch sources, HDF5 datasets, and a toy task.

The trainer (:mod:`hyperspy_eelsid.networks.training`) accepts either

* a **batch source**: any callable ``batch_source(step) -> (x, y)`` returning
  float32 tensors ``(B, 3072)`` (preprocessed spectra) and ``(B, 80)``
  (labels in {0, 1}); it must be deterministic in ``step`` for resumed runs to
  reproduce uninterrupted ones (the simulator provides one that draws fresh
  spectra every step); or
* a torch **Dataset** returning ``(x, y)`` pairs, e.g. :class:`HDF5Spectra`.

:class:`ToyEdgeSource` is a cheap stand-in with the same interface: crude
step-like edges at the tabulated onsets of the drawn elements on a power-law
background. It is for tests, smoke runs and the CLI before the simulator
lands, not for training shipped models.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from hyperspy_eelsid.elements import ELEMENTS, N_ELEMENTS, subshells
from hyperspy_eelsid.preprocessing import E_MIN_NETWORK, N_CHANNELS, finalise_on_grid

__all__ = ["HDF5Spectra", "InMemorySpectra", "ToyEdgeSource", "SimulatorSource", "fixed_batches",
           "fixed_set"]


class HDF5Spectra(Dataset):
    """Spectra and labels from an HDF5 file, read lazily.

    Parameters
    ----------
    path : str or Path
        HDF5 file.
    x_key, y_key : str
        Datasets of shape ``(N, 3072)`` (preprocessed spectra) and ``(N, 80)``
        (labels in {0, 1}, element order of
        :data:`hyperspy_eelsid.elements.ELEMENTS`).
    ignore_key : str, optional
        Optional boolean ``(N, 80)`` dataset of entries to leave out of the
        metrics (read by :meth:`ignore_mask`).

    Notes
    -----
    The file is opened on first access in each worker process, so the
    dataset can be used with a multi-worker ``DataLoader``.
    """

    def __init__(self, path, x_key: str = "spectra", y_key: str = "labels",
                 ignore_key: str = "ignore"):
        import h5py

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"HDF5 dataset {self.path} does not exist")
        self.x_key, self.y_key, self.ignore_key = x_key, y_key, ignore_key
        try:
            f = h5py.File(self.path, "r")
        except OSError as err:
            raise OSError(f"{self.path} is not an HDF5 file h5py can read ({err}); give the file "
                          "that `eelsid simulate` wrote") from None
        with f:
            for key in (x_key, y_key):
                if key not in f:
                    raise KeyError(f"{self.path} has no dataset {key!r}; it has {sorted(f)}")
            n, c = f[x_key].shape
            if c != N_CHANNELS or f[y_key].shape != (n, N_ELEMENTS):
                raise ValueError(
                    f"{self.path}: expected {x_key} (N, {N_CHANNELS}) and {y_key} (N, {N_ELEMENTS}), "
                    f"got {f[x_key].shape} and {f[y_key].shape}")
            self._len = n
        self._file = None

    def __len__(self) -> int:
        return self._len

    def _h5(self):
        if self._file is None:
            import h5py

            self._file = h5py.File(self.path, "r")
        return self._file

    def __getitem__(self, i):
        f = self._h5()
        x = torch.as_tensor(np.asarray(f[self.x_key][i], dtype=np.float32))
        y = torch.as_tensor(np.asarray(f[self.y_key][i], dtype=np.float32))
        return x, y

    def arrays(self):
        """All spectra and labels as numpy arrays (for validation sets)."""
        f = self._h5()
        return (np.asarray(f[self.x_key], dtype=np.float32), np.asarray(f[self.y_key], dtype=np.float32))

    def ignore_mask(self):
        """Boolean ``(N, 80)`` ignore mask from the file, or ``None``."""
        f = self._h5()
        return np.asarray(f[self.ignore_key], dtype=bool) if self.ignore_key in f else None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_file"] = None
        return state


class InMemorySpectra:
    """Batch source over an HDF5 dataset held in memory, reshuffled every pass.

    Reading single spectra from a compressed HDF5 file costs a chunk
    decompression each; for datasets that fit in memory this source reads the
    file once (spectra stored as float16 to halve the memory: 400,000 spectra
    take 2.5 GB) and serves ``source(step) -> (x, y)`` batches. Batch ``step``
    depends only on ``(seed, step)``, so resumed runs see the same batches.

    Parameters
    ----------
    path : str or Path
        HDF5 file written by ``eelsid simulate`` (or any file with the keys).
    batch_size : int
        Spectra per step.
    seed : int
        Seed of the shuffling.
    x_key, y_key : str
        Datasets of spectra ``(N, 3072)`` and labels ``(N, 80)``.
    limit : int, optional
        Use only the first ``limit`` spectra.
    block : int
        Spectra read from the file at a time while loading (bounds the
        float32 copy held during conversion).
    """

    def __init__(self, path, batch_size: int = 256, seed: int = 0, x_key: str = "spectra",
                 y_key: str = "labels", limit: int | None = None, block: int = 16384):
        import h5py

        data = HDF5Spectra(path, x_key, y_key)  # validates the file
        n = len(data) if limit is None else min(int(limit), len(data))
        self.batch_size, self.seed = int(batch_size), int(seed)
        if n < self.batch_size:
            raise ValueError(f"{path} holds {n} spectra, fewer than one batch of {self.batch_size}")
        self.x = torch.empty((n, N_CHANNELS), dtype=torch.float16)
        self.y = torch.empty((n, N_ELEMENTS), dtype=torch.uint8)
        with h5py.File(data.path, "r") as f:
            for i in range(0, n, block):
                j = min(n, i + block)
                self.x[i:j] = torch.from_numpy(np.asarray(f[x_key][i:j], dtype=np.float16))
                self.y[i:j] = torch.from_numpy(np.asarray(f[y_key][i:j], dtype=np.uint8))
        self.steps_per_pass = n // self.batch_size
        self._order = (None, None)

    def __len__(self) -> int:
        return self.x.shape[0]

    def __call__(self, step: int):
        """Batch number ``step``: ``x`` (B, 3072) float32, ``y`` (B, 80) float32."""
        epoch, k = divmod(int(step), self.steps_per_pass)
        if self._order[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._order = (epoch, torch.randperm(self.x.shape[0], generator=g))
        idx = self._order[1][k * self.batch_size : (k + 1) * self.batch_size]
        return self.x[idx].float(), self.y[idx].float()


def _first_onsets() -> torch.Tensor:
    """Onset (eV) of up to two major edges per element inside the network window."""
    onsets = torch.full((N_ELEMENTS, 2), float("nan"))
    for k, symbol in enumerate(ELEMENTS):
        subs = [s for s in subshells(symbol, emin=E_MIN_NETWORK + 15, emax=N_CHANNELS - 30)]
        major = [s for s in subs if s.is_major] or subs
        for j, s in enumerate(sorted(major, key=lambda s: s.onset_energy)[:2]):
            onsets[k, j] = s.onset_energy
    return onsets


class ToyEdgeSource:
    """Deterministic toy batch source: ``source(step) -> (x, y)``.

    Every spectrum holds 1 to ``max_elements`` elements drawn from
    ``elements``; each contributes a smoothed step with a power-law tail at
    its (up to two) tabulated major onsets; a power-law background and
    Gaussian noise are added, then the spectrum goes through
    :func:`~hyperspy_eelsid.preprocessing.finalise_on_grid`.

    Parameters
    ----------
    batch_size : int
        Spectra per batch.
    seed : int
        Batches depend only on ``(seed, step)``.
    elements : sequence of str, optional
        Elements to draw from (default all 80).
    max_elements : int
        Most elements per spectrum.
    noise : float
        Noise standard deviation relative to the background at 75 eV.
    """

    def __init__(self, batch_size: int = 32, seed: int = 0, elements=None,
                 max_elements: int = 3, noise: float = 0.01):
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.max_elements, self.noise = int(max_elements), float(noise)
        symbols = list(elements) if elements is not None else list(ELEMENTS)
        self.columns = torch.tensor([ELEMENTS.index(s) for s in symbols])
        self.energy = e = torch.arange(N_CHANNELS, dtype=torch.float32)
        onsets = _first_onsets()
        safe = torch.nan_to_num(onsets, nan=1e9)[..., None]  # (80, 2, 1)
        shape = torch.sigmoid((e - safe) / 2.0) * (e.clamp(min=1) / safe).clamp(min=1) ** -2.0
        self.templates = (shape * torch.isfinite(onsets)[..., None]).sum(dim=1)  # (80, 3072)

    def __call__(self, step: int):
        """Batch number ``step``: ``x`` (B, 3072) float32, ``y`` (B, 80) float32."""
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + int(step))
        b, e = self.batch_size, self.energy
        y = torch.zeros(b, N_ELEMENTS)
        n_el = torch.randint(1, self.max_elements + 1, (b,), generator=g)
        for i in range(b):
            pick = self.columns[torch.randperm(len(self.columns), generator=g)[: int(n_el[i])]]
            y[i, pick] = 1
        edges = (y * (0.2 + torch.rand(b, N_ELEMENTS, generator=g))) @ self.templates
        r = 2.5 + torch.rand(b, 1, generator=g)
        background = (e.clamp(min=E_MIN_NETWORK) / E_MIN_NETWORK) ** -r
        x = (background + edges * background.clamp(min=1e-3) ** 0.3
             + self.noise * torch.randn(b, N_CHANNELS, generator=g))
        return finalise_on_grid(x.clamp(min=0), torch.ones(N_CHANNELS, dtype=torch.bool)), y


def fixed_batches(source, steps, start: int = 0):
    """Concatenate ``source(start) .. source(start + steps - 1)`` into one ``(x, y)``."""
    xs, ys = zip(*(source(start + s) for s in range(steps)))
    return torch.cat(xs), torch.cat(ys)


def fixed_set(source, n: int):
    """The first ``n`` spectra of a batch source as one ``(x, y)`` on the CPU (validation sets)."""
    x, y = fixed_batches(source, max(1, -(-int(n) // source.batch_size)))
    return x[:n].cpu(), y[:n].cpu()


class SimulatorSource:
    """Batch source drawing fresh simulated spectra every step.

    Adapter from :class:`hyperspy_eelsid.simulation.simulator.Simulator` to
    the trainer's ``source(step) -> (x, y)`` interface. Batch ``step`` is
    simulated with seed ``batch_seed(seed, step)``, so a resumed run sees the
    same spectra as an uninterrupted one (on the same device).

    Parameters
    ----------
    batch_size : int
        Spectra per step.
    seed : int
        Seed of the whole stream.
    device : str or torch.device
        Where to simulate (the GPU during training).
    simulation : dict or str, optional
        Overrides of :class:`~hyperspy_eelsid.simulation.config.SimulationConfig`,
        or the path of a JSON file holding them (as ``eelsid simulate --config``
        takes, e.g. ``configs/simulation/realistic.json``).
    chunk_steps : int
        Simulate this many steps' batches in one call of the simulator and
        hand them out one step at a time. A simulator call has a fixed cost
        (on a GPU, mostly kernel launches) that a large call spreads over
        many spectra: on an H100 a call of 1,024 spectra runs at a small
        fraction of the rate of one of 32,768. Chunk ``k`` (steps
        ``k * chunk_steps`` ...) is simulated with seed
        ``batch_seed(seed, k)``, so the stream still depends only on the seed
        and ``chunk_steps``, and a resumed run sees the same spectra.
    """

    def __init__(self, batch_size: int = 256, seed: int = 0, device="cpu", simulation: dict | str | None = None,
                 chunk_steps: int = 1):
        from hyperspy_eelsid.simulation.config import SimulationConfig, read_overrides
        from hyperspy_eelsid.simulation.simulator import Simulator, batch_seed

        if isinstance(simulation, (str, os.PathLike)):
            simulation = read_overrides(simulation)
        self.simulation = dict(simulation or {})
        config = SimulationConfig.from_dict(simulation) if simulation else SimulationConfig()
        self.simulator = Simulator(config, device=device)
        self._batch_seed = batch_seed
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.chunk_steps = int(chunk_steps)
        if self.chunk_steps < 1:
            raise ValueError(f"chunk_steps must be a positive integer, got {chunk_steps!r}")
        self._chunk = (None, None, None)

    def __call__(self, step: int):
        """Batch number ``step``: ``x`` (B, 3072) float32, ``y`` (B, 80) float32."""
        k, i = divmod(int(step), self.chunk_steps)
        if self._chunk[0] != k:
            batch = self.simulator.simulate(self.batch_size * self.chunk_steps, seed=self._batch_seed(self.seed, k))
            self._chunk = (k, batch.spectra.float(), batch.labels.float())
        rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self._chunk[1][rows], self._chunk[2][rows]
