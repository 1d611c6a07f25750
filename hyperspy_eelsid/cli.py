"""The ``eelsid`` command line.

Each layer of the pipeline adds its own sub-commands through a
``register(subparsers)`` function (physics: ``gos``, simulation: ``simulate``,
networks: ``train``). The HyperSpy front end's commands (``identify``, ``map``)
are defined here. Heavy imports (HyperSpy, torch) happen only inside the
command that needs them, so ``eelsid --help`` is quick and the training
machine never imports HyperSpy.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from hyperspy_eelsid._version import __version__

#: Modules whose ``register(subparsers)`` adds sub-commands, in help order.
COMMAND_MODULES = (
    "hyperspy_eelsid.physics.cli",
    "hyperspy_eelsid.simulation.cli",
)


# --------------------------------------------------------------------------
# identify
# --------------------------------------------------------------------------
def _identify_one(path: str, args):
    """Identify the elements of one file; returns the JSON entry."""
    from hyperspy_eelsid.elements import ELEMENTS
    from hyperspy_eelsid.signals.identification import identify_elements
    from hyperspy_eelsid.signals.loading import load_spectrum

    s = load_spectrum(path, lazy=args.lazy)
    identify_elements(
        s,
        threshold=args.threshold,
        min_fraction=args.min_fraction,
        device=args.device,
        show_progressbar=False,
        weights=args.weights,
        print_summary=False,
    )
    summary = s.identification
    if not args.quiet:
        print(f"== {path}")
        print(summary)
    return {
        "probabilities": {el: round(summary.max_probability[el], 6) for el in ELEMENTS},
        "detected": list(summary.detected),
        "threshold": summary.threshold,
    }


def _cmd_identify(args) -> int:
    results, failed = {}, 0
    for path in args.files:
        try:
            results[path] = _identify_one(path, args)
        except Exception as err:  # one bad file must not stop the others
            failed += 1
            results[path] = {"error": f"{type(err).__name__}: {err}"}
            print(f"eelsid identify: {path}: {err}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
        if not args.quiet:
            print(f"wrote {args.json}")
    return 1 if failed else 0


def _add_identify(sub):
    p = sub.add_parser(
        "identify",
        help="identify the elements in EELS files",
        description="Identify the elements in each file (spectrum, line scan or spectrum "
        "image). For scans, the probabilities reported are the highest over the pixels "
        "and `detected` applies the minimum-fraction filter.",
    )
    p.add_argument("files", nargs="+", help="files HyperSpy can read, or two-column text (eV, counts)")
    p.add_argument("--threshold", type=float, default=None, help="detection threshold in (0, 1); default: the ensemble's")
    p.add_argument("--min-fraction", type=float, default=0.01, help="fraction of pixels an element must be detected in (default 0.01)")
    p.add_argument("--json", metavar="OUT", help="write the results as JSON")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--weights", default=None, help="model or ensemble directory (default: the shipped ensemble)")
    p.add_argument("--lazy", action="store_true", help="load lazily (for spectrum images larger than memory)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.set_defaults(func=_cmd_identify)


# --------------------------------------------------------------------------
# map
# --------------------------------------------------------------------------
def _cmd_map(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from hyperspy_eelsid.plotting import plot_maps, plot_periodic_table
    from hyperspy_eelsid.signals.identification import identify_elements
    from hyperspy_eelsid.signals.loading import load_spectrum

    s = load_spectrum(args.file, lazy=args.lazy)
    probs = identify_elements(
        s,
        threshold=args.threshold,
        device=args.device,
        show_progressbar=False,
        weights=args.weights,
        print_summary=not args.quiet,
    )
    summary = s.identification
    if s.axes_manager.navigation_dimension == 0:
        fig = plot_periodic_table(
            probs.data, threshold=summary.threshold, title=Path(args.file).name
        )
    else:
        elements = args.elements or summary.detected
        if not elements:
            print(f"eelsid map: no element detected in {args.file}; nothing to map.", file=sys.stderr)
            return 1
        fig = plot_maps(s.elemental_map(elements), title=f"{Path(args.file).name}: probability", vmax=1.0)
    fig.savefig(args.out, dpi=args.dpi, bbox_inches="tight")
    if not args.quiet:
        print(f"wrote {args.out}")
    return 0


def _add_map(sub):
    p = sub.add_parser(
        "map",
        help="draw element probability maps of a scan",
        description="Identify the elements of a line scan or spectrum image and draw the "
        "probability map of each detected element (for a single spectrum: the "
        "probabilities on the periodic table).",
    )
    p.add_argument("file")
    p.add_argument("--out", required=True, help="figure file, e.g. maps.png")
    p.add_argument("--elements", nargs="+", help="elements to map (default: the detected ones)")
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--weights", default=None)
    p.add_argument("--lazy", action="store_true")
    p.add_argument("--dpi", type=int, default=120)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_cmd_map)


# --------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The ``eelsid`` argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="eelsid",
        description="Automatic element identification in core-loss EELS (hyperspy-eelsid).",
    )
    parser.add_argument("--version", action="version", version=f"hyperspy-eelsid {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_identify(sub)
    _add_map(sub)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``eelsid`` command."""
    args = build_parser().parse_args(argv)
    result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
