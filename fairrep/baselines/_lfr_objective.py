"""The LFR objective of Zemel et al. (2013) in torch, and its chunked evaluation.

:func:`lfr_objective` is ``A_x L_x + A_y L_y + A_z L_z`` (Zemel et al., 2013,
eqs. 1-7, generalised to several classes and groups as :class:`~fairrep.baselines.LFR`
describes). Its parts are sums over rows, so the whole training set can be
evaluated a chunk of rows at a time with memory bounded by a chunk.
"""

import warnings

import numpy as np
import torch

__all__ = [
    "chunked_memberships",
    "chunked_objective",
    "column_spread",
    "lfr_objective",
    "shared_tensor",
]

# Keeps log(p) finite when a prototype mixture gives a class zero probability.
_EPS = float(np.finfo(np.float64).eps)
# Rows per chunk where LFR walks the whole training set (initial spread, final
# objective, transform): bounds the float64 temporaries to a chunk.
_CHUNK_ROWS = 65536


def _memberships(X, prototypes):
    """Softmax over negative Euclidean distances: M[n, k] = P(Z = k | x_n)."""
    # Computed as (K, n) and softmaxed over dim 0: the reduction runs over
    # contiguous memory, several times faster on CPU than over a short last dim.
    return torch.softmax(-torch.cdist(prototypes, X), dim=0).T


def _parity_matrix(group_codes, n_groups, fairness_reference, dtype):
    """(n_samples, n_terms) matrix B such that M.T @ B holds every L_z difference.

    Column j of ``M.T @ B`` is, for ``"pairs"``, ``Mbar_g - Mbar_h`` for the j-th
    pair of groups present and, for ``"pool"``, ``Mbar_g - Mbar`` for the j-th group
    present, ``Mbar`` being the mean over every sample with a known group. Groups
    absent from the rows (a mini-batch may miss one) and samples with an unknown
    group (code -1) get no weight. Returns None when fewer than two groups are
    present (L_z = 0). Built once, it turns L_z into one matrix product.
    """
    device = group_codes.device
    onehot = (
        group_codes[None, :] == torch.arange(n_groups, device=device)[:, None]
    ).to(dtype)
    counts = onehot.sum(dim=1)
    present = counts > 0
    if int(present.sum()) < 2:
        return None
    averaging = onehot[present] / counts[present, None]
    if fairness_reference == "pairs":
        first, second = torch.triu_indices(
            len(averaging), len(averaging), offset=1, device=device
        )
        return (averaging[first] - averaging[second]).T.contiguous()
    pooled = onehot[present].sum(dim=0) / counts[present].sum()
    return (averaging - pooled).T.contiguous()



class _Objective:
    """The LFR objective on fixed rows, with everything not depending on (V, w) precomputed.

    Works in the (n_prototypes, n_samples) layout: the softmax over prototypes
    and the reductions then run over contiguous memory. With S = V X^T, the
    squared distances are ``|x|^2 - 2 S + |v|^2`` and the reconstruction error
    ``sum_n |M_n V - x_n|^2 = sum(M^T * (V V^T) M^T) - 2 sum(M^T * S) + |X|^2``, so
    no (n_samples, n_features) intermediate is formed. Autograd differentiates it.

    ``parity`` passes the rows' slice of a :func:`_parity_matrix` built on more
    rows than these (the whole training set, when the objective is summed over
    chunks by :func:`chunked_objective`); by default it is built on these rows.
    """

    def __init__(
        self,
        X,
        y_codes,
        group_codes,
        *,
        n_groups,
        reconstruct_weight,
        target_weight,
        fairness_weight,
        fairness_reference="pairs",
        parity="rows",
    ):
        self.X_T = X.T.contiguous()
        self.sq_norms = X.pow(2).sum(dim=1)
        self.total_sq_norm = self.sq_norms.sum()
        self.shape = tuple(X.shape)
        self.y_codes = y_codes[None, :]
        if isinstance(parity, str):
            parity = _parity_matrix(group_codes, n_groups, fairness_reference, X.dtype)
        self.parity = parity
        self.weights = (reconstruct_weight, target_weight, fairness_weight)

    def sums(self, prototypes, class_logits):
        """The objective's additive parts over these rows.

        Returns ``(squared_error, log_loss, gaps)``: the reconstruction's
        summed squared error, the summed cross-entropy of the predictions,
        and ``M^T B`` of shape (n_prototypes, n_terms) (None without L_z),
        each a sum over the rows, so parts of disjoint rows add up to the
        whole set's.
        """
        S = prototypes @ self.X_T  # (K, n)
        squared = (self.sq_norms - 2 * S) + prototypes.pow(2).sum(dim=1)[:, None]
        # The floor keeps the gradient of sqrt finite where a prototype sits on
        # a sample (the expansion can round a zero distance below zero).
        floor = torch.finfo(squared.dtype).tiny
        M_T = torch.softmax(-squared.clamp_min(floor).sqrt(), dim=0)
        gram = prototypes @ prototypes.T
        squared_error = (
            ((gram @ M_T) * M_T).sum() - 2 * (M_T * S).sum() + self.total_sq_norm
        )
        proba_T = torch.softmax(class_logits, dim=1).T @ M_T  # (n_classes, n)
        picked = proba_T.gather(0, self.y_codes)
        log_loss = -torch.log(picked.clamp_min(_EPS)).sum()
        gaps = None if self.parity is None else M_T @ self.parity
        return squared_error, log_loss, gaps

    def __call__(self, prototypes, class_logits):
        return _combine(self.sums(prototypes, class_logits), self.shape, self.weights)


