"""Tests of fairrep.raters on hand-built tables whose answers are worked out by hand."""

import doctest
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from fairrep.raters import (
    SUBSETS,
    _agreement,
    _consensus,
    _split,
    _vote_counts,
    agreement_statistics,
    consensus_agreement,
    fleiss_kappa,
    from_vote_counts,
    group_consensus,
    krippendorff_alpha,
    majority_vote,
    perspective_labels,
    perspective_split,
)


def _long(rows):
    """Build a ratings table from (item, rater_group, label) tuples."""
    return pd.DataFrame(rows, columns=["item", "rater_group", "label"])


def _two_group_table():
    rows = []
    # s1: M a,a; F a,a,b -> truth a (4 vs 1), both groups say a -> S1
    rows += [("s1", "M", "a")] * 2 + [("s1", "F", "a")] * 2 + [("s1", "F", "b")]
    # s2: M a,a; F b,b,b -> truth b (3 vs 2), groups differ, F matches -> S2 / F
    rows += [("s2", "M", "a")] * 2 + [("s2", "F", "b")] * 3
    # tie_truth: M a,a; F b,b -> truth tied -> undetermined
    rows += [("tie_truth", "M", "a")] * 2 + [("tie_truth", "F", "b")] * 2
    # tie_group: M a,b (tie); F a,a -> truth a but M has no consensus
    rows += [("tie_group", "M", "a"), ("tie_group", "M", "b")]
    rows += [("tie_group", "F", "a")] * 2
    # no_group: F only -> M missing -> undetermined
    rows += [("no_group", "F", "a")] * 2
    # other: both groups say a, but ungrouped raters outvote them: truth b
    rows += [("other", "M", "a")] * 2 + [("other", "F", "a")]
    rows += [("other", None, "b")] * 4
    return _long(rows)


# (truth, consensus_F, consensus_M, subset, perspective, n_ratings, n_F, n_M)
_EVERY_CASE = {
    "paper": {
        "s1": ("a", "a", "a", "S1", np.nan, 5, 3, 2),
        "s2": ("b", "b", "a", "S2", "F", 5, 3, 2),
        "tie_truth": (np.nan, "b", "a", "undetermined", np.nan, 4, 2, 2),
        # M's tie keeps the item out of S1; F's share of a (2/2) beats M's (1/2)
        "tie_group": ("a", "a", np.nan, "S2", "F", 4, 2, 2),
        # M never rated it: only F has a share
        "no_group": ("a", "a", np.nan, "S2", "F", 2, 2, 0),
        # no grouped rating is b: both shares are 0, so no perspective
        "other": ("b", "a", "a", "S2", np.nan, 7, 1, 2),
    },
    "strict": {
        "s1": ("a", "a", "a", "S1", np.nan, 5, 3, 2),
        "s2": ("b", "b", "a", "S2", "F", 5, 3, 2),
        "tie_truth": (np.nan, "b", "a", "undetermined", np.nan, 4, 2, 2),
        "tie_group": ("a", "a", np.nan, "undetermined", np.nan, 4, 2, 2),
        "no_group": ("a", "a", np.nan, "undetermined", np.nan, 2, 2, 0),
        "other": ("b", "a", "a", "other", np.nan, 7, 1, 2),
    },
}


def _assert_rows(split, expected, columns=None):
    for item, row in expected.items():
        got = split.loc[item, columns].tolist() if columns else split.loc[item].tolist()
        for value, want in zip(got, row, strict=True):
            if isinstance(want, float) and np.isnan(want):
                assert pd.isna(value), (item, got)
            else:
                assert value == want, (item, got)


@pytest.mark.parametrize("method", ["paper", "strict"])
def test_perspective_split_pins_every_subset_case(method):
    kwargs = {} if method == "paper" else {"method": "strict"}
    split = perspective_split(_two_group_table(), **kwargs)
    assert list(split.columns) == [
        "truth",
        "consensus_F",
        "consensus_M",
        "subset",
        "perspective",
        "n_ratings",
        "n_ratings_F",
        "n_ratings_M",
    ]
    assert split.index.name == "item"
    assert list(split.index) == sorted(
        ["s1", "s2", "tie_truth", "tie_group", "no_group", "other"]
    )
    _assert_rows(split, _EVERY_CASE[method])
    assert split["subset"].dtype == "category"
    categories = ["S1", "S2", "undetermined"] if method == "paper" else list(SUBSETS)
    assert list(split["subset"].cat.categories) == categories
    assert split.attrs["rater_groups"] == ["F", "M"]
    assert split.attrs["method"] == method


