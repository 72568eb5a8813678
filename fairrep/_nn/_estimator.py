"""What every fairrep neural estimator shares: net settings, training, inference.

:class:`NeuralEstimatorMixin` sits under :class:`BaseNeuralClassifier`
(FairRep, NRL, DNNClassifier) and :class:`~fairrep.FairPer`. A subclass
builds its skorch net (a :class:`~fairrep._nn.CoreNet`) from
:meth:`~NeuralEstimatorMixin._net_params`, trains it with
:meth:`~NeuralEstimatorMixin._train` and reads it back through
:meth:`~NeuralEstimatorMixin._forward`; it says how the net's outputs map
to one ``(logits, representation)`` pair in :meth:`_select`.
"""

import copy
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback, EarlyStopping, ProgressBar
from skorch.helper import predefined_split

from ..utils._guards import (
    DivergenceGuard,
    check_training_predictions,
    stop_on_divergence,
    validate_float32_data,
)
from ._data import EVAL_BATCH_SIZE, TensorBatchIterator, TensorDataset, as_float_tensor

__all__ = ["NeuralEstimatorMixin", "WarmupEarlyStopping", "check_callbacks",
           "store_init_params"]


class WarmupEarlyStopping(EarlyStopping):
    """skorch's :class:`~skorch.callbacks.EarlyStopping`, watching only after a warm-up.

    The first ``start_from_epoch`` epochs of each training run are neither
    counted towards the patience nor candidates for the best weights (Keras
    calls this ``start_from_epoch``): a fit whose monitored loss stalls or
    rises while an adversarial part warms up (NRL's critic) is not cut, or
    rolled back, to an epoch before the task is learned. A run that ends
    within the warm-up keeps its last weights.

    Parameters
    ----------
    start_from_epoch : int, default=0
        Epochs of each run before monitoring starts.
    **kwargs
        Passed to :class:`~skorch.callbacks.EarlyStopping`.
    """

    def __init__(self, *, start_from_epoch=0, **kwargs):
        super().__init__(**kwargs)
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.epochs_run_ = 0

    def on_epoch_end(self, net, **kwargs):
        self.epochs_run_ += 1
        if self.epochs_run_ > self.start_from_epoch:
            super().on_epoch_end(net, **kwargs)


def store_init_params(instance, arguments):
    """Store every argument of ``__init__`` as an attribute of the same name.

    scikit-learn's convention (``__init__`` only records its parameters,
    unvalidated), written once: call it as ``store_init_params(self,
    locals())`` first thing in ``__init__``.
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__", "args", "kwargs"):
            setattr(instance, name, value)


def check_callbacks(callbacks):
    """Copy the user's skorch callbacks so fitting never mutates the parameter."""
    if callbacks is None:
        return []
    checked = []
    for index, item in enumerate(callbacks):
        callback = item[1] if isinstance(item, tuple) and len(item) == 2 else item
        if not isinstance(callback, Callback):
            raise TypeError(
                "callbacks must be a list of skorch Callback instances or "
                f"(name, Callback) tuples; item {index} is {item!r}."
            )
        checked.append(copy.deepcopy(item))
    return checked


