"""Group and individual fairness metrics used by the paper's evaluation (section 3.1)."""

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.multiclass import type_of_target

from ..utils._validation import (
    _sorted_unique,
    check_numeric_array,
    check_positive_int,
    check_same_length,
    check_sensitive_features,
)

__all__ = ["statistical_parity_score", "consistency_score"]

_AVERAGES = (None, "macro", "weighted", "max")


def _check_labels_1d(values, name):
    """Return ``values`` as a 1-D object array, rejecting missing entries."""
    array = np.asarray(values, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D of shape (n_samples,); got shape {array.shape}."
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty; expected at least one sample.")
    missing = pd.isna(pd.Series(array)).to_numpy()
    if missing.any():
        raise ValueError(
            f"{name} contains {int(missing.sum())} missing value(s) (None/NaN) at "
            f"positions {np.flatnonzero(missing)[:5].tolist()}...; every sample needs "
            "a label."
        )
    return array


def _rates_by_group(indicator, codes, n_groups):
    """Mean of a 0/1 indicator within each group code (0..n_groups-1)."""
    counts = np.bincount(codes, minlength=n_groups).astype(float)
    hits = np.bincount(codes, weights=indicator.astype(float), minlength=n_groups)
    return hits / counts


def statistical_parity_score(
    y_true,
    y_pred,
    *,
    sensitive_features,
    pos_label=None,
    average=None,
    labels=None,
):
    """Statistical parity: the largest gap in positive-prediction rate between groups.

    For a class ``c`` the score is
    ``max_{a, b} |P(y_pred = c | group = a) - P(y_pred = c | group = b)|``, i.e.
    the difference between the highest and the lowest group rate. Ideal value
    0. This is the stage-1 fairness measure of the paper (section 3.1, Table 2,
    after Yang & Stoyanovich 2017), computed there on the S2 items with the
    perspective group as the sensitive feature.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth labels. Only used to check lengths, to fix the set of
        classes (together with ``y_pred``) and for ``average="weighted"``.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
        Group of each sample; several columns form intersectional groups.
        Samples whose group is missing (None/NaN) are left out. At least two
        groups must remain.
    pos_label : label, default=None
        The class whose rate is compared. When None and the labels are binary,
        the gap is the same for either class and a float is returned; when
        None and the labels are multiclass, one gap per class (one-vs-rest) is
        computed and reduced by ``average``.
    average : {None, "macro", "weighted", "max"}, default=None
        Reduction of the per-class gaps (multiclass, ``pos_label=None`` only):
        None returns them all in the order of ``labels``; "macro" is their
        mean; "weighted" weighs each class by its support in ``y_true``;
        "max" is the worst class.
    labels : array-like, default=None
        The classes to report, in order. Default: the sorted union of the
        labels in ``y_true`` and ``y_pred``. A label that occurs in neither
        gets a gap of 0 (nobody is predicted it), which keeps per-class
        outputs aligned across cross-validation folds.

    Returns
    -------
    score : float or ndarray of shape (n_classes,)
        The gap, or the per-class gaps when ``average=None`` in the multiclass
        case.

    Raises
    ------
    ValueError
        On mismatched lengths, empty or missing labels, fewer than two groups
        with a known value, an unknown ``average`` or a ``pos_label`` that is
        neither in ``labels`` nor in the data.

    See Also
    --------
    fairlearn.metrics.demographic_parity_difference : the binary case.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.1, Table 2.
    .. [2] K. Yang and J. Stoyanovich, "Measuring fairness in ranked outputs",
       SSDBM 2017.

    Examples
    --------
    >>> from fairrep.metrics import statistical_parity_score
    >>> y_true = ["a", "b", "a", "b"]
    >>> y_pred = ["a", "a", "a", "b"]
    >>> statistical_parity_score(y_true, y_pred, sensitive_features=["m", "m", "f", "f"])
    0.5
    """
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}; got {average!r}.")
    y_true = _check_labels_1d(y_true, "y_true")
    y_pred = _check_labels_1d(y_pred, "y_pred")
    check_same_length(y_true=y_true, y_pred=y_pred)
    groups, missing = check_sensitive_features(
        sensitive_features, y_true.shape[0], min_groups=2
    )
    if labels is None:
        labels = _sorted_unique(np.concatenate([y_true, y_pred]))
    else:
        labels = _check_labels_1d(labels, "labels")
        if len(pd.unique(labels)) != len(labels):
            raise ValueError("labels must not contain duplicates.")
        unknown = set(pd.unique(y_pred).tolist()) - set(labels.tolist())
        if unknown:
            raise ValueError(
                f"y_pred contains labels {sorted(map(str, unknown))} that are not in "
                f"labels={labels.tolist()}."
            )

    keep = ~missing
    group_codes = pd.factorize(groups[keep])[0]
    n_groups = int(group_codes.max()) + 1
    kept_pred = y_pred[keep]

    def gap(label):
        rates = _rates_by_group(kept_pred == label, group_codes, n_groups)
        return float(rates.max() - rates.min())

    if pos_label is not None:
        if pos_label not in set(labels.tolist()):
            raise ValueError(
                f"pos_label={pos_label!r} is not a valid label; the labels are "
                f"{labels.tolist()}."
            )
        return gap(pos_label)
    if len(labels) <= 2:
        # |P(c|a) - P(c|b)| is the same for both classes of a binary problem.
        return gap(labels[0])
    gaps = np.array([gap(label) for label in labels])
    if average is None:
        return gaps
    if average == "macro":
        return float(gaps.mean())
    if average == "max":
        return float(gaps.max())
    support = np.array([(y_true == label).sum() for label in labels], dtype=float)
    return float(np.average(gaps, weights=support))


