"""Which epoch early stopping keeps, against fits of fixed length, per method.

The study's fast schedule stops each neural fit 3 epochs after its best
held-out task loss (``n_iter_no_change=3``). Under a fairness term the task
loss need not fall steadily, so the kept epoch may come before the term has
acted, or before the task is learned. This script fits each method on one
fold of the simulated corpus (the study's preparation: per-speaker
z-normalised features, the S1 and S2 items, the perspective group of the S2
items as ``sensitive_features``, session ``--test-session`` held out) once
with early stopping and once for each of ``--epochs`` without it, and prints
the weighted F1 on the held-out S1 items and the mean statistical parity over
the emotions on the held-out S2 items.

Usage::

    python benchmarks/bench_early_stopping.py --n-samples 1500
    python benchmarks/bench_early_stopping.py --methods "NRL (fairrep)" --start-from-epoch study
"""

import argparse
import warnings

import numpy as np
import torch
from sklearn.metrics import f1_score

from fairrep import FairRep
from fairrep.baselines import NRL, DNNClassifier
from fairrep.datasets import make_rater_perspectives
from fairrep.experiments._configs import warmup_epochs
from fairrep.features import SpeakerStandardScaler
from fairrep.metrics import statistical_parity_score
from fairrep.raters import perspective_split
from fairrep.raters._subsets import names_one_group

METHODS = {
    "DNN": lambda **kw: DNNClassifier(**kw),
    "NRL (fairrep)": lambda **kw: NRL(**kw),
    "FairRep (fairrep)": lambda **kw: FairRep(**kw),
}


def study_fold(n_samples, seed, test_session):
    corpus = make_rater_perspectives(n_samples=n_samples, random_state=seed)
    split = perspective_split(corpus.ratings, truth=corpus.truth).loc[corpus.truth.index]
    X = SpeakerStandardScaler().fit_transform(corpus.data, speakers=corpus.speakers)
    subset = split["subset"].to_numpy(dtype=object)
    used = np.isin(subset, ["S1", "S2"])
    group = np.where((subset == "S2") & names_one_group(split),
                     split["perspective"].to_numpy(dtype=object), None)
    sessions = np.asarray(corpus.sessions)[used]
    test = sessions == np.unique(sessions)[test_session]
    return {"X": X[used], "y": split["truth"].to_numpy(dtype=object)[used],
            "subset": subset[used], "group": group[used], "test": test}


def measure(model, data):
    X, y, subset, test = data["X"], data["y"], data["subset"], data["test"]
    s1, s2 = test & (subset == "S1"), test & (subset == "S2")
    f1 = f1_score(y[s1], model.predict(X[s1]), average="weighted")
    parity = statistical_parity_score(
        y[s2], model.predict(X[s2]), sensitive_features=data["group"][s2].astype(str),
        labels=sorted(set(y)))
    return f1, float(np.mean(parity))


def fit(make, data, uses_groups, **params):
    train = ~data["test"]
    model = make(**params)
    groups = {"sensitive_features": data["group"][train]} if uses_groups else {}
    return model.fit(data["X"][train], data["y"][train], **groups)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-session", type=int, default=0)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--max-epochs", type=int, default=52)
    parser.add_argument("--epochs", nargs="+", type=int, default=[1, 3, 6, 12, 24])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--start-from-epoch", default="0",
                        help="epochs before early stopping watches: an integer, or 'study' "
                             "for the study's NRL warm-up (the paper's 500 iterations)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    data = study_fold(args.n_samples, args.seed, args.test_session)
    if args.start_from_epoch == "study":
        n_train = int(np.sum(~data["test"]))
        start = warmup_epochs([n_train], args.max_epochs)
        print(f"warm-up: {start} epochs ({n_train} training items, batch 32)")
    else:
        start = int(args.start_from_epoch)
    print("method              schedule                    S1 weighted F1  S2 parity")
    for name in args.methods:
        make, uses_groups = METHODS[name], name != "DNN"
        stopped = fit(make, data, uses_groups, max_epochs=args.max_epochs,
                      early_stopping=True, n_iter_no_change=args.patience,
                      start_from_epoch=start, random_state=args.seed)
        best = dict(stopped.net_.callbacks_)["early_stopping"].best_epoch_ or stopped.n_iter_
        f1, parity = measure(stopped, data)
        print(f"{name:<19} early stopping: kept {best:>2} of {stopped.n_iter_:>2}  "
              f"{f1:>13.3f}  {parity:>9.3f}", flush=True)
        for epochs in args.epochs:
            f1, parity = measure(fit(make, data, uses_groups, max_epochs=epochs,
                                     random_state=args.seed), data)
            print(f"{'':<19} {epochs:>2} epochs, no stopping      {f1:>13.3f}  "
                  f"{parity:>9.3f}", flush=True)


if __name__ == "__main__":
    main()
