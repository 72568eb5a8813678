"""Corpora for the study: the simulated default corpus and its constants.

:func:`make_rater_perspectives` draws a seeded, *simulated* multi-rater
speech-emotion corpus with the structure of IEMOCAP as used by Chien & Lee
(section 2.1): five emotions, sessions of a male and a female speaker, and
raters in two gender groups whose perception differs. It is the embedded
default of ``fairrep demo`` and of the tests.
"""

from ._synthetic import EMOTIONS, IEMOCAP_CLASS_COUNTS, make_rater_perspectives

__all__ = ["EMOTIONS", "IEMOCAP_CLASS_COUNTS", "make_rater_perspectives"]
