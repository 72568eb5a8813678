"""Machinery shared by the neural classifiers: FairRep and the DNN baseline.

A public estimator here is a plain scikit-learn estimator; ``fit`` validates
the data, converts it to tensors once and trains a private skorch
:class:`~fairrep.representation._net.FairRepNet` stored as ``net_``.
"""

import copy
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import Callback, EarlyStopping, ProgressBar
from skorch.helper import predefined_split

from ..utils._torch import resolve_device, seed_from_random_state, torch_seed
from ..utils._validation import check_sensitive_features, encode_groups
from ._modules import Critic, GroupClassifier, RepresentationModule
from ._net import (
    LOSS_TERMS,
    FairRepNet,
    LossTermsLogger,
    TensorBatchIterator,
    TensorDataset,
)

__all__ = ["BaseNeuralClassifier"]

# Prediction and validation batches only read the data, so they can be large.
_EVAL_BATCH_SIZE = 4096


def _check_layer_sizes(sizes, name, *, allow_empty):
    """Return ``sizes`` as a tuple of positive ints, or raise naming ``name``."""
    values = np.atleast_1d(np.asarray(sizes, dtype=object)).ravel().tolist()
    if not allow_empty and not values:
        raise ValueError(f"{name} must contain at least one layer width; got {sizes!r}.")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise ValueError(
                f"{name} must be positive integers (layer widths); got {sizes!r}."
            )
    return tuple(int(value) for value in values)


def _check_callbacks(callbacks):
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


def _to_float_tensor(X, device):
    """float32 tensor on ``device``; always a copy, so read-only input is fine."""
    return torch.tensor(np.asarray(X, dtype=np.float32), device=device)


class BaseNeuralClassifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Base class: a skorch-trained MLP classifier whose hidden code is a feature map.

    Subclasses define ``__init__`` (storing their parameters), ``fit`` and
    :meth:`_layer_sizes`; they may override :meth:`_fairness_config`.
    Not meant to be used directly.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "warm_start": ["boolean"],
    }

    #: whether ``fit`` takes ``sensitive_features`` (and sets ``groups_``)
    _uses_groups = False

    # -- hooks --------------------------------------------------------------
    def _layer_sizes(self):
        """Widths of the encoder layers; the last one is the representation."""
        raise NotImplementedError

    def _fairness_config(self, n_groups):
        """Extra :class:`FairRepNet` parameters; the plain classifier has none."""
        return {}

    # -- fitting ------------------------------------------------------------
    def _fit(self, X, y, sensitive_features=None, *, min_groups=1):
        layer_sizes = self._layer_sizes()
        callbacks = _check_callbacks(self.callbacks)
        device = resolve_device(self.device)
        continuing = self.warm_start and hasattr(self, "net_")

        X, y = validate_data(
            self, X, y, dtype=[np.float32, np.float64], reset=not continuing
        )
        check_classification_targets(y)
        if continuing:
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y has classes {unseen.tolist()} not seen in the first fit "
                    f"(classes_={self.classes_.tolist()}); warm_start=True can "
                    "only continue training on the same classes."
                )
            encoder = LabelEncoder().fit(self.classes_)
        else:
            encoder = LabelEncoder().fit(y)
            if encoder.classes_.shape[0] < 2:
                raise ValueError(
                    "y must contain at least two classes; got one class: "
                    f"{encoder.classes_.tolist()}."
                )
        y_codes = encoder.transform(y)

        if sensitive_features is None:
            group_codes = np.full(X.shape[0], -1, dtype=np.int64)
            groups = None
        else:
            group_labels, missing = check_sensitive_features(
                sensitive_features, X.shape[0], min_groups=min_groups
            )
            known = getattr(self, "groups_", None) if continuing else None
            group_codes, groups = encode_groups(group_labels, missing, classes=known)

        n_groups = 0 if groups is None else len(groups)
        fairness = self._fairness_config(n_groups) if groups is not None else {}

        data = {
            "X": _to_float_tensor(X, device),
            "group": torch.as_tensor(group_codes, dtype=torch.int64, device=device),
        }
        target = torch.as_tensor(y_codes, dtype=torch.int64, device=device)
        train, valid = self._split(data, target, y_codes)

        seed = seed_from_random_state(self.random_state)
        with torch_seed(seed, device):
            if continuing:
                net = self.net_
                net.train_split = None if valid is None else predefined_split(valid)
                net.partial_fit(train)
            else:
                net = self._build_net(
                    n_features=X.shape[1],
                    layer_sizes=layer_sizes,
                    n_classes=len(encoder.classes_),
                    valid=valid,
                    callbacks=callbacks,
                    device=device,
                    fairness=fairness,
                )
                net.fit(train)
        # the validation split is only needed while training; do not pickle it
        net.train_split = None

        self.classes_ = encoder.classes_
        if not continuing and self._uses_groups:
            self.groups_ = groups
        self.net_ = net
        self.n_iter_ = len(net.history)
        self.history_ = self._history_frame(net.history)
        return self

    def _split(self, data, target, y_codes):
        """Hold out ``validation_fraction`` (stratified when possible) for early stopping."""
        if not self.early_stopping:
            return TensorDataset(data, target), None
        indices = np.arange(target.shape[0])
        try:
            train_idx, valid_idx = train_test_split(
                indices, test_size=self.validation_fraction,
                random_state=self.random_state, stratify=y_codes,
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
        full = TensorDataset(data, target)
        return TensorDataset(*full.slice(train_idx)), TensorDataset(*full.slice(valid_idx))

    def _build_net(self, *, n_features, layer_sizes, n_classes, valid, callbacks,
                   device, fairness):
        net_callbacks = [("loss_terms", LossTermsLogger())]
        if self.early_stopping:
            net_callbacks.append(
                ("early_stopping", EarlyStopping(
                    monitor="valid_loss", patience=self.n_iter_no_change,
                    load_best=True,
                ))
            )
        if self.verbose and self.verbose > 1:
            net_callbacks.append(("progress_bar", ProgressBar()))
        net_callbacks.extend(callbacks)
        return FairRepNet(
            module=RepresentationModule,
            module__n_features=n_features,
            module__layer_sizes=layer_sizes,
            module__n_classes=n_classes,
            module__dropout=float(self.dropout),
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=float(self.weight_decay),
            # one fused kernel per step instead of a loop over parameter tensors
            optimizer__fused=True,
            lr=float(self.lr),
            max_epochs=int(self.max_epochs),
            batch_size=int(self.batch_size),
            dataset=TensorDataset,
            iterator_train=TensorBatchIterator,
            iterator_train__shuffle=True,
            iterator_valid=TensorBatchIterator,
            iterator_valid__batch_size=max(int(self.batch_size), _EVAL_BATCH_SIZE),
            train_split=None if valid is None else predefined_split(valid),
            callbacks=net_callbacks,
            predict_nonlinearity=None,
            verbose=int(bool(self.verbose)),
            device=str(device),
            adversary=GroupClassifier,
            critic=Critic,
            **fairness,
        )

    @staticmethod
    def _history_frame(history):
        columns = ["epoch", "train_loss", *LOSS_TERMS, "valid_loss", "dur"]
        rows = [
            {column: epoch.get(column, np.nan) for column in columns}
            for epoch in history
        ]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.dropna(axis=1, how="all") if len(frame) else frame

    # -- inference ----------------------------------------------------------
    def _forward(self, X):
        """Return ``(logits, representation)`` as CPU tensors, in eval mode."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        tensor = _to_float_tensor(X, self.net_.device)
        with torch.no_grad():
            logits, representation = self.net_.forward({"X": tensor})
        return logits, representation

    def transform(self, X):
        """Map ``X`` to the learned representation (eval mode: no dropout).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        representation : ndarray of shape (n_samples, n_components)
            The activation of the encoder's last layer.
        """
        return self._forward(X)[1].numpy()

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
        logits, _ = self._forward(X)
        return torch.softmax(logits.double(), dim=1).numpy()

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        logits, _ = self._forward(X)
        return self.classes_[logits.argmax(dim=1).numpy()]

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        logits, _ = self._forward(X)
        return torch.log_softmax(logits.double(), dim=1).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.classifier_tags.multi_class = True
        # the network computes in float32, whatever the input dtype
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
