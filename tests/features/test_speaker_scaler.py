import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from fairrep.features import SpeakerStandardScaler


@pytest.fixture
def speaker_data():
    rng = np.random.RandomState(0)
    speakers = np.repeat(["s1", "s2", "s3", "s4"], 50)
    offsets = {s: 8.0 * rng.randn(3) for s in ["s1", "s2", "s3", "s4"]}
    scales = {"s1": 1.0, "s2": 3.0, "s3": 0.5, "s4": 2.0}
    y = rng.randint(0, 2, 200)
    base = rng.randn(200, 3) + np.c_[y, -y, y] * 2.0
    X = np.array([offsets[s] + scales[s] * row for s, row in zip(speakers, base)])
    return X, y, speakers


def test_each_speaker_has_zero_mean_unit_std(speaker_data):
    X, _, speakers = speaker_data
    Xt = SpeakerStandardScaler().fit_transform(X, speakers=speakers)
    for speaker in np.unique(speakers):
        rows = Xt[speakers == speaker]
        np.testing.assert_allclose(rows.mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(rows.std(axis=0), 1, atol=1e-12)


def test_unseen_speaker_policies(speaker_data):
    X, _, speakers = speaker_data
    train = speakers != "s4"
    scaler = SpeakerStandardScaler().fit(X[train], speakers=speakers[train])
    own = scaler.transform(X[~train], speakers=speakers[~train])
    np.testing.assert_allclose(own.mean(axis=0), 0, atol=1e-12)
    glob = scaler.set_params(unseen="global").transform(X[~train], speakers=speakers[~train])
    np.testing.assert_allclose(glob, (X[~train] - X[train].mean(0)) / X[train].std(0))
    with pytest.raises(ValueError, match=r"\['s4'\] were not seen"):
        scaler.set_params(unseen="error").transform(X[~train], speakers=speakers[~train])
    # a single unseen sample cannot be standardised by itself: global statistics
    single = scaler.set_params(unseen="self").transform(X[-1:], speakers=["new"])
    np.testing.assert_allclose(single, (X[-1:] - X[train].mean(0)) / X[train].std(0))


def test_constant_feature_becomes_zero():
    X = np.c_[np.ones(4), [1.0, 2.0, 3.0, 4.0]]
    Xt = SpeakerStandardScaler().fit_transform(X, speakers=["a", "a", "b", "b"])
    assert np.all(np.isfinite(Xt)) and np.all(Xt[:, 0] == 0)


def test_bad_speakers(speaker_data):
    X, _, speakers = speaker_data
    with pytest.raises(ValueError, match="speakers is required in fit"):
        SpeakerStandardScaler().fit(X)
    with pytest.raises(ValueError, match=r"speakers must have shape \(200,\)"):
        SpeakerStandardScaler().fit(X, speakers=speakers[:10])
    with pytest.raises(ValueError, match="missing values"):
        SpeakerStandardScaler().fit(X, speakers=[None] * 200)


def test_pipeline_with_routed_speakers_helps(speaker_data):
    X, y, speakers = speaker_data
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            SpeakerStandardScaler().set_fit_request(speakers=True).set_transform_request(speakers=True),
            LogisticRegression(),
        )
        normalised = cross_val_score(pipe, X, y, cv=4, params={"speakers": speakers}).mean()
    raw = cross_val_score(LogisticRegression(), X, y, cv=4).mean()
    assert normalised > raw + 0.1
