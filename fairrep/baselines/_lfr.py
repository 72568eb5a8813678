"""Learned Fair Representations (Zemel et al., 2013) with torch autograd."""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..exceptions import TrainingDivergedError
from ..utils import check_sensitive_features, encode_groups
from ..utils._guards import warn_single_class
from ..utils._validation import validate_numeric_data

__all__ = ["LFR"]

# Keeps log(p) finite when a prototype mixture gives a class zero probability.
_EPS = float(np.finfo(np.float64).eps)
# L-BFGS also stops once this many objective evaluations in a row have lowered
# the best objective by less than _LBFGS_RTOL of its value (see LFR's
# ``solver``). On arrests, german and the synthetic set (8 seeds each) a window
# of 80 ends the long tails of tiny steps along the kinks of L_z without
# changing the objective reached; 50 lost up to 4% on some synthetic seeds.
_LBFGS_WINDOW = 80
_LBFGS_RTOL = 1e-4
# Rows per chunk where LFR walks the whole training set (initial spread, final
# objective, transform): bounds the float64 temporaries to a chunk.
_CHUNK_ROWS = 65536


def _memberships(X, prototypes):
    """Softmax over negative Euclidean distances: M[n, k] = P(Z = k | x_n)."""
    # Computed as (K, n) and softmaxed over dim 0: the reduction runs over
    # contiguous memory, several times faster on CPU than over a short last dim.
    return torch.softmax(-torch.cdist(prototypes, X), dim=0).T


def _parity_matrix(group_codes, n_groups, fairness_reference, dtype):
    """(n_samples, n_terms) matrix B such that M.T @ B holds every L_z difference.

    Column j of ``M.T @ B`` is, for ``"pairs"``, ``Mbar_g - Mbar_h`` for the j-th
    pair of groups present and, for ``"pool"``, ``Mbar_g - Mbar`` for the j-th group
    present, ``Mbar`` being the mean over every sample with a known group. Groups
    absent from the rows (a mini-batch may miss one) and samples with an unknown
    group (code -1) get no weight. Returns None when fewer than two groups are
    present (L_z = 0). Built once, it turns L_z into one matrix product.
    """
    device = group_codes.device
    onehot = (
        group_codes[None, :] == torch.arange(n_groups, device=device)[:, None]
    ).to(dtype)
    counts = onehot.sum(dim=1)
    present = counts > 0
    if int(present.sum()) < 2:
        return None
    averaging = onehot[present] / counts[present, None]
    if fairness_reference == "pairs":
        first, second = torch.triu_indices(
            len(averaging), len(averaging), offset=1, device=device
        )
        return (averaging[first] - averaging[second]).T.contiguous()
    pooled = onehot[present].sum(dim=0) / counts[present].sum()
    return (averaging - pooled).T.contiguous()


class _Stalled(Exception):
    """Raised inside the L-BFGS closure to end the optimisation."""


