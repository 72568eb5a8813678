"""The Sinkhorn divergence between groups' embeddings: the default :math:`L_D`.

:func:`sinkhorn_terms` solves one batched problem for every pair of groups
of a mini-batch and the debiasing terms, without a host synchronisation,
with its gradient in closed form (the plans held fixed), and on the CPU in
NumPy, whose per-call overhead suits the small matrices of a mini-batch.
:func:`sinkhorn_divergence` is the same divergence between two point clouds,
differentiable through autograd.
"""

import functools
import itertools

import numpy as np
import torch

__all__ = ["group_sinkhorn", "sinkhorn_divergence", "sinkhorn_terms", "squared_distances"]

# Floor of the Sinkhorn denominators (float64): a point outside a problem's
# support has weight 0, and 0 / 0 must not happen.
_TINY = 1e-300
# Ceiling of a kernel row's shift: finite where a problem's target is empty.
_HUGE = 1e300
# On the CPU, batches larger than this solve each problem on its own block.
_BLOCKS_FROM = 80


def squared_distances(x, y):
    """Squared Euclidean cost between the rows of ``x`` and ``y`` (batched)."""
    cost = (
        (x * x).sum(-1).unsqueeze(-1)
        + (y * y).sum(-1).unsqueeze(-2)
        - 2.0 * x @ y.transpose(-1, -2)
    )
    return cost.clamp_min(0.0)


