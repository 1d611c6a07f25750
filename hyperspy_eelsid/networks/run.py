"""From a TOML configuration to a trained, saved model (``eelsid train``).

A configuration has the tables

``[model]``
    ``name``, ``architecture``, ``preset`` and ``[model.options]``
    (architecture options overriding the preset).
``[training]``
    Any field of :class:`~hyperspy_eelsid.networks.training.TrainConfig`;
    ``lr = "grid"`` runs :func:`~hyperspy_eelsid.networks.training.lr_grid_search`
    over ``lr_grid`` for ``lr_grid_steps`` steps each first.
``[data]``
    ``source = "simulator"`` (fresh spectra every step; ``seed``,
    ``[data.simulation]`` overrides of the simulation configuration),
    ``"hdf5"`` (``path``, optional ``x_key``/``y_key``; ``in_memory = true``
    reads it into memory once, much faster for files that fit), or ``"toy"``
    (:class:`~hyperspy_eelsid.networks.data.ToyEdgeSource`, for smoke runs).
``[validation]``
    Same sources: ``n_spectra`` and ``seed`` for generated data, ``path``
    for HDF5 (with an optional ``ignore`` dataset).
``[output]``
    ``dir`` (default ``runs/<name>``) and ``weights_dtype``.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, published as tomli
    import tomli as tomllib

from hyperspy_eelsid.networks.training import (
    TrainConfig,
    TrainResult,
    Trainer,
    lr_grid_search,
    resolve_device,
    resume_refusal,
)

__all__ = ["load_config", "apply_overrides", "smoke_config", "make_data", "prepare_run", "run_config"]

_TOP = ("model", "training", "data", "validation", "output")


def load_config(path) -> dict:
    """Read a TOML run configuration and check its tables."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"configuration {path} does not exist")
    with open(path, "rb") as f:
        config = tomllib.load(f)
    unknown = sorted(set(config) - set(_TOP))
    if unknown:
        raise ValueError(f"{path}: unknown tables {unknown}; expected {list(_TOP)}")
    if "architecture" not in config.get("model", {}):
        raise ValueError(f"{path}: [model] needs an 'architecture'")
    config.setdefault("model", {}).setdefault("name", path.stem)
    return config


def apply_overrides(config: dict, overrides) -> dict:
    """Apply ``"table.key=value"`` strings (value parsed as TOML, else a string)."""
    config = copy.deepcopy(config)
    for item in overrides or ():
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"override {item!r} is not of the form table.key=value")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        node = config
        *parents, last = key.strip().split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return config


def smoke_config(config: dict) -> dict:
    """A seconds-long CPU version of ``config``: compact preset, toy data, 2 x 3 steps."""
    config = copy.deepcopy(config)
    config["model"]["preset"] = "compact"
    config["model"]["options"] = {}
    t = config.setdefault("training", {})
    t.update(epochs=2, steps_per_epoch=3, batch_size=16, device="cpu", precision="fp32",
             lr_grid=list(t.get("lr_grid", [1e-4, 1e-3]))[:2], lr_grid_steps=2)
    config["data"] = {"source": "toy", "seed": 0}
    config["validation"] = {"source": "toy", "seed": 1, "n_spectra": 64}
    return config


def _source(spec: dict, batch_size: int, device, default_seed: int):
    from hyperspy_eelsid.networks.data import (
        HDF5Spectra,
        InMemorySpectra,
        SimulatorSource,
        ToyEdgeSource,
    )

    kind = spec.get("source", "simulator")
    seed = int(spec.get("seed", default_seed))
    if kind == "simulator":
        return SimulatorSource(batch_size, seed, device, spec.get("simulation"),
                               chunk_steps=int(spec.get("chunk_steps", 1)))
    if kind == "toy":
        return ToyEdgeSource(batch_size, seed, **spec.get("toy", {}))
    if kind == "hdf5":
        if "path" not in spec:
            raise ValueError("an hdf5 data source needs a 'path'")
        if spec.get("in_memory", False):
            return InMemorySpectra(spec["path"], batch_size, seed, spec.get("x_key", "spectra"),
                                   spec.get("y_key", "labels"), spec.get("limit"))
        return HDF5Spectra(spec["path"], spec.get("x_key", "spectra"), spec.get("y_key", "labels"),
                           spec.get("ignore_key", "ignore"))
    raise ValueError(f"data source must be 'simulator', 'hdf5' or 'toy', got {kind!r}")


