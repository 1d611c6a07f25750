"""Training loop: Adam, BCE + macro soft-F1, learning rate halved on F1 plateaus.

The trainer takes

* training data as a **batch source** ``source(step) -> (x, y)`` (fresh
  simulated spectra every step) or a torch **Dataset** of ``(x, y)`` pairs
  (e.g. an HDF5 file), see :mod:`hyperspy_eelsid.networks.data`;
* validation data as ``(x, y)`` arrays/tensors (optionally ``(x, y, ignore)``)
  or a Dataset.

Every epoch (``steps_per_epoch`` optimizer steps) it validates (loss,
weighted precision/recall/F1 at ``val_threshold``, micro F1, EMR, RMSE, and
the threshold where precision = recall), halves the learning rate when the
validation F1 has not improved for ``lr_patience`` epochs, appends a row to
``log.csv``, saves the best weights and a full checkpoint. A run restarted
with the same output directory resumes from the checkpoint and ends with the
same weights as an uninterrupted run (on CPU; on GPU up to non-deterministic
kernels). At the end the best weights are saved as ``<name>.safetensors`` +
``<name>.json`` with the threshold where precision equals recall on the
validation set and the validation metrics.

Mixed precision on GPU: ``precision = "bf16"`` or ``"fp16"`` (torch.autocast;
fp16 with a gradient scaler).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from hyperspy_eelsid.evaluation.metrics import evaluate_predictions
from hyperspy_eelsid.evaluation.threshold import threshold_at_equal_precision_recall
from hyperspy_eelsid.networks.checkpoint import (
    CheckpointError,
    checkpoint_config,
    checkpoint_exists,
    load_checkpoint,
    save_checkpoint,
)
from hyperspy_eelsid.networks.io import hardware_info, save_model
from hyperspy_eelsid.networks.losses import bce_soft_f1_loss
from hyperspy_eelsid.networks.registry import build_model

__all__ = ["TrainConfig", "TrainResult", "Trainer", "train", "lr_grid_search", "resolve_device",
           "predict_logits", "resume_refusal", "LOG_COLUMNS"]

LOG_COLUMNS = ("epoch", "step", "wall_s", "lr", "train_loss", "val_loss", "val_precision",
               "val_recall", "val_f1", "val_micro_f1", "val_emr", "val_rmse", "val_threshold_pr",
               "val_f1_at_pr", "best")
"""Columns of ``log.csv``, one row per epoch."""


@dataclass
class TrainConfig:
    """Settings of one training run (the ``[model]`` and ``[training]`` tables of a config).

    Attributes
    ----------
    name : str
        Model name (file stem of the saved weights).
    architecture, preset : str
        Passed to :func:`~hyperspy_eelsid.networks.build_model`.
    model : dict
        Architecture options overriding the preset.
    batch_size : int
        Spectra per step (for Dataset training; a batch source sets its own).
    steps_per_epoch : int or None
        Optimizer steps between validations; ``None`` for a full pass over a
        Dataset.
    epochs : int
        Number of epochs.
    lr : float
        Initial learning rate of Adam.
    lr_factor, lr_patience, min_lr : float, int, float
        Multiply the learning rate by ``lr_factor`` (0.5: halve) when the
        validation F1 has not improved for ``lr_patience`` epochs, down to
        ``min_lr``.
    weight_decay : float
        Adam weight decay.
    soft_f1_weight : float
        Weight of the soft-F1 term of the loss.
    grad_clip : float or None
        Clip the gradient norm.
    early_stop_patience : int or None
        Stop when the validation F1 has not improved for this many epochs.
    seed : int
        Seeds model initialisation, dropout and Dataset shuffling.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``.
    precision : {"fp32", "bf16", "fp16"}
        Mixed precision (autocast) for the forward pass.
    deterministic : bool
        Use deterministic algorithms (``torch.use_deterministic_algorithms``).
    val_threshold : float
        Threshold for the validation F1 that drives the schedule.
    val_batch_size : int
        Spectra per validation forward pass.
    num_workers : int
        DataLoader workers for Dataset training.
    weights_dtype : {"float32", "float16"}
        Storage precision of the saved model.
    init_weights : str or None
        A saved model's card (``.json``) whose weights start the run instead
        of a random initialisation (fine-tuning, e.g. a shipped member on
        spectra of another simulator setting). Its architecture and
        parameter shapes must be this run's. A resumed run continues from its
        checkpoint instead.
    """

    name: str = "model"
    architecture: str = "vit"
    preset: str = "default"
    model: dict = field(default_factory=dict)
    batch_size: int = 256
    steps_per_epoch: int | None = 500
    epochs: int = 100
    lr: float = 1e-3
    lr_factor: float = 0.5
    lr_patience: int = 3
    min_lr: float = 1e-6
    weight_decay: float = 0.0
    soft_f1_weight: float = 1.0
    grad_clip: float | None = None
    early_stop_patience: int | None = None
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    deterministic: bool = True
    val_threshold: float = 0.5
    val_batch_size: int = 1024
    num_workers: int = 0
    weights_dtype: str = "float32"
    init_weights: str | None = None

    def __post_init__(self):
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise ValueError(f"precision must be 'fp32', 'bf16' or 'fp16', got {self.precision!r}")
        if self.epochs < 1 or (self.steps_per_epoch is not None and self.steps_per_epoch < 1):
            raise ValueError("epochs and steps_per_epoch must be positive")
        if not 0 < self.lr_factor < 1:
            raise ValueError("lr_factor must be in (0, 1)")

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Build from a dict, rejecting unknown keys with the list of valid ones."""
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(d) - set(names))
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; valid: {names}")
        return cls(**d)

    def to_dict(self) -> dict:
        """Plain dict of all settings."""
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """Outcome of :meth:`Trainer.run`."""

    model: torch.nn.Module
    history: list
    best_f1: float
    threshold: float | None = None
    metrics: dict = field(default_factory=dict)
    card: dict | None = None


