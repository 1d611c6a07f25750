"""Run a trained network or ensemble on preprocessed spectra (numpy in, numpy out).

Pure numpy/torch: shared by the HyperSpy front end, the command line and the
benchmarks. :class:`Predictor` is picklable. A copy sent to a dask worker, or to
a process of a ``dask.distributed`` cluster, loads the weights itself, once per
process.
"""

from __future__ import annotations

import operator
import re
import threading
from pathlib import Path

import numpy as np

__all__ = ["resolve_device", "default_batch_size", "default_weights", "load_predictor_model", "Predictor"]

_CACHE: dict = {}
_LOCK = threading.Lock()


def default_weights() -> Path:
    """Directory of the ensemble shipped with the package.

    The repository's top-level ``weights/`` folder is installed as the package
    ``hyperspy_eelsid.weights``; in a source checkout the folder itself is used.
    """
    from importlib import resources

    try:
        installed = Path(str(resources.files("hyperspy_eelsid.weights")))
        if (installed / "ensemble.json").is_file():
            return installed
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[1] / "weights"


def load_predictor_model(weights=None, device: str = "cpu"):
    """Load a model or an ensemble for prediction.

    Parameters
    ----------
    weights : str or pathlib.Path, optional
        An ensemble directory (with ``ensemble.json``), or one model's card
        (``.json``) / weights (``.safetensors``). Default: :func:`default_weights`.
    device : str
        Where to put the networks.

    Raises
    ------
    hyperspy_eelsid.networks.io.ModelFileError
        Missing or corrupt files; the message names the file and what to do.
    """
    from hyperspy_eelsid.networks.io import ENSEMBLE_CARD, ModelFileError, load_ensemble, load_model

    path = default_weights() if weights is None else Path(weights)
    if path.is_dir() or path.name == ENSEMBLE_CARD:
        directory = path if path.is_dir() else path.parent
        if weights is None and not (directory / ENSEMBLE_CARD).is_file():
            raise ModelFileError(
                f"No trained ensemble found in {directory} (expected {ENSEMBLE_CARD}). "
                "Reinstall hyperspy-eelsid, or pass weights=<model or ensemble directory> "
                "(`eelsid train` makes one)."
            )
        model = load_ensemble(directory, device=device)
        model.name = str(model.card.get("name", directory.name))
    else:
        model = load_model(path, device=device)
        model.name = str(model.card.get("name", Path(path).stem))
    return model


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when a CUDA GPU is usable, else ``"cpu"``.

    Raises
    ------
    ValueError
        If ``device`` is none of ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``
        (the devices the package is tested on), or names CUDA but no CUDA GPU is
        available.
    """
    import torch

    device = str(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda' ('cuda:1' for a second GPU), got {device!r}.")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was asked for but torch sees no CUDA GPU; "
            "use device='cpu' or 'auto'."
        )
    return device


#: Spectra per forward pass on a CPU. The shipped networks' activations for
#: 256 spectra stay close to the cores' caches; 1,024 spilled out of them and
#: ran about 1.5 times slower on the two-core development machine
#: (``benchmarks/bench_identify.py --batch-size``, docs/results.md).
CPU_BATCH_SIZE: int = 256


def default_batch_size(device: str) -> int:
    """Spectra per forward pass: ``CPU_BATCH_SIZE`` on a CPU, as many as the free memory allows on a GPU."""
    if str(device).startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info()
        # ~12 kB of input per spectrum, activations a few hundred times that
        return int(np.clip(free // (4 * 3072 * 400), 1024, 65536))
    return CPU_BATCH_SIZE


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
        if batch_size is None:
            self.batch_size = default_batch_size(self.device)
        else:
            try:
                self.batch_size = operator.index(batch_size)  # ints (numpy's too), not 2.5 or "256"
            except TypeError:
                self.batch_size = 0
            if self.batch_size < 1 or isinstance(batch_size, bool):
                raise ValueError(f"batch_size must be a positive integer (or None for the default), "
                                 f"got {batch_size!r}.")
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
                    _CACHE[key] = load_predictor_model(self.weights, device=self.device)
                self._model = _CACHE[key]
        return self._model

    @property
    def threshold(self) -> float:
        """Detection threshold recorded in the model card.

        Raises
        ------
        ValueError
            If the card records none (pass a threshold explicitly then).
        """
        if self.model.threshold is None:
            raise ValueError(
                f"The card of {self.name!r} records no detection threshold; pass threshold= explicitly."
            )
        return float(self.model.threshold)

    @property
    def name(self) -> str:
        """Name of the model or ensemble, from its card."""
        return str(getattr(self.model, "name", "model"))

    def __call__(self, x) -> np.ndarray:
        """Probabilities for a block of preprocessed spectra (leading shape kept).

        ``x`` is a numpy array, or a torch tensor (e.g. from
        :func:`~hyperspy_eelsid.preprocessing.preprocess_on_device`, already
        on the device); the result is a numpy array either way.
        """
        import torch

        if not isinstance(x, torch.Tensor):
            x = torch.from_numpy(np.asarray(x, dtype=np.float32))
        lead = tuple(x.shape[:-1])
        flat = x.reshape(-1, x.shape[-1])
        out = np.empty((flat.shape[0], 80), dtype=np.float32)
        model = self.model
        with torch.inference_mode():
            for start in range(0, flat.shape[0], self.batch_size):
                batch = flat[start : start + self.batch_size].to(self.device, dtype=torch.float32)
                out[start : start + batch.shape[0]] = (
                    model.predict_proba(batch).float().cpu().numpy()
                )
        return out.reshape(lead + (80,))

    def identify_block(self, data, axis, cut_splices: bool = True, cut_saturation: bool = True):
        """Preprocess a block of raw spectra and predict, on this predictor's device.

        Parameters
        ----------
        data : numpy.ndarray
            Raw spectra ``(N, n_channels)``, read only.
        axis : hyperspy_eelsid.preprocessing.EnergyAxis
            Their energy axis.
        cut_splices, cut_saturation : bool
            As for :func:`~hyperspy_eelsid.preprocessing.preprocess`.

        Returns
        -------
        probabilities : numpy.ndarray
            ``(N, 80)``; zero for spectra without positive counts.
        empty : numpy.ndarray
            Boolean ``(N,)``: spectra without positive counts in the window.
        cuts : hyperspy_eelsid.preprocessing.ReadoutCuts
            Energies from which spliced and saturated spectra were read.

        Notes
        -----
        On a CUDA device the preprocessing runs there too
        (:func:`~hyperspy_eelsid.preprocessing.preprocess_on_device`), so the
        spectra cross to the GPU once, raw; on a CPU it is the numpy path.
        """
        from hyperspy_eelsid import preprocessing as pp

        if self.device.startswith("cuda"):
            x, _, cuts = pp.preprocess_on_device(data, axis, self.device, cut_splices, cut_saturation)
            empty = (x.amax(dim=-1) <= 0).cpu().numpy()
        else:
            x, _, cuts = pp._numpy_blocks(data, axis, max(len(data), 1), finalise=True, cut_splices=cut_splices,
                                          cut_saturation=cut_saturation)
            empty = x.max(axis=-1) <= 0
        probs = self(x)
        probs[empty] = 0.0
        return probs, empty, cuts
