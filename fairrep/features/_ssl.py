"""Self-supervised speech models from transformers: wav2vec 2.0, HuBERT, WavLM."""

import os
from numbers import Integral
from pathlib import Path

import numpy as np
import torch

from .._nn import store_init_params
from ._audio import _BaseAudioFeaturizer, _require, conv_min_samples
from ._cache import file_fingerprint

__all__ = ["SSLFeatures"]


def _model_files_fingerprint(directory):
    """Identity of the files of a saved model directory."""
    directory = Path(directory)
    return sorted(
        file_fingerprint(path)
        for path in directory.iterdir()
        if path.is_file() and path.suffix in {".json", ".bin", ".safetensors", ".pt"}
    )


class SSLFeatures(_BaseAudioFeaturizer):
    """Mean-pooled hidden states of a self-supervised speech model.

    Loads a wav2vec 2.0, HuBERT or WavLM model saved in a local directory
    (``save_pretrained`` layout: ``config.json`` plus weights, optionally a
    ``preprocessor_config.json``) with :mod:`transformers`, runs each
    utterance through it and averages the hidden states of one layer over
    time. This is the current counterpart of the paper's vq-wav2vec features
    (section 2.2.1 of Chien & Lee); nothing is downloaded.

    The waveform is mixed down to mono, resampled to the model's rate (the
    ``sampling_rate`` of its feature extractor, else 16 kHz) and, when the
    feature extractor says ``do_normalize`` (or there is none), normalised to
    zero mean and unit variance, as these models were trained.

    Parameters
    ----------
    model_dir : str or os.PathLike
        Local directory of the saved model.
    layer : int, default=-1
        Which hidden state to pool: 0 is the input of the first transformer
        layer (the projected CNN features), ``k`` the output of layer ``k``,
        negative values count from the last (-1, the default, is the output
        of the last layer).
    min_duration : float, default=0.1
        Shorter utterances raise ``ValueError`` (the CNN encoder needs at
        least 25 ms for one frame).
    device : {"cpu", "cuda", "auto"}, default="cpu"
    cache_dir : str or os.PathLike, default=None
        Folder of the on-disk feature cache; the key includes the model
        files' paths, sizes and modification times and ``layer``.
    progress_bar : bool or None, default=None
        Show a tqdm progress bar: always, never, or on a terminal only (None).

    Attributes
    ----------
    model_ : transformers.PreTrainedModel
        The loaded model, in evaluation mode. A pickle of the fitted
        featurizer holds its class, config and weights, so it loads without
        ``model_dir``.
    sample_rate_ : int
        Rate the audio is resampled to.
    n_layers_ : int
        Number of transformer layers of the model.
    min_samples_ : int
        Shortest input the model reads, in samples at ``sample_rate_``: the
        receptive field of one frame of its CNN front end (400, 25 ms, for
        the base models). Shorter audio raises ``ValueError`` naming the
        utterance, whatever ``min_duration``.
    n_features_out_ : int
        The model's hidden size.
    feature_names_out_ : ndarray of str
        ``"ssl_layer{k}_{i}"``.

    See Also
    --------
    VQWav2Vec : The paper's vq-wav2vec features (fairseq).
    EGeMAPS : Weight-free acoustic functionals.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.2.1.
    .. [2] A. Baevski et al., "wav2vec 2.0", NeurIPS 2020; W.-N. Hsu et al.,
       "HuBERT", IEEE/ACM TASLP 2021; S. Chen et al., "WavLM", IEEE JSTSP 2022.

    Examples
    --------
    >>> from fairrep.features import SSLFeatures
    >>> featurizer = SSLFeatures(model_dir="path/to/wavlm-base-plus", layer=6)
    >>> # X = featurizer.fit_transform(["a.wav", "b.wav"])  # (2, 768)
    """

    _parameter_constraints = {
        **_BaseAudioFeaturizer._parameter_constraints,
        "model_dir": [str, os.PathLike],
        "layer": [Integral],
        "device": [str, torch.device],
    }
    _parameter_constraints.pop("sample_rate")

    def __init__(
        self,
        model_dir,
        *,
        layer=-1,
        min_duration=0.1,
        device="cpu",
        cache_dir=None,
        progress_bar=None,
    ):
        store_init_params(self, locals())

    @property
    def sample_rate(self):
        # read by the base class when loading audio; set in fit
        return getattr(self, "sample_rate_", 16000)

    def _setup(self):
        transformers = _require("transformers", "transformers")

        from ..utils._torch import resolve_device

        directory = Path(self.model_dir)
        if not (directory / "config.json").is_file():
            raise FileNotFoundError(
                f"model_dir={os.fspath(self.model_dir)!r} is not a saved transformers "
                "model: expected a directory with config.json and the weights "
                "(the layout written by save_pretrained)."
            )
        self.device_ = resolve_device(self.device)
        model = transformers.AutoModel.from_pretrained(str(directory), local_files_only=True)
        n_layers = int(getattr(model.config, "num_hidden_layers", 0))
        if not hasattr(model.config, "conv_dim") or n_layers < 1:
            raise ValueError(
                f"model_dir={os.fspath(self.model_dir)!r} holds a "
                f"{type(model).__name__}, not a speech encoder with a CNN front end "
                "(wav2vec 2.0, HuBERT, WavLM, data2vec-audio, ...)."
            )
        if not -(n_layers + 1) <= self.layer <= n_layers:
            raise ValueError(
                f"layer must be between {-(n_layers + 1)} and {n_layers} for this "
                f"{n_layers}-layer model; got {self.layer}."
            )
        self.n_layers_ = n_layers
        self.sample_rate_ = 16000
        self.do_normalize_ = True
        if (directory / "preprocessor_config.json").is_file():
            extractor = transformers.AutoFeatureExtractor.from_pretrained(
                str(directory), local_files_only=True
            )
            self.sample_rate_ = int(getattr(extractor, "sampling_rate", 16000))
            self.do_normalize_ = bool(getattr(extractor, "do_normalize", True))
        self.min_samples_ = conv_min_samples(
            zip(model.config.conv_kernel, model.config.conv_stride),
            norm_per_channel=getattr(model.config, "feat_extract_norm", "group") == "group",
        )
        self.model_ = model.to(self.device_).eval()
        layer = self.layer % (n_layers + 1)
        return [f"ssl_layer{layer}_{i}" for i in range(int(model.config.hidden_size))]

    def __getstate__(self):
        # torch cannot pickle a module with a weight-norm parametrization
        # (wav2vec 2.0's positional convolution); the model travels as its
        # class, its config and its state_dict, and is rebuilt on loading
        state = super().__getstate__()
        model = state.pop("model_", None)
        if model is not None:
            state["_model_parts"] = (type(model), model.config, {
                name: tensor.detach().cpu() for name, tensor in model.state_dict().items()
            })
        return state

    def __setstate__(self, state):
        parts = state.pop("_model_parts", None)
        super().__setstate__(state)
        if parts is not None:
            model_class, config, weights = parts
            model = model_class(config)
            model.load_state_dict(weights)
            self.model_ = model.to(self.device_).eval()

    def _min_samples(self):
        return self.min_samples_, "one frame of the model's CNN front end"

    def _cache_settings(self):
        transformers = _require("transformers", "transformers")
        return {
            "model_files": _model_files_fingerprint(self.model_dir),
            "transformers": transformers.__version__,
            "sample_rate": self.sample_rate_,
        }

    def _extract(self, waveform):


        if self.do_normalize_:
            waveform = (waveform - waveform.mean()) / np.sqrt(waveform.var() + 1e-7)
        inputs = torch.as_tensor(waveform, dtype=torch.float32, device=self.device_)[None]
        with torch.inference_mode():
            outputs = self.model_(inputs, output_hidden_states=True)
        hidden = outputs.hidden_states[self.layer]
        return hidden[0].mean(dim=0).cpu().numpy()
