"""Berlin Database of Emotional Speech (Emo-DB): utterances decoded from file names."""

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..exceptions import CorpusFormatError
from ._files import read_table

__all__ = ["load_emodb", "EMODB_EMOTIONS", "EMODB_SPEAKERS"]

#: Emotion letter of an Emo-DB file name (German initial) -> English name.
EMODB_EMOTIONS = {
    "W": "anger",  # Wut / Ärger
    "L": "boredom",  # Langeweile
    "E": "disgust",  # Ekel
    "A": "fear",  # Angst
    "F": "happiness",  # Freude
    "T": "sadness",  # Trauer
    "N": "neutral",
}

#: The ten speakers: id -> (sex, age in years), from the corpus documentation.
EMODB_SPEAKERS = {
    "03": ("male", 31),
    "08": ("female", 34),
    "09": ("female", 21),
    "10": ("male", 32),
    "11": ("male", 26),
    "12": ("male", 30),
    "13": ("female", 32),
    "14": ("female", 35),
    "15": ("male", 25),
    "16": ("female", 31),
}

_NAME = re.compile(r"^(?P<speaker>\d{2})(?P<text>[ab]\d{2})(?P<emotion>[WLEAFTN])(?P<version>[a-z])$")

_DESCR = """Emo-DB (Burkhardt et al., 2005): 535 utterances of 10 actors (5 female,
5 male) speaking 10 German sentences in 7 emotions. Speaker sex is a real
sensitive attribute; there are no per-listener labels (only the perception
test's aggregated recognition rate and naturalness), so ``ratings`` is None.
Emo-DB has no recording sessions: ``session`` repeats the speaker, so
session-independent cross-validation is leave-one-speaker-out."""


def _find_wav_folder(data_home):
    data_home = Path(data_home)
    if not data_home.is_dir():
        raise FileNotFoundError(
            f"data_home={str(data_home)!r} is not a directory; expected the Emo-DB "
            "folder that holds wav/ (or the wav/ folder itself)."
        )
    for folder in (data_home / "wav", data_home):
        if folder.is_dir() and any(folder.glob("*.wav")):
            return folder
    raise FileNotFoundError(
        f"no .wav files in data_home={str(data_home)!r} or its wav/ sub-folder; "
        "expected Emo-DB's files named like 03a01Fa.wav."
    )


def _read_perception_test(path):
    """erkennung.txt: Latin-1, tab separated, German decimal commas.

    Every row needs a file name and two percentages; a row without them is
    a file cut short, which would otherwise leave some utterances' scores
    missing without a word.
    """
    columns = ["Satz", "erkannt", "natuerlich"]
    table = read_table(
        path, what="Emo-DB's perception test (tab separated, German decimal commas)",
        columns=columns, required_values=columns, sep="\t", encoding="latin-1", dtype=str,
    )

    def percent(column):
        text = table[column].str.strip().str.replace(",", ".", regex=False)
        values = pd.to_numeric(text, errors="coerce")
        bad = values.isna() | (values < 0) | (values > 100)
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise CorpusFormatError(
                f"{path}:{row + 2}: {column!r} is {table[column].iloc[row]!r}; expected "
                "a percentage between 0 and 100 with a decimal comma (e.g. 65,00)."
            )
        return values / 100

    ids = table["Satz"].astype(str).str.strip().str.replace(r"\.wav$", "", regex=True)
    return pd.DataFrame(
        {
            "recognition_rate": percent("erkannt"),
            "naturalness": percent("natuerlich"),
        }
    ).set_index(pd.Index(ids, name="id"))


def load_emodb(data_home):
    """Load the Emo-DB utterance table from a local copy of the corpus.

    Everything is decoded from the file names ``SSTTTEV.wav``: speaker
    ``SS``, text ``TTT``, emotion letter ``E`` (German initial: W anger,
    L boredom, E disgust, A fear, F happiness, T sadness, N neutral) and
    version ``V``; speaker sex and age come from the corpus documentation.
    The acted emotion is the truth. Files whose names do not follow the
    pattern are skipped with a warning.

    Parameters
    ----------
    data_home : str or os.PathLike
        The Emo-DB folder (holding ``wav/``) or the ``wav/`` folder itself.
        When ``erkennung.txt`` sits beside ``wav/``, the perception test's
        recognition rate and naturalness (fractions of the 20 listeners) are
        added.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``utterances``: DataFrame indexed by ``id`` (the file stem) with
        columns ``path``, ``speaker``, ``speaker_sex`` ("female"/"male"),
        ``speaker_age``, ``session`` (= speaker), ``text``, ``version``,
        ``truth`` (English emotion name) and, when available,
        ``recognition_rate`` and ``naturalness``; ``ratings``: None (no
        per-listener labels); ``DESCR``.

    See Also
    --------
    fairrep.features.EGeMAPS, fairrep.features.SpeakerStandardScaler

    References
    ----------
    .. [1] F. Burkhardt et al., "A Database of German Emotional Speech",
       Interspeech 2005.

    Examples
    --------
    >>> from fairrep.datasets import load_emodb
    >>> emodb = load_emodb("path/to/emodb")  # doctest: +SKIP
    >>> emodb.utterances.groupby("speaker_sex").size()  # doctest: +SKIP
    speaker_sex
    female    302
    male      233
    dtype: int64
    """
    folder = _find_wav_folder(data_home)
    rows, skipped = [], []
    for path in sorted(folder.glob("*.wav")):
        match = _NAME.match(path.stem)
        if match is None or match["speaker"] not in EMODB_SPEAKERS:
            skipped.append(path.name)
            continue
        sex, age = EMODB_SPEAKERS[match["speaker"]]
        rows.append(
            {
                "id": path.stem,
                "path": str(path),
                "speaker": match["speaker"],
                "speaker_sex": sex,
                "speaker_age": age,
                "session": match["speaker"],
                "text": match["text"],
                "version": match["version"],
                "truth": EMODB_EMOTIONS[match["emotion"]],
            }
        )
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} file(s) whose names are not Emo-DB names "
            f"(speaker, text, emotion, version), e.g. {skipped[:3]}.",
            UserWarning,
            stacklevel=2,
        )
    if not rows:
        raise FileNotFoundError(f"no Emo-DB file names in {str(folder)!r} (e.g. 03a01Fa.wav).")
    utterances = pd.DataFrame(rows).set_index("id")
    perception = folder.parent / "erkennung.txt" if folder.name == "wav" else folder / "erkennung.txt"
    if perception.is_file():
        scores = _read_perception_test(perception)
        scores = scores[~scores.index.duplicated()]
        utterances = utterances.join(scores, how="left")
    utterances["speaker_age"] = utterances["speaker_age"].astype(np.int64)
    return Bunch(utterances=utterances, ratings=None, DESCR=_DESCR)
