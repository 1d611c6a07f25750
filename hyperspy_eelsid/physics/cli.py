"""``eelsid gos`` command-line interface (registered by the top-level CLI)."""

import argparse
import sys
import time

__all__ = ["register", "run_build"]


def register(subparsers):
    """Add the ``gos`` command with its ``build`` sub-command.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The ``add_subparsers()`` object of the top-level ``eelsid`` parser.

    Returns
    -------
    argparse.ArgumentParser
        The ``gos`` parser. ``args.func(args)`` runs the chosen action.
    """
    gos = subparsers.add_parser(
        "gos", help="Hartree-Fock-Slater GOS tables (GOSH format)"
    )
    sub = gos.add_subparsers(dest="gos_command", required=True)
    build = sub.add_parser(
        "build",
        help="compute the GOS table (all elements Be..Bi or chosen ones)",
        description="Solve the HFS atom of each element and write the GOS of "
        "every shell with an onset in 50-4000 eV to a GOSH file. Output is "
        "deterministic.",
    )
    build.add_argument("--elements", nargs="+", metavar="EL",
                       help="rebuild only these elements (default: all of Be..Bi); the other "
                            "elements of an existing output file are kept")
    build.add_argument("--out", metavar="PATH",
                       help="output file (default: the package's "
                            "data/eelsid_hfs.gosh)")
    build.add_argument("--workers", type=int, default=1,
                       help="worker processes (default 1)")
    build.add_argument("--alpha", type=float, default=None,
                       help="Slater exchange parameter (default 2/3, Kohn-Sham-Gaspar, "
                            "as shipped; 1: Herman-Skillman)")
    build.set_defaults(func=run_build)
    return gos


def run_build(args):
    """Run ``eelsid gos build``.

    Parameters
    ----------
    args : argparse.Namespace
        With ``elements``, ``out``, ``workers`` and ``alpha``.

    Returns
    -------
    int
        Exit status: 0, or 1 after a message on standard error for unknown
        symbols, an output file computed otherwise (``--elements`` keeps its
        other elements) or a path that cannot be written.
    """
    from pathlib import Path

    from .build import DEFAULT_ALPHA, build_gosh
    from .gos_table import GOS_FILE_NAME

    out = args.out
    if out is None:
        out = Path(__file__).resolve().parent.parent / "data" / GOS_FILE_NAME
    t0 = time.perf_counter()
    try:
        summary = build_gosh(out, elements=args.elements, workers=args.workers,
                             alpha=DEFAULT_ALPHA if getattr(args, "alpha", None) is None else args.alpha,
                             keep_others=args.elements is not None)
    except (ValueError, OSError) as err:  # unknown symbols, a file built otherwise, an unwritable path
        print(f"eelsid gos build: {err}", file=sys.stderr)
        return 1
    size = Path(out).stat().st_size / 1e6
    kept = f", kept the other {len(summary['kept'])} elements of the file" if summary["kept"] else ""
    print(f"wrote {out}: {summary['tables']} tables for "
          f"{len(summary['elements'])} elements{kept}, {size:.1f} MB, "
          f"{time.perf_counter() - t0:.0f} s")
    return 0


def _main(argv=None):
    """Stand-alone entry point (``python -m hyperspy_eelsid.physics.cli``)."""
    parser = argparse.ArgumentParser(prog="eelsid")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(_main())
