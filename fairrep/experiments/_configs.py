"""The study's two configurations: the paper's eq. (1) as printed, and fairrep's defaults.

:func:`~fairrep.experiments.run_study` runs every method that has a fairness
weight under each configuration it is given, side by side:

- ``"paper"`` (section 2.2.2, eq. (1), and section 3.1): FairRep and
  FairRepG subtract the adversary's loss with weight 1 (gradient reversal,
  ``adversary_loss="reversal"``, ``adversary_weight=1``); alpha (FairRep,
  FairRepF, NRL) and lambda (FairPer's ``triplet_weight``) are grid-searched
  over [0.01, 0.001] in every training fold, alpha by the weighted F1 on the
  S1 items of session-grouped inner folds, lambda by the mean F1 under the
  rater groups' perspectives; FairPer builds on the fair representation
  alone (Fig. 4). Methods are labelled with their plain names.
- ``"fairrep"``: the estimators' own defaults (FairRep's domain-confusion
  adversary with weight 3, NRL's alpha = 1, ...), no search unless asked
  for, and then the fairest candidate within 0.02 F1 of the best. Methods
  are labelled ``"<name> (fairrep)"``.

The plain baselines (DNN, LFR, the adapters) have no configuration: they run
once and belong to both.
"""

import numpy as np

#: The configurations :func:`~fairrep.experiments.run_study` knows, in order.
CONFIGS = ("paper", "fairrep")
#: One line per configuration, for reports.
DESCRIPTIONS = {
    "paper": ("the paper's eq. (1) as printed: gradient reversal with weight 1 "
              "(FairRep, FairRepG); alpha (FairRep, FairRepF, NRL) and lambda (FairPer) "
              "grid-searched over [0.01, 0.001] in each training fold, alpha by weighted "
              "F1 on S1 and lambda by mean F1 under the perspectives (section 3.1); "
              "FairPer on the fair representation alone (Fig. 4). Plain method names."),
    "fairrep": ("fairrep's defaults: FairRep's domain-confusion adversary with weight 3, "
                "NRL's alpha 1, FairPer's defaults; no search unless grid=True (then the "
                "fairest alpha within 0.02 F1 of the best). Names suffixed '(fairrep)'."),
}
#: The methods whose settings differ between the configurations.
CONFIGURED = ("NRL", "FairRepG", "FairRepF", "FairRep", "FairPer")
#: The alpha and lambda values the paper grid-searches (section 3.1).
PAPER_GRID = (0.01, 0.001)
#: The paper's training budget: at most 500 iterations of batch 32 (section 3.1).
PAPER_ITERATIONS = 500
#: The study's default cap on one fit's iterations: four times the paper's budget.
MAX_ITER = 4 * PAPER_ITERATIONS
#: Patience of the study's early stopping: epochs without a better validation loss.
PATIENCE = 3

_EQ1 = {"adversary_loss": "reversal", "adversary_weight": 1.0}
# Estimator settings per configuration and method (on top of the training
# settings every neural method shares); weights at the grid's first value.
_PARAMS = {
    "paper": {
        "NRL": {"alpha": PAPER_GRID[0]},
        "FairRepG": dict(_EQ1),
        "FairRepF": {"adversary_loss": "reversal", "alpha": PAPER_GRID[0]},
        "FairRep": {**_EQ1, "alpha": PAPER_GRID[0]},
        "FairPer": {"passthrough": False, "triplet_weight": PAPER_GRID[0]},
    },
    "fairrep": {},
}
# What each configuration searches: method -> (parameter, selection rule).
_SEARCH = {
    "paper": {"NRL": ("alpha", "s1_f1"), "FairRepF": ("alpha", "s1_f1"),
              "FairRep": ("alpha", "s1_f1"), "FairPer": ("triplet_weight", "perspective_f1")},
    "fairrep": {"FairRep": ("alpha", "fair"), "FairPer": ("triplet_weight", "perspective_f1")},
}
# Whether the configuration searches when ``grid`` is None (its own rule).
_SEARCHES_BY_DEFAULT = {"paper": True, "fairrep": False}
# Fitted parameters recorded per unit of the study (the "params" table).
TRACKED_PARAMS = ("alpha", "adversary_loss", "adversary_weight", "scale_free", "triplet_weight",
                  "passthrough", "max_epochs", "early_stopping")


