"""Fit time and peak memory of fairrep's estimators against the number of samples.

For every method and every ``(n_samples, n_features)`` cell, one child process
loads synthetic data from disk and fits the method for one unit of training;
the parent kills a child that runs past ``--budget`` seconds and records
``timeout``. A cell's row gives the fit time (the ``fit``/``partial_fit`` calls
alone, not the interpreter start or the data loading), the child's peak
resident memory (``VmHWM`` of ``/proc/self/status``, read by the child when it
ends; for a killed child, read by the parent just before the kill) and its
resident memory right before the fit.

Data: Gaussian, float32, 5 classes (class means drawn once per cell, 4
standard deviations apart on average), 2 sensitive groups (group "F" shifts
the first 8 features by 0.5). A generator process writes ``X`` to a ``.npy``
file in ``--data-dir`` in chunks of ``--chunk-size`` rows, so neither the parent
nor the generator ever holds the whole matrix (1M x 512 float32 is 2 GiB). A
fit child opens it memory-mapped; the estimator copies what it needs, and the
pages it reads count in its resident memory. For FairPer, ``Y`` has three
perspective columns (``male``, ``female``, ``all``: the class label with 10 %
of the rows relabelled at random in each group column) and the triplet groups
are the sensitive groups.

Unit of training per method (``unit`` column):

- FairRep (``fairrep-sinkhorn``, ``-sliced``, ``-exact``, ``-critic``), FairPer,
  DNNClassifier, NRL, FairlearnAdversarial: one epoch (``max_epochs=1`` or
  ``epochs=1``) of mini-batches of ``--batch-size``. FairRep, DNN and NRL use
  their default widths (encoder 256-128-64; NRL's critic takes 5 steps per
  batch); FairPer trains stage 2 alone on ``X`` (``representation=None``);
  fairlearn gets the same widths as FairRep's encoder.
- LFR (fairrep): one epoch of mini-batch Adam (``solver="adam"``,
  ``max_iter=1``), 5 prototypes. Its default solver, full-batch L-BFGS, has
  no epochs.
- AIF360LFR: one iteration of aif360's full-batch scipy L-BFGS-B
  (``max_iter=1``: one or more evaluations of the objective on all rows).

``ExponentiatedGradientClassifier`` is left out: it handles binary ``y`` only,
and these data have 5 classes.

``--stream``: when ``FairRep`` has a ``partial_fit`` method, the FairRep
methods read ``X`` in chunks of ``--chunk-size`` rows from the file (plain
reads into a fresh buffer, no memory map, so resident memory holds one chunk)
and call ``partial_fit`` once per chunk, with ``classes`` and ``groups`` (the
whole data set's) where it takes them; FairRep's ``partial_fit`` trains one
pass over its chunk, so the calls make one epoch. Without ``partial_fit`` the
option is refused.

The slope printed per method and feature count is the least-squares slope of
log(fit time) against log(n) over the cells that finished (linear cost gives
about 1; fixed costs flatten it at small n, so the slope between the two
largest finished n is printed too). ``--plot`` draws time against n on log-log
axes, one panel per method, with a slope-1 reference line.

Usage::

    python benchmarks/bench_scaling.py --methods fairrep-sinkhorn dnn lfr \\
        --n-samples 1000 10000 100000 --n-features 88 512 --budget 120 \\
        --csv scaling.csv --plot scaling.png
    python benchmarks/bench_scaling.py --methods fairrep-sinkhorn \\
        --n-samples 1000000 --n-features 512 --threads 2 --budget 900
"""

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_CLASSES = 5
GROUPS = np.array(["F", "M"], dtype=object)
PERSPECTIVES = ["male", "female", "all"]

METHODS = {
    "fairrep-sinkhorn": "1 epoch",
    "fairrep-sliced": "1 epoch",
    "fairrep-exact": "1 epoch",
    "fairrep-critic": "1 epoch",
    "fairper": "1 epoch",
    "dnn": "1 epoch",
    "lfr": "1 Adam epoch",
    "nrl": "1 epoch (5 critic steps per batch)",
    "fairlearn-adversarial": "1 epoch",
    "aif360-lfr": "1 L-BFGS-B iteration (full batch)",
}
DEFAULT_METHODS = list(METHODS)


