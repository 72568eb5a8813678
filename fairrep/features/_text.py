"""Text front end: TF-IDF + truncated SVD, or a local sentence encoder.

The two-stage strategy of Chien & Lee takes any fixed-length input vector;
section 2.2.1 builds it from speech. For a corpus of rated texts (POPQUORN)
this module gives the counterpart of the speech featurizers: one vector per
text, from a weight-free TF-IDF + latent semantic analysis by default, or
from a transformers encoder saved in a local folder, with the speech
featurizers' on-disk cache and progress bar.
"""

import hashlib
import os
from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._nn import store_init_params
from ._audio import _require
from ._cache import FeatureCache
from ._collection import ItemCollectionMixin
from ._sentence import SentenceEncoder

__all__ = ["TextFeatures", "check_text_collection"]

def check_text_collection(X, name="X"):
    """Validate a collection of texts and return it as a list of str.

    Parameters
    ----------
    X : sequence of str
        A list, tuple, pandas Series, 1-D array or one-column DataFrame of
        strings.
    name : str, default="X"
        Name of the argument, for error messages.

    Returns
    -------
    texts : list of str
    """
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(
                f"{name} must be a sequence of texts; got a DataFrame with {X.shape[1]} "
                "columns (pass one column, e.g. texts['text'])."
            )
        X = X.iloc[:, 0]
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"{name} must be a sequence of texts; got a single {type(X).__name__}. "
            "Wrap it in a list."
        )
    if isinstance(X, np.ndarray) and X.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of texts; got shape {X.shape}.")
    if not hasattr(X, "__iter__") or isinstance(X, dict):
        raise TypeError(f"{name} must be a sequence of texts; got {type(X).__name__}.")
    texts = list(X)
    if not texts:
        raise ValueError(f"{name} is empty: pass at least one text.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"{name}[{i}] must be a str; got {text!r} ({type(text).__name__}). "
                "Drop or fill missing texts first."
            )
    return texts


