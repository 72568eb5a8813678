"""Epoch time of FairRep (each distance) against fairlearn's adversarial debiasing.

Both train with the same batch size (``--batch-size``, default 32, the
paper's, section 3.1) on the same data and the same widths: an encoder
88 -> 256 -> 128 -> 64 and an adversary with one hidden layer of 64 units
(fairlearn: ``predictor_model=[256, "relu", 128, "relu", 64, "relu"]``,
``adversary_model=[64, "relu"]``, ``backend="torch"``). The data are the
simulated default corpus (:func:`fairrep.datasets.make_rater_perspectives`,
7,380 x 88) with the speaker's sex as the sensitive feature (every sample has
one, which fairlearn needs).

An epoch's time is ``(T(1 + n_epochs) - T(1)) / n_epochs`` for both libraries,
``T(k)`` being the wall time of a ``fit`` of ``k`` epochs: this removes each
library's one-off setup and measures the training loop alone.

``--threads`` lists thread settings, each giving one block of rows with its
own fairlearn reference (default: ``1 default``):

- an integer ``n``: torch runs ``n`` intra-op threads for both libraries
  (FairRep with ``num_threads=n``);
- ``default``: each library at its own default thread behaviour: torch's
  startup thread count for fairlearn, FairRep's ``num_threads="auto"``
  (one torch thread up to batch 1024 on the CPU).

The script prints one table with the ratio ``fairlearn_epoch / fairrep_epoch``
of each row against the fairlearn row of its block, and writes it as CSV with
``--csv``.

Usage::

    python benchmarks/bench_fairrep_epoch.py --n-epochs 3 --repeats 3
    python benchmarks/bench_fairrep_epoch.py --batch-size 256 --threads 1 2 default
    python benchmarks/bench_fairrep_epoch.py --n-features 512 --distances sinkhorn
"""

import argparse
import inspect
import time

import numpy as np
import pandas as pd
import torch

from fairrep.representation import FairRep


def load_data(n_samples, random_state):
    """The simulated corpus (rows with a majority label), else a Gaussian stand-in."""
    try:
        from fairrep.datasets import make_rater_perspectives
    except ImportError:  # the generator is optional for this timing
        make_rater_perspectives = None
    if make_rater_perspectives is not None:
        corpus = make_rater_perspectives(n_samples, random_state=random_state)
        target = pd.Series(corpus.target)
        keep = target.notna().to_numpy()
        sex = corpus.item_info["speaker_sex"].to_numpy()
        return (
            np.asarray(corpus.data, dtype=np.float32)[keep],
            target.to_numpy()[keep].astype(str),
            sex[keep],
            "make_rater_perspectives",
        )
    rng = np.random.RandomState(random_state)
    X = rng.normal(size=(n_samples, 88)).astype(np.float32)
    y = rng.randint(0, 5, size=n_samples).astype(str)
    sex = np.where(rng.rand(n_samples) < 0.5, "F", "M")
    return X, y, sex, "gaussian"


def timed(fit):
    start = time.perf_counter()
    fit()
    return time.perf_counter() - start


def epoch_time(make_fit, n_epochs, repeats):
    """Median over ``repeats`` of (T(1 + n_epochs) - T(1)) / n_epochs.

    One untimed fit first, so lazy initialisation (torch kernels, imports)
    is charged to neither measurement.
    """
    make_fit(1)()
    times = []
    for _ in range(repeats):
        one = timed(make_fit(1))
        many = timed(make_fit(1 + n_epochs))
        times.append(max(many - one, 0.0) / n_epochs)
    return float(np.median(times))


def fairrep_fit(X, y, sex, distance, device, batch_size, num_threads):
    # versions of FairRep before ``num_threads`` simply use torch's setting
    threads = ({"num_threads": num_threads}
               if "num_threads" in inspect.signature(FairRep).parameters else {})

    def make_fit(epochs):
        model = FairRep(
            hidden_layer_sizes=(256, 128), embedding_dim=64, distance=distance,
            batch_size=batch_size, max_epochs=epochs, device=device, random_state=0,
            **threads,
        )
        return lambda: model.fit(X, y, sensitive_features=sex)

    return make_fit


