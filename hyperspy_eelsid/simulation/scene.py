"""Spectrum images of a specimen with a known, spatially varying composition.

The training simulator (:mod:`~hyperspy_eelsid.simulation.simulator`) draws
every parameter at random. This module uses the same physics and the same
building blocks (GOS cross sections, lifetime-broadened generic fine
structure, low-loss convolution, power-law background, Poisson noise). Here
the specimen is given instead of drawn:

* phases with an areal density per element (atoms per nm^2);
* the fraction of each phase in every pixel.

One microscope, one energy axis, one fine-structure realisation per edge and
one low-loss spectrum hold for the whole scan, as in a real spectrum image.
The built-in demo's LaMnO3 / BaTiO3 / SrTiO3 superlattice
(:func:`superlattice_scene`) is made this way.

numpy/torch only: no HyperSpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from hyperspy_eelsid.physics.cross_sections import cross_section, load_gosh

from .config import SimulationConfig
from .fine_structure import fine_structure
from .low_loss import NEGATIVE, convolve, low_loss_kernel
from .white_lines import has_white_line, lorentzian, white_line_pair, white_line_ratio_mid

__all__ = ["Microscope", "Scene", "simulate_scene", "superlattice_scene"]

BARN_NM2 = 1e-10  # 1 barn = 1e-28 m^2 = 1e-10 nm^2


@dataclass(frozen=True)
class Microscope:
    """Acquisition settings of a spectrum image.

    Attributes
    ----------
    beam_energy : float
        keV.
    convergence_angle, collection_angle : float
        Semi-angles in mrad.
    offset, dispersion : float
        Energy of the first channel and eV per channel.
    n_channels : int
        Channels per spectrum.
    """

    beam_energy: float = 300.0
    convergence_angle: float = 20.0
    collection_angle: float = 40.0
    offset: float = 400.0
    dispersion: float = 0.25
    n_channels: int = 2048

    @property
    def energy(self) -> np.ndarray:
        """Channel energies in eV."""
        return self.offset + self.dispersion * np.arange(self.n_channels)


@dataclass
class Scene:
    """A simulated spectrum image and what it was made of.

    Attributes
    ----------
    counts : numpy.ndarray
        float32, ``navigation shape + (n_channels,)``, Poisson counts per channel.
    energy : numpy.ndarray
        Channel energies (eV).
    microscope : Microscope
    phases : dict
        Phase name -> {element: areal density (atoms/nm^2)}.
    fractions : numpy.ndarray
        ``navigation shape + (n_phases,)``: fraction of each phase per pixel.
    elements : list of str
        Every element of the specimen.
    element_maps : dict
        Element -> areal density map (atoms/nm^2): the ground truth.
    visible : list of str
        Elements with at least one edge inside the energy range.
    low_loss : numpy.ndarray or None
        The low-loss spectrum the edges were convolved with (plural
        scattering), in electrons per channel (its sum is the beam electrons
        per pixel), the same for every pixel, on ``low_loss_energy``.
    low_loss_energy : numpy.ndarray or None
        Its channel energies (eV), at the core loss's dispersion, 0 eV
        included.
    """

    counts: np.ndarray
    energy: np.ndarray
    microscope: Microscope
    phases: dict
    fractions: np.ndarray
    elements: list
    element_maps: dict = field(repr=False)
    visible: list = field(default_factory=list)
    low_loss: np.ndarray | None = field(default=None, repr=False)
    low_loss_energy: np.ndarray | None = field(default=None, repr=False)


def _edge_profiles(db, elements, mic: Microscope, config, gen, white_line_strength):
    """Cross section (barn/eV/atom) of every element's edges, with fine structure."""
    from hyperspy_eelsid.elements import atomic_number

    energy = mic.energy
    lo, hi = energy[0], energy[-1]
    profiles, visible = {}, []
    window = 256
    for element in elements:
        z = atomic_number(element)
        # an edge's second white line (L2, M4) is its first one (L3, M5) over the element's ratio
        first_line = {
            table.subshell[0]: white_line_strength * float(cross_section(
                table, table.onset_energy + np.arange(window, dtype=float), mic.beam_energy,
                mic.convergence_angle, mic.collection_angle).max())
            for table in db.tables_of(element)
            if white_line_pair(table.subshell, z)[0] == 1 and has_white_line(table.subshell, z)
        }
        total = np.zeros_like(energy)
        for table in db.tables_of(element):
            onset = table.onset_energy
            if not lo - 50 <= onset <= hi:
                continue
            sigma = cross_section(table, energy, mic.beam_energy, mic.convergence_angle, mic.collection_angle)
            # one generic fine-structure realisation per subshell, on a 1 eV grid
            fine_e = np.arange(window, dtype=float)
            sig_1ev = cross_section(table, onset + fine_e, mic.beam_energy, mic.convergence_angle, mic.collection_angle)
            peak = torch.tensor([float(sig_1ev.max())])
            fs = fine_structure(
                torch.randint(config.fs_peaks[0], config.fs_peaks[1] + 1, (1,), generator=gen),
                torch.randint(config.fs_width_ev[0], config.fs_width_ev[1] + 1, (1,), generator=gen).float(),
                config.atomic_diameter_pm[0]
                + (config.atomic_diameter_pm[1] - config.atomic_diameter_pm[0]) * torch.rand(1, generator=gen),
                peak, config, window, gen,
            )[0].numpy().astype(float)
            fs_on_axis = np.interp(energy - onset, fine_e, fs, left=0.0, right=0.0)
            total += np.maximum(sigma + fs_on_axis, config.fs_floor * sigma)
            if has_white_line(table.subshell, z):
                height = white_line_strength * float(sig_1ev.max())
                if white_line_pair(table.subshell, z)[0] == 2 and table.subshell[0] in first_line:
                    height = first_line[table.subshell[0]] / white_line_ratio_mid(z)
                total += lorentzian(energy, onset + 1.0, 1.5, height)
            if lo <= onset <= hi - 25:
                visible.append(element)
        profiles[element] = total
    return profiles, sorted(set(visible))


