"""The study's scores: weighted F1 per class, statistical parity, group consistency.

Each function turns one fold's predictions (or embedding) into rows of the
long result tables: Table 1 (F1 per class on All/S1/S2), Table 2
(statistical parity on S2), Table 3 (F1 under each rater group's
perspective) and Table 4 (consistency of the perspective groups).
"""

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from ..metrics import consistency_score, statistical_parity_score
from ..utils._validation import is_missing
from ._data import sorted_labels

__all__ = [
    "group_consistency",
    "neighbours",
    "per_class_f1",
    "perspective_scores",
    "stage1_scores",
    "time_row",
]


def per_class_f1(y_true, y_pred, *, labels):
    """Weighted F1 of each class as a one-vs-rest detector.

    The paper reports one weighted F1 per emotion (Table 1). fairrep trains
    one multiclass model and scores it per class: for class ``c`` the
    predictions and truth are binarised as ``c`` vs rest and the F1 of the
    two binary classes is averaged, weighted by their support.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like
        The classes to score, in output order.

    Returns
    -------
    scores : pandas.Series
        Weighted F1 in [0, 1] per class, indexed by ``labels``.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.1, Table 1.
    """
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    return pd.Series(
        [
            f1_score(y_true == label, y_pred == label, average="weighted", zero_division=0)
            for label in labels
        ],
        index=pd.Index(labels, name="class"),
    )


def neighbours(n_neighbors, n_items):
    """k, capped at half the items: a neighbourhood of (almost) every item
    would give the same consistency for any embedding."""
    return max(1, min(n_neighbors, (n_items - 1) // 2))


def group_consistency(embedding, truth, groups, labels, n_neighbors):
    """Per class: consistency of the perspective groups among that class's items.

    Table 4 of the paper: within each emotion, how many of an item's k = 20
    nearest neighbours in the embedding share its perspective group. Items
    without a group are left out; a class needs 5 items of 2 groups, and k is
    capped by :func:`neighbours`.
    """
    rows = []
    known = ~is_missing(groups)
    for label in labels:
        members = known & (truth == label)
        n_members = int(members.sum())
        if n_members < 5 or len(pd.unique(groups[members])) < 2:
            continue
        k = neighbours(n_neighbors, n_members)
        rows.append({
            "class": label,
            "consistency": consistency_score(
                np.asarray(embedding)[members], groups[members], n_neighbors=k
            ),
            "n_items": n_members,
            "n_neighbors": k,
        })
    return rows


def stage1_scores(data, test, prediction, fold, name):
    """F1 per class on every evaluation set and parity on S2 (Tables 1 and 2)."""
    f1_rows, parity_rows = [], []
    truth = data.truth[test]
    for set_name in data.sets:
        rows = np.ones(len(test), bool) if set_name == "All" else data.subset[test] == set_name
        if not rows.any():
            continue
        scores = per_class_f1(truth[rows], prediction[rows], labels=data.labels)
        f1_rows += [
            {"fold": fold, "method": name, "class": label, "set": set_name, "f1": value}
            for label, value in scores.items()
        ]
    on_parity = data.parity_rows(test)
    if len(pd.unique(data.sensitive[test][on_parity])) >= 2:
        labels = sorted_labels(set(data.labels) | set(pd.unique(prediction)))
        gaps = statistical_parity_score(
            truth[on_parity], prediction[on_parity],
            sensitive_features=data.sensitive[test][on_parity], labels=labels,
        )
        gaps = np.atleast_1d(gaps)
        if gaps.size == 1:  # two classes: one gap, the same for both
            gaps = np.repeat(gaps, len(labels))
        gaps = dict(zip(labels, gaps))
        parity_rows += [
            {"fold": fold, "method": name, "class": label,
             "statistical_parity": float(gaps[label])}
            for label in data.labels
        ]
    return f1_rows, parity_rows


def perspective_scores(data, test, predictions, fold, name):
    """F1 per class under each group's perspective against its consensus (Table 3)."""
    rows = []
    for group in predictions:
        target = data.consensus[group][test]
        known = ~is_missing(target)
        if not known.any():
            continue
        scores = per_class_f1(target[known], predictions[group][known], labels=data.labels)
        rows += [
            {"fold": fold, "method": name, "perspective": group, "class": label, "f1": value}
            for label, value in scores.items()
        ]
    return rows


def time_row(fold, held_out, stage, name, seconds, prediction, labels, n_fits=1):
    """The fit-time row of one unit, with the classes it never predicted.

    A class the model never predicts gets a parity gap of 0 for free: the
    report names it next to the numbers instead of letting it pass as fairness.
    """
    never = [label for label in labels if not (prediction == label).any()]
    return {
        "fold": fold, "session": str(held_out), "stage": stage, "method": name,
        "seconds": seconds, "n_fits": n_fits, "never_predicted": ",".join(map(str, never)),
    }
