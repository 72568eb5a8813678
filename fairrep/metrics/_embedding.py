"""How far apart the groups' embeddings are, on a scale that does not depend on the embedding's."""

import numpy as np
from scipy.spatial.distance import cdist

from ..utils._validation import check_sensitive_features

__all__ = ["group_energy_distance"]


def group_energy_distance(X, *, sensitive_features, max_samples=2000, random_state=0):
    r"""Scale-free energy distance between the groups' rows of ``X``.

    For two groups :math:`a, b`, the energy distance
    :math:`2\,\mathbb{E}\lVert x_a - x_b\rVert - \mathbb{E}\lVert x_a - x_a'\rVert
    - \mathbb{E}\lVert x_b - x_b'\rVert` (zero exactly when the two
    distributions are equal) divided by the mean distance between any two
    rows, so that rescaling, shrinking or collapsing ``X`` does not lower
    it: a diagnostic of whether a representation is free of the group (the
    goal of :math:`L_D` in eq. 1 of Chien & Lee, section 2.2.2) that an
    optimiser cannot game through the embedding's scale. With more than two
    groups, the largest value over pairs of groups.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The representation, e.g. :meth:`fairrep.FairRep.transform`.
    sensitive_features : array-like of shape (n_samples,)
        Group of each row; missing (None/NaN) rows are left out.
    max_samples : int, default=2000
        Rows drawn per group at most (the distances are quadratic in it).
    random_state : int, default=0
        Seeds that draw.

    Returns
    -------
    distance : float
        0 for identical groups (up to sampling); 0.0 when every row is the
        same point.

    Examples
    --------
    >>> import numpy as np
    >>> from fairrep.metrics import group_energy_distance
    >>> X = np.random.RandomState(0).normal(size=(400, 3))
    >>> groups = np.repeat(["a", "b"], 200)
    >>> shifted = X + np.where(groups == "a", 2.0, 0.0)[:, None]
    >>> group_energy_distance(X, sensitive_features=groups) < 0.02
    True
    >>> round(group_energy_distance(shifted, sensitive_features=groups), 3) == round(
    ...     group_energy_distance(1e-3 * shifted, sensitive_features=groups), 3)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}.")
    labels, missing = check_sensitive_features(sensitive_features, X.shape[0], min_groups=2)
    labels = np.asarray(labels, dtype=object)
    rng = np.random.RandomState(random_state)
    groups = {}
    for value in sorted({str(v) for v in labels[~missing]}):
        rows = np.flatnonzero(~missing & (labels.astype(str) == value))
        if rows.shape[0] > max_samples:
            rows = rng.choice(rows, max_samples, replace=False)
        groups[value] = X[rows]
    names = list(groups)
    pooled = np.vstack(list(groups.values()))
    scale = cdist(pooled, pooled).mean()
    if scale <= 0:
        return 0.0
    values = []
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = groups[first], groups[second]
            values.append(2 * cdist(a, b).mean() - cdist(a, a).mean() - cdist(b, b).mean())
    return float(max(values) / scale)
