"""The paper's evaluation protocol (section 3.1) as reusable code: Exp1 and Exp2.

:func:`run_stage1` (Exp1, Tables 1 and 2) and :func:`run_stage2` (Exp2,
Tables 3 and 4) run the study's units (:mod:`fairrep.experiments._units`)
on session-independent folds of one perspective split and return the long
result tables; :func:`summarize` gives their fold means.
"""

import pandas as pd

from ._data import StudyData, session_folds
from ._runner import FoldOptions, StudyPlan, collect, run_folds
from ._scores import per_class_f1
from ._store import ResultStore

__all__ = ["per_class_f1", "run_stage1", "run_stage2", "session_folds", "summarize"]

#: The evaluation sets of Table 1.
EVALUATION_SETS = ("All", "S1", "S2")


def _check_methods(methods):
    if not isinstance(methods, dict) or not methods:
        raise ValueError(
            "methods must be a non-empty dict of name -> estimator; got "
            f"{type(methods).__name__}."
        )


def _run(plan, X, split, sessions, folds, n_neighbors, progress):
    """The plan's units on the first ``folds`` session folds; the long tables."""
    data = StudyData.from_split(X, split, sessions)
    all_folds = session_folds(data.sessions)
    if folds is not None:
        all_folds = all_folds[:folds]

    def say(message):
        if progress is not None and message:
            progress(message)

    records, _, _ = run_folds(all_folds, data, plan, ResultStore(),
                              FoldOptions(n_neighbors=n_neighbors), progress=say)
    return collect(records), all_folds


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
    _check_methods(methods)
    plan = StudyPlan(methods, stage1=list(methods))
    tables, all_folds = _run(plan, X, split, sessions, folds, 20, progress)
    times = tables["fit_seconds"][["fold", "session", "method", "seconds", "never_predicted"]]
    # The held-out session as the caller's ``sessions`` hold it.
    times = times.assign(session=[all_folds[fold][2] for fold in times["fold"]])
    return tables["stage1_f1"], tables["stage1_parity"], times


def run_stage2(methods, X, split, sessions, *, folds=None, n_neighbors=20, progress=None):
    """Exp2 of the paper: perspective labels (section 3.1/3.3, Tables 3 and 4).

    For every session-independent fold, each method learns the rater groups'
    perspectives and is scored, for each group, by the weighted F1 per class
    (one-vs-rest, as :func:`~fairrep.experiments.per_class_f1`) of its
    predictions under that group's perspective against that group's
    consensus labels (Table 3), and by the consistency score (k = 20) of the
    perspective groups in its embedding (Table 4).

    - A method with ``predict_all`` and a ``perspective`` parameter
      (:class:`~fairrep.FairPer`) is fitted once with ``Y`` = one column per
      group's consensus plus the truth (``"all"``, see
      :func:`~fairrep.perspective.perspective_targets`) and the perspective
      groups as ``sensitive_features`` (the triplets); its predictions and
      embedding under each group's perspective are scored.
    - Any other method (the paper's baselines) is fitted once per group, on
      that group's consensus labels (one model per perspective), with the
      perspective groups as ``sensitive_features`` when its ``fit`` takes
      them; its consistency is measured in each model's ``transform``.

    **Consistency** (Table 4): within each class (the truth), among the test
    items of the biased set S2 that have a single perspective group (the
    group whose consensus equals the truth), ``1 -`` the mean share of an
    item's k nearest neighbours in the embedding that belong to another
    group (:func:`~fairrep.metrics.consistency_score`), averaged over the
    perspectives' embeddings. Higher means samples of the same perspective
    group lie closer, as the paper reads it. ``k`` is capped at the number of
    such items minus one, halved (a neighbourhood of every item would score
    any embedding alike); a class with fewer than 5 of them or a single
    group gets no row.

    Parameters
    ----------
    methods : dict of str to estimator
        Unfitted estimators, cloned per fold (and per perspective).
    X : array-like of shape (n_items, n_features)
        Aligned with ``split``.
    split : pandas.DataFrame
        :func:`~fairrep.raters.perspective_split` of the same items; only S1
        and S2 items are used, as in the paper.
    sessions : array-like of shape (n_items,)
    folds : int, default=None
        Use only the first ``folds`` held-out sessions.
    n_neighbors : int, default=20
        k of the consistency score (the paper's k = 20).
    progress : callable, default=None
        Called with a message after each fit.

    Returns
    -------
    f1 : pandas.DataFrame
        Long table: fold, method, perspective, class, f1.
    consistency : pandas.DataFrame
        Long table: fold, method, perspective, class, consistency, n_items,
        n_neighbors.
    fit_times : pandas.DataFrame
        fold, session, stage, method, seconds, n_fits, never_predicted.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", sections 3.1 and 3.3, Tables 3 and 4.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from fairrep.datasets import make_rater_perspectives
    >>> from fairrep.experiments import run_stage2
    >>> from fairrep.raters import perspective_split
    >>> corpus = make_rater_perspectives(400, random_state=0)
    >>> split = perspective_split(corpus.ratings, truth=corpus.truth)
    >>> split = split.loc[corpus.item_info.index]
    >>> f1, consistency, times = run_stage2(
    ...     {"logistic": LogisticRegression(max_iter=200)}, corpus.data, split,
    ...     corpus.sessions, folds=1)
    >>> sorted(f1["perspective"].unique())
    ['female', 'male']
    """
    _check_methods(methods)
    plan = StudyPlan.split_stages(methods, stage1=False)
    tables, _ = _run(plan, X, split, sessions, folds, n_neighbors, progress)
    return tables["stage2_f1"], tables["consistency"], tables["fit_seconds"]


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
