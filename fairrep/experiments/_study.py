"""The paper's full study (section 3) as reusable code: Exp1, Exp2, grid, figures, claims.

:func:`run_study` runs, on one corpus bundle (see
:func:`~fairrep.experiments.load_corpus`), everything the paper reports:

- Exp1 (stage 1, section 3.1; Tables 1 and 2): every method is trained on
  the truth with session-independent folds and scored by weighted F1 per
  emotion on All/S1/S2 and statistical parity on S2;
- Exp2 (stage 2, section 3.3; Tables 3 and 4, :func:`run_stage2`): the
  baselines trained on each rater group's consensus (one model per
  perspective) and FairPer trained on every perspective at once on top of
  the fold's FairRep, scored by F1 under each perspective and by the
  consistency (k = 20) of the perspective groups in their embeddings;
- the grid search of alpha (FairRep) and lambda (FairPer) over [0.01, 0.001]
  with :class:`~sklearn.model_selection.GridSearchCV`, metadata routing of
  ``sensitive_features`` and inner folds grouped by session;
- Figs. 1 and 2 (rater-group agreement with the truth), Figs. 5 and 6 (t-SNE
  of the DNN and FairRep representations of the held-out fold), the
  fairness/F1 trade-off, and the paper's qualitative claims, each checked
  against the numbers of the run (:func:`evaluate_claims`).

Like :func:`~fairrep.experiments.run_stage1`, fairrep trains **one
multiclass model** per method and scores it **per class** (one-vs-rest
weighted F1), where the paper reports per-emotion detectors.
"""

import hashlib
import importlib
import inspect
import json
import os
import pickle
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..metrics import consistency_score, statistical_parity_score
from ..utils._validation import is_missing
from . import _configs
from ._claims import claims_by_config, evaluate_claims
from ._configs import CONFIGS, PAPER_GRID
from ._protocol import per_class_f1, session_folds
from ._search import F1_TOLERANCE, TRUTH_PERSPECTIVE, grid_search

__all__ = [
    "ADAPTER_METHODS",
    "DEFAULT_METHODS",
    "PAPER_GRID",
    "STAGE1_METHODS",
    "evaluate_claims",
    "make_methods",
    "run_stage2",
    "run_study",
]

#: The stage-1 methods of Tables 1 and 2, in the paper's column order.
STAGE1_METHODS = ("DNN", "LFR", "NRL", "FairRepG", "FairRepF", "FairRep")
#: The stage-2 method of Tables 3 and 4.
STAGE2_METHOD = "FairPer"
#: What :func:`run_study` runs when ``methods`` is None.
DEFAULT_METHODS = STAGE1_METHODS + (STAGE2_METHOD,)
#: Adapters to other libraries, run only when asked for and importable.
ADAPTER_METHODS = (
    "FairlearnAdversarial",
    "FairlearnPrototype",
    "AIF360LFR",
    "ExponentiatedGradient",
)

_ADAPTER_MODULES = {
    "FairlearnAdversarial": "fairlearn",
    "FairlearnPrototype": "fairlearn",
    "AIF360LFR": "aif360",
    "ExponentiatedGradient": "fairlearn",
}
# These adapters take no missing group: they are fitted on the items whose
# perspective group is known.
_COMPLETE_GROUPS = set(ADAPTER_METHODS)
_BINARY_ONLY = {"ExponentiatedGradient", "FairlearnPrototype"}
_FIGURE_METHODS = ("DNN", "FairRep", STAGE2_METHOD, "FairRep (fairrep)")
_ALPHA_METHODS = ("FairRepG", "FairRepF", "FairRep", "NRL")


# --------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------


def make_methods(names=None, *, config="fairrep", max_epochs=100, random_state=0,
                 device="cpu"):
    """The study's estimators, by the names the paper's tables use.

    Parameters
    ----------
    names : sequence of str, default=None
        Among :data:`DEFAULT_METHODS` (DNN, LFR, NRL, FairRepG, FairRepF,
        FairRep, FairPer) and :data:`ADAPTER_METHODS`; None gives
        :data:`DEFAULT_METHODS`.
    config : {"fairrep", "paper"}, default="fairrep"
        ``"fairrep"``: each estimator's own defaults. ``"paper"``: eq. (1)
        as printed, gradient reversal with weight 1 (``adversary_loss=
        "reversal"``, ``adversary_weight=1`` for FairRep and FairRepG),
        alpha (FairRep, FairRepF, NRL) and lambda (FairPer) at the first
        value of the paper's grid, FairPer on the fair representation alone
        (``passthrough=False``) and built on the paper's FairRep. DNN, LFR
        and the adapters are the same in both.
    max_epochs : int, default=100
        Training epochs of the neural methods: a fit on ``n`` items runs
        ``max_epochs * ceil(n / 32)`` optimiser steps (the paper: at most
        500 iterations, section 3.1).
    random_state : int, default=0
    device : {"cpu", "cuda", "auto"}, default="cpu"

    Returns
    -------
    methods : dict of str to estimator
        Unfitted estimators with the paper's training settings (Adam,
        learning rate and decay 1e-3, dropout 0.2, batch size 32). FairPer
        has no representation yet: :func:`run_study` gives it the fold's
        fitted FairRep.

    Examples
    --------
    >>> from fairrep.experiments import make_methods
    >>> list(make_methods(["DNN", "FairRep"], max_epochs=5))
    ['DNN', 'FairRep']
    >>> make_methods(["FairRep"], config="paper")["FairRep"].adversary_loss
    'reversal'
    """
    from ..baselines import (
        AIF360LFR,
        LFR,
        NRL,
        DNNClassifier,
        ExponentiatedGradientClassifier,
        FairlearnAdversarial,
        FairlearnPrototype,
    )
    from ..perspective import FairPer
    from ..representation import FairRep

    if config not in CONFIGS:
        raise ValueError(f"config must be one of {list(CONFIGS)}; got {config!r}.")
    neural = {"max_epochs": max_epochs, "random_state": random_state, "device": device}

    def own(name):
        return {**neural, **_configs.config_params(name, config)}

    def fairper():
        if config == "paper":
            return FairPer(FairRep(**own("FairRep")), **own("FairPer"))
        return FairPer(**own("FairPer"))

    factories = {
        "DNN": lambda: DNNClassifier(**neural),
        "LFR": lambda: LFR(random_state=random_state, device=device),
        "NRL": lambda: NRL(**own("NRL")),
        "FairRepG": lambda: FairRep.fairrep_g(**own("FairRepG")),
        "FairRepF": lambda: FairRep.fairrep_f(**own("FairRepF")),
        "FairRep": lambda: FairRep(**own("FairRep")),
        "FairPer": fairper,
        "FairlearnAdversarial": lambda: FairlearnAdversarial(
            epochs=max_epochs, random_state=random_state
        ),
        "FairlearnPrototype": lambda: FairlearnPrototype(random_state=random_state),
        "AIF360LFR": lambda: AIF360LFR(random_state=random_state),
        "ExponentiatedGradient": lambda: ExponentiatedGradientClassifier(
            random_state=random_state
        ),
    }
    if names is None:
        names = DEFAULT_METHODS
    if isinstance(names, str):
        names = [names]
    names = list(names)
    unknown = [name for name in names if name not in factories]
    if unknown:
        raise ValueError(
            f"unknown method(s) {unknown}; expected names among {list(factories)}."
        )
    if len(set(names)) != len(names):
        raise ValueError(f"methods names a method twice: {names}.")
    return {name: factories[name]() for name in names}


def _is_multi_perspective(estimator):
    """FairPer-like: one model for every perspective, switched by ``perspective``."""
    return hasattr(estimator, "predict_all") and "perspective" in estimator.get_params()


def _accepts_sensitive_features(estimator):
    return "sensitive_features" in inspect.signature(estimator.fit).parameters


def _fit(model, X, y, sensitive, *, complete_groups=False):
    """Fit with ``sensitive_features`` when the estimator takes them."""
    if not _accepts_sensitive_features(model):
        return model.fit(X, y)
    if complete_groups:
        rows = ~is_missing(sensitive)
        return model.fit(X[rows], y[rows], sensitive_features=sensitive[rows])
    return model.fit(X, y, sensitive_features=sensitive)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


