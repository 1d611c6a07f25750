"""Batched core-loss EELS spectrum simulator (torch; the same code on CPU and CUDA).

One call of :meth:`Simulator.simulate` draws ``B`` spectra:

1. microscope: ``E0``, convergence ``alpha`` and collection ``beta`` angles;
2. composition: elements, one anchor edge per element
   (:mod:`~hyperspy_eelsid.simulation.composition`), a chemical shift per edge;
3. spectrum range: integer start in ``[75, E_first - 10]`` and end in
   ``[E_last + 25, 3272]`` eV (uniform, or log-uniform above ``E_last + 25``
   with ``config.end_distribution``), ``E_first/last`` the lowest / highest anchor
   onset including its chemical shift;
4. edges: cross sections of every simulated subshell for the drawn
   ``E0, alpha, beta`` (:class:`~hyperspy_eelsid.physics.cross_sections.TorchCrossSections`),
   summed per edge;
5. scale: one anchor edge is picked, its jump ratio ``J`` drawn in
   ``[0.2, 1.5]``; every edge is multiplied by ``J * bg(E_onset) / peak``, with
   ``peak`` the maximum of the picked edge (before fine structure and
   convolution) inside the spectrum range and ``bg`` the background at its
   onset: all elements have the same areal density (or, with
   ``config.areal_density``, one drawn per element), so the other jump
   ratios follow from the cross sections;
6. white lines (optional, ``config.white_line_strength``; not in Table 1) at
   the onsets of the subshells in
   :data:`~hyperspy_eelsid.simulation.white_lines.WHITE_LINES` and giant
   resonances (optional, ``config.giant_resonance_strength``, or as a Fano
   profile on the cross section with ``config.giant_resonance_fano_q``) on
   the N4,5 edges of :data:`~hyperspy_eelsid.simulation.white_lines.GIANT_RESONANCES`
   and pi* peaks (optional, ``config.pi_star_strength``) on the K edges of
   :data:`~hyperspy_eelsid.simulation.white_lines.PI_STAR`, then the
   fine structure per edge; negative lobes lower the edge to at most
   ``fs_floor`` (0.25) of its value;
7. plural scattering: the summed edges are convolved with a generic low-loss
   spectrum;
8. background ``A (E / E_start)^-r`` is added (optionally plus a second
   power law, ``config.background_second_fraction``: curved in log-log);
9. an integer instrumental shift moves the whole signal, channels outside
   ``[start, end]`` are set to zero, shot noise is drawn
   (:func:`~hyperspy_eelsid.simulation.noise.shot_noise`: Poisson, its
   normal limit above 100 counts);
10. :func:`hyperspy_eelsid.preprocessing.finalise_on_grid` zeroes what the
    networks must not see (below 75 eV) and normalises, exactly as for
    measured spectra.

Randomness comes from one ``torch.Generator`` per batch, so a batch is
reproducible from its seed on a given device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from hyperspy_eelsid import elements as el
from hyperspy_eelsid.physics.cross_sections import GOSHDatabase, TorchCrossSections, load_gosh
from hyperspy_eelsid.preprocessing import N_CHANNELS, finalise_on_grid

from .background import power_law
from .composition import build_catalogue, draw_composition, hard_pair_anchors
from .config import SimulationConfig
from .fine_structure import fine_structure
from .low_loss import convolve, low_loss_kernel
from .noise import shot_noise
from .white_lines import (ELEMENT_POSITION_SWITCHES, ONSET_PEAKS, fano_factor, is_listed, lorentzian, own_position_ev,
                          white_line_pair)

__all__ = ["Simulator", "SimulatedBatch", "batch_seed", "PARAMETER_NAMES"]

#: Fine-structure window (eV) after an edge onset.
FS_WINDOW = 192

#: Scale (eV) of the log-uniform end draw (``config.end_distribution``).
END_LOG_SCALE_EV = 100.0

#: Per-spectrum scalar parameters returned in :attr:`SimulatedBatch.params`.
PARAMETER_NAMES = (
    "beam_energy_kv", "convergence_mrad", "collection_mrad", "start_ev", "end_ev",
    "instrumental_shift_ev", "zlp_fwhm_ev", "plasmon_energy_ev", "plasmon_width_ev",
    "n_plasmons", "t_over_lambda", "background_exponent", "background_amplitude",
    "jump_ratio", "jump_element", "jump_edge_onset_ev", "edge_scale", "n_elements",
)


def batch_seed(seed: int, index: int) -> int:
    """Seed of batch ``index`` of a run seeded ``seed`` (independent streams)."""
    # shifted as a Python int: NumPy 1.x refuses ``uint64 >> int``
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, np.uint64)[0]) >> 1


@dataclass
class SimulatedBatch:
    """Output of :meth:`Simulator.simulate`.

    Attributes
    ----------
    spectra : torch.Tensor
        ``(B, 3072)`` float32, normalised, on the 0..3071 eV grid.
    labels : torch.Tensor
        ``(B, 80)`` uint8 multi-hot in :data:`hyperspy_eelsid.elements.ELEMENTS` order.
    params : dict of torch.Tensor
        :data:`PARAMETER_NAMES` (``(B,)`` each) plus ``elements`` (``(B, M)``
        element indices, -1 for unused slots), ``anchor_onset_ev`` (``(B, M)``)
        and ``chemical_shift_ev`` (``(B, M)``, of each anchor edge).
    components : dict of torch.Tensor or None
        With ``components=True``: intermediate signals (``edges``,
        ``edges_fs``, ``jump_edge``, ``low_loss``, ``convolved``,
        ``background``, ``counts``, ``noisy``, ``mask``, ``edge_profiles``
        with ``edge_spectrum``/``edge_element``/``edge_shell``).
    """

    spectra: torch.Tensor
    labels: torch.Tensor
    params: dict
    components: dict | None = field(default=None)

    def arrays(self):
        """``(spectra, labels, params)`` as numpy arrays on the host (what a
        dataset file stores)."""
        return (self.spectra.cpu().numpy(), self.labels.cpu().numpy(),
                {k: v.cpu().numpy() for k, v in self.params.items()})


class Simulator:
    """Draws simulated spectra in batches.

    Parameters
    ----------
    config : SimulationConfig, optional
        Defaults to Table 1.
    device : str or torch.device, optional
        ``"cpu"`` (default) or ``"cuda"``.
    database : GOSHDatabase, optional
        GOS tables; defaults to ``load_gosh(config.gos_file)``.
    """

    def __init__(self, config: SimulationConfig | None = None, device=None, database: GOSHDatabase | None = None):
        self.config = config or SimulationConfig()
        self.device = torch.device(device if device is not None else "cpu")
        self.dtype = torch.float32
        db = database if database is not None else load_gosh(self.config.gos_file)
        self.database = db
        self.catalogue = cat = build_catalogue(db, self.config)
        self.xs = TorchCrossSections(cat.tables, device=self.device, dtype=self.dtype)
        d = self.device
        self._cat = {
            "weights": torch.as_tensor(cat.weights, dtype=torch.float32, device=d),
            "n_counted": torch.as_tensor(cat.n_counted, device=d),
            "counted": torch.as_tensor(cat.counted, device=d),
            "sub_table": torch.as_tensor(cat.sub_table, device=d),
            "sub_family": torch.as_tensor(cat.sub_family, device=d),
            "sub_rank": torch.as_tensor(cat.sub_rank, device=d),
            "fam_onset": torch.as_tensor(cat.fam_onset, dtype=self.dtype, device=d),
            "fam_shell": torch.as_tensor(cat.fam_shell, device=d),
            "label_index": torch.as_tensor(cat.label_index, device=d),
        }
        # per onset-peak kind: which of the tables get one, and (or None) where each table's peak
        # positions start relative to its onset: the measured pi* energies, the elements' own
        # giant-resonance delays, when asked for
        zs = [el.atomic_number(t.element) for t in cat.tables]
        bases = {
            prefix: torch.as_tensor([own_position_ev(prefix, t.subshell, t.onset_energy, z) for t, z in zip(cat.tables, zs)],
                                    dtype=self.dtype, device=d)
            for prefix, switch in ELEMENT_POSITION_SWITCHES.items() if getattr(self.config, switch)
        }
        # white lines: each table's role in its edge's pair (1: L3/M5, 2: L2/M4, 0: none) and the
        # log range of its element's height ratio, when asked for
        pairs = {}
        if self.config.white_line_ratio_by_element:
            role, lo, hi = zip(*(white_line_pair(t.subshell, z) for t, z in zip(cat.tables, zs)))
            pairs["white_line"] = (torch.as_tensor(role, device=d),
                                   *(torch.log(torch.as_tensor(r, dtype=self.dtype, device=d)) for r in (lo, hi)),
                                   self.config.white_line_pair_width_factor)
        self._onset_peak_tables = tuple(
            (prefix, torch.as_tensor([is_listed(listed, t.subshell, z) for t, z in zip(cat.tables, zs)],
                                     dtype=torch.bool, device=d), cut, bases.get(prefix), pairs.get(prefix))
            for prefix, listed, cut in ONSET_PEAKS
        )
        self._onset_peak_flags = {prefix: flags for prefix, flags, *_ in self._onset_peak_tables}
        n_positive = int((cat.weights > 0).sum())
        self.max_elements = min(self.config.max_elements, n_positive)
        probs = np.asarray(self.config.n_elements_probs[: self.max_elements], dtype=float)
        self._probs = torch.as_tensor(probs / probs.sum(), dtype=torch.float32, device=d)
        self._oxide = None
        if self.config.oxide_fraction > 0:
            if "O" not in cat.elements:
                raise ValueError("oxide_fraction > 0 needs O among the drawable elements")
            self._oxide = (self.config.oxide_fraction, cat.elements.index("O"))
        self._hard_pairs = None
        if self.config.hard_pair_fraction > 0:
            pair_el, pair_anchor = hard_pair_anchors(cat, self.config.hard_pairs)
            self._hard_pairs = (self.config.hard_pair_fraction, torch.as_tensor(pair_el, device=d),
                                torch.as_tensor(pair_anchor, device=d))
        self.grid = torch.arange(N_CHANNELS, device=d, dtype=self.dtype)

    # ------------------------------------------------------------------
    def _uniform(self, lo_hi, shape, g):
        lo, hi = lo_hi
        return lo + (hi - lo) * torch.rand(shape, generator=g, device=self.device, dtype=self.dtype)

    def _integers(self, lo_hi, shape, g):
        lo, hi = (int(v) for v in lo_hi)
        return torch.randint(lo, hi + 1, shape, generator=g, device=self.device)

    def _choice(self, values, shape, g):
        v = torch.as_tensor(values, dtype=self.dtype, device=self.device)
        return v[torch.randint(0, len(values), shape, generator=g, device=self.device)]

    # ------------------------------------------------------------------
    def simulate(self, batch_size: int, seed: int | None = None, generator=None, components: bool = False) -> SimulatedBatch:
        """Simulate one batch.

        Parameters
        ----------
        batch_size : int
        seed : int, optional
            Seeds a fresh generator (ignored when ``generator`` is given).
        generator : torch.Generator, optional
            Must live on the simulator's device.
        components : bool
            Also return the intermediate signals (costs memory).

        Returns
        -------
        SimulatedBatch
        """
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        cfg, dev, dt, cat = self.config, self.device, self.dtype, self._cat
        g = generator
        if g is None:
            g = torch.Generator(device=dev)
            g.manual_seed(0 if seed is None else int(seed))
        B, C, W = batch_size, N_CHANNELS, FS_WINDOW
        grid = self.grid

        # 1. microscope
        E0 = self._choice(cfg.beam_energies_kv, (B,), g)
        alpha = self._uniform(cfg.convergence_mrad, (B,), g)
        beta = self._uniform(cfg.collection_mrad, (B,), g)

        # 2. composition and chemical shifts (one per edge slot)
        element, active, anchor = draw_composition(cat, self._probs, self.max_elements, B, g, self._oxide, self._hard_pairs)
        M, F = element.shape[1], cat["fam_onset"].shape[1]
        chem = self._integers(cfg.chemical_shift_ev, (B, M, F), g).to(dt)
        onset = cat["fam_onset"][element] + chem  # (B, M, F), inf where no edge
        anchor_onset = torch.gather(onset, 2, anchor[..., None])[..., 0]

        # 3. spectrum range
        inf = torch.full_like(anchor_onset, float("inf"))
        first = torch.where(active, anchor_onset, inf).amin(1)
        last = torch.where(active, anchor_onset, -inf).amax(1)
        s_hi = torch.floor(first) - cfg.start_margin_ev
        start = cfg.start_min_ev + torch.floor(torch.rand(B, generator=g, device=dev, dtype=dt) * (s_hi - cfg.start_min_ev + 1))
        e_lo = torch.ceil(last) + cfg.end_margin_ev
        u = torch.rand(B, generator=g, device=dev, dtype=dt)
        n_end = cfg.end_max_ev - e_lo + 1  # possible ends
        if cfg.end_distribution == "log-uniform":  # e_lo + x - a, x log-uniform in [a, n_end]
            a = torch.clamp(n_end, max=END_LOG_SCALE_EV)
            end = e_lo + torch.floor(a * torch.exp(u * torch.log(n_end / a))) - a
        else:
            end = e_lo + torch.floor(u * n_end)
        inst = self._integers(cfg.instrumental_shift_ev, (B,), g)
        mask = (grid[None, :] >= start[:, None]) & (grid[None, :] <= end[:, None])

        # 4. cross sections of every subshell, summed per edge
        st = cat["sub_table"][element]  # (B, M, S)
        valid = (st >= 0) & active[..., None]
        b, m, s = valid.nonzero(as_tuple=True)
        e_of_pair = element[b, m]
        f = cat["sub_family"][e_of_pair, s]
        rank = cat["sub_rank"][e_of_pair, s]
        chunk = 16384 if dev.type == "cuda" else 1024  # GPUs: fewer launches and host syncs
        fam_key = (b * M + m) * F + f
        present = torch.zeros(B * M * F, dtype=torch.bool, device=dev)
        present[fam_key] = True
        fam_flat = present.nonzero(as_tuple=True)[0]  # (Q,) sorted by spectrum
        pos = torch.cumsum(present.long(), 0) - 1
        qp = pos[fam_key]
        Q = fam_flat.numel()
        prof = torch.zeros((Q, C + W), device=dev, dtype=dt)
        # subshells added into their edge's row, in rank order (one subshell per edge per rank)
        pair_table, pair_shift = st[b, m, s], chem[b, m, f]
        # white lines, giant resonances, pi* peaks: each kind only when switched on
        kinds = [(flags, getattr(cfg, f"{p}_strength"), getattr(cfg, f"{p}_fwhm_ev"), getattr(cfg, f"{p}_offset_ev"),
                  cut, base, pair)
                 for p, flags, cut, base, pair in self._onset_peak_tables if getattr(cfg, f"{p}_strength")[1] > 0]
        weight = None
        if cfg.giant_resonance_continuum_fraction != (1.0, 1.0):  # the resonance takes the continuum's strength
            resonant = self._onset_peak_flags["giant_resonance"][pair_table]
            weight = torch.where(resonant, self._uniform(cfg.giant_resonance_continuum_fraction, resonant.shape, g),
                                 torch.ones((), device=dev, dtype=dt))
        sub_peak = self.xs.evaluate_pairs(pair_table, E0[b], alpha[b], beta[b], pair_shift, grid,
                                          chunk=chunk, out=prof, rows=qp, group=rank, peaks=bool(kinds),
                                          weight=weight)
        white = self._onset_peaks(kinds, sub_peak, pair_table, pair_shift, rank, qp, Q, g) if kinds else None
        if cfg.giant_resonance_fano_q[1] > 0:  # the giant resonance as a Fano profile on its subshells
            pairs = (pair_table, E0[b], alpha[b], beta[b], pair_shift, rank, qp, weight)
            fano = self._fano_resonances(pairs, Q, g)
            white = fano if white is None else white + fano
        qb = torch.div(fam_flat, M * F, rounding_mode="floor")
        qm = torch.div(fam_flat, F, rounding_mode="floor") % M
        qf = fam_flat % F
        q_onset = onset[qb, qm, qf]
        if cfg.areal_density != (1.0, 1.0):  # unequal amounts: log-uniform per element
            lo, hi = (math.log(v) for v in cfg.areal_density)
            density = torch.exp(lo + (hi - lo) * torch.rand((B, M), generator=g, device=dev, dtype=dt))
            prof *= density[qb, qm][:, None]
            if white is not None:
                white *= density[qb, qm][:, None]

        # 5. the jump ratio of one anchor edge sets the scale of all edges
        jump_slot = torch.multinomial(active.float(), 1, generator=g)[:, 0]
        bidx = torch.arange(B, device=dev)
        jump_key = (bidx * M + jump_slot) * F + anchor[bidx, jump_slot]
        jump_edge = prof[pos[jump_key], :C]
        jump_onset = anchor_onset[bidx, jump_slot]
        peak_in_range = torch.where(mask, jump_edge, torch.zeros_like(jump_edge)).amax(1)
        r_bg = self._uniform(cfg.background_exponent, (B,), g)
        A = self._choice(cfg.background_amplitudes, (B,), g)
        J = self._uniform(cfg.jump_ratio, (B,), g)
        bg_at_onset = A * torch.exp(-r_bg * torch.log(jump_onset / start))
        second = None
        if cfg.background_second_fraction[1] > 0:  # a second power law: curved in log-log
            A2 = A * self._uniform(cfg.background_second_fraction, (B,), g)
            r2 = self._uniform(cfg.background_second_exponent, (B,), g)
            second = (A2, r2)
            bg_at_onset = bg_at_onset + A2 * torch.exp(-r2 * torch.log(jump_onset / start))
        scale = J * bg_at_onset / peak_in_range

        # 6. fine structure per edge
        peak = prof.amax(1)
        o = torch.clamp(torch.ceil(q_onset), max=C).long()
        decay = self._uniform(cfg.fs_decay_ev, (Q,), g) if cfg.fs_decay_ev[1] > 0 else None
        fs = fine_structure(
            self._integers(cfg.fs_peaks, (Q,), g),
            self._integers(cfg.fs_width_ev, (Q,), g).to(dt),
            self._uniform(cfg.atomic_diameter_pm, (Q,), g),
            peak, cfg, W, g, offset=o.to(dt) - q_onset, decay=decay,
        )
        idx = o[:, None] + torch.arange(W, device=dev)[None, :]
        raw = prof[:, :C].clone() if components else None
        if white is not None:
            prof[:, :C] += white
        win = torch.gather(prof, 1, idx)
        prof.scatter_(1, idx, torch.maximum(win + fs, cfg.fs_floor * win))

        # sum the edges of each spectrum (deterministically: one edge per spectrum per step)
        counts_q = torch.bincount(qb, minlength=B)
        first_q = torch.cumsum(counts_q, 0) - counts_q
        q_rank = torch.arange(Q, device=dev) - first_q[qb]
        edges_fs = torch.zeros((B, C), device=dev, dtype=dt)
        edges = torch.zeros((B, C), device=dev, dtype=dt) if components else None
        if dev.type == "cpu":  # index_add_ adds rows in index order on CPU: same sums as the loop below
            edges_fs.index_add_(0, qb, prof[:, :C])
            if components:
                edges.index_add_(0, qb, raw)
        else:  # CUDA's index_add_ uses atomics (order varies): one edge per spectrum per step
            for r in range(int(q_rank.max()) + 1 if Q else 0):
                sel = q_rank == r
                edges_fs[qb[sel]] += prof[sel, :C]
                if components:
                    edges[qb[sel]] += raw[sel]
        edges_fs *= scale[:, None]

        # 7. plural scattering
        zlp = self._uniform(cfg.zlp_fwhm_ev, (B,), g)
        ep = self._integers(cfg.plasmon_energy_ev, (B,), g).to(dt)
        gp = self._integers(cfg.plasmon_width_ev, (B,), g).to(dt)
        n_pl = self._integers(cfg.n_plasmons, (B,), g)
        tl = self._uniform(cfg.t_over_lambda, (B,), g)
        kernel = low_loss_kernel(zlp, ep, gp, n_pl, tl, cfg.lowloss_channels)
        convolved = torch.clamp(convolve(edges_fs, kernel), min=0.0)

        # 8.-9. background, instrumental shift, range, noise
        background = power_law(grid, A, r_bg, start)
        if second is not None:
            background = background + power_law(grid, second[0], second[1], start)
        signal = convolved + background
        shifted = torch.gather(signal, 1, torch.clamp(grid.long()[None, :] - inst[:, None], 0, C - 1))
        counts = torch.where(mask, shifted, torch.zeros_like(shifted))
        noisy = shot_noise(counts, g) if cfg.noise else counts

        # 10. the preprocessing of real spectra
        spectra = finalise_on_grid(noisy, mask)

        labels = torch.zeros((B, el.N_ELEMENTS), dtype=torch.uint8, device=dev)
        lab = cat["label_index"][element]
        labels[bidx[:, None].expand_as(lab)[active], lab[active]] = 1

        params = {
            "beam_energy_kv": E0, "convergence_mrad": alpha, "collection_mrad": beta,
            "start_ev": start, "end_ev": end, "instrumental_shift_ev": inst.to(dt),
            "zlp_fwhm_ev": zlp, "plasmon_energy_ev": ep, "plasmon_width_ev": gp,
            "n_plasmons": n_pl.to(dt), "t_over_lambda": tl, "background_exponent": r_bg,
            "background_amplitude": A, "jump_ratio": J,
            "jump_element": lab[bidx, jump_slot].to(dt), "jump_edge_onset_ev": jump_onset,
            "edge_scale": scale, "n_elements": active.sum(1).to(dt),
            "elements": torch.where(active, lab, torch.full_like(lab, -1)),
            "anchor_onset_ev": torch.where(active, anchor_onset, torch.zeros_like(anchor_onset)),
            "chemical_shift_ev": torch.where(active, torch.gather(chem, 2, anchor[..., None])[..., 0], torch.zeros_like(anchor_onset)),
        }
        comp = None
        if components:
            comp = {
                "edges": edges * scale[:, None], "edges_fs": edges_fs, "jump_edge": jump_edge * scale[:, None],
                "low_loss": kernel, "convolved": convolved, "background": background,
                "counts": counts, "noisy": noisy, "mask": mask,
                "edge_profiles": prof[:, :C] * scale[qb, None],
                "edge_profiles_raw": raw * scale[qb, None],
                "white_lines": (white if white is not None else torch.zeros_like(raw)) * scale[qb, None],
                "edge_spectrum": qb, "edge_element": cat["label_index"][element[qb, qm]],
                "edge_shell": cat["fam_shell"][element[qb, qm], qf], "edge_onset_ev": q_onset,
            }
        return SimulatedBatch(spectra=spectra, labels=labels, params=params, components=comp)

    def _fano_resonances(self, pairs, n_rows, g):
        """What the giant resonance adds to each edge row when drawn as a Fano
        profile (``config.giant_resonance_fano_q``): ``(n_rows, C)``, the
        resonant subshells' cross sections times ``fano_factor - 1``.

        ``pairs`` is ``(table, E0, alpha, beta, shift, rank, row, weight)``
        of the subshell pairs, as passed to
        :meth:`TorchCrossSections.evaluate_pairs`. One profile per edge row
        (the N4 and N5 subshells of an element share it: one 4d -> 4f
        resonance), centred like the Lorentzian of :meth:`_onset_peaks`
        (``giant_resonance_offset_ev`` from the lowest resonant onset, plus
        the element's delay with ``giant_resonance_delay_by_element``; never
        below that onset), ``giant_resonance_fwhm_ev`` wide, with ``q``
        drawn in ``giant_resonance_fano_q``. Added where the white lines are,
        after the jump ratio and the fine structure's scale were taken from
        the bare edges, as for a Lorentzian resonance.
        """
        cfg, dt, dev = self.config, self.dtype, self.device
        table, E0, alpha, beta, shift, rank, row, weight = pairs
        out = torch.zeros((n_rows, self.grid.numel()), device=dev, dtype=dt)
        k = self._onset_peak_flags["giant_resonance"][table].nonzero(as_tuple=True)[0]
        if k.numel() == 0:
            return out
        rows, local = torch.unique(row[k], return_inverse=True)
        n = rows.numel()
        onset = self.xs._onset[table[k]].to(dt) + shift[k]
        lowest = torch.full((n,), float("inf"), device=dev, dtype=dt).scatter_reduce(0, local, onset, "amin")
        base = next(base for prefix, _, _, base, _ in self._onset_peak_tables if prefix == "giant_resonance")
        delay = torch.zeros((n,), device=dev, dtype=dt)
        if base is not None:  # the N4 and N5 subshells of one element share its delay
            delay = delay.scatter_reduce(0, local, base[table[k]], "amax", include_self=False)
        centre = torch.maximum(lowest + delay + self._uniform(cfg.giant_resonance_offset_ev, (n,), g), lowest)
        fwhm = self._uniform(cfg.giant_resonance_fwhm_ev, (n,), g)
        q = self._uniform(cfg.giant_resonance_fano_q, (n,), g)
        bare = torch.zeros((n, out.shape[1]), device=dev, dtype=dt)
        self.xs.evaluate_pairs(table[k], E0[k], alpha[k], beta[k], shift[k], self.grid, out=bare, rows=local,
                               group=rank[k], peaks=False, weight=None if weight is None else weight[k])
        factor = fano_factor(self.grid[None, :], centre[:, None], fwhm[:, None], q[:, None])
        out[rows] = bare * (factor - 1.0)
        return out

    def _onset_peaks(self, kinds, sub_peak, table, shift, rank, row, n_rows, g):
        """White lines and giant resonances of the subshell pairs that have one,
        summed per edge.

        ``kinds`` lists ``(flags, strength, fwhm, offset, cut, base, pair)``: a
        per-table boolean tensor and the config ranges; ``cut`` zeroes the
        peak below the subshell onset (and keeps its centre at or above it);
        ``base`` (per table, or None) moves the range of positions from the
        table's onset to the element's own position (measured pi* energy,
        giant-resonance delay); ``pair`` (or None) is ``(role, log_lo,
        log_hi, width_factor)`` per table: role 1 (L3, M5) keeps its drawn
        height, role 2 (L2, M4) takes its edge's role-1 height divided by a
        ratio drawn log-uniformly in ``[exp(log_lo), exp(log_hi)]``; with a
        ``width_factor`` range other than ``(0, 0)`` it also takes the role-1
        line's offset above the onset and its FWHM times a factor drawn in
        that range.
        ``sub_peak`` (P,) are the maxima of the pairs' cross sections, ``table``/``shift``/``rank``/``row`` their table, onset
        shift, rank within the edge and edge row. Returns ``(n_rows, C)``;
        heights are relative to each subshell's maximum, so the result
        scales with the edges.
        """
        dt = self.dtype
        out = torch.zeros((n_rows, self.grid.numel()), device=self.device, dtype=dt)
        for flags, strength, fwhm_range, offset, cut, base, pair in kinds:
            k = flags[table].nonzero(as_tuple=True)[0]
            n = k.numel()
            if n == 0:
                continue
            tk, rows = table[k], row[k]
            height = self._uniform(strength, (n,), g) * sub_peak[k]
            if pair is not None:  # the second line of a pair: the first one's height over the element's ratio
                role, log_lo, log_hi = (x[tk] for x in pair[:3])
                is_second = role == 2

                def from_first(values):
                    first = torch.zeros(n_rows, device=self.device, dtype=dt)
                    first[rows[role == 1]] = values[role == 1]  # one L3 (M5) per edge row
                    return first[rows]

                first = from_first(height)
                ratio = torch.exp(self._uniform((log_lo, log_hi), (n,), g))
                height = torch.where(is_second & (first > 0), first / ratio, height)
            fwhm = self._uniform(fwhm_range, (n,), g)
            onset = self.xs._onset[tk].to(dt) + shift[k]
            above = self._uniform(offset, (n,), g)
            if pair is not None and pair[3][1] > 0:  # paired widths: L2 (M4) = L3 (M5) x factor, same offset
                paired = is_second & (first > 0)
                factor = self._uniform(pair[3], (n,), g)
                fwhm = torch.where(paired, from_first(fwhm) * factor, fwhm)
                above = torch.where(paired, from_first(above), above)
            centre = onset + above
            if base is not None:
                centre = centre + base[tk]
            if cut:  # a peak that starts at the onset has its maximum at or above it
                centre = torch.maximum(centre, onset)
            lines = lorentzian(self.grid[None, :], centre[:, None], fwhm[:, None], height[:, None])
            if cut:
                lines = torch.where(self.grid[None, :] >= onset[:, None], lines, torch.zeros_like(lines))
            rk = rank[k]
            for r in range(int(rk.max()) + 1):
                sel = rk == r  # one subshell per edge per rank: no index collisions
                out[rows[sel]] += lines[sel]
        return out

    def batches(self, n: int, seed: int = 0, batch_size: int = 1024):
        """Yield :class:`SimulatedBatch` objects totalling ``n`` spectra.

        Batch ``i`` uses the seed :func:`batch_seed(seed, i) <batch_seed>`, so
        the output depends only on ``seed``, ``batch_size`` and the device.
        """
        if n < 0 or batch_size < 1:
            raise ValueError("need n >= 0 and batch_size >= 1")
        for i, a in enumerate(range(0, n, batch_size)):
            yield self.simulate(min(batch_size, n - a), seed=batch_seed(seed, i))
