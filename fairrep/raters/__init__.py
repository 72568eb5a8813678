"""Multi-rater labels: consensus, rater-group perspectives and the S1/S2 split.

Tools for the rater side of Chien & Lee, "A Two-Stage Learning Strategy for
Fair Speech Emotion Recognition" (section 2.1): from a long table of ratings
(one row per item and rater, with the rater's group) they derive the ground
truth, each group's consensus, the perception-unbiased set S1 and the
perception-biased set S2, the statistics of Figs. 1 and 2, inter-rater
agreement, and the per-perspective targets of stage 2.
"""

from ._agreement import agreement_statistics, fleiss_kappa, krippendorff_alpha
from ._consensus import group_consensus, majority_vote
from ._split import (
    SUBSETS,
    consensus_agreement,
    perspective_labels,
    perspective_split,
)
from ._vote_counts import from_vote_counts

__all__ = [
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