def resolve_device(device: str = "auto") -> torch.device:
    """:func:`hyperspy_eelsid.inference.resolve_device` (the same checks) as a ``torch.device``."""
    from hyperspy_eelsid.inference import resolve_device as resolve

    return torch.device(resolve(device))


def _autocast(device: torch.device, precision: str):
    if precision == "fp32":
        return torch.autocast(device.type, enabled=False)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def _as_tensors(data):
    """Validation data -> (x, y, ignore) tensors (ignore may be None)."""
    if isinstance(data, Dataset):
        if hasattr(data, "arrays"):
            x, y = data.arrays()
            ignore = data.ignore_mask() if hasattr(data, "ignore_mask") else None
        else:
            xs, ys = zip(*(data[i][:2] for i in range(len(data))))
            x, y, ignore = torch.stack(xs), torch.stack(ys), None
    elif len(data) == 3:
        x, y, ignore = data
    else:
        (x, y), ignore = data, None
    x = torch.as_tensor(np.asarray(x, dtype=np.float32)) if not isinstance(x, torch.Tensor) else x.float()
    y = torch.as_tensor(np.asarray(y, dtype=np.float32)) if not isinstance(y, torch.Tensor) else y.float()
    if ignore is not None:
        ignore = np.asarray(ignore.cpu() if isinstance(ignore, torch.Tensor) else ignore, dtype=bool)
    return x, y, ignore


@torch.no_grad()
def predict_logits(model, x: torch.Tensor, device, batch_size: int = 1024,
                   precision: str = "fp32") -> torch.Tensor:
    """Logits of ``x`` in eval mode, batch by batch, returned on the CPU as float32."""
    was = model.training
    model.eval()
    try:
        outs = []
        for i in range(0, x.shape[0], batch_size):
            with _autocast(device, precision):
                outs.append(model(x[i : i + batch_size].to(device)).float().cpu())
        return torch.cat(outs)
    finally:
        model.train(was)


