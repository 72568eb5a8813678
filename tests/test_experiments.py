import pytest
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import f1_score

from fairrep.datasets import make_rater_perspectives
from fairrep.experiments import per_class_f1, run_stage1, session_folds, summarize
from fairrep.raters import perspective_split


def test_per_class_f1_is_one_vs_rest_weighted():
    y_true = ["a", "a", "b", "c"]
    y_pred = ["a", "b", "b", "a"]
    scores = per_class_f1(y_true, y_pred, labels=["a", "b", "c"])
    # class a: true [1,1,0,0], pred [1,0,0,1]
    expected_a = f1_score([1, 1, 0, 0], [1, 0, 0, 1], average="weighted")
    assert scores["a"] == pytest.approx(expected_a)
    # class c never predicted: F1 of the positive class is 0, of "rest" 6/7
    assert scores["c"] == pytest.approx(0.75 * (2 * 3 / (3 + 4)))


def test_session_folds_leave_one_session_out():
    folds = session_folds([1, 1, 2, 2, 3])
    assert [held for _, _, held in folds] == [1, 2, 3]
    for train, test, held in folds:
        assert set(train).isdisjoint(test)
    with pytest.raises(ValueError, match="at least 2 distinct"):
        session_folds([1, 1, 1])


@pytest.fixture(scope="module")
def small_corpus():
    corpus = make_rater_perspectives(800, random_state=1)
    split = perspective_split(corpus.ratings, truth=corpus.truth).loc[corpus.item_info.index]
    return corpus, split


def test_run_stage1_tables(small_corpus):
    corpus, split = small_corpus
    f1, parity, times = run_stage1(
        {"ridge": RidgeClassifier()},
        corpus.data, split, corpus.sessions, folds=2,
    )
    assert set(f1["set"]) == {"All", "S1", "S2"}
    assert f1["fold"].nunique() == 2 and len(times) == 2
    assert (times["never_predicted"] == "").all()
    assert f1["f1"].between(0, 1).all()
    assert parity["statistical_parity"].between(0, 1).all()
    # every fold scores the five emotions
    assert parity.groupby("fold")["class"].nunique().eq(5).all()
    mean, text = summarize(f1, "f1", index=["class", "set"])
    assert mean.shape == (15, 1)
    assert text.iloc[0, 0].count("±") == 1
    with pytest.raises(ValueError, match="aligned"):
        run_stage1({"m": RidgeClassifier()}, corpus.data[:10], split, corpus.sessions)
