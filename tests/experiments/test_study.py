"""The full study: run_stage2, run_study (tables, figures, claims, resume) and corpora."""

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.neighbors import NearestCentroid

from fairrep.datasets import make_rater_perspectives
from fairrep.experiments import (
    corpus_bundle,
    evaluate_claims,
    load_corpus,
    per_class_f1,
    run_stage1,
    run_stage2,
    run_study,
    session_folds,
    write_report,
)
from fairrep.perspective import FairPer
from fairrep.raters import perspective_split

DATA = Path(__file__).resolve().parents[1] / "data"
IEMOCAP_GROUPS = {"E1": "female", "E2": "male", "E3": "female", "E4": "female",
                  "E5": "female", "E6": "male"}


@pytest.fixture(scope="module")
def corpus():
    data = make_rater_perspectives(600, random_state=3)
    split = perspective_split(data.ratings, truth=data.truth).loc[data.item_info.index]
    return data, split


@pytest.fixture(scope="module")
def bundle():
    return load_corpus("synthetic", n_samples=500, random_state=2)


class CountingClassifier(ClassifierMixin, BaseEstimator):
    """Nearest centroids that log every fit (and can stop the run on the n-th)."""

    fits: ClassVar[list] = []
    interrupt_at: ClassVar = None

    def __init__(self, shrink=None):
        self.shrink = shrink

    def fit(self, X, y, *, sensitive_features=None):
        type(self).fits.append(len(y))
        if type(self).interrupt_at is not None and len(type(self).fits) >= type(self).interrupt_at:
            raise KeyboardInterrupt
        self.model_ = NearestCentroid(shrink_threshold=self.shrink).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def transform(self, X):
        return np.asarray(X)[:, :6]


@pytest.fixture
def counting():
    CountingClassifier.fits = []
    CountingClassifier.interrupt_at = None
    yield CountingClassifier
    CountingClassifier.fits = []
    CountingClassifier.interrupt_at = None


# ------------------------------------------------------------------ run_stage2


@pytest.mark.slow
def test_run_stage2_tables_and_values(corpus):
    data, split = corpus
    methods = {
        "logistic": LogisticRegression(max_iter=300),
        "FairPer": FairPer(max_epochs=2, random_state=0),
    }
    messages = []
    f1, consistency, times = run_stage2(methods, data.data, split, data.sessions,
                                        folds=2, progress=messages.append)
    assert list(f1.columns) == ["fold", "method", "perspective", "class", "f1"]
    assert set(f1["method"]) == {"logistic", "FairPer"}
    assert set(f1["perspective"]) == {"male", "female"}
    assert f1["f1"].between(0, 1).all() and f1["fold"].nunique() == 2
    # 2 folds x 2 methods x 2 perspectives x 5 classes
    assert len(f1) == 40
    assert consistency["consistency"].between(0, 1).all()
    assert (consistency["n_neighbors"] <= 20).all()
    assert (consistency["n_neighbors"] <= (consistency["n_items"] - 1) // 2).all()
    assert set(times["method"]) == {"logistic", "FairPer"}
    assert times.loc[times["method"] == "logistic", "n_fits"].eq(2).all()
    assert len(messages) == 4

    # the logistic model under the male perspective, fold 0, recomputed by hand
    used = split["subset"].isin(["S1", "S2"]).to_numpy()
    X, part, sessions = data.data[used], split[used], data.sessions[used]
    train, test, _ = session_folds(sessions)[0]
    target = part["consensus_male"].to_numpy(dtype=object)
    # S2 items where the male raters tie have no male label: left out of
    # that perspective's fit and score
    known = ~pd.isna(target)
    train, test = train[known[train]], test[known[test]]
    model = LogisticRegression(max_iter=300).fit(X[train], target[train])
    expected = per_class_f1(target[test], model.predict(X[test]),
                            labels=sorted(pd.unique(part["truth"])))
    got = f1[(f1["fold"] == 0) & (f1["method"] == "logistic")
             & (f1["perspective"] == "male")].set_index("class")["f1"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(),
                                   check_names=False)


def test_run_stage2_errors(corpus):
    data, split = corpus
    with pytest.raises(ValueError, match="non-empty dict"):
        run_stage2({}, data.data, split, data.sessions)
    with pytest.raises(ValueError, match="aligned"):
        run_stage2({"m": RidgeClassifier()}, data.data[:10], split, data.sessions)


# ------------------------------------------------------------------- run_study


def test_study_exp1_matches_run_stage1(corpus):
    data, split = corpus
    bundle = corpus_bundle(data.data, truth=data.truth.loc[data.item_info.index],
                           ratings=data.ratings, item_info=data.item_info,
                           sessions=data.sessions, normalize_speakers=False)
    study = run_study(bundle, methods={"ridge": RidgeClassifier()}, folds=2,
                      stage2=False, figures=False)
    f1, parity, _ = run_stage1({"ridge": RidgeClassifier()}, data.data, split,
                               data.sessions, folds=2)
    keys = ["fold", "set", "class"]
    mine = study["results"]["stage1_f1"].sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine[f1.columns], f1.sort_values(keys).reset_index(drop=True))
    mine = study["results"]["stage1_parity"].sort_values(["fold", "class"])
    np.testing.assert_allclose(
        mine["statistical_parity"], parity.sort_values(["fold", "class"])["statistical_parity"]
    )


