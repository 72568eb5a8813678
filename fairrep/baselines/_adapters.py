"""Adapters that give fairlearn and aif360 methods fairrep's estimator surface.

Every adapter takes ``fit(X, y, *, sensitive_features=None)``, ``predict`` and
``predict_proba`` (and ``transform`` where the method learns a representation),
so one loop, one ``Pipeline`` or one ``GridSearchCV`` with metadata routing
can run them next to :class:`~fairrep.FairRep`. fairlearn and aif360 are
imported inside ``fit`` only: the core package does not need them.

Peer methods have no notion of an unknown group, so the adapters require a
group for every training sample (drop such rows first) and at least two
groups.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils import check_sensitive_features, encode_groups

__all__ = [
    "AIF360LFR",
    "AIF360ClassicLFR",
    "ExponentiatedGradientClassifier",
    "FairlearnAdversarial",
    "FairlearnPrototype",
]

# Column / index name under which the group travels inside aif360's containers.
_GROUP = "sensitive_feature"


def _encode_target(estimator, y, *, binary_only=False):
    """Encode class labels as 0..C-1, set ``classes_`` and check their number."""
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    estimator.classes_ = encoder.classes_
    n_classes = len(encoder.classes_)
    if n_classes < 2:
        raise ValueError(
            f"y must contain at least 2 classes; got {n_classes} class(es): "
            f"{encoder.classes_.tolist()}."
        )
    if binary_only and n_classes != 2:
        raise ValueError(
            f"{type(estimator).__name__} handles binary y only; got {n_classes} "
            f"classes: {encoder.classes_.tolist()}."
        )
    return encoder.transform(y)


def _encode_sensitive(estimator, sensitive_features, n_samples, *, binary_only=False):
    """Validate groups (none missing, at least two), set ``groups_``, return codes."""
    groups, missing = check_sensitive_features(
        sensitive_features, n_samples, allow_missing=False, min_groups=2
    )
    codes, estimator.groups_ = encode_groups(groups, missing)
    if binary_only and len(estimator.groups_) != 2:
        raise ValueError(
            f"{type(estimator).__name__} handles exactly 2 groups in "
            f"sensitive_features; got {len(estimator.groups_)}: "
            f"{estimator.groups_.tolist()}."
        )
    return codes


def _privileged_code(estimator, codes):
    """Code of ``privileged_group``; the most frequent group when it is None."""
    if estimator.privileged_group is None:
        return int(np.argmax(np.bincount(codes)))
    matches = [
        i
        for i, g in enumerate(estimator.groups_.tolist())
        if g == estimator.privileged_group
    ]
    if not matches:
        raise ValueError(
            f"privileged_group={estimator.privileged_group!r} is not one of the groups "
            f"in sensitive_features: {estimator.groups_.tolist()}."
        )
    return matches[0]


def _two_columns(p):
    """(n,) or (n, 1) positive-class probabilities -> (n, 2)."""
    p = np.asarray(p, dtype=float).reshape(len(p), -1)
    if p.shape[1] == 1:
        return np.hstack([1.0 - p, p])
    return p


def _seed(random_state):
    """An int seed for libraries that take only ints (or None)."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _hidden_layers(sizes, activation):
    """fairlearn's list form of a network: [n1, act, n2, act, ...]."""
    model = []
    for size in sizes:
        model += [int(size), activation]
    return model


