"""The private skorch net behind :class:`~fairrep.FairPer`.

A :class:`~fairrep._nn.CoreNet` on the core's data path: batches are dicts
``{"X": ..., "group": ...}`` sliced from tensors, the target is an
``(n_samples, n_perspectives)`` tensor of class codes with ``-1`` for a
missing label. :meth:`FairPerNet.get_loss` is :math:`L_2` and
:meth:`FairPerNet.train_step_single` adds :math:`\\lambda L_T`
(section 2.2.3).
"""

import torch
import torch.nn.functional as F
from skorch.dataset import unpack_data

from .._nn import CoreNet
from ._triplet import conditional_triplet_loss, sample_triplets

__all__ = ["LOSS_TERMS", "FairPerNet"]

#: The per-epoch loss components recorded in the history.
LOSS_TERMS = ("perspective_loss", "triplet_loss")


def perspective_cross_entropy(logits, target):
    """:math:`L_2`: mean cross-entropy over the labelled (sample, perspective) cells.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_perspectives, n_classes)
    target : Tensor of int64 of shape (n_samples, n_perspectives)
        Class codes; ``-1`` marks a missing label, which adds no term.

    Returns
    -------
    loss : Tensor of shape ()
        Zero for a batch without any label.
    """
    n_classes = logits.shape[-1]
    total = F.cross_entropy(
        logits.reshape(-1, n_classes), target.reshape(-1),
        ignore_index=-1, reduction="sum",
    )
    # a sum over a clamped count: an unlabelled batch gives 0, not NaN
    return total / (target >= 0).sum().clamp_min(1)


class FairPerNet(CoreNet):
    """skorch net minimising :math:`L_{Per} = L_2 + \\lambda L_T` (section 2.2.3).

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    triplet_weight : float
        :math:`\\lambda`.
    margin : float
        Triplet margin :math:`h`.
    group_conditions : sequence of int or None
        The condition (perspective index) of each group code: a triplet is
        scored under the mask of its anchor's group.
    """

    LOSS_TERMS = LOSS_TERMS

    def __init__(self, *args, triplet_weight=0.0, margin=0.2, group_conditions=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.triplet_weight = triplet_weight
        self.margin = margin
        self.group_conditions = group_conditions

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """:math:`L_2`, the cross-entropy of every perspective's labels."""
        logits = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        return perspective_cross_entropy(logits, y_true)

    def train_step_single(self, batch, **fit_params):
        self._ensure_training()
        Xi, yi = unpack_data(batch)
        logits, embedding = self.infer(Xi, **fit_params)
        perspective_loss = self.get_loss((logits, embedding), yi, X=Xi, training=True)
        objective = perspective_loss
        triplet_loss = perspective_loss.new_zeros(())
        group = Xi.get("group") if isinstance(Xi, dict) else None
        # no groups in fit (group_conditions None): no triplet term, as documented
        if group is not None and self.triplet_weight > 0 and self.group_conditions is not None:
            anchor, positive, negative = sample_triplets(group)
            conditions = getattr(self, "_condition_table", None)
            if conditions is None or conditions.device != group.device:
                # built once, not per batch
                conditions = self._condition_table = torch.as_tensor(
                    self.group_conditions, dtype=torch.int64, device=group.device)
            triplet_loss = conditional_triplet_loss(
                embedding, anchor, positive, negative, conditions[group[anchor]],
                margin=self.margin,
            )
            objective = objective + self.triplet_weight * triplet_loss
        objective.backward()
        reported = objective.detach()
        self._accumulate_terms(
            (reported, perspective_loss.detach(), triplet_loss.detach()), (True,), len(yi)
        )
        return {"loss": reported, "y_pred": logits}
