"""The paper's Table 2 (and Table 3 for an ensemble) from trained run folders.

For every model card given (default: ``runs/table2/*/<name>.json`` as written
by ``scripts/train_table2_cpu.sh``, plus the shipped ensemble) it prints:

* parameters and training budget (steps x batch, wall time, hardware);
* simulated test set: weighted F1, EMR, RMSE at the card's threshold
  (``data/test20k.h5``: ``eelsid simulate --n 20000 --seed 3``);
* real spectra from ``../shared/eels-benchmark`` through the HyperSpy front
  end: weighted F1, EMR, RMSE at the card's threshold and at the threshold
  where precision equals recall on the real set;
* CPU inference speed (spectra/s on random input, batches of 512, one thread).

Usage::

    python benchmarks/architectures_table.py [CARD_OR_DIR ...] [--test data/test20k.h5]
        [--benchmark ../shared/eels-benchmark] [--json OUT] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))


def cpu_speed(model, n: int = 2048, repeats: int = 3) -> float:
    """Spectra per second of ``model.predict_proba`` on random preprocessed spectra."""
    import torch
    from bench_networks import throughput

    x = torch.rand(n, 3072)
    return throughput(lambda: model.predict_proba(x, batch_size=512), n, repeats)


def row_for(weights, test, manifest, root, speed: bool = True):
    """Every figure of one model or ensemble."""
    from real_spectra import score_spectra

    from hyperspy_eelsid.evaluation import benchmark_report, evaluate_predictions, summary
    from hyperspy_eelsid.inference import load_predictor_model
    from hyperspy_eelsid.networks.data import HDF5Spectra

    model = load_predictor_model(weights, device="cpu")
    card = getattr(model, "card", {}) or {}
    threshold = model.threshold
    row = {"weights": str(weights), "name": card.get("name", Path(weights).stem),
           # the card's count: loading an ensemble folds batch norms into convolutions
           "n_parameters": int(card.get("n_parameters") or sum(p.numel() for p in model.parameters())),
           "threshold": threshold}
    training = card.get("training", {})
    if training:
        cfg = training.get("config", {})
        row["budget"] = {"steps": training.get("steps_run"), "batch_size": cfg.get("batch_size"),
                         "wall_min": round(training.get("wall_s", 0) / 60, 1),
                         "hardware": training.get("hardware", {})}
    if test is not None:
        x, y = HDF5Spectra(test).arrays()
        prob = model.predict_proba(x, batch_size=1024)
        row["simulated"] = summary(evaluate_predictions(y, prob, threshold))
    if manifest is not None:
        s = score_spectra(manifest, root, weights=weights, device="cpu")
        p, yt, ign = s["probabilities"], s["y_true"], s["ignore"]
        at_card = benchmark_report(yt, p, ignore=ign, threshold=threshold, top_pairs=0)
        at_pr = benchmark_report(yt, p, ignore=ign, threshold=None, top_pairs=0)
        row["real"] = {"card_threshold": summary(at_card), "p_equals_r": summary(at_pr),
                       "n_spectra": len(p)}
    if speed:
        row["cpu_spectra_per_s_1_thread"] = round(cpu_speed(model))
    return row


def markdown(rows) -> str:
    """The rows as a Markdown table."""
    head = ("| model | parameters | budget | sim F1 | sim EMR | sim RMSE | real F1 (card t) | "
            "real EMR | real RMSE | real F1 (P=R t) | CPU spectra/s |")
    lines = [head, "|---" * 11 + "|"]
    for r in rows:
        b = r.get("budget", {})
        budget = f"{b.get('steps', '?')} x {b.get('batch_size', '?')}, {b.get('wall_min', '?')} min" if b else "members"
        sim = r.get("simulated", {})
        real = r.get("real", {}).get("card_threshold", {})
        pr = r.get("real", {}).get("p_equals_r", {})

        def f(d, k):
            return f"{d[k]:.3f}" if k in d else "-"

        speed = f"{r['cpu_spectra_per_s_1_thread']:,}" if "cpu_spectra_per_s_1_thread" in r else "-"
        lines.append(f"| {r['name']} | {r['n_parameters'] / 1e6:.3f} M | {budget} | {f(sim, 'f1')} | "
                     f"{f(sim, 'emr')} | {f(sim, 'rmse')} | {f(real, 'f1')} | {f(real, 'emr')} | "
                     f"{f(real, 'rmse')} | {f(pr, 'f1')} | {speed} |")
    return "\n".join(lines)


def main(argv=None):
    import torch

    from hyperspy_eelsid.evaluation import read_manifest

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="*", help="model cards or ensemble directories")
    parser.add_argument("--test", default=str(ROOT / "data" / "test20k.h5"))
    parser.add_argument("--benchmark", default=str(ROOT.parent / "shared" / "eels-benchmark"))
    parser.add_argument("--json", default=None, help="write the rows here")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--no-speed", action="store_true",
                        help="leave out the CPU speed (e.g. while other jobs share the machine)")
    parser.add_argument("--speed-only", action="store_true", help="only the CPU speed column")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    weights = args.weights or sorted(
        str(p / f"{p.name}.json") for p in (ROOT / "runs" / "table2").iterdir()
        if (p / f"{p.name}.json").is_file())
    test = args.test if Path(args.test).is_file() and not args.speed_only else None
    if test is None:
        print(f"no simulated test set at {args.test}: simulated columns left out")
    root = Path(args.benchmark)
    manifest = read_manifest(root)
    if args.speed_only:
        manifest = None
    elif manifest is None:
        print(f"no real-spectrum benchmark at {root}: real columns left out")
    rows = []
    for w in weights:
        rows.append(row_for(w, test, manifest, root, speed=not args.no_speed))
        r = rows[-1]
        print(json.dumps({k: r[k] for k in r if k != "weights"}), flush=True)
    if args.markdown:
        print(markdown(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
