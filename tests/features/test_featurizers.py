"""Featurizers on real Emo-DB audio: eGeMAPS, vq-wav2vec (random fairseq checkpoint),
transformers SSL models (tiny random configs), caching and pipelines."""

import argparse
import dataclasses
import os

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from tests.conftest import require_module
from fairrep.features import EGeMAPS, SpeakerStandardScaler, SSLFeatures, VQWav2Vec, load_audio


@pytest.fixture(scope="module")
def emodb_wav(shared_data):
    return shared_data / "emodb" / "wav"


def _files(folder, names):
    return [str(folder / f"{name}.wav") for name in names]


def _first_per_speaker(folder, emotion_letter):
    """The first file of each of the ten speakers with the given emotion letter."""
    chosen = {}
    for path in sorted(folder.glob("*.wav")):
        if path.stem[5] == emotion_letter:
            chosen.setdefault(path.stem[:2], str(path))
    return [chosen[s] for s in sorted(chosen)]


@pytest.fixture(scope="module")
def egemaps_real(emodb_wav):
    require_module("opensmile")
    anger, sadness = _first_per_speaker(emodb_wav, "W"), _first_per_speaker(emodb_wav, "T")
    assert len(anger) == len(sadness) == 10
    files = anger + sadness
    featurizer = EGeMAPS(progress_bar=False).fit(files)
    return featurizer, files, featurizer.transform(files)


@pytest.mark.real_data
def test_egemaps_on_real_speech(egemaps_real):
    featurizer, files, X = egemaps_real
    assert X.shape == (20, 88) and np.all(np.isfinite(X))
    names = list(featurizer.get_feature_names_out())
    assert len(set(names)) == 88
    def column(name):
        values = X[:, names.index(name)]
        return values[:10], values[10:]  # anger, sadness; same speaker order

    # acted anger vs acted sadness, speaker by speaker: far higher pitch and
    # a flatter spectrum (more energy above 1 kHz: higher alpha ratio, lower
    # Hammarberg index)
    anger, sadness = column("F0semitoneFrom27.5Hz_sma3nz_amean")
    assert np.all(anger - sadness > 5.0)
    anger, sadness = column("alphaRatioV_sma3nz_amean")
    assert np.all(anger > sadness)
    anger, sadness = column("hammarbergIndexV_sma3nz_amean")
    assert np.all(anger < sadness)


@pytest.mark.real_data
def test_egemaps_rate_independent_input(egemaps_real):
    featurizer, files, X = egemaps_real
    # the file at its own 22.05 kHz and an in-memory copy at 22.05 kHz agree
    wave = load_audio(files[0], sample_rate=22050)
    np.testing.assert_allclose(featurizer.transform([(wave, 22050)])[0], X[0], rtol=1e-6)


@pytest.mark.real_data
def test_egemaps_cache_is_used_and_invalidated(emodb_wav, tmp_path):
    require_module("opensmile")
    files = _first_per_speaker(emodb_wav, "W")[:3]
    cached = EGeMAPS(cache_dir=tmp_path, progress_bar=False).fit(files)
    first = cached.transform(files)
    np.testing.assert_allclose(first, EGeMAPS(progress_bar=False).fit_transform(files))

    def no_extraction(waveform):
        raise AssertionError("features should come from the cache")

    cached._extract = no_extraction
    np.testing.assert_array_equal(cached.transform(files), first)
    # a different setting must not reuse these entries
    other = EGeMAPS(sample_rate=8000, cache_dir=tmp_path, progress_bar=False).fit(files)
    other._extract = no_extraction
    with pytest.raises(AssertionError, match="from the cache"):
        other.transform(files[:1])
    # a changed file is extracted again
    copy = tmp_path / "copy.wav"
    copy.write_bytes(open(files[0], "rb").read())
    with pytest.raises(AssertionError, match="from the cache"):
        cached.transform([str(copy)])


@pytest.mark.real_data
def test_egemaps_then_speaker_scaler_in_a_pipeline(emodb_wav):
    require_module("opensmile")
    files = _first_per_speaker(emodb_wav, "W")[:4] + _first_per_speaker(emodb_wav, "T")[:4]
    speakers = [os.path.basename(f)[:2] for f in files]
    with sklearn.config_context(enable_metadata_routing=True):
        scaler = SpeakerStandardScaler().set_fit_request(speakers=True).set_transform_request(speakers=True)
        pipe = make_pipeline(EGeMAPS(progress_bar=False), scaler)
        Z = pipe.fit_transform(files, speakers=speakers)
    assert Z.shape == (8, 88)
    for speaker in set(speakers):
        rows = Z[np.asarray(speakers) == speaker]
        np.testing.assert_allclose(rows.mean(axis=0), 0, atol=1e-9)


