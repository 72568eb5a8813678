"""The study's runner: every pending unit of every fold, in order or in parallel.

A :class:`StudyPlan` says which methods run in which stage; :func:`run_folds`
runs the plan's units (:mod:`fairrep.experiments._units`) fold by fold (or
the folds in joblib worker processes), saves each finished unit in the
resume store (:class:`~fairrep.experiments._store.ResultStore`) and reuses
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
    if fold == options.figure_fold:
        figure_rows = ~is_missing(data.sensitive[test])

    def finish(key, record, message):
        store.save(key, record)
        records[key] = record
        say(f"{where}: {message}", True)

    def keep_embedding(name, model):
        if (figure_rows is None or not figure_rows.any() or name not in FIGURE_METHODS
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

    representations = {_configs.representation_label(m) for m in plan.multi}
    for name in plan.stage1:
        key = ("exp1", fold, name)
        if reuse(key, "Exp1") is not None:
            continue
        record, model = captured(
            "Exp1", fold, name, stage1_unit, name, plan.methods[name], data, train,
            test, fold, held_out, options.search.get(name),
        )
        fitted[name] = model
        keep_embedding(name, model)
        if name in representations:
            store.save_model(("model", fold, name), model)
        seconds = record["fit_seconds"][0]["seconds"]
        finish(key, record, f"{name} (Exp1) fitted in {seconds:.1f} s")

    for name in plan.stage2:
        key = ("exp2", fold, name)
        if reuse(key, "Exp2") is not None:
            continue
        # Each perspective's model trains with the weight Exp1 selected on this fold.
        estimator = clone(plan.methods[name]).set_params(**selected(name))
        record = captured(
            "Exp2", fold, name, stage2_unit, name, estimator, data, train, test, fold,
            held_out, options.n_neighbors,
        )
        seconds = record["fit_seconds"][0]["seconds"]
        finish(key, record, f"{name} (Exp2, {len(data.groups)} perspectives) fitted in "
                            f"{seconds:.1f} s")

    for name in plan.multi:
        key = ("exp2", fold, name)
        if reuse(key, "Exp2") is not None:
            continue
        rep = _configs.representation_label(name)
        representation = fitted.get(rep)
        if representation is None and rep in plan.methods:
            representation = store.load_model(("model", fold, rep))
            if representation is None:
                # Fitted inside FairPer, on the same data as the Exp1 FairRep.
                representation = clone(plan.methods[rep]).set_params(**selected(rep))
        record, model = captured(
            "Exp2", fold, name, multi_perspective_unit, name, plan.methods[name], data,
            train, test, fold, held_out, options.search.get(name), representation,
            options.n_neighbors,
        )
        keep_embedding(name, model)
        seconds = record["fit_seconds"][0]["seconds"]
        finish(key, record, f"{name} (Exp2) fitted in {seconds:.1f} s")

    if figure_rows is not None:
        for name in FIGURE_METHODS:
            key = ("embedding", fold, name)
            if key not in arrays:
                array = store.load_array(key)
                if array is not None:
                    arrays[key] = array
    return records, arrays, reused


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
        store.remember(found, kept)
        folds = sorted({key[1] for key in found})
        report(f"fold {', '.join(str(f + 1) for f in folds)}/{len(all_folds)}: "
               f"{len(found) - len(reused)} result(s) fitted", True,
               n=len(found) - len(reused))
        if reused:
            report(f"{len(reused)} result(s) reused from a previous run", False,
                   n=len(reused))
    return records, arrays


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
        Folds in parallel processes when > 1 (or -1) and there are several.
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
        if n_jobs not in (None, 1) and len(all_folds) > 1:
            records, arrays = _run_parallel(all_folds, data, plan, store, options, n_jobs,
                                            report)
        else:
            for fold, (train, test, held_out) in enumerate(all_folds):
                found, kept, _ = _run_fold(fold, train, test, held_out, len(all_folds),
                                           data, plan, store, options, progress=report)
                records.update(found)
                arrays.update(kept)
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
