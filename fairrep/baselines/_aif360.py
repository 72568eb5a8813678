"""Adapters to aif360: its scikit-learn LFR and its original LFR.

See :mod:`fairrep.baselines._adapter_base` for the interface they share.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin, clone
from sklearn.utils._param_validation import HasMethods, Interval

from .._nn import store_init_params
from ._adapter_base import PROTOTYPE_CONSTRAINTS, PeerAdapter, int_seed, two_columns

__all__ = ["AIF360LFR", "AIF360ClassicLFR"]

# Column / index name under which the group travels inside aif360's containers.
_GROUP = "sensitive_feature"


def _frame(X, **kwargs):
    """``X`` as a DataFrame with the column names aif360 sees: x0, x1, ..."""
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])], **kwargs)


def _privileged_code(estimator, codes):
    """Code of ``privileged_group`` (the most frequent group when it is None).

    Also sets ``estimator.privileged_group_``.
    """
    if estimator.privileged_group is None:
        code = int(np.argmax(np.bincount(codes)))
    else:
        matches = [
            i
            for i, g in enumerate(estimator.groups_.tolist())
            if g == estimator.privileged_group
        ]
        if not matches:
            raise ValueError(
                f"privileged_group={estimator.privileged_group!r} is not one of "
                f"the groups in sensitive_features: {estimator.groups_.tolist()}."
            )
        code = matches[0]
    estimator.privileged_group_ = estimator.groups_[code]
    return code


class AIF360LFR(TransformerMixin, PeerAdapter):
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
        The weights :math:`A_x, A_y, A_z` of the objective
        (:class:`~fairrep.baselines.LFR`).
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
    privileged_group_ : object

    See Also
    --------
    AIF360ClassicLFR : aif360's original LFR.
    fairrep.baselines.LFR : The model (Zemel et al., 2013, "Learning Fair
        Representations"), and how the implementations differ.
    """

    _library = "aif360"

    _parameter_constraints: dict = {
        **PROTOTYPE_CONSTRAINTS,
        "tol": [Interval(Real, 0, None, closed="left")],
        "privileged_group": "no_validation",
    }

    def __init__(
        self,
        n_prototypes=5,
        *,
        reconstruct_weight=0.01, target_weight=1.0, fairness_weight=50.0,
        tol=1e-4,
        max_iter=200,
        privileged_group=None,
        random_state=None,
    ):
        store_init_params(self, locals())

    def _fit(self, X, y_codes, group_codes):
        from aif360.sklearn.preprocessing import LearnedFairRepresentations

        privileged = _privileged_code(self, group_codes)
        frame = _frame(X, index=pd.Index(group_codes, name=_GROUP))
        # every parameter but privileged_group is aif360's, under aif360's name
        params = self.get_params()
        del params["privileged_group"]
        self.model_ = LearnedFairRepresentations(prot_attr=_GROUP, **params).fit(
            frame, y_codes, priv_group=privileged
        )

    def transform(self, X):
        """Reconstruction M V, shape (n_samples, n_features)."""
        X = _frame(self._check(X))
        return self.model_.transform(X).to_numpy()

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        X = _frame(self._check(X))
        return self.model_.predict_proba(X)


class AIF360ClassicLFR(TransformerMixin, PeerAdapter):
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
    privileged_group_ : object

    See Also
    --------
    AIF360LFR : aif360's scikit-learn LFR.
    fairrep.baselines.LFR : The model (Zemel et al., 2013, "Learning Fair
        Representations"), and how the implementations differ.
    """

    _library = "aif360"
    _binary_y = True
    _binary_groups = True

    _parameter_constraints: dict = {
        **PROTOTYPE_CONSTRAINTS,
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "privileged_group": "no_validation",
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "threshold": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        n_prototypes=5,
        *,
        reconstruct_weight=0.01, target_weight=1.0, fairness_weight=50.0,
        max_iter=5000,
        max_fun=5000,
        privileged_group=None,
        classifier=None,
        threshold=0.5,
        random_state=None,
    ):
        store_init_params(self, locals())

    def _fit(self, X, y_codes, group_codes):
        from aif360.algorithms.preprocessing import LFR as ClassicLFR
        from aif360.datasets import BinaryLabelDataset

        privileged = _privileged_code(self, group_codes)
        frame = _frame(X)
        frame["label"] = y_codes.astype(float)
        frame[_GROUP] = group_codes.astype(float)
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
            seed=int_seed(self.random_state),
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

    def _map(self, X):
        from aif360.algorithms.preprocessing.lfr_helpers.helpers import get_xhat_y_hat

        _, x_hat, score = get_xhat_y_hat(self.model_.prototypes, self.model_.w, X)
        return x_hat, np.ravel(score)

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
            return two_columns(score)
        return self.classifier_.predict_proba(x_hat)

    def predict(self, X):
        """Predicted class, shape (n_samples,)."""
        x_hat, score = self._map(self._check(X))
        if self.classifier_ is None:
            return self.classes_[(score > self.threshold).astype(int)]
        return self.classes_[np.asarray(self.classifier_.predict(x_hat), dtype=int)]
