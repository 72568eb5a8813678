"""FairRep: the fairness-constrained adversarial representation (stage 1)."""

from numbers import Integral, Real

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._nn import BaseNeuralClassifier, check_layer_sizes, store_init_params
from ._distances import DISTANCES
from ._modules import Critic, GroupClassifier, RepresentationModule
from ._net import FairRepNet

__all__ = ["FairRep"]

_DISTANCE_PARAMS = {
    "sinkhorn": {"reg", "n_iter"},
    "sliced": {"n_projections"},
    "exact": set(),
    "critic": {"n_hidden", "clip", "gradient_penalty"},
}

#: The critic's Lipschitz constraint unless ``distance_params`` says otherwise:
#: WGAN-GP (Gulrajani et al., 2017), no weight clipping.
_CRITIC_DEFAULTS = {"clip": None, "gradient_penalty": 10.0}


def _optional_float(value):
    return None if value is None else float(value)


class FairRep(BaseNeuralClassifier):
    r"""Fair representation by adversarial and distribution-distance training.

    Stage 1 of Chien & Lee (section 2.2.2, Fig. 3). An encoder MLP maps the
    features to an embedding; an emotion head is trained on it with the
    cross-entropy :math:`L_1`; an adversary predicts the sensitive group (the
    rater gender in the paper) from the embedding with the cross-entropy
    :math:`L_A`; and the distance :math:`L_D` between the groups' embeddings
    in each mini-batch is penalised. The encoder minimises eq. (1):

    .. math::

        L_{Rep} = L_1 - w\,L_A + \alpha\,L_D

    while the adversary minimises :math:`L_A`. The adversary (and the
    critic of ``distance="critic"``) has its own Adam optimizer and is
    trained on the detached embedding; the encoder's term is computed through
    the adversary with its parameters held fixed. Both get their gradients
    from one backward pass per mini-batch and step together (simultaneous
    updates, as with a gradient-reversal layer, Ganin et al., 2016;
    ``adversary_steps > 1`` adds adversary updates before the simultaneous
    one). ``adversary_loss`` chooses what the encoder maximises in place of
    :math:`L_A`:

    - ``"confusion"`` (default): the encoder minimises
      :math:`\mathrm{KL}(u \,\|\, p_{adv})`, the cross-entropy of the
      adversary's group probabilities to the uniform distribution minus its
      minimum :math:`\log K` (domain confusion). Its optimum is the
      adversary at chance, which is what "no group information" means;
      literally maximising :math:`L_A` is unbounded and is also maximised
      by an adversary that is *confidently wrong*, which keeps the group
      readable.
    - ``"capped"``: maximise :math:`\min(L_{A,i}, \log K)` per sample:
      eq. (1) whenever the adversary is better than chance on a sample, no
      reward for pushing it past chance.
    - ``"reversal"``: eq. (1) literally, :math:`-w L_A` (gradient reversal,
      Ganin et al., 2016).

    The defaults (``"confusion"``, ``w = 3``) are fairrep's, chosen on the
    embedded corpus; ``adversary_loss="reversal", adversary_weight=1`` is
    the paper's configuration (measurements in ``docs/fairrep.rst``).

    :meth:`partial_fit` streams data too large for memory (one epoch per chunk).

    The variants of the paper's ablation are presets:
    :meth:`fairrep_g` (FairRepG, no distance term, ``alpha=0``) and
    :meth:`fairrep_f` (FairRepF, no group adversary, ``adversary_weight=0``,
    close to NRL).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Widths of the encoder's hidden layers, before the embedding layer.
    embedding_dim : int, default=64
        Size of the representation returned by :meth:`transform`.
    alpha : float, default=0.01
        Weight :math:`\alpha` of :math:`L_D`. The paper grid-searches
        ``[0.01, 0.001]`` (section 3.1); 0.01 is the stronger constraint.
        0 disables the term (FairRepG).
    adversary_weight : float, default=3.0
        Weight :math:`w` of the encoder's adversarial term; eq. (1) has
        :math:`w = 1`. 0 disables the adversary (FairRepF).
    adversary_loss : {"confusion", "capped", "reversal"}, default="confusion"
        What the encoder maximises against the adversary (see above):
        domain confusion, :math:`L_A` capped at chance level per sample, or
        :math:`L_A` itself (eq. 1 literally). The adversary always descends
        :math:`L_A`; its update is simultaneous with the encoder's (above).
    adversary_steps : int, default=1
        Updates of the adversary and of the critic per encoder update: one
        simultaneous with the encoder's (see above) and ``adversary_steps
        - 1`` extra ones before it, on the batch's fixed embedding. A
        critic that lags the encoder underestimates the distance; more
        steps keep it tight at the price of training time.
    distance : {"sinkhorn", "sliced", "exact", "critic"}, default="sinkhorn"
        How :math:`L_D` measures the Wasserstein distance between the groups'
        embeddings in a mini-batch:

        - ``"sinkhorn"``: debiased entropic (Sinkhorn) divergence with squared
          Euclidean cost, the quantity of POT's
          :func:`ot.bregman.empirical_sinkhorn_divergence`, solved in torch
          with a fixed number of Sinkhorn iterations; the
          regularisation is relative to the batch's mean squared distance.
        - ``"sliced"``: squared sliced 2-Wasserstein distance (POT's
          :func:`ot.wasserstein_1d` on random projections).
        - ``"exact"``: squared 2-Wasserstein distance by network simplex
          (POT's :func:`ot.emd2`), differentiable through the optimal plan.
        - ``"critic"``: Wasserstein-1 estimated by a WGAN critic, as NRL
          (Feng et al., 2019), kept 1-Lipschitz by a gradient penalty
          (WGAN-GP) or weight clipping (``distance_params``); give it several
          ``adversary_steps`` (:class:`~fairrep.baselines.NRL` uses 5).

        With more than two groups, :math:`L_D` is the mean over every pair of
        groups present in the batch. A batch with fewer than two groups
        skips the term.
    scale_free : bool, default=True
        The one deliberate change to eq. (1): :math:`L_D` measures how far
        apart the groups are, not how large the embedding is. The embedding
        layer is ``Linear -> BatchNorm1d(affine=False)`` (every unit has
        zero mean and unit variance over the batch; the running statistics
        at inference), so the head, the adversary and the distance read an
        embedding whose scale is fixed; :math:`L_D` (``"sinkhorn"``,
        ``"sliced"``, ``"exact"``) is computed on the batch-whitened
        embedding (shrinkage 10 % of the mean variance), less the same
        distance between a random split of the batch with the groups' sizes
        (the floor of a mini-batch estimate). So :math:`L_D` is zero in
        expectation when the embedding does not depend on the group, can be
        negative on a batch, and is lowered only by making the groups'
        embeddings alike. ``False`` is eq. (1) as printed: a ReLU embedding
        and the raw squared-Euclidean distance, which the encoder lowers by
        shrinking the embedding (``docs/fairrep.rst``).
    score_weight : float, default=0.0
        Weight :math:`\beta` of a term that is not in the paper:
        :math:`L_S`, the soft statistical parity of the predictions (for
        each class, the largest gap between two groups' mean predicted
        probability in the mini-batch, summed over classes, less the same
        gap between a random split of the batch, a constant of the loss, so
        that it is zero in expectation when the mean prediction does not
        depend on the group).
        Parity is a property of the predictions; this term acts on them
        directly, where :math:`L_A` and :math:`L_D` act on the embedding.
        0 (the default) is eq. (1). Use it with
        :class:`~fairrep.model_selection.FairnessTolerance` to reach a
        stated parity (``docs/tolerance.rst``).
    distance_params : dict, default=None
        Options of the distance: ``"sinkhorn"``: ``reg`` (relative
        regularisation, default 0.1) and ``n_iter`` (default 10);
        ``"sliced"``: ``n_projections`` (default 50); ``"critic"``:
        ``n_hidden`` (default ``embedding_dim``), ``gradient_penalty``
        (default 10.0; 0 disables the penalty) and ``clip`` (default None,
        no weight clipping; ``{"clip": 0.01, "gradient_penalty": 0}`` is the
        original WGAN critic, whose estimate stays near 0.003 and hardly
        moves the representation, see :class:`~fairrep.baselines.NRL`).
    dropout : float, default=0.2
        Dropout rate between layers (section 3.1).
    lr : float, default=1e-3
        Adam learning rate (section 3.1).
    weight_decay : float, default=1e-3
        Adam weight decay (the paper's "decay", section 3.1).
    batch_size : int, default=32
        Mini-batch size (section 3.1).
    max_epochs : int, default=100
        Number of passes over the data (or the most, with early stopping).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified by ``y``)
        and stop when the validation :math:`L_1` has not improved for
        ``n_iter_no_change`` epochs, restoring the best weights. The
        emotion loss is monitored rather than eq. (1), whose :math:`-L_A`
        part is a saddle-point term that need not decrease.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    start_from_epoch : int, default=0
        Epochs of each fit that early stopping ignores (a warm-up, e.g. for NRL's critic).
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where to train; ``"auto"`` uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split; the same integer gives the same :meth:`transform` output.
    verbose : int, default=0
        0 is silent; 1 prints skorch's epoch table; 2 adds a progress bar.
    callbacks : list of skorch callbacks, default=None
        Extra :mod:`skorch.callbacks` (instances or ``(name, callback)``
        tuples); they are copied, never mutated.
    warm_start : bool, default=False
        If True, a further ``fit`` continues training the fitted network for
        ``max_epochs`` more epochs instead of starting anew (same classes and
        feature count required). It re-reads ``lr``, ``max_epochs``,
        ``alpha``, ``adversary_weight``, ``adversary_loss``,
        ``adversary_steps`` and ``distance_params``, so a path over the
        fairness weights can be walked with warm starts; a change of the
        architecture (``distance``, ``scale_free``, a term whose module was
        never built) raises. :meth:`partial_fit` always continues.
    num_threads : "auto", int or None, default="auto"
        torch's intra-op threads while training on the CPU (:meth:`fit`
        and :meth:`partial_fit`); the previous setting is restored
        afterwards. ``"auto"`` uses one thread when ``batch_size`` is at
        most 1024 (a mini-batch's matrix products are small; measurements in
        ``benchmarks/README.md``), else torch's current count. An int uses
        that many threads. Unless None, NumPy's BLAS (which
        runs the Sinkhorn solve of :math:`L_D` on the CPU) is held to one
        thread while training. None leaves both alone. The setting is
        process-wide while training, so do not train other torch models in
        other threads of the same process at that time.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    groups_ : ndarray of shape (n_groups,) or None
        The sensitive groups seen in ``fit``, in code order; None when fitted
        without ``sensitive_features``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit``, when ``X`` has string column names.
    net_ : skorch.NeuralNet
        The trained private net (its ``module_`` is the encoder and head,
        ``adversary_`` and ``critic_`` the adversarial parts when used).
    history_ : pandas.DataFrame
        One row per epoch: ``train_loss`` (eq. 1), ``emotion_loss``
        (:math:`L_1`), ``adversary_loss`` (:math:`L_A`), ``distance_loss``
        (:math:`L_D`), ``score_loss`` (:math:`L_S`), ``valid_loss`` (validation :math:`L_1`, with early
        stopping) and ``dur`` (seconds); columns of unused terms are dropped.
    n_iter_ : int
        Number of epochs run (all of them, across warm starts and
        :meth:`partial_fit` calls).

    See Also
    --------
    fairrep.baselines.DNNClassifier : The same network without fairness terms.
    fairlearn.adversarial.AdversarialFairnessClassifier : Debiases predictions.

    Notes
    -----
    ``fit(X, y)`` without ``sensitive_features`` trains a plain classifier.
    Samples whose sensitive value is missing (``None``/``NaN``) count in
    :math:`L_1` only, so the adversary can learn on S2 alone, as the paper
    does.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.2.2, eq. (1).
    .. [2] R. Feng, Y. Yang, Y. Lyu, C. Tan, Y. Sun and C. Wang, "Learning Fair
       Representations via an Adversarial Framework", 2019 (NRL).
    .. [3] Y. Ganin et al., "Domain-Adversarial Training of Neural
       Networks", JMLR 17, 2016.
    .. [4] I. Gulrajani et al., "Improved Training of Wasserstein GANs",
       NeurIPS 2017 (the critic's gradient penalty).

    Examples
    --------
    >>> import numpy as np
    >>> from fairrep.representation import FairRep
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> gender = np.where(X[:, 1] > 0, "female", "male")
    >>> model = FairRep(hidden_layer_sizes=(16,), embedding_dim=8, max_epochs=5,
    ...                 random_state=0).fit(X, y, sensitive_features=gender)
    >>> model.transform(X).shape
    (200, 8)
    >>> model.groups_.tolist()
    ['female', 'male']
    >>> list(model.history_.columns)
    ['epoch', 'train_loss', 'emotion_loss', 'adversary_loss', 'distance_loss', 'dur']
    """

    _parameter_constraints: dict = {
        **BaseNeuralClassifier._parameter_constraints,
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "adversary_weight": [Interval(Real, 0, None, closed="left")],
        "distance": [StrOptions(set(DISTANCES))],
        "distance_params": [dict, None],
        "adversary_loss": [StrOptions({"reversal", "capped", "confusion"})],
        "adversary_steps": [Interval(Integral, 1, None, closed="left")],
        "scale_free": ["boolean"],
        "score_weight": [Interval(Real, 0, None, closed="left")],
    }

    _uses_groups = True

    def __init__(
        self,
        hidden_layer_sizes=(256, 128),
        *,
        embedding_dim=64,
        alpha=0.01,
        adversary_weight=3.0,
        distance="sinkhorn",
        distance_params=None,
        adversary_loss="confusion",
        adversary_steps=1,
        scale_free=True,
        score_weight=0.0,
        dropout=0.2,
        lr=1e-3,
        weight_decay=1e-3,
        batch_size=32,
        max_epochs=100,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        start_from_epoch=0,
        device="cpu",
        random_state=None,
        verbose=0,
        callbacks=None,
        warm_start=False,
        num_threads="auto",
    ):
        store_init_params(self, locals())

    @classmethod
    def fairrep_g(cls, **params):
        """FairRepG: the ablation without the distance constraint (``alpha=0``).

        Returns a plain :class:`FairRep`, so ``clone`` and ``get_params``
        work as usual.

        Examples
        --------
        >>> from fairrep.representation import FairRep
        >>> FairRep.fairrep_g(max_epochs=3).alpha
        0.0
        """
        return cls(**{**params, "alpha": 0.0})

    @classmethod
    def fairrep_f(cls, **params):
        """FairRepF: the ablation without the group adversary (``adversary_weight=0``).

        Only the distance term remains, which makes it close to NRL.

        Examples
        --------
        >>> from fairrep.representation import FairRep
        >>> FairRep.fairrep_f(max_epochs=3).adversary_weight
        0.0
        """
        return cls(**{**params, "adversary_weight": 0.0})

    def _layer_sizes(self):
        hidden = check_layer_sizes(
            self.hidden_layer_sizes, "hidden_layer_sizes", allow_empty=True
        )
        return (*hidden, int(self.embedding_dim))

    def _network(self):
        return FairRepNet, RepresentationModule, {"adversary": GroupClassifier,
                                                  "critic": Critic}

    def _module_params(self):
        return {"standardize": bool(self.scale_free)}

    def _uses_fairness(self):
        return self.alpha > 0 or self.adversary_weight > 0 or self.score_weight > 0

    def _check_distance_params(self):
        params = dict(self.distance_params or {})
        allowed = _DISTANCE_PARAMS[self.distance]
        unknown = set(params) - allowed
        if unknown:
            raise ValueError(
                f"distance_params has {sorted(unknown)} which distance="
                f"{self.distance!r} does not take; expected keys among "
                f"{sorted(allowed)}."
            )
        return params

    def _fairness_config(self, n_groups):
        params = self._check_distance_params()
        if n_groups < 2 or not self._uses_fairness():
            return {}
        config = {
            "alpha": float(self.alpha),
            "adversary_weight": float(self.adversary_weight),
            "distance": self.distance,
            "n_groups": n_groups,
            "adversary_loss": self.adversary_loss,
            "adversary_steps": int(self.adversary_steps),
            "scale_free": bool(self.scale_free),
            "score_weight": float(self.score_weight),
            "adversary__n_features": int(self.embedding_dim),
            "adversary__n_hidden": int(self.embedding_dim),
            "adversary__n_groups": n_groups,
        }
        if self.distance == "critic":
            config.update(
                critic__n_features=int(self.embedding_dim),
                critic__n_hidden=int(params.get("n_hidden", self.embedding_dim)),
                critic__n_pairs=n_groups * (n_groups - 1) // 2,
                critic__clip=_optional_float(
                    params.get("clip", _CRITIC_DEFAULTS["clip"])),
                gradient_penalty=float(params.get(
                    "gradient_penalty", _CRITIC_DEFAULTS["gradient_penalty"])),
            )
        else:
            config["distance_params"] = params
        return config

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, sensitive_features=None):
        """Train the encoder, emotion head and (with groups) the adversarial parts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, no missing values.
        y : array-like of shape (n_samples,)
            Class labels of any type.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns), default=None
            Group of each sample (the rater gender in the paper); several
            columns form intersectional groups. ``None``/``NaN`` entries mark
            unknown groups: those samples count only in :math:`L_1`. When
            the argument is None, a plain classifier is trained. When
            ``alpha > 0`` or ``adversary_weight > 0``, at least two groups
            are required.

        Returns
        -------
        self : FairRep
            The fitted estimator.
        """
        self._check_distance_params()
        min_groups = 2 if self._uses_fairness() else 1
        return self._fit(X, y, sensitive_features, min_groups=min_groups)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, *, sensitive_features=None, classes=None, groups=None):
        """Train one epoch over a chunk of the data (streaming).

        Looping over the chunks of a data set too large for memory (e.g.
        slices of an array opened with ``np.load(path, mmap_mode="r")``)
        trains the same network as :meth:`fit`, one pass per call: each call
        shuffles its chunk and runs ``ceil(len(chunk) / batch_size)``
        mini-batch steps of eq. (1). Only the chunk is read; a float32
        C-contiguous chunk is used in place, without a copy. ``max_epochs``,
        ``early_stopping`` and ``warm_start`` are not used (one epoch per
        call, no held-out split; a network fitted with early stopping stops
        using it). The first call builds the network (or, on a model fitted
        by :meth:`fit`, training continues from it); the
        random stream of each call derives from ``random_state`` and the
        number of epochs run, so the same chunks in the same order give the
        same model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The chunk's features.
        y : array-like of shape (n_samples,)
            The chunk's class labels.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns), default=None
            The chunk's groups, as in :meth:`fit`; ``None``/``NaN`` entries
            (or the argument left out) count in :math:`L_1` only.
        classes : array-like of shape (n_classes,), default=None
            Every class label of the whole data set. Needed on the first
            call unless its chunk has them all; the classes of later chunks
            must be among them. When given again, it must be the same.
        groups : array-like of shape (n_groups,), default=None
            Every sensitive group of the whole data set, like ``classes``:
            on the first call it fixes :attr:`groups_` (the fairness terms
            need at least two); otherwise the groups are those of the first
            chunk's ``sensitive_features``. A model started without either
            is a plain classifier and takes no ``sensitive_features`` later.

        Returns
        -------
        self : FairRep
            The estimator, trained one more epoch (``n_iter_`` counts them).

        Raises
        ------
        ValueError
            If the first call cannot know every class (one class in ``y``
            and no ``classes``) or, with fairness terms, two groups; if a
            later chunk has a class or a group the first call did not fix;
            if ``classes`` or ``groups`` change between calls; if the
            number of features changes.
        """
        self._check_distance_params()
        min_groups = 2 if self._uses_fairness() else 1
        return self._partial_fit(
            X, y, sensitive_features, classes=classes, groups=groups,
            min_groups=min_groups,
        )
