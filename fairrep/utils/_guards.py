"""Guards that keep a failed training run from returning a model silently.

Three checks shared by the neural estimators:

* :class:`DivergenceGuard`, a skorch callback, stops training with a
  :class:`~fairrep.exceptions.TrainingDivergedError` at the end of the first
  epoch whose loss is not finite, or after which a weight is not;
* :func:`check_float32_range` refuses input that is finite in float64 but
  overflows the float32 the networks compute in;
* :func:`check_training_predictions` warns with
  :class:`~fairrep.exceptions.SingleClassPredictionWarning` when a fitted
  classifier predicts one class for all of its training data.
"""

import contextlib
import math
import warnings

import numpy as np
import torch
from skorch.callbacks import Callback

from ..exceptions import (
    SensitiveFeaturesMissingWarning,
    SingleClassPredictionWarning,
    TrainingDivergedError,
)

__all__ = [
    "DivergenceGuard",
    "check_float32_range",
    "check_training_predictions",
    "stop_on_divergence",
    "validate_float32_data",
    "warn_fairness_off",
    "warn_single_class",
]

_FLOAT32_MAX = float(np.finfo(np.float32).max)

# history columns that hold losses; NaN in a loss *term* can also mean that
# the term never applied in the epoch, so only these decide divergence
_LOSS_COLUMNS = ("train_loss", "valid_loss")

_SILENCE_HINT = (
    "To silence this warning: warnings.filterwarnings('ignore', "
    "category=fairrep.exceptions.SingleClassPredictionWarning)."
)


def _modules_of(net):
    """The torch modules a skorch net trains, extra ones (adversary, critic) included."""
    names = {f"{name}_" for name in getattr(net, "_modules", ())}
    names.update(("module_", "adversary_", "critic_"))
    modules = []
    for name in sorted(names):
        module = getattr(net, name, None)
        if isinstance(module, torch.nn.Module):
            modules.append((name.rstrip("_"), module))
    return modules


def _non_finite_parameters(net):
    """Names of the modules that hold a NaN or infinite weight (one device sync)."""
    checks, owners = [], []
    for owner, module in _modules_of(net):
        for parameter in module.parameters():
            checks.append(torch.isfinite(parameter).all())
            owners.append(owner)
    if not checks:
        return []
    finite = torch.stack(checks).cpu().tolist()
    return sorted({owner for owner, ok in zip(owners, finite) if not ok})


class DivergenceGuard(Callback):
    """Stop training when the loss or a weight stops being finite.

    Checked at the end of every epoch (``fit`` and each ``partial_fit``
    call): ``train_loss`` and ``valid_loss`` of the epoch's history row and
    every weight of the net's modules. A NaN loss term (``emotion_loss``,
    ...) alone is not divergence, since it marks a term that never applied in
    the epoch; a diverging term makes ``train_loss`` diverge too.

    Parameters
    ----------
    estimator : str, default="model"
        Name of the public estimator, for the message.

    Raises
    ------
    fairrep.exceptions.TrainingDivergedError
        Naming the estimator, the epoch, the learning rate and the loss
        values, with what to change.
    """

    def __init__(self, estimator="model"):
        self.estimator = estimator

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        losses = {key: row[key] for key in _LOSS_COLUMNS if key in row}
        # a NaN term may only mean that the term never applied: not shown
        losses.update((key, row[key]) for key in row
                      if key.endswith("_loss") and key not in losses
                      and not _is_nan(row[key]))
        diverged = [key for key in _LOSS_COLUMNS
                    if key in losses and not _is_finite(losses[key])]
        diverged += [key for key, value in losses.items()
                     if key not in _LOSS_COLUMNS and _is_infinite(value)]
        weights = [] if diverged else _non_finite_parameters(net)
        if not diverged and not weights:
            return
        epoch = row.get("epoch", len(net.history))
        values = ", ".join(f"{key}={_format(value)}" for key, value in losses.items())
        what = (f"the loss is not finite ({values})" if diverged
                else f"the weights of {', '.join(weights)} are not finite "
                     f"({values or 'no loss recorded'})")
        raise TrainingDivergedError(_diverged(self.estimator, f"at epoch {epoch}", what, net))


