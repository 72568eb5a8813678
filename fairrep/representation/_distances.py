"""Differentiable distances between the groups' embeddings in a mini-batch.

These are the candidates for the fairness term :math:`L_D` of eq. (1) in
section 2.2.2 of Chien & Lee: a Wasserstein distance between the rater-gender
groups in the latent space, as in NRL (Feng et al., 2019). Every public
function takes torch tensors and is differentiable with respect to the
embeddings, so :math:`L_D` is back-propagated into the encoder.

The Sinkhorn divergence, the default :math:`L_D`, has its own solver in
:mod:`fairrep.representation._sinkhorn`, and NRL's critic its estimate and
penalty in :mod:`fairrep.representation._critic` (both re-exported here).

With more than two groups, :func:`group_distance` averages the distance over
every *pair* of groups present in the batch. For two groups this is exactly
the paper's distance between the male and the female group; pairs, rather
than each group against the pooled rest, keep every group's own shape in the
comparison (the pool of the others is dominated by the largest group).
"""

import itertools

import ot
import torch

from ._critic import critic_distance, critic_gradient_penalty
from ._sinkhorn import (
    group_sinkhorn,
    sinkhorn_divergence,
    sinkhorn_terms,
    squared_distances,
)

__all__ = [
    "DISTANCES",
    "critic_distance",
    "critic_gradient_penalty",
    "exact_wasserstein",
    "group_distance",
    "shuffled_groups",
    "sinkhorn_divergence",
    "sinkhorn_terms",
    "sliced_wasserstein",
    "soft_parity_gap",
    "split_by_group",
    "whitening_matrix",
]

#: The distances :class:`~fairrep.FairRep` accepts for ``distance``.
DISTANCES = ("sinkhorn", "sliced", "exact", "critic")

def sliced_wasserstein(x, y, *, n_projections=50, projections=None):
    r"""Squared sliced 2-Wasserstein distance between two samples.

    The mean over random unit directions :math:`\theta` of the 1-D squared
    2-Wasserstein distance between the projections, computed with POT's
    :func:`ot.wasserstein_1d` (the core of
    :func:`ot.sliced_wasserstein_distance`) on the torch backend. The square
    is kept (no root) so the gradient is finite at zero distance.

    Parameters
    ----------
    x : Tensor of shape (n_x, n_features)
    y : Tensor of shape (n_y, n_features)
    n_projections : int, default=50
        Number of random directions, drawn from torch's generator.
    projections : Tensor of shape (n_features, n_projections), default=None
        Fixed unit directions; overrides ``n_projections``.

    Returns
    -------
    distance : Tensor of shape ()

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation import sliced_wasserstein
    >>> x = torch.randn(8, 3)
    >>> float(sliced_wasserstein(x, x))
    0.0
    """
    if projections is None:
        projections = _random_directions(x.shape[1], n_projections, x)
    return ot.wasserstein_1d(x @ projections, y @ projections, p=2).mean()


def _random_directions(n_features, n_projections, like):
    directions = torch.randn(
        n_features, n_projections, dtype=like.dtype, device=like.device
    )
    return directions / directions.norm(dim=0, keepdim=True)


def exact_wasserstein(x, y):
    """Squared 2-Wasserstein distance between two uniform samples, exact.

    Solved with POT's network simplex :func:`ot.emd2` on the torch backend,
    whose gradient with respect to the cost is the optimal plan.

    Parameters
    ----------
    x : Tensor of shape (n_x, n_features)
    y : Tensor of shape (n_y, n_features)

    Returns
    -------
    distance : Tensor of shape ()

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation import exact_wasserstein
    >>> x = torch.zeros(3, 2)
    >>> float(exact_wasserstein(x, x + torch.tensor([3.0, 4.0])))
    25.0
    """
    cost = squared_distances(x, y)
    a = x.new_full((x.shape[0],), 1.0 / x.shape[0])
    b = y.new_full((y.shape[0],), 1.0 / y.shape[0])
    return ot.emd2(a, b, cost)


