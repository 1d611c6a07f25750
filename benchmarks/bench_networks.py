"""Parameters, weight size and CPU inference speed of every architecture.

For each architecture: parameter count of the paper-scale ``default`` preset
(built on the meta device, no memory) and of the ``compact`` preset, the
float16 weight size, and the compact model's CPU throughput (spectra/s, best
of ``--repeats`` passes over ``--n`` spectra in batches of ``--batch``, batch
normalisation folded into the convolutions as in ``load_ensemble``) for each
thread count. ``--ensemble`` also times an ensemble of compact members
end to end: preprocessing of raw spectra (2048 channels of 0.5 eV) + mean of
the members' probabilities. Run::

    python benchmarks/bench_networks.py [--threads 1 2] [--ensemble vit vit unet unet unet]
    python benchmarks/bench_networks.py --device cuda --n 65536 --batch 4096

``--device cuda`` times the compact and the paper-scale preset of every
architecture on the GPU instead (fp32, inference mode, best of ``--repeats``).

The numbers depend on the machine and on other load; report the machine with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

from hyperspy_eelsid.networks import architectures, build_model
from hyperspy_eelsid.networks.ensemble import Ensemble
from hyperspy_eelsid.networks.layers import fuse_batchnorm


def throughput(fn, n: int, repeats: int) -> float:
    """Best spectra/s of ``fn()`` (which processes ``n`` spectra) over ``repeats`` runs."""
    fn()  # warm-up
    best = min(_timed(fn) for _ in range(repeats))
    return n / best


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_models_cuda(args) -> list[dict]:
    """GPU throughput of the compact and paper-scale presets (no HyperSpy needed)."""
    rows = []
    x = torch.rand(args.n, 3072, device="cuda")

    def speed(model):
        def run():
            with torch.inference_mode():
                model.predict_proba(x, batch_size=args.batch)
            torch.cuda.synchronize()
        return round(throughput(run, args.n, args.repeats))

    print(f"# {torch.cuda.get_device_name()}, batch {args.batch}, {args.n} spectra per pass, fp32")
    for arch in architectures():
        torch.manual_seed(0)
        row = {"architecture": arch}
        for preset in ("compact", "default"):
            model = fuse_batchnorm(build_model(arch, preset).eval()).cuda()
            row[f"{preset}_params_M"] = round(model.n_parameters / 1e6, 3)
            row[f"{preset}_spectra_per_s_cuda"] = speed(model)
            del model
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def bench_models(args) -> list[dict]:
    if args.device.startswith("cuda"):
        return bench_models_cuda(args)
    rows = []
    x = torch.rand(args.n, 3072)
    for arch in architectures():
        with torch.device("meta"):
            n_default = build_model(arch).n_parameters
        torch.manual_seed(0)
        model = fuse_batchnorm(build_model(arch, "compact").eval())  # as load_ensemble does
        row = {"architecture": arch, "default_params_M": round(n_default / 1e6, 2),
               "compact_params_M": round(model.n_parameters / 1e6, 3),
               "compact_fp16_MB": round(2 * model.n_parameters / 1e6, 2)}
        for threads in args.threads:
            torch.set_num_threads(threads)
            speed = throughput(lambda: model.predict_proba(x, batch_size=args.batch), args.n, args.repeats)
            row[f"compact_spectra_per_s_{threads}t"] = round(speed)
        if args.default_speed:
            torch.set_num_threads(max(args.threads))
            big = build_model(arch).eval()
            xs = x[: args.batch]
            row["default_spectra_per_s"] = round(
                throughput(lambda: big.predict_proba(xs, batch_size=args.batch), len(xs), 1))
            del big
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def bench_ensemble(args) -> dict:
    from hyperspy_eelsid.preprocessing import preprocess

    torch.manual_seed(0)
    members = [fuse_batchnorm(build_model(a, "compact").eval()) for a in args.ensemble]
    ensemble = Ensemble(members)
    rng = np.random.default_rng(0)
    energy = 300.0 + 0.5 * np.arange(2048)
    raw = rng.poisson(1000 * (energy / 300.0) ** -3 + 5, size=(args.n, 2048)).astype(np.float32)
    out = {"ensemble": args.ensemble, "params_M": round(ensemble.n_parameters / 1e6, 3),
           "fp16_MB": round(2 * ensemble.n_parameters / 1e6, 2)}
    for threads in args.threads:
        torch.set_num_threads(threads)

        def run():
            spectra, _ = preprocess(raw, energy=energy)
            return ensemble.predict_proba(spectra, batch_size=args.batch)

        out[f"spectra_per_s_{threads}t_incl_preprocessing"] = round(throughput(run, args.n, args.repeats))
        out[f"preprocessing_only_spectra_per_s_{threads}t"] = round(
            throughput(lambda: preprocess(raw, energy=energy), args.n, args.repeats))
    print(json.dumps(out), flush=True)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--n", type=int, default=2048, help="spectra per timed pass")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--default-speed", action="store_true",
                        help="also time the paper-scale defaults (slow on CPU)")
    parser.add_argument("--ensemble", nargs="*", default=None, metavar="ARCH",
                        help="time an ensemble of compact members incl. preprocessing")
    parser.add_argument("--json", default=None, help="write all results here")
    parser.add_argument("--device", default="cpu",
                        help="cuda: GPU throughput of both presets of every architecture instead")
    args = parser.parse_args(argv)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}, load average {os.getloadavg()}")
    results = {"models": bench_models(args)}
    if args.ensemble and args.device == "cpu":
        results["ensemble"] = bench_ensemble(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
