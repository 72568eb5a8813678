"""Triplet sampling and the conditional triplet loss :math:`L_T` (section 2.2.3).

FairPer's triplets follow Fig. 4 of Chien & Lee: an anchor :math:`x_a` and a
positive :math:`x_p` of the same rater-group perspective, a negative
:math:`x_n` of another. The loss is the conditional triplet loss of Veit et
al. (2017): each triplet belongs to one condition, the perspective of its
anchor's group, and is scored in that perspective's masked embedding only.
Everything is vectorised over the mini-batch: no Python loop over samples.
"""

import torch
import torch.nn.functional as F

__all__ = ["conditional_triplet_loss", "sample_triplets"]


def sample_triplets(group):
    """Draw one triplet per usable anchor of a mini-batch.

    Every sample with a known group (code ``>= 0``) that has at least one
    other sample of its group and one sample of another group in the batch
    is an anchor; its positive is drawn uniformly among the other samples of
    its group and its negative uniformly among the samples of the other
    groups. Draws use torch's global generator, which the estimator seeds.

    Parameters
    ----------
    group : Tensor of int64 of shape (n_samples,)
        Group code of each sample, ``-1`` when unknown (no triplet role).

    Returns
    -------
    anchor, positive, negative : Tensor of int64 of shape (n_triplets,)
        Row indices into the batch; empty when the batch holds fewer than
        two groups or no group with two samples.

    Examples
    --------
    >>> import torch
    >>> from fairrep.perspective._triplet import sample_triplets
    >>> group = torch.tensor([0, 0, 1, -1, 1])
    >>> anchor, positive, negative = sample_triplets(group)
    >>> anchor.tolist()
    [0, 1, 2, 4]
    >>> bool((group[positive] == group[anchor]).all())
    True
    >>> bool((group[negative] != group[anchor]).all())
    True
    """
    known = group >= 0
    both_known = known[:, None] & known[None, :]
    same = (group[:, None] == group[None, :]) & both_known
    same.fill_diagonal_(False)
    different = (group[:, None] != group[None, :]) & both_known
    usable = same.any(dim=1) & different.any(dim=1)
    anchor = usable.nonzero().squeeze(1)
    if anchor.numel() == 0:
        return anchor, anchor, anchor
    positive = torch.multinomial(same[anchor].float(), 1).squeeze(1)
    negative = torch.multinomial(different[anchor].float(), 1).squeeze(1)
    return anchor, positive, negative


def conditional_triplet_loss(embedding, anchor, positive, negative, condition, *,
                              margin):
    r"""Mean triplet hinge, each triplet scored under its own condition.

    .. math::

        L_T = \frac{1}{|T|} \sum_{(a, p, n, s) \in T}
              \max\{0,\; D_s(x_a, x_p) - D_s(x_a, x_n) + h\}

    with :math:`D_s(x_i, x_j) = \lVert z_s(x_i) - z_s(x_j) \rVert_2` the
    Euclidean distance in the embedding masked for condition :math:`s`
    and :math:`h` the margin. As in Veit et al. (2017, eq. 3), every
    triplet :math:`(a, p, n, s)` belongs to one condition and is scored
    under that condition's mask only, so the masks learn different notions
    of similarity from the triplets alone. For FairPer the condition of a
    triplet is the perspective of its anchor's rater group (section 2.2.3).
    The mean over triplets, unlike Veit's sum, keeps the weight
    :math:`\lambda` of :math:`L_{Per} = L_2 + \lambda L_T` independent of
    the batch size, on the scale of :math:`L_2` (itself a mean).

    Parameters
    ----------
    embedding : Tensor of shape (n_samples, n_conditions, embedding_dim)
        The conditioned embeddings :math:`z_s(x)`.
    anchor, positive, negative : Tensor of int64 of shape (n_triplets,)
        Output of :func:`sample_triplets`.
    condition : Tensor of int64 of shape (n_triplets,)
        The condition (index into the second axis of ``embedding``) of each
        triplet.
    margin : float
        The margin :math:`h`.

    Returns
    -------
    loss : Tensor of shape ()
        Zero (still differentiable) when there is no triplet.

    Examples
    --------
    >>> import torch
    >>> from fairrep.perspective._triplet import conditional_triplet_loss
    >>> # condition 0 sees the first coordinate, condition 1 the second
    >>> z = torch.tensor([[[0.0], [0.0]], [[0.0], [3.0]], [[3.0], [0.0]]])
    >>> index = torch.tensor
    >>> float(conditional_triplet_loss(z, index([0]), index([1]), index([2]),
    ...                                index([0]), margin=0.5))
    0.0
    >>> float(conditional_triplet_loss(z, index([0]), index([1]), index([2]),
    ...                                index([1]), margin=0.5))
    3.5
    """
    if anchor.numel() == 0:
        return embedding.sum() * 0.0
    anchors = embedding[anchor, condition]
    d_positive = (anchors - embedding[positive, condition]).norm(dim=-1)
    d_negative = (anchors - embedding[negative, condition]).norm(dim=-1)
    return F.relu(d_positive - d_negative + margin).mean()