def check_configs(configs):
    """``configs`` as a tuple of known, distinct names (ValueError otherwise)."""
    if isinstance(configs, str):
        configs = (configs,)
    try:
        configs = tuple(configs)
    except TypeError:
        raise ValueError(
            f"configs must be a sequence of names among {list(CONFIGS)}; got {configs!r}."
        ) from None
    unknown = [c for c in configs if c not in CONFIGS]
    if not configs or unknown or len(set(configs)) != len(configs):
        raise ValueError(
            f"configs must be a non-empty sequence of distinct names among {list(CONFIGS)}; "
            f"got {list(configs)}."
        )
    return configs


def config_params(name, config):
    """Estimator settings of method ``name`` under ``config`` (empty when none)."""
    return dict(_PARAMS[check_configs(config)[0]].get(name, {}))


def label(name, config):
    """The study's label of ``name`` under ``config``: ``"FairRep"``, ``"FairRep (fairrep)"``."""
    if config is None or config == "paper" or name not in CONFIGURED:
        return name
    return f"{name} ({config})"


def parse_label(text):
    """``(name, config)`` of a label; config is None for a method without one."""
    for config in CONFIGS:
        suffix = f" ({config})"
        if text.endswith(suffix):
            return text[: -len(suffix)], config
    return text, ("paper" if text in CONFIGURED else None)


def gender_free_label(config):
    """Table 3's column of the Exp1 FairRep read under every perspective."""
    return "FairRep (gender-free)" if config in (None, "paper") else \
        f"FairRep ({config}, gender-free)"


def resolve_grid(grid):
    """``(mode, values)``: mode "own" (None), "all" (True or a sequence) or "off" (False)."""
    if grid is None:
        return "own", list(PAPER_GRID)
    if grid is False:
        return "off", None
    values = PAPER_GRID if grid is True else grid
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(
            "grid must be None (each configuration's own rule), True (search in every "
            f"configuration over the paper's {list(PAPER_GRID)}), False (no search) or a "
            f"sequence of weights; got {grid!r}."
        ) from None
    if not values or any(v < 0 or not np.isfinite(v) for v in values):
        raise ValueError(f"grid weights must be finite and >= 0; got {values}.")
    return "all", values


def search_plan(labels, grid, *, warm_start, inner_folds):
    """Which method searches what: ``{label: {"param", "rule", "values", "warm_start", "folds"}}``.

    ``warm_start``: an estimator with a ``warm_start`` parameter walks the
    grid with warm starts; ``inner_folds``: the search's session-grouped
    inner folds (see :func:`~fairrep.experiments._search.grid_search`).
    """
    mode, values = resolve_grid(grid)
    plan = {}
    if mode == "off":
        return plan
    for text in labels:
        name, config = parse_label(text)
        if config is None or name not in _SEARCH[config]:
            continue
        if mode == "own" and not _SEARCHES_BY_DEFAULT[config]:
            continue
        param, rule = _SEARCH[config][name]
        plan[text] = {"param": param, "rule": rule, "values": list(values),
                      "warm_start": bool(warm_start), "folds": int(inner_folds)}
    return plan


def representation_label(text):
    """The label of the FairRep a FairPer-like method ``text`` builds on."""
    _, config = parse_label(text)
    return label("FairRep", config)


