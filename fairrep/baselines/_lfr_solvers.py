"""The two optimisers of :class:`~fairrep.baselines.LFR`: full-batch L-BFGS, mini-batch Adam.

Both update ``params`` (the prototypes and the class logits) in place and
return the number of iterations (L-BFGS) or epochs (Adam) they ran.
"""

import numpy as np
import torch

from ._lfr_objective import _Objective, lfr_objective

__all__ = ["fit_adam", "fit_lbfgs"]

# L-BFGS also stops once this many objective evaluations in a row have lowered
# the best objective by less than _LBFGS_RTOL of its value (see LFR's
# ``solver``). On arrests, german and the synthetic set (8 seeds each) a window
# of 80 ends the long tails of tiny steps along the kinks of L_z without
# changing the objective reached; 50 lost up to 4% on some synthetic seeds.
_LBFGS_WINDOW = 80
_LBFGS_RTOL = 1e-4


class _Stalled(Exception):
    """Raised inside the L-BFGS closure to end the optimisation."""


def fit_lbfgs(X, y, groups, params, settings, *, max_iter, tol):
    """Minimise the objective on all rows with restarted L-BFGS.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
        Copied to float64 once: every evaluation needs all rows.
    y, groups : torch.Tensor of int64 of shape (n_samples,)
        Class and group codes (``-1`` for an unknown group).
    params : tuple of torch.Tensor
        ``(prototypes, class_logits)``, leaves requiring gradients; left at
        the best values evaluated.
    settings : dict
        The keyword arguments of :func:`~._lfr_objective.lfr_objective`.
    max_iter : int
    tol : float
        Stop once the largest gradient entry falls below it.

    Returns
    -------
    n_iter : int
    """
    objective = _Objective(X.to(torch.float64), y, groups, **settings)
    best = {"loss": np.inf, "values": None}
    trail = []  # best objective after each evaluation

    def closure():
        optimizer.zero_grad()
        total, _ = objective(*params)
        total.backward()
        loss = total.item()
        if loss < best["loss"]:
            best["loss"] = loss
            best["values"] = [p.detach().clone() for p in params]
        trail.append(best["loss"])
        if len(trail) > _LBFGS_WINDOW and trail[-_LBFGS_WINDOW - 1] - best[
            "loss"
        ] <= _LBFGS_RTOL * max(1.0, abs(best["loss"])):
            raise _Stalled
        return total

    # |.| in L_z makes the objective non-smooth: the gradient does not vanish
    # at the minimum, L-BFGS crawls along the kinks, and the strong-Wolfe line
    # search can fail far from a minimum, which ends torch's L-BFGS early.
    # Restart it (dropping the curvature history) while restarts still make
    # progress, and stop from inside the closure once the objective stalls.
    n_iter, previous = 0, np.inf
    while n_iter < max_iter:
        optimizer = torch.optim.LBFGS(
            params,
            lr=1.0,
            max_iter=max_iter - n_iter,
            max_eval=2 * (max_iter - n_iter),
            tolerance_grad=tol,
            tolerance_change=1e-12,
            history_size=20,
            line_search_fn="strong_wolfe",
        )
        try:
            optimizer.step(closure)
            stalled = False
        except _Stalled:
            stalled = True
        n_iter += max(int(optimizer.state[params[0]].get("n_iter", 0)), 1)
        if stalled:
            break
        loss = best["loss"]
        gradient = max(float(p.grad.abs().max()) for p in params)
        if gradient <= tol or previous - loss <= 1e-9 * max(1.0, abs(loss)):
            break
        previous = loss
    # The line search may have left the parameters at a trial point.
    if best["values"] is not None:
        with torch.no_grad():
            for param, value in zip(params, best["values"]):
                param.copy_(value)
    return n_iter


def fit_adam(X, y, groups, params, settings, rng, *, max_iter, tol, learning_rate,
             batch_size):
    """Minimise the objective with mini-batch Adam.

    The rows of a batch are cast to float64 per batch, so a float32 (or
    memory-mapped) ``X`` is never copied whole. Stops after ``max_iter``
    epochs, or once the epoch loss has improved by less than ``tol`` for 10
    epochs in a row.

    Parameters
    ----------
    X, y, groups, params, settings
        As for :func:`fit_lbfgs`.
    rng : numpy.random.RandomState
        Draws the batch order.
    max_iter : int
        Epochs.
    tol, learning_rate : float
    batch_size : int

    Returns
    -------
    n_epochs : int
    """
    optimizer = torch.optim.Adam(list(params), lr=learning_rate)
    n_samples = X.shape[0]
    best, stale, epoch = np.inf, 0, 0
    for epoch in range(1, max_iter + 1):
        order = torch.as_tensor(rng.permutation(n_samples), device=X.device)
        running = 0.0
        for start in range(0, n_samples, batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            rows = torch.index_select(X, 0, batch).to(torch.float64)
            total, _ = lfr_objective(rows, y[batch], groups[batch], *params, **settings)
            total.backward()
            optimizer.step()
            running += total.item() * len(batch)
        running /= n_samples
        stale = stale + 1 if best - running < tol else 0
        best = min(best, running)
        if stale >= 10:
            break
    return epoch
