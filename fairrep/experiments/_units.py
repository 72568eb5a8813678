"""The study's units of work: one (stage, fold, method) each.

- :func:`stage1_unit`: Exp1 (section 3.1, Tables 1 and 2), one method fitted
  on the truth of a training fold, scored by F1 per class and parity;
- :func:`stage2_unit`: Exp2 (section 3.3, Tables 3 and 4) for a baseline,
  one model per rater group's consensus;
- :func:`multi_perspective_unit`: Exp2 for FairPer, one model for every
  perspective (section 2.2.3).

Each returns a record: a dict of lists of rows, one list per long result
table (see :data:`fairrep.experiments._runner.TABLE_COLUMNS`), which the
resume store writes as JSON. :func:`captured` runs a unit and keeps its
warnings as rows.
"""

import time
import warnings

import numpy as np
from sklearn.base import clone

from ..utils._validation import is_missing
from . import _configs
from ._methods import COMPLETE_GROUPS, fit_with_groups
from ._scores import group_consistency, perspective_scores, stage1_scores, time_row
from ._search import grid_search

__all__ = [
    "captured",
    "multi_perspective_unit",
    "params_rows",
    "stage1_unit",
    "stage2_unit",
]


def params_rows(fold, stage, name, model):
    """The unit's tracked parameters, and ``epochs_run`` (``n_iter_``) of a neural model."""
    params = _configs.fitted_params(model)
    if "max_epochs" in model.get_params() and isinstance(getattr(model, "n_iter_", None),
                                                         (int, np.integer)):
        params["epochs_run"] = float(model.n_iter_)
    return [{"fold": fold, "stage": stage, "method": name, "param": key, "value": value}
            for key, value in params.items()]


def stage1_unit(name, estimator, data, train, test, fold, held_out, search):
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
            warm_start=search["warm_start"], n_splits=search["folds"],
        )
    else:
        fit_with_groups(model, X[train], truth[train], data.sensitive[train],
             complete_groups=name in COMPLETE_GROUPS)
    seconds = time.perf_counter() - start
    prediction = np.asarray(model.predict(X[test]), dtype=object)
    f1_rows, parity_rows = stage1_scores(data, test, prediction, fold, name)
    record = {
        "stage1_f1": f1_rows,
        "stage1_parity": parity_rows,
        "fit_seconds": [time_row(fold, held_out, "Exp1", name, seconds, prediction,
                                  data.labels)],
        "grid": [{"fold": fold, "method": name, **row} for row in grid_rows],
        "params": params_rows(fold, "Exp1", name, model),
        "stage2_f1": [],
    }
    base, config = _configs.parse_label(name)
    if data.has_raters and base == "FairRep":
        # The gender-free FairRep of stage 1 read under each perspective: the
        # baseline FairPer's heads are meant to improve on (Table 3).
        predictions = {group: prediction for group in data.groups}
        record["stage2_f1"] = perspective_scores(
            data, test, predictions, fold, _configs.gender_free_label(config))
    return record, model


def stage2_unit(name, estimator, data, train, test, fold, held_out, n_neighbors):
    """Exp2 for one baseline: one model per rater group's consensus labels."""
    f1_rows, consistency_rows = [], []
    seconds, n_fits = 0.0, 0
    prediction_all = []
    for group in data.groups:
        target = data.consensus[group]
        rows = train[~is_missing(target[train])]
        model = clone(estimator)
        start = time.perf_counter()
        fit_with_groups(model, data.X[rows], target[rows], data.sensitive[rows],
             complete_groups=name in COMPLETE_GROUPS)
        seconds += time.perf_counter() - start
        n_fits += 1
        prediction = np.asarray(model.predict(data.X[test]), dtype=object)
        prediction_all.append(prediction)
        f1_rows += perspective_scores(data, test, {group: prediction}, fold, name)
        if hasattr(model, "transform"):
            embedding = model.transform(data.X[test])
            consistency_rows += [
                {"fold": fold, "method": name, "perspective": group, **row}
                for row in group_consistency(
                    embedding, data.truth[test], data.sensitive[test], data.labels,
                    n_neighbors,
                )
            ]
    return {
        "stage2_f1": f1_rows,
        "consistency": consistency_rows,
        "fit_seconds": [time_row(fold, held_out, "Exp2", name, seconds,
                                  np.concatenate(prediction_all), data.labels, n_fits)],
        "grid": [],
        "params": params_rows(fold, "Exp2", name, model),
    }


def multi_perspective_unit(name, estimator, data, train, test, fold, held_out, search,
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
            n_splits=search["folds"],
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
            for row in group_consistency(
                model.transform(data.X[test]), data.truth[test], data.sensitive[test],
                data.labels, n_neighbors,
            )
        ]
    model.set_params(perspective=original)
    record = {
        "stage2_f1": perspective_scores(data, test, predictions, fold, name),
        "consistency": consistency_rows,
        "fit_seconds": [time_row(fold, held_out, "Exp2", name, seconds,
                                  np.concatenate(list(predictions.values())),
                                  data.labels)],
        "grid": [{"fold": fold, "method": name, **row} for row in grid_rows],
        "params": params_rows(fold, "Exp2", name, model),
    }
    return record, model


def captured(stage, fold, name, unit, *args):
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
