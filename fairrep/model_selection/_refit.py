"""A refit rule for scikit-learn's searches: the best score whose fairness meets t."""

from numbers import Real

import numpy as np
import sklearn
from sklearn.metrics._scorer import _BaseScorer

from .._nn import store_init_params
from ._scoring import (
    CONSTANT_KEY,
    bound_words,
    constant_prediction_scorer,
    fairness_value,
    meets,
    resolve_fairness,
    resolve_score,
)

__all__ = ["fairness_tolerance_refit"]

_STATISTICS = ("mean", "worst")

#: Taken off a fold's score where the fold misses the tolerance: for scores
#: in [0, 1], a candidate that meets it on every fold of up to ten ranks
#: above any candidate that misses it on one.
PENALTY = 10.0


class _ConstrainedScorer(_BaseScorer):
    """One scorer for searches that take a single metric (successive halving).

    Returns the score on a fold where the fold's fairness meets the
    tolerance and the predictions are not constant, and the score less
    :data:`PENALTY` elsewhere.
    """

    def __init__(self, rule):
        super().__init__(None, 1, {}, response_method="predict")
        self.rule = rule

    def __repr__(self):
        return f"{self.rule!r}.scorer"

    def _get_metadata_request(self):
        # the metadata the fairness scorer asks for (sensitive_features)
        return self.rule.scoring[self.rule.fairness_key]._get_metadata_request()

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        rule = self.rule
        score = float(rule.scoring[rule.score_key](estimator, X, y_true))
        with sklearn.config_context(enable_metadata_routing=True):
            stored = rule.scoring[rule.fairness_key](estimator, X, y_true, **kwargs)
        ok = bool(meets(fairness_value(stored, rule.lower_is_fairer), rule.tolerance,
                        rule.lower_is_fairer))
        if rule.exclude_constant:
            ok = ok and np.unique(np.asarray(estimator.predict(X))).size > 1
        return score if ok else score - PENALTY


def _split_values(cv_results, key):
    """``(n_candidates, n_splits)`` of ``split<k>_test_<key>``."""
    columns = sorted(
        (name for name in cv_results
         if name.startswith("split") and name.endswith(f"_test_{key}")),
        key=lambda name: int(name[len("split"):name.index("_")]),
    )
    return np.column_stack([np.asarray(cv_results[c], dtype=float) for c in columns])