def fitted_params(model, prefix=""):
    """The :data:`TRACKED_PARAMS` of a fitted model, nested ones as ``a__b``.

    A frozen estimator (:class:`~sklearn.frozen.FrozenEstimator`) counts as
    the estimator it wraps.
    """
    found = {}
    for key, value in model.get_params(deep=False).items():
        if hasattr(value, "get_params") and not isinstance(value, type):
            frozen = key == "estimator" and type(model).__name__ == "FrozenEstimator"
            found.update(fitted_params(value, prefix if frozen else f"{prefix}{key}__"))
            continue
        if key not in TRACKED_PARAMS:
            continue
        if isinstance(value, (bool, np.bool_)):
            value = bool(value)
        elif isinstance(value, (int, float, np.number)):
            value = float(value)
        elif not isinstance(value, str):
            continue
        found[prefix + key] = value
    return found


def configs_in_use(labels, configs):
    """The configurations of ``configs`` with a method of their own among ``labels``."""
    have = {parse_label(text)[1] for text in labels}
    used = [c for c in configs if c in have]
    return used or [configs[0]]


def view(frame, config, *, axis="columns"):
    """The frame as one configuration sees it: shared and its own methods, plain names.

    Columns (or, with ``axis="index"``, rows) of another configuration are
    dropped and ``"<name> (<config>)"`` becomes ``"<name>"``, so that
    :func:`~fairrep.experiments.evaluate_claims` reads either configuration.
    """
    if frame is None:
        return None
    names = frame.columns if axis == "columns" else frame.index
    keep, rename = [], {}
    for text in names:
        if text == gender_free_label(config):
            keep.append(text)
            rename[text] = gender_free_label(None)
            continue
        if "gender-free" in str(text):
            continue
        name, owner = parse_label(str(text))
        if owner in (None, config):
            keep.append(text)
            rename[text] = name
    if axis == "columns":
        return frame[keep].rename(columns=rename)
    return frame.loc[keep].rename(index=rename)


def holds_for(verdicts):
    """"both", one configuration's name, "neither" or "untested"."""
    tested = [c for c, v in verdicts.items() if v is not None]
    holding = [c for c, v in verdicts.items() if v is True]
    if not tested:
        return "untested"
    if len(verdicts) > 1 and len(holding) == len(verdicts):
        return "both" if len(verdicts) == 2 else "all"
    return ", ".join(holding) if holding else "neither"


def epoch_budget(train_sizes, max_epochs, max_iter, batch_size=32):
    """Epochs of one fit: ``max_epochs``, capped at ``max_iter`` iterations.

    The cap is read on the largest training fold (``ceil(n / batch_size)``
    iterations an epoch), so that no fit of the study runs more than
    ``max_iter`` iterations; at least one epoch. None: no cap.
    """
    if max_iter is None:
        return int(max_epochs)
    batches = _largest_fold_batches(train_sizes, batch_size)
    return max(1, min(int(max_epochs), int(max_iter) // batches))


def warmup_epochs(train_sizes, max_epochs, batch_size=32):
    """Epochs of the paper's budget (:data:`PAPER_ITERATIONS`) on the largest
    training fold, at most ``max_epochs``: NRL's warm-up before its early
    stopping starts watching (``start_from_epoch``)."""
    batches = _largest_fold_batches(train_sizes, batch_size)
    return min(int(max_epochs), int(np.ceil(PAPER_ITERATIONS / batches)))


def _largest_fold_batches(train_sizes, batch_size):
    """Iterations of one epoch on the largest training fold."""
    return int(np.ceil(max(train_sizes) / batch_size))


def iterations(train_sizes, max_epochs, batch_size=32):
    """Optimiser steps of one fit per fold: ``max_epochs * ceil(n_train / batch_size)``."""
    return [int(max_epochs) * int(np.ceil(n / batch_size)) for n in train_sizes]


def selected_weights(record):
    """``{param: value}`` a unit's search selected (empty without a search)."""
    return {row["param"]: row["value"] for row in record.get("grid", []) if row["selected"]}
