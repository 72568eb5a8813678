"""fairrep's torch LFR against aif360's two LFR implementations: time and objective.

All three solve Zemel et al.'s LFR (2013) with the same number of prototypes,
the same weights (A_x, A_y, A_z) and the same rows:

* ``fairrep.baselines.LFR``: torch autograd, full-batch ``torch.optim.LBFGS``;
* ``aif360.algorithms.preprocessing.LFR`` (classic): scipy L-BFGS-B with
  finite-difference gradients, through ``fairrep.baselines.AIF360ClassicLFR``;
* ``aif360.sklearn.preprocessing.LearnedFairRepresentations``: torch gradients
  with scipy L-BFGS-B, through ``fairrep.baselines.AIF360LFR``.

Every solution (prototypes v_k and label weights w_k) is scored under two
objective functions: aif360 classic's own ``LFR_optim_objective`` (whose L_x
sums the two groups' mean errors) and fairrep's ``lfr_objective`` (pooled
mean; equal to aif360-sklearn's objective for binary y and two groups). Lower
is better. The table also gives the fit time and fairrep's speed-up over the
classic implementation.

Usage::

    python benchmarks/bench_lfr.py --dataset german --n-prototypes 5
"""

import argparse
import logging
import time
import warnings

import numpy as np
import pandas as pd
import torch

from fairrep.datasets import load_tabular, split_tabular


def planted_bias(n_samples, n_features, seed=0):
    """Gaussian features, group "b" shifted along the first one, label from it."""
    rng = np.random.RandomState(seed)
    s = np.where(rng.rand(n_samples) < 0.5, "a", "b")
    X = rng.normal(size=(n_samples, n_features))
    X[:, 0] += 1.5 * (s == "b")
    y = (X[:, 0] + 0.5 * rng.normal(size=n_samples) > 0.75).astype(int)
    return X, y, s


def classic_objective(X, y, groups, prototypes, w, weights):
    """aif360 classic's objective at (prototypes, w); group 1 is the privileged one."""
    from aif360.algorithms.preprocessing.lfr_helpers.helpers import LFR_optim_objective

    params = np.concatenate([w, prototypes.ravel()])
    LFR_optim_objective.steps = 1  # any value; only used for printing
    return float(
        LFR_optim_objective(
            params,
            X[groups == 0],
            X[groups == 1],
            y[groups == 0],
            y[groups == 1],
            len(w),
            *weights,
            print_interval=10**9,
            verbose=0,
        )
    )


