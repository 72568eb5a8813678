"""Tests of the simulated default corpus, fairrep.datasets.make_rater_perspectives."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fairrep.datasets import EMOTIONS, IEMOCAP_CLASS_COUNTS, make_rater_perspectives
from fairrep.metrics import statistical_parity_score
from fairrep.raters import consensus_agreement, perspective_split

SEED = 0


@pytest.fixture(scope="module")
def corpus():
    """The default-size corpus at the documented seed."""
    return make_rater_perspectives(random_state=SEED)


@pytest.fixture(scope="module")
def split(corpus):
    return perspective_split(corpus.ratings, rater="rater").reindex(
        corpus.item_info.index
    )


def _speaker_standardized(X, speakers):
    frame = pd.DataFrame(X)
    grouped = frame.groupby(np.asarray(speakers))
    return ((frame - grouped.transform("mean")) / grouped.transform("std")).to_numpy()


def _session_cv_predict(X, y, sessions):
    """Session-independent cross-validated predictions of a linear classifier."""
    model = make_pipeline(StandardScaler(), RidgeClassifier())
    return cross_val_predict(
        model, X, y, cv=GroupKFold(n_splits=5), groups=sessions
    )


# ----------------------------------------------------------------------------
# determinism, shapes, columns


def test_same_seed_gives_identical_corpus_and_other_seeds_differ():
    first = make_rater_perspectives(600, random_state=3)
    second = make_rater_perspectives(600, random_state=3)
    other = make_rater_perspectives(600, random_state=4)
    np.testing.assert_array_equal(first.data, second.data)
    pd.testing.assert_frame_equal(first.ratings, second.ratings)
    pd.testing.assert_series_equal(first.truth, second.truth)
    pd.testing.assert_frame_equal(first.item_info, second.item_info)
    assert not np.allclose(first.data, other.data)
    assert (first.ratings["label"] != other.ratings["label"]).mean() > 0.3


def test_random_state_instance_is_used_and_advanced():
    rng = np.random.RandomState(0)
    first = make_rater_perspectives(200, random_state=rng)
    second = make_rater_perspectives(200, random_state=rng)
    assert not np.allclose(first.data, second.data)
    np.testing.assert_array_equal(
        first.data, make_rater_perspectives(200, random_state=0).data
    )


@pytest.mark.parametrize("n_features", [88, 512, 3])
def test_shapes_and_fields(n_features):
    corpus = make_rater_perspectives(600, n_features=n_features, random_state=1)
    assert corpus.data.shape == (600, n_features)
    assert corpus.data.dtype == np.float64
    assert np.isfinite(corpus.data).all()
    assert len(corpus.feature_names) == n_features
    assert len(set(corpus.feature_names)) == n_features
    assert corpus.target_names == list(EMOTIONS)
    assert corpus.rater_groups == ["male", "female"]
    assert list(corpus.ratings.columns) == ["item", "rater", "rater_group", "label"]
    assert set(corpus.ratings["label"]) <= set(EMOTIONS)
    assert list(corpus.item_info.columns) == [
        "session", "speaker", "speaker_sex", "intended",
        "reading_male", "reading_female", "cue",
    ]
    assert corpus.item_info.index.is_unique
    assert corpus.item_info.index.name == "item"
    assert corpus.truth.index.equals(corpus.item_info.index)
    assert set(corpus.ratings["item"]) == set(corpus.item_info.index)
    # target is the truth, row-aligned with data
    assert corpus.target.shape == (600,)
    pd.testing.assert_series_equal(
        pd.Series(corpus.target, index=corpus.truth.index, name="truth", dtype=object),
        corpus.truth,
    )
    np.testing.assert_array_equal(corpus.sessions, corpus.item_info["session"])
    np.testing.assert_array_equal(corpus.speakers, corpus.item_info["speaker"])
    assert "SIMULATED" in corpus.DESCR


def test_truth_is_the_majority_vote_of_all_ratings():
    corpus = make_rater_perspectives(600, random_state=2)
    counts = corpus.ratings.groupby(["item", "label"]).size().unstack(fill_value=0)
    counts = counts.reindex(corpus.truth.index)
    top = counts.max(axis=1)
    tie = (counts.eq(top, axis=0)).sum(axis=1) > 1
    assert tie.sum() > 0  # ties exist and must be NaN
    assert corpus.truth[tie].isna().all()
    np.testing.assert_array_equal(
        corpus.truth[~tie].to_numpy(dtype=object),
        counts[~tie].idxmax(axis=1).to_numpy(dtype=object),
    )
    # and agrees with the project's own split
    split = perspective_split(corpus.ratings)
    pd.testing.assert_series_equal(
        split["truth"].reindex(corpus.truth.index),
        corpus.truth,
        check_names=False,
        check_dtype=False,
    )


def test_return_X_y_and_as_frame():
    bunch = make_rater_perspectives(300, random_state=5)
    X, y = make_rater_perspectives(300, random_state=5, return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(
        pd.isna(y), pd.isna(bunch.target)
    )
    frame = make_rater_perspectives(300, random_state=5, as_frame=True)
    assert isinstance(frame.data, pd.DataFrame)
    assert list(frame.data.columns) == frame.feature_names
    assert frame.data.index.equals(frame.item_info.index)
    np.testing.assert_array_equal(frame.data.to_numpy(), bunch.data)
    Xf, yf = make_rater_perspectives(
        300, random_state=5, as_frame=True, return_X_y=True
    )
    assert isinstance(Xf, pd.DataFrame) and isinstance(yf, pd.Series)


# ----------------------------------------------------------------------------
# sessions, speakers, raters


def test_sessions_and_speakers_follow_iemocap_layout():
    corpus = make_rater_perspectives(1000, random_state=0)
    info = corpus.item_info
    assert sorted(info["session"].unique()) == [1, 2, 3, 4, 5]
    per_session = info.groupby("session")["speaker_sex"].agg(lambda s: sorted(set(s)))
    assert all(sexes == ["F", "M"] for sexes in per_session)
    assert info["speaker"].nunique() == 10
    assert info.groupby("speaker").size().tolist() == [100] * 10

    other = make_rater_perspectives(
        900, n_sessions=3, speakers_per_session=4, random_state=0
    )
    assert other.item_info["speaker"].nunique() == 12
    assert (other.item_info.groupby("speaker").size() == 75).all()
    assert (other.item_info["speaker_sex"] == "M").mean() == pytest.approx(0.5)


def test_every_item_has_three_ratings_and_both_groups(corpus):
    ratings = corpus.ratings
    per_item = ratings.groupby("item").size()
    assert per_item.min() >= 3
    by_group = ratings.groupby(["item", "rater_group"]).size().unstack(fill_value=0)
    assert (by_group["male"] == 2).all() and (by_group["female"] == 3).all()
    assert not ratings.duplicated(["item", "rater"]).any()
    raters = ratings.groupby("rater_group")["rater"].unique()
    assert sorted(raters["male"]) == ["male_1", "male_2"]
    assert sorted(raters["female"]) == ["female_1", "female_2", "female_3", "female_4"]
    # the three female raters of an item are a random subset of the four
    female = ratings.loc[ratings["rater_group"] == "female", "rater"]
    assert female.value_counts().min() > 5000


def test_custom_groups_and_rating_design():
    corpus = make_rater_perspectives(
        400,
        rater_groups=("older", "younger"),
        n_raters=(3, 5),
        ratings_per_group=(1, 2),
        random_state=0,
    )
    by_group = corpus.ratings.groupby(["item", "rater_group"]).size().unstack()
    assert (by_group["older"] == 1).all() and (by_group["younger"] == 2).all()
    assert corpus.ratings["rater"].nunique() == 8
    assert "reading_older" in corpus.item_info
    split = perspective_split(corpus.ratings)
    # one "older" vote can never outvote a "younger" consensus (section 2.1 logic)
    agreed = split["consensus_younger"].notna()
    assert not split.loc[agreed, "perspective"].eq("older").any()
    strict = perspective_split(corpus.ratings, method="strict")
    assert not strict["perspective"].eq("older").any()


# ----------------------------------------------------------------------------
# the paper's proportions at the default size


def test_class_proportions_follow_iemocap(corpus):
    proportions = corpus.truth.value_counts(normalize=True)
    total = sum(IEMOCAP_CLASS_COUNTS.values())
    assert total == 7380
    for emotion, count in IEMOCAP_CLASS_COUNTS.items():
        assert proportions[emotion] == pytest.approx(count / total, abs=0.015)


def test_custom_class_weights_are_followed_by_the_truth():
    weights = {"neutral": 0.3, "happiness": 0.15, "anger": 0.15, "sadness": 0.15,
               "frustration": 0.25}
    corpus = make_rater_perspectives(6000, class_weights=weights, random_state=1)
    proportions = corpus.truth.value_counts(normalize=True)
    for emotion, weight in weights.items():
        assert proportions[emotion] == pytest.approx(weight, abs=0.015)
    # the intended emotions differ: calibration had to move them
    intended = corpus.item_info["intended"].value_counts(normalize=True)
    assert intended["neutral"] > 0.35
    # array-like in EMOTIONS order, unnormalised, is the same request
    same = make_rater_perspectives(
        6000, class_weights=[6, 3, 3, 3, 5], random_state=1
    )
    pd.testing.assert_series_equal(same.truth, corpus.truth)


def test_unreachable_class_weights_warn_with_the_reached_proportions():
    with pytest.warns(UserWarning, match=r"cannot be reached.*frustration=0\.2"):
        corpus = make_rater_perspectives(
            3000, class_weights=[1, 1, 1, 1, 1], random_state=0
        )
    assert corpus.truth.value_counts(normalize=True)["frustration"] > 0.22


def test_s1_s2_proportions_match_the_paper(split):
    counts = split["subset"].value_counts()
    determined = counts["S1"] + counts["S2"]
    # paper: S1 3,038 and S2 4,342 -> 41.2 % / 58.8 %
    assert counts["S1"] / determined == pytest.approx(3038 / 7380, abs=0.02)
    assert counts["undetermined"] / len(split) < 0.05
    # with two first-group ratings per item "other" is impossible
    assert counts.get("other", 0) == 0
    perspective = split.loc[split["subset"] == "S2", "perspective"]
    assert perspective.notna().all()
    assert perspective.value_counts(normalize=True).min() > 0.4


def test_no_perception_gap_means_no_s2():
    corpus = make_rater_perspectives(1000, perception_gap=0.0, random_state=0)
    split = perspective_split(corpus.ratings, method="strict")
    counts = split["subset"].value_counts()
    assert counts["S2"] < 0.01 * len(split)
    assert counts["S1"] > 0.9 * len(split)
    # the paper's S2 adds the items where label noise ties a group's votes
    paper = perspective_split(corpus.ratings)
    assert (paper["subset"] == "S2").sum() < 0.05 * len(split)


# ----------------------------------------------------------------------------
# Figs. 1 and 2: the first group under-reports frustration


def _agreement(split, subset=None):
    table = consensus_agreement(split, subset=subset)
    return table.pivot(index="truth", columns="rater_group", values="percent")


def test_male_raters_agree_less_on_frustration_and_more_on_the_rest(split):
    for subset in (None, "S2"):  # Fig. 1 (all data) and Fig. 2 (non-consensus)
        percent = _agreement(split, subset)
        assert percent.loc["frustration", "female"] - percent.loc[
            "frustration", "male"
        ] > 40
        others = [e for e in EMOTIONS if e != "frustration"]
        assert (percent.loc[others, "male"] > percent.loc[others, "female"]).all()


def test_frustration_bias_controls_the_frustration_gap():
    gaps = []
    for bias in (0.5, 0.9):
        corpus = make_rater_perspectives(
            3000, frustration_bias=bias, random_state=0
        )
        percent = _agreement(perspective_split(corpus.ratings), "S2")
        gaps.append(
            percent.loc["frustration", "female"] - percent.loc["frustration", "male"]
        )
    unbiased, biased = gaps
    assert biased > 60
    assert abs(unbiased) < biased - 40


# ----------------------------------------------------------------------------
# features: emotion, perspective and speaker structure


def test_perspective_is_predictable_from_features(corpus, split):
    X = _speaker_standardized(corpus.data, corpus.speakers)
    on_s2 = (split["subset"] == "S2").to_numpy()
    perspective = split["perspective"].to_numpy(dtype=object)[on_s2].astype(str)
    predicted = _session_cv_predict(X[on_s2], perspective, corpus.sessions[on_s2])
    accuracy = np.mean(predicted == perspective)
    majority = pd.Series(perspective).value_counts(normalize=True).max()
    assert accuracy >= majority + 0.15


def test_perspective_is_not_predictable_without_the_cue():
    corpus = make_rater_perspectives(3000, cue_strength=0.0, random_state=0)
    split = perspective_split(corpus.ratings).reindex(corpus.item_info.index)
    X = _speaker_standardized(corpus.data, corpus.speakers)
    on_s2 = (split["subset"] == "S2").to_numpy()
    perspective = split["perspective"].to_numpy(dtype=object)[on_s2].astype(str)
    predicted = _session_cv_predict(X[on_s2], perspective, corpus.sessions[on_s2])
    majority = pd.Series(perspective).value_counts(normalize=True).max()
    assert np.mean(predicted == perspective) < majority + 0.05


@pytest.mark.parametrize("speaker_effect, min_gain", [(1.5, 0.08), (0.0, None)])
def test_per_speaker_standardization_helps(speaker_effect, min_gain):
    corpus = make_rater_perspectives(
        3000, speaker_effect=speaker_effect, random_state=0
    )
    known = corpus.truth.notna().to_numpy()
    y = corpus.target[known].astype(str)
    sessions = corpus.sessions[known]
    raw = np.mean(_session_cv_predict(corpus.data[known], y, sessions) == y)
    normalized_X = _speaker_standardized(corpus.data, corpus.speakers)[known]
    normalized = np.mean(_session_cv_predict(normalized_X, y, sessions) == y)
    assert normalized > 0.55  # the emotion is learnable
    if min_gain is None:
        assert abs(normalized - raw) < 0.03
    else:
        assert normalized >= raw + min_gain


def test_removing_the_perspective_direction_narrows_statistical_parity(corpus, split):
    X = _speaker_standardized(corpus.data, corpus.speakers)
    subset = split["subset"].to_numpy(dtype=object)
    perspective = split["perspective"].to_numpy(dtype=object)
    on_s2 = subset == "S2"
    direction = (
        LogisticRegression(max_iter=1000)
        .fit(X[on_s2], perspective[on_s2].astype(str))
        .coef_.ravel()
    )
    direction /= np.linalg.norm(direction)
    X_fair = X - np.outer(X @ direction, direction)

    known = corpus.truth.notna().to_numpy()
    y = corpus.target.astype(str)
    results = {}
    for name, features in (("plain", X), ("fair", X_fair)):
        predicted = np.full(len(y), None, dtype=object)
        predicted[known] = _session_cv_predict(
            features[known], y[known], corpus.sessions[known]
        )
        gap = statistical_parity_score(
            y[on_s2], predicted[on_s2].astype(str),
            sensitive_features=perspective[on_s2], average="max",
        )
        on_s1 = subset == "S1"
        results[name] = (gap, np.mean(predicted[on_s1] == y[on_s1]))
    (plain_gap, plain_s1), (fair_gap, fair_s1) = results["plain"], results["fair"]
    assert plain_gap > 0.25  # paper's DNN: 0.17-0.65 (Table 2)
    assert fair_gap < plain_gap - 0.1
    assert fair_s1 > plain_s1 - 0.03


# ----------------------------------------------------------------------------
# bad parameters


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_samples": 19}, ValueError, "n_samples must be at least 2 per speaker"),
        ({"n_samples": 100.0}, TypeError, "n_samples must be an integer"),
        ({"n_features": 0}, ValueError, "n_features must be >= 1"),
        ({"n_sessions": 2.5}, TypeError, "n_sessions must be an integer"),
        ({"speakers_per_session": 0}, ValueError, "speakers_per_session"),
        ({"rater_groups": ("male",)}, ValueError, "rater_groups must be a pair"),
        ({"rater_groups": "mf"}, ValueError, "rater_groups must be a pair"),
        ({"rater_groups": ("a", "a")}, ValueError, "two different groups"),
        ({"rater_groups": ("a", "")}, ValueError, r"rater_groups\[1\] must be a non"),
        ({"n_raters": (2, 0)}, ValueError, r"n_raters\[1\] must be >= 1"),
        ({"ratings_per_group": (3, 3)}, ValueError,
         r"ratings_per_group\[0\] must be <= n_raters\[0\]"),
        ({"ratings_per_group": (1, 1)}, ValueError, "sum to at least 3"),
        ({"perception_gap": 1.5}, ValueError, r"perception_gap must be in \[0, 1"),
        ({"frustration_bias": -0.1}, ValueError, "frustration_bias must be in"),
        ({"frustration_bias": "high"}, TypeError, "frustration_bias must be a real"),
        ({"label_noise": 0.6}, ValueError, r"label_noise must be in \[0, 0.5\]"),
        ({"class_sep": 0}, ValueError, "class_sep must be a finite number > 0"),
        ({"cue_strength": -1}, ValueError, "cue_strength must be a finite number >= 0"),
        ({"speaker_effect": float("inf")}, ValueError, "speaker_effect"),
        ({"threshold_noise": -0.5}, ValueError, "threshold_noise"),
        ({"crossover_thresholds": [0.0, 1.0]}, ValueError,
         "one entry per rater of the second group"),
        ({"crossover_thresholds": [0, 1, np.nan, 2]}, ValueError, "NaN"),
        ({"class_weights": [1, 2, 3]}, ValueError, "class_weights must have 5 entries"),
        ({"class_weights": [1, -1, 1, 1, 1]}, ValueError, "non-negative"),
        ({"class_weights": {"neutral": 1}}, ValueError, "absent"),
        ({"class_weights": "uniform"}, TypeError, "class_weights must be None"),
        ({"return_X_y": 1}, TypeError, "return_X_y must be a bool"),
    ],
)
def test_bad_parameters_raise_clear_errors(kwargs, error, match):
    params = {"n_samples": 200, "random_state": 0}
    params.update(kwargs)
    with pytest.raises(error, match=match):
        make_rater_perspectives(**params)
