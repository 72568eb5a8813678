"""How fast FairRep's training step can get on the CPU when compiled whole.

FairRep trains eagerly: every operator of a step is one call into torch. At
the paper's batch of 32 that per-call overhead, not arithmetic, dominates the
step. This script measures the ceiling a compiler gives on the same math: the
whole step of the default configuration (forward, ``L_1``, the adversary's
``L_A`` and the encoder's confusion term, the Sinkhorn ``L_D`` with its
envelope gradient, the gradients, and both Adam updates) written as one
function of tensors (``torch.func.grad_and_value``) and compiled into one graph
by ``torch.compile`` (TorchInductor, C++ on the CPU).

It prints one table, in one run on one data set, at equal batch size and
widths (the setting of ``bench_fairrep_epoch.py``): seconds per epoch of
fairlearn's ``AdversarialFairnessClassifier``, of FairRep as shipped, and of
the compiled step; each ratio against fairlearn; the compile time; and a
check that the compiled step computes FairRep's update: from equal states,
with dropout off (``dropout=0``), one compiled step and one
``FairRepNet.train_step`` must give the same parameters (the largest
difference is printed and must stay within float32 rounding).

The compiled step draws its dropout masks inside the graph (a different
random stream from eager dropout, the same distribution).

``--wrappers`` chooses how the compiled graph's kernels are called: through
TorchInductor's default Python wrapper, through its C++ wrapper
(``cpp_wrapper``, which leaves out the per-kernel Python calls), or both
(one compilation each). The last row is a floor no torch step can go below:
the step's matrix products alone (the 20 that autograd runs: the forward
product of every linear layer, encoder, head, the adversary's own pass and
its frozen pass for the encoder, and the gradient products each needs),
timed back to back with the same shapes, as seconds per epoch.

Usage::

    python benchmarks/bench_compiled_step.py --threads 1 --repeats 3
"""

import argparse
import math
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from bench_fairrep_epoch import (
    epoch_time,
    fairlearn_fit,
    fairrep_fit,
    load_data,
    report,
)

from fairrep.representation import FairRep
from fairrep.representation._sinkhorn import _problem_tables, _sinkhorn_core
from fairrep._nn import TensorBatchIterator, TensorDataset


def fitted(X, y, sex, dropout, batch_size):
    """A FairRep (default fairness settings, the benchmark's widths) after one epoch."""
    model = FairRep(
        hidden_layer_sizes=(256, 128), embedding_dim=64, dropout=dropout,
        batch_size=batch_size, max_epochs=1, random_state=0, num_threads=None,
    ).fit(X, y, sensitive_features=sex)
    net = model.net_
    if (net.distance, net.adversary_loss, net.adversary_steps) != ("sinkhorn", "confusion", 1):
        raise RuntimeError("the compiled step implements the default configuration only")
    data = {
        "X": torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32)),
        "group": torch.as_tensor(np.searchsorted(model.groups_, sex)),
    }
    target = torch.as_tensor(np.searchsorted(model.classes_, y))
    return net, TensorDataset(data, target)


