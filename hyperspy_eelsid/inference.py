"""Run a trained network or ensemble on preprocessed spectra (numpy in, numpy out).

Pure numpy/torch: shared by the HyperSpy front end, the command line and the
benchmarks. :class:`Predictor` is picklable. A copy sent to a dask worker, or to
a process of a ``dask.distributed`` cluster, loads the weights itself, once per
process.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

__all__ = ["resolve_device", "default_batch_size", "Predictor"]

_CACHE: dict = {}
_LOCK = threading.Lock()


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when a CUDA GPU is usable, else ``"cpu"``.

    Raises
    ------
    ValueError
        If ``device`` names CUDA but no CUDA GPU is available.
    """
    import torch

    device = str(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was asked for but torch sees no CUDA GPU; "
            "use device='cpu' or 'auto'."
        )
    return device


def default_batch_size(device: str) -> int:
    """Spectra per forward pass: a few MB per batch on CPU, more on a GPU."""
    if str(device).startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info()
        # ~12 kB of input per spectrum, activations a few hundred times that
        return int(np.clip(free // (4 * 3072 * 400), 1024, 65536))
    return 1024


class Predictor:
    """Callable ``(N, 3072) float32 -> (N, 80) float32`` element probabilities.

    Parameters
    ----------
    weights : str or pathlib.Path, optional
        A model or ensemble directory (``weights/`` layout). Defaults to the
        ensemble shipped with the package.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
    batch_size : int, optional
        Spectra per forward pass; a device-dependent default when omitted.
    model : object, optional
        An already loaded model/ensemble with ``predict_proba``. It is used as it
        is and not pickled by path (for tests and in-process use).
    """

    def __init__(self, weights=None, device: str = "auto", batch_size: int | None = None, model=None):
        self.weights = None if weights is None else str(Path(weights))
        self.device = resolve_device(device)
        self.batch_size = int(batch_size) if batch_size else default_batch_size(self.device)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
        self._model = model
        self._injected = model is not None

    # pickling sends the path, never the weights (unless a model was injected)
    def __getstate__(self):
        state = dict(self.__dict__)
        if not self._injected:
            state["_model"] = None
        return state

    @property
    def model(self):
        """The loaded model or ensemble (loaded at first use, once per process)."""
        if self._model is None:
            key = (self.weights, self.device)
            with _LOCK:
                if key not in _CACHE:
                    from hyperspy_eelsid.networks.io import load_ensemble

                    _CACHE[key] = load_ensemble(self.weights, device=self.device)
                self._model = _CACHE[key]
        return self._model

    @property
    def threshold(self) -> float:
        """Detection threshold recorded in the model card."""
        return float(self.model.threshold)

    @property
    def name(self) -> str:
        """Name of the model or ensemble, from its card."""
        return str(getattr(self.model, "name", "model"))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for a block of preprocessed spectra (leading shape kept)."""
        import torch

        x = np.asarray(x, dtype=np.float32)
        lead = x.shape[:-1]
        flat = x.reshape(-1, x.shape[-1])
        out = np.empty((flat.shape[0], 80), dtype=np.float32)
        model = self.model
        with torch.inference_mode():
            for start in range(0, flat.shape[0], self.batch_size):
                batch = torch.from_numpy(flat[start : start + self.batch_size]).to(self.device)
                out[start : start + batch.shape[0]] = (
                    model.predict_proba(batch).float().cpu().numpy()
                )
        return out.reshape(lead + (80,))
