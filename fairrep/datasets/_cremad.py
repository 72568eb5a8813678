"""CREMA-D: acted emotion, actor demographics and three separate rater pools."""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..raters import from_vote_counts
from ..utils._names import check_distinct_names
from ._files import read_table

__all__ = ["load_crema_d", "CREMA_D_POOLS"]

#: First digit of a tabulatedVotes row id / finishedResponses ``queryType``
#: -> rater pool (the modality the raters perceived the clip through).
CREMA_D_POOLS = {1: "voice", 2: "face", 3: "audiovisual"}

_ACTED = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happiness",
    "NEU": "neutral",
    "SAD": "sadness",
}
_VOTES = {"A": "anger", "D": "disgust", "F": "fear", "H": "happiness", "N": "neutral", "S": "sadness"}
_LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
_SUMMARY_VOTES = {"VoiceVote": "voice_vote", "FaceVote": "face_vote", "MultiModalVote": "audiovisual_vote"}

_DESCR = """CREMA-D (Cao et al., 2014): 7,442 clips of 91 actors (48 male, 43 female)
speaking 12 sentences in 6 acted emotions at 4 levels. Three disjoint pools of
crowd raters labelled each clip through the voice only, the face only or
both; per-rater gender was not published, so the pools are the rater groups
(voice-only vs audio-visual is the perspective split used by fairrep).
CREMA-D has no recording sessions: ``session`` repeats the actor."""


def _find(data_home, name, *, required=True):
    for candidate in (data_home / "processedResults" / name, data_home / name):
        if candidate.is_file():
            return candidate
    if required:
        raise FileNotFoundError(
            f"{name} not found in data_home={str(data_home)!r} or its processedResults/ "
            "sub-folder; expected a copy of the CREMA-D repository (or its rating tables)."
        )
    return None


def _check_rater_groups(rater_groups):
    valid = set(CREMA_D_POOLS.values())
    return check_distinct_names(
        rater_groups, "rater_groups", expected=f"pools from {sorted(valid)}",
        kind="pool", valid=valid,
    )


def _vote_label(value):
    if not isinstance(value, str) or not value:
        return np.nan
    return ":".join(_VOTES.get(part, part) for part in value.split(":"))


def _parse_clip_names(names):
    parts = pd.Series(names, dtype=object).str.split("_", expand=True)
    if parts.shape[1] != 4 or parts.isna().any().any():
        bad = [n for n in names if len(str(n).split("_")) != 4][:3]
        raise ValueError(
            f"CREMA-D clip names must look like 1001_IEO_NEU_XX (actor_sentence_emotion_"
            f"level); got e.g. {bad}."
        )
    unknown = sorted(set(parts[2]) - set(_ACTED))
    if unknown:
        raise ValueError(f"unknown acted-emotion codes in CREMA-D clip names: {unknown}.")
    return parts


def _ratings_from_votes(table, groups):
    ids = table.iloc[:, 0].astype(str)
    pools = ids.str[0].astype(int).map(CREMA_D_POOLS)
    counts = table.assign(item=table["fileName"], rater_group=pools)
    counts = counts[counts["rater_group"].isin(groups)]
    return from_vote_counts(
        counts, item="item", rater_group="rater_group", count_columns=dict(_VOTES)
    )


def _ratings_from_responses(path, groups):
    needed = ["localid", "queryType", "clipName", "respEmo"]
    responses = read_table(
        path, what="CREMA-D's finishedResponses.csv (one row per response)",
        columns=needed, required_values=["clipName"], low_memory=False,
    )
    pools = pd.to_numeric(responses["queryType"], errors="coerce").map(CREMA_D_POOLS)
    ratings = pd.DataFrame(
        {
            "item": responses["clipName"].astype(str),
            "rater": responses["localid"].astype(str),
            "rater_group": pools,
            "label": responses["respEmo"].map(_VOTES),
        }
    )
    ratings = ratings[ratings["rater_group"].isin(groups) & ratings["label"].notna()]
    return ratings.reset_index(drop=True)


