"""Score a model or ensemble on the real spectra of ../shared/eels-benchmark.

Every spectrum goes through exactly the path a user's spectrum takes:
``load_spectrum`` (HyperSpy, or two-column text) -> ``identify_elements``
(preprocessing + network). The scores follow the paper and the benchmark's
README: precision, recall and F1 per element weighted by occurrence, exact
match rate, RMSE, and micro-averaged precision/recall/F1; carbon and every
element the manifest marks ``ignore`` are left out. They are printed at the
model card's threshold, at the threshold where precision equals recall on
this set (optimistic: chosen on the scored spectra), and with that threshold
chosen by leave-one-out cross-validation (each spectrum scored at the
threshold where precision equals recall on the others). These rows score the
networks' probabilities. The row "model card, checks" scores what
``identify_elements`` reports: the card threshold, after the white-line and
Sc / N checks have dropped the detections they rule out. It also counts how
often a lanthanide named from its N4,5 edges alone (the summary's caution) is
right. Scans are scored with
the 1 % filter and the checks on. Run::

    python benchmarks/real_spectra.py [--weights weights/ensemble] [--json out.json]

It exits cleanly with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parents[1] / "shared"


def score_spectra(manifest, root, weights=None, device="auto", limit=None):
    """Probabilities, labels and ignore masks of the single spectra."""
    from hyperspy_eelsid.elements import ELEMENTS
    from hyperspy_eelsid.evaluation import label_arrays
    from hyperspy_eelsid.inference import Predictor
    from hyperspy_eelsid.signals.identification import identify_elements
    from hyperspy_eelsid.signals.loading import load_spectrum
    from hyperspy_eelsid.saturation import SaturationWarning
    from hyperspy_eelsid.splices import SpliceWarning

    entries = manifest["spectra"][:limit]
    probs, checked, ids, failed, spliced, saturated, n_only, minor = [], [], [], [], 0, 0, [], []
    card_threshold = Predictor(weights, device=device).model.threshold  # loads (and caches) it once
    t0 = time.perf_counter()
    for entry in entries:
        try:
            s = load_spectrum(root / entry["file"])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", SpliceWarning)
                warnings.simplefilter("always", SaturationWarning)
                p = identify_elements(s, threshold=card_threshold or 0.5, device=device, weights=weights,
                                      print_summary=False, show_progressbar=False)
            spliced += any(issubclass(w.category, SpliceWarning) for w in caught)
            saturated += any(issubclass(w.category, SaturationWarning) for w in caught)
        except Exception as err:
            failed.append((entry["id"], f"{type(err).__name__}: {err}"))
            continue
        probs.append(np.asarray(p.data, dtype=float).ravel())
        dropped = list(s.metadata.get_item("EELSID.summary.dropped", []))
        checked.append(probs[-1].copy())
        checked[-1][[ELEMENTS.index(el) for el in dropped]] = 0.0  # what the front end reports
        n_only.append(s.identification.named_from_n_edges())  # lanthanides named from N4,5 edges alone
        minor.append(s.identification.minor_overlaps)  # edges next to a minor edge of another detected element
        ids.append(entry)
    elapsed = time.perf_counter() - t0
    y_true, ignore = label_arrays(ids)
    return {
        "probabilities": np.array(probs).reshape(len(ids), -1),
        "checked": np.array(checked).reshape(len(ids), -1),
        "y_true": y_true,
        "ignore": ignore,
        "entries": ids,
        "failed": failed,
        "card_threshold": card_threshold,
        "seconds": elapsed,
        "spliced": spliced,
        "saturated": saturated,
        "named_from_n_edges": n_only,
        "minor_overlaps": minor,
    }


def score_scans(manifest, root, weights=None, device="auto", threshold=None):
    """Detected (1 % filter) versus documented elements of every scan."""
    from hyperspy_eelsid.signals.identification import identify_elements
    from hyperspy_eelsid.signals.loading import load_spectrum

    rows = []
    for entry in manifest["scans"]:
        s = load_spectrum(root / entry["file"])
        identify_elements(s, threshold=threshold, device=device, weights=weights,
                          print_summary=False, show_progressbar=False)
        detected = set(s.identification.detected) - set(entry.get("ignore", [])) - {"C"}
        present = set(entry["present"])
        documented = bool(present)
        rows.append({
            "id": entry["id"],
            "kind": entry.get("kind", ""),
            "shape": s.axes_manager.navigation_shape,
            "present": sorted(present) if documented else None,
            "detected": sorted(detected),
            "equal": (detected == present) if documented else None,
            # the evidence behind each wrong or missed element: share of pixels >= t, highest p
            "mismatch": {el: {"fraction": float(s.identification.fraction[el]),
                              "max_probability": float(s.identification.max_probability[el])}
                         for el in sorted(detected ^ present)} if documented else {},
        })
    return rows


def print_scans(scans, threshold):
    """Print detected versus documented elements of the scans."""
    print(f"scans (1 % filter, t = {threshold:.3f}):")
    for row in scans:
        status = "n/a (undocumented)" if row["equal"] is None else ("equal" if row["equal"] else "DIFFERENT")
        print(f"  {row['id']} {row['kind']:<5} {str(row['shape']):<10} present {row['present']} "
              f"detected {row['detected']}: {status}")
        for el, ev in row.get("mismatch", {}).items():
            kind = "missed" if el in row["present"] else "extra"
            print(f"      {kind} {el:<2}: {100 * ev['fraction']:5.1f} % of pixels >= t, max p {ev['max_probability']:.3f}")


def report(spectra, top=12):
    """Print the tables of the single spectra; return the figures as a JSON-friendly dict."""
    from hyperspy_eelsid.elements import ELEMENTS
    from hyperspy_eelsid.evaluation import benchmark_report, leave_one_out_report

    p, y, ign = spectra["probabilities"], spectra["y_true"], spectra["ignore"]
    n = len(p)
    print(f"{n} real spectra ({int((y.astype(bool) & ~ign).sum())} element occurrences), "
          f"identified in {spectra['seconds']:.1f} s through the front end; "
          f"{spectra['spliced']} of them stitched from two read-outs (read from the splice on), "
          f"{spectra.get('saturated', 0)} saturated (read from the end of the clipped run on)")
    for sid, err in spectra["failed"]:
        print(f"  FAILED {sid}: {err}")
    results = {}
    header = f"{'threshold':>22} {'t':>6} {'P':>6} {'R':>6} {'F1':>6} {'EMR':>6} {'RMSE':>6} {'microP':>7} {'microR':>7} {'microF1':>7}"
    print(header)

    def row(label, t, r, note=""):
        print(f"{label:>22} {t:6.3f} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f} "
              f"{r['emr']:6.3f} {r['rmse']:6.3f} {r['micro_precision']:7.3f} {r['micro_recall']:7.3f} "
              f"{r['micro_f1']:7.3f}{note}")

    for label, t in (("model card", spectra["card_threshold"]), ("P = R on this set", None)):
        if t is None and label == "model card":
            continue
        r = benchmark_report(y, p, ignore=ign, threshold=t, top_pairs=top)
        results[label] = r
        row(label, r["threshold"], r)
    if spectra.get("checked") is not None and spectra["card_threshold"] is not None:
        # the detections identify_elements reports: the card threshold, then the white-line and
        # Sc / N checks, which drop some detections (probabilities above are the networks' own)
        r = benchmark_report(y, spectra["checked"], ignore=ign, threshold=spectra["card_threshold"], top_pairs=top)
        results["model card, checks"] = r
        row("model card, checks", r["threshold"], r)
    r = leave_one_out_report(y, p, ign)
    results["P = R, leave-one-out"] = r
    lo, med, hi = np.percentile(r["thresholds"], [0, 50, 100])
    row("P = R, leave-one-out", med, r, f"   (each spectrum scored at the P = R threshold of the other {n - 1}: "
                                        f"t {lo:.3f}-{hi:.3f}, median shown)")
    t_best = results["P = R on this set"]["threshold"]
    pairs = results["P = R on this set"]["confused_pairs"]
    if pairs:
        print(f"most confused pairs at t = {t_best:.3f} (predicted but absent <- present but missed):")
        for pair in pairs:
            print(f"  {pair['predicted']:>3} <- {pair['missed']:<3} x{pair['count']}")
    wrong = []
    for entry, prob, truth, ig in zip(spectra["entries"], p, y, ign):
        pred = (prob >= t_best) & ~ig
        if not np.array_equal(pred, truth.astype(bool) & ~ig):
            got = [ELEMENTS[i] for i in np.flatnonzero(pred)]
            wrong.append((entry["id"], entry["compound"], entry["present"], got))
    print(f"{len(wrong)} spectra not exactly matched at t = {t_best:.3f}:")
    for sid, compound, present, got in wrong:
        print(f"  {sid} {compound:<12} present {present} predicted {got}")
    if spectra.get("checked") is not None and spectra["card_threshold"] is not None:
        t = spectra["card_threshold"]
        changed = [(e, [ELEMENTS[i] for i in np.flatnonzero((a >= t) & ~(c >= t))])
                   for e, a, c in zip(spectra["entries"], p, spectra["checked"])]
        changed = [(e, els) for e, els in changed if els]
        print(f"the front end's checks (white lines, Sc / N) dropped at t = {t:.3f}: "
              + ("; ".join(f"{', '.join(els)} in {e['id']} {e['compound']}" for e, els in changed) or "nothing"))
    if spectra.get("named_from_n_edges") is not None:
        named = [(e, el) for e, els in zip(spectra["entries"], spectra["named_from_n_edges"]) for el in els]
        right = [f"{el} in {e['id']} {e['compound']}" for e, el in named if el in e["present"]]
        wrong = [f"{el} in {e['id']} {e['compound']}" for e, el in named if el not in e["present"]]
        print(f"lanthanides named from N4,5 edges alone (the summary's caution), card threshold: {len(right)} of "
              f"{len(named)} right" + (f" ({', '.join(right)})" if right else "")
              + (f"; wrong: {', '.join(wrong)}" if wrong else ""))
    if spectra.get("minor_overlaps") is not None:
        rows = [(e, el, row, el in e["present"] or el in e.get("ignore", []))
                for e, overlaps in zip(spectra["entries"], spectra["minor_overlaps"])
                for el, el_rows in overlaps.items() for row in el_rows]
        text = [f"{row[0]} ~ {', '.join(row[1:])} in {e['id']} {e['compound']} ({el} "
                + ("present)" if present else "absent)") for e, el, row, present in rows]
        absent = sum(not present for *_, present in rows)
        reported = spectra.get("checked", p) >= (spectra["card_threshold"] or 0.5)
        false = int((reported & ~ign & ~y.astype(bool)).sum())
        print(f"edges next to a minor edge of another detected element (the summary's caution), card threshold: "
              f"{len(rows)}, on {absent} absent elements (of the {false} false detections reported)"
              + (": " + "; ".join(text) if text else ""))
    return {"spectra": results, "chosen_threshold": t_best, "confused_pairs": pairs,
            "n_spectra": n, "seconds": spectra["seconds"], "spliced": spectra["spliced"],
            "saturated": spectra.get("saturated", 0)}


def open_benchmark(shared):
    """``(root, manifest)`` of ``shared/eels-benchmark``; the manifest is None, with a
    message printed, when the benchmark is absent."""
    from hyperspy_eelsid.evaluation import read_manifest

    root = Path(shared) / "eels-benchmark"
    manifest = read_manifest(root)
    if manifest is None:
        print(f"{root}/manifest.json is absent: nothing to score (the benchmark is optional).")
    return root, manifest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None, help="model or ensemble directory (default: shipped ensemble)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--limit", type=int, default=None, help="only the first N spectra")
    parser.add_argument("--no-scans", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    root, manifest = open_benchmark(args.shared)
    if manifest is None:
        return 0
    spectra = score_spectra(manifest, root, args.weights, args.device, args.limit)
    figures = report(spectra)
    if not args.no_scans:
        threshold = spectra["card_threshold"] or figures["chosen_threshold"]
        figures["scans"] = score_scans(manifest, root, args.weights, args.device, threshold)
        print_scans(figures["scans"], threshold)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
