"""The ``eelsid`` command line.

Each layer of the pipeline adds its own sub-commands through a
``register(subparsers)`` function (physics: ``gos``, simulation: ``simulate``,
networks: ``train``). The HyperSpy front end's commands (``identify``, ``map``,
``quantify``, ``demo``) are defined here. Heavy imports (HyperSpy, torch) happen only inside the
command that needs them, so ``eelsid --help`` is quick and the training
machine never imports HyperSpy.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import warnings
from pathlib import Path

from hyperspy_eelsid._version import __version__

#: Modules whose ``register(subparsers)`` adds sub-commands, in help order.
COMMAND_MODULES = (
    "hyperspy_eelsid.physics.cli",
    "hyperspy_eelsid.simulation.cli",
    "hyperspy_eelsid.networks.cli",
)


def _naming_file(path, err) -> str:
    """The message of ``err``, starting with the file's name once (the loader's messages
    already name it)."""
    message = str(err)
    return message if message.startswith(str(Path(path))) else f"{path}: {message}"


def _missing_output_folder(command: str, *paths):
    """Exit status 2, with a message, when the folder of an output file does not exist: checked
    before any file is read or identified, not after. None when every folder exists."""
    from hyperspy_eelsid._output import missing_folder

    for path in paths:
        message = missing_folder(path)
        if message:
            print(f"eelsid {command}: {message}.", file=sys.stderr)
            return 2
    return None


def _reporting_bad_input(command):
    """Run a one-file command so that bad input (an unreadable file, a wrong option value, a
    missing parameter) ends it with the message on standard error and exit status 1, not a
    traceback; the library's messages say what to do."""
    import functools

    @functools.wraps(command)
    def run(args) -> int:
        try:
            return command(args)
        except (ValueError, OSError) as err:
            print(f"eelsid {args.command}: {_naming_file(args.file, err)}", file=sys.stderr)
            return 1

    return run


# --------------------------------------------------------------------------
# identify
# --------------------------------------------------------------------------
def _low_count_mask(s, fraction):
    """Navigation mask of a scan: pixels whose total counts are below ``fraction`` of the
    brightest pixel's, or that hold NaN or inf (None for a single spectrum or no fraction)."""
    import numpy as np

    from hyperspy_eelsid.preprocessing import spectra_last

    if fraction is None or not s.axes_manager.navigation_dimension:
        return None
    if not 0 <= fraction < 1:
        raise ValueError(f"--mask-below must lie in [0, 1), got {fraction}")
    data = spectra_last(s)
    # float64 totals: a float16 spectrum's counts sum past its 65,504 limit
    totals, finite = np.nansum(data, axis=-1, dtype=np.float64), np.isfinite(data).all(axis=-1)
    if hasattr(totals, "compute"):
        import dask

        totals, finite = dask.compute(totals, finite)
    totals = np.where(finite, totals, -np.inf)
    return ~finite | (totals < fraction * totals.max())


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
        check_white_lines=not args.no_white_line_check,
        check_sc_n=not args.no_sc_n_check,
        navigation_mask=_low_count_mask(s, args.mask_below),
        **_readout(args),
    )
    summary = s.identification
    if not args.quiet:
        print(f"== {path}")
        print(summary)
    return {
        "probabilities": {el: round(summary.max_probability[el], 6) for el in ELEMENTS},
        "detected": list(summary.detected),
        "threshold": summary.threshold,
        "spectra": summary.n_spectra,
        "left_out": summary.n_masked,
        "dropped": list(summary.dropped),
        "cautions": {  # the summary's lines under its table, for scripts that sort out what to check
            "coincident_edges": {el: [list(r) for r in rows] for el, rows in summary.coincident.items()},
            "minor_edges": {el: [list(r) for r in rows] for el, rows in summary.minor_overlaps.items()},
            "named_from_n_edges": summary.named_from_n_edges(),
        },
        "read_from_ev": None if not summary.read_from else summary.read_from["energy_ev"],
    }