class _StudyData:
    """The arrays of the study, restricted to the items it uses.

    With ratings: the S1 and S2 items (as in the paper), ``sensitive`` = the
    perspective group of the S2 items (None on S1), ``consensus`` = each
    rater group's consensus. Without ratings: every item with a truth and
    ``sensitive`` = the bundle's group column.
    """

    @classmethod
    def from_bundle(cls, bundle):
        from ..raters import perspective_split

        _check_bundle(bundle)
        X = np.asarray(bundle["X"], dtype=np.float64)
        items = pd.Index(bundle["item_ids"])
        truth = pd.Series(bundle["truth"]).reindex(items)
        sessions = np.asarray(bundle["sessions"], dtype=object)
        name = str(bundle.get("name", "custom"))
        group_column = str(bundle.get("group_column", "rater_group"))
        ratings = bundle.get("ratings")
        if ratings is not None:
            split = perspective_split(ratings, truth=truth).loc[items]
            return cls.from_split(X, split, sessions, name=name, group_column=group_column)
        data = cls()
        data.name, data.group_column = name, group_column
        data.has_raters, data.split, data.groups = False, None, None
        info = bundle["item_info"].reindex(items)
        sensitive = info[group_column].to_numpy(dtype=object)
        used = ~is_missing(truth.to_numpy(dtype=object))
        data.subset = None
        data.sensitive = np.where(is_missing(sensitive), None, sensitive)[used]
        data.consensus = None
        data.sets = ("All",)
        data._finish(X, items, truth.to_numpy(dtype=object), sessions, used)
        return data

    @classmethod
    def from_split(cls, X, split, sessions, *, name="custom", group_column="rater_group"):
        from ..perspective import perspective_groups

        if not isinstance(split, pd.DataFrame) or not {"truth", "subset", "perspective"} <= set(
            split.columns
        ):
            raise ValueError(
                "split must be the DataFrame of fairrep.raters.perspective_split "
                "(columns truth, subset, perspective, consensus_<group>)."
            )
        groups = list(split.attrs.get("rater_groups") or [
            column.removeprefix("consensus_") for column in split.columns
            if column.startswith("consensus_")
        ])
        if len(groups) < 2:
            raise ValueError("split must hold at least two rater groups' consensus.")
        if TRUTH_PERSPECTIVE in map(str, groups):
            raise ValueError(
                f"a rater group is named {TRUTH_PERSPECTIVE!r}, the name of the truth's "
                "perspective in FairPer's targets; rename the group."
            )
        X = np.asarray(X, dtype=np.float64)
        sessions = np.asarray(sessions, dtype=object)
        if X.shape[0] != len(split) or sessions.shape[0] != len(split):
            raise ValueError(
                f"X has {X.shape[0]} rows and sessions {sessions.shape[0]} values but "
                f"split has {len(split)} items; they must be aligned (one row per item)."
            )
        used = split["subset"].isin(["S1", "S2"]).to_numpy()
        if not used.any():
            raise ValueError(
                "no item is in S1 or S2: every item is undetermined or 'other'; check "
                "that the ratings and the truth use the same labels."
            )
        part = split.loc[used]
        data = cls()
        data.name, data.group_column = name, group_column
        data.has_raters, data.split, data.groups = True, split, groups
        data.subset = part["subset"].astype(object).to_numpy()
        data.sensitive = perspective_groups(part).to_numpy(dtype=object)
        data.consensus = {g: part[f"consensus_{g}"].to_numpy(dtype=object) for g in groups}
        data.sets = ("All", "S1", "S2")
        data._finish(X, split.index, split["truth"].to_numpy(dtype=object), sessions, used)
        return data

    def _finish(self, X, items, truth, sessions, used):
        self.items = pd.Index(items)[used]
        self.X = X[used]
        self.truth = truth[used]
        self.sessions = sessions[used]
        self.labels = _sorted(pd.unique(self.truth))
        self.n_items_total = len(items)

    def targets(self, rows):
        """FairPer's ``Y`` (one column per group, then the truth) on ``rows``."""
        columns = {str(group): self.consensus[group][rows] for group in self.groups}
        columns[TRUTH_PERSPECTIVE] = self.truth[rows]
        return pd.DataFrame(columns, index=self.items[rows])

    def parity_rows(self, rows):
        """Where statistical parity is measured: S2 items with a single perspective."""
        known = ~is_missing(self.sensitive[rows])
        if self.has_raters:
            return known & (self.subset[rows] == "S2")
        return known


def _sorted(values):
    values = [value for value in values if not is_missing([value])[0]]
    try:
        return sorted(values)
    except TypeError:
        return list(values)


def _check_bundle(bundle):
    required = ("X", "item_ids", "truth", "sessions")
    if not hasattr(bundle, "get") or any(key not in bundle for key in required):
        raise TypeError(
            "corpus_bundle must be a bundle from fairrep.experiments.load_corpus or "
            f"corpus_bundle (a mapping with at least the keys {list(required)})."
        )
    n_items = len(bundle["item_ids"])
    if np.shape(bundle["X"])[0] != n_items or len(bundle["sessions"]) != n_items:
        raise ValueError(
            f"corpus_bundle is not aligned: {n_items} items, X has "
            f"{np.shape(bundle['X'])[0]} rows and sessions {len(bundle['sessions'])}."
        )
    if bundle.get("ratings") is None:
        info = bundle.get("item_info")
        column = bundle.get("group_column")
        if info is None or column not in info:
            raise ValueError(
                "a corpus_bundle without ratings needs item_info[group_column], the "
                "sensitive group of each item."
            )


# --------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------


