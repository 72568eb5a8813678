"""FairRep's fairness terms on planted data where a fair and accurate representation exists.

Feature 0 carries the label and is independent of the group; four features
carry the group and nothing about the label
(:func:`fairrep.datasets.make_planted_bias`, the data of
``tests/representation/test_scale_free.py``). For each configuration it fits FairRep on 60 %
of ``--n-samples`` rows and reports on the rest: accuracy, whether the predictions are
constant, a fresh logistic-regression probe's accuracy at reading the group
from the embedding, the scale-free group distance (energy distance over the
mean pairwise distance) and the embedding's mean norm. The reference is a
group-blind logistic regression on feature 0 alone. It answers: which of the
loopholes of eq. (1) (shrinking, collapsing, hiding the group) does each
configuration close, and at what accuracy?

Usage::

    python benchmarks/bench_planted_scale.py --seed 0
    python benchmarks/bench_planted_scale.py --n-samples 3000 --max-epochs 20 --seed 1
"""

import argparse
import time

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from fairrep.datasets import make_planted_bias
from fairrep.metrics import group_energy_distance
from fairrep.representation import FairRep

SMALL = {"hidden_layer_sizes": (64,), "embedding_dim": 16}
# (label, FairRep parameters): adversary off along alpha, then the adversary
CONFIGURATIONS = [
    ("alpha 0", {"alpha": 0.0, "adversary_weight": 0.0}),
    ("alpha 1", {"alpha": 1.0, "adversary_weight": 0.0}),
    ("alpha 100", {"alpha": 100.0, "adversary_weight": 0.0}),
    ("alpha 10, eq. (1) as printed", {"alpha": 10.0, "adversary_weight": 0.0,
                                      "scale_free": False}),
    ("alpha 1, small net", {"alpha": 1.0, "adversary_weight": 0.0, **SMALL}),
    ("alpha 100, small net", {"alpha": 100.0, "adversary_weight": 0.0, **SMALL}),
    ("confusion w=3, alpha 0.01", {"alpha": 0.01, "adversary_weight": 3.0}),
    ("confusion w=3, alpha 0.01, raw", {"alpha": 0.01, "adversary_weight": 3.0,
                                        "scale_free": False}),
    ("reversal w=1, alpha 0.01", {"alpha": 0.01, "adversary_weight": 1.0,
                                  "adversary_loss": "reversal"}),
    ("reversal w=1, alpha 0.01, raw", {"alpha": 0.01, "adversary_weight": 1.0,
                                       "adversary_loss": "reversal", "scale_free": False}),
]


def planted(n=1500, seed=0):
    X, y, group = make_planted_bias(n, random_state=seed)
    return train_test_split(X.astype(np.float32), y, group, test_size=0.4, random_state=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="FairRep's random_state")
    parser.add_argument("--max-epochs", type=int, default=15)
    parser.add_argument("--n-samples", type=int, default=1500,
                        help="rows of planted data (60 %% train, 40 %% test)")
    parser.add_argument("--out", default=None, help="CSV of the table")
    args = parser.parse_args()
    torch.set_num_threads(1)
    X_tr, X_te, y_tr, y_te, s_tr, s_te = planted(n=args.n_samples)
    blind = LogisticRegression().fit(X_tr[:, :1], y_tr).score(X_te[:, :1], y_te)
    rows = []
    for label, params in CONFIGURATIONS:
        start = time.perf_counter()
        model = FairRep(max_epochs=args.max_epochs, random_state=args.seed, **params)
        model.fit(X_tr, y_tr, sensitive_features=s_tr)
        Z_tr, Z_te = model.transform(X_tr), model.transform(X_te)
        y_pred = model.predict(X_te)
        probe = LogisticRegression(max_iter=2000).fit(Z_tr, s_tr).score(Z_te, s_te)
        rows.append({
            "configuration": label,
            "accuracy": float(np.mean(y_pred == y_te)),
            "constant": len(set(y_pred)) == 1,
            "probe": probe,
            "group_distance": group_energy_distance(Z_te, sensitive_features=s_te),
            "mean_norm": float(np.linalg.norm(Z_te, axis=1).mean()),
            "fit_seconds": time.perf_counter() - start,
        })
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(f"group-blind logistic regression on feature 0: accuracy {blind:.3f}")
    print(table.round(3).to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
