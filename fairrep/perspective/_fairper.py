"""FairPer: perspective-switchable classification on a fair representation (stage 2)."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from .._nn import (
    NeuralEstimatorMixin,
    as_float_tensor,
    store_init_params,
)
from ..utils._guards import validate_float32_data, warn_fairness_off
from ..utils._persistence import PortableNetMixin
from ..utils._torch import resolve_device, seed_from_random_state, torch_seed
from ..utils._validation import check_sensitive_features, encode_groups, is_missing
from ._labels import (
    check_targets,
    encode_targets,
    group_conditions,
    label_array,
    perspective_column,
    resolve_perspective,
)
from ._modules import PerspectiveModule
from ._net import FairPerNet
from ._stage1 import adapter_inputs, fit_representation, trainable_encoder

__all__ = ["FairPer"]


class FairPer(NeuralEstimatorMixin, PortableNetMixin, ClassifierMixin, TransformerMixin,
              BaseEstimator):
    r"""Perspective-switchable classifier on a fair representation (stage 2).

    Stage 2 of Chien & Lee (section 2.2.3, Fig. 4). On top of a fair
    representation (a :class:`~fairrep.FairRep`, or ``X`` itself; with
    ``X`` beside it if ``passthrough``), a fully
    connected layer adapts the representation, a triplet network embeds it
    in a :math:`d`-dimensional space, and one cross-entropy head per
    perspective (each rater group's consensus, and the gender-free truth)
    classifies it. The network minimises

    .. math::

        L_{Per} = L_2 + \lambda\,L_T

    where :math:`L_2` is the cross-entropy of every perspective's labels and
    :math:`L_T` the triplet loss of Veit et al. (2017). ``perspective``
    selects which head :meth:`predict`, :meth:`predict_proba`,
    :meth:`transform` and :meth:`score` use; switching it with
    ``set_params(perspective=...)`` needs no refit.

    Every (item, perspective) pair with a known label adds one
    cross-entropy term to :math:`L_2` (a missing label adds none). As in
    Veit et al.'s conditional similarity networks, a learned mask
    :math:`m_s` per perspective conditions a shared embedding :math:`f(x)`:
    :math:`z_s(x) = \mathrm{normalize}(f(x) \odot \mathrm{ReLU}(m_s))`;
    head :math:`s` reads :math:`f(x) \odot \mathrm{ReLU}(m_s)`, the
    triplets and :meth:`transform` read :math:`z_s(x)`. A sample's group
    (``sensitive_features``, from
    :func:`~fairrep.perspective.perspective_groups`) is the rater group
    whose perception its truth leans to, none on S1. In each mini-batch,
    every sample with a same-group and an other-group partner is an anchor
    :math:`a`, with a positive :math:`p` and a negative :math:`n` drawn
    uniformly; each triplet is scored under its anchor's perspective
    :math:`s_a` only (so every group must name a column of ``Y``):

    .. math::

        L_T = \frac{1}{|T|} \sum_{(a, p, n) \in T}
              \max\{0,\ \lVert z_{s_a}(x_a) - z_{s_a}(x_p) \rVert_2
              - \lVert z_{s_a}(x_a) - z_{s_a}(x_n) \rVert_2 + h\}

    (details in ``docs/fairper.rst``, "Design").

    Parameters
    ----------
    representation : estimator or None, default=None
        The stage-1 representation, e.g. :class:`~fairrep.FairRep`: anything
        with ``fit`` and ``transform``. None means ``X`` already is the
        representation (e.g. after a FairRep step in a Pipeline). A fitted
        estimator is used as is; an unfitted one is cloned and fitted in
        :meth:`fit` on the ``representation_target`` column of ``Y``, with
        ``sensitive_features`` when its ``fit`` accepts them, on the rows
        where that label is known. :func:`~sklearn.base.clone` (hence
        ``GridSearchCV``) unfits it, so in cross-validation it is refitted on
        each training fold; wrap a fitted one in
        :class:`sklearn.frozen.FrozenEstimator` to keep it.
    perspective : str or None, default=None
        The perspective :meth:`predict`, :meth:`predict_proba`,
        :meth:`transform` and :meth:`score` use: one of ``perspectives_``.
        None means the last column of ``Y``, which
        :func:`~fairrep.perspective.perspective_targets` makes the
        gender-free truth (``"all"``).
    representation_target : str or None, default=None
        Column of ``Y`` an unfitted ``representation`` is trained on; None
        means the last column (the truth, as in the paper's stage 1).
    freeze_representation : bool, default=True
        If True the representation is computed once and not trained further.
        If False the torch encoder it hands over
        (:meth:`fairrep.FairRep.export_encoder`, a copy) is put into the
        network and fine-tuned
        with :math:`L_{Per}`; ``transform`` then reads raw features.
    passthrough : bool, default=False
        If False the adapter reads the representation only, as drawn in the
        paper's Fig. 4: stage 2 is built on the fair representation alone.
        If True it reads the representation and ``X`` side by side,
        ``[representation(X), X]``, as ``passthrough`` of
        :class:`~sklearn.ensemble.StackingClassifier` does; this gives the
        heads back the raw features, rater-group information included,
        that stage 1 removed (its measured effect on Tables 3 and 4 is in
        ``docs/fairper.rst``). No effect when ``representation`` is None
        (``X`` then is all there is, so a Pipeline
        ``FrozenEstimator(fairrep) -> FairPer()`` equals an owning FairPer).
    hidden_size : int, default=64
        Width of the fully connected layer adapting the representation.
    embedding_dim : int, default=32
        Dimension :math:`d` of the triplet embedding.
    triplet_weight : float, default=0.01
        :math:`\lambda`, the weight of :math:`L_T` (the paper grid-searches
        [0.01, 0.001]). 0 trains the heads only.
    margin : float, default=0.2
        Triplet margin :math:`h` (Veit et al. use 0.2), on unit-norm
        embeddings, so at most 2 is meaningful.
    dropout : float, default=0.2
        Dropout after the adapter and before the heads (section 3.1).
    lr : float, default=1e-3
        Adam learning rate (section 3.1).
    weight_decay : float, default=1e-3
        Adam weight decay (section 3.1: "decay 0.001"; its effect on the
        simulated corpus is in ``docs/fairper.rst``).
    batch_size : int, default=32
        Mini-batch size (section 3.1); triplets are drawn within a batch.
    max_epochs : int, default=50
        Number of passes over the data, the most with early stopping.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the samples (stratified by the
        labels of the representation's target perspective) and stop when
        the held-out :math:`L_2` has not improved for ``n_iter_no_change``
        epochs, restoring the best weights. :math:`L_2` is monitored rather
        than :math:`L_{Per}`, whose triplets are drawn at random per batch.
        The representation is fitted on all the samples, as without it.
    validation_fraction : float, default=0.1
        Share of the samples held out for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    start_from_epoch : int, default=0
        Epochs before early stopping starts watching (as in
        :class:`~fairrep.FairRep`).
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the triplet draws
        (and an unfitted ``representation`` is fitted as configured; give it
        its own ``random_state``).
    verbose : int, default=0
        0 is silent; 1 prints skorch's epoch table; 2 adds a progress bar.

    Attributes
    ----------
    perspectives_ : ndarray of str of shape (n_perspectives,)
        The perspectives learned: ``Y``'s column names (as strings) for a
        DataFrame, ``"0", "1", ...`` for an array (``"0"`` for a 1-D ``y``).
    classes_ : ndarray of shape (n_classes,)
        The labels of all perspectives together; every head predicts among
        them.
    groups_ : ndarray of shape (n_groups,) or None
        The perspective groups of the triplets; None without
        ``sensitive_features``.
    representation_ : estimator or None
        The fitted representation (None when ``representation`` is None).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        When ``X`` has string column names.
    net_ : skorch.NeuralNet
        The trained private net.
    history_ : pandas.DataFrame
        One row per epoch: ``train_loss`` (:math:`L_{Per}`),
        ``perspective_loss`` (:math:`L_2`), ``triplet_loss``
        (:math:`L_T`), ``valid_loss`` (the held-out :math:`L_2`, with early
        stopping), ``dur``.
    n_iter_ : int
        Number of epochs run.

    See Also
    --------
    fairrep.FairRep : Stage 1, the fair representation.
    fairrep.perspective.perspective_targets : ``Y`` and the groups from
        multi-rater labels.

    Notes
    -----
    scikit-learn scorers pass a 1-D ``y``; :meth:`score` takes a 1-D ``y``
    (the labels of the current perspective) or the 2-D ``Y`` of
    :meth:`fit`, from which it reads the current perspective's column, so
    ``GridSearchCV(FairPer(...), ...)`` with the default scoring ranks
    candidates by accuracy under ``perspective``. Missing labels are left
    out of the score.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.2.3, Fig. 4.
    .. [2] A. Veit, S. Belongie and T. Karaletsos, "Conditional Similarity
       Networks", CVPR 2017.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from fairrep.perspective import FairPer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 4))
    >>> truth = np.where(X[:, 0] > 0, "ang", "neu")
    >>> male = np.where(X[:, 0] + X[:, 1] > 0, "ang", "neu")
    >>> female = np.where(X[:, 0] - X[:, 1] > 0, "ang", "neu")
    >>> Y = pd.DataFrame({"male": male, "female": female, "all": truth})
    >>> groups = np.select([male != female], [np.where(male == truth, "male",
    ...                    "female")], None)
    >>> model = FairPer(max_epochs=20, random_state=0).fit(
    ...     X, Y, sensitive_features=groups)
    >>> model.perspectives_.tolist()
    ['male', 'female', 'all']
    >>> model.transform(X).shape
    (300, 32)
    >>> model.set_params(perspective="male").predict_all(X).shape
    (300, 3)
    """

    _parameter_constraints: dict = {
        "representation": [HasMethods(["fit", "transform"]), None],
        "perspective": [str, None],
        "representation_target": [str, None],
        "freeze_representation": ["boolean"],
        "passthrough": ["boolean"],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "triplet_weight": [Interval(Real, 0, None, closed="left")],
        "margin": [Interval(Real, 0, None, closed="neither")],
        **NeuralEstimatorMixin._parameter_constraints,
    }

    def __init__(
        self,
        representation=None,
        *,
        perspective=None,
        representation_target=None,
        freeze_representation=True,
        passthrough=False,
        hidden_size=64,
        embedding_dim=32,
        triplet_weight=0.01,
        margin=0.2,
        dropout=0.2,
        lr=1e-3,
        weight_decay=1e-3,
        batch_size=32,
        max_epochs=50,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        start_from_epoch=0,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        store_init_params(self, locals())

    # -- fitting ------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, Y, *, sensitive_features=None):
        """Fit the representation (if needed) and the perspective network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input of ``representation`` (or the representation itself
            when ``representation`` is None); no missing values.
        Y : array-like of shape (n_samples, n_perspectives) or (n_samples,)
            One column of class labels per perspective; a DataFrame's column
            names name the perspectives. Missing labels (None/NaN) are
            allowed per cell and add no :math:`L_2` term. A 1-D ``y`` is one
            perspective.
        sensitive_features : array-like of shape (n_samples,), default=None
            The rater-group perspective of each sample for the triplets (see
            :func:`~fairrep.perspective.perspective_groups`); None/NaN where
            a sample has none. Also passed to an unfitted ``representation``.
            When None, no triplet term is used. With ``triplet_weight > 0``
            at least two groups are required.

        Returns
        -------
        self : FairPer
        """
        # nested validation stays on: the representation is a user estimator
        X = validate_float32_data(self, X, reset=True)
        n_samples = X.shape[0]
        labels, missing, names = check_targets(Y, n_samples)
        perspective_index = resolve_perspective(names, self.perspective)
        target_index = resolve_perspective(
            names, self.representation_target, argument="representation_target"
        )

        classes, codes = encode_targets(labels, missing)

        if sensitive_features is None:
            warn_fairness_off(self, ("triplet_weight",))
            group_codes = np.full(n_samples, -1, dtype=np.int64)
            groups = None
        else:
            min_groups = 2 if self.triplet_weight > 0 else 1
            group_labels, group_missing = check_sensitive_features(
                sensitive_features, n_samples, min_groups=min_groups
            )
            group_codes, groups = encode_groups(group_labels, group_missing)

        conditions = group_conditions(groups, names, self.triplet_weight)
        device = resolve_device(self.device)
        rows = ~missing[:, target_index]
        representation = fit_representation(
            self.representation, X, label_array(labels[rows, target_index]), rows,
            sensitive_features, copy_fitted=not self.freeze_representation,
        )
        encoder = None
        if representation is None or self.freeze_representation:
            inputs = adapter_inputs(representation, X, self.passthrough)
            n_adapter_inputs = inputs.shape[1]
        else:
            encoder = trainable_encoder(representation)
            inputs = X
            n_adapter_inputs = representation.transform(X[:1]).shape[1]
            if self.passthrough:
                n_adapter_inputs += X.shape[1]
        inputs = as_float_tensor(inputs, device)

        data = {
            "X": inputs,
            "group": torch.as_tensor(group_codes, dtype=torch.int64, device=device),
        }
        target = torch.as_tensor(codes, dtype=torch.int64, device=device)
        train, valid = self._holdout(data, target, stratify=codes[:, target_index])
        seed = seed_from_random_state(self.random_state)
        with torch_seed(seed, device):
            net = self._build_net(
                n_features=n_adapter_inputs,
                n_perspectives=len(names),
                n_classes=classes.shape[0],
                encoder=encoder,
                device=device,
                group_conditions=conditions,
            )
            self._train(net, train, data["X"], valid=valid)

        self.perspectives_ = np.asarray(names, dtype=object)
        self.classes_ = classes
        self.groups_ = groups
        self.representation_ = representation
        self._perspective_index_fit = perspective_index
        self._set_fitted_net(net, data["X"], codes)
        return self

    def _build_net(self, *, n_features, n_perspectives, n_classes, encoder, device,
                   group_conditions=None):
        return FairPerNet(
            module=PerspectiveModule,
            module__n_features=n_features,
            module__hidden_size=int(self.hidden_size),
            module__embedding_dim=int(self.embedding_dim),
            module__n_perspectives=n_perspectives,
            module__n_classes=n_classes,
            module__dropout=float(self.dropout),
            module__encoder=encoder,
            module__passthrough=bool(self.passthrough),
            triplet_weight=float(self.triplet_weight),
            margin=float(self.margin),
            group_conditions=group_conditions,
            **self._net_params(
                device=device,
                callbacks=self._base_callbacks(early_stopping=self.early_stopping),
            ),
        )

    # -- inference ----------------------------------------------------------
    def _current_perspective(self):
        check_is_fitted(self)
        return resolve_perspective(list(self.perspectives_), self.perspective)

    def _net_inputs(self, X):
        if self.freeze_representation:
            return adapter_inputs(self.representation_, X, self.passthrough)
        return X

    def _select(self, outputs):
        """The logits and embedding of the current perspective."""
        index = self._current_perspective()
        logits, embedding = outputs
        return logits[:, index, :], embedding[:, index, :]

    def transform(self, X):
        """The embedding :math:`z_s(x)` conditioned on the current perspective.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        embedding : ndarray of float32 of shape (n_samples, embedding_dim)
            Unit-norm rows: the space the triplet loss shapes.
        """
        return self._select(self._forward(X))[1].numpy()

    def predict_all(self, X):
        """Predictions under every perspective at once, for a report.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        predictions : pandas.DataFrame of shape (n_samples, n_perspectives)
            One column per perspective, in ``perspectives_`` order; indexed
            like ``X`` when it is a DataFrame.
        """
        check_is_fitted(self)
        index = X.index if isinstance(X, pd.DataFrame) else None
        logits = self._forward(X)[0]
        codes = logits.argmax(dim=2).numpy()
        return pd.DataFrame(
            {
                name: self.classes_[codes[:, j]]
                for j, name in enumerate(self.perspectives_)
            },
            index=index,
        )

    def score(self, X, y, sample_weight=None):
        """Accuracy under the current perspective.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_perspectives)
            The labels of the current perspective, or the 2-D ``Y`` of
            :meth:`fit`, whose column for the current perspective is used.
            Missing labels are left out.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        index = self._current_perspective()
        y = perspective_column(y, list(self.perspectives_), index)
        known = ~is_missing(y)
        y_pred = self.predict(X)
        weight = None if sample_weight is None else np.asarray(sample_weight)[known]
        return accuracy_score(
            label_array(y[known]), y_pred[known], sample_weight=weight
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
