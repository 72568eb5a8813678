"""The score and the fairness constraint of a tolerance search, resolved once.

Both :func:`~fairrep.model_selection.fairness_tolerance_refit` and
:class:`~fairrep.model_selection.FairnessTolerance` speak of a *score* to
maximise (any scikit-learn scorer) and a *fairness* quantity held to a
tolerance ``t``. A fairness scorer made with ``greater_is_better=False``
(a gap, such as :func:`~fairrep.metrics.statistical_parity_score`) stores
the negated gap, which is held *at most* ``t``; a greater-is-better one
(such as :func:`~fairrep.metrics.consistency_score`) is held *at least*
``t``.
"""

import numpy as np
from sklearn.metrics import get_scorer, make_scorer
from sklearn.metrics._scorer import _BaseScorer

from ..metrics import statistical_parity_scorer

__all__ = ["constant_prediction_scorer", "resolve_fairness", "resolve_score"]

#: Names of fairness scores understood without a scorer object.
FAIRNESS_NAMES = {"statistical_parity": statistical_parity_scorer}

#: The key under which the constant-prediction flag is stored in a search.
CONSTANT_KEY = "constant_prediction"


def _constant_prediction(y_true, y_pred):
    """1.0 when ``y_pred`` holds a single class (a "fair" model that means nothing)."""
    return float(np.unique(np.asarray(y_pred)).size < 2)


#: Scorer flagging constant predictions; its fold mean > 0 means "constant on
#: at least one fold".
constant_prediction_scorer = make_scorer(_constant_prediction)


def resolve_score(score):
    """Return ``(key, scorer)`` for the score to maximise.

    Parameters
    ----------
    score : str or callable
        A scikit-learn scorer name (``"accuracy"``, ``"balanced_accuracy"``,
        ...) or a scorer ``scorer(estimator, X, y)``.
    """
    if isinstance(score, str):
        try:
            return score, get_scorer(score)
        except ValueError as error:
            raise ValueError(
                f"score={score!r} is not a scikit-learn scorer name; use one of "
                "sklearn.metrics.get_scorer_names() or pass a scorer object."
            ) from error
    if callable(score):
        return "score", score
    raise TypeError(
        f"score must be a scorer name (str) or a scorer callable; got {score!r}."
    )


def resolve_fairness(fairness):
    """Return ``(key, scorer, lower_is_fairer)`` for the constrained quantity.

    Parameters
    ----------
    fairness : str or scorer
        ``"statistical_parity"`` (the worst gap over classes and pairs of
        groups, :data:`fairrep.metrics.statistical_parity_scorer`), or a
        scorer built with :func:`sklearn.metrics.make_scorer` or by
        :mod:`fairrep.metrics` (for instance
        ``make_statistical_parity_scorer(average="macro")`` or
        ``make_consistency_scorer()``). It must request
        ``sensitive_features`` if it needs them.
    """
    if isinstance(fairness, str):
        if fairness not in FAIRNESS_NAMES:
            raise ValueError(
                f"fairness={fairness!r} is not a known fairness score; use one of "
                f"{sorted(FAIRNESS_NAMES)} or pass a scorer (e.g. "
                "fairrep.metrics.make_statistical_parity_scorer(average='macro'))."
            )
        scorer = FAIRNESS_NAMES[fairness]
        key = fairness
    elif isinstance(fairness, _BaseScorer):
        scorer = fairness
        key = "fairness"
    else:
        raise TypeError(
            "fairness must be 'statistical_parity' or a scorer made by "
            "sklearn.metrics.make_scorer or fairrep.metrics (its sign says whether "
            f"lower or higher is fairer); got {fairness!r}."
        )
    return key, scorer, scorer._sign < 0


def fairness_value(stored, lower_is_fairer):
    """The fairness quantity from a scorer's output (a gap is stored negated)."""
    stored = np.asarray(stored, dtype=float)
    return -stored if lower_is_fairer else stored


def meets(value, tolerance, lower_is_fairer):
    """Whether ``value`` satisfies the tolerance, elementwise (NaN never does)."""
    value = np.asarray(value, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = value <= tolerance if lower_is_fairer else value >= tolerance
    return ok & np.isfinite(value)


def bound_words(lower_is_fairer):
    return "at most" if lower_is_fairer else "at least"
