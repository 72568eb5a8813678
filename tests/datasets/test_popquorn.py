"""load_popquorn: the real POPQUORN file, label schemes, folds and bad input."""

import logging

import pandas as pd
import pytest

from fairrep.datasets import POPQUORN_LABEL_SCHEMES, load_popquorn
from fairrep.exceptions import CorpusFormatError
from fairrep.raters import perspective_split

FILE = "offensiveness_raw_data.csv"


@pytest.fixture(scope="module")
def popquorn_home(shared_data):
    return shared_data / "popquorn"


@pytest.fixture(scope="module")
def popquorn(popquorn_home):
    return load_popquorn(popquorn_home)


def _write(folder, rows, columns=("instance_id", "user_id", "text", "offensiveness", "gender")):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=list(columns)).to_csv(folder / FILE, index=False)
    return folder


# four texts, two men (0, 1) and two women (2, 3), one non-binary rater (4)
SMALL = [
    (10, 0, "fine text", 1, "Man"), (10, 1, "fine text", 2, "Man"),
    (10, 2, "fine text", 1, "Woman"), (10, 3, "fine text", 1, "Woman"),
    (11, 0, "rude text", 5, "Man"), (11, 2, "rude text", 4, "Woman"),
    (11, 3, "rude text", 3, "Woman"), (11, 4, "rude text", 1, "Non-binary"),
    (12, 1, "mild text", 2, "Man"), (12, 2, "mild text", 3, "Woman"),
    (12, 3, "mild text", 1, "Woman"),
    (13, 4, "only non-binary", 5, "Non-binary"),
    (14, 0, "split text", 1, "Man"), (14, 2, "split text", 4, "Woman"),
]


@pytest.mark.real_data
def test_real_counts_and_columns(popquorn_home, popquorn):
    everyone = load_popquorn(popquorn_home, groups=("Man", "Woman", "Non-binary"))
    assert len(everyone.texts) == 1500 and len(everyone.ratings) == 13036
    assert everyone.ratings["rater"].nunique() == 262 and len(everyone.raters) == 262
    assert everyone.raters["gender"].value_counts().to_dict() == {
        "Woman": 131, "Man": 124, "Non-binary": 7,
    }
    assert everyone.notes == [(
        "85 of 1500 texts have no truth (a tie in the majority vote of the binary "
        "classes); the study leaves them out."
    )]
    # default: non-binary raters left out, with the reason in the notes
    t, r = popquorn.texts, popquorn.ratings
    assert list(t.columns) == ["text", "n_ratings", "mean_offensiveness", "fold", "truth"]
    assert list(r.columns) == ["item", "rater", "rater_group", "label", "offensiveness"]
    assert t.index.name == "id" and t.index.is_unique and len(t) == 1500
    assert len(r) == 13036 - 350 and r["rater"].nunique() == 255
    assert set(r["rater_group"]) == {"Man", "Woman"} and popquorn.rater_groups == ["Man", "Woman"]
    assert "7 rater(s) whose gender is Non-binary are left out" in popquorn.notes[0]
    assert (t["n_ratings"] == r.groupby("item").size().reindex(t.index)).all()
    assert t.loc[530, "text"].startswith("I think a lot of Dethklok songs")
    assert not r.duplicated(["item", "rater"]).any()


@pytest.mark.real_data
def test_real_binary_scheme_balance_and_split(popquorn):
    t, r = popquorn.texts, popquorn.ratings
    mapped = r["offensiveness"].map(POPQUORN_LABEL_SCHEMES["binary"])
    assert (mapped == r["label"]).all()
    assert popquorn.classes == ["not offensive", "offensive"]
    assert t["truth"].value_counts().to_dict() == {"not offensive": 864, "offensive": 548}
    assert t["truth"].isna().sum() == 88
    # the S1/S2 sizes docs/real_raters.rst reports (the paper's split, Man vs Woman)
    split = perspective_split(r, rater="rater", truth=t["truth"])
    assert split["subset"].value_counts().to_dict() == {"S1": 908, "S2": 504, "undetermined": 88}
    assert split.loc[split["subset"] == "S2", "perspective"].value_counts().to_dict() == {
        "Woman": 262, "Man": 242,
    }


@pytest.mark.real_data
def test_real_folds_item_disjoint_balanced_and_seeded(popquorn_home, popquorn):
    t = popquorn.texts
    assert t["fold"].value_counts().to_dict() == {f"fold{k}": 300 for k in range(1, 6)}
    # every item in exactly one fold; stratified: each fold's share of offensive
    # texts within one text of the corpus share
    share = t.groupby("fold")["truth"].apply(lambda y: (y == "offensive").sum())
    assert share.max() - share.min() <= 1
    again = load_popquorn(popquorn_home)
    assert (again.texts["fold"] == t["fold"]).all()
    other = load_popquorn(popquorn_home, random_state=1, n_folds=3)
    assert other.texts["fold"].nunique() == 3
    assert (other.texts["fold"] != t["fold"]).any()


