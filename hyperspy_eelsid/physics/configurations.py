"""Ground-state electron configurations of the neutral atoms H..Bi.

The configurations follow the Madelung (n + l, n) filling order, with the
exceptions that the NIST Atomic Spectra Database lists as ground states
for Z <= 83 (Cr, Cu, Nb, Mo, Ru, Rh, Pd, Ag, La, Ce, Gd, Pt, Au). Open
shells are treated in the spherical (central-field) average, as in
Herman & Skillman (1963).
"""

__all__ = ["SYMBOLS", "atomic_number", "configuration", "L_LETTERS"]

SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co "
    "Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb "
    "Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re "
    "Os Ir Pt Au Hg Tl Pb Bi"
).split()

L_LETTERS = "spdfg"

# Departures from the Madelung order: {Z: {(n, l): occupation}} overrides.
_EXCEPTIONS = {
    24: {(3, 2): 5, (4, 0): 1},  # Cr
    29: {(3, 2): 10, (4, 0): 1},  # Cu
    41: {(4, 2): 4, (5, 0): 1},  # Nb
    42: {(4, 2): 5, (5, 0): 1},  # Mo
    44: {(4, 2): 7, (5, 0): 1},  # Ru
    45: {(4, 2): 8, (5, 0): 1},  # Rh
    46: {(4, 2): 10, (5, 0): 0},  # Pd
    47: {(4, 2): 10, (5, 0): 1},  # Ag
    57: {(4, 3): 0, (5, 2): 1},  # La
    58: {(4, 3): 1, (5, 2): 1},  # Ce
    64: {(4, 3): 7, (5, 2): 1},  # Gd
    78: {(5, 2): 9, (6, 0): 1},  # Pt
    79: {(5, 2): 10, (6, 0): 1},  # Au
}


def atomic_number(symbol):
    """Atomic number of a chemical symbol (H..Bi).

    Parameters
    ----------
    symbol : str

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``symbol`` is not one of H..Bi (symbols are case-sensitive).
    """
    if symbol not in SYMBOLS:
        raise ValueError(f"{symbol!r} is not a chemical symbol of H..Bi (case-sensitive, e.g. 'Fe')")
    return SYMBOLS.index(symbol) + 1


def _madelung(z):
    order = sorted(
        ((n, l) for n in range(1, 8) for l in range(0, min(n, 4))),
        key=lambda nl: (nl[0] + nl[1], nl[0]),
    )
    occ = {}
    left = z
    for n, l in order:
        if left <= 0:
            break
        k = min(left, 2 * (2 * l + 1))
        occ[(n, l)] = k
        left -= k
    return occ


def configuration(z):
    """Ground-state configuration of the neutral atom ``z``.

    Parameters
    ----------
    z : int
        Atomic number, 1..83.

    Returns
    -------
    dict
        ``{(n, l): occupation}`` sorted by (n, l); empty shells removed.
    """
    if not 1 <= z <= len(SYMBOLS):
        raise ValueError(f"Z={z} outside 1..{len(SYMBOLS)}")
    occ = _madelung(z)
    occ.update(_EXCEPTIONS.get(z, {}))
    occ = {k: v for k, v in sorted(occ.items()) if v > 0}
    if sum(occ.values()) != z:
        raise RuntimeError(f"configuration of Z={z} does not hold Z electrons")
    return occ