class Trainer:
    """One training run.

    Parameters
    ----------
    config : TrainConfig
        Settings.
    train_data : callable or Dataset
        ``source(step) -> (x, y)`` or a Dataset of ``(x, y)``.
    val_data : tuple or Dataset
        ``(x, y)``, ``(x, y, ignore)`` or a Dataset.
    out_dir : str or Path or None
        Where the log, checkpoint and model go; ``None`` writes nothing
        (used by :func:`lr_grid_search`).
    model : EELSNet, optional
        Use this model instead of building ``config.architecture``.
    log : callable, optional
        Receives one progress line per epoch (default: ``print``).
    extra_card : dict, optional
        Additional fields for the saved model card (e.g. the data settings).
    """

    def __init__(self, config: TrainConfig, train_data, val_data, out_dir=None, model=None,
                 log=print, extra_card: dict | None = None):
        self.config = config
        self.train_data = train_data
        self.val = _as_tensors(val_data)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.log = log or (lambda *_: None)
        self.extra_card = extra_card or {}
        self.device = resolve_device(config.device)
        if config.deterministic and self.device.type == "cpu":
            torch.use_deterministic_algorithms(True, warn_only=True)
        torch.manual_seed(config.seed)
        self.model = model if model is not None else build_model(
            config.architecture, config.preset, **config.model)
        if config.init_weights:
            self._load_initial_weights(config.init_weights)
        self.model.to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr,
                                          weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode="max", factor=config.lr_factor, patience=config.lr_patience,
            min_lr=config.min_lr, eps=0.0)
        use_scaler = config.precision == "fp16" and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=use_scaler)
        self.history: list[dict] = []
        self.epoch = 0
        self.best_f1 = -math.inf
        self.epochs_since_best = 0
        self.wall_s = 0.0

    def _load_initial_weights(self, path):
        from hyperspy_eelsid.networks.io import load_model

        start = load_model(path)
        if start.card.get("architecture") != self.config.architecture:
            raise ValueError(f"init_weights {path} holds a {start.card.get('architecture')}, "
                             f"not a {self.config.architecture}; start from a model of this architecture")
        own, given = self.model.state_dict(), start.state_dict()
        if set(own) != set(given) or any(own[k].shape != given[k].shape for k in own):
            raise ValueError(f"init_weights {path} does not fit this run's {self.config.architecture} "
                             "(other preset or options); use the same [model] settings as that model")
        self.model.load_state_dict(given)
        self.log(f"initial weights from {path}")

    # ------------------------------------------------------------------
    def _paths(self):
        d = self.out_dir
        return d / "checkpoint", d / "best", d / "log.csv"

    def _batches(self, epoch: int):
        """Iterator over the ``(x, y)`` batches of one epoch."""
        cfg = self.config
        if callable(self.train_data) and not isinstance(self.train_data, Dataset):
            steps = cfg.steps_per_epoch
            if steps is None:
                raise ValueError("a batch source needs steps_per_epoch")
            start = epoch * steps
            return (self.train_data(start + s) for s in range(steps))
        gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        loader = DataLoader(self.train_data, batch_size=cfg.batch_size, shuffle=True,
                            drop_last=True, generator=gen, num_workers=cfg.num_workers,
                            pin_memory=self.device.type == "cuda")
        if cfg.steps_per_epoch is None:
            return iter(loader)
        return _take(_cycle(loader), cfg.steps_per_epoch)

    def _train_epoch(self, epoch: int) -> float:
        cfg, model = self.config, self.model
        model.train()
        total, n = 0.0, 0
        for x, y in self._batches(epoch):
            x = x.to(self.device, non_blocking=True).float()
            y = y.to(self.device, non_blocking=True).float()
            with _autocast(self.device, cfg.precision):
                logits = model(x)
            loss = bce_soft_f1_loss(logits.float(), y, cfg.soft_f1_weight)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} at epoch {epoch}; "
                                         "lower the learning rate or use precision='fp32'")
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if cfg.grad_clip:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            total += loss.item()
            n += 1
        return total / max(n, 1)

    def validate(self) -> dict:
        """Validation loss and metrics of the current model."""
        x, y, ignore = self.val
        logits = predict_logits(self.model, x, self.device, self.config.val_batch_size,
                                self.config.precision)
        loss = bce_soft_f1_loss(logits, y, self.config.soft_f1_weight).item()
        prob = torch.sigmoid(logits).numpy()
        labels = y.numpy()
        m = evaluate_predictions(labels, prob, self.config.val_threshold, ignore)
        pr = threshold_at_equal_precision_recall(labels, prob, ignore=ignore)
        return {"val_loss": loss, "val_precision": m["precision"], "val_recall": m["recall"],
                "val_f1": m["f1"], "val_micro_f1": m["micro_f1"], "val_emr": m["emr"],
                "val_rmse": m["rmse"], "val_threshold_pr": pr["threshold"], "val_f1_at_pr": pr["f1"]}

    # ------------------------------------------------------------------
    def _state(self) -> dict:
        return {"epoch": self.epoch, "history": self.history, "best_f1": self.best_f1,
                "epochs_since_best": self.epochs_since_best, "wall_s": self.wall_s,
                "config": self.config.to_dict()}

    def _resume(self) -> bool:
        ckpt, _, log_path = self._paths()
        if not checkpoint_exists(ckpt):
            return False
        refusal = resume_refusal(self.out_dir, self.config)  # before the model is touched
        if refusal:
            raise CheckpointError(refusal)
        state = load_checkpoint(ckpt, self.model, self.optimizer, self.scheduler, self.scaler)
        self.epoch = state["epoch"]
        self.history = state["history"]
        self.best_f1 = state["best_f1"]
        self.epochs_since_best = state["epochs_since_best"]
        self.wall_s = state["wall_s"]
        self._write_log(log_path)
        self.log(f"resumed from {ckpt} at epoch {self.epoch}")
        return True

    def _write_log(self, path: Path) -> None:
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=LOG_COLUMNS)
            w.writeheader()
            for row in self.history:
                w.writerow({k: row.get(k) for k in LOG_COLUMNS})

    def run(self, resume: bool = True, max_wall_s: float | None = None) -> TrainResult:
        """Train for the configured epochs (resuming if a checkpoint exists).

        Parameters
        ----------
        resume : bool
            Continue from the checkpoint in the output directory, if any.
        max_wall_s : float, optional
            Stop after the epoch during which this many seconds of this call
            have passed; the checkpoint is saved, so a later call resumes where
            this one stopped (for machines lent for a limited time).
        """
        cfg = self.config
        started = time.perf_counter()
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            ckpt, best_path, log_path = self._paths()
            if not (resume and self._resume()):
                self._write_log(log_path)
        best_state = None
        while self.epoch < cfg.epochs:
            if cfg.early_stop_patience is not None and self.epochs_since_best >= cfg.early_stop_patience:
                self.log(f"early stop: no F1 improvement for {self.epochs_since_best} epochs")
                break
            t0 = time.perf_counter()
            train_loss = self._train_epoch(self.epoch)
            val = self.validate()
            self.scheduler.step(val["val_f1"])
            self.wall_s += time.perf_counter() - t0
            improved = val["val_f1"] > self.best_f1
            if improved:
                self.best_f1, self.epochs_since_best = val["val_f1"], 0
            else:
                self.epochs_since_best += 1
            self.epoch += 1
            steps = cfg.steps_per_epoch or "pass"
            row = {"epoch": self.epoch, "step": self.epoch * cfg.steps_per_epoch if cfg.steps_per_epoch else None,
                   "wall_s": round(self.wall_s, 3), "lr": self.optimizer.param_groups[0]["lr"],
                   "train_loss": train_loss, **val, "best": int(improved)}
            self.history.append(row)
            self.log(f"epoch {self.epoch}/{cfg.epochs} ({steps} steps) loss {train_loss:.4f} "
                     f"val_loss {val['val_loss']:.4f} val_f1 {val['val_f1']:.4f} "
                     f"emr {val['val_emr']:.3f} lr {row['lr']:.2e}")
            if improved:
                best_state = copy.deepcopy(self.model.state_dict())
                if self.out_dir is not None:
                    save_model(self.model, best_path, training=self._training_info())
            if self.out_dir is not None:
                with open(log_path, "a", newline="") as f:
                    csv.DictWriter(f, fieldnames=LOG_COLUMNS).writerow({k: row.get(k) for k in LOG_COLUMNS})
                save_checkpoint(ckpt, self.model, self.optimizer, self._state(), self.scheduler, self.scaler)
            if max_wall_s is not None and time.perf_counter() - started >= max_wall_s and self.epoch < cfg.epochs:
                self.log(f"time budget of {max_wall_s:.0f} s reached after epoch {self.epoch}; "
                         "run again with the same output directory to continue")
                break
        return self._finish(best_state)

    def _training_info(self) -> dict:
        cfg = self.config
        return {"config": cfg.to_dict(), "epochs_run": self.epoch,
                "steps_run": self.epoch * cfg.steps_per_epoch if cfg.steps_per_epoch else None,
                "wall_s": round(self.wall_s, 1), "device": str(self.device),
                "hardware": hardware_info(self.device), **self.extra_card}

    def _finish(self, best_state) -> TrainResult:
        """Restore the best weights, pick the threshold, save the final model."""
        if best_state is None and self.out_dir is not None and (self.out_dir / "best.json").is_file():
            from hyperspy_eelsid.networks.io import load_model

            best_state = load_model(self.out_dir / "best", device=self.device).state_dict()
        if best_state is not None:
            self.model.load_state_dict(best_state)
        x, y, ignore = self.val
        prob = torch.sigmoid(predict_logits(self.model, x, self.device, self.config.val_batch_size)).numpy()
        pr = threshold_at_equal_precision_recall(y.numpy(), prob, ignore=ignore)
        metrics = {"validation": evaluate_predictions(y.numpy(), prob, pr["threshold"], ignore)}
        metrics["validation"].pop("per_element")
        card = None
        if self.out_dir is not None:
            card = save_model(self.model, self.out_dir / self.config.name,
                              dtype=self.config.weights_dtype, threshold=pr["threshold"],
                              metrics=metrics, training=self._training_info())
        return TrainResult(self.model, self.history, self.best_f1, pr["threshold"], metrics, card)