def shuffled_groups(codes):
    """The group codes shuffled among the rows of known group.

    A random split of the batch with the groups' sizes: under it the groups
    are, by construction, independent of the embedding. The distance
    between its parts is the mini-batch estimate's floor (two samples of one
    distribution are at a positive Wasserstein distance, which grows with
    the embedding's dimension), so :math:`L_D` minus it is zero in
    expectation exactly when the embedding does not depend on the group.
    Random draws use torch's global generator.

    Parameters
    ----------
    codes : Tensor of int64 of shape (n_samples,)
        Group codes, ``-1`` for missing (those rows keep ``-1``).

    Returns
    -------
    shuffled : Tensor of int64 of shape (n_samples,)

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation._distances import shuffled_groups
    >>> codes = torch.tensor([0, 0, 1, -1, 1])
    >>> shuffled = shuffled_groups(codes)
    >>> shuffled[3].item(), sorted(shuffled.tolist())
    (-1, [-1, 0, 0, 1, 1])
    """
    known = torch.nonzero(codes >= 0).flatten()
    shuffled = codes.clone()
    order = torch.randperm(known.numel(), device=codes.device)
    shuffled[known] = codes[known[order]]
    return shuffled


def soft_parity_gap(proba, codes, n_groups):
    r"""Soft statistical parity of a batch's predictions, less its floor.

    For each class :math:`c` (the positive class alone for two classes),
    the largest difference between two groups' mean predicted probability
    :math:`\bar p_{g,c}` over the groups present in the batch, summed over
    classes: the statistical-parity gap with the hard decision relaxed to
    the probability. The same gap between a random split of the batch with
    the groups' sizes (:func:`shuffled_groups`) is subtracted: a finite
    batch's gap is positive even when the predictions do not depend on the
    group, and without the floor the term would reward predictions that do
    not vary at all (a collapse to one class). So the term is zero in
    expectation exactly when the mean prediction does not depend on the
    group, and it cannot be lowered by shrinking the scores' spread. The
    floor is a constant of the loss (no gradient): were it differentiated,
    spreading the predictions at random would raise it and so lower the
    term without bringing the groups' means any closer.

    Parameters
    ----------
    proba : Tensor of shape (n_samples, n_classes)
        Predicted probabilities (rows sum to one).
    codes : Tensor of int64 of shape (n_samples,)
        Group codes in ``[0, n_groups)``, ``-1`` for missing.
    n_groups : int

    Returns
    -------
    gap : Tensor of shape ()
        Zero (and ``present`` false) when fewer than two groups are present.
    present : Tensor of bool of shape ()

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation._distances import soft_parity_gap
    >>> proba = torch.tensor([[0.2, 0.8], [0.2, 0.8], [0.6, 0.4], [0.6, 0.4]])
    >>> _ = torch.manual_seed(0)
    >>> gap, present = soft_parity_gap(proba, torch.tensor([0, 0, 1, 1]), 2)
    >>> bool(present), 0.0 <= float(gap) <= 0.4
    (True, True)
    """
    columns = proba[:, 1:] if proba.shape[1] == 2 else proba

    def gap(groups):
        members = (groups[:, None] == torch.arange(n_groups, device=groups.device))
        members = members.to(columns.dtype)
        counts = members.sum(0)
        means = (members.T @ columns) / counts.clamp_min(1.0)[:, None]
        absent = (counts == 0)[:, None]
        highest = means.masked_fill(absent, -float("inf")).max(0).values
        lowest = means.masked_fill(absent, float("inf")).min(0).values
        present = (counts > 0).sum() >= 2
        return torch.where(present, (highest - lowest).sum(), columns.new_zeros(())), present

    value, present = gap(codes)
    floor, _ = gap(shuffled_groups(codes))
    floor = floor.detach()
    return torch.where(present, value - floor, value), present