PAPER_COLUMNS = ["DNN", "LFR", "NRL", "FairRepG", "FairRepF", "FairRep"]
FAIRREP_COLUMNS = ["NRL (fairrep)", "FairRepG (fairrep)", "FairRepF (fairrep)",
                   "FairRep (fairrep)"]


@pytest.mark.slow
def test_run_study_produces_every_table_figure_and_claim(bundle, tmp_path):
    messages = []
    study = run_study(bundle, folds=1, max_epochs=1, progress=messages.append,
                      progress_bar=False, figure_points=300)
    assert {t["key"] for t in study["tables"]} == {
        "table1", "table2", "table3", "table4", "subsets", "fit_seconds", "grid"}
    assert {f["key"] for f in study["figures"]} == {
        "fig1_agreement_all", "fig2_agreement_s2", "fig5_6_embeddings", "tradeoff",
        "grid_alpha"}
    assert len(study["claims"]) == 13
    assert all(c["holds"] in (True, False, None) and c["evidence"] for c in study["claims"])
    # every claim whose numbers exist in this run is decided, under both configurations
    for claim in study["claims"]:
        assert list(claim["by_config"]) == ["paper", "fairrep"]
        assert None not in [v["holds"] for v in claim["by_config"].values()]
        assert claim["holds"] is claim["by_config"]["paper"]["holds"]
        assert claim["holds_for"] in {"both", "paper", "fairrep", "neither"}
    tables = {t["key"]: t for t in study["tables"]}
    table1 = tables["table1"]["mean"]
    assert list(table1.columns) == PAPER_COLUMNS + FAIRREP_COLUMNS
    assert table1.index.names == ["class", "set"] and len(table1) == 15
    assert ((table1 >= 0) & (table1 <= 100)).all().all()
    assert tables["table1"]["std"].shape == table1.shape
    assert "'(fairrep)': fairrep's defaults" in tables["table1"]["caption"]
    table3 = tables["table3"]["mean"]
    assert {"FairPer", "FairPer (fairrep)", "FairRep (gender-free)",
            "FairRep (fairrep, gender-free)"} <= set(table3.columns)
    assert set(table3.index.get_level_values("perspective")) == {"male", "female"}
    assert {"FairPer", "FairPer (fairrep)"} <= set(tables["table4"]["mean"].columns)
    # 1 fold x (10 Exp1 + 10 Exp2 baselines + 2 FairPer)
    assert study["meta"]["results_fitted"] == 22 and len(messages) == 22
    assert study["meta"]["configs"] == ["paper", "fairrep"]
    assert study["meta"]["folds"] == 1 and "SIMULATED" in " ".join(study["notes"])
    paths = write_report(study, tmp_path)
    document = json.loads(paths["json"].read_text())
    assert {t["key"] for t in document["tables"]} >= {"table1", "table2", "table3", "table4"}
    assert document["claims"][0]["by_config"].keys() == {"paper", "fairrep"}
    assert len(paths["figures"]) == 5


