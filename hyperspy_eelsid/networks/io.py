"""Saving and loading trained networks: safetensors weights + JSON cards.

A saved model is two files side by side:

* ``<name>.safetensors`` - the weights (never pickle; float32 or float16);
* ``<name>.json`` - the model card: architecture and configuration (enough
  to rebuild the network), output element order, decision threshold,
  metrics, training budget and hardware, code version and git commit, and the
  SHA-256 of the weight file (so corruption is detected before use).

An ensemble is a directory with the member files and ``ensemble.json``
listing them, with the ensemble's own threshold and metrics.

Every loading error is a :class:`ModelFileError` that names the file and
says what to do.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import subprocess
from pathlib import Path

import torch

from hyperspy_eelsid.elements import ELEMENTS
from hyperspy_eelsid.preprocessing import N_CHANNELS

__all__ = [
    "MODEL_FORMAT",
    "ENSEMBLE_FORMAT",
    "ENSEMBLE_CARD",
    "ModelFileError",
    "save_model",
    "load_model",
    "read_card",
    "save_ensemble",
    "load_ensemble",
    "git_commit",
    "hardware_info",
]

MODEL_FORMAT = "hyperspy-eelsid-model"
ENSEMBLE_FORMAT = "hyperspy-eelsid-ensemble"
FORMAT_VERSION = 1
ENSEMBLE_CARD = "ensemble.json"

_REMEDY = ("reinstall hyperspy-eelsid (or re-download the weights) to restore the shipped "
           "files, or retrain the model with `eelsid train --config configs/<name>.toml`")
_REMEDY_OWN = ("check the path: `eelsid train` writes a model's <name>.json and <name>.safetensors "
               "into its output directory, `eelsid ensemble` an ensemble directory with "
               "ensemble.json; a damaged file has to be written again by the command that made it")


def _remedy(path) -> str:
    """What to do about a bad weight file: reinstall for the shipped ones (in the package, or the
    checkout's ``weights/``), check the path or rewrite the file for the user's own."""
    package = Path(__file__).resolve().parents[1]
    try:
        where = Path(path).resolve()
    except (OSError, RuntimeError):
        return _REMEDY_OWN
    shipped = (package / "weights", package.parent / "weights")
    return _REMEDY if any(where == d or d in where.parents for d in shipped) else _REMEDY_OWN


class ModelFileError(RuntimeError):
    """A weight file or model/ensemble card is missing, corrupt or inconsistent."""


# --------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------
def git_commit(path=None) -> str:
    """Git commit of the code (``"<sha>"``, ``"<sha>-dirty"`` or ``"unknown"``)."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=where, capture_output=True, text=True, timeout=10).stdout.strip()
        return f"{sha}-dirty" if dirty else sha
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def hardware_info(device=None) -> dict:
    """Where the code runs: CPU, threads, GPU name if CUDA, torch version."""
    info = {"platform": platform.platform(), "cpu": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(), "torch": torch.__version__}
    dev = torch.device(device) if device is not None else None
    if torch.cuda.is_available() and (dev is None or dev.type == "cuda"):
        info["gpu"] = torch.cuda.get_device_name(dev if dev is not None else 0)
    return info


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _stem(path) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".json", ".safetensors") else path


def _jsonable(obj):
    """Make ``obj`` JSON-serialisable (numpy scalars/arrays, tuples, paths)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return obj


def _card_threshold(card: dict, card_path) -> float | None:
    """The card's decision threshold: None (not chosen) or a probability strictly between 0 and 1.
    Anything else (an edited or damaged card) would become every identification's default."""
    threshold = card.get("threshold")
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
        raise ModelFileError(f"{card_path}: its threshold {threshold!r} is not a probability strictly "
                             f"between 0 and 1; {_remedy(card_path)}")
    return float(threshold)


