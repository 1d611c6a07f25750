"""Training loss: binary cross-entropy plus macro soft-F1 (the paper's).

The soft-F1 replaces the counts of a thresholded prediction by their
expectations under the sigmoid probabilities ``p``:

.. math::

    TP_k = \\sum_i p_{ik} y_{ik},\\quad FP_k = \\sum_i p_{ik} (1 - y_{ik}),\\quad
    FN_k = \\sum_i (1 - p_{ik}) y_{ik}

per element ``k`` over the batch, ``F1_k = 2 TP_k / (2 TP_k + FP_k + FN_k + eps)``
and the loss is ``1 - mean_k F1_k`` (macro average over the 80 elements).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["soft_f1_loss", "bce_soft_f1_loss", "BCESoftF1Loss"]


def soft_f1_loss(logits: torch.Tensor, targets: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Macro soft-F1 loss ``1 - mean_k softF1_k`` over a batch.

    Parameters
    ----------
    logits : torch.Tensor
        ``(B, K)`` network outputs before the sigmoid.
    targets : torch.Tensor
        ``(B, K)`` labels in {0, 1}.
    eps : float
        Added to the denominator so that an element absent from the batch and
        never predicted contributes ``F1 = 0``.

    Returns
    -------
    torch.Tensor
        Scalar in ``[0, 1]``.
    """
    p = torch.sigmoid(logits.float())
    y = targets.float()
    tp = (p * y).sum(dim=0)
    fp = (p * (1 - y)).sum(dim=0)
    fn = ((1 - p) * y).sum(dim=0)
    f1 = 2 * tp / (2 * tp + fp + fn + eps)
    return 1 - f1.mean()


def bce_soft_f1_loss(logits: torch.Tensor, targets: torch.Tensor,
                     soft_f1_weight: float = 1.0) -> torch.Tensor:
    """Binary cross-entropy (mean over all entries) + ``soft_f1_weight`` x macro soft-F1 loss.

    Parameters
    ----------
    logits : torch.Tensor
        ``(B, K)`` network outputs before the sigmoid.
    targets : torch.Tensor
        ``(B, K)`` labels in {0, 1}.
    soft_f1_weight : float
        Weight of the soft-F1 term (the paper sums them: 1).
    """
    bce = F.binary_cross_entropy_with_logits(logits.float(), targets.float())
    return bce + soft_f1_weight * soft_f1_loss(logits, targets)


class BCESoftF1Loss(nn.Module):
    """Module form of :func:`bce_soft_f1_loss`."""

    def __init__(self, soft_f1_weight: float = 1.0):
        super().__init__()
        self.soft_f1_weight = soft_f1_weight

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return bce_soft_f1_loss(logits, targets, self.soft_f1_weight)
