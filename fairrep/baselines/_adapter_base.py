"""The skeleton every adapter to another fairness library shares.

An adapter gives a fairlearn or aif360 method fairrep's estimator surface:
``fit(X, y, *, sensitive_features=None)``, ``predict`` and ``predict_proba``
(and ``transform`` where the method learns a representation), so one loop,
one ``Pipeline`` or one ``GridSearchCV`` with metadata routing can run it next
to :class:`~fairrep.FairRep`. The library is imported inside ``fit`` only: the
core package does not need it.

Peer methods have no notion of an unknown group, so the adapters require a
group for every training sample (drop such rows first) and at least two
groups.
"""

import importlib
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._torch import seed_from_random_state
from ._validation import encode_classes, encode_required_groups

__all__ = [
    "PROTOTYPE_CONSTRAINTS",
    "MostProbableClassMixin",
    "PeerAdapter",
    "int_seed",
    "two_columns",
]

#: Constraints of the parameters every LFR variant (Zemel et al., 2013) shares.
PROTOTYPE_CONSTRAINTS = {
    "n_prototypes": [Interval(Integral, 1, None, closed="left")],
    "reconstruct_weight": [Interval(Real, 0, None, closed="left")],
    "target_weight": [Interval(Real, 0, None, closed="left")],
    "fairness_weight": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
}


def two_columns(p):
    """(n,) or (n, 1) positive-class probabilities -> (n, 2)."""
    p = np.asarray(p, dtype=float).reshape(len(p), -1)
    if p.shape[1] == 1:
        return np.hstack([1.0 - p, p])
    return p


def int_seed(random_state):
    """An int seed for libraries that take only ints (or None)."""
    if random_state is None:
        return None
    return seed_from_random_state(random_state)


class MostProbableClassMixin:
    """``predict``: the class of largest ``predict_proba``, labelled by ``classes_``."""

    def predict(self, X):
        """Most probable class of each row of ``X``, shape (n_samples,)."""
        proba = self.predict_proba(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


class PeerAdapter(MostProbableClassMixin, ClassifierMixin, BaseEstimator):
    """Base of the adapters: validation, group encoding, fit/predict skeleton.

    A subclass names its ``_library`` (imported first in ``fit``, so a missing
    library is the first error), the ``_dtype`` its library computes in,
    whether it handles binary ``y`` only (``_binary_y``) or exactly two groups
    only (``_binary_groups``), and implements ``_fit(X, y_codes, group_codes)``
    (which sets ``model_``) and ``predict_proba``. ``fit`` sets ``classes_``,
    ``groups_`` and ``n_features_in_``; ``predict`` returns the most probable
    class unless the subclass overrides it.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (two for the binary-only adapters).
    groups_ : ndarray of shape (n_groups,)
        The groups seen in ``fit`` (two for the two-group adapters).
    n_features_in_ : int
    """

    _library = None
    _dtype = np.float64
    _binary_y = False
    _binary_groups = False

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, sensitive_features=None):
        """Fit the wrapped method.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (two classes for the binary-only adapters).
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
            Group of each sample (required, no missing values; exactly two
            groups for the adapters that compare two).

        Returns
        -------
        self : object
            The fitted adapter.
        """
        importlib.import_module(self._library)
        X, y = validate_data(self, X, y, dtype=self._dtype)
        y_codes = encode_classes(self, y, binary_only=self._binary_y)
        group_codes = encode_required_groups(
            self, sensitive_features, X.shape[0], binary_only=self._binary_groups
        )
        self._fit(X, y_codes, group_codes)
        return self

    def _fit(self, X, y_codes, group_codes):
        raise NotImplementedError

    def _check(self, X):
        """``X`` validated against the fitted adapter.

        Called before ``model_`` is read, so that an unfitted adapter raises
        ``NotFittedError``.
        """
        check_is_fitted(self)
        return validate_data(self, X, dtype=self._dtype, reset=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.classifier_tags.multi_class = not self._binary_y
        return tags
