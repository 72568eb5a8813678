import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from tests.conftest import require_module
from fairrep.metrics import (
    consistency_score,
    consistency_scorer,
    embedding_consistency_scorer,
    make_consistency_scorer,
    make_statistical_parity_scorer,
    statistical_parity_score,
    statistical_parity_scorer,
)

# ---------------------------------------------------------------- statistical parity


def test_statistical_parity_binary_by_hand():
    y_true = [1, 0, 1, 0, 1, 0, 1, 0]
    y_pred = [1, 1, 1, 0, 1, 0, 0, 0]
    groups = ["m", "m", "m", "m", "f", "f", "f", "f"]
    # P(1 | m) = 3/4, P(1 | f) = 1/4
    assert statistical_parity_score(y_true, y_pred, sensitive_features=groups) == 0.5
    # the gap is symmetric in the two classes
    assert statistical_parity_score(
        y_true, y_pred, sensitive_features=groups, pos_label=0
    ) == pytest.approx(0.5)


def test_statistical_parity_multiclass_per_class_and_averages():
    y_true = np.array(["a", "b", "c", "a", "b", "c", "a", "a"])
    y_pred = np.array(["a", "a", "b", "c", "a", "b", "c", "c"])
    groups = np.array(["g1", "g1", "g1", "g1", "g2", "g2", "g2", "g2"])
    # g1: a=2/4 b=1/4 c=1/4 ; g2: a=1/4 b=1/4 c=2/4
    gaps = statistical_parity_score(y_true, y_pred, sensitive_features=groups)
    np.testing.assert_allclose(gaps, [0.25, 0.0, 0.25])
    assert statistical_parity_score(
        y_true, y_pred, sensitive_features=groups, average="macro"
    ) == pytest.approx(0.5 / 3)
    assert statistical_parity_score(
        y_true, y_pred, sensitive_features=groups, average="max"
    ) == pytest.approx(0.25)
    # support in y_true: a=4, b=2, c=2
    assert statistical_parity_score(
        y_true, y_pred, sensitive_features=groups, average="weighted"
    ) == pytest.approx((4 * 0.25 + 2 * 0 + 2 * 0.25) / 8)
    assert statistical_parity_score(
        y_true, y_pred, sensitive_features=groups, pos_label="c"
    ) == pytest.approx(0.25)


def test_statistical_parity_three_groups_is_max_minus_min():
    y_pred = [1, 1, 1, 0, 1, 0, 0, 0, 0]
    groups = ["a", "a", "a", "b", "b", "b", "c", "c", "c"]
    # rates 1, 1/3, 0
    assert statistical_parity_score(
        y_pred, y_pred, sensitive_features=groups
    ) == pytest.approx(1.0)


def test_statistical_parity_leaves_out_missing_groups():
    y_pred = [1, 0, 1, 0, 1, 1]
    groups = ["m", "m", "f", "f", None, np.nan]
    assert statistical_parity_score(y_pred, y_pred, sensitive_features=groups) == 0.0
    groups_pd = pd.Series(["m", "m", "f", "f", pd.NA, None])
    assert statistical_parity_score(y_pred, y_pred, sensitive_features=groups_pd) == 0.0


def test_statistical_parity_intersectional_columns():
    y_pred = [1, 0, 1, 1]
    sf = pd.DataFrame({"sex": ["m", "m", "f", "f"], "age": ["y", "o", "y", "o"]})
    # four singleton groups with rates 1, 0, 1, 1
    assert statistical_parity_score(y_pred, y_pred, sensitive_features=sf) == 1.0


def test_statistical_parity_labels_fix_output_order():
    y_true = ["b", "a", "b", "a"]
    y_pred = ["b", "b", "b", "a"]
    groups = ["x", "x", "y", "y"]
    gaps = statistical_parity_score(
        y_true, y_pred, sensitive_features=groups, labels=["b", "a", "z"]
    )
    np.testing.assert_allclose(gaps, [0.5, 0.5, 0.0])


