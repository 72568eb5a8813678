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

With ``--corpus synthetic`` it measures instead how LFR recognises five
classes on the simulated rater corpus under the study's protocol (the demo's
corpus, S1 + S2 items, the perspective group of the S2 items as the sensitive
feature, leave-one-session-out folds): per-class weighted F1, accuracy, macro
F1 and the statistical parity gap on S2 for each number of prototypes and
fairness weight, with the DNN (10 epochs, as in ``fairrep demo``) and a
logistic regression on the same folds. ``--target male`` or ``female`` trains
on that rater group's consensus instead of the truth (Exp2).

Usage::

    python benchmarks/bench_lfr.py --dataset german --n-prototypes 5
    python benchmarks/bench_lfr.py --corpus synthetic --n-prototypes 5 20 --seeds 3
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


def study_data(n_samples, random_state=0):
    """The demo's corpus as the study uses it: X, truth, subset, sensitive, consensus, sessions."""
    from fairrep.experiments import load_corpus
    from fairrep.perspective import perspective_groups
    from fairrep.raters import perspective_split

    corpus = load_corpus("synthetic", n_samples=n_samples, random_state=random_state)
    split = perspective_split(corpus.ratings, truth=corpus.truth).loc[corpus.item_ids]
    used = split["subset"].isin(["S1", "S2"]).to_numpy()
    part = split.loc[used]
    groups = [c.removeprefix("consensus_") for c in part if c.startswith("consensus_")]
    return {
        "X": np.asarray(corpus.X)[used],
        "truth": part["truth"].to_numpy(dtype=object),
        "subset": part["subset"].to_numpy(dtype=object),
        "sensitive": perspective_groups(part).to_numpy(dtype=object),
        "consensus": {g: part[f"consensus_{g}"].to_numpy(dtype=object) for g in groups},
        "sessions": np.asarray(corpus.sessions, dtype=object)[used],
    }


def _scores(data, target, test, prediction, labels):
    """Per-class weighted F1 (All and frustration on S2), accuracy, macro F1, parity."""
    from sklearn.metrics import f1_score

    from fairrep.experiments import per_class_f1
    from fairrep.metrics import statistical_parity_score
    from fairrep.utils._validation import is_missing

    known = ~is_missing(target[test])
    y, pred = target[test][known], prediction[known]
    row = {f"F1 {k}": v for k, v in per_class_f1(y, pred, labels=labels).items()}
    on_s2 = data["subset"][test][known] == "S2"
    if "frustration" in labels:
        row["F1 frustration S2"] = per_class_f1(
            y[on_s2], pred[on_s2], labels=labels
        )["frustration"]
    row["accuracy"] = float(np.mean(y == pred))
    row["macro F1"] = f1_score(y, pred, labels=labels, average="macro", zero_division=0)
    group = data["sensitive"][test][known]
    rows = on_s2 & ~is_missing(group)
    row["parity S2"] = float(np.mean(statistical_parity_score(
        y[rows], pred[rows], sensitive_features=group[rows], labels=labels
    )))
    row["classes never predicted"] = int(sum(not (pred == c).any() for c in labels))
    return row