class NeuralEstimatorMixin:
    """Training and inference written once for the skorch-trained estimators.

    The estimator stores ``lr``, ``weight_decay``, ``max_epochs``,
    ``batch_size`` and ``verbose``; after ``fit`` it has ``net_``,
    ``classes_``, ``n_iter_`` and ``history_``.
    """

    #: the network and training settings every subclass takes
    _parameter_constraints: dict = {
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "start_from_epoch": [Interval(Integral, 0, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # -- building and training ----------------------------------------------
    def _base_callbacks(self, *, early_stopping=False):
        """The divergence guard (first, so a diverged epoch stops before
        anything reads it), early stopping on the held-out part's loss
        from epoch ``start_from_epoch + 1`` on (keeping the best epoch's
        weights) and, for ``verbose > 1``, a progress bar."""
        callbacks = [("divergence_guard", DivergenceGuard(type(self).__name__))]
        if early_stopping:
            callbacks.append(("early_stopping", WarmupEarlyStopping(
                monitor="valid_loss", patience=self.n_iter_no_change, load_best=True,
                start_from_epoch=self.start_from_epoch,
            )))
        if self.verbose and self.verbose > 1:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def _holdout(self, data, target, *, stratify):
        """Hold out ``validation_fraction`` of the rows for early stopping
        (stratified on ``stratify`` when every class allows it); ``(train,
        None)`` without early stopping. Both parts are row subsets of the same
        tensors (no copy)."""
        if not self.early_stopping:
            return TensorDataset(data, target), None
        indices = np.arange(target.shape[0])
        try:
            train_idx, valid_idx = train_test_split(
                indices, test_size=self.validation_fraction,
                random_state=self.random_state, stratify=stratify,
            )
        except ValueError:
            # a class too small to stratify: fall back to a plain random split
            train_idx, valid_idx = train_test_split(
                indices, test_size=self.validation_fraction,
                random_state=self.random_state,
            )
        device = target.device
        train_idx = torch.as_tensor(np.sort(train_idx), device=device)
        valid_idx = torch.as_tensor(np.sort(valid_idx), device=device)
        return (TensorDataset(data, target, indices=train_idx),
                TensorDataset(data, target, indices=valid_idx))

    def _net_params(self, *, device, callbacks):
        """The skorch settings every fairrep net shares: Adam, the fast data path."""
        return {
            "criterion": torch.nn.CrossEntropyLoss,
            "optimizer": torch.optim.Adam,
            # one fused kernel per step instead of a loop over parameter tensors
            "optimizer__fused": True,
            "optimizer__weight_decay": float(self.weight_decay),
            "lr": float(self.lr),
            "max_epochs": int(self.max_epochs),
            "batch_size": int(self.batch_size),
            "dataset": TensorDataset,
            "iterator_train": TensorBatchIterator,
            "iterator_train__shuffle": True,
            "iterator_valid": TensorBatchIterator,
            "iterator_valid__batch_size": max(int(self.batch_size), EVAL_BATCH_SIZE),
            "train_split": None,  # set by _train for the run that uses it
            "callbacks": callbacks,
            "predict_nonlinearity": None,
            "verbose": int(bool(self.verbose)),
            "device": str(device),
        }

    def _train(self, net, dataset, X, *, valid=None, resume=False, **fit_params):
        """``net.fit`` (``net.partial_fit`` when ``resume``), a diverged run raising.

        ``X`` is the training input tensor, which the divergence check reads;
        ``valid`` the held-out part early stopping reads (:meth:`_holdout`),
        given to the net for this run only, so the fitted net does not keep
        (or pickle) it.
        """
        net.train_split = None if valid is None else predefined_split(valid)
        try:
            with stop_on_divergence(net, type(self).__name__, X):
                if resume:
                    net.partial_fit(dataset, **fit_params)
                else:
                    net.fit(dataset, None)
        finally:
            net.train_split = None
        return net

    def _set_fitted_net(self, net, X=None, y_codes=None):
        """Store ``net_``, ``n_iter_``, ``history_``; warn if ``X`` gets one class."""
        self.net_ = net
        self.n_iter_ = len(net.history)
        columns = ["epoch", "train_loss", *net.LOSS_TERMS, "valid_loss", "dur"]
        rows = [{c: epoch.get(c, np.nan) for c in columns} for epoch in net.history]
        frame = pd.DataFrame(rows, columns=columns)
        self.history_ = frame.dropna(axis=1, how="all") if len(frame) else frame
        if X is not None:
            check_training_predictions(self, X, y_codes)

    # -- inference ----------------------------------------------------------
    def _net_inputs(self, X):
        """What the net reads for validated ``X``; ``X`` itself by default."""
        return X

    def _forward(self, X):
        """The net's outputs on ``X`` as CPU tensors, in eval mode."""
        check_is_fitted(self)
        X = validate_float32_data(self, X, reset=False)
        tensor = as_float_tensor(self._net_inputs(X), self.net_.device)
        with torch.no_grad():
            return self.net_.forward({"X": tensor})

    def _select(self, outputs):
        """``(logits, representation)`` of the current prediction from the outputs."""
        return outputs

    def _logits(self, X):
        return self._select(self._forward(X))[0]

    def predict_proba(self, X):
        """Class probabilities (softmax of the head's logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return torch.softmax(self._logits(X).double(), dim=1).numpy()

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return torch.log_softmax(self._logits(X).double(), dim=1).numpy()

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        codes = self._logits(X).argmax(dim=1).numpy()  # checks that it is fitted
        return self.classes_[codes]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.classifier_tags.multi_class = True
        # the network computes in float32, whatever the input dtype
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
