"""Add measured benchmark figures to a model or ensemble card (JSON).

The cards that ``eelsid train`` and ``eelsid ensemble`` write carry the
validation and test figures they measure themselves. This script adds the
figures measured afterwards, from the JSON files the benchmark tools write:

* ``--real``: ``python benchmarks/real_spectra.py --json REAL`` (the real
  spectra of ../shared/eels-benchmark, at the card threshold and where
  precision equals recall on that set, plus the 1 %-filtered scans);
* ``--table1``: ``eelsid evaluate --data data/test20k.h5 --output TABLE1``
  (the simulated Table 1 test set).

With ``--threshold-from-real`` the card's decision threshold becomes the one
where precision equals recall on the real spectra of ``--real`` (the paper
chose the threshold for its real-spectrum figures on experimental
validation spectra); the threshold chosen on simulated validation spectra
is kept in ``threshold_choice``. Run ``benchmarks/real_spectra.py`` again
afterwards so that the figures at the card threshold and the scans use it.

Usage::

    python scripts/add_card_metrics.py weights/ensemble.json --real real.json \\
        --real-source "..." --table1 table1.json --table1-data "data/test20k.h5: ..."
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def real_benchmark(figures: dict, source: str, card_threshold_from_real: bool = False) -> dict:
    """The card's ``metrics.real_benchmark`` entry from ``real_spectra.py --json`` output."""
    spectra = figures["spectra"]
    entry = {"source": source}
    if "model card" in spectra:
        entry["at_card_threshold"] = {**spectra["model card"],
                                      "threshold_chosen_on_this_set": card_threshold_from_real}
    entry["at_p_equals_r_on_this_set"] = {**spectra["P = R on this set"], "threshold_chosen_on_this_set": True}
    if "P = R, leave-one-out" in spectra:
        loo = dict(spectra["P = R, leave-one-out"])
        thresholds = loo.pop("thresholds")
        entry["at_p_equals_r_leave_one_out"] = {**loo, "thresholds_min_median_max": [
            min(thresholds), statistics.median(thresholds), max(thresholds)]}
    if "scans" in figures:
        entry["scans_1_percent_filter"] = figures["scans"]
    return entry


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("card", type=Path, help="model card or ensemble.json")
    p.add_argument("--real", type=Path, help="JSON written by benchmarks/real_spectra.py --json")
    p.add_argument("--real-source", default="../shared/eels-benchmark, benchmarks/real_spectra.py",
                   help="where the real figures come from (stored with them)")
    p.add_argument("--table1", type=Path, help="JSON written by eelsid evaluate --output on a Table 1 test set")
    p.add_argument("--table1-data", default="data/test20k.h5", help="how that test set was made (stored with it)")
    p.add_argument("--threshold-from-real", action="store_true",
                   help="set the card threshold to where precision equals recall on the --real spectra")
    a = p.parse_args(argv)
    if a.real is None and a.table1 is None:
        p.error("give --real and/or --table1")
    if a.threshold_from_real and a.real is None:
        p.error("--threshold-from-real needs --real")
    card = json.loads(a.card.read_text())
    real = json.loads(a.real.read_text()) if a.real is not None else None
    if a.threshold_from_real:
        at_real = real["spectra"]["P = R on this set"]
        choice = card.get("threshold_choice") or {"simulated_validation_threshold": card["threshold"]}
        choice.update({"rule": "precision = recall on the real spectra of the benchmark (the paper chose its "
                               "real-data threshold on experimental validation spectra); the figures from "
                               "leave-one-out cross-validation in metrics.real_benchmark estimate it on new spectra",
                       "source": a.real_source})
        at_sim = real["spectra"].get("model card")
        if at_sim is not None and abs(at_sim["threshold"] - choice["simulated_validation_threshold"]) < 1e-9:
            choice["real_figures_at_simulated_validation_threshold"] = {
                k: at_sim[k] for k in ("precision", "recall", "f1", "emr", "rmse")}
        card["threshold_choice"] = choice
        card["threshold"] = round(float(at_real["threshold"]), 3)
        a.card.write_text(json.dumps(card, indent=2) + "\n")
        print(f"{a.card}: threshold {choice['simulated_validation_threshold']} (simulated validation) "
              f"-> {card['threshold']} (P = R on the real spectra); now run benchmarks/real_spectra.py "
              "again and add its figures")
        return 0
    metrics = card.setdefault("metrics", {})
    if real is not None:
        metrics["real_benchmark"] = real_benchmark(real, a.real_source,
                                                   card_threshold_from_real="threshold_choice" in card)
    if a.table1 is not None:
        metrics["test_table1"] = {**json.loads(a.table1.read_text()), "data": a.table1_data}
    a.card.write_text(json.dumps(card, indent=2) + "\n")
    print(f"updated {a.card}: metrics {sorted(metrics)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
