"""POPQUORN offensiveness: real texts rated by real raters of known gender."""

import logging
from collections.abc import Mapping
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import Bunch

from ..exceptions import CorpusFormatError
from ..raters import majority_vote
from ..utils._names import check_distinct_names
from ._files import read_table

__all__ = ["POPQUORN_LABEL_SCHEMES", "load_popquorn"]

logger = logging.getLogger(__name__)

_FILE = "offensiveness_raw_data.csv"
_COLUMNS = ["instance_id", "user_id", "text", "offensiveness", "gender"]
_DEMOGRAPHICS = ["gender", "race", "age", "occupation", "education"]

#: Offensiveness score (1-5) -> class, for each named ``label_scheme`` of
#: :func:`load_popquorn`; the classes are listed in order.
POPQUORN_LABEL_SCHEMES = {
    "binary": {1: "not offensive", 2: "offensive", 3: "offensive", 4: "offensive",
               5: "offensive"},
    "ordinal": {1: "not offensive", 2: "somewhat offensive", 3: "somewhat offensive",
                4: "very offensive", 5: "very offensive"},
    "five": {1: "1", 2: "2", 3: "3", 4: "4", 5: "5"},
}

_DESCR = """POPQUORN offensiveness (Pei & Jurgens, 2023): 1,500 English Reddit comments,
each rated for offensiveness on a 1-5 scale by 5-10 crowd raters; 13,036
ratings by 262 raters who reported their gender (131 Woman, 124 Man, 7
Non-binary), race, age, occupation and education. The rater groups are the
raters' self-reported gender; the items are texts, with no speaker or session,
so the folds are a seeded, truth-stratified assignment of the texts."""


def _check_scheme(label_scheme):
    if isinstance(label_scheme, str):
        if label_scheme not in POPQUORN_LABEL_SCHEMES:
            raise ValueError(
                f"label_scheme must be one of {sorted(POPQUORN_LABEL_SCHEMES)} or a mapping "
                f"of the scores 1-5 to classes; got {label_scheme!r}."
            )
        return label_scheme, dict(POPQUORN_LABEL_SCHEMES[label_scheme])
    if isinstance(label_scheme, Mapping):
        scheme = {int(k): v for k, v in label_scheme.items()
                  if isinstance(k, (Integral, float)) and k == int(k)}
        if sorted(scheme) != [1, 2, 3, 4, 5] or len(label_scheme) != 5 or any(
            pd.isna(v) for v in scheme.values()
        ):
            raise ValueError(
                "label_scheme as a mapping must give a class to each score 1, 2, 3, 4 "
                f"and 5 (and nothing else); got {dict(label_scheme)!r}."
            )
        return "custom", scheme
    raise TypeError(
        f"label_scheme must be a name ({sorted(POPQUORN_LABEL_SCHEMES)}) or a mapping of "
        f"the scores 1-5 to classes; got {type(label_scheme).__name__}."
    )


def _check_groups(groups):
    return check_distinct_names(
        groups, "groups", kind="gender", expected="the raters' genders, e.g. "
        "('Man', 'Woman') or ('Man', 'Woman', 'Non-binary')",
    )


def _csv_path(data_home):
    data_home = Path(data_home)
    if data_home.is_file() and data_home.name == _FILE:
        return data_home
    path = data_home / _FILE
    if not path.is_file():
        where = "is not a directory" if not data_home.is_dir() else f"holds no {_FILE}"
        raise FileNotFoundError(
            f"data_home={str(data_home)!r} {where}; expected the POPQUORN folder with "
            f"{_FILE} (one row per text and rater: {', '.join(_COLUMNS)}, ...)."
        )
    return path


def _read(path):
    raw = read_table(
        path,
        what=f"POPQUORN's {_FILE} (one row per text and rater)",
        columns=_COLUMNS,
        required_values=_COLUMNS,
        dtype={"text": str, "gender": str},
    )
    score = pd.to_numeric(raw["offensiveness"], errors="coerce")
    bad = ~score.isin([1, 2, 3, 4, 5])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise CorpusFormatError(
            f"{path}:{row + 2}: offensiveness {str(raw['offensiveness'].iloc[row])!r} is not a "
            f"score 1-5 ({int(bad.sum())} such row(s))."
        )
    raw["offensiveness"] = score.astype(int)
    for column in ("instance_id", "user_id"):
        raw[column] = raw[column].astype(str).str.strip()
        if raw[column].str.fullmatch(r"\d+").all():
            raw[column] = raw[column].astype(np.int64)
    twice = raw.duplicated(["instance_id", "user_id"])
    if twice.any():
        row = int(np.flatnonzero(twice.to_numpy())[0])
        raise CorpusFormatError(
            f"{path}:{row + 2}: rater {raw['user_id'].iloc[row]} rates text "
            f"{raw['instance_id'].iloc[row]} a second time; expected one row per "
            "(instance_id, user_id)."
        )
    for column, per in (("text", "instance_id"), ("gender", "user_id")):
        values = raw.groupby(per)[column].nunique()
        if (values > 1).any():
            raise CorpusFormatError(
                f"{path}: {per} {str(values.index[values > 1][0])!r} has {int(values.max())} "
                f"different values of {column!r}; expected one per {per}."
            )
    return raw


