"""``eelsid simulate``: write a simulated training dataset."""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["register", "main"]


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``simulate`` subcommand to an ``argparse`` subparsers object.

    The handler is stored as ``func`` (``args.func(args)`` returns the exit code).
    """
    p = subparsers.add_parser(
        "simulate",
        help="simulate labelled core-loss EELS spectra into an HDF5 file",
        description="Simulate core-loss EELS spectra (Table 1 of Annys et al. 2023 by "
        "default) and stream them into a chunked, compressed HDF5 file.",
    )
    p.add_argument("--n", type=int, required=True, help="number of spectra")
    p.add_argument("--out", required=True, help="output HDF5 file")
    p.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    p.add_argument("--device", default="cpu", help="torch device: cpu (default), cuda (cuda:1, ...) or auto")
    p.add_argument("--batch-size", type=int, default=1024, help="spectra per batch (default 1024)")
    p.add_argument("--workers", type=int, default=1,
                   help="CPU worker processes, one torch thread each (default 1); same file for any number")
    p.add_argument("--config", help="JSON file with configuration overrides (SimulationConfig fields)")
    p.add_argument("--gos-file", help="GOSH file (default: the package's table)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output file (refused otherwise; it is replaced only "
                        "once the new one is complete)")
    p.set_defaults(func=run)
    return p


def _holding(path) -> str:
    """", holding N simulated spectra" for a dataset file, else ""."""
    try:
        import h5py

        with h5py.File(path, "r") as h:
            return f", holding {h['spectra'].shape[0]:,} simulated spectra"
    except (OSError, KeyError, AttributeError, IndexError):
        return ""


def run(args) -> int:
    """Execute ``eelsid simulate`` for parsed ``args``."""
    from hyperspy_eelsid._output import missing_folder

    from .config import SimulationConfig, read_overrides
    from .dataset import write_dataset

    try:
        overrides = read_overrides(args.config) if args.config else {}
        if args.gos_file:
            overrides["gos_file"] = args.gos_file
        config = SimulationConfig.from_dict(overrides)
        if args.n < 1:
            raise ValueError("--n must be >= 1")
        if args.batch_size < 1:
            raise ValueError("--batch-size must be >= 1")
        if args.workers < 1:
            raise ValueError("--workers must be >= 1")
        unwritable = missing_folder(args.out)
        if unwritable:
            raise ValueError(unwritable)
        if os.path.exists(args.out) and not args.overwrite:
            raise ValueError(f"{args.out} exists{_holding(args.out)}; pass --overwrite to replace it, "
                             "or choose another --out")
        from hyperspy_eelsid.inference import resolve_device  # numpy/torch only, no HyperSpy

        device = resolve_device(args.device)  # 'gpu' or a CUDA device torch does not see: a clear error
        write_dataset(args.out, args.n, seed=args.seed, config=config, device=device,
                      batch_size=args.batch_size, progress=not args.no_progress, workers=args.workers)
    except (ValueError, FileNotFoundError) as exc:
        print(f"eelsid simulate: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.n} spectra to {args.out}")
    return 0


def main(argv=None) -> int:
    """Stand-alone entry point: ``python -m hyperspy_eelsid.simulation.cli simulate ...``."""
    parser = argparse.ArgumentParser(prog="eelsid")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