def test_egemaps_errors_and_api():
    require_module("opensmile")
    with pytest.raises(NotFittedError):
        EGeMAPS().transform([(np.zeros(16000, dtype=np.float32), 16000)])
    with pytest.raises(InvalidParameterError, match="sample_rate"):
        EGeMAPS(sample_rate=0).fit()
    short = (np.zeros(800, dtype=np.float32), 16000)
    ok = (np.random.RandomState(0).randn(16000).astype(np.float32) * 0.1, 16000)
    with pytest.raises(ValueError, match=r"X\[1\].*too short"):
        EGeMAPS(progress_bar=False).fit_transform([ok, short])
    frame = EGeMAPS(progress_bar=False).set_output(transform="pandas").fit_transform([ok])
    assert frame.shape == (1, 88) and "loudness_sma3_amean" in frame.columns
    assert clone(EGeMAPS(sample_rate=8000)).get_params()["sample_rate"] == 8000


# ---------------------------------------------------------------- vq-wav2vec


def _save_random_vq_wav2vec(path, *, vq_type="gumbel", legacy=False):
    """Build a randomly initialised (vq-)wav2vec with fairseq and save it the way
    fairseq checkpoints are stored: a 'cfg' (or, in old files, 'args') entry,
    the weights and the optimizer history."""
    require_module("fairseq")
    import torch
    from fairseq import checkpoint_utils
    from fairseq.models.wav2vec import Wav2VecConfig, Wav2VecModel
    from omegaconf import OmegaConf

    torch.manual_seed(0)
    config = Wav2VecConfig(
        vq_type=vq_type, vq_vars=16, vq_groups=2, vq_depth=2, combine_groups=True,
        conv_aggregator_layers="[(64, 2, 1)] * 2", log_compression=False, infonce=True,
    )
    model = Wav2VecModel(config)
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    history = [{"criterion_name": "Wav2vecCriterion", "optimizer_name": "Adam",
                "lr_scheduler_state": {"best": None}, "num_updates": 0}]
    state = {"model": model.state_dict(), "optimizer_history": history, "extra_state": {}}
    if legacy:
        fields.pop("_name")
        state["args"] = argparse.Namespace(arch="wav2vec", task="audio_pretraining", criterion="wav2vec", **fields)
    else:
        fields["_name"] = "wav2vec"
        state["cfg"] = OmegaConf.create({"model": fields, "task": {"_name": "audio_pretraining"}})
    checkpoint_utils.torch_persistent_save(state, str(path))
    return model.eval()


@pytest.fixture(scope="module")
def vq_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("vq") / "vq-wav2vec-random.pt"
    model = _save_random_vq_wav2vec(path)
    return path, model


@pytest.mark.real_data
def test_vqwav2vec_end_to_end_on_real_audio(vq_checkpoint, emodb_wav, tmp_path):
    import torch

    path, reference = vq_checkpoint
    files = _files(emodb_wav, ["03a01Wa", "08a01Na", "16a01Tb"])
    featurizer = VQWav2Vec(path, progress_bar=False, cache_dir=tmp_path)
    X = featurizer.fit_transform(files)
    assert X.shape == (3, 512) and np.all(np.isfinite(X))
    # the same numbers straight from the fairseq model on 16 kHz audio
    wave = torch.as_tensor(load_audio(files[1], sample_rate=16000))[None]
    with torch.no_grad():
        expected = reference.feature_extractor(wave)[0].mean(dim=1).numpy()
    np.testing.assert_allclose(X[1], expected, rtol=1e-4, atol=1e-6)
    assert not np.allclose(X[0], X[1])
    quantized = VQWav2Vec(path, representation="quantized", progress_bar=False).fit_transform(files)
    assert quantized.shape == (3, 512) and not np.allclose(quantized, X)
    context = VQWav2Vec(path, representation="context", progress_bar=False).fit(files)
    assert context.n_features_out_ == 64  # the tiny aggregator's width
    # a rewritten checkpoint invalidates the cache
    featurizer._extract = None
    np.testing.assert_array_equal(featurizer.transform(files), X)
    os.utime(path, ns=(1, 1))
    refit = VQWav2Vec(path, progress_bar=False, cache_dir=tmp_path).fit(files)
    refit._extract = lambda w: np.full(512, 7.0)
    np.testing.assert_array_equal(refit.transform(files[:1]), np.full((1, 512), 7.0))