@functools.lru_cache(maxsize=64)
def _problem_tables(n_groups, device, n_sets=1):
    """Index tables of the debiased problems between ``n_groups`` groups.

    Returns ``(first, second, sources, targets, owners, sets)``: the pairs
    ``(first[p], second[p])`` in :func:`itertools.combinations` order; the
    source and target group of every transport problem (the pairs, then
    each group onto itself for the debiasing terms); ``owners``, 1 where a
    group belongs to a pair; and ``sets``, of shape (n_problems, n_sets),
    which labelling each problem belongs to. With ``n_sets`` labellings of
    one batch, labelling ``s`` has the group codes ``s * n_groups`` to
    ``(s + 1) * n_groups - 1`` and its own pairs, so ``owners`` has shape
    (n_sets * n_groups, n_sets * n_pairs).
    NumPy arrays when ``device`` is None, else tensors on ``device``.
    """
    pairs = list(itertools.combinations(range(n_groups), 2))
    offsets = n_groups * np.repeat(np.arange(n_sets), len(pairs))
    first = np.tile([i for i, _ in pairs], n_sets).astype(np.int64) + offsets
    second = np.tile([j for _, j in pairs], n_sets).astype(np.int64) + offsets
    n_pairs, own = first.shape[0], np.arange(n_sets * n_groups)
    owners = np.zeros((n_sets * n_groups, n_pairs))
    owners[first, np.arange(n_pairs)] = 1.0
    owners[second, np.arange(n_pairs)] = 1.0
    sets = np.zeros((n_pairs + own.shape[0], n_sets))
    sets[np.arange(n_pairs), np.repeat(np.arange(n_sets), len(pairs))] = 1.0
    sets[n_pairs + own, own // n_groups] = 1.0
    tables = (first, second, np.concatenate([first, own]),
              np.concatenate([second, own]), owners, sets)
    if device is None:
        return tables
    return tuple(torch.as_tensor(table, device=device) for table in tables)


def _sinkhorn_plans(xp, cost, a, b, eps, n_iter):
    """Entropic OT plans for a stack of marginal pairs on one cost matrix.

    All problems share one set of points and one cost matrix; problem ``p``
    moves the weights ``a[p]`` onto ``b[p]`` (zeros mark points outside a
    group), so a batch's groups need no splitting, padding or gathering.
    Sinkhorn's matrix scaling runs a fixed number of iterations: a small
    batch (32 samples) needs few, and a fixed count avoids the convergence
    check (a host synchronisation) of a generic solver. It runs in float64
    on kernels whose rows are shifted to a maximum of 1 over each problem's
    target points, so it does not underflow at the regularisations used
    here; a problem with an empty source or target gets a zero plan.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``torch``: the arrays' namespace. The operations used
        are spelled alike in both.
    cost : array of float64 of shape (n_points, n_points)
    a, b : array of float64 of shape (n_problems, n_points)
        Source and target weights; each row sums to one (or is all zero).
    eps : float64 array of shape () or (n_problems, 1, 1)
        Entropic regularisation, in the cost's units (per problem).
    n_iter : int

    Returns
    -------
    plans : array of float64 of shape (n_problems, n_points, n_points)
    """
    scaled = xp.where(b[:, None, :] <= 0, float("inf"), cost / eps)
    # a per-row shift only rescales u: the plan is unchanged; an empty
    # target (a row of +inf) gets a finite shift and so a zero kernel
    shift = xp.clip(xp.amin(scaled, -1, keepdims=True), None, _HUGE)
    kernel = xp.exp(shift - scaled)
    kernel_t = xp.swapaxes(kernel, -1, -2)
    a = a[:, :, None]
    b = b[:, :, None]
    v = b * 0.0 + 1.0
    for _ in range(n_iter):
        # the floor keeps 0 / 0 away from points outside a problem's support
        u = a / (kernel @ v + _TINY)
        v = b / (kernel_t @ u + _TINY)
    return u * kernel * xp.swapaxes(v, -1, -2)


def _sinkhorn_core(xp, points, members, tables, reg, n_iter, relative_reg, signs=(1.0,)):
    """Value, presence and gradient of :func:`sinkhorn_terms` in namespace ``xp``.

    ``points`` keep their dtype (float32 from the network) for the two
    products with the points, the cost matrix and the gradient, as in the
    autograd formulation; the kernel, the iterations, the plans and the
    value are float64. ``members`` is float64, one row per group of each
    labelling (``tables`` from ``_problem_tables(n_groups, device,
    len(signs))``); the value and gradient are the labellings' divergences
    weighted by ``signs``, each with its own regularisation, from one solve
    on one cost matrix. ``present`` is the first labelling's.
    """
    first, second, sources, targets, owners, sets = tables
    wide = np.float64 if xp is np else torch.float64

    def cast(array, dtype):
        return array.astype(dtype, copy=False) if xp is np else array.to(dtype)

    counts = members.sum(1, keepdims=True)
    weights = members / xp.clip(counts, 1.0, None)
    present = counts[:, 0] / xp.clip(counts[:, 0], 1.0, None)  # 1.0 or 0.0
    # each present pair of a labelling counts 1 / (its present pairs) in the
    # labelling's mean, its groups' self terms -1/2 of that
    pair_sets = sets[:first.shape[0]]
    pair_present = present[first] * present[second]
    n_present = pair_present @ pair_sets
    pair_weight = pair_present / (pair_sets @ xp.clip(n_present, 1.0, None))
    signs = (np.asarray(signs, dtype=np.float64) if xp is np
             else torch.tensor(signs, dtype=torch.float64, device=members.device))
    signed = pair_weight * (pair_sets @ signs)
    coefficients = xp.concatenate([signed, -0.5 * (owners @ signed)])

    squares = (points * points).sum(1)
    cost = cast(xp.clip(
        squares[:, None] + squares[None, :] - 2.0 * (points @ points.T), 0.0, None
    ), wide)
    if relative_reg:
        # the mean cross-group cost sets the scale, so one reg fits any
        # embedding scale; a constant of the loss, not a way to shrink it
        cross = ((weights[first] @ cost) * weights[second]).sum(1)
        eps = sets @ (xp.clip((pair_weight * cross) @ pair_sets, 1e-8, None) * reg)
    else:
        eps = sets.sum(1) * reg  # each problem belongs to one labelling
    source_weights, target_weights = weights[sources], weights[targets]
    plans = _sinkhorn_plans(xp, cost, source_weights, target_weights, eps[:, None, None],
                            n_iter)
    combined = (coefficients @ plans.reshape(plans.shape[0], -1)).reshape(cost.shape)
    # the entropic objective <P, C> + eps KL(P | a b^T) of each problem: the
    # value whose gradient (the plans held fixed) the encoder descends
    product = source_weights[:, :, None] * target_weights[:, None, :]
    relative = xp.where(plans > 0, plans * xp.log(
        xp.where(plans > 0, plans, 1.0) / xp.where(product > 0, product, 1.0)), 0.0)
    value = (combined * cost).sum() + (eps * coefficients) @ relative.reshape(
        relative.shape[0], -1).sum(1)
    symmetric = combined + combined.T
    gradient = 2.0 * (cast(symmetric.sum(1, keepdims=True), points.dtype) * points
                      - cast(symmetric, points.dtype) @ points)
    return value, n_present[0] > 0, gradient


def _sinkhorn_blocks(points, labels, n_groups, reg, n_iter, relative_reg):
    """:func:`_sinkhorn_core` in NumPy, solving each problem on its own block.

    Problem ``(i, j)`` only involves the rows of group ``i`` and the columns
    of group ``j``: the stacked solver's other entries are exact zeros.
    With the points sorted by group, every block is a slice of one cost
    matrix over the points of known group. For two balanced groups the
    blocks hold a quarter of the stacked entries, which pays once the batch
    is large enough for arithmetic, not per-call overhead, to dominate. The
    iterates are those of the stacked solver.
    """
    order = np.argsort(labels, kind="stable")
    ends = np.searchsorted(labels[order], np.arange(-1, n_groups), side="right")
    spans = {g: slice(ends[g] - ends[0], ends[g + 1] - ends[0]) for g in range(n_groups)
             if ends[g + 1] > ends[g]}
    pairs = list(itertools.combinations(sorted(spans), 2))
    gradient = np.zeros_like(points)
    if not pairs:
        return 0.0, False, gradient
    known = order[ends[0]:]  # the rows of known group, sorted by group
    sorted_points = points[known]
    squares = (sorted_points * sorted_points).sum(1)
    # in place, rounded as _sinkhorn_core rounds it: a temporary of a large
    # batch's n x n size costs more to allocate (fresh pages) than to fill
    doubled = sorted_points @ sorted_points.T
    doubled *= 2.0
    cost = np.add.outer(squares, squares)
    cost -= doubled
    cost = np.maximum(cost, 0.0, out=cost).astype(np.float64)
    if relative_reg:
        cross = np.mean([cost[spans[i], spans[j]].mean() for i, j in pairs])
        eps = max(float(cross), 1e-8) * reg
    else:
        eps = reg
    weight = 1.0 / len(pairs)
    coefficients = {pair: weight for pair in pairs}
    for i, j in pairs:
        for g in (i, j):
            coefficients[g, g] = coefficients.get((g, g), 0.0) - 0.5 * weight
    combined = np.zeros_like(cost)
    entropic = 0.0
    for (i, j), coefficient in coefficients.items():
        # in place where it can be (see the cost matrix above)
        scaled = cost[spans[i], spans[j]] / eps
        shift = scaled.min(axis=1, keepdims=True)
        kernel = np.subtract(shift, scaled)
        np.exp(kernel, out=kernel)
        a = np.full((kernel.shape[0], 1), 1.0 / kernel.shape[0])
        b = np.full((kernel.shape[1], 1), 1.0 / kernel.shape[1])
        v = np.ones_like(b)
        for _ in range(n_iter):
            u = a / (kernel @ v + _TINY)
            v = b / (kernel.T @ u + _TINY)
        plan = kernel  # P = u K v^T, the kernel no longer needed
        plan *= u
        plan *= v.T
        # the entropic part eps KL(P | a b^T) of the problem's objective, with
        # log P = log u + shift - scaled + log v^T (every entry of a block is
        # finite, and P = 0 only where the kernel underflows, where P * scaled
        # is 0 as well): no logarithm of the whole plan
        kl = (plan.sum(1) @ (np.log(u / a) + shift)[:, 0]
              + plan.sum(0) @ np.log(v / b)[:, 0] - np.vdot(plan, scaled))
        entropic += coefficient * eps * float(kl)
        plan *= coefficient
        combined[spans[i], spans[j]] += plan
    value = float(np.vdot(combined, cost)) + entropic
    # S = P + P^T (P the combined plan) without forming it: S z = P z + P^T z
    narrow = combined.astype(points.dtype)
    spread = (combined.sum(1) + combined.sum(0)).astype(points.dtype)
    gradient[known] = 2.0 * (spread[:, None] * sorted_points
                             - (narrow @ sorted_points + narrow.T @ sorted_points))
    return value, True, gradient


@torch.no_grad()
def sinkhorn_terms(z, codes, n_groups, *, reg=0.1, n_iter=10, relative_reg=True,
                   null_codes=None):
    r"""Debiased Sinkhorn divergence between groups, with its gradient.

    The mean over the pairs of groups present in the batch of

    .. math::

        S_\varepsilon(i, j) = \langle P_{ij}, C \rangle
        - \tfrac12 \langle P_{ii}, C \rangle - \tfrac12 \langle P_{jj}, C \rangle

    (:func:`sinkhorn_divergence`), for every pair in one batched solve,
    without a host synchronisation: a group absent from the batch has zero
    weights and a zero plan, and drops out of the mean. The plans are held
    fixed (the envelope gradient of the optimum), so with the cost
    :math:`C_{kl} = \lVert z_k - z_l \rVert^2` the gradient is in closed
    form, :math:`\nabla_{z_k} = 2 \big(s_k z_k - (S z)_k\big)` with
    :math:`S = P + P^\top` for the combined plan
    :math:`P = \sum_p c_p P_p` and :math:`s = S \mathbf{1}`; no graph is
    built through the iterations.

    On the CPU the solve runs in NumPy on views of the tensors: for the
    32 x 32 problems of a mini-batch, the per-call overhead of torch's
    operators is several times the arithmetic, NumPy's a fraction of it.
    Elsewhere (CUDA) the same code runs in torch and stays on the device.

    Parameters
    ----------
    z : Tensor of shape (n_samples, n_features)
    codes : Tensor of int64 of shape (n_samples,)
        Group codes in ``[0, n_groups)``, ``-1`` for missing.
    n_groups : int
        Number of possible groups (at least 2).
    reg : float, default=0.1
        Entropic regularisation; relative to the mean squared distance
        between the groups' points when ``relative_reg``.
    n_iter : int, default=10
        Sinkhorn iterations.
    relative_reg : bool, default=True
    null_codes : Tensor of int64 of shape (n_samples,), default=None
        A second labelling of the same points (the scale-free
        :math:`L_D`'s random split, :func:`shuffled_groups`): the value
        and gradient are then the divergence between the groups of
        ``codes`` less that between the groups of ``null_codes``, each with
        its own relative regularisation, solved together on one cost matrix.

    Returns
    -------
    value : Tensor of float64 of shape ()
        The divergence (less the null one); 0 when fewer than two groups
        are present.
    present : Tensor of bool of shape ()
        Whether at least two groups of ``codes`` are present.
    gradient : Tensor of shape (n_samples, n_features)
        Its gradient with respect to ``z``, in ``z``'s dtype.

    Examples
    --------
    >>> import torch
    >>> from fairrep.representation._distances import sinkhorn_terms
    >>> z = torch.tensor([[0.0], [0.0], [2.0], [2.0]])
    >>> value, present, gradient = sinkhorn_terms(z, torch.tensor([0, 0, 1, 1]), 2)
    >>> round(float(value), 3), bool(present), gradient.shape
    (4.0, True, torch.Size([4, 1]))
    """
    n_groups = int(n_groups)
    points = z.detach()
    if points.dtype not in (torch.float32, torch.float64):
        points = points.float()
    labellings = [codes] if null_codes is None else [codes, null_codes]
    signs = (1.0, -1.0)[:len(labellings)]
    if z.device.type == "cpu":
        if codes.shape[0] > _BLOCKS_FROM:
            parts = [_sinkhorn_blocks(points.numpy(), labels.numpy(), n_groups, float(reg),
                                      int(n_iter), relative_reg) for labels in labellings]
            value = sum(sign * part[0] for sign, part in zip(signs, parts))
            gradient = sum(sign * part[2] for sign, part in zip(signs, parts))
            present = parts[0][1]
        else:
            groups = np.arange(n_groups)[:, None]
            members = np.concatenate([labels.numpy()[None, :] == groups
                                      for labels in labellings]).astype(np.float64)
            value, present, gradient = _sinkhorn_core(
                np, points.numpy(), members, _problem_tables(n_groups, None, len(signs)),
                float(reg), int(n_iter), relative_reg, signs,
            )
        return (torch.tensor(float(value), dtype=torch.float64),
                torch.tensor(bool(present)),
                torch.as_tensor(gradient).to(z.dtype))
    groups = torch.arange(n_groups, device=z.device)[:, None]
    members = torch.cat([labels[None, :] == groups for labels in labellings])
    value, present, gradient = _sinkhorn_core(
        torch, points, members.to(torch.float64),
        _problem_tables(n_groups, z.device, len(signs)),
        float(reg), int(n_iter), relative_reg, signs,
    )
    return value, present, gradient.to(z.dtype)


class _SinkhornDivergence(torch.autograd.Function):
    """:func:`sinkhorn_terms` as a differentiable function of ``z``."""

    @staticmethod
    def forward(ctx, z, codes, n_groups, reg, n_iter, relative_reg):
        value, _, gradient = sinkhorn_terms(
            z, codes, n_groups, reg=reg, n_iter=n_iter, relative_reg=relative_reg
        )
        ctx.save_for_backward(gradient)
        return value.to(z.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (gradient,) = ctx.saved_tensors
        return grad_output * gradient, None, None, None, None, None


def group_sinkhorn(z, codes, n_groups, *, reg=0.1, n_iter=10):
    """:func:`sinkhorn_terms`'s value as a differentiable function of ``z``.

    Returns
    -------
    value : Tensor of shape ()
        The mean debiased Sinkhorn divergence over the pairs of groups
        present in the batch.
    """
    return _SinkhornDivergence.apply(z, codes, n_groups, float(reg), int(n_iter), True)


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
    entropic cost. The gradient holds the plans fixed (envelope theorem).

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
    >>> from fairrep.representation import sinkhorn_divergence
    >>> x = torch.zeros(4, 2)
    >>> float(sinkhorn_divergence(x, x))
    0.0
    >>> round(float(sinkhorn_divergence(x, x + 1.0)), 3)
    2.0
    """
    points = torch.cat([x, y])
    codes = torch.zeros(points.shape[0], dtype=torch.int64, device=points.device)
    codes[x.shape[0]:] = 1
    return _SinkhornDivergence.apply(points, codes, 2, float(reg), int(n_iter), False)