def simulate_scene(
    phases: dict,
    fractions,
    microscope: Microscope | None = None,
    electrons: float = 3e8,
    background_exponent: float = 3.0,
    background_scale: float = 2.0,
    white_line_strength: float = 4.0,
    t_over_lambda: float = 0.4,
    seed: int = 0,
    config: SimulationConfig | None = None,
    gos_file=None,
) -> Scene:
    """Simulate a spectrum image of phases mixed pixel by pixel.

    Parameters
    ----------
    phases : dict
        Phase name -> {element: areal density in atoms/nm^2}.
    fractions : array_like
        ``navigation shape + (n_phases,)``, phase fractions per pixel (in the
        order of ``phases``).
    microscope : Microscope, optional
        Acquisition settings (defaults: 300 kV, 20/40 mrad, 400-912 eV at 0.25 eV).
    electrons : float
        Beam electrons per pixel (3e8: about 0.5 nA for 100 ms). Counts per
        channel are electrons x areal density x cross section x dispersion.
    background_exponent : float
        Exponent ``r`` of the power-law background.
    background_scale : float
        Background at the first channel relative to the largest edge jump.
    white_line_strength : float
        Height of the white lines (1.5 eV wide, 1 eV above the onset) of the
        subshells in :data:`~hyperspy_eelsid.simulation.white_lines.WHITE_LINES`,
        relative to the subshell's own maximum; the second line of an edge
        (L2, M4) is the first one (L3, M5) divided by the middle of the
        element's :data:`~hyperspy_eelsid.simulation.white_lines.WHITE_LINE_RATIOS`
        range (Ba and La M4 above M5, Mn L3 three times L2).
    t_over_lambda : float
        Relative thickness for the plural-scattering low-loss kernel.
    seed : int
        Seeds the fine structure and the noise: same seed, same scene.
    config : SimulationConfig, optional
        Generic fine-structure settings (Table 1's, with peaks at most 1.5 x
        the edge by default: the white lines carry the sharp structure).
    gos_file : str, optional
        GOSH file (default: the package's tables).

    Returns
    -------
    Scene
    """
    mic = microscope or Microscope()
    config = config or SimulationConfig(fs_max_scale=1.5)
    names = list(phases)
    fractions = np.asarray(fractions, dtype=float)
    if fractions.shape[-1] != len(names):
        raise ValueError(f"fractions has {fractions.shape[-1]} phases along its last axis, phases has {len(names)}.")
    elements = sorted({el for comp in phases.values() for el in comp})
    gen = torch.Generator().manual_seed(int(seed))
    db = load_gosh(gos_file)
    profiles, visible = _edge_profiles(db, elements, mic, config, gen, white_line_strength)

    density = {el: sum(fractions[..., i] * phases[name].get(el, 0.0) for i, name in enumerate(names)) for el in elements}
    energy = mic.energy
    nav = fractions.shape[:-1]
    edges = np.zeros(nav + (energy.size,))
    for el in elements:
        edges += density[el][..., None] * profiles[el][None, ...] * BARN_NM2
    # plural scattering: one low-loss spectrum for the scan, sampled at the dispersion
    n_kernel = int(round(128 / mic.dispersion))
    kernel = low_loss_kernel(
        torch.tensor([1.2 / mic.dispersion]), torch.tensor([22.0 / mic.dispersion]),
        torch.tensor([6.0 / mic.dispersion]), torch.tensor([3]), torch.tensor([t_over_lambda]), n_kernel,
    )
    flat = torch.as_tensor(edges.reshape(-1, energy.size), dtype=torch.float32)
    convolved = convolve(flat, kernel.expand(flat.shape[0], -1)).numpy().reshape(edges.shape)
    # background: a power law whose first channel is background_scale x the largest edge
    jump = float(np.max(convolved)) or 1.0
    background = background_scale * jump * (energy / energy[0]) ** (-background_exponent)
    thickness = sum(fractions[..., i] * sum(phases[n].values()) for i, n in enumerate(names))
    thickness = thickness / max(float(np.max(thickness)), 1e-12)
    expected = electrons * (convolved + thickness[..., None] * background[None, ...]) * mic.dispersion
    rng = np.random.default_rng(seed)
    counts = rng.poisson(np.clip(expected, 0, None)).astype(np.float32)
    return Scene(
        counts=counts,
        energy=energy,
        microscope=mic,
        phases=phases,
        fractions=fractions,
        elements=elements,
        element_maps=density,
        visible=visible,
        low_loss=electrons * kernel[0].numpy().astype(float),
        low_loss_energy=(np.arange(n_kernel) - NEGATIVE) * mic.dispersion,
    )