def _share_table():
    rows = []
    # half: M a,b (1/2 of its ratings are a); F a,a,b,b (2/4); one ungrouped a
    # makes the truth a (4 vs 3). Equal shares: no perspective. Both groups
    # tie, so the strict split cannot place it.
    rows += [("half", "M", "a"), ("half", "M", "b")]
    rows += [("half", "F", "a")] * 2 + [("half", "F", "b")] * 2 + [("half", None, "a")]
    # lean_m: both groups' consensus is a, but six ungrouped b make the truth
    # b (7 vs 6); M gave b 1 of 3 times, F never: the truth leans to M.
    rows += [("lean_m", "M", "a")] * 2 + [("lean_m", "M", "b")]
    rows += [("lean_m", "F", "a")] * 4 + [("lean_m", None, "b")] * 6
    # apart: M b,b,a; F c,c,a; ungrouped a,a -> truth a (4 vs 2 vs 2). The
    # consensus labels differ and neither is a; both shares are 1/3.
    rows += [("apart", "M", "b")] * 2 + [("apart", "M", "a")]
    rows += [("apart", "F", "c")] * 2 + [("apart", "F", "a")]
    rows += [("apart", None, "a")] * 2
    # m_tie: M a,a,b,b ties; F a,a,b -> truth a (4 vs 3); F's 2/3 beats M's 1/2
    rows += [("m_tie", "M", "a")] * 2 + [("m_tie", "M", "b")] * 2
    rows += [("m_tie", "F", "a")] * 2 + [("m_tie", "F", "b")]
    # share_not_consensus: M a,a,b,c,d (consensus a = truth, share 2/5);
    # F b x5, a x4 (consensus b, share 4/9 > 2/5); one ungrouped a makes the
    # truth a (7 vs 6). The strict split follows the consensus (M), the
    # paper's the share (F).
    rows += [("share_not_consensus", "M", label) for label in "aabcd"]
    rows += [("share_not_consensus", "F", "b")] * 5
    rows += [("share_not_consensus", "F", "a")] * 4
    rows += [("share_not_consensus", None, "a")]
    return _long(rows)


def test_paper_perspective_is_the_group_with_the_largest_share():
    table = _share_table()
    columns = ["truth", "consensus_F", "consensus_M", "subset", "perspective"]
    paper = perspective_split(table)
    _assert_rows(
        paper,
        {
            "half": ("a", np.nan, np.nan, "S2", np.nan),
            "lean_m": ("b", "a", "a", "S2", "M"),
            "apart": ("a", "c", "b", "S2", np.nan),
            "m_tie": ("a", "a", np.nan, "S2", "F"),
            "share_not_consensus": ("a", "b", "a", "S2", "F"),
        },
        columns,
    )
    strict = perspective_split(table, method="strict")
    _assert_rows(
        strict,
        {
            "half": ("a", np.nan, np.nan, "undetermined", np.nan),
            "lean_m": ("b", "a", "a", "other", np.nan),
            "apart": ("a", "c", "b", "S2", np.nan),
            "m_tie": ("a", "a", np.nan, "undetermined", np.nan),
            "share_not_consensus": ("a", "b", "a", "S2", "M"),
        },
        columns,
    )


def test_perspective_split_method_is_validated():
    table = _two_group_table()
    for bad in ("Paper", "loose", None, 1):
        with pytest.raises(ValueError, match="method must be 'paper' .* or 'strict'"):
            perspective_split(table, method=bad)


def test_three_groups_several_perspectives_and_none():
    rows = []
    # u1: A x,x; B x,x; C y,y,y -> truth x (4 vs 3); A and B match
    rows += [("u1", "A", "x")] * 2 + [("u1", "B", "x")] * 2 + [("u1", "C", "y")] * 3
    # u2: all three say z -> S1
    rows += [("u2", g, "z") for g in "ABC"]
    # u3: A x, B y, C y -> voted truth y (2 vs 1): B and C match
    rows += [("u3", "A", "x"), ("u3", "B", "y"), ("u3", "C", "y")]
    table = _long(rows)
    split = perspective_split(table, method="strict")
    assert split.loc["u1", "subset"] == "S2"
    assert split.loc["u1", "perspective"] == "A,B"
    assert split.loc["u2", "subset"] == "S1"
    assert split.loc["u3", "perspective"] == "B,C"
    # the paper's split names one group or none: A and B tie at share 1
    paper = perspective_split(table)
    assert paper["subset"].tolist() == ["S2", "S1", "S2"]
    assert paper["perspective"].isna().tolist() == [True, True, True]

    # given truth: u1 y (C alone matches), u3 w (no group rated w)
    truth = pd.Series({"u1": "y", "u2": "z", "u3": "w"})
    for method in ("paper", "strict"):
        given = perspective_split(table, truth=truth, method=method)
        assert given.loc["u1", "perspective"] == "C"
        assert given.loc["u3", "subset"] == "S2"
        assert pd.isna(given.loc["u3", "perspective"])
        assert given["subset"].value_counts()[["S1", "S2"]].tolist() == [1, 2]