class FairlearnAdversarial(ClassifierMixin, BaseEstimator):
    """fairlearn's adversarial debiasing classifier behind fairrep's interface.

    Wraps :class:`fairlearn.adversarial.AdversarialFairnessClassifier` (Zhang,
    Lemoine & Mitchell, 2018) on its PyTorch backend: a predictor network and
    an adversary that tries to recover the group from the predictor's output;
    the predictor's update is projected away from the adversary's gradient.
    This is the closest fairlearn relative of FairRep's adversarial branch
    (the paper's :math:`-L_A` term, eq. 1), acting on the prediction instead of
    a hidden representation, so it has no ``transform``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(64,)
        Hidden layers of the predictor; ``()`` gives logistic regression.
    adversary_hidden_layer_sizes : tuple of int, default=(16,)
        Hidden layers of the adversary.
    activation : {"relu", "leaky_relu", "sigmoid", "tanh"}, default="leaky_relu"
        Activation between hidden layers.
    alpha : float, default=1.0
        Strength of the fairness (adversary) term, fairlearn's ``alpha``.
    constraints : {"demographic_parity", "equalized_odds"}, default="demographic_parity"
    learning_rate : float, default=0.001
    epochs : int, default=20
    batch_size : int, default=32
    random_state : int, RandomState instance or None, default=None
        Seeds fairlearn's shuffling and torch's initialisation (fairlearn seeds
        torch's global generator).

    Attributes
    ----------
    model_ : fairlearn.adversarial.AdversarialFairnessClassifier
    classes_ : ndarray of shape (n_classes,)
    groups_ : ndarray of shape (n_groups,)
    n_features_in_ : int

    References
    ----------
    .. [1] B. H. Zhang, B. Lemoine and M. Mitchell, "Mitigating Unwanted
       Biases with Adversarial Learning", AIES 2018.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like"],
        "adversary_hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions({"relu", "leaky_relu", "sigmoid", "tanh"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "constraints": [StrOptions({"demographic_parity", "equalized_odds"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(64,),
        *,
        adversary_hidden_layer_sizes=(16,),
        activation="leaky_relu",
        alpha=1.0,
        constraints="demographic_parity",
        learning_rate=0.001,
        epochs=20,
        batch_size=32,
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.adversary_hidden_layer_sizes = adversary_hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.constraints = constraints
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, sensitive_features=None):
        """Train predictor and adversary.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
            Group of each sample (required, no missing values).

        Returns
        -------
        self : FairlearnAdversarial
        """
        from fairlearn.adversarial import AdversarialFairnessClassifier

        X, y = validate_data(self, X, y, dtype=np.float32)
        y_codes = _encode_target(self, y)
        codes = _encode_sensitive(self, sensitive_features, X.shape[0])
        self.model_ = AdversarialFairnessClassifier(
            backend="torch",
            predictor_model=_hidden_layers(self.hidden_layer_sizes, self.activation),
            adversary_model=_hidden_layers(
                self.adversary_hidden_layer_sizes, self.activation
            ),
            constraints=self.constraints,
            learning_rate=self.learning_rate,
            alpha=self.alpha,
            epochs=self.epochs,
            batch_size=self.batch_size,
            shuffle=True,
            random_state=_seed(self.random_state),
        )
        self.model_.fit(X, y_codes, sensitive_features=codes)
        return self

    def predict_proba(self, X):
        """Class probabilities from the predictor network's output layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        # fairlearn exposes the sigmoid/softmax output only as _raw_predict.
        return _two_columns(self.model_._raw_predict(X))

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


