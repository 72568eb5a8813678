"""Baselines in one API: the paper's DNN, LFR and NRL; adapters to fairlearn, aif360.

Every estimator here takes ``fit(X, y, *, sensitive_features=None)`` and
``predict``, so the methods of the paper's comparison (Chien & Lee, section
3.1) and the peers from other libraries run through the same loop,
``Pipeline`` or ``GridSearchCV`` (with metadata routing) and through
:func:`compare_methods`.

The paper's baselines:

- :class:`DNNClassifier`: three fully connected layers, no fairness term.
- :class:`LFR`: Learned Fair Representations (Zemel et al., 2013) in torch.
- :class:`NRL`: an encoder with a Wasserstein critic (Feng et al., 2019),
  i.e. :class:`~fairrep.FairRep` without its group adversary.

Adapters (one module per library, on one base class that validates the
input, requires the groups and fixes the fit/predict skeleton), named after
the library and the method they wrap:

- :class:`FairlearnAdversarial`: fairlearn's ``AdversarialFairnessClassifier``.
- :class:`FairlearnPrototype`: fairlearn's ``PrototypeRepresentationLearner``.
- :class:`AIF360LFR`: aif360's ``sklearn.preprocessing.LearnedFairRepresentations``.
- :class:`AIF360ClassicLFR`: aif360's ``algorithms.preprocessing.LFR``.
- :class:`ExponentiatedGradientClassifier`: fairlearn's ``ExponentiatedGradient``
  reduction with ``DemographicParity``.

:func:`is_degenerate` tells whether a classifier predicts one class only, a
"fair" result that means nothing; :func:`compare_methods` flags it.
"""

from ._aif360 import AIF360LFR, AIF360ClassicLFR
from ._compare import compare_methods, is_degenerate
from ._dnn import DNNClassifier
from ._fairlearn import (
    ExponentiatedGradientClassifier,
    FairlearnAdversarial,
    FairlearnPrototype,
)
from ._lfr import LFR
from ._nrl import NRL

__all__ = [
    "AIF360LFR",
    "LFR",
    "NRL",
    "AIF360ClassicLFR",
    "DNNClassifier",
    "ExponentiatedGradientClassifier",
    "FairlearnAdversarial",
    "FairlearnPrototype",
    "compare_methods",
    "is_degenerate",
]