def five_classes(args):
    """LFR against the DNN and a logistic regression on the simulated five-class corpus."""
    from sklearn.linear_model import LogisticRegression

    from fairrep.baselines import LFR, DNNClassifier
    from fairrep.experiments import session_folds
    from fairrep.utils._validation import is_missing

    data = study_data(args.n_samples)
    target = data["truth"] if args.target == "truth" else data["consensus"][args.target]
    labels = sorted(pd.unique(target[~is_missing(target)]).tolist())
    folds = session_folds(data["sessions"])[: args.folds]
    candidates = {} if args.skip_references else {
        "DNN (10 epochs)": lambda seed: DNNClassifier(max_epochs=10, random_state=seed),
        "logistic regression": lambda seed: LogisticRegression(max_iter=2000),
    }
    for k in args.n_prototypes:
        for az in args.fairness_weight:
            candidates[f"LFR K={k} A_z={az:g}"] = (
                lambda seed, k=k, az=az: LFR(n_prototypes=k, fairness_weight=az,
                                             max_iter=args.max_iter, random_state=seed)
            )
    if args.with_aif360:
        from fairrep.baselines import AIF360LFR

        for k in args.n_prototypes:
            k = (5 if len(labels) == 2 else 6 * len(labels)) if k == "auto" else k
            for az in args.fairness_weight:
                candidates[f"aif360 sklearn LFR K={k} A_z={az:g}"] = (
                    lambda seed, k=k, az=az: AIF360LFR(
                        n_prototypes=k, fairness_weight=az, max_iter=args.max_iter,
                        random_state=seed)
                )
    print(f"synthetic corpus: {data['X'].shape[0]} items, {data['X'].shape[1]} features, "
          f"target {args.target}, {len(folds)} fold(s) x {args.seeds} seed(s)", flush=True)
    rows = []
    for name, make in candidates.items():
        for fold, (train, test, _) in enumerate(folds):
            train = train[~is_missing(target[train])]
            if name.startswith("aif360"):  # it takes no unknown group: S2 rows only
                train = train[~is_missing(data["sensitive"][train])]
            for seed in range(args.seeds):
                model = make(seed)
                start = time.perf_counter()
                if isinstance(model, LFR) or name.startswith("aif360"):
                    model.fit(data["X"][train], target[train],
                              sensitive_features=data["sensitive"][train])
                else:
                    model.fit(data["X"][train], target[train])
                seconds = time.perf_counter() - start
                prediction = np.asarray(model.predict(data["X"][test]), dtype=object)
                row = {"method": name, "fold": fold, "seed": seed, "fit s": seconds,
                       **_scores(data, target, test, prediction, labels)}
                if isinstance(model, LFR):
                    row["L_y"] = model.loss_terms_["prediction"]
                    row["n_iter"] = model.n_iter_
                rows.append(row)
        done = pd.DataFrame([r for r in rows if r["method"] == name])
        print(f"{name:24s} accuracy {100 * done['accuracy'].mean():5.1f} "
              f"± {100 * done['accuracy'].std(ddof=0):4.1f}", flush=True)
    table = pd.DataFrame(rows)
    numbers = [c for c in table.columns if c not in ("method", "fold", "seed")]
    grouped = table.groupby("method", sort=False)[numbers]
    mean, std = grouped.mean(), grouped.std(ddof=0)
    scaled = [c for c in numbers if c.startswith("F1") or c in ("accuracy", "macro F1")]
    mean[scaled], std[scaled] = 100 * mean[scaled], 100 * std[scaled]
    text = mean.round(1).astype(str) + " ± " + std.round(1).astype(str)
    for column in ("parity S2",):
        text[column] = mean[column].round(3).astype(str) + " ± " + std[column].round(3).astype(str)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(text.T.to_string())
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    return table


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
    parser.add_argument(
        "--corpus", choices=["synthetic"], default=None,
        help="five classes on the simulated rater corpus instead of the aif360 comparison",
    )
    parser.add_argument(
        "--target", default="truth",
        help="--corpus: the truth (Exp1) or a rater group's consensus (male, female)",
    )
    parser.add_argument("--folds", type=int, default=2, help="--corpus: sessions held out")
    parser.add_argument("--seeds", type=int, default=1, help="--corpus: seeds per fold")
    parser.add_argument(
        "--with-aif360", action="store_true",
        help="--corpus: also aif360's scikit-learn LFR at the same K and weights",
    )
    parser.add_argument(
        "--skip-references", action="store_true",
        help="--corpus: leave the DNN and the logistic regression out",
    )
    parser.add_argument(
        "--n-prototypes", type=lambda v: v if v == "auto" else int(v), nargs="+",
        default=["auto"], help="K or auto (--corpus: one LFR per value; otherwise one value)",
    )
    parser.add_argument("--reconstruct-weight", type=float, default=0.01)
    parser.add_argument("--target-weight", type=float, default=1.0)
    parser.add_argument("--fairness-weight", type=float, nargs="+", default=[50.0])
    parser.add_argument(
        "--max-iter", type=int, default=None,
        help="iteration cap of every solver (default: 5000; --corpus: LFR's 500)",
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
    if args.corpus is not None:
        args.n_samples = args.n_samples or 3000
        args.max_iter = args.max_iter or 500
        return five_classes(args)
    if len(args.n_prototypes) != 1 or len(args.fairness_weight) != 1:
        parser.error("without --corpus, give one --n-prototypes and one --fairness-weight")
    args.n_prototypes, = args.n_prototypes
    if args.n_prototypes == "auto":  # binary labels here: LFR's "auto" is 5
        args.n_prototypes = 5
    args.fairness_weight, = args.fairness_weight
    args.max_iter = args.max_iter or 5000
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
