"""Corpora as study inputs: re-exported from :mod:`fairrep.datasets`.

The corpus registry (:data:`~fairrep.datasets.CORPUS_REGISTRY`), the study
bundle (:func:`corpus_bundle`) and :func:`load_corpus` live in
:mod:`fairrep.datasets`; the study imports them from here.
"""

# The names besides __all__ are those the study modules import from here.
from ..datasets._bundle import (  # noqa: F401
    MAX_SESSIONS,
    N_SPEAKER_FOLDS,
    corpus_bundle,
    pair_speakers,
)
from ..datasets._bundle import subsample as _subsample  # noqa: F401
from ..datasets._corpus_features import (  # noqa: F401
    FEATURE_SETS,
    read_precomputed_features,
)
from ..datasets._registry import CORPORA, load_corpus

__all__ = ["CORPORA", "FEATURE_SETS", "corpus_bundle", "load_corpus"]
