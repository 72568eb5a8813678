r"""The WGAN critic's side of :math:`L_D`: its estimate and its gradient penalty.

NRL (Feng et al., 2019), FairRepF's model in section 3.1 of Chien & Lee,
estimates the Wasserstein-1 distance between the groups' embeddings with a
critic :math:`f_p` per pair of groups (the Kantorovich-Rubinstein dual), kept
1-Lipschitz by the gradient penalty of WGAN-GP (Gulrajani et al., 2017). The
critic takes several updates per encoder step on the same batch, so the
batch's groups are read once (:func:`critic_layout`) and every update's
estimate and penalty reuse them.
"""

from typing import NamedTuple

import torch

__all__ = ["CriticLayout", "critic_distance", "critic_estimates",
           "critic_gradient_penalty", "critic_layout", "interpolation_draws"]


class CriticLayout(NamedTuple):
    """A batch's groups as the critic's terms read them (see :func:`critic_layout`)."""

    pairs: list
    """``(output column, (group_i, group_j))`` of each pair in the batch."""
    columns: torch.Tensor
    """The pairs' output columns, shape (n_pairs,)."""
    weights: torch.Tensor
    """Shape (n_samples, n_pairs): ``1 / n_i`` on group ``i``'s rows, ``-1 / n_j`` on ``j``'s."""
    members: tuple
    """The row indices ``(rows of i, rows of j)`` of each pair."""


def critic_layout(codes, pairs, *, dtype=torch.float32):
    """Read a batch's groups once for the critic's estimate and penalty.

    Parameters
    ----------
    codes : Tensor of int64 of shape (n_samples,)
        Group code of each row, ``-1`` for missing.
    pairs : list of (int, (int, int))
        ``(output column, (group_i, group_j))`` for each pair to compare;
        both groups should have rows in the batch.
    dtype : torch.dtype, default=torch.float32
        The critic scores' dtype (of the estimate's weights).

    Returns
    -------
    layout : CriticLayout
    """
    weights, members = [], []
    for _, (i, j) in pairs:
        in_i, in_j = codes == i, codes == j
        weights.append(in_i.to(dtype) / in_i.sum().clamp_min(1)
                       - in_j.to(dtype) / in_j.sum().clamp_min(1))
        members.append((torch.nonzero(in_i).flatten(), torch.nonzero(in_j).flatten()))
    columns = torch.tensor([column for column, _ in pairs], dtype=torch.int64,
                           device=codes.device)
    stacked = (torch.stack(weights, 1) if weights
               else torch.zeros(codes.shape[0], 0, dtype=dtype, device=codes.device))
    return CriticLayout(list(pairs), columns, stacked, tuple(members))


def critic_estimates(critic_scores, layout):
    r"""The Kantorovich-Rubinstein estimate :math:`\mathbb{E}_i f_p - \mathbb{E}_j f_p` per pair.

    Parameters
    ----------
    critic_scores : Tensor of shape (n_samples, n_outputs)
    layout : CriticLayout

    Returns
    -------
    estimates : Tensor of shape (n_pairs,)
    """
    return (critic_scores[:, layout.columns] * layout.weights).sum(0)


def critic_distance(critic_scores, codes, pairs):
    """Wasserstein-1 estimate of a WGAN-style critic, per pair of groups.

    For the pair ``(i, j)`` number ``p``, the critic's ``p``-th output
    :math:`f_p` gives the Kantorovich-Rubinstein estimate
    :math:`\\mathbb{E}_i f_p - \\mathbb{E}_j f_p`; it is a lower bound of the
    Wasserstein-1 distance when :math:`f_p` is 1-Lipschitz, and the critic
    is trained to make it tight.

    Parameters
    ----------
    critic_scores : Tensor of shape (n_samples, n_pairs)
    codes : Tensor of shape (n_samples,)
        Group code of each row.
    pairs : list of (int, int)
        ``(group_i, group_j)`` codes, in the critic's output order.

    Returns
    -------
    estimates : Tensor of shape (n_pairs,)

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation._critic import critic_distance
    >>> scores = torch.tensor([[1.0], [3.0], [0.0], [0.0]])
    >>> critic_distance(scores, torch.tensor([0, 0, 1, 1]), [(0, 1)])
    tensor([2.])
    """
    layout = critic_layout(codes, list(enumerate(pairs)), dtype=critic_scores.dtype)
    return critic_estimates(critic_scores, layout)