def make_data(config: dict, device):
    """``(train_data, val_data)`` described by the ``[data]`` and ``[validation]`` tables."""
    from hyperspy_eelsid.networks.data import HDF5Spectra, fixed_set

    batch = int(config.get("training", {}).get("batch_size", 256))
    train_data = _source(config.get("data", {}), batch, device, 1)
    vspec = config.get("validation", {"source": "simulator", "seed": 2})
    vsource = _source(vspec, min(batch, 1024), device, 2)
    if isinstance(vsource, HDF5Spectra):
        return train_data, vsource
    return train_data, fixed_set(vsource, int(vspec.get("n_spectra", 4096)))


def prepare_run(config: dict, out_dir=None, resume: bool = True, log=print) -> Trainer:
    """Check a configuration, build its data and model, and run its learning-rate grid search.

    Everything that can be refused is refused here, before the output
    directory is created or written to: unknown settings, an unusable device,
    missing data files, and a checkpoint in ``out_dir`` made with other
    settings (when resuming). Parameters as in :func:`run_config`.

    Returns
    -------
    Trainer
        Ready to :meth:`~hyperspy_eelsid.networks.training.Trainer.run`.

    Raises
    ------
    ValueError, OSError, KeyError
        A bad setting or data file (the message says which).
    hyperspy_eelsid.networks.checkpoint.CheckpointError
        When resuming a checkpoint made with other settings.
    """
    from hyperspy_eelsid.networks.checkpoint import CheckpointError

    model = config["model"]
    training = dict(config.get("training", {}))
    lr_grid = training.pop("lr_grid", [1e-4, 3e-4, 1e-3, 3e-3])
    lr_grid_steps = int(training.pop("lr_grid_steps", 200))
    output = config.get("output", {})
    out_dir = Path(out_dir or output.get("dir") or Path("runs") / model["name"])
    grid_file = out_dir / "lr_grid.json"
    search = training.get("lr") == "grid"
    grid = json.loads(grid_file.read_text()) if search and resume and grid_file.is_file() else None
    if search:  # the grid's choice, or a placeholder until the search has run
        training["lr"] = grid["best_lr"] if grid else 1e-3
    cfg = TrainConfig.from_dict({
        "name": model["name"], "architecture": model["architecture"],
        "preset": model.get("preset", "default"), "model": dict(model.get("options", {})),
        "weights_dtype": output.get("weights_dtype", "float32"), **training})
    device = resolve_device(cfg.device)
    if resume:
        refusal = resume_refusal(out_dir, cfg, ignore=("lr",) if search and grid is None else ())
        if refusal:
            raise CheckpointError(refusal)
    train_data, val_data = make_data(config, device)
    searched = search and grid is None
    if searched:
        log(f"learning-rate grid search over {lr_grid} ({lr_grid_steps} steps each)")
        grid = lr_grid_search(cfg, train_data, val_data, lr_grid, lr_grid_steps, log=log)
    if search:
        cfg.lr = grid["best_lr"]
        log(f"initial learning rate {cfg.lr:g}")
    extra = {"data": config.get("data", {}), "validation": config.get("validation", {}),
             "lr_grid": grid}
    trainer = Trainer(cfg, train_data, val_data, out_dir, log=log, extra_card=extra)
    out_dir.mkdir(parents=True, exist_ok=True)
    if searched:
        grid_file.write_text(json.dumps(grid, indent=2))
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, default=str))
    return trainer


def run_config(config: dict, out_dir=None, resume: bool = True, log=print,
               max_wall_s: float | None = None) -> TrainResult:
    """Train the model a configuration describes and save it in ``out_dir``.

    Parameters
    ----------
    config : dict
        As read by :func:`load_config` (after :func:`apply_overrides`).
    out_dir : str or Path, optional
        Overrides ``[output] dir`` (default ``runs/<name>``).
    resume : bool
        Resume from a checkpoint in ``out_dir`` if there is one.
    log : callable
        Progress lines.
    max_wall_s : float, optional
        Stop (with a checkpoint to resume from) after the epoch that passes
        this many seconds.

    Returns
    -------
    TrainResult
    """
    trainer = prepare_run(config, out_dir=out_dir, resume=resume, log=log)
    return trainer.run(resume=resume, max_wall_s=max_wall_s)