def _cmd_identify(args) -> int:
    missing = _missing_output_folder("identify", args.json)
    if missing:
        return missing
    results, failed = {}, 0
    for path in args.files:
        try:
            with warnings.catch_warnings():  # each file's warnings, named with it
                warnings.showwarning = _warning_printer("identify", path)
                results[path] = _identify_one(path, args)
        except Exception as err:  # one bad file must not stop the others
            failed += 1
            results[path] = {"error": f"{type(err).__name__}: {err}"}
            print(f"eelsid identify: {_naming_file(path, err)}", file=sys.stderr)
    if args.json:
        try:
            Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
        except OSError as err:
            print(f"eelsid identify: cannot write {args.json}: {err}", file=sys.stderr)
            return 1
        if not args.quiet:
            print(f"wrote {args.json}")
    return 1 if failed else 0


_MASK_HELP = ("scans: leave out the pixels whose total counts are below FRACTION of the brightest "
              "pixel's (vacuum, holes), and those holding NaN or inf, e.g. 0.05")


def _add_readout_options(p):
    """``--no-cut-splices`` and ``--no-cut-saturation``: the read-out artefacts' handling, as the
    Python API's ``cut_splices`` and ``cut_saturation`` (their warnings name those)."""
    p.add_argument("--no-cut-splices", action="store_true",
                   help="use the channels below a gain splice too (cut_splices=False)")
    p.add_argument("--no-cut-saturation", action="store_true",
                   help="use the channels of a saturated run at the start too (cut_saturation=False)")