_RESUMABLE = ("epochs", "early_stop_patience", "device", "num_workers", "val_batch_size")


def resume_refusal(out_dir, config: TrainConfig, ignore=()) -> str | None:
    """Why the checkpoint in ``out_dir`` cannot be resumed with ``config``, or None.

    A run resumes only with the settings it was started with, apart from
    those it may change on the way (``epochs``, ``early_stop_patience``,
    ``device``, ``num_workers``, ``val_batch_size``) and those in ``ignore``.
    None also when ``out_dir`` holds no checkpoint.
    """
    saved = checkpoint_config(Path(out_dir) / "checkpoint")
    if saved is None:
        return None
    now = config.to_dict()
    skip = set(_RESUMABLE) | set(ignore)
    diff = sorted(k for k in (set(saved) | set(now)) - skip if saved.get(k) != now.get(k))
    if not diff:
        return None
    changes = "; ".join(f"{k} {saved.get(k)!r} there, {now.get(k)!r} now" for k in diff)
    return (f"the checkpoint in {out_dir} was made with other settings ({changes}); resume it with "
            "its own settings, train into another output directory, or start afresh "
            "(`eelsid train --no-resume`, or resume=False)")
"""Settings that may change between a run and its resumption."""


def _cycle(loader):
    while True:
        yield from loader


