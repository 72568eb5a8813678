"""Checks of ``y`` and of the groups shared by the baselines and the adapters."""

from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets

from ..utils import check_sensitive_features, encode_groups

__all__ = ["encode_classes", "encode_required_groups"]


def encode_classes(estimator, y, *, binary_only=False):
    """Encode class labels as ``0..C-1`` and set ``estimator.classes_``.

    Parameters
    ----------
    estimator : estimator
        Receives ``classes_``; its class name appears in the errors.
    y : array-like of shape (n_samples,)
    binary_only : bool, default=False
        Refuse more than two classes.

    Returns
    -------
    y_codes : ndarray of int of shape (n_samples,)

    Raises
    ------
    ValueError
        With fewer than two classes, or more than two when ``binary_only``.
    """
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    estimator.classes_ = encoder.classes_
    n_classes = len(encoder.classes_)
    if n_classes < 2:
        raise ValueError(
            f"y must contain at least 2 classes; got {n_classes} class(es): "
            f"{encoder.classes_.tolist()}."
        )
    if binary_only and n_classes != 2:
        raise ValueError(
            f"Only binary classification is supported: {type(estimator).__name__} "
            f"handles binary y only; got {n_classes} classes: "
            f"{encoder.classes_.tolist()}."
        )
    return encoder.transform(y)


def encode_required_groups(estimator, sensitive_features, n_samples, *, binary_only=False):
    """Validate groups (none missing, at least two), set ``groups_``, return codes.

    Parameters
    ----------
    estimator : estimator
        Receives ``groups_``; its class name appears in the errors.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
    n_samples : int
    binary_only : bool, default=False
        Require exactly two groups.

    Returns
    -------
    codes : ndarray of int of shape (n_samples,)
        Index of each sample's group in ``groups_``.
    """
    groups, missing = check_sensitive_features(
        sensitive_features, n_samples, allow_missing=False, min_groups=2
    )
    codes, estimator.groups_ = encode_groups(groups, missing)
    if binary_only and len(estimator.groups_) != 2:
        raise ValueError(
            f"{type(estimator).__name__} handles exactly 2 groups in "
            f"sensitive_features; got {len(estimator.groups_)}: "
            f"{estimator.groups_.tolist()}."
        )
    return codes
