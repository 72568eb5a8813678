"""The study's inner grid search of a fairness weight (section 3.1).

The paper grid-searches alpha and lambda over [0.01, 0.001] inside each
training fold. :func:`grid_search` runs that search with
:class:`~sklearn.model_selection.GridSearchCV`: inner folds grouped by
session, ``sensitive_features`` (and, for the paper's rule, each item's
subset S1/S2) routed by scikit-learn's metadata routing, and one of three
selection rules:

- ``"s1_f1"``: the highest weighted F1 on the S1 items of the inner
  validation folds (section 3.1: "performance must not drop on consensus
  data"); on a corpus without S1 (no ratings), on every item;
- ``"fair"``: the fairest candidate (lowest statistical parity) among those
  within :data:`F1_TOLERANCE` of the best weighted F1 on every item;
- ``"perspective_f1"``: the highest mean weighted F1 under the rater groups'
  perspectives (FairPer, Table 3's measure).

With ``warm_start=True`` an estimator that has a ``warm_start`` parameter
walks the grid in each inner fold: the first value is fitted from scratch,
each next one continues the previous one's network with the new weight
(fewer epochs under early stopping); the same folds, scorers and rules
decide, and the selected value is refitted from scratch on the whole fold.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import f1_score

from ..utils._validation import is_missing

#: The ``"fair"`` rule: among candidates whose inner-CV F1 is within this of
#: the best, the one with the lowest statistical parity wins.
F1_TOLERANCE = 0.02
#: Name of the ground-truth perspective in FairPer's targets.
TRUTH_PERSPECTIVE = "all"
#: The selection rules and what their ``mean_f1`` is measured on.
RULES = {
    "s1_f1": "S1",
    "fair": "All",
    "perspective_f1": "perspectives",
}


def check_inner_folds(value, name="inner_folds"):
    """``value`` as an int >= 2, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
        raise ValueError(f"{name} must be an integer >= 2; got {value!r}.")
    return int(value)


def _fair_refit(cv_results):
    """Index of the fairest candidate among those within F1_TOLERANCE of the best F1."""
    f1 = np.asarray(cv_results["mean_test_f1"], dtype=float)
    gap = -np.asarray(cv_results["mean_test_parity"], dtype=float)
    if not np.isfinite(f1).any():
        return 0
    near = np.isfinite(f1) & (f1 >= np.nanmax(f1) - F1_TOLERANCE)
    gaps = np.where(near & np.isfinite(gap), gap, np.inf)
    if np.isfinite(gaps).any():
        return int(np.argmin(gaps))
    return int(np.nanargmax(f1))


def _best_f1(cv_results):
    """Index of the highest mean F1 (the first on a tie; NaN loses)."""
    f1 = np.asarray(cv_results["mean_test_f1"], dtype=float)
    if not np.isfinite(f1).any():
        return 0
    return int(np.nanargmax(f1))


def _subset_f1(y_true, y_pred, *, subset):
    """Weighted F1 on the S1 items only (NaN when the fold has none)."""
    rows = np.asarray(subset, dtype=object) == "S1"
    if not rows.any():
        return np.nan
    return f1_score(np.asarray(y_true, dtype=object)[rows].astype(str),
                    np.asarray(y_pred, dtype=object)[rows].astype(str), average="weighted")


def _weighted_f1(y_true, y_pred):
    return f1_score(np.asarray(y_true, dtype=object).astype(str),
                    np.asarray(y_pred, dtype=object).astype(str), average="weighted")


def _perspective_f1(estimator, X, Y):
    """Mean weighted F1 of a FairPer under the rater groups' perspectives."""
    Y = pd.DataFrame(Y)
    predictions = estimator.predict_all(X)
    scores = []
    for column in Y.columns:
        if str(column) == TRUTH_PERSPECTIVE:
            continue
        target = Y[column].to_numpy(dtype=object)
        known = ~is_missing(target)
        if known.any():
            predicted = predictions[str(column)].to_numpy(dtype=object)[known]
            scores.append(f1_score(target[known].astype(str), predicted.astype(str),
                                   average="weighted"))
    return float(np.mean(scores)) if scores else np.nan


