"""How each kind of corpus becomes a study bundle: simulated, speech, text, table.

The builders behind :func:`~fairrep.datasets._registry.load_corpus`: each
takes a corpus entry of :data:`~fairrep.datasets.CORPUS_REGISTRY` and the
load options, reads the corpus, describes its items with a front end of
:mod:`._corpus_features` and returns :func:`~._bundle.corpus_bundle`'s bundle.
"""

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._bundle import corpus_bundle, subsample
from ._corpus_features import (
    read_precomputed_features,
    read_user_table,
    speech_features,
    text_features,
)
from ._synthetic import make_rater_perspectives

__all__ = ["build_simulated", "build_speech", "build_table", "build_text"]


def build_simulated(entry, options):
    """The embedded simulated corpus (``options.n_samples`` items, its own features)."""
    if options.features is not None:
        raise ValueError(
            "the synthetic corpus comes with its own simulated features; leave "
            f"features=None (got {options.features!r})."
        )
    n_samples, random_state = options.n_samples, options.random_state

    corpus = make_rater_perspectives(n_samples, random_state=random_state)
    info = corpus.item_info
    truth = corpus.truth.loc[info.index]
    keep = subsample(info.index, options.max_items, random_state)
    rows = info.index.get_indexer(keep)
    return corpus_bundle(
        corpus.data[rows],
        truth=truth.loc[keep],
        ratings=corpus.ratings,
        item_info=info.loc[keep],
        sessions=corpus.sessions[rows],
        speakers=corpus.speakers[rows],
        group_column="rater_group",
        name="synthetic",
        feature_set="simulated",
        description=(
            "SIMULATED multi-rater corpus (fairrep.datasets.make_rater_perspectives): "
            "IEMOCAP-like sizes, five emotions, 5 sessions of a male and a female "
            "speaker, 2 male and 4 female raters; not real speech."
        ),
        notes=[(
            "The data are SIMULATED (make_rater_perspectives), not IEMOCAP: "
            "the numbers show the method's behaviour, not the paper's results."
        )],
        meta={"n_samples": int(n_samples), "corpus_random_state": random_state},
        normalize_speakers=options.normalize_speakers,
    )


def _require_data_home(entry, options):
    if options.data_home is None:
        raise ValueError(f"the {entry.name} corpus needs data_home (the corpus folder).")


def build_speech(entry, options):
    """A speech corpus: ``entry.read`` it, run the speech front end, bundle it.

    ``entry.study_inputs(data, info)`` gives the corpus's own arguments of
    :func:`~._bundle.corpus_bundle` (ratings, sessions, group column, notes,
    extra ``meta``).
    """
    _require_data_home(entry, options)
    features = options.features or entry.default_features
    data = entry.read(options.data_home, options.rater_groups)
    info = data.utterances
    items = subsample(info.index, options.max_items, options.random_state)
    X, _ = speech_features(
        info.index, items, info.loc[items], features, corpus=entry.name,
        features_file=options.features_file, checkpoint=options.checkpoint,
        model=options.model, cache_dir=options.cache_dir, device=options.device,
        progress_bar=options.progress_bar,
    )
    info = info.loc[items]
    inputs = entry.study_inputs(data, info)
    meta = {"data_home": str(options.data_home), **inputs.pop("meta", {}),
            "max_items": options.max_items}
    return corpus_bundle(
        X, truth=info["truth"], item_info=info, speakers=info["speaker"].to_numpy(),
        name=entry.name, feature_set=features, description=data.DESCR, meta=meta,
        normalize_speakers=options.normalize_speakers, **inputs,
    )


def build_text(entry, options):
    """A rated-text corpus: load it, describe its texts and bundle it for the study.

    Calls :func:`~fairrep.datasets.load_popquorn` (binary labels: 1 against
    2-5; raters' self-reported gender as rater groups, Non-binary raters
    left out unless ``rater_groups`` names them), takes a seeded subset of
    ``max_items`` texts, describes the texts with
    :class:`~fairrep.features.TextFeatures` (fitted on the texts studied;
    it sees no label) and bundles them with the loader's five item-disjoint
    folds as the sessions of the session-independent cross-validation
    (section 3.1 of Chien & Lee). Texts have no speaker, so no per-speaker
    normalisation applies; the text features are z-scored as a whole.

    ``options.features``: ``"tfidf"`` (None; TF-IDF of character 2-4-grams
    and SVD to 64 dimensions, no weights), ``"sentence"`` (a local encoder in
    ``options.model``) or ``"precomputed"`` (``options.features_file``, rows
    in the loader's order or matched by text id); ``options.rater_groups``:
    the genders kept as rater groups (None: ``("Man", "Woman")``).
    """
    _require_data_home(entry, options)
    name, features = entry.name, options.features or entry.default_features
    rater_groups, max_items = options.rater_groups, options.max_items
    if features == "sentence" and options.model is None:
        raise ValueError("features='sentence' needs model (a local transformers or "
                         "sentence-transformers folder).")
    if isinstance(rater_groups, Mapping):
        raise TypeError(
            f"rater_groups of {name} names the raters' genders kept as groups (e.g. "
            f"['Man', 'Woman', 'Non-binary']), not a mapping; got {dict(rater_groups)!r}.")
    data = entry.read(options.data_home, rater_groups)
    all_items = data.texts.index
    items = subsample(all_items, max_items, options.random_state)
    texts = data.texts.loc[items]
    X, front = text_features(
        all_items, items, texts, features, features_file=options.features_file,
        model=options.model, cache_dir=options.cache_dir, device=options.device,
        progress_bar=options.progress_bar,
    )
    return corpus_bundle(
        X, truth=texts["truth"], ratings=data.ratings, item_info=texts,
        sessions=texts["fold"].to_numpy(), group_column="rater_group",
        name=name, feature_set=features, description=data.DESCR,
        notes=[
            (f"Real texts and real rater gender ({', '.join(data.rater_groups)}); labels "
             f"binned by the {data.label_scheme} scheme ({' / '.join(data.classes)}: "
             "offensiveness 1 against 2-5); the truth is the majority vote of the kept "
             "ratings."),
            (f"Text features: {front}. The folds are the loader's five seeded, "
             "truth-stratified, item-disjoint folds (no speaker or session)."),
            *data.notes,
        ],
        meta={"data_home": str(options.data_home), "rater_groups": list(data.rater_groups),
              "label_scheme": data.label_scheme, "max_items": max_items},
    )


