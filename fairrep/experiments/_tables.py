"""The study's tables: fold means of the long results, as the paper lays them out.

:func:`paper_tables` aggregates the long result tables of a run into
Tables 1-4 (fold mean and std, one column per method and configuration,
rows in the classes' order); :func:`table_entries` gives them, with the
tables beside the paper's (:func:`extra_tables`), as the report's
:class:`~fairrep.experiments._results.Table` records; :func:`warning_notes`
and :func:`degenerate_notes` say what the numbers alone would hide.
"""

import pandas as pd

from ._results import Table
from ._search import F1_TOLERANCE

__all__ = ["degenerate_notes", "extra_tables", "mean_std", "paper_tables", "row_order",
           "table_entries", "warning_notes"]


def mean_std(frame, value, index, order, scale=1.0):
    """Fold-wise mean and std (ddof=0) as wide frames with ``order`` columns."""
    if frame.empty:
        return None, None
    grouped = frame.groupby(index + ["method"], sort=False)[value]
    mean = grouped.mean().unstack("method") * scale
    std = grouped.std(ddof=0).unstack("method") * scale
    columns = [name for name in order if name in mean.columns]
    mean, std = mean[columns], std[columns].reindex_like(mean[columns])
    return mean, std


def row_order(frame, labels, sets=None):
    """``frame``'s rows in the order of ``labels`` (then of ``sets``, the second level)."""
    if frame is None:
        return None
    if frame.index.nlevels == 1:
        return frame.reindex([label for label in labels if label in frame.index])
    wanted = [
        (label, second) for label in labels for second in (sets or [])
        if (label, second) in frame.index
    ]
    return frame.reindex(pd.MultiIndex.from_tuples(wanted, names=frame.index.names))


def paper_tables(results, data, order):
    """Tables 1-4 as ``{key: (mean, std)}`` (None, None where the run has no numbers).

    Table 1 is F1 (%) per (class, set), Table 2 statistical parity per class,
    Table 3 F1 (%) per (class, perspective), Table 4 the consistency per
    class, each fold's perspectives averaged first, then the folds.
    """
    labels, groups = data.labels, data.groups or []
    f1 = mean_std(results["stage1_f1"], "f1", ["class", "set"], order, 100)
    parity = mean_std(results["stage1_parity"], "statistical_parity", ["class"], order)
    perspective = mean_std(results["stage2_f1"], "f1", ["class", "perspective"], order, 100)
    consistency = results["consistency"]
    if not consistency.empty:
        consistency = consistency.groupby(["fold", "method", "class"], sort=False,
                                          as_index=False)["consistency"].mean()
    consistency = mean_std(consistency, "consistency", ["class"], order)
    return {
        "table1": tuple(row_order(frame, labels, data.sets) for frame in f1),
        "table2": tuple(row_order(frame, labels) for frame in parity),
        "table3": tuple(row_order(frame, labels, groups) for frame in perspective),
        "table4": tuple(row_order(frame, labels) for frame in consistency),
    }


