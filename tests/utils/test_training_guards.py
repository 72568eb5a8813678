"""No silent failure in training: divergence, float32 overflow, one-class models.

Every neural estimator (FairRep, NRL, DNNClassifier, FairPer) stops with
TrainingDivergedError when its loss or weights stop being finite, refuses X
beyond float32's range, and every classifier warns when it predicts one class
for all of its training data. Tiny data and 1-5 epochs keep the file fast.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from skorch.callbacks import Callback

from fairrep import FairPer, FairRep
from fairrep.baselines import LFR, NRL, DNNClassifier
from fairrep.exceptions import (
    SensitiveFeaturesMissingWarning,
    SingleClassPredictionWarning,
    TrainingDivergedError,
)

SMALL = {"hidden_layer_sizes": (8,), "batch_size": 32, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    """A balanced task that feature 0 separates, with two groups."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] > 0).astype(int)
    groups = np.where(rng.rand(120) > 0.5, "a", "b")
    return X, y, groups


def _fit(name, data, **params):
    X, y, groups = data
    params = {**SMALL, **params}
    if name == "FairRep":
        return FairRep(embedding_dim=4, **params).fit(X, y, sensitive_features=groups)
    if name == "NRL":
        return NRL(embedding_dim=4, **params).fit(X, y, sensitive_features=groups)
    if name == "DNNClassifier":
        return DNNClassifier(**params).fit(X, y)
    params.pop("hidden_layer_sizes")
    Y = pd.DataFrame({"a": y, "b": y})
    return FairPer(hidden_size=8, embedding_dim=4, **params).fit(
        X, Y, sensitive_features=groups)


NEURAL = ["FairRep", "NRL", "DNNClassifier", "FairPer"]


# --------------------------------------------------------------- divergence


@pytest.mark.parametrize("name", NEURAL)
def test_divergent_learning_rate_stops_fit(name, data):
    with pytest.raises(TrainingDivergedError) as raised:
        _fit(name, data, lr=1e20, max_epochs=3)
    message = str(raised.value)
    # at the end of epoch 1, or inside it when a loss term fails on the NaNs
    assert re.match(rf"{name} training diverged (at|during) epoch 1: ", message)
    assert re.search(r"train_loss=(nan|inf)|outputs are not finite|weights of \w+ are not "
                     r"finite", message)
    assert "lr=1e+20" in message and "lower lr" in message and "StandardScaler" in message
    # catchable as what went wrong and as a bad setting
    assert isinstance(raised.value, FloatingPointError)
    assert isinstance(raised.value, ValueError)


def test_divergence_leaves_no_fitted_model(data):
    X, y, _ = data
    model = DNNClassifier(**SMALL, lr=1e20, max_epochs=2)
    with pytest.raises(TrainingDivergedError):
        model.fit(X, y)
    assert not hasattr(model, "net_") and not hasattr(model, "classes_")


def test_partial_fit_divergence_is_caught(data):
    X, y, _ = data
    with pytest.raises(TrainingDivergedError, match=r"DNNClassifier training diverged at epoch 1"):
        DNNClassifier(**SMALL, lr=1e20).partial_fit(X, y, classes=[0, 1])


class _PoisonWeights(Callback):
    """Set the first weight to NaN at the start of ``epoch`` (or after its last batch)."""

    def __init__(self, epoch, when="begin"):
        self.epoch = epoch
        self.when = when

    def _poison(self, net):
        with torch.no_grad():
            next(net.module_.parameters()).view(-1)[0] = float("nan")

    def on_epoch_begin(self, net, **kwargs):
        if self.when == "begin" and len(net.history) == self.epoch:
            self._poison(net)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if self.when == "end" and training and len(net.history) == self.epoch:
            self._poison(net)


def test_the_epoch_that_diverges_is_named(data):
    # finite at epoch 1, a NaN weight from the start of epoch 2 on
    with pytest.raises(TrainingDivergedError, match=r"diverged at epoch 2: the loss is not finite"):
        _fit("DNNClassifier", data, max_epochs=4, callbacks=[_PoisonWeights(2)])


def test_non_finite_weights_after_a_finite_epoch_are_caught(data):
    # one batch per epoch: its step leaves a NaN weight behind a finite loss
    with pytest.raises(TrainingDivergedError,
                       match=r"epoch 1: the weights of module are not finite \(train_loss=\d"):
        _fit("FairRep", data, max_epochs=2, batch_size=128,
             callbacks=[_PoisonWeights(1, when="end")])


class _FailAfterPoison(_PoisonWeights):
    """Poison (or not) a weight after the first batch, then fail as a solver would."""

    def __init__(self, poison):
        super().__init__(1, when="end")
        self.poison = poison

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if training:
            if self.poison:
                self._poison(net)
            raise RuntimeError("linalg.eigh: The algorithm failed to converge")


def test_an_error_inside_a_diverged_epoch_is_reported_as_divergence(data):
    with pytest.raises(TrainingDivergedError) as raised:
        _fit("FairRep", data, max_epochs=2, callbacks=[_FailAfterPoison(poison=True)])
    assert str(raised.value).startswith(
        "FairRep training diverged during epoch 1: the weights of module are not finite, "
        "and training stopped on RuntimeError: linalg.eigh: The algorithm failed")
    assert isinstance(raised.value.__cause__, RuntimeError)


