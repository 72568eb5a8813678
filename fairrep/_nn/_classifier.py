"""The neural classifier base: FairRep, NRL and DNNClassifier derive from it.

A public estimator here is a plain scikit-learn estimator; ``fit`` validates
the data, converts it to tensors once and trains a private skorch
:class:`~fairrep.representation._net.FairRepNet` (eq. (1), section 2.2.2;
the plain classifier is the same net with no fairness term) stored as
``net_``; ``partial_fit`` runs one epoch per call on the same net.
"""

import copy
from numbers import Integral

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..utils._guards import validate_float32_data, warn_fairness_off
from ..utils._persistence import PortableNetMixin
from ..utils._torch import resolve_device, seed_from_random_state, torch_seed
from ..utils._validation import check_sensitive_features, encode_groups
from ._data import SEED_MODULUS, TensorDataset, as_float_tensor, training_threads
from ._estimator import NeuralEstimatorMixin, check_callbacks

__all__ = ["BaseNeuralClassifier", "check_layer_sizes"]


def check_layer_sizes(sizes, name, *, allow_empty):
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
    NeuralEstimatorMixin, PortableNetMixin, ClassifierMixin, TransformerMixin, BaseEstimator
):
    """Base class: a skorch-trained MLP classifier whose hidden code is a feature map.

    Subclasses define ``__init__`` (storing their parameters), ``fit`` and
    :meth:`_layer_sizes` and :meth:`_network`; they may override
    :meth:`_fairness_config` and :meth:`_module_params`.
    Not meant to be used directly.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        **NeuralEstimatorMixin._parameter_constraints,
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

    def _network(self):
        """``(net class, module class, extra net parameters)`` of the network.

        The net takes ``module__n_features``, ``module__layer_sizes``,
        ``module__n_classes`` and ``module__dropout``; its module returns
        ``(logits, representation)`` and has an ``encoder`` submodule.
        """
        raise NotImplementedError

    def _fairness_config(self, n_groups):
        """Extra net parameters for ``n_groups`` groups; the plain classifier has none."""
        return {}

    def _module_params(self):
        """Extra ``module__*`` parameters; none by default."""
        return {}

    def _continue_net(self, net, fairness):
        """Apply the current parameters to a fitted ``net`` that ``warm_start`` continues.

        The learning rate and epoch count are re-read, and so are the
        weights and options of the fairness terms in ``fairness`` (the
        :meth:`_fairness_config` of this fit). A change that the fitted
        network cannot take (another distance, ``scale_free``, a term whose
        module was never built) raises, naming the parameter.
        """
        net.set_params(lr=float(self.lr), max_epochs=int(self.max_epochs))
        # skorch's ``lr`` reaches ``optimizer_`` only; the adversary's and
        # critic's optimizer is built with the same settings, so it follows
        for name in net._optimizers:
            for group in getattr(net, name + "_").param_groups:
                group["lr"] = float(self.lr)
        structural = ("distance", "scale_free", "n_groups")
        for key, value in fairness.items():
            if "__" in key:
                continue  # module settings: part of the architecture
            old = getattr(net, key, None)
            if key in structural and old != value:
                raise ValueError(
                    f"warm_start=True continues the fitted network, whose {key} is "
                    f"{old!r}; this fit asks for {value!r}. Set warm_start=False to "
                    "train a new network."
                )
            setattr(net, key, value)
        for name, needed in (("adversary", getattr(net, "uses_adversary", False)),
                             ("critic", getattr(net, "uses_distance", False)
                              and getattr(net, "distance", None) == "critic")):
            if needed and getattr(net, name + "_", None) is None:
                raise ValueError(
                    f"warm_start=True continues the fitted network, which was built "
                    f"without the {name} (its weight was 0); set warm_start=False to "
                    f"train a network with the {name}."
                )

    # -- fitting ------------------------------------------------------------
    def _fit(self, X, y, sensitive_features=None, *, min_groups=1):
        layer_sizes = self._layer_sizes()
        callbacks = check_callbacks(self.callbacks)
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
        train, valid = self._holdout(data, target, stratify=y_codes)

        seed = seed_from_random_state(self.random_state)
        threads = getattr(self, "num_threads", "auto")
        with training_threads(threads, self.batch_size, device), torch_seed(seed, device):
            if continuing:
                net = self.net_
                self._continue_net(net, fairness)
            else:
                net = self._build_net(
                    n_features=data["X"].shape[1],
                    layer_sizes=layer_sizes,
                    n_classes=len(encoder.classes_),
                    callbacks=callbacks,
                    device=device,
                    fairness=fairness,
                    early_stopping=self.early_stopping,
                )
            self._train(net, train, data["X"], valid=valid, resume=continuing)

        self.classes_ = encoder.classes_
        if not continuing and self._uses_groups:
            self.groups_ = groups
        self._set_fitted_net(net, data["X"], y_codes)
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
            callbacks = check_callbacks(self.callbacks)
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
        with training_threads(threads, self.batch_size, device):
            if first:
                n_groups = 0 if known_groups is None else len(known_groups)
                fairness = (self._fairness_config(n_groups)
                            if known_groups is not None else {})
                with torch_seed(seed, device):
                    net = self._build_net(
                        n_features=data["X"].shape[1], layer_sizes=layer_sizes,
                        n_classes=len(classes), callbacks=callbacks,
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
            with torch_seed((seed + len(net.history)) % SEED_MODULUS, device):
                self._train(net, TensorDataset(data, target), data["X"], resume=True,
                            epochs=1)

        self.classes_ = np.asarray(classes)
        if first and self._uses_groups:
            self.groups_ = known_groups
        self._set_fitted_net(net)
        return self

    @staticmethod
    def _tensors(X, y_codes, group_codes, device):
        """The training tensors: ``({"X", "group"}, target)``; ``X`` without a copy if it can."""
        data = {
            "X": as_float_tensor(X, device),
            "group": torch.as_tensor(group_codes, dtype=torch.int64, device=device),
        }
        return data, torch.as_tensor(y_codes, dtype=torch.int64, device=device)

    def _build_net(self, *, n_features, layer_sizes, n_classes, callbacks, device,
                   fairness, early_stopping):
        net_callbacks = self._base_callbacks(early_stopping=early_stopping)
        net_callbacks.extend(callbacks)
        params = self._net_params(device=device, callbacks=net_callbacks)
        net_class, module, extra = self._network()
        return net_class(
            module=module,
            module__n_features=n_features,
            module__layer_sizes=layer_sizes,
            module__n_classes=n_classes,
            module__dropout=float(self.dropout),
            **extra,
            **{f"module__{key}": value for key, value in self._module_params().items()},
            **params,
            **fairness,
        )

    # -- inference ----------------------------------------------------------
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

    def export_encoder(self):
        """A copy of the trained torch encoder: ``X`` (float32) to :meth:`transform`'s output.

        The hand-over of stage 1 to stage 2 (Fig. 4): :class:`~fairrep.FairPer`
        with ``freeze_representation=False`` fine-tunes this copy; the
        fitted estimator is never changed.

        Returns
        -------
        encoder : torch.nn.Module
            In training mode, on the device the model was trained on.
        """
        check_is_fitted(self)
        return copy.deepcopy(self.net_.module_.encoder).train()
