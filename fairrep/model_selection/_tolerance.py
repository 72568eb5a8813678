"""FairnessTolerance: walk a path of fairness weights until validation fairness meets t."""

import copy
import inspect
import time
from numbers import Integral, Real

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils._metadata_requests import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._nn import store_init_params
from ..utils._validation import check_same_length, check_sensitive_features
from ._scoring import (
    bound_words,
    fairness_value,
    meets,
    resolve_fairness,
    resolve_score,
)

__all__ = ["FairnessTolerance"]


def _best_has(method):
    def check(self):
        if hasattr(self, "best_estimator_"):
            return hasattr(self.best_estimator_, method)
        return hasattr(self.estimator, method)
    return check


def _midpoint(low, high):
    """Geometric midpoint of two positive weights (their scale is logarithmic)."""
    if low > 0 and high > 0:
        return float(np.sqrt(low * high))
    return float((low + high) / 2)


def _concat(first, second):
    if isinstance(first, (pd.DataFrame, pd.Series)):
        return pd.concat([first, second], ignore_index=True)
    return np.concatenate([np.asarray(first), np.asarray(second)])


class FairnessTolerance(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """The most accurate point of a fairness-weight path whose validation fairness meets t.

    Fits ``estimator`` at each value of one fairness weight (``param``), in
    the order given (weakest pressure first), scores each fit on a
    validation set, and keeps the best-scoring fit whose fairness meets
    ``tolerance`` and that does not predict a single class. For
    :class:`~fairrep.FairRep` the weights are :math:`\\alpha` (of
    :math:`L_D`) and the adversary's weight :math:`w` of eq. (1); in a
    :class:`~sklearn.pipeline.Pipeline` name them ``"<step>__alpha"``. The
    accuracy usually falls and the parity gap shrinks along such a path,
    sometimes with a cliff where the model gives up and predicts one class;
    ``n_refine`` bisects the step into the *edge*, the first point that
    meets ``t`` or predicts one class, to move the chosen point toward it.

    Parameters
    ----------
    estimator : estimator object
        Any classifier whose ``fit`` takes ``sensitive_features`` directly
        (:class:`~fairrep.FairRep`, :class:`~fairrep.baselines.DNNClassifier`,
        :class:`~fairrep.baselines.LFR`, :class:`~fairrep.baselines.NRL`) or,
        with metadata routing on, through ``set_fit_request`` (a Pipeline).
    param : str or None, default="alpha"
        The parameter walked along ``values``. None: ``values`` are dicts of
        parameters, one per point (a path in several weights at once).
    values : array-like, default=(0.0, 0.1, 1.0, 10.0)
        The path, from the weakest fairness pressure to the strongest.
    tolerance : float, default=0.02
        The bound ``t`` on the validation fairness: at most ``t`` for a gap
        (statistical parity), at least ``t`` for a greater-is-better score.
    score : str or callable, default="accuracy"
        What to maximise among the points that meet ``t``: a scikit-learn
        scorer name or scorer.
    fairness : "statistical_parity" or scorer, default="statistical_parity"
        The constrained quantity; see :func:`fairness_tolerance_refit`.
    search : {"first", "all"}, default="first"
        ``"first"`` stops at the edge, the first point that meets ``t`` or
        predicts one class (then refines); ``"all"`` fits every value and
        keeps the best point that meets ``t``.
    n_refine : int, default=0
        Bisection steps (geometric midpoints) between the edge and the
        point before it: a midpoint that meets ``t`` or predicts one class
        becomes the new edge, one that misses ``t`` the new start. Where the
        path jumps from a gap above ``t`` to a constant model, this finds
        the points in between. Needs numeric values.
    validation_fraction : float, default=0.25
        Share of the data held out (stratified on class x group) when ``fit``
        is given no ``X_val``.
    refit : bool, default=False
        Refit the chosen parameters on the training and validation data
        together. False keeps the fit that was validated: a refit on more
        data moves the point along the path (its fairness is no longer
        the one measured).
    exclude_constant : bool, default=True
        Points predicting one class on the validation set do not count.
    min_score : float, "majority" or None, default=None
        Points whose validation score is at most this do not count, nor
        serve as the edge's fair side: ``"majority"`` is the score of
        predicting the training set's most frequent class, so that a model
        that predicts the minority class a handful of times (fair only in
        name) is not chosen. None sets no floor.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split.

    Attributes
    ----------
    path_ : dict of list
        One entry per fitted point, in the order fitted: ``params``,
        ``value`` (of ``param``; None when ``param`` is None), ``score``,
        ``fairness``, ``constant``, ``meets_tolerance``, ``fit_time``.
        ``pandas.DataFrame(path_)`` tabulates it. Set even when ``fit``
        raises because no point meets ``t``.
    best_index_ : int
        Row of ``path_`` chosen.
    best_params_ : dict
        Its parameters.
    best_score_, best_fairness_ : float
        Its validation score and fairness.
    min_score_ : float or None
        The floor used (the majority-class score for ``"majority"``).
    best_estimator_ : estimator
        The chosen fit (refitted on all the data when ``refit=True``).
    classes_ : ndarray of shape (n_classes,)
        The classes of ``best_estimator_``.
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    fairness_tolerance_refit : The same question inside GridSearchCV and its
        siblings, on inner cross-validation folds.

    Notes
    -----
    Each point is fitted from scratch (``clone``): FairRep's ``warm_start``
    continues the fitted network with the weights it was built with, so it
    cannot walk a path of weights.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.2.2, eq. (1), and section 3.1.

    Examples
    --------
    >>> import numpy as np
    >>> from fairrep import FairRep
    >>> from fairrep.model_selection import FairnessTolerance
    >>> rng = np.random.RandomState(0)
    >>> s = rng.choice(["a", "b"], size=600)
    >>> X = np.c_[rng.normal(size=(600, 3)), rng.normal(size=600) + (s == "a")]
    >>> y = (X[:, 0] + X[:, 3] > 0.5).astype(int)
    >>> search = FairnessTolerance(
    ...     FairRep((16,), embedding_dim=8, max_epochs=5, random_state=0),
    ...     param="adversary_weight", values=[0.0, 3.0, 30.0], tolerance=0.5,
    ...     random_state=0).fit(X, y, sensitive_features=s)
    >>> sorted(search.path_)
    ['constant', 'fairness', 'fit_time', 'meets_tolerance', 'params', 'score', 'value']
    >>> bool(search.best_fairness_ <= 0.5)
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "param": [str, None],
        "values": ["array-like"],
        "tolerance": [Interval(Real, None, None, closed="neither")],
        "score": [str, callable],
        "fairness": [str, callable],
        "search": [StrOptions({"first", "all"})],
        "n_refine": [Interval(Integral, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "refit": ["boolean"],
        "exclude_constant": ["boolean"],
        "min_score": [Real, StrOptions({"majority"}), None],
        "random_state": ["random_state"],
    }

    # requested by default: the tolerance means nothing without the groups
    __metadata_request__fit = {"sensitive_features": True}

    def __init__(self, estimator, *, param="alpha", values=(0.0, 0.1, 1.0, 10.0),
                 tolerance=0.02, score="accuracy", fairness="statistical_parity",
                 search="first", n_refine=0, validation_fraction=0.25, refit=False,
                 exclude_constant=True, min_score=None, random_state=None):
        store_init_params(self, locals())

    # -- checks -------------------------------------------------------------
    def _check_values(self):
        values = list(self.values)
        if not values:
            raise ValueError("values must hold at least one point of the path; got none.")
        if self.param is None:
            bad = [value for value in values if not isinstance(value, dict)]
            if bad:
                raise ValueError(
                    "with param=None, values must be dicts of parameters (one per "
                    f"point); got {bad[0]!r}.")
            if self.n_refine:
                raise ValueError("n_refine needs a numeric param; param is None.")
            return [dict(value) for value in values]
        if self.n_refine and not all(
                isinstance(v, Real) and not isinstance(v, bool) for v in values):
            raise ValueError(
                f"n_refine={self.n_refine} bisects between numeric values; values "
                f"{values!r} are not all numbers.")
        return [{self.param: value} for value in values]

    def _fit_kwargs(self, s_train):
        if _routing_enabled():
            routed = process_routing(self, "fit", sensitive_features=s_train)
            return dict(routed.estimator.fit)
        fit = self.estimator.fit
        if "sensitive_features" in inspect.signature(fit).parameters:
            return {"sensitive_features": s_train}
        raise ValueError(
            f"{type(self.estimator).__name__}.fit does not take sensitive_features. "
            "For a Pipeline, turn metadata routing on "
            "(sklearn.set_config(enable_metadata_routing=True)) and call "
            "set_fit_request(sensitive_features=True) on the step that takes them."
        )

    def _split(self, X, y, s):
        strata = pd.Series(np.asarray(y)).astype(str).to_numpy() + "|" + s.astype(str)
        rows = np.arange(len(s))
        for stratify in (strata, np.asarray(y), None):
            try:
                return train_test_split(
                    rows, test_size=self.validation_fraction,
                    random_state=self.random_state, stratify=stratify)
            except ValueError:
                continue
        raise AssertionError("unreachable: an unstratified split cannot fail")

    # -- fitting ------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, sensitive_features=None, X_val=None, y_val=None,
            sensitive_features_val=None):
        """Walk the path and keep the best point that meets the tolerance.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
            Groups of ``X``; required.
        X_val, y_val, sensitive_features_val : array-like, default=None
            A validation set of one's own (all three or none); otherwise
            ``validation_fraction`` of ``X`` is held out.

        Returns
        -------
        self : FairnessTolerance

        Raises
        ------
        ValueError
            If no point of the path meets ``tolerance`` (``path_`` is set).
        """
        points = self._check_values()
        _, score = resolve_score(self.score)
        fairness_key, fairness, lower_is_fairer = resolve_fairness(self.fairness)
        groups, _ = check_sensitive_features(sensitive_features, min_groups=2)
        check_same_length(X=X, y=y, sensitive_features=groups)
        given = [value is not None for value in (X_val, y_val, sensitive_features_val)]
        if any(given) and not all(given):
            raise ValueError(
                "X_val, y_val and sensitive_features_val go together; got "
                f"{sum(given)} of the three.")
        if all(given):
            groups_val, _ = check_sensitive_features(
                sensitive_features_val, name="sensitive_features_val")
            check_same_length(X_val=X_val, y_val=y_val,
                              sensitive_features_val=groups_val)
            train = (X, y, groups)
            valid = (X_val, y_val, groups_val)
        else:
            rows_train, rows_val = self._split(X, y, groups)
            train = tuple(_safe_indexing(a, rows_train) for a in (X, y, groups))
            valid = tuple(_safe_indexing(a, rows_val) for a in (X, y, groups))
        fit_kwargs = self._fit_kwargs(train[2])
        self.min_score_ = self.min_score
        if self.min_score == "majority":
            majority = DummyClassifier(strategy="most_frequent").fit(train[0], train[1])
            self.min_score_ = float(score(majority, valid[0], valid[1]))

        self.path_ = {key: [] for key in ("params", "value", "score", "fairness",
                                          "constant", "meets_tolerance", "fit_time")}
        fitted = []

        def evaluate(params):
            model = clone(self.estimator).set_params(**params)
            start = time.perf_counter()
            model.fit(train[0], train[1], **fit_kwargs)
            elapsed = time.perf_counter() - start
            constant = np.unique(np.asarray(model.predict(valid[0]))).size < 2
            with sklearn.config_context(enable_metadata_routing=True):
                gap = float(fairness_value(
                    fairness(model, valid[0], valid[1], sensitive_features=valid[2]),
                    lower_is_fairer))
            value = float(score(model, valid[0], valid[1]))
            # a model that gave up: one class, or no better than the floor
            gave_up = (self.exclude_constant and constant) or (
                self.min_score_ is not None and value <= self.min_score_)
            ok = bool(meets(gap, self.tolerance, lower_is_fairer)) and not gave_up
            for key, item in zip(self.path_, (
                    params, None if self.param is None else params[self.param],
                    value, gap, bool(constant), ok, elapsed)):
                self.path_[key].append(item)
            fitted.append(model)
            return ok, gave_up

        # the edge: the first point that meets t or, stronger than needed,
        # predicts one class (the cliff); the step before it is bisected
        edge = None
        for index, params in enumerate(points):
            ok, gave_up = evaluate(params)
            if edge is None and (ok or gave_up):
                edge = index
                if self.search == "first":
                    break
        if edge is not None and edge > 0 and self.n_refine:
            low, high = points[edge - 1][self.param], points[edge][self.param]
            for _ in range(self.n_refine):
                middle = _midpoint(low, high)
                ok, gave_up = evaluate({self.param: middle})
                if ok or gave_up:
                    high = middle
                else:
                    low = middle

        feasible = np.flatnonzero(self.path_["meets_tolerance"])
        if not feasible.size:
            raise ValueError(self._none_message(fairness_key, lower_is_fairer))
        scores = np.asarray(self.path_["score"])[feasible]
        self.best_index_ = int(feasible[np.argmax(scores)])
        self.best_params_ = self.path_["params"][self.best_index_]
        self.best_score_ = self.path_["score"][self.best_index_]
        self.best_fairness_ = self.path_["fairness"][self.best_index_]
        best = fitted[self.best_index_]
        if self.refit:
            best = clone(self.estimator).set_params(**self.best_params_)
            all_groups = np.concatenate([train[2], valid[2]])
            best.fit(_concat(train[0], valid[0]), _concat(train[1], valid[1]),
                     **self._fit_kwargs(all_groups))
        self.best_estimator_ = best
        self.n_features_in_ = getattr(best, "n_features_in_", None)
        if hasattr(best, "feature_names_in_"):
            self.feature_names_in_ = best.feature_names_in_
        return self

    def _none_message(self, key, lower_is_fairer):
        message = (f"no point of the path has validation {key} "
                   f"{bound_words(lower_is_fairer)} tolerance={self.tolerance!r}")
        constant = np.asarray(self.path_["constant"])
        if constant.any():
            message += (f"; {int(constant.sum())} point(s) predicting one class do "
                        "not count")
        usable = ~constant if self.exclude_constant else np.ones(constant.size, bool)
        if self.min_score_ is not None:
            low = np.asarray(self.path_["score"]) <= self.min_score_
            if (low & usable).any():
                message += (f"; {int((low & usable).sum())} point(s) scoring at most "
                            f"min_score={self.min_score_:.4g} do not count")
            usable &= ~low
        usable = np.flatnonzero(usable)
        if usable.size:
            values = np.asarray(self.path_["fairness"])[usable]
            best = usable[(np.argmin if lower_is_fairer else np.argmax)(values)]
            message += (f". The fairest has {key} = {self.path_['fairness'][best]:.4g} "
                        f"at {self.path_['params'][best]!r}")
        return message + (". Loosen the tolerance or extend values toward stronger "
                          "fairness weights (path_ lists every point).")

    def get_metadata_routing(self):
        """Route ``sensitive_features`` to the estimator's ``fit`` (routing on)."""
        return MetadataRouter(owner=type(self).__name__).add_self_request(self).add(
            estimator=self.estimator,
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )

    # -- the chosen model -----------------------------------------------------
    @property
    def classes_(self):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.classes_

    @available_if(_best_has("predict"))
    def predict(self, X):
        """Predict with ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    @available_if(_best_has("transform"))
    def transform(self, X):
        """The representation of ``best_estimator_`` (FairRep's embedding)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.transform(X)

    def __sklearn_tags__(self):
        # the wrapped estimator's kind, as scikit-learn's search estimators do,
        # and its transformer tags (it transforms when the estimator does)
        tags = super().__sklearn_tags__()
        wrapped = get_tags(self.estimator)
        tags.estimator_type = wrapped.estimator_type
        tags.classifier_tags = copy.deepcopy(wrapped.classifier_tags)
        tags.transformer_tags = copy.deepcopy(wrapped.transformer_tags)
        tags.input_tags = copy.deepcopy(wrapped.input_tags)
        tags.target_tags = copy.deepcopy(wrapped.target_tags)
        return tags