def _text_fingerprint(text):
    return "text|" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class TextFeatures(ItemCollectionMixin, TransformerMixin, BaseEstimator):
    """One feature vector per text: TF-IDF + SVD, or a local sentence encoder.

    ``method="tfidf"`` (the default, no weights needed) weighs character
    n-grams within words (or words) by sublinear TF-IDF and projects them on
    their ``n_components`` leading singular vectors (latent semantic
    analysis), both fitted on the texts given to ``fit``. ``method="sentence"``
    runs the texts through a transformers encoder saved in ``model_path``
    and pools its last hidden states over the tokens, as sentence-transformers
    does: a sentence-transformers folder (``modules.json``) sets the pooling
    and the normalisation, any other saved encoder is mean-pooled. Nothing is
    downloaded. The vectors play the part of the utterance features of
    section 2.2.1 of Chien & Lee.

    Parameters
    ----------
    method : {"tfidf", "sentence"}, default="tfidf"
    n_components : int, default=64
        ``"tfidf"``: number of SVD components (at most the number of texts
        and of n-grams in fit). Ignored by ``"sentence"``, whose vectors have
        the encoder's hidden size.
    analyzer : {"char_wb", "char", "word"}, default="char_wb"
        ``"tfidf"``: the units counted. Character n-grams within word
        boundaries resist the misspellings and obfuscated slurs of social
        media text (``docs/real_raters.rst`` compares them with words).
    ngram_range : tuple (min_n, max_n) or None, default=None
        ``"tfidf"``: lengths of the n-grams; None is (2, 4) for characters
        and (1, 1) for words.
    min_df : int, default=2
        ``"tfidf"``: n-grams in fewer texts are dropped.
    max_features : int or None, default=20000
        ``"tfidf"``: keep the most frequent n-grams only.
    model_path : str or os.PathLike, default=None
        ``"sentence"``: a saved transformers encoder with its tokenizer
        (``save_pretrained`` layout), or a sentence-transformers folder.
    pooling : {"auto", "mean", "cls", "max"}, default="auto"
        ``"sentence"``: ``"auto"`` reads the sentence-transformers pooling
        configuration, else averages over the tokens.
    max_length : int, default=256
        ``"sentence"``: longer texts are truncated to this many tokens (or
        the encoder's own limit, if smaller).
    batch_size : int, default=32
    standardize : bool, default=True
        Z-score each output dimension with the mean and deviation of the
        texts given to ``fit``, as the downstream networks expect.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
    cache_dir : str or os.PathLike, default=None
        ``"sentence"``: folder of the on-disk cache of the encoder's vectors
        (one entry per text, keyed by the text and the model files). The
        TF-IDF + SVD features depend on the texts fitted on, so they are not
        cached (they take seconds).
    progress_bar : bool or None, default=None
        ``"sentence"``: show a tqdm bar: always, never, or on a terminal only.
    random_state : int, RandomState instance or None, default=0
        Seed of the randomized SVD; fixed by default so that the same texts
        give the same features.

    Attributes
    ----------
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
        ``"tfidf"`` only.
    svd_ : sklearn.decomposition.TruncatedSVD
        ``"tfidf"`` only.
    encoder_ : object
        ``"sentence"`` only: the loaded tokenizer and encoder (``model``,
        ``tokenizer``), with the ``pooling`` applied, ``normalize`` (unit
        length, from a sentence-transformers ``Normalize`` module) and the
        ``max_length`` used.
    scaler_ : sklearn.preprocessing.StandardScaler or None
    n_features_out_ : int
    feature_names_out_ : ndarray of str
        ``"tfidf_svd{i}"`` or ``"sentence{i}"``.

    See Also
    --------
    fairrep.datasets.load_popquorn : Real rated texts with rater gender.
    SSLFeatures : The speech counterpart of ``method="sentence"``.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.2.1.
    .. [2] S. Deerwester et al., "Indexing by latent semantic analysis", JASIS
       41(6), 1990; N. Reimers and I. Gurevych, "Sentence-BERT", EMNLP 2019.

    Examples
    --------
    >>> from fairrep.features import TextFeatures
    >>> texts = ["you are great", "you are awful", "what a great day",
    ...          "an awful, awful day", "great work", "awful work"]
    >>> TextFeatures(n_components=3).fit_transform(texts).shape
    (6, 3)
    """

    _parameter_constraints = {
        "method": [StrOptions({"tfidf", "sentence"})],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "analyzer": [StrOptions({"char_wb", "char", "word"})],
        "ngram_range": [tuple, None],
        "min_df": [Interval(Integral, 1, None, closed="left")],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "model_path": [str, os.PathLike, None],
        "pooling": [StrOptions({"auto", "mean", "cls", "max"})],
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "standardize": ["boolean"],
        "device": [str, torch.device],
        "cache_dir": [str, os.PathLike, None],
        "progress_bar": ["boolean", None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        method="tfidf",
        *,
        n_components=64,
        analyzer="char_wb",
        ngram_range=None,
        min_df=2,
        max_features=20000,
        model_path=None,
        pooling="auto",
        max_length=256,
        batch_size=32,
        standardize=True,
        device="cpu",
        cache_dir=None,
        progress_bar=None,
        random_state=0,
    ):
        store_init_params(self, locals())

    # ------------------------------------------------------------ fitting

    def _fit_tfidf(self, texts):
        ngram = self.ngram_range
        if ngram is None:
            ngram = (1, 1) if self.analyzer == "word" else (2, 4)
        if not (len(ngram) == 2 and all(
                isinstance(n, Integral) and not isinstance(n, bool) for n in ngram)
                and 1 <= ngram[0] <= ngram[1]):
            raise ValueError(
                f"ngram_range must be a tuple (min_n, max_n) of integers with "
                f"1 <= min_n <= max_n; got {ngram!r}."
            )
        self.vectorizer_ = TfidfVectorizer(
            analyzer=self.analyzer, ngram_range=tuple(ngram), min_df=self.min_df,
            max_features=self.max_features, sublinear_tf=True,
        )
        try:
            counts = self.vectorizer_.fit_transform(texts)
        except ValueError as error:  # empty vocabulary
            raise ValueError(
                f"no {self.analyzer} n-gram of ngram_range={ngram} occurs in "
                f"min_df={self.min_df} of the {len(texts)} texts given to fit ({error}); "
                "pass more texts or lower min_df."
            ) from error
        limit = min(counts.shape)
        if self.n_components > limit:
            raise ValueError(
                f"n_components={self.n_components} must be at most the number of texts "
                f"({counts.shape[0]}) and of n-grams ({counts.shape[1]}) in fit."
            )
        self.svd_ = TruncatedSVD(self.n_components, random_state=self.random_state)
        self.feature_names_out_ = np.array(
            [f"tfidf_svd{i}" for i in range(self.n_components)], dtype=object
        )
        return self.svd_.fit_transform(counts)

    def _embed(self, texts):
        """Encoder vectors of ``texts``, read from and written to the cache."""
        encoder = self.encoder_
        out = np.empty((len(texts), encoder.hidden_size), dtype=np.float64)
        cache = None
        todo = list(range(len(texts)))
        if self.cache_dir is not None:
            cache = FeatureCache(self.cache_dir, {
                "featurizer": type(self).__name__, "method": "sentence",
                "model_files": encoder.model_files,
                "transformers": _require("transformers", "transformers").__version__,
                "pooling": encoder.pooling, "normalize": encoder.normalize,
                "max_length": encoder.max_length,
            })
            todo = []
            for i, text in enumerate(texts):
                cached = cache.get(_text_fingerprint(text))
                if cached is not None and cached.shape == (out.shape[1],):
                    out[i] = cached
                else:
                    todo.append(i)
        from tqdm.auto import tqdm

        disable = None if self.progress_bar is None else not self.progress_bar
        with tqdm(total=len(todo), desc=type(self).__name__, unit="text",
                  disable=disable) as bar:
            for start in range(0, len(todo), self.batch_size):
                rows = todo[start:start + self.batch_size]
                out[rows] = encoder.encode([texts[i] for i in rows])
                if cache is not None:
                    for i in rows:
                        cache.put(_text_fingerprint(texts[i]), out[i])
                bar.update(len(rows))
        return out

    def _fit(self, X):
        texts = check_text_collection(X)
        if self.method == "tfidf":
            features = self._fit_tfidf(texts)
        else:
            if self.model_path is None:
                raise ValueError(
                    "method='sentence' needs model_path: a local folder with a saved "
                    "transformers encoder and its tokenizer."
                )
            self.encoder_ = SentenceEncoder(
                self.model_path, pooling=self.pooling, max_length=self.max_length,
                device=self.device,
            )
            self.feature_names_out_ = np.array(
                [f"sentence{i}" for i in range(self.encoder_.hidden_size)], dtype=object
            )
            features = self._embed(texts)
        self.n_features_out_ = features.shape[1]
        self.scaler_ = StandardScaler().fit(features) if self.standardize else None
        return features

    def _scale(self, features):
        return features if self.scaler_ is None else self.scaler_.transform(features)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the TF-IDF + SVD (or load the encoder) and the standardisation.

        Parameters
        ----------
        X : sequence of str
            The texts.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit on ``X`` and return its features (each text encoded once).

        Parameters
        ----------
        X : sequence of str
        y : None
            Ignored.

        Returns
        -------
        features : ndarray of shape (n_texts, n_features_out_)
        """
        return self._scale(self._fit(X))

    def transform(self, X):
        """One feature vector per text.

        Parameters
        ----------
        X : sequence of str

        Returns
        -------
        features : ndarray of shape (n_texts, n_features_out_)
        """
        check_is_fitted(self, "feature_names_out_")
        texts = check_text_collection(X)
        if self.method == "tfidf":
            features = self.svd_.transform(self.vectorizer_.transform(texts))
        else:
            features = self._embed(texts)
        return self._scale(features)

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : None
            Ignored (the input is text).

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()