@pytest.mark.real_data
def test_vqwav2vec_legacy_args_checkpoint(emodb_wav, vq_checkpoint, tmp_path):
    path, _ = vq_checkpoint
    legacy = tmp_path / "legacy.pt"
    _save_random_vq_wav2vec(legacy, legacy=True)  # same seed: same weights
    files = _files(emodb_wav, ["03a01Wa"])
    np.testing.assert_allclose(
        VQWav2Vec(legacy, progress_bar=False).fit_transform(files),
        VQWav2Vec(path, progress_bar=False).fit_transform(files),
        rtol=1e-6,
    )


def test_vqwav2vec_bad_checkpoints(tmp_path):
    require_module("fairseq")
    import torch

    with pytest.raises(FileNotFoundError, match="checkpoint=.*nope.pt.*does not exist"):
        VQWav2Vec(tmp_path / "nope.pt").fit()
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a fairseq checkpoint"):
        VQWav2Vec(tmp_path / "other.pt").fit()
    _save_random_vq_wav2vec(tmp_path / "plain.pt", vq_type="none")
    with pytest.raises(ValueError, match="needs a vq-wav2vec checkpoint"):
        VQWav2Vec(tmp_path / "plain.pt", representation="quantized").fit()
    with pytest.raises(InvalidParameterError, match="representation"):
        VQWav2Vec(tmp_path / "plain.pt", representation="c").fit()


# ------------------------------------------------------------- transformers


def _save_tiny_model(directory, kind):
    transformers = require_module("transformers")
    import torch

    config_class = {
        "wav2vec2": transformers.Wav2Vec2Config,
        "hubert": transformers.HubertConfig,
        "wavlm": transformers.WavLMConfig,
    }[kind]
    config = config_class(
        hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=24,
        conv_dim=(8, 8), conv_stride=(5, 4), conv_kernel=(10, 4),
        num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2,
    )
    torch.manual_seed(0)
    model = transformers.AutoModel.from_config(config).eval()
    model.save_pretrained(directory)
    transformers.Wav2Vec2FeatureExtractor(sampling_rate=16000, do_normalize=True).save_pretrained(directory)
    return model


@pytest.mark.real_data
@pytest.mark.parametrize("kind", ["wav2vec2", "hubert", "wavlm"])
def test_ssl_features_tiny_models(kind, emodb_wav, tmp_path):
    import torch

    model = _save_tiny_model(tmp_path / kind, kind)
    files = _files(emodb_wav, ["03a01Wa", "16a01Tb"])
    last = SSLFeatures(tmp_path / kind, progress_bar=False).fit(files)
    X = last.transform(files)
    assert X.shape == (2, 16) and last.n_layers_ == 2
    first = SSLFeatures(tmp_path / kind, layer=0, progress_bar=False).fit_transform(files)
    assert not np.allclose(first, X)
    wave = load_audio(files[1], sample_rate=16000)
    wave = (wave - wave.mean()) / np.sqrt(wave.var() + 1e-7)
    with torch.no_grad():
        hidden = model(torch.as_tensor(wave)[None], output_hidden_states=True).hidden_states
    np.testing.assert_allclose(X[1], hidden[-1][0].mean(dim=0).numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(first[1], hidden[0][0].mean(dim=0).numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["wav2vec2", "hubert", "wavlm"])
def test_fitted_ssl_features_pickle_without_the_model_folder(kind, tmp_path):
    """The model travels in the pickle (class, config, weights): the folder
    can be gone when it is loaded, and the features are the same."""
    import pickle
    import shutil

    _save_tiny_model(tmp_path / kind, kind)
    rng = np.random.RandomState(0)
    waves = [(rng.normal(size=4000).astype(np.float32), 16000) for _ in range(2)]
    fitted = SSLFeatures(tmp_path / kind, progress_bar=False).fit(waves)
    expected = fitted.transform(waves)
    blob = pickle.dumps(fitted)
    shutil.rmtree(tmp_path / kind)
    restored = pickle.loads(blob)
    np.testing.assert_allclose(restored.transform(waves), expected, rtol=1e-6, atol=1e-6)
    assert "_model_parts" not in vars(restored) and restored.model_.training is False


def test_ssl_features_errors(tmp_path):
    _save_tiny_model(tmp_path / "m", "wav2vec2")
    with pytest.raises(ValueError, match=r"layer must be between -3 and 2 .* got 5"):
        SSLFeatures(tmp_path / "m", layer=5).fit()
    with pytest.raises(FileNotFoundError, match="not a saved transformers model"):
        SSLFeatures(tmp_path).fit()
