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
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
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


def _evaluate(data, make_model, uses_groups):
    n = len(data["y"])
    prediction = np.empty(n, dtype=object)
    probe_accuracy = []
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
        probe_accuracy.append(_group_probe_accuracy(
            model.transform(data["X"][s2]), data["group"][s2].astype(str)
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
    "sampling noise (about 0.03 on 700 S2 items): at seed 0 sadness is 0.007 "
    "for the DNN and 0.020 for FairRep (docs/fairrep.rst)",
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
    reason="the embedding still carries group information: a cross-validated "
    "logistic-regression probe on held-out S2 items reads the perspective "
    "group at about 0.60-0.65 accuracy (chance about 0.50) from FairRep, "
    "0.66-0.69 from the DNN (docs/fairrep.rst)",
)
def test_embedding_hides_group_from_a_fresh_adversary(results):
    dnn, fair = results
    assert fair["probe"] <= fair["chance"] + 0.05
    assert dnn["probe"] >= fair["probe"] + 0.10
