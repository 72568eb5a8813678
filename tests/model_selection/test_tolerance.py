"""Model selection under a fairness tolerance, and FairRep in front of any classifier.

Planted-bias data give a known answer: the label depends on a skill feature
and on a proxy of the group, so a model fitted without a fairness term has a
statistical parity gap near 0.35 and FairRep with the distance term a gap
near 0.1 (measured at seed 0, see each test).
"""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
)
from sklearn.pipeline import Pipeline

from fairrep import FairnessTolerance, FairRep, fairness_tolerance_refit
from fairrep.baselines import LFR
from fairrep.exceptions import SingleClassPredictionWarning
from fairrep.metrics import (
    make_consistency_scorer,
    make_statistical_parity_scorer,
    statistical_parity_score,
)

SMALL = {"hidden_layer_sizes": (16,), "embedding_dim": 8, "max_epochs": 10,
         "batch_size": 64, "random_state": 0}


def planted(n=600, seed=0, n_classes=2, n_groups=2):
    """Label = skill + group proxy (+ noise); the proxy carries the group."""
    rng = np.random.RandomState(seed)
    groups = np.array(["a", "b", "c"][:n_groups])
    s = rng.choice(groups, size=n)
    proxy = rng.normal(size=n) + 1.5 * (s == "a") - 0.75 * (s == "c")
    skill = rng.normal(size=n)
    X = np.c_[skill, proxy, rng.normal(size=(n, 2))]
    latent = skill + proxy + 0.5 * rng.normal(size=n)
    cuts = np.quantile(latent, np.linspace(0, 1, n_classes + 1)[1:-1] + 0.1)
    return X, np.searchsorted(cuts, latent), s


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingleClassPredictionWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def parity(model, X, y, s):
    return statistical_parity_score(y, model.predict(X), sensitive_features=s,
                                    average="max")


# -- the refit rule on hand-made cv_results ----------------------------------
def results(score, gap, constant=None, **extra):
    out = {"params": [{"k": i} for i in range(len(score))],
           "mean_test_accuracy": np.array(score, float),
           "mean_test_statistical_parity": -np.array(gap, float)}
    if constant is not None:
        out["mean_test_constant_prediction"] = np.array(constant, float)
    out.update(extra)
    return out


def test_refit_picks_best_score_among_those_within_tolerance():
    refit = fairness_tolerance_refit(0.05)
    # 0: most accurate but unfair; 1: constant (parity 0); 2 and 3 meet t
    cv = results([0.90, 0.95, 0.80, 0.85], [0.20, 0.0, 0.01, 0.049],
                 constant=[0, 1, 0, 0])
    assert refit(cv) == 3
    assert fairness_tolerance_refit(0.05, exclude_constant=False)(cv) == 1
    assert fairness_tolerance_refit(0.3)(cv) == 0
    # equal scores: the fairer wins
    assert refit(results([0.8, 0.8], [0.04, 0.01])) == 1


def test_refit_error_names_tolerance_and_fairest_candidate():
    cv = results([0.9, 0.8, 0.7], [0.2, 0.07, 0.0], constant=[0, 0, 1])
    with pytest.raises(ValueError, match=r"tolerance=0\.02.*1 candidate\(s\) predicting "
                       r"one class.*statistical_parity = 0\.07 with \{'k': 1\}"):
        fairness_tolerance_refit(0.02)(cv)
    with pytest.raises(KeyError, match="scoring=refit.scoring"):
        fairness_tolerance_refit(0.02)({"params": [{}], "mean_test_score": [1.0]})


def test_refit_worst_fold_and_halving_rounds():
    cv = results([0.9, 0.8], [0.03, 0.04],
                 split0_test_statistical_parity=-np.array([0.01, 0.04]),
                 split1_test_statistical_parity=-np.array([0.05, 0.04]))
    assert fairness_tolerance_refit(0.045)(cv) == 0
    assert fairness_tolerance_refit(0.045, statistic="worst")(cv) == 1
    # successive halving: the early round (iter 0) is never chosen
    cv = results([0.99, 0.8, 0.7], [0.0, 0.01, 0.01], iter=np.array([0, 1, 1]))
    assert fairness_tolerance_refit(0.02)(cv) == 1


