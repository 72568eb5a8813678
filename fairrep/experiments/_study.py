"""The paper's full study (section 3) as reusable code: Exp1, Exp2, grid, figures, claims.

:func:`run_study` runs, on one corpus bundle (see
:func:`~fairrep.experiments.load_corpus`), everything the paper reports:

- Exp1 (stage 1, section 3.1; Tables 1 and 2): every method is trained on
  the truth with session-independent folds and scored by weighted F1 per
  emotion on All/S1/S2 and statistical parity on S2;
- Exp2 (stage 2, section 3.3; Tables 3 and 4,
  :func:`~fairrep.experiments.run_stage2`): the
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

The parts live in their own modules: the methods (``_methods``), the data
(``_data``), the units of work (``_units``) and their scores (``_scores``),
the grid search (``_search``), the resume store (``_store``), the runner
(``_runner``), the tables (``_tables``), the figures (``_study_figures``),
the claims (``_claims``) and the typed results (``_results``).

Like :func:`~fairrep.experiments.run_stage1`, fairrep trains **one
multiclass model** per method and scores it **per class** (one-vs-rest
weighted F1), where the paper reports per-emotion detectors.
"""

import time

import pandas as pd

from ..utils._validation import is_missing
from . import _configs
from ._claims import claims_by_config, evaluate_claims
from ._configs import CONFIGS, MAX_ITER, PAPER_GRID
from ._data import StudyData, session_folds
from ._methods import (
    ADAPTER_METHODS,
    DEFAULT_METHODS,
    STAGE1_METHODS,
    make_methods,
    resolve_methods,
)
from ._protocol import run_stage2
from ._results import Study, json_ready
from ._runner import FoldOptions, StudyPlan, collect, run_folds
from ._search import check_inner_folds
from ._store import ResultStore
from ._study_figures import FigureSettings, agreement_of, figure_entries
from ._tables import degenerate_notes, paper_tables, table_entries, warning_notes
from ._tradeoff import tradeoff_frame

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