def _diverged(estimator, when, what, net):
    lr = float(net.lr)
    return (
        f"{estimator} training diverged {when}: {what}. The learning rate "
        f"lr={lr:g} is probably too large for this data, or X has a large scale: "
        f"lower lr (e.g. lr={min(lr / 10, 1e-3):g}) or standardise X (e.g. "
        "sklearn.preprocessing.StandardScaler in a Pipeline). No model was fitted."
    )


def _non_finite_outputs(net, X):
    """Whether the net's outputs on the first rows of ``X`` are NaN or infinite."""
    try:
        with torch.no_grad():
            output = next(iter(net.forward_iter({"X": X[:256]})))
    except Exception:  # the net cannot even predict: not ours to judge
        return False
    tensors = output if isinstance(output, tuple) else (output,)
    return not all(bool(torch.isfinite(tensor).all()) for tensor in tensors)


@contextlib.contextmanager
def stop_on_divergence(net, estimator, X):
    """Report an error raised inside an epoch by a diverged net as divergence.

    :class:`DivergenceGuard` checks at the end of each epoch; a loss term
    that cannot handle non-finite values (a matrix decomposition, an
    optimal-transport solver) may fail inside the epoch first, with an
    error that says nothing of the cause. When the net's weights, or its
    outputs on the first rows of ``X``, are not finite at that point, the
    error becomes a :class:`~fairrep.exceptions.TrainingDivergedError`
    chained to it; otherwise it propagates unchanged.

    Parameters
    ----------
    net : skorch.NeuralNet
    estimator : str
        Name of the estimator, for the message.
    X : Tensor
        The training input as the net reads it.
    """
    try:
        yield
    except TrainingDivergedError:
        raise
    except Exception as error:
        if not getattr(net, "initialized_", False):
            raise
        weights = _non_finite_parameters(net)
        if not weights and not _non_finite_outputs(net, X):
            raise
        what = (f"the weights of {', '.join(weights)} are not finite" if weights
                else "the network's outputs are not finite")
        first_line = str(error).splitlines()[0] if str(error) else ""
        raise TrainingDivergedError(_diverged(
            estimator, f"during epoch {len(net.history)}",
            f"{what}, and training stopped on {type(error).__name__}: {first_line}", net,
        )) from error


def _is_finite(value):
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True  # not a number: nothing to judge


def _is_nan(value):
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _is_infinite(value):
    try:
        return math.isinf(float(value))
    except (TypeError, ValueError):
        return False


def _format(value):
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return repr(value)


def check_float32_range(X, *, estimator, name="X"):
    """Refuse float64 values that overflow float32.

    The networks compute in float32; a value finite in float64 but beyond
    float32's largest (about 3.4e38) becomes infinite there and every
    output NaN.

    Parameters
    ----------
    X : ndarray
        Validated, finite input.
    estimator : str
        Name of the estimator, for the message.
    name : str, default="X"
        Name of the argument, for the message.

    Returns
    -------
    X : ndarray
        Unchanged.

    Raises
    ------
    ValueError
        If ``|x|`` exceeds float32's largest value somewhere in ``X``.
    """
    if not isinstance(X, np.ndarray) or X.dtype.kind != "f" or X.dtype.itemsize <= 4:
        return X
    if X.size == 0:
        return X
    # two reductions without a temporary copy of |X|
    largest = max(float(X.max()), -float(X.min()))
    if largest > _FLOAT32_MAX:
        rows, columns = np.nonzero(np.abs(X) > _FLOAT32_MAX) if X.ndim == 2 else (None, None)
        where = ("" if rows is None
                 else f" (e.g. {name}[{int(rows[0])}, {int(columns[0])}])")
        raise ValueError(
            f"{name} has values beyond float32's range: the largest |value| is "
            f"{largest:.3g}{where}, float32's largest is {_FLOAT32_MAX:.3g}. "
            f"{estimator} computes in float32, where they would become infinite. "
            f"Scale {name} first (e.g. sklearn.preprocessing.StandardScaler)."
        )
    return X


_NEURAL_CAUSES = (
    "training failed (learning rate lr too large, too few max_epochs) or a "
    "fairness weight (alpha, adversary_weight, triplet_weight) made a constant "
    "prediction optimal"
)


