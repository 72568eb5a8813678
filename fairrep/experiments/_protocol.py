"""The paper's stage-1 evaluation protocol (section 3.1, Exp1) as reusable code."""

import inspect
import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import LeaveOneGroupOut

from ..metrics import statistical_parity_score
from ..utils._validation import is_missing

__all__ = ["per_class_f1", "run_stage1", "session_folds", "summarize"]

EVALUATION_SETS = ("All", "S1", "S2")


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


def session_folds(sessions):
    """Session-independent folds: each session is the test set once.

    Parameters
    ----------
    sessions : array-like of shape (n_samples,)
        Session (or, for corpora without sessions, speaker) of each sample.

    Returns
    -------
    folds : list of (train_index, test_index, held_out_session)
    """
    sessions = np.asarray(sessions, dtype=object)
    if len(pd.unique(sessions)) < 2:
        raise ValueError(
            "sessions must contain at least 2 distinct values for session-independent "
            "cross-validation."
        )
    splitter = LeaveOneGroupOut()
    return [
        (train, test, sessions[test[0]])
        for train, test in splitter.split(sessions, groups=sessions)
    ]


def run_stage1(
    methods,
    X,
    split,
    sessions,
    *,
    folds=None,
    progress=None,
):
    """Exp1 of the paper: train on the truth, score F1 on All/S1/S2 and parity on S2.

    Every method is fitted on the same session-independent training folds,
    with the truth labels as target and, as sensitive feature, the
    perspective group of the S2 items (missing for S1 items, so that they
    count in the task loss only: the adversary is trained on S2, section
    2.2.2).

    Parameters
    ----------
    methods : dict of str to estimator
        Unfitted estimators with ``fit(X, y, *, sensitive_features=None)`` and
        ``predict``; cloned per fold. An estimator whose ``fit`` has no
        ``sensitive_features`` argument is fitted without it.
    X : array-like of shape (n_items, n_features)
        Features, one row per item, aligned with ``split``.
    split : pandas.DataFrame
        Output of :func:`fairrep.raters.perspective_split` for the same items
        (columns ``truth``, ``subset``, ``perspective``). Only S1 and S2
        items are used, as in the paper.
    sessions : array-like of shape (n_items,)
        Session of each item, for leave-one-session-out folds.
    folds : int, default=None
        Use only the first ``folds`` sessions as test folds (all when None).
    progress : callable, default=None
        Called with a message string after each fit.

    Returns
    -------
    f1 : pandas.DataFrame
        Long table: fold, method, class, set (All/S1/S2), f1.
    parity : pandas.DataFrame
        Long table: fold, method, class, statistical_parity (on S2 items,
        groups = perspective group).
    fit_times : pandas.DataFrame
        fold, session, method, seconds, never_predicted (comma-separated
        classes the method never predicted on the fold's test items: a
        degenerate model whose zero parity gap on them means nothing).

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.1, Tables 1 and 2.
    """
    X = np.asarray(X)
    if X.shape[0] != len(split):
        raise ValueError(
            f"X has {X.shape[0]} rows but split has {len(split)} items; they must be "
            "aligned (one row per item)."
        )
    sessions = np.asarray(sessions, dtype=object)
    used = split["subset"].isin(["S1", "S2"]).to_numpy()
    X, sessions = X[used], sessions[used]
    split = split.loc[used]
    truth = split["truth"].to_numpy(dtype=object)
    subset = split["subset"].to_numpy(dtype=object)
    perspective = split["perspective"].to_numpy(dtype=object)
    # S2 items with several (or no) matching groups have no single perspective.
    single = ~is_missing(perspective) & np.array(
        ["," not in str(value) for value in perspective]
    )
    sensitive = np.where((subset == "S2") & single, perspective, None)
    labels = sorted(pd.unique(truth).tolist())

    all_folds = session_folds(sessions)
    if folds is not None:
        all_folds = all_folds[:folds]
    f1_rows, parity_rows, time_rows = [], [], []
    for fold, (train, test, held_out) in enumerate(all_folds):
        for name, estimator in methods.items():
            model = clone(estimator)
            start = time.perf_counter()
            if _accepts_sensitive_features(model):
                model.fit(X[train], truth[train], sensitive_features=sensitive[train])
            else:
                model.fit(X[train], truth[train])
            seconds = time.perf_counter() - start
            prediction = np.asarray(model.predict(X[test]), dtype=object)
            # A class the model never predicts gets a parity gap of 0 for free:
            # say so next to the numbers instead of letting it pass as fairness.
            never = [label for label in labels if not (prediction == label).any()]
            time_rows.append({
                "fold": fold, "session": held_out, "method": name, "seconds": seconds,
                "never_predicted": ",".join(map(str, never)),
            })
            for set_name in EVALUATION_SETS:
                rows = np.ones(len(test), bool) if set_name == "All" else subset[test] == set_name
                scores = per_class_f1(truth[test][rows], prediction[rows], labels=labels)
                f1_rows += [
                    {"fold": fold, "method": name, "class": label, "set": set_name, "f1": value}
                    for label, value in scores.items()
                ]
            on_s2 = (subset[test] == "S2") & ~is_missing(sensitive[test])
            if len(pd.unique(sensitive[test][on_s2])) >= 2:
                gaps = statistical_parity_score(
                    truth[test][on_s2],
                    prediction[on_s2],
                    sensitive_features=sensitive[test][on_s2],
                    labels=labels,
                )
                parity_rows += [
                    {"fold": fold, "method": name, "class": label, "statistical_parity": gap}
                    for label, gap in zip(labels, gaps)
                ]
            if progress is not None:
                progress(f"fold {fold + 1}/{len(all_folds)} (session {held_out}): {name} fitted in {seconds:.1f} s")
    return pd.DataFrame(f1_rows), pd.DataFrame(parity_rows), pd.DataFrame(time_rows)


def _accepts_sensitive_features(estimator):
    return "sensitive_features" in inspect.signature(estimator.fit).parameters


def summarize(frame, value, *, index, columns="method", decimals=3):
    """Fold-wise mean and standard deviation as a wide table of "mean ± std" strings.

    Parameters
    ----------
    frame : pandas.DataFrame
        A long result table from :func:`run_stage1`.
    value : str
        The column to aggregate (e.g. ``"f1"``).
    index : list of str
        Row keys (e.g. ``["class", "set"]``).
    columns : str, default="method"
        Column key.
    decimals : int, default=3

    Returns
    -------
    mean : pandas.DataFrame
        Fold-wise means (numbers), rows ``index``, columns ``columns``.
    text : pandas.DataFrame
        The same cells written as ``"mean ± std"``.
    """
    grouped = frame.groupby(index + [columns], sort=False)[value]
    mean = grouped.mean().unstack(columns)
    std = grouped.std(ddof=0).unstack(columns)
    order = list(pd.unique(frame[columns]))
    mean, std = mean[order], std[order]
    text = mean.round(decimals).astype(str) + " ± " + std.round(decimals).astype(str)
    return mean, text
