"""Torch modules of the fair representation network (section 2.2.2, Fig. 3).

* :class:`RepresentationModule`: encoder MLP to the embedding, plus the
  emotion head trained with the cross-entropy :math:`L_1`.
* :class:`GroupClassifier`: the adversary predicting the (rater) group from
  the embedding, trained with the cross-entropy :math:`L_A`.
* :class:`Critic`: the WGAN-style critic of ``distance="critic"``.
* :func:`gradient_reversal`: identity forward, negated gradient backward
  (Ganin et al., 2016), which lets one backward pass train the adversary to
  *minimise* :math:`L_A` while the encoder *maximises* it.
"""

import torch
from torch import nn

__all__ = ["Critic", "GroupClassifier", "RepresentationModule", "gradient_reversal"]


class _GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


def gradient_reversal(x):
    """Identity whose gradient is negated on the way back.

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation._modules import gradient_reversal
    >>> x = torch.ones(2, requires_grad=True)
    >>> gradient_reversal(x).sum().backward()
    >>> x.grad
    tensor([-1., -1.])
    """
    return _GradientReversal.apply(x)


class RepresentationModule(nn.Module):
    """Encoder MLP and classification head.

    Every layer of the encoder is ``Linear -> ReLU``, with dropout between
    layers; the last layer's activation is the embedding (the representation
    :meth:`~fairrep.FairRep.transform` returns). The head is
    ``Dropout -> Linear`` to the class logits, so dropout never perturbs the
    embedding the fairness terms compare.

    Parameters
    ----------
    n_features : int
    layer_sizes : tuple of int
        Widths of the encoder layers; the last one is the embedding size.
    n_classes : int
    dropout : float
    """

    def __init__(self, n_features, layer_sizes, n_classes, dropout):
        super().__init__()
        layers = []
        n_in = n_features
        for index, width in enumerate(layer_sizes):
            if index > 0 and dropout > 0:
                layers.append(nn.Dropout(dropout))
            layers.extend([nn.Linear(n_in, width), nn.ReLU()])
            n_in = width
        self.encoder = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_in, n_classes))

    def forward(self, X, group=None):
        """Return ``(logits, embedding)``; ``group`` rides along in the batch, unused here."""
        embedding = self.encoder(X)
        return self.head(embedding), embedding


class GroupClassifier(nn.Module):
    """The adversary: a one-hidden-layer MLP from the embedding to group logits."""

    def __init__(self, n_features, n_hidden, n_groups):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_groups)
        )

    def forward(self, embedding):
        return self.layers(embedding)


class Critic(nn.Module):
    """WGAN critic: one scalar potential per pair of groups.

    Output ``p`` is the Kantorovich potential :math:`f_p` of the ``p``-th
    pair. Its Lipschitz continuity is kept either by clipping the weights to
    ``[-clip, clip]`` before each training step (Arjovsky et al., 2017), or,
    with ``clip=None``, by the gradient penalty the training loop adds
    (:func:`~fairrep.representation._distances.critic_gradient_penalty`,
    Gulrajani et al., 2017).

    Parameters
    ----------
    n_features : int
    n_hidden : int
    n_pairs : int
        One output per pair of groups.
    clip : float or None, default=0.01
        Weight-clipping bound; None disables clipping.
    """

    def __init__(self, n_features, n_hidden, n_pairs, clip=0.01):
        super().__init__()
        self.clip = clip
        self.layers = nn.Sequential(
            nn.Linear(n_features, n_hidden), nn.LeakyReLU(0.2), nn.Linear(n_hidden, n_pairs)
        )

    @torch.no_grad()
    def clip_weights(self):
        if self.clip is None:
            return
        for parameter in self.parameters():
            parameter.clamp_(-self.clip, self.clip)

    def forward(self, embedding):
        return self.layers(embedding)