def test_statistical_parity_prediction_unseen_in_y_true_is_a_class():
    # documented: classes are the union of y_true and y_pred
    y_true = ["a", "a", "b", "b"]
    y_pred = ["a", "c", "b", "b"]
    gaps = statistical_parity_score(y_true, y_pred, sensitive_features=[0, 0, 1, 1])
    np.testing.assert_allclose(gaps, [0.5, 1.0, 0.5])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_statistical_parity_agrees_with_fairlearn(seed):
    fairlearn_metrics = require_module("fairlearn.metrics")
    rng = np.random.RandomState(seed)
    y_true = rng.randint(0, 2, 300)
    y_pred = rng.randint(0, 2, 300)
    groups = rng.choice(["a", "b", "c"], 300)
    expected = fairlearn_metrics.demographic_parity_difference(
        y_true, y_pred, sensitive_features=groups
    )
    assert statistical_parity_score(
        y_true, y_pred, sensitive_features=groups
    ) == pytest.approx(expected)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y_true=[0, 1], y_pred=[0, 1, 1], sensitive_features=[0, 1]), "inconsistent"),
        (dict(y_true=[0, 1], y_pred=[0, 1], sensitive_features=[0, 1, 1]), "sensitive_features has 3"),
        (dict(y_true=[], y_pred=[], sensitive_features=[]), "y_true is empty"),
        (dict(y_true=[0, 1], y_pred=[0, np.nan], sensitive_features=[0, 1]), "y_pred contains 1 missing"),
        (dict(y_true=[0, 1], y_pred=[0, 1], sensitive_features=["a", "a"]), "at least 2 distinct groups"),
        (dict(y_true=[0, 1], y_pred=[0, 1], sensitive_features=["a", None]), "at least 2 distinct groups"),
        (dict(y_true=[0, 1], y_pred=[0, 1], sensitive_features=[0, 1], pos_label=2), "pos_label=2"),
        (dict(y_true=[0, 1], y_pred=[0, 1], sensitive_features=[0, 1], average="micro"), "average must be"),
        (dict(y_true=[0, 1], y_pred=[0, 2], sensitive_features=[0, 1], labels=[0, 1]), "not in labels"),
        (dict(y_true=[0, 1], y_pred=[0, 1], sensitive_features=None), "sensitive_features is required"),
    ],
)
def test_statistical_parity_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        statistical_parity_score(**kwargs)


# ---------------------------------------------------------------- consistency


def test_consistency_by_hand_excludes_self():
    X = np.array([[0.0], [1.0], [3.0], [10.0]])
    y = np.array([1, 0, 0, 1])
    # 1-NN (self excluded): 0->1, 1->0, 2->1, 3->2
    # |1-0| + |0-1| + |0-0| + |1-0| = 3 -> 1 - 3/4
    assert consistency_score(X, y, n_neighbors=1) == pytest.approx(0.25)
    # 2-NN: 0->{1,2} mean 0 ; 1->{0,2} mean .5 ; 2->{1,0} mean .5 ; 3->{2,1} mean 0
    # |1-0| + |0-.5| + |0-.5| + |1-0| = 3 -> 0.25
    assert consistency_score(X, y, n_neighbors=2) == pytest.approx(0.25)


def test_consistency_continuous_scores():
    X = np.array([[0.0], [1.0], [3.0], [10.0]])
    p = np.array([0.9, 0.5, 0.2, 0.7])
    # 1-NN: |.9-.5| + |.5-.9| + |.2-.5| + |.7-.2| = 1.6
    assert consistency_score(X, p, n_neighbors=1) == pytest.approx(1 - 1.6 / 4)


def test_consistency_categorical_groups_is_label_invariant():
    rng = np.random.RandomState(0)
    X = rng.randn(120, 3)
    groups = rng.choice(["male", "female", "other"], 120)
    codes = pd.Series(groups).map({"male": 5, "female": 9, "other": 1}).to_numpy()
    assert consistency_score(X, groups, n_neighbors=5) == pytest.approx(
        consistency_score(X, codes, n_neighbors=5)
    )
    # clustered groups score 1
    X_sep = np.r_[rng.randn(40, 2), rng.randn(40, 2) + 50]
    assert consistency_score(X_sep, ["a"] * 40 + ["b"] * 40) == 1.0


@pytest.mark.parametrize("k", [3, 5, 10])
def test_consistency_matches_aif360_up_to_self_inclusion(k):
    aif_metrics = require_module("aif360.sklearn.metrics")
    rng = np.random.RandomState(k)
    X = rng.randn(200, 4)
    y = (X[:, 0] + 0.7 * rng.randn(200) > 0).astype(int)
    theirs = aif_metrics.consistency_score(X, y, n_neighbors=k)
    ours = consistency_score(X, y, n_neighbors=k - 1)
    assert theirs == pytest.approx(1 - (k - 1) / k * (1 - ours))


