"""On-disk cache of per-utterance features.

Extracting features for a corpus is the slow step of the speech front end
(section 2.2.1 of Chien & Lee); the cache lets a second run, a new
cross-validation split or a different classifier reuse them. An entry is
keyed by the utterance *and* by every setting that changes its features:

- a file is identified by its absolute path, size and modification time, so
  editing or replacing the file invalidates its entry without hashing the
  audio on every run;
- an in-memory waveform is identified by a hash of its samples and rate;
- the settings are the featurizer's class, its parameters that change the
  output, the version of the library that computes them and, for model-based
  featurizers, the identity (path, size, modification time) of the model
  files.

One ``.npy`` file per utterance, written atomically, so an interrupted run
keeps what it finished and concurrent runs never read half-written entries.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["FeatureCache", "file_fingerprint", "utterance_fingerprint"]


def _digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_fingerprint(path):
    """Identity of a file on disk: absolute path, size and mtime (ns)."""
    path = Path(path).resolve()
    stat = path.stat()
    return f"{path}|{stat.st_size}|{stat.st_mtime_ns}"


def utterance_fingerprint(source):
    """A string that changes whenever the utterance's audio may have changed.

    Parameters
    ----------
    source : str, os.PathLike, tuple or dict
        An audio path, a ``(waveform, sample_rate)`` pair or a dict with
        ``"array"`` and ``"sampling_rate"``.

    Returns
    -------
    fingerprint : str
    """
    if isinstance(source, (str, os.PathLike)):
        return "file|" + file_fingerprint(source)
    if isinstance(source, dict):
        waveform, rate = source["array"], source["sampling_rate"]
    else:
        waveform, rate = source
    array = np.ascontiguousarray(np.asarray(waveform))
    hasher = hashlib.sha256(array.tobytes())
    hasher.update(f"{array.dtype.str}|{array.shape}|{rate}".encode())
    return "array|" + hasher.hexdigest()


class FeatureCache:
    """A folder of cached feature vectors, one ``.npy`` file per utterance.

    Parameters
    ----------
    directory : str or os.PathLike
        Root folder; created on first write.
    settings : dict
        Everything besides the audio that determines the features (JSON
        serialisable; other values are written with ``str``). Entries made
        under different settings never mix: each settings dict gets its own
        sub-folder.
    """

    def __init__(self, directory, settings):
        self.directory = Path(directory)
        self.settings = settings
        encoded = json.dumps(settings, sort_keys=True, default=str)
        self.folder = self.directory / _digest(encoded)[:24]

    def _path(self, fingerprint):
        key = _digest(fingerprint)
        return self.folder / key[:2] / f"{key}.npy"

    def get(self, fingerprint):
        """The cached vector, or None."""
        path = self._path(fingerprint)
        if not path.is_file():
            return None
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):  # truncated or foreign file: recompute
            return None

    def put(self, fingerprint, features):
        """Store a vector (atomically: write to a temporary file, then rename)."""
        path = self._path(fingerprint)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (self.folder / "settings.json").exists():
            (self.folder / "settings.json").write_text(
                json.dumps(self.settings, sort_keys=True, default=str, indent=1)
            )
        handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                np.save(stream, np.asarray(features), allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def __len__(self):
        if not self.folder.is_dir():
            return 0
        return sum(1 for _ in self.folder.glob("*/*.npy"))