def test_an_error_with_finite_weights_propagates_unchanged(data):
    with pytest.raises(RuntimeError, match=r"^linalg\.eigh: The algorithm failed to converge$"):
        _fit("DNNClassifier", data, max_epochs=2, callbacks=[_FailAfterPoison(poison=False)])


def test_a_sane_fit_passes_every_guard(data):
    X, y, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("error", SingleClassPredictionWarning)
        model = DNNClassifier(**{**SMALL, "lr": 1e-2}, max_epochs=30).fit(X, y)
    assert model.score(X, y) > 0.9
    assert np.isfinite(model.history_["train_loss"]).all()


# ------------------------------------------------------------ float32 range


@pytest.mark.parametrize("name", NEURAL)
def test_x_beyond_float32_range_is_refused(name, data):
    X, y, groups = data
    X = X.copy()
    X[3, 1] = 1e39  # finite in float64, inf in float32
    with pytest.raises(ValueError) as raised:
        _fit(name, (X, y, groups), max_epochs=1)
    message = str(raised.value)
    assert message.startswith("X has values beyond float32's range")
    assert "X[3, 1]" in message and "1e+39" in message
    assert f"{name} computes in float32" in message and "Scale X" in message


def test_x_beyond_float32_range_is_refused_at_predict(data):
    X, y, _ = data
    model = _fit("FairRep", data, max_epochs=1)
    with pytest.raises(ValueError, match=r"X has values beyond float32's range"):
        model.predict(np.full((2, X.shape[1]), -1e300))
    # the largest float32 itself is accepted
    edge = np.full((2, X.shape[1]), float(np.finfo(np.float32).max))
    assert model.transform(edge).shape == (2, 4)


# ------------------------------------------------------------ one class


class _ZeroWeights(Callback):
    """Zero every weight when training ends: the model predicts one class."""

    def on_train_end(self, net, **kwargs):
        with torch.no_grad():
            for parameter in net.module_.parameters():
                parameter.zero_()


@pytest.mark.parametrize("name", ["FairRep", "NRL", "DNNClassifier"])
def test_one_class_model_warns(name, data):
    with pytest.warns(SingleClassPredictionWarning) as record:
        model = _fit(name, data, max_epochs=2, callbacks=[_ZeroWeights()])
    X, y, _ = data
    assert np.unique(model.predict(X)).shape[0] == 1
    message = str(record[0].message)
    assert message.startswith(f"{name} predicts one class")
    assert "for all 120 training samples although y has 2 classes" in message
    assert "learning rate lr too large" in message and "filterwarnings" in message


def test_fairper_lr_10_is_a_one_class_model_and_says_so(data):
    # lr=10 on a balanced task that feature 0 separates (one class at seeds 0-7)
    with pytest.warns(SingleClassPredictionWarning) as record:
        model = _fit("FairPer", data, lr=10.0, max_epochs=5)
    X, y, _ = data
    assert np.unique(model.predict(X)).shape[0] == 1
    assert str(record[0].message).startswith(
        "FairPer predicts one class (perspective 'a') for all 120 training samples "
        "although y has 2 classes")


def test_one_class_lfr_warns(data):
    X, y, groups = data
    with pytest.warns(SingleClassPredictionWarning, match=r"LFR predicts one class .*max_iter"):
        LFR(n_prototypes=1, max_iter=5, random_state=0).fit(X, y, sensitive_features=groups)


def test_one_class_warning_can_be_filtered(data):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=SingleClassPredictionWarning)
        _fit("DNNClassifier", data, max_epochs=1, callbacks=[_ZeroWeights()])
    assert not [w for w in record if issubclass(w.category, SingleClassPredictionWarning)]


# --------------------------------------------------- fairness without groups


@pytest.mark.parametrize(
    "model, named",
    [
        (FairRep(embedding_dim=4, max_epochs=1, **SMALL), "alpha=0.01, adversary_weight=3"),
        (NRL(embedding_dim=4, max_epochs=1, **SMALL), "alpha=1"),
    ],
)
def test_fit_without_groups_says_fairness_is_off(model, named, data):
    X, y, _ = data
    with pytest.warns(SensitiveFeaturesMissingWarning) as record:
        model.fit(X, y)
    message = str(record[0].message)
    assert message.startswith("sensitive_features is None:")
    assert f"fairness terms ({named}) have no effect" in message
    assert "set_fit_request(sensitive_features=True)" in message


def test_fairper_without_groups_says_triplets_are_off(data):
    X, y, _ = data
    with pytest.warns(SensitiveFeaturesMissingWarning, match=r"\(triplet_weight=0\.01\)"):
        FairPer(hidden_size=8, embedding_dim=4, max_epochs=1, triplet_weight=0.01,
                random_state=0).fit(X, np.c_[y, y])


def test_no_fairness_weight_no_warning(data):
    X, y, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("error", SensitiveFeaturesMissingWarning)
        FairRep(embedding_dim=4, max_epochs=1, alpha=0.0, adversary_weight=0.0,
                **SMALL).fit(X, y)
        DNNClassifier(max_epochs=1, **SMALL).fit(X, y)
