"""The whole study (``run_study``): wall time and peak memory, per stage and method.

Runs :func:`fairrep.experiments.run_study` on the simulated corpus
(``load_corpus("synthetic")``; 7,380 items is IEMOCAP's size) under both
configurations with the grid search on, as ``fairrep reproduce --corpus
synthetic --grid`` does, and prints one table: per stage (Exp1, Exp2) and
method the fit seconds summed over folds (each unit's own clock, so with
``--n-jobs`` above 1 they add up to more than the wall time), the number of
fits and the epochs the final fits ran (mean over folds); then the whole
study's wall time and peak resident memory (this process and, separately,
the largest worker process).

``--slow`` is the full-length schedule (every fit ``--max-epochs`` epochs,
no early stopping, no iteration cap, the grid walked without warm starts in 3
inner folds);
the default is the study's fast one. ``--save`` keeps the long result
tables (pickle); ``--compare A B [C D]`` prints, per paper table (1-4), the
mean and largest absolute difference of the fold-mean cells between the
runs A and B (and C and D, e.g. two seeds of the slow path: the seed noise).

Usage::

    python benchmarks/bench_study.py --n-samples 1500 --folds 2 --slow --save slow.pkl
    python benchmarks/bench_study.py --n-samples 1500 --folds 2 --save fast.pkl
    python benchmarks/bench_study.py --compare fast.pkl slow.pkl slow_seed1.pkl slow.pkl
"""

import argparse
import datetime
import os
import pickle
import platform
import resource
import sys
import time

import pandas as pd
import torch

#: The four paper tables from the long result tables: (long table, cell keys, value).
TABLES = {
    "Table 1 (F1 %)": ("stage1_f1", ["method", "class", "set"], "f1"),
    "Table 2 (parity)": ("stage1_parity", ["method", "class"], "statistical_parity"),
    "Table 3 (F1 %)": ("stage2_f1", ["method", "perspective", "class"], "f1"),
    "Table 4 (consistency)": ("consistency", ["method", "class"], "consistency"),
}


def paper_cells(results):
    """Fold-mean cell of each paper table, F1 in percent: ``{table: Series}``."""
    cells = {}
    for title, (name, keys, value) in TABLES.items():
        frame = results.get(name)
        if frame is None or frame.empty:
            continue
        mean = frame.groupby(keys)[value].mean()
        cells[title] = mean * 100 if "F1" in title else mean
    return cells


def compare(first, second):
    """Per table: cells, mean and largest absolute difference (and where)."""
    a, b = paper_cells(first), paper_cells(second)
    rows = []
    for title in a:
        if title not in b:
            continue
        diff = (a[title] - b[title]).dropna().abs()
        rows.append({"table": title, "cells": len(diff), "mean |diff|": diff.mean(),
                     "max |diff|": diff.max(), "at": " / ".join(map(str, diff.idxmax()))})
    return pd.DataFrame(rows)


def shift_by_method(first, second):
    """Mean signed difference (first - second) per method and paper table."""
    a, b = paper_cells(first), paper_cells(second)
    return pd.DataFrame({title: (a[title] - b[title]).groupby("method").mean()
                         for title in a if title in b})


def peak_memory_mib():
    """Peak resident memory of this process and of its largest finished child (MiB)."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)  # reap the workers: their peak counts
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return own, child


def stage_table(study):
    """Per stage and method: fit seconds and fits (summed over folds), epochs and
    iterations the final fits ran (mean over folds; 10% of the items held out under
    early stopping)."""
    results, meta = study["results"], study["meta"]
    seconds = results["fit_seconds"].groupby(["stage", "method"], sort=False).agg(
        seconds=("seconds", "sum"), final_fits=("n_fits", "sum"))
    params = results["params"]

    def param(name):
        return params[params["param"] == name].groupby(["stage", "method"])["value"]

    table = seconds.join(param("epochs_run").mean().astype(float).rename("epochs run"))
    stopping = param("early_stopping").first().reindex(table.index)
    held_out = stopping.eq(True).map({True: 0.9, False: 1.0})
    table["iterations"] = table["epochs run"] * meta["iterations"][0] / meta["epochs"] * held_out
    return table


def run(args):
    from fairrep.experiments import load_corpus, run_study

    corpus = load_corpus("synthetic", n_samples=args.n_samples, random_state=0)
    schedule = ({"early_stopping": False, "max_iter": None, "warm_start": False,
                 "inner_folds": 3}
                if args.slow else
                {"early_stopping": args.early_stopping,
                 "max_iter": args.max_iter or None, "warm_start": args.warm_start,
                 "inner_folds": args.inner_folds})
    started = time.perf_counter()
    study = run_study(corpus, folds=args.folds, grid=True, configs=args.configs,
                      max_epochs=args.max_epochs, random_state=args.seed,
                      n_jobs=args.n_jobs, figures=False, progress_bar=False,
                      progress=(lambda m: print(m, flush=True)) if args.verbose else None,
                      **schedule)
    wall = time.perf_counter() - started
    own, child = peak_memory_mib()
    table = stage_table(study)
    with pd.option_context("display.width", 160, "display.max_rows", 100):
        print(table.round(1).to_string())
    meta = study["meta"]
    print(f"\nwall {wall:.0f} s; peak memory {own:.0f} MiB (this process), {child:.0f} MiB "
          f"(largest worker); {meta['folds']} fold(s), {meta['n_items_used']} items used of "
          f"{meta['n_items']}, at most {meta['epochs']} epochs = {meta['iterations']} "
          f"iterations per fit; schedule {schedule}; n_jobs {args.n_jobs}")
    print(f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.machine()} {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} (at the end), "
          f"torch {torch.__version__}")
    if args.save:
        with open(args.save, "wb") as stream:
            pickle.dump(dict(study["results"]), stream)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=7380,
                        help="corpus size (default: %(default)s, IEMOCAP's)")
    parser.add_argument("--folds", type=int, default=None, help="held-out sessions (all)")
    parser.add_argument("--configs", nargs="+", default=["paper", "fairrep"])
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--max-iter", type=int, default=2000,
                        help="iterations cap per fit (0: none; default: %(default)s)")
    parser.add_argument("--early-stopping", action=argparse.BooleanOptionalAction,
                        default=True)
    parser.add_argument("--warm-start", action=argparse.BooleanOptionalAction,
                        default=False)
    parser.add_argument("--inner-folds", type=int, default=2,
                        help="inner folds of the grid search (default: %(default)s)")
    parser.add_argument("--slow", action="store_true",
                        help="the full-length schedule with 3 inner folds (overrides the "
                             "four above)")
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default=None, help="pickle of the long result tables")
    parser.add_argument("--verbose", action="store_true", help="print each unit")
    parser.add_argument("--compare", nargs="+", default=None, metavar="PICKLE",
                        help="compare saved runs pairwise (A B [C D ...]) and exit")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.compare:
        runs = []
        for path in args.compare:
            with open(path, "rb") as stream:
                runs.append(pickle.load(stream))
        for i in range(0, len(runs) - 1, 2):
            print(f"\n{args.compare[i]} vs {args.compare[i + 1]}")
            print(compare(runs[i], runs[i + 1]).round(3).to_string(index=False))
            print(shift_by_method(runs[i], runs[i + 1]).round(3).to_string())
        return
    run(args)


if __name__ == "__main__":
    main()
