"""Ensembles: the mean of the member networks' probabilities."""

from __future__ import annotations

import torch
from torch import nn

from hyperspy_eelsid.networks.layers import _batched

__all__ = ["Ensemble", "build_ensemble"]


class Ensemble(nn.Module):
    """Average of the sigmoid probabilities of several networks.

    Parameters
    ----------
    members : sequence of EELSNet
        Networks mapping ``(B, 3072)`` spectra to ``(B, 80)`` logits.
    threshold : float, optional
        The ensemble's decision threshold.

    Notes
    -----
    The ensemble is created in eval mode. ``forward`` returns the logit of the averaged probability (so that an
    ensemble can stand in for a single network, e.g. in evaluation code);
    :meth:`predict_proba` returns the averaged probability itself.
    """

    def __init__(self, members, threshold: float | None = None):
        super().__init__()
        if len(members) == 0:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)
        self.threshold = threshold
        self.card: dict = {}
        self.name = "ensemble"
        self.eval()  # an inference object: members in eval mode

    @property
    def n_parameters(self) -> int:
        """Total parameters of all members."""
        return sum(p.numel() for p in self.parameters())

    def mean_probability(self, x: torch.Tensor) -> torch.Tensor:
        """Averaged member probabilities ``(B, 80)`` of spectra ``(B, 3072)``."""
        total = None
        for m in self.members:
            p = torch.sigmoid(m(x).float())
            total = p if total is None else total + p
        return total / len(self.members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of the averaged probability, ``(B, 80)``."""
        return torch.logit(self.mean_probability(x), eps=1e-7)

    @torch.inference_mode()
    def predict_proba(self, x, batch_size: int = 1024):
        """Averaged member probabilities (numpy in -> numpy out, torch -> torch)."""
        return _batched(self, x, batch_size, lambda out: out, forward=self.mean_probability)


def build_ensemble(members, out_dir, val_data, test_data=None, device="cpu",
                   batch_size: int = 1024, **extra) -> dict:
    """Copy saved member models into ``out_dir`` and write the ensemble card.

    The ensemble's threshold is where precision equals recall of the averaged
    probabilities on ``val_data`` (the paper's rule); the card records the
    validation metrics at that threshold and, with ``test_data``, the test
    metrics too.

    Parameters
    ----------
    members : sequence of str or Path
        Model cards (``.json``) or stems of saved single models.
    out_dir : str or Path
        The ensemble directory (e.g. the package's ``weights/``).
    val_data, test_data : tuple
        ``(x, y)`` or ``(x, y, ignore)`` arrays of preprocessed spectra and labels.
    device : str
        Where to run the members.
    **extra
        Further ensemble card fields (e.g. how the members were trained).

    Returns
    -------
    dict
        The ensemble card as written.
    """
    import shutil
    from pathlib import Path

    from hyperspy_eelsid.evaluation import evaluate_predictions, summary
    from hyperspy_eelsid.evaluation.threshold import threshold_at_equal_precision_recall
    from hyperspy_eelsid.networks.io import ModelFileError, _stem, load_model, read_card, save_ensemble
    from hyperspy_eelsid.networks.training import _as_tensors

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for member in members:
        stem = _stem(member)
        card = read_card(stem.with_suffix(".json"))
        if card["name"] in names:
            raise ValueError(f"two members are called {card['name']!r}: rename one")
        for suffix in (".json", ".safetensors"):
            src = stem.with_suffix(suffix)
            if not src.is_file():
                raise ModelFileError(f"member file {src} is missing")
            if src.resolve() != (out_dir / src.name).resolve():
                shutil.copy2(src, out_dir / src.name)
        names.append(card["name"])
    ensemble = Ensemble([load_model(out_dir / f"{n}.json", device=device) for n in names])

    def scored(data, threshold=None):
        x, y, ignore = _as_tensors(data)
        prob = ensemble.predict_proba(x, batch_size=batch_size).numpy()
        if threshold is None:
            threshold = float(threshold_at_equal_precision_recall(y.numpy(), prob, ignore=ignore)["threshold"])
        return threshold, summary(evaluate_predictions(y.numpy(), prob, threshold, ignore))

    threshold, validation = scored(val_data)
    metrics = {"validation": validation}
    if test_data is not None:
        metrics["test"] = scored(test_data, threshold)[1]
    return save_ensemble(out_dir, names, threshold=threshold, metrics=metrics, **extra)
