"""The study's runner: every pending unit of every fold, in order or in parallel.

A :class:`StudyPlan` says which methods run in which stage; :func:`run_folds`
runs the plan's units (:mod:`fairrep.experiments._units`) fold by fold, or
every unit in joblib worker processes with one torch thread each (Exp1 of
every fold first, then Exp2, longest units first), saves each finished unit
in the resume store (:class:`~fairrep.experiments._store.ResultStore`) and reuses
the ones a previous run finished; :func:`collect` turns the units' records
into the long result tables. :func:`~fairrep.experiments.run_stage1`,
:func:`~fairrep.experiments.run_stage2` and
:func:`~fairrep.experiments.run_study` all run through it.
"""

import os
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..utils._validation import is_missing
from . import _configs
from ._methods import FIGURE_METHODS, is_multi_perspective
from ._units import captured, multi_perspective_unit, stage1_unit, stage2_unit

__all__ = ["TABLE_COLUMNS", "FoldOptions", "StudyPlan", "collect", "run_folds"]

#: The long result tables and their columns, as the units' records hold them.
TABLE_COLUMNS = {
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


@dataclass
class StudyPlan:
    """Which methods run in which stage.

    Attributes
    ----------
    methods : dict of str to estimator
        Every labelled, unfitted estimator of the study.
    stage1 : list of str
        Exp1: fitted on the truth.
    stage2 : list of str
        Exp2 baselines: one model per rater group's consensus.
    multi : list of str
        Exp2 FairPer-like models: one model for every perspective.
    """

    methods: dict
    stage1: list = field(default_factory=list)
    stage2: list = field(default_factory=list)
    multi: list = field(default_factory=list)

    @classmethod
    def split_stages(cls, methods, *, stage1=True):
        """Stage-1 methods and FairPer-like ones apart; the baselines in Exp2 too."""
        multi = [n for n, m in methods.items() if is_multi_perspective(m)]
        single = [n for n in methods if n not in multi]
        return cls(methods, single if stage1 else [], single, multi)

    @property
    def n_units(self):
        """Units per fold."""
        return len(self.stage1) + len(self.stage2) + len(self.multi)

    def settings(self):
        """The stages' names, as the settings digest and ``settings.json`` hold them."""
        return {"stage1": self.stage1, "stage2": self.stage2, "multi": self.multi}


@dataclass
class FoldOptions:
    """What every fold's units need besides the data and the plan.

    Attributes
    ----------
    search : dict
        Label -> ``{"param", "values", "rule"}`` of its inner grid search.
    n_neighbors : int
        k of the consistency score (Table 4).
    figure_fold : int
        The fold whose embeddings Figs. 5/6 draw (-1: none).
    """

    search: dict = field(default_factory=dict)
    n_neighbors: int = 20
    figure_fold: int = -1


#: Relative cost of one fit of each method, to start the longest units first.
_COST = {"FairPer": 4.0, "NRL": 3.0, "FairRep": 2.0, "FairRepG": 1.5, "FairRepF": 1.0,
         "LFR": 1.0, "DNN": 0.5}


def _cost(plan, options, stage, name):
    """Expected relative cost of a unit: its fits times the method's cost per fit."""
    base = _COST.get(_configs.parse_label(name)[0], 1.0)
    search = options.search.get(name)
    if stage == "exp1" or name in plan.multi:
        return base * (1 + search["folds"] * len(search["values"]) if search else 1)
    return base * 2  # one fit per perspective


def _run_unit(stage, fold, name, split, n_folds, data, plan, options, context, threads):
    """One (stage, fold, method) unit: ``(key, record, model to keep, arrays, message)``.

    ``context``: the Exp1 weights an Exp2 baseline trains with, or the
    representation a FairPer-like method builds on.
    """
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    train, test, held_out = split
    key = (stage, fold, name)
    if stage == "exp1":
        record, model = captured(
            "Exp1", fold, name, stage1_unit, name, plan.methods[name], data, train, test, fold,
            held_out, options.search.get(name))
        label = "Exp1"
    elif name in plan.multi:
        record, model = captured(
            "Exp2", fold, name, multi_perspective_unit, name, plan.methods[name], data, train,
            test, fold, held_out, options.search.get(name), context, options.n_neighbors)
        label = "Exp2"
    else:
        estimator = clone(plan.methods[name]).set_params(**context)
        record = captured("Exp2", fold, name, stage2_unit, name, estimator, data, train, test,
                          fold, held_out, options.n_neighbors)
        model, label = None, f"Exp2, {len(data.groups)} perspectives"
    arrays = {}
    if (fold == options.figure_fold and name in FIGURE_METHODS and model is not None
            and hasattr(model, "transform")):
        rows = ~is_missing(data.sensitive[test])
        if rows.any():
            arrays[("embedding", fold, name)] = np.asarray(
                model.transform(data.X[test][rows]), dtype=float)
    keep = model if stage == "exp1" and name in _representations(plan) else None
    seconds = record["fit_seconds"][0]["seconds"]
    message = (f"fold {fold + 1}/{n_folds} (session {held_out}): {name} ({label}) fitted in "
               f"{seconds:.1f} s")
    return key, record, keep, arrays, message


def _representations(plan):
    return {_configs.representation_label(m) for m in plan.multi}


def _context(key, plan, records, store):
    """What an Exp2 unit needs from its fold's Exp1 (see :func:`_run_unit`)."""
    _, fold, name = key
    if name not in plan.multi:
        # Each perspective's model trains with the weight Exp1 selected on this fold.
        return _configs.selected_weights(records.get(("exp1", fold, name), {}))
    rep = _configs.representation_label(name)
    if rep not in plan.methods:
        return None
    representation = store.load_model(("model", fold, rep))
    if representation is None:
        # Fitted inside FairPer, on the same data as the Exp1 FairRep.
        weights = _configs.selected_weights(records.get(("exp1", fold, rep), {}))
        representation = clone(plan.methods[rep]).set_params(**weights)
    return representation


def _stage_keys(plan, stage, folds):
    names = plan.stage1 if stage == "exp1" else plan.stage2 + plan.multi
    return [(stage, fold, name) for fold in folds for name in names]


def _execute(jobs, n_jobs):
    """Results of ``jobs`` (callable, args) as they finish: in order, or in joblib workers."""
    if n_jobs is None:
        for function, args in jobs:
            yield function(*args, None)
        return
    from joblib import Parallel, delayed

    threads = max(1, (os.cpu_count() or 1) // n_jobs)
    yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(function)(*args, threads) for function, args in jobs)


def _run_stage(keys, all_folds, data, plan, store, options, records, arrays, n_jobs, report):
    """Reuse or run every unit of ``keys``; finished ones are saved as they come."""
    pending = []
    for key in keys:
        stage, fold, name = key
        record = store.load(key)
        if record is not None:
            records[key] = record
            report(f"fold {fold + 1}/{len(all_folds)} (session {all_folds[fold][2]}): "
                   f"{name} ({'Exp1' if stage == 'exp1' else 'Exp2'}) reused from a "
                   "previous run", False)
            continue
        context = None if stage == "exp1" else _context(key, plan, records, store)
        pending.append((key, context))
    if n_jobs is not None:
        pending.sort(key=lambda item: -_cost(plan, options, item[0][0], item[0][2]))
    jobs = [(_run_unit, (stage, fold, name, all_folds[fold], len(all_folds), data, plan,
                         options, context))
            for (stage, fold, name), context in pending]
    for key, record, model, kept, message in _execute(jobs, n_jobs):
        store.save(key, record)
        records[key] = record
        if model is not None:
            store.save_model(("model", key[1], key[2]), model)
        for array_key, array in kept.items():
            store.save_array(array_key, array)
        report(message, True)


def _workers(n_jobs, n_units):
    """Worker processes for ``n_units`` units (None: run in this process)."""
    if n_jobs in (None, 1) or n_units < 2:
        return None
    from joblib import effective_n_jobs

    return max(1, min(effective_n_jobs(n_jobs), n_units))


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


def run_folds(all_folds, data, plan, store, options, *, n_jobs=None, progress=None,
              progress_bar=False):
    """Run (or reuse) every unit of ``plan`` on every fold of ``all_folds``.

    Parameters
    ----------
    all_folds : list of (train, test, held_out)
        From :func:`~fairrep.experiments.session_folds`.
    data : StudyData
    plan : StudyPlan
    store : ResultStore
    options : FoldOptions
    n_jobs : int, default=None
        Units (every fold's, every method's) in parallel processes when > 1
        (or -1).
    progress : callable, default=None
        Called with a message after each fit and each reused unit.
    progress_bar : bool or None, default=False
        A tqdm bar over the units: always, never, or (None) on a terminal.

    Returns
    -------
    records : dict
        ``(stage, fold, method)`` -> the unit's record.
    arrays : dict
        ``("embedding", fold, method)`` -> the plotted embedding.
    counts : dict
        ``{"fitted": int, "reused": int}``.

    Notes
    -----
    On KeyboardInterrupt the message says how many units finished and where
    they are kept (stderr and ``progress``), then the interrupt goes on.
    """
    bar = _make_bar(progress_bar, plan.n_units * len(all_folds))
    counts = {"fitted": 0, "reused": 0}

    def report(message, fitted, n=1):
        counts["fitted" if fitted else "reused"] += n
        if bar is not None:
            bar.update(n)
        if progress is not None and message:
            progress(message)

    records, arrays = {}, {}
    try:
        workers = _workers(n_jobs, plan.n_units * len(all_folds))
        folds = list(range(len(all_folds)))
        # In order: fold by fold, Exp1 before Exp2. In parallel: every fold's Exp1
        # units, then every Exp2 unit (each needs its fold's Exp1), longest first.
        rounds = ([[fold] for fold in folds] if workers is None else [folds])
        for group in rounds:
            for stage in ("exp1", "exp2"):
                _run_stage(_stage_keys(plan, stage, group), all_folds, data, plan, store,
                           options, records, arrays, workers, report)
        for name in FIGURE_METHODS if options.figure_fold in folds else ():
            array = store.load_array(("embedding", options.figure_fold, name))
            if array is not None:
                arrays[("embedding", options.figure_fold, name)] = array
    except KeyboardInterrupt:
        where = (f"saved in {store.folder}; rerun with the same settings to resume"
                 if store.folder is not None else "lost (no out folder was given)")
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
    return records, arrays, counts


def collect(records):
    """Long tables from the unit records, in fold then plan order."""
    rows = {name: [] for name in TABLE_COLUMNS}
    for record in records.values():
        for name in rows:
            rows[name] += record.get(name, [])
    tables = {}
    for name, columns in TABLE_COLUMNS.items():
        frame = pd.DataFrame(rows[name], columns=columns)
        if not frame.empty:
            frame = frame.sort_values("fold", kind="stable").reset_index(drop=True)
        tables[name] = frame
    return tables