def build_table(entry, options):
    """A long ratings table ``options.ratings_file`` with a precomputed feature matrix."""
    ratings_file, features_file = options.ratings_file, options.features_file
    features = options.features or entry.default_features
    item_column, group_column = options.item_column, options.group_column
    label_column, rater_column = options.label_column, options.rater_column
    truth_column, speaker_column = options.truth_column, options.speaker_column
    session_column = options.session_column
    max_items, random_state = options.max_items, options.random_state
    if ratings_file is None:
        raise ValueError("the table corpus needs ratings_file (a long ratings table).")
    if features != "precomputed":
        raise ValueError(
            f"the table corpus has no audio; use features='precomputed' with "
            f"features_file (got features={features!r})."
        )
    table = read_user_table(ratings_file, "ratings_file")
    needed = {"item_column": item_column, "group_column": group_column,
              "label_column": label_column}
    optional = {"rater_column": rater_column, "truth_column": truth_column,
                "speaker_column": speaker_column, "session_column": session_column}
    for argument, column in {**needed, **{k: v for k, v in optional.items() if v}}.items():
        if column not in table.columns:
            raise ValueError(
                f"ratings_file has no column {column!r} ({argument}); its columns are "
                f"{list(table.columns)}."
            )
    table = table.assign(**{item_column: table[item_column].astype(str)})
    ratings = pd.DataFrame({
        "item": table[item_column],
        "rater_group": table[group_column],
        "label": table[label_column],
    })
    if rater_column:
        ratings["rater"] = table[rater_column].astype(str)
    per_item = table.groupby(item_column, sort=False)
    items = pd.Index(per_item.size().index, name="item")
    info = pd.DataFrame(index=items)

    def constant(column, argument):
        counts = per_item[column].nunique(dropna=True)
        if (counts > 1).any():
            raise ValueError(
                f"{argument}={column!r} must have one value per item; item "
                f"{counts.index[counts > 1][0]!r} has {int(counts.max())}."
            )
        return per_item[column].first().reindex(items)

    if truth_column:
        truth = constant(truth_column, "truth_column")
    else:
        from ..raters import majority_vote

        truth = majority_vote(ratings).reindex(items)
    speakers = sessions = None
    if speaker_column:
        info["speaker"] = constant(speaker_column, "speaker_column").astype(str)
    if session_column:
        info["session"] = constant(session_column, "session_column").astype(str)
    X, _ = read_precomputed_features(features_file, items, item_column=None)
    kept = subsample(items, max_items, random_state)
    X = X[items.get_indexer(kept)]
    items = kept
    info = info.loc[items]
    truth = truth.loc[items]
    if "speaker" in info:
        speakers = info["speaker"].to_numpy()
    if "session" in info:
        sessions = info["session"].to_numpy()
    notes = []
    if sessions is None and speakers is None:
        rng = check_random_state(random_state)
        sessions = np.array([f"fold{i + 1}" for i in rng.permutation(len(items)) % 5],
                            dtype=object)
        notes.append(
            "The ratings table names no session or speaker: items are dealt into 5 "
            "random folds, so the folds are not speaker independent."
        )
    if truth.isna().any():
        warnings.warn(
            f"{int(truth.isna().sum())} item(s) have no truth (tied vote); the study "
            "leaves them out.", UserWarning, stacklevel=3,
        )
    return corpus_bundle(
        X, truth=truth.astype(object), ratings=ratings, item_info=info,
        sessions=sessions, speakers=speakers, group_column=group_column,
        name="table", feature_set="precomputed",
        description=f"Ratings table {Path(ratings_file).name} with precomputed features.",
        notes=notes,
        meta={"ratings_file": str(ratings_file), "features_file": str(features_file)},
        normalize_speakers=options.normalize_speakers,
    )