# -- data -------------------------------------------------------------------
def _data_paths(data_dir, n_samples, n_features):
    stem = Path(data_dir) / f"gauss_{n_samples}x{n_features}"
    return {"X": stem.with_suffix(".X.npy"), "labels": stem.with_suffix(".labels.npz")}


def generate(n_samples, n_features, data_dir, chunk_size, random_state):
    """Write X (float32, chunk by chunk) and the labels of one cell to disk."""
    paths = _data_paths(data_dir, n_samples, n_features)
    rng = np.random.default_rng(random_state)
    # ||m_a - m_b|| ~ scale * sqrt(2 d) = 4 on average
    means = rng.normal(scale=4.0 / math.sqrt(2.0 * n_features),
                       size=(N_CLASSES, n_features)).astype(np.float32)
    y = rng.integers(0, N_CLASSES, size=n_samples)
    group = rng.integers(0, 2, size=n_samples)
    shift = np.zeros(n_features, dtype=np.float32)
    shift[: min(8, n_features)] = 0.5
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
              "fortran_order": False, "shape": (n_samples, n_features)}
    # plain writes, chunk by chunk: no mapping keeps the matrix resident
    with open(paths["X"], "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        for start in range(0, n_samples, chunk_size):
            stop = min(start + chunk_size, n_samples)
            block = rng.standard_normal((stop - start, n_features), dtype=np.float32)
            block += means[y[start:stop]]
            block += shift * (group[start:stop] == 0)[:, None]
            handle.write(np.ascontiguousarray(block).tobytes())
    # FairPer's perspectives: each group's view relabels 10 % of the rows
    flips = {}
    for name in ("male", "female"):
        relabel = rng.random(n_samples) < 0.1
        flips[name] = np.where(relabel, rng.integers(0, N_CLASSES, n_samples), y)
    np.savez(paths["labels"], y=y, group=group, male=flips["male"],
             female=flips["female"])
    return paths


def _read_npy_header(path):
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version not in readers:
            raise ValueError(f"{path}: .npy format version {version} is not supported.")
        shape, fortran, dtype = readers[version](handle)
        return shape, fortran, dtype, handle.tell()


def iter_chunks(path, chunk_size):
    """Yield ``(start, rows)`` of a C-order .npy by plain reads (no memory map)."""
    shape, fortran, dtype, offset = _read_npy_header(path)
    if fortran or len(shape) != 2:
        raise ValueError(f"{path}: expected a 2-D C-order array; got shape {shape}.")
    n_samples, n_features = shape
    row_bytes = n_features * dtype.itemsize
    with open(path, "rb", buffering=0) as handle:
        handle.seek(offset)
        for start in range(0, n_samples, chunk_size):
            rows = min(chunk_size, n_samples - start)
            buffer = bytearray(rows * row_bytes)
            view = memoryview(buffer)
            read = 0
            while read < len(buffer):
                got = handle.readinto(view[read:])
                if not got:
                    raise OSError(f"{path}: file ended at row {start + read // row_bytes}.")
                read += got
            yield start, np.frombuffer(buffer, dtype=dtype).reshape(rows, n_features)


# -- one cell, in a child process ---------------------------------------------
def _status_kib(field, pid="self"):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _mib(kib):
    return None if kib is None else kib / 1024.0


def build(method, args):
    """The estimator of ``method`` set for one unit of training."""
    seed = args.random_state
    batch = args.batch_size
    if method.startswith("fairrep-"):
        from fairrep import FairRep

        return FairRep(distance=method.split("-", 1)[1], batch_size=batch,
                       max_epochs=1, random_state=seed)
    if method == "fairper":
        from fairrep import FairPer

        return FairPer(batch_size=batch, max_epochs=1, random_state=seed)
    if method == "dnn":
        from fairrep.baselines import DNNClassifier

        return DNNClassifier(batch_size=batch, max_epochs=1, random_state=seed)
    if method == "lfr":
        from fairrep.baselines import LFR

        return LFR(solver="adam", max_iter=1, batch_size=batch, random_state=seed)
    if method == "nrl":
        from fairrep.baselines import NRL

        return NRL(batch_size=batch, max_epochs=1, random_state=seed)
    if method == "fairlearn-adversarial":
        from fairrep.baselines import FairlearnAdversarial

        return FairlearnAdversarial(
            hidden_layer_sizes=(256, 128, 64), epochs=1, batch_size=batch,
            random_state=seed,
        )
    if method == "aif360-lfr":
        from fairrep.baselines import AIF360LFR

        return AIF360LFR(max_iter=1, random_state=seed)
    raise ValueError(f"unknown method {method!r}; expected one of {list(METHODS)}.")


def run_cell(spec):
    """Fit one method on one data file; return the measurements as a dict."""
    import logging
    import warnings

    import torch

    torch.set_num_threads(spec["threads"])
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    args = argparse.Namespace(**spec)
    paths = _data_paths(spec["data_dir"], spec["n_samples"], spec["n_features"])
    labels = np.load(paths["labels"])
    y = labels["y"]
    groups = GROUPS[labels["group"]]
    estimator = build(spec["method"], args)
    streaming = spec["stream"] and spec["method"].startswith("fairrep-")
    result = {"mode": "stream" if streaming else "whole array"}

    import inspect

    def fit_kwargs(method, rows):
        """Keyword arguments ``estimator.<method>`` takes, for the given rows."""
        accepted = inspect.signature(getattr(estimator, method)).parameters
        kwargs = {}
        if "sensitive_features" in accepted:
            kwargs["sensitive_features"] = groups[rows]
        if method == "partial_fit" and "classes" in accepted:
            kwargs["classes"] = np.arange(N_CLASSES)
        if method == "partial_fit" and "groups" in accepted:
            kwargs["groups"] = GROUPS
        return kwargs

    if spec["method"] == "fairper":
        import pandas as pd

        target = pd.DataFrame(
            np.column_stack([labels["male"], labels["female"], y]), columns=PERSPECTIVES
        )
    else:
        target = y
    # Untimed warm-up on a few rows of a fresh copy of the estimator: torch's
    # and the libraries' one-off initialisation would otherwise dominate small n.
    from sklearn.base import clone

    warm = slice(0, min(spec["n_samples"], 4 * spec["batch_size"]))
    start = time.perf_counter()
    head = next(iter_chunks(paths["X"], warm.stop))[1]
    head_target = target.iloc[warm] if hasattr(target, "iloc") else target[warm]
    clone(estimator).fit(head, head_target, **fit_kwargs("fit", warm))
    result["warmup_s"] = time.perf_counter() - start
    del head

    if streaming:
        rss_before = _status_kib("VmRSS")
        start = time.perf_counter()
        n_calls = 0
        for offset, chunk in iter_chunks(paths["X"], spec["chunk_size"]):
            rows = slice(offset, offset + len(chunk))
            estimator.partial_fit(chunk, y[rows], **fit_kwargs("partial_fit", rows))
            n_calls += 1
        fit_s = time.perf_counter() - start
        result["partial_fit_calls"] = n_calls
    else:
        X = np.load(paths["X"], mmap_mode="r")
        rss_before = _status_kib("VmRSS")
        start = time.perf_counter()
        estimator.fit(X, target, **fit_kwargs("fit", slice(None)))
        fit_s = time.perf_counter() - start
    result.update(
        fit_s=fit_s,
        rss_before_fit_mib=_mib(rss_before),
        peak_rss_mib=_mib(_status_kib("VmHWM")),
        torch_threads=torch.get_num_threads(),
    )
    return result


# -- parent -------------------------------------------------------------------
def _child_env(threads):
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = str(threads)
    return env


def _run_child(argv, budget, threads):
    """Run this script with ``argv`` in a child; ``(status, json or None, peak kib)``."""
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_child_env(threads), start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=budget)
    except subprocess.TimeoutExpired:
        peak = _status_kib("VmHWM", process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return "timeout", None, peak
    if process.returncode != 0:
        message = (err.strip().splitlines() or ["(no message)"])[-1]
        if process.returncode < 0:
            message = f"killed by signal {-process.returncode}: {message}"
        return f"error: {message}", None, None
    last = out.strip().splitlines()[-1] if out.strip() else "{}"
    return "ok", json.loads(last), None


def fitted_slope(n_values, seconds):
    """Least-squares slope of log(seconds) against log(n), or nan with < 2 points."""
    n_values = np.asarray(n_values, dtype=float)
    seconds = np.asarray(seconds, dtype=float)
    keep = np.isfinite(seconds) & (seconds > 0)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(n_values[keep]), np.log(seconds[keep]), 1)[0])


