"""White lines: sharp peaks at the onsets of edges into empty d or f states.

The GOS tables describe transitions into the continuum of a free atom. The
L2,3 edges of the 3d (and 4d) transition metals and the M4,5 edges of Cs..Yb
are dominated in solids by transitions into unoccupied bound d or f states:
white lines a few eV wide and up to ten times higher than the continuum edge
behind them, which a continuum GOS does not contain. The paper's generic fine
structure only makes them by chance. :data:`WHITE_LINES` lists the subshells
that get one; :func:`lorentzian` is the line shape.

The N4,5 edges of Cs..Yb (4d -> 4f) are dominated by a *giant resonance*: a
broad peak (10-20 eV) some 5-20 eV above the onset that holds most of the
edge's strength. In the free-atom tables this strength goes to the bound,
collapsed 4f orbital and is missing from the continuum (see the physics
validation page). :data:`GIANT_RESONANCES` lists those subshells.

The K edges of B, C, N and O in sp2-bonded or molecular solids (BN,
graphite, N2, O2, nitrates, carbonates) start with a pi* peak: a transition
into the empty pi* orbital, 1-2 eV wide, below the sigma* continuum.
:data:`PI_STAR` lists those subshells.

numpy/torch only: no HyperSpy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ELEMENT_POSITION_SWITCHES", "GIANT_RESONANCES", "GIANT_RESONANCE_DELAY_ANCHORS_EV", "ONSET_PEAKS", "PI_STAR", "PI_STAR_POSITIONS_EV", "SIGMA_STAR", "WHITE_LINES", "WHITE_LINE_PAIRS", "WHITE_LINE_RATIOS", "fano_factor", "giant_resonance_delay_ev", "has_white_line", "is_listed", "lorentzian", "own_position_ev", "white_line_pair", "white_line_ratio_mid"]

#: Subshell -> atomic numbers whose edge starts with a white line:
#: L2,3 of Ca..Cu and Y..Ag (2p -> 3d / 4d), M4,5 of Cs..Yb (3d -> 4f).
WHITE_LINES = {
    "L2": (range(20, 30), range(39, 48)),
    "L3": (range(20, 30), range(39, 48)),
    "M4": (range(55, 71),),
    "M5": (range(55, 71),),
}


#: Atomic number -> range of the height ratio of an edge's two white lines,
#: L3 / L2 (2p -> 3d, 4d) or M5 / M4 (3d -> 4f), for elements in
#: :data:`WHITE_LINES`. Neither is the statistical 2 (L) or 1.5 (M): the
#: 2p or 3d spin-orbit splitting is not large against the core-hole - valence
#: interaction, so the multiplet mixes the two edges. In the 3d metals the
#: L3 / L2 ratio rises from about 1 (Ca, Sc, Ti, whose L2 line is as high as
#: L3 and broader) to 2-4.5 for Mn..Cu (Leapman, Grunes & Fejes, Phys. Rev. B
#: 26, 614 (1982)); across Cs..Yb the M5 branching ratio rises from below
#: one half for an empty 4f shell (Cs, Ba, La: M4 higher than M5) to one at
#: Yb, where the full 4f^14 final state leaves M4 almost empty (Thole, van der
#: Laan, Fuggle, Sawatzky, Karnatak & Esteva, Phys. Rev. B 32, 5107 (1985)).
#: The ranges are wide: valence, spin state and line width move them.
WHITE_LINE_RATIOS = {
    **{20: (0.8, 1.3), 21: (0.8, 1.3), 22: (0.8, 1.5), 23: (1.0, 2.0), 24: (1.3, 2.5),
       25: (2.0, 4.5), 26: (2.0, 4.5), 27: (2.0, 4.5), 28: (2.0, 4.5), 29: (2.0, 5.0)},
    **{z: (1.0, 3.0) for z in range(39, 48)},
    **{55: (0.6, 1.0), 56: (0.6, 1.0), 57: (0.6, 1.0), 58: (0.7, 1.2), 59: (0.8, 1.4), 60: (0.9, 1.6),
       61: (1.0, 1.8), 62: (1.1, 2.0), 63: (1.2, 2.4), 64: (1.4, 2.8), 65: (1.8, 3.6), 66: (2.4, 4.8),
       67: (3.0, 6.5), 68: (4.0, 10.0), 69: (6.0, 20.0), 70: (10.0, 40.0)},
}

#: The subshells of an edge's white-line pair: the first (higher j, lower
#: energy) carries the drawn height, the second its height divided by the
#: element's :data:`WHITE_LINE_RATIOS`.
WHITE_LINE_PAIRS = {"L3": 1, "L2": 2, "M5": 1, "M4": 2}


def white_line_pair(subshell: str, z: int) -> tuple:
    """``(role, low, high)`` of the ``subshell`` edge of element ``z`` in its
    edge's white-line pair: role 1 (L3, M5: the drawn height), 2 (L2, M4:
    the first line's height over a ratio in ``[low, high]``) or 0 (no pair,
    ratio range (1, 1))."""
    z = int(z)
    if subshell in WHITE_LINE_PAIRS and z in WHITE_LINE_RATIOS:
        return (WHITE_LINE_PAIRS[subshell], *WHITE_LINE_RATIOS[z])
    return (0, 1.0, 1.0)


def white_line_ratio_mid(z: int) -> float:
    """Geometric middle of element ``z``'s :data:`WHITE_LINE_RATIOS` range."""
    lo, hi = WHITE_LINE_RATIOS[int(z)]
    return (lo * hi) ** 0.5