def load_crema_d(data_home, *, rater_groups=("voice", "audiovisual"), ratings="auto"):
    """Load CREMA-D's utterance table and its per-pool ratings.

    Parameters
    ----------
    data_home : str or os.PathLike
        A copy of the CREMA-D repository: ``processedResults/tabulatedVotes.csv``
        and/or ``processedResults/summaryTable.csv`` (or the same files
        directly in ``data_home``), ``VideoDemographics.csv``, optionally
        ``AudioWAV/`` and ``finishedResponses.csv``.
    rater_groups : sequence of {"voice", "face", "audiovisual"}, default=("voice", "audiovisual")
        Rater pools whose ratings are returned; the pool is the
        ``rater_group`` of each rating. Pools are told apart by the first
        digit of a ``tabulatedVotes.csv`` row id (1 voice only, 2 face only,
        3 audio-visual) or by ``queryType`` in ``finishedResponses.csv``.
    ratings : {"auto", "votes", "responses"}, default="auto"
        Source of the ratings. ``"responses"``: one row per response in
        ``finishedResponses.csv``, with the real (anonymous) rater id
        ``localid``. ``"votes"``: ``tabulatedVotes.csv`` expanded by
        :func:`fairrep.raters.from_vote_counts`, one row per vote with a
        synthetic rater id (``"voice#3"``) that is unique within a clip only.
        ``"auto"`` uses the responses when the file is present, else the votes.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``utterances``: DataFrame indexed by ``id`` (the clip name) with
        columns ``path`` (``AudioWAV/<id>.wav`` when that file exists, else
        NaN), ``speaker`` (actor id), ``speaker_sex`` ("female"/"male"),
        ``speaker_age``, ``speaker_race``, ``speaker_ethnicity``, ``session``
        (= speaker), ``sentence``, ``level`` (low/medium/high/unspecified),
        ``truth`` (the acted emotion) and, with ``summaryTable.csv``, each
        pool's published majority ``voice_vote``, ``face_vote``,
        ``audiovisual_vote`` (ties joined by ":").
        ``ratings``: long DataFrame with columns ``item``, ``rater``,
        ``rater_group``, ``label``, the input of
        :func:`fairrep.raters.perspective_split`.
        ``rater_groups``: the pools kept; ``ratings_source``: "responses" or
        "votes"; ``DESCR``.
        Emotions are written out (anger, disgust, fear, happiness, neutral,
        sadness) in both tables.

    References
    ----------
    .. [1] H. Cao et al., "CREMA-D: Crowd-sourced Emotional Multimodal Actors
       Dataset", IEEE Trans. Affective Computing 5(4), 2014.
    .. [2] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.1 (rater-group perspectives).

    Examples
    --------
    >>> from fairrep.datasets import load_crema_d
    >>> from fairrep.raters import perspective_split
    >>> crema = load_crema_d("path/to/CREMA-D")  # doctest: +SKIP
    >>> split = perspective_split(crema.ratings, truth=crema.utterances["truth"])  # doctest: +SKIP
    """
    data_home = Path(data_home)
    if not data_home.is_dir():
        raise FileNotFoundError(f"data_home={str(data_home)!r} is not a directory.")
    groups = _check_rater_groups(rater_groups)
    if ratings not in {"auto", "votes", "responses"}:
        raise ValueError(f"ratings must be 'auto', 'votes' or 'responses'; got {ratings!r}.")

    votes_path = _find(data_home, "tabulatedVotes.csv", required=False)
    summary_path = _find(data_home, "summaryTable.csv", required=False)
    if votes_path is None and summary_path is None:
        _find(data_home, "tabulatedVotes.csv")  # raises, naming the expected layout
    votes = summary = None
    if votes_path is not None:
        votes = read_table(
            votes_path,
            what="CREMA-D's tabulatedVotes.csv (vote counts per clip and rater pool)",
            columns=["fileName", *_VOTES], required_values=["fileName", *_VOTES],
        )
    if summary_path is not None:
        summary = read_table(
            summary_path, what="CREMA-D's summaryTable.csv (one row per clip)",
            columns=["FileName"], required_values=["FileName"],
        )

    names = (
        pd.unique(votes["fileName"].astype(str))
        if votes is not None
        else summary["FileName"].astype(str).to_numpy()
    )
    parts = _parse_clip_names(names)
    utterances = pd.DataFrame(
        {
            "speaker": parts[0].to_numpy(),
            "sentence": parts[1].to_numpy(),
            "level": parts[3].map(_LEVELS).fillna(parts[3]).to_numpy(),
            "truth": parts[2].map(_ACTED).to_numpy(),
        },
        index=pd.Index(names, name="id"),
    )
    audio = data_home / "AudioWAV"
    utterances.insert(
        0,
        "path",
        [str(audio / f"{n}.wav") if (audio / f"{n}.wav").is_file() else np.nan for n in names],
    )
    demographics_path = _find(data_home, "VideoDemographics.csv")
    demographics = read_table(
        demographics_path, what="CREMA-D's VideoDemographics.csv (one row per actor)",
        columns=["ActorID", "Age", "Sex", "Race", "Ethnicity"],
        required_values=["ActorID", "Sex"], dtype={"ActorID": str},
    ).set_index("ActorID")
    demographic = {
        "speaker_sex": utterances["speaker"].map(demographics["Sex"]).str.lower(),
        "speaker_age": utterances["speaker"].map(demographics["Age"]),
        "speaker_race": utterances["speaker"].map(demographics["Race"]),
        "speaker_ethnicity": utterances["speaker"].map(demographics["Ethnicity"]),
    }
    if demographic["speaker_sex"].isna().any():
        unknown = sorted(set(utterances.loc[demographic["speaker_sex"].isna(), "speaker"]))
        raise ValueError(f"actors {unknown[:5]} are missing from {demographics_path}.")
    utterances = utterances.assign(**demographic, session=utterances["speaker"])
    order = ["path", "speaker", *demographic, "session", "sentence", "level", "truth"]
    utterances = utterances[order]
    if summary is not None:
        published = summary.set_index(summary["FileName"].astype(str))
        for column, target in _SUMMARY_VOTES.items():
            if column in published:
                utterances[target] = utterances.index.map(published[column]).map(_vote_label)

    responses_path = data_home / "finishedResponses.csv"
    source = ratings
    if ratings == "auto":
        source = "responses" if responses_path.is_file() else "votes"
    if source == "responses":
        if not responses_path.is_file():
            raise FileNotFoundError(
                f"ratings='responses' needs finishedResponses.csv in data_home={str(data_home)!r}."
            )
        table = _ratings_from_responses(responses_path, groups)
    else:
        if votes is None:
            raise FileNotFoundError(
                f"ratings={ratings!r} needs tabulatedVotes.csv (processedResults/ or "
                f"directly in data_home={str(data_home)!r}); only summaryTable.csv was found."
            )
        table = _ratings_from_votes(votes, groups)
    return Bunch(
        utterances=utterances,
        ratings=table,
        rater_groups=list(groups),
        ratings_source=source,
        DESCR=_DESCR,
    )
