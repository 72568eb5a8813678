"""Stage 1: fair representations (section 2.2.2 of Chien & Lee).

:class:`FairRep` learns an embedding from which an adversary cannot recover
the sensitive group and in which the groups' distributions are close in
Wasserstein distance (eq. 1). :func:`group_distance` and the distance
functions are the differentiable :math:`L_D` candidates it uses.
"""

from ._distances import (
    DISTANCES,
    exact_wasserstein,
    group_distance,
    sinkhorn_divergence,
    sliced_wasserstein,
)
from ._fairrep import FairRep

__all__ = [
    "DISTANCES",
    "FairRep",
    "exact_wasserstein",
    "group_distance",
    "sinkhorn_divergence",
    "sliced_wasserstein",
]
