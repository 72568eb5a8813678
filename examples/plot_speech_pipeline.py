"""
=====================================================
From audio files to FairRep: the speech front end
=====================================================

Chien & Lee describe each utterance by acoustic features z-normalised per
speaker (section 2.2.1) before stage 1. fairrep's front end is two
scikit-learn transformers: :class:`~fairrep.features.EGeMAPS` turns each
audio file into the 88 eGeMAPS functionals of openSMILE (no model weights
needed), and :class:`~fairrep.features.SpeakerStandardScaler` z-normalises
them within each speaker. :class:`~fairrep.FairRep` then learns an emotion
representation with the speaker's sex as the sensitive attribute.

The script uses the Berlin Emo-DB (anger, happiness and sadness, up to
six takes per actor and emotion, ten actors) when a local copy is found
at ``$FAIRREP_SHARED_DATA/emodb`` or at ``../shared/data/emodb`` beside
the repository; otherwise it writes a small set of **synthetic** clips
(harmonic tones with noise whose pitch, pitch movement, level and
brightness depend on the "emotion") to a temporary folder and uses
those. It needs ``opensmile`` and ``soundfile``
(``pip install "fairrep[speech]"``).
"""

# %%
# Find the audio
# --------------
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import soundfile
import torch
from sklearn.metrics import balanced_accuracy_score

from fairrep import FairRep
from fairrep.datasets import load_emodb
from fairrep.features import EGeMAPS, SpeakerStandardScaler
from fairrep.metrics import statistical_parity_score

torch.set_num_threads(1)
EMOTIONS = ("anger", "happiness", "sadness")


def find_emodb():
    """The Emo-DB folder, or None.

    ``$FAIRREP_SHARED_DATA/emodb`` when that variable is set; otherwise
    ``shared/data/emodb`` in the folder of this script or one of its three
    parents (the repository's neighbour ``../shared/data/emodb``).
    """
    configured = os.environ.get("FAIRREP_SHARED_DATA")
    if configured:
        candidates = [Path(configured) / "emodb"]
    else:
        try:
            start = Path(__file__).resolve().parent
        except NameError:  # sphinx-gallery and notebooks run from the script's folder
            start = Path.cwd().resolve()
        candidates = [folder / "shared" / "data" / "emodb"
                      for folder in [start, *start.parents][:4]]
    return next((path for path in candidates if (path / "wav").is_dir()), None)


#: Mean voice settings of the synthetic emotions: pitch relative to the
#: speaker's base f0, depth of the pitch movement, level, overtone strength.
SYNTHETIC_VOICES = {
    "anger": {"pitch": 1.30, "excursion": 0.10, "level": 0.50, "tilt": 0.80},
    "happiness": {"pitch": 1.35, "excursion": 0.14, "level": 0.40, "tilt": 0.60},
    "sadness": {"pitch": 0.95, "excursion": 0.03, "level": 0.15, "tilt": 0.40},
}


def write_synthetic_clips(folder, *, clips_per_emotion=6, seed=0):
    """Write 1-second 16 kHz WAV clips of six synthetic speakers; return their table.

    Each clip is a harmonic tone (fundamental ``f0`` with four overtones)
    plus white noise, under a slow amplitude envelope. Speakers differ in
    their base ``f0`` (about 120 Hz for the three "male" ones, 210 Hz for
    the three "female" ones) and level; each emotion shifts pitch, pitch
    movement, level and overtone strength (:data:`SYNTHETIC_VOICES`), with
    clip-to-clip variation of about 15 % so that anger and happiness
    overlap.
    """
    rng = np.random.default_rng(seed)
    rate = 16000
    time = np.arange(rate) / rate
    envelope = np.sin(np.pi * time) ** 0.5
    rows = []
    for speaker in range(6):
        sex = "male" if speaker % 2 == 0 else "female"
        base_f0 = (120.0 if sex == "male" else 210.0) * rng.uniform(0.9, 1.1)
        speaker_level = rng.uniform(0.6, 1.0)
        for emotion in EMOTIONS:
            voice = SYNTHETIC_VOICES[emotion]
            for clip in range(clips_per_emotion):
                vary = rng.lognormal(sigma=0.15, size=4)
                f0 = base_f0 * voice["pitch"] * vary[0]
                excursion = voice["excursion"] * vary[1]
                vibrato = np.sin(2 * np.pi * rng.uniform(2, 5) * time)
                pitch = f0 * (1 + excursion * vibrato)
                phase = 2 * np.pi * np.cumsum(pitch) / rate
                tilt = min(voice["tilt"] * vary[2], 0.95)
                tone = sum(tilt ** k * np.sin((k + 1) * phase) for k in range(5))
                level = speaker_level * voice["level"] * vary[3]
                signal = level * envelope * tone / 2.5
                signal += rng.normal(scale=0.01, size=rate)
                path = Path(folder) / f"spk{speaker}_{emotion}_{clip:02d}.wav"
                soundfile.write(path, signal.astype(np.float32), rate)
                rows.append({"path": str(path), "speaker": f"spk{speaker}",
                             "speaker_sex": sex, "truth": emotion})
    return pd.DataFrame(rows)


