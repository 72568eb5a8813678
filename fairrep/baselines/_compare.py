"""Fit fair classifiers on one split; tabulate accuracy, fairness and time."""

import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score

from ..metrics import consistency_score, statistical_parity_score

__all__ = ["compare_methods", "is_degenerate"]


def is_degenerate(y_pred):
    """Whether a classifier predicted a single class for every sample.

    A method that gives up on the task (a common outcome of a strong fairness
    weight) scores a perfect statistical parity of 0 and a consistency of 1;
    this flag keeps such a result from passing for a fair one.

    Parameters
    ----------
    y_pred : array-like of shape (n_samples,)
        Predicted labels.

    Returns
    -------
    degenerate : bool
        True when ``y_pred`` holds fewer than two distinct values.

    Examples
    --------
    >>> from fairrep.baselines import is_degenerate
    >>> is_degenerate([1, 1, 1])
    True
    >>> is_degenerate(["a", "b", "a"])
    False
    """
    y_pred = np.asarray(y_pred, dtype=object).ravel()
    if y_pred.shape[0] == 0:
        raise ValueError("y_pred is empty; expected at least one prediction.")
    return len(pd.unique(y_pred)) < 2


def compare_methods(
    methods,
    X_train,
    y_train,
    s_train,
    X_test,
    y_test,
    s_test,
    *,
    n_neighbors=20,
    average="max",
):
    """Fit each method on one training split and score it on one test split.

    Parameters
    ----------
    methods : dict of str -> estimator
        Classifiers with ``fit(X, y, *, sensitive_features=None)`` and
        ``predict``. Each is cloned before fitting. An estimator whose ``fit``
        has no ``sensitive_features`` argument (a plain scikit-learn model) is
        fitted without it.
    X_train, y_train, s_train : array-like
        Training features, labels and sensitive features.
    X_test, y_test, s_test : array-like
        Test features, labels and sensitive features.
    n_neighbors : int, default=20
        k of the consistency score (the paper's k = 20).
    average : {"macro", "weighted", "max"}, default="max"
        Reduction of the per-class parity gaps when ``y`` is multiclass.

    Returns
    -------
    table : pandas.DataFrame
        One row per method, indexed by name, with columns ``accuracy``,
        ``statistical_parity`` (lower is fairer, on the test groups),
        ``consistency`` (Zemel et al.'s yNN of the test predictions over the
        ``n_neighbors`` nearest test samples in the input space, higher is
        fairer), ``fit_time_s``, ``n_predicted_classes`` and ``degenerate``
        (a single predicted class; see :func:`is_degenerate`).

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.1 (statistical parity, and
       consistency with k = 20).
    """
    if not isinstance(methods, dict) or not methods:
        raise ValueError(
            "methods must be a non-empty dict mapping a name to an estimator; "
            f"got {type(methods).__name__}."
        )
    X_test_array = np.asarray(X_test, dtype=float)
    rows = {}
    for name, estimator in methods.items():
        if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
            raise TypeError(
                f"methods[{name!r}] must be an estimator with fit and predict; "
                f"got {type(estimator).__name__}."
            )
        model = clone(estimator)
        start = time.perf_counter()
        if _takes_sensitive_features(model):
            model.fit(X_train, y_train, sensitive_features=s_train)
        else:
            model.fit(X_train, y_train)
        fit_time = time.perf_counter() - start
        y_pred = np.asarray(model.predict(X_test))
        rows[name] = {
            "accuracy": accuracy_score(y_test, y_pred),
            "statistical_parity": statistical_parity_score(
                y_test, y_pred, sensitive_features=s_test, average=average
            ),
            "consistency": consistency_score(
                X_test_array, y_pred, n_neighbors=n_neighbors
            ),
            "fit_time_s": fit_time,
            "n_predicted_classes": len(pd.unique(y_pred.astype(object))),
            "degenerate": is_degenerate(y_pred),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _takes_sensitive_features(estimator):
    import inspect

    fit = estimator.fit
    return "sensitive_features" in inspect.signature(fit).parameters