# --------------------------------------------------------------------------
# Single models
# --------------------------------------------------------------------------
def save_model(model, path, *, dtype: str = "float32", threshold: float | None = None,
               metrics: dict | None = None, training: dict | None = None, **extra) -> dict:
    """Write ``model`` as ``<path>.safetensors`` + ``<path>.json``.

    Parameters
    ----------
    model : EELSNet
        A model built by :func:`~hyperspy_eelsid.networks.build_model` (its
        ``architecture`` and ``config`` go into the card).
    path : str or Path
        File stem (a ``.json`` or ``.safetensors`` suffix is stripped).
    dtype : {"float32", "float16"}
        Storage precision of floating-point tensors (float16 halves the size;
        loading converts back to float32).
    threshold : float, optional
        Decision threshold chosen on validation data.
    metrics : dict, optional
        Evaluation results to record.
    training : dict, optional
        Training budget and settings (steps, epochs, batch size, data, time,
        hardware...).
    **extra
        Further card fields.

    Returns
    -------
    dict
        The card as written.
    """
    from safetensors.torch import save_file

    if not getattr(model, "architecture", ""):
        raise ValueError("model has no architecture name: build it with build_model()")
    if dtype not in ("float32", "float16"):
        raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}")
    stem = _stem(path)
    stem.parent.mkdir(parents=True, exist_ok=True)
    store = torch.float16 if dtype == "float16" else torch.float32
    tensors = {k: (v.detach().to("cpu", store) if v.is_floating_point() else v.detach().cpu())
               .contiguous() for k, v in model.state_dict().items()}
    weights = stem.with_suffix(".safetensors")
    save_file(tensors, str(weights), metadata={"format": MODEL_FORMAT, "architecture": model.architecture})
    card = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "name": stem.name,
        "architecture": model.architecture,
        "config": model.config,
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "input": {"n_channels": N_CHANNELS, "energy_ev": [0, N_CHANNELS - 1],
                  "preprocessing": "hyperspy_eelsid.preprocessing.preprocess"},
        "outputs": list(ELEMENTS),
        "weights": {"file": weights.name, "dtype": dtype, "bytes": weights.stat().st_size,
                    "sha256": _sha256(weights)},
        "threshold": threshold,
        "metrics": metrics or {},
        "training": training or {},
        "code": {"package_version": _package_version(), "git_commit": git_commit()},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }
    card = _jsonable(card)
    stem.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def _package_version() -> str:
    try:
        from hyperspy_eelsid._version import __version__

        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"


def read_card(path, expected_format: str = MODEL_FORMAT) -> dict:
    """Read and validate a JSON card.

    Raises
    ------
    ModelFileError
        If the card is missing, not JSON, or of another format.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"card {path} is missing; {_remedy(path)}")
    try:
        card = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"card {path} is corrupt (not valid JSON: {err}); {_remedy(path)}") from err
    if not isinstance(card, dict) or card.get("format") != expected_format:
        raise ModelFileError(f"{path} is not a {expected_format} card; {_remedy(path)}")
    if card.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(f"{path} has format version {card.get('format_version')}, newer than "
                             f"this hyperspy-eelsid understands ({FORMAT_VERSION}); upgrade the package")
    return card


def load_model(path, device="cpu", verify: bool = True):
    """Rebuild a saved model, validating card and weights.

    Parameters
    ----------
    path : str or Path
        The ``.json`` card, the ``.safetensors`` file, or their common stem.
    device : str or torch.device
        Where to put the model.
    verify : bool
        Check the weight file's SHA-256 against the card.

    Returns
    -------
    EELSNet
        In eval mode, float32, with ``card`` (the card dict) and
        ``threshold`` attributes.

    Raises
    ------
    ModelFileError
        Missing or corrupt card or weight file, or weights that do not fit the
        architecture; the message names the file and what to do.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from hyperspy_eelsid.networks.registry import build_model

    stem = _stem(path)
    card_path = stem.with_suffix(".json")
    card = read_card(card_path)
    try:
        weights = card_path.parent / card["weights"]["file"]
        architecture, config = card["architecture"], card["config"]
    except (KeyError, TypeError) as err:
        raise ModelFileError(f"card {card_path} lacks field {err}; {_remedy(card_path)}") from None
    if list(card.get("outputs", [])) != list(ELEMENTS):
        raise ModelFileError(f"{card_path}: the model's outputs are not the 80 elements Be..Bi in "
                             "this package's order; it was made for another version")
    threshold = _card_threshold(card, card_path)
    if not weights.is_file():
        raise ModelFileError(f"weight file {weights} (named in {card_path.name}) is missing; {_remedy(card_path)}")
    if verify and card["weights"].get("sha256") and _sha256(weights) != card["weights"]["sha256"]:
        raise ModelFileError(f"weight file {weights} is corrupt (SHA-256 differs from "
                             f"{card_path.name}); {_remedy(card_path)}")
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelFileError(f"weight file {weights} cannot be read ({err}); {_remedy(card_path)}") from err
    try:
        model = build_model(architecture, **config)
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"card {card_path} describes a model this version cannot build "
                             f"({err}); upgrade hyperspy-eelsid or retrain") from err
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    bad = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or bad:
        raise ModelFileError(
            f"weight file {weights} does not fit the {architecture} described in {card_path.name} "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shape {bad[:3]}); {_remedy(card_path)}")
    state = {k: (v.to(expected[k].dtype) if v.is_floating_point() else v) for k, v in state.items()}
    model.load_state_dict(state)
    model.to(device).eval()
    model.card = card
    model.threshold = threshold
    return model


