"""Fitted neural estimators that :mod:`skops.io` can save and load safely.

Loading a pickle runs whatever code the file names, so people who exchange
models use ``skops.io``, which rebuilds only the types the user trusts. A
fitted skorch net does not fit that model: its torch modules and optimizers
hold tensors, and skorch's own ``__getstate__`` hides them in a pickle.

:class:`PortableNetMixin` gives :func:`skops.io.dump` (which reads an
object's ``__getstate__``) a state of plain values: the net's class and
constructor parameters, every module's weights and every optimizer's state
as NumPy arrays, the training history as lists and dicts, and ``history_``
as columns. ``__setstate__`` rebuilds the net from them, so a loaded model
predicts exactly as the saved one. Pickle, ``copy`` and ``deepcopy`` go
through ``__reduce_ex__`` and keep the full native state.

The types a fitted model needs are listed by :func:`skops_trusted_types`::

    import skops.io as sio
    from fairrep.utils import skops_trusted_types
    sio.dump(model, "model.skops")
    model = sio.load("model.skops", trusted=skops_trusted_types())
"""

import copy
import copyreg
import inspect
import warnings

import numpy as np
import pandas as pd
import torch

__all__ = ["PortableNetMixin", "skops_trusted_types"]

#: Version of the portable net state; a file with a larger one is refused.
PORTABLE_FORMAT = 1

_NET_KEY = "__fairrep_portable_net__"
_FRAME_KEY = "__fairrep_frame__"
_TENSOR_KEY = "__tensor__"
_MODULE_PARAM_KEY = "__module_param__"

# attributes of a net that hold trained weights or optimizer state
_MODULE_ATTRIBUTES = ("module_", "adversary_", "critic_", "criterion_")
_OPTIMIZER_ATTRIBUTES = ("optimizer_", "adversary_optimizer_")

# the classes a fitted fairrep model references (module:qualname), for skops
_TRUSTED = (
    "fairrep.representation._fairrep.FairRep",
    "fairrep.baselines._dnn.DNNClassifier",
    "fairrep.baselines._nrl.NRL",
    "fairrep.baselines._lfr.LFR",
    "fairrep.perspective._fairper.FairPer",
    "fairrep.representation._net.FairRepNet",
    "fairrep._nn._data.TensorBatchIterator",
    "fairrep._nn._data.TensorDataset",
    "fairrep.representation._modules.RepresentationModule",
    "fairrep.representation._modules.GroupClassifier",
    "fairrep.representation._modules.Critic",
    "fairrep.perspective._net.FairPerNet",
    "fairrep.perspective._modules.PerspectiveModule",
    "fairrep.utils._guards.DivergenceGuard",
    "fairrep._nn._estimator.WarmupEarlyStopping",
    "skorch.callbacks.training.EarlyStopping",
    "skorch.callbacks.scoring.PassthroughScoring",
    "skorch.callbacks.logging.ProgressBar",
    "torch.nn.modules.loss.CrossEntropyLoss",
    "torch.optim.adam.Adam",
)


def skops_trusted_types():
    """The types to trust when loading a fitted fairrep model with ``skops.io``.

    Covers :class:`~fairrep.FairRep`, :class:`~fairrep.FairPer` and the
    baselines (:class:`~fairrep.baselines.DNNClassifier`,
    :class:`~fairrep.baselines.NRL`, :class:`~fairrep.baselines.LFR`) as
    fairrep builds them: their nets, torch modules, optimizer, loss and
    callbacks. Anything else a model holds (a user's own skorch callback, a
    scikit-learn representation inside FairPer that skops does not trust by
    default) must be added; ``skops.io.get_untrusted_types(file=...)`` lists
    what a file needs.

    Returns
    -------
    trusted : list of str
        Fully qualified type names for ``skops.io.load(..., trusted=...)``.

    Examples
    --------
    >>> from fairrep.utils import skops_trusted_types
    >>> "fairrep.representation._fairrep.FairRep" in skops_trusted_types()
    True
    """
    return list(_TRUSTED)


