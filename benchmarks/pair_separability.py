"""Can two elements with coincident edges be told apart in simulated spectra?

For a pair such as Sc and N (Sc L3 402 eV, N K 401 eV) this simulates
spectra of each element alone (a simulator setting, ``--end-max`` capping
the spectrum end), trains a small dedicated classifier - three 1-D
convolutions on the crop ``--crop LO HI`` eV of the network input, standardised
per spectrum - on 80 % of them and prints its accuracy on the other 20 %,
next to the accuracy of a model or ensemble on the same held-out spectra
(the element of the pair it gives the higher probability). A dedicated
classifier far above the model means the simulated spectra hold the
difference and the model has not learnt it; both near 0.5 means the
simulated pair is ambiguous. ``--pool 4`` averages the crop over 4 eV first,
as the compact U-Net's stem does. With ``--real`` the classifier is also run
on the benchmark spectra and scans that hold either element (a check of how
the simulated difference carries over to measured spectra). An element may be
a group such as ``B+P`` (every spectrum holds all of them; the model
comparison is then skipped). ``--shift-ev S`` draws the chemical and the
instrumental shifts in +-S eV instead of the setting's ranges (are the
simulated edges told apart when the energy axis is nearly right?). ``--axis-offset
ID=EV`` first moves the energy axis of benchmark file ``ID`` by ``EV`` eV
(e.g. ``a31acd318c=-9.7 375c4a6157=-3.0``, the BN line scans calibrated on
their pi* peaks, ``docs/scripts/bn_scan_calibration.py``). With
``--probe CARD...`` it also asks where a member loses the difference: a
linear classifier (logistic regression) is trained on the same 80 % of the
spectra from the member's feature maps entering its reduction, and from its
head's last hidden layer, and scored on the other 20 %, next to a linear
classifier on the raw crop::

    python benchmarks/pair_separability.py Sc N --crop 360 500 --end-max 600
    python benchmarks/pair_separability.py Ba Co --crop 740 912 --end-max 912
    python benchmarks/pair_separability.py Sc N --crop 360 500 --end-max 600 --probe weights/unet_cpu.json
    python benchmarks/pair_separability.py Pr Ce --crop 80 220 --end-max 400 --n 4096 --shift-ev 2 --real
    python benchmarks/pair_separability.py B+P P --crop 120 260 --n 8192 --real

Seeds are fixed (spectra 1000+ and 5000+, classifier 0): the same command
prints the same figures on the same machine.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from hyperspy_eelsid.pair_classifier import crop_features, fit_on_simulated, probability_first

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared"


def linear_probe(f_train, y_train, f_test, y_test, steps=200, seed=0):
    """Held-out accuracy of a logistic regression (Adam, full batch) on standardised features."""
    import torch

    f_train = torch.as_tensor(f_train, dtype=torch.float32).flatten(1)
    f_test = torch.as_tensor(f_test, dtype=torch.float32).flatten(1)
    mu, sd = f_train.mean(0), f_train.std(0) + 1e-6
    f_train, f_test = (f_train - mu) / sd, (f_test - mu) / sd
    y_train = torch.as_tensor(y_train, dtype=torch.float32)
    torch.manual_seed(seed)
    lin = torch.nn.Linear(f_train.shape[1], 1)
    opt = torch.optim.Adam(lin.parameters(), 1e-2, weight_decay=1e-4)
    for _ in range(steps):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(lin(f_train)[:, 0], y_train)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(((lin(f_test)[:, 0] > 0).numpy() == np.asarray(y_test, bool)).mean())


def member_features(card, x, batch=512):
    """A member's maps entering its reduction and its head's last hidden layer, for inputs ``x``."""
    import torch

    from hyperspy_eelsid.networks.io import load_model

    model = load_model(card)
    seen = {"maps": [], "hidden": []}
    hooks = [model.reduce.register_forward_hook(lambda m, inp, out: seen["maps"].append(inp[0])),
             model.head.net[-1].register_forward_hook(lambda m, inp, out: seen["hidden"].append(inp[0]))]
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    with torch.no_grad():
        for i in range(0, len(x), batch):
            model(x[i : i + batch])
    for h in hooks:
        h.remove()
    return {k: torch.cat(v) for k, v in seen.items()}


def probe(cards, held_out, train_x, crop, n_probe=4096):
    """Linear-probe accuracies: raw crop, and each member's maps and hidden layer (first ``n_probe`` per element)."""
    xa_tr, xb_tr = train_x
    xa_te, xb_te = held_out
    k_tr, k_te = int(0.8 * n_probe), n_probe - int(0.8 * n_probe)
    xa_tr, xb_tr, xa_te, xb_te = xa_tr[:k_tr], xb_tr[:k_tr], xa_te[:k_te], xb_te[:k_te]
    x_tr, x_te = np.concatenate([xa_tr, xb_tr]), np.concatenate([xa_te, xb_te])
    y_tr = np.r_[np.ones(len(xa_tr)), np.zeros(len(xb_tr))]
    y_te = np.r_[np.ones(len(xa_te)), np.zeros(len(xb_te))]
    lo, hi = crop
    out = {"raw crop": linear_probe(crop_features(x_tr, lo, hi), y_tr, crop_features(x_te, lo, hi), y_te)}
    for card in cards:
        f_tr, f_te = member_features(card, x_tr), member_features(card, x_te)
        for part in ("maps", "hidden"):
            out[f"{card}: {part}"] = linear_probe(f_tr[part], y_tr, f_te[part], y_te)
    return out


def group(name):
    """``"B+P"`` -> ``["B", "P"]``; a single element stays a string."""
    return name.split("+") if "+" in name else name