@pytest.mark.slow
def test_run_study_grid_search_routes_sensitive_features(bundle):
    study = run_study(bundle, methods=["DNN", "FairRep", "FairPer"], folds=1,
                      max_epochs=1, grid=True, figures=True, figure_points=200)
    grid = study["results"]["grid"]
    assert set(grid["method"]) == {"FairRep", "FairPer", "FairRep (fairrep)",
                                   "FairPer (fairrep)"}
    assert set(grid["value"]) == {0.01, 0.001}
    assert grid.groupby(["fold", "method"])["selected"].sum().eq(1).all()
    # the paper's rule reads F1 on S1, fairrep's on every item, FairPer's the perspectives
    assert grid.groupby("method")["f1_on"].first().to_dict() == {
        "FairRep": "S1", "FairRep (fairrep)": "All", "FairPer": "perspectives",
        "FairPer (fairrep)": "perspectives"}
    parity = grid.loc[grid["param"] == "alpha", "mean_parity"]
    assert parity.between(0, 1).all()  # the routed groups reached the parity scorer
    tables = {t["key"]: t for t in study["tables"]}
    assert list(tables["grid"]["mean"].columns) == [
        "FairRep alpha", "FairRep (fairrep) alpha", "FairPer lambda",
        "FairPer (fairrep) lambda"]
    assert "grid_alpha" in {f["key"] for f in study["figures"]}


def test_run_study_without_ratings_skips_exp2():
    rng = np.random.RandomState(0)
    n = 120
    sex = np.where(np.arange(n) % 2 == 0, "female", "male")
    truth = pd.Series(np.where(rng.rand(n) > 0.5, "anger", "neutral"),
                      index=[f"u{i}" for i in range(n)])
    X = rng.normal(size=(n, 5)) + (truth.to_numpy() == "anger")[:, None]
    info = pd.DataFrame({"speaker_sex": sex}, index=truth.index)
    speakers = np.array([f"s{i % 4}" for i in range(n)])
    # sessions of one female and one male speaker, so a test fold holds both sexes
    sessions = np.where(np.arange(n) % 4 < 2, "p1", "p2")
    bundle = corpus_bundle(X, truth=truth, item_info=info, speakers=speakers,
                           sessions=sessions, group_column="speaker_sex")
    study = run_study(bundle, methods={"DNN": RidgeClassifier(), "FairPer": FairPer()},
                      folds=1, figures=False)
    keys = {t["key"] for t in study["tables"]}
    assert {"table1", "table2"} <= keys and not {"table3", "table4"} & keys
    assert set(study["tables"][0]["mean"].index.get_level_values("set")) == {"All"}
    assert any("FairPer needs rater-group perspectives" in n for n in study["notes"])
    assert _verdict(study["claims"], "FairPer beats FairRep") is None
    assert _verdict(study["claims"], "FairRep keeps the F1 on All") is None  # no FairRep


# --------------------------------------------------------------------- claims


def _tables(dnn_parity, fair_parity, s1_gap, fairper_gain, consistency_gain):
    classes = pd.Index(["anger", "sadness"], name="class")
    # rows (anger, S1), (anger, S2), (sadness, S1), (sadness, S2)
    table1 = pd.DataFrame(
        {"DNN": [80.0, 70.0, 70.0, 60.0],
         "FairRep": [80.0 + s1_gap, 70.0, 70.0 + s1_gap, 60.0]},
        index=pd.MultiIndex.from_product([classes, ["S1", "S2"]], names=["class", "set"]),
    )
    table2 = pd.DataFrame({"DNN": dnn_parity, "FairRep": fair_parity}, index=classes)
    table3 = pd.DataFrame(
        {"FairRep": [70.0] * 4, "FairPer": [70.0 + fairper_gain] * 4},
        index=pd.MultiIndex.from_product([classes, ["female", "male"]],
                                         names=["class", "perspective"]),
    )
    table4 = pd.DataFrame({"DNN": [0.6, 0.6], "FairRep": [0.6 + consistency_gain] * 2,
                           "FairPer": [0.7, 0.7]}, index=classes)
    return {"table1": table1, "table2": table2, "table3": table3, "table4": table4}