class FairnessToleranceRefit:
    """Refit rule of :func:`fairness_tolerance_refit` (see there).

    Attributes
    ----------
    scoring : dict
        The ``scoring`` to give the search: the score, the fairness scorer
        and the constant-prediction flag, under the keys this rule reads.
    score_key, fairness_key : str
        Keys of the score and of the fairness in ``cv_results_``
        (``mean_test_<key>``).
    scorer : callable
        A single scorer for searches that take one metric and choose by it
        alone (``HalvingGridSearchCV``, ``HalvingRandomSearchCV``): the
        fold's score where the fold meets the tolerance, the score less 10
        where it does not (for scores in [0, 1]). Check the result with
        :meth:`check`.
    """

    def __init__(self, tolerance, *, score, fairness, statistic, exclude_constant):
        store_init_params(self, locals())
        self.score_key, score_scorer = resolve_score(score)
        self.fairness_key, fairness_scorer, self.lower_is_fairer = resolve_fairness(
            fairness)
        if self.score_key == self.fairness_key:
            raise ValueError(
                f"score and fairness would share the key {self.score_key!r} in "
                "cv_results_; pass one of them as a name."
            )
        self.scoring = {self.score_key: score_scorer,
                        self.fairness_key: fairness_scorer}
        if exclude_constant:
            self.scoring[CONSTANT_KEY] = constant_prediction_scorer
        self.scorer = _ConstrainedScorer(self)

    def __repr__(self):
        return (f"fairness_tolerance_refit({self.tolerance!r}, score={self.score!r}, "
                f"fairness={self.fairness!r}, statistic={self.statistic!r}, "
                f"exclude_constant={self.exclude_constant!r})")

    def _column(self, cv_results, key, rows):
        name = f"mean_test_{key}"
        if name not in cv_results:
            raise KeyError(
                f"cv_results_ has no {name!r}: give the search "
                f"scoring=refit.scoring (it holds {sorted(self.scoring)})."
            )
        return np.asarray(cv_results[name], dtype=float)[rows]

    def fairness_of(self, cv_results, rows=slice(None)):
        """The fairness of each candidate in ``rows``, per ``statistic``."""
        if self.statistic == "mean":
            stored = self._column(cv_results, self.fairness_key, rows)
            return fairness_value(stored, self.lower_is_fairer)
        self._column(cv_results, self.fairness_key, rows)  # the key check
        per_split = fairness_value(
            _split_values(cv_results, self.fairness_key)[rows], self.lower_is_fairer)
        with np.errstate(invalid="ignore"):
            return (per_split.max(axis=1) if self.lower_is_fairer
                    else per_split.min(axis=1))

    def __call__(self, cv_results):
        """Index of the chosen candidate in ``cv_results``.

        Raises
        ------
        ValueError
            If no candidate meets the tolerance, naming ``tolerance`` and the
            fairest candidate found.
        """
        n_candidates = len(cv_results["params"])
        rows = np.arange(n_candidates)
        if "iter" in cv_results:
            # successive halving: only the last round's candidates had the
            # full resources
            iters = np.asarray(cv_results["iter"])
            rows = rows[iters == iters.max()]
        score = self._column(cv_results, self.score_key, rows)
        fairness = self.fairness_of(cv_results, rows)
        usable = np.ones(rows.size, dtype=bool)
        if self.exclude_constant and f"mean_test_{CONSTANT_KEY}" in cv_results:
            usable = self._column(cv_results, CONSTANT_KEY, rows) == 0
        feasible = usable & meets(fairness, self.tolerance, self.lower_is_fairer)
        if not feasible.any():
            raise ValueError(self._none_message(cv_results, rows, fairness, usable))
        # the best score; among equal scores the fairest, then the first
        sign = 1.0 if self.lower_is_fairer else -1.0
        order = np.lexsort((rows, sign * fairness, -score))
        chosen = next(i for i in order if feasible[i])
        return int(rows[chosen])

    def check(self, search):
        """Raise unless a single-metric search (``scoring=scorer``) chose a fair point.

        Successive halving picks the best mean of :attr:`scorer` among its
        last round and ignores a ``refit`` callable; a chosen candidate
        that missed the tolerance on some fold shows the penalty.

        Parameters
        ----------
        search : fitted search with ``scoring=self.scorer``

        Returns
        -------
        search
            The same search, when its ``best_index_`` met the tolerance on
            every fold.
        """
        results = search.cv_results_
        splits = _split_values(results, "score")[search.best_index_]
        if np.all(splits > -PENALTY / 2):
            return search
        raise ValueError(
            f"no candidate of the last round has {self.fairness_key} "
            f"{bound_words(self.lower_is_fairer)} tolerance={self.tolerance!r} on "
            f"every inner fold (the chosen {results['params'][search.best_index_]!r} "
            f"misses it on {int(np.sum(splits <= -PENALTY / 2))} of {splits.size}). "
            "Loosen the tolerance or extend the grid toward stronger fairness weights."
        )

    def _none_message(self, cv_results, rows, fairness, usable):
        where = ("mean over the inner folds" if self.statistic == "mean"
                 else "worst inner fold")
        message = (
            f"no candidate has {self.fairness_key} {bound_words(self.lower_is_fairer)} "
            f"tolerance={self.tolerance!r} ({where})"
        )
        n_constant = int((~usable).sum())
        if n_constant:
            message += f"; {n_constant} candidate(s) predicting one class do not count"
        candidates = np.flatnonzero(usable & np.isfinite(fairness))
        if candidates.size:
            pick = (np.argmin if self.lower_is_fairer else np.argmax)(
                fairness[candidates])
            best = candidates[pick]
            message += (
                f". The fairest has {self.fairness_key} = {fairness[best]:.4g} with "
                f"{cv_results['params'][rows[best]]!r}"
            )
        return (message + ". Loosen the tolerance or extend the grid toward stronger "
                "fairness weights.")