def test_given_truth_unrated_and_unlabelled_items_are_undetermined():
    table = _long(
        [
            ("a", "M", 1),
            ("a", "F", 1),
            ("b", "M", 2),
            ("b", "F", 2),
            ("c", "M", 3),
            ("c", "F", 3),
            ("d", "M", 1),
            ("d", "F", 1),
        ]
    )
    truth = pd.Series({"a": 1, "b": 3, "c": np.nan, "zz": 2})
    split = perspective_split(table, truth=truth, method="strict")
    assert list(split.index) == ["a", "b", "c", "d", "zz"]
    assert split["subset"].tolist() == [
        "S1",
        "other",
        "undetermined",
        "undetermined",
        "undetermined",
    ]
    # the paper's split: b has a truth, so S2 (no rating is 3: no perspective);
    # zz has a truth but no rating to compare it with
    paper = perspective_split(table, truth=truth)
    assert paper["subset"].tolist() == ["S1", "S2", "undetermined"] + [
        "undetermined"
    ] * 2
    assert paper["perspective"].isna().all()
    # "zz" was never rated, "d" is missing from truth
    assert split.loc["zz", "n_ratings"] == 0
    assert pd.isna(split.loc["zz", "consensus_M"])
    assert pd.isna(split.loc["d", "truth"])
    assert split.loc["d", "consensus_F"] == 1


def test_missing_labels_are_dropped_and_items_kept():
    table = _long(
        [
            ("u1", "M", "a"),
            ("u1", "M", np.nan),
            ("u1", "M", None),
            ("u1", "F", "a"),
            ("u2", "M", np.nan),
            ("u2", "F", np.nan),
        ]
    )
    split = perspective_split(table)
    assert split.loc["u1", "subset"] == "S1"
    assert split.loc["u1", "n_ratings"] == 2
    assert split.loc["u1", "n_ratings_M"] == 1
    assert split.loc["u2", "subset"] == "undetermined"
    assert split.loc["u2", "n_ratings"] == 0


def test_numeric_labels_and_custom_columns():
    table = pd.DataFrame(
        {
            "text": [10, 10, 10, 10, 20, 20, 20, 20, 20],
            "gender": ["w", "w", "m", "m", "w", "w", "m", "m", "m"],
            "score": [1, 1, 1, 1, 5, 5, 2, 2, 2],
        }
    )
    split = perspective_split(table, item="text", rater_group="gender", label="score")
    assert split.index.name == "text"
    assert split.loc[10, "subset"] == "S1"
    assert split.loc[20, "truth"] == 2
    assert split.loc[20, "perspective"] == "m"
    assert split.loc[20, "consensus_w"] == 5


def _vote(labels):
    counts = pd.Series(labels, dtype=object).value_counts()
    if len(counts) == 0 or (len(counts) > 1 and counts.iloc[0] == counts.iloc[1]):
        return None
    return counts.index[0]


def _reference_split(table, truth, method):
    """Subset and perspective of one item at a time, straight from section 2.1."""
    expected = {}
    for item_id, rows in table.groupby("item"):
        true = _vote(rows["label"]) if truth is None else truth.get(item_id)
        by_group = {g: rows.loc[rows["rater_group"] == g, "label"] for g in "FMX"}
        cons = {g: _vote(labels) for g, labels in by_group.items()}
        perspective = None
        if method == "paper":
            if true is None or not any(len(v) for v in by_group.values()):
                subset = "undetermined"
            elif all(c == true for c in cons.values()):
                subset = "S1"
            else:
                subset = "S2"
                shares = {
                    g: Fraction(int((v == true).sum()), len(v))
                    for g, v in by_group.items()
                    if len(v)
                }
                best = max(shares.values())
                leaders = [g for g, share in shares.items() if share == best]
                if best > 0 and len(leaders) == 1:
                    perspective = leaders[0]
        else:
            if true is None or any(c is None for c in cons.values()):
                subset = "undetermined"
            elif all(c == true for c in cons.values()):
                subset = "S1"
            elif len(set(cons.values())) > 1:
                subset = "S2"
                perspective = ",".join(g for g in "FMX" if cons[g] == true) or None
            else:
                subset = "other"
        expected[item_id] = (subset, perspective)
    return expected