def test_refit_greater_is_better_fairness_is_a_lower_bound():
    refit = fairness_tolerance_refit(0.9, fairness=make_consistency_scorer())
    cv = {"params": [{}, {}, {}], "mean_test_accuracy": np.array([0.9, 0.8, 0.7]),
          "mean_test_fairness": np.array([0.85, 0.95, 0.99])}
    assert refit(cv) == 1
    with pytest.raises(ValueError, match=r"fairness at least tolerance=0\.999"):
        fairness_tolerance_refit(0.999, fairness=make_consistency_scorer())(cv)


@pytest.mark.parametrize("kwargs, match", [
    ({"tolerance": "0.1"}, "tolerance must be a finite number"),
    ({"tolerance": float("nan")}, "tolerance must be a finite number"),
    ({"tolerance": 0.1, "statistic": "median"}, "statistic must be one of"),
    ({"tolerance": 0.1, "fairness": "equal_odds"}, "fairness='equal_odds' is not"),
    ({"tolerance": 0.1, "fairness": len}, "fairness must be 'statistical_parity' or"),
    ({"tolerance": 0.1, "score": "acuracy"}, "score='acuracy' is not a scikit-learn"),
    ({"tolerance": 0.1, "exclude_constant": "yes"}, "exclude_constant must be"),
])
def test_refit_bad_arguments(kwargs, match):
    tolerance = kwargs.pop("tolerance")
    with pytest.raises((ValueError, TypeError), match=match):
        fairness_tolerance_refit(tolerance, **kwargs)


# -- the refit rule inside scikit-learn's searches ---------------------------
def test_grid_search_over_fairrep_alpha_meets_the_tolerance():
    """Planted data, 3 folds: alpha 0 has parity ~0.36, alpha 1 ~0.10 (seed 0)."""
    X, y, s = planted()
    refit = fairness_tolerance_refit(0.2)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            FairRep(adversary_weight=0.0, **SMALL).set_fit_request(sensitive_features=True),
            {"alpha": [0.0, 1.0]}, scoring=refit.scoring, refit=refit,
            cv=StratifiedKFold(3, shuffle=True, random_state=0),
        ).fit(X, y, sensitive_features=s)
    gap = -search.cv_results_["mean_test_statistical_parity"]
    assert gap[0] > 0.25 and gap[1] < 0.2, gap
    # the unconstrained choice would be alpha 0, the more accurate one
    assert search.cv_results_["mean_test_accuracy"][0] > \
        search.cv_results_["mean_test_accuracy"][1]
    assert search.best_params_ == {"alpha": 1.0}
    assert search.best_estimator_.groups_.tolist() == ["a", "b"]
    with sklearn.config_context(enable_metadata_routing=True), \
            pytest.raises(ValueError, match=r"tolerance=0\.001"):
            clone(search).set_params(
                refit=fairness_tolerance_refit(0.001),
                param_grid={"alpha": [0.0]}).fit(X, y, sensitive_features=s)


