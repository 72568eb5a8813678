"""fairrep.raters on real multi-rater corpora: CREMA-D vote counts and POPQUORN."""

import numpy as np
import pandas as pd
import pytest

from fairrep.raters import (
    agreement_statistics,
    consensus_agreement,
    from_vote_counts,
    group_consensus,
    perspective_split,
)

pytestmark = pytest.mark.real_data

CREMA_POOLS = {"1": "voice", "2": "face", "3": "audiovisual"}
CREMA_EMOTIONS = {
    "ANG": "A",
    "DIS": "D",
    "FEA": "F",
    "HAP": "H",
    "NEU": "N",
    "SAD": "S",
}
POPQUORN_COLUMNS = dict(
    item="instance_id", rater_group="gender", label="offensiveness", rater="user_id"
)


@pytest.fixture(scope="module")
def crema_votes(shared_data):
    votes = pd.read_csv(shared_data / "crema-d" / "tabulatedVotes.csv", dtype={0: str})
    row_id = votes.columns[0]
    votes["pool"] = votes[row_id].str[0].map(CREMA_POOLS)
    return votes


@pytest.fixture(scope="module")
def crema_ratings(crema_votes):
    return from_vote_counts(
        crema_votes, item="fileName", rater_group="pool", count_columns=list("ADFHNS")
    )


@pytest.fixture(scope="module")
def crema_truth(crema_votes):
    clips = pd.Index(crema_votes["fileName"].unique())
    acted = clips.str.split("_").str[2].map(CREMA_EMOTIONS)
    return pd.Series(np.asarray(acted, dtype=object), index=clips)


@pytest.fixture(scope="module")
def popquorn(shared_data):
    return pd.read_csv(shared_data / "popquorn" / "offensiveness_raw_data.csv")


def test_crema_counts_expand_to_one_row_per_vote(crema_votes, crema_ratings):
    assert crema_votes["pool"].value_counts().to_dict() == {
        "voice": 7442,
        "face": 7442,
        "audiovisual": 7442,
    }
    assert len(crema_ratings) == int(crema_votes[list("ADFHNS")].to_numpy().sum())
    assert len(crema_ratings) == 212_000
    assert crema_ratings["item"].nunique() == 7442


def test_crema_group_consensus_reproduces_published_votes(crema_votes, crema_ratings):
    consensus = group_consensus(crema_ratings, rater="rater")
    for pool in CREMA_POOLS.values():
        published = crema_votes.loc[crema_votes["pool"] == pool].set_index("fileName")
        ours = consensus[pool].reindex(published.index)
        tied = published["emoVote"].str.contains(":")
        # the corpus writes ties as "A:N"; a tie is no consensus (NaN) here
        assert ours[tied].isna().all()
        assert (ours[~tied] == published.loc[~tied, "emoVote"]).all()
    assert consensus.isna().sum().to_dict() == {
        "audiovisual": 420,
        "face": 470,
        "voice": 644,
    }


def _sizes(split):
    return split["subset"].value_counts().to_dict()


def _s2_perspectives(split):
    """Perspective counts on S2, ``"none"`` where the item has none."""
    on_s2 = split["subset"] == "S2"
    return split.loc[on_s2, "perspective"].fillna("none").value_counts().to_dict()


def test_crema_voice_vs_audiovisual_split(crema_ratings, crema_truth):
    two_pools = crema_ratings[
        crema_ratings["rater_group"].isin(["voice", "audiovisual"])
    ]
    # the paper's split: every clip has an acted emotion, so S1 + S2 is all
    split = perspective_split(two_pools, truth=crema_truth, rater="rater")
    assert _sizes(split) == {"S1": 2845, "S2": 4597, "undetermined": 0}
    on_s2 = split["subset"] == "S2"
    assert _s2_perspectives(split) == {"audiovisual": 3524, "voice": 834, "none": 239}
    assert split.loc[~on_s2, "perspective"].isna().all()

    strict = perspective_split(
        two_pools, truth=crema_truth, rater="rater", method="strict"
    )
    sizes = _sizes(strict)
    assert sizes == {"S1": 2845, "S2": 2644, "other": 930, "undetermined": 1023}
    assert sum(sizes.values()) == len(strict) == 7442
    assert strict["perspective"].value_counts().to_dict() == {
        "audiovisual": 2084,
        "voice": 163,
    }
    assert strict.loc[strict["subset"] != "S2", "perspective"].isna().all()
    # the paper's S2 is the strict S2 plus the 930 "other" and 1,023 clips
    # where a pool ties
    assert on_s2.sum() == 2644 + 930 + 1023

    fig1 = consensus_agreement(split).set_index(["truth", "rater_group"])
    pd.testing.assert_frame_equal(
        fig1, consensus_agreement(strict).set_index(["truth", "rater_group"])
    )
    assert fig1.loc[("N", "audiovisual"), ["n_items", "n_match"]].tolist() == [
        1063,
        1040,
    ]
    assert fig1.loc[("H", "voice"), ["n_items", "n_match"]].tolist() == [1141, 330]
    # seeing the face helps on every acted emotion but neutral
    gap = fig1["percent"].xs("audiovisual", level=1) - fig1["percent"].xs(
        "voice", level=1
    )
    assert (gap.drop("N") > 10).all() and abs(gap["N"]) < 1
    # Fig. 2: the clips where the pools' consensus labels differ
    fig2 = consensus_agreement(strict, subset="S2").set_index(["truth", "rater_group"])
    assert fig2.loc[("H", "voice"), ["n_items", "n_match"]].tolist() == [765, 4]
    assert fig2["n_items"].xs("voice", level=1).sum() == 2644