def _plain(value):
    """Tensors to marked NumPy arrays and NumPy scalars to Python ones, recursively."""
    if torch.is_tensor(value):
        return {_TENSOR_KEY: value.detach().cpu().numpy()}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_plain(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _unplain(value, device):
    if isinstance(value, dict):
        if set(value) == {_TENSOR_KEY}:
            return torch.as_tensor(np.asarray(value[_TENSOR_KEY])).to(device)
        return {key: _unplain(item, device) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_unplain(item, device) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _callback_state(item):
    """``(name, class, parameters)`` of a callback; function-valued ones are left out."""
    name, callback = item if isinstance(item, tuple) else (None, item)
    params = {
        key: value for key, value in callback.get_params(deep=False).items()
        if not (callable(value) and not inspect.isclass(value))
    }
    return name, type(callback), params


def _net_state(net):
    params = {}
    module_params = []
    for key, value in net.get_params(deep=False).items():
        if key.startswith("_") or key in {"callbacks", "train_split"}:
            continue
        if isinstance(value, torch.nn.Module):
            module_params.append(key)  # rebuilt from the owner, see _module_param
            continue
        params[key] = _plain(value)
    return {
        _NET_KEY: PORTABLE_FORMAT,
        "class": type(net),
        "params": params,
        "module_params": module_params,
        "callbacks": [_callback_state(item) for item in (net.callbacks or [])],
        "modules": {
            name: {key: tensor.detach().cpu().numpy()
                   for key, tensor in getattr(net, name).state_dict().items()}
            for name in _MODULE_ATTRIBUTES
            if isinstance(getattr(net, name, None), torch.nn.Module)
        },
        "optimizers": {
            name: _plain(getattr(net, name).state_dict())
            for name in _OPTIMIZER_ATTRIBUTES if getattr(net, name, None) is not None
        },
        "history": _plain(list(net.history)),
    }


def _module_param(owner, key):
    """A torch module given to the net as a parameter, rebuilt from the owner.

    FairPer trains a copy of its representation's encoder along
    (``freeze_representation=False``); its architecture is that of
    ``representation_``'s encoder, and its weights are in the net's own
    state.
    """
    encoder = getattr(getattr(getattr(getattr(owner, "representation_", None), "net_", None),
                              "module_", None), "encoder", None)
    if key == "module__encoder" and isinstance(encoder, torch.nn.Module):
        return copy.deepcopy(encoder)
    raise ValueError(
        f"cannot rebuild the net parameter {key!r} of {type(owner).__name__} from "
        "its saved state; save this model with pickle instead."
    )


def _device(saved):
    device = str(saved)
    if device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"the model was saved on device={device!r} but CUDA is not available "
            "here; it is loaded on the CPU.",
            UserWarning,
            stacklevel=4,
        )
        return "cpu"
    return device


def _rebuild_net(state, owner):
    version = state[_NET_KEY]
    if not isinstance(version, int) or version > PORTABLE_FORMAT:
        raise ValueError(
            f"the saved {type(owner).__name__} has a net in portable format "
            f"{version!r}, newer than this fairrep reads ({PORTABLE_FORMAT}); "
            "upgrade fairrep to load it."
        )
    from skorch.history import History

    params = dict(state["params"])
    params["device"] = device = _device(params.get("device", "cpu"))
    params = {key: _unplain(value, "cpu") for key, value in params.items()}
    for key in state["module_params"]:
        params[key] = _module_param(owner, key)
    callbacks = [(name, cls(**kwargs)) if name is not None else cls(**kwargs)
                 for name, cls, kwargs in state["callbacks"]]
    net = state["class"](**params, callbacks=callbacks)
    # building the modules draws their (discarded) initial weights: keep the
    # caller's random state as it was
    with torch.random.fork_rng(devices=[]):
        net.initialize()
    for name, weights in state["modules"].items():
        getattr(net, name).load_state_dict(
            {key: torch.as_tensor(np.asarray(value)) for key, value in weights.items()}
        )
    for name, optimizer_state in state["optimizers"].items():
        getattr(net, name).load_state_dict(_unplain(optimizer_state, device))
    net.history = History(_unplain(state["history"], "cpu"))
    return net


def _frame_state(frame):
    return {_FRAME_KEY: True, "columns": [str(column) for column in frame.columns],
            "data": {str(column): frame[column].to_numpy() for column in frame.columns}}


class PortableNetMixin:
    """Give ``skops.io`` a fitted net as plain values; pickle keeps the native state.

    Mixed into the estimators whose fitted ``net_`` is a skorch net
    (:class:`~fairrep.FairRep`, :class:`~fairrep.FairPer` and the neural
    baselines); see the module notes.
    """

    def __reduce_ex__(self, protocol):
        # pickle, copy, deepcopy: the estimator's full native state
        return (copyreg.__newobj__, (type(self),), super().__getstate__())

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        net = state.get("net_")
        if net is not None and not isinstance(net, dict):
            state["net_"] = _net_state(net)
        history = state.get("history_")
        if isinstance(history, pd.DataFrame):
            state["history_"] = _frame_state(history)
        return state

    def __setstate__(self, state):
        state = dict(state)
        net = state.pop("net_", None)
        history = state.get("history_")
        if isinstance(history, dict) and history.get(_FRAME_KEY):
            state["history_"] = pd.DataFrame(history["data"], columns=history["columns"])
        super().__setstate__(state)
        if isinstance(net, dict) and _NET_KEY in net:
            net = _rebuild_net(net, self)
        if net is not None:
            self.net_ = net