def _neighbours(n_neighbors, n_items):
    """k, capped at half the items: a neighbourhood of (almost) every item
    would give the same consistency for any embedding."""
    return max(1, min(n_neighbors, (n_items - 1) // 2))


def _group_consistency(embedding, truth, groups, labels, n_neighbors):
    """Per class: consistency of the perspective groups among that class's items.

    Table 4 of the paper: within each emotion, how many of an item's k = 20
    nearest neighbours in the embedding share its perspective group. Items
    without a group are left out; a class needs 5 items of 2 groups, and k is
    capped by :func:`_neighbours`.
    """
    rows = []
    known = ~is_missing(groups)
    for label in labels:
        members = known & (truth == label)
        n_members = int(members.sum())
        if n_members < 5 or len(pd.unique(groups[members])) < 2:
            continue
        k = _neighbours(n_neighbors, n_members)
        rows.append({
            "class": label,
            "consistency": consistency_score(
                np.asarray(embedding)[members], groups[members], n_neighbors=k
            ),
            "n_items": n_members,
            "n_neighbors": k,
        })
    return rows


def _stage1_scores(data, test, prediction, fold, name):
    """F1 per class on every evaluation set and parity on S2 (Tables 1 and 2)."""
    f1_rows, parity_rows = [], []
    truth = data.truth[test]
    for set_name in data.sets:
        rows = np.ones(len(test), bool) if set_name == "All" else data.subset[test] == set_name
        if not rows.any():
            continue
        scores = per_class_f1(truth[rows], prediction[rows], labels=data.labels)
        f1_rows += [
            {"fold": fold, "method": name, "class": label, "set": set_name, "f1": value}
            for label, value in scores.items()
        ]
    on_parity = data.parity_rows(test)
    if len(pd.unique(data.sensitive[test][on_parity])) >= 2:
        labels = _sorted(set(data.labels) | set(pd.unique(prediction)))
        gaps = statistical_parity_score(
            truth[on_parity], prediction[on_parity],
            sensitive_features=data.sensitive[test][on_parity], labels=labels,
        )
        gaps = np.atleast_1d(gaps)
        if gaps.size == 1:  # two classes: one gap, the same for both
            gaps = np.repeat(gaps, len(labels))
        gaps = dict(zip(labels, gaps))
        parity_rows += [
            {"fold": fold, "method": name, "class": label,
             "statistical_parity": float(gaps[label])}
            for label in data.labels
        ]
    return f1_rows, parity_rows


def _perspective_scores(data, test, predictions, fold, name):
    """F1 per class under each group's perspective against its consensus (Table 3)."""
    rows = []
    for group in predictions:
        target = data.consensus[group][test]
        known = ~is_missing(target)
        if not known.any():
            continue
        scores = per_class_f1(target[known], predictions[group][known], labels=data.labels)
        rows += [
            {"fold": fold, "method": name, "perspective": group, "class": label, "f1": value}
            for label, value in scores.items()
        ]
    return rows


def _time_row(fold, held_out, stage, name, seconds, prediction, labels, n_fits=1):
    never = [label for label in labels if not (prediction == label).any()]
    return {
        "fold": fold, "session": str(held_out), "stage": stage, "method": name,
        "seconds": seconds, "n_fits": n_fits, "never_predicted": ",".join(map(str, never)),
    }


# --------------------------------------------------------------------------
# Units of work: one (stage, fold, method) each
# --------------------------------------------------------------------------


def _params_rows(fold, stage, name, model):
    return [{"fold": fold, "stage": stage, "method": name, "param": key, "value": value}
            for key, value in _configs.fitted_params(model).items()]


def _stage1_unit(name, estimator, data, train, test, fold, held_out, search):
    """Exp1 for one method on one fold: fit on the truth, score F1 and parity."""
    model = clone(estimator)
    X, truth = data.X, data.truth
    start = time.perf_counter()
    grid_rows = []
    if search is not None and search["param"] in model.get_params():
        subset = None if data.subset is None else data.subset[train]
        model, grid_rows = grid_search(
            model, search["param"], search["values"], X[train], truth[train],
            data.sensitive[train], data.sessions[train], rule=search["rule"], subset=subset,
        )
    else:
        _fit(model, X[train], truth[train], data.sensitive[train],
             complete_groups=name in _COMPLETE_GROUPS)
    seconds = time.perf_counter() - start
    prediction = np.asarray(model.predict(X[test]), dtype=object)
    f1_rows, parity_rows = _stage1_scores(data, test, prediction, fold, name)
    record = {
        "stage1_f1": f1_rows,
        "stage1_parity": parity_rows,
        "fit_seconds": [_time_row(fold, held_out, "Exp1", name, seconds, prediction,
                                  data.labels)],
        "grid": [{"fold": fold, "method": name, **row} for row in grid_rows],
        "params": _params_rows(fold, "Exp1", name, model),
        "stage2_f1": [],
    }
    base, config = _configs.parse_label(name)
    if data.has_raters and base == "FairRep":
        # The gender-free FairRep of stage 1 read under each perspective: the
        # baseline FairPer's heads are meant to improve on (Table 3).
        predictions = {group: prediction for group in data.groups}
        record["stage2_f1"] = _perspective_scores(
            data, test, predictions, fold, _configs.gender_free_label(config))
    return record, model


def _stage2_unit(name, estimator, data, train, test, fold, held_out, n_neighbors):
    """Exp2 for one baseline: one model per rater group's consensus labels."""
    f1_rows, consistency_rows = [], []
    seconds, n_fits = 0.0, 0
    prediction_all = []
    for group in data.groups:
        target = data.consensus[group]
        rows = train[~is_missing(target[train])]
        model = clone(estimator)
        start = time.perf_counter()
        _fit(model, data.X[rows], target[rows], data.sensitive[rows],
             complete_groups=name in _COMPLETE_GROUPS)
        seconds += time.perf_counter() - start
        n_fits += 1
        prediction = np.asarray(model.predict(data.X[test]), dtype=object)
        prediction_all.append(prediction)
        f1_rows += _perspective_scores(data, test, {group: prediction}, fold, name)
        if hasattr(model, "transform"):
            embedding = model.transform(data.X[test])
            consistency_rows += [
                {"fold": fold, "method": name, "perspective": group, **row}
                for row in _group_consistency(
                    embedding, data.truth[test], data.sensitive[test], data.labels,
                    n_neighbors,
                )
            ]
    return {
        "stage2_f1": f1_rows,
        "consistency": consistency_rows,
        "fit_seconds": [_time_row(fold, held_out, "Exp2", name, seconds,
                                  np.concatenate(prediction_all), data.labels, n_fits)],
        "grid": [],
        "params": _params_rows(fold, "Exp2", name, model),
    }


def _multi_perspective_unit(name, estimator, data, train, test, fold, held_out, search,
                            representation, n_neighbors):
    """Exp2 for FairPer: one model, every perspective (section 2.2.3)."""
    model = clone(estimator)
    if representation is not None:
        model.set_params(representation=representation)
    Y = data.targets(train)
    start = time.perf_counter()
    grid_rows = []
    if search is not None and search["param"] in model.get_params():
        from sklearn.frozen import FrozenEstimator

        if representation is not None:
            # Keep the fold's FairRep fitted inside the inner folds.
            model.set_params(representation=FrozenEstimator(representation))
        model, grid_rows = grid_search(
            model, search["param"], search["values"], data.X[train], Y,
            data.sensitive[train], data.sessions[train], rule=search["rule"],
        )
    else:
        model.fit(data.X[train], Y, sensitive_features=data.sensitive[train])
    seconds = time.perf_counter() - start
    table = model.predict_all(data.X[test])
    predictions = {
        group: table[str(group)].to_numpy(dtype=object) for group in data.groups
    }
    consistency_rows = []
    original = model.get_params()["perspective"]
    for group in data.groups:
        model.set_params(perspective=str(group))
        consistency_rows += [
            {"fold": fold, "method": name, "perspective": group, **row}
            for row in _group_consistency(
                model.transform(data.X[test]), data.truth[test], data.sensitive[test],
                data.labels, n_neighbors,
            )
        ]
    model.set_params(perspective=original)
    record = {
        "stage2_f1": _perspective_scores(data, test, predictions, fold, name),
        "consistency": consistency_rows,
        "fit_seconds": [_time_row(fold, held_out, "Exp2", name, seconds,
                                  np.concatenate(list(predictions.values())),
                                  data.labels)],
        "grid": [{"fold": fold, "method": name, **row} for row in grid_rows],
        "params": _params_rows(fold, "Exp2", name, model),
    }
    return record, model


# --------------------------------------------------------------------------
# Storage of finished units (resume)
# --------------------------------------------------------------------------


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


class _ResultStore:
    """Finished units on disk (``out/partial/<settings digest>/``) or in memory."""

    def __init__(self, folder=None):
        self.folder = None if folder is None else Path(folder)
        self._records, self._arrays, self._models = {}, {}, {}

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
            import io

            buffer = io.BytesIO()
            np.save(buffer, np.asarray(array), allow_pickle=False)
            _atomic_write(self.folder / f"{_file_name(key)}.npy", buffer.getvalue())

    def load_array(self, key):
        if key in self._arrays:
            return self._arrays[key]
        if self.folder is None:
            return None
        path = self.folder / f"{_file_name(key)}.npy"
        try:
            return np.load(path, allow_pickle=False) if path.is_file() else None
        except (OSError, ValueError):
            return None

    def save_model(self, key, model):
        self._models[key] = model
        if self.folder is not None:
            _atomic_write(self.folder / f"{_file_name(key)}.pkl", pickle.dumps(model))

    def load_model(self, key):
        if key in self._models:
            return self._models[key]
        if self.folder is None:
            return None
        path = self.folder / f"{_file_name(key)}.pkl"
        if not path.is_file():
            return None
        try:
            with path.open("rb") as stream:
                return pickle.load(stream)
        except (OSError, EOFError, AttributeError, ImportError, pickle.UnpicklingError):
            return None  # an unreadable pickle only costs a refit


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _settings_digest(data, methods, options):
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


# --------------------------------------------------------------------------
# One fold
# --------------------------------------------------------------------------


def _captured(stage, fold, name, unit, *args):
    """Run ``unit(*args)``; its warnings become rows of the record (and report notes)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = unit(*args)
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    record = result[0] if isinstance(result, tuple) else result
    record["warnings"] = [
        {"fold": fold, "stage": stage, "method": name, "message": message}
        for message in messages
    ]
    return result


def _run_fold(fold, train, test, held_out, n_folds, data, plan, store, options,
              progress=None, threads=None):
    """Every pending unit of one fold; returns the fold's records and arrays."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    say = progress or (lambda message, fitted: None)
    reused = []
    where = f"fold {fold + 1}/{n_folds} (session {held_out})"
    records, arrays = {}, {}
    fitted = {}
    figure_rows = None
    if fold == options["figure_fold"]:
        figure_rows = ~is_missing(data.sensitive[test])

    def finish(key, record, message):
        store.save(key, record)
        records[key] = record
        say(f"{where}: {message}", True)

    def keep_embedding(name, model):
        if (figure_rows is None or not figure_rows.any() or name not in _FIGURE_METHODS
                or not hasattr(model, "transform")):
            return
        key = ("embedding", fold, name)
        if store.load_array(key) is None:
            embedding = np.asarray(model.transform(data.X[test][figure_rows]), dtype=float)
            store.save_array(key, embedding)
        arrays[key] = store.load_array(key)

    def selected(name):
        """The weights the Exp1 search of ``name`` selected on this fold."""
        return _configs.selected_weights(records.get(("exp1", fold, name), {}))

    def reuse(key, stage):
        """The finished result of ``key`` from a previous run, or None."""
        record = store.load(key)
        if record is not None:
            records[key] = record
            reused.append(key)
            say(f"{where}: {key[2]} ({stage}) reused from a previous run", False)
        return record

    for name in plan["stage1"]:
        key = ("exp1", fold, name)
        if reuse(key, "Exp1") is not None:
            continue
        record, model = _captured(
            "Exp1", fold, name, _stage1_unit, name, plan["methods"][name], data, train,
            test, fold, held_out, options["search"].get(name),
        )
        fitted[name] = model
        keep_embedding(name, model)
        if name in {_configs.representation_label(m) for m in plan["multi"]}:
            store.save_model(("model", fold, name), model)
        seconds = record["fit_seconds"][0]["seconds"]
        finish(key, record, f"{name} (Exp1) fitted in {seconds:.1f} s")

    for name in plan["stage2"]:
        key = ("exp2", fold, name)
        if reuse(key, "Exp2") is not None:
            continue
        # Each perspective's model trains with the weight Exp1 selected on this fold.
        estimator = clone(plan["methods"][name]).set_params(**selected(name))
        record = _captured(
            "Exp2", fold, name, _stage2_unit, name, estimator, data, train, test, fold,
            held_out, options["n_neighbors"],
        )
        seconds = record["fit_seconds"][0]["seconds"]
        finish(key, record, f"{name} (Exp2, {len(data.groups)} perspectives) fitted in "
                            f"{seconds:.1f} s")

    for name in plan["multi"]:
        key = ("exp2", fold, name)
        record = store.load(key)
        if record is not None:
            records[key] = record
            reused.append(key)
            say(f"{where}: {name} (Exp2) reused from a previous run", False)
            continue
        rep = _configs.representation_label(name)
        representation = fitted.get(rep)
        if representation is None and rep in plan["methods"]:
            representation = store.load_model(("model", fold, rep))
            if representation is None:
                # Fitted inside FairPer, on the same data as the Exp1 FairRep.
                representation = clone(plan["methods"][rep]).set_params(**selected(rep))
        record, model = _captured(
            "Exp2", fold, name, _multi_perspective_unit, name, plan["methods"][name], data,
            train, test, fold, held_out, options["search"].get(name), representation,
            options["n_neighbors"],
        )
        keep_embedding(name, model)
        seconds = record["fit_seconds"][0]["seconds"]
        finish(key, record, f"{name} (Exp2) fitted in {seconds:.1f} s")

    if figure_rows is not None:
        for name in _FIGURE_METHODS:
            key = ("embedding", fold, name)
            if key not in arrays:
                array = store.load_array(key)
                if array is not None:
                    arrays[key] = array
    return records, arrays, reused


# --------------------------------------------------------------------------
# run_stage2
# --------------------------------------------------------------------------


def run_stage2(methods, X, split, sessions, *, folds=None, n_neighbors=20, progress=None):
    """Exp2 of the paper: perspective labels (section 3.1/3.3, Tables 3 and 4).

    For every session-independent fold, each method learns the rater groups'
    perspectives and is scored, for each group, by the weighted F1 per class
    (one-vs-rest, as :func:`~fairrep.experiments.per_class_f1`) of its
    predictions under that group's perspective against that group's
    consensus labels (Table 3), and by the consistency score (k = 20) of the
    perspective groups in its embedding (Table 4).

    - A method with ``predict_all`` and a ``perspective`` parameter
      (:class:`~fairrep.FairPer`) is fitted once with ``Y`` = one column per
      group's consensus plus the truth (``"all"``, see
      :func:`~fairrep.perspective.perspective_targets`) and the perspective
      groups as ``sensitive_features`` (the triplets); its predictions and
      embedding under each group's perspective are scored.
    - Any other method (the paper's baselines) is fitted once per group, on
      that group's consensus labels (one model per perspective), with the
      perspective groups as ``sensitive_features`` when its ``fit`` takes
      them; its consistency is measured in each model's ``transform``.

    **Consistency** (Table 4): within each class (the truth), among the test
    items of the biased set S2 that have a single perspective group (the
    group whose consensus equals the truth), ``1 -`` the mean share of an
    item's k nearest neighbours in the embedding that belong to another
    group (:func:`~fairrep.metrics.consistency_score`), averaged over the
    perspectives' embeddings. Higher means samples of the same perspective
    group lie closer, as the paper reads it. ``k`` is capped at the number of
    such items minus one, halved (a neighbourhood of every item would score
    any embedding alike); a class with fewer than 5 of them or a single
    group gets no row.

    Parameters
    ----------
    methods : dict of str to estimator
        Unfitted estimators, cloned per fold (and per perspective).
    X : array-like of shape (n_items, n_features)
        Aligned with ``split``.
    split : pandas.DataFrame
        :func:`~fairrep.raters.perspective_split` of the same items; only S1
        and S2 items are used, as in the paper.
    sessions : array-like of shape (n_items,)
    folds : int, default=None
        Use only the first ``folds`` held-out sessions.
    n_neighbors : int, default=20
        k of the consistency score (the paper's k = 20).
    progress : callable, default=None
        Called with a message after each fit.

    Returns
    -------
    f1 : pandas.DataFrame
        Long table: fold, method, perspective, class, f1.
    consistency : pandas.DataFrame
        Long table: fold, method, perspective, class, consistency, n_items,
        n_neighbors.
    fit_times : pandas.DataFrame
        fold, session, stage, method, seconds, n_fits, never_predicted.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", sections 3.1 and 3.3, Tables 3 and 4.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from fairrep.datasets import make_rater_perspectives
    >>> from fairrep.experiments import run_stage2
    >>> from fairrep.raters import perspective_split
    >>> corpus = make_rater_perspectives(400, random_state=0)
    >>> split = perspective_split(corpus.ratings, truth=corpus.truth)
    >>> split = split.loc[corpus.item_info.index]
    >>> f1, consistency, times = run_stage2(
    ...     {"logistic": LogisticRegression(max_iter=200)}, corpus.data, split,
    ...     corpus.sessions, folds=1)
    >>> sorted(f1["perspective"].unique())
    ['female', 'male']
    """
    if not isinstance(methods, dict) or not methods:
        raise ValueError(
            "methods must be a non-empty dict of name -> estimator; got "
            f"{type(methods).__name__}."
        )
    data = _StudyData.from_split(X, split, sessions)
    all_folds = session_folds(data.sessions)
    if folds is not None:
        all_folds = all_folds[:folds]
    plan = {
        "methods": methods,
        "stage1": [],
        "stage2": [n for n, m in methods.items() if not _is_multi_perspective(m)],
        "multi": [n for n, m in methods.items() if _is_multi_perspective(m)],
    }
    options = {"search": {}, "n_neighbors": n_neighbors, "figure_fold": -1}
    store = _ResultStore()

    def say(message, fitted, n=1):
        if progress is not None and message:
            progress(message)

    records = {}
    for fold, (train, test, held_out) in enumerate(all_folds):
        found, _, _ = _run_fold(fold, train, test, held_out, len(all_folds), data,
                                plan, store, options, progress=say)
        records.update(found)
    tables = _collect(records)
    return tables["stage2_f1"], tables["consistency"], tables["fit_seconds"]


_TABLE_COLUMNS = {
    "stage1_f1": ["fold", "method", "class", "set", "f1"],
    "stage1_parity": ["fold", "method", "class", "statistical_parity"],
    "stage2_f1": ["fold", "method", "perspective", "class", "f1"],
    "consistency": ["fold", "method", "perspective", "class", "consistency", "n_items",
                    "n_neighbors"],
    "fit_seconds": ["fold", "session", "stage", "method", "seconds", "n_fits",
                    "never_predicted"],
    "grid": ["fold", "method", "param", "value", "mean_f1", "f1_on", "mean_parity",
             "selected"],
    "params": ["fold", "stage", "method", "param", "value"],
    "warnings": ["fold", "stage", "method", "message"],
}


def _collect(records):
    """Long tables from the unit records, in fold then plan order."""
    rows = {name: [] for name in _TABLE_COLUMNS}
    for record in records.values():
        for name in rows:
            rows[name] += record.get(name, [])
    tables = {}
    for name, columns in _TABLE_COLUMNS.items():
        frame = pd.DataFrame(rows[name], columns=columns)
        if not frame.empty:
            frame = frame.sort_values("fold", kind="stable").reset_index(drop=True)
        tables[name] = frame
    return tables


# --------------------------------------------------------------------------
# Tables, claims, figures
# --------------------------------------------------------------------------


def _mean_std(frame, value, index, order, scale=1.0):
    """Fold-wise mean and std (ddof=0) as wide frames with ``order`` columns."""
    if frame.empty:
        return None, None
    grouped = frame.groupby(index + ["method"], sort=False)[value]
    mean = grouped.mean().unstack("method") * scale
    std = grouped.std(ddof=0).unstack("method") * scale
    columns = [name for name in order if name in mean.columns]
    mean, std = mean[columns], std[columns].reindex_like(mean[columns])
    return mean, std


def _row_order(frame, labels, sets=None):
    if frame is None:
        return None
    if frame.index.nlevels == 1:
        return frame.reindex([label for label in labels if label in frame.index])
    wanted = [
        (label, second) for label in labels for second in (sets or [])
        if (label, second) in frame.index
    ]
    return frame.reindex(pd.MultiIndex.from_tuples(wanted, names=frame.index.names))


def _figure_entries(data, store_arrays, tables, grid_frame, options, notes):
    """Figs. 1, 2, 5/6 and the trade-off, when matplotlib is available."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        notes.append("matplotlib is not installed: the figures were not drawn.")
        return [], None
    from ..raters import consensus_agreement
    from ._figures import plot_consensus_agreement, plot_embeddings, plot_tradeoff

    figures = []
    agreement = None
    if data.has_raters:
        agreement = {
            "all": consensus_agreement(data.split),
            "S2": consensus_agreement(data.split, subset="S2"),
        }
        figures.append({
            "key": "fig1_agreement_all",
            "title": "Fig. 1: rater-group consensus vs truth, all data",
            "caption": "Share of items (per truth emotion) whose rater-group consensus "
                       "equals the truth, over every item with a truth.",
            "figure": plot_consensus_agreement(agreement["all"]),
        })
        if len(agreement["S2"]):
            figures.append({
                "key": "fig2_agreement_s2",
                "title": "Fig. 2: rater-group consensus vs truth, non-consensus data (S2)",
                "caption": "The same share on S2, where the groups' consensus labels differ.",
                "figure": plot_consensus_agreement(agreement["S2"]),
            })

    mixing = None
    fold = options["figure_fold"]
    embeddings = {
        name: store_arrays[("embedding", fold, name)] for name in _FIGURE_METHODS
        if ("embedding", fold, name) in store_arrays
    }
    groups = options.get("figure_groups")
    if embeddings and groups is not None and len(groups) >= 5 \
            and len(pd.unique(groups)) >= 2:
        shares = pd.Series(groups).value_counts(normalize=True)
        chance = float((shares ** 2).sum())
        k = _neighbours(options["n_neighbors"], len(groups))
        mixing = pd.DataFrame(
            {
                "consistency": [consistency_score(e, groups, n_neighbors=k)
                                for e in embeddings.values()],
                "chance": chance,
                "n_neighbors": k,
            },
            index=pd.Index(list(embeddings), name="method"),
        )
        perplexity = float(min(30.0, max(1.0, (len(groups) - 1) / 3)))
        label = "perspective group" if data.has_raters else data.group_column
        figures.append({
            "key": "fig5_6_embeddings",
            "title": "Figs. 5/6: t-SNE of the representations on the held-out fold",
            "caption": (
                f"Test items of fold {fold + 1} with a known {label}, coloured by it; "
                "DNN and FairRep: their Exp1 representation (transform); FairPer: its "
                "embedding under the gender-free perspective. "
                "Group consistency (k = "
                f"{k}): " + ", ".join(f"{m} {v:.3f}" for m, v in mixing["consistency"].items())
                + f"; {chance:.3f} if the representation ignored the groups."
            ),
            "figure": plot_embeddings(
                embeddings, groups, random_state=options["random_state"],
                max_points=options["figure_points"], perplexity=perplexity,
            ),
        })
    elif options["figures_wanted"]:
        notes.append("Figs. 5/6 were not drawn: the plotted fold has too few items with "
                     "a known group, or neither DNN nor FairRep was run.")

    if tables.get("tradeoff") is not None and len(tables["tradeoff"]):
        figures.append({
            "key": "tradeoff",
            "title": "Fairness / F1 trade-off across methods",
            "caption": (
                "Fold means: x = statistical parity (mean over emotions, on S2), y = "
                "weighted F1 (%, mean over emotions, on "
                f"{'S1' if data.has_raters else 'all test items'}); points labelled "
                "with the fairness weight alpha."
            ),
            "figure": plot_tradeoff(tables["tradeoff"], label="setting"),
        })
    if grid_frame is not None and len(grid_frame):
        frame = grid_frame.assign(
            method=[f"{m}, fold {f + 1}" for m, f in zip(grid_frame["method"],
                                                       grid_frame["fold"])],
            setting=[f"{v:g}" for v in grid_frame["value"]],
            f1=100 * grid_frame["mean_f1"],
            statistical_parity=grid_frame["mean_parity"],
        )
        figures.append({
            "key": "grid_alpha",
            "title": "Grid search of alpha, inner cross-validation",
            "caption": "Each outer fold's inner session-grouped CV, per method and alpha: "
                       "weighted F1 (%; on S1 under the paper's rule, on every item under "
                       "fairrep's) vs statistical parity (mean over emotions).",
            "figure": plot_tradeoff(frame, label="setting"),
        })
    return figures, (agreement, mixing)


def _tradeoff_frame(f1_mean, parity_mean, methods, s1_set, searched):
    """One point per stage-1 method: mean F1 on the consensus set vs mean parity."""
    if f1_mean is None or parity_mean is None:
        return None
    f1 = f1_mean.xs(s1_set, level=-1).mean()
    parity = parity_mean.mean()
    rows = []
    for name in parity.index:
        if name not in f1.index:
            continue
        params = methods[name].get_params() if name in methods else {}
        alpha = params.get("alpha") if _configs.parse_label(name)[0] in _ALPHA_METHODS \
            else None
        setting = "" if alpha is None else f"α={alpha:g}"
        rows.append({
            "method": name,
            "setting": "α searched" if searched.get(name, {}).get("param") == "alpha"
            else setting,
            "f1": float(f1[name]),
            "statistical_parity": float(parity[name]),
        })
    return pd.DataFrame(rows)


def _warning_notes(frame):
    if frame.empty:
        return []
    notes = []
    for (stage, name, message), rows in frame.groupby(["stage", "method", "message"],
                                                      sort=False):
        folds = ", ".join(str(f + 1) for f in sorted(rows["fold"].unique()))
        notes.append(f"Warning while fitting {name} ({stage}, fold {folds}): {message}")
    return notes


def _degenerate_notes(times):
    if times.empty:
        return []
    flagged = times[times["never_predicted"] != ""]
    if flagged.empty:
        return ["Every method predicted every class on every fold."]
    return [
        "Degenerate predictions (a class never predicted has a parity gap of 0 that "
        "says nothing about fairness): " + "; ".join(
            f"{r.method} ({r.stage}), fold {r.fold + 1}: never predicted {r.never_predicted}"
            for r in flagged.itertuples()
        )
    ]


# --------------------------------------------------------------------------
# run_study
# --------------------------------------------------------------------------


def _resolve_methods(methods, data, configs, *, max_epochs, random_state, device, notes):
    if isinstance(methods, dict):
        if not methods:
            raise ValueError("methods must not be empty.")
        chosen = dict(methods)
        for name in chosen:
            config = _configs.parse_label(str(name))[1]
            if config is not None and config not in configs:
                raise ValueError(
                    f"methods[{name!r}] belongs to the {config!r} configuration (plain names "
                    "of the paper's methods are the paper's; '<name> (fairrep)' is "
                    f"fairrep's), which configs={list(configs)} does not include."
                )
    else:
        names = list(DEFAULT_METHODS if methods is None else
                     ([methods] if isinstance(methods, str) else methods))
        available = []
        for name in names:
            module = _ADAPTER_MODULES.get(name)
            if module is not None:
                try:
                    importlib.import_module(module)
                except ImportError:
                    notes.append(f"{name} was asked for but {module} is not installed: "
                                 "skipped.")
                    continue
            if name in _BINARY_ONLY and len(data.labels) > 2:
                notes.append(f"{name} handles binary labels only; this corpus has "
                             f"{len(data.labels)} classes: skipped.")
                continue
            available.append(name)
        chosen = {}
        for config in configs:
            built = make_methods(available, config=config, max_epochs=max_epochs,
                                 random_state=random_state, device=device)
            for name, estimator in built.items():
                chosen.setdefault(_configs.label(name, config), estimator)
    for name, estimator in chosen.items():
        if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
            raise TypeError(f"methods[{name!r}] must be an estimator with fit and predict; "
                            f"got {type(estimator).__name__}.")
    return chosen


def run_study(
    corpus_bundle,
    *,
    methods=None,
    configs=CONFIGS,
    folds=None,
    grid=None,
    max_epochs=100,
    random_state=0,
    n_jobs=None,
    device="cpu",
    out=None,
    progress=None,
    progress_bar=None,
    n_neighbors=20,
    stage2=True,
    figures=True,
    figure_points=1000,
    title=None,
):
    """Run the paper's study on one corpus: Exp1, Exp2, grid search, figures, claims.

    Parameters
    ----------
    corpus_bundle : sklearn.utils.Bunch
        From :func:`~fairrep.experiments.load_corpus` or
        :func:`~fairrep.experiments.corpus_bundle`.
    methods : sequence of str or dict, default=None
        Names among :data:`DEFAULT_METHODS` and :data:`ADAPTER_METHODS` (None:
        DNN, LFR, NRL, FairRepG, FairRepF, FairRep, FairPer; an adapter whose
        library is missing, or a binary-only one on a multiclass corpus, is
        skipped with a note), each run under every configuration of
        ``configs``; or a dict of label -> unfitted estimator used as given.
        Roles follow the labels: ``"FairRep"`` is FairPer's representation,
        ``"DNN"`` the reference of the claims and figures; a plain name of a
        method with a weight (NRL, FairRepG, FairRepF, FairRep, FairPer)
        follows the paper's search rule, ``"<name> (fairrep)"`` fairrep's;
        an estimator with ``predict_all`` and a ``perspective`` parameter is
        a FairPer-like stage-2 model.
    configs : sequence of {"paper", "fairrep"}, default=("paper", "fairrep")
        The configurations run side by side (the first one gives each
        claim's ``holds``). ``"paper"``: eq. (1) as printed, FairRep and
        FairRepG with gradient reversal of weight 1 (``adversary_loss=
        "reversal"``, ``adversary_weight=1``), alpha of FairRep, FairRepF and
        NRL and lambda of FairPer grid-searched over [0.01, 0.001] in every
        training fold, alpha by the weighted F1 on the S1 items of the inner
        validation folds (section 3.1), lambda by the mean F1 under the
        perspectives, FairPer on the fair representation alone; labelled
        with the plain names. ``"fairrep"``: the estimators' defaults
        (FairRep's domain-confusion adversary of weight 3, NRL's alpha 1),
        labelled ``"<name> (fairrep)"``. DNN, LFR and the adapters have no
        configuration and run once.
    folds : int, default=None
        Evaluate the first ``folds`` held-out sessions only (all when None).
    grid : None, bool or sequence of float, default=None
        The search of the fairness weights in each outer training fold
        (inner folds grouped by session, ``sensitive_features`` and the S1/S2
        subset routed by scikit-learn's metadata routing). None: each
        configuration's own rule (the paper's searches, fairrep's does not).
        True: fairrep's configuration searches too, FairRep's alpha refitting
        the fairest candidate within 0.02 F1 of the best and FairPer's lambda
        the best mean F1 under the perspectives. A sequence of weights:
        both search over it. False: no search; the paper's weights stay at
        0.01. FairPer's search keeps the fold's FairRep frozen (it saw the
        inner validation items' truth, not their perspective labels); Exp2's
        per-perspective baselines train with the weight their Exp1 search
        selected on the same fold.
    max_epochs : int, default=100
        Epochs of the neural methods built from names: a fit on ``n``
        training items runs ``max_epochs * ceil(n / 32)`` optimiser steps
        (see Notes).
    random_state : int, default=0
        Seed of every method built from names and of the t-SNE.
    n_jobs : int, default=None
        Outer folds run in parallel processes (joblib) when > 1 (or -1);
        then progress is reported per fold rather than per fit.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where the methods built from names train.
    out : str or path-like, default=None
        With a folder, every finished (stage, fold, method) result is written
        at once to ``out/partial/<settings digest>/`` (JSON; fitted FairRep
        models and plotted embeddings as pickle/npy), and a rerun with the same
        settings reuses them instead of refitting. An interrupted run
        (KeyboardInterrupt) keeps what it finished there. Nothing else is
        written: :func:`~fairrep.experiments.write_report` writes the report.
    progress : callable, default=None
        Called with a message after each fit (and for each reused result).
    progress_bar : bool or None, default=None
        A tqdm bar over the fits: always, never, or (None) when tqdm is
        installed and stderr is a terminal.
    n_neighbors : int, default=20
        k of the consistency score (Table 4).
    stage2 : bool or sequence of str, default=True
        Exp2 methods: True runs every stage-1 method once per perspective plus
        FairPer; a sequence of labels (``"FairRep (fairrep)"`` included)
        restricts the per-perspective baselines to those (FairPer runs
        whenever it is among ``methods``); False skips Exp2. Corpora without
        ratings have no Exp2.
    figures : bool, default=True
        Draw the figures (needs matplotlib).
    figure_points : int, default=1000
        At most this many points per t-SNE panel.
    title : str, default=None

    Returns
    -------
    study : dict
        The mapping :func:`~fairrep.experiments.write_report` takes:
        ``title``, ``meta``, ``tables`` (Tables 1-4 with a column per method
        and configuration, the subsets, fit times and the selected weights;
        fold mean and std), ``figures``, ``claims`` (:func:`evaluate_claims`
        under each configuration, merged: ``holds``, ``holds_for`` and
        ``by_config``), ``notes``, plus ``results``: the long tables
        (``stage1_f1``, ``stage1_parity``, ``stage2_f1``, ``consistency``,
        ``fit_seconds``, ``grid``, ``params``: the fitted estimators'
        weights and adversary settings, ``tradeoff``).

    Notes
    -----
    fairrep trains one multiclass model per method and scores it per class
    (one-vs-rest weighted F1, :func:`~fairrep.experiments.per_class_f1`),
    where the paper reports per-emotion detectors. Exp1 follows
    :func:`~fairrep.experiments.run_stage1`: S1 and S2 items only, the
    perspective group of the S2 items as ``sensitive_features`` (missing on
    S1). Exp2 is :func:`run_stage2` with FairPer built on the fold's Exp1
    FairRep of the same configuration. Every table gives the fold-wise
    mean ± std.

    The paper trained for at most 500 iterations of batch 32 (section 3.1).
    Here a neural method trains ``max_epochs`` epochs of batch 32, i.e.
    ``max_epochs * ceil(n_train / 32)`` iterations (``meta["iterations"]``
    per fold): on a leave-one-session-out fold of the IEMOCAP-sized
    simulated corpus (7,380 items, about 5,830 training items, 183 batches
    an epoch) 500 iterations are 2.7 epochs and the default 100 epochs
    18,300 iterations; ``fairrep demo`` (3,000 items, 2,371 training items,
    10 epochs) runs 750. The inner search's fits see about two thirds of
    the training fold, so fewer.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3, Tables 1-4, Figs. 1, 2, 5, 6.
    """
    started = time.perf_counter()
    notes = list(corpus_bundle.get("notes", [])) if hasattr(corpus_bundle, "get") else []
    data = _StudyData.from_bundle(corpus_bundle)
    configs = _configs.check_configs(configs)
    _configs.resolve_grid(grid)
    methods = _resolve_methods(methods, data, configs, max_epochs=max_epochs,
                               random_state=random_state, device=device, notes=notes)
    search = _configs.search_plan(methods, grid)
    if n_neighbors < 1:
        raise ValueError(f"n_neighbors must be >= 1; got {n_neighbors}.")
    all_folds = session_folds(data.sessions)
    if folds is not None:
        if int(folds) < 1:
            raise ValueError(f"folds must be >= 1; got {folds}.")
        all_folds = all_folds[: int(folds)]

    multi = [n for n, m in methods.items() if _is_multi_perspective(m)]
    single = [n for n in methods if n not in multi]
    if not data.has_raters or stage2 is False:
        stage2_names, multi_names = [], []
        if multi:
            notes.append(f"{', '.join(multi)} needs rater-group perspectives (Exp2), "
                         "which this run has not: skipped.")
    elif stage2 is True:
        stage2_names, multi_names = single, multi
    else:
        wanted = list(stage2)
        unknown = [n for n in wanted if n not in single]
        if unknown:
            raise ValueError(f"stage2 names {unknown} that are not stage-1 methods of "
                             f"this run ({single}).")
        stage2_names, multi_names = wanted, multi
    plan = {"methods": methods, "stage1": single, "stage2": stage2_names,
            "multi": multi_names}

    figure_fold = 0
    test0 = all_folds[figure_fold][1]
    figure_groups = data.sensitive[test0][~is_missing(data.sensitive[test0])]
    options = {
        "search": search,
        "n_neighbors": int(n_neighbors),
        "figure_fold": figure_fold if figures else -1,
        "figure_groups": figure_groups,
        "figure_points": int(figure_points),
        "random_state": random_state,
        "figures_wanted": bool(figures),
    }
    digest = _settings_digest(
        data, methods,
        # Not the number of folds: fold k is the same split for any ``folds``,
        # so a rerun with more folds reuses the ones already done.
        {"search": search,
         "n_neighbors": n_neighbors, "plan": {k: v for k, v in plan.items() if k != "methods"},
         "figure_fold": options["figure_fold"]},
    )
    folder = None if out is None else Path(out) / "partial" / digest
    store = _ResultStore(folder)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "settings.json").write_text(json.dumps({
            "corpus": data.name, "methods": list(methods), "folds": len(all_folds),
            "search": search, "plan": {k: v for k, v in plan.items() if k != "methods"},
        }, indent=1), encoding="utf-8")

    per_fold = len(plan["stage1"]) + len(plan["stage2"]) + len(plan["multi"])
    total = per_fold * len(all_folds)
    bar = _make_bar(progress_bar, total)
    counts = {"fitted": 0, "reused": 0}

    def report(message, fitted, n=1):
        counts["fitted" if fitted else "reused"] += n
        if bar is not None:
            bar.update(n)
        if progress is not None and message:
            progress(message)

    records, arrays = {}, {}
    try:
        parallel = n_jobs not in (None, 1) and len(all_folds) > 1
        if parallel:
            records, arrays = _run_parallel(all_folds, data, plan, store, options, n_jobs,
                                            report)
        else:
            for fold, (train, test, held_out) in enumerate(all_folds):
                found, kept, _ = _run_fold(fold, train, test, held_out, len(all_folds),
                                           data, plan, store, options, progress=report)
                records.update(found)
                arrays.update(kept)
    except KeyboardInterrupt:
        where = (f"saved in {folder}; rerun with the same settings to resume"
                 if folder is not None else "lost (no out folder was given)")
        message = (f"interrupted: {counts['fitted']} result(s) (stage, fold, method) "
                   f"finished in this run, {counts['reused']} reused; the finished "
                   f"results are {where}.")
        if bar is not None:
            bar.close()
        print(message, file=sys.stderr, flush=True)
        if progress is not None:
            progress(message)
        raise
    if bar is not None:
        bar.close()

    results = _collect(records)
    s1_set = "S1" if data.has_raters else "All"
    order = list(methods) + [_configs.gender_free_label(c) for c in configs]
    labels = data.labels
    f1_mean, f1_std = _mean_std(results["stage1_f1"], "f1", ["class", "set"], order, 100)
    sp_mean, sp_std = _mean_std(results["stage1_parity"], "statistical_parity", ["class"],
                                order)
    p_mean, p_std = _mean_std(results["stage2_f1"], "f1", ["class", "perspective"], order,
                              100)
    cons = results["consistency"]
    if not cons.empty:
        # Table 4 averages each fold's perspectives first, then the folds.
        cons = cons.groupby(["fold", "method", "class"], sort=False, as_index=False)[
            "consistency"].mean()
    c_mean, c_std = _mean_std(cons, "consistency", ["class"], order)
    f1_mean, f1_std = _row_order(f1_mean, labels, data.sets), _row_order(f1_std, labels, data.sets)
    sp_mean, sp_std = _row_order(sp_mean, labels), _row_order(sp_std, labels)
    groups = data.groups or []
    p_mean, p_std = _row_order(p_mean, labels, groups), _row_order(p_std, labels, groups)
    c_mean, c_std = _row_order(c_mean, labels), _row_order(c_std, labels)
    tradeoff = _tradeoff_frame(f1_mean, sp_mean, methods, s1_set, search)
    results["tradeoff"] = tradeoff if tradeoff is not None else pd.DataFrame()

    tables_mean = {"table1": f1_mean, "table2": sp_mean, "table3": p_mean, "table4": c_mean,
                   "tradeoff": tradeoff}
    grid_frame = results["grid"]
    alpha_grid = grid_frame[grid_frame["param"] == "alpha"] if len(grid_frame) else None
    figure_list, (agreement, mixing) = ([], (None, None))
    if figures:
        figure_list, (agreement, mixing) = _figure_entries(
            data, arrays, tables_mean, alpha_grid, options, notes
        )
    elif data.has_raters:
        from ..raters import consensus_agreement

        agreement = {"all": consensus_agreement(data.split),
                     "S2": consensus_agreement(data.split, subset="S2")}
    in_use = _configs.configs_in_use(methods, configs)
    claims = claims_by_config(tables_mean, in_use, agreement=agreement, mixing=mixing,
                              s1_set=s1_set,
                              parity_set="S2" if data.has_raters else "all test items")

    parity_where = "S2 items (groups: the perspective group)" if data.has_raters else (
        f"all test items (groups: {data.group_column})")
    table_entries = []
    if f1_mean is not None:
        table_entries.append({
            "key": "table1", "title": "Table 1: weighted F1 (%) per emotion (Exp1)",
            "caption": ("Trained on the truth; one multiclass model per method, scored per "
                        "class as one-vs-rest weighted F1, on "
                        + ("all test items, S1 and S2" if data.has_raters else "all test items")
                        + f"; mean ± std over {len(all_folds)} session-independent fold(s)."),
            "mean": f1_mean, "std": f1_std, "decimals": 2, "lower_is_better": False,
        })
    if sp_mean is not None:
        table_entries.append({
            "key": "table2", "title": "Table 2: statistical parity per emotion (Exp1)",
            "caption": (f"Largest gap in the rate of predicting the class between groups, on "
                        f"{parity_where}; lower is fairer; mean ± std over folds."),
            "mean": sp_mean, "std": sp_std, "decimals": 3, "lower_is_better": True,
        })
    if p_mean is not None:
        table_entries.append({
            "key": "table3",
            "title": "Table 3: weighted F1 (%) under each rater group's perspective (Exp2)",
            "caption": ("Scored against that group's consensus. Baselines: one model per "
                        "perspective trained on the group's consensus; FairPer: one model, "
                        "perspective switched; FairRep (gender-free): the Exp1 FairRep "
                        "trained on the truth. Mean ± std over folds."),
            "mean": p_mean, "std": p_std, "decimals": 2, "lower_is_better": False,
        })
    if c_mean is not None:
        table_entries.append({
            "key": "table4",
            "title": "Table 4: consistency of the perspective groups (k = "
                     f"{n_neighbors}) in each embedding (Exp2)",
            "caption": ("Within each emotion, S2 test items with a single perspective group: "
                        "1 - mean share of an item's nearest neighbours from another group, "
                        "averaged over the perspectives' models; higher = same-group samples "
                        "closer (the paper's reading). Mean ± std over folds."),
            "mean": c_mean, "std": c_std, "decimals": 3, "lower_is_better": False,
        })
    table_entries += _extra_tables(data, results)
    if len(in_use) > 1 or "fairrep" in in_use:
        for entry in table_entries[:4]:
            entry["caption"] += (" Plain names: the paper's configuration; '(fairrep)': "
                                 "fairrep's defaults.")
    iterations = _configs.iterations([len(train) for train, _, _ in all_folds], max_epochs)

    notes += [
        ("fairrep trains one multiclass model per method and scores it per class "
         "(one-vs-rest weighted F1), where the paper reports per-emotion detectors."),
        (f"Folds: {len(all_folds)} of {len(session_folds(data.sessions))} "
         "session-independent folds (held out: "
         + ", ".join(str(h) for _, _, h in all_folds) + ")."),
    ]
    notes += _degenerate_notes(results["fit_seconds"])
    notes += _warning_notes(results["warnings"])
    notes += [f"Configuration '{c}': {_configs.DESCRIPTIONS[c]}" for c in in_use]
    if not search:
        notes.append("No weight was searched (grid=False): the paper's configuration "
                     "trained with alpha = lambda = 0.01.")
    notes.append(f"Training budget: {max_epochs} epochs of batch 32 for the neural methods "
                 "built from names, i.e. " + ", ".join(map(str, iterations)) + " iterations "
                 "per fit on the folds' training items (the paper: at most 500 iterations, "
                 "section 3.1).")
    if any(search.get(n, {}).get("param") == "triplet_weight" for n in plan["multi"]):
        notes.append("FairPer's lambda was selected with the fold's FairRep frozen; that "
                     "FairRep saw the inner validation items' truth labels (not their "
                     "perspective labels).")
    if c_mean is not None and mixing is not None:
        notes.append("Table 4 reads higher group consistency as better (the paper's "
                      "reading) while Figs. 5/6 read evenly mixed groups (lower "
                      "consistency) as fairer; the two claims pull in opposite directions.")
    if counts["reused"]:
        notes.append(f"{counts['reused']} result(s) were reused from {folder}.")
    seconds = time.perf_counter() - started
    meta = {
        "corpus": data.name,
        "description": str(corpus_bundle.get("description", "")),
        "feature_set": str(corpus_bundle.get("feature_set", "")),
        "n_items": int(data.n_items_total),
        "n_items_used": len(data.items),
        "n_features": int(data.X.shape[1]),
        "classes": [str(c) for c in labels],
        "rater_groups": [str(g) for g in groups],
        "sensitive_group": "perspective group (S2)" if data.has_raters else data.group_column,
        "folds": len(all_folds),
        "held_out": [str(h) for _, _, h in all_folds],
        "methods": list(methods),
        "stage2_methods": plan["stage2"] + plan["multi"],
        "max_epochs": max_epochs,
        "random_state": random_state,
        "device": str(device),
        "configs": list(in_use),
        "search": {n: f"{s['param']} over {s['values']} ({s['rule']})" for n, s in search.items()},
        "iterations": iterations,
        "n_neighbors": n_neighbors,
        "results_fitted": counts["fitted"],
        "results_reused": counts["reused"],
        "partial": None if folder is None else str(folder),
        "seconds": round(seconds, 1),
        "fairrep_version": _version(),
        **{f"corpus_{k}": v for k, v in dict(corpus_bundle.get("meta", {})).items()},
    }
    return {
        "title": title or f"fairrep study: {data.name}",
        "meta": meta,
        "tables": table_entries,
        "figures": figure_list,
        "claims": claims,
        "notes": notes,
        "results": results,
    }


def _version():
    from .. import __version__

    return __version__


def _extra_tables(data, results):
    entries = []
    if data.has_raters:
        split = data.split
        counts = pd.crosstab(split["truth"], split["subset"].astype(str))
        counts = counts.reindex(columns=[c for c in ("S1", "S2", "other", "undetermined")
                                         if c in counts.columns]).astype(float)
        counts.index.name = "class"
        counts.columns.name = None
        entries.append({
            "key": "subsets", "title": "Items per emotion and subset",
            "caption": "S1: every group's consensus equals the truth; S2: the other items "
                       "with a truth, as fairrep.raters.perspective_split gave them; Exp1 and "
                       "Exp2 use S1 and S2.",
            "mean": counts, "std": None, "decimals": 0, "lower_is_better": False,
        })
    else:
        counts = pd.crosstab(pd.Series(data.truth, name="class"),
                             pd.Series(data.sensitive, name=data.group_column).astype(str))
        counts.columns.name = None
        entries.append({
            "key": "subsets", "title": f"Items per emotion and {data.group_column}",
            "caption": "The items of the study.", "mean": counts.astype(float), "std": None,
            "decimals": 0, "lower_is_better": False,
        })
    times = results["fit_seconds"]
    if not times.empty:
        grouped = times.groupby(["stage", "method"], sort=False)["seconds"]
        mean = grouped.mean().unstack("method")
        std = grouped.std(ddof=0).unstack("method").reindex_like(mean)
        order = list(pd.unique(times["method"]))
        mean, std = mean[order], std[order]
        mean.columns.name = std.columns.name = None
        entries.append({
            "key": "fit_seconds", "title": "Training time per fold (s)",
            "caption": "Exp2 baselines: all perspectives' models together.",
            "mean": mean, "std": std, "decimals": 1, "lower_is_better": True,
        })
    grid = results["grid"]
    if not grid.empty:
        chosen = grid[grid["selected"]].assign(
            column=[f"{m} {'lambda' if p == 'triplet_weight' else p}"
                    for m, p in zip(grid.loc[grid["selected"], "method"],
                                    grid.loc[grid["selected"], "param"])])
        order = list(pd.unique(chosen["column"]))
        chosen = chosen.pivot_table(index="fold", columns="column", values="value",
                                    aggfunc="first")[order]
        chosen.index = pd.Index([f + 1 for f in chosen.index], name="fold")
        chosen.columns.name = None
        entries.append({
            "key": "grid", "title": "Selected fairness weights per fold",
            "caption": f"Grid {sorted(pd.unique(grid['value']), reverse=True)}. The paper's "
                       "rule: alpha with the best inner-CV weighted F1 on S1; fairrep's: the "
                       f"fairest alpha within {F1_TOLERANCE} inner-CV F1 of the best; "
                       "lambda (FairPer): the best mean F1 under the groups' perspectives.",
            "mean": chosen.astype(float), "std": None, "decimals": 4,
            "lower_is_better": False,
        })
    return entries


def _make_bar(progress_bar, total):
    if progress_bar is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    if progress_bar is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return None
    return tqdm(total=total, desc="fairrep study", unit="result")


def _run_parallel(all_folds, data, plan, store, options, n_jobs, report):
    """Outer folds in joblib worker processes; results merged as folds finish.

    Each worker saves its finished units itself (when ``store`` has a
    folder), so an interrupted parallel run keeps them too.
    """
    from joblib import Parallel, delayed, effective_n_jobs

    workers = min(effective_n_jobs(n_jobs), len(all_folds))
    threads = max(1, (os.cpu_count() or 1) // workers)
    jobs = (
        delayed(_run_fold)(fold, train, test, held_out, len(all_folds), data, plan,
                           store, options, None, threads)
        for fold, (train, test, held_out) in enumerate(all_folds)
    )
    records, arrays = {}, {}
    for found, kept, reused in Parallel(n_jobs=workers,
                                        return_as="generator_unordered")(jobs):
        records.update(found)
        arrays.update(kept)
        for key, record in found.items():
            store._records[key] = record
        for key, array in kept.items():
            store._arrays[key] = array
        folds = sorted({key[1] for key in found})
        report(f"fold {', '.join(str(f + 1) for f in folds)}/{len(all_folds)}: "
               f"{len(found) - len(reused)} result(s) fitted", True,
               n=len(found) - len(reused))
        if reused:
            report(f"{len(reused)} result(s) reused from a previous run", False,
                   n=len(reused))
    return records, arrays
