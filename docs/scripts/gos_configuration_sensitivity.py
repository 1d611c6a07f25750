"""How the atom's configuration moves the agreement with the Rez reference.

Computes the GOS tables of some elements with another electron configuration
than the ground state the package uses (the NIST ground state, e.g. Ce
[Xe] 4f1 5d1 6s2), all else as shipped (alpha = 2/3, same grids), and prints,
edge by edge, the median and maximum |ratio - 1| to
``../shared/reference/hartree_slater_rez_edges.npz`` for both, through exSpy's
model as docs/physics_validation.md describes. A configuration is given as
changes of the ground state: ``Ce:4f2,5d0`` moves Ce's 5d electron into 4f.
About 10-20 s per lanthanide.

Usage::

    python docs/scripts/gos_configuration_sensitivity.py [Ce:4f2,5d0 La:4f1,5d0 ...]
        [--reference ../shared/reference/hartree_slater_rez_edges.npz]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The lanthanides whose NIST ground state is not the Madelung one (La, Ce, Gd),
#: each in its Madelung configuration 4f^n 6s2, and two in the trivalent
#: 4f^(n-1) 5d1 6s2 of their compounds.
DEFAULT_CHANGES = ("La:4f1,5d0", "Ce:4f2,5d0", "Gd:4f8,5d0", "Sm:4f5,5d1", "Eu:4f6,5d1")


def parse_change(text):
    """``'Ce:4f2,5d0'`` -> ``('Ce', {(4, 3): 2, (5, 2): 0})``."""
    from hyperspy_eelsid.physics.configurations import L_LETTERS

    symbol, _, shells = text.partition(":")
    change = {}
    for item in shells.split(","):
        m = re.fullmatch(r"(\d)([spdf])(\d+)", item.strip())
        if not m:
            raise SystemExit(f"cannot read {item!r} in {text!r}: write shells as 4f2,5d0")
        change[(int(m.group(1)), L_LETTERS.index(m.group(2)))] = int(m.group(3))
    return symbol, change


def label(occupations, shells):
    """The occupations of ``shells`` (those the change names, and the outer 4f, 5d, 6s shells of
    the lanthanides where present), e.g. ``'4f2 5d0 6s2'``."""
    from hyperspy_eelsid.physics.configurations import L_LETTERS

    return " ".join(f"{n}{L_LETTERS[l]}{occupations.get((n, l), 0)}" for n, l in shells)


def main(argv=None):
    import numpy as np

    from hyperspy_eelsid import gos_file
    from hyperspy_eelsid.physics.build import compute_element, energy_grid, q_grid
    from hyperspy_eelsid.physics.configurations import atomic_number, configuration
    from hyperspy_eelsid.physics.gosh_io import BOHR_RADIUS_M, write_gosh
    from hyperspy_eelsid.physics.reference_check import compare_all

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("changes", nargs="*", default=DEFAULT_CHANGES,
                   help="element:shells, e.g. Ce:4f2,5d0 (default: %(default)s)")
    p.add_argument("--reference", default=str(ROOT.parent / "shared" / "reference" / "hartree_slater_rez_edges.npz"))
    a = p.parse_args(argv)
    if not Path(a.reference).is_file():
        print(f"no reference at {a.reference}: nothing to compare")
        return 0
    parsed = [parse_change(text) for text in a.changes]
    shipped = {r["name"]: r for r in compare_all(a.reference, gos_file(), elements=sorted({s for s, _ in parsed}))}
    print("edge    configuration          median  max  | ground state (shipped)        median  max")
    for text, (symbol, change) in zip(a.changes, parsed):
        ground = configuration(atomic_number(symbol))
        occ = {k: v for k, v in sorted({**ground, **change}.items()) if v > 0}
        if sum(occ.values()) != sum(ground.values()):
            raise SystemExit(f"{text}: {sum(occ.values())} electrons, the neutral atom has {sum(ground.values())}")
        shells = sorted(set(change) | {k for k in ((4, 3), (5, 2), (6, 0)) if k in ground or k in occ})
        res = compute_element(symbol, occupations=occ)
        out = Path(tempfile.mkdtemp()) / f"{symbol}.gosh"
        write_gosh(out, {symbol: res["tables"]}, q_grid() / BOHR_RADIUS_M, energy_grid(),
                   {"configuration": text}, data_doi="none: sensitivity study")
        for r in compare_all(a.reference, str(out), elements=[symbol]):
            o = shipped[r["name"]]
            if not np.isfinite(r["max_abs_dev"]):
                continue
            print(f"{r['name']:7s} {label(occ, shells):22s} {r['median_abs_dev']:.3f}  {r['max_abs_dev']:.3f} | "
                  f"{label(ground, shells):29s} {o['median_abs_dev']:.3f}  {o['max_abs_dev']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
