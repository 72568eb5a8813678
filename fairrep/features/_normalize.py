"""Per-speaker z-normalisation (paper, section 2.2.1)."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._nn import store_init_params
from ..utils._validation import is_missing

__all__ = ["SpeakerStandardScaler"]


def _check_speakers(speakers, n_samples, method):
    if speakers is None:
        raise ValueError(
            f"speakers is required in {method}: one speaker id per sample. In a "
            "Pipeline, enable metadata routing and call "
            "set_fit_request(speakers=True).set_transform_request(speakers=True)."
        )
    speakers = np.asarray(speakers, dtype=object)
    if speakers.ndim != 1 or speakers.shape[0] != n_samples:
        raise ValueError(
            f"speakers must have shape ({n_samples},), one id per sample of X; got "
            f"shape {speakers.shape}."
        )
    if is_missing(speakers).any():
        raise ValueError("speakers contains missing values (None/NaN); every sample needs a speaker id.")
    return speakers


def _moments(X, speakers):
    """Per-speaker mean and standard deviation, as DataFrames indexed by speaker."""
    frame = pd.DataFrame(X).groupby(speakers, sort=False)
    return frame.mean(), frame.std(ddof=0)


class SpeakerStandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise features within each speaker (per-speaker z-normalisation).

    Each feature is centred and scaled with the mean and standard deviation of
    the speaker's own utterances, which removes speaker offsets in level and
    range before emotion (or fairness) modelling, as the paper does with its
    vq-wav2vec features (section 2.2.1).

    Speaker ids are metadata: pass them as ``speakers=`` to ``fit`` and
    ``transform``; in a :class:`~sklearn.pipeline.Pipeline` with metadata
    routing enabled, request them with
    ``set_fit_request(speakers=True).set_transform_request(speakers=True)``.

    Parameters
    ----------
    unseen : {"self", "global", "error"}, default="self"
        What ``transform`` does with a speaker not seen in ``fit``:
        ``"self"`` standardises the speaker's samples with their own statistics
        computed on the data being transformed (the usual choice in
        speaker-independent evaluation, where test speakers are never in the
        training set; needs at least 2 samples of that speaker, else the
        global statistics are used); ``"global"`` uses the mean and standard
        deviation of all training samples; ``"error"`` raises.
    with_std : bool, default=True
        Divide by the standard deviation (otherwise only centre).
    epsilon : float, default=1e-8
        Standard deviations below this are treated as 1, so a constant
        feature becomes 0 instead of NaN.

    Attributes
    ----------
    speaker_means_ : pandas.DataFrame of shape (n_speakers, n_features)
    speaker_scales_ : pandas.DataFrame of shape (n_speakers, n_features)
    mean_ : ndarray of shape (n_features,)
        Global mean, used for unseen speakers with ``unseen="global"``.
    scale_ : ndarray of shape (n_features,)
    n_features_in_ : int

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.2.1.

    Examples
    --------
    >>> import numpy as np
    >>> from fairrep.features import SpeakerStandardScaler
    >>> X = np.array([[1.0], [3.0], [10.0], [14.0]])
    >>> SpeakerStandardScaler().fit_transform(X, speakers=["a", "a", "b", "b"]).ravel()
    array([-1.,  1., -1.,  1.])
    """

    _parameter_constraints = {
        "unseen": [StrOptions({"self", "global", "error"})],
        "with_std": ["boolean"],
        "epsilon": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, unseen="self", with_std=True, epsilon=1e-8):
        store_init_params(self, locals())

    def _safe_scale(self, scale):
        scale = np.asarray(scale, dtype=float)
        if not self.with_std:
            return np.ones_like(scale)
        return np.where(scale < self.epsilon, 1.0, scale)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, speakers=None):
        """Learn each speaker's mean and standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.
        speakers : array-like of shape (n_samples,)
            Speaker id of each sample.

        Returns
        -------
        self : SpeakerStandardScaler
        """
        X = validate_data(self, X, dtype=np.float64)
        speakers = _check_speakers(speakers, X.shape[0], "fit")
        means, scales = _moments(X, speakers)
        self.speaker_means_ = means
        self.speaker_scales_ = scales.apply(self._safe_scale)
        self.mean_ = X.mean(axis=0)
        self.scale_ = self._safe_scale(X.std(axis=0))
        return self

    def transform(self, X, *, speakers=None):
        """Standardise each sample with its speaker's statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        speakers : array-like of shape (n_samples,)
            Speaker id of each sample.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        speakers = _check_speakers(speakers, X.shape[0], "transform")
        seen = pd.Index(speakers).isin(self.speaker_means_.index)
        if not seen.all() and self.unseen == "error":
            unknown = pd.unique(speakers[~seen]).tolist()
            raise ValueError(
                f"speakers {unknown[:10]} were not seen in fit; set unseen='self' or "
                "'global' to standardise them anyway."
            )
        means = np.empty_like(X)
        scales = np.empty_like(X)
        means[seen] = self.speaker_means_.loc[speakers[seen]].to_numpy()
        scales[seen] = self.speaker_scales_.loc[speakers[seen]].to_numpy()
        if not seen.all():
            means[~seen], scales[~seen] = self.mean_, self.scale_
            if self.unseen == "self":
                own_means, own_scales = _moments(X[~seen], speakers[~seen])
                counts = pd.Series(speakers[~seen]).value_counts()
                usable = counts.index[counts >= 2]
                rows = np.isin(speakers, usable) & ~seen
                means[rows] = own_means.loc[speakers[rows]].to_numpy()
                scales[rows] = own_scales.apply(self._safe_scale).loc[speakers[rows]].to_numpy()
        return (X - means) / scales

    def fit_transform(self, X, y=None, *, speakers=None):
        """Fit, then transform ``X`` with the same speaker ids.

        ``fit(X, speakers=speakers).transform(X, speakers=speakers)``: the
        parameters are those of :meth:`fit`, the result that of :meth:`transform`.
        """
        return self.fit(X, speakers=speakers).transform(X, speakers=speakers)