# --------------------------------------------------------------------------
# Ensembles
# --------------------------------------------------------------------------
def save_ensemble(directory, members, *, threshold: float | None = None,
                  metrics: dict | None = None, **extra) -> dict:
    """Write ``ensemble.json`` for member models already saved in ``directory``.

    Parameters
    ----------
    directory : str or Path
        Directory holding the members' ``.json`` + ``.safetensors`` files.
    members : sequence of str
        Member names (card stems, e.g. ``"unet_a"``), in order.
    threshold : float, optional
        The ensemble's decision threshold (chosen on validation data).
    metrics : dict, optional
        The ensemble's evaluation results.
    **extra
        Further card fields.

    Returns
    -------
    dict
        The ensemble card as written.
    """
    directory = Path(directory)
    cards = [read_card(directory / f"{_stem(m).name}.json") for m in members]
    card = _jsonable({
        "format": ENSEMBLE_FORMAT,
        "format_version": FORMAT_VERSION,
        "combination": "mean of member probabilities",
        "members": [{"name": c["name"], "card": f"{c['name']}.json", "architecture": c["architecture"],
                     "n_parameters": c["n_parameters"], "weights_bytes": c["weights"]["bytes"]}
                    for c in cards],
        "n_parameters": sum(c["n_parameters"] for c in cards),
        "weights_bytes": sum(c["weights"]["bytes"] for c in cards),
        "outputs": list(ELEMENTS),
        "threshold": threshold,
        "metrics": metrics or {},
        "code": {"package_version": _package_version(), "git_commit": git_commit()},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **extra,
    })
    (directory / ENSEMBLE_CARD).write_text(json.dumps(card, indent=2) + "\n")
    return card


def _model_cards(directory: Path) -> list:
    """The model cards in a directory (e.g. an ``eelsid train`` output), by name."""
    cards = []
    for path in sorted(directory.glob("*.json")):
        try:
            card = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(card, dict) and card.get("format") == MODEL_FORMAT:
            cards.append(path)
    return cards


def _refuse_model_directory(directory: Path) -> None:
    """Name the model cards of a directory that holds models but no ensemble."""
    cards = _model_cards(directory)
    if not cards:
        return
    final = [c for c in cards if c.name != "best.json"] or cards
    raise ModelFileError(
        f"{directory} holds no {ENSEMBLE_CARD}, so it is not an ensemble directory; it holds the "
        f"model card(s) {', '.join(c.name for c in cards)}. Pass one model's card "
        f"(e.g. {final[0]}), or combine models into an ensemble with "
        f"`eelsid ensemble CARD [CARD ...] --out DIR`")


def load_ensemble(directory, device="cpu", verify: bool = True, fuse: bool = True):
    """Load the ensemble described by ``<directory>/ensemble.json``.

    Parameters
    ----------
    directory : str or Path
        Directory with ``ensemble.json`` and the member files (or the path of
        ``ensemble.json`` itself).
    device : str or torch.device
        Where to put the members.
    verify : bool
        Check every weight file's SHA-256.
    fuse : bool
        Fold batch normalisation into the preceding convolutions
        (:func:`~hyperspy_eelsid.networks.layers.fuse_batchnorm`): faster
        inference, same probabilities up to float rounding.

    Returns
    -------
    Ensemble
        Averages member probabilities; ``threshold`` and ``card`` attributes.

    Raises
    ------
    ModelFileError
        If the directory, ``ensemble.json`` or any member file is missing or
        corrupt (the message names the file).
    """
    from hyperspy_eelsid.networks.ensemble import Ensemble

    directory = Path(directory)
    if directory.name == ENSEMBLE_CARD:
        directory = directory.parent
    if not directory.is_dir():
        raise ModelFileError(f"ensemble directory {directory} does not exist; {_remedy(directory)}")
    if not (directory / ENSEMBLE_CARD).is_file():
        _refuse_model_directory(directory)
    card = read_card(directory / ENSEMBLE_CARD, ENSEMBLE_FORMAT)
    try:
        names = [m["card"] for m in card["members"]]
    except (KeyError, TypeError) as err:
        raise ModelFileError(f"{directory / ENSEMBLE_CARD} lacks field {err}; {_remedy(directory)}") from None
    if not names:
        raise ModelFileError(f"{directory / ENSEMBLE_CARD} lists no members; {_remedy(directory)}")
    threshold = _card_threshold(card, directory / ENSEMBLE_CARD)
    members = [load_model(directory / name, device=device, verify=verify) for name in names]
    if fuse:
        from hyperspy_eelsid.networks.layers import fuse_batchnorm

        members = [fuse_batchnorm(m) for m in members]
    ensemble = Ensemble(members, threshold=threshold)
    ensemble.card = card
    ensemble.name = str(card.get("name", directory.name))
    return ensemble