def _readout(args) -> dict:
    return {"cut_splices": not args.no_cut_splices, "cut_saturation": not args.no_cut_saturation}


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
    p.add_argument("--no-white-line-check", action="store_true",
                   help="keep Co/Ba and Cu/Pr detections that the ratio of their white lines contradicts")
    p.add_argument("--no-sc-n-check", action="store_true",
                   help="keep Sc and N both where the Sc / N classifier rules one out")
    p.add_argument("--mask-below", type=float, default=None, metavar="FRACTION", help=_MASK_HELP)
    _add_readout_options(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.set_defaults(func=_cmd_identify)


# --------------------------------------------------------------------------
# map
# --------------------------------------------------------------------------
def _save_maps(maps, folder, source, suffix) -> list:
    """Write each element's map as ``<file stem>_<El>_<suffix>.hspy`` in ``folder``; the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for m in maps:
        path = folder / f"{Path(source).stem}_{m.metadata.EELSID.element}_{suffix}.hspy"
        m.save(path, overwrite=True)
        paths.append(str(path))
    return paths


@_reporting_bad_input
def _cmd_map(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from hyperspy_eelsid.plotting import plot_maps
    from hyperspy_eelsid.signals.identification import identify_elements, plot_identification
    from hyperspy_eelsid.signals.loading import load_spectrum

    missing = _missing_output_folder("map", args.out, args.table)
    if missing:
        return missing
    s = load_spectrum(args.file, lazy=args.lazy)
    identify_elements(
        s,
        threshold=args.threshold,
        device=args.device,
        show_progressbar=False,
        weights=args.weights,
        print_summary=not args.quiet,
        navigation_mask=_low_count_mask(s, args.mask_below),
        **_readout(args),
    )
    summary = s.identification
    figures, written = [], []
    if s.axes_manager.navigation_dimension == 0:
        figures.append((args.out, plot_identification(s, title=Path(args.file).name)))
    else:
        elements = args.elements or summary.detected
        if not elements:
            print(f"eelsid map: no element detected in {args.file}; nothing to map.", file=sys.stderr)
            return 1
        maps = s.elemental_map(elements)
        figures.append((args.out, plot_maps(maps, title=f"{Path(args.file).name}: probability", vmax=1.0)))
        if args.save:
            written.extend(_save_maps(maps, args.save, args.file, "probability"))
        if args.table:
            figures.append((args.table, plot_identification(s, title=f"{Path(args.file).name}: highest probability")))
    for path, fig in figures:
        fig.savefig(path, dpi=args.dpi, bbox_inches="tight")
        written.append(path)
    if not args.quiet:
        for path in written:
            print(f"wrote {path}")
    return 0


def _add_map(sub):
    p = sub.add_parser(
        "map",
        help="draw element probability maps of a scan",
        description="Identify the elements of a line scan or spectrum image and draw the "
        "probability map of each detected element (for a single spectrum: the "
        "probabilities on the periodic table).",
    )
    p.add_argument("file", help="a spectrum, line scan or spectrum image HyperSpy can read, or two-column text")
    p.add_argument("--out", required=True, help="figure file, e.g. maps.png")
    p.add_argument("--elements", nargs="+", help="elements to map (default: the detected ones)")
    p.add_argument("--table", metavar="PNG", default=None,
                   help="scans: also draw each element's highest probability on the periodic table")
    p.add_argument("--save", metavar="DIR", default=None,
                   help="scans: also write each map as <file>_<El>_probability.hspy in DIR")
    p.add_argument("--threshold", type=float, default=None,
                   help="detection threshold in (0, 1); default: the ensemble's")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--weights", default=None, help="model or ensemble directory (default: the shipped ensemble)")
    p.add_argument("--lazy", action="store_true", help="load lazily (for spectrum images larger than memory)")
    p.add_argument("--mask-below", type=float, default=None, metavar="FRACTION", help=_MASK_HELP)
    _add_readout_options(p)
    p.add_argument("--dpi", type=int, default=120, help="resolution of the figures (default 120)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.set_defaults(func=_cmd_map)


# --------------------------------------------------------------------------
# quantify
# --------------------------------------------------------------------------
#: The microscope parameters the cross sections need: option, unit.
_MICROSCOPE_OPTIONS = {
    "beam_energy": ("--beam-energy", "keV"),
    "convergence_angle": ("--convergence-angle", "mrad"),
    "collection_angle": ("--collection-angle", "mrad"),
}


def _set_microscope_parameters(s, args):
    """Set the parameters given on the command line on the loaded copy of the file; the ones
    still missing give an error that names the options (the file itself is not changed)."""
    from hyperspy_eelsid.signals.quantification import (
        _EXAMPLE_PARAMETERS,
        MicroscopeParametersError,
        _implausible_microscope_parameters,
        _missing_microscope_parameters,
    )

    given = {name: getattr(args, name) for name in _MICROSCOPE_OPTIONS if getattr(args, name) is not None}
    if given:
        s.set_microscope_parameters(**given)
    implausible = _implausible_microscope_parameters(s)
    if implausible:
        name, value, hint = implausible[0]
        option = _MICROSCOPE_OPTIONS[name][0]
        source = f"{option} {value}" if name in given else f"the file records {name.replace('_', ' ')} {value}"
        raise MicroscopeParametersError(f"{source} is not a plausible value ({hint}); give {option} VALUE.")
    missing = _missing_microscope_parameters(s)
    if missing:
        options = " ".join(f"{_MICROSCOPE_OPTIONS[n][0]} VALUE" for n in missing)
        units = ", ".join(f"{n.replace('_', ' ')} in {_MICROSCOPE_OPTIONS[n][1]}" for n in missing)
        names = [n.replace("_", " ") for n in missing]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        raise MicroscopeParametersError(
            f"the file does not record the {listed} that the "
            f"cross sections need: give them with {options} ({units}), e.g. "
            + " ".join(f"{_MICROSCOPE_OPTIONS[n][0]} {_EXAMPLE_PARAMETERS[n]}" for n in missing) + "."
        )


def _statistics(m) -> dict:
    """A map's mean over the fitted pixels, 5th and 95th percentiles, and the median of the
    pixels' standard errors (for one spectrum: its value three times, and its error)."""
    import numpy as np

    values = np.asarray(m.data, dtype=float).ravel()
    variance = m.metadata.get_item("Signal.Noise_properties.variance")
    errors = None if variance is None else np.sqrt(np.asarray(variance.data, dtype=float).ravel())
    kept = np.isfinite(values)
    if not kept.any():
        return {"mean": None, "p05": None, "p95": None, "error": None}
    p05, p95 = np.percentile(values[kept], [5, 95])
    error = None
    if errors is not None and np.isfinite(errors[kept]).any():
        error = float(np.nanmedian(errors[kept]))
    return {"mean": float(values[kept].mean()), "p05": float(p05), "p95": float(p95), "error": error}


def _quantity_table(columns, elements, n_spectra) -> str:
    """The printed table: one row per element, one column per (heading, number format,
    {element: statistics}) of ``columns``."""
    def cell(stat, spec):
        if stat["mean"] is None:
            return "n/a"
        text = format(stat["mean"], spec)
        if stat["error"] is not None:
            text += f" +- {format(stat['error'], spec)}"
        if n_spectra > 1:
            text += f" ({format(stat['p05'], spec)} to {format(stat['p95'], spec)})"
        return text

    columns = [(name, {el: cell(stats[el], spec) for el in elements}) for name, spec, stats in columns]
    widths = [max(len(name), *(len(c) for c in cells.values())) for name, cells in columns]
    lines = ["  element  " + "  ".join(name.ljust(w) for (name, _), w in zip(columns, widths))]
    for el in elements:
        lines.append(f"  {el:<7}  " + "  ".join(cells[el].ljust(w) for (_, cells), w in zip(columns, widths)))
    return "\n".join(line.rstrip() for line in lines)


@_reporting_bad_input
def _cmd_quantify(args) -> int:
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from hyperspy_eelsid.plotting import plot_maps, plot_model_fit
    from hyperspy_eelsid.signals.composition import areal_density, atomic_percent
    from hyperspy_eelsid.signals.identification import identify_elements
    from hyperspy_eelsid.signals.loading import load_spectrum
    from hyperspy_eelsid.signals.quantification import quantify_elements

    missing = _missing_output_folder("quantify", args.json, args.out)
    if missing:
        return missing
    s = load_spectrum(args.file, lazy=args.lazy)
    _set_microscope_parameters(s, args)  # before the identification: fail fast
    low_loss = (load_spectrum(args.low_loss, signal_type="EELS", lazy=args.lazy, role="low loss")
                if args.low_loss else None)
    mask = _low_count_mask(s, args.mask_below)
    if args.elements:
        if s.metadata.has_item("Sample.elements"):
            del s.metadata.Sample.elements  # the command line's list replaces the file's
        s.add_elements(args.elements)
    else:
        identify_elements(
            s, threshold=args.threshold, min_fraction=args.min_fraction, device=args.device,
            show_progressbar=False, weights=args.weights, print_summary=not args.quiet, navigation_mask=mask,
            **_readout(args),
        )
        if not s.identification.detected:
            print(f"eelsid quantify: no element detected in {args.file}; nothing to quantify "
                  "(name the elements with --elements).", file=sys.stderr)
            return 1
    scan = s.axes_manager.navigation_dimension > 0
    fine_structure = args.fine_structure or args.fine_structure_width is not None
    result = quantify_elements(s, low_loss=low_loss, show_progressbar=False, navigation_mask=mask,
                               **_readout(args),
                               fine_structure=fine_structure, fine_structure_width=args.fine_structure_width,
                               signal_range=args.signal_range,
                               return_model=bool(args.out and not scan))
    maps, model = result if isinstance(result, tuple) else (result, None)  # never empty: refused before
    elements = [m.metadata.EELSID.element for m in maps]
    unfitted = sorted(set(s.metadata.Sample.elements) - set(elements))
    groups = {"intensity": maps, "atomic_percent": atomic_percent(maps)}
    if low_loss is not None:
        groups["areal_density"] = areal_density(maps)
    stats = {name: {m.metadata.EELSID.element: _statistics(m) for m in group} for name, group in groups.items()}
    n_spectra, n_fitted = int(maps[0].data.size), int(np.isfinite(maps[0].data).sum())
    if not args.quiet:
        columns = []  # (heading, number format, {element: statistics})
        if len(maps) > 1:
            columns.append(("at.%", ".1f", stats["atomic_percent"]))
        if "areal_density" in stats:
            columns.append(("atoms/nm^2", ".1f", stats["areal_density"]))
        if not columns:  # one element, no low loss: a share would be 100 %, its intensity says more
            columns.append(("edge intensity (atoms/barn x electrons)", ".4g", stats["intensity"]))
        what = f"{n_fitted} of {n_spectra} spectra" if scan else "one spectrum"
        print(f"== {args.file}: {', '.join(elements)} quantified in {what} "
              f"({'with' if low_loss is not None else 'without'} a low loss"
              f"{', fine structure fitted' if fine_structure else ''})")
        print(_quantity_table(columns, elements, n_spectra))
        if unfitted:
            print(f"  not fitted (no edge in the energy range): {', '.join(unfitted)}")
        print("  value +- standard error" + (" (median over the spectra); in brackets: 5th to 95th "
                                             "percentile over the spectra" if scan else ""))
    written = []
    if args.json:
        entry = {"elements": elements, "not_fitted": unfitted, "low_loss": low_loss is not None,
                 "spectra": n_spectra, "fitted": n_fitted, "intensity": stats["intensity"],
                 "atomic_percent": stats["atomic_percent"]}
        if "areal_density" in stats:
            entry["areal_density_per_nm2"] = stats["areal_density"]
        Path(args.json).write_text(json.dumps({args.file: entry}, indent=1) + "\n")
        written.append(args.json)
    if args.save:
        for suffix, group in groups.items():
            written.extend(_save_maps(group, args.save, args.file, suffix))
    if args.out:
        name = Path(args.file).name
        if not scan:
            fig = plot_model_fit(model, title=f"{name}: {', '.join(elements)}")
        elif len(elements) > 1:
            fig = plot_maps(groups["atomic_percent"], title=f"{name}: composition (at.%)")
        else:
            shown = groups.get("areal_density", maps)
            fig = plot_maps(shown, title=f"{name}: {shown[0].metadata.Signal.quantity}")
        fig.savefig(args.out, dpi=args.dpi, bbox_inches="tight")
        written.append(args.out)
    if not args.quiet:
        for path in written:
            print(f"wrote {path}")
    return 0


def _add_quantify(sub):
    p = sub.add_parser(
        "quantify",
        help="identify, then fit the elements of a spectrum or scan (composition)",
        description="Identify the elements of a spectrum, line scan or spectrum image (or take "
        "them from --elements), fit every spectrum with exSpy's model (power-law background, the "
        "package's GOS tables, optionally a low loss for plural scattering) and print each "
        "element's atomic percent, with the areal density in atoms/nm^2 when a low loss is given.",
    )
    p.add_argument("file", help="core-loss file HyperSpy can read, or two-column text (eV, counts)")
    p.add_argument("--low-loss", metavar="FILE", help="low-loss file of the same scan (or one spectrum for all its pixels), same eV per channel")
    p.add_argument("--elements", nargs="+", metavar="EL", help="elements to fit (default: the detected ones)")
    for name, (option, unit) in _MICROSCOPE_OPTIONS.items():
        p.add_argument(option, dest=name, type=float, default=None, metavar=unit.upper(),
                       help=f"{name.replace('_', ' ')} in {unit}, where the file does not record it")
    p.add_argument("--fine-structure", action="store_true",
                   help="fit exSpy's fine-structure spline above each onset (white lines)")
    p.add_argument("--fine-structure-width", type=float, default=None, metavar="EV",
                   help="the splines' width above each onset in eV (default 30, exSpy's); implies --fine-structure")
    p.add_argument("--signal-range", nargs=2, type=float, metavar=("START", "END"), default=None,
                   help="fit only START-END eV (e.g. to leave out a detector artefact at an end)")
    p.add_argument("--threshold", type=float, default=None, help="detection threshold in (0, 1)")
    p.add_argument("--min-fraction", type=float, default=0.01, help="as for identify (default 0.01)")
    p.add_argument("--mask-below", type=float, default=None, metavar="FRACTION", help=_MASK_HELP)
    _add_readout_options(p)
    p.add_argument("--json", metavar="OUT", help="write each element's figures as JSON")
    p.add_argument("--save", metavar="DIR", help="write the maps (intensity, atomic percent, areal "
                   "density) as .hspy files, with their variances")
    p.add_argument("--out", metavar="PNG", help="figure: the composition maps of a scan, or the "
                   "spectrum with the fitted model")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--weights", default=None, help="model or ensemble directory (default: the shipped ensemble)")
    p.add_argument("--lazy", action="store_true", help="load lazily (for spectrum images larger than memory)")
    p.add_argument("--dpi", type=int, default=120, help="resolution of the figures (default 120)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.set_defaults(func=_cmd_quantify)


# --------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------
def demo_signal(seed: int = 0, shape=(24, 40), **scene_kwargs):
    """The demo's simulated superlattice as an ``EELS_ID`` spectrum image.

    ``scene_kwargs`` go to :func:`~hyperspy_eelsid.simulation.scene.simulate_scene`
    (e.g. ``white_line_strength=0``).

    Returns
    -------
    signal : EELSIDSpectrum
        Calibrated (1 nm pixels, eV energy axis) with microscope parameters set.
    scene : hyperspy_eelsid.simulation.scene.Scene
        What it was made of (phases, ground-truth element maps).
    """
    import hyperspy.api as hs

    from hyperspy_eelsid.simulation.scene import superlattice_scene

    scene = superlattice_scene(shape=shape, seed=seed, **scene_kwargs)
    mic = scene.microscope
    axes = [
        {"name": "y", "units": "nm", "scale": 1.0, "offset": 0.0, "size": shape[0], "navigate": True},
        {"name": "x", "units": "nm", "scale": 1.0, "offset": 0.0, "size": shape[1], "navigate": True},
        {"name": "Energy loss", "units": "eV", "scale": mic.dispersion, "offset": mic.offset,
         "size": mic.n_channels, "navigate": False},
    ]
    s = hs.signals.Signal1D(scene.counts, axes=axes)
    s.set_signal_type("EELS_ID")
    s.metadata.General.title = "Simulated LaMnO3/BaTiO3/SrTiO3 superlattice"
    s.set_microscope_parameters(
        beam_energy=mic.beam_energy, convergence_angle=mic.convergence_angle,
        collection_angle=mic.collection_angle,
    )
    return s, scene


def demo_low_loss(signal, scene):
    """The low loss that ``scene``'s edges were convolved with, as an ``EELS`` signal of
    ``signal``'s navigation shape (the same spectrum in every pixel): for
    ``quantify_elements(low_loss=...)`` of a :func:`demo_signal`."""
    import hyperspy.api as hs
    import numpy as np

    nav = tuple(signal.axes_manager._navigation_shape_in_array)
    ll = hs.signals.Signal1D(np.broadcast_to(scene.low_loss, nav + scene.low_loss.shape).copy())
    ll.set_signal_type("EELS")
    axis = ll.axes_manager.signal_axes[0]
    axis.offset, axis.scale, axis.units = float(scene.low_loss_energy[0]), scene.microscope.dispersion, "eV"
    return ll


def _cmd_demo(args) -> int:
    import time

    import matplotlib

    matplotlib.use("Agg")
    from hyperspy_eelsid.inference import resolve_device
    from hyperspy_eelsid.plotting import plot_maps

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        resolve_device(args.device)  # before minutes of work: 'gpu', or CUDA where torch sees none
    except (OSError, ValueError) as err:
        print(f"eelsid demo: {err}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    s, scene = demo_signal(seed=args.seed)
    ny, nx = s.axes_manager.navigation_shape[::-1]
    print(f"Simulated a {ny} x {nx} spectrum image of a LaMnO3/BaTiO3/SrTiO3 superlattice "
          f"({s.axes_manager.signal_shape[0]} channels, {scene.energy[0]:.0f}-{scene.energy[-1]:.0f} eV, seed {args.seed}).")
    print(f"Elements in the specimen: {', '.join(scene.elements)}; with edges in the measured "
          f"range: {', '.join(scene.visible)}.")
    s.identify_elements(device=args.device, weights=args.weights, show_progressbar=False)
    summary = s.identification
    written = []
    fig = s.plot_identification(present=scene.visible, title="Highest probability over the scan")
    written.append(out / "probabilities_periodic_table.png")
    fig.savefig(written[-1], dpi=110, bbox_inches="tight")
    if summary.detected:
        fig = plot_maps(s.elemental_map(), title="Network probability maps", vmax=1.0)
        written.append(out / "probability_maps.png")
        fig.savefig(written[-1], dpi=110, bbox_inches="tight")
        maps = s.quantify_elements(show_progressbar=False)
        fig = plot_maps(maps, title="Model-based quantification: fitted edge intensity")
        written.append(out / "quantified_maps.png")
        fig.savefig(written[-1], dpi=110, bbox_inches="tight")
    found = set(summary.detected)
    expected = set(scene.visible)
    verdict = "all of them" if found == expected else (
        f"missed {sorted(expected - found) or 'none'}, extra {sorted(found - expected) or 'none'}")
    print(f"Detected {', '.join(summary.detected) or 'nothing'} ({verdict}) in {time.perf_counter() - t0:.1f} s.")
    for path in written:
        print(f"wrote {path}")
    return 0


def _seed(text: str) -> int:
    """argparse type of a seed: numpy's generators take non-negative integers only."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a non-negative integer, got {value}")
    return value


def _add_demo(sub):
    p = sub.add_parser(
        "demo",
        help="identify and map the elements of a simulated superlattice",
        description="Simulate a LaMnO3/BaTiO3/SrTiO3 superlattice spectrum image (like "
        "the paper's Fig. 7) with the package's simulator, identify its elements, and "
        "draw the probability maps and the model-based quantification maps.",
    )
    p.add_argument("--out", default="eelsid-demo", help="folder for the figures (default ./eelsid-demo)")
    p.add_argument("--seed", type=_seed, default=0, help="simulation seed, a non-negative integer (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--weights", default=None, help="model or ensemble directory (default: the shipped ensemble)")
    p.set_defaults(func=_cmd_demo)


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
    _add_quantify(sub)
    _add_demo(sub)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def _warning_printer(command: str, path=None):
    """``warnings.showwarning`` for the command line: ``eelsid <command>: [<file>: ]warning:
    <message>`` on standard error, like its errors, instead of Python's ``<file>:<line>:
    UserWarning:`` followed by a line of the ``eelsid`` script. With ``path``, the file the
    warning is about (``identify`` reads several)."""
    where = f"{path}: " if path is not None else ""

    def show(message, category, filename, lineno, file=None, line=None):
        name = "warning" if category is UserWarning else f"warning ({category.__name__})"
        print(f"eelsid {command}: {where}{name}: {message}", file=file or sys.stderr)

    return show


def main(argv=None) -> int:
    """Entry point of the ``eelsid`` command."""
    with warnings.catch_warnings():  # the filters and the printer below end with the command
        # exSpy 0.3 imports HyperSpy's lazy signal classes from a path HyperSpy 2.5
        # deprecates, and HyperSpy 2.3 imports RosettaSciIO helpers from modules that
        # RosettaSciIO 0.15 renamed; the warnings are about their code, so the
        # command does not show them.
        warnings.filterwarnings("ignore", message=r"Importing `\w+` from `hyperspy\._signals")
        # (moved: "... moved to `rsciio.utils.path` and will be removed ..."; renamed: "The module
        # `rsciio.utils.rgb_tools` has been renamed ...")
        warnings.filterwarnings("ignore", message=r".*`rsciio\.utils\.\w+` (has been renamed|and will be removed)")
        args = build_parser().parse_args(argv)
        warnings.showwarning = _warning_printer(args.command)
        result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