@pytest.mark.parametrize(
    "X, y, kwargs, error, match",
    [
        ([[0.0], [1.0]], [0, 1], dict(n_neighbors=2), ValueError, "smaller than the number"),
        ([[0.0], [1.0], [2.0]], [0, 1], {}, ValueError, "inconsistent"),
        ([[0.0], [np.nan], [2.0]], [0, 1, 1], dict(n_neighbors=1), ValueError, "NaN"),
        ([[0.0], [1.0], [2.0]], [0, None, 1], dict(n_neighbors=1), ValueError, "y contains 1 missing"),
        ([[0.0], [1.0], [2.0]], [0, 1, 1], dict(n_neighbors=0), ValueError, "n_neighbors must be >= 1"),
        ([[0.0], [1.0], [2.0]], [0, 1, 1], dict(n_neighbors=1.5), TypeError, "n_neighbors must be an integer"),
        (np.empty((0, 2)), [], {}, ValueError, "0 sample"),
    ],
)
def test_consistency_bad_input(X, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        consistency_score(X, y, **kwargs)


# ---------------------------------------------------------------- scorers


@pytest.fixture
def biased_data():
    rng = np.random.RandomState(0)
    n = 300
    s = rng.choice(["a", "b"], n)
    X = rng.randn(n, 4)
    X[:, 1] += 1.5 * (s == "a")
    y = (X[:, 0] + X[:, 1] + 0.3 * rng.randn(n) > 0.7).astype(int)
    return X, y, s


def test_parity_scorer_equals_metric_on_fitted_model(biased_data):
    X, y, s = biased_data
    model = LogisticRegression().fit(X, y)
    expected = statistical_parity_score(y, model.predict(X), sensitive_features=s)
    assert expected > 0.2  # the planted bias is visible
    assert statistical_parity_scorer(model, X, y, sensitive_features=s) == pytest.approx(
        -expected
    )


def test_parity_scorer_in_cross_validate_with_routing(biased_data):
    X, y, s = biased_data
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(
            LogisticRegression(),
            X,
            y,
            cv=3,
            params={"sensitive_features": s},
            scoring={"parity": statistical_parity_scorer, "accuracy": "accuracy"},
        )
    assert result["test_parity"].shape == (3,)
    assert np.all(result["test_parity"] < -0.1)


def test_grid_search_over_pipeline_with_fairness_scorer(biased_data):
    X, y, s = biased_data
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    grid = {"logisticregression__C": [1e-4, 1.0]}
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            pipe,
            grid,
            scoring={"parity": statistical_parity_scorer, "accuracy": "accuracy"},
            refit="parity",
            cv=3,
        ).fit(X, y, sensitive_features=s)
    # a near-constant model (C=1e-4) has a smaller parity gap: refit="parity" picks it
    parity = search.cv_results_["mean_test_parity"]
    assert parity[0] > parity[1]
    assert search.best_params_ == {"logisticregression__C": 1e-4}


def test_parity_scorer_without_routing_explains(biased_data):
    X, y, s = biased_data
    model = LogisticRegression().fit(X, y)
    with pytest.raises(TypeError, match="enable_metadata_routing"):
        statistical_parity_scorer(model, X, y)


def test_parity_scorer_factory_validates():
    with pytest.raises(ValueError, match="single"):
        make_statistical_parity_scorer(average=None)
    with pytest.raises(ValueError, match="average must be"):
        make_statistical_parity_scorer(average="micro")


def test_consistency_scorers(biased_data):
    X, y, s = biased_data
    model = LogisticRegression().fit(X, y)
    assert consistency_scorer(model, X, y) == pytest.approx(
        consistency_score(X, model.predict(X), n_neighbors=20)
    )
    true_scorer = make_consistency_scorer(n_neighbors=5, target="y_true")
    assert true_scorer(model, X, y) == pytest.approx(consistency_score(X, y, n_neighbors=5))

    # stage-2 use: group clustering in transform(X), groups routed as metadata
    pca = Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=2))])
    pca.fit(X)
    expected = consistency_score(pca.transform(X), s, n_neighbors=20)
    assert embedding_consistency_scorer(pca, X, y, sensitive_features=s) == pytest.approx(
        expected
    )
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(
            pca, X, y, cv=3, params={"sensitive_features": s},
            scoring={"groups": embedding_consistency_scorer},
        )
    assert np.all((result["test_groups"] > 0.4) & (result["test_groups"] <= 1.0))
    with pytest.raises(ValueError, match="space must be"):
        make_consistency_scorer(space="latent")
    with pytest.raises(ValueError, match="target must be"):
        make_consistency_scorer(target="groups")
