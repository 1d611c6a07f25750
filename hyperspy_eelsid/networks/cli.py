"""``eelsid train`` and ``eelsid evaluate`` sub-commands (no HyperSpy import).

The top-level :mod:`hyperspy_eelsid.cli` calls :func:`register`.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register", "main"]


def register(subparsers) -> None:
    """Add ``train`` and ``evaluate`` to an ``argparse`` sub-parser collection."""
    p = subparsers.add_parser(
        "train", help="train a network from a TOML configuration",
        description="Train one network as described by a TOML configuration "
                    "(see configs/*.toml); resumes from the checkpoint in the output directory.")
    p.add_argument("--config", required=True, help="TOML file, e.g. configs/vit.toml")
    p.add_argument("--out", default=None, help="output directory (default: [output] dir or runs/<name>)")
    p.add_argument("--device", default=None, help="override [training] device (auto, cpu, cuda, cuda:1)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="TABLE.KEY=VALUE",
                   help="override a setting, e.g. --set training.epochs=10 (repeatable)")
    p.add_argument("--no-resume", action="store_true", help="start afresh even if a checkpoint exists")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop after the epoch that passes this wall time (checkpointed: run again to continue)")
    p.add_argument("--smoke", action="store_true",
                   help="seconds-long CPU check of the configuration (compact model, toy data)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_cmd_train)

    e = subparsers.add_parser(
        "evaluate", help="evaluate a model or ensemble on an HDF5 dataset",
        description="Precision, recall, F1 (occurrence-weighted and micro), EMR, RMSE and the most "
                    "confused element pairs of a saved model or ensemble on an HDF5 file with "
                    "'spectra' (N, 3072), 'labels' (N, 80) and optionally 'ignore' (N, 80).")
    e.add_argument("--weights", required=True, help="model card/stem or ensemble directory")
    e.add_argument("--data", required=True, help="HDF5 file")
    e.add_argument("--threshold", type=float, default=None,
                   help="decision threshold (default: the card's)")
    e.add_argument("--ignore-carbon", action="store_true", help="leave carbon out of the metrics")
    e.add_argument("--device", default="cpu")
    e.add_argument("--batch-size", type=int, default=1024)
    e.add_argument("--output", default=None, help="write the metrics as JSON here")
    e.set_defaults(func=_cmd_evaluate)

    b = subparsers.add_parser(
        "ensemble", help="combine saved models into an ensemble directory",
        description="Copy saved models into OUT, choose the ensemble's threshold where precision "
                    "equals recall on simulated validation spectra, evaluate on an optional "
                    "HDF5 test set, and write OUT/ensemble.json.")
    b.add_argument("members", nargs="+", help="model cards (.json) of the members")
    b.add_argument("--out", required=True, help="ensemble directory (e.g. weights)")
    b.add_argument("--val-seed", type=int, default=2, help="seed of the simulated validation set")
    b.add_argument("--n-val", type=int, default=8192, help="simulated validation spectra")
    b.add_argument("--simulation", default=None,
                   help="JSON file of simulation overrides for the validation spectra "
                        "(the members' training setting, e.g. configs/simulation/realistic.json)")
    b.add_argument("--test", default=None, help="HDF5 test set (spectra, labels)")
    b.add_argument("--name", default="eelsid-ensemble", help="the ensemble's name (shown by identify_elements)")
    b.add_argument("--note", default=None, help="free text for the card (how it was trained)")
    b.add_argument("--device", default="cpu")
    b.set_defaults(func=_cmd_ensemble)


def _bad_input(command: str, exc: Exception, path=None) -> int:
    """Report an input error in one line (naming ``path`` unless the message does) and return
    exit status 2, as argparse does for bad options."""
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)  # KeyError quotes it
    where = "" if path is None or str(path) in message else f"{path}: "
    print(f"eelsid {command}: error: {where}{message}", file=sys.stderr)
    return 2


def _cmd_train(args) -> int:
    from hyperspy_eelsid.networks.checkpoint import CheckpointError
    from hyperspy_eelsid.networks.run import apply_overrides, load_config, prepare_run, smoke_config

    try:
        config = load_config(args.config)
    except (ValueError, OSError) as exc:  # no such file, a TOML error
        return _bad_input("train", exc, args.config)
    try:
        config = apply_overrides(config, args.overrides)
    except ValueError as exc:  # a malformed --set
        return _bad_input("train", exc)
    if args.device:
        config.setdefault("training", {})["device"] = args.device
    if args.smoke:
        config = smoke_config(config)
    log = (lambda *_: None) if args.quiet else (lambda line: print(line, flush=True))
    max_wall_s = None if args.max_minutes is None else 60.0 * args.max_minutes
    try:  # settings, data and checkpoint are checked before anything is written
        trainer = prepare_run(config, out_dir=args.out, resume=not args.no_resume, log=log)
    except (ValueError, OSError, KeyError, CheckpointError) as exc:
        return _bad_input("train", exc)
    try:
        result = trainer.run(resume=not args.no_resume, max_wall_s=max_wall_s)
    except CheckpointError as exc:  # a corrupt checkpoint; other errors keep their traceback
        return _bad_input("train", exc)
    if not args.quiet:
        v = result.metrics.get("validation", {})
        print(f"saved {result.card['name'] if result.card else '?'}: threshold {result.threshold:.3f}, "
              f"validation F1 {v.get('f1', float('nan')):.4f}, EMR {v.get('emr', float('nan')):.3f}")
    return 0


def _check_options(args) -> str:
    """The device to use (``"auto"`` resolved); refuses a threshold that is no probability, a
    batch size below 1 and a device torch cannot use (``ValueError`` saying which), before any
    weights or data are read."""
    from hyperspy_eelsid.inference import resolve_device

    threshold = getattr(args, "threshold", None)
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ValueError(f"--threshold must be a probability strictly between 0 and 1, got {threshold}")
    batch_size = getattr(args, "batch_size", None)
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
    return resolve_device(args.device)


def _cmd_evaluate(args) -> int:
    import numpy as np

    from hyperspy_eelsid._output import missing_folder
    from hyperspy_eelsid.elements import element_index
    from hyperspy_eelsid.evaluation import confused_pairs, evaluate_predictions, summary
    from hyperspy_eelsid.inference import load_predictor_model
    from hyperspy_eelsid.networks.data import HDF5Spectra
    from hyperspy_eelsid.networks.io import ModelFileError

    unwritable = missing_folder(args.output)
    if unwritable:  # before the evaluation
        return _bad_input("evaluate", FileNotFoundError(unwritable))
    try:
        device = _check_options(args)
        model = load_predictor_model(args.weights, device=device)
    except (ModelFileError, ValueError, OSError) as exc:  # missing or corrupt weights
        return _bad_input("evaluate", exc)
    try:
        data = HDF5Spectra(args.data)
        x, y = data.arrays()
        ignore = data.ignore_mask()
    except (KeyError, ValueError, OSError) as exc:  # no such file, not HDF5, a dataset missing or misshapen
        return _bad_input("evaluate", exc, args.data)
    if args.ignore_carbon:
        carbon = np.zeros(y.shape, dtype=bool)
        carbon[:, element_index("C")] = True
        ignore = carbon if ignore is None else (ignore | carbon)
    threshold = args.threshold if args.threshold is not None else model.threshold
    if threshold is None:
        return _bad_input("evaluate", ValueError(f"{args.weights} has no threshold in its card: "
                                                 "pass --threshold"))
    prob = model.predict_proba(x, batch_size=args.batch_size)
    metrics = evaluate_predictions(y, prob, threshold, ignore)
    metrics["confused_pairs"] = confused_pairs(y, prob >= threshold, ignore)
    print(json.dumps(summary(metrics), indent=2))
    if args.output:
        with open(args.output, "w") as f:
            json.dump(metrics, f, indent=2)
    return 0


def _cmd_ensemble(args) -> int:
    from hyperspy_eelsid.networks.data import HDF5Spectra, SimulatorSource, fixed_set
    from hyperspy_eelsid.networks.ensemble import build_ensemble
    from hyperspy_eelsid.networks.io import ModelFileError, load_model

    try:  # everything that can be wrong with the input, before the validation spectra are simulated
        if args.n_val < 1:
            raise ValueError(f"--n-val must be at least 1, got {args.n_val}")
        device = _check_options(args)
        for member in args.members:
            load_model(member)
        source = SimulatorSource(batch_size=min(1024, args.n_val), seed=args.val_seed, simulation=args.simulation)
        test = HDF5Spectra(args.test).arrays() if args.test else None
    except (ModelFileError, KeyError, ValueError, OSError) as exc:
        return _bad_input("ensemble", exc)
    val = fixed_set(source, args.n_val)
    extra = {"name": args.name,
             "validation_data": {"source": "simulator", "seed": args.val_seed, "n_spectra": args.n_val,
                                 "simulation": source.simulation},
             "test_set": args.test}
    if args.note:
        extra["note"] = args.note
    card = build_ensemble(args.members, args.out, val, test, device=device, **extra)
    print(json.dumps({"threshold": card["threshold"], "metrics": card["metrics"],
                      "weights_bytes": card["weights_bytes"]}, indent=2))
    return 0


def main(argv=None) -> int:
    """Stand-alone entry point (``python -m hyperspy_eelsid.networks.cli``)."""
    parser = argparse.ArgumentParser(prog="eelsid")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
