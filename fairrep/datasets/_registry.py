"""The corpora the study can load, one registry entry each, and :func:`load_corpus`.

:data:`CORPUS_REGISTRY` maps a corpus name to a :class:`CorpusEntry`: what
kind of data it holds, the feature sets it takes and its default, whether it
needs a local folder, its loader and what it gives the study bundle
(ratings, folds, sensitive group, notes), so that the command line can read
its choices and checks from it; :func:`load_corpus` dispatches on it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sklearn.utils import Bunch

from ._bundle import pair_speakers
from ._corpus_builders import build_simulated, build_speech, build_table, build_text
from ._corpus_features import (
    FEATURE_SETS,
    SPEECH_FEATURE_SETS,
    TEXT_FEATURE_SETS,
)
from ._cremad import load_crema_d
from ._emodb import load_emodb
from ._iemocap import load_iemocap
from ._popquorn import load_popquorn

__all__ = [
    "CORPORA",
    "CORPUS_REGISTRY",
    "FEATURE_SETS",
    "TEXT_CORPORA",
    "CorpusEntry",
    "check_text_features",
    "load_corpus",
]


@dataclass(frozen=True)
class CorpusEntry:
    """What the study knows about one corpus.

    Parameters
    ----------
    name : str
    kind : {"simulated", "speech", "text", "table"}
    build : callable
        ``build(entry, options) -> bundle``, ``options`` holding the
        arguments of :func:`load_corpus`.
    feature_sets : tuple of str
        The feature sets it takes (empty: it brings its own features).
    default_features : str or None
        The feature set used when none is given.
    needs_data_home : bool
        Whether it is read from a local folder.
    needs_rater_groups : bool
        Whether ``rater_groups`` must be given (no default grouping exists).
    read : callable or None
        ``read(data_home, rater_groups)``: the loader of :mod:`fairrep.datasets`
        (``rater_groups=None``: the loader's default groups).
    study_inputs : callable or None
        Speech corpora: ``study_inputs(data, item_info)``, the corpus's own
        arguments of :func:`~fairrep.datasets._bundle.corpus_bundle`
        (``ratings``, ``sessions``, ``group_column``, ``notes``, extra ``meta``).
    """

    name: str
    kind: str
    build: Callable
    feature_sets: tuple = ()
    default_features: str = None
    needs_data_home: bool = False
    needs_rater_groups: bool = False
    read: Callable = None
    study_inputs: Callable = None


def _read_iemocap(data_home, rater_groups):
    if rater_groups is None:
        raise ValueError(
            "the iemocap corpus needs rater_groups: a mapping of every evaluator (E1, "
            "E2, ...) to its group; no public source names their genders."
        )
    return load_iemocap(data_home, rater_groups=rater_groups)


def _iemocap_inputs(data, info):
    return {
        "ratings": data.ratings,
        "sessions": info["session"].to_numpy(),
        "group_column": "rater_group",
        "notes": ["The evaluators' groups come from the rater_groups mapping given."],
    }


def _read_crema_d(data_home, rater_groups):
    if rater_groups is None:  # the loader's default pools
        return load_crema_d(data_home)
    return load_crema_d(data_home, rater_groups=rater_groups)


def _crema_d_inputs(data, info):
    return {
        "ratings": data.ratings,
        "group_column": "rater_group",
        "notes": [(
            "CREMA-D publishes no rater gender; the rater groups are its rater "
            f"pools ({', '.join(data.rater_groups)}), who perceived each clip "
            "through different channels. The truth is the acted emotion. "
            f"Ratings source: {data.ratings_source}."
        )],
        "meta": {"rater_groups": list(data.rater_groups)},
    }


def _read_emodb(data_home, rater_groups):
    return load_emodb(data_home)


def _emodb_inputs(data, info):
    return {
        "ratings": None,
        "sessions": pair_speakers(info["speaker"], info["speaker_sex"]),
        "group_column": "speaker_sex",
        "notes": [(
            "Emo-DB has one acted label per utterance and no per-rater labels: "
            "there are no rater groups, no S1/S2 split and no perspective labels, "
            "so Exp2 (FairPer, Tables 3-4) and Figs. 1-2 are skipped. Exp1 uses "
            "speaker sex as the sensitive group and all test items for the parity "
            "gap. The folds are speaker independent: the 10 speakers are paired "
            "into 5 sessions of one male and one female speaker (like IEMOCAP's), "
            "so that every test fold holds both sexes."
        )],
    }


def _read_popquorn(data_home, rater_groups):
    if rater_groups is None:  # the loader's default genders
        return load_popquorn(data_home)
    return load_popquorn(data_home, groups=rater_groups)


_SPEECH = {
    "kind": "speech",
    "build": build_speech,
    "feature_sets": SPEECH_FEATURE_SETS + ("precomputed",),
    "default_features": "egemaps",
    "needs_data_home": True,
}

#: The corpora :func:`load_corpus` knows, by name.
CORPUS_REGISTRY = {
    entry.name: entry
    for entry in (
        CorpusEntry("synthetic", kind="simulated", build=build_simulated),
        CorpusEntry(
            "iemocap", **_SPEECH, needs_rater_groups=True, read=_read_iemocap,
            study_inputs=_iemocap_inputs,
        ),
        CorpusEntry(
            "crema-d", **_SPEECH, read=_read_crema_d, study_inputs=_crema_d_inputs
        ),
        CorpusEntry("emodb", **_SPEECH, read=_read_emodb, study_inputs=_emodb_inputs),
        CorpusEntry(
            "popquorn", kind="text", build=build_text,
            feature_sets=TEXT_FEATURE_SETS + ("precomputed",), default_features="tfidf",
            needs_data_home=True, read=_read_popquorn,
        ),
        CorpusEntry(
            "table", kind="table", build=build_table, feature_sets=("precomputed",),
            default_features="precomputed",
        ),
    )
}

#: The corpora :func:`load_corpus` knows.
CORPORA = tuple(CORPUS_REGISTRY)

#: The corpora of rated texts.
TEXT_CORPORA = tuple(name for name, entry in CORPUS_REGISTRY.items() if entry.kind == "text")


def check_text_features(name, features):
    """Why ``features`` cannot describe corpus ``name``, or None when it can.

    Texts take a text front end (or a precomputed matrix); speech corpora
    take a speech one.

    Parameters
    ----------
    name : str
        A corpus of :data:`CORPORA`.
    features : str or None
        A feature set of :data:`FEATURE_SETS`.

    Returns
    -------
    problem : str or None
    """
    if features is None:
        return None
    if name in TEXT_CORPORA and features not in TEXT_FEATURE_SETS + ("precomputed",):
        return (f"the {name} corpus holds texts: features must be one of "
                f"{TEXT_FEATURE_SETS + ('precomputed',)}; got {features!r}.")
    if name not in TEXT_CORPORA and features in TEXT_FEATURE_SETS:
        return (f"features={features!r} is a text front end, for "
                f"{' or '.join(TEXT_CORPORA)}; the {name} corpus needs another.")
    return None


def load_corpus(
    name,
    *,
    data_home=None,
    features=None,
    features_file=None,
    checkpoint=None,
    model=None,
    cache_dir=None,
    device="cpu",
    rater_groups=None,
    max_items=None,
    n_samples=3000,
    random_state=0,
    normalize_speakers=True,
    progress_bar=None,
    ratings_file=None,
    item_column="item",
    group_column="rater_group",
    label_column="label",
    rater_column=None,
    truth_column=None,
    speaker_column=None,
    session_column=None,
):
    """Load a supported corpus and its features as a study bundle.

    Parameters
    ----------
    name : {"synthetic", "iemocap", "crema-d", "emodb", "popquorn", "table"}
        - ``"synthetic"``: the embedded simulated corpus
          (:func:`~fairrep.datasets.make_rater_perspectives`, ``n_samples``
          items, its own features; ``features`` must be None).
        - ``"iemocap"``: :func:`~fairrep.datasets.load_iemocap` on
          ``data_home``; ``rater_groups`` must map every evaluator to a group
          (no public source names their genders). Folds: the 5 sessions.
        - ``"crema-d"``: :func:`~fairrep.datasets.load_crema_d` on
          ``data_home``; the rater groups are its rater pools
          (``rater_groups``, default voice-only vs audio-visual) and the
          truth the acted emotion. Folds: the 91 actors packed into 5
          speaker-disjoint folds.
        - ``"emodb"``: :func:`~fairrep.datasets.load_emodb`. Emo-DB has one
          acted label per utterance and no per-rater labels, so the study
          runs stage 1 only (Exp2 needs rater groups), with speaker sex as
          the sensitive group; folds: the 10 speakers paired into 5 sessions
          of one male and one female speaker (:func:`~fairrep.datasets._bundle.pair_speakers`).
        - ``"popquorn"``: rated texts with rater gender, described by a text
          front end (``features``: ``"tfidf"``, ``"sentence"`` with
          ``model``); see :func:`~fairrep.datasets._corpus_builders.build_text`.
        - ``"table"``: any long ratings table ``ratings_file`` (CSV, TSV or
          Parquet; one row per rating with ``item_column``,
          ``group_column``, ``label_column``, optionally ``rater_column``,
          ``truth_column``, ``speaker_column``, ``session_column``) and a
          precomputed feature matrix. The truth is ``truth_column`` (one
          value per item) or the majority vote of all ratings. Without
          sessions or speakers, items are dealt into 5 random folds.
    data_home : str or path-like, default=None
        The corpus folder (required for iemocap, crema-d and emodb).
    features : {"egemaps", "vq-wav2vec", "ssl", "tfidf", "sentence", \
"precomputed"}, default=None
        The front end: :class:`~fairrep.features.EGeMAPS` (default for audio
        corpora), :class:`~fairrep.features.VQWav2Vec` (``checkpoint``),
        :class:`~fairrep.features.SSLFeatures` (``model``), for texts
        :class:`~fairrep.features.TextFeatures` (``"tfidf"``, the default, or
        ``"sentence"`` with ``model``) or a matrix in
        ``features_file`` (see
        :func:`~fairrep.datasets._corpus_features.read_precomputed_features`). Extracted
        features are cached in ``cache_dir``, so a rerun reuses them.
    features_file, checkpoint, model : str or path-like, default=None
    cache_dir : str or path-like, default=None
        Feature cache folder (:class:`~fairrep.features.FeatureCache`); None
        disables caching.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where the neural featurizers run.
    rater_groups : mapping or sequence of str, default=None
        iemocap: evaluator -> group mapping (``{"E1": "female", ...}``);
        crema-d: the pools (``["voice", "audiovisual"]``); popquorn: the
        genders kept (``["Man", "Woman", "Non-binary"]``). The command line
        parses ``--rater-groups`` text into these.
    max_items : int, default=None
        Keep a seeded random subset of this many items (before feature
        extraction), for quick runs.
    n_samples : int, default=3000
        Size of the synthetic corpus.
    random_state : int, default=0
        Seed of the synthetic corpus and of the subsets.
    normalize_speakers : bool, default=True
        Per-speaker z-normalisation (section 2.2.1).
    progress_bar : bool or None, default=None
        Progress bar of the featurizers.
    ratings_file, item_column, group_column, label_column, rater_column, \
truth_column, speaker_column, session_column
        The ``"table"`` corpus.

    Returns
    -------
    bundle : sklearn.utils.Bunch
        See :func:`~fairrep.datasets._bundle.corpus_bundle`.
    """
    options = Bunch(**locals())
    if name not in CORPORA:
        raise ValueError(f"name must be one of {CORPORA}; got {name!r}.")
    if features is not None and features not in FEATURE_SETS:
        raise ValueError(f"features must be one of {FEATURE_SETS} or None; got {features!r}.")
    problem = check_text_features(name, features)
    if problem is not None:
        raise ValueError(problem)
    if isinstance(rater_groups, str):
        raise ValueError(
            "rater_groups must be a mapping (iemocap: evaluator -> group) or a sequence "
            f"of group names, not a string; got {rater_groups!r}."
        )
    entry = CORPUS_REGISTRY[name]
    return entry.build(entry, options)
