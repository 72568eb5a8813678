"""Emozionalmente: crowd-sourced Italian emotional speech with per-rater gender."""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..exceptions import CorpusFormatError
from ._files import read_table

__all__ = ["load_emozionalmente"]

_EMOTIONS = {
    "anger": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "joy": "happiness",
    "neutrality": "neutral",
    "sadness": "sadness",
    "surprise": "surprise",
}
_GENDERS = {
    "m": "male",
    "male": "male",
    "man": "male",
    "maschio": "male",
    "uomo": "male",
    "f": "female",
    "female": "female",
    "woman": "female",
    "femmina": "female",
    "donna": "female",
}
_COLUMNS = {
    "users.csv": {"username", "gender"},
    "samples.csv": {"file_name", "actor", "emotion_expressed"},
    "evaluations.csv": {"file_name", "evaluator", "emotion_recognized"},
}

# cells that identify a row; empty only in a row cut short
_KEYS = {
    "users.csv": ["username"],
    "samples.csv": ["file_name", "actor"],
    "evaluations.csv": ["file_name", "evaluator"],
}

_DESCR = """Emozionalmente (Catania et al., 2023): crowd-sourced Italian emotional
speech, 6,902 clips of 431 amateur actors (18 sentences, 7 emotions),
each evaluated by about 5 listeners whose gender is published: per-rater
labels with real rater gender. No recording sessions: ``session`` repeats
the actor."""


def _gender(values):
    text = values.astype("string").str.strip().str.lower()
    return text.map(lambda g: _GENDERS.get(g, g) if isinstance(g, str) else np.nan).astype(object)


def _read(folder, name):
    path = folder / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{name} not found in {str(folder)!r}; expected the Emozionalmente release "
            "with metadata/users.csv, metadata/samples.csv and metadata/evaluations.csv."
        )
    return read_table(
        path, what=f"Emozionalmente's {name}", columns=sorted(_COLUMNS[name]),
        required_values=_KEYS[name], dtype=str,
    )


