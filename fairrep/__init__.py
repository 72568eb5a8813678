"""fairrep: fair representations and rater perspectives for scikit-learn.

Implements the two-stage strategy of Chien & Lee, "A Two-Stage Learning
Strategy for Fair Speech Emotion Recognition": a fairness-constrained
adversarial representation (:class:`FairRep`, stage 1) and a
perspective-switchable classifier on top of it (:class:`FairPer`, stage 2),
with the fairness metrics, multi-rater label tools, baselines and speech
front end the study needs.
"""

__version__ = "0.1.0.dev0"

from .perspective import FairPer  # noqa: E402
from .representation import FairRep  # noqa: E402
from .model_selection import FairnessTolerance, fairness_tolerance_refit  # noqa: E402

__all__ = ["FairPer", "FairRep", "FairnessTolerance", "fairness_tolerance_refit",
           "__version__"]