def test_randomized_and_halving_search_with_a_pipeline():
    """LFR in front of a logistic regression, its fairness weight searched.

    3-fold mean parity at seed 0: 0.44 at weight 0, 0.08 at weight 10 (at 50,
    LFR predicts one class on a fold of the halving's last round).
    """
    X, y, s = planted()
    grid = {"lfr__fairness_weight": [0.0, 10.0]}
    refit = fairness_tolerance_refit(0.2)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([
            ("lfr", LFR(n_prototypes=5, max_iter=60, random_state=0).set_fit_request(
                sensitive_features=True)),
            ("clf", LogisticRegression()),
        ])
        randomized = RandomizedSearchCV(
            pipe, grid, n_iter=2, scoring=refit.scoring, refit=refit, cv=3,
            random_state=0).fit(X, y, sensitive_features=s)
        # successive halving takes one metric and ignores a refit callable
        halving = HalvingGridSearchCV(
            pipe, grid, scoring=refit.scorer, cv=3, factor=2, min_resources=300,
            random_state=0).fit(X, y, sensitive_features=s)
        strict = clone(halving).set_params(
            scoring=fairness_tolerance_refit(0.001).scorer).fit(
                X, y, sensitive_features=s)
    gap = -randomized.cv_results_["mean_test_statistical_parity"]
    assert gap[randomized.best_index_] <= 0.2 < gap.max(), randomized.cv_results_
    assert randomized.best_params_ == {"lfr__fairness_weight": 10.0}
    assert halving.best_params_ == {"lfr__fairness_weight": 10.0}
    assert refit.check(halving) is halving
    assert halving.cv_results_["iter"][halving.best_index_] == 1
    with pytest.raises(ValueError, match=r"tolerance=0\.001 on every inner fold"):
        fairness_tolerance_refit(0.001).check(strict)


def test_multiclass_three_groups():
    """3 classes x 3 groups: the worst-class gap of the chosen point meets t."""
    X, y, s = planted(n=900, n_classes=3, n_groups=3)
    assert set(y) == {0, 1, 2}
    refit = fairness_tolerance_refit(0.25)
    macro = fairness_tolerance_refit(
        0.25, fairness=make_statistical_parity_scorer(average="macro"))
    with sklearn.config_context(enable_metadata_routing=True):
        model = FairRep(adversary_weight=0.0, **SMALL).set_fit_request(
            sensitive_features=True)
        search = GridSearchCV(model, {"alpha": [0.0, 3.0]}, scoring=refit.scoring,
                              refit=refit, cv=3).fit(X, y, sensitive_features=s)
        by_macro = GridSearchCV(model, {"alpha": [0.0, 3.0]}, scoring=macro.scoring,
                                refit=macro, cv=3).fit(X, y, sensitive_features=s)
    gap = -search.cv_results_["mean_test_statistical_parity"]
    assert gap[0] > 0.3 and gap[1] <= 0.25, gap
    assert search.best_params_ == {"alpha": 3.0}
    macro_gap = -by_macro.cv_results_["mean_test_fairness"]
    assert np.all(macro_gap <= gap + 1e-12), (macro_gap, gap)
    assert len(search.best_estimator_.groups_) == 3


# -- FairRep in front of any classifier --------------------------------------
@pytest.mark.parametrize("downstream", [
    LogisticRegression(), HistGradientBoostingClassifier(max_iter=30, random_state=0)])
def test_fairrep_in_front_of_any_classifier(downstream):
    """FairRep's embedding feeds the classifier; the groups reach FairRep's fit."""
    X, y, s = planted()
    X_test, y_test, s_test = planted(seed=1)
    fair = FairRep(alpha=1.0, adversary_weight=0.0, **SMALL)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("fairrep", clone(fair).set_fit_request(sensitive_features=True)),
                         ("clf", clone(downstream))]).fit(X, y, sensitive_features=s)
    assert pipe["fairrep"].groups_.tolist() == ["a", "b"]
    assert pipe["clf"].n_features_in_ == SMALL["embedding_dim"]
    np.testing.assert_array_equal(
        pipe.predict(X_test), pipe["clf"].predict(pipe["fairrep"].transform(X_test)))
    blind = clone(downstream).fit(X, y)
    # on the raw features the classifier has a gap near 0.36; on the fair
    # embedding it keeps FairRep's own gap (about 0.1)
    assert parity(blind, X_test, y_test, s_test) > 0.3
    assert parity(pipe, X_test, y_test, s_test) < 0.2
    assert np.mean(pipe.predict(X_test) == y_test) > 0.6


