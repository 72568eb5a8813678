"""FairPer (stage 2): perspective heads, triplet embedding, API and the paper's directions."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline

from fairrep import FairRep
from fairrep.datasets import make_rater_perspectives
from fairrep.features import SpeakerStandardScaler
from fairrep.metrics import consistency_score
from fairrep.perspective import FairPer, perspective_groups, perspective_targets
from fairrep.perspective._net import perspective_cross_entropy
from fairrep.perspective._triplet import conditional_triplet_loss, sample_triplets
from fairrep.raters import perspective_split

GROUPS = ("male", "female")


# -- the simulated corpus: Tables 3 and 4 directions ------------------------
@pytest.fixture(scope="module")
def corpus_split():
    """2,000 simulated items; sessions 1-4 train, session 5 tests; S1 and S2 only."""
    corpus = make_rater_perspectives(2000, random_state=0)
    split = perspective_split(corpus.ratings, rater="rater").reindex(
        corpus.item_info.index
    )
    X = SpeakerStandardScaler().fit_transform(corpus.data, speakers=corpus.speakers)
    Y, groups = perspective_targets(split)
    used = split["subset"].isin(["S1", "S2"]).to_numpy()
    sessions = np.asarray(corpus.sessions)
    test = sessions == sorted(set(sessions))[-1]
    train, test = used & ~test, used & test
    return X, Y, groups.to_numpy(dtype=object), train, test, sessions


# Two seeds of both stages: the F1 margins of Table 3 are seed-sensitive
# (docs/fairper.rst lists five); seed 1 is the tightest for the male head.
@pytest.fixture(scope="module", params=[0, 1], ids=["seed0", "seed1"])
def fitted_stages(corpus_split, request):
    X, Y, groups, train, _, _ = corpus_split
    seed = request.param
    # module fixtures run before conftest's per-test thread cap
    torch.set_num_threads(1)
    fairrep = FairRep(
        hidden_layer_sizes=(64,), embedding_dim=32, max_epochs=20, random_state=seed
    ).fit(X[train], Y["all"][train].to_numpy(), sensitive_features=groups[train])
    # paper's lambda = 0.01 on the frozen FairRep alone (Fig. 4, the default).
    # weight_decay 1e-2, not the paper's 1e-3 (docs/fairper.rst)
    fairper = FairPer(
        fairrep, weight_decay=1e-2, max_epochs=40, random_state=seed,
    ).fit(X[train], Y[train], sensitive_features=groups[train])
    return fairrep, fairper


_MALE_F1 = pytest.mark.xfail(strict=True, reason=(
    "Table 3's male direction does not hold with stage 2 on the fair "
    "representation alone and the paper's lambda: FairPer 0.656 vs FairRep 0.647 "
    "(seed 0), 0.671 vs 0.671 (seed 1); with X beside (passthrough=True) 0.694 "
    "vs 0.647 at seed 0 (docs/fairper.rst)"))


@pytest.mark.parametrize("group", [pytest.param("male", marks=_MALE_F1), "female"])
def test_perspective_f1_beats_gender_free_fairrep(corpus_split, fitted_stages, group):
    # Table 3 direction: against a group's consensus labels, FairPer under that
    # group's perspective beats FairRep trained on the gender-free truth.
    X, Y, _, _, test, _ = corpus_split
    fairrep, fairper = fitted_stages
    y_true = Y[group][test].to_numpy(dtype=object)
    labelled = ~pd.isna(y_true)
    y_true = y_true[labelled].astype(str)
    fairper_pred = clone(fairper).set_params(perspective=group)  # unfitted copy
    assert not hasattr(fairper_pred, "net_")
    predicted = fairper.set_params(perspective=group).predict(X[test])[labelled]
    baseline = fairrep.predict(X[test])[labelled]
    f1_fairper = f1_score(y_true, predicted.astype(str), average="weighted")
    f1_fairrep = f1_score(y_true, baseline.astype(str), average="weighted")
    # measured (seed 0 / 1): female 0.538 vs 0.470 / 0.541 vs 0.437
    assert f1_fairper > f1_fairrep + 0.02, (group, f1_fairper, f1_fairrep)


def _consistency(fairper, fairrep, corpus_split, group):
    X, _, groups, _, test, _ = corpus_split
    on_s2 = test & np.array([g is not None for g in groups])
    labels = groups[on_s2].astype(str)
    fairper.set_params(perspective=group)
    ours = consistency_score(fairper.transform(X[on_s2]), labels, n_neighbors=20)
    theirs = consistency_score(fairrep.transform(X[on_s2]), labels, n_neighbors=20)
    return ours, theirs


@pytest.mark.xfail(strict=True, reason=(
    "Table 4's direction does not hold on the fair representation alone at the "
    "paper's lambda: consistency 0.521 / 0.527 vs FairRep's 0.537 (seed 0), "
    "0.530 / 0.535 vs 0.542 (seed 1); stage 1 removed the group information "
    "the clusters would need (docs/fairper.rst)"))
@pytest.mark.parametrize("group", GROUPS)
def test_perspective_groups_more_consistent_than_fairrep(corpus_split, fitted_stages, group):
    # Table 4 direction: k = 20 neighbours of a test S2 item in FairPer's
    # embedding share its perspective group more often than in FairRep's.
    fairrep, fairper = fitted_stages
    ours, theirs = _consistency(fairper, fairrep, corpus_split, group)
    assert ours > theirs + 0.03, (group, ours, theirs)


def test_triplets_raise_consistency_when_the_group_is_in_the_input(corpus_split,
                                                                    fitted_stages):
    """The triplet term works when its input carries the group: X beside, lambda 1.

    Measured: 0.617 / 0.616 (male / female) against FairRep's 0.537 at seed
    0, 0.613 / 0.614 against 0.542 at seed 1; at the paper's lambda = 0.01
    with X beside it stays at 0.522-0.538.
    """
    X, Y, groups, train, _, _ = corpus_split
    fairrep, _ = fitted_stages
    fairper = FairPer(fairrep, passthrough=True, triplet_weight=1.0, weight_decay=1e-2,
                      max_epochs=40, random_state=fairrep.random_state).fit(
        X[train], Y[train], sensitive_features=groups[train])
    for group in GROUPS:
        ours, theirs = _consistency(fairper, fairrep, corpus_split, group)
        assert ours > theirs + 0.05, (group, ours, theirs)


def test_switching_perspective_needs_no_refit(corpus_split, fitted_stages):
    X, _, _, _, test, _ = corpus_split
    _, fairper = fitted_stages
    net = fairper.net_
    report = fairper.predict_all(X[test])
    assert list(report.columns) == ["female", "male", "all"]
    for name in report.columns:
        fairper.set_params(perspective=name)
        assert fairper.net_ is net
        np.testing.assert_array_equal(fairper.predict(X[test]), report[name].to_numpy())
        proba = fairper.predict_proba(X[test])
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_array_equal(
            fairper.classes_[proba.argmax(axis=1)], report[name].to_numpy()
        )
    # the perspectives really differ: male raters under-report frustration
    assert (report["male"] == "frustration").sum() < (report["female"] == "frustration").sum()
    embeddings = [
        fairper.set_params(perspective=name).transform(X[test][:50]) for name in GROUPS
    ]
    assert not np.allclose(*embeddings)
    np.testing.assert_allclose(np.linalg.norm(embeddings[0], axis=1), 1.0, rtol=1e-5)


def test_history_records_both_loss_terms(fitted_stages):
    _, fairper = fitted_stages
    history = fairper.history_
    assert list(history.columns) == [
        "epoch", "train_loss", "perspective_loss", "triplet_loss", "dur"
    ]
    assert fairper.n_iter_ == 40
    # L_Per = L_2 + lambda * L_T on the epoch means (weighted alike)
    np.testing.assert_allclose(
        history["train_loss"],
        history["perspective_loss"] + 0.01 * history["triplet_loss"],
        rtol=1e-5,
    )
    assert history["perspective_loss"].iloc[-1] < 0.6 * history["perspective_loss"].iloc[0]


def test_perspective_targets_on_the_corpus(corpus_split):
    _, Y, groups, _, _, _ = corpus_split
    assert list(Y.columns) == ["female", "male", "all"]
    assert set(pd.unique(groups[groups != None])) == set(GROUPS)
    corpus = make_rater_perspectives(300, random_state=1)
    split = perspective_split(corpus.ratings, rater="rater")
    on_s2 = (split["subset"] == "S2").to_numpy()
    by_item = perspective_groups(split)
    assert by_item[~on_s2].isna().all()
    # the group of an S2 item is the one whose consensus equals the truth
    for group in GROUPS:
        mine = (by_item == group).to_numpy()
        assert mine.any()
        assert (split.loc[mine, f"consensus_{group}"] == split.loc[mine, "truth"]).all()
    with pytest.raises(ValueError, match="split must be the DataFrame"):
        perspective_groups(split.drop(columns="perspective"))


# -- the loss pieces by hand -------------------------------------------------
def test_perspective_cross_entropy_skips_missing_labels():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [1.0, 1.0]]])
    target = torch.tensor([[0, -1], [1, -1]])
    expected = (np.log1p(np.exp(-2.0)) + np.log(2.0)) / 2
    assert float(perspective_cross_entropy(logits, target)) == pytest.approx(expected, rel=1e-6)
    unlabelled = torch.full((2, 2), -1)
    assert float(perspective_cross_entropy(logits, unlabelled)) == 0.0


def test_triplets_are_valid_and_drawn_for_every_usable_anchor():
    torch.manual_seed(0)
    group = torch.tensor([0, 1, 0, -1, 1, 2, 0])
    for _ in range(20):
        anchor, positive, negative = sample_triplets(group)
        # group 2 has one member: no positive; -1 has no group
        assert anchor.tolist() == [0, 1, 2, 4, 6]
        assert bool((group[positive] == group[anchor]).all())
        assert bool((positive != anchor).all())
        assert bool((group[negative] != group[anchor]).all())
        assert bool((group[negative] >= 0).all())
    empty = sample_triplets(torch.tensor([0, 0, -1]))
    assert all(part.numel() == 0 for part in empty)


def test_conditional_triplet_loss_by_hand():
    # two perspectives; the second condition swaps which sample is closer
    z = torch.tensor(
        [[[0.0, 0.0], [0.0, 0.0]],
         [[1.0, 0.0], [3.0, 0.0]],
         [[2.0, 0.0], [1.0, 0.0]]]
    )
    index = torch.tensor
    # a triplet is scored under its own condition only (Veit et al., 2017):
    # condition 0: max(0, 1 - 2 + 0.5) = 0; condition 1: max(0, 3 - 1 + 0.5) = 2.5
    under = [float(conditional_triplet_loss(z, index([0]), index([1]), index([2]),
                                            index([c]), margin=0.5)) for c in (0, 1)]
    assert under == pytest.approx([0.0, 2.5])
    # the same triplet twice, once per condition: the mean, not the sum
    both = conditional_triplet_loss(z, index([0, 0]), index([1, 1]), index([2, 2]),
                                    index([0, 1]), margin=0.5)
    assert float(both) == pytest.approx(1.25)
    no_triplet = conditional_triplet_loss(z, index([]), index([]), index([]), index([]),
                                          margin=0.5)
    assert float(no_triplet) == 0.0


# -- API on small data -------------------------------------------------------
@pytest.fixture(scope="module")
def toy():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 6))
    truth = np.where(X[:, 0] > 0, "ang", "neu")
    male = np.where(X[:, 0] + X[:, 1] > 0, "ang", "neu")
    female = np.where(X[:, 0] - X[:, 1] > 0, "ang", "neu")
    Y = pd.DataFrame({"male": male, "female": female, "all": truth}, dtype=object)
    groups = np.where(male != female, np.where(male == truth, "male", "female"), None)
    return X, Y, groups


def _small(**params):
    defaults = dict(hidden_size=16, embedding_dim=8, lr=1e-2, max_epochs=30, random_state=0)
    return FairPer(**{**defaults, **params})


def test_names_missing_cells_and_defaults(toy):
    X, Y, groups = toy
    Y = Y.copy()
    Y.iloc[:100, 0] = np.nan  # missing male labels add no L_2 term
    model = _small().fit(X, Y, sensitive_features=groups)
    assert model.perspectives_.tolist() == ["male", "female", "all"]
    assert model.classes_.tolist() == ["ang", "neu"]
    assert model.groups_.tolist() == ["female", "male"]
    np.testing.assert_array_equal(  # perspective=None is the last column
        model.predict(X), model.set_params(perspective="all").predict(X)
    )
    # an array's columns are "0", "1", ...: groups name no perspective, so the
    # conditional triplets need triplet_weight=0 (or a DataFrame)
    array_model = _small(triplet_weight=0.0).fit(X, Y.to_numpy(), sensitive_features=groups)
    assert array_model.perspectives_.tolist() == ["0", "1", "2"]
    one = _small().fit(X, Y["all"].to_numpy())
    assert one.perspectives_.tolist() == ["0"]
    assert one.score(X, Y["all"]) > 0.9


def test_score_reads_the_current_perspective_column(toy):
    X, Y, groups = toy
    model = _small(perspective="male").fit(X, Y, sensitive_features=groups)
    Y_missing = Y.copy()
    Y_missing.iloc[:40, 0] = None
    known = slice(40, None)
    expected = np.mean(model.predict(X)[known] == Y["male"].to_numpy()[known])
    assert model.score(X, Y_missing) == pytest.approx(expected)
    assert model.score(X, Y["male"]) == pytest.approx(np.mean(model.predict(X) == Y["male"]))


def test_same_seed_same_embedding_and_different_seed_differs(toy):
    X, Y, groups = toy
    first = _small().fit(X, Y, sensitive_features=groups).transform(X)
    second = _small().fit(X, Y, sensitive_features=groups).transform(X)
    other = _small(random_state=1).fit(X, Y, sensitive_features=groups).transform(X)
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)


def test_owning_an_unfitted_fairrep(toy):
    X, Y, groups = toy
    representation = FairRep(hidden_layer_sizes=(8,), embedding_dim=4, max_epochs=10, lr=1e-2, random_state=0)
    model = _small(representation=representation).fit(X, Y, sensitive_features=groups)
    assert not hasattr(representation, "net_")  # the parameter is cloned, not fitted
    assert model.representation_.groups_.tolist() == ["female", "male"]
    # trained on the truth column, the representation's classes are the truth's
    assert model.representation_.classes_.tolist() == ["ang", "neu"]
    assert model.transform(X).shape == (240, 8)


def test_pipeline_and_frozen_representation_agree(toy):
    X, Y, groups = toy
    fairrep = FairRep(hidden_layer_sizes=(8,), embedding_dim=4, max_epochs=10, lr=1e-2, random_state=0)
    fairrep.fit(X, Y["all"], sensitive_features=groups)
    # a Pipeline's FairPer sees the representation only, as the default does
    owning = _small(representation=fairrep).fit(
        X, Y, sensitive_features=groups
    )
    pipeline = make_pipeline(FrozenEstimator(fairrep), _small())
    pipeline.fit(X, Y, fairper__sensitive_features=groups)
    np.testing.assert_allclose(owning.transform(X), pipeline.transform(X), rtol=1e-5)
    np.testing.assert_array_equal(owning.predict(X), pipeline.predict(X))


def test_passthrough_puts_X_beside_the_representation(toy):
    X, Y, groups = toy
    fairrep = FairRep(hidden_layer_sizes=(8,), embedding_dim=4, max_epochs=10, lr=1e-2, random_state=0)
    fairrep.fit(X, Y["all"], sensitive_features=groups)
    widths = {}
    for passthrough in (True, False):
        for freeze in (True, False):
            model = _small(
                representation=fairrep, passthrough=passthrough,
                freeze_representation=freeze,
            ).fit(X, Y, sensitive_features=groups)
            widths[passthrough, freeze] = model.net_.module_.adapter[0].in_features
            assert model.transform(X).shape == (240, 8)
    # 4 representation dimensions, plus the 6 input features with passthrough
    assert widths == {(True, True): 10, (True, False): 10, (False, True): 4, (False, False): 4}
    # X beside the representation equals a FairPer on the concatenation
    beside = _small(representation=fairrep, passthrough=True).fit(
        X, Y, sensitive_features=groups)
    stacked = np.hstack([fairrep.transform(X), X])
    by_hand = _small().fit(stacked, Y, sensitive_features=groups)
    np.testing.assert_allclose(beside.transform(X), by_hand.transform(stacked), rtol=1e-5)
    np.testing.assert_array_equal(beside.predict(X), by_hand.predict(stacked))
    # without a representation there is nothing to pass through
    alone = _small(passthrough=True).fit(X, Y, sensitive_features=groups)
    np.testing.assert_array_equal(_small().fit(X, Y, sensitive_features=groups).transform(X), alone.transform(X))


def test_grid_search_over_triplet_weight(toy):
    X, Y, groups = toy
    sessions = np.repeat(np.arange(4), 60)
    search = GridSearchCV(
        _small(perspective="male"),
        {"triplet_weight": [0.01, 0.001]},
        cv=GroupKFold(n_splits=2),
    )
    search.fit(X, Y, groups=sessions, sensitive_features=groups)
    assert search.best_params_["triplet_weight"] in (0.01, 0.001)
    scores = search.cv_results_["mean_test_score"]
    assert np.all((scores > 0.6) & (scores <= 1.0))
    assert search.best_estimator_.perspective == "male"


def test_fine_tuning_changes_a_copy_of_the_encoder(toy):
    X, Y, groups = toy
    fairrep = FairRep(hidden_layer_sizes=(8,), embedding_dim=4, max_epochs=10, lr=1e-2, random_state=0)
    fairrep.fit(X, Y["all"], sensitive_features=groups)
    before = fairrep.transform(X)
    model = _small(representation=fairrep, freeze_representation=False)
    model.fit(X, Y, sensitive_features=groups)
    np.testing.assert_array_equal(fairrep.transform(X), before)
    tuned = model.net_.module_.encoder[0].weight.detach()
    original = fairrep.net_.module_.encoder[0].weight.detach()
    assert not torch.allclose(tuned, original)
    frozen = _small(representation=fairrep).fit(X, Y, sensitive_features=groups)
    assert model.score(X, Y) >= 0.7 and frozen.score(X, Y) >= 0.7


def test_triplet_weight_zero_has_no_triplet_term(toy):
    X, Y, groups = toy
    model = _small(triplet_weight=0.0).fit(X, Y, sensitive_features=groups)
    assert (model.history_["triplet_loss"] == 0).all()
    np.testing.assert_allclose(model.history_["train_loss"], model.history_["perspective_loss"])


# -- bad input ---------------------------------------------------------------
def test_unknown_perspective_lists_the_learned_ones(toy):
    X, Y, groups = toy
    model = _small().fit(X, Y, sensitive_features=groups)
    model.set_params(perspective="nonbinary")
    with pytest.raises(ValueError, match=r"perspective='nonbinary'.*\['male', 'female', 'all'\]"):
        model.predict(X)
    with pytest.raises(ValueError, match=r"perspective='nonbinary'.*\['male', 'female', 'all'\]"):
        _small(perspective="nonbinary").fit(X, Y)
    with pytest.raises(ValueError, match="representation_target='truth'"):
        _small(representation=FairRep(), representation_target="truth").fit(X, Y)


@pytest.mark.parametrize(
    "make_Y, message",
    [
        (lambda Y: Y.iloc[:-1], "Y has 239 rows but X has 240"),
        (lambda Y: Y.assign(male=np.nan), "column 'male' has no label"),
        (lambda Y: Y.set_axis(["a", "a", "b"], axis=1), "distinct perspectives"),
        (lambda Y: Y.to_numpy()[:, :, None], "Y must be 1-D .* or 2-D"),
        (lambda Y: Y.assign(male="ang", female="ang", all="ang"), "at least two classes"),
        (lambda Y: np.linspace(0, 1, 240), "Unknown label type"),
        (lambda Y: None, "requires y to be passed"),
    ],
)
def test_bad_targets_are_named(toy, make_Y, message):
    X, Y, _ = toy
    with pytest.raises(ValueError, match=message):
        _small().fit(X, make_Y(Y))


def test_bad_groups_and_representation_are_named(toy):
    X, Y, _ = toy
    with pytest.raises(ValueError, match="sensitive_features must contain at least 2"):
        _small().fit(X, Y, sensitive_features=["male"] * 240)
    with pytest.raises(ValueError, match="sensitive_features has 10 entries"):
        _small().fit(X, Y, sensitive_features=["male", "female"] * 5)
    with pytest.raises(ValueError, match="freeze_representation=False needs .* export_encoder"):
        _small(
            representation=PCA(n_components=3).fit(X),
            freeze_representation=False,
        ).fit(X, Y)
    with pytest.raises(ValueError, match="triplet_weight"):
        _small(triplet_weight=-1.0).fit(X, Y)


def test_early_stopping_holds_out_samples_and_keeps_the_best_epoch(toy):
    """With early stopping FairPer stops when the held-out L_2 stops falling
    and restores the weights of its best epoch; without it, all epochs run."""
    X, Y, groups = toy
    rng = np.random.RandomState(1)
    noisy = Y.copy()
    flip = rng.rand(len(Y)) < 0.3  # label noise the heads can over-fit
    noisy.loc[flip, "all"] = np.where(noisy.loc[flip, "all"] == "ang", "neu", "ang")
    model = _small(max_epochs=200, early_stopping=True, n_iter_no_change=5,
                   validation_fraction=0.25, lr=3e-2).fit(X, noisy, sensitive_features=groups)
    history = model.history_
    assert "valid_loss" in history and model.n_iter_ < 200
    best = int(np.argmin(history["valid_loss"].to_numpy()))
    assert model.n_iter_ == best + 1 + 5  # patience epochs after the best
    assert model.net_.train_split is None  # the held-out part is not kept
    # the restored weights give the best epoch's held-out loss, not the last one's
    assert history["valid_loss"].iloc[-1] > history["valid_loss"].iloc[best]
    plain = _small(max_epochs=12).fit(X, noisy, sensitive_features=groups)
    assert plain.n_iter_ == 12 and "valid_loss" not in plain.history_
    # fine-tuning a copy of stage 1's encoder stops early the same way
    tuned = _small(representation=FairRep(hidden_layer_sizes=(8,), embedding_dim=4,
                                          max_epochs=5, random_state=0),
                   freeze_representation=False, max_epochs=200, early_stopping=True,
                   n_iter_no_change=3).fit(X, noisy, sensitive_features=groups)
    assert tuned.n_iter_ < 200 and "valid_loss" in tuned.history_


@pytest.mark.parametrize("params, name", [
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"n_iter_no_change": 0}, "n_iter_no_change"),
    ({"early_stopping": "yes"}, "early_stopping"),
])
def test_early_stopping_parameters_are_checked(toy, params, name):
    from sklearn.utils._param_validation import InvalidParameterError

    X, Y, groups = toy
    with pytest.raises(InvalidParameterError, match=name):
        _small(**params).fit(X, Y, sensitive_features=groups)