class CompiledStep:
    """FairRep's default training step as one compiled function of tensors.

    The parameters and the Adam moments are the net's own tensors (detached
    views), updated in place, so the compiled and the eager step can be
    compared from one state.
    """

    def __init__(self, net, options=None):
        self.net = net
        self.plan = net.module_._plan
        self.n_encoder = len(list(net.module_.parameters()))
        modules = [*net.module_.parameters(), *net.adversary_.parameters()]
        self.params = [p.detach() for p in modules]
        states = {**net.optimizer_.state, **net.adversary_optimizer_.state}
        self.moments = [
            (states[p]["exp_avg"], states[p]["exp_avg_sq"], states[p]["step"])
            for p in modules
        ]
        group = net.optimizer_.param_groups[0]
        self.hyper = (group["lr"], *group["betas"], group["eps"], group["weight_decay"])
        self.tables = _problem_tables(net.n_groups, torch.device("cpu"))
        self.compiled = torch.compile(self._step, fullgraph=True, dynamic=False,
                                      options=options)

    def _loss(self, params, X, y, group):
        net = self.net
        encoder, adversary = params[:self.n_encoder], params[self.n_encoder:]
        x, embedding, k = X, None, 0
        for kind, value in self.plan:
            if kind == "linear":
                x, k = F.linear(x, encoder[k], encoder[k + 1]), k + 2
            elif kind == "relu":
                x = torch.relu(x)
            elif kind == "drop":
                x = x * (torch.rand_like(x) >= value).to(x.dtype) * (1.0 / (1.0 - value))
            else:
                embedding = x
        emotion = F.cross_entropy(x, y)
        known = group >= 0
        n_known = known.sum().clamp_min(1)

        def adversary_logits(z, weights):
            hidden = torch.relu(F.linear(z, weights[0], weights[1]))
            return F.linear(hidden, weights[2], weights[3])

        adversary_loss = F.cross_entropy(
            adversary_logits(embedding.detach(), adversary), group,
            ignore_index=-1, reduction="sum",
        ) / n_known
        log_p = F.log_softmax(
            adversary_logits(embedding, [w.detach() for w in adversary]), dim=1
        )
        confusion = ((-log_p.mean(dim=1) - math.log(net.n_groups))
                     * known.to(log_p.dtype) / n_known).sum()
        members = (group[None, :] == torch.arange(net.n_groups)[:, None]).to(torch.float64)
        with torch.no_grad():
            value, _, gradient = _sinkhorn_core(
                torch, embedding.detach(), members, self.tables, 0.1, 10, True
            )
        surrogate = (embedding * gradient.to(embedding.dtype)).sum()
        objective = (emotion + adversary_loss + net.adversary_weight * confusion
                     + net.alpha * surrogate)
        return objective, value

    def _step(self, params, moments, X, y, group):
        lr, beta1, beta2, eps, decay = self.hyper
        grads, (objective, _) = torch.func.grad_and_value(self._loss, has_aux=True)(
            params, X, y, group
        )
        for p, g, (m, v, t) in zip(params, grads, moments):
            t.add_(1)
            g = g + decay * p
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            denom = (v.sqrt() / (1 - beta2 ** t).sqrt()).add_(eps)
            p.sub_(lr / (1 - beta1 ** t) * m / denom)
        return objective

    def __call__(self, batch):
        Xi, yi = batch
        return self.compiled(self.params, self.moments, Xi["X"], yi, Xi["group"])


def check_equivalence(X, y, sex, batch_size):
    """Largest parameter difference after one compiled and one eager step (dropout off)."""
    net, dataset = fitted(X, y, sex, dropout=0.0, batch_size=batch_size)
    batch = next(iter(TensorBatchIterator(dataset, batch_size, shuffle=True)))
    step = CompiledStep(net)
    before = [p.clone() for p in step.params]
    saved = [(m.clone(), v.clone(), t.clone()) for m, v, t in step.moments]
    step(batch)
    compiled = [p.clone() for p in step.params]
    with torch.no_grad():
        for p, value in zip(step.params, before):
            p.copy_(value)
        for (m, v, t), (m0, v0, t0) in zip(step.moments, saved):
            m.copy_(m0), v.copy_(v0), t.copy_(t0)
    net.train_step(batch)
    moved = max(float((a - b).abs().max()) for a, b in zip(compiled, before))
    gap = max(float((a - b.detach()).abs().max()) for a, b in zip(compiled, step.params))
    return gap, moved


def compiled_epoch_time(X, y, sex, batch_size, n_epochs, repeats, options=None):
    """(median seconds per epoch, seconds of compilation) of the compiled step."""
    net, dataset = fitted(X, y, sex, dropout=0.2, batch_size=batch_size)
    step = CompiledStep(net, options)
    iterator = TensorBatchIterator(dataset, batch_size, shuffle=True)
    start = time.perf_counter()
    for batch in iterator:  # compiles the full-batch and the last-batch shapes
        step(batch)
    first_epoch = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n_epochs):
            for batch in iterator:
                step(batch)
        times.append((time.perf_counter() - start) / n_epochs)
    median = float(np.median(times))
    return median, first_epoch - median