# -- FairnessTolerance -------------------------------------------------------
def test_path_stops_at_first_point_meeting_tolerance_and_refines():
    X, y, s = planted(n=800)
    search = FairnessTolerance(
        FairRep(adversary_weight=0.0, **SMALL), param="alpha",
        values=[0.0, 1.0, 10.0], tolerance=0.2, n_refine=2, random_state=0,
    ).fit(X, y, sensitive_features=s)
    path = search.path_
    # alpha 0 misses, alpha 1 meets: 10 is never fitted; two midpoints follow
    assert path["value"][:2] == [0.0, 1.0] and len(path["value"]) == 4
    # a midpoint from 0 is arithmetic, between positive weights geometric
    assert path["value"][2] == 0.5
    assert path["value"][3] in (pytest.approx(np.sqrt(0.5)), 0.25)
    assert path["fairness"][0] > 0.25 and path["meets_tolerance"][1]
    feasible = np.flatnonzero(path["meets_tolerance"])
    assert search.best_index_ == feasible[np.argmax(np.asarray(path["score"])[feasible])]
    assert search.best_fairness_ <= 0.2
    assert search.best_params_ == path["params"][search.best_index_]
    np.testing.assert_array_equal(search.predict(X), search.best_estimator_.predict(X))
    assert search.transform(X).shape == (800, SMALL["embedding_dim"])
    assert search.classes_.tolist() == [0, 1]


def test_path_with_explicit_validation_set_and_pipeline():
    X, y, s = planted(n=600)
    X_val, y_val, s_val = planted(n=400, seed=2)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("fairrep", FairRep(adversary_weight=0.0, **SMALL)
                          .set_fit_request(sensitive_features=True)),
                         ("clf", LogisticRegression())])
        search = FairnessTolerance(
            pipe, param="fairrep__alpha", values=[0.0, 1.0], tolerance=0.2,
            search="all").fit(X, y, sensitive_features=s, X_val=X_val, y_val=y_val,
                              sensitive_features_val=s_val)
    assert len(search.path_["value"]) == 2
    assert search.best_params_ == {"fairrep__alpha": 1.0}
    assert search.best_fairness_ == pytest.approx(
        parity(search.best_estimator_, X_val, y_val, s_val))
    # without routing a Pipeline cannot take the groups: the error says how
    with pytest.raises(ValueError, match="set_fit_request"):
        clone(search).fit(X, y, sensitive_features=s)


def test_path_none_meets_tolerance():
    X, y, s = planted(n=400)
    search = FairnessTolerance(FairRep(adversary_weight=0.0, **SMALL), values=[0.0],
                               tolerance=0.05, random_state=0)
    with pytest.raises(ValueError, match=r"tolerance=0\.05.*The fairest has "
                       r"statistical_parity = 0\.[2-4]"):
        search.fit(X, y, sensitive_features=s)
    assert len(search.path_["fairness"]) == 1


@pytest.mark.parametrize("params, fit_kwargs, match", [
    ({"values": []}, {}, "values must hold at least one point"),
    ({"param": None, "values": [0.1]}, {}, "values must be dicts"),
    ({"values": ["a", "b"], "n_refine": 1}, {}, "not all numbers"),
    ({"search": "best"}, {}, "search"),
    ({"validation_fraction": 1.5}, {}, "validation_fraction"),
    ({}, {"X_val": np.zeros((3, 4))}, "go together"),
    ({}, {"sensitive_features": None}, "sensitive_features is required"),
])
def test_path_bad_input(params, fit_kwargs, match):
    X, y, s = planted(n=100)
    kwargs = {"sensitive_features": s, **fit_kwargs}
    with pytest.raises(ValueError, match=match):
        FairnessTolerance(FairRep(**SMALL), **params).fit(X, y, **kwargs)


