"""FairPer on real multi-rater text data: POPQUORN offensiveness by rater gender.

Run ``pytest tests/perspective/test_fairper_real.py -s`` to print the table that
``docs/fairper.rst`` reports.
"""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fairrep import FairRep
from fairrep.perspective import FairPer, perspective_targets
from fairrep.raters import perspective_split

pytestmark = pytest.mark.real_data

GROUPS = ("Man", "Woman")


@pytest.fixture(scope="module")
def popquorn(shared_data):
    raw = pd.read_csv(shared_data / "popquorn" / "offensiveness_raw_data.csv")
    # two rater groups, as in the paper; the few non-binary raters are left out
    ratings = raw[raw["gender"].isin(GROUPS)]
    split = perspective_split(
        ratings, item="instance_id", rater_group="gender",
        label="offensiveness", rater="user_id",
    )
    texts = raw.drop_duplicates("instance_id").set_index("instance_id")["text"]
    Y, groups = perspective_targets(split)
    return texts.reindex(split.index), Y, groups, split


def _text_front_end():
    return [
        TfidfVectorizer(min_df=2, sublinear_tf=True),
        TruncatedSVD(n_components=64, random_state=0),
        StandardScaler(),
    ]


@pytest.mark.xfail(
    strict=True,
    reason="not yet: on POPQUORN FairPer does not beat the majority class by 0.03 "
    "under every perspective (weighted F1 Man 0.655 vs 0.648, Woman 0.678 vs 0.674, "
    "all 0.713 vs 0.730; docs/fairper.rst)",
)
@pytest.mark.slow
def test_popquorn_perspective_predictions(popquorn):
    torch.set_num_threads(1)
    texts, Y, groups, split = popquorn
    assert len(split) == 1500 and list(Y.columns) == ["Man", "Woman", "all"]
    train, test = train_test_split(np.arange(len(split)), test_size=0.3, random_state=0)
    text_train, text_test = texts.to_numpy()[train], texts.to_numpy()[test]
    fairper = make_pipeline(
        *_text_front_end(),
        FairPer(
            FairRep(hidden_layer_sizes=(64,), embedding_dim=32, max_epochs=20, random_state=0),
            max_epochs=40, random_state=0,
        ),
    )
    fairper.fit(
        text_train, Y.iloc[train],
        fairper__sensitive_features=groups.to_numpy(dtype=object)[train],
    )
    truth_train = Y["all"].to_numpy(dtype=object)[train]
    known = ~pd.isna(truth_train)
    gender_free = make_pipeline(
        *_text_front_end(),
        FairRep(hidden_layer_sizes=(64,), embedding_dim=32, max_epochs=20, random_state=0),
    ).fit(
        text_train[known], truth_train[known].astype(float),
        fairrep__sensitive_features=groups.to_numpy(dtype=object)[train][known],
    )
    # Pipeline delegates only the standard methods: report through the last step
    predictions = fairper[-1].predict_all(fairper[:-1].transform(text_test))
    baseline = gender_free.predict(text_test)
    rows = []
    for perspective in Y.columns:
        y_true = Y[perspective].to_numpy(dtype=object)[test]
        labelled = ~pd.isna(y_true)
        y_true = y_true[labelled].astype(float)
        majority = pd.Series(Y[perspective].iloc[train]).dropna().mode()[0]
        rows.append({
            "perspective": perspective,
            "n_test": int(labelled.sum()),
            "FairPer": f1_score(y_true, predictions[perspective].to_numpy()[labelled].astype(float), average="weighted"),
            "FairRep": f1_score(y_true, baseline[labelled], average="weighted"),
            "majority": f1_score(y_true, np.full(len(y_true), float(majority)), average="weighted"),
        })
    table = pd.DataFrame(rows).set_index("perspective").round(3)
    print("\nPOPQUORN offensiveness, weighted F1 on 450 test items\n", table)
    # every perspective head learns something from the text
    assert (table["FairPer"] > table["majority"] + 0.03).all(), table
