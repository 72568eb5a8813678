"""FairRep's path over alpha on real tabular data, across folds, with and without scale_free.

The question it answers: does a larger weight :math:`\\alpha` of :math:`L_D`
(eq. 1 of Chien & Lee, section 2.2.2, adversary off: FairRepF) buy parity
smoothly, or does the trade-off fall off a cliff to a constant classifier?
For each fold of a stratified K-fold split (target x group) and each alpha
of a log grid it fits FairRep (``adversary_weight=0``) on the training part,
and reports on the test part the accuracy, the statistical parity gap, the
scale-free group distance of the embedding (energy distance divided by the
mean pairwise distance, between the groups' test embeddings) and whether
the predictions are constant. It prints the fold mean and standard
deviation per alpha, writes the per-fold rows as CSV and, with ``--plot``,
draws accuracy and parity against alpha.

Usage::

    python benchmarks/bench_alpha_path.py --dataset german --scale-free both \\
        --out alpha_path.csv --plot alpha_path.png
"""

import argparse
import time

import numpy as np
import pandas as pd
import torch
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from fairrep.baselines import is_degenerate
from fairrep.datasets import load_tabular
from fairrep.metrics import group_energy_distance, statistical_parity_score
from fairrep.representation import FairRep


def encoder(features):
    numeric = features.select_dtypes("number").columns.tolist()
    other = [c for c in features.columns if c not in numeric]
    return ColumnTransformer([
        ("numbers", StandardScaler(), numeric),
        ("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), other),
    ])


def run(dataset, alphas, scale_free_values, n_folds, max_epochs, seed):
    data = load_tabular(dataset)
    sensitive = data.sensitive.astype(str).to_numpy(dtype=object)
    target = data.target.to_numpy()
    strata = pd.Series(target).astype(str) + "|" + pd.Series(sensitive)
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    rows = []
    for fold, (train, test) in enumerate(folds.split(data.features, strata)):
        prep = encoder(data.features).fit(data.features.iloc[train])
        X_train = prep.transform(data.features.iloc[train])
        X_test = prep.transform(data.features.iloc[test])
        for scale_free in scale_free_values:
            for alpha in alphas:
                model = FairRep(hidden_layer_sizes=(64,), embedding_dim=32, alpha=alpha,
                                adversary_weight=0.0, scale_free=scale_free,
                                max_epochs=max_epochs, random_state=seed)
                start = time.perf_counter()
                model.fit(X_train, target[train], sensitive_features=sensitive[train])
                seconds = time.perf_counter() - start
                y_pred = model.predict(X_test)
                rows.append({
                    "dataset": dataset, "fold": fold, "scale_free": scale_free,
                    "alpha": alpha,
                    "accuracy": float(np.mean(y_pred == target[test])),
                    "parity": statistical_parity_score(
                        target[test], y_pred, sensitive_features=sensitive[test]),
                    "group_distance": group_energy_distance(
                        model.transform(X_test), sensitive_features=sensitive[test]),
                    "degenerate": bool(is_degenerate(y_pred)),
                    "fit_seconds": seconds,
                })
                print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def summary(frame):
    return frame.groupby(["scale_free", "alpha"]).agg(
        accuracy=("accuracy", "mean"), accuracy_std=("accuracy", "std"),
        parity=("parity", "mean"), parity_std=("parity", "std"),
        group_distance=("group_distance", "mean"),
        constant_folds=("degenerate", "sum"),
    )


def plot(frame, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = summary(frame).reset_index()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for scale_free, part in table.groupby("scale_free"):
        label = "scale_free=True" if scale_free else "scale_free=False (eq. 1 as printed)"
        for ax, column in zip(axes, ("accuracy", "parity")):
            ax.errorbar(part["alpha"].clip(lower=1e-3), part[column],
                        yerr=part[column + "_std"], marker="o", capsize=3, label=label)
    for ax, column in zip(axes, ("test accuracy", "statistical parity gap")):
        ax.set_xscale("log")
        ax.set_xlabel("alpha (0 drawn at 1e-3)")
        ax.set_ylabel(column)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"FairRep, adversary off, {frame['dataset'].iloc[0]}: fold mean ± std")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="german", choices=["german", "arrests"])
    parser.add_argument("--alphas", default="0,0.01,0.1,0.3,1,3,10,30,100")
    parser.add_argument("--scale-free", default="both", choices=["both", "true", "false"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="CSV of the per-fold rows")
    parser.add_argument("--plot", default=None, help="PNG of the path")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    values = {"both": [False, True], "true": [True], "false": [False]}[args.scale_free]
    alphas = [float(a) for a in args.alphas.split(",")]
    frame = run(args.dataset, alphas, values, args.folds, args.max_epochs, args.seed)
    with pd.option_context("display.width", 160):
        print(summary(frame).round(3).to_string())
    if args.out:
        frame.to_csv(args.out, index=False)
    if args.plot:
        plot(frame, args.plot)


if __name__ == "__main__":
    main()