def consistency_score(X, y, *, n_neighbors=20, metric="minkowski"):
    """Consistency (individual fairness): do similar samples get similar labels?

    ``1 - mean_i |y_i - mean_{j in kNN(x_i)} y_j|`` with the ``n_neighbors``
    nearest neighbours of each sample, the sample itself excluded (Zemel et
    al. 2013). Ideal value 1.

    - Numeric ``y`` with more than two values (scores, probabilities) uses the
      formula as written.
    - Categorical ``y`` (binary, multiclass, strings: predictions or group
      labels) uses ``1 - mean_i (share of x_i's neighbours whose label differs
      from y_i)``; for labels in {0, 1} this is exactly the formula above.

    With ``y`` = predictions it measures individual fairness; with ``y`` = the
    rater-group (perspective) labels of samples in an embedding it measures
    how strongly same-group samples cluster, the paper's stage-2 use (section
    3.1, Table 4, k = 20).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Feature space or embedding in which neighbours are found.
    y : array-like of shape (n_samples,)
        Labels or scores to compare between neighbours.
    n_neighbors : int, default=20
        Number of neighbours, the sample itself not counted. Must be smaller
        than ``n_samples``.
    metric : str or callable, default="minkowski"
        Distance for :class:`sklearn.neighbors.NearestNeighbors` (Euclidean by
        default).

    Returns
    -------
    score : float
        In [0, 1] for categorical labels and for scores in [0, 1].

    Notes
    -----
    ``aif360.sklearn.metrics.consistency_score`` counts each sample among its
    own ``n_neighbors`` (default 5) neighbours; its value with ``k`` equals
    ``1 - (k - 1) / k * (1 - consistency_score(X, y, n_neighbors=k - 1))``
    for binary labels and duplicate-free X.

    References
    ----------
    .. [1] R. Zemel, Y. Wu, K. Swersky, T. Pitassi and C. Dwork, "Learning Fair
       Representations", ICML 2013.
    .. [2] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.1, Table 4.

    Examples
    --------
    >>> from fairrep.metrics import consistency_score
    >>> X = [[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]]
    >>> consistency_score(X, ["m", "m", "m", "f", "f", "f"], n_neighbors=2)
    1.0
    """
    check_positive_int(n_neighbors, "n_neighbors")
    X = check_numeric_array(X, owner="consistency_score", ensure_all_finite=True)
    y = _check_labels_1d(y, "y")
    check_same_length(X=X, y=y)
    if n_neighbors >= X.shape[0]:
        raise ValueError(
            f"n_neighbors={n_neighbors} must be smaller than the number of samples "
            f"({X.shape[0]}): each sample needs that many other samples."
        )
    neighbors = NearestNeighbors(n_neighbors=n_neighbors, metric=metric).fit(X)
    # kneighbors() without X leaves each sample out of its own neighbourhood.
    index = neighbors.kneighbors(return_distance=False)

    target_type = type_of_target(y.tolist() if y.dtype == object else y)
    if target_type == "continuous":
        values = y.astype(float)
        spread = np.abs(values - values[index].mean(axis=1))
        return float(1.0 - spread.mean())
    codes = pd.factorize(y)[0]
    disagreement = (codes[index] != codes[:, None]).mean(axis=1)
    return float(1.0 - disagreement.mean())
