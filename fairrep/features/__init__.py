"""Speech front end: featurizers and per-speaker normalisation (paper, section 2.2.1)."""

from ._normalize import SpeakerStandardScaler

__all__ = ["SpeakerStandardScaler"]