def test_crema_three_pools_and_voted_truth(crema_ratings, crema_truth):
    three = perspective_split(crema_ratings, truth=crema_truth)
    assert _sizes(three) == {"S1": 2442, "S2": 5000, "undetermined": 0}
    assert three["perspective"].value_counts().to_dict() == {
        "audiovisual": 1996,
        "face": 1641,
        "voice": 750,
    }
    strict = perspective_split(crema_ratings, truth=crema_truth, method="strict")
    assert _sizes(strict) == {
        "S1": 2442,
        "S2": 3008,
        "other": 592,
        "undetermined": 1400,
    }
    assert strict["perspective"].value_counts()["audiovisual,face"] == 1653
    two_pools = crema_ratings[
        crema_ratings["rater_group"].isin(["voice", "audiovisual"])
    ]
    # a voted truth is missing on the 346 clips whose majority is a tie
    voted = perspective_split(two_pools)
    assert _sizes(voted) == {"S1": 3775, "S2": 3321, "undetermined": 346}
    assert voted["truth"].isna().sum() == 346
    assert voted["perspective"].value_counts().to_dict() == {
        "audiovisual": 2228,
        "voice": 1061,
    }
    assert _sizes(perspective_split(two_pools, method="strict")) == {
        "S1": 3775,
        "S2": 2365,
        "other": 0,
        "undetermined": 1302,
    }


def test_crema_agreement_by_pool(crema_ratings):
    stats = agreement_statistics(crema_ratings)
    assert list(stats.index) == ["audiovisual", "face", "voice", "all"]
    assert stats["n_items"].tolist() == [7442] * 4
    assert stats.loc["voice", "krippendorff_alpha"] == pytest.approx(0.2811, abs=1e-4)
    assert stats.loc["audiovisual", "krippendorff_alpha"] == pytest.approx(
        0.4967, abs=1e-4
    )
    assert stats.loc["all", "fleiss_kappa"] == pytest.approx(0.3452, abs=1e-4)


def test_popquorn_men_vs_women_without_non_binary(popquorn):
    binary = popquorn[popquorn["gender"] != "Non-binary"]
    split = perspective_split(binary, **POPQUORN_COLUMNS)
    # only the 167 texts whose majority vote is a tie are left out
    assert _sizes(split) == {"S1": 729, "S2": 604, "undetermined": 167}
    assert split["truth"].isna().sum() == 167
    assert len(split) == 1500
    assert _s2_perspectives(split) == {"Woman": 297, "Man": 269, "none": 38}
    assert split["n_ratings"].sum() == len(binary) == 12_686
    strict = perspective_split(binary, **POPQUORN_COLUMNS, method="strict")
    assert _sizes(strict) == {"S1": 729, "S2": 166, "other": 0, "undetermined": 605}
    assert strict["perspective"].value_counts().to_dict() == {"Man": 84, "Woman": 82}


def test_popquorn_non_binary_as_third_group_or_truth_only(popquorn):
    three = perspective_split(popquorn, **POPQUORN_COLUMNS)
    # 7 non-binary raters rated 320 of the 1,500 texts: the others lack that
    # group's consensus, so they are in S2 (the paper's split) or
    # undetermined (the strict one)
    assert (three["n_ratings_Non-binary"] > 0).sum() == 320
    assert _sizes(three) == {"S1": 115, "S2": 1225, "undetermined": 160}
    s2 = three[three["subset"] == "S2"]
    assert (s2["n_ratings_Non-binary"] == 0).sum() == 1061
    assert _s2_perspectives(three) == {
        "Woman": 479,
        "Man": 448,
        "none": 226,
        "Non-binary": 72,
    }
    assert _sizes(perspective_split(popquorn, **POPQUORN_COLUMNS, method="strict")) == {
        "S1": 115,
        "S2": 53,
        "other": 0,
        "undetermined": 1332,
    }
    ungrouped = popquorn.assign(
        gender=popquorn["gender"].where(popquorn["gender"] != "Non-binary")
    )
    truth_only = perspective_split(ungrouped, **POPQUORN_COLUMNS)
    assert list(truth_only.attrs["rater_groups"]) == ["Man", "Woman"]
    assert _sizes(truth_only) == {"S1": 729, "S2": 611, "undetermined": 160}
    assert truth_only["perspective"].value_counts().to_dict() == {
        "Woman": 297,
        "Man": 276,
    }
    strict = perspective_split(ungrouped, **POPQUORN_COLUMNS, method="strict")
    assert _sizes(strict) == {"S1": 729, "S2": 173, "other": 0, "undetermined": 598}


def test_popquorn_agreement(popquorn):
    stats = agreement_statistics(popquorn, **POPQUORN_COLUMNS)
    assert stats.loc[["Man", "Non-binary", "Woman", "all"], "n_ratings"].tolist() == [
        6166,
        350,
        6520,
        13036,
    ]
    assert stats.loc["all", "krippendorff_alpha"] == pytest.approx(0.1339, abs=1e-4)
    assert stats.loc["Woman", "percent_agreement"] == pytest.approx(47.552, abs=1e-3)