def _folds(truth, n_folds, random_state):
    """Seeded fold labels, stratified on the truth (missing truth its own stratum)."""
    strata = truth.astype(object).where(truth.notna(), "<undetermined>").astype(str)
    if strata.value_counts().min() < n_folds:
        # a rare stratum cannot be spread over every fold: deal items at random
        order = np.random.RandomState(random_state).permutation(len(truth))
        fold = np.empty(len(truth), dtype=int)
        fold[order] = np.arange(len(truth)) % n_folds
    else:
        fold = np.empty(len(truth), dtype=int)
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
        for k, (_, test) in enumerate(splitter.split(np.zeros(len(truth)), strata)):
            fold[test] = k
    return np.array([f"fold{k + 1}" for k in fold], dtype=object)


def load_popquorn(
    data_home,
    *,
    label_scheme="binary",
    groups=("Man", "Woman"),
    n_folds=5,
    random_state=0,
):
    """Load POPQUORN's offensiveness ratings with the raters' gender as rater groups.

    Reads ``offensiveness_raw_data.csv`` (one row per text and rater),
    bins each 1-5 offensiveness score into a class by ``label_scheme``,
    keeps the ratings of raters whose gender is in ``groups`` and takes the
    majority vote of the kept, binned ratings as each text's truth (section
    2.1 of Chien & Lee: the ground truth is the raters' majority, the rater
    groups' own majorities give the perspectives).

    The default scheme is binary: 1 ("not offensive at all") against 2-5
    ("offensive"). Of the schemes compared in ``docs/real_raters.rst`` it
    gives the most balanced truth and the highest agreement between raters
    (Krippendorff's alpha); 1-2 against 3-5 leaves most texts in one class,
    and five unordered classes agree least.

    Non-binary raters are left out by default: the 7 of them rated 320 of
    the 1,500 texts, so as a third group they have no consensus on the other
    1,180, and since the paper's split puts a text in S1 only where every
    group's consensus equals the truth, those texts would fall in S2 for that
    reason alone.
    Pass ``groups=("Man", "Woman", "Non-binary")`` to keep them as a group.
    The texts and ratings left out are said in ``notes`` and logged
    (logger ``fairrep.datasets._popquorn``, level INFO).

    Parameters
    ----------
    data_home : str or os.PathLike
        The POPQUORN folder holding ``offensiveness_raw_data.csv`` (columns
        ``instance_id``, ``user_id``, ``text``, ``offensiveness``,
        ``gender`` and optionally ``race``, ``age``, ``occupation``,
        ``education``), or that file itself.
    label_scheme : {"binary", "ordinal", "five"} or mapping, default="binary"
        How scores become classes (:data:`POPQUORN_LABEL_SCHEMES`):
        ``"binary"``: 1 -> "not offensive", 2-5 -> "offensive";
        ``"ordinal"``: 1 -> "not offensive", 2-3 -> "somewhat offensive",
        4-5 -> "very offensive"; ``"five"``: the scores as the classes
        "1" ... "5". A mapping gives the class of each score 1-5.
    groups : sequence of str, default=("Man", "Woman")
        Genders kept as rater groups; ratings of other raters are dropped
        (from the ratings and from the truth).
    n_folds : int, default=5
        Number of folds of the ``fold`` column.
    random_state : int, default=0
        Seed of the fold assignment.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``texts``: DataFrame indexed by ``id`` (the ``instance_id``, every
        text with a kept rating) with columns ``text``, ``n_ratings``,
        ``mean_offensiveness`` (of the kept ratings), ``fold``
        (``"fold1"`` ...) and ``truth`` (the majority class, NaN on a tie).
        The folds are item-disjoint by construction, of equal size (within
        one) and stratified on the truth: use them as the sessions of a
        session-independent cross-validation.
        ``ratings``: long DataFrame with columns ``item``, ``rater``,
        ``rater_group`` (the rater's gender), ``label`` (the class) and
        ``offensiveness`` (the score), the input of
        :func:`fairrep.raters.perspective_split`.
        ``raters``: DataFrame indexed by ``rater`` with the raters'
        demographics. ``classes``: the classes in order;
        ``label_scheme``: its name ("custom" for a mapping);
        ``rater_groups``: the groups kept; ``notes``: sentences about what
        was left out; ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If ``data_home`` holds no ``offensiveness_raw_data.csv``.
    fairrep.exceptions.CorpusFormatError
        If the file is empty, cannot be parsed, lacks a column, has an empty
        cell, a score outside 1-5, a (text, rater) pair twice, or a text or
        rater with two values of its text or gender.
    ValueError
        If ``groups`` names a gender no rater has, or an argument is
        invalid.

    References
    ----------
    .. [1] J. Pei and D. Jurgens, "When Do Annotator Demographics Matter?
       Measuring the Influence of Annotator Demographics with the POPQUORN
       Dataset", Proc. LAW XVII, 2023.
    .. [2] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.1.

    Examples
    --------
    >>> from fairrep.datasets import load_popquorn
    >>> from fairrep.raters import perspective_split
    >>> popquorn = load_popquorn("path/to/popquorn")  # doctest: +SKIP
    >>> split = perspective_split(popquorn.ratings, rater="rater")  # doctest: +SKIP
    """
    scheme_name, scheme = _check_scheme(label_scheme)
    groups = _check_groups(groups)
    if not isinstance(n_folds, Integral) or isinstance(n_folds, bool) or n_folds < 2:
        raise ValueError(f"n_folds must be an integer of at least 2; got {n_folds!r}.")
    path = _csv_path(data_home)
    raw = _read(path)

    genders = sorted(raw["gender"].unique())
    unknown = [g for g in groups if g not in genders]
    if unknown:
        raise ValueError(
            f"groups names {unknown}, but the raters' genders in {path} are {genders}."
        )
    kept = raw[raw["gender"].isin(groups)]
    n_items = raw["instance_id"].nunique()
    notes = []
    left_out = sorted(set(genders) - set(groups))
    if left_out:
        dropped = raw[~raw["gender"].isin(groups)]
        lost = n_items - kept["instance_id"].nunique()
        notes.append(
            f"Ratings of the {dropped['user_id'].nunique()} rater(s) whose gender is "
            f"{' or '.join(left_out)} are left out ({len(dropped)} of {len(raw)} "
            f"ratings; {lost} text(s) lose every rating): the rater groups are "
            f"{', '.join(groups)}. As a group of their own they would have no "
            "consensus on most texts, which the paper's split would put in S2 for "
            "that reason alone; pass groups=(..., "
            f"{', '.join(repr(g) for g in left_out)}) to keep them."
        )
        logger.info(notes[-1])

    ratings = pd.DataFrame({
        "item": kept["instance_id"].to_numpy(),
        "rater": kept["user_id"].to_numpy(),
        "rater_group": kept["gender"].to_numpy(dtype=object),
        "label": kept["offensiveness"].map(scheme).to_numpy(dtype=object),
        "offensiveness": kept["offensiveness"].to_numpy(),
    })
    per_item = kept.groupby("instance_id", sort=True)
    texts = pd.DataFrame({
        "text": per_item["text"].first(),
        "n_ratings": per_item.size(),
        "mean_offensiveness": per_item["offensiveness"].mean(),
    })
    texts.index.name = "id"
    truth = majority_vote(ratings).reindex(texts.index).astype(object)
    texts["fold"] = _folds(truth, int(n_folds), random_state)
    texts["truth"] = truth
    ties = int(truth.isna().sum())
    if ties:
        notes.append(
            f"{ties} of {len(texts)} texts have no truth (a tie in the majority vote "
            f"of the {scheme_name} classes); the study leaves them out."
        )
        logger.info(notes[-1])
    present = [c for c in _DEMOGRAPHICS if c in kept.columns]
    raters = kept.groupby("user_id", sort=True)[present].first()
    raters.index.name = "rater"
    classes = list(dict.fromkeys(scheme[k] for k in sorted(scheme)))
    return Bunch(
        texts=texts,
        ratings=ratings,
        raters=raters,
        classes=classes,
        label_scheme=scheme_name,
        rater_groups=list(groups),
        notes=notes,
        DESCR=_DESCR,
    )
