"""Scikit-learn scorers built from the fairness metrics.

The scorers request ``sensitive_features`` through scikit-learn's metadata
routing, so that ``GridSearchCV(scoring=...)`` and ``cross_validate`` hand
each fold's groups to them once routing is on::

    import sklearn
    sklearn.set_config(enable_metadata_routing=True)

Built on scikit-learn's scorer base class so that multi-metric scoring,
caching of predictions and routing behave exactly as for built-in scorers.
"""

from functools import partial

import numpy as np
from sklearn.metrics._scorer import _cached_call, _Scorer

from ._fairness import consistency_score, statistical_parity_score

__all__ = [
    "make_statistical_parity_scorer",
    "make_consistency_scorer",
    "statistical_parity_scorer",
    "consistency_scorer",
    "embedding_consistency_scorer",
]


def _require_sensitive_features(kwargs, scorer_name):
    if kwargs.get("sensitive_features") is None:
        raise TypeError(
            f"{scorer_name} needs sensitive_features. Pass them as metadata: enable "
            "routing with sklearn.set_config(enable_metadata_routing=True) and give "
            "sensitive_features=... to fit/cross_validate/GridSearchCV.fit, or call "
            "the scorer as scorer(estimator, X, y, sensitive_features=...)."
        )


class _DirectCallMixin:
    """Accept ``sensitive_features`` in a direct call, with or without routing.

    scikit-learn's scorers refuse metadata in a direct call unless routing is
    on; these scorers need the groups to mean anything, so they take them as
    an ordinary keyword argument too.
    """

    def __call__(self, estimator, X, y_true=None, **kwargs):
        return self._score(partial(_cached_call, None), estimator, X, y_true, **kwargs)


class _StatisticalParityScorer(_DirectCallMixin, _Scorer):
    """Scorer of :func:`statistical_parity_score` that requests ``sensitive_features``."""

    # Requested by default: a parity scorer is meaningless without groups.
    __metadata_request__score = {"sensitive_features": True}

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        _require_sensitive_features(kwargs, "statistical_parity_scorer")
        return super()._score(method_caller, estimator, X, y_true, **kwargs)


_SPACES = ("input", "transform")
_TARGETS = ("y_pred", "y_true", "sensitive_features")


class _ConsistencyScorer(_DirectCallMixin, _Scorer):
    """Scorer of :func:`consistency_score` on the input or on ``transform(X)``."""

    def __init__(self, *, n_neighbors, space, target):
        super().__init__(consistency_score, 1, {"n_neighbors": n_neighbors})
        self._space = space
        self._target = target

    def __repr__(self):
        return (
            f"make_consistency_scorer(n_neighbors={self._kwargs['n_neighbors']}, "
            f"space={self._space!r}, target={self._target!r})"
        )

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        if self._target == "sensitive_features":
            _require_sensitive_features(kwargs, "consistency scorer")
            labels = np.asarray(kwargs.pop("sensitive_features"), dtype=object)
            if labels.ndim == 2 and labels.shape[1] == 1:
                labels = labels[:, 0]
        elif self._target == "y_true":
            labels = y_true
        else:
            labels = method_caller(estimator, "predict", X)
        kwargs.pop("sensitive_features", None)
        space = method_caller(estimator, "transform", X) if self._space == "transform" else X
        return self._sign * consistency_score(space, labels, **self._kwargs)


class _GroupConsistencyScorer(_ConsistencyScorer):
    """Consistency of the routed ``sensitive_features``, requested by default."""

    __metadata_request__score = {"sensitive_features": True}


def make_statistical_parity_scorer(*, pos_label=None, average="max"):
    """Make a scorer of :func:`statistical_parity_score` for model selection.

    The scorer returns the *negated* gap (``greater_is_better=False``), so
    that a search maximising the score minimises the parity gap. It requests
    ``sensitive_features`` through metadata routing.

    Parameters
    ----------
    pos_label : label, default=None
        See :func:`statistical_parity_score`.
    average : {"macro", "weighted", "max"}, default="max"
        Reduction over classes for multiclass targets; a scorer must return a
        single number, so None is not allowed.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sensitive_features=...)``.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.1 (grid search of alpha and
       lambda), Table 2.

    Examples
    --------
    >>> import sklearn
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_validate
    >>> from fairrep.metrics import make_statistical_parity_scorer
    >>> X = [[0.0], [1.0], [2.0], [3.0], [0.5], [1.5], [2.5], [3.5]]
    >>> y = [0, 0, 1, 1, 0, 0, 1, 1]
    >>> s = ["a", "b", "a", "b", "a", "b", "a", "b"]
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     result = cross_validate(
    ...         LogisticRegression(), X, y, cv=2, params={"sensitive_features": s},
    ...         scoring={"parity": make_statistical_parity_scorer()})
    >>> result["test_parity"].shape
    (2,)
    """
    if average is None:
        raise ValueError(
            "average=None returns one value per class; a scorer needs a single "
            "number: use 'macro', 'weighted' or 'max'."
        )
    kwargs = {"average": average}
    if pos_label is not None:
        kwargs["pos_label"] = pos_label
    # Fail early on a bad average rather than inside a search.
    if average not in ("macro", "weighted", "max"):
        raise ValueError(
            f"average must be one of 'macro', 'weighted', 'max'; got {average!r}."
        )
    return _StatisticalParityScorer(
        statistical_parity_score, -1, kwargs, response_method="predict"
    )


def make_consistency_scorer(*, n_neighbors=20, space="input", target="y_pred"):
    """Make a scorer of :func:`consistency_score`.

    Parameters
    ----------
    n_neighbors : int, default=20
        Neighbours per sample (the paper uses k = 20).
    space : {"input", "transform"}, default="input"
        Where neighbours are found: the scored ``X`` itself, or the estimator's
        ``transform(X)`` (its learned representation).
    target : {"y_pred", "y_true", "sensitive_features"}, default="y_pred"
        The labels compared between neighbours: the estimator's predictions
        (individual fairness, Zemel et al. 2013), the true labels, or the
        routed ``sensitive_features`` (the paper's stage-2 measure: how much
        samples of the same rater group cluster in the representation; higher
        = groups more separable). With ``"sensitive_features"`` the scorer
        requests them through metadata routing.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, **metadata)``; greater is better (ideal 1).

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.1, Table 4.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> from fairrep.metrics import make_consistency_scorer
    >>> X = [[0.0, 1.0], [0.1, 1.0], [0.2, 1.1], [5.0, 0.0], [5.1, 0.1], [5.2, 0.0]]
    >>> y = [0, 0, 0, 1, 1, 1]
    >>> model = LogisticRegression().fit(X, y)
    >>> make_consistency_scorer(n_neighbors=2)(model, X, y)
    1.0
    """
    if space not in _SPACES:
        raise ValueError(f"space must be one of {_SPACES}; got {space!r}.")
    if target not in _TARGETS:
        raise ValueError(f"target must be one of {_TARGETS}; got {target!r}.")
    scorer_class = (
        _GroupConsistencyScorer if target == "sensitive_features" else _ConsistencyScorer
    )
    return scorer_class(n_neighbors=n_neighbors, space=space, target=target)


statistical_parity_scorer = make_statistical_parity_scorer()
"""Negated worst-class statistical parity gap, requesting ``sensitive_features``."""

consistency_scorer = make_consistency_scorer()
"""Consistency (k = 20) of the predictions in the input space."""

embedding_consistency_scorer = make_consistency_scorer(
    space="transform", target="sensitive_features"
)
"""Consistency (k = 20) of the sensitive groups in ``transform(X)`` (Table 4)."""
