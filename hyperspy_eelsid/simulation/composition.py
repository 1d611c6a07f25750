"""Which elements, edges and subshells a simulated spectrum contains.

Vocabulary
----------
subshell
    One GOS table (``Fe_L3``); the unit of the cross-section calculation.
edge (family)
    The subshells of one element sharing a shell letter (``Fe L``: L3, L2,
    and L1 when minor subshells are simulated). Fine structure, chemical
    shifts and the jump ratio act on edges. An edge's onset is the lowest
    onset of its "Major" subshells.
counted edge
    An edge with a Major subshell whose onset leaves room for the spectrum
    margins and shifts: ``start_min + start_margin + max|chemical shift|``
    <= onset <= ``min(end_max, 3071) - end_margin - max|chemical shift|``
    (90..3041 eV with the defaults; 104 edges of the 80 elements). Labels and
    spectrum ranges are defined by counted edges.

Composition distribution (defaults)
-----------------------------------
* number of elements ``n`` in 1..4 with probabilities 0.35, 0.35, 0.2, 0.1;
* ``n`` distinct elements drawn without replacement with the weights of
  :data:`~hyperspy_eelsid.simulation.config.DEFAULT_ELEMENT_WEIGHTS`;
* for each element one of its counted edges, uniformly: the *anchor* edge,
  which the spectrum range must contain. The element's other edges are
  simulated too and appear when they fall in the range;
* optionally (``oxide_fraction``, off in Table 1) O replaces the last drawn
  element of a fraction of the spectra with two or more elements;
* optionally (``hard_pair_fraction``, off in Table 1) a fraction of the
  spectra hold one element of a confusable pair, or both, anchored at their
  coincident edges (:func:`hard_pair_anchors`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperspy_eelsid import elements as el
from hyperspy_eelsid.physics.cross_sections import GOSHDatabase, GOSTable

from .config import SimulationConfig

__all__ = ["EdgeCatalogue", "build_catalogue", "draw_composition", "hard_pair_anchors", "SHELLS"]

SHELLS = ("K", "L", "M", "N", "O")
N_GRID = 3072


@dataclass
class EdgeCatalogue:
    """The drawable elements and their edges, as padded arrays.

    Attributes
    ----------
    elements : tuple of str
        Drawable elements (network order).
    label_index : numpy.ndarray
        Position of each drawable element in :data:`hyperspy_eelsid.elements.ELEMENTS`.
    tables : tuple of GOSTable
        Every simulated subshell table.
    sub_table : numpy.ndarray
        ``(n_el, S)``: table index of each subshell, -1 padding.
    sub_family : numpy.ndarray
        ``(n_el, S)``: edge slot (0..F-1) of each subshell.
    sub_rank : numpy.ndarray
        ``(n_el, S)``: position of the subshell within its edge.
    fam_onset : numpy.ndarray
        ``(n_el, F)``: nominal edge onsets (eV), ``inf`` for empty slots.
    fam_shell : numpy.ndarray
        ``(n_el, F)``: index into :data:`SHELLS`, -1 for empty slots.
    counted : numpy.ndarray
        ``(n_el, C)``: edge slots of the counted edges, -1 padding.
    n_counted : numpy.ndarray
        ``(n_el,)``.
    weights : numpy.ndarray
        ``(n_el,)`` draw weights.
    """

    elements: tuple
    label_index: np.ndarray
    tables: tuple
    sub_table: np.ndarray
    sub_family: np.ndarray
    sub_rank: np.ndarray
    fam_onset: np.ndarray
    fam_shell: np.ndarray
    counted: np.ndarray
    n_counted: np.ndarray
    weights: np.ndarray
    counted_window: tuple

    @property
    def n_counted_edges(self) -> int:
        """Total number of counted edges over the drawable elements."""
        return int(self.n_counted.sum())

    def counted_edges(self) -> list[tuple[str, str, float]]:
        """``(element, shell, onset)`` of every counted edge."""
        out = []
        for i, symbol in enumerate(self.elements):
            for f in self.counted[i, : self.n_counted[i]]:
                out.append((symbol, SHELLS[self.fam_shell[i, f]], float(self.fam_onset[i, f])))
        return out


def build_catalogue(db: GOSHDatabase, config: SimulationConfig) -> EdgeCatalogue:
    """Match the element table with the GOS tables available in ``db``.

    Raises
    ------
    ValueError
        If an element requested in ``config.elements`` has no GOS table for
        a countable edge, or if no element is drawable at all.
    """
    shift = max(abs(v) for v in config.chemical_shift_ev)
    lo = config.start_min_ev + config.start_margin_ev + shift
    hi = min(config.end_max_ev, N_GRID - 1) - config.end_margin_ev - shift
    requested = config.elements
    if requested is not None:
        unknown = [s for s in requested if s not in el.ELEMENTS]
        if unknown:
            raise ValueError(f"unknown elements in configuration: {unknown}")
    tables: list[GOSTable] = []
    rows = []
    for symbol in el.ELEMENTS:
        if requested is not None and symbol not in requested:
            continue
        subs = el.subshells(symbol, emin=config.subshell_emin_ev, emax=config.end_max_ev,
                            supplementary=config.supplementary_subshells)
        fams: dict[str, dict] = {}
        for s in subs:
            if s.label not in db or (config.major_subshells_only and not s.is_major):
                continue
            fam = fams.setdefault(s.shell, {"subs": [], "major": []})
            fam["subs"].append(s)
            if s.is_major:
                fam["major"].append(s.onset_energy)
        fam_list = []
        for shell, fam in sorted(fams.items(), key=lambda kv: min(x.onset_energy for x in kv[1]["subs"])):
            onset = min(fam["major"]) if fam["major"] else min(x.onset_energy for x in fam["subs"])
            fam_list.append((shell, onset, bool(fam["major"]) and lo <= onset <= hi, fam["subs"]))
        if not any(f[2] for f in fam_list):
            if requested is not None:
                raise ValueError(
                    f"{symbol} has no GOS table for an edge between {lo} and {hi} eV "
                    f"in {db.path}; it cannot be simulated"
                )
            continue
        rows.append((symbol, fam_list))
    if not rows:
        raise ValueError(f"no element of the configuration has a usable GOS table in {db.path}")

    n_el = len(rows)
    S = max(sum(len(f[3]) for f in fl) for _, fl in rows)
    F = max(len(fl) for _, fl in rows)
    sub_table = -np.ones((n_el, S), np.int64)
    sub_family = np.zeros((n_el, S), np.int64)
    sub_rank = np.zeros((n_el, S), np.int64)
    fam_onset = np.full((n_el, F), np.inf)
    fam_shell = -np.ones((n_el, F), np.int64)
    counted = -np.ones((n_el, F), np.int64)
    n_counted = np.zeros(n_el, np.int64)
    weights = np.empty(n_el)
    for i, (symbol, fam_list) in enumerate(rows):
        j = 0
        for f, (shell, onset, is_counted, subs) in enumerate(fam_list):
            fam_onset[i, f] = onset
            fam_shell[i, f] = SHELLS.index(shell)
            if is_counted:
                counted[i, n_counted[i]] = f
                n_counted[i] += 1
            for r, s in enumerate(subs):
                sub_table[i, j] = len(tables)
                sub_family[i, j] = f
                sub_rank[i, j] = r
                tables.append(db[s.label])
                j += 1
        weights[i] = float(config.element_weights.get(symbol, 1.0))
    if weights.sum() <= 0:
        raise ValueError("element_weights give every drawable element zero weight")
    return EdgeCatalogue(
        elements=tuple(r[0] for r in rows),
        label_index=np.array([el.element_index(r[0]) for r in rows]),
        tables=tuple(tables),
        sub_table=sub_table,
        sub_family=sub_family,
        sub_rank=sub_rank,
        fam_onset=fam_onset,
        fam_shell=fam_shell,
        counted=counted[:, : max(1, int(n_counted.max()))],
        n_counted=n_counted,
        weights=weights,
        counted_window=(float(lo), float(hi)),
    )


def hard_pair_anchors(catalogue: EdgeCatalogue, pairs) -> tuple[np.ndarray, np.ndarray]:
    """Catalogue indices and coincident anchor edges of element pairs.

    For each pair ``"A-B"`` the counted edges of A and B whose nominal
    onsets are closest to each other are its anchors (N-Sc: N K and Sc L).

    Parameters
    ----------
    catalogue : EdgeCatalogue
    pairs : sequence of str
        ``"A-B"`` pairs (validated by :class:`SimulationConfig`).

    Returns
    -------
    element, anchor : numpy.ndarray
        ``(P, 2)`` catalogue index and edge slot of each pair's elements.

    Raises
    ------
    ValueError
        If an element of a pair cannot be drawn (not among the configured
        elements, or no counted edge in the configured range).
    """
    element = np.zeros((len(pairs), 2), np.int64)
    anchor = np.zeros((len(pairs), 2), np.int64)
    for k, pair in enumerate(pairs):
        symbols = pair.split("-")
        missing = [x for x in symbols if x not in catalogue.elements]
        if missing:
            raise ValueError(f"hard pair {pair!r}: {missing} cannot be drawn with this configuration "
                             f"(not among its elements, or no edge in {catalogue.counted_window} eV)")
        idx = [catalogue.elements.index(x) for x in symbols]
        slots = [catalogue.counted[i, : catalogue.n_counted[i]] for i in idx]
        onsets = [catalogue.fam_onset[i, f] for i, f in zip(idx, slots)]
        gap = np.abs(onsets[0][:, None] - onsets[1][None, :])
        a, b = np.unravel_index(int(np.argmin(gap)), gap.shape)
        element[k] = idx
        anchor[k] = slots[0][a], slots[1][b]
    return element, anchor


def draw_composition(cat: dict, probs, max_elements: int, batch: int, gen, oxide=None, hard_pairs=None):
    """Draw the elements and anchor edges of ``batch`` spectra (torch).

    Parameters
    ----------
    cat : dict of torch.Tensor
        The catalogue's arrays on the target device (see ``Simulator``).
    probs : torch.Tensor
        Probabilities of 1, 2, ... elements.
    max_elements : int
        ``len(probs)`` capped at the number of drawable elements.
    batch : int
    gen : torch.Generator
    oxide : (float, int), optional
        ``(fraction, catalogue index of O)``: in that fraction of the spectra
        with two or more elements, O replaces the last active element (or
        moves into the active slots if it was drawn into an inactive one).
    hard_pairs : (float, torch.Tensor, torch.Tensor), optional
        ``(fraction, element, anchor)`` with the ``(P, 2)`` arrays of
        :func:`hard_pair_anchors`: that fraction of the spectra holds, in
        place of its draw, the first element of a uniformly chosen pair, its
        second, or both (a third each), at the pair's anchor edges.

    Returns
    -------
    element : torch.Tensor
        ``(B, M)`` catalogue index of each element slot.
    active : torch.Tensor
        ``(B, M)`` bool, the slots in use.
    anchor : torch.Tensor
        ``(B, M)`` edge slot of each element's anchor edge.
    """
    import torch

    dev = probs.device
    n = torch.multinomial(probs, batch, replacement=True, generator=gen) + 1
    n = torch.clamp(n, max=max_elements)
    w = cat["weights"].expand(batch, -1)
    element = torch.multinomial(w, max_elements, replacement=False, generator=gen)
    active = torch.arange(max_elements, device=dev)[None, :] < n[:, None]
    if oxide is not None and oxide[0] > 0:
        fraction, o = oxide
        pick = (torch.rand(batch, generator=gen, device=dev) < fraction) & (n >= 2)
        has_o = ((element == o) & active).any(1)
        pick &= ~has_o
        rows = pick.nonzero(as_tuple=True)[0]
        last = n[rows] - 1
        # O drawn into an inactive slot swaps with the last active element
        is_o = element[rows] == o
        where_o, o_drawn = is_o.float().argmax(1), is_o.any(1)
        moved = element[rows, last]
        element[rows[o_drawn], where_o[o_drawn]] = moved[o_drawn]
        element[rows, last] = o
    count = cat["n_counted"][element]
    u = torch.rand(element.shape, generator=gen, device=dev)
    j = torch.clamp((u * count).long(), max=cat["counted"].shape[1] - 1)
    anchor = cat["counted"][element, j]
    if hard_pairs is not None and hard_pairs[0] > 0:
        fraction, pair_el, pair_anchor = hard_pairs
        rows = (torch.rand(batch, generator=gen, device=dev) < fraction).nonzero(as_tuple=True)[0]
        k = torch.randint(0, pair_el.shape[0], (rows.numel(),), generator=gen, device=dev)
        mode = torch.randint(0, 3 if max_elements >= 2 else 2, (rows.numel(),), generator=gen, device=dev)
        # mode 0: first element alone, 1: second alone, 2: both; the other one waits in slot 1
        lead = (mode == 1).long()
        element[rows, 0], anchor[rows, 0] = pair_el[k, lead], pair_anchor[k, lead]
        active[rows] = False
        active[rows, 0] = True
        if max_elements >= 2:
            element[rows, 1], anchor[rows, 1] = pair_el[k, 1 - lead], pair_anchor[k, 1 - lead]
            active[rows, 1] = mode == 2
    return element, active, anchor
