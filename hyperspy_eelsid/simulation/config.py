"""Configuration of the spectrum simulator; the defaults are the paper's Table 1.

Every value can be overridden, e.g. ``SimulationConfig(beam_energies_kv=(200,))``
or ``config.replace(jump_ratio=(0.5, 1.0))``; invalid values raise ``ValueError``
with the offending field named.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Mapping

from hyperspy_eelsid.elements import ELEMENTS

from .white_lines import ELEMENT_POSITION_SWITCHES, ONSET_PEAKS

__all__ = ["SimulationConfig", "DEFAULT_ELEMENT_WEIGHTS", "read_overrides", "exact_elements"]

#: Relative draw weights of elements (others weigh 1). Elements that dominate
#: experimental EELS work (light elements, 3d metals, the common perovskite
#: and oxide cations, lanthanides used in catalysis) are drawn three times as
#: often, to follow the experimental occurrence the paper matches (its Fig. 4).
DEFAULT_ELEMENT_WEIGHTS: dict[str, float] = {
    s: 3.0
    for s in (
        "B C N O F Na Mg Al Si P S Ca Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
        "Sr Y Zr Ba La Ce Pr Nd Gd Hf Ta W Au"
    ).split()
}


@dataclass(frozen=True)
class SimulationConfig:
    """All parameters of the simulation (ranges are inclusive ``(low, high)``).

    Attributes
    ----------
    beam_energies_kv : tuple of float
        Beam energies drawn uniformly from this set (keV).
    convergence_mrad, collection_mrad : (float, float)
        Uniform ranges of the convergence and collection semi-angles.
    chemical_shift_ev : (int, int)
        Integer range of the per-edge chemical shift.
    instrumental_shift_ev : (int, int)
        Integer range of the whole-spectrum shift (drift, miscalibration).
    fs_peaks : (int, int)
        Number of Gaussian peaks of a generic fine structure.
    fs_width_ev : (int, int)
        Integer range of the fine-structure window above the onset.
    fs_max_scale : float
        Largest fine-structure amplitude relative to the edge peak.
    fs_floor : float
        Negative fine-structure lobes may lower an edge to at most this
        fraction of its value (0 lets them cut the edge to zero).
    fs_fwhm_clip_ev : (float, float)
        Lifetime widths are clipped to this range (the grid is 1 eV; very
        small atomic diameters would give widths of hundreds of eV).
    fs_decay_ev : (float, float)
        Not in Table 1 (default ``(0, 0)``: off). Uniform range of an
        e-folding energy ``L`` per edge: the fine structure is multiplied by
        ``exp(-(E - onset) / L)`` before it is scaled, so its strongest
        features stay near the onset and the oscillations far above it are
        weaker, as in measured near-edge and extended fine structure.
    white_line_strength : (float, float)
        Not in Table 1 (default ``(0, 0)``: off). Uniform range of the height
        of a Lorentzian white line at the onset of every subshell listed in
        :data:`~hyperspy_eelsid.simulation.white_lines.WHITE_LINES` (3d/4d
        metal L2,3, Cs..Yb M4,5), relative to that subshell's own maximum
        on the grid. Added like fine structure: after the jump ratio is set.
    white_line_fwhm_ev : (float, float)
        Uniform range of the white lines' FWHM.
    white_line_offset_ev : (float, float)
        Uniform range of the white-line position above the subshell onset.
    white_line_ratio_by_element : bool
        Default False: the two white lines of an edge (L3 and L2, M5 and
        M4) get independent heights. True: the L3 (M5) line's height is
        drawn from ``white_line_strength`` and the L2 (M4) line is that
        height divided by a ratio drawn log-uniformly in the element's range
        (:data:`~hyperspy_eelsid.simulation.white_lines.WHITE_LINE_RATIOS`:
        about 1 for Ca..Ti, 2-4.5 for Mn..Cu, below 1 for Cs..La, rising to
        10-40 at Yb).
    white_line_pair_width_factor : (float, float)
        Default ``(0, 0)``: the two lines of a pair get independent widths
        and positions. Otherwise (with ``white_line_ratio_by_element``) the
        L2 (M4) line sits as far above its onset as the L3 (M5) line above
        its own, and its FWHM is the L3 (M5) line's times a factor drawn
        uniformly in this range. Measured L2 and M4 lines are as broad as
        their L3 and M5 lines or broader (Coster-Kronig decay shortens the
        L2 and M4 core holes): 16 of the 17 clear white-line pairs of the
        benchmark's spectra fit second lines 1-1.5 times as broad as the
        first (``benchmarks/white_line_pairs.py --real``). Drawn independently,
        the widths (1-4 eV) can make the pair's area ratio four times larger
        or smaller than its height ratio.
    giant_resonance_strength : (float, float)
        Not in Table 1 (default ``(0, 0)``: off). Uniform range of the height
        of a broad Lorentzian added to the N4,5 edges of Cs..Yb
        (:data:`~hyperspy_eelsid.simulation.white_lines.GIANT_RESONANCES`,
        the 4d -> 4f giant resonance), relative to the subshell's maximum;
        zero below the subshell onset.
    giant_resonance_fwhm_ev : (float, float)
        Uniform range of the giant resonance's FWHM.
    giant_resonance_offset_ev : (float, float)
        Uniform range of its position above the subshell onset.
    giant_resonance_delay_by_element : bool
        Default False: the giant resonance lies ``giant_resonance_offset_ev``
        above the N4,5 onset, alike for Cs..Yb. True: it lies
        ``giant_resonance_offset_ev`` (which may then be negative) from the
        element's own delay
        (:func:`~hyperspy_eelsid.simulation.white_lines.giant_resonance_delay_ev`:
        18 eV for Cs..La, shrinking to 0 at Yb as the 4f shell fills), never
        below the onset.
    giant_resonance_continuum_fraction : (float, float)
        Default ``(1, 1)``: off. Uniform range of a factor on the
        Hartree-Fock-Slater (continuum) cross section of the subshells that
        carry a giant resonance, drawn per subshell and spectrum. The
        resonance's height stays relative to the unscaled subshell maximum,
        and the fine structure follows the scaled edge. Measured N4,5 edges of
        the lanthanides are mostly the 4d -> 4f resonance, with little
        4d -> continuum step after it; at 1 the smooth delayed continuum and
        its fine structure make every lanthanide's N4,5 edge a broad hump.
    giant_resonance_fano_q : (float, float)
        Default ``(0, 0)``: off. Uniform range of the Fano asymmetry ``q``
        of the giant resonance drawn as a Beutler-Fano profile instead of a
        Lorentzian on top of the edge: the Hartree-Fock-Slater cross section
        of the N4 and N5 subshells that carry one is multiplied by
        :func:`~hyperspy_eelsid.simulation.white_lines.fano_factor`, one
        profile per element and spectrum, centred where the Lorentzian would
        be (``giant_resonance_offset_ev``, from the element's delay with
        ``giant_resonance_delay_by_element``) and as wide
        (``giant_resonance_fwhm_ev``). The 4d -> 4f excitation decays into
        the 4d -> epsilon f continuum it interferes with (Fano, Phys. Rev.
        124, 1866 (1961); Dehmer, Starace, Fano, Sugar & Cooper, Phys. Rev.
        Lett. 26, 1521 (1971)), so the
        edge is nearly empty between the table onset and the resonance,
        rises steeply to ``1 + q**2`` times the continuum and falls back
        slowly, as measured lanthanide N4,5 edges do. The jump ratio and the
        fine structure's scale are taken from the bare edge, as with a
        Lorentzian. Needs ``giant_resonance_strength = (0, 0)`` (the profile
        replaces the Lorentzian).
    pi_star_strength : (float, float)
        Not in Table 1 (default ``(0, 0)``: off). Uniform range of the height
        of a pi* peak (Lorentzian) at the K edges of B..O
        (:data:`~hyperspy_eelsid.simulation.white_lines.PI_STAR`), relative
        to the subshell's maximum; the lower bound may be 0 (no pi* peak, as
        in sp3-bonded or ionic solids).
    pi_star_fwhm_ev, pi_star_offset_ev : (float, float)
        Uniform ranges of its FWHM and of its position above the onset.
    pi_star_at_measured_position : bool
        Default False: the pi* peak lies ``pi_star_offset_ev`` above the
        edge onset of the element table, alike for B, C, N and O. True: it
        lies ``pi_star_offset_ev`` (which may then be negative) from the
        element's measured pi* energy
        (:data:`~hyperspy_eelsid.simulation.white_lines.PI_STAR_POSITIONS_EV`:
        B K 192.0 eV, 4 eV above the table's onset, N K 401.0 eV, right at
        it), moved with the edge's chemical shift.
    sigma_star_strength : (float, float)
        Not in Table 1 (default ``(0, 0)``: off). Uniform range of the height
        of a broad sigma* resonance (Lorentzian) on the K edges of B..O
        (:data:`~hyperspy_eelsid.simulation.white_lines.SIGMA_STAR`),
        relative to the subshell's maximum; 0 allows none.
    sigma_star_fwhm_ev, sigma_star_offset_ev : (float, float)
        Uniform ranges of its FWHM and of its position: above the edge onset,
        or above the measured pi* energy with ``pi_star_at_measured_position``.
    atomic_diameter_pm : (float, float)
        Uniform range of the atomic diameter in the Seah-Dench mean free path.
    zlp_fwhm_ev : (float, float)
        Uniform range of the Lorentzian zero-loss FWHM.
    plasmon_energy_ev, plasmon_width_ev : (int, int)
        Integer ranges of the Drude plasmon energy and width.
    n_plasmons : (int, int)
        Integer range of the number of plasmon orders.
    t_over_lambda : (float, float)
        Uniform range of the scattering parameter t / lambda.
    background_exponent : (float, float)
        Uniform range of the power-law exponent r.
    background_amplitudes : tuple of float
        Background amplitudes A (counts) drawn from this set.
    background_second_fraction : (float, float)
        Not in Table 1 (default ``(0, 0)``: off). Uniform range of the
        amplitude, relative to ``A``, of a second power law added to the
        background. Two power laws with different exponents make the
        background curve in log-log, as measured backgrounds do (plural
        scattering, the low-loss tail, detector response).
    background_second_exponent : (float, float)
        Uniform range of the second power law's exponent.
    jump_ratio : (float, float)
        Uniform range of the jump ratio imposed on one edge per spectrum.
    areal_density : (float, float)
        Not in Table 1 (default ``(1, 1)``: every element has the same areal
        density). Range of each element's relative areal density, drawn
        log-uniformly per element and spectrum: measured compounds are not
        equiatomic (O:Ti is 3 in SrTiO3, dopants are a few percent), so the
        edges of one spectrum differ in strength by more than their cross
        sections. The anchor edge keeps its drawn jump ratio.
    start_min_ev, end_max_ev : int
        The spectrum start is drawn in ``[start_min_ev, E_first - start_margin_ev]``
        and the end in ``[E_last + end_margin_ev, end_max_ev]`` (integers).
    start_margin_ev, end_margin_ev : int
        Margins between the spectrum ends and the first / last labelled edge.
    end_distribution : {"uniform", "log-uniform"}
        How the spectrum end is drawn in its range. ``"uniform"`` is Table 1.
        ``"log-uniform"`` (not in Table 1) draws ``x = end - (E_last +
        end_margin_ev) + 100`` log-uniformly in ``[100, range]`` eV: the
        median spectrum ends about 400 eV after its last edge (uniform:
        about 900 eV), as measured spectra, whose windows usually end a few
        hundred eV after the edges of interest, do.
    n_elements_probs : tuple of float
        Probability of 1, 2, 3, ... elements per spectrum (normalised).
    hard_pairs : tuple of str
        Not in Table 1 (default empty). Element pairs written ``"A-B"``
        whose edges a network confuses (mined from a model's errors on
        simulated spectra with ``scripts/mine_hard_pairs.py``), e.g.
        ``"N-Sc"``: N K (401 eV) on Sc L3 (402 eV).
    hard_pair_fraction : float
        Not in Table 1 (default 0: off). Fraction of the spectra drawn from
        ``hard_pairs`` instead of the composition distribution: a pair is
        chosen uniformly, and the spectrum holds its first element alone, its
        second alone or both (each a third of the time), each anchored at
        its edge closest in onset to the other element's edges, so that the
        spectrum range holds the two coincident edges. Labels stay exact;
        such spectra put weight on the fine differences (white-line ratios,
        pi* peaks, the other edges in range) that tell the pair apart.
        (Session 14: 35-40 minutes of CPU training on them made the compact
        members hedge within the pairs rather than tell them apart; see
        docs/results.md.)
    oxide_fraction : float
        Not in Table 1 (default 0: elements drawn independently). Probability
        that a spectrum of two or more elements contains O: O then replaces
        its last drawn element (unless O is already among them), so oxides,
        the commonest EELS specimens, and O next to metal edges are common.
    elements : tuple of str or None
        Elements that may be drawn; ``None``: every element with a GOS table
        and at least one countable edge.
    element_weights : mapping of str to float
        Relative draw weights (missing elements weigh 1).
    major_subshells_only : bool
        Simulate only the subshells exSpy marks "Major" (the counted edges);
        ``False`` adds the minor subshells (L1, M1-M3...) to the signal.
    supplementary_subshells : bool
        Not in Table 1 (default ``False``). With ``major_subshells_only``
        off, also simulate the subshells exSpy does not list (the M1-M3 and
        N edges of the 5d metals, N1-N3 of the lanthanides, the K edges of
        S and Cl...; see :mod:`hyperspy_eelsid.elements`). They add signal
        only: labels still follow exSpy's "Major" edges.
    subshell_emin_ev : float
        Subshells with onsets below this are not simulated.
    lowloss_channels : int
        Length (eV) of the simulated low-loss kernel.
    noise : bool
        Apply Poisson noise.
    gos_file : str or None
        GOSH file; ``None``: the package's table.
    """

    beam_energies_kv: tuple = (60.0, 100.0, 200.0, 300.0)
    convergence_mrad: tuple = (1.0, 20.0)
    collection_mrad: tuple = (1.0, 100.0)
    chemical_shift_ev: tuple = (-5, 5)
    instrumental_shift_ev: tuple = (-5, 5)
    fs_peaks: tuple = (10, 25)
    fs_width_ev: tuple = (50, 100)
    fs_max_scale: float = 10.0
    fs_floor: float = 0.25
    fs_fwhm_clip_ev: tuple = (1.0, 50.0)
    fs_decay_ev: tuple = (0.0, 0.0)
    white_line_strength: tuple = (0.0, 0.0)
    white_line_fwhm_ev: tuple = (1.0, 4.0)
    white_line_offset_ev: tuple = (0.0, 3.0)
    white_line_ratio_by_element: bool = False
    white_line_pair_width_factor: tuple = (0.0, 0.0)
    giant_resonance_strength: tuple = (0.0, 0.0)
    giant_resonance_fwhm_ev: tuple = (8.0, 20.0)
    giant_resonance_offset_ev: tuple = (5.0, 20.0)
    giant_resonance_delay_by_element: bool = False
    giant_resonance_continuum_fraction: tuple = (1.0, 1.0)
    giant_resonance_fano_q: tuple = (0.0, 0.0)
    pi_star_strength: tuple = (0.0, 0.0)
    pi_star_fwhm_ev: tuple = (1.0, 3.0)
    pi_star_offset_ev: tuple = (0.0, 3.0)
    pi_star_at_measured_position: bool = False
    sigma_star_strength: tuple = (0.0, 0.0)
    sigma_star_fwhm_ev: tuple = (4.0, 10.0)
    sigma_star_offset_ev: tuple = (6.0, 12.0)
    atomic_diameter_pm: tuple = (25.0, 250.0)
    zlp_fwhm_ev: tuple = (1.0, 3.0)
    plasmon_energy_ev: tuple = (3, 20)
    plasmon_width_ev: tuple = (3, 20)
    n_plasmons: tuple = (2, 5)
    t_over_lambda: tuple = (0.1, 1.0)
    background_exponent: tuple = (2.0, 4.0)
    background_amplitudes: tuple = (1e3, 1e4, 1e5, 1e6, 1e7)
    background_second_fraction: tuple = (0.0, 0.0)
    background_second_exponent: tuple = (0.5, 6.0)
    jump_ratio: tuple = (0.2, 1.5)
    areal_density: tuple = (1.0, 1.0)
    start_min_ev: int = 75
    end_max_ev: int = 3272
    start_margin_ev: int = 10
    end_margin_ev: int = 25
    end_distribution: str = "uniform"
    n_elements_probs: tuple = (0.35, 0.35, 0.2, 0.1)
    oxide_fraction: float = 0.0
    hard_pairs: tuple = ()
    hard_pair_fraction: float = 0.0
    elements: tuple | None = None
    element_weights: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_ELEMENT_WEIGHTS)
    )
    major_subshells_only: bool = True
    supplementary_subshells: bool = False
    subshell_emin_ev: float = 50.0
    lowloss_channels: int = 512
    noise: bool = True
    gos_file: str | None = None

    _RANGES = (
        "convergence_mrad", "collection_mrad", "chemical_shift_ev",
        "instrumental_shift_ev", "fs_peaks", "fs_width_ev", "fs_fwhm_clip_ev", "fs_decay_ev",
        "white_line_strength", "white_line_fwhm_ev", "white_line_offset_ev", "white_line_pair_width_factor",
        "giant_resonance_strength", "giant_resonance_fwhm_ev", "giant_resonance_offset_ev",
        "giant_resonance_continuum_fraction", "giant_resonance_fano_q", "pi_star_strength", "pi_star_fwhm_ev", "pi_star_offset_ev",
        "sigma_star_strength", "sigma_star_fwhm_ev", "sigma_star_offset_ev",
        "atomic_diameter_pm", "zlp_fwhm_ev", "plasmon_energy_ev",
        "plasmon_width_ev", "n_plasmons", "t_over_lambda",
        "background_exponent", "background_second_fraction", "background_second_exponent", "jump_ratio",
        "areal_density",
    )
    _INTEGER_RANGES = (
        "chemical_shift_ev", "instrumental_shift_ev", "fs_peaks", "fs_width_ev",
        "plasmon_energy_ev", "plasmon_width_ev", "n_plasmons",
    )
    _POSITIVE_RANGES = (
        "convergence_mrad", "collection_mrad", "fs_peaks", "fs_width_ev",
        "fs_fwhm_clip_ev", "white_line_fwhm_ev", "giant_resonance_fwhm_ev", "giant_resonance_continuum_fraction",
        "pi_star_fwhm_ev",
        "sigma_star_fwhm_ev",
        "atomic_diameter_pm", "zlp_fwhm_ev",
        "plasmon_energy_ev", "plasmon_width_ev", "t_over_lambda",
        "background_exponent", "background_second_exponent", "jump_ratio",
        "areal_density",
    )

    def __post_init__(self):
        for name in self._RANGES:
            value = getattr(self, name)
            try:
                lo, hi = (float(v) for v in value)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a (low, high) pair, got {value!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
                raise ValueError(f"{name} must satisfy low <= high, got {value!r}")
            if name in self._INTEGER_RANGES and (lo != int(lo) or hi != int(hi)):
                raise ValueError(f"{name} must be integers, got {value!r}")
            if name in self._POSITIVE_RANGES and lo <= 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
            object.__setattr__(self, name, tuple(int(v) if name in self._INTEGER_RANGES else float(v) for v in (lo, hi)))
        if self.n_plasmons[0] < 0:
            raise ValueError("n_plasmons must be >= 0")
        for name in ("beam_energies_kv", "background_amplitudes"):
            values = tuple(float(v) for v in getattr(self, name))
            if not values or min(values) <= 0:
                raise ValueError(f"{name} must be a non-empty set of positive values")
            object.__setattr__(self, name, values)
        probs = tuple(float(p) for p in self.n_elements_probs)
        if not probs or min(probs) < 0 or sum(probs) <= 0:
            raise ValueError(
                "n_elements_probs must be non-negative probabilities of 1, 2, ... "
                f"elements, got {self.n_elements_probs!r}"
            )
        object.__setattr__(self, "n_elements_probs", probs)
        if not 0 <= self.fs_floor <= 1:
            raise ValueError("fs_floor must lie in [0, 1]")
        if not 0 <= self.oxide_fraction <= 1:
            raise ValueError(f"oxide_fraction must lie in [0, 1], got {self.oxide_fraction!r}")
        pairs = tuple(str(p) for p in self.hard_pairs)
        for pair in pairs:
            parts = pair.split("-")
            if len(parts) != 2 or parts[0] == parts[1] or not all(x in ELEMENTS for x in parts):
                raise ValueError(f"hard_pairs entries must be two different element symbols written 'A-B' "
                                 f"(e.g. 'N-Sc'), got {pair!r}")
        object.__setattr__(self, "hard_pairs", pairs)
        if not 0 <= self.hard_pair_fraction <= 1:
            raise ValueError(f"hard_pair_fraction must lie in [0, 1], got {self.hard_pair_fraction!r}")
        if self.hard_pair_fraction > 0 and not pairs:
            raise ValueError("hard_pair_fraction > 0 needs a non-empty hard_pairs list")
        if self.white_line_pair_width_factor != (0.0, 0.0):
            if self.white_line_pair_width_factor[0] <= 0:
                raise ValueError("white_line_pair_width_factor must be (0, 0) (off) or positive, "
                                 f"got {self.white_line_pair_width_factor!r}")
            if not self.white_line_ratio_by_element:
                raise ValueError("white_line_pair_width_factor needs white_line_ratio_by_element = true "
                                 "(the pairs are those of the element ratios)")
        if self.fs_decay_ev != (0.0, 0.0) and self.fs_decay_ev[0] <= 0:
            raise ValueError(f"fs_decay_ev must be (0, 0) (off) or positive, got {self.fs_decay_ev!r}")
        if self.background_second_fraction[0] < 0:
            raise ValueError("background_second_fraction must be >= 0")
        if self.giant_resonance_continuum_fraction[1] > 1:
            raise ValueError("giant_resonance_continuum_fraction must lie in (0, 1] (a fraction of the continuum), "
                             f"got {self.giant_resonance_continuum_fraction!r}")
        if self.giant_resonance_fano_q != (0.0, 0.0):
            if self.giant_resonance_fano_q[0] <= 0:
                raise ValueError("giant_resonance_fano_q must be (0, 0) (off) or positive, "
                                 f"got {self.giant_resonance_fano_q!r}")
            if self.giant_resonance_strength != (0.0, 0.0):
                raise ValueError("giant_resonance_fano_q draws the giant resonance as a Fano profile instead of a "
                                 "Lorentzian: set giant_resonance_strength = (0, 0) with it")
        for prefix, _, _ in ONSET_PEAKS:
            # an offset from a measured position or an element's own delay may be negative;
            # every other one lies above the onset
            switch = ELEMENT_POSITION_SWITCHES.get(prefix)
            signed = switch is not None and getattr(self, switch)
            if getattr(self, f"{prefix}_strength")[0] < 0 or (getattr(self, f"{prefix}_offset_ev")[0] < 0 and not signed):
                raise ValueError(f"{prefix}_strength and {prefix}_offset_ev must be >= 0"
                                 + ("" if switch is None else
                                    f" (a negative {prefix}_offset_ev needs {switch} = true)"))
        if self.fs_max_scale <= 0:
            raise ValueError("fs_max_scale must be positive")
        if not (0 <= self.start_min_ev < self.end_max_ev):
            raise ValueError("need 0 <= start_min_ev < end_max_ev")
        if self.end_distribution not in ("uniform", "log-uniform"):
            raise ValueError(f"end_distribution must be 'uniform' or 'log-uniform', got {self.end_distribution!r}")
        if self.start_margin_ev < 0 or self.end_margin_ev < 0:
            raise ValueError("start_margin_ev and end_margin_ev must be >= 0")
        if self.lowloss_channels < 16:
            raise ValueError("lowloss_channels must be >= 16")
        if self.elements is not None:
            object.__setattr__(self, "elements", tuple(self.elements))
            if not self.elements:
                raise ValueError("elements must be None or a non-empty list")
        weights = dict(self.element_weights)
        if any(float(w) < 0 for w in weights.values()):
            raise ValueError("element_weights must be non-negative")
        object.__setattr__(self, "element_weights", weights)

    @property
    def max_elements(self) -> int:
        """Largest number of elements per spectrum."""
        return len(self.n_elements_probs)

    def replace(self, **changes) -> "SimulationConfig":
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """JSON-serialisable dictionary of every field."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = dict(v) if isinstance(v, Mapping) else (list(v) if isinstance(v, tuple) else v)
        return out

    def to_json(self) -> str:
        """The configuration as a JSON string (stored in dataset files)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: Mapping) -> "SimulationConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown configuration fields: {sorted(unknown)}")
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})


def read_overrides(path) -> dict:
    """The :class:`SimulationConfig` overrides in a JSON file (``eelsid simulate --config``).

    Raises
    ------
    ValueError
        If the file cannot be read or is not a JSON object, naming the file.
    """
    try:
        with open(path) as fh:
            overrides = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read simulation overrides from {path}: {exc}") from None
    if not isinstance(overrides, dict):
        raise ValueError(f"{path} must hold a JSON object of SimulationConfig fields")
    return overrides


def exact_elements(overrides: Mapping, elements, end_max_ev: int | None = None) -> dict:
    """``overrides`` changed so that every spectrum holds exactly ``elements``.

    The benchmarks' single-element and pair spectra: all of ``elements``
    in every spectrum, no O added (``oxide_fraction`` 0) and no hard-pair
    draw (``hard_pair_fraction`` 0), optionally ending at most at
    ``end_max_ev``. The other settings are kept.

    Parameters
    ----------
    overrides : mapping
        :class:`SimulationConfig` fields (e.g. from :func:`read_overrides`).
    elements : sequence of str
    end_max_ev : int, optional

    Returns
    -------
    dict
        New overrides; ``overrides`` is not changed.
    """
    elements = list(elements)
    out = dict(overrides, elements=elements, n_elements_probs=[0.0] * (len(elements) - 1) + [1.0],
               oxide_fraction=0.0, hard_pair_fraction=0.0)
    if end_max_ev is not None:
        out["end_max_ev"] = end_max_ev
    return out
