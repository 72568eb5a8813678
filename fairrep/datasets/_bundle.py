"""Corpora as study inputs: features, ratings, truth, folds and groups in one bundle.

The study (:func:`run_study <fairrep.experiments.run_study>`) takes one
*corpus bundle*, a :class:`~sklearn.utils.Bunch` built by
:func:`corpus_bundle` (from your own arrays) or by
:func:`~fairrep.experiments.load_corpus` (from a supported corpus and a
feature extractor). A bundle holds, aligned item by item:

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

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from ..utils._validation import is_missing

__all__ = [
    "MAX_SESSIONS",
    "N_SPEAKER_FOLDS",
    "corpus_bundle",
    "pair_speakers",
    "subsample",
]

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
    >>> from fairrep.datasets._bundle import pair_speakers
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
    """Bundle features, labels, folds and groups of one corpus for the study.

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


def subsample(items, max_items, random_state):
    """At most ``max_items`` items, a seeded random subset in corpus order."""
    if max_items is None or max_items >= len(items):
        return items
    if max_items < 2:
        raise ValueError(f"max_items must be at least 2; got {max_items}.")
    rng = check_random_state(random_state)
    keep = np.sort(rng.choice(len(items), size=max_items, replace=False))
    return items[keep]
