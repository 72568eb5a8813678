"""The paper's study as reusable code (Chien & Lee, section 3).

- :func:`run_stage1`, :func:`run_stage2`: Exp1 and Exp2 with
  session-independent folds, as long result tables;
- :func:`run_study`: the whole study on one corpus bundle (Tables 1-4, the
  grid search of alpha and lambda, Figs. 1, 2, 5, 6, the trade-off and the
  paper's claims checked against the numbers), and :func:`write_report` to
  write it as HTML, Markdown and JSON;
- :func:`load_corpus`, :func:`corpus_bundle`: corpora (synthetic, IEMOCAP,
  CREMA-D, Emo-DB, POPQUORN texts, any ratings table) with their features as
  study input;
- the figures :func:`plot_consensus_agreement`, :func:`plot_embeddings` and
  :func:`plot_tradeoff` (matplotlib, imported only when drawing).
"""

from ._claims import evaluate_claims
from ._configs import PAPER_GRID
from ._corpora import CORPORA, FEATURE_SETS, corpus_bundle, load_corpus
from ._figures import plot_consensus_agreement, plot_embeddings
from ._methods import ADAPTER_METHODS, DEFAULT_METHODS, STAGE1_METHODS, make_methods
from ._protocol import per_class_f1, run_stage1, run_stage2, session_folds, summarize
from ._report import write_report
from ._study import run_study
from ._tradeoff import plot_tradeoff

__all__ = [
    "ADAPTER_METHODS",
    "CORPORA",
    "DEFAULT_METHODS",
    "FEATURE_SETS",
    "PAPER_GRID",
    "STAGE1_METHODS",
    "corpus_bundle",
    "evaluate_claims",
    "load_corpus",
    "make_methods",
    "per_class_f1",
    "plot_consensus_agreement",
    "plot_embeddings",
    "plot_tradeoff",
    "run_stage1",
    "run_stage2",
    "run_study",
    "session_folds",
    "summarize",
    "write_report",
]