def fairness_tolerance_refit(tolerance, *, score="accuracy",
                             fairness="statistical_parity", statistic="mean",
                             exclude_constant=True):
    """A ``refit`` rule: the best-scoring candidate whose fairness meets a tolerance.

    For :class:`~sklearn.model_selection.GridSearchCV` and
    :class:`~sklearn.model_selection.RandomizedSearchCV`, over any estimator that takes ``sensitive_features``
    through metadata routing (:class:`~fairrep.FairRep`,
    :class:`~fairrep.baselines.DNNClassifier`,
    :class:`~fairrep.baselines.LFR`, :class:`~fairrep.baselines.NRL`, a
    :class:`~sklearn.pipeline.Pipeline` with one of them in front of any
    classifier). It answers "the most accurate model whose statistical
    parity is at most t": among the candidates whose fairness on the inner
    folds meets ``tolerance``, the one with the best ``score``. The search
    needs ``scoring=refit.scoring``, which holds the score, the fairness
    scorer (it requests ``sensitive_features``) and a flag for candidates
    that predict one class.

    :class:`~sklearn.model_selection.HalvingGridSearchCV` takes one metric
    and ignores a ``refit`` callable: give it ``scoring=refit.scorer`` (the
    score on a fold that meets ``t``, the score less 10 on one that does
    not) and call ``refit.check(search)`` after ``fit``, which raises unless
    the chosen candidate met ``t`` on every fold.

    The fairness weights of the paper (:math:`\\alpha` and the adversary's
    weight in eq. 1, grid-searched in section 3.1) are the usual grid.

    Parameters
    ----------
    tolerance : float
        The bound ``t``: a gap (``statistical_parity``, any scorer with
        ``greater_is_better=False``) must be at most ``t``; a
        greater-is-better fairness score (consistency) at least ``t``.
    score : str or callable, default="accuracy"
        What to maximise among the candidates that meet ``t``: a
        scikit-learn scorer name or scorer.
    fairness : "statistical_parity" or scorer, default="statistical_parity"
        The constrained quantity. ``"statistical_parity"`` is
        :data:`fairrep.metrics.statistical_parity_scorer`: the largest gap in
        positive-prediction rate between any two groups, worst class for a
        multiclass target. Any other scorer from :mod:`fairrep.metrics` or
        :func:`sklearn.metrics.make_scorer` may be given (e.g.
        ``make_statistical_parity_scorer(average="macro")``).
    statistic : {"mean", "worst"}, default="mean"
        Which inner-fold value must meet ``t``: the mean over folds, or the
        worst fold (a stricter rule that keeps the chosen model's fairness on
        new data nearer ``t``).
    exclude_constant : bool, default=True
        Candidates that predict a single class on some inner fold do not
        count: their parity of 0 means nothing.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> int`` for the search's ``refit``, with
        attributes ``scoring`` (pass it as the search's ``scoring``),
        ``scorer`` and method ``check`` (for successive halving),
        ``score_key`` and ``fairness_key``. It raises ``ValueError`` naming
        ``tolerance`` and the fairest candidate when none meets ``t``.

    See Also
    --------
    FairnessTolerance : Walks a path of fairness weights on a validation set.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.2.2, eq. (1), and section 3.1.

    Examples
    --------
    >>> import numpy as np, sklearn
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from fairrep.baselines import LFR
    >>> from fairrep.model_selection import fairness_tolerance_refit
    >>> rng = np.random.RandomState(0)
    >>> s = rng.choice(["a", "b"], size=400)
    >>> X = np.c_[rng.normal(size=400), rng.normal(size=400) + (s == "a")]
    >>> y = (X[:, 0] + X[:, 1] + rng.normal(size=400) > 0.5).astype(int)
    >>> refit = fairness_tolerance_refit(0.1)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     search = GridSearchCV(
    ...         LFR(n_prototypes=5, random_state=0).set_fit_request(
    ...             sensitive_features=True),
    ...         {"fairness_weight": [0.0, 3.0, 30.0]}, scoring=refit.scoring, refit=refit, cv=3,
    ...     ).fit(X, y, sensitive_features=s)
    >>> gap = -search.cv_results_["mean_test_statistical_parity"][search.best_index_]
    >>> bool(gap <= 0.1), search.best_params_
    (True, {'fairness_weight': 3.0})
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, Real) or not (
            np.isfinite(tolerance)):
        raise ValueError(f"tolerance must be a finite number; got {tolerance!r}.")
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {_STATISTICS}; got {statistic!r}.")
    if not isinstance(exclude_constant, (bool, np.bool_)):
        raise TypeError(
            f"exclude_constant must be True or False; got {exclude_constant!r}.")
    return FairnessToleranceRefit(
        float(tolerance), score=score, fairness=fairness, statistic=statistic,
        exclude_constant=bool(exclude_constant),
    )
