"""The torch module of FairPer (section 2.2.3, Fig. 4).

:class:`PerspectiveModule` maps the fair representation through a fully
connected adapter layer to a shared embedding :math:`f(x)`, conditions it on
each perspective with a learned mask (Veit et al., 2017) and classifies every
masked embedding with that perspective's own linear head.
"""

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PerspectiveModule"]

# Veit et al. initialise the condition masks from N(0.9, 0.7) and pass them
# through a ReLU, so every mask starts as a noisy, mostly open gate.
_MASK_INIT_MEAN, _MASK_INIT_STD = 0.9, 0.7


class PerspectiveModule(nn.Module):
    r"""Adapter, shared embedding, per-perspective masks and heads.

    For an input :math:`x` (the representation) and a perspective :math:`s`,

    .. math::

        f(x) = W_e\,\mathrm{ReLU}(W_a x + b_a) + b_e, \qquad
        z_s(x) = \frac{f(x) \odot \mathrm{ReLU}(m_s)}
                      {\lVert f(x) \odot \mathrm{ReLU}(m_s) \rVert_2},

    and the logits of perspective :math:`s` are :math:`V_s (f(x) \odot
    \mathrm{ReLU}(m_s)) + c_s`. The triplet loss reads the unit-norm
    :math:`z_s`, which keeps its margin meaningful: without the norm, growing
    the masks would satisfy any margin (Veit et al. add norm penalties
    instead). The heads read the masked embedding before normalisation: with
    unit-norm inputs the logits are bounded by the head weights, which weight
    decay keeps small, and the heads trained slowly (male-perspective weighted
    F1 0.40-0.48 after 10 epochs on the simulated corpus, docs/fairper.rst).

    Parameters
    ----------
    n_features : int
        Width of the representation (the ``encoder``'s output when one is
        given).
    hidden_size : int
        Width of the fully connected adapter layer.
    embedding_dim : int
        Dimension :math:`d` of the embedding.
    n_perspectives : int
    n_classes : int
    dropout : float
        Dropout after the adapter and before the heads.
    encoder : torch.nn.Module or None, default=None
        A representation network trained along (fine-tuning); None when the
        input already is the representation.
    passthrough : bool, default=False
        With an ``encoder``: the adapter reads the encoder's output and the
        raw input side by side, ``[encoder(x), x]``; ``n_features`` is then
        their total width. Without an encoder the caller concatenates.
    """

    def __init__(self, n_features, hidden_size, embedding_dim, n_perspectives,
                 n_classes, dropout, encoder=None, passthrough=False):
        super().__init__()
        self.encoder = encoder
        self.passthrough = passthrough
        self.adapter = nn.Sequential(
            nn.Linear(n_features, hidden_size), nn.ReLU(), nn.Dropout(dropout)
        )
        self.embedding = nn.Linear(hidden_size, embedding_dim)
        self.masks = nn.Parameter(
            torch.empty(n_perspectives, embedding_dim).normal_(
                _MASK_INIT_MEAN, _MASK_INIT_STD
            )
        )
        self.head_dropout = nn.Dropout(dropout)
        bound = embedding_dim ** -0.5
        self.head_weight = nn.Parameter(
            torch.empty(n_perspectives, embedding_dim, n_classes).uniform_(-bound, bound)
        )
        self.head_bias = nn.Parameter(
            torch.empty(n_perspectives, n_classes).uniform_(-bound, bound)
        )

    def forward(self, X, group=None):
        """Return ``(logits, embedding)`` of shapes (n, P, C) and (n, P, d).

        ``group`` rides along in the batch for the triplet sampler; unused here.
        """
        if self.encoder is not None:
            representation = self.encoder(X)
            X = torch.cat([representation, X], dim=1) if self.passthrough else representation
        shared = self.embedding(self.adapter(X))
        conditioned = shared[:, None, :] * F.relu(self.masks)[None, :, :]
        embedding = F.normalize(conditioned, dim=-1)
        # unnormalised: unit-norm inputs bound the logits (see the class notes)
        logits = torch.einsum(
            "npd,pdc->npc", self.head_dropout(conditioned), self.head_weight
        ) + self.head_bias
        return logits, embedding
