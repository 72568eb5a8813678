"""How stage 2 takes stage 1 (Fig. 4): through its public ``fit`` / ``transform``,
or, to fine-tune it, the torch encoder it hands over with ``export_encoder()``."""

import copy
import inspect

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

__all__ = ["adapter_inputs", "fit_representation", "trainable_encoder"]


def fit_representation(representation, X, y, rows, sensitive_features, *, copy_fitted):
    """The fitted stage-1 ``representation`` (None stays None).

    A fitted estimator is used as is (a deep copy when ``copy_fitted``, so
    fine-tuning never changes the user's model); an unfitted one is cloned
    and fitted on ``X[rows]`` and ``y`` (the labels of those rows), with
    ``sensitive_features[rows]`` when its ``fit`` takes them.
    """
    if representation is None:
        return None
    try:
        check_is_fitted(representation)
    except NotFittedError:
        pass
    else:
        return copy.deepcopy(representation) if copy_fitted else representation
    representation = clone(representation)
    fit_params = {}
    if sensitive_features is not None and "sensitive_features" in (
        inspect.signature(representation.fit).parameters
    ):
        sensitive = np.asarray(sensitive_features, dtype=object)
        fit_params["sensitive_features"] = sensitive[rows]
    return representation.fit(X[rows], y, **fit_params)


def adapter_inputs(representation, X, passthrough):
    """What the adapter reads when the representation is not trained along."""
    if representation is None:
        return X
    Z = representation.transform(X)
    if passthrough:
        return np.hstack([np.asarray(Z, dtype=np.float32), np.asarray(X, dtype=np.float32)])
    return Z


def trainable_encoder(representation):
    """A copy of the torch encoder a fitted stage-1 model hands over."""
    export = getattr(representation, "export_encoder", None)
    if export is None:
        raise ValueError(
            "freeze_representation=False needs a representation that hands over "
            "its torch encoder through export_encoder() (a fairrep FairRep, NRL "
            f"or DNNClassifier); got {type(representation).__name__}. Use "
            "freeze_representation=True."
        )
    return export()