def _agreement(male_frustration):
    return {
        "all": pd.DataFrame({"truth": ["anger", "anger"], "rater_group": ["female", "male"],
                             "percent": [80.0, 60.0]}),
        "S2": pd.DataFrame({
            "truth": ["anger", "anger", "frustration", "frustration"],
            "rater_group": ["female", "male", "female", "male"],
            "percent": [30.0, 70.0, 100 - male_frustration, male_frustration],
        }),
    }


def _verdict(claims, start):
    (claim,) = [c for c in claims if c["claim"].startswith(start)]
    return claim["holds"]


def test_claims_are_computed_from_the_numbers():
    good = evaluate_claims(_tables([0.4, 0.3], [0.2, 0.1], -1.0, 5.0, 0.1),
                           agreement=_agreement(10.0),
                           mixing=pd.DataFrame({"consistency": [0.8, 0.55], "chance": 0.5},
                                               index=["DNN", "FairRep"]))
    bad = evaluate_claims(_tables([0.2, 0.1], [0.4, 0.3], -3.0, -5.0, -0.1),
                          agreement=_agreement(90.0),
                          mixing=pd.DataFrame({"consistency": [0.55, 0.8], "chance": 0.5},
                                              index=["DNN", "FairRep"]))
    for start in (
        "FairRep lowers the statistical parity on",
        "FairRep keeps the F1 on S1 within 2 points",
        "FairPer beats FairRep under each rater group",
        "FairRep's embedding is more consistent",
        "Figs. 5/6: the perspective groups are more",
        "Fig. 2: the male raters agree less",
    ):
        assert _verdict(good, start) is True and _verdict(bad, start) is False, start
    # the numbers are in the evidence
    parity = next(c for c in good if c["claim"].startswith("FairRep lowers"))
    assert "anger 0.400 -> 0.200" in parity["evidence"]
    # absent numbers: not tested
    empty = evaluate_claims({})
    assert all(c["holds"] is None and c["evidence"].startswith("not tested") for c in empty)


def test_claim_on_one_perspective_only_fails():
    tables = _tables([0.4, 0.3], [0.2, 0.1], 0.0, 5.0, 0.1)
    tables["table3"].loc[("anger", "male"), "FairPer"] = 50.0
    tables["table3"].loc[("sadness", "male"), "FairPer"] = 50.0
    claims = evaluate_claims(tables)
    claim = next(c for c in claims if c["claim"].startswith("FairPer beats FairRep"))
    assert claim["holds"] is False and "male: FairPer 50.00 vs FairRep 70.00" in claim["evidence"]


# ------------------------------------------------------------ resume/interrupt


def test_rerun_reuses_finished_fits(bundle, tmp_path, counting):
    methods = {"A": CountingClassifier(), "B": CountingClassifier(shrink=0.1)}
    first = run_study(bundle, methods=methods, folds=1, out=tmp_path, figures=False)
    # fold 1: 2 Exp1 fits + 2 methods x 2 perspectives in Exp2
    assert len(counting.fits) == 6
    partial = next((tmp_path / "partial").iterdir())
    assert len(list(partial.glob("exp*.json"))) == 4
    second = run_study(bundle, methods=methods, folds=1, out=tmp_path, figures=False)
    assert len(counting.fits) == 6 and second["meta"]["results_reused"] == 4
    pd.testing.assert_frame_equal(first["results"]["stage2_f1"],
                                  second["results"]["stage2_f1"])
    # one more fold: only its units are fitted
    third = run_study(bundle, methods=methods, folds=2, out=tmp_path, figures=False)
    assert len(counting.fits) == 12 and third["meta"]["results_fitted"] == 4
    # other settings are not mixed with these results
    run_study(bundle, methods={"A": CountingClassifier(shrink=0.5)}, folds=1, out=tmp_path,
              figures=False)
    assert len(counting.fits) == 15