def slopes(table):
    """One row per (method, n_features): slope over all finished cells and the last two."""
    import pandas as pd

    rows = []
    finished = table[table.status == "ok"]
    for (method, n_features), part in finished.groupby(["method", "n_features"]):
        part = part.sort_values("n_samples")
        rows.append({
            "method": method,
            "n_features": n_features,
            "n_points": len(part),
            "slope_all": fitted_slope(part.n_samples, part.fit_s),
            "slope_last_two": fitted_slope(part.n_samples[-2:], part.fit_s[-2:]),
        })
    return pd.DataFrame(rows)


def plot(table, path):
    """Log-log fit time against n, one panel per method, with a slope-1 line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(table.method))
    columns = min(3, len(methods))
    rows = math.ceil(len(methods) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows),
                             squeeze=False)
    for ax, method in zip(axes.ravel(), methods):
        part = table[(table.method == method) & (table.status == "ok")]
        anchor = None
        for n_features, line in part.groupby("n_features"):
            line = line.sort_values("n_samples")
            slope = fitted_slope(line.n_samples, line.fit_s)
            ax.loglog(line.n_samples, line.fit_s, "o-",
                      label=f"d={n_features} (slope {slope:.2f})")
            if anchor is None or line.fit_s.iloc[0] > anchor[1]:
                anchor = (line.n_samples.iloc[0], line.fit_s.iloc[0])
        timed_out = table[(table.method == method) & (table.status == "timeout")]
        for n_samples in sorted(set(timed_out.n_samples)):
            ax.axvline(n_samples, color="grey", linestyle=":", linewidth=1)
        if anchor is not None:
            n_max = table.n_samples.max()
            ax.loglog([anchor[0], n_max], [anchor[1], anchor[1] * n_max / anchor[0]],
                      "k--", linewidth=1, label="slope 1")
        ax.set_title(f"{method} ({METHODS[method]})", fontsize=9)
        ax.set_xlabel("n samples")
        ax.set_ylabel("fit time (s)")
        if part.empty:
            ax.text(0.5, 0.5, "no finished cell", ha="center", va="center",
                    transform=ax.transAxes)
        else:
            ax.legend(fontsize=7)
    for ax in axes.ravel()[len(methods):]:
        ax.set_visible(False)
    fig.suptitle("fit time vs n (dotted: a timed-out n)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _positive_ints(parser, values, name):
    for value in values:
        if value < 1:
            parser.error(f"{name} must be positive integers; got {value}.")
    return sorted(set(values))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Methods and their unit of training: " + "; ".join(
            f"{name}: {unit}" for name, unit in METHODS.items()),
    )
    parser.add_argument("--methods", nargs="+", default=DEFAULT_METHODS,
                        choices=list(METHODS), metavar="METHOD",
                        help=f"any of {', '.join(METHODS)} (default: all)")
    parser.add_argument("--n-samples", type=int, nargs="+",
                        default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--n-features", type=int, nargs="+", default=[88, 512])
    parser.add_argument("--budget", type=float, default=120.0,
                        help="seconds per cell (child process) before it is killed")
    parser.add_argument("--batch-size", type=int, default=256,
                        help="mini-batch size (the paper's is 32)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch / BLAS threads of each child")
    parser.add_argument("--stream", action="store_true",
                        help="FairRep methods: partial_fit on chunks read from disk")
    parser.add_argument("--chunk-size", type=int, default=65_536,
                        help="rows per chunk when writing the data and in --stream")
    parser.add_argument("--keep-going", action="store_true",
                        help="run larger n of a method after it timed out at a smaller n "
                        "(by default those cells are marked 'skipped')")
    parser.add_argument("--data-dir", default=None,
                        help="where the .npy files go (default: a temporary folder, "
                        "removed at the end)")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--csv", default=None, help="write the table here")
    parser.add_argument("--plot", default=None, metavar="PNG",
                        help="write the log-log plot here")
    parser.add_argument("--_generate", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--_cell", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._cell is not None:
        print(json.dumps(run_cell(json.loads(args._cell))))
        return None
    if args._generate is not None:
        n_samples, n_features = args._generate
        generate(n_samples, n_features, args.data_dir, args.chunk_size,
                 args.random_state)
        print(json.dumps({"generated": [n_samples, n_features]}))
        return None

    import pandas as pd

    if args.budget <= 0:
        parser.error(f"--budget must be positive; got {args.budget}.")
    for name in ("batch_size", "threads", "chunk_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer; "
                         f"got {getattr(args, name)}.")
    n_list = _positive_ints(parser, args.n_samples, "--n-samples")
    d_list = _positive_ints(parser, args.n_features, "--n-features")
    if args.stream:
        from fairrep import FairRep

        if not hasattr(FairRep, "partial_fit"):
            parser.error("--stream needs FairRep.partial_fit, which this fairrep "
                         "version does not have; run without --stream.")

    own_dir = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="fairrep-scaling-") if own_dir
                    else args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"methods {args.methods}; n {n_list}; d {d_list}; batch {args.batch_size}; "
          f"threads {args.threads}; budget {args.budget:g} s; "
          f"{'stream' if args.stream else 'whole array'}; data in {data_dir}; "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    timed_out = set()  # (method, d) that timed out at some n
    try:
        for n_features in d_list:
            for n_samples in n_list:
                base = ["--data-dir", str(data_dir), "--chunk-size",
                        str(args.chunk_size), "--random-state", str(args.random_state)]
                start = time.perf_counter()
                status, _, _ = _run_child(
                    [*base, "--_generate", str(n_samples), str(n_features)],
                    budget=max(600.0, args.budget), threads=args.threads,
                )
                if status != "ok":
                    raise SystemExit(f"generating {n_samples} x {n_features} failed: "
                                     f"{status}")
                print(f"data {n_samples} x {n_features}: "
                      f"{time.perf_counter() - start:.1f} s", flush=True)
                for method in args.methods:
                    row = {"method": method, "unit": METHODS[method],
                           "n_samples": n_samples, "n_features": n_features,
                           "batch_size": args.batch_size, "threads": args.threads,
                           "data_mib": n_samples * n_features * 4 / 2**20}
                    if (method, n_features) in timed_out and not args.keep_going:
                        row["status"] = "skipped (timed out at a smaller n)"
                        rows.append(row)
                        print(f"{method:22s} n={n_samples:>8d} d={n_features:>4d} "
                              f"{row['status']}", flush=True)
                        continue
                    spec = {"method": method, "n_samples": n_samples,
                            "n_features": n_features, "data_dir": str(data_dir),
                            "batch_size": args.batch_size, "threads": args.threads,
                            "stream": args.stream, "chunk_size": args.chunk_size,
                            "random_state": args.random_state}
                    start = time.perf_counter()
                    status, result, peak_kib = _run_child(
                        ["--_cell", json.dumps(spec)], args.budget, args.threads)
                    row["wall_s"] = time.perf_counter() - start
                    row["status"] = status
                    if result:
                        row.update(result)
                    elif peak_kib is not None:
                        row["peak_rss_mib"] = _mib(peak_kib)
                    if status == "timeout":
                        timed_out.add((method, n_features))
                    rows.append(row)
                    fit = f"{row['fit_s']:.2f} s" if "fit_s" in row else "-"
                    peak = (f"{row['peak_rss_mib']:.0f} MiB"
                            if row.get("peak_rss_mib") is not None else "-")
                    print(f"{method:22s} n={n_samples:>8d} d={n_features:>4d} "
                          f"{status:8.60s} fit {fit:>10s} peak {peak:>9s} "
                          f"load {os.getloadavg()[0]:.2f}", flush=True)
                for path in _data_paths(data_dir, n_samples, n_features).values():
                    path.unlink(missing_ok=True)
    finally:
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)

    table = pd.DataFrame(rows)
    columns = ["method", "unit", "n_samples", "n_features", "status", "fit_s",
               "warmup_s", "peak_rss_mib", "rss_before_fit_mib", "data_mib", "wall_s",
               "batch_size", "threads", "torch_threads", "mode", "partial_fit_calls"]
    table = table.reindex(columns=[c for c in columns if c in table.columns])
    shown = table.reindex(columns=["method", "n_samples", "n_features", "status",
                                   "fit_s", "peak_rss_mib", "rss_before_fit_mib",
                                   "data_mib", "wall_s"])
    shown["status"] = shown["status"].str.slice(0, 40)
    with pd.option_context("display.width", 200, "display.max_rows", None):
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    slope_table = slopes(table)
    if len(slope_table):
        print("\nslope of log(fit time) vs log(n) (1 = linear cost):")
        print(slope_table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    if args.plot:
        plot(table, args.plot)
        print(f"wrote {args.plot}")
    return table


if __name__ == "__main__":
    main()
