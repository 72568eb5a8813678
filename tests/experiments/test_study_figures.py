"""The study's Fig. 2 is drawn on the paper's non-consensus data (the strict S2)."""

from types import SimpleNamespace

import pandas as pd

from fairrep.datasets import make_rater_perspectives
from fairrep.experiments._study_figures import agreement_of
from fairrep.raters import consensus_agreement, perspective_split


def test_fig2_uses_the_items_where_the_groups_consensus_differs():
    corpus = make_rater_perspectives(600, random_state=0)
    paper = perspective_split(corpus.ratings)
    strict = perspective_split(corpus.ratings, method="strict")
    groups = list(paper.attrs.get("rater_groups") or [
        c.removeprefix("consensus_") for c in paper.columns if c.startswith("consensus_")])
    data = SimpleNamespace(has_raters=True, split=paper, groups=groups)
    agreement = agreement_of(data)
    # the paper's S2 has items the strict one leaves out (a group's tie, ...)
    assert (paper["subset"] == "S2").sum() > (strict["subset"] == "S2").sum()
    pd.testing.assert_frame_equal(agreement["S2"],
                                  consensus_agreement(strict, subset="S2"))
    pd.testing.assert_frame_equal(agreement["all"], consensus_agreement(paper))
