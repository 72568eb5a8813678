"""Bad inputs and faults across the package, as a new user meets them.

Each case asserts the exception type and that the message names the argument
and what was expected, or asserts the documented handling (a warning, a
round trip). Tiny data, 1-2 epochs. Bad audio and malformed corpus files are
in test_bad_inputs_data.py; training guards (divergence, float32 overflow,
one-class models) in test_training_guards.py.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.exceptions import NotFittedError, UnsetMetadataPassedError
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tests.conftest import require_module
from fairrep import FairPer, FairRep
from fairrep.baselines import LFR, NRL, DNNClassifier
from fairrep.exceptions import SensitiveFeaturesMissingWarning
from fairrep.metrics import (
    consistency_score,
    statistical_parity_score,
    statistical_parity_scorer,
)
from fairrep.raters import perspective_split
from fairrep.utils import skops_trusted_types

SMALL = {"hidden_layer_sizes": (8,), "max_epochs": 1, "random_state": 0}


@pytest.fixture(autouse=True)
def _quiet_fits():
    # one-epoch fits on tiny data may predict one class; not what is tested here
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*predicts one class")
        yield


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    groups = np.where(rng.rand(60) > 0.5, "a", "b")
    return X, y, groups


def _estimator(name):
    return {
        "FairRep": lambda: FairRep(embedding_dim=4, **SMALL),
        "NRL": lambda: NRL(embedding_dim=4, **SMALL),
        "DNNClassifier": lambda: DNNClassifier(**SMALL),
        "LFR": lambda: LFR(n_prototypes=3, max_iter=5, random_state=0),
    }[name]()


# ---------------------------------------------------------------- estimators

CLASSIFIERS = ["FairRep", "NRL", "DNNClassifier", "LFR"]


@pytest.mark.parametrize("name", CLASSIFIERS + ["FairPer"])
def test_string_column_in_x(name, data):
    X, y, groups = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(loudness="loud")
    model = FairPer(max_epochs=1) if name == "FairPer" else _estimator(name)
    with pytest.raises(ValueError) as raised:
        model.fit(frame, y, sensitive_features=groups) if name != "DNNClassifier" \
            else model.fit(frame, y)
    message = str(raised.value)
    assert message.startswith("X must hold numeric features; column(s) 'loudness' (e.g. 'loud')")
    assert "ColumnTransformer" in message and "OneHotEncoder(), ['loudness']" in message
    assert "make_pipeline(" in message and f"{name}(...)" in message


def test_string_column_in_a_plain_array_is_named_by_position(data):
    X, y, _ = data
    mixed = np.column_stack([X[:, :2], np.where(y == 1, "loud", "soft")]).astype(object)
    with pytest.raises(ValueError, match=r"column\(s\) 2 \(e\.g\. '(loud|soft)'\) hold strings"):
        DNNClassifier(**SMALL).fit(mixed, y)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_x_and_y_lengths_differ(name, data):
    X, y, _ = data
    with pytest.raises(ValueError) as raised:
        _estimator(name).fit(X, y[:-5])
    assert str(raised.value).startswith(
        "X and y have inconsistent numbers of samples: X has 60 and y has 55; they must "
        "have the same length")


def test_fairper_y_rows_differ(data):
    X, y, _ = data
    with pytest.raises(ValueError, match=r"Y has 59 rows but X has 60 samples"):
        FairPer(max_epochs=1).fit(X, np.c_[y, y][:-1])


def test_sensitive_features_length_differs(data):
    X, y, groups = data
    with pytest.raises(ValueError, match=r"sensitive_features has 50 entries but 60 samples"):
        FairRep(**SMALL).fit(X, y, sensitive_features=groups[:50])


def test_one_group_with_fairness_on(data):
    X, y, _ = data
    with pytest.raises(ValueError, match=r"sensitive_features must contain at least 2 distinct groups"):
        FairRep(**SMALL).fit(X, y, sensitive_features=["a"] * 60)


def test_one_class_in_y(data):
    X, _, _ = data
    with pytest.raises(ValueError, match=r"y must contain at least two classes; got one class: \[1\]"):
        DNNClassifier(**SMALL).fit(X, np.ones(60, dtype=int))


def test_nan_in_x(data):
    X, y, _ = data
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"Input X contains NaN"):
        DNNClassifier(**SMALL).fit(X, y)


def test_wrong_feature_count_at_predict(data):
    X, y, _ = data
    model = DNNClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match=r"X has 3 features, but DNNClassifier is expecting 4"):
        model.predict(X[:, :3])


def test_predict_before_fit(data):
    with pytest.raises(NotFittedError, match=r"This FairRep instance is not fitted yet"):
        FairRep().predict(data[0])


def test_fairper_unknown_perspective(data):
    X, y, _ = data
    model = FairPer(max_epochs=1, triplet_weight=0).fit(X, pd.DataFrame({"male": y, "female": y}))
    with pytest.raises(ValueError, match=r"perspective='other' is not a learned perspective; "
                                         r"expected one of \['male', 'female'\]"):
        model.set_params(perspective="other").predict(X)


def test_invalid_hyperparameter():
    with pytest.raises(sklearn.utils._param_validation.InvalidParameterError,
                       match=r"The 'lr' parameter of FairRep must be a float in the range \(0"):
        FairRep(lr=-1.0).fit(np.ones((4, 2)), [0, 1, 0, 1])


# ------------------------------------------------------------------ metrics


def test_metric_y_true_y_pred_lengths_differ():
    with pytest.raises(ValueError) as raised:
        statistical_parity_score([0, 1, 0], [0, 1], sensitive_features=["a", "b", "a"])
    assert str(raised.value).startswith(
        "y_true and y_pred have inconsistent numbers of samples: y_true has 3 and y_pred has 2")


def test_metric_without_sensitive_features():
    with pytest.raises(ValueError, match=r"sensitive_features is required; got None"):
        statistical_parity_score([0, 1], [0, 1], sensitive_features=None)


def test_metric_missing_labels():
    with pytest.raises(ValueError, match=r"y_pred contains 1 missing value\(s\) \(None/NaN\)"):
        statistical_parity_score([0, 1, 1], [0, None, 1], sensitive_features=["a", "b", "a"])


def test_metric_bad_average():
    with pytest.raises(ValueError, match=r"average must be one of \(None, 'macro'"):
        statistical_parity_score([0, 1], [0, 1], sensitive_features=["a", "b"], average="mean")


def test_consistency_string_column():
    X = pd.DataFrame({"pitch": [1.0, 2.0, 3.0], "voice": ["low", "high", "low"]})
    with pytest.raises(ValueError) as raised:
        consistency_score(X, [0, 1, 0], n_neighbors=1)
    message = str(raised.value)
    assert message.startswith("X must hold numeric features; column(s) 'voice' (e.g. 'low')")
    assert "consistency_score does not encode categories" in message
    assert ".fit_transform(X)" in message


def test_consistency_x_and_y_lengths_differ():
    with pytest.raises(ValueError, match=r"X and y have inconsistent numbers of samples: "
                                         r"X has 3 and y has 2"):
        consistency_score(np.eye(3), [0, 1], n_neighbors=1)


def test_consistency_too_many_neighbours():
    with pytest.raises(ValueError, match=r"n_neighbors=5 must be smaller than the number of samples \(3\)"):
        consistency_score(np.eye(3), [0, 1, 0], n_neighbors=5)


# ------------------------------------------------------------------- raters


RATINGS = pd.DataFrame({"item": [1, 1, 2, 2], "rater_group": ["m", "f", "m", "f"],
                        "label": ["a", "b", "a", "a"]})


@pytest.mark.parametrize(
    "ratings, kwargs, error, message",
    [
        (RATINGS.drop(columns="label"), {}, ValueError,
         r"ratings has no column named by label='label'; available columns"),
        ([1, 2, 3], {}, TypeError,
         r"ratings must be a pandas DataFrame with one row per \(item, rater\)"),
        (RATINGS, {"truth": [1, 2]}, TypeError, r"truth must be None .* or a pandas Series"),
        (RATINGS.iloc[:0], {}, ValueError, r"ratings is empty; expected at least one rating"),
        (RATINGS.assign(rater_group="m"), {}, ValueError,
         r"ratings\['rater_group'\] must contain at least 2 distinct rater groups"),
    ],
    ids=["missing-column", "not-a-frame", "truth-list", "empty", "one-group"],
)
def test_perspective_split_faults(ratings, kwargs, error, message):
    with pytest.raises(error, match=message):
        perspective_split(ratings, **kwargs)


# ------------------------------------------------------------------ routing


def test_scorer_without_sensitive_features(data):
    X, y, groups = data
    model = DNNClassifier(**SMALL).fit(X, y)
    with pytest.raises(TypeError, match=r"statistical_parity_scorer needs sensitive_features\. "
                                        r"Pass them as metadata: enable routing"):
        statistical_parity_scorer(model, X, y)


def test_scorer_in_cross_validate_without_sensitive_features(data):
    X, y, groups = data
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(TypeError, match=r"statistical_parity_scorer needs sensitive_features"):
            cross_validate(DNNClassifier(**SMALL), X, y, cv=2,
                           scoring=statistical_parity_scorer, error_score="raise")


def test_pipeline_without_set_fit_request(data):
    X, y, groups = data
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(UnsetMetadataPassedError,
                           match=r"\[sensitive_features\] are passed but are not explicitly set "
                                 r"as requested .* for FairRep\.fit.*set_fit_request"):
            make_pipeline(StandardScaler(), FairRep(**SMALL)).fit(
                X, y, sensitive_features=groups)


def test_pipeline_without_routing_rejects_sensitive_features(data):
    X, y, groups = data
    with pytest.raises(ValueError, match=r"Pipeline\.fit does not accept the sensitive_features "
                                         r"parameter"):
        make_pipeline(StandardScaler(), FairRep(**SMALL)).fit(X, y, sensitive_features=groups)


def test_search_without_routing_says_fairness_is_off(data):
    X, y, groups = data
    search = GridSearchCV(FairRep(embedding_dim=4, **SMALL), {"alpha": [0.1]}, cv=2)
    with pytest.warns(SensitiveFeaturesMissingWarning, match=r"FairRep is fitted as a plain "
                                                              r"classifier .*alpha=0\.1"):
        search.fit(X, y)


def test_search_with_routing_passes_groups(data):
    X, y, groups = data
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("error", SensitiveFeaturesMissingWarning)
        model = FairRep(embedding_dim=4, **SMALL).set_fit_request(sensitive_features=True)
        search = GridSearchCV(model, {"alpha": [0.1]}, cv=2).fit(X, y, sensitive_features=groups)
    assert list(search.best_estimator_.groups_) == ["a", "b"]


# -------------------------------------------------------------- persistence


def _fitted(name, data):
    X, y, groups = data
    if name == "FairPer":
        Y = pd.DataFrame({"a": y, "b": 1 - y})
        return FairPer(FairRep(embedding_dim=4, **SMALL), max_epochs=2,
                       random_state=0).fit(X, Y, sensitive_features=groups)
    if name == "DNNClassifier":
        return _estimator(name).fit(X, y)
    return _estimator(name).fit(X, y, sensitive_features=groups)


PERSISTED = ["FairRep", "NRL", "DNNClassifier", "LFR", "FairPer"]


@pytest.mark.parametrize("name", PERSISTED)
def test_pickle_round_trip(name, data):
    model = _fitted(name, data)
    loaded = pickle.loads(pickle.dumps(model))
    X = data[0]
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))


@pytest.mark.parametrize("name", PERSISTED)
def test_skops_round_trip(name, data, tmp_path):
    sio = require_module("skops.io")
    model = _fitted(name, data)
    path = tmp_path / f"{name}.skops"
    sio.dump(model, path)
    # nothing beyond the documented list needs trusting
    assert set(sio.get_untrusted_types(file=path)) <= set(skops_trusted_types())
    before = torch.random.get_rng_state()
    loaded = sio.load(path, trusted=skops_trusted_types())
    assert torch.equal(torch.random.get_rng_state(), before)
    X = data[0]
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    if hasattr(model, "history_"):
        pd.testing.assert_frame_equal(loaded.history_, model.history_)


def test_skops_refuses_untrusted_types(data, tmp_path):
    sio = require_module("skops.io")
    sio.dump(_fitted("FairRep", data), tmp_path / "m.skops")
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException,
                       match=r"fairrep\.representation\._fairrep\.FairRep"):
        sio.load(tmp_path / "m.skops")


def test_skops_loaded_model_continues_training(data, tmp_path):
    sio = require_module("skops.io")
    X, y, _ = data
    sio.dump(_fitted("DNNClassifier", data), tmp_path / "m.skops")
    loaded = sio.load(tmp_path / "m.skops", trusted=skops_trusted_types())
    loaded.set_params(warm_start=True).fit(X, y)  # one more epoch, from the loaded weights
    assert loaded.n_iter_ == 2 and list(loaded.history_["epoch"]) == [1, 2]


def test_skops_file_from_a_newer_format_is_refused(data, tmp_path, monkeypatch):
    sio = require_module("skops.io")
    from fairrep.utils import _persistence

    monkeypatch.setattr(_persistence, "PORTABLE_FORMAT", 99)
    sio.dump(_fitted("DNNClassifier", data), tmp_path / "m.skops")
    monkeypatch.setattr(_persistence, "PORTABLE_FORMAT", 1)
    with pytest.raises(ValueError, match=r"the saved DNNClassifier has a net in portable format 99, "
                                         r"newer than this fairrep reads \(1\); upgrade fairrep"):
        sio.load(tmp_path / "m.skops", trusted=skops_trusted_types())


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only fallback")
def test_skops_model_saved_on_cuda_loads_on_the_cpu(data, tmp_path):
    sio = require_module("skops.io")
    model = _fitted("FairRep", data)
    expected = model.predict_proba(data[0])
    # the device a GPU fit records (the arrays are saved from the CPU either way)
    model.net_.device = "cuda"
    sio.dump(model, tmp_path / "m.skops")
    with pytest.warns(UserWarning, match=r"saved on device='cuda' but CUDA is not available "
                                          r"here; it is loaded on the CPU"):
        loaded = sio.load(tmp_path / "m.skops", trusted=skops_trusted_types())
    assert loaded.net_.device == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(data[0]), expected)