def test_interrupt_keeps_finished_results(bundle, tmp_path, counting, capsys):
    methods = {"A": CountingClassifier(), "B": CountingClassifier(shrink=0.1)}
    counting.interrupt_at = 5  # Exp1 A, Exp1 B, Exp2 A (2 fits), then Exp2 B stops
    with pytest.raises(KeyboardInterrupt):
        run_study(bundle, methods=methods, folds=1, out=tmp_path, figures=False)
    message = capsys.readouterr().err
    assert "interrupted" in message and "resume" in message
    partial = next((tmp_path / "partial").iterdir())
    assert len(list(partial.glob("exp*.json"))) == 3  # three finished units on disk
    counting.interrupt_at = None
    counting.fits.clear()
    study = run_study(bundle, methods=methods, folds=1, out=tmp_path, figures=False)
    assert len(counting.fits) == 2  # only the interrupted unit (2 perspectives)
    assert study["meta"]["results_reused"] == 3


@pytest.mark.slow
def test_parallel_folds_match_sequential(bundle):
    methods = {"ridge": RidgeClassifier()}
    sequential = run_study(bundle, methods=methods, folds=2, figures=False)
    parallel = run_study(bundle, methods=methods, folds=2, figures=False, n_jobs=2)
    for name in ("stage1_f1", "stage2_f1", "consistency"):
        pd.testing.assert_frame_equal(
            sequential["results"][name].sort_values(list(sequential["results"][name].columns[:4]))
            .reset_index(drop=True),
            parallel["results"][name].sort_values(list(parallel["results"][name].columns[:4]))
            .reset_index(drop=True),
        )


def test_run_study_argument_errors(bundle):
    with pytest.raises(ValueError, match="unknown method"):
        run_study(bundle, methods=["DNN", "SVM"])
    with pytest.raises(ValueError, match="grid"):
        run_study(bundle, methods={"r": RidgeClassifier()}, grid="many")
    with pytest.raises(ValueError, match="folds must be >= 1"):
        run_study(bundle, methods={"r": RidgeClassifier()}, folds=0)
    with pytest.raises(TypeError, match="corpus_bundle"):
        run_study({"X": np.zeros((2, 2))})
    for bad in (1, 2.0, True):
        with pytest.raises(ValueError, match="inner_folds must be an integer >= 2"):
            run_study(bundle, methods={"r": RidgeClassifier()}, inner_folds=bad)


# --------------------------------------------------------------------- corpora


def test_corpus_bundle_packs_many_speakers_and_checks_input():
    truth = pd.Series(["a", "b"] * 30, index=[f"u{i}" for i in range(60)])
    speakers = np.array([f"s{i % 12:02d}" for i in range(60)])
    ratings = pd.DataFrame({"item": truth.index, "rater_group": "g", "label": truth.values})
    bundle = corpus_bundle(np.ones((60, 2)), truth=truth, ratings=ratings, speakers=speakers)
    assert sorted(pd.unique(bundle.sessions)) == [f"fold{i}" for i in range(1, 6)]
    # speaker disjoint: every speaker in one fold
    assert pd.Series(bundle.sessions).groupby(speakers).nunique().eq(1).all()
    with pytest.raises(ValueError, match="shape"):
        corpus_bundle(np.ones((5, 2)), truth=truth, speakers=speakers)
    with pytest.raises(ValueError, match="sessions or speakers"):
        corpus_bundle(np.ones((60, 2)), truth=truth, ratings=ratings)
    with pytest.raises(ValueError, match="group_column"):
        corpus_bundle(np.ones((60, 2)), truth=truth, speakers=speakers)


def test_load_corpus_iemocap_fixture_with_precomputed_features(tmp_path):
    features = tmp_path / "features.npy"
    np.save(features, np.arange(12.0).reshape(6, 2))
    bundle = load_corpus("iemocap", data_home=DATA / "iemocap", features="precomputed",
                         features_file=features, rater_groups=IEMOCAP_GROUPS,
                         normalize_speakers=False)
    assert bundle.X.shape == (6, 2) and list(bundle.X[:, 0]) == [0, 2, 4, 6, 8, 10]
    assert sorted(pd.unique(bundle.sessions)) == ["Session1", "Session2"]
    assert set(bundle.ratings["rater_group"]) == {"male", "female"}
    with pytest.raises(ValueError, match="rater_groups"):
        load_corpus("iemocap", data_home=DATA / "iemocap", features="precomputed",
                    features_file=features)
    np.save(features, np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"\(6, n_features\)"):
        load_corpus("iemocap", data_home=DATA / "iemocap", features="precomputed",
                    features_file=features, rater_groups=IEMOCAP_GROUPS)