def fairlearn_fit(X, y, sex, device, batch_size):
    from fairlearn.adversarial import AdversarialFairnessClassifier

    def make_fit(epochs):
        model = AdversarialFairnessClassifier(
            backend="torch",
            predictor_model=[256, "relu", 128, "relu", 64, "relu"],
            adversary_model=[64, "relu"],
            batch_size=batch_size, epochs=epochs, shuffle=True, random_state=0,
            cuda=device if device.startswith("cuda") else None,
        )
        return lambda: model.fit(X, y, sensitive_features=sex)

    return make_fit


def report(table, csv=None):
    """Print the table (3 decimals) and write it as CSV when a path is given."""
    with pd.option_context("display.width", 140, "display.precision", 3):
        print(table.to_string(index=False))
    if csv:
        table.to_csv(csv, index=False)


def _thread_setting(value):
    if value == "default":
        return value
    count = int(value)
    if count < 1:
        raise argparse.ArgumentTypeError(f"--threads takes 'default' or n >= 1; got {value}.")
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=7380)
    parser.add_argument("--n-features", type=int, default=88,
                        help="pad the 88 simulated features with Gaussian columns to "
                             "this width (the paper's vq-wav2vec input: 512)")
    parser.add_argument("--n-epochs", type=int, default=3,
                        help="epochs timed per fit (after a 1-epoch baseline)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32,
                        help="mini-batch size of both libraries (paper: 32)")
    parser.add_argument("--distances", nargs="+",
                        default=["sinkhorn", "sliced", "exact", "critic"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", nargs="+", type=_thread_setting,
                        default=[1, "default"],
                        help="thread settings: integers and/or 'default' (see above)")
    parser.add_argument("--skip-fairlearn", action="store_true")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--csv", default=None, help="write the table here")
    args = parser.parse_args(argv)

    startup_threads = torch.get_num_threads()
    X, y, sex, source = load_data(args.n_samples, args.random_state)
    if args.n_features > X.shape[1]:
        rng = np.random.RandomState(args.random_state)
        padding = rng.normal(size=(X.shape[0], args.n_features - X.shape[1]))
        X = np.hstack([X, padding.astype(np.float32)])
    print(f"data: {source}, X {X.shape}, {len(np.unique(y))} classes, "
          f"batch_size={args.batch_size}, device={args.device}, "
          f"torch startup threads={startup_threads}")

    rows = []
    for setting in args.threads:
        if setting == "default":
            torch.set_num_threads(startup_threads)
            label, num_threads = f"default ({startup_threads})", "auto"
        else:
            torch.set_num_threads(setting)
            label, num_threads = str(setting), setting
        fairlearn_epoch = np.nan
        if not args.skip_fairlearn:
            fairlearn_epoch = epoch_time(
                fairlearn_fit(X, y, sex, args.device, args.batch_size),
                args.n_epochs, args.repeats,
            )
            rows.append({"threads": label, "model": "fairlearn AdversarialFairnessClassifier",
                         "epoch_s": fairlearn_epoch, "reference": fairlearn_epoch})
        for distance in args.distances:
            seconds = epoch_time(
                fairrep_fit(X, y, sex, distance, args.device, args.batch_size, num_threads),
                args.n_epochs, args.repeats,
            )
            rows.append({"threads": label, "model": f"FairRep(distance={distance!r})",
                         "epoch_s": seconds, "reference": fairlearn_epoch})
    torch.set_num_threads(startup_threads)
    table = pd.DataFrame(rows)
    table["batches_per_s"] = np.ceil(len(X) / args.batch_size) / table["epoch_s"]
    table["fairlearn_epoch / epoch"] = table.pop("reference") / table["epoch_s"]
    report(table, args.csv)


if __name__ == "__main__":
    main()
