"""The speech front end on real audio: Emo-DB, eGeMAPS, FairRep vs DNN.

1. Loads Emo-DB with :func:`fairrep.datasets.load_emodb` and extracts the 88
   eGeMAPS functionals of all 535 utterances with
   :class:`fairrep.features.EGeMAPS` (progress bar, on-disk cache), timing a
   first run on an empty cache and a second run that reads the cache.
2. z-normalises the features per speaker (:class:`SpeakerStandardScaler`,
   section 2.2.1 of Chien & Lee) and runs leave-one-speaker-out CV of
   :class:`fairrep.FairRep` (speaker sex as the sensitive attribute) and of
   :class:`fairrep.baselines.DNNClassifier` (no fairness terms).
3. Scores the pooled out-of-fold predictions: emotion UAR (macro recall) and
   weighted F1, and an after-the-fact adversary: a logistic regression fitted
   on each training fold's ``transform(X)`` that predicts the held-out
   speaker's sex (accuracy; the majority rate is 302/535 = 0.564). The same
   adversary on the normalised input features is given for reference.

Usage::

    python benchmarks/bench_emodb.py --data-home ../shared/data/emodb \\
        --cache-dir /tmp/fairrep-cache --out emodb_results.csv
"""

import argparse
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, recall_score
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fairrep import FairRep
from fairrep.baselines import DNNClassifier
from fairrep.datasets import load_emodb
from fairrep.features import EGeMAPS, SpeakerStandardScaler


def extract(paths, cache_dir, fresh):
    if fresh and Path(cache_dir).exists():
        shutil.rmtree(cache_dir)
    timings = []
    for run in ("empty cache", "cached"):
        start = time.perf_counter()
        X = EGeMAPS(cache_dir=cache_dir, progress_bar=True).fit_transform(paths)
        timings.append((run, time.perf_counter() - start))
    return X, timings


def adversary_accuracy(Z_train, s_train, Z_test, s_test):
    adversary = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    adversary.fit(Z_train, s_train)
    return adversary.predict(Z_test) == s_test


def evaluate(models, X, y, speakers, sex):
    rows = {name: np.empty(len(y), dtype=object) for name in models}
    hits = {name: np.zeros(len(y), dtype=bool) for name in [*models, "input features"]}
    durations = dict.fromkeys(models, 0.0)
    for train, test in LeaveOneGroupOut().split(X, y, groups=speakers):
        scaler = SpeakerStandardScaler()
        X_train = scaler.fit_transform(X[train], speakers=speakers[train])
        X_test = scaler.transform(X[test], speakers=speakers[test])
        hits["input features"][test] = adversary_accuracy(X_train, sex[train], X_test, sex[test])
        for name, make in models.items():
            model = make()
            start = time.perf_counter()
            if isinstance(model, FairRep):
                model.fit(X_train, y[train], sensitive_features=sex[train])
            else:
                model.fit(X_train, y[train])
            durations[name] += time.perf_counter() - start
            rows[name][test] = model.predict(X_test)
            hits[name][test] = adversary_accuracy(
                model.transform(X_train), sex[train], model.transform(X_test), sex[test]
            )
    table = []
    for name in models:
        table.append(
            {
                "model": name,
                "emotion_uar": recall_score(y, rows[name], average="macro"),
                "emotion_weighted_f1": f1_score(y, rows[name], average="weighted"),
                "sex_adversary_accuracy": hits[name].mean(),
                "fit_seconds_total": durations[name],
            }
        )
    table.append(
        {
            "model": "input features",
            "emotion_uar": np.nan,
            "emotion_weighted_f1": np.nan,
            "sex_adversary_accuracy": hits["input features"].mean(),
            "fit_seconds_total": np.nan,
        }
    )
    return pd.DataFrame(table)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default="../shared/data/emodb")
    parser.add_argument("--cache-dir", default="fairrep-feature-cache")
    parser.add_argument("--keep-cache", action="store_true", help="do not empty the cache first")
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--adversary-weight", type=float, default=1.0)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--out", default="emodb_results.csv")
    args = parser.parse_args(argv)

    emodb = load_emodb(args.data_home)
    utterances = emodb.utterances
    X, timings = extract(utterances["path"].tolist(), args.cache_dir, not args.keep_cache)
    for run, seconds in timings:
        print(f"eGeMAPS, {len(utterances)} files, {run}: {seconds:.1f} s")
    y = utterances["truth"].to_numpy()
    speakers = utterances["speaker"].to_numpy()
    sex = utterances["speaker_sex"].to_numpy()

    common = dict(max_epochs=args.max_epochs, random_state=args.random_state)
    models = {
        "DNN": lambda: DNNClassifier(**common),
        "FairRep": lambda: FairRep(
            alpha=args.alpha, adversary_weight=args.adversary_weight, **common
        ),
    }
    table = evaluate(models, X, y, speakers, sex)
    with pd.option_context("display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
    table.to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