class _Objective:
    """The LFR objective on fixed rows, with everything not depending on (V, w) precomputed.

    Works in the (n_prototypes, n_samples) layout: the softmax over prototypes
    and the reductions then run over contiguous memory. With S = V X^T, the
    squared distances are ``|x|^2 - 2 S + |v|^2`` and the reconstruction error
    ``sum_n |M_n V - x_n|^2 = sum(M^T * (V V^T) M^T) - 2 sum(M^T * S) + |X|^2``, so
    no (n_samples, n_features) intermediate is formed. Autograd differentiates it.

    ``parity`` passes the rows' slice of a :func:`_parity_matrix` built on more
    rows than these (the whole training set, when the objective is summed over
    chunks by :func:`_chunked_objective`); by default it is built on these rows.
    """

    def __init__(
        self,
        X,
        y_codes,
        group_codes,
        *,
        n_groups,
        reconstruct_weight,
        target_weight,
        fairness_weight,
        fairness_reference="pairs",
        parity="rows",
    ):
        self.X_T = X.T.contiguous()
        self.sq_norms = X.pow(2).sum(dim=1)
        self.total_sq_norm = self.sq_norms.sum()
        self.shape = tuple(X.shape)
        self.y_codes = y_codes[None, :]
        if isinstance(parity, str):
            parity = _parity_matrix(group_codes, n_groups, fairness_reference, X.dtype)
        self.parity = parity
        self.weights = (reconstruct_weight, target_weight, fairness_weight)

    def sums(self, prototypes, class_logits):
        """The objective's additive parts over these rows.

        Returns ``(squared_error, log_loss, gaps)``: the reconstruction's
        summed squared error, the summed cross-entropy of the predictions,
        and ``M^T B`` of shape (n_prototypes, n_terms) (None without L_z),
        each a sum over the rows, so parts of disjoint rows add up to the
        whole set's.
        """
        S = prototypes @ self.X_T  # (K, n)
        squared = (self.sq_norms - 2 * S) + prototypes.pow(2).sum(dim=1)[:, None]
        # The floor keeps the gradient of sqrt finite where a prototype sits on
        # a sample (the expansion can round a zero distance below zero).
        floor = torch.finfo(squared.dtype).tiny
        M_T = torch.softmax(-squared.clamp_min(floor).sqrt(), dim=0)
        gram = prototypes @ prototypes.T
        squared_error = (
            ((gram @ M_T) * M_T).sum() - 2 * (M_T * S).sum() + self.total_sq_norm
        )
        proba_T = torch.softmax(class_logits, dim=1).T @ M_T  # (n_classes, n)
        picked = proba_T.gather(0, self.y_codes)
        log_loss = -torch.log(picked.clamp_min(_EPS)).sum()
        gaps = None if self.parity is None else M_T @ self.parity
        return squared_error, log_loss, gaps

    def __call__(self, prototypes, class_logits):
        return _combine(self.sums(prototypes, class_logits), self.shape, self.weights)


def _combine(sums, shape, weights):
    """``(total, (L_x, L_y, L_z))`` from the additive parts over ``shape`` rows x columns."""
    squared_error, log_loss, gaps = sums
    n_samples, n_features = shape
    reconstruction = squared_error / (n_samples * n_features)
    prediction = log_loss / n_samples
    parity = log_loss.new_zeros(()) if gaps is None else gaps.abs().mean()
    ax, ay, az = weights
    total = ax * reconstruction + ay * prediction + az * parity
    return total, (reconstruction, prediction, parity)


