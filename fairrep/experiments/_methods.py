"""The study's methods: the paper's table of estimators and how each is fitted.

The names are those of the paper's tables (section 3.1): the stage-1 methods
of Tables 1 and 2 (DNN, LFR, NRL, FairRepG, FairRepF, FairRep), the stage-2
FairPer of Tables 3 and 4, and adapters to fairlearn and aif360 run only when
asked for. :func:`make_methods` builds them under one configuration
(:mod:`fairrep.experiments._configs`); :func:`resolve_methods` turns
:func:`~fairrep.experiments.run_study`'s ``methods`` into labelled estimators.
"""

import importlib
import inspect

from ..utils._validation import is_missing
from . import _configs
from ._configs import CONFIGS

__all__ = [
    "ADAPTER_METHODS",
    "DEFAULT_METHODS",
    "STAGE1_METHODS",
    "accepts_sensitive_features",
    "fit_with_groups",
    "is_multi_perspective",
    "make_methods",
    "resolve_methods",
]

#: The stage-1 methods of Tables 1 and 2, in the paper's column order.
STAGE1_METHODS = ("DNN", "LFR", "NRL", "FairRepG", "FairRepF", "FairRep")
#: The stage-2 method of Tables 3 and 4.
STAGE2_METHOD = "FairPer"
#: What :func:`~fairrep.experiments.run_study` runs when ``methods`` is None.
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
#: Adapters that take no missing group: fitted on the items whose perspective
#: group is known.
COMPLETE_GROUPS = frozenset(ADAPTER_METHODS)
_BINARY_ONLY = {"ExponentiatedGradient", "FairlearnPrototype"}
#: The methods whose representation the t-SNE figure (Figs. 5/6) draws.
FIGURE_METHODS = ("DNN", "FairRep", STAGE2_METHOD, "FairRep (fairrep)")
#: The methods whose ``alpha`` is their fairness weight (the trade-off's labels).
ALPHA_METHODS = ("FairRepG", "FairRepF", "FairRep", "NRL")


def make_methods(names=None, *, config="fairrep", max_epochs=100, random_state=0,
                 device="cpu", early_stopping=False, warmup_epochs=0):
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
    early_stopping : bool, default=False
        DNN, NRL, FairRepG, FairRepF, FairRep and FairPer hold out 10% of
        their training items (stratified by label) and stop after
        :data:`~fairrep.experiments._configs.PATIENCE` epochs without a lower
        validation loss, keeping the best weights (``max_epochs`` is then the
        most). LFR has no early stopping.
    warmup_epochs : int, default=0
        With ``early_stopping``, the epochs NRL trains before its early
        stopping starts watching (its ``start_from_epoch``):
        :func:`~fairrep.experiments.run_study` passes the epochs of the
        paper's 500 iterations. Under its critic NRL's held-out loss stays
        flat or rises for its first few hundred steps, and early stopping
        from the first epoch kept an under-trained model
        (benchmarks/README.md, "Which epoch early stopping keeps").

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
    stopping = ({"early_stopping": True, "n_iter_no_change": _configs.PATIENCE}
                if early_stopping else {})
    # NRL's critic holds its held-out loss flat for its first few hundred steps
    warmup = {"start_from_epoch": int(warmup_epochs)} if early_stopping else {}

    def own(name):
        return {**neural, **stopping, **_configs.config_params(name, config)}

    def fairper():
        if config == "paper":
            return FairPer(FairRep(**own("FairRep")), **own("FairPer"))
        return FairPer(**own("FairPer"))

    factories = {
        "DNN": lambda: DNNClassifier(**neural, **stopping),
        "LFR": lambda: LFR(random_state=random_state, device=device),
        "NRL": lambda: NRL(**own("NRL"), **warmup),
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


def is_multi_perspective(estimator):
    """FairPer-like: one model for every perspective, switched by ``perspective``."""
    return hasattr(estimator, "predict_all") and "perspective" in estimator.get_params()


def accepts_sensitive_features(estimator):
    return "sensitive_features" in inspect.signature(estimator.fit).parameters


def fit_with_groups(model, X, y, sensitive, *, complete_groups=False):
    """Fit with ``sensitive_features`` when the estimator takes them."""
    if not accepts_sensitive_features(model):
        return model.fit(X, y)
    if complete_groups:
        rows = ~is_missing(sensitive)
        return model.fit(X[rows], y[rows], sensitive_features=sensitive[rows])
    return model.fit(X, y, sensitive_features=sensitive)


def resolve_methods(methods, data, configs, *, max_epochs, random_state, device, notes,
                    early_stopping=False, warmup_epochs=0):
    """The labelled estimators of a study (see :func:`~fairrep.experiments.run_study`).

    A dict is used as given (its labels checked against ``configs``); names
    are built under every configuration of ``configs`` and labelled
    (:func:`~fairrep.experiments._configs.label`), an adapter whose library
    is missing or a binary-only one on a multiclass corpus skipped with a
    line in ``notes``.
    """
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
                                 random_state=random_state, device=device,
                                 early_stopping=early_stopping,
                                 warmup_epochs=warmup_epochs)
            for name, estimator in built.items():
                chosen.setdefault(_configs.label(name, config), estimator)
    for name, estimator in chosen.items():
        if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
            raise TypeError(f"methods[{name!r}] must be an estimator with fit and predict; "
                            f"got {type(estimator).__name__}.")
    return chosen
