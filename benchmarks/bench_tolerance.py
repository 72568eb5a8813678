"""The most accurate model with statistical parity <= t: fairrep against its peers.

On one split per seed of each data set (train 60 % / validation 20 % / test
20 %, stratified on target x group; the encoder fitted on train + validation),
every method is chosen on the validation part at each tolerance ``t`` and
judged on the test part: accuracy, statistical parity gap, fit time (every
fit its choice needed), the majority-class accuracy, and whether the method
needs the group at prediction time.

Group-blind methods (no group at prediction time):

* fairrep: :class:`~fairrep.model_selection.FairnessTolerance` over one
  fairness weight of :class:`~fairrep.FairRep` (eq. 1 of Chien & Lee):
  ``alpha`` (the distance :math:`L_D` on the embedding), ``adversary_weight``
  (the adversary on the embedding), and ``score_weight``, the term on the
  *output scores* (:math:`L_S`, the soft statistical parity of each
  mini-batch less a random split's floor). ``FairRep -> HGB`` is the
  adversary path with a gradient-boosted model fitted on the embedding.
* fairlearn ExponentiatedGradient (demographic parity) on logistic regression
  and on gradient-boosted trees, its ``eps`` chosen on validation;
  fairlearn AdversarialFairnessClassifier and aif360 LFR, their fairness weight
  chosen on validation; OxonFair with groups inferred from the features
  (``inferred_groups``), which needs no group at prediction time.

Group-aware post-processors (the group at prediction time), on
gradient-boosted trees fitted on train, thresholds fitted on validation with
the tolerance: OxonFair, error-parity ``RelaxedThresholdOptimizer``,
fairlearn ``ThresholdOptimizer`` (``tol=t``).

error-parity pins ``numpy<2`` and ``cvxpy~=1.3``; it runs under numpy 2 with a
recent cvxpy installed beside it::

    pip install --target /tmp/fairrep_bench_site --no-deps error-parity==0.3.12 \\
        "cvxpy>=1.6" clarabel osqp scs ecos qdldl
    PYTHONPATH=/tmp/fairrep_bench_site python benchmarks/bench_tolerance.py

Usage::

    python benchmarks/bench_tolerance.py --datasets german arrests --seeds 0 1 2 \\
        --out-dir results
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _tolerance_report import FAIRREP, PEERS, plot, summarize, verdict
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from fairrep import FairnessTolerance, FairRep
from fairrep.baselines import (
    AIF360LFR,
    ExponentiatedGradientClassifier,
    FairlearnAdversarial,
)
from fairrep.datasets import load_tabular, split_tabular
from fairrep.metrics import statistical_parity_score

# -- fits shared between tolerances ------------------------------------------
_FITS = {}


class Cached(ClassifierMixin, BaseEstimator):
    """Fit ``estimator`` once per parameter set and data; later fits reuse it.

    The path of one tolerance is mostly the path of another: the fits are
    shared, and each keeps the time its first fit took (``fit_time_``).
    """

    def __init__(self, estimator, *, tag=""):
        self.estimator = estimator
        self.tag = tag

    def fit(self, X, y, *, sensitive_features=None):
        key = (self.tag, repr(sorted(self.estimator.get_params(deep=True).items(),
                                     key=str)), len(y))
        if key not in _FITS:
            model = clone(self.estimator)
            start = time.perf_counter()
            if isinstance(model, Pipeline):
                model.fit(X, y, fairrep__sensitive_features=sensitive_features)
            else:
                model.fit(X, y, sensitive_features=sensitive_features)
            _FITS[key] = (model, time.perf_counter() - start)
        self.model_, self.fit_time_ = _FITS[key]
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


# -- data ---------------------------------------------------------------------


def load_split(name, seed, n_samples=None):
    data = load_tabular(name)
    X_fit, X_test, y_fit, y_test, s_fit, s_test = split_tabular(
        data.features, data.target, data.sensitive, n_samples=n_samples,
        test_size=0.2, random_state=seed)
    strata = np.char.add(y_fit.astype(str), s_fit.astype(str))
    train, valid = train_test_split(np.arange(len(y_fit)), test_size=0.25,
                                    random_state=seed, stratify=strata)
    return {"train": (X_fit[train], y_fit[train], s_fit[train]),
            "valid": (X_fit[valid], y_fit[valid], s_fit[valid]),
            "test": (X_test, y_test, s_test)}


def measure(y_pred, part):
    _, y, s = part
    return (float(np.mean(y_pred == y)),
            float(statistical_parity_score(y, y_pred, sensitive_features=s)),
            bool(np.unique(y_pred).size < 2))


def row(method, needs_group, t, val, test, fit_time, meets, detail=""):
    return {"method": method, "needs_group": needs_group, "t": t,
            "val_accuracy": val[0], "val_parity": val[1],
            "test_accuracy": test[0], "test_parity": test[1], "constant": test[2],
            "meets_on_validation": meets, "fit_time_s": fit_time, "chosen": detail}


# -- methods ------------------------------------------------------------------


def reference(split, args):
    """Unconstrained models: what a fairness constraint costs."""
    X, y, _ = split["train"]
    rows = []
    for name, model in [
            ("LogisticRegression", LogisticRegression(max_iter=1000)),
            ("HGB", HistGradientBoostingClassifier(random_state=args.seed))]:
        start = time.perf_counter()
        model.fit(X, y)
        elapsed = time.perf_counter() - start
        rows.append(row(name, False, np.nan, measure(model.predict(split["valid"][0]),
                                                     split["valid"]),
                        measure(model.predict(split["test"][0]), split["test"]),
                        elapsed, False))
    return rows


def by_validation(name, make, grid, split, tolerances):
    """Fit every grid point on train; at each t keep the most accurate on validation."""
    X, y, s = split["train"]
    fits = []
    for params in grid:
        model = make(**params)
        start = time.perf_counter()
        model.fit(X, y, sensitive_features=s)
        elapsed = time.perf_counter() - start
        fits.append((params, measure(model.predict(split["valid"][0]), split["valid"]),
                     measure(model.predict(split["test"][0]), split["test"]), elapsed))
    total = sum(fit[3] for fit in fits)
    rows = []
    for t in tolerances:
        ok = [fit for fit in fits if fit[1][1] <= t and not fit[1][2]]
        if ok:
            chosen = max(ok, key=lambda fit: fit[1][0])
        else:  # the fairest non-constant point, flagged
            usable = [fit for fit in fits if not fit[1][2]] or fits
            chosen = min(usable, key=lambda fit: fit[1][1])
        rows.append(row(name, False, t, chosen[1], chosen[2], total, bool(ok),
                        repr(chosen[0])))
    return rows


def fairrep_path(name, estimator, param, values, split, tolerances, args):
    """FairnessTolerance along ``param`` at each t (fits shared between the t)."""
    X, y, s = split["train"]
    X_val, y_val, s_val = split["valid"]
    rows = []
    for t in tolerances:
        search = FairnessTolerance(
            Cached(estimator, tag=f"{name}|{args.seed}"), param=f"estimator__{param}",
            values=values, tolerance=t, n_refine=args.n_refine)
        try:
            search.fit(X, y, sensitive_features=s, X_val=X_val, y_val=y_val,
                       sensitive_features_val=s_val)
            index, meets = search.best_index_, True
        except ValueError:
            path = search.path_
            usable = [i for i, c in enumerate(path["constant"]) if not c] or [0]
            index = min(usable, key=lambda i: path["fairness"][i])
            meets = False
        params = search.path_["params"][index]
        model = clone(search.estimator).set_params(**params).fit(
            X, y, sensitive_features=s)  # a cache hit
        total = 0.0
        for point in search.path_["params"]:
            total += clone(search.estimator).set_params(**point).fit(
                X, y, sensitive_features=s).fit_time_
        rows.append(row(name, False, t,
                        measure(model.predict(X_val), split["valid"]),
                        measure(model.predict(split["test"][0]), split["test"]),
                        total, meets,
                        f"{param}={params[f'estimator__{param}']:.4g}"))
    return rows


WIDTHS = "FairRep score, width on validation"


def width_on_validation(net, split, tolerances, args):
    """The output-score path at each encoder width of ``--widths``; at each t the
    most accurate on validation of the widths' points that met t there (else the
    fairest), as a user would choose the width on the same validation data."""
    per_width = []
    for width in args.widths:
        estimator = FairRep(**{**net, "hidden_layer_sizes": width}, alpha=0.0,
                            adversary_weight=0.0)
        # named as the "FairRep score" path: its fits are shared (Cached)
        found = fairrep_path("FairRep score", estimator, "score_weight",
                             args.score_weights, split, tolerances, args)
        per_width.append((width, [{**r, "method": WIDTHS} for r in found]))
    rows = []
    for k, t in enumerate(tolerances):
        candidates = [(width, found[k]) for width, found in per_width]
        met = [c for c in candidates if c[1]["meets_on_validation"]]
        width, chosen = (max(met, key=lambda c: c[1]["val_accuracy"]) if met
                         else min(candidates, key=lambda c: c[1]["val_parity"]))
        rows.append({**chosen, "fit_time_s": sum(c[1]["fit_time_s"] for c in candidates),
                     "chosen": f"hidden={width}, {chosen['chosen']}"})
    return rows


def _widths(value):
    """One encoder width spec of ``--widths``: "64", "128,64" or "none" (linear)."""
    if value == "none":
        return ()
    try:
        widths = tuple(int(part) for part in value.split(","))
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(
            f"--widths takes 'none' or comma-separated positive integers; got {value!r}.")
    return widths


def fairrep_methods(split, tolerances, args):
    net = {"hidden_layer_sizes": tuple(args.hidden), "embedding_dim": args.embedding_dim,
           "max_epochs": args.epochs, "batch_size": args.batch_size,
           "random_state": args.seed}
    rows = []
    paths = {
        "FairRep alpha": (FairRep(**net, adversary_weight=0.0), "alpha",
                          args.alphas),
        "FairRep adversary": (FairRep(**net, alpha=0.0), "adversary_weight",
                              args.adversary_weights),
        "FairRep score": (FairRep(**net, alpha=0.0, adversary_weight=0.0),
                          "score_weight", args.score_weights),
        "FairRep adversary -> HGB": (
            Pipeline([("fairrep", FairRep(**net, alpha=0.0)),
                      ("hgb", HistGradientBoostingClassifier(random_state=args.seed))]),
            "fairrep__adversary_weight", args.adversary_weights),
    }
    for name in args.fairrep_paths:
        if name == WIDTHS:
            rows += width_on_validation(net, split, tolerances, args)
        else:
            estimator, param, values = paths[name]
            rows += fairrep_path(name, estimator, param, values, split, tolerances, args)
        print(f"  {name}: done", flush=True)
    return rows


def group_blind_peers(split, tolerances, args):
    seed = args.seed
    rows = []
    peers = {
        "ExpGrad LR": (lambda **p: ExponentiatedGradientClassifier(
            random_state=seed, **p), [{"eps": e} for e in args.eps]),
        "ExpGrad HGB": (lambda **p: ExponentiatedGradientClassifier(
            HistGradientBoostingClassifier(max_iter=50, random_state=seed),
            random_state=seed, **p), [{"eps": e} for e in args.eps_hgb]),
        "fairlearn Adversarial": (lambda **p: FairlearnAdversarial(
            random_state=seed, **p), [{"alpha": a} for a in args.adversarial_alphas]),
        "aif360 LFR": (lambda **p: AIF360LFR(random_state=seed, **p),
                       [{"fairness_weight": a} for a in args.lfr_weights]),
    }
    for name in args.peers:
        if name not in peers:
            continue
        make, grid = peers[name]
        try:
            rows += by_validation(name, make, grid, split, tolerances)
        except Exception as error:  # noqa: BLE001 - a failing peer is reported
            print(f"  {name} failed: {type(error).__name__}: {error}", flush=True)
        print(f"  {name}: done", flush=True)
    if "OxonFair inferred" in args.peers:
        rows += oxonfair(split, tolerances, args, inferred=True)
    return rows


def oxonfair(split, tolerances, args, *, inferred):
    from oxonfair import DataDict, FairPredictor
    from oxonfair.utils import group_metrics as gm

    X, y, s = split["train"]
    start = time.perf_counter()
    base = HistGradientBoostingClassifier(random_state=args.seed).fit(X, y)
    infer = (HistGradientBoostingClassifier(random_state=args.seed).fit(X, s)
             if inferred else False)
    base_time = time.perf_counter() - start
    name = "OxonFair inferred" if inferred else "OxonFair"
    rows = []
    for t in tolerances:
        start = time.perf_counter()
        valid = DataDict(split["valid"][1], split["valid"][0], split["valid"][2])
        fair = FairPredictor(base, valid, inferred_groups=infer)
        fair.fit(gm.accuracy, gm.demographic_parity, t)
        elapsed = time.perf_counter() - start

        def predict(part, fair=fair):
            data = (DataDict(part[1], part[0]) if inferred
                    else DataDict(part[1], part[0], part[2]))
            return np.asarray(fair.predict(data))
        val = measure(predict(split["valid"]), split["valid"])
        rows.append(row(name, not inferred, t, val,
                        measure(predict(split["test"]), split["test"]),
                        base_time + elapsed, val[1] <= t and not val[2]))
    return rows


def post_processors(split, tolerances, args):
    X, y, _ = split["train"]
    X_val, y_val, s_val = split["valid"]
    X_test, _, s_test = split["test"]
    start = time.perf_counter()
    base = HistGradientBoostingClassifier(random_state=args.seed).fit(X, y)
    base_time = time.perf_counter() - start
    rows = []
    if "OxonFair" in args.peers:
        rows += oxonfair(split, tolerances, args, inferred=False)
    if "error-parity" in args.peers:
        try:
            from error_parity import RelaxedThresholdOptimizer
        except ImportError as error:
            print(f"  error-parity not importable: {error}", flush=True)
        else:
            codes = {g: i for i, g in enumerate(np.unique(s_val))}
            for t in tolerances:
                start = time.perf_counter()
                model = RelaxedThresholdOptimizer(
                    predictor=lambda Z: base.predict_proba(Z)[:, 1],
                    constraint="demographic_parity", tolerance=t, seed=args.seed)
                model.fit(X_val, y_val, group=np.vectorize(codes.get)(s_val))
                elapsed = time.perf_counter() - start
                val = measure(model.predict(X_val, group=np.vectorize(codes.get)(s_val)),
                              split["valid"])
                test = measure(model.predict(X_test, group=np.vectorize(codes.get)(s_test)),
                               split["test"])
                rows.append(row("error-parity", True, t, val, test,
                                base_time + elapsed, val[1] <= t and not val[2]))
    if "ThresholdOptimizer" in args.peers:
        from fairlearn.postprocessing import ThresholdOptimizer
        for t in tolerances:
            start = time.perf_counter()
            model = ThresholdOptimizer(
                estimator=base, constraints="demographic_parity", prefit=True,
                predict_method="predict_proba", tol=t)
            model.fit(X_val, y_val, sensitive_features=s_val)
            elapsed = time.perf_counter() - start
            val = measure(model.predict(X_val, sensitive_features=s_val,
                                        random_state=args.seed), split["valid"])
            test = measure(model.predict(X_test, sensitive_features=s_test,
                                         random_state=args.seed), split["test"])
            rows.append(row("ThresholdOptimizer", True, t, val, test,
                            base_time + elapsed, val[1] <= t and not val[2]))
    return rows


def run(dataset, seed, args):
    args.seed = seed
    split = load_split(dataset, seed, args.n_samples)
    y_test = split["test"][1]
    majority = float(max(np.mean(y_test == c) for c in np.unique(y_test)))
    print(f"{dataset} seed {seed}: train {len(split['train'][1])}, validation "
          f"{len(split['valid'][1])}, test {len(y_test)}, majority {majority:.3f}",
          flush=True)
    rows = reference(split, args)
    rows += fairrep_methods(split, args.tolerances, args)
    rows += group_blind_peers(split, args.tolerances, args)
    rows += post_processors(split, args.tolerances, args)
    table = pd.DataFrame(rows)
    table.insert(0, "seed", seed)
    table.insert(0, "dataset", dataset)
    table["majority"] = majority
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["german", "arrests", "titanic"],
                        choices=["german", "arrests", "titanic"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--tolerances", nargs="+", type=float,
                        default=[0.01, 0.02, 0.05])
    parser.add_argument("--n-samples", type=int, default=None,
                        help="stratified subsample of each data set (development)")
    parser.add_argument("--hidden", nargs="*", type=int, default=[64],
                        help="encoder widths; none for a linear encoder")
    parser.add_argument("--widths", nargs="+", type=_widths, default=[(64,), ()],
                        help=f"encoder widths {WIDTHS!r} chooses from ('none': "
                             "a linear encoder)")
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-refine", type=int, default=3)
    parser.add_argument("--alphas", nargs="+", type=float,
                        default=[0, 0.3, 1, 3, 10, 30, 100])
    parser.add_argument("--adversary-weights", nargs="+", type=float,
                        default=[0, 1, 3, 10, 30, 100])
    parser.add_argument("--score-weights", nargs="+", type=float,
                        default=[0, 0.1, 0.3, 1, 3, 10])
    parser.add_argument("--eps", nargs="+", type=float,
                        default=[0.002, 0.005, 0.01, 0.02, 0.05])
    parser.add_argument("--eps-hgb", nargs="+", type=float,
                        default=[0.005, 0.01, 0.02, 0.05])
    parser.add_argument("--adversarial-alphas", nargs="+", type=float,
                        default=[0.1, 1, 10, 100])
    parser.add_argument("--lfr-weights", nargs="+", type=float,
                        default=[1, 10, 50, 200])
    parser.add_argument("--fairrep-paths", nargs="*", default=list(FAIRREP),
                        choices=FAIRREP)
    parser.add_argument("--peers", nargs="*", default=list(PEERS), choices=PEERS)
    parser.add_argument("--point", default="FairRep score", choices=FAIRREP,
                        help="the fairrep path judged against the bar")
    parser.add_argument("--out-dir", type=Path, default=Path("."))
    parser.add_argument("--from-csv", type=Path, default=None,
                        help="summarize a tolerance_runs.csv of an earlier run")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.from_csv is not None:
        table = pd.read_csv(args.from_csv)
    else:
        table = pd.concat([run(dataset, seed, args) for dataset in args.datasets
                           for seed in args.seeds], ignore_index=True)
        table.to_csv(args.out_dir / "tolerance_runs.csv", index=False)
    summary = summarize(table)
    summary.to_csv(args.out_dir / "tolerance_summary.csv", index=False)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(summary.round(3).to_string(index=False))
    print("\nThe bar (t in {0.02, 0.05}):")
    for line in verdict(summary, args.point, {0.02, 0.05}):
        print(line)
    plot(summary, args.out_dir / "tolerance_tradeoff.png")


if __name__ == "__main__":
    main()