def _shared_tensor(X, device):
    """A tensor over ``X``'s memory (float32 or float64) where it can be, on ``device``.

    Read-only (memory-mapped) arrays are shared too: the tensor is only read.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        tensor = torch.as_tensor(X)
    return tensor.to(device)


def _float64_rows(X, start, stop):
    """Rows ``start:stop`` of a tensor, as float64 (a copy of those rows only)."""
    return X[start:stop].to(torch.float64)


@torch.no_grad()
def _chunked_objective(X, y_codes, group_codes, prototypes, class_logits, *,
                       n_groups, reconstruct_weight, target_weight, fairness_weight,
                       fairness_reference="pairs", chunk_rows=_CHUNK_ROWS):
    """:func:`lfr_objective` on all rows, evaluated ``chunk_rows`` rows at a time.

    The same value as one evaluation on every row (its parts are sums over
    rows, and the L_z matrix is built on all of them), with memory bounded by
    a chunk: ``X`` may be float32 (the rows are cast chunk by chunk) and is
    never copied whole.
    """
    parity = _parity_matrix(group_codes, n_groups, fairness_reference, torch.float64)
    weights = (reconstruct_weight, target_weight, fairness_weight)
    totals = None
    for start in range(0, X.shape[0], chunk_rows):
        stop = min(start + chunk_rows, X.shape[0])
        part = _Objective(
            _float64_rows(X, start, stop), y_codes[start:stop], None,
            n_groups=n_groups, reconstruct_weight=reconstruct_weight,
            target_weight=target_weight, fairness_weight=fairness_weight,
            parity=None if parity is None else parity[start:stop],
        ).sums(prototypes, class_logits)
        totals = part if totals is None else tuple(
            None if a is None else a + b for a, b in zip(totals, part)
        )
    return _combine(totals, tuple(X.shape), weights)


def _column_spread(X, chunk_rows=_CHUNK_ROWS):
    """Column standard deviations (float64 NumPy), a chunk of rows at a time."""
    n_samples = X.shape[0]
    total = torch.zeros(X.shape[1], dtype=torch.float64, device=X.device)
    for start in range(0, n_samples, chunk_rows):
        total += _float64_rows(X, start, min(start + chunk_rows, n_samples)).sum(dim=0)
    mean = total / n_samples
    spread = torch.zeros_like(total)
    for start in range(0, n_samples, chunk_rows):
        rows = _float64_rows(X, start, min(start + chunk_rows, n_samples))
        spread += (rows - mean).pow(2).sum(dim=0)
    return (spread / n_samples).sqrt().cpu().numpy()


def lfr_objective(
    X,
    y_codes,
    group_codes,
    prototypes,
    class_logits,
    *,
    n_groups,
    reconstruct_weight,
    target_weight,
    fairness_weight,
    fairness_reference="pairs",
):
    """The LFR objective ``A_x L_x + A_y L_y + A_z L_z`` of Zemel et al. (2013).

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
    y_codes : torch.Tensor of int64 of shape (n_samples,)
        Class index of each sample.
    group_codes : torch.Tensor of int64 of shape (n_samples,)
        Group index of each sample, ``-1`` where unknown.
    prototypes : torch.Tensor of shape (n_prototypes, n_features)
        The prototype locations v_k.
    class_logits : torch.Tensor of shape (n_prototypes, n_classes)
        Per-prototype logits; their softmax is the prototype's class
        distribution w_k.
    n_groups : int
    reconstruct_weight, target_weight, fairness_weight : float
        A_x, A_y, A_z.
    fairness_reference : {"pairs", "pool"}, default="pairs"
        How L_z compares the groups' mean memberships (see :class:`LFR`).

    Returns
    -------
    total : torch.Tensor (scalar)
    terms : tuple of three torch.Tensor
        (L_x, L_y, L_z), unweighted.
    """
    objective = _Objective(
        X,
        y_codes,
        group_codes,
        n_groups=n_groups,
        reconstruct_weight=reconstruct_weight,
        target_weight=target_weight,
        fairness_weight=fairness_weight,
        fairness_reference=fairness_reference,
    )
    return objective(prototypes, class_logits)


class LFR(ClassifierMixin, TransformerMixin, BaseEstimator):
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
        "n_prototypes": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "reconstruct_weight": [Interval(Real, 0, None, closed="left")],
        "target_weight": [Interval(Real, 0, None, closed="left")],
        "fairness_weight": [Interval(Real, 0, None, closed="left")],
        "fairness_reference": [StrOptions({"pairs", "pool"})],
        "representation": [StrOptions({"memberships", "reconstruction"})],
        "solver": [StrOptions({"lbfgs", "adam"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_prototypes="auto",
        *,
        reconstruct_weight=0.01,
        target_weight=1.0,
        fairness_weight=50.0,
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
        self.n_prototypes = n_prototypes
        self.reconstruct_weight = reconstruct_weight
        self.target_weight = target_weight
        self.fairness_weight = fairness_weight
        self.fairness_reference = fairness_reference
        self.representation = representation
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

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
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y must contain at least 2 classes; got {len(self.classes_)} "
                f"class(es): {self.classes_.tolist()}."
            )
        y_codes = encoder.transform(y)
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

        X_t = _shared_tensor(X, device)
        y_t = torch.as_tensor(y_codes, dtype=torch.int64, device=device)
        g_t = torch.as_tensor(group_codes, dtype=torch.int64, device=device)
        n_prototypes = self.n_prototypes
        if n_prototypes == "auto":
            n_classes = len(self.classes_)
            n_prototypes = 5 if n_classes == 2 else 6 * n_classes
        start = rng.choice(n_samples, n_prototypes, replace=n_samples < n_prototypes)
        # Rows of X as starting prototypes put every v_k where the data are;
        # the jitter separates duplicated rows so their gradients differ.
        spread = _column_spread(X_t) + 1e-12
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
        if self.solver == "lbfgs":
            self.n_iter_ = self._fit_lbfgs(X_t, y_t, g_t, prototypes, logits, settings)
        else:
            self.n_iter_ = self._fit_adam(
                X_t, y_t, g_t, prototypes, logits, settings, rng
            )
        if self.n_iter_ >= self.max_iter:
            warnings.warn(
                f"LFR ({self.solver}) stopped after max_iter={self.max_iter} "
                "iterations before meeting tol; increase max_iter.",
                ConvergenceWarning,
                stacklevel=2,
            )
        with torch.no_grad():
            total, terms = _chunked_objective(
                X_t, y_t, g_t, prototypes, logits, **settings
            )
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

    def _fit_lbfgs(self, X, y, groups, prototypes, logits, settings):
        # full-batch: every evaluation needs all rows, in float64
        objective = _Objective(X.to(torch.float64), y, groups, **settings)
        params = (prototypes, logits)
        best = {"loss": np.inf, "values": None}
        trail = []  # best objective after each evaluation

        def closure():
            optimizer.zero_grad()
            total, _ = objective(*params)
            total.backward()
            loss = total.item()
            if loss < best["loss"]:
                best["loss"] = loss
                best["values"] = [p.detach().clone() for p in params]
            trail.append(best["loss"])
            if len(trail) > _LBFGS_WINDOW and trail[-_LBFGS_WINDOW - 1] - best[
                "loss"
            ] <= _LBFGS_RTOL * max(1.0, abs(best["loss"])):
                raise _Stalled
            return total

        # |.| in L_z makes the objective non-smooth: the gradient does not vanish
        # at the minimum, L-BFGS crawls along the kinks, and the strong-Wolfe line
        # search can fail far from a minimum, which ends torch's L-BFGS early.
        # Restart it (dropping the curvature history) while restarts still make
        # progress, and stop from inside the closure once the objective stalls.
        n_iter, previous = 0, np.inf
        while n_iter < self.max_iter:
            optimizer = torch.optim.LBFGS(
                params,
                lr=1.0,
                max_iter=self.max_iter - n_iter,
                max_eval=2 * (self.max_iter - n_iter),
                tolerance_grad=self.tol,
                tolerance_change=1e-12,
                history_size=20,
                line_search_fn="strong_wolfe",
            )
            try:
                optimizer.step(closure)
                stalled = False
            except _Stalled:
                stalled = True
            n_iter += max(int(optimizer.state[prototypes].get("n_iter", 0)), 1)
            if stalled:
                break
            loss = best["loss"]
            gradient = max(float(p.grad.abs().max()) for p in params)
            if gradient <= self.tol or previous - loss <= 1e-9 * max(1.0, abs(loss)):
                break
            previous = loss
        # The line search may have left the parameters at a trial point.
        if best["values"] is not None:
            with torch.no_grad():
                for param, value in zip(params, best["values"]):
                    param.copy_(value)
        return n_iter

    def _fit_adam(self, X, y, groups, prototypes, logits, settings, rng):
        optimizer = torch.optim.Adam([prototypes, logits], lr=self.learning_rate)
        n_samples = X.shape[0]
        best, stale, epoch = np.inf, 0, 0
        for epoch in range(1, self.max_iter + 1):
            order = torch.as_tensor(rng.permutation(n_samples), device=X.device)
            running = 0.0
            for start in range(0, n_samples, self.batch_size):
                batch = order[start : start + self.batch_size]
                optimizer.zero_grad()
                rows = torch.index_select(X, 0, batch).to(torch.float64)
                total, _ = lfr_objective(
                    rows, y[batch], groups[batch], prototypes, logits, **settings
                )
                total.backward()
                optimizer.step()
                running += total.item() * len(batch)
            running /= n_samples
            stale = stale + 1 if best - running < self.tol else 0
            best = min(best, running)
            if stale >= 10:
                break
        return epoch

    def _memberships_numpy(self, X):
        check_is_fitted(self)
        X = validate_numeric_data(self, X, dtype=[np.float64, np.float32], reset=False)
        X_t = _shared_tensor(X, "cpu")
        V = torch.as_tensor(self.prototypes_, dtype=torch.float64)
        M = np.empty((X.shape[0], V.shape[0]), dtype=np.float64)
        # a chunk of rows at a time: no float64 copy of all of X
        for start in range(0, X.shape[0], _CHUNK_ROWS):
            stop = min(start + _CHUNK_ROWS, X.shape[0])
            M[start:stop] = _memberships(_float64_rows(X_t, start, stop), V).numpy()
        return M

    def transform(self, X):
        """Map samples to the fair representation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Z : ndarray of shape (n_samples, K) or (n_samples, n_features)
            The memberships M, or the reconstruction M V when
            ``representation="reconstruction"``.
        """
        M = self._memberships_numpy(X)
        if self.representation == "reconstruction":
            return M @ self.prototypes_
        return M

    def predict_proba(self, X):
        """Class probabilities :math:`\\sum_k M_{nk} w_k`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return self._memberships_numpy(X) @ self.prototype_proba_

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
