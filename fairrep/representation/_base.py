"""Machinery shared by the neural classifiers: FairRep and the DNN baseline.

A public estimator here is a plain scikit-learn estimator; ``fit`` validates
the data, converts it to tensors once and trains a private skorch
:class:`~fairrep.representation._net.FairRepNet` stored as ``net_``.
"""

import contextlib
import copy
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback, EarlyStopping, ProgressBar
from skorch.helper import predefined_split
from threadpoolctl import threadpool_limits

from ..utils._guards import (DivergenceGuard, check_training_predictions, stop_on_divergence,
                             validate_float32_data, warn_fairness_off)
from ..utils._persistence import PortableNetMixin
from ..utils._torch import resolve_device, seed_from_random_state, torch_seed
from ..utils._validation import check_sensitive_features, encode_groups
from ._modules import Critic, GroupClassifier, RepresentationModule
from ._net import LOSS_TERMS, FairRepNet, TensorBatchIterator, TensorDataset

__all__ = ["BaseNeuralClassifier"]

# Prediction and validation batches only read the data, so they can be large.
_EVAL_BATCH_SIZE = 4096

# ``num_threads="auto"`` trains on one torch thread up to this batch size.
# Measured on a 2-core machine shared with other jobs
# (benchmarks/bench_fairrep_epoch.py): two threads gained at most 10-15 %
# (batch 128-256) and lost up to 10x whenever another process held a core
# (batch 32-1024); one thread was never more than 15 % slower.
_ONE_THREAD_MAX_BATCH = 1024

# Seeds stay in [0, 2**31 - 1), as ``seed_from_random_state`` draws them.
_SEED_MODULUS = 2**31 - 1


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


def _as_float_tensor(X, device):
    """float32 tensor on ``device``, sharing memory with ``X`` where it can.

    A C-contiguous float32 array (memory-mapped ones included) becomes a
    CPU tensor over the same memory, with no copy; anything else is copied
    once, to float32. The tensor is only read: a read-only array is fine.
    On another device the data are copied there once.
    """
    array = np.asarray(X)
    if array.dtype != np.float32 or not array.flags.c_contiguous:
        array = np.ascontiguousarray(array, dtype=np.float32)
    with warnings.catch_warnings():
        # the tensor is never written to, so a read-only buffer is safe
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        tensor = torch.from_numpy(array)
    return tensor.to(device)


@contextlib.contextmanager
def _training_threads(setting, batch_size, device):
    """Run a block with the thread counts set for training on the CPU.

    ``setting`` is ``num_threads``: None leaves every thread pool alone;
    ``"auto"`` gives torch one intra-op thread for batches of at most
    ``_ONE_THREAD_MAX_BATCH`` rows and keeps torch's count above; an int
    gives torch that many. The BLAS library NumPy calls (the Sinkhorn solve
    of ``L_D`` runs in NumPy on the CPU) gets one thread whatever the
    setting: its matrices are those of one mini-batch, and its threads
    waiting beside torch's slowed training down by up to 3x at batch 256.
    The previous counts are restored on exit.
    """
    if setting is None or device.type != "cpu":
        yield
        return
    previous = torch.get_num_threads()
    if setting == "auto":
        setting = 1 if batch_size <= _ONE_THREAD_MAX_BATCH else previous
    setting = int(setting)
    with threadpool_limits(limits=1, user_api="blas"):
        if setting == previous:
            yield
            return
        torch.set_num_threads(setting)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


def _check_new_labels(values, known, name, hint):
    """Raise naming ``name`` if ``values`` has labels outside ``known``."""
    known = list(known)
    allowed = set(known)
    unseen = [value for value in pd.unique(np.asarray(values, dtype=object).ravel())
              if value not in allowed]
    if unseen:
        raise ValueError(
            f"{name} has labels {sorted(unseen, key=str)} that are not among the "
            f"{len(known)} known ones ({known}); {hint}"
        )


