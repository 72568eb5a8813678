"""Differentiable distances between the groups' embeddings in a mini-batch.

These are the candidates for the fairness term :math:`L_D` of eq. (1) in
section 2.2.2 of Chien & Lee: a Wasserstein distance between the rater-gender
groups in the latent space, as in NRL (Feng et al., 2019). Every function
takes torch tensors, stays in torch and is differentiable with respect to
the embeddings, so :math:`L_D` is back-propagated into the encoder.

With more than two groups, :func:`group_distance` averages the distance over
every *pair* of groups present in the batch. For two groups this is exactly
the paper's distance between the male and the female group; pairs, rather
than each group against the pooled rest, keep every group's own shape in the
comparison (the pool of the others is dominated by the largest group).
"""

import itertools

import ot
import torch

__all__ = [
    "DISTANCES",
    "critic_distance",
    "critic_gradient_penalty",
    "exact_wasserstein",
    "group_distance",
    "sinkhorn_divergence",
    "sliced_wasserstein",
    "split_by_group",
]

#: The distances :class:`~fairrep.FairRep` accepts for ``distance``.
DISTANCES = ("sinkhorn", "sliced", "exact", "critic")

# Floor of the Sinkhorn denominators (float64): a point outside a problem's
# support has weight 0, and 0 / 0 must not happen.
_TINY = 1e-300


def _squared_distances(x, y):
    """Squared Euclidean cost between the rows of ``x`` and ``y`` (batched)."""
    cost = (
        (x * x).sum(-1).unsqueeze(-1)
        + (y * y).sum(-1).unsqueeze(-2)
        - 2.0 * x @ y.transpose(-1, -2)
    )
    return cost.clamp_min(0.0)


def _sinkhorn_transport_cost(cost, a, b, eps, n_iter):
    """Entropic OT transport costs <P_p, C> for a stack of marginal pairs.

    All problems share one set of points and one cost matrix; problem ``p``
    moves the weights ``a[p]`` onto ``b[p]`` (zeros mark points outside a
    group), so a batch's groups need no splitting, padding or gathering.
    Sinkhorn's matrix scaling runs a fixed number of iterations: a small
    batch (32 samples) needs few, and a fixed count avoids the convergence
    check (a host synchronisation) of a generic solver. It runs in float64
    on kernels whose rows are shifted to a maximum of 1 over each problem's
    target points, so it does not underflow at the regularisations used
    here. The cost is differentiated through ``cost`` only, with the plan
    held fixed (the envelope gradient ``P``): what the exact optimum gives,
    for one product instead of a backward pass through every iteration.

    Parameters
    ----------
    cost : Tensor of shape (n_points, n_points)
    a, b : Tensor of shape (n_problems, n_points)
        Source and target weights; each row sums to one.
    eps : float or Tensor
        Entropic regularisation, in the cost's units.
    n_iter : int

    Returns
    -------
    transport_cost : Tensor of shape (n_problems,)
    """
    with torch.no_grad():
        scaled = (cost.detach().double() / eps).unsqueeze(0)
        outside = (b <= 0).unsqueeze(-2)
        shifted = scaled.masked_fill(outside, float("inf"))
        # a per-row shift only rescales u: the plan is unchanged
        kernel = torch.exp(shifted.amin(dim=-1, keepdim=True) - shifted)
        kernel_t = kernel.transpose(-1, -2)
        a64 = a.double().unsqueeze(-1)
        b64 = b.double().unsqueeze(-1)
        v = torch.ones_like(b64)
        for _ in range(n_iter):
            u = a64 / (kernel @ v).clamp_min(_TINY)
            v = b64 / (kernel_t @ u).clamp_min(_TINY)
        plan = (u * kernel * v.transpose(-1, -2)).to(cost.dtype)
    return (plan * cost).sum(dim=(-2, -1))


def _debiased_sinkhorn(points, weights, pairs, reg, n_iter, relative_reg):
    """Debiased Sinkhorn divergence between weight vectors ``weights[i]``, ``weights[j]``.

    One batched solve covers every pair and every self-term (the debiasing).
    """
    n_groups = weights.shape[0]
    first = torch.tensor([i for i, _ in pairs], device=points.device)
    second = torch.tensor([j for _, j in pairs], device=points.device)
    own = torch.arange(n_groups, device=points.device)
    a = weights[torch.cat([first, own])]
    b = weights[torch.cat([second, own])]
    cost = _squared_distances(points, points)
    eps = reg
    if relative_reg:
        # the mean cross-group cost sets the scale, so one reg fits any
        # embedding scale; detached: a constant of the loss, not a way to shrink it
        with torch.no_grad():
            mean_cross = ((weights[first] @ cost) * weights[second]).sum(-1).mean()
        eps = reg * mean_cross.clamp_min(1e-8)
    transport = _sinkhorn_transport_cost(cost, a, b, eps, n_iter)
    n_pairs = len(pairs)
    self_terms = transport[n_pairs:]
    return transport[:n_pairs] - 0.5 * (self_terms[first] + self_terms[second])