def warn_single_class(estimator, y_pred, y_codes, *, causes=_NEURAL_CAUSES, columns=None):
    """Warn if a fitted classifier predicts one class for every training sample.

    Parameters
    ----------
    estimator : str
        Name of the estimator, for the message.
    y_pred : ndarray of shape (n_samples,) or (n_samples, n_columns)
        Predicted class codes on the training data (one column per
        perspective for a multi-perspective model).
    y_codes : ndarray of the same shape
        The training labels as codes; ``-1`` (or any negative) is missing.
    causes : str
        The likely causes, in the estimator's parameter names.
    columns : sequence of str, default=None
        Names of the columns (the perspectives), for the message.

    Returns
    -------
    warned : bool
    """
    y_pred = np.asarray(y_pred)
    y_codes = np.asarray(y_codes)
    if y_pred.ndim == 1:
        y_pred, y_codes = y_pred[:, None], y_codes[:, None]
    for column in range(y_pred.shape[1]):
        labelled = y_codes[:, column] >= 0
        n_classes = np.unique(y_codes[labelled, column]).shape[0]
        predicted = np.unique(y_pred[:, column])
        if n_classes > 1 and predicted.shape[0] == 1:
            name = column if columns is None else columns[column]
            which = "" if y_pred.shape[1] == 1 else f" (perspective {name!r})"
            warnings.warn(
                f"{estimator} predicts one class{which} for all {y_pred.shape[0]} "
                f"training samples although y has {n_classes} classes: {causes}. "
                f"{_SILENCE_HINT}",
                SingleClassPredictionWarning,
                stacklevel=3,
            )
            return True
    return False


def check_training_predictions(estimator, X, y_codes):
    """Predict the training data with a fitted skorch net and warn on one class.

    Parameters
    ----------
    estimator : estimator with a fitted ``net_``
        Its net's ``forward`` returns ``(logits, embedding)`` (or logits);
        the logits' last axis is the class axis.
    X : Tensor
        The training input as the net reads it.
    y_codes : ndarray
        Training labels as codes, ``-1`` for missing.

    Returns
    -------
    warned : bool
    """
    codes = []
    # batch by batch: only the predicted codes are kept, not all the logits
    with torch.no_grad():
        for output in estimator.net_.forward_iter({"X": X}):
            logits = output[0] if isinstance(output, tuple) else output
            codes.append(logits.argmax(dim=-1).cpu())
    y_pred = torch.cat(codes).numpy()
    columns = getattr(estimator, "perspectives_", None)
    return warn_single_class(type(estimator).__name__, y_pred, y_codes,
                             columns=None if columns is None else list(columns))


def validate_float32_data(estimator, X, y="no_validation", **kwargs):
    """Validate the input of a network that computes in float32.

    :func:`~fairrep.utils._validation.validate_numeric_data` with float32 or
    float64 output, then :func:`check_float32_range` on ``X``.

    Returns
    -------
    X, or (X, y)
    """
    from ._validation import validate_numeric_data

    kwargs.setdefault("dtype", [np.float32, np.float64])
    out = validate_numeric_data(estimator, X, y, **kwargs)
    check_float32_range(out[0] if isinstance(out, tuple) else out,
                        estimator=type(estimator).__name__)
    return out


def warn_fairness_off(estimator, weights):
    """Warn when ``fit`` got no ``sensitive_features`` but a fairness weight is on.

    Parameters
    ----------
    estimator : estimator instance
    weights : tuple of str
        Names of its fairness weights; those it lacks are skipped.

    Returns
    -------
    warned : bool
    """
    active = {name: getattr(estimator, name) for name in weights
              if getattr(estimator, name, 0) > 0}
    if not active:
        return False
    settings = ", ".join(f"{name}={value:g}" for name, value in active.items())
    name = type(estimator).__name__
    warnings.warn(
        f"sensitive_features is None: {name} is fitted as a plain classifier and "
        f"its fairness terms ({settings}) have no effect. Pass "
        f"{name}.fit(X, y, sensitive_features=...); inside a Pipeline, "
        "GridSearchCV or cross_validate, enable metadata routing "
        "(sklearn.set_config(enable_metadata_routing=True)), call "
        f"{name}(...).set_fit_request(sensitive_features=True) and pass "
        "sensitive_features to the outer fit.",
        SensitiveFeaturesMissingWarning,
        stacklevel=3,
    )
    return True
