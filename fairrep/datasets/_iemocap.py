"""IEMOCAP: ground truth and per-evaluator categorical labels from EmoEvaluation files."""

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..exceptions import CorpusFormatError

__all__ = ["load_iemocap", "IEMOCAP_CLASSES"]

#: The five classes of the paper (section 2.1).
IEMOCAP_CLASSES = ("neutral", "happiness", "anger", "sadness", "frustration")

# three-letter ground-truth codes of the header lines
_TRUTH_CODES = {
    "neu": "neutral",
    "hap": "happiness",
    "exc": "excitement",
    "ang": "anger",
    "sad": "sadness",
    "fru": "frustration",
    "sur": "surprise",
    "fea": "fear",
    "dis": "disgust",
    "oth": "other",
    "xxx": None,  # no majority among the evaluators
}
# words of the evaluators' categorical lines
_RATING_WORDS = {
    "neutral": "neutral",
    "neutral state": "neutral",
    "happiness": "happiness",
    "happy": "happiness",
    "excited": "excitement",
    "excitement": "excitement",
    "anger": "anger",
    "angry": "anger",
    "sadness": "sadness",
    "sad": "sadness",
    "frustration": "frustration",
    "frustrated": "frustration",
    "surprise": "surprise",
    "surprised": "surprise",
    "fear": "fear",
    "fearful": "fear",
    "disgust": "disgust",
    "disgusted": "disgust",
    "other": "other",
}

_HEADER = re.compile(
    r"^\[(?P<start>[\d.]+)\s*-\s*(?P<end>[\d.]+)\]\s+(?P<turn>Ses\d\d[FM]_\S+)\s+"
    r"(?P<code>\w+)\s+\[(?P<vad>[^\]]*)\]"
)
_CATEGORICAL = re.compile(r"^C-(?P<rater>[A-Za-z]+\d+):\s*(?P<labels>[^(]*)\((?P<comment>.*)\)\s*$")
_SELF = re.compile(r"^[FM]\d+$")  # the actors' self-evaluations: C-F1, C-M1

_DESCR = """IEMOCAP (Busso et al., 2008): five sessions, each of one male and one female
actor, with categorical labels from several evaluators per turn (plus the
actors' self-evaluations, excluded by default). Chien & Lee (section 2.1) use
six evaluators, two male and four female, and five classes; no public
source names the evaluators' genders, so the groups come from the caller's
``rater_groups`` mapping."""


_HEADER_LAYOUT = (
    "'[start - end]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[valence, arousal, dominance]'"
)
# a turn name anywhere on a line that is not a rating: a header, broken or not
_TURN_NAME = re.compile(r"Ses\d\d[FM]_\S+")


def _parse_file(path, include_self):
    """Header and categorical lines of one EmoEvaluation file.

    Every line that starts with ``[`` or names a turn (and is not an
    evaluator's line) must be a well-formed header: a header that failed to
    parse would otherwise be skipped and its ratings attached to the turn
    above it.
    """
    utterances, ratings = [], []
    current = None
    seen = {}  # (turn, rater) -> line number, to catch ratings given twice
    headers = {}  # turn -> line number of its header
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        header = _HEADER.match(line)
        if header is None and (line.startswith("[") or (
                not line.startswith(("C-", "A-")) and _TURN_NAME.search(line))):
            raise CorpusFormatError(
                f"{path}:{number}: malformed turn header {line!r}; expected "
                f"{_HEADER_LAYOUT}."
            )
        if header is not None:
            code = header["code"].lower()
            if code not in _TRUTH_CODES:
                raise CorpusFormatError(
                    f"{path}:{number}: unknown emotion code {header['code']!r}; "
                    f"expected one of {sorted(_TRUTH_CODES)}."
                )
            try:
                vad = [float(v) for v in header["vad"].split(",")] if header["vad"].strip() else []
            except ValueError:
                vad = []
            if len(vad) != 3:
                raise CorpusFormatError(
                    f"{path}:{number}: expected [valence, arousal, dominance] (three "
                    f"numbers) at the end of the header; got [{header['vad']}]."
                )
            current = header["turn"]
            if current in headers:
                raise CorpusFormatError(
                    f"{path}:{number}: turn {current} has a second header (the first "
                    f"is on line {headers[current]}); its ratings would be merged. "
                    "Each turn must appear once."
                )
            headers[current] = number
            utterances.append(
                {
                    "id": current,
                    "start": float(header["start"]),
                    "end": float(header["end"]),
                    "truth": _TRUTH_CODES[code],
                    "valence": vad[0],
                    "arousal": vad[1],
                    "dominance": vad[2],
                    "line": number,
                }
            )
            continue
        if not line.startswith("C-"):
            continue  # attribute (A-) lines and free text
        categorical = _CATEGORICAL.match(line)
        if categorical is None:
            raise CorpusFormatError(
                f"{path}:{number}: cannot parse the categorical line {line!r}; expected "
                "'C-E2:<TAB>Neutral;<TAB>()'."
            )
        if current is None:
            raise CorpusFormatError(
                f"{path}:{number}: the categorical line {line!r} comes before any turn "
                f"header; expected a header {_HEADER_LAYOUT} above it."
            )
        rater = categorical["rater"]
        if (current, rater) in seen:
            raise CorpusFormatError(
                f"{path}:{number}: evaluator {rater} rates turn {current} a second time "
                f"(first on line {seen[current, rater]}); is a turn header between "
                "them missing?"
            )
        seen[current, rater] = number
        if _SELF.match(rater) and not include_self:
            continue
        words = [w.strip() for w in categorical["labels"].split(";") if w.strip()]
        labels = []
        for word in words:
            key = word.lower()
            if key.startswith("other"):
                key = "other"
            if key not in _RATING_WORDS:
                raise CorpusFormatError(f"{path}:{number}: unknown categorical label {word!r}.")
            labels.append(_RATING_WORDS[key])
        for rank, label in enumerate(labels):
            ratings.append({"item": current, "rater": rater, "label": label, "rank": rank})
    if not utterances:
        raise CorpusFormatError(
            f"{path}: no turn header found (an empty or comments-only file); an "
            f"EmoEvaluation file lists turns as {_HEADER_LAYOUT}, each followed by "
            "its evaluators' 'C-E2:<TAB>Neutral;<TAB>()' lines."
        )
    return utterances, ratings


