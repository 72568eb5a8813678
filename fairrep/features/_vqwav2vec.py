"""vq-wav2vec features from a local fairseq checkpoint (paper, section 2.2.1)."""

import contextlib
import logging
import os
from pathlib import Path

import numpy as np
import torch
from sklearn.utils._param_validation import StrOptions

from .._nn import store_init_params
from ._audio import _BaseAudioFeaturizer, _require, conv_min_samples
from ._cache import file_fingerprint

__all__ = ["VQWav2Vec"]

_LEGACY_NAMES = {"speech_pretraining": "audio_pretraining", "audio_cpc": "wav2vec"}


@contextlib.contextmanager
def _quiet_fairseq():
    """fairseq logs the whole model at INFO level when it builds one."""
    logger = logging.getLogger("fairseq")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _read_checkpoint(path):
    """The model config and weights of a fairseq checkpoint.

    Checkpoints written by fairseq >= 0.10 keep an OmegaConf ``cfg``; older
    ones, such as the published ``vq-wav2vec.pt``, an argparse ``args``
    namespace, converted here the way fairseq converts it.
    """
    _require("fairseq", "fairseq")
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf

    # fairseq checkpoints pickle their config objects, so weights_only loading
    # cannot read them: only load checkpoints from a source you trust.
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(
            f"checkpoint={os.fspath(path)!r} is not a fairseq checkpoint: expected a "
            "dict with 'model' weights and a 'cfg' (or legacy 'args') entry."
        )
    cfg = state.get("cfg")
    if cfg is None:
        args = state.get("args")
        if args is None:
            raise ValueError(
                f"checkpoint={os.fspath(path)!r} has neither 'cfg' nor 'args': cannot "
                "tell which model it holds."
            )
        for attribute in ("task", "arch"):
            value = getattr(args, attribute, None)
            if value in _LEGACY_NAMES:
                setattr(args, attribute, _LEGACY_NAMES[value])
        cfg = convert_namespace_to_omegaconf(args)
    return cfg["model"], state["model"]


