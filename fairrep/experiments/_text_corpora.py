"""Rated-text corpora as study inputs: re-exported from :mod:`fairrep.datasets`.

POPQUORN is one entry of :data:`~fairrep.datasets.CORPUS_REGISTRY`, loaded by
:func:`load_text_corpus` with a :class:`~fairrep.features.TextFeatures` front end.
"""

from ..datasets._corpus_builders import load_text_corpus
from ..datasets._corpus_features import TEXT_FEATURE_SETS
from ..datasets._registry import TEXT_CORPORA, check_text_features

__all__ = ["TEXT_CORPORA", "TEXT_FEATURE_SETS", "check_text_features", "load_text_corpus"]