#: Subshell -> atomic numbers whose edge is dominated by the 4d -> 4f giant
#: resonance: N4,5 of Cs..Yb.
GIANT_RESONANCES = {
    "N4": (range(55, 71),),
    "N5": (range(55, 71),),
}


#: Atomic number -> how far (eV) the maximum of the 4d -> 4f giant resonance
#: lies above the N4,5 onset of the element table, for the elements where it
#: is best known: La 117 eV (table onset 99 eV), Ce 122 eV (110 eV) and Gd
#: 149 eV (141 eV), the photon energies of the 4d -> 4f resonance used in
#: resonant photoemission, and Yb, whose 4d^9 4f^14 final state has a
#: closed 4f shell, so its two 4d-hole lines lie at the onset (184 eV). The
#: delay shrinks across the series because the number of empty 4f states,
#: which the 4d^9 4f^(n+1) exchange interaction pushes up in energy, shrinks
#: (Dehmer, Starace, Fano, Sugar & Cooper, Phys. Rev. Lett. 26, 1521
#: (1971)). Cs and Ba, with an empty 4f shell like La, take La's delay.
#: :func:`giant_resonance_delay_ev` interpolates between these.
GIANT_RESONANCE_DELAY_ANCHORS_EV = {57: 18.0, 58: 12.0, 64: 8.0, 70: 0.0}


def giant_resonance_delay_ev(z: int) -> float:
    """Delay (eV) of the giant resonance's maximum above the N4,5 onset of
    element ``z`` (Cs..Yb): linear in Z between
    :data:`GIANT_RESONANCE_DELAY_ANCHORS_EV`, La's value below La.

    >>> giant_resonance_delay_ev(57), giant_resonance_delay_ev(67)
    (18.0, 4.0)
    """
    zs = sorted(GIANT_RESONANCE_DELAY_ANCHORS_EV)
    return float(np.interp(int(z), zs, [GIANT_RESONANCE_DELAY_ANCHORS_EV[a] for a in zs]))


#: Subshell -> atomic numbers whose edge can start with a pi* peak: K of B..O.
PI_STAR = {
    "K": (range(5, 9),),
}


#: Atomic number -> measured energy (eV) of the pi* peak of that K edge, in
#: the compounds where it is best known: B K of hexagonal BN (192.0 eV, the
#: usual calibration line of B K), C K of graphite (285.0 eV), N K of
#: hexagonal BN and of N2 gas (401.0 eV), and O K midway between O2 gas
#: (530.8 eV) and carbonates or CO (about 534 eV). The edge onsets of the
#: element table lie 4 eV (B), 1 eV (C), 0 eV (N) and 0.5 eV (O) away from
#: these. Used with ``SimulationConfig.pi_star_at_measured_position``.
PI_STAR_POSITIONS_EV = {5: 192.0, 6: 285.0, 7: 401.0, 8: 532.5}