class _CountingClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression that takes groups and records how many rows it saw."""

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y, *, sensitive_features=None):
        self.model_ = LogisticRegression(C=self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        self.n_rows_ = len(y)
        return self

    def predict(self, X):
        return self.model_.predict(X)


def test_path_of_dicts_and_refit_on_all_data():
    X, y, s = planted(n=600)
    search = FairnessTolerance(
        LogisticRegression(), param=None, values=[{"C": 1.0}], tolerance=0.5)
    with pytest.raises(ValueError, match="LogisticRegression.fit does not take"):
        search.fit(X, y, sensitive_features=s)
    # a strongly regularised model predicts one class: it does not count
    path = [{"C": 1.0}, {"C": 1e-6}]
    search = FairnessTolerance(_CountingClassifier(), param=None, values=path,
                               tolerance=0.5, search="all", random_state=0)
    kept = search.fit(X, y, sensitive_features=s)
    assert kept.path_["value"] == [None, None]
    assert kept.path_["constant"] == [False, True]
    assert kept.best_params_ == {"C": 1.0}
    assert kept.best_estimator_.n_rows_ == 450
    refitted = clone(search).set_params(refit=True).fit(X, y, sensitive_features=s)
    assert refitted.best_estimator_.n_rows_ == 600
    with pytest.raises(ValueError, match=r"no point .* tolerance=0\.0.*1 point\(s\) "
                       "predicting one class"):
        clone(search).set_params(tolerance=0.0, values=path[1:]).fit(
            X, y, sensitive_features=s)


def test_refine_bisects_the_cliff_into_a_constant_model():
    """Weight 1 is unfair (gap 0.46) and 1e-6 predicts one class: the points
    between them are found by bisection (geometric midpoints)."""
    X, y, s = planted(n=600)
    search = FairnessTolerance(_CountingClassifier(), param="C", values=[1.0, 1e-6],
                               tolerance=0.3, n_refine=4, random_state=0)
    search.fit(X, y, sensitive_features=s)
    path = search.path_
    np.testing.assert_allclose(path["value"][2:4], [1e-3, np.sqrt(1e-3)])
    assert path["constant"][:2] == [False, True] and len(path["value"]) == 6
    assert path["fairness"][0] > 0.4
    assert search.best_index_ >= 2 and search.best_fairness_ <= 0.3
    assert not path["constant"][search.best_index_]
    # without refinement the path has no point that counts
    with pytest.raises(ValueError, match="1 point\\(s\\) predicting one class"):
        clone(search).set_params(n_refine=0).fit(X, y, sensitive_features=s)


def test_min_score_majority_rejects_a_model_no_better_than_the_majority_class():
    """C = 1e-3 predicts class 1 a few times (gap 0.04, accuracy 0.62 against
    the majority's 0.60): fair in name only. With ``min_score="majority"``
    it does not count."""
    X, y, s = planted(n=600)
    search = FairnessTolerance(_CountingClassifier(), param="C", values=[1.0, 1e-3],
                               tolerance=0.1, random_state=0)
    assert search.fit(X, y, sensitive_features=s).best_params_ == {"C": 1e-3}
    assert search.min_score_ is None
    strict = clone(search).set_params(min_score=0.65)
    with pytest.raises(ValueError, match=r"1 point\(s\) scoring at most "
                       r"min_score=0\.65 do not count"):
        strict.fit(X, y, sensitive_features=s)
    # "majority": the validation score of predicting the training majority class;
    # a constant model scores exactly that and does not count even when allowed
    majority = clone(search).set_params(min_score="majority", values=[1e-6],
                                        exclude_constant=False)
    with pytest.raises(ValueError, match="scoring at most min_score=0.6"):
        majority.fit(X, y, sensitive_features=s)
    assert majority.min_score_ == pytest.approx(majority.path_["score"][0])
    assert majority.path_["constant"] == [True]
    assert majority.min_score_ == pytest.approx(0.6, abs=0.02)