emodb_home = find_emodb()
scratch = tempfile.TemporaryDirectory()
if emodb_home is not None:
    utterances = load_emodb(emodb_home).utterances
    utterances = utterances[utterances["truth"].isin(EMOTIONS)]
    # the first six takes of each actor and emotion keep the extraction short
    utterances = utterances.sort_index().groupby(["speaker", "truth"]).head(6)
    held_out = ["03", "08"]  # one male and one female actor
    source = f"Emo-DB at {emodb_home}"
else:
    utterances = write_synthetic_clips(scratch.name)
    held_out = ["spk4", "spk5"]
    source = "synthetic clips written to a temporary folder"
print(f"{len(utterances)} utterances from {source}")
print(pd.crosstab(utterances["speaker"], utterances["truth"]))

# %%
# eGeMAPS features, z-normalised per speaker
# ------------------------------------------
# :class:`~fairrep.features.EGeMAPS` reads each file, mixes it down to
# mono, resamples it to 16 kHz and returns one row of 88 functionals per
# utterance (``cache_dir=`` would keep them on disk for the next run).
# :class:`~fairrep.features.SpeakerStandardScaler` takes the speaker ids
# as ``speakers=``: every speaker's features get mean 0 and variance 1,
# which removes level and pitch-range offsets between voices.
paths = utterances["path"].tolist()
speakers = utterances["speaker"].to_numpy(dtype=object)
raw = EGeMAPS(progress_bar=False).fit_transform(paths)
X = SpeakerStandardScaler().fit_transform(raw, speakers=speakers)
print("feature matrix:", X.shape)

# %%
# FairRep with speaker sex as the sensitive attribute
# ---------------------------------------------------
# Two speakers (one of each sex) are held out: the emotion model never
# hears them in training.
y = utterances["truth"].to_numpy(dtype=object)
sex = utterances["speaker_sex"].to_numpy(dtype=object)
test = np.isin(speakers, held_out)
train = ~test
model = FairRep(hidden_layer_sizes=(32,), embedding_dim=16, max_epochs=40,
                alpha=0.01, adversary_weight=1.0, random_state=0)
model.fit(X[train], y[train], sensitive_features=sex[train])
prediction = model.predict(X[test])

print(f"balanced accuracy on {test.sum()} utterances of the held-out speakers: "
      f"{balanced_accuracy_score(y[test], prediction):.3f}")

# %%
# Statistical parity between the held-out male and female speaker, per
# emotion: how differently often each emotion is predicted for them. The
# acted emotions are not equally frequent for the two speakers, so the
# same gap computed on the true labels is the reference a model that is
# always right would reach.
parity = pd.DataFrame({
    "predicted": statistical_parity_score(
        y[test], prediction, sensitive_features=sex[test], labels=list(EMOTIONS)),
    "true labels": statistical_parity_score(
        y[test], y[test], sensitive_features=sex[test], labels=list(EMOTIONS)),
}, index=pd.Index(EMOTIONS, name="emotion"))
print(parity.round(3).to_string())

# %%
# Where the test utterances land
# ------------------------------
# The first two principal axes of FairRep's representation of the held-out
# speakers, coloured by the acted emotion; the marker is the speaker's sex.
# Emotions should separate; the sexes should not.
embedding = model.transform(X[test])
centred = embedding - embedding.mean(axis=0)
axes_2d = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
fig, axis = plt.subplots(figsize=(5.5, 4.2))
for colour, emotion in enumerate(EMOTIONS):
    for marker, group in zip("o^", ("male", "female")):
        rows = (y[test] == emotion) & (sex[test] == group)
        axis.scatter(axes_2d[rows, 0], axes_2d[rows, 1], color=f"C{colour}",
                     marker=marker, alpha=0.8, label=f"{emotion}, {group}")
axis.set_xlabel("first principal axis")
axis.set_ylabel("second principal axis")
axis.set_title("FairRep representation of the held-out speakers")
axis.legend(fontsize=8)
fig.tight_layout()
plt.show()

scratch.cleanup()
