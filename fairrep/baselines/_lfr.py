"""Learned Fair Representations (Zemel et al., 2013): the estimator.

The objective lives in :mod:`._lfr_objective`, the optimisers in
:mod:`._lfr_solvers`.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._nn import store_init_params
from ..exceptions import TrainingDivergedError
from ..utils import check_sensitive_features, encode_groups
from ..utils._guards import warn_single_class
from ..utils._validation import validate_numeric_data
from ._adapter_base import PROTOTYPE_CONSTRAINTS, MostProbableClassMixin
from ._lfr_objective import (
    chunked_memberships,
    chunked_objective,
    column_spread,
    lfr_objective,
    shared_tensor,
)
from ._lfr_solvers import fit_adam, fit_lbfgs
from ._validation import encode_classes

__all__ = ["LFR", "lfr_objective"]


class LFR(MostProbableClassMixin, ClassifierMixin, TransformerMixin, BaseEstimator):
    r"""Learned Fair Representations: prototypes that hide the group, keep the label.

    Each sample is mapped to a probability distribution over ``n_prototypes``
    prototypes :math:`v_k` (its *memberships*)

    .. math:: M_{nk} = \operatorname{softmax}_k(-\lVert x_n - v_k\rVert_2),

    and the prototypes and their class distributions :math:`w_k` minimise

    .. math:: L = A_x L_x + A_y L_y + A_z L_z

    with :math:`L_x` the mean squared error of the reconstruction
    :math:`\tilde x_n = \sum_k M_{nk} v_k`, :math:`L_y` the cross-entropy of the
    prediction :math:`\hat p_n = \sum_k M_{nk} w_k`, and :math:`L_z` the
    statistical parity gap of the mean memberships between groups (Zemel et al.,
    2013, eqs. 1-7). The Chien & Lee paper uses LFR as a stage-1 baseline
    (Tables 1, 2 and 4).

    This version differs from the original in two generalisations:

    * multiclass ``y``: each prototype carries a class-probability vector
      :math:`w_k = \operatorname{softmax}(\theta_k)` instead of one number in
      [0, 1]; with two classes it is exactly the binary model, parametrised
      without box constraints.
    * any number of groups: ``fairness_reference="pairs"`` (default) averages
      :math:`\operatorname{mean}_k |\bar M_{g,k} - \bar M_{h,k}|` over all pairs of
      groups; ``"pool"`` averages :math:`\operatorname{mean}_k |\bar M_{g,k} -
      \bar M_k|` over groups, :math:`\bar M` being the mean over all samples.
      With two groups ``"pairs"`` is the two-group term of the paper (as a mean
      over prototypes rather than a sum, as aif360 and fairlearn do).

    Samples whose group is missing (``None``/``NaN``) count in :math:`L_x` and
    :math:`L_y` but not in :math:`L_z`. Gradients come from torch autograd; the
    default optimiser is full-batch L-BFGS (as in the original code), the
    alternative mini-batch Adam.

    Compared with aif360: the classic ``aif360.algorithms.preprocessing.LFR``
    needs a ``BinaryLabelDataset``, binary labels and one privileged/unprivileged
    pair, and runs scipy's L-BFGS-B with finite-difference gradients (one
    objective evaluation per parameter per step), which is why it is slow; its
    :math:`L_x` sums the two groups' mean errors. The scikit-learn style
    ``aif360.sklearn.preprocessing.LearnedFairRepresentations`` uses torch
    gradients with scipy's L-BFGS-B, reads the protected attribute from the
    pandas index of ``X``, compares one privileged group with all the others,
    feeds bounded weights to a softmax for multiclass ``y``, and its
    ``transform`` returns the reconstruction. Here the group comes in through
    ``sensitive_features``, any number of groups and classes is handled, and
    ``transform`` returns the memberships by default.

    Parameters
    ----------
    n_prototypes : int or "auto", default="auto"
        Number of prototypes K. ``"auto"``: 5 for two classes (aif360's
        default ``k``), 6 per class for more (30 for five classes): with about
        one prototype per class, L-BFGS often ends with a class that no
        prototype carries (:ref:`lfr-five-classes`).
    reconstruct_weight : float, default=0.01
        :math:`A_x`, weight of the reconstruction error.
    target_weight : float, default=1.0
        :math:`A_y`, weight of the prediction cross-entropy.
    fairness_weight : float, default=50.0
        :math:`A_z`, weight of the statistical parity gap. The three defaults
        are aif360's.
    fairness_reference : {"pairs", "pool"}, default="pairs"
        How :math:`L_z` compares more than two groups (see above).
    representation : {"memberships", "reconstruction"}, default="memberships"
        What :meth:`transform` returns: the memberships M (n_samples,
        n_prototypes), the fair representation Z of the paper, or the
        reconstruction :math:`\tilde X = M V` (n_samples, n_features), what
        aif360's ``transform`` returns.
    solver : {"lbfgs", "adam"}, default="lbfgs"
        ``"lbfgs"``: full-batch :class:`torch.optim.LBFGS` with a strong-Wolfe
        line search, restarted (curvature history dropped) when the line
        search stalls on the kinks of :math:`L_z` while restarts still lower
        the objective, and stopped once 80 objective evaluations in a row have
        lowered it by less than a relative 1e-4 (the gradient does not vanish
        at a kink, so ``tol`` alone rarely ends it); the parameters returned are
        the best ones evaluated; it holds a float64 copy of ``X``.
        ``"adam"``: mini-batch Adam, for data that does not fit in one batch:
        float32 ``X`` (memory-mapped included) is not copied, its rows are
        cast to float64 per batch and per chunk of rows, so memory beyond
        ``X`` stays bounded (1M x 512 in 3.3 GiB including the data,
        benchmarks/README.md).
    max_iter : int, default=500
        L-BFGS iterations, or Adam epochs.
    tol : float, default=1e-6
        L-BFGS: stop when the largest gradient entry falls below ``tol`` (or
        the objective stalls, see ``solver``). Adam:
        stop when the epoch loss has improved by less than ``tol`` for 10
        epochs in a row.
    learning_rate : float, default=0.01
        Adam step size (unused by L-BFGS, whose line search sets the step).
    batch_size : int, default=256
        Adam mini-batch size (unused by L-BFGS).
    device : str or torch.device, default="cpu"
        Where the optimisation runs.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial prototypes (drawn among the training rows), the
        initial class logits and the Adam batch order.

    Attributes
    ----------
    prototypes_ : ndarray of shape (K, `n_features_in_`)
        The prototype locations :math:`v_k` (K resolved from ``n_prototypes``).
    prototype_proba_ : ndarray of shape (K, n_classes)
        Each prototype's class distribution :math:`w_k`.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    groups_ : ndarray of shape (n_groups,)
        The groups seen in ``fit`` (empty when ``sensitive_features=None``).
    loss_ : float
        The objective :math:`L` at the solution, on the whole training set.
    loss_terms_ : dict
        ``{"reconstruction": L_x, "prediction": L_y, "fairness": L_z}``,
        unweighted, at the solution.
    n_iter_ : int
        L-BFGS iterations or Adam epochs run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    See Also
    --------
    fairrep.baselines.AIF360LFR : adapter to aif360's scikit-learn LFR.
    fairrep.baselines.AIF360ClassicLFR : adapter to aif360's original LFR.
    fairrep.baselines.FairlearnPrototype : adapter to fairlearn's version.

    References
    ----------
    .. [1] R. Zemel, Y. Wu, K. Swersky, T. Pitassi and C. Dwork, "Learning Fair
       Representations", ICML 2013.
    .. [2] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.1 (baselines).

    Examples
    --------
    >>> import numpy as np
    >>> from fairrep.baselines import LFR
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> s = rng.randint(0, 2, size=200)
    >>> lfr = LFR(n_prototypes=4, random_state=0).fit(X, y, sensitive_features=s)
    >>> lfr.transform(X).shape
    (200, 4)
    >>> bool(np.allclose(lfr.transform(X).sum(axis=1), 1.0))
    True
    """

    _parameter_constraints: dict = {
        **PROTOTYPE_CONSTRAINTS,
        "n_prototypes": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "fairness_reference": [StrOptions({"pairs", "pool"})],
        "representation": [StrOptions({"memberships", "reconstruction"})],
        "solver": [StrOptions({"lbfgs", "adam"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
    }

    def __init__(
        self,
        n_prototypes="auto",
        *,
        reconstruct_weight=0.01, target_weight=1.0, fairness_weight=50.0,
        fairness_reference="pairs",
        representation="memberships",
        solver="lbfgs",
        max_iter=500,
        tol=1e-6,
        learning_rate=0.01,
        batch_size=256,
        device="cpu",
        random_state=None,
    ):
        store_init_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, sensitive_features=None):
        """Learn the prototypes and their class distributions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; standardise the columns first, the memberships
            depend on Euclidean distances.
        y : array-like of shape (n_samples,)
            Class labels (two or more classes).
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns), default=None
            Group of each sample; ``None``/``NaN`` entries mark an unknown
            group. When None, the fairness term is off and a warning says so.

        Returns
        -------
        self : LFR
        """
        # float32 stays float32 (no copy of a large or memory-mapped array);
        # the optimisation itself runs in float64
        X, y = validate_numeric_data(
            self, X, y, dtype=[np.float64, np.float32], y_numeric=False
        )
        y_codes = encode_classes(self, y)
        n_samples = X.shape[0]
        if sensitive_features is None:
            warnings.warn(
                "sensitive_features is None: LFR is fitted without its fairness "
                "term (L_z = 0).",
                UserWarning,
                stacklevel=2,
            )
            group_codes = np.full(n_samples, -1, dtype=np.int64)
            self.groups_ = np.asarray([], dtype=object)
        else:
            groups, missing = check_sensitive_features(
                sensitive_features, n_samples, allow_missing=True, min_groups=2
            )
            group_codes, self.groups_ = encode_groups(groups, missing)
        device = torch.device(self.device)
        rng = check_random_state(self.random_state)

        X_t = shared_tensor(X, device)
        y_t = torch.as_tensor(y_codes, dtype=torch.int64, device=device)
        g_t = torch.as_tensor(group_codes, dtype=torch.int64, device=device)
        n_prototypes = self.n_prototypes
        if n_prototypes == "auto":
            n_classes = len(self.classes_)
            n_prototypes = 5 if n_classes == 2 else 6 * n_classes
        start = rng.choice(n_samples, n_prototypes, replace=n_samples < n_prototypes)
        # Rows of X as starting prototypes put every v_k where the data are;
        # the jitter separates duplicated rows so their gradients differ.
        spread = column_spread(X_t) + 1e-12
        init = np.asarray(X[start], dtype=np.float64) + 1e-2 * spread * rng.standard_normal(
            (n_prototypes, X.shape[1])
        )
        prototypes = torch.tensor(
            init, dtype=torch.float64, device=device, requires_grad=True
        )
        logits = torch.tensor(
            0.1 * rng.standard_normal((n_prototypes, len(self.classes_))),
            dtype=torch.float64,
            device=device,
            requires_grad=True,
        )
        settings = {
            "n_groups": len(self.groups_),
            "reconstruct_weight": self.reconstruct_weight,
            "target_weight": self.target_weight,
            "fairness_weight": self.fairness_weight,
            "fairness_reference": self.fairness_reference,
        }
        params = (prototypes, logits)
        if self.solver == "lbfgs":
            self.n_iter_ = fit_lbfgs(
                X_t, y_t, g_t, params, settings, max_iter=self.max_iter, tol=self.tol
            )
        else:
            self.n_iter_ = fit_adam(
                X_t, y_t, g_t, params, settings, rng, max_iter=self.max_iter,
                tol=self.tol, learning_rate=self.learning_rate,
                batch_size=self.batch_size,
            )
        if self.n_iter_ >= self.max_iter:
            warnings.warn(
                f"LFR ({self.solver}) stopped after max_iter={self.max_iter} "
                "iterations before meeting tol; increase max_iter.",
                ConvergenceWarning,
                stacklevel=2,
            )
        with torch.no_grad():
            total, terms = chunked_objective(X_t, y_t, g_t, *params, **settings)
            self.loss_ = float(total)
            self.loss_terms_ = dict(
                zip(("reconstruction", "prediction", "fairness"), map(float, terms))
            )
            self.prototypes_ = prototypes.detach().cpu().numpy()
            self.prototype_proba_ = torch.softmax(logits, dim=1).cpu().numpy()
        if not np.isfinite(self.loss_):
            raise TrainingDivergedError(
                "LFR diverged (non-finite objective); standardise X or lower "
                "the weights."
            )
        warn_single_class(
            "LFR", np.argmax(self.predict_proba(X), axis=1), y_codes,
            causes="the optimisation stopped early (max_iter) or fairness_weight "
            "made a constant prediction optimal",
        )
        return self

    def _memberships_numpy(self, X):
        check_is_fitted(self)
        X = validate_numeric_data(self, X, dtype=[np.float64, np.float32], reset=False)
        V = torch.as_tensor(self.prototypes_, dtype=torch.float64)
        return chunked_memberships(shared_tensor(X, "cpu"), V)

    def transform(self, X):
        """The fair representation of ``X`` (n_samples, n_features).

        The memberships M, shape (n_samples, K), or the reconstruction M V,
        shape (n_samples, n_features), when ``representation="reconstruction"``.
        """
        M = self._memberships_numpy(X)
        if self.representation == "reconstruction":
            return M @ self.prototypes_
        return M

    def predict_proba(self, X):
        """Class probabilities :math:`\\sum_k M_{nk} w_k`, shape (n_samples, n_classes).

        Columns in the order of ``classes_``.
        """
        return self._memberships_numpy(X) @ self.prototype_proba_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
