"""Audio input for the featurizers: reading, mono mix-down, resampling, checks.

The featurizers of section 2.2.1 of Chien & Lee take utterances either as
paths to audio files or as in-memory waveforms. This module turns either into
a mono float32 waveform at the sample rate a model expects, and rejects
unreadable, empty or too short audio with an error that names the utterance.
"""

import os
from fractions import Fraction
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._cache import FeatureCache, utterance_fingerprint
from ._collection import ItemCollectionMixin

__all__ = ["load_audio", "check_audio_collection", "conv_min_samples"]


def _require(module, extra):
    """Import an optional dependency or say which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{module} is required for this feature; install it with "
            f'pip install "fairrep[{extra}]"'
        ) from exc


def _describe(source, index=None):
    where = "" if index is None else f"X[{index}] "
    if isinstance(source, (str, os.PathLike)):
        return f"{where}({os.fspath(source)!r})"
    return f"{where}(in-memory waveform)".strip()


def _is_waveform_pair(item):
    if isinstance(item, dict):
        return "array" in item and "sampling_rate" in item
    return (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[1], (Integral, Real))
        and not isinstance(item[1], bool)
    )


def check_audio_collection(X, name="X"):
    """Validate a collection of utterances and return it as a list.

    Parameters
    ----------
    X : sequence
        One entry per utterance, each either a path (``str`` or
        :class:`os.PathLike`), a ``(waveform, sample_rate)`` tuple, or a dict
        with keys ``"array"`` and ``"sampling_rate"`` (the layout of decoded
        audio in Hugging Face ``datasets``). A pandas Series or a 1-D object
        array of such entries is accepted too; so is a one-column DataFrame
        of paths.
    name : str, default="X"
        Name of the argument, used in error messages.

    Returns
    -------
    items : list
    """
    try:
        import pandas as pd

        if isinstance(X, pd.DataFrame):
            if X.shape[1] != 1:
                raise ValueError(
                    f"{name} must be a sequence of audio paths or (waveform, sample_rate) "
                    f"pairs; got a DataFrame with {X.shape[1]} columns (pass one column, "
                    "e.g. utterances['path'])."
                )
            X = X.iloc[:, 0]
        if isinstance(X, pd.Series):
            X = X.tolist()
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pass
    if isinstance(X, (str, os.PathLike, bytes)):
        raise TypeError(
            f"{name} must be a sequence of utterances (a list of audio paths or "
            f"(waveform, sample_rate) pairs); got a single {type(X).__name__}. Wrap it "
            "in a list."
        )
    if isinstance(X, np.ndarray) and X.dtype != object:
        raise TypeError(
            f"{name} must be a sequence of utterances (audio paths or (waveform, "
            f"sample_rate) pairs); got a numeric array of shape {X.shape}. Pass "
            "in-memory audio as [(waveform, sample_rate), ...] so that the sample "
            "rate is known."
        )
    if not hasattr(X, "__iter__") or isinstance(X, dict):
        raise TypeError(
            f"{name} must be a sequence of audio paths or (waveform, sample_rate) pairs; "
            f"got {type(X).__name__}."
        )
    items = list(X)
    if not items:
        raise ValueError(f"{name} is empty: pass at least one utterance.")
    for i, item in enumerate(items):
        if isinstance(item, (str, os.PathLike)) or _is_waveform_pair(item):
            continue
        raise TypeError(
            f"{name}[{i}] must be an audio path (str or os.PathLike), a "
            "(waveform, sample_rate) tuple or a dict with 'array' and "
            f"'sampling_rate'; got {type(item).__name__}."
        )
    return items


def _read_file(path, index):
    soundfile = _require("soundfile", "speech")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file {_describe(path, index)} does not exist.")
    if path.stat().st_size == 0:
        raise ValueError(
            f"audio file {_describe(path, index)} is empty (0 bytes); expected an "
            "audio file (WAV, FLAC, OGG, MP3, ...)."
        )
    try:
        signal, sample_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises its own LibsndfileError
        reason = str(exc).rstrip(". ")
        raise ValueError(
            f"could not read audio file {_describe(path, index)}: {reason}. Expected a "
            "format libsndfile reads (WAV, FLAC, OGG, MP3, ...)."
        ) from exc
    return signal, int(sample_rate)


def _as_channels_last(waveform, index):
    """In-memory audio as (n_samples, n_channels); 2-D input is taken as
    (n_channels, n_samples) when it has fewer rows than columns, the layout of
    torch and librosa."""
    signal = np.asarray(waveform)
    if signal.dtype == object or not (
        np.issubdtype(signal.dtype, np.floating) or np.issubdtype(signal.dtype, np.integer)
    ):
        raise TypeError(
            f"waveform of {_describe(None, index)} must be a numeric array; got dtype "
            f"{signal.dtype}."
        )
    if np.issubdtype(signal.dtype, np.integer):
        # integer PCM: scale to [-1, 1) as audio readers do
        signal = signal.astype(np.float32) / float(np.iinfo(signal.dtype).max + 1)
    signal = signal.astype(np.float32, copy=False)
    if signal.ndim == 1:
        return signal[:, None]
    if signal.ndim == 2:
        return signal.T if signal.shape[0] < signal.shape[1] else signal
    raise ValueError(
        f"waveform of {_describe(None, index)} must be 1-D (mono) or 2-D (channels x "
        f"samples); got shape {signal.shape}."
    )


def conv_min_samples(layers, *, norm_per_channel=False):
    """Fewest input samples for which a stack of 1-D convolutions gives one frame.

    Parameters
    ----------
    layers : iterable of (kernel_size, stride)
        The convolutions without padding, first layer first (the CNN front
        end of wav2vec-style models).
    norm_per_channel : bool, default=False
        Whether the first layer's output is normalised over time per channel
        (wav2vec 2.0's ``feat_extract_norm="group"``), which needs two frames
        there.

    Returns
    -------
    n_samples : int
        The receptive field of one output frame, or more where the
        normalisation needs it.

    Examples
    --------
    >>> conv_min_samples([(10, 5), (3, 2), (3, 2), (3, 2), (3, 2), (2, 2), (2, 2)])
    400
    """
    layers = [(int(kernel), int(stride)) for kernel, stride in layers]
    field, jump = 1, 1
    for kernel, stride in layers:
        field += (kernel - 1) * jump
        jump *= stride
    if norm_per_channel and layers:
        field = max(field, layers[0][0] + layers[0][1])
    return field


def resample(signal, orig_rate, target_rate):
    """Polyphase resampling of a 1-D signal (``scipy.signal.resample_poly``)."""
    if orig_rate == target_rate:
        return signal
    from scipy.signal import resample_poly

    ratio = Fraction(int(target_rate), int(orig_rate))
    out = resample_poly(signal, ratio.numerator, ratio.denominator)
    return out.astype(np.float32, copy=False)


def load_audio(source, *, sample_rate=16000, min_duration=0.0, index=None):
    """Read one utterance as a mono float32 waveform at ``sample_rate``.

    Parameters
    ----------
    source : str, os.PathLike, tuple or dict
        A path to an audio file (read with ``soundfile``), a
        ``(waveform, sample_rate)`` tuple or a dict with ``"array"`` and
        ``"sampling_rate"``. Multi-channel audio is mixed down to mono by
        averaging the channels; integer PCM is scaled to [-1, 1).
    sample_rate : int, default=16000
        Rate of the returned waveform; other rates are resampled with a
        polyphase filter.
    min_duration : float, default=0.0
        Shortest accepted duration in seconds (after reading, before
        resampling); shorter audio raises ``ValueError``.
    index : int, optional
        Position of the utterance in its collection, for error messages.

    Returns
    -------
    waveform : ndarray of shape (n_samples,), dtype float32

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    ValueError
        The file cannot be decoded, or the audio is empty, too short or not
        finite.

    Examples
    --------
    >>> import numpy as np
    >>> from fairrep.features import load_audio
    >>> stereo = np.ones((2, 44100), dtype=np.float32)  # 1 s, channels first
    >>> load_audio((stereo, 44100), sample_rate=16000).shape
    (16000,)
    """
    if isinstance(source, (str, os.PathLike)):
        signal, orig_rate = _read_file(source, index)
    elif _is_waveform_pair(source):
        waveform, orig_rate = (
            (source["array"], source["sampling_rate"]) if isinstance(source, dict) else source
        )
        if not isinstance(orig_rate, (Integral, Real)) or orig_rate <= 0 or orig_rate != int(orig_rate):
            raise ValueError(
                f"sample rate of {_describe(None, index)} must be a positive integer "
                f"(Hz); got {orig_rate!r}."
            )
        orig_rate = int(orig_rate)
        signal = _as_channels_last(waveform, index)
    else:
        raise TypeError(
            f"{_describe(None, index)} must be an audio path or a (waveform, sample_rate) "
            f"pair; got {type(source).__name__}."
        )
    label = _describe(None if _is_waveform_pair(source) else source, index)
    if signal.shape[0] == 0:
        raise ValueError(f"audio {label} is empty (0 samples).")
    duration = signal.shape[0] / orig_rate
    if duration < min_duration:
        raise ValueError(
            f"audio {label} "
            f"is too short: {duration:.3f} s, the featurizer needs at least "
            f"{min_duration:g} s (min_duration)."
        )
    mono = signal.mean(axis=1) if signal.shape[1] > 1 else signal[:, 0]
    if not np.all(np.isfinite(mono)):
        raise ValueError(
            f"audio {label} "
            "contains NaN or infinite samples."
        )
    return resample(np.ascontiguousarray(mono, dtype=np.float32), orig_rate, sample_rate)


class _BaseAudioFeaturizer(ItemCollectionMixin, TransformerMixin, BaseEstimator):
    """Shared machinery: input checks, per-utterance cache, progress bar.

    Subclasses implement ``_setup()`` (load the model, return the feature
    names), ``_extract(waveform)`` (one utterance to a 1-D vector) and
    ``_cache_settings()`` (what besides the audio determines the output).
    """

    _parameter_constraints = {
        "sample_rate": [Interval(Integral, 1, None, closed="left")],
        "min_duration": [Interval(Real, 0, None, closed="left")],
        "cache_dir": [str, os.PathLike, None],
        "progress_bar": ["boolean", None],
    }

    # parameters that never change the features, left out of the cache key
    _not_in_cache_key = ("cache_dir", "progress_bar", "device")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Check the settings and load the model; no training happens.

        Parameters
        ----------
        X : sequence of audio paths or (waveform, sample_rate) pairs, optional
            Only validated.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if X is not None:
            check_audio_collection(X)
        names = self._setup()
        self.feature_names_out_ = np.asarray(names, dtype=object)
        self.n_features_out_ = len(names)
        return self

    def _min_samples(self):
        """``(fewest samples the model reads, why)`` at ``sample_rate``; (1, "") by default."""
        return 1, ""

    def _check_length(self, waveform, item, index):
        """Refuse audio shorter than the model's minimum before the model sees it."""
        minimum, reason = self._min_samples()
        n_samples = waveform.shape[0]
        if n_samples >= minimum:
            return
        rate = self.sample_rate
        raise ValueError(
            f"audio {_describe(item, index)} is too short for {type(self).__name__}: "
            f"{n_samples} samples at {rate} Hz ({1000 * n_samples / rate:.1f} ms); it "
            f"needs at least {minimum} samples ({1000 * minimum / rate:.1f} ms), "
            f"{reason}. Drop such utterances from X."
        )

    def _cache_key_settings(self):
        params = {
            key: value
            for key, value in self.get_params(deep=False).items()
            if key not in self._not_in_cache_key
        }
        return {"featurizer": type(self).__name__, **params, **self._cache_settings()}

    def transform(self, X):
        """Extract one feature vector per utterance.

        Parameters
        ----------
        X : sequence
            Audio paths, ``(waveform, sample_rate)`` pairs or dicts with
            ``"array"`` and ``"sampling_rate"``.

        Returns
        -------
        features : ndarray of shape (n_utterances, n_features_out_)
        """
        check_is_fitted(self, "feature_names_out_")
        items = check_audio_collection(X)
        cache = None
        if self.cache_dir is not None:
            cache = FeatureCache(self.cache_dir, self._cache_key_settings())
        from tqdm.auto import tqdm

        out = np.empty((len(items), self.n_features_out_), dtype=np.float64)
        disable = None if self.progress_bar is None else not self.progress_bar
        bar = tqdm(items, desc=type(self).__name__, unit="utt", disable=disable)
        for i, item in enumerate(bar):
            fingerprint = None
            if cache is not None:
                fingerprint = utterance_fingerprint(item)
                cached = cache.get(fingerprint)
                if cached is not None and cached.shape == (self.n_features_out_,):
                    out[i] = cached
                    continue
            waveform = load_audio(
                item, sample_rate=self.sample_rate, min_duration=self.min_duration, index=i
            )
            self._check_length(waveform, item, i)
            try:
                features = np.asarray(self._extract(waveform), dtype=np.float64).ravel()
            except Exception as exc:
                exc.add_note(f"while extracting features of {_describe(item, i)}")
                raise
            if not np.all(np.isfinite(features)):
                raise ValueError(
                    f"{type(self).__name__} produced {int((~np.isfinite(features)).sum())} "
                    f"NaN or infinite features for {_describe(item, i)} "
                    f"({waveform.shape[0]} samples at {self.sample_rate} Hz); expected "
                    "finite features. Drop or lengthen this utterance."
                )
            if features.shape != (self.n_features_out_,):
                raise RuntimeError(
                    f"{type(self).__name__} produced {features.shape[0]} values for "
                    f"{_describe(item, i)}; expected {self.n_features_out_}."
                )
            out[i] = features
            if cache is not None:
                cache.put(fingerprint, features)
        return out

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : None
            Ignored (the input is audio, not named columns).

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()