def fairrep_objective(X, y, groups, prototypes, w, weights):
    """fairrep's objective at (prototypes, w), w = P(class 1) of each prototype."""
    from fairrep.baselines._lfr import lfr_objective

    w = np.clip(w, 1e-12, 1 - 1e-12)
    logits = np.log(np.stack([1 - w, w], axis=1))
    total, _ = lfr_objective(
        torch.as_tensor(X),
        torch.as_tensor(y, dtype=torch.int64),
        torch.as_tensor(groups, dtype=torch.int64),
        torch.as_tensor(prototypes),
        torch.as_tensor(logits),
        n_groups=2,
        reconstruct_weight=weights[0],
        target_weight=weights[1],
        fairness_weight=weights[2],
    )
    return float(total)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset", choices=["arrests", "german", "synthetic"], default="german"
    )
    parser.add_argument(
        "--n-features",
        type=int,
        default=64,
        help="synthetic only: feature count (the paper's vq-wav2vec features have 512)",
    )
    parser.add_argument(
        "--n-samples", type=int, default=None, help="subsample rows first"
    )
    parser.add_argument("--n-prototypes", type=int, default=5)
    parser.add_argument("--reconstruct-weight", type=float, default=0.01)
    parser.add_argument("--target-weight", type=float, default=1.0)
    parser.add_argument("--fairness-weight", type=float, default=50.0)
    parser.add_argument(
        "--max-iter", type=int, default=5000, help="iteration cap of every solver"
    )
    parser.add_argument(
        "--classic-max-fun",
        type=int,
        default=5000,
        help="objective-evaluation cap of aif360 classic (its default 5000 buys only "
        "5000 / (parameters + 1) finite-difference gradients)",
    )
    parser.add_argument("--repeats", type=int, default=1, help="seeds 0..repeats-1")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--skip-sklearn", action="store_true", help="leave aif360-sklearn out"
    )
    parser.add_argument("--out", default=None, help="CSV file for the table")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    from fairrep.baselines import AIF360LFR, LFR, AIF360ClassicLFR

    if args.dataset == "synthetic":
        X, y, s = planted_bias(args.n_samples or 1000, args.n_features)
    else:
        data = load_tabular(args.dataset)
        X, _, y, _, s, _ = split_tabular(
            data.features, data.target, data.sensitive,
            n_samples=args.n_samples,
            test_size=0.3,
            random_state=0,
        )
    groups = np.searchsorted(np.array(sorted(set(s)), dtype=object), s)
    weights = (args.reconstruct_weight, args.target_weight, args.fairness_weight)
    common = {
        "n_prototypes": args.n_prototypes,
        "reconstruct_weight": weights[0],
        "target_weight": weights[1],
        "fairness_weight": weights[2],
    }
    print(
        f"{args.dataset}: {X.shape[0]} rows, {X.shape[1]} features, "
        f"K={args.n_prototypes}, "
        f"(A_x, A_y, A_z)={weights}; classic LFR has "
        f"{args.n_prototypes * (X.shape[1] + 1)} parameters"
    )
    # aif360's classic LFR numbers the privileged group 1 (the majority here).
    privileged = pd.Series(s).value_counts().index[0]

    # One untimed fit each first: torch and scipy pay one-off start-up costs.
    LFR(n_prototypes=2, max_iter=5).fit(X[:60], y[:60], sensitive_features=s[:60])
    AIF360LFR(n_prototypes=2, max_iter=5).fit(X[:60], y[:60], sensitive_features=s[:60])
    AIF360ClassicLFR(n_prototypes=2, max_iter=2, max_fun=50).fit(
        X[:60], y[:60], sensitive_features=s[:60]
    )

    rows = []
    for seed in range(args.repeats):
        candidates = {
            "fairrep LFR (torch LBFGS)": LFR(
                **common, max_iter=args.max_iter, random_state=seed
            ),
            "aif360 classic LFR": AIF360ClassicLFR(
                **common,
                max_iter=args.max_iter,
                max_fun=args.classic_max_fun,
                privileged_group=privileged,
                random_state=seed,
            ),
        }
        if not args.skip_sklearn:
            candidates["aif360 sklearn LFR"] = AIF360LFR(
                **common, max_iter=args.max_iter, random_state=seed
            )
        for name, model in candidates.items():
            torch.manual_seed(seed)
            start = time.perf_counter()
            model.fit(X, y, sensitive_features=s)
            elapsed = time.perf_counter() - start
            if isinstance(model, LFR):
                prototypes, w = model.prototypes_, model.prototype_proba_[:, 1]
            elif isinstance(model, AIF360ClassicLFR):
                prototypes, w = model.model_.prototypes, model.model_.w
            else:
                prototypes, w = model.model_.prototypes_, model.model_.coef_[:, 0]
            # Classic's objective takes the privileged group as its second block;
            # its value is symmetric in the two groups.
            rows.append(
                {
                    "method": name,
                    "seed": seed,
                    "fit_time_s": elapsed,
                    "objective_aif360_classic": classic_objective(
                        X, y, groups, prototypes, w, weights
                    ),
                    "objective_fairrep": fairrep_objective(
                        X, y, groups, prototypes, w, weights
                    ),
                    "train_accuracy": float(np.mean(model.predict(X) == y)),
                }
            )
            print(f"seed {seed} {name:28s} {elapsed:8.2f} s", flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby("method", sort=False).agg(
        fit_time_s=("fit_time_s", "median"),
        objective_aif360_classic=("objective_aif360_classic", "median"),
        objective_fairrep=("objective_fairrep", "median"),
        train_accuracy=("train_accuracy", "median"),
    )
    print(summary.to_string(float_format=lambda v: f"{v:.4f}"))
    ours = summary.loc["fairrep LFR (torch LBFGS)", "fit_time_s"]
    classic = summary.loc["aif360 classic LFR", "fit_time_s"]
    print(
        "speed-up of fairrep over aif360 classic (median fit time): "
        f"{classic / ours:.1f}x"
    )
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    return table


if __name__ == "__main__":
    main()