def superlattice_scene(shape=(24, 40), layer_px: int = 6, seed: int = 0, **kwargs) -> Scene:
    """The demo's LaMnO3 / BaTiO3 / SrTiO3 superlattice (cf. the paper's Fig. 7).

    Layers run across the scan's fast axis: a SrTiO3 substrate, then
    alternating BaTiO3 and LaMnO3 layers of ``layer_px`` pixels with
    interfaces one pixel wide. The energy range (400-912 eV) holds the Ti L,
    O K, Mn L, Ba M and La M edges but none of Sr's, as in the paper.

    Parameters
    ----------
    shape : tuple of int
        Navigation shape ``(rows, columns)``; layers vary along the columns.
    layer_px : int
        Layer thickness in pixels.
    seed : int
        Same seed, same spectrum image.
    **kwargs
        Passed to :func:`simulate_scene`.
    """
    from scipy.special import erf

    phases = {  # areal densities of a ~20 nm thick specimen (atoms/nm^2)
        "SrTiO3": {"Sr": 340.0, "Ti": 340.0, "O": 1020.0},
        "BaTiO3": {"Ba": 310.0, "Ti": 310.0, "O": 930.0},
        "LaMnO3": {"La": 330.0, "Mn": 330.0, "O": 990.0},
    }
    rows, cols = shape
    x = np.arange(cols) + 0.5
    substrate = cols // 4
    boundaries = [substrate + k * layer_px for k in range(1, 1 + (cols - substrate) // layer_px)]

    def step(pos):  # 0 before pos, 1 after, one-pixel-wide interface
        return 0.5 * (1 + erf((x - pos) / 1.0))

    fractions = np.zeros((cols, 3))
    layer = 1.0 - step(substrate)
    fractions[:, 0] = layer
    remaining = 1.0 - layer
    for k, pos in enumerate([substrate] + boundaries):
        nxt = step(boundaries[k]) if k < len(boundaries) else np.zeros_like(x)
        part = remaining * (1.0 - nxt) if k < len(boundaries) else remaining
        fractions[:, 1 if k % 2 == 0 else 2] += part
        remaining = remaining - part
    fractions = np.clip(fractions, 0, None)
    fractions /= fractions.sum(axis=1, keepdims=True)
    fractions = np.broadcast_to(fractions, (rows, cols, 3)).copy()
    return simulate_scene(phases, fractions, seed=seed, **kwargs)
