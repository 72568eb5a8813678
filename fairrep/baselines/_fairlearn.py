"""Adapters to fairlearn: adversarial debiasing, prototypes, exponentiated gradient.

See :mod:`fairrep.baselines._adapter_base` for the interface they share.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import TransformerMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from .._nn import store_init_params
from ._adapter_base import PROTOTYPE_CONSTRAINTS, PeerAdapter, int_seed, two_columns

__all__ = [
    "ExponentiatedGradientClassifier",
    "FairlearnAdversarial",
    "FairlearnPrototype",
]

def _hidden_layers(sizes, activation):
    """fairlearn's list form of a network: [n1, act, n2, act, ...]."""
    model = []
    for size in sizes:
        model += [int(size), activation]
    return model


_CONSTRAINTS = {
    "demographic_parity": "DemographicParity",
    "equalized_odds": "EqualizedOdds",
    "true_positive_rate_parity": "TruePositiveRateParity",
    "false_positive_rate_parity": "FalsePositiveRateParity",
    "error_rate_parity": "ErrorRateParity",
}



class FairlearnAdversarial(PeerAdapter):
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

    References
    ----------
    .. [1] B. H. Zhang, B. Lemoine and M. Mitchell, "Mitigating Unwanted
       Biases with Adversarial Learning", AIES 2018.
    """

    _library = "fairlearn"
    _dtype = np.float32

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
        store_init_params(self, locals())

    def _fit(self, X, y_codes, group_codes):
        from fairlearn.adversarial import AdversarialFairnessClassifier

        self.model_ = AdversarialFairnessClassifier(
            backend="torch",
            predictor_model=_hidden_layers(self.hidden_layer_sizes, self.activation),
            adversary_model=_hidden_layers(
                self.adversary_hidden_layer_sizes, self.activation
            ),
            # these parameters are fairlearn's, under fairlearn's names
            **{name: getattr(self, name)
               for name in ("constraints", "learning_rate", "alpha", "epochs", "batch_size")},
            shuffle=True,
            random_state=int_seed(self.random_state),
        )
        self.model_.fit(X, y_codes, sensitive_features=group_codes)

    def predict_proba(self, X):
        """Class probabilities, the predictor network's output, shape (n_samples, n_classes)."""
        # fairlearn exposes the sigmoid/softmax output only as _raw_predict.
        X = self._check(X)
        return two_columns(self.model_._raw_predict(X))


class FairlearnPrototype(TransformerMixin, PeerAdapter):
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
    reconstruct_weight, target_weight, fairness_weight : float, default=1.0
        The weights :math:`A_x, A_y, A_z` of the objective
        (:class:`~fairrep.baselines.LFR`).
    tol : float, default=1e-6
    max_iter : int, default=1000
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    model_ : fairlearn.preprocessing.PrototypeRepresentationLearner

    See Also
    --------
    fairrep.baselines.LFR : The model (Zemel et al., 2013, "Learning Fair
        Representations"), and how the implementations differ.
    """

    _library = "fairlearn"

    _parameter_constraints: dict = {
        **PROTOTYPE_CONSTRAINTS,
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_prototypes=2,
        *,
        reconstruct_weight=1.0, target_weight=1.0, fairness_weight=1.0,
        tol=1e-6,
        max_iter=1000,
        random_state=None,
    ):
        store_init_params(self, locals())

    def _fit(self, X, y_codes, group_codes):
        from fairlearn.preprocessing import PrototypeRepresentationLearner

        # the parameters are fairlearn's, under fairlearn's names
        self.model_ = PrototypeRepresentationLearner(**self.get_params()).fit(
            X, y_codes, sensitive_features=group_codes
        )

    def transform(self, X):
        """Memberships, shape (n_samples, n_prototypes)."""
        X = self._check(X)
        return self.model_.transform(X)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        X = self._check(X)
        return two_columns(self.model_.predict_proba(X))


class ExponentiatedGradientClassifier(PeerAdapter):
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

    References
    ----------
    .. [1] A. Agarwal, A. Beygelzimer, M. Dudik, J. Langford and H. Wallach,
       "A Reductions Approach to Fair Classification", ICML 2018.
    """

    _library = "fairlearn"
    _binary_y = True

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
        store_init_params(self, locals())

    def _fit(self, X, y_codes, group_codes):
        from fairlearn import reductions
        from sklearn.linear_model import LogisticRegression

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
        self.model_.fit(X, y_codes, sensitive_features=group_codes)
        self._seed_ = int_seed(self.random_state)

    def predict_proba(self, X):
        """Mixture probabilities, shape (n_samples, 2)."""
        # The mixture's probability mass function is only public through the
        # randomised predict; _pmf_predict is what predict samples from.
        X = self._check(X)
        return np.asarray(self.model_._pmf_predict(X), dtype=float)

    def predict(self, X):
        """Predicted class, shape (n_samples,)."""
        proba = self.predict_proba(X)
        if self.randomized:
            draws = check_random_state(self._seed_).random_sample(proba.shape[0])
            return self.classes_[(proba[:, 1] >= draws).astype(int)]
        return self.classes_[(proba[:, 1] > 0.5).astype(int)]