def load_emozionalmente(data_home, *, rater_groups="gender", keep_bad_audio=True):
    """Load Emozionalmente's clips and its per-rater labels with rater gender.

    Reads the release's ``metadata`` folder:

    - ``users.csv``: ``username``, ``gender`` (and ``age``,
      ``mother_tongue``, ...), for actors and evaluators alike;
    - ``samples.csv``: ``file_name``, ``actor``, ``emotion_expressed``
      (and ``sentence``, ...);
    - ``evaluations.csv``: ``file_name``, ``evaluator``,
      ``emotion_recognized`` (and ``audio_quality``: good/bad).

    Emotion names are mapped to those of the other loaders (joy ->
    happiness, neutrality -> neutral); gender values to "female"/"male"
    (Italian or English words, or m/f; other values are kept lowercased).

    Parameters
    ----------
    data_home : str or os.PathLike
        The release folder, holding ``metadata/`` and ``audio/`` (or the
        ``metadata`` folder itself).
    rater_groups : {"gender"} or None, default="gender"
        ``"gender"``: each rating's ``rater_group`` is its evaluator's gender
        from ``users.csv``. None leaves it missing.
    keep_bad_audio : bool, default=True
        Keep evaluations whose ``audio_quality`` is "bad".

    Returns
    -------
    data : sklearn.utils.Bunch
        ``utterances``: DataFrame indexed by ``id`` (the file name without
        extension) with columns ``path`` (``audio/<file_name>`` when it
        exists, else NaN), ``speaker``, ``speaker_sex``, ``speaker_age`` (when
        published), ``session`` (= speaker), ``sentence`` (when published) and
        ``truth`` (the emotion the actor meant to express).
        ``ratings``: columns ``item``, ``rater``, ``rater_group``, ``label``.
        ``raters``: the evaluators' rows of ``users.csv`` indexed by username,
        with ``gender`` normalised. ``DESCR``.

    References
    ----------
    .. [1] F. Catania, J. W. Wilke and F. Garzotto, "Emozionalmente: A
       Crowdsourced Corpus of Simulated Emotional Speech in Italian",
       IEEE/ACM TASLP, 2025 (data: Zenodo record 6569824).
    .. [2] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.1 (rater-gender perspectives).

    Examples
    --------
    >>> from fairrep.datasets import load_emozionalmente
    >>> emo = load_emozionalmente("path/to/emozionalmente_dataset")  # doctest: +SKIP
    """
    data_home = Path(data_home)
    if not data_home.is_dir():
        raise FileNotFoundError(f"data_home={str(data_home)!r} is not a directory.")
    if rater_groups not in {"gender", None}:
        raise ValueError(f"rater_groups must be 'gender' or None; got {rater_groups!r}.")
    folder = data_home / "metadata" if (data_home / "metadata").is_dir() else data_home
    users = _read(folder, "users.csv")
    samples = _read(folder, "samples.csv")
    evaluations = _read(folder, "evaluations.csv")

    users = users.drop_duplicates("username").set_index("username")
    users["gender"] = _gender(users["gender"])
    # a user listed with an empty gender is data; one not listed at all is a
    # users.csv cut short, and would leave groups missing without a word
    for table, column, role in ((samples, "actor", "actors of samples.csv"),
                                (evaluations, "evaluator", "evaluators of evaluations.csv")):
        unlisted = sorted(set(table[column]) - set(users.index))
        if unlisted:
            raise CorpusFormatError(
                f"{folder / 'users.csv'} does not list {len(unlisted)} of the {role} "
                f"(e.g. {unlisted[:3]}); expected one row per actor and evaluator "
                "(a truncated users.csv?)."
            )

    unknown = sorted(set(samples["emotion_expressed"].dropna().str.strip().str.lower()) - set(_EMOTIONS))
    unknown += sorted(set(evaluations["emotion_recognized"].dropna().str.strip().str.lower()) - set(_EMOTIONS))
    if unknown:
        raise ValueError(
            f"unknown emotion names {sorted(set(unknown))}; expected {sorted(_EMOTIONS)}."
        )
    ids = samples["file_name"].str.replace(r"\.[A-Za-z0-9]+$", "", regex=True)
    audio = folder.parent / "audio" if folder.name == "metadata" else folder / "audio"
    paths = [audio / name for name in samples["file_name"]]
    utterances = pd.DataFrame(
        {
            "path": [str(p) if p.is_file() else np.nan for p in paths],
            "speaker": samples["actor"].to_numpy(),
            "speaker_sex": samples["actor"].map(users["gender"]).to_numpy(),
        },
        index=pd.Index(ids, name="id"),
    )
    if "age" in users:
        utterances["speaker_age"] = pd.to_numeric(samples["actor"].map(users["age"]), errors="coerce").to_numpy()
    utterances["session"] = utterances["speaker"]
    if "sentence" in samples:
        utterances["sentence"] = samples["sentence"].to_numpy()
    utterances["truth"] = samples["emotion_expressed"].str.strip().str.lower().map(_EMOTIONS).to_numpy()

    if not keep_bad_audio and "audio_quality" in evaluations:
        evaluations = evaluations[evaluations["audio_quality"].str.strip().str.lower() != "bad"]
    item = evaluations["file_name"].str.replace(r"\.[A-Za-z0-9]+$", "", regex=True)
    unrated = sorted(set(item) - set(utterances.index))
    if unrated:
        raise ValueError(
            f"evaluations.csv rates clips missing from samples.csv, e.g. {unrated[:3]}."
        )
    group = evaluations["evaluator"].map(users["gender"]) if rater_groups == "gender" else np.nan
    ratings = pd.DataFrame(
        {
            "item": item.to_numpy(),
            "rater": evaluations["evaluator"].to_numpy(),
            "rater_group": np.asarray(group, dtype=object) if rater_groups else np.nan,
            "label": evaluations["emotion_recognized"].str.strip().str.lower().map(_EMOTIONS).to_numpy(),
        }
    )
    raters = users.loc[users.index.intersection(pd.Index(ratings["rater"].unique()))]
    return Bunch(utterances=utterances, ratings=ratings, raters=raters, DESCR=_DESCR)