#: Subshell -> atomic numbers whose edge carries a sigma* resonance: K of
#: B..O. Above the pi* peak the K edges of the first-row elements rise to a
#: broad sigma* shape resonance, about 7-8 eV above pi* in hexagonal BN
#: (B K 199, N K 408 eV) and graphite (C K 292 eV), further in shorter bonds
#: (Stohr, *NEXAFS Spectroscopy* (1992), ch. 4). A broad peak there is what
#: tells N K (pi*, then sigma* 7 eV on) from Sc L3,2 (two narrow lines
#: 5 eV apart) at the same onset.
SIGMA_STAR = {
    "K": (range(5, 9),),
}


#: The kinds of onset peak, in the order the simulator draws them:
#: ``(SimulationConfig field prefix, subshell table, zero below the onset)``.
#: Each kind has the configuration fields ``<prefix>_strength``,
#: ``<prefix>_fwhm_ev`` and ``<prefix>_offset_ev``.
ONSET_PEAKS = (
    ("white_line", WHITE_LINES, False),
    ("giant_resonance", GIANT_RESONANCES, True),
    ("pi_star", PI_STAR, False),
    ("sigma_star", SIGMA_STAR, False),  # last: settings without it draw the same numbers as before
)


#: Onset-peak kind -> the ``SimulationConfig`` switch that places its peaks
#: from each element's own position (the measured pi* energy, the giant
#: resonance's delay) instead of from the table's onset; with the switch on,
#: the kind's offset range may be negative.
ELEMENT_POSITION_SWITCHES = {
    "pi_star": "pi_star_at_measured_position",
    "giant_resonance": "giant_resonance_delay_by_element",
    "sigma_star": "pi_star_at_measured_position",  # its offset counts from the measured pi* energy too
}


def own_position_ev(prefix: str, subshell: str, onset_ev: float, z: int) -> float:
    """Where the onset peak of kind ``prefix`` of element ``z``'s ``subshell``
    edge (table onset ``onset_ev``) is centred, relative to that onset, when
    its :data:`ELEMENT_POSITION_SWITCHES` switch is on: the measured pi*
    energy (pi_star) or the giant resonance's delay (giant_resonance); 0
    for edges without one."""
    z = int(z)
    if prefix in ("pi_star", "sigma_star"):
        return PI_STAR_POSITIONS_EV[z] - onset_ev if z in PI_STAR_POSITIONS_EV else 0.0
    if prefix == "giant_resonance":
        return giant_resonance_delay_ev(z) if is_listed(GIANT_RESONANCES, subshell, z) else 0.0
    raise ValueError(f"no element positions for onset peaks of kind {prefix!r}")


def is_listed(table, subshell: str, z: int) -> bool:
    """Whether ``table`` (one of :data:`WHITE_LINES`, :data:`GIANT_RESONANCES`,
    :data:`PI_STAR`) lists the ``subshell`` edge of element ``z``."""
    return any(int(z) in r for r in table.get(subshell, ()))


def has_white_line(subshell: str, z: int) -> bool:
    """Whether the ``subshell`` edge of element ``z`` starts with a white line."""
    return is_listed(WHITE_LINES, subshell, z)


def lorentzian(energy, centre, fwhm, height):
    """Lorentzian of peak ``height`` and ``fwhm`` at ``centre`` (broadcasting; numpy or torch)."""
    g = 0.5 * fwhm
    return height * g * g / ((energy - centre) ** 2 + g * g)


def fano_factor(energy, centre, fwhm, q):
    """Beutler-Fano factor ``(q + e)**2 / (1 + e**2)``, ``e = (energy - centre) / (fwhm / 2)``
    (numpy or torch, broadcasting): a discrete level of width ``fwhm`` at
    ``centre`` that decays into the continuum it interferes with (Fano, Phys.
    Rev. 124, 1866 (1961)). It tends to 1 far from ``centre``, vanishes at
    ``centre - q fwhm / 2`` and reaches ``1 + q**2`` at ``centre + fwhm / (2 q)``.

    >>> float(fano_factor(0.0, 0.0, 2.0, 3.0)), float(fano_factor(1 / 3, 0.0, 2.0, 3.0))
    (9.0, 10.0)
    """
    e = (energy - centre) / (0.5 * fwhm)
    return (q + e) ** 2 / (1.0 + e * e)