@torch.no_grad()
def whitening_matrix(z, *, shrinkage=0.1):
    r"""A whitening matrix of a batch's shrunk covariance.

    With :math:`S` the covariance of the rows of ``z`` divided by its mean
    variance :math:`v`, and :math:`S + \rho I = L L^\top` its shrunk form's
    Cholesky factorisation, returns :math:`W = v^{-1/2} L^{-\top}`. Then
    :math:`W W^\top = v^{-1} (S + \rho I)^{-1}`, so ``z @ W`` has about unit
    variance in every direction the batch spans, up to the shrinkage
    :math:`\rho` (which keeps the factorisation defined when the batch has
    fewer rows than columns), and its pairwise distances are those of the
    symmetric whitening :math:`v^{-1/2} (S + \rho I)^{-1/2}` (the two differ
    by a rotation), at a quarter of an eigendecomposition's cost. A distance
    between the groups of ``z @ W`` counts a difference in any direction
    relative to the spread in that direction: the group cannot hide in a
    direction of small variance, nor be shrunk away with the whole
    embedding. ``W`` is computed without gradient (a constant of the loss).

    Parameters
    ----------
    z : Tensor of shape (n_samples, n_features)
    shrinkage : float, default=0.1
        :math:`\rho > 0`, relative to the mean variance.

    Returns
    -------
    W : Tensor of shape (n_features, n_features)
        Upper triangular.

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation._distances import whitening_matrix
    >>> z = torch.randn(500, 3, dtype=torch.float64) * torch.tensor([1.0, 10.0, 0.1])
    >>> white = z @ whitening_matrix(z, shrinkage=1e-9)
    >>> torch.allclose(torch.cov(white.T), torch.eye(3, dtype=torch.float64), atol=1e-6)
    True
    """
    if not shrinkage > 0:
        raise ValueError(f"shrinkage must be > 0; got {shrinkage!r}.")
    centred = z - z.mean(0, keepdim=True)
    covariance = centred.T @ centred / max(z.shape[0] - 1, 1)
    scale = covariance.diagonal().mean().clamp_min(1e-12)
    eye = torch.eye(z.shape[1], dtype=z.dtype, device=z.device)
    factor = torch.linalg.cholesky(covariance / scale + shrinkage * eye)
    inverse = torch.linalg.solve_triangular(factor, eye, upper=False)
    return inverse.T / scale.sqrt()


def split_by_group(z, codes):
    """Split the rows of ``z`` by group code, ignoring missing (``-1``) rows.

    Returns
    -------
    present : list of int
        The group codes found, ascending.
    samples : list of Tensor
        The rows of each present group.
    """
    known = codes >= 0
    present = torch.unique(codes[known]).tolist()
    return present, [z[codes == g] for g in present]


def group_distance(z, codes, *, distance="sinkhorn", reg=0.1, n_iter=10,
                   n_projections=50):
    """Mean distance between every pair of groups present in a mini-batch.

    Rows whose group is unknown (code ``-1``) are ignored. The Sinkhorn
    regularisation is *relative*: ``reg`` times the mean squared distance
    between the groups' points in this batch, so one value suits any
    embedding scale.

    Parameters
    ----------
    z : Tensor of shape (n_samples, n_features)
        The embeddings.
    codes : Tensor of int64 of shape (n_samples,)
        Group codes, ``-1`` for missing.
    distance : {"sinkhorn", "sliced", "exact"}, default="sinkhorn"
    reg : float, default=0.1
        Relative entropic regularisation (``"sinkhorn"``).
    n_iter : int, default=10
        Sinkhorn iterations; with the relative ``reg=0.1`` the divergence
        of 64-d embeddings agrees with POT's converged value to about 1e-6.
    n_projections : int, default=50
        Random directions (``"sliced"``).

    Returns
    -------
    value : Tensor of shape () or None
        None when fewer than two groups are present in the batch: such a
        batch has no distance to reduce and the term is skipped.

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation import group_distance
    >>> z = torch.tensor([[0.0], [0.0], [2.0], [2.0]])
    >>> codes = torch.tensor([0, 0, 1, -1])
    >>> float(group_distance(z, codes, distance="exact"))
    4.0
    >>> group_distance(z, torch.tensor([0, 0, -1, -1])) is None
    True
    """
    if distance == "sinkhorn":
        known = codes[codes >= 0]
        if known.numel() == 0 or torch.unique(known).shape[0] < 2:
            return None
        n_groups = int(known.max()) + 1
        return group_sinkhorn(z, codes, n_groups, reg=reg, n_iter=n_iter)
    present, samples = split_by_group(z, codes)
    if len(present) < 2:
        return None
    pairs = list(itertools.combinations(range(len(present)), 2))
    if distance == "sliced":
        projections = _random_directions(z.shape[1], n_projections, z)
        values = [
            sliced_wasserstein(samples[i], samples[j], projections=projections)
            for i, j in pairs
        ]
    elif distance == "exact":
        values = [exact_wasserstein(samples[i], samples[j]) for i, j in pairs]
    else:
        raise ValueError(
            f"distance must be one of {DISTANCES[:3]} here; got {distance!r}."
        )
    return torch.stack(values).mean()