def test_load_corpus_errors():
    with pytest.raises(ValueError, match="own simulated features"):
        load_corpus("synthetic", features="egemaps")
    with pytest.raises(ValueError, match="needs data_home"):
        load_corpus("emodb")
    with pytest.raises(ValueError, match="ratings_file"):
        load_corpus("table")
    with pytest.raises(ValueError, match="name must be one of"):
        load_corpus("timit")


# ------------------------------------------------------------------- fast path


def _params(study, param):
    frame = study["results"]["params"]
    return frame[frame["param"] == param].set_index(["stage", "method"])["value"]


def test_early_stopping_and_iteration_cap_bound_every_fit(bundle):
    fast = run_study(bundle, methods=["DNN", "FairRep", "FairPer"], configs=("paper",),
                     folds=1, grid=False, figures=False, max_epochs=40, max_iter=200)
    # 500 items, 4 sessions of 100: about 390 training items, 13 batches an epoch
    assert fast["meta"]["epochs"] == 200 // 13 == 15
    assert set(_params(fast, "max_epochs")) == {15.0}
    epochs = _params(fast, "epochs_run")
    assert (epochs <= 15).all()
    # every neural fit stops early on its held-out tenth (FairPer included)
    assert (epochs < 15).all(), epochs
    assert _params(fast, "early_stopping").astype(bool).all()
    slow = run_study(bundle, methods=["DNN"], configs=("paper",), folds=1, grid=False,
                     figures=False, max_epochs=3, early_stopping=False, max_iter=None)
    assert set(_params(slow, "epochs_run")) == {3.0}
    assert not _params(slow, "early_stopping").astype(bool).any()
    with pytest.raises(ValueError, match="max_iter"):
        run_study(bundle, methods=["DNN"], max_iter=0)


def test_nrl_waits_out_the_papers_budget_before_early_stopping(bundle):
    from fairrep.baselines import NRL
    from fairrep.experiments import make_methods
    from fairrep.experiments._configs import warmup_epochs

    # the paper's 500 iterations: 3 epochs of an IEMOCAP-sized fold, 14 of 1,188 items
    assert warmup_epochs([5830], 10) == 3 and warmup_epochs([1188, 900], 52) == 14
    assert warmup_epochs([1188], 5) == 5  # never past the budget
    built = make_methods(["DNN", "NRL", "FairRep"], early_stopping=True, warmup_epochs=7)
    assert [m.start_from_epoch for m in built.values()] == [0, 7, 0]
    assert make_methods(["NRL"], warmup_epochs=7)["NRL"].start_from_epoch == 0

    def budget_note(study):
        return next(n for n in study["notes"] if n.startswith("Training budget"))

    options = {"configs": ("paper",), "folds": 1, "grid": False, "figures": False,
               "stage2": False, "max_epochs": 2}
    with_nrl = run_study(bundle, methods=["NRL"], **options)
    # about 390 training items: 13 batches an epoch, 39 epochs of warm-up, capped at 2
    assert "NRL's from epoch 3 on, after about the paper's 500 iterations" in \
        budget_note(with_nrl)
    assert "NRL's" not in budget_note(run_study(bundle, methods=["DNN"], **options))
    # a user's own NRL keeps its own setting, and the report does not claim a warm-up
    own = run_study(bundle, methods={"NRL": NRL(max_epochs=2, early_stopping=True)},
                    **options)
    assert "NRL's" not in budget_note(own)


def test_no_fit_repeats_a_finished_one(bundle, monkeypatch):
    from fairrep.representation import FairRep

    fits = []
    original = FairRep.fit

    def counted(self, X, y, **kwargs):
        fits.append(len(y))
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(FairRep, "fit", counted)
    study = run_study(bundle, methods=["FairRep", "FairPer"], configs=("paper",), folds=1,
                      grid=False, figures=False, max_epochs=1)
    # Exp1 FairRep once, Exp2 one per perspective; FairPer reuses the Exp1 FairRep
    assert len(fits) == 1 + 2
    assert study["meta"]["results_fitted"] == 3