def test_schemes_truth_and_groups_on_a_small_file(tmp_path, caplog):
    home = _write(tmp_path / "pq", SMALL)
    with caplog.at_level(logging.INFO, logger="fairrep.datasets._popquorn"):
        data = load_popquorn(home, n_folds=2)
    assert "Non-binary are left out (2 of 14 ratings; 1 text(s) lose every rating)" in caplog.text
    assert list(data.texts.index) == [10, 11, 12, 14]  # 13: non-binary ratings only
    assert data.texts["truth"].iloc[:3].tolist() == ["not offensive", "offensive", "offensive"]
    assert pd.isna(data.texts.loc[14, "truth"])  # 1 vs 4: a tie
    assert data.notes[1] == ("1 of 4 texts have no truth (a tie in the majority vote of "
                             "the binary classes); the study leaves them out.")
    assert data.texts["n_ratings"].tolist() == [4, 3, 3, 2]
    assert data.texts["mean_offensiveness"].tolist() == pytest.approx([1.25, 4.0, 2.0, 2.5])
    ordinal = load_popquorn(home, label_scheme="ordinal", n_folds=2)
    assert ordinal.texts["truth"].iloc[:3].tolist() == [
        "not offensive", "very offensive", "somewhat offensive",
    ]
    assert ordinal.classes == ["not offensive", "somewhat offensive", "very offensive"]
    five = load_popquorn(home, label_scheme="five", n_folds=2)
    assert five.classes == ["1", "2", "3", "4", "5"] and five.texts["truth"].loc[10] == "1"
    custom = load_popquorn(home, label_scheme={1: "a", 2: "a", 3: "b", 4: "b", 5: "b"}, n_folds=2)
    assert custom.label_scheme == "custom" and custom.classes == ["a", "b"]
    assert custom.texts["truth"].iloc[:3].tolist() == ["a", "b", "a"]
    three = load_popquorn(home, groups=("Man", "Woman", "Non-binary"), n_folds=2)
    assert list(three.texts.index) == [10, 11, 12, 13, 14] and len(three.notes) == 1
    assert three.texts.loc[13, "truth"] == "offensive"
    assert three.texts.loc[11, "n_ratings"] == 4
    # the file itself is accepted as data_home
    assert len(load_popquorn(home / FILE, n_folds=2).texts) == 4


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"'.*absent' is not a directory.*offensiveness_raw_data.csv"):
        load_popquorn(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match=r"holds no offensiveness_raw_data.csv.*instance_id"):
        load_popquorn(tmp_path)
    (tmp_path / FILE).write_text("")
    with pytest.raises(CorpusFormatError, match=r"offensiveness_raw_data.csv is empty; expected POPQUORN"):
        load_popquorn(tmp_path)
    _write(tmp_path, [])
    with pytest.raises(CorpusFormatError, match="has a header but no rows"):
        load_popquorn(tmp_path)
    _write(tmp_path, [(1, 0, "x", 1)], columns=("instance_id", "user_id", "text", "score"))
    with pytest.raises(CorpusFormatError, match=r"lacks the columns \['offensiveness', 'gender'\]"):
        load_popquorn(tmp_path)
    _write(tmp_path, [*SMALL[:3], (10, 3, "fine text", 7, "Woman")])
    with pytest.raises(CorpusFormatError, match=r"csv:5: offensiveness '7' is not a score 1-5"):
        load_popquorn(tmp_path)
    _write(tmp_path, [*SMALL[:3], (10, 3, "fine text", None, "Woman")])
    with pytest.raises(CorpusFormatError, match=r"csv:5: empty 'offensiveness'"):
        load_popquorn(tmp_path)
    _write(tmp_path, [*SMALL[:3], SMALL[1]])
    with pytest.raises(CorpusFormatError, match=r"csv:5: rater 1 rates text 10 a second time"):
        load_popquorn(tmp_path)
    _write(tmp_path, [*SMALL[:3], (10, 3, "another text", 1, "Woman")])
    with pytest.raises(CorpusFormatError, match=r"instance_id '10' has 2 different values of 'text'"):
        load_popquorn(tmp_path)
    _write(tmp_path, [*SMALL[:3], (11, 0, "rude text", 1, "Woman")])
    with pytest.raises(CorpusFormatError, match=r"user_id '0' has 2 different values of 'gender'"):
        load_popquorn(tmp_path)


def test_bad_arguments(tmp_path):
    home = _write(tmp_path, SMALL)
    with pytest.raises(ValueError, match=r"groups names \['woman'\].*\['Man', 'Non-binary', 'Woman'\]"):
        load_popquorn(home, groups=("Man", "woman"))
    with pytest.raises(ValueError, match="groups must be a non-empty sequence"):
        load_popquorn(home, groups=())
    with pytest.raises(ValueError, match="groups names a gender twice"):
        load_popquorn(home, groups=("Man", "Man"))
    with pytest.raises(ValueError, match=r"label_scheme must be one of \['binary', 'five', 'ordinal'\]"):
        load_popquorn(home, label_scheme="ternary")
    with pytest.raises(ValueError, match="must give a class to each score 1, 2, 3, 4 and 5"):
        load_popquorn(home, label_scheme={1: "a", 2: "b"})
    with pytest.raises(TypeError, match="label_scheme must be a name"):
        load_popquorn(home, label_scheme=3)
    with pytest.raises(ValueError, match="n_folds must be an integer of at least 2; got 1"):
        load_popquorn(home, n_folds=1)
