"""Averaging the ensemble over energy-shifted copies of each real spectrum.

The networks were trained on spectra with random whole-spectrum and per-edge
shifts of a few eV. This script scores the real spectra of
../shared/eels-benchmark (single spectra, as ``real_spectra.py`` does, through
the front end) with the probabilities averaged over copies of each
preprocessed spectrum moved by the given numbers of 1 eV channels (positive:
up in energy; channels moved in are zero, like unmeasured ones)::

    python benchmarks/shift_averaging.py --shifts -2 0 2 [--weights DIR]

``--shifts 0`` reproduces ``real_spectra.py``. It exits cleanly with a
message when ../shared is absent. Session 17 found no gain (docs/results.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def shifted(x, k: int):
    """``x`` (..., channels) moved up by ``k`` channels (down for negative ``k``), zero filled."""
    x = np.asarray(x)
    out = np.zeros_like(x)
    if k > 0:
        out[..., k:] = x[..., :-k]
    elif k < 0:
        out[..., :k] = x[..., -k:]
    else:
        out[...] = x
    return out


def averaging_call(call, shifts):
    """A ``Predictor.__call__`` that averages ``call`` over the shifted copies."""

    def averaged(self, x):
        x = np.asarray(x, dtype=np.float32)
        return np.mean([call(self, shifted(x, k)) for k in shifts], axis=0).astype(np.float32)

    return averaged


def main(argv=None):
    import real_spectra

    from hyperspy_eelsid.inference import Predictor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shifts", type=int, nargs="+", required=True, help="shifts in eV (1 eV channels)")
    parser.add_argument("--weights", default=None, help="model or ensemble directory (default: shipped ensemble)")
    parser.add_argument("--shared", type=Path, default=real_spectra.DEFAULT_SHARED)
    args = parser.parse_args(argv)
    root, manifest = real_spectra.open_benchmark(args.shared)
    if manifest is None:
        return 0
    original = Predictor.__call__
    Predictor.__call__ = averaging_call(original, args.shifts)
    try:
        print(f"probabilities averaged over shifts of {args.shifts} eV")
        real_spectra.report(real_spectra.score_spectra(manifest, root, args.weights, device="cpu"))
    finally:
        Predictor.__call__ = original
    return 0


if __name__ == "__main__":
    sys.exit(main())
