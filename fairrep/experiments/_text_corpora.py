"""Rated-text corpora as study inputs: POPQUORN with a text front end.

The counterpart of the speech branches of :func:`~fairrep.experiments.load_corpus`
for corpora whose items are texts: the items are described by
:class:`~fairrep.features.TextFeatures` instead of a speech featurizer, and,
having no speaker or session, are split into the loader's item-disjoint folds.
"""

from collections.abc import Mapping

import pandas as pd

from ._corpora import _subsample, corpus_bundle, read_precomputed_features

__all__ = ["TEXT_CORPORA", "TEXT_FEATURE_SETS", "check_text_features", "load_text_corpus"]

#: The corpora of rated texts :func:`load_text_corpus` knows.
TEXT_CORPORA = ("popquorn",)

#: The text front ends: :class:`~fairrep.features.TextFeatures` with
#: ``method="tfidf"`` or ``method="sentence"``.
TEXT_FEATURE_SETS = ("tfidf", "sentence")


def check_text_features(name, features):
    """Why ``features`` cannot describe corpus ``name``, or None when it can.

    Texts take a text front end (or a precomputed matrix); speech corpora
    take a speech one.

    Parameters
    ----------
    name : str
        A corpus of :data:`~fairrep.experiments.CORPORA`.
    features : str or None
        A feature set of :data:`~fairrep.experiments.FEATURE_SETS`.

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


def load_text_corpus(
    name,
    *,
    data_home,
    features=None,
    features_file=None,
    model=None,
    rater_groups=None,
    cache_dir=None,
    device="cpu",
    max_items=None,
    random_state=0,
    progress_bar=None,
):
    """Load POPQUORN, describe its texts and bundle it for the study.

    Calls :func:`~fairrep.datasets.load_popquorn` (binary labels: 1 against
    2-5; raters' self-reported gender as rater groups, Non-binary raters
    left out unless ``rater_groups`` names them), takes a seeded subset of
    ``max_items`` texts, describes the texts with
    :class:`~fairrep.features.TextFeatures` (fitted on the texts studied;
    it sees no label) and bundles them with the loader's five item-disjoint
    folds as the sessions of the session-independent cross-validation
    (section 3.1 of Chien & Lee). Texts have no speaker, so no per-speaker
    normalisation applies; the text features are z-scored as a whole.

    Parameters
    ----------
    name : {"popquorn"}
    data_home : str or path-like
        POPQUORN's folder (holding ``offensiveness_raw_data.csv``).
    features : {"tfidf", "sentence", "precomputed"}, default=None
        ``"tfidf"`` (None): ``TextFeatures(method="tfidf")``, TF-IDF of
        character 2-4-grams and SVD to 64 dimensions, with no weights;
        ``"sentence"``: ``TextFeatures(method="sentence", model_path=model)``;
        ``"precomputed"``: a matrix in ``features_file`` (see
        :func:`~fairrep.experiments._corpora.read_precomputed_features`,
        rows in the order of the loader's texts, or matched by text id).
    features_file : str or path-like, default=None
    model : str or path-like, default=None
        ``"sentence"``: a local transformers or sentence-transformers folder.
    rater_groups : sequence of str, default=None
        The genders kept as rater groups; None is ``("Man", "Woman")``.
    cache_dir : str or path-like, default=None
        ``"sentence"``: cache of the encoder's vectors.
    device : {"cpu", "cuda", "auto"}, default="cpu"
    max_items : int, default=None
        Study a seeded random subset of this many texts.
    random_state : int, default=0
        Seed of the subset.
    progress_bar : bool or None, default=None

    Returns
    -------
    bundle : sklearn.utils.Bunch
        See :func:`~fairrep.experiments.corpus_bundle`.
    """
    from ..datasets import load_popquorn
    from ..features import TextFeatures

    if name not in TEXT_CORPORA:
        raise ValueError(f"name must be one of {TEXT_CORPORA}; got {name!r}.")
    features = features or "tfidf"
    problem = check_text_features(name, features)
    if problem is not None:
        raise ValueError(problem)
    if features == "sentence" and model is None:
        raise ValueError("features='sentence' needs model (a local transformers or "
                         "sentence-transformers folder).")
    if isinstance(rater_groups, Mapping):
        raise TypeError(
            f"rater_groups of {name} names the raters' genders kept as groups (e.g. "
            f"'Man,Woman,Non-binary'), not a mapping; got {dict(rater_groups)!r}.")
    groups = ("Man", "Woman") if rater_groups is None else rater_groups
    data = load_popquorn(data_home, groups=groups)
    all_items = data.texts.index
    items = _subsample(all_items, max_items, random_state)
    texts = data.texts.loc[items]
    if features == "precomputed":
        if features_file is None:
            raise ValueError("features='precomputed' needs features_file.")
        X, _ = read_precomputed_features(features_file, all_items)
        X = X[pd.Index(all_items).get_indexer(items)]
        front = f"the matrix in {features_file}"
    else:
        encoder = TextFeatures(
            method=features, model_path=None if model is None else str(model),
            cache_dir=None if cache_dir is None else str(cache_dir), device=device,
            progress_bar=progress_bar,
        )
        X = encoder.fit_transform(texts["text"])
        front = ("TF-IDF of character 2-4-grams and SVD to 64 dimensions, fitted on the "
                 "studied texts without their labels" if features == "tfidf" else
                 f"the sentence encoder in {model}")
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
        meta={"data_home": str(data_home), "rater_groups": list(data.rater_groups),
              "label_scheme": data.label_scheme, "max_items": max_items},
    )
