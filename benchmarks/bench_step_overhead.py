"""What FairRep's fairness terms cost per training step, against the bare network.

Times ``net.train_step`` of a fitted :class:`~fairrep.FairRep` (its defaults:
the scale-free Sinkhorn :math:`L_D` and the confusion adversary), of
:class:`~fairrep.baselines.NRL` (its WGAN-GP critic, 5 updates per encoder
step) and of a :class:`~fairrep.baselines.DNNClassifier` with the same
widths, on the same pre-drawn mini-batches, one torch thread and NumPy's BLAS
held to one thread (as inside ``fit``). It prints milliseconds per step (best
of ``--repeats`` passes over ``--n-batches`` batches) and the ratios to the
DNN for each batch size: the per-step overhead of eq. (1)'s terms and of
NRL's critic, without data loading or history bookkeeping.

With ``--compile-modules`` each net is timed a second time with its modules
(network, adversary, critic) wrapped by ``torch.compile``, as skorch's
``compile=True`` does; the step's loss terms, backward pass and optimizer
steps stay as shipped. It prints the compiled nets' milliseconds per step,
their ratio to the eager DNN, and the seconds the first steps took to
compile (two batches).

Usage::

    python benchmarks/bench_step_overhead.py --n-features 88 --batch-sizes 32 256
    python benchmarks/bench_step_overhead.py --batch-sizes 32 --compile-modules
"""

import argparse
import copy
import time
import warnings

import numpy as np
import torch

from fairrep import FairRep
from fairrep._nn import TensorBatchIterator, TensorDataset, training_threads
from fairrep.baselines import NRL, DNNClassifier


def step_ms(net, batches, repeats):
    """Best wall time of one ``train_step`` over the batches, in milliseconds."""
    best = float("inf")
    with training_threads("auto", len(batches[0][1]), torch.device("cpu")):
        for _ in range(repeats):
            start = time.perf_counter()
            for batch in batches:
                net.train_step(batch)
            best = min(best, (time.perf_counter() - start) / len(batches))
    return 1e3 * best


def compiled_copy(model, batches):
    """A copy of ``model`` whose net's modules are compiled; (copy, compile seconds)."""
    model = copy.deepcopy(model)
    net = model.net_
    for name in ("module_", "adversary_", "critic_"):
        if getattr(net, name, None) is not None:
            setattr(net, name, torch.compile(getattr(net, name)))
    start = time.perf_counter()
    for batch in batches[:2]:
        net.train_step(batch)
    return model, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=4096)
    parser.add_argument("--n-features", type=int, default=88)
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 256])
    parser.add_argument("--n-batches", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile-modules", action="store_true",
                        help="also time each net with its modules compiled")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(args.n_samples, args.n_features)).astype(np.float32)
    y = rng.randint(5, size=args.n_samples)
    s = np.where(rng.rand(args.n_samples) > 0.5, "m", "f")
    data = {"X": torch.from_numpy(X), "group": torch.as_tensor((s == "m").astype(np.int64))}
    print("batch  DNN ms  FairRep ms  ratio  NRL ms  ratio")
    for batch_size in args.batch_sizes:
        dnn = DNNClassifier(max_epochs=1, batch_size=batch_size, random_state=0).fit(X, y)
        fairrep = FairRep(max_epochs=1, batch_size=batch_size, random_state=0).fit(
            X, y, sensitive_features=s)
        nrl = NRL(max_epochs=1, batch_size=batch_size, random_state=0).fit(
            X, y, sensitive_features=s)
        torch.manual_seed(0)
        iterator = TensorBatchIterator(TensorDataset(data, torch.as_tensor(y)), batch_size,
                                       shuffle=True)
        batches = list(iterator)[:args.n_batches]
        plain = step_ms(dnn.net_, batches, args.repeats)
        fair = step_ms(fairrep.net_, batches, args.repeats)
        critic = step_ms(nrl.net_, batches, args.repeats)
        print(f"{batch_size:5d}  {plain:6.2f}  {fair:10.2f}  {fair / plain:5.2f}"
              f"  {critic:6.2f}  {critic / plain:5.2f}", flush=True)
        if args.compile_modules:
            for name, model in (("DNN", dnn), ("FairRep", fairrep), ("NRL", nrl)):
                compiled, seconds = compiled_copy(model, batches)
                ms = step_ms(compiled.net_, batches, args.repeats)
                print(f"{batch_size:5d}  {name} with compiled modules: {ms:6.2f} ms, "
                      f"{ms / plain:4.2f} x the eager DNN (compiled in {seconds:.1f} s)",
                      flush=True)


if __name__ == "__main__":
    main()