def load_iemocap(
    data_home,
    *,
    rater_groups=None,
    classes="paper",
    merge_excitement=True,
    multiple_labels="first",
    include_self_evaluations=False,
):
    """Load IEMOCAP's turns and per-evaluator labels from its EmoEvaluation files.

    Parses ``SessionN/dialog/EmoEvaluation/*.txt``: each turn's header line
    ``[start - end]<tab>Ses01F_impro01_F000<tab>neu<tab>[v, a, d]`` gives the
    ground truth (the evaluators' majority; ``xxx`` = none) and the mean
    valence/arousal/dominance, and the categorical lines
    ``C-E2:<tab>Neutral;<tab>()`` give each evaluator's labels. The actors'
    self-evaluations (``C-F1``, ``C-M1``) are left out by default.

    Parameters
    ----------
    data_home : str or os.PathLike
        The IEMOCAP release folder holding ``Session1`` ... ``Session5``.
    rater_groups : mapping, default=None
        Evaluator id (``"E2"``; a ``"C-E2"`` key works too) -> group (e.g.
        ``"male"``/``"female"``), the ``rater_group`` of each rating. Every
        evaluator found must be mapped. None leaves ``rater_group`` missing.
        The paper has two male and four female evaluators but no public
        source says which is which: supply your own mapping.
    classes : "paper", None or sequence of str, default="paper"
        Keep only turns whose truth is in these classes. ``"paper"`` is the
        five classes of section 2.1: neutral, happiness, anger, sadness,
        frustration. None keeps every turn with a truth (``xxx`` turns are
        always dropped). Ratings of kept turns are all kept, whatever their
        label: a vote for, say, surprise is still a vote.
    merge_excitement : bool, default=True
        Relabel excitement as happiness in the truth and in the ratings, as is
        common practice for IEMOCAP (and needed to reach the paper's class
        counts).
    multiple_labels : {"first", "all"}, default="first"
        Evaluators could tick several categories. ``"first"`` keeps the first
        one, so there is one rating per (turn, evaluator), the shape
        :func:`fairrep.raters.perspective_split` expects; ``"all"`` keeps one
        row per ticked category.
    include_self_evaluations : bool, default=False
        Keep the actors' own ratings (raters ``F1``/``M1``, group None unless
        mapped).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``utterances``: DataFrame indexed by ``id`` (the turn name) with
        columns ``path`` (``SessionN/sentences/wav/<dialog>/<id>.wav`` when it
        exists, else NaN), ``speaker`` (``"Ses01F"``), ``speaker_sex``,
        ``session`` (``"Session1"``), ``dialog``, ``improvised``, ``start``,
        ``end``, ``valence``, ``arousal``, ``dominance`` and ``truth``.
        ``ratings``: columns ``item``, ``rater``, ``rater_group``, ``label``.
        ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If ``data_home`` is not a folder or holds no EmoEvaluation file.
    fairrep.exceptions.CorpusFormatError
        If a file departs from the EmoEvaluation layout, naming the file and
        line: a malformed turn header (rather than skipping it, which would
        attach its ratings to the turn above), a categorical line before any
        header, an evaluator rating a turn twice, a turn with two headers, a
        file without any turn.

    References
    ----------
    .. [1] C. Busso et al., "IEMOCAP: Interactive emotional dyadic motion
       capture database", Language Resources and Evaluation 42(4), 2008.
    .. [2] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.1.

    Examples
    --------
    >>> from fairrep.datasets import load_iemocap
    >>> groups = {"E1": "female", "E2": "male"}  # your own mapping
    >>> iemocap = load_iemocap("path/to/IEMOCAP_full_release",
    ...                        rater_groups=groups)  # doctest: +SKIP
    """
    data_home = Path(data_home)
    if not data_home.is_dir():
        raise FileNotFoundError(f"data_home={str(data_home)!r} is not a directory.")
    if rater_groups is not None and not isinstance(rater_groups, Mapping):
        raise TypeError(
            "rater_groups must be a mapping from evaluator id (e.g. 'E2') to group "
            f"(e.g. 'male'); got {type(rater_groups).__name__}."
        )
    if multiple_labels not in {"first", "all"}:
        raise ValueError(f"multiple_labels must be 'first' or 'all'; got {multiple_labels!r}.")
    if isinstance(classes, str):
        if classes != "paper":
            raise ValueError(
                f"classes must be 'paper', None or a sequence of class names; got {classes!r}."
            )
        classes = IEMOCAP_CLASSES
    if classes is not None:
        classes = list(classes)
        known = set(_TRUTH_CODES.values()) - {None}
        unknown = sorted(set(classes) - known)
        if unknown:
            raise ValueError(f"classes contains unknown names {unknown}; known: {sorted(known)}.")

    files = sorted(data_home.glob("Session*/dialog/EmoEvaluation/*.txt"))
    files = [f for f in files if not f.name.startswith(".")]
    if not files:
        raise FileNotFoundError(
            f"no SessionN/dialog/EmoEvaluation/*.txt files under data_home={str(data_home)!r}; "
            "expected the IEMOCAP release folder."
        )
    utterance_rows, rating_rows = [], []
    where = {}  # turn -> "file:line" of its header
    for path in files:
        session = path.parents[2].name
        found, rated = _parse_file(path, include_self_evaluations)
        for row in found:
            here = f"{path}:{row.pop('line')}"
            if row["id"] in where:
                raise CorpusFormatError(
                    f"{here}: turn {row['id']} has a second header (the first is at "
                    f"{where[row['id']]}); its ratings would be merged. Each turn "
                    "must appear once."
                )
            where[row["id"]] = here
            row["session"] = session
            row["dialog"] = path.stem
        utterance_rows += found
        rating_rows += rated

    utterances = pd.DataFrame(utterance_rows).set_index("id")
    ratings = pd.DataFrame(rating_rows, columns=["item", "rater", "label", "rank"])
    if merge_excitement:
        utterances["truth"] = utterances["truth"].replace("excitement", "happiness")
        ratings["label"] = ratings["label"].replace("excitement", "happiness")
    if multiple_labels == "first":
        ratings = ratings[ratings["rank"] == 0]
    keep = utterances["truth"].notna()
    if classes is not None:
        keep &= utterances["truth"].isin(classes)
    utterances = utterances[keep]
    ratings = ratings[ratings["item"].isin(utterances.index)].drop(columns="rank")

    ids = utterances.index.to_series()
    # the speaking actor is the first letter of the last part: Ses01F_impro01_M003
    speaker_letter = ids.str.rsplit("_", n=1).str[-1].str[0]
    utterances.insert(0, "speaker", ids.str[:5] + speaker_letter)
    utterances.insert(1, "speaker_sex", speaker_letter.map({"F": "female", "M": "male"}))
    utterances.insert(2, "improvised", utterances["dialog"].str.contains("impro"))
    wav = [
        data_home / s / "sentences" / "wav" / d / f"{i}.wav"
        for i, s, d in zip(utterances.index, utterances["session"], utterances["dialog"])
    ]
    utterances.insert(0, "path", [str(p) if p.is_file() else np.nan for p in wav])
    order = ["path", "speaker", "speaker_sex", "session", "dialog", "improvised", "start", "end",
             "valence", "arousal", "dominance", "truth"]
    utterances = utterances[order]

    if rater_groups is None:
        ratings.insert(2, "rater_group", np.nan)
    else:
        mapping = {str(k).removeprefix("C-"): v for k, v in rater_groups.items()}
        unmapped = sorted(set(ratings["rater"]) - set(mapping))
        if unmapped:
            raise ValueError(
                f"rater_groups does not map the evaluators {unmapped}; give every "
                f"evaluator a group (evaluators found: {sorted(set(ratings['rater']))})."
            )
        ratings.insert(2, "rater_group", ratings["rater"].map(mapping))
    return Bunch(utterances=utterances, ratings=ratings.reset_index(drop=True), DESCR=_DESCR)