def interpolation_draws(z, layout):
    """The points :func:`critic_gradient_penalty` evaluates the critic's gradient at.

    For each pair of ``layout``, as many random segments between a point of
    group ``i`` and one of group ``j`` as the larger group has points (both
    ends drawn with replacement), and a uniform point on each. Draws from
    torch's global generator, in this order: per pair the starts then the
    ends, then every point's position.

    Parameters
    ----------
    z : Tensor of shape (n_samples, n_features)
    layout : CriticLayout

    Returns
    -------
    points : Tensor of shape (n_points, n_features)
    columns : Tensor of int64 of shape (n_points,)
        The critic output (pair) each point belongs to.
    sizes : list of int
        Points per pair, in the layout's order.
    """
    starts, ends, columns, sizes = [], [], [], []
    for (column, _), (members_i, members_j) in zip(layout.pairs, layout.members):
        n_draws = max(members_i.shape[0], members_j.shape[0])
        starts.append(members_i[torch.randint(
            members_i.shape[0], (n_draws,), device=z.device)])
        ends.append(members_j[torch.randint(
            members_j.shape[0], (n_draws,), device=z.device)])
        columns.append(torch.full((n_draws,), column, device=z.device))
        sizes.append(n_draws)
    starts, ends, columns = torch.cat(starts), torch.cat(ends), torch.cat(columns)
    t = torch.rand(starts.shape[0], 1, dtype=z.dtype, device=z.device)
    return t * z[starts] + (1.0 - t) * z[ends], columns, sizes


def critic_gradient_penalty(critic, z, codes, pairs, layout=None):
    r"""WGAN-GP penalty of a critic on interpolates between two groups, per pair.

    For the pair ``(i, j)`` number ``p``, points of group ``i`` and of group
    ``j`` in the batch are paired at random (as many pairs as the larger
    group has points, drawn with replacement), and
    :math:`\hat z = t z_i + (1 - t) z_j` with :math:`t \sim U(0, 1)`. The
    penalty is

    .. math:: \mathbb{E}_{\hat z} \big(\lVert \nabla_{\hat z} f_p(\hat z)
              \rVert_2 - 1\big)^2

    averaged over the pairs (Gulrajani et al., 2017): a soft constraint that
    the potential :math:`f_p` be 1-Lipschitz along the segments the
    Kantorovich-Rubinstein dual cares about. Unlike weight clipping, it
    leaves the critic free to reach the full Wasserstein-1 distance.

    The embeddings are detached: the penalty trains the critic only. A
    critic with an ``input_gradients(z, columns)`` method (the
    :class:`~fairrep.representation._modules.Critic` of NRL) gives the
    gradients in closed form; any other callable is differentiated twice by
    autograd. Random draws use torch's global generator.

    Parameters
    ----------
    critic : callable
        Maps ``(n, n_features)`` to ``(n, n_pairs)`` scores.
    z : Tensor of shape (n_samples, n_features)
    codes : Tensor of shape (n_samples,)
        Group code of each row, ``-1`` for missing.
    pairs : list of (int, (int, int))
        ``(output column, (group_i, group_j))`` for each pair present in the
        batch.
    layout : CriticLayout, default=None
        ``critic_layout(codes, pairs)``, when already at hand.

    Returns
    -------
    penalty : Tensor of shape ()
        Differentiable with respect to the critic's parameters.

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation._critic import critic_gradient_penalty
    >>> slope = lambda z: z @ torch.tensor([[2.0], [0.0]])  # gradient norm 2
    >>> z = torch.randn(6, 2)
    >>> codes = torch.tensor([0, 0, 0, 1, 1, 1])
    >>> float(critic_gradient_penalty(slope, z, codes, [(0, (0, 1))]))
    1.0
    """
    layout = critic_layout(codes, pairs, dtype=z.dtype) if layout is None else layout
    interpolates, columns, sizes = interpolation_draws(z.detach(), layout)
    closed_form = getattr(critic, "input_gradients", None)
    if closed_form is not None:
        gradient = closed_form(interpolates, columns)
    else:
        interpolates.requires_grad_(True)
        scores = critic(interpolates).gather(1, columns.unsqueeze(1)).sum()
        (gradient,) = torch.autograd.grad(scores, interpolates, create_graph=True)
    per_point = (gradient.norm(dim=1) - 1.0) ** 2
    # each pair weighs the same, whatever its groups' sizes
    return torch.stack([part.mean() for part in per_point.split(sizes)]).mean()
