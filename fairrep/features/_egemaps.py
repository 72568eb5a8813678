"""eGeMAPS functionals with openSMILE: the default, weight-free featurizer."""

import math

from .._nn import store_init_params
from ._audio import _BaseAudioFeaturizer, _require

__all__ = ["EGeMAPS"]

# The longest analysis window of the eGeMAPS configuration (the F0 window).
_SHORTEST_SECONDS = 0.060


class EGeMAPS(_BaseAudioFeaturizer):
    """The 88 eGeMAPS v02 functionals of each utterance (openSMILE).

    The extended Geneva Minimalistic Acoustic Parameter Set (Eyben et al.,
    2016) summarises pitch, loudness, spectral balance, formants, jitter,
    shimmer and voicing statistics of an utterance in 88 numbers. It needs no
    pretrained weights, which makes it the default front end when the paper's
    vq-wav2vec checkpoint (section 2.2.1 of Chien & Lee) is not at hand; put a
    :class:`SpeakerStandardScaler` after it for the paper's per-speaker
    z-normalisation.

    Audio is mixed down to mono and resampled to ``sample_rate`` first, so
    that corpora recorded at different rates give comparable features.

    Parameters
    ----------
    sample_rate : int, default=16000
        Rate the audio is resampled to before openSMILE sees it.
    min_duration : float, default=0.1
        Shorter utterances raise ``ValueError`` (openSMILE returns undefined
        functionals for a handful of frames). Whatever its value, audio
        shorter than 60 ms, the longest eGeMAPS window, raises too.
    cache_dir : str or os.PathLike, default=None
        Folder of the on-disk feature cache (keyed by file path, size and
        modification time, or by the samples of an in-memory waveform, and by
        the settings and openSMILE version); None disables caching.
    progress_bar : bool or None, default=None
        Show a tqdm progress bar during extraction: always (True), never
        (False) or only when writing to a terminal (None).

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        openSMILE's names of the 88 functionals.
    n_features_out_ : int
        88.
    smile_ : opensmile.Smile
        The configured extractor.

    See Also
    --------
    VQWav2Vec : The paper's features (fairseq checkpoint needed).
    SSLFeatures : wav2vec 2.0 / HuBERT / WavLM hidden states (transformers).
    SpeakerStandardScaler : Per-speaker z-normalisation.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.2.1.
    .. [2] F. Eyben et al., "The Geneva Minimalistic Acoustic Parameter Set
       (GeMAPS) for Voice Research and Affective Computing", IEEE Trans.
       Affective Computing 7(2), 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from fairrep.features import EGeMAPS
    >>> t = np.arange(16000) / 16000
    >>> tone = (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    >>> EGeMAPS().fit_transform([(tone, 16000)]).shape  # doctest: +SKIP
    (1, 88)
    """

    def __init__(self, *, sample_rate=16000, min_duration=0.1, cache_dir=None, progress_bar=None):
        store_init_params(self, locals())

    def _setup(self):
        opensmile = _require("opensmile", "speech")
        self.smile_ = opensmile.Smile(
            feature_set=opensmile.FeatureSet.eGeMAPSv02,
            feature_level=opensmile.FeatureLevel.Functionals,
        )
        return list(self.smile_.feature_names)

    def _min_samples(self):
        # measured: openSMILE returns NaN functionals below 60 ms at 8, 16
        # and 44.1 kHz (944 samples NaN, 960 finite at 16 kHz)
        return math.ceil(_SHORTEST_SECONDS * self.sample_rate), (
            "the longest analysis window of eGeMAPS (60 ms, the F0 window); "
            "openSMILE returns NaN for shorter audio"
        )

    def _cache_settings(self):
        opensmile = _require("opensmile", "speech")
        return {"feature_set": "eGeMAPSv02", "opensmile": opensmile.__version__}

    def _extract(self, waveform):
        return self.smile_.process_signal(waveform, self.sample_rate).to_numpy()[0]
