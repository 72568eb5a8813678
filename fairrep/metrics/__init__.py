"""Fairness metrics of the paper (section 3.1) and scikit-learn scorers built on them."""

from ._embedding import group_energy_distance
from ._fairness import consistency_score, statistical_parity_score
from ._scorers import (
    consistency_scorer,
    embedding_consistency_scorer,
    make_consistency_scorer,
    make_statistical_parity_scorer,
    statistical_parity_scorer,
)

__all__ = [
    "statistical_parity_score",
    "consistency_score",
    "make_statistical_parity_scorer",
    "make_consistency_scorer",
    "statistical_parity_scorer",
    "consistency_scorer",
    "embedding_consistency_scorer",
    "group_energy_distance",
]