def sinkhorn_divergence(x, y, *, reg=0.1, n_iter=100):
    r"""Debiased entropic Wasserstein divergence between two samples.

    .. math::

        S_\varepsilon(x, y) = \langle P_{xy}, C_{xy} \rangle
        - \tfrac12 \langle P_{xx}, C_{xx} \rangle
        - \tfrac12 \langle P_{yy}, C_{yy} \rangle

    with :math:`C` the squared Euclidean cost and :math:`P` the entropic
    optimal plans between uniform weights, the quantity POT's
    :func:`ot.bregman.empirical_sinkhorn_divergence` returns. The debiasing
    terms make it exactly zero for identical samples, unlike the plain
    entropic cost.

    Parameters
    ----------
    x : Tensor of shape (n_x, n_features)
    y : Tensor of shape (n_y, n_features)
    reg : float, default=0.1
        Entropic regularisation :math:`\varepsilon` in the cost's units.
    n_iter : int, default=100
        Sinkhorn iterations (fixed count).

    Returns
    -------
    divergence : Tensor of shape ()
        Differentiable with respect to ``x`` and ``y``.

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation._distances import sinkhorn_divergence
    >>> x = torch.zeros(4, 2)
    >>> float(sinkhorn_divergence(x, x))
    0.0
    >>> round(float(sinkhorn_divergence(x, x + 1.0)), 3)
    2.0
    """
    points = torch.cat([x, y])
    weights = points.new_zeros((2, points.shape[0]))
    weights[0, : x.shape[0]] = 1.0 / x.shape[0]
    weights[1, x.shape[0]:] = 1.0 / y.shape[0]
    return _debiased_sinkhorn(points, weights, [(0, 1)], reg, n_iter, relative_reg=False)[0]


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
    >>> from fairrep.representation._distances import sliced_wasserstein
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
    >>> from fairrep.representation._distances import exact_wasserstein
    >>> x = torch.zeros(3, 2)
    >>> float(exact_wasserstein(x, x + torch.tensor([3.0, 4.0])))
    25.0
    """
    cost = _squared_distances(x, y)
    a = x.new_full((x.shape[0],), 1.0 / x.shape[0])
    b = y.new_full((y.shape[0],), 1.0 / y.shape[0])
    return ot.emd2(a, b, cost)


def critic_distance(critic_scores, codes, pairs):
    """Wasserstein-1 estimate of a WGAN-style critic, per pair of groups.

    For the pair ``(i, j)`` number ``p``, the critic's ``p``-th output
    :math:`f_p` gives the Kantorovich-Rubinstein estimate
    :math:`\\mathbb{E}_i f_p - \\mathbb{E}_j f_p`; it is a lower bound of the
    Wasserstein-1 distance when :math:`f_p` is 1-Lipschitz (kept so by weight
    clipping), and the critic is trained to make it tight.

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
    """
    estimates = []
    for p, (i, j) in enumerate(pairs):
        in_i, in_j = codes == i, codes == j
        estimates.append(
            critic_scores[in_i, p].mean() - critic_scores[in_j, p].mean()
        )
    return torch.stack(estimates)


def critic_gradient_penalty(critic, z, codes, pairs):
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

    The embeddings are detached: the penalty trains the critic only.
    Random draws use torch's global generator.

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

    Returns
    -------
    penalty : Tensor of shape ()
        Differentiable with respect to the critic's parameters.

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation._distances import critic_gradient_penalty
    >>> slope = lambda z: z @ torch.tensor([[2.0], [0.0]])  # gradient norm 2
    >>> z = torch.randn(6, 2)
    >>> codes = torch.tensor([0, 0, 0, 1, 1, 1])
    >>> float(critic_gradient_penalty(slope, z, codes, [(0, (0, 1))]))
    1.0
    """
    z = z.detach()
    starts, ends, columns, sizes = [], [], [], []
    for column, (i, j) in pairs:
        members_i = torch.nonzero(codes == i).flatten()
        members_j = torch.nonzero(codes == j).flatten()
        n_draws = max(members_i.shape[0], members_j.shape[0])
        starts.append(members_i[torch.randint(
            members_i.shape[0], (n_draws,), device=z.device)])
        ends.append(members_j[torch.randint(
            members_j.shape[0], (n_draws,), device=z.device)])
        columns.append(torch.full((n_draws,), column, device=z.device))
        sizes.append(n_draws)
    starts, ends, columns = torch.cat(starts), torch.cat(ends), torch.cat(columns)
    t = torch.rand(starts.shape[0], 1, dtype=z.dtype, device=z.device)
    interpolates = (t * z[starts] + (1.0 - t) * z[ends]).requires_grad_(True)
    scores = critic(interpolates).gather(1, columns.unsqueeze(1)).sum()
    (gradient,) = torch.autograd.grad(scores, interpolates, create_graph=True)
    per_point = (gradient.norm(dim=1) - 1.0) ** 2
    # each pair weighs the same, whatever its groups' sizes
    return torch.stack([part.mean() for part in per_point.split(sizes)]).mean()


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
    >>> from fairrep.representation._distances import group_distance
    >>> z = torch.tensor([[0.0], [0.0], [2.0], [2.0]])
    >>> codes = torch.tensor([0, 0, 1, -1])
    >>> float(group_distance(z, codes, distance="exact"))
    4.0
    >>> group_distance(z, torch.tensor([0, 0, -1, -1])) is None
    True
    """
    if distance == "sinkhorn":
        present = torch.unique(codes[codes >= 0])
        if present.shape[0] < 2:
            return None
        members = (codes.unsqueeze(0) == present.unsqueeze(1)).to(z.dtype)
        weights = members / members.sum(dim=1, keepdim=True)
        pairs = list(itertools.combinations(range(present.shape[0]), 2))
        return _debiased_sinkhorn(z, weights, pairs, reg, n_iter, relative_reg=True).mean()
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
