"""The paper's DNN baseline: three fully connected layers, no fairness terms."""

from sklearn.base import _fit_context

from .._nn import BaseNeuralClassifier, check_layer_sizes, store_init_params
from ..representation._modules import RepresentationModule
from ..representation._net import FairRepNet

__all__ = ["DNNClassifier"]


class DNNClassifier(BaseNeuralClassifier):
    """Three fully connected layers trained with cross-entropy (the DNN baseline).

    The baseline of Chien & Lee's Tables 1-4 (section 3.1): an MLP on all
    features, trained like :class:`~fairrep.FairRep` (Adam, dropout 0.2,
    learning rate and decay 1e-3, batch size 32) but with no adversary and no
    distance term. With the default two hidden layers it has three fully
    connected layers: ``n_features -> 256 -> 128 -> n_classes``.
    :meth:`transform` returns the last hidden layer, the representation the
    paper's consistency scores and t-SNE plots (Figs. 5/6) compare.

    It shares :class:`~fairrep.FairRep`'s machinery (the private skorch net,
    tensor batch iterator and seeding); only the fairness terms are absent.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Widths of the hidden layers; the last one is the representation.
    dropout : float, default=0.2
    lr : float, default=1e-3
    weight_decay : float, default=1e-3
    batch_size : int, default=32
    max_epochs : int, default=100
    early_stopping : bool, default=False
        Stop when the validation cross-entropy has not improved for
        ``n_iter_no_change`` epochs, restoring the best weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    start_from_epoch : int, default=0
        Epochs before early stopping starts watching (as in
        :class:`~fairrep.FairRep`).
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
    callbacks : list of skorch callbacks, default=None
    warm_start : bool, default=False
    num_threads : "auto", int or None, default="auto"
        Torch threads while training, as in :class:`~fairrep.FairRep`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has string column names.
    net_ : skorch.NeuralNet
        The trained private net.
    history_ : pandas.DataFrame
        Per-epoch ``train_loss``, ``emotion_loss`` (cross-entropy),
        ``valid_loss`` (with early stopping) and ``dur``.
    n_iter_ : int
        Number of epochs run.

    See Also
    --------
    fairrep.FairRep : The same network with the fairness terms of eq. (1).

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.1 (baselines).

    Examples
    --------
    >>> import numpy as np
    >>> from fairrep.baselines import DNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5))
    >>> y = np.where(X[:, 0] > 0, "anger", "neutral")
    >>> model = DNNClassifier(hidden_layer_sizes=(16, 8), max_epochs=20,
    ...                       random_state=0).fit(X, y)
    >>> model.transform(X).shape
    (200, 8)
    >>> model.score(X, y) > 0.9
    True
    """

    def __init__(
        self,
        hidden_layer_sizes=(256, 128),
        *,
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

    def _network(self):
        # stage 1's network with no fairness term (it never reads the groups)
        return FairRepNet, RepresentationModule, {}

    def _layer_sizes(self):
        return check_layer_sizes(
            self.hidden_layer_sizes, "hidden_layer_sizes", allow_empty=False
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any type.

        Returns
        -------
        self : DNNClassifier
            The fitted estimator.
        """
        return self._fit(X, y)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, *, classes=None):
        """Train one epoch over a chunk of the data (streaming).

        As :meth:`fairrep.FairRep.partial_fit` without groups: each call
        shuffles its chunk and runs one pass of mini-batch steps; the first
        call builds the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The chunk; a float32 C-contiguous array is used without a copy.
        y : array-like of shape (n_samples,)
        classes : array-like, default=None
            Every class of the whole data set; required on the first call
            unless the first chunk contains them all.

        Returns
        -------
        self : DNNClassifier
        """
        return self._partial_fit(X, y, classes=classes)