def _take(it, n):
    for _, item in zip(range(n), it):
        yield item


def train(config: TrainConfig, train_data, val_data, out_dir=None, resume: bool = True,
          log=print, **kwargs) -> TrainResult:
    """Train one model; see :class:`Trainer` for the arguments."""
    return Trainer(config, train_data, val_data, out_dir, log=log, **kwargs).run(resume=resume)


def lr_grid_search(config: TrainConfig, train_data, val_data, lrs=(1e-4, 3e-4, 1e-3, 3e-3),
                   steps: int = 200, log=print) -> dict:
    """Pick the initial learning rate by short runs from the same initialisation.

    Each candidate trains a freshly built model (same seed) for ``steps``
    optimizer steps with a constant learning rate; the one with the highest
    validation F1 (ties: lower validation loss) wins.

    Parameters
    ----------
    config : TrainConfig
        Base settings (``lr``, ``epochs`` and ``steps_per_epoch`` are replaced).
    train_data, val_data
        As for :class:`Trainer`.
    lrs : sequence of float
        Candidate learning rates.
    steps : int
        Steps per candidate.
    log : callable
        Progress lines.

    Returns
    -------
    dict
        ``best_lr`` and ``results`` (one dict per candidate with ``lr``,
        ``val_f1``, ``val_loss``; ``val_f1`` is ``nan`` if training diverged).
    """
    log = log or (lambda *_: None)
    results = []
    for lr in lrs:
        cfg = dataclasses.replace(config, lr=float(lr), epochs=1, steps_per_epoch=int(steps),
                                  early_stop_patience=None)
        trainer = Trainer(cfg, train_data, val_data, out_dir=None, log=None)
        try:
            trainer._train_epoch(0)
            val = trainer.validate()
            results.append({"lr": float(lr), "val_f1": val["val_f1"], "val_loss": val["val_loss"]})
        except FloatingPointError:
            results.append({"lr": float(lr), "val_f1": float("nan"), "val_loss": float("nan")})
        log(f"lr {lr:.1e}: val_f1 {results[-1]['val_f1']:.4f} val_loss {results[-1]['val_loss']:.4f}")
    ok = [r for r in results if np.isfinite(r["val_f1"])]
    if not ok:
        raise FloatingPointError(f"every learning rate in {list(lrs)} diverged")
    best = max(ok, key=lambda r: (r["val_f1"], -r["val_loss"]))
    return {"best_lr": best["lr"], "results": results, "steps": int(steps)}