@pytest.mark.slow
def test_parallel_units_equal_serial_with_neural_methods(bundle):
    options = {"methods": ["DNN", "FairRep", "FairPer"], "configs": ("paper",), "folds": 2,
               "grid": True, "figures": False, "max_epochs": 2}
    serial = run_study(bundle, **options)
    parallel = run_study(bundle, n_jobs=2, **options)
    for name in ("stage1_f1", "stage2_f1", "consistency", "grid"):
        columns = list(serial["results"][name].columns[:4])
        pd.testing.assert_frame_equal(
            serial["results"][name].sort_values(columns).reset_index(drop=True),
            parallel["results"][name].sort_values(columns).reset_index(drop=True))


@pytest.mark.parametrize("inner_folds", [2, 3])
def test_grid_search_fits_each_weight_once_per_inner_fold(bundle, monkeypatch, inner_folds):
    from fairrep.representation import FairRep

    fits = []
    original = FairRep.fit

    def counted(self, X, y, **kwargs):
        fits.append((self.alpha, len(y)))
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(FairRep, "fit", counted)
    study = run_study(bundle, methods=["FairRep"], configs=("paper",), folds=1,
                      grid=True, figures=False, max_epochs=1, stage2=False,
                      inner_folds=inner_folds)
    n_train = fits[-1][1]
    inner = fits[:-1]
    # each of the 2 weights once per inner fold, then the selected one on the whole fold
    assert sorted(alpha for alpha, _ in inner) == sorted([0.01, 0.001] * inner_folds)
    assert sum(n for _, n in inner) == 2 * (inner_folds - 1) * n_train
    assert study["meta"]["inner_folds"] == inner_folds
    assert len(study["results"]["grid"]) == 2


def test_warm_grid_walk_scores_the_first_weight_as_a_cold_search(bundle):
    from fairrep.experiments import make_methods
    from fairrep.experiments._data import StudyData
    from fairrep.experiments._search import grid_search

    data = StudyData.from_bundle(bundle)
    train = np.flatnonzero(data.sessions != data.sessions[0])
    model = make_methods(["FairRep"], config="paper", max_epochs=2,
                         early_stopping=True)["FairRep"]
    args = (model, "alpha", [0.01, 0.001], data.X[train], data.truth[train],
            data.sensitive[train], data.sessions[train])
    _, cold = grid_search(*args, rule="s1_f1", subset=data.subset[train])
    warm_model, warm = grid_search(*args, rule="s1_f1", subset=data.subset[train],
                                   warm_start=True)
    assert cold[0]["mean_f1"] == pytest.approx(warm[0]["mean_f1"])
    assert cold[0]["mean_parity"] == pytest.approx(warm[0]["mean_parity"])
    assert sum(row["selected"] for row in warm) == 1
    # the selected weight is refitted from scratch on the whole fold
    assert not warm_model.warm_start and warm_model.n_iter_ <= 2


def test_store_reads_back_what_it_wrote_and_skips_unreadable_files(tmp_path):
    from fairrep.experiments._store import ResultStore, _file_name

    ResultStore(tmp_path).save_array(("embedding", 0, "FairRep"), np.arange(6.0))
    ResultStore(tmp_path).save_model(("model", 0, "FairRep"), {"fitted": True})
    fresh = ResultStore(tmp_path)
    np.testing.assert_array_equal(fresh.load_array(("embedding", 0, "FairRep")),
                                  np.arange(6.0))
    assert fresh.load_model(("model", 0, "FairRep")) == {"fitted": True}
    assert fresh.load_model(("model", 1, "FairRep")) is None
    for key, suffix in ((("embedding", 0, "FairRep"), ".npy"),
                        (("model", 0, "FairRep"), ".pkl")):
        (tmp_path / f"{_file_name(key)}{suffix}").write_bytes(b"truncated")
    fresh = ResultStore(tmp_path)
    assert fresh.load_array(("embedding", 0, "FairRep")) is None
    assert fresh.load_model(("model", 0, "FairRep")) is None
    assert ResultStore().load_model(("model", 0, "FairRep")) is None
