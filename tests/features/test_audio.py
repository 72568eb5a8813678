"""Audio input: reading, mono mix-down, resampling, errors, and the feature cache."""

import os

import numpy as np
import pytest

from tests.conftest import require_module
from fairrep.features import FeatureCache, load_audio
from fairrep.features._audio import check_audio_collection
from fairrep.features._cache import utterance_fingerprint


def _tone(freq, rate, seconds=1.0, amplitude=0.5):
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(signal, rate):
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return np.fft.rfftfreq(len(signal), 1 / rate)[np.argmax(spectrum)]


def test_resampling_keeps_length_and_pitch():
    tone = _tone(440, 44100)
    out = load_audio((tone, 44100), sample_rate=16000)
    assert out.dtype == np.float32 and out.shape == (16000,)
    assert abs(_peak_hz(out, 16000) - 440) <= 1.0
    # the level of a tone well below Nyquist survives the anti-aliasing filter
    assert np.sqrt(np.mean(out[1000:-1000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_mono_mixdown_both_layouts():
    left, right = _tone(300, 16000), _tone(300, 16000, amplitude=0.1)
    expected = (left + right) / 2
    channels_first = np.stack([left, right])
    np.testing.assert_allclose(load_audio((channels_first, 16000)), expected, atol=1e-7)
    np.testing.assert_allclose(load_audio((channels_first.T, 16000)), expected, atol=1e-7)
    as_dict = {"array": channels_first, "sampling_rate": 16000}
    np.testing.assert_allclose(load_audio(as_dict), expected, atol=1e-7)


def test_integer_pcm_is_scaled():
    pcm = np.full(1600, 16384, dtype=np.int16)
    np.testing.assert_allclose(load_audio((pcm, 16000)), 0.5)


def test_file_round_trip(tmp_path):
    soundfile = require_module("soundfile")
    stereo = np.stack([_tone(200, 8000), _tone(200, 8000, amplitude=0.2)], axis=1)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, stereo, 8000, subtype="FLOAT")
    out = load_audio(path, sample_rate=8000)
    np.testing.assert_allclose(out, stereo.mean(axis=1), atol=1e-6)
    assert load_audio(str(path), sample_rate=16000).shape == (16000,)


def test_bad_audio_errors(tmp_path):
    require_module("soundfile")  # reads the garbage file
    with pytest.raises(FileNotFoundError, match="missing.wav.*does not exist"):
        load_audio(tmp_path / "missing.wav")
    garbage = tmp_path / "garbage.wav"
    garbage.write_text("this is not audio")
    with pytest.raises(ValueError, match="could not read audio file.*garbage.wav"):
        load_audio(garbage, index=3)
    with pytest.raises(ValueError, match=r"X\[2\].*empty"):
        load_audio((np.zeros(0, dtype=np.float32), 16000), index=2)
    with pytest.raises(ValueError, match=r"too short: 0\.010 s.*at least 0\.1 s"):
        load_audio((np.zeros(160, dtype=np.float32), 16000), min_duration=0.1)
    with pytest.raises(ValueError, match="NaN or infinite"):
        load_audio((np.full(1600, np.nan, dtype=np.float32), 16000))
    with pytest.raises(ValueError, match="sample rate .* positive integer"):
        load_audio((np.zeros(1600, dtype=np.float32), -16000))
    with pytest.raises(ValueError, match=r"1-D \(mono\) or 2-D"):
        load_audio((np.zeros((2, 2, 100), dtype=np.float32), 16000))
    with pytest.raises(TypeError, match="numeric array"):
        load_audio((np.array(["a", "b"]), 16000))


def test_check_audio_collection():
    with pytest.raises(TypeError, match="got a single str. Wrap it in a list"):
        check_audio_collection("a.wav")
    with pytest.raises(TypeError, match=r"numeric array of shape \(3, 100\)"):
        check_audio_collection(np.zeros((3, 100)))
    with pytest.raises(ValueError, match="X is empty"):
        check_audio_collection([])
    with pytest.raises(TypeError, match=r"X\[1\] must be an audio path.*got int"):
        check_audio_collection(["a.wav", 5])
    import pandas as pd

    assert check_audio_collection(pd.Series(["a.wav", "b.wav"])) == ["a.wav", "b.wav"]
    with pytest.raises(ValueError, match="DataFrame with 2 columns"):
        check_audio_collection(pd.DataFrame({"a": ["x"], "b": ["y"]}))


def test_cache_keys_follow_file_and_settings(tmp_path):
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"0123")
    before = utterance_fingerprint(audio)
    cache = FeatureCache(tmp_path / "cache", {"featurizer": "X", "n": 1})
    cache.put(before, np.arange(3.0))
    np.testing.assert_array_equal(cache.get(before), [0.0, 1.0, 2.0])
    assert len(cache) == 1
    # other settings: a separate namespace
    assert FeatureCache(tmp_path / "cache", {"featurizer": "X", "n": 2}).get(before) is None
    # same settings, new object: the entry is found again
    np.testing.assert_array_equal(FeatureCache(tmp_path / "cache", {"n": 1, "featurizer": "X"}).get(before), [0, 1, 2])
    # rewriting the file (new size and mtime) changes its fingerprint
    audio.write_bytes(b"012345")
    os.utime(audio, ns=(1, 1))
    assert utterance_fingerprint(audio) != before
    assert cache.get(utterance_fingerprint(audio)) is None
    # in-memory audio: keyed by content and rate
    wave = np.zeros(10, dtype=np.float32)
    assert utterance_fingerprint((wave, 16000)) == utterance_fingerprint((wave.copy(), 16000))
    assert utterance_fingerprint((wave, 16000)) != utterance_fingerprint((wave, 8000))
    assert utterance_fingerprint((wave, 16000)) != utterance_fingerprint((wave + 1, 16000))


@pytest.mark.real_data
def test_real_emodb_file(shared_data):
    soundfile = require_module("soundfile")
    path = shared_data / "emodb" / "wav" / "03a01Fa.wav"
    raw, rate = soundfile.read(path, dtype="float32")
    assert rate == 22050 and raw.shape == (44100,)  # 2.0 s at 22.05 kHz
    out = load_audio(path, sample_rate=16000)
    assert out.shape == (32000,)
    # resampling keeps the level of real speech (energy within 2 %)
    assert np.mean(out**2) == pytest.approx(np.mean(raw**2), rel=0.02)
    np.testing.assert_array_equal(load_audio(path, sample_rate=22050), raw)