def matmul_floor(X, y, sex, batch_size, n_samples, repeats, n_calls=500):
    """Seconds per epoch of the step's matrix products alone (median of repeats).

    The products autograd runs in the default step, at batch ``b``, for a
    linear layer ``n_in -> n_out``: the forward ``addmm`` (b x n_in by
    n_in x n_out); the input gradient (b x n_out by n_out x n_in) unless
    nothing upstream needs it; the weight gradient (n_out x b by b x n_in)
    unless the weights are held fixed. The encoder and head need every
    product but the first layer's input gradient (the data need none); the
    adversary's own pass sees the detached embedding (no input gradient at
    its first layer); the frozen pass the encoder's term goes through needs
    input gradients only.
    """
    net, _ = fitted(X, y, sex, dropout=0.2, batch_size=batch_size)
    linear = [m for m in net.module_.modules() if isinstance(m, torch.nn.Linear)]
    adversary = [m for m in net.adversary_.modules() if isinstance(m, torch.nn.Linear)]
    # (layer, input gradient?, weight gradient?)
    plan = [(layer, k > 0, True) for k, layer in enumerate(linear)]
    plan += [(layer, k > 0, True) for k, layer in enumerate(adversary)]
    plan += [(layer, True, False) for layer in adversary]
    calls = []
    for layer, input_gradient, weight_gradient in plan:
        n_out, n_in = layer.weight.shape
        x = torch.randn(batch_size, n_in)
        w = torch.randn(n_out, n_in)
        b = torch.randn(n_out)
        g = torch.randn(batch_size, n_out)
        calls.append(lambda x=x, w=w, b=b: torch.addmm(b, x, w.t()))
        if input_gradient:
            calls.append(lambda g=g, w=w: torch.mm(g, w))
        if weight_gradient:
            calls.append(lambda g=g, x=x: torch.mm(g.t(), x))
    for call in calls * 50:
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n_calls):
            for call in calls:
                call()
        times.append((time.perf_counter() - start) / n_calls)
    return float(np.median(times)) * math.ceil(n_samples / batch_size)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=7380)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n-epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--wrappers", nargs="+", choices=["python", "cpp"],
                        default=["python", "cpp"],
                        help="TorchInductor wrapper(s) of the compiled step (one "
                             "compilation each)")
    parser.add_argument("--skip-fairlearn", action="store_true")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--csv", default=None, help="write the table here")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be a positive integer; got {args.threads}.")
    torch.set_num_threads(args.threads)

    X, y, sex, source = load_data(args.n_samples, args.random_state)
    print(f"data: {source}, X {X.shape}, batch_size={args.batch_size}, "
          f"threads={args.threads}")
    gap, moved = check_equivalence(X, y, sex, args.batch_size)
    print(f"compiled vs eager step (dropout off): largest parameter difference "
          f"{gap:.2e} (the step moved parameters by up to {moved:.2e})")

    rows = []
    reference = np.nan
    if not args.skip_fairlearn:
        reference = epoch_time(fairlearn_fit(X, y, sex, "cpu", args.batch_size),
                               args.n_epochs, args.repeats)
        rows.append({"model": "fairlearn AdversarialFairnessClassifier",
                     "epoch_s": reference, "compile_s": 0.0})
    eager = epoch_time(
        fairrep_fit(X, y, sex, "sinkhorn", "cpu", args.batch_size, args.threads),
        args.n_epochs, args.repeats,
    )
    rows.append({"model": "FairRep (eager, as shipped)", "epoch_s": eager,
                 "compile_s": 0.0})
    for wrapper in args.wrappers:
        seconds, compile_s = compiled_epoch_time(
            X, y, sex, args.batch_size, args.n_epochs, args.repeats,
            options={"cpp_wrapper": wrapper == "cpp"},
        )
        rows.append({"model": f"FairRep step compiled whole ({wrapper} wrapper)",
                     "epoch_s": seconds, "compile_s": compile_s})
    rows.append({"model": "floor: the step's matrix products alone",
                 "epoch_s": matmul_floor(X, y, sex, args.batch_size, len(X), args.repeats),
                 "compile_s": 0.0})
    table = pd.DataFrame(rows)
    n_batches = math.ceil(len(X) / args.batch_size)
    table["ms_per_batch"] = 1e3 * table["epoch_s"] / n_batches
    table["fairlearn_epoch / epoch"] = reference / table["epoch_s"]
    report(table, args.csv)


if __name__ == "__main__":
    main()
