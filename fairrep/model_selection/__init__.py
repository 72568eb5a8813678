"""Model selection under a fairness tolerance: "the best model with parity at most t".

- :func:`fairness_tolerance_refit`: a ``refit`` rule for scikit-learn's
  ``GridSearchCV``, ``RandomizedSearchCV`` and ``HalvingGridSearchCV``.
- :class:`FairnessTolerance`: walks a path of fairness weights (FairRep's
  :math:`\\alpha` or adversary weight of eq. 1) on a validation set.
"""

from ._refit import fairness_tolerance_refit
from ._scoring import constant_prediction_scorer
from ._tolerance import FairnessTolerance

__all__ = [
    "FairnessTolerance",
    "constant_prediction_scorer",
    "fairness_tolerance_refit",
]
