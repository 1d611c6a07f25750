"""A dedicated classifier for the coincident edges N K (401 eV) and Sc L3,2 (402, 407 eV).

N K and Sc L3,2 start within 1 eV of each other, and the networks, trained on
all 80 elements at once, often name both: N in Sc2O3, Sc in h-BN. What tells
them apart is the near-edge shape: Sc's two white lines 4-5 eV apart, of
similar height and width, against N's pi* peak followed (in nitrides such as
h-BN) by a broader sigma* peak 6-7 eV above it, or by nothing (N2). A small
1-D convolutional network trained on that region alone learns it from
spectra simulated with ``configs/simulation/realistic_v18.json`` (tied
white-line pairs and sigma* resonances) and calls all six measured N and Sc
spectra of the benchmark right (docs/results.md, session 17).

:func:`pair_verdicts` runs it on the spectra in which the networks name *both*
elements and returns a verdict where it is confident; :func:`pair_vetoes`
turns the verdicts into the detections to drop. The shipped classifier is
``weights/pair_sc_n.safetensors`` with its card ``pair_sc_n.json``
(safetensors: loading never runs code); ``scripts/train_pair_classifier.py``
rebuilds it.

No HyperSpy: numpy and torch only.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = [
    "CROP_EV",
    "FORMAT",
    "MEASURED_EV",
    "MIN_CONFIDENCE",
    "PAIR",
    "build_net",
    "crop_features",
    "default_pair_classifier",
    "fit_on_simulated",
    "load_pair_classifier",
    "pair_verdicts",
    "pair_vetoes",
    "probability_first",
    "save_pair_classifier",
    "simulated_inputs",
    "summarise_pair_verdicts",
    "train_net",
]

#: The two elements, in the order of the classifier's output: P(first rather than second).
PAIR = ("Sc", "N")
#: Energy range (eV, network grid channels ``[lo, hi)``) the classifier reads.
CROP_EV = (360, 500)
#: A verdict needs P(Sc) at least this, or at most one minus this.
MIN_CONFIDENCE = 0.8
#: The channels that must be measured for a verdict: from 10 eV below the
#: onsets to 25 eV above them (the margins of the simulated spectra it was
#: trained on).
MEASURED_EV = (391, 427)
FORMAT = "hyperspy-eelsid-pair-classifier"
_CARD = "pair_sc_n.json"


def simulated_inputs(elements, n: int, seed: int, setting: dict, end_max=None, batch: int = 1024) -> np.ndarray:
    """``n`` network inputs ``(n, 3072)`` of simulated spectra holding ``elements`` and nothing else.

    ``elements`` is one symbol or several (every spectrum then holds all of them, no
    oxygen added); ``setting`` is a simulator dictionary (e.g. from
    :func:`~hyperspy_eelsid.simulation.config.read_overrides`), ``end_max`` caps the
    spectrum end (eV); batches of ``batch`` (at most ``n``) use seeds ``seed``, ``seed + 1``, ...
    """
    from hyperspy_eelsid.simulation.config import SimulationConfig, exact_elements
    from hyperspy_eelsid.simulation.simulator import Simulator

    elements = [elements] if isinstance(elements, str) else list(elements)
    sim = Simulator(SimulationConfig.from_dict(exact_elements(setting, elements, end_max)))
    batch = min(n, batch)
    return np.concatenate([sim.simulate(batch, seed=seed + i).spectra.numpy() for i in range(-(-n // batch))])[:n]


def build_net():
    """The classifier: three 1-D convolutions, a global max pool and one logit."""
    from torch import nn

    return nn.Sequential(
        nn.Conv1d(1, 32, 7, padding=3), nn.ReLU(), nn.Conv1d(32, 32, 7, padding=3), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(32, 64, 5, padding=2), nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(64, 1),
    )


def crop_features(x, lo: int, hi: int, pool: int = 1):
    """The ``[lo, hi)`` eV crop of network inputs ``(n, 3072)``, average-pooled by ``pool``
    and standardised per spectrum (torch tensor ``(n, (hi - lo) // pool)``)."""
    import torch

    c = torch.as_tensor(np.asarray(x)[..., lo:hi], dtype=torch.float32).reshape(-1, hi - lo)
    if pool > 1:
        c = torch.nn.functional.avg_pool1d(c[:, None], pool)[:, 0]
    return (c - c.mean(1, keepdim=True)) / (c.std(1, keepdim=True) + 1e-6)


def train_net(features, y, epochs: int = 8, seed: int = 0):
    """Train :func:`build_net` with Adam (lr 1e-3, batches of 256) on binary cross-entropy.

    ``features`` from :func:`crop_features`, ``y`` 1 for the first element. Same seed,
    same network.
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = build_net()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    y = torch.as_tensor(y, dtype=torch.float32)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=g)
        for i in range(0, len(y), 256):
            idx = order[i : i + 256]
            loss = nn.functional.binary_cross_entropy_with_logits(net(features[idx, None])[:, 0], y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


def probability_first(net, features) -> np.ndarray:
    """P(first element rather than second) for :func:`crop_features` output."""
    import torch

    with torch.inference_mode():
        return torch.sigmoid(net(features[:, None])[:, 0]).numpy()


def fit_on_simulated(a: str, b: str, setting: dict, n: int = 16384, epochs: int = 8, end_max=None,
                     crop=CROP_EV, pool: int = 1) -> dict:
    """Train a classifier of ``a`` against ``b`` on simulated spectra and score it held out.

    Simulates ``n`` spectra of ``a`` alone (seeds 1000, 1001, ...) and of ``b``
    alone (seeds 5000, ...), trains :func:`train_net` on the ``crop`` (eV) of the
    first 80 % of each and scores the other 20 %. Same arguments, same result.

    Returns
    -------
    dict
        ``net``; ``xa``, ``xb`` (the network inputs) and ``n_train``; ``pa``, ``pb``
        (held-out P(a) for the spectra of ``a`` and of ``b``); ``accuracy`` (mean of
        the two held-out recalls at 0.5).
    """
    xa, xb = simulated_inputs(a, n, 1000, setting, end_max), simulated_inputs(b, n, 5000, setting, end_max)
    n_train = int(0.8 * n)
    y = np.r_[np.ones(n_train), np.zeros(n_train)]
    net = train_net(crop_features(np.concatenate([xa[:n_train], xb[:n_train]]), *crop, pool), y, epochs=epochs)
    pa = probability_first(net, crop_features(xa[n_train:], *crop, pool))
    pb = probability_first(net, crop_features(xb[n_train:], *crop, pool))
    return {"net": net, "xa": xa, "xb": xb, "n_train": n_train, "pa": pa, "pb": pb,
            "accuracy": 0.5 * ((pa > 0.5).mean() + (pb <= 0.5).mean())}


# --------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------
def default_pair_classifier() -> Path:
    """The card of the shipped Sc / N classifier (``hyperspy_eelsid/weights/pair_sc_n.json``)."""
    from hyperspy_eelsid.inference import default_weights

    return Path(default_weights()) / _CARD


def save_pair_classifier(net, path, **card) -> Path:
    """Write ``net`` as ``<path>.safetensors`` and its card ``<path>.json``.

    ``card`` adds fields (training setting, command, metrics); the card also
    holds the pair, the crop, the confidence for a verdict and the SHA-256 of
    the weight file. Returns the card's path.
    """
    import hashlib

    from safetensors.torch import save_file

    stem = Path(path).with_suffix("")
    weights = stem.with_suffix(".safetensors")
    save_file({k: v.detach().contiguous().float() for k, v in net.state_dict().items()}, str(weights))
    info = {
        "format": FORMAT, "format_version": 1, "pair": list(PAIR), "crop_ev": list(CROP_EV),
        "min_confidence": MIN_CONFIDENCE,
        "weights": {"file": weights.name, "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()},
        "n_parameters": int(sum(p.numel() for p in net.parameters())),
    }
    info.update(card)
    out = stem.with_suffix(".json")
    out.write_text(json.dumps(info, indent=1) + "\n")
    return out


def load_pair_classifier(path=None):
    """Load a saved Sc / N classifier (default: the shipped one), checking its card and weights.

    Returns
    -------
    torch.nn.Module
        In eval mode, with its card as ``card``.

    Raises
    ------
    hyperspy_eelsid.networks.io.ModelFileError
        Missing or corrupt card or weight file; the message says what to do.
    """
    card_path = Path(path) if path is not None else default_pair_classifier()
    return _load(str(card_path.with_suffix(".json")))


@lru_cache(maxsize=2)
def _load(card_path: str):
    import hashlib

    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from hyperspy_eelsid.networks.io import ModelFileError

    remedy = ("reinstall hyperspy-eelsid to restore the shipped files, rebuild them with "
              "`python scripts/train_pair_classifier.py`, or pass check_sc_n=False")
    card_file = Path(card_path)
    try:
        card = json.loads(card_file.read_text())
    except FileNotFoundError:
        raise ModelFileError(f"Sc / N classifier card {card_file} is missing; {remedy}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"Sc / N classifier card {card_file} is corrupt ({err}); {remedy}") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT or tuple(card.get("pair", ())) != PAIR:
        raise ModelFileError(f"{card_file} is not a {FORMAT} card for {PAIR}; {remedy}")
    weights = card_file.parent / card.get("weights", {}).get("file", "")
    if not weights.is_file():
        raise ModelFileError(f"weight file {weights} (named in {card_file.name}) is missing; {remedy}")
    if hashlib.sha256(weights.read_bytes()).hexdigest() != card["weights"].get("sha256"):
        raise ModelFileError(f"weight file {weights} is corrupt (SHA-256 differs from {card_file.name}); {remedy}")
    net = build_net()
    try:
        net.load_state_dict(load_file(str(weights)))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ModelFileError(f"weight file {weights} does not hold this classifier ({err}); {remedy}") from None
    net.eval()
    net.card = card
    return net


# --------------------------------------------------------------------------
# verdicts
# --------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _edges_in_crop() -> list:
    """Indices of the other elements with a major edge in the crop."""
    from hyperspy_eelsid.elements import ELEMENTS, subshells

    return [i for i, el in enumerate(ELEMENTS)
            if el not in PAIR and subshells(el, CROP_EV[0], CROP_EV[1] - 1, major_only=True)]


def pair_verdicts(x, probabilities, threshold: float, window=None, classifier=None):
    """The classifier's verdict in every spectrum where the networks name both Sc and N.

    Parameters
    ----------
    x : numpy.ndarray
        ``(n, 3072)`` network inputs (preprocessed spectra, as the networks see them).
    probabilities : numpy.ndarray
        ``(n, 80)`` network probabilities of the same spectra.
    threshold : float
        Detection threshold.
    window : numpy.ndarray, optional
        Boolean mask of the measured channels, ``(3072,)`` for all spectra or
        ``(n, 3072)`` per spectrum; without 391-426 eV measured there is no
        verdict. Default: all measured.
    classifier : torch.nn.Module, optional
        Default: the shipped one (:func:`load_pair_classifier`).

    Returns
    -------
    verdict : numpy.ndarray
        int8 ``(n,)``: -1 not run (the networks do not name both, or the
        region is not measured), 0 no verdict (not confident, or another
        detected element has a major edge in the crop), 1 Sc, 2 N.
    p_first : numpy.ndarray
        ``(n,)`` P(Sc rather than N); NaN where not run.
    """
    from hyperspy_eelsid.elements import element_index

    probs = np.asarray(probabilities).reshape(-1, 80)
    x = np.asarray(x).reshape(probs.shape[0], -1)
    verdict = np.full(probs.shape[0], -1, dtype=np.int8)
    p_first = np.full(probs.shape[0], np.nan)
    measured = True if window is None else np.all(np.asarray(window, dtype=bool)[..., slice(*MEASURED_EV)], axis=-1)
    both = np.all(probs[:, [element_index(el) for el in PAIR]] >= threshold, axis=1)
    rows = np.nonzero(both & measured)[0]
    if rows.size == 0:
        return verdict, p_first
    net = classifier if classifier is not None else load_pair_classifier()
    p = probability_first(net, crop_features(x[rows], *CROP_EV))
    crowded = (probs[np.ix_(rows, _edges_in_crop())] >= threshold).any(axis=1)
    v = np.where(p >= MIN_CONFIDENCE, 1, np.where(p <= 1 - MIN_CONFIDENCE, 2, 0))
    verdict[rows] = np.where(crowded, 0, v)
    p_first[rows] = p
    return verdict, p_first


def pair_vetoes(verdict, probabilities, threshold: float) -> np.ndarray:
    """Boolean ``(n, 80)``: the detections a verdict contradicts (N where it says Sc, Sc where it says N)."""
    from hyperspy_eelsid.elements import element_index

    probs = np.asarray(probabilities).reshape(-1, 80)
    verdict = np.asarray(verdict).reshape(-1)
    veto = np.zeros(probs.shape, dtype=bool)
    veto[:, element_index(PAIR[1])] = verdict == 1
    veto[:, element_index(PAIR[0])] = verdict == 2
    return veto & (probs >= threshold)


def summarise_pair_verdicts(verdict, p_first) -> dict | None:
    """``pair``, ``fitted`` (spectra classified), ``verdicts`` per element and ``"neither"``,
    and ``median_p`` (median P(Sc) over them); None when no spectrum was classified."""
    verdict = np.asarray(verdict).reshape(-1)
    ran = verdict >= 0
    if not ran.any():
        return None
    return {
        "pair": list(PAIR),
        "fitted": int(ran.sum()),
        "verdicts": {PAIR[0]: int(np.sum(verdict == 1)), PAIR[1]: int(np.sum(verdict == 2)),
                     "neither": int(np.sum(verdict == 0))},
        "median_p": float(np.nanmedian(np.asarray(p_first).reshape(-1)[ran])),
    }
