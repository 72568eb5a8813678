"""Corpora for the study: the simulated default corpus and real-corpus loaders.

:func:`make_rater_perspectives` draws a seeded, *simulated* multi-rater
speech-emotion corpus with the structure of IEMOCAP as used by Chien & Lee
(section 2.1): five emotions, sessions of a male and a female speaker, and
raters in two gender groups whose perception differs. It is the embedded
default of ``fairrep demo`` and of the tests.

The loaders read local copies of real corpora and return a
:class:`~sklearn.utils.Bunch` with an ``utterances`` table (indexed by ``id``;
``path``, ``speaker``, ``speaker_sex``, ``session``, ``truth``, ...) and, where
the corpus has them, a long ``ratings`` table (``item``, ``rater``,
``rater_group``, ``label``) for :mod:`fairrep.raters`:
:func:`load_iemocap`, :func:`load_crema_d`, :func:`load_emodb` and
:func:`load_emozionalmente`. :func:`load_popquorn` reads a text corpus the
same way: a ``texts`` table (``text``, ``fold``, ``truth``) and the ratings,
with the raters' gender as the rater group.

:func:`load_tabular` and :func:`split_tabular` give the real tabular sets
that ship inside PyPI wheels (German credit, Toronto arrests), for using
fairrep on tabular data; :func:`make_planted_bias` draws tabular data with
a planted group whose fair and accurate answer is known.

:data:`CORPUS_REGISTRY` names the corpora the study can load (one entry per
corpus: its kind, loader, feature sets and defaults), read by
:func:`fairrep.experiments.load_corpus` and the command line.
"""

from ._cremad import CREMA_D_POOLS, load_crema_d
from ._emodb import EMODB_EMOTIONS, EMODB_SPEAKERS, load_emodb
from ._emozionalmente import load_emozionalmente
from ._iemocap import IEMOCAP_CLASSES, load_iemocap
from ._planted import make_planted_bias
from ._popquorn import POPQUORN_LABEL_SCHEMES, load_popquorn
from ._registry import CORPUS_REGISTRY
from ._synthetic import EMOTIONS, IEMOCAP_CLASS_COUNTS, make_rater_perspectives
from ._tabular import TABULAR_DATASETS, load_tabular, split_tabular

__all__ = [
    "CORPUS_REGISTRY",
    "CREMA_D_POOLS",
    "EMODB_EMOTIONS",
    "EMODB_SPEAKERS",
    "EMOTIONS",
    "IEMOCAP_CLASSES",
    "IEMOCAP_CLASS_COUNTS",
    "POPQUORN_LABEL_SCHEMES",
    "TABULAR_DATASETS",
    "load_crema_d",
    "load_emodb",
    "load_emozionalmente",
    "load_iemocap",
    "load_popquorn",
    "load_tabular",
    "make_planted_bias",
    "make_rater_perspectives",
    "split_tabular",
]
