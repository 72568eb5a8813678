"""Speech front end: featurizers and per-speaker normalisation (paper, section 2.2.1).

Featurizers are scikit-learn transformers over a sequence of utterances
(audio paths or ``(waveform, sample_rate)`` pairs) that return one vector per
utterance: :class:`EGeMAPS` (openSMILE, no weights needed; the default),
:class:`VQWav2Vec` (the paper's 512-d vq-wav2vec features from a fairseq
checkpoint) and :class:`SSLFeatures` (wav2vec 2.0 / HuBERT / WavLM hidden
states from a local transformers model). :class:`SpeakerStandardScaler`
then z-normalises the features per speaker.

:class:`TextFeatures` is the text counterpart, for rated text corpora such
as POPQUORN: TF-IDF + truncated SVD with no weights (the default), or a
local transformers / sentence-transformers encoder.
"""

from ._audio import load_audio
from ._cache import FeatureCache
from ._egemaps import EGeMAPS
from ._normalize import SpeakerStandardScaler
from ._ssl import SSLFeatures
from ._text import TextFeatures
from ._vqwav2vec import VQWav2Vec

__all__ = [
    "EGeMAPS",
    "FeatureCache",
    "SSLFeatures",
    "SpeakerStandardScaler",
    "TextFeatures",
    "VQWav2Vec",
    "load_audio",
]