def _combine(sums, shape, weights):
    """``(total, (L_x, L_y, L_z))`` from the additive parts over ``shape`` rows x columns."""
    squared_error, log_loss, gaps = sums
    n_samples, n_features = shape
    reconstruction = squared_error / (n_samples * n_features)
    prediction = log_loss / n_samples
    parity = log_loss.new_zeros(()) if gaps is None else gaps.abs().mean()
    ax, ay, az = weights
    total = ax * reconstruction + ay * prediction + az * parity
    return total, (reconstruction, prediction, parity)


def shared_tensor(X, device):
    """A tensor over ``X``'s memory (float32 or float64) where it can be, on ``device``.

    Read-only (memory-mapped) arrays are shared too: the tensor is only read.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        tensor = torch.as_tensor(X)
    return tensor.to(device)


def _float64_rows(X, start, stop):
    """Rows ``start:stop`` of a tensor, as float64 (a copy of those rows only)."""
    return X[start:stop].to(torch.float64)


def _row_chunks(X, chunk_rows=None):
    """``(start, stop, rows)`` over ``X``, the rows cast to float64 chunk by chunk.

    ``chunk_rows=None`` reads ``_CHUNK_ROWS`` at call time.
    """
    chunk_rows = _CHUNK_ROWS if chunk_rows is None else chunk_rows
    for start in range(0, X.shape[0], chunk_rows):
        stop = min(start + chunk_rows, X.shape[0])
        yield start, stop, _float64_rows(X, start, stop)


@torch.no_grad()
def chunked_objective(X, y_codes, group_codes, prototypes, class_logits, *,
                      n_groups, reconstruct_weight, target_weight, fairness_weight,
                      fairness_reference="pairs", chunk_rows=None):
    """:func:`lfr_objective` on all rows, evaluated ``chunk_rows`` rows at a time.

    The same value as one evaluation on every row (its parts are sums over
    rows, and the L_z matrix is built on all of them), with memory bounded by
    a chunk: ``X`` may be float32 (the rows are cast chunk by chunk) and is
    never copied whole.
    """
    parity = _parity_matrix(group_codes, n_groups, fairness_reference, torch.float64)
    weights = (reconstruct_weight, target_weight, fairness_weight)
    totals = None
    for start, stop, rows in _row_chunks(X, chunk_rows):
        part = _Objective(
            rows, y_codes[start:stop], None, n_groups=n_groups,
            reconstruct_weight=reconstruct_weight, target_weight=target_weight,
            fairness_weight=fairness_weight,
            parity=None if parity is None else parity[start:stop],
        ).sums(prototypes, class_logits)
        totals = part if totals is None else tuple(
            None if a is None else a + b for a, b in zip(totals, part)
        )
    return _combine(totals, tuple(X.shape), weights)


def column_spread(X, chunk_rows=None):
    """Column standard deviations (float64 NumPy), a chunk of rows at a time."""
    n_samples = X.shape[0]
    total = torch.zeros(X.shape[1], dtype=torch.float64, device=X.device)
    for _, _, rows in _row_chunks(X, chunk_rows):
        total += rows.sum(dim=0)
    mean = total / n_samples
    spread = torch.zeros_like(total)
    for _, _, rows in _row_chunks(X, chunk_rows):
        spread += (rows - mean).pow(2).sum(dim=0)
    return (spread / n_samples).sqrt().cpu().numpy()


def chunked_memberships(X, prototypes, chunk_rows=None):
    """:func:`_memberships` of every row of ``X`` (NumPy), a chunk of rows at a time.

    No float64 copy of all of ``X`` is made.
    """
    M = np.empty((X.shape[0], prototypes.shape[0]), dtype=np.float64)
    for start, stop, rows in _row_chunks(X, chunk_rows):
        M[start:stop] = _memberships(rows, prototypes).numpy()
    return M


def lfr_objective(
    X,
    y_codes,
    group_codes,
    prototypes,
    class_logits,
    *,
    n_groups,
    reconstruct_weight,
    target_weight,
    fairness_weight,
    fairness_reference="pairs",
):
    """The LFR objective ``A_x L_x + A_y L_y + A_z L_z`` of Zemel et al. (2013).

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
    y_codes : torch.Tensor of int64 of shape (n_samples,)
        Class index of each sample.
    group_codes : torch.Tensor of int64 of shape (n_samples,)
        Group index of each sample, ``-1`` where unknown.
    prototypes : torch.Tensor of shape (n_prototypes, n_features)
        The prototype locations v_k.
    class_logits : torch.Tensor of shape (n_prototypes, n_classes)
        Per-prototype logits; their softmax is the prototype's class
        distribution w_k.
    n_groups : int
    reconstruct_weight, target_weight, fairness_weight : float
        A_x, A_y, A_z.
    fairness_reference : {"pairs", "pool"}, default="pairs"
        How L_z compares the groups' mean memberships (see :class:`LFR`).

    Returns
    -------
    total : torch.Tensor (scalar)
    terms : tuple of three torch.Tensor
        (L_x, L_y, L_z), unweighted.
    """
    objective = _Objective(
        X,
        y_codes,
        group_codes,
        n_groups=n_groups,
        reconstruct_weight=reconstruct_weight,
        target_weight=target_weight,
        fairness_weight=fairness_weight,
        fairness_reference=fairness_reference,
    )
    return objective(prototypes, class_logits)
