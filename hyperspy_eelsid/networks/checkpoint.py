"""Training checkpoints without pickle: tensors in safetensors, the rest in JSON.

A checkpoint is ``<stem>.safetensors`` (model weights, optimizer moments, RNG
states) plus ``<stem>.json`` (epoch, optimizer hyper-parameters, scheduler
and gradient-scaler state, history, run configuration, and the SHA-256 of
the tensor file). Both are written to temporary names and renamed, so an
interrupted write never leaves a half checkpoint behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from hyperspy_eelsid.networks.io import _sha256

__all__ = ["save_checkpoint", "load_checkpoint", "checkpoint_exists", "checkpoint_config", "CheckpointError"]


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be resumed: missing, corrupt, or of another run."""


def checkpoint_exists(stem) -> bool:
    """Whether both files of checkpoint ``stem`` exist."""
    stem = Path(stem)
    return stem.with_suffix(".json").is_file() and stem.with_suffix(".safetensors").is_file()


def checkpoint_config(stem) -> dict | None:
    """The run configuration a checkpoint was saved with (read from its JSON file only);
    None when there is no checkpoint or it records none.

    Raises
    ------
    CheckpointError
        If the JSON file is unreadable.
    """
    stem = Path(stem)
    if not checkpoint_exists(stem):
        return None
    card = stem.with_suffix(".json")
    try:
        meta = json.loads(card.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"checkpoint {card} is unreadable ({err}); delete {stem.name}.json and "
                              f"{stem.name}.safetensors to start afresh") from None
    state = meta.get("state") if isinstance(meta, dict) else None
    return state.get("config") if isinstance(state, dict) else None


def save_checkpoint(stem, model, optimizer, state: dict, scheduler=None, scaler=None) -> None:
    """Write the full training state.

    Parameters
    ----------
    stem : str or Path
        File stem (``checkpoint`` -> ``checkpoint.safetensors`` + ``.json``).
    model, optimizer : torch objects
        Their state dicts are saved.
    state : dict
        JSON-serialisable extra state (epoch, history, config...).
    scheduler, scaler : optional
        Learning-rate scheduler and ``GradScaler``, saved if given.
    """
    from safetensors.torch import save_file

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for pid, pstate in opt["state"].items():
        for name, value in pstate.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{pid}.{name}"] = value.detach().cpu().contiguous()
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    meta = {
        "state": state,
        "optimizer": {
            "param_groups": opt["param_groups"],
            "scalars": {str(pid): {k: v for k, v in ps.items() if not isinstance(v, torch.Tensor)}
                        for pid, ps in opt["state"].items()},
        },
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
    }
    tmp_w = stem.with_name(stem.name + ".tmp.safetensors")
    tmp_j = stem.with_name(stem.name + ".tmp.json")
    save_file(tensors, str(tmp_w))
    meta["sha256"] = _sha256(tmp_w)
    tmp_j.write_text(json.dumps(meta, indent=1))
    os.replace(tmp_w, stem.with_suffix(".safetensors"))
    os.replace(tmp_j, stem.with_suffix(".json"))


def load_checkpoint(stem, model, optimizer, scheduler=None, scaler=None, map_location="cpu") -> dict:
    """Restore a state written by :func:`save_checkpoint`; returns its ``state`` dict.

    Raises
    ------
    CheckpointError
        If the files are missing, do not belong together, or do not fit the
        model (the message names the file).
    """
    from safetensors.torch import load_file

    stem = Path(stem)
    weights, card = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    if not checkpoint_exists(stem):
        raise CheckpointError(f"checkpoint {stem}.json/.safetensors not found")
    meta = json.loads(card.read_text())
    if meta.get("sha256") != _sha256(weights):
        raise CheckpointError(f"checkpoint {weights} does not match {card.name} (corrupt or from "
                           "another run); delete both files to start afresh")
    tensors = load_file(str(weights))
    try:
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    except RuntimeError as err:
        first = str(err).strip().splitlines()[1:2]
        raise CheckpointError(
            f"checkpoint {weights} was written for another model configuration "
            f"({first[0].strip() if first else err}); train into a new --out directory "
            "or pass --no-resume to start afresh"
        ) from None
    opt_state = {}
    for pid, scalars in meta["optimizer"]["scalars"].items():
        opt_state[int(pid)] = dict(scalars)
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            opt_state.setdefault(int(pid), {})[name] = value
    optimizer.load_state_dict({"state": opt_state, "param_groups": meta["optimizer"]["param_groups"]})
    if scheduler is not None and meta.get("scheduler") is not None:
        scheduler.load_state_dict(meta["scheduler"])
    if scaler is not None and meta.get("scaler") is not None:
        scaler.load_state_dict(meta["scaler"])
    torch.set_rng_state(tensors["rng.torch"])
    cuda_states = [tensors[k] for k in sorted(t for t in tensors if t.startswith("rng.cuda."))]
    if cuda_states and torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)
    return meta["state"]