@pytest.mark.parametrize("given_truth", [False, True])
@pytest.mark.parametrize("method", ["paper", "strict"])
def test_perspective_split_matches_a_per_item_reference(method, given_truth):
    rng = np.random.default_rng(0)
    n = 4000
    table = pd.DataFrame(
        {
            "item": rng.integers(0, 600, n),
            "rater_group": rng.choice(
                np.array(["F", "M", "X", None], dtype=object),
                n,
                p=[0.43, 0.43, 0.1, 0.04],
            ),
            "label": rng.choice(["ang", "hap", "neu"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    truth = None
    if given_truth:
        items = np.unique(table["item"])
        labels = np.array(["ang", "hap", "neu", None], dtype=object)
        truth = pd.Series(rng.choice(labels, len(items)), index=items)
    split = perspective_split(table, truth=truth, method=method)
    expected = _reference_split(
        table, None if truth is None else truth.dropna().to_dict(), method
    )
    got = split.loc[list(expected), ["subset", "perspective"]].astype(object)
    got = got.where(got.notna(), None)
    assert dict(zip(got.index, map(tuple, got.to_numpy()), strict=True)) == expected
    counts = split["subset"].value_counts()
    assert counts.sum() == table["item"].nunique()
    assert counts["S1"] > 0 and counts["S2"] > 0
    perspective = split.loc[split["subset"] == "S2", "perspective"]
    assert perspective.notna().sum() > 10
    if method == "paper":
        # ties between the groups' shares are common with three groups
        assert perspective.isna().sum() > 50
        assert "other" not in set(split["subset"].astype(object))
        assert split["perspective"].dropna().isin(["F", "M", "X"]).all()


def test_paper_split_covers_every_item_with_a_truth():
    rng = np.random.default_rng(3)
    n = 8000
    table = pd.DataFrame(
        {
            "item": rng.integers(0, 900, n),
            "rater_group": rng.choice(
                np.array(["F", "M", None], dtype=object), n, p=[0.47, 0.47, 0.06]
            ),
            "label": rng.choice(
                ["ang", "hap", "neu", "sad"], n, p=[0.55, 0.25, 0.1, 0.1]
            ),
        }
    )
    # the voted truth, with one item in five given another (or no) label, as
    # an acted emotion can differ from what the raters heard
    truth = majority_vote(table)
    relabel = rng.random(len(truth)) < 0.2
    labels = np.array(["ang", "hap", "neu", "sad", None], dtype=object)
    truth[relabel] = rng.choice(labels, relabel.sum())
    paper = perspective_split(table, truth=truth)
    strict = perspective_split(table, truth=truth, method="strict")
    sizes = paper["subset"].value_counts()
    assert sizes["S1"] + sizes["S2"] + sizes["undetermined"] == len(paper)
    assert len(paper) == table["item"].nunique()
    assert (paper["subset"] == "other").sum() == 0
    assert (paper["subset"] == "undetermined").equals(paper["truth"].isna())
    # the same S1; S2 gains every strict "other" item and every item that the
    # strict split leaves undetermined for a group's tie only
    assert (paper["subset"] == "S1").equals(strict["subset"] == "S1")
    gained = strict["subset"].isin(["S2", "other"]) | (
        (strict["subset"] == "undetermined") & paper["truth"].notna()
    )
    assert (paper["subset"] == "S2").equals(gained)
    assert (strict["subset"] == "other").sum() > 20
    undetermined = strict["subset"] == "undetermined"
    assert (undetermined & (paper["subset"] == "S2")).sum() > 200
    # a perspective only on S2, and always one group name
    assert paper.loc[paper["subset"] != "S2", "perspective"].isna().all()
    assert set(paper["perspective"].dropna()) == {"F", "M"}


def test_majority_vote_and_group_consensus():
    table = _two_group_table()
    votes = majority_vote(table)
    assert votes.name == "label"
    assert votes["s2"] == "b" and pd.isna(votes["tie_truth"])
    by_group = majority_vote(table, by="rater_group")
    consensus = group_consensus(table)
    pd.testing.assert_frame_equal(by_group, consensus)
    assert list(consensus.columns) == ["F", "M"]
    assert consensus.columns.name == "rater_group"
    assert consensus.loc["s2"].tolist() == ["b", "a"]
    assert pd.isna(consensus.loc["tie_group", "M"])
    assert pd.isna(consensus.loc["no_group", "M"])


def test_perspective_labels_for_fairper():
    split = perspective_split(_two_group_table())
    labels = perspective_labels(split)
    assert list(labels.columns) == ["F", "M", "all"]
    assert labels.loc["s2"].tolist() == ["b", "a", "b"]
    assert pd.isna(labels.loc["tie_group", "M"])
    only_s2 = perspective_labels(split[split["subset"] == "S2"], include_truth=False)
    assert list(only_s2.columns) == ["F", "M"]
    assert list(only_s2.index) == ["no_group", "other", "s2", "tie_group"]
    assert only_s2.loc["no_group"].isna().tolist() == [False, True]
    renamed = perspective_labels(split, truth_name="truth")
    assert renamed["truth"].equals(split["truth"].rename("truth"))
    with pytest.raises(ValueError, match="truth_name='M' is also a rater group"):
        perspective_labels(split, truth_name="M")
    with pytest.raises(TypeError, match="include_truth must be a bool"):
        perspective_labels(split, include_truth="yes")


def _agreement_table():
    rows = []
    # truth "a": 3 items. M matches on i1, i2; F matches on i1, i3.
    rows += [("i1", "M", "a")] * 2 + [("i1", "F", "a")] * 2
    rows += [("i2", "M", "a")] * 3 + [("i2", "F", "b")] * 2  # S2, M
    rows += [("i3", "M", "b")] * 2 + [("i3", "F", "a")] * 3  # S2, F
    # truth "b": 2 items. M matches on i4 only; F on i4 and i5.
    rows += [("i4", "M", "b")] * 2 + [("i4", "F", "b")] * 2
    rows += [("i5", "M", "a")] * 2 + [("i5", "F", "b")] * 3  # S2, F
    # truth "b" but M ties: undetermined; F matches
    rows += [("i6", "M", "a"), ("i6", "M", "b")] + [("i6", "F", "b")] * 2
    return _long(rows)


def test_consensus_agreement_fig1_and_fig2_by_hand():
    # Fig. 2's non-consensus data: the groups' consensus labels differ
    split = perspective_split(_agreement_table(), method="strict")
    assert split["subset"].tolist() == ["S1", "S2", "S2", "S1", "S2", "undetermined"]
    fig1 = consensus_agreement(split)
    assert list(fig1.columns) == [
        "truth",
        "rater_group",
        "n_items",
        "n_match",
        "percent",
    ]
    assert fig1[["truth", "rater_group"]].values.tolist() == [
        ["a", "F"],
        ["a", "M"],
        ["b", "F"],
        ["b", "M"],
    ]
    # class b: F counted on i4, i5, i6 (3 matches); M on i4, i5 (i6 tied): 1 of 2
    assert fig1["n_items"].tolist() == [3, 3, 3, 2]
    assert fig1["n_match"].tolist() == [2, 2, 3, 1]
    np.testing.assert_allclose(fig1["percent"], [200 / 3, 200 / 3, 100.0, 50.0])

    fig2 = consensus_agreement(split, subset="S2")
    assert fig2["n_items"].tolist() == [2, 2, 1, 1]
    np.testing.assert_allclose(fig2["percent"], [50.0, 50.0, 100.0, 0.0])
    # the paper's S2 also holds i6, where M ties: F counts it, M does not
    paper = perspective_split(_agreement_table())
    assert paper["subset"].tolist() == ["S1", "S2", "S2", "S1", "S2", "S2"]
    pd.testing.assert_frame_equal(consensus_agreement(paper), fig1)
    paper_s2 = consensus_agreement(paper, subset="S2")
    assert paper_s2["n_items"].tolist() == [2, 2, 2, 1]
    assert paper_s2["n_match"].tolist() == [1, 1, 2, 0]
    s1 = consensus_agreement(split, subset=["S1"])
    np.testing.assert_allclose(s1["percent"], [100.0] * 4)
    with pytest.raises(ValueError, match="subset must be None or one or more of"):
        consensus_agreement(split, subset="undetermined")
    with pytest.raises(TypeError, match="split must be the DataFrame returned"):
        consensus_agreement(split.to_numpy())
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['subset'\]"):
        consensus_agreement(split.drop(columns="subset"))


def test_consensus_agreement_empty_class_gives_nan():
    split = perspective_split(_agreement_table())
    only_b = consensus_agreement(split[split.index.isin(["i6"])], subset=None)
    # i6: F has consensus b; M is tied, so M counts no item and its share is NaN
    assert only_b["n_items"].tolist() == [1, 0]
    assert only_b["percent"].iloc[0] == 100.0
    assert np.isnan(only_b["percent"].iloc[1])


def _krippendorff_2011():
    """The nominal example of Krippendorff (2011), 4 observers x 12 units."""
    nan = np.nan
    observers = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        "C": [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    }
    rows = [
        (unit + 1, observer, value)
        for observer, values in observers.items()
        for unit, value in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["item", "rater", "label"])


def test_krippendorff_alpha_textbook_value():
    # alpha = 0.743 for nominal data (Krippendorff 2011, section C)
    alpha = krippendorff_alpha(_krippendorff_2011(), rater="rater")
    assert alpha == pytest.approx(0.743421, abs=1e-6)


def _fleiss_1971_counts():
    """Fleiss' kappa worked example: 10 subjects, 14 raters, 5 categories."""
    counts = np.array(
        [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ]
    )
    table = pd.DataFrame(counts, columns=list("12345"))
    table["subject"] = range(1, 11)
    table["pool"] = "all raters"
    return from_vote_counts(
        table, item="subject", rater_group="pool", count_columns=list("12345")
    )


def test_fleiss_kappa_textbook_value():
    ratings = _fleiss_1971_counts()
    # P_bar = 0.378, P_e = 0.2128, kappa = 0.210
    assert fleiss_kappa(ratings, rater="rater") == pytest.approx(0.20993, abs=1e-5)
    stats = agreement_statistics(ratings, rater="rater", overall_name="pooled")
    assert list(stats.index) == ["all raters", "pooled"]
    assert stats.loc["pooled", "percent_agreement"] == pytest.approx(37.802, abs=1e-3)
    assert stats.loc["pooled", "mean_ratings_per_item"] == 14.0


def test_small_agreement_example_by_hand():
    # items (a,a), (b,b), (a,b): pair agreement 1, 1, 0 -> P = 2/3, P_e = 1/2,
    # kappa = 1/3; alpha = 1 - (6 - 1) * 2 / (36 - 18) = 4/9
    table = pd.DataFrame({"item": [1, 1, 2, 2, 3, 3], "label": list("aabbab")})
    assert fleiss_kappa(table) == pytest.approx(1 / 3)
    assert krippendorff_alpha(table) == pytest.approx(4 / 9)
    # one-rating items form no pair and change nothing
    padded = pd.concat([table, pd.DataFrame({"item": [4], "label": ["b"]})])
    assert krippendorff_alpha(padded) == pytest.approx(4 / 9)


def test_agreement_statistics_per_group_by_hand():
    table = _long(
        [
            (1, "M", "a"),
            (1, "M", "a"),
            (1, "F", "a"),
            (1, "F", "b"),
            (2, "M", "b"),
            (2, "M", "b"),
            (2, "F", "b"),
            (2, "F", "b"),
            (3, "F", "a"),
        ]
    )
    stats = agreement_statistics(table)
    assert list(stats.index) == ["F", "M", "all"]
    assert stats.index.name == "rater_group"
    assert stats["n_items"].tolist() == [3, 2, 3]
    assert stats["n_ratings"].tolist() == [5, 4, 9]
    assert stats["n_pairable_items"].tolist() == [2, 2, 2]
    # F pairs: item 1 disagrees, item 2 agrees -> 50 %; M agrees twice -> 100 %;
    # all: item 1 has a,a,a,b -> 6 of 12 ordered pairs agree, item 2 all agree
    np.testing.assert_allclose(stats["percent_agreement"], [50.0, 100.0, 75.0])
    assert stats.loc["M", "krippendorff_alpha"] == pytest.approx(1.0)
    assert stats.loc["all", "mean_ratings_per_item"] == pytest.approx(3.0)
    overall = agreement_statistics(table, rater_group=None)
    assert list(overall.index) == ["all"]
    pd.testing.assert_series_equal(overall.loc["all"], stats.loc["all"])


def test_agreement_undefined_cases_are_nan():
    one_label = pd.DataFrame({"item": [1, 1, 2, 2], "label": ["a"] * 4})
    assert np.isnan(fleiss_kappa(one_label))
    assert np.isnan(krippendorff_alpha(one_label))
    singletons = pd.DataFrame({"item": [1, 2], "label": ["a", "b"]})
    assert np.isnan(krippendorff_alpha(singletons))
    stats = agreement_statistics(singletons, rater_group=None)
    assert stats.loc["all", "n_pairable_items"] == 0
    assert np.isnan(stats.loc["all", "percent_agreement"])


def test_from_vote_counts_expands_and_round_trips():
    table = pd.DataFrame(
        {
            "clip": ["c1", "c1", "c2"],
            "pool": ["voice", "av", "voice"],
            "A": [2, 0, 1.0],
            "N": [1, 1, np.nan],
        }
    )
    long = from_vote_counts(
        table,
        item="clip",
        rater_group="pool",
        count_columns={"A": "anger", "N": "neutral"},
    )
    assert list(long.columns) == ["item", "rater", "rater_group", "label"]
    assert long["rater"].tolist() == [
        "voice#0",
        "voice#1",
        "voice#2",
        "av#0",
        "voice#0",
    ]
    assert long["label"].tolist() == ["anger", "anger", "neutral", "neutral", "anger"]
    back = long.groupby(["item", "rater_group", "label"]).size()
    assert back[("c1", "voice", "anger")] == 2
    assert back[("c2", "voice", "anger")] == 1
    assert len(back) == 4
    # the output feeds perspective_split with its defaults, rater ids unique per item
    split = perspective_split(long, rater="rater")
    assert split.loc["c1", "consensus_voice"] == "anger"
    # no av votes for c2: out of S1, and the truth leans to the voice raters
    assert split.loc["c2", ["subset", "perspective"]].tolist() == ["S2", "voice"]
    strict = perspective_split(long, rater="rater", method="strict")
    assert strict.loc["c2", "subset"] == "undetermined"


def test_from_vote_counts_bad_input():
    good = pd.DataFrame({"clip": ["c1"], "pool": ["v"], "A": [1], "N": [2]})
    kwargs = dict(item="clip", rater_group="pool", count_columns=["A", "N"])
    with pytest.raises(TypeError, match="table must be a pandas DataFrame"):
        from_vote_counts(good.to_numpy(), **kwargs)
    with pytest.raises(ValueError, match=r"count_columns\['X'\]"):
        from_vote_counts(
            good, item="clip", rater_group="pool", count_columns=["A", "X"]
        )
    with pytest.raises(ValueError, match="rater_group='group'"):
        from_vote_counts(good, item="clip", rater_group="group", count_columns=["A"])
    with pytest.raises(TypeError, match="count_columns must be a list"):
        from_vote_counts(good, item="clip", rater_group="pool", count_columns="A")
    with pytest.raises(ValueError, match="non-negative integer"):
        from_vote_counts(good.assign(A=-1), **kwargs)
    with pytest.raises(ValueError, match="non-negative integer"):
        from_vote_counts(good.assign(A=1.5), **kwargs)
    with pytest.raises(ValueError, match="non-negative integer"):
        from_vote_counts(good.assign(A="many"), **kwargs)
    with pytest.raises(ValueError, match="repeating an"):
        from_vote_counts(pd.concat([good, good]), **kwargs)
    with pytest.raises(ValueError, match="table is empty"):
        from_vote_counts(good.iloc[:0], **kwargs)
    with pytest.raises(ValueError, match=r"table\['pool'\] has 1 missing"):
        from_vote_counts(good.assign(pool=None), **kwargs)
    with pytest.raises(ValueError, match="same label twice"):
        from_vote_counts(
            good, item="clip", rater_group="pool", count_columns={"A": "x", "N": "x"}
        )


@pytest.mark.parametrize(
    "function",
    [
        perspective_split,
        majority_vote,
        group_consensus,
        agreement_statistics,
        krippendorff_alpha,
        fleiss_kappa,
    ],
)
def test_ratings_must_be_a_dataframe(function):
    with pytest.raises(TypeError, match="ratings must be a pandas DataFrame"):
        function(_two_group_table().to_numpy())


def test_bad_ratings_errors_name_the_problem():
    table = _two_group_table()
    with pytest.raises(ValueError, match=r"rater_group='gender'.*available columns"):
        perspective_split(table, rater_group="gender")
    with pytest.raises(ValueError, match=r"item='id', label='score'"):
        perspective_split(table, item="id", label="score")
    with pytest.raises(ValueError, match="ratings is empty"):
        perspective_split(table.iloc[:0])
    with pytest.raises(ValueError, match="has no non-missing label"):
        perspective_split(table.assign(label=np.nan))
    with pytest.raises(ValueError, match="at least 2 distinct rater groups"):
        perspective_split(table.assign(rater_group="M"))
    with pytest.raises(ValueError, match=r"ratings\['item'\] has 1 missing"):
        perspective_split(table.assign(item=table["item"].where(table.index > 0)))
    with pytest.raises(ValueError, match="must name different columns"):
        perspective_split(table, rater_group="label")


def test_duplicate_item_rater_pairs_raise_only_when_raters_are_named():
    table = _long([("u1", "M", "a"), ("u1", "F", "a"), ("u1", "M", "a")])
    table["rater"] = ["r1", "r2", "r1"]
    # without rater ids every row is one rating
    assert perspective_split(table).loc["u1", "n_ratings"] == 3
    with pytest.raises(ValueError, match=r"2 rows that repeat an \('item', 'rater'\)"):
        perspective_split(table, rater="rater")
    with pytest.raises(ValueError, match="missing rater identifiers"):
        majority_vote(table.assign(rater=[None, "r2", "r3"]), rater="rater")


def test_bad_truth():
    table = _two_group_table()
    with pytest.raises(TypeError, match="truth must be None .* or a pandas Series"):
        perspective_split(table, truth={"s1": "a"})
    with pytest.raises(ValueError, match="index repeats items"):
        perspective_split(table, truth=pd.Series(["a", "b"], index=["s1", "s1"]))


def test_disjoint_truth_warns_but_splits():
    table = _two_group_table()
    truth = pd.Series({"s1": "A", "s2": "B"})
    with pytest.warns(UserWarning, match=r"fall in 'S2' or 'undetermined'\. Map"):
        split = perspective_split(table, truth=truth)
    assert split.loc["s1", "subset"] == "S2"
    assert pd.isna(split.loc["s1", "perspective"])
    with pytest.warns(UserWarning, match="fall in 'other', 'S2' or 'undetermined'"):
        strict = perspective_split(table, truth=truth, method="strict")
    assert strict.loc["s1", "subset"] == "other"


def test_public_names():
    import fairrep.raters

    assert sorted(fairrep.raters.__all__) == sorted(
        [
            "SUBSETS",
            "agreement_statistics",
            "consensus_agreement",
            "fleiss_kappa",
            "from_vote_counts",
            "group_consensus",
            "krippendorff_alpha",
            "majority_vote",
            "perspective_labels",
            "perspective_split",
        ]
    )
    assert all(hasattr(fairrep.raters, name) for name in fairrep.raters.__all__)


def test_split_of_100k_ratings_has_the_right_shape():
    rng = np.random.default_rng(1)
    n = 100_000
    table = pd.DataFrame(
        {
            "item": rng.integers(0, 10_000, n),
            "rater_group": rng.choice(["F", "M"], n),
            "label": rng.choice(
                ["ang", "hap", "neu", "sad", "fru"], n, p=[0.4, 0.25, 0.15, 0.1, 0.1]
            ),
        }
    )
    split = perspective_split(table)
    assert len(split) == table["item"].nunique()
    assert split["n_ratings"].sum() == n
    assert (split["n_ratings_F"] + split["n_ratings_M"]).equals(split["n_ratings"])
    # with the truth voted over the groups' own raters, "other" cannot happen
    # in the strict split either: a label leading in every group leads in
    # their union
    strict = perspective_split(table, method="strict")
    assert (strict["subset"] == "other").sum() == 0
    s2 = strict[strict["subset"] == "S2"]
    assert s2["perspective"].isin(["F", "M"]).mean() > 0.9
    # the paper's split places every item with a voted truth
    assert (split["subset"] == "undetermined").equals(split["truth"].isna())
    paper_s2 = split[split["subset"] == "S2"]
    assert paper_s2["perspective"].isin(["F", "M"]).mean() > 0.9


@pytest.mark.parametrize("module", [_agreement, _consensus, _split, _vote_counts])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