def run(a, b, crop, end_max=None, setting_path=None, n=16384, epochs=8, pool=1, weights=("shipped",), probe_cards=(),
        shift_ev=None):
    """Held-out accuracies of the dedicated classifier and of each model; returns them as a dict.

    ``a`` and ``b`` are elements or groups (``"B+P"``); with a group the models
    are not compared. ``shift_ev``: chemical and instrumental shifts in +-that
    many eV instead of the setting's.
    """
    from hyperspy_eelsid.elements import ELEMENTS
    from hyperspy_eelsid.inference import Predictor
    from hyperspy_eelsid.simulation.config import read_overrides

    setting = read_overrides(setting_path or ROOT / "configs" / "simulation" / "realistic_v13.json")
    if shift_ev is not None:
        setting.update(chemical_shift_ev=[-shift_ev, shift_ev], instrumental_shift_ev=[-shift_ev, shift_ev])
    a, b = group(a), group(b)
    fit = fit_on_simulated(a, b, setting, n, epochs, end_max, crop, pool)
    xa, xb, n_train = fit["xa"], fit["xb"], fit["n_train"]
    held_a, held_b = xa[n_train:], xb[n_train:]
    out = {"classifier": fit["accuracy"], "models": {}, "net": fit["net"]}
    if isinstance(a, list) or isinstance(b, list):
        weights = ()
    else:
        ia, ib = ELEMENTS.index(a), ELEMENTS.index(b)
    for w in weights:
        predictor = Predictor(None if w == "shipped" else w, device="cpu")
        qa, qb = predictor(held_a), predictor(held_b)
        out["models"][w] = 0.5 * ((qa[:, ia] > qa[:, ib]).mean() + (qb[:, ib] > qb[:, ia]).mean())
    if probe_cards:
        out["probes"] = probe(probe_cards, (held_a, held_b), (xa[:n_train], xb[:n_train]), crop)
    return out


def real_check(net, a, b, crop, pool, shared, axis_offsets=None):
    """Mean P(first element) of the classifier on the benchmark spectra and scans holding a or b
    (``axis_offsets``: benchmark id -> eV added to that file's energy axis first)."""
    from hyperspy_eelsid import preprocessing as pp
    from hyperspy_eelsid.evaluation import read_manifest
    from hyperspy_eelsid.signals.loading import load_spectrum

    root = Path(shared) / "eels-benchmark"
    manifest = read_manifest(root)
    rows = []
    for entry in manifest["spectra"] + manifest["scans"]:
        if not set(entry.get("present") or []) & set(a.split("+") + b.split("+")):
            continue
        s = load_spectrum(root / entry["file"])
        s.axes_manager.signal_axes[0].offset += (axis_offsets or {}).get(entry["id"], 0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gain splices are cut as in identify_elements
            x, _ = pp.preprocess(s)
        p = probability_first(net, crop_features(np.asarray(x), crop[0], crop[1], pool))
        rows.append((entry["id"], entry.get("compound", ""), sorted(entry["present"]), float(p.mean()), p.size))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--crop", type=int, nargs=2, required=True, metavar=("LO", "HI"), help="crop of the input (eV)")
    ap.add_argument("--end-max", type=int, default=None, help="latest spectrum end (eV)")
    ap.add_argument("--setting", default=None, help="simulator JSON (default realistic_v13)")
    ap.add_argument("--n", type=int, default=16384, help="spectra per element (80 %% train, 20 %% held out)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--pool", type=int, default=1, help="average-pool the crop by this many eV first")
    ap.add_argument("--shift-ev", type=int, default=None, metavar="S",
                    help="chemical and instrumental shifts in +-S eV instead of the setting's")
    ap.add_argument("--weights", nargs="*", default=["shipped"], help="models or ensembles to compare")
    ap.add_argument("--probe", nargs="*", default=[], metavar="CARD",
                    help="member cards (.json) whose features get a linear probe")
    ap.add_argument("--real", action="store_true", help="also run the classifier on the benchmark's spectra")
    ap.add_argument("--axis-offset", nargs="*", default=[], metavar="ID=EV",
                    help="with --real: move benchmark file ID's energy axis by EV eV first")
    ap.add_argument("--shared", default=str(DEFAULT_SHARED))
    a = ap.parse_args(argv)
    try:
        offsets = {k: float(v) for k, v in (item.split("=") for item in a.axis_offset)}
    except ValueError:
        ap.error(f"--axis-offset takes ID=EV items such as a31acd318c=-9.7, got {a.axis_offset}")
    res = run(a.a, a.b, a.crop, a.end_max, a.setting, a.n, a.epochs, a.pool, a.weights, a.probe, a.shift_ev)
    held = a.n - int(0.8 * a.n)
    print(f"{a.a} alone against {a.b} alone, crop {a.crop[0]}-{a.crop[1]} eV"
          + (f" pooled by {a.pool} eV" if a.pool > 1 else "") + (f", shifts +-{a.shift_ev} eV" if a.shift_ev is not None else "") + f", {held} + {held} held-out spectra:")
    print(f"  dedicated classifier ({a.epochs} epochs): accuracy {res['classifier']:.3f}")
    for w, acc in res["models"].items():
        print(f"  {w}: accuracy {acc:.3f} (the element of the pair with the higher probability)")
    for what, acc in res.get("probes", {}).items():
        print(f"  linear probe, {what}: accuracy {acc:.3f}")
    if a.real:
        if not (Path(a.shared) / "eels-benchmark").is_dir():
            print(f"  {a.shared}/eels-benchmark not found: real spectra skipped")
            return 0
        for rid, compound, present, p, size in real_check(res["net"], a.a, a.b, a.crop, a.pool, a.shared, offsets):
            print(f"  real {rid} {compound:8s} {present}: P({a.a} rather than {a.b}) {p:.2f}"
                  + (f" (mean of {size} pixels)" if size > 1 else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
