"""The feature front ends of the corpora: speech featurizers, text features, files.

Each corpus of :data:`~fairrep.datasets.CORPUS_REGISTRY` describes its items
with one of :data:`FEATURE_SETS`: a speech featurizer run over the audio
files (:func:`speech_features`), :class:`~fairrep.features.TextFeatures` over
the texts (:func:`text_features`), or a precomputed matrix
(:func:`read_precomputed_features`).
"""

from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import CorpusFormatError

__all__ = [
    "FEATURE_SETS",
    "SPEECH_FEATURE_SETS",
    "TEXT_FEATURE_SETS",
    "read_precomputed_features",
    "read_user_table",
    "speech_features",
    "text_features",
]

#: The speech featurizers: :class:`~fairrep.features.EGeMAPS`,
#: :class:`~fairrep.features.VQWav2Vec`, :class:`~fairrep.features.SSLFeatures`.
SPEECH_FEATURE_SETS = ("egemaps", "vq-wav2vec", "ssl")

#: The text front ends: :class:`~fairrep.features.TextFeatures` with
#: ``method="tfidf"`` or ``method="sentence"``.
TEXT_FEATURE_SETS = ("tfidf", "sentence")

#: Every feature set a corpus can be loaded with.
FEATURE_SETS = SPEECH_FEATURE_SETS + TEXT_FEATURE_SETS + ("precomputed",)


def read_user_table(path, argument):
    """The table in ``path`` (CSV, TSV or Parquet); ``argument`` names it in errors."""
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
    table = read_user_table(path, "features_file")
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


def _speech_featurizer(features, *, checkpoint, model, cache_dir, device, progress_bar):
    """The featurizer of ``features`` (one of :data:`SPEECH_FEATURE_SETS`), with its cache."""
    from ..features import EGeMAPS, SSLFeatures, VQWav2Vec

    common = {"cache_dir": None if cache_dir is None else str(cache_dir),
              "progress_bar": progress_bar}
    if features == "egemaps":
        return EGeMAPS(**common)
    if features == "vq-wav2vec":
        if checkpoint is None:
            raise ValueError("features='vq-wav2vec' needs checkpoint (a fairseq .pt file).")
        return VQWav2Vec(checkpoint=str(checkpoint), device=device, **common)
    if features == "ssl":
        if model is None:
            raise ValueError(
                "features='ssl' needs model (a local wav2vec 2.0 / HuBERT / WavLM folder)."
            )
        return SSLFeatures(model_dir=str(model), device=device, **common)
    raise ValueError(f"features must be one of {FEATURE_SETS}; got {features!r}.")


def _precomputed(all_items, items, features_file, item_column=None):
    """Rows of ``items`` in a precomputed matrix that follows ``all_items``."""
    if features_file is None:
        raise ValueError("features='precomputed' needs features_file.")
    # A .npy file follows the full corpus's order: read it whole, then subset.
    X, names = read_precomputed_features(features_file, all_items, item_column=item_column)
    return X[pd.Index(all_items).get_indexer(items)], names


def speech_features(
    all_items,
    items,
    item_info,
    features,
    *,
    corpus,
    features_file,
    checkpoint,
    model,
    cache_dir,
    device,
    progress_bar,
):
    """Features of ``items`` (a subset of ``all_items``, the corpus order) of a speech corpus.

    Returns ``(X, feature_names)``: the rows of a precomputed matrix, or a
    speech featurizer run over ``item_info["path"]``.
    """
    if features == "precomputed":
        return _precomputed(all_items, items, features_file)
    paths = item_info["path"] if "path" in item_info.columns else pd.Series(np.nan, index=items)
    absent = paths.isna()
    if absent.any():
        raise ValueError(
            f"features={features!r} reads the audio, but {int(absent.sum())} of "
            f"{len(items)} {corpus} items have no audio file (e.g. "
            f"{items[absent.to_numpy()][:3].tolist()}); put the audio where the "
            "loader looks for it, or use features='precomputed' with features_file."
        )
    featurizer = _speech_featurizer(
        features, checkpoint=checkpoint, model=model, cache_dir=cache_dir,
        device=device, progress_bar=progress_bar,
    )
    X = featurizer.fit_transform(paths.tolist())
    return X, [str(n) for n in featurizer.get_feature_names_out()]


def text_features(all_items, items, texts, features, *, features_file, model,
                  cache_dir, device, progress_bar):
    """Features of the texts ``texts["text"]`` of ``items`` and how they were made.

    Returns ``(X, front)``: the rows of a precomputed matrix, or
    :class:`~fairrep.features.TextFeatures` fitted on the texts studied (it
    sees no label), and a phrase naming the front end for the report.
    """
    if features == "precomputed":
        X, _ = _precomputed(all_items, items, features_file)
        return X, f"the matrix in {features_file}"
    from ..features import TextFeatures

    encoder = TextFeatures(
        method=features, model_path=None if model is None else str(model),
        cache_dir=None if cache_dir is None else str(cache_dir), device=device,
        progress_bar=progress_bar,
    )
    X = encoder.fit_transform(texts["text"])
    front = ("TF-IDF of character 2-4-grams and SVD to 64 dimensions, fitted on the "
             "studied texts without their labels" if features == "tfidf" else
             f"the sentence encoder in {model}")
    return X, front
