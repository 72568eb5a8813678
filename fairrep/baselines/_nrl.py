"""NRL (Feng et al., 2019): a supervised encoder with a Wasserstein critic."""

from .._nn import store_init_params
from ..representation import FairRep

__all__ = ["NRL"]


class NRL(FairRep):
    r"""Neural representation learning with a Wasserstein critic (the NRL baseline).

    Feng et al. (2019) learn a representation whose group-conditional
    distributions are close in Wasserstein-1 distance, estimated by a critic
    network (a WGAN critic), while a head on the representation keeps it
    predictive (their supervised setting). The encoder minimises

    .. math:: L_1 + \alpha\,\hat W_1(Z \mid s = a,\; Z \mid s = b)

    and the critic maximises :math:`\hat W_1`. This is exactly
    :class:`~fairrep.FairRep` without the group adversary and with the
    critic as distance, the ablation Chien & Lee call FairRepF ("similar to
    NRL", section 3.1). So ``NRL(**params)`` is ``FairRep(**params)`` with
    other defaults, ``adversary_weight=0``, ``distance="critic"`` and
    ``adversary_steps=5``, and shares its training code; changing the first
    two turns it back into FairRep.

    The critic is kept Lipschitz by a gradient penalty (WGAN-GP, Gulrajani
    et al., 2017) rather than the weight clipping of the original WGAN, and
    takes 5 updates per encoder update (WGAN-GP's ``n_critic``): a clipped
    critic's estimate stays near 0.003 and hardly moves the representation,
    and a critic updated once per encoder step lags (measurements in
    ``docs/fairrep.rst``).

    With more than two groups the critic has one output per pair of groups
    and the term is their mean; samples with a missing group count only in
    :math:`L_1`. ``fit(X, y)`` without ``sensitive_features`` trains a plain
    classifier.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Widths of the encoder's hidden layers.
    embedding_dim : int, default=64
        Size of the representation returned by :meth:`transform`.
    alpha : float, default=1.0
        Weight of the critic's distance estimate. The penalised critic's
        estimate is a Wasserstein-1 distance in the embedding's units,
        unlike FairRep's squared distances, hence the larger weight; on the
        planted bias of the tests, ``alpha >= 3`` starts to trade much
        accuracy for parity.
    adversary_weight : float, default=0.0
        Weight of FairRep's group adversary; 0 is NRL.
    distance : {"critic", "sinkhorn", "sliced", "exact"}, default="critic"
        ``"critic"`` is NRL; the others turn it into FairRepF with another
        distance estimate.
    distance_params : dict, default=None
        Critic options: ``n_hidden`` (default ``embedding_dim``),
        ``gradient_penalty`` (default 10.0, the weight of the WGAN-GP
        penalty; 0 disables it) and ``clip`` (default None, no weight
        clipping). ``{"clip": 0.01, "gradient_penalty": 0}`` is the
        weight-clipped critic of the original WGAN.
    adversary_steps : int, default=5
        Critic updates per encoder update.
    scale_free : bool, default=False
        False keeps Feng et al.'s critic on the raw embedding (a ReLU
        layer); True gives it FairRep's fixed-scale embedding (see
        :class:`~fairrep.FairRep`).
    dropout, lr, weight_decay, batch_size, max_epochs
        As in :class:`~fairrep.FairRep` (the paper's training settings).
    early_stopping, validation_fraction, n_iter_no_change, start_from_epoch
        As in :class:`~fairrep.FairRep`. The critic's pressure can hold the
        held-out :math:`L_1` flat or rising for the first few hundred
        iterations, so a warm-up (``start_from_epoch``) keeps early stopping
        from keeping a model from before the task is learned
        (benchmarks/README.md, "Which epoch early stopping keeps").
    device, random_state, verbose, callbacks, warm_start, num_threads
        As in :class:`~fairrep.FairRep`.

    Attributes
    ----------
    classes_, groups_, n_features_in_, feature_names_in_, net_, history_, n_iter_
        As in :class:`~fairrep.FairRep`; ``history_`` has a
        ``distance_loss`` column (the critic's estimate) and no
        ``adversary_loss``.

    See Also
    --------
    fairrep.FairRep : Stage 1 of the paper; NRL is its FairRepF form.
    fairrep.baselines.LFR : The other representation baseline.

    References
    ----------
    .. [1] R. Feng, Y. Yang, Y. Lyu, C. Tan, Y. Sun and C. Wang, "Learning Fair
       Representations via an Adversarial Framework", arXiv:1904.13341, 2019.
    .. [2] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.1 (baselines and FairRepF).
    .. [3] M. Arjovsky, S. Chintala and L. Bottou, "Wasserstein Generative
       Adversarial Networks", ICML 2017.
    .. [4] I. Gulrajani, F. Ahmed, M. Arjovsky, V. Dumoulin and A. Courville,
       "Improved Training of Wasserstein GANs", NeurIPS 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from fairrep.baselines import NRL
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> group = np.where(X[:, 1] > 0, "a", "b")
    >>> nrl = NRL(hidden_layer_sizes=(16,), embedding_dim=8, max_epochs=3,
    ...           random_state=0).fit(X, y, sensitive_features=group)
    >>> nrl.transform(X).shape
    (200, 8)
    """

    # FairRep's parameters that NRL does not expose (its adversary is off)
    adversary_loss = "confusion"
    score_weight = 0.0

    def __init__(
        self,
        hidden_layer_sizes=(256, 128),
        *,
        embedding_dim=64,
        alpha=1.0,
        adversary_weight=0.0,
        distance="critic",
        distance_params=None,
        adversary_steps=5,
        scale_free=False,
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