def grid_search(estimator, param, values, X, y, sensitive, sessions, *, rule, subset=None,
                warm_start=False, n_splits=3):
    """Search ``param`` over ``values`` in session-grouped inner folds.

    Parameters
    ----------
    estimator : estimator
        Unfitted; cloned. Must take ``sensitive_features`` in ``fit``.
    param : str
        The weight searched (``"alpha"`` or ``"triplet_weight"``).
    values : sequence of float
        The grid (the paper's [0.01, 0.001]).
    X, y : array-like
        The outer training fold (``y``: FairPer's 2-D targets for
        ``rule="perspective_f1"``).
    sensitive : array-like of shape (n_samples,)
        Routed to ``fit`` (and to the parity scorer) as ``sensitive_features``.
    sessions : array-like of shape (n_samples,)
        Groups of the inner :class:`~sklearn.model_selection.GroupKFold`
        (``n_splits`` folds, fewer when the training fold has fewer sessions).
    rule : {"s1_f1", "fair", "perspective_f1"}
        The selection rule (see the module docstring).
    subset : array-like of shape (n_samples,), default=None
        Each item's subset ("S1"/"S2"), routed to the ``"s1_f1"`` scorer so
        that it scores the S1 items of each inner validation fold; None
        scores every item.
    warm_start : bool, default=False
        Walk ``values`` with warm starts in each inner fold when the
        estimator has a ``warm_start`` parameter (see the module docstring).
    n_splits : int, default=3
        Number of inner folds (at least 2). The paper does not state it; each
        candidate is fitted ``n_splits`` times on ``1 - 1/n_splits`` of the
        training fold.

    Returns
    -------
    best_estimator : estimator
        Refitted on the whole training fold with the selected value.
    rows : list of dict
        Per candidate: ``param``, ``value``, ``mean_f1`` (the inner-CV
        weighted F1 the rule reads), ``f1_on`` (where it was measured),
        ``mean_parity`` (mean statistical parity over classes; NaN for
        ``"perspective_f1"``) and ``selected``.
    """
    import sklearn
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from ..metrics import make_statistical_parity_scorer

    if rule not in RULES:
        raise ValueError(f"rule must be one of {sorted(RULES)}; got {rule!r}.")
    n_splits = check_inner_folds(n_splits, "n_splits")
    n_groups = len(pd.unique(sessions))
    if n_groups < 2:
        raise ValueError(
            "the grid search needs at least 2 sessions in the training fold for its "
            f"session-grouped inner folds; got {n_groups}."
        )
    cv = GroupKFold(n_splits=min(n_splits, n_groups))
    routed = {"groups": sessions, "sensitive_features": sensitive}
    f1_on = RULES[rule]
    warm = warm_start and "warm_start" in estimator.get_params() and len(values) > 1
    with sklearn.config_context(enable_metadata_routing=True):
        model = clone(estimator).set_fit_request(sensitive_features=True)
        if rule == "perspective_f1":
            scoring, refit = {"f1": _perspective_f1}, "f1"
        else:
            if rule == "s1_f1" and subset is not None:
                f1 = make_scorer(_subset_f1).set_score_request(subset=True)
                routed["subset"] = np.asarray(subset, dtype=object)
            else:
                f1 = make_scorer(_weighted_f1)
                f1_on = "All"
            scoring = {"f1": f1, "parity": make_statistical_parity_scorer(average="macro")}
            refit = _fair_refit if rule == "fair" else _best_f1
        with warnings.catch_warnings():
            # A candidate that fails on an inner fold scores NaN and loses.
            warnings.simplefilter("ignore", category=UserWarning)
            if warm:
                results, best_index = _warm_path(model, param, list(values), X, y, cv,
                                                 routed, scoring, refit)
                best = clone(estimator).set_params(**{param: values[best_index]})
                best.fit(X, y, sensitive_features=sensitive)
            else:
                search = GridSearchCV(
                    model, {param: list(values)}, scoring=scoring, refit=refit, cv=cv,
                    error_score=np.nan,
                )
                search.fit(X, y, **routed)
                results, best_index = search.cv_results_, search.best_index_
                best = search.best_estimator_
    rows = []
    for i, value in enumerate(results[f"param_{param}"]):
        rows.append({
            "param": param,
            "value": float(value),
            "mean_f1": float(results["mean_test_f1"][i]),
            "f1_on": f1_on,
            "mean_parity": (
                float(-results["mean_test_parity"][i]) if "mean_test_parity" in results
                else np.nan
            ),
            "selected": bool(i == best_index),
        })
    return best, rows


def _warm_path(model, param, values, X, y, cv, routed, scoring, refit):
    """Inner-CV scores of ``values`` walked with warm starts: ``(cv_results, best)``.

    ``cv_results`` has GridSearchCV's keys that :func:`grid_search` reads
    (``param_<param>``, ``mean_test_<scorer>``); a candidate whose fit fails
    scores NaN and the next one starts from scratch.
    """
    X = np.asarray(X)
    y_all = np.asarray(y, dtype=object) if np.ndim(y) == 1 else y
    # Scored as GridSearchCV scores: each scorer gets the metadata it requests.
    scores = {name: np.full((cv.get_n_splits(), len(values)), np.nan) for name in scoring}
    extra = {key: np.asarray(value, dtype=object) for key, value in routed.items()
             if key not in ("groups",)}
    for split, (train, valid) in enumerate(cv.split(X, groups=routed["groups"])):
        fitted = None
        for i, value in enumerate(values):
            candidate = fitted if fitted is not None else clone(model)
            candidate.set_params(**{param: value, "warm_start": fitted is not None})
            try:
                candidate.fit(X[train], _rows(y_all, train),
                              sensitive_features=extra["sensitive_features"][train])
            except Exception:  # noqa: BLE001 - as GridSearchCV's error_score=nan
                fitted = None
                continue
            fitted = candidate
            for name, scorer in scoring.items():
                meta = {key: values_[valid] for key, values_ in extra.items()
                        if _requests(scorer, key)}
                scores[name][split, i] = scorer(candidate, X[valid], _rows(y_all, valid),
                                                **meta)
    # As GridSearchCV: a split that scored NaN makes the candidate's mean NaN.
    results = {f"param_{param}": np.asarray(values, dtype=object)}
    results.update({f"mean_test_{name}": table.mean(axis=0) for name, table in scores.items()})
    best = refit(results) if callable(refit) else _best_f1(results)
    return results, int(best)


def _rows(y, rows):
    return y.iloc[rows] if hasattr(y, "iloc") else y[rows]


def _requests(scorer, key):
    """Whether ``scorer`` asks for the metadata ``key`` (routing's score request)."""
    if not hasattr(scorer, "get_metadata_routing"):
        return False
    return bool(scorer.get_metadata_routing().score.requests.get(key))