class BaseNeuralClassifier(
    PortableNetMixin, ClassifierMixin, TransformerMixin, BaseEstimator
):
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
        "num_threads": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left"),
                        None],
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

    def _module_params(self):
        """Extra parameters of the :class:`RepresentationModule`; none by default."""
        return {}

    # -- fitting ------------------------------------------------------------
    def _fit(self, X, y, sensitive_features=None, *, min_groups=1):
        layer_sizes = self._layer_sizes()
        callbacks = _check_callbacks(self.callbacks)
        device = resolve_device(self.device)
        continuing = self.warm_start and hasattr(self, "net_")

        X, y = validate_float32_data(self, X, y, reset=not continuing)
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
            warn_fairness_off(self, ("alpha", "adversary_weight"))
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

        data, target = self._tensors(X, y_codes, group_codes, device)
        del X  # the tensor shares its memory, or is the one float32 copy
        train, valid = self._split(data, target, y_codes)

        seed = seed_from_random_state(self.random_state)
        threads = getattr(self, "num_threads", "auto")
        with _training_threads(threads, self.batch_size, device), torch_seed(seed, device):
            if continuing:
                net = self.net_
                net.train_split = None if valid is None else predefined_split(valid)
                with stop_on_divergence(net, type(self).__name__, data["X"]):
                    net.partial_fit(train)
            else:
                net = self._build_net(
                    n_features=data["X"].shape[1],
                    layer_sizes=layer_sizes,
                    n_classes=len(encoder.classes_),
                    valid=valid,
                    callbacks=callbacks,
                    device=device,
                    fairness=fairness,
                    early_stopping=self.early_stopping,
                )
                with stop_on_divergence(net, type(self).__name__, data["X"]):
                    net.fit(train)
        # the validation split is only needed while training; do not pickle it
        net.train_split = None

        self.classes_ = encoder.classes_
        if not continuing and self._uses_groups:
            self.groups_ = groups
        self._set_fitted_net(net)
        check_training_predictions(self, data["X"], y_codes)
        return self

    def _partial_fit(self, X, y, sensitive_features=None, *, classes=None,
                     groups=None, min_groups=1):
        """One epoch over a chunk; the first call builds the network.

        See :meth:`fairrep.FairRep.partial_fit` for the contract.
        """
        first = not hasattr(self, "net_")
        device = resolve_device(self.device) if first else torch.device(self.net_.device)
        if first:
            layer_sizes = self._layer_sizes()
            callbacks = _check_callbacks(self.callbacks)
        X, y = validate_float32_data(self, X, y, reset=first)
        check_classification_targets(y)
        labels = np.unique(y)

        # -- classes
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            if classes.ndim != 1 or classes.shape[0] < 2:
                raise ValueError(
                    "classes must list at least two class labels (all the labels "
                    f"of the whole data set); got {classes.tolist()!r}."
                )
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes.tolist()!r} is not the same as on the first "
                    f"call to partial_fit (classes_={self.classes_.tolist()!r})."
                )
        if first:
            if classes is None:
                if labels.shape[0] < 2:
                    raise ValueError(
                        "the first call to partial_fit needs the full list of class "
                        "labels: pass classes=... (y of this chunk has one class, "
                        f"{labels.tolist()})."
                    )
                classes = labels
            _check_new_labels(labels, classes, "y", "pass all of them in classes=.")
        else:
            _check_new_labels(
                labels, self.classes_, "y",
                "the first call to partial_fit fixes the classes: pass the full "
                "list of labels as classes= on that call.",
            )
            classes = self.classes_
        y_codes = np.searchsorted(classes, y)

        # -- groups
        known_groups = None if first else getattr(self, "groups_", None)
        if groups is not None:
            if not self._uses_groups:
                raise TypeError(f"{type(self).__name__}.partial_fit takes no groups.")
            groups_checked, groups_missing = check_sensitive_features(
                np.asarray(groups, dtype=object), name="groups", min_groups=min_groups
            )
            if groups_missing.any():
                raise ValueError("groups must not contain missing values (None/NaN).")
            groups = encode_groups(groups_checked, groups_missing)[1]
            if not first and (known_groups is None or list(groups) != list(known_groups)):
                raise ValueError(
                    f"groups={list(groups)!r} is not the same as on the first call "
                    f"to partial_fit (groups_={known_groups!r})."
                )
            known_groups = groups
        if sensitive_features is None:
            group_codes = np.full(X.shape[0], -1, dtype=np.int64)
        else:
            if not first and known_groups is None:
                raise ValueError(
                    "this model was started by partial_fit without groups (no "
                    "sensitive_features and no groups=); it cannot take "
                    "sensitive_features now. Start again with groups=[...]."
                )
            group_labels, missing = check_sensitive_features(
                sensitive_features, X.shape[0],
                min_groups=min_groups if known_groups is None else 0,
            )
            if known_groups is not None:
                _check_new_labels(
                    group_labels[~missing], known_groups, "sensitive_features",
                    "the first call to partial_fit fixes the groups: pass the full "
                    "list of groups as groups= on that call.",
                )
            group_codes, known_groups = encode_groups(
                group_labels, missing, classes=known_groups
            )

        data, target = self._tensors(X, y_codes, group_codes, device)
        del X
        seed = seed_from_random_state(self.random_state)
        threads = getattr(self, "num_threads", "auto")
        with _training_threads(threads, self.batch_size, device):
            if first:
                n_groups = 0 if known_groups is None else len(known_groups)
                fairness = (self._fairness_config(n_groups)
                            if known_groups is not None else {})
                with torch_seed(seed, device):
                    net = self._build_net(
                        n_features=data["X"].shape[1], layer_sizes=layer_sizes,
                        n_classes=len(classes), valid=None, callbacks=callbacks,
                        device=device, fairness=fairness, early_stopping=False,
                    )
                    net.initialize()
            else:
                net = self.net_
                # a net from fit(early_stopping=True): partial_fit has no
                # validation split, and restoring the best weights of fit at
                # the end of a call would undo its epoch
                net.callbacks_ = [(name, callback) for name, callback in net.callbacks_
                                  if name != "early_stopping"]
            # a new stream per call, reproducible from random_state
            with torch_seed((seed + len(net.history)) % _SEED_MODULUS, device):
                with stop_on_divergence(net, type(self).__name__, data["X"]):
                    net.partial_fit(TensorDataset(data, target), epochs=1)

        self.classes_ = np.asarray(classes)
        if first and self._uses_groups:
            self.groups_ = known_groups
        self._set_fitted_net(net)
        return self

    def _set_fitted_net(self, net):
        self.net_ = net
        self.n_iter_ = len(net.history)
        self.history_ = self._history_frame(net.history)

    @staticmethod
    def _tensors(X, y_codes, group_codes, device):
        """The training tensors: ``({"X", "group"}, target)``; ``X`` without a copy if it can."""
        data = {
            "X": _as_float_tensor(X, device),
            "group": torch.as_tensor(group_codes, dtype=torch.int64, device=device),
        }
        return data, torch.as_tensor(y_codes, dtype=torch.int64, device=device)

    def _split(self, data, target, y_codes):
        """Hold out ``validation_fraction`` (stratified when possible) for early stopping.

        Both parts are row subsets of the same tensors (no copy).
        """
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
        return (TensorDataset(data, target, indices=train_idx),
                TensorDataset(data, target, indices=valid_idx))

    def _build_net(self, *, n_features, layer_sizes, n_classes, valid, callbacks,
                   device, fairness, early_stopping):
        # first, so that a diverged epoch stops before early stopping reads it
        net_callbacks = [("divergence_guard", DivergenceGuard(type(self).__name__))]
        if early_stopping:
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
            **{f"module__{key}": value for key, value in self._module_params().items()},
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
        X = validate_float32_data(self, X, reset=False)
        tensor = _as_float_tensor(X, self.net_.device)
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
