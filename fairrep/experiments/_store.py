"""The resume store of the study: finished units on disk, reused by a rerun.

Each finished (stage, fold, method) unit is written at once to
``out/partial/<settings digest>/`` (its record as JSON, a fitted FairRep as a
pickle, a plotted embedding as ``.npy``); a rerun with the same settings
(:func:`settings_digest`) loads them instead of refitting. Without a folder
the store keeps them in memory.
"""

import hashlib
import io
import json
import os
import pickle
import re
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["ResultStore", "settings_digest"]


def _file_name(key):
    text = "__".join(str(part) for part in key)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)
    return f"{safe}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def _atomic_write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class ResultStore:
    """Finished units on disk (``out/partial/<settings digest>/``) or in memory."""

    def __init__(self, folder=None):
        # A unit is written the moment it finishes, so that an interrupted run
        # keeps it; a file that cannot be read back only costs a refit.
        self.folder = None if folder is None else Path(folder)
        self._records, self._arrays, self._models = {}, {}, {}

    @classmethod
    def for_study(cls, out, data, plan, options, n_folds):
        """The store of a study: ``out/partial/<settings digest>/`` (in memory without ``out``).

        ``plan`` is the study's :class:`~fairrep.experiments._runner.StudyPlan`,
        ``options`` its :class:`~fairrep.experiments._runner.FoldOptions`.
        """
        if out is None:
            return cls()
        digest = settings_digest(
            data, plan.methods,
            # Not the number of folds: fold k is the same split for any ``folds``,
            # so a rerun with more folds reuses the ones already done.
            {"search": options.search, "n_neighbors": options.n_neighbors,
             "plan": plan.settings(), "figure_fold": options.figure_fold},
        )
        folder = Path(out) / "partial" / digest
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "settings.json").write_text(json.dumps({
            "corpus": data.name, "methods": list(plan.methods), "folds": n_folds,
            "search": options.search, "plan": plan.settings(),
        }, indent=1), encoding="utf-8")
        return cls(folder)

    def load(self, key):
        if self.folder is None:
            return self._records.get(key)
        path = self.folder / f"{_file_name(key)}.json"
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # unreadable: the unit is refitted
            return None

    def save(self, key, record):
        self._records[key] = record
        if self.folder is not None:
            text = json.dumps(record, default=_json_default, allow_nan=True)
            _atomic_write(self.folder / f"{_file_name(key)}.json", text.encode("utf-8"))

    def save_array(self, key, array):
        self._arrays[key] = np.asarray(array)
        if self.folder is not None:
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(array), allow_pickle=False)
            _atomic_write(self.folder / f"{_file_name(key)}.npy", buffer.getvalue())

    def load_array(self, key):
        return self._load(key, self._arrays, ".npy", _read_array)

    def save_model(self, key, model):
        self._models[key] = model
        if self.folder is not None:
            _atomic_write(self.folder / f"{_file_name(key)}.pkl", pickle.dumps(model))

    def load_model(self, key):
        return self._load(key, self._models, ".pkl", _read_model)

    def _load(self, key, memory, suffix, read):
        """From memory, else from the folder; None when absent or unreadable
        (an unreadable file only costs a refit)."""
        if key in memory:
            return memory[key]
        if self.folder is None:
            return None
        path = self.folder / f"{_file_name(key)}{suffix}"
        return read(path) if path.is_file() else None


def _read_array(path):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def _read_model(path):
    try:
        with path.open("rb") as stream:
            return pickle.load(stream)
    except (OSError, EOFError, AttributeError, ImportError, pickle.UnpicklingError):
        return None


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def settings_digest(data, methods, options):
    """A digest of everything a unit's result depends on: the data, the
    estimators' parameters and the study's options (the folder of the store)."""
    hasher = hashlib.sha256()
    hasher.update(np.ascontiguousarray(data.X).tobytes())
    for values in (data.items, data.truth, data.sessions, data.sensitive):
        hasher.update(json.dumps(list(map(str, values))).encode())
    if data.consensus is not None:
        for group, values in data.consensus.items():
            hasher.update(json.dumps([str(group), *map(str, values)]).encode())
    for name, estimator in methods.items():
        params = estimator.get_params(deep=False)
        hasher.update(name.encode())
        hasher.update(type(estimator).__qualname__.encode())
        hasher.update(json.dumps(params, sort_keys=True, default=repr).encode())
    hasher.update(json.dumps(options, sort_keys=True, default=str).encode())
    return hasher.hexdigest()[:16]
