"""Quantification of the demo's simulated superlattice against its known areal densities.

The demo scene (``hyperspy_eelsid.simulation.scene.superlattice_scene``)
knows every element's areal density in every pixel and the low loss its
edges were convolved with. This script fits it with ``quantify_elements``
with and without that low loss and with and without ``fine_structure``, and
prints, per element with edges in the range (Ba, La, Mn, O, Ti: those the
demo identifies), the median absolute error of the atomic percent
(of those elements) and, with the low loss, the median of
fitted / true - 1 of the areal density over the pixels holding at least 100
atoms/nm^2.
The scene's edges carry what atomic cross sections lack (white lines 4
times each subshell's maximum, generic fine structure up to 1.5 times the
edge), so these are the errors of the model on spectra it does not
describe exactly, not of the fit. ``--atomic-edges`` simulates the same
scene without white lines and with generic fine structure a millionth of the edge,
so that its edges
are the atomic cross sections the model holds. Run::

    python benchmarks/demo_quantification.py [--seed 0] [--atomic-edges]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--atomic-edges", action="store_true",
                        help="simulate without white lines and generic fine structure")
    args = parser.parse_args(argv)

    from hyperspy_eelsid.cli import demo_low_loss, demo_signal
    from hyperspy_eelsid.signals.composition import areal_density, atomic_percent
    from hyperspy_eelsid.simulation.config import SimulationConfig

    extra = {"white_line_strength": 0.0, "config": SimulationConfig(fs_max_scale=1e-6)} if args.atomic_edges else {}
    s, scene = demo_signal(seed=args.seed, **extra)
    ll = demo_low_loss(s, scene)
    detected = sorted(scene.visible)  # the elements with edges in range, as identify_elements finds them
    s.add_elements(detected)
    truth = scene.element_maps
    total = sum(truth[e] for e in detected)
    edges = "atomic edges only" if args.atomic_edges else "white lines and fine structure"
    print(f"demo scene, seed {args.seed}, {edges}: fitted {', '.join(detected)}")
    print(f"{'fit':<52} " + " ".join(f"{e:>8}" for e in detected))
    for fine_structure in (False, True):
        for low_loss in (None, ll):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                maps = s.quantify_elements(low_loss=low_loss, fine_structure=fine_structure,
                                           show_progressbar=False)
            label = f"{'fine structure' if fine_structure else 'plain'}{', low loss' if low_loss else ''}"
            shares = {m.metadata.EELSID.element: m.data for m in atomic_percent(maps)}
            print(f"{label + ': at.% error':<52} "
                  + " ".join(f"{np.nanmedian(np.abs(shares[e] - 100 * truth[e] / total)):8.1f}" for e in detected))
            if low_loss is not None:
                density = {m.metadata.EELSID.element: m.data for m in areal_density(maps)}
                errors = []
                for e in detected:
                    held = truth[e] > 100
                    errors.append(np.nanmedian(density[e][held] / truth[e][held] - 1))
                print(f"{label + ': density, fitted/true - 1':<52} " + " ".join(f"{100 * x:+7.1f}%" for x in errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