def table_entries(tables, data, results, *, n_folds, n_neighbors, configs_note):
    """The report's tables: Tables 1-4 with their captions, then :func:`extra_tables`."""
    parity_where = "S2 items (groups: the perspective group)" if data.has_raters else (
        f"all test items (groups: {data.group_column})")
    captions = {
        "table1": ("Table 1: weighted F1 (%) per emotion (Exp1)",
                   "Trained on the truth; one multiclass model per method, scored per "
                   "class as one-vs-rest weighted F1, on "
                   + ("all test items, S1 and S2" if data.has_raters else "all test items")
                   + f"; mean ± std over {n_folds} session-independent fold(s).", 2, False),
        "table2": ("Table 2: statistical parity per emotion (Exp1)",
                   (f"Largest gap in the rate of predicting the class between groups, on "
                   f"{parity_where}; lower is fairer; mean ± std over folds."), 3, True),
        "table3": ("Table 3: weighted F1 (%) under each rater group's perspective (Exp2)",
                   ("Scored against that group's consensus. Baselines: one model per "
                   "perspective trained on the group's consensus; FairPer: one model, "
                   "perspective switched; FairRep (gender-free): the Exp1 FairRep "
                   "trained on the truth. Mean ± std over folds."), 2, False),
        "table4": (("Table 4: consistency of the perspective groups (k = "
                   f"{n_neighbors}) in each embedding (Exp2)"),
                   ("Within each emotion, S2 test items with a single perspective group: "
                   "1 - mean share of an item's nearest neighbours from another group, "
                   "averaged over the perspectives' models; higher = same-group samples "
                   "closer (the paper's reading). Mean ± std over folds."), 3, False),
    }
    entries = []
    for key, (title, caption, decimals, lower) in captions.items():
        mean, std = tables[key]
        if mean is None:
            continue
        if configs_note:
            caption += (" Plain names: the paper's configuration; '(fairrep)': "
                        "fairrep's defaults.")
        entries.append(Table(key, title, caption, mean, std, decimals, lower))
    return entries + extra_tables(data, results)


def extra_tables(data, results):
    """The tables beside the paper's: items per subset, fit times, selected weights."""
    entries = []
    if data.has_raters:
        split = data.split
        counts = pd.crosstab(split["truth"], split["subset"].astype(str))
        counts = counts.reindex(columns=[c for c in ("S1", "S2", "other", "undetermined")
                                         if c in counts.columns]).astype(float)
        counts.index.name = "class"
        counts.columns.name = None
        entries.append(Table(
            key="subsets", title="Items per emotion and subset",
            caption="S1: every group's consensus equals the truth; S2: the other items "
                       "with a truth, as fairrep.raters.perspective_split gave them; Exp1 and "
                       "Exp2 use S1 and S2.",
            mean=counts, std=None, decimals=0, lower_is_better=False,
        ))
    else:
        counts = pd.crosstab(pd.Series(data.truth, name="class"),
                             pd.Series(data.sensitive, name=data.group_column).astype(str))
        counts.columns.name = None
        entries.append(Table(
            key="subsets", title=f"Items per emotion and {data.group_column}",
            caption="The items of the study.", mean=counts.astype(float), std=None,
            decimals=0, lower_is_better=False,
        ))
    times = results["fit_seconds"]
    if not times.empty:
        grouped = times.groupby(["stage", "method"], sort=False)["seconds"]
        mean = grouped.mean().unstack("method")
        std = grouped.std(ddof=0).unstack("method").reindex_like(mean)
        order = list(pd.unique(times["method"]))
        mean, std = mean[order], std[order]
        mean.columns.name = std.columns.name = None
        entries.append(Table(
            key="fit_seconds", title="Training time per fold (s)",
            caption="Exp2 baselines: all perspectives' models together.",
            mean=mean, std=std, decimals=1, lower_is_better=True,
        ))
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
        entries.append(Table(
            key="grid", title="Selected fairness weights per fold",
            caption=f"Grid {sorted(pd.unique(grid['value']), reverse=True)}. The paper's "
                       "rule: alpha with the best inner-CV weighted F1 on S1; fairrep's: the "
                       f"fairest alpha within {F1_TOLERANCE} inner-CV F1 of the best; "
                       "lambda (FairPer): the best mean F1 under the groups' perspectives.",
            mean=chosen.astype(float), std=None, decimals=4,
            lower_is_better=False,
        ))
    return entries


def warning_notes(frame):
    """One note per warning a unit raised, with the folds it was raised on."""
    if frame.empty:
        return []
    notes = []
    for (stage, name, message), rows in frame.groupby(["stage", "method", "message"],
                                                      sort=False):
        folds = ", ".join(str(f + 1) for f in sorted(rows["fold"].unique()))
        notes.append(f"Warning while fitting {name} ({stage}, fold {folds}): {message}")
    return notes


def degenerate_notes(times):
    """A note naming the classes a method never predicted on a fold."""
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