def run_study(
    corpus_bundle,
    *,
    methods=None,
    configs=CONFIGS,
    folds=None,
    grid=None,
    max_epochs=100,
    early_stopping=True,
    max_iter=MAX_ITER,
    warm_start=False,
    inner_folds=2,
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
        training items runs at most ``max_epochs * ceil(n / 32)`` optimiser
        steps (see Notes).
    early_stopping : bool, default=True
        The neural methods built from names that have early stopping (DNN,
        NRL, FairRepG, FairRepF, FairRep) hold out 10% of each fit's
        training items, stop after 3 epochs without a lower validation loss
        and keep their best weights; NRL's early stopping watches only
        after the paper's 500 iterations (its critic's warm-up). False
        trains every epoch.
    max_iter : int or None, default=2000
        At most this many iterations (batches of 32) per fit of a neural
        method built from names: ``max_epochs`` is capped at
        ``max_iter // ceil(n_train / 32)`` on the largest training fold
        (FairPer, without early stopping, trains that many epochs). 2000 is
        four times the paper's 500 (section 3.1). None: no cap.
    warm_start : bool, default=False
        The grid search of a method with ``warm_start`` (NRL, FairRepF,
        FairRep) walks the grid with warm starts in each inner fold (each
        weight continues the previous one's network, so it has trained
        longer when compared); the selected weight is refitted from
        scratch. ``early_stopping=False, max_iter=None`` is the full-length
        schedule (see Notes).
    inner_folds : int, default=2
        Session-grouped inner folds of the grid search (at least 2; fewer
        when a training fold has fewer sessions). The paper searches alpha
        and lambda inside each training fold without stating how many folds;
        2 fits each candidate twice on half the training fold; 3 fits it
        three times on two thirds, twice the training.
    random_state : int, default=0
        Seed of every method built from names and of the t-SNE.
    n_jobs : int, default=None
        The units (stage, fold, method) run in parallel processes (joblib),
        each with one torch thread, when > 1 (or -1): every fold's Exp1
        first, then Exp2 (which reads its fold's Exp1), longest first. The
        results equal those of a run in one process.
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
    study : Study
        What :func:`~fairrep.experiments.write_report` takes, read like the
        dict it describes (``study["tables"]``; ``study.to_dict()`` gives
        that dict): ``title``, ``meta``, ``tables`` (Tables 1-4 with a column per method
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
    Here a neural method trains at most ``meta["epochs"]`` epochs of batch
    32 (``max_epochs`` capped by ``max_iter``), i.e. at most
    ``meta["iterations"]`` iterations per fold, fewer with early stopping
    (the epochs each fit ran are the ``epochs_run`` rows of
    ``results["params"]``). On a leave-one-session-out fold of the
    IEMOCAP-sized simulated corpus (7,380 items, about 5,830 training
    items, 183 batches an epoch) 500 iterations are 2.7 epochs; the default
    cap of 2000 iterations gives 10 epochs (1,830 iterations), and early
    stopping ends most fits sooner. With ``early_stopping=False,
    max_iter=None`` every fit runs ``max_epochs`` epochs (100: 18,300
    iterations). The inner search's fits see ``1 - 1 / inner_folds`` of the
    training fold (half by default), so fewer.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3, Tables 1-4, Figs. 1, 2, 5, 6.
    """
    started = time.perf_counter()
    notes = list(corpus_bundle.get("notes", [])) if hasattr(corpus_bundle, "get") else []
    data = StudyData.from_bundle(corpus_bundle)
    configs = _configs.check_configs(configs)
    _configs.resolve_grid(grid)
    if n_neighbors < 1:
        raise ValueError(f"n_neighbors must be >= 1; got {n_neighbors}.")
    if max_iter is not None and int(max_iter) < 1:
        raise ValueError(f"max_iter must be >= 1 or None; got {max_iter}.")
    all_folds = session_folds(data.sessions)
    # Capped on every fold (not only those run), so that fold k trains alike for any
    # ``folds`` and a rerun with more folds reuses the finished ones.
    train_sizes = [len(train) for train, _, _ in all_folds]
    epochs = _configs.epoch_budget(train_sizes, max_epochs, max_iter)
    if folds is not None:
        if int(folds) < 1:
            raise ValueError(f"folds must be >= 1; got {folds}.")
        all_folds = all_folds[: int(folds)]
    warmup = _configs.warmup_epochs(train_sizes, epochs)
    methods = resolve_methods(methods, data, configs, max_epochs=epochs,
                              random_state=random_state, device=device, notes=notes,
                              early_stopping=early_stopping, warmup_epochs=warmup)
    search = _configs.search_plan(methods, grid, warm_start=warm_start,
                                  inner_folds=check_inner_folds(inner_folds))
    plan = _plan(methods, data, stage2, notes)

    test0 = all_folds[0][1]
    options = FoldOptions(search, int(n_neighbors), 0 if figures else -1)
    drawing = FigureSettings(bool(figures), data.sensitive[test0][~is_missing(
        data.sensitive[test0])], int(figure_points), random_state)
    store = ResultStore.for_study(out, data, plan, options, len(all_folds))
    records, arrays, counts = run_folds(all_folds, data, plan, store, options, n_jobs=n_jobs,
                                        progress=progress, progress_bar=progress_bar)

    results = collect(records)
    s1_set = "S1" if data.has_raters else "All"
    order = list(methods) + [_configs.gender_free_label(c) for c in configs]
    tables = paper_tables(results, data, order)
    tradeoff = tradeoff_frame(tables["table1"][0], tables["table2"][0], methods, s1_set,
                              search)
    results["tradeoff"] = tradeoff if tradeoff is not None else pd.DataFrame()
    agreement = agreement_of(data)
    figure_list, mixing = [], None
    if figures:
        grid_frame = results["grid"]
        alpha_grid = grid_frame[grid_frame["param"] == "alpha"] if len(grid_frame) else None
        figure_list, mixing = figure_entries(data, arrays, agreement, tradeoff, alpha_grid,
                                             options, drawing, notes)
    in_use = _configs.configs_in_use(methods, configs)
    means = {key: mean for key, (mean, _) in tables.items()}
    claims = claims_by_config(means, in_use, agreement=agreement, mixing=mixing,
                              s1_set=s1_set,
                              parity_set="S2" if data.has_raters else "all test items")
    table_list = table_entries(tables, data, results, n_folds=len(all_folds),
                               n_neighbors=n_neighbors,
                               configs_note=len(in_use) > 1 or "fairrep" in in_use)
    iterations = _configs.iterations(train_sizes, epochs)
    notes += _run_notes(data, results, all_folds, in_use, search, plan, iterations,
                        epochs, table4=tables["table4"][0] is not None, mixing=mixing,
                        early_stopping=early_stopping,
                        warmup=warmup if _nrl_waits(methods, warmup) else 0)
    if counts["reused"]:
        notes.append(f"{counts['reused']} result(s) were reused from {store.folder}.")
    meta = {
        "corpus": data.name,
        "description": str(corpus_bundle.get("description", "")),
        "feature_set": str(corpus_bundle.get("feature_set", "")),
        "n_items": int(data.n_items_total),
        "n_items_used": len(data.items),
        "n_features": int(data.X.shape[1]),
        "classes": [str(c) for c in data.labels],
        "rater_groups": [str(g) for g in data.groups or []],
        "sensitive_group": "perspective group (S2)" if data.has_raters else data.group_column,
        "folds": len(all_folds),
        "held_out": [str(h) for _, _, h in all_folds],
        "methods": list(methods),
        "stage2_methods": plan.stage2 + plan.multi,
        "max_epochs": max_epochs,
        "epochs": epochs,
        "early_stopping": bool(early_stopping),
        "max_iter": max_iter,
        "warm_start": bool(warm_start),
        "inner_folds": int(inner_folds),
        "random_state": random_state,
        "device": str(device),
        "configs": list(in_use),
        "search": {n: f"{s['param']} over {s['values']} ({s['rule']})" for n, s in search.items()},
        "iterations": iterations,
        "n_neighbors": n_neighbors,
        "results_fitted": counts["fitted"],
        "results_reused": counts["reused"],
        "partial": None if store.folder is None else str(store.folder),
        "seconds": round(time.perf_counter() - started, 1),
        "fairrep_version": _version(),
        **{f"corpus_{k}": v for k, v in dict(corpus_bundle.get("meta", {})).items()},
    }
    return Study(title or f"fairrep study: {data.name}", json_ready(meta, "study['meta']"),
                 table_list, figure_list, claims, notes, results)


def _plan(methods, data, stage2, notes):
    """The stages each method runs in, from ``run_study``'s ``stage2``."""
    plan = StudyPlan.split_stages(methods)
    if not data.has_raters or stage2 is False:
        if plan.multi:
            notes.append(f"{', '.join(plan.multi)} needs rater-group perspectives (Exp2), "
                         "which this run has not: skipped.")
        plan.stage2, plan.multi = [], []
    elif stage2 is not True:
        unknown = [n for n in stage2 if n not in plan.stage1]
        if unknown:
            raise ValueError(f"stage2 names {unknown} that are not stage-1 methods of "
                             f"this run ({plan.stage1}).")
        plan.stage2 = list(stage2)
    return plan


def _nrl_waits(methods, warmup):
    """Whether an NRL of the study waits out the study's warm-up before its early
    stopping watches (read from the estimators: not so for a user's own NRL)."""
    return warmup > 0 and any(
        _configs.parse_label(str(name))[0] == "NRL" and getattr(model, "early_stopping", False)
        and getattr(model, "start_from_epoch", 0) == warmup
        for name, model in methods.items())


def _run_notes(data, results, all_folds, in_use, search, plan, iterations, epochs, *,
               table4, mixing, early_stopping, warmup):
    """What the report says about how the numbers were made."""
    notes = [
        ("fairrep trains one multiclass model per method and scores it per class "
         "(one-vs-rest weighted F1), where the paper reports per-emotion detectors."),
        (f"Folds: {len(all_folds)} of {len(session_folds(data.sessions))} "
         "session-independent folds (held out: "
         + ", ".join(str(h) for _, _, h in all_folds) + ")."),
    ]
    notes += degenerate_notes(results["fit_seconds"])
    notes += warning_notes(results["warnings"])
    notes += [f"Configuration '{c}': {_configs.DESCRIPTIONS[c]}" for c in in_use]
    if not search:
        notes.append("No weight was searched (grid=False): the paper's configuration "
                     "trained with alpha = lambda = 0.01.")
    notes.append(f"Training budget: {'at most ' if early_stopping else ''}{epochs} epochs of "
                 "batch 32 for the neural methods built from names, i.e. "
                 + ", ".join(map(str, iterations)) + " iterations per fit on the folds' "
                 "training items (the paper: at most 500 iterations, section 3.1)"
                 + ("; early stopping on 10% of each fit's items (patience 3 epochs"
                    + (f"; NRL's from epoch {warmup + 1} on, after about the paper's 500 "
                       "iterations" if warmup else "") + ")."
                    if early_stopping else "."))
    if any(search.get(n, {}).get("param") == "triplet_weight" for n in plan.multi):
        notes.append("FairPer's lambda was selected with the fold's FairRep frozen; that "
                     "FairRep saw the inner validation items' truth labels (not their "
                     "perspective labels).")
    if table4 and mixing is not None:
        notes.append("Table 4 reads higher group consistency as better (the paper's "
                     "reading) while Figs. 5/6 read evenly mixed groups (lower "
                     "consistency) as fairer; the two claims pull in opposite directions.")
    return notes


def _version():
    from .. import __version__

    return __version__