class FairlearnPrototype(ClassifierMixin, TransformerMixin, BaseEstimator):
    """fairlearn's LFR (``PrototypeRepresentationLearner``) behind fairrep's interface.

    :class:`fairlearn.preprocessing.PrototypeRepresentationLearner` (fairlearn
    >= 0.13) is Zemel et al.'s LFR with a learned per-feature weight in the
    distance, optimised by scipy's L-BFGS-B with finite-difference gradients;
    its reconstruction error sums over features (not a mean), so its weights
    are on another scale than :class:`~fairrep.baselines.LFR`'s. ``transform``
    returns the memberships. Defaults are fairlearn's.

    Parameters
    ----------
    n_prototypes : int, default=2
    reconstruct_weight : float, default=1.0
    target_weight : float, default=1.0
    fairness_weight : float, default=1.0
    tol : float, default=1e-6
    max_iter : int, default=1000
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    model_ : fairlearn.preprocessing.PrototypeRepresentationLearner
    classes_ : ndarray of shape (n_classes,)
    groups_ : ndarray of shape (n_groups,)
    n_features_in_ : int

    References
    ----------
    .. [1] R. Zemel, Y. Wu, K. Swersky, T. Pitassi and C. Dwork, "Learning Fair
       Representations", ICML 2013.
    """

    _parameter_constraints: dict = {
        "n_prototypes": [Interval(Integral, 1, None, closed="left")],
        "reconstruct_weight": [Interval(Real, 0, None, closed="left")],
        "target_weight": [Interval(Real, 0, None, closed="left")],
        "fairness_weight": [Interval(Real, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_prototypes=2,
        *,
        reconstruct_weight=1.0,
        target_weight=1.0,
        fairness_weight=1.0,
        tol=1e-6,
        max_iter=1000,
        random_state=None,
    ):
        self.n_prototypes = n_prototypes
        self.reconstruct_weight = reconstruct_weight
        self.target_weight = target_weight
        self.fairness_weight = fairness_weight
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, sensitive_features=None):
        """Learn the prototypes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
            Group of each sample (required, no missing values).

        Returns
        -------
        self : FairlearnPrototype
        """
        from fairlearn.preprocessing import PrototypeRepresentationLearner

        X, y = validate_data(self, X, y, dtype=np.float64)
        y_codes = _encode_target(self, y)
        codes = _encode_sensitive(self, sensitive_features, X.shape[0])
        self.model_ = PrototypeRepresentationLearner(
            n_prototypes=self.n_prototypes,
            reconstruct_weight=self.reconstruct_weight,
            target_weight=self.target_weight,
            fairness_weight=self.fairness_weight,
            tol=self.tol,
            max_iter=self.max_iter,
            random_state=self.random_state,
        ).fit(X, y_codes, sensitive_features=codes)
        return self

    def _check(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, reset=False)

    def transform(self, X):
        """Memberships, shape (n_samples, n_prototypes)."""
        return self.model_.transform(self._check(X))

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        return _two_columns(self.model_.predict_proba(self._check(X)))

    def predict(self, X):
        """Most probable class, shape (n_samples,)."""
        proba = self.predict_proba(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


class AIF360LFR(ClassifierMixin, TransformerMixin, BaseEstimator):
    """aif360's scikit-learn LFR behind fairrep's interface.

    :class:`aif360.sklearn.preprocessing.LearnedFairRepresentations` reads the
    protected attribute from the pandas index of ``X`` and compares one
    privileged group with all the others; this adapter builds that index from
    ``sensitive_features``. Its objective is torch-differentiated and solved by
    scipy's L-BFGS-B. ``transform`` returns the reconstruction
    :math:`\\tilde X` (aif360's choice), as an ndarray; ``predict`` uses the
    prototypes' label weights. Defaults are aif360's.

    Parameters
    ----------
    n_prototypes : int, default=5
    reconstruct_weight : float, default=0.01
    target_weight : float, default=1.0
    fairness_weight : float, default=50.0
    tol : float, default=1e-4
    max_iter : int, default=200
    privileged_group : object, default=None
        The group aif360 compares with the rest; None picks the most frequent
        group of the training data. With two groups the choice does not change
        the objective.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    model_ : aif360.sklearn.preprocessing.LearnedFairRepresentations
    classes_ : ndarray of shape (n_classes,)
    groups_ : ndarray of shape (n_groups,)
    privileged_group_ : object
    n_features_in_ : int

    References
    ----------
    .. [1] R. Zemel, Y. Wu, K. Swersky, T. Pitassi and C. Dwork, "Learning Fair
       Representations", ICML 2013.
    """

    _parameter_constraints: dict = {
        "n_prototypes": [Interval(Integral, 1, None, closed="left")],
        "reconstruct_weight": [Interval(Real, 0, None, closed="left")],
        "target_weight": [Interval(Real, 0, None, closed="left")],
        "fairness_weight": [Interval(Real, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "privileged_group": "no_validation",
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_prototypes=5,
        *,
        reconstruct_weight=0.01,
        target_weight=1.0,
        fairness_weight=50.0,
        tol=1e-4,
        max_iter=200,
        privileged_group=None,
        random_state=None,
    ):
        self.n_prototypes = n_prototypes
        self.reconstruct_weight = reconstruct_weight
        self.target_weight = target_weight
        self.fairness_weight = fairness_weight
        self.tol = tol
        self.max_iter = max_iter
        self.privileged_group = privileged_group
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, sensitive_features=None):
        """Learn the prototypes with aif360.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
            Group of each sample (required, no missing values).

        Returns
        -------
        self : AIF360LFR
        """
        from aif360.sklearn.preprocessing import LearnedFairRepresentations

        X, y = validate_data(self, X, y, dtype=np.float64)
        y_codes = _encode_target(self, y)
        codes = _encode_sensitive(self, sensitive_features, X.shape[0])
        privileged = _privileged_code(self, codes)
        self.privileged_group_ = self.groups_[privileged]
        frame = pd.DataFrame(X, index=pd.Index(codes, name=_GROUP))
        frame.columns = [f"x{j}" for j in range(X.shape[1])]
        self.model_ = LearnedFairRepresentations(
            prot_attr=_GROUP,
            n_prototypes=self.n_prototypes,
            reconstruct_weight=self.reconstruct_weight,
            target_weight=self.target_weight,
            fairness_weight=self.fairness_weight,
            tol=self.tol,
            max_iter=self.max_iter,
            random_state=self.random_state,
        ).fit(frame, y_codes, priv_group=privileged)
        return self

    def _frame(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])

    def transform(self, X):
        """Reconstruction M V, shape (n_samples, n_features)."""
        return self.model_.transform(self._frame(X)).to_numpy()

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        return self.model_.predict_proba(self._frame(X))

    def predict(self, X):
        """Most probable class, shape (n_samples,)."""
        proba = self.predict_proba(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


class AIF360ClassicLFR(ClassifierMixin, TransformerMixin, BaseEstimator):
    """aif360's original LFR (``aif360.algorithms.preprocessing.LFR``), fairrep's API.

    Builds the ``BinaryLabelDataset`` the classic implementation needs, so it
    takes binary ``y`` and exactly two groups only (a clear error otherwise).
    It optimises with scipy's L-BFGS-B on finite-difference gradients, which
    costs ``n_prototypes * (n_features + 1) + 1`` objective evaluations per
    gradient: keep ``n_features`` small. Note that it seeds numpy's global
    random generator.

    Predictions come, by default (``classifier=None``), from the LFR model
    itself: the membership-weighted prototype label weights thresholded at
    ``threshold``, as aif360's ``transform`` labels a dataset. With an
    estimator as ``classifier`` a clone of it is fitted on the transformed
    features (the reconstruction :math:`\\tilde X`, what aif360's
    ``transform`` returns), the usual pre-processing use, and predicts from
    them. ``transform`` returns the reconstruction. Unlike aif360's default,
    the group is not one of LFR's input features, so the map never reads it
    (as in every other method here) and predicting needs no group.

    Parameters
    ----------
    n_prototypes : int, default=5
        aif360's ``k``.
    reconstruct_weight : float, default=0.01
        ``Ax``.
    target_weight : float, default=1.0
        ``Ay``.
    fairness_weight : float, default=50.0
        ``Az``.
    max_iter : int, default=5000
        ``maxiter`` of ``fit``.
    max_fun : int, default=5000
        ``maxfun`` of ``fit`` (objective evaluations).
    privileged_group : object, default=None
        The group passed as ``privileged_groups``; None picks the most
        frequent. The objective is symmetric in the two groups.
    classifier : estimator or None, default=None
        Trained on the reconstruction when given; None uses LFR's own labels.
    threshold : float, default=0.5
        Decision threshold on LFR's own score (``classifier=None``).
    random_state : int, RandomState instance or None, default=None
        Turned into aif360's integer ``seed``.

    Attributes
    ----------
    model_ : aif360.algorithms.preprocessing.LFR
    classifier_ : estimator or None
    classes_ : ndarray of shape (2,)
    groups_ : ndarray of shape (2,)
    privileged_group_ : object
    n_features_in_ : int

    References
    ----------
    .. [1] R. Zemel, Y. Wu, K. Swersky, T. Pitassi and C. Dwork, "Learning Fair
       Representations", ICML 2013.
    """

    _parameter_constraints: dict = {
        "n_prototypes": [Interval(Integral, 1, None, closed="left")],
        "reconstruct_weight": [Interval(Real, 0, None, closed="left")],
        "target_weight": [Interval(Real, 0, None, closed="left")],
        "fairness_weight": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "privileged_group": "no_validation",
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_prototypes=5,
        *,
        reconstruct_weight=0.01,
        target_weight=1.0,
        fairness_weight=50.0,
        max_iter=5000,
        max_fun=5000,
        privileged_group=None,
        classifier=None,
        threshold=0.5,
        random_state=None,
    ):
        self.n_prototypes = n_prototypes
        self.reconstruct_weight = reconstruct_weight
        self.target_weight = target_weight
        self.fairness_weight = fairness_weight
        self.max_iter = max_iter
        self.max_fun = max_fun
        self.privileged_group = privileged_group
        self.classifier = classifier
        self.threshold = threshold
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, sensitive_features=None):
        """Run aif360's LFR, then fit ``classifier`` on its output if given.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Binary labels.
        sensitive_features : array-like of shape (n_samples,)
            Exactly two groups, none missing.

        Returns
        -------
        self : AIF360ClassicLFR
        """
        from aif360.algorithms.preprocessing import LFR as ClassicLFR
        from aif360.datasets import BinaryLabelDataset

        X, y = validate_data(self, X, y, dtype=np.float64)
        y_codes = _encode_target(self, y, binary_only=True)
        codes = _encode_sensitive(
            self, sensitive_features, X.shape[0], binary_only=True
        )
        privileged = _privileged_code(self, codes)
        self.privileged_group_ = self.groups_[privileged]
        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        frame["label"] = y_codes.astype(float)
        frame[_GROUP] = codes.astype(float)
        dataset = BinaryLabelDataset(
            df=frame,
            label_names=["label"],
            protected_attribute_names=[_GROUP],
            favorable_label=1.0,
            unfavorable_label=0.0,
        )
        # aif360 keeps the protected attribute among the features; drop it so
        # that, as in every other method here, the map never reads the group.
        dataset.features = X.copy()
        dataset.feature_names = list(frame.columns[: X.shape[1]])
        self.model_ = ClassicLFR(
            unprivileged_groups=[{_GROUP: float(1 - privileged)}],
            privileged_groups=[{_GROUP: float(privileged)}],
            k=self.n_prototypes,
            Ax=self.reconstruct_weight,
            Ay=self.target_weight,
            Az=self.fairness_weight,
            verbose=0,
            seed=_seed(self.random_state),
        )
        with warnings.catch_warnings():
            # aif360 passes scipy's deprecated ``disp``; nothing a user can change.
            warnings.filterwarnings(
                "ignore", message=".*disp.*", category=DeprecationWarning
            )
            self.model_.fit(dataset, maxiter=self.max_iter, maxfun=self.max_fun)
        if self.classifier is None:
            self.classifier_ = None
        else:
            self.classifier_ = clone(self.classifier).fit(self._map(X)[0], y_codes)
        return self

    def _map(self, X):
        from aif360.algorithms.preprocessing.lfr_helpers.helpers import get_xhat_y_hat

        _, x_hat, score = get_xhat_y_hat(self.model_.prototypes, self.model_.w, X)
        return x_hat, np.ravel(score)

    def _check(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, reset=False)

    def transform(self, X):
        """Reconstruction M V, shape (n_samples, n_features)."""
        return self._map(self._check(X))[0]

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, 2).

        LFR's own score :math:`\\sum_k M_{nk} w_k` for the second class, or the
        downstream ``classifier``'s probabilities.
        """
        x_hat, score = self._map(self._check(X))
        if self.classifier_ is None:
            return _two_columns(score)
        return self.classifier_.predict_proba(x_hat)

    def predict(self, X):
        """Predicted class, shape (n_samples,)."""
        x_hat, score = self._map(self._check(X))
        if self.classifier_ is None:
            return self.classes_[(score > self.threshold).astype(int)]
        return self.classes_[np.asarray(self.classifier_.predict(x_hat), dtype=int)]


_CONSTRAINTS = {
    "demographic_parity": "DemographicParity",
    "equalized_odds": "EqualizedOdds",
    "true_positive_rate_parity": "TruePositiveRateParity",
    "false_positive_rate_parity": "FalsePositiveRateParity",
    "error_rate_parity": "ErrorRateParity",
}


class ExponentiatedGradientClassifier(ClassifierMixin, BaseEstimator):
    """fairlearn's exponentiated-gradient reduction as one classifier.

    :class:`fairlearn.reductions.ExponentiatedGradient` (Agarwal et al., 2018)
    trains a sequence of cost-sensitive copies of ``estimator`` and returns a
    randomised mixture of them that meets a fairness constraint up to
    ``difference_bound``. On tabular data it is the strongest peer of the
    representation methods. Binary ``y`` only (a clear error otherwise).

    Parameters
    ----------
    estimator : estimator or None, default=None
        Base classifier taking ``sample_weight`` in ``fit``; None means
        ``LogisticRegression(max_iter=1000)``.
    constraints : {"demographic_parity", "equalized_odds", \
"true_positive_rate_parity", "false_positive_rate_parity", "error_rate_parity"}, \
default="demographic_parity"
        The fairlearn moment; demographic parity is the paper's statistical
        parity.
    difference_bound : float, default=0.01
        Allowed constraint violation.
    eps : float, default=0.01
        fairlearn's ``eps`` (allowed error of the saddle point).
    max_iter : int, default=50
    randomized : bool, default=True
        True: ``predict`` draws from the mixture (fairlearn's randomised
        classifier, for which the guarantee holds), seeded by
        ``random_state`` so that repeated calls agree. False: threshold the
        mixture's probability at 0.5.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    model_ : fairlearn.reductions.ExponentiatedGradient
    classes_ : ndarray of shape (2,)
    groups_ : ndarray of shape (n_groups,)
    n_features_in_ : int

    References
    ----------
    .. [1] A. Agarwal, A. Beygelzimer, M. Dudik, J. Langford and H. Wallach,
       "A Reductions Approach to Fair Classification", ICML 2018.
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "constraints": [StrOptions(set(_CONSTRAINTS))],
        "difference_bound": [Interval(Real, 0, None, closed="left")],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "randomized": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        constraints="demographic_parity",
        difference_bound=0.01,
        eps=0.01,
        max_iter=50,
        randomized=True,
        random_state=None,
    ):
        self.estimator = estimator
        self.constraints = constraints
        self.difference_bound = difference_bound
        self.eps = eps
        self.max_iter = max_iter
        self.randomized = randomized
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, sensitive_features=None):
        """Run the reduction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Binary labels.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
            Group of each sample (required, no missing values).

        Returns
        -------
        self : ExponentiatedGradientClassifier
        """
        from fairlearn import reductions
        from sklearn.linear_model import LogisticRegression

        X, y = validate_data(self, X, y, dtype=np.float64)
        y_codes = _encode_target(self, y, binary_only=True)
        codes = _encode_sensitive(self, sensitive_features, X.shape[0])
        base = (
            LogisticRegression(max_iter=1000)
            if self.estimator is None
            else self.estimator
        )
        moment = getattr(reductions, _CONSTRAINTS[self.constraints])(
            difference_bound=self.difference_bound
        )
        self.model_ = reductions.ExponentiatedGradient(
            clone(base), constraints=moment, eps=self.eps, max_iter=self.max_iter
        )
        self.model_.fit(X, y_codes, sensitive_features=codes)
        self._seed_ = _seed(self.random_state)
        return self

    def predict_proba(self, X):
        """Mixture probabilities, shape (n_samples, 2)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        # The mixture's probability mass function is only public through the
        # randomised predict; _pmf_predict is what predict samples from.
        return np.asarray(self.model_._pmf_predict(X), dtype=float)

    def predict(self, X):
        """Predicted class, shape (n_samples,)."""
        proba = self.predict_proba(X)
        if self.randomized:
            draws = check_random_state(self._seed_).random_sample(proba.shape[0])
            return self.classes_[(proba[:, 1] >= draws).astype(int)]
        return self.classes_[(proba[:, 1] > 0.5).astype(int)]