class VQWav2Vec(_BaseAudioFeaturizer):
    """Mean-pooled 512-d vq-wav2vec vectors from a fairseq checkpoint.

    The paper's front end (section 2.2.1 of Chien & Lee): each utterance is
    run through a vq-wav2vec model (Baevski et al., 2020) and its 512-d
    frame vectors are averaged over time into one vector per utterance, to
    be z-normalised per speaker with :class:`SpeakerStandardScaler`.

    The checkpoint is a local fairseq file (e.g. the published
    ``vq-wav2vec.pt`` or ``vq-wav2vec_kmeans.pt``); nothing is downloaded.
    Audio is mixed down to mono and resampled to 16 kHz, the rate the models
    were trained at.

    Which frame vectors are pooled is ``representation``:

    - ``"z"`` (default): the latent vectors z of the convolutional encoder,
      one 512-d vector per 10 ms, the continuous *latent representation*
      that the quantizer discretises. The paper speaks of "latent"
      vq-wav2vec vectors; z keeps the information the quantizer rounds away,
      which matters once vectors are averaged over an utterance.
    - ``"quantized"``: the quantized latents ẑ (the codebook vectors chosen
      for each frame, 512-d for the published models), so the pooled vector
      is a code histogram embedded in the codebook space.
    - ``"context"``: the output c of the context network (the aggregator).

    Parameters
    ----------
    checkpoint : str or os.PathLike
        Path of the fairseq checkpoint. It is unpickled, which can run code:
        only load checkpoints from a source you trust.
    representation : {"z", "quantized", "context"}, default="z"
    sample_rate : int, default=16000
        Rate the audio is resampled to; keep the rate the model was trained at.
    min_duration : float, default=0.1
        Shorter utterances raise ``ValueError`` (the encoder's receptive field
        is about 30 ms).
    device : {"cpu", "cuda", "auto"}, default="cpu"
    cache_dir : str or os.PathLike, default=None
        Folder of the on-disk feature cache; the key includes the checkpoint's
        path, size and modification time and ``representation``.
    progress_bar : bool or None, default=None
        Show a tqdm progress bar: always, never, or on a terminal only (None).

    Attributes
    ----------
    model_ : fairseq.models.wav2vec.Wav2VecModel
        The loaded model, in evaluation mode.
    n_features_out_ : int
        512 for the published models.
    feature_names_out_ : ndarray of str
        ``"vqwav2vec_<representation>_<i>"``.
    min_samples_ : int
        Shortest input, in samples at 16 kHz: the receptive field of one
        frame of the convolutional encoder (465, 29 ms, for the published
        models). Shorter audio raises ``ValueError`` naming the utterance.

    See Also
    --------
    SSLFeatures : wav2vec 2.0 / HuBERT / WavLM from transformers.
    EGeMAPS : Weight-free acoustic functionals.
    SpeakerStandardScaler : Per-speaker z-normalisation (section 2.2.1).

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.2.1.
    .. [2] A. Baevski, S. Schneider and M. Auli, "vq-wav2vec: Self-Supervised
       Learning of Discrete Speech Representations", ICLR 2020.

    Examples
    --------
    >>> from fairrep.features import VQWav2Vec
    >>> featurizer = VQWav2Vec(checkpoint="path/to/vq-wav2vec.pt")
    >>> # X = featurizer.fit_transform(["a.wav", "b.wav"])  # (2, 512)
    """

    _parameter_constraints = {
        **_BaseAudioFeaturizer._parameter_constraints,
        "checkpoint": [str, os.PathLike],
        "representation": [StrOptions({"z", "quantized", "context"})],
        "device": [str, torch.device],
    }

    def __init__(
        self,
        checkpoint,
        *,
        representation="z",
        sample_rate=16000,
        min_duration=0.1,
        device="cpu",
        cache_dir=None,
        progress_bar=None,
    ):
        store_init_params(self, locals())

    def _setup(self):
        from ..utils._torch import resolve_device

        path = Path(self.checkpoint)
        if not path.is_file():
            raise FileNotFoundError(
                f"checkpoint={os.fspath(self.checkpoint)!r} does not exist; expected a "
                "local fairseq vq-wav2vec checkpoint file (.pt)."
            )
        model_cfg, weights = _read_checkpoint(path)
        from fairseq import models

        with _quiet_fairseq():
            model = models.build_model(model_cfg, task=None)
        if not (hasattr(model, "feature_extractor") and hasattr(model, "feature_aggregator")):
            raise ValueError(
                f"checkpoint={os.fspath(self.checkpoint)!r} holds a {type(model).__name__}, "
                "not a (vq-)wav2vec model; for wav2vec 2.0 / HuBERT use SSLFeatures."
            )
        if self.representation == "quantized" and getattr(model, "vector_quantizer", None) is None:
            raise ValueError(
                f"representation='quantized' needs a vq-wav2vec checkpoint, but "
                f"checkpoint={os.fspath(self.checkpoint)!r} has no vector quantizer "
                "(a plain wav2vec model); use representation='z' or 'context'."
            )
        model.load_state_dict(weights, strict=True)
        self.device_ = resolve_device(self.device)
        self.model_ = model.to(self.device_).eval()
        # the front end's convolutions have no padding: shorter audio has no frame
        self.min_samples_ = conv_min_samples(
            (m.kernel_size[0], m.stride[0])
            for m in model.feature_extractor.modules() if isinstance(m, torch.nn.Conv1d)
        )
        probe = self._frames(np.zeros(self.sample_rate, dtype=np.float32))
        dim = probe.shape[1]
        return [f"vqwav2vec_{self.representation}_{i}" for i in range(dim)]

    def _frames(self, waveform):
        """(n_frames, dim) vectors of the chosen representation."""
        source = torch.as_tensor(waveform, dtype=torch.float32, device=self.device_)[None]
        with torch.inference_mode():
            z = self.model_.feature_extractor(source)  # (1, dim, frames)
            if self.representation == "quantized":
                frames = self.model_.vector_quantizer(z)["x"]
            elif self.representation == "context":
                if self.model_.vector_quantizer is not None:
                    z = self.model_.vector_quantizer(z)["x"]
                frames = self.model_.feature_aggregator(z)
            else:
                frames = z
        return frames[0].T.cpu().numpy()

    def _min_samples(self):
        return self.min_samples_, "one frame of the model's convolutional encoder"

    def _cache_settings(self):
        return {"checkpoint_file": file_fingerprint(self.checkpoint)}

    def _extract(self, waveform):
        return self._frames(waveform).mean(axis=0)
