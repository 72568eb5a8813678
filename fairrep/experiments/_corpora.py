"""Corpora as study inputs: features, ratings, truth, folds and groups in one bundle.

:func:`run_study <fairrep.experiments.run_study>` takes one *corpus bundle*,
a :class:`~sklearn.utils.Bunch` built by :func:`corpus_bundle` (from your own
arrays) or by :func:`load_corpus` (from a supported corpus and a feature
extractor). A bundle holds, aligned item by item:

- ``X``: the features, z-normalised per speaker where speakers are known
  (section 2.2.1 of Chien & Lee);
- ``truth``: the ground-truth label of each item;
- ``ratings``: the long table of ratings (``item``, ``rater_group``,
  ``label``, optionally ``rater``), or None for a corpus without per-rater
  labels;
- ``item_info``: per-item metadata (speaker, speaker sex, session, ...);
- ``sessions``: the groups of the session-independent cross-validation;
- ``speakers``; ``group_column``: the rater-group column of ``ratings`` or,
  without ratings, the column of ``item_info`` holding the sensitive group;
- ``name``, ``feature_set``, ``description``, ``notes`` and ``meta``.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from ..exceptions import CorpusFormatError
from ..utils._validation import is_missing

__all__ = ["CORPORA", "FEATURE_SETS", "corpus_bundle", "load_corpus"]

#: The corpora :func:`load_corpus` knows.
CORPORA = ("synthetic", "iemocap", "crema-d", "emodb", "popquorn", "table")

#: The feature extractors :func:`load_corpus` knows.
FEATURE_SETS = ("egemaps", "vq-wav2vec", "ssl", "tfidf", "sentence", "precomputed")

#: Above this many sessions (or speakers, for corpora without sessions) the
#: speakers are packed into :data:`N_SPEAKER_FOLDS` speaker-disjoint folds, so
#: that a 91-actor corpus does not need 91 folds.
MAX_SESSIONS = 10
N_SPEAKER_FOLDS = 5

_RATING_COLUMNS = ("item", "rater_group", "label")


def _as_item_index(items, name):
    index = pd.Index(items)
    if index.has_duplicates:
        duplicated = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{name} must name each item once; repeated: {duplicated}.")
    return index


def _pack_speakers(groups, n_folds):
    """Speaker-disjoint folds: the sorted speakers dealt round-robin into ``n_folds``."""
    labels = pd.unique(groups)
    try:
        labels = sorted(labels)
    except TypeError:
        labels = list(labels)
    fold_of = {label: f"fold{i % n_folds + 1}" for i, label in enumerate(labels)}
    return np.array([fold_of[value] for value in groups], dtype=object)


def pair_speakers(speakers, sexes):
    """Sessions of one male and one female speaker, like IEMOCAP's.

    The speakers of each sex are sorted and paired in order (the k-th male
    with the k-th female); a speaker left over forms a session alone. With
    leave-one-speaker-out folds every test fold would hold one sex only, and
    the statistical parity between the sexes would be undefined on it.

    Parameters
    ----------
    speakers, sexes : array-like of shape (n_items,)

    Returns
    -------
    sessions : ndarray of object of shape (n_items,)
        ``"pair<k>"``.

    Examples
    --------
    >>> from fairrep.experiments._corpora import pair_speakers
    >>> pair_speakers(["03", "08", "10", "09"], ["m", "f", "m", "f"]).tolist()
    ['pair1', 'pair1', 'pair2', 'pair2']
    """
    speakers = np.asarray(speakers, dtype=object)
    sexes = np.asarray(sexes, dtype=object)
    of_speaker = pd.Series(sexes).groupby(speakers).first()
    by_sex = [sorted(of_speaker.index[of_speaker == sex]) for sex in sorted(pd.unique(of_speaker))]
    session = {}
    for k in range(max(len(group) for group in by_sex)):
        for group in by_sex:
            if k < len(group):
                session[group[k]] = f"pair{k + 1}"
    return np.array([session[s] for s in speakers], dtype=object)


def corpus_bundle(
    X,
    *,
    truth,
    ratings=None,
    item_info=None,
    sessions=None,
    speakers=None,
    group_column="rater_group",
    name="custom",
    feature_set="custom",
    description="",
    notes=(),
    meta=None,
    normalize_speakers=True,
    max_sessions=MAX_SESSIONS,
    n_speaker_folds=N_SPEAKER_FOLDS,
):
    """Bundle features, labels, folds and groups of one corpus for :func:`run_study`.

    Parameters
    ----------
    X : array-like of shape (n_items, n_features)
        One feature vector per item, in the order of ``truth``.
    truth : pandas.Series of shape (n_items,)
        Ground-truth label of each item, indexed by item id; its index fixes
        the item order of the bundle. Missing values are allowed (such items
        are left out of the study).
    ratings : pandas.DataFrame, default=None
        Long table, one row per rating, with columns ``item``,
        ``rater_group`` and ``label`` (and optionally ``rater``). None for a
        corpus without per-rater labels: the study then runs stage 1 only,
        with ``item_info[group_column]`` as the sensitive group.
    item_info : pandas.DataFrame, default=None
        Per-item metadata indexed by item id (every item of ``truth``).
    sessions : array-like of shape (n_items,), default=None
        Session of each item for the session-independent folds (section 3.1).
        None uses ``speakers``. More than ``max_sessions`` distinct values
        (e.g. CREMA-D's 91 actors) are packed into ``n_speaker_folds``
        speaker-disjoint folds.
    speakers : array-like of shape (n_items,), default=None
        Speaker of each item, for per-speaker z-normalisation and as the
        fallback of ``sessions``.
    group_column : str, default="rater_group"
        With ``ratings``: the name to give the rater-group column (kept for
        the report). Without: the column of ``item_info`` holding each
        item's sensitive group (e.g. ``"speaker_sex"``).
    name, feature_set, description : str
        For the report.
    notes : sequence of str, default=()
        Sentences the report shows about the data.
    meta : dict, default=None
        Extra JSON-able settings for the report.
    normalize_speakers : bool, default=True
        Z-normalise ``X`` per speaker with
        :class:`~fairrep.features.SpeakerStandardScaler` when ``speakers``
        is given (section 2.2.1).
    max_sessions : int, default=10
    n_speaker_folds : int, default=5

    Returns
    -------
    bundle : sklearn.utils.Bunch
        With ``X``, ``item_ids``, ``truth``, ``ratings``, ``item_info``,
        ``sessions``, ``speakers``, ``group_column``, ``name``,
        ``feature_set``, ``description``, ``notes`` and ``meta``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from fairrep.experiments import corpus_bundle
    >>> truth = pd.Series(["a", "b", "a", "b"], index=["u1", "u2", "u3", "u4"])
    >>> info = pd.DataFrame({"sex": ["f", "m", "f", "m"]}, index=truth.index)
    >>> bundle = corpus_bundle(np.eye(4), truth=truth, item_info=info,
    ...                        speakers=["s1", "s1", "s2", "s2"], group_column="sex")
    >>> bundle.sessions.tolist(), bundle.X.shape
    (['s1', 's1', 's2', 's2'], (4, 4))
    """
    if not isinstance(truth, pd.Series):
        raise TypeError(
            f"truth must be a pandas Series indexed by item id; got {type(truth).__name__}."
        )
    items = _as_item_index(truth.index, "truth's index")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != len(items):
        raise ValueError(
            f"X must have shape (n_items, n_features) with n_items={len(items)} (the "
            f"length of truth); got shape {X.shape}."
        )
    if not np.isfinite(X).all():
        bad = np.flatnonzero(~np.isfinite(X).all(axis=1))[:5]
        raise ValueError(
            f"X has non-finite values (NaN/inf) in the rows of items "
            f"{items[bad].tolist()}; clean or drop them first."
        )
    if item_info is None:
        item_info = pd.DataFrame(index=items)
    if not isinstance(item_info, pd.DataFrame):
        raise TypeError(f"item_info must be a DataFrame; got {type(item_info).__name__}.")
    missing_info = items.difference(item_info.index)
    if len(missing_info):
        raise ValueError(
            f"item_info lacks {len(missing_info)} item(s) of truth, e.g. "
            f"{missing_info[:3].tolist()}."
        )
    item_info = item_info.loc[items]

    def aligned(values, argument):
        if values is None:
            return None
        values = np.asarray(values, dtype=object)
        if values.shape != (len(items),):
            raise ValueError(
                f"{argument} must have shape ({len(items)},), one value per item; got "
                f"shape {values.shape}."
            )
        if is_missing(values).any():
            raise ValueError(f"{argument} has missing values; every item needs one.")
        return values

    speakers = aligned(speakers, "speakers")
    sessions = aligned(sessions, "sessions")
    bundle_notes = list(notes)
    if sessions is None:
        if speakers is None:
            raise ValueError(
                "sessions or speakers is required: the study's folds are "
                "session (or speaker) independent."
            )
        sessions = speakers
    if len(pd.unique(sessions)) > max_sessions:
        bundle_notes.append(
            f"The {len(pd.unique(sessions))} sessions/speakers are packed into "
            f"{n_speaker_folds} speaker-disjoint folds (round robin over the sorted ids)."
        )
        sessions = _pack_speakers(sessions, n_speaker_folds)

    if ratings is not None:
        if not isinstance(ratings, pd.DataFrame):
            raise TypeError(f"ratings must be a DataFrame; got {type(ratings).__name__}.")
        absent = [c for c in _RATING_COLUMNS if c not in ratings.columns]
        if absent:
            raise ValueError(
                f"ratings lacks the column(s) {absent}; expected {list(_RATING_COLUMNS)} "
                "(and optionally 'rater')."
            )
        ratings = ratings[ratings["item"].isin(items)].reset_index(drop=True)
        if ratings.empty:
            raise ValueError("ratings has no row for any item of truth; check the item ids.")
    elif group_column not in item_info.columns:
        raise ValueError(
            f"without ratings, item_info must hold the sensitive group in "
            f"group_column={group_column!r}; its columns are {list(item_info.columns)}."
        )

    if normalize_speakers and speakers is not None:
        from ..features import SpeakerStandardScaler

        X = SpeakerStandardScaler().fit_transform(X, speakers=speakers)
        bundle_notes.append("Features z-normalised per speaker (section 2.2.1).")
    return Bunch(
        name=str(name),
        feature_set=str(feature_set),
        description=str(description),
        X=X,
        item_ids=items,
        truth=truth.astype(object),
        ratings=ratings,
        item_info=item_info,
        sessions=sessions,
        speakers=speakers,
        group_column=str(group_column),
        notes=bundle_notes,
        meta=dict(meta or {}),
    )


# --------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------


def _read_table(path, argument):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{argument}={str(path)!r} is not a file.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".tsv", ".txt"):
            return pd.read_csv(path, sep="\t")
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        raise CorpusFormatError(
            f"{argument}={str(path)!r} is empty or cut short ({error}); expected a "
            "table with a header row."
        ) from error
    raise ValueError(
        f"{argument}={str(path)!r}: expected a .csv, .tsv or .parquet file; got "
        f"{suffix or 'no suffix'!r}."
    )


def read_precomputed_features(path, items, *, item_column=None):
    """A precomputed feature matrix aligned with ``items``.

    Parameters
    ----------
    path : str or path-like
        ``.npy``: a 2-D array whose rows follow ``items`` (the corpus's item
        order). ``.csv`` / ``.tsv`` / ``.parquet``: a table with one row per
        item, the item id in ``item_column`` (default: the first column)
        and one feature per remaining column; rows are matched by id, so
        their order does not matter and extra rows are ignored.
    items : pandas.Index
        The corpus's item ids.
    item_column : str, default=None

    Returns
    -------
    X : ndarray of shape (len(items), n_features)
    names : list of str
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        if not path.is_file():
            raise FileNotFoundError(f"features_file={str(path)!r} is not a file.")
        X = np.load(path, allow_pickle=False)
        if X.ndim != 2 or X.shape[0] != len(items):
            raise ValueError(
                f"features_file={str(path)!r} has shape {X.shape}; expected "
                f"({len(items)}, n_features): one row per item in the corpus's item "
                "order. Use a .csv/.parquet with an item-id column to match by id."
            )
        return X.astype(np.float64), [f"x{i}" for i in range(X.shape[1])]
    table = _read_table(path, "features_file")
    column = item_column if item_column is not None else table.columns[0]
    if column not in table.columns:
        raise ValueError(
            f"features_file has no column {column!r}; its columns start with "
            f"{list(table.columns[:5])}."
        )
    table = table.set_index(table[column].astype(str)).drop(columns=column)
    if table.index.has_duplicates:
        raise ValueError(f"features_file repeats item ids, e.g. "
                         f"{table.index[table.index.duplicated()][:3].tolist()}.")
    wanted = pd.Index(items).astype(str)
    missing = wanted.difference(table.index)
    if len(missing):
        raise ValueError(
            f"features_file lacks {len(missing)} of the {len(wanted)} items, e.g. "
            f"{missing[:3].tolist()}."
        )
    numeric = table.apply(pd.to_numeric, errors="coerce")
    bad = [c for c in numeric.columns if numeric[c].isna().any() and not table[c].isna().any()]
    if bad:
        raise ValueError(f"features_file has non-numeric feature columns {bad[:5]}.")
    return numeric.loc[wanted].to_numpy(dtype=np.float64), [str(c) for c in table.columns]


def _extract_features(
    paths, features, *, checkpoint, model, cache_dir, device, progress_bar
):
    """Run one of the audio featurizers (with the on-disk cache) over ``paths``."""
    from ..features import EGeMAPS, SSLFeatures, VQWav2Vec

    common = {"cache_dir": None if cache_dir is None else str(cache_dir),
              "progress_bar": progress_bar}
    if features == "egemaps":
        featurizer = EGeMAPS(**common)
    elif features == "vq-wav2vec":
        if checkpoint is None:
            raise ValueError("features='vq-wav2vec' needs checkpoint (a fairseq .pt file).")
        featurizer = VQWav2Vec(checkpoint=str(checkpoint), device=device, **common)
    elif features == "ssl":
        if model is None:
            raise ValueError(
                "features='ssl' needs model (a local wav2vec 2.0 / HuBERT / WavLM folder)."
            )
        featurizer = SSLFeatures(model_dir=str(model), device=device, **common)
    else:
        raise ValueError(f"features must be one of {FEATURE_SETS}; got {features!r}.")
    X = featurizer.fit_transform(list(paths))
    return X, [str(n) for n in featurizer.get_feature_names_out()]


def _features_for(
    all_items,
    items,
    item_info,
    features,
    *,
    corpus,
    features_file,
    item_column,
    checkpoint,
    model,
    cache_dir,
    device,
    progress_bar,
):
    """Features of ``items`` (a subset of ``all_items``, the corpus order)."""
    if features == "precomputed":
        if features_file is None:
            raise ValueError("features='precomputed' needs features_file.")
        # A .npy file follows the full corpus's order: read it whole, then subset.
        X, names = read_precomputed_features(features_file, all_items, item_column=item_column)
        return X[pd.Index(all_items).get_indexer(items)], names
    paths = item_info["path"] if "path" in item_info.columns else pd.Series(np.nan, index=items)
    absent = paths.isna()
    if absent.any():
        raise ValueError(
            f"features={features!r} reads the audio, but {int(absent.sum())} of "
            f"{len(items)} {corpus} items have no audio file (e.g. "
            f"{items[absent.to_numpy()][:3].tolist()}); put the audio where the "
            "loader looks for it, or use features='precomputed' with features_file."
        )
    return _extract_features(
        paths.tolist(), features, checkpoint=checkpoint, model=model,
        cache_dir=cache_dir, device=device, progress_bar=progress_bar,
    )


def _subsample(items, max_items, random_state):
    """At most ``max_items`` items, a seeded random subset in corpus order."""
    if max_items is None or max_items >= len(items):
        return items
    if max_items < 2:
        raise ValueError(f"max_items must be at least 2; got {max_items}.")
    rng = check_random_state(random_state)
    keep = np.sort(rng.choice(len(items), size=max_items, replace=False))
    return items[keep]


def _parse_rater_groups(value, corpus):
    """``rater_groups`` of the CLI: a JSON/CSV file, ``k=v,...`` or ``a,b`` names."""
    if value is None or not isinstance(value, str):
        return value
    path = Path(value)
    if path.is_file():
        if path.suffix.lower() == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        table = pd.read_csv(path, header=None, dtype=str)
        if table.shape[1] < 2:
            raise ValueError(
                f"rater_groups file {value!r} must have two columns: rater id, group."
            )
        return dict(zip(table[0].str.strip(), table[1].str.strip()))
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if all("=" in p for p in parts) and parts:
        return dict(p.split("=", 1) for p in parts)
    if corpus == "iemocap":
        raise ValueError(
            f"rater_groups for iemocap must map evaluators to groups, as a JSON/CSV file "
            f"or 'E1=female,E2=male,...'; got {value!r}."
        )
    return parts


# --------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------


def _synthetic(n_samples, random_state, normalize_speakers, max_items):
    from ..datasets import make_rater_perspectives

    corpus = make_rater_perspectives(n_samples, random_state=random_state)
    info = corpus.item_info
    truth = corpus.truth.loc[info.index]
    keep = _subsample(info.index, max_items, random_state)
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
        normalize_speakers=normalize_speakers,
    )


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
          of one male and one female speaker (:func:`pair_speakers`).
        - ``"popquorn"``: rated texts with rater gender, described by a text
          front end (``features``: ``"tfidf"``, ``"sentence"`` with
          ``model``); see :func:`~fairrep.experiments._text_corpora.load_text_corpus`.
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
        ``features_file`` (see :func:`read_precomputed_features`). Extracted
        features are cached in ``cache_dir``, so a rerun reuses them.
    features_file, checkpoint, model : str or path-like, default=None
    cache_dir : str or path-like, default=None
        Feature cache folder (:class:`~fairrep.features.FeatureCache`); None
        disables caching.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where the neural featurizers run.
    rater_groups : mapping, sequence or str, default=None
        iemocap: evaluator -> group mapping (or a JSON/CSV file, or
        ``"E1=female,E2=male"``); crema-d: the pools (``"voice,audiovisual"``);
        popquorn: the genders kept (``"Man,Woman,Non-binary"``).
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
        See :func:`corpus_bundle`.
    """
    if name not in CORPORA:
        raise ValueError(f"name must be one of {CORPORA}; got {name!r}.")
    if features is not None and features not in FEATURE_SETS:
        raise ValueError(f"features must be one of {FEATURE_SETS} or None; got {features!r}.")
    from ._text_corpora import TEXT_CORPORA, check_text_features, load_text_corpus

    if check_text_features(name, features) is not None:
        raise ValueError(check_text_features(name, features))
    if name == "synthetic":
        if features is not None:
            raise ValueError(
                "the synthetic corpus comes with its own simulated features; leave "
                f"features=None (got {features!r})."
            )
        return _synthetic(n_samples, random_state, normalize_speakers, max_items)
    if name == "table":
        return _table_corpus(
            ratings_file=ratings_file, features=features or "precomputed",
            features_file=features_file, item_column=item_column,
            group_column=group_column, label_column=label_column,
            rater_column=rater_column, truth_column=truth_column,
            speaker_column=speaker_column, session_column=session_column,
            max_items=max_items, random_state=random_state,
            normalize_speakers=normalize_speakers,
        )
    if data_home is None:
        raise ValueError(f"the {name} corpus needs data_home (the corpus folder).")
    if name in TEXT_CORPORA:
        return load_text_corpus(
            name, data_home=data_home, features=features, features_file=features_file,
            model=model, rater_groups=_parse_rater_groups(rater_groups, name),
            cache_dir=cache_dir, device=device, max_items=max_items,
            random_state=random_state, progress_bar=progress_bar)
    features = features or "egemaps"
    feature_options = {
        "features_file": features_file, "checkpoint": checkpoint, "model": model,
        "cache_dir": cache_dir, "device": device, "progress_bar": progress_bar,
    }
    groups = _parse_rater_groups(rater_groups, name)
    if name == "emodb":
        from ..datasets import load_emodb

        data = load_emodb(data_home)
        info = data.utterances
        items = _subsample(info.index, max_items, random_state)
        X, _ = _features_for(info.index, items, info.loc[items], features, corpus=name,
                             item_column=None, **feature_options)
        info = info.loc[items]
        return corpus_bundle(
            X, truth=info["truth"], ratings=None, item_info=info,
            sessions=pair_speakers(info["speaker"], info["speaker_sex"]),
            speakers=info["speaker"].to_numpy(), group_column="speaker_sex",
            name="emodb", feature_set=features, description=data.DESCR,
            notes=[(
                "Emo-DB has one acted label per utterance and no per-rater labels: "
                "there are no rater groups, no S1/S2 split and no perspective labels, "
                "so Exp2 (FairPer, Tables 3-4) and Figs. 1-2 are skipped. Exp1 uses "
                "speaker sex as the sensitive group and all test items for the parity "
                "gap. The folds are speaker independent: the 10 speakers are paired "
                "into 5 sessions of one male and one female speaker (like IEMOCAP's), "
                "so that every test fold holds both sexes."
            )],
            meta={"data_home": str(data_home), "max_items": max_items},
            normalize_speakers=normalize_speakers,
        )
    if name == "crema-d":
        from ..datasets import load_crema_d

        pools = ("voice", "audiovisual") if groups is None else groups
        data = load_crema_d(data_home, rater_groups=pools)
        info = data.utterances
        items = _subsample(info.index, max_items, random_state)
        X, _ = _features_for(info.index, items, info.loc[items], features, corpus=name,
                             item_column=None, **feature_options)
        info = info.loc[items]
        return corpus_bundle(
            X, truth=info["truth"], ratings=data.ratings, item_info=info,
            speakers=info["speaker"].to_numpy(), group_column="rater_group",
            name="crema-d", feature_set=features, description=data.DESCR,
            notes=[(
                "CREMA-D publishes no rater gender; the rater groups are its rater "
                f"pools ({', '.join(data.rater_groups)}), who perceived each clip "
                "through different channels. The truth is the acted emotion. "
                f"Ratings source: {data.ratings_source}."
            )],
            meta={"data_home": str(data_home), "rater_groups": list(data.rater_groups),
                  "max_items": max_items},
            normalize_speakers=normalize_speakers,
        )
    # iemocap
    from ..datasets import load_iemocap

    if groups is None:
        raise ValueError(
            "the iemocap corpus needs rater_groups: a mapping of every evaluator (E1, "
            "E2, ...) to its group; no public source names their genders."
        )
    data = load_iemocap(data_home, rater_groups=groups)
    info = data.utterances
    items = _subsample(info.index, max_items, random_state)
    X, _ = _features_for(info.index, items, info.loc[items], features, corpus=name,
                         item_column=None, **feature_options)
    info = info.loc[items]
    return corpus_bundle(
        X, truth=info["truth"], ratings=data.ratings, item_info=info,
        sessions=info["session"].to_numpy(), speakers=info["speaker"].to_numpy(),
        group_column="rater_group", name="iemocap", feature_set=features,
        description=data.DESCR,
        notes=["The evaluators' groups come from the rater_groups mapping given."],
        meta={"data_home": str(data_home), "max_items": max_items},
        normalize_speakers=normalize_speakers,
    )


def _table_corpus(
    *,
    ratings_file,
    features,
    features_file,
    item_column,
    group_column,
    label_column,
    rater_column,
    truth_column,
    speaker_column,
    session_column,
    max_items,
    random_state,
    normalize_speakers,
):
    if ratings_file is None:
        raise ValueError("the table corpus needs ratings_file (a long ratings table).")
    if features != "precomputed":
        raise ValueError(
            f"the table corpus has no audio; use features='precomputed' with "
            f"features_file (got features={features!r})."
        )
    table = _read_table(ratings_file, "ratings_file")
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
    kept = _subsample(items, max_items, random_state)
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
        normalize_speakers=normalize_speakers,
    )
