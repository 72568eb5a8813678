"""The labels of stage 2: one column of ``Y`` per perspective (section 2.2.3)."""

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import check_classification_targets

from ..utils._validation import _sorted_unique, is_missing

__all__ = ["check_targets", "encode_targets", "group_conditions", "label_array",
           "perspective_column", "resolve_perspective"]


def label_array(values):
    """Non-missing labels as a NumPy array whose dtype numpy infers (numbers stay numbers)."""
    values = list(values)
    if values and all(isinstance(v, str) for v in values):
        return np.asarray(values, dtype=object)
    return np.asarray(values)


def check_targets(Y, n_samples):
    """Validate ``Y``; return labels (n, P) object, missing mask, perspective names."""
    if Y is None:
        raise ValueError(
            "FairPer requires y to be passed, but the target y is None; give Y, "
            "one column of labels per perspective."
        )
    if isinstance(Y, pd.DataFrame):
        names = [str(column) for column in Y.columns]
        labels = Y.to_numpy(dtype=object)
    else:
        labels = np.asarray(Y, dtype=object)
        if labels.ndim == 1:
            labels = labels[:, None]
        if labels.ndim != 2:
            raise ValueError(
                "Y must be 1-D (one perspective) or 2-D of shape (n_samples, "
                f"n_perspectives); got an array of shape {np.shape(Y)}."
            )
        names = [str(index) for index in range(labels.shape[1])]
    if labels.shape[1] == 0:
        raise ValueError("Y has no column; expected one column per perspective.")
    if len(set(names)) != len(names):
        raise ValueError(
            f"Y's column names must be distinct perspectives; got {names}."
        )
    if labels.shape[0] != n_samples:
        raise ValueError(
            f"Y has {labels.shape[0]} rows but X has {n_samples} samples; they "
            "must have the same length."
        )
    missing = np.column_stack(
        [is_missing(labels[:, j]) for j in range(labels.shape[1])]
    )
    for j, name in enumerate(names):
        known = labels[~missing[:, j], j]
        if known.size == 0:
            raise ValueError(
                f"Y's column {name!r} has no label (every value is missing); each "
                "perspective needs labelled samples."
            )
        check_classification_targets(label_array(known))
    return labels, missing, names


def encode_targets(labels, missing):
    """``(classes, codes)``: the sorted labels of every perspective, and ``labels``
    as codes into them with -1 where ``missing``; at least two classes."""
    known_labels = label_array(labels[~missing])
    classes = label_array(_sorted_unique(known_labels))
    if classes.shape[0] < 2:
        raise ValueError(
            "Y must contain at least two classes over all perspectives; got "
            f"one class: {classes.tolist()}."
        )
    lookup = {value: code for code, value in enumerate(classes.tolist())}
    codes = np.full(labels.shape, -1, dtype=np.int64)
    codes[~missing] = [lookup[value] for value in known_labels.tolist()]
    return classes, codes


def perspective_column(y, perspectives, index):
    """The 1-D labels of perspective ``index`` from a 1-D ``y`` or a 2-D ``Y``."""
    if isinstance(y, pd.DataFrame):
        if list(map(str, y.columns)) != perspectives:
            raise ValueError(
                f"y's columns {list(y.columns)} differ from the learned "
                f"perspectives {perspectives}."
            )
        y = y.to_numpy(dtype=object)
    y = np.asarray(y, dtype=object)
    if y.ndim == 2 and y.shape[1] == len(perspectives):
        y = y[:, index]
    elif y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            "y must be 1-D (labels of the current perspective) or 2-D with "
            f"one column per perspective ({len(perspectives)}); got "
            f"shape {y.shape}."
        )
    return y


def resolve_perspective(names, value, argument="perspective"):
    """The index in ``names`` of perspective ``value`` (None: the last), or raise."""
    if value is None:
        return len(names) - 1
    if not isinstance(value, str) or value not in names:
        raise ValueError(
            f"{argument}={value!r} is not a learned perspective; expected one "
            f"of {list(names)} (or None for the last, {names[-1]!r})."
        )
    return names.index(value)


def group_conditions(groups, names, triplet_weight):
    """The perspective (index into ``names``) that names each group.

    Each triplet is scored under the mask of its anchor's group
    (Veit et al., 2017), so with ``triplet_weight > 0`` every group must
    be the name of a column of ``Y``; otherwise the group gets -1.
    """
    if groups is None:
        return None
    conditions = [names.index(str(g)) if str(g) in names else -1 for g in groups]
    unnamed = [g for g, c in zip(groups, conditions) if c < 0]
    if unnamed and triplet_weight > 0:
        raise ValueError(
            f"sensitive_features has groups {[str(g) for g in unnamed]} that name "
            f"no perspective among Y's columns {list(names)}. Each triplet is "
            "scored under the perspective of its anchor's group (conditional "
            "similarity, Veit et al. 2017): name Y's columns after the groups "
            "(a DataFrame, as fairrep.perspective.perspective_targets returns), "
            "or set triplet_weight=0."
        )
    return conditions
