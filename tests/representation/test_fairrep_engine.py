"""FairRep's training engine: one pass per batch, Sinkhorn, dropout, data path, partial_fit.

The fast paths must keep the reference semantics: the Sinkhorn divergence
of the batched, host-sync-free solver equals the straightforward autograd
implementation it replaced (and POT's converged value), the fused dropout
is an inverted dropout, the adversary still learns from the single backward
pass, skorch's per-batch loop and the fast epoch loop train the same model,
the training data are not copied, and ``partial_fit`` over memory-mapped
chunks trains a model as good as ``fit`` without loading the whole array.
"""

import itertools
import tracemalloc
import warnings

import numpy as np
import ot
import pytest
import torch
from skorch.callbacks import Callback

from fairrep._nn import TensorBatchIterator, TensorDataset
from fairrep._nn import as_float_tensor as _as_float_tensor
from fairrep.representation import FairRep, group_distance
from fairrep.representation._distances import shuffled_groups
from fairrep.representation._modules import RepresentationModule
from fairrep.representation._sinkhorn import (
    _BLOCKS_FROM,
    _problem_tables,
    _sinkhorn_blocks,
    _sinkhorn_core,
    sinkhorn_terms,
)

SMALL = {"hidden_layer_sizes": (16,), "embedding_dim": 8, "max_epochs": 3,
         "random_state": 0}


def _planted_bias(n_samples=400, n_features=8, seed=0, dtype=np.float64):
    """Label from the first features, group readable from the last ones."""
    rng = np.random.RandomState(seed)
    group = rng.randint(0, 2, n_samples)
    X = rng.normal(size=(n_samples, n_features))
    X[:, -2:] += 2.0 * group[:, None]
    y = (X[:, 0] + X[:, 1] + 0.3 * rng.normal(size=n_samples) > 0).astype(int)
    return X.astype(dtype), np.where(y == 1, "pos", "neg"), np.where(group == 1, "f", "m")


# -- Sinkhorn: the replaced implementation, kept here as the reference -------


def _reference_group_sinkhorn(z, codes, reg=0.1, n_iter=10):
    """The previous solver: float64 plans, autograd through the float32 cost."""
    present = torch.unique(codes[codes >= 0])
    members = (codes.unsqueeze(0) == present.unsqueeze(1)).to(z.dtype)
    weights = members / members.sum(dim=1, keepdim=True)
    pairs = list(itertools.combinations(range(present.shape[0]), 2))
    first = torch.tensor([i for i, _ in pairs])
    second = torch.tensor([j for _, j in pairs])
    own = torch.arange(present.shape[0])
    a, b = weights[torch.cat([first, own])], weights[torch.cat([second, own])]
    cost = ((z * z).sum(-1)[:, None] + (z * z).sum(-1)[None, :]
            - 2.0 * z @ z.T).clamp_min(0.0)
    with torch.no_grad():
        mean_cross = ((weights[first] @ cost) * weights[second]).sum(-1).mean()
        eps = reg * mean_cross.clamp_min(1e-8)
        scaled = (cost.detach().double() / eps).unsqueeze(0)
        shifted = scaled.masked_fill((b <= 0).unsqueeze(-2), float("inf"))
        kernel = torch.exp(shifted.amin(dim=-1, keepdim=True) - shifted)
        a64, b64 = a.double().unsqueeze(-1), b.double().unsqueeze(-1)
        v = torch.ones_like(b64)
        for _ in range(n_iter):
            u = a64 / (kernel @ v).clamp_min(1e-300)
            v = b64 / (kernel.transpose(-1, -2) @ u).clamp_min(1e-300)
        plan64 = u * kernel * v.transpose(-1, -2)
        plan = plan64.to(z.dtype)
        # eps KL(P | a b^T): the entropic part of each problem's objective (a
        # constant for the gradient, which holds the plans fixed)
        product = a64 * b64.transpose(-1, -2)
        ratio = torch.where(plan64 > 0, plan64, 1.0) / torch.where(product > 0, product, 1.0)
        entropic = eps * torch.where(plan64 > 0, plan64 * ratio.log(), 0.0).sum(dim=(-2, -1))
    transport = (plan * cost).sum(dim=(-2, -1)) + entropic.to(z.dtype)
    n_pairs = len(pairs)
    self_terms = transport[n_pairs:]
    return (transport[:n_pairs] - 0.5 * (self_terms[first] + self_terms[second])).mean()


@pytest.mark.parametrize("n_groups, scale, seed", [(2, 1.0, 0), (2, 0.05, 1), (3, 3.0, 2),
                                                   (4, 1.0, 3)])
def test_sinkhorn_terms_equal_the_previous_solver(n_groups, scale, seed):
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(32, 16, generator=generator) * scale
    codes = torch.randint(-1, n_groups, (32,), generator=generator)
    z_ref = z.clone().requires_grad_(True)
    reference = _reference_group_sinkhorn(z_ref, codes)
    reference.backward()
    value, present, gradient = sinkhorn_terms(z, codes, n_groups)
    assert bool(present)
    assert float(value) == pytest.approx(float(reference.detach()), rel=1e-5)
    torch.testing.assert_close(gradient, z_ref.grad, rtol=1e-4, atol=1e-6 * scale)
    # group_distance (autograd through the same solver) agrees as well
    z_new = z.clone().requires_grad_(True)
    group_distance(z_new, codes).backward()
    torch.testing.assert_close(z_new.grad, z_ref.grad, rtol=1e-4, atol=1e-6 * scale)


@pytest.mark.parametrize("signs", [(1.0,), (1.0, -1.0)])
def test_sinkhorn_numpy_and_torch_paths_agree(signs):
    # the torch namespace is the CUDA path; with two labellings, the null split's
    generator = torch.Generator().manual_seed(4)
    points = torch.randn(32, 8, generator=generator, dtype=torch.float64)
    codes = torch.randint(-1, 3, (32,), generator=generator)
    labellings = [codes, shuffled_groups(codes)][:len(signs)]
    members = torch.cat([labels[None] == torch.arange(3)[:, None]
                         for labels in labellings]).double()
    tables = _problem_tables(3, torch.device("cpu"), len(signs))
    in_torch = _sinkhorn_core(torch, points, members, tables, 0.1, 10, True, signs)
    in_numpy = _sinkhorn_core(np, points.numpy(), members.numpy(),
                              _problem_tables(3, None, len(signs)), 0.1, 10, True, signs)
    assert float(in_torch[0]) == pytest.approx(float(in_numpy[0]), rel=1e-12)
    assert bool(in_torch[1]) and bool(in_numpy[1])
    np.testing.assert_allclose(in_torch[2].numpy(), in_numpy[2], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n_samples, n_groups", [(40, 2), (120, 2), (150, 3), (200, 4)])
def test_sinkhorn_block_solver_equals_the_stacked_solver(n_samples, n_groups):
    # large CPU batches solve each problem on its own block of sorted points
    rng = np.random.RandomState(n_samples)
    points = (rng.normal(size=(n_samples, 16)) * 2).astype(np.float32)
    labels = rng.randint(-1, n_groups, n_samples)
    members = (labels[None] == np.arange(n_groups)[:, None]).astype(np.float64)
    stacked = _sinkhorn_core(np, points, members, _problem_tables(n_groups, None),
                             0.1, 10, True)
    blocks = _sinkhorn_blocks(points, labels, n_groups, 0.1, 10, True)
    assert blocks[0] == pytest.approx(float(stacked[0]), rel=1e-12)
    assert blocks[1] and bool(stacked[1])
    np.testing.assert_allclose(blocks[2], stacked[2], rtol=1e-4,
                               atol=1e-5 * np.abs(stacked[2]).max())
    # sinkhorn_terms takes the block path on a large batch
    value, present, gradient = sinkhorn_terms(
        torch.from_numpy(points), torch.from_numpy(labels), n_groups)
    assert float(value) == pytest.approx(float(stacked[0]), rel=1e-12)
    assert bool(present)
    taken = blocks[2] if n_samples > _BLOCKS_FROM else stacked[2]
    np.testing.assert_array_equal(gradient.numpy(), taken)
    one_group = _sinkhorn_blocks(points, np.where(labels > 0, -1, labels), n_groups,
                                 0.1, 10, True)
    assert one_group[0] == 0.0 and not one_group[1] and not one_group[2].any()


@pytest.mark.parametrize("n_samples, n_groups", [(32, 2), (31, 3), (20, 4), (120, 2)])
def test_sinkhorn_terms_less_a_null_labelling_in_one_solve(n_samples, n_groups):
    """The scale-free L_D's two solves in one: the difference of the separate solves."""
    torch.manual_seed(n_samples)
    z = torch.randn(n_samples, 6, dtype=torch.float64) * 3
    codes = torch.randint(-1, n_groups, (n_samples,))
    null = shuffled_groups(codes)
    value, present, gradient = sinkhorn_terms(z, codes, n_groups, null_codes=null)
    groups, null_part = sinkhorn_terms(z, codes, n_groups), sinkhorn_terms(z, null, n_groups)
    assert float(value) == pytest.approx(float(groups[0] - null_part[0]), rel=1e-10)
    assert bool(present) == bool(groups[1])
    torch.testing.assert_close(gradient, groups[2] - null_part[2])
    # each labelling keeps its own regularisation: the separate solves' relative
    # eps differ (the null split's cross-group cost is another)


def test_sinkhorn_terms_converge_to_pot_at_the_relative_regularisation():
    rng = np.random.RandomState(5)
    x, y = rng.normal(size=(14, 4)), rng.normal(size=(18, 4)) + 0.5
    z = torch.tensor(np.vstack([x, y]))
    codes = torch.tensor([0] * 14 + [1] * 18)
    value, _, _ = sinkhorn_terms(z, codes, 2, reg=0.5, n_iter=2000)
    eps = 0.5 * ot.dist(x, y).mean()  # reg relative to the mean cross-group cost

    def entropic(p, q):  # <P, C> + eps KL(P | a b^T) with POT's plan
        cost = ot.dist(p, q)
        a, b = np.full(len(p), 1 / len(p)), np.full(len(q), 1 / len(q))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plan = ot.sinkhorn(a, b, cost, eps, numItermax=20000, stopThr=1e-12)
        kept = plan > 0
        return (plan * cost).sum() + eps * (
            plan[kept] * np.log(plan[kept] / np.outer(a, b)[kept])).sum()

    reference = entropic(x, y) - 0.5 * entropic(x, x) - 0.5 * entropic(y, y)
    assert float(value) == pytest.approx(float(reference), rel=1e-6)


def test_sinkhorn_terms_without_two_groups_are_zero_and_finite():
    z = torch.randn(12, 3)
    for codes in (torch.tensor([0] * 6 + [-1] * 6), torch.full((12,), -1),
                  torch.tensor([2] * 12)):
        value, present, gradient = sinkhorn_terms(z, codes, 3)
        assert not bool(present)
        assert float(value) == 0.0
        assert torch.equal(gradient, torch.zeros_like(z))
    # an absent third group drops out of the mean over pairs
    codes = torch.tensor([0] * 6 + [1] * 6)
    two = sinkhorn_terms(z, codes, 2)
    three = sinkhorn_terms(z, codes, 3)
    assert float(three[0]) == pytest.approx(float(two[0]), rel=1e-12)
    torch.testing.assert_close(three[2], two[2])


# -- dropout -------------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5])
def test_training_forward_applies_inverted_dropout(p):
    # identity layers on positive inputs: the embedding is the input with
    # the dropout of the second layer's input applied
    module = RepresentationModule(50, (50, 50), 2, p)
    with torch.no_grad():
        for layer in (module.encoder[0], module.encoder[3]):
            layer.weight.copy_(torch.eye(50))
            layer.bias.zero_()
    X = torch.rand(4000, 50) + 0.5
    torch.manual_seed(0)
    _, embedding = module(X)
    dropped = embedding == 0
    assert float(dropped.double().mean()) == pytest.approx(p, abs=0.005)
    torch.testing.assert_close(embedding[~dropped], (X / (1 - p))[~dropped])
    # units and rows are independent draws
    assert float(dropped.double().mean(0).std()) < 0.02
    assert float((dropped[:, 0] & dropped[:, 1]).double().mean()) == pytest.approx(
        p * p, abs=0.01)
    module.eval()
    torch.testing.assert_close(module(X)[1], X)


def test_direct_forward_is_the_sequential_stacks():
    torch.manual_seed(0)
    module = RepresentationModule(6, (16, 8, 4), 3, 0.3)
    X = torch.randn(5, 6)
    for training in (True, False):
        module.train(training)
        torch.manual_seed(1)
        logits, embedding = module(X)
        torch.manual_seed(1)
        reference = module.encoder(X)
        assert torch.equal(embedding, reference)
        assert torch.equal(logits, module.head(reference))


# -- the engine ------------------------------------------------------------


class _Counting(Callback):
    """Counts batches and gradients, and records what it sees at the start."""

    def initialize(self):
        self.begin_, self.end_, self.grads_, self.sizes_ = 0, 0, 0, []
        self.shares_, self.threads_ = [], []
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.threads_.append(torch.get_num_threads())
        if self.source_address is not None:
            self.shares_.append(X.X["X"].data_ptr() == self.source_address)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        self.begin_ += training

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            self.end_ += 1
            self.sizes_.append(len(batch[1]))

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.grads_ += 1

    def __init__(self, source_address=None):
        # an address, not the array: callbacks are deep-copied before fit
        self.source_address = source_address


def test_one_forward_one_backward_and_both_optimizers_step_per_batch():
    X, y, group = _planted_bias(n_samples=200)
    model = FairRep(**{**SMALL, "max_epochs": 1, "batch_size": 32, "warm_start": True})
    model.fit(X, y, sensitive_features=group)
    net = model.net_
    calls = {"forward": 0, "backward": 0, "encoder_step": 0, "adversary_step": 0}
    net.module_.register_forward_hook(lambda *_: calls.__setitem__("forward", calls["forward"] + 1))
    net.module_.encoder[0].weight.register_hook(
        lambda grad: calls.__setitem__("backward", calls["backward"] + 1))
    for name, key in (("optimizer_", "encoder_step"), ("adversary_optimizer_", "adversary_step")):
        optimizer = getattr(net, name)
        step = optimizer.step

        def counted(*args, _step=step, _key=key, **kwargs):
            calls[_key] += 1
            return _step(*args, **kwargs)
        optimizer.step = counted
    model.fit(X, y, sensitive_features=group)
    n_batches = int(np.ceil(200 / 32))
    # one more forward after training: fit checks that the model does not
    # predict a single class on its training data (one 4096-row eval batch)
    assert calls == {"forward": n_batches + 1, "backward": n_batches,
                     "encoder_step": n_batches, "adversary_step": n_batches}


def test_adversary_steps_adds_inner_updates():
    X, y, group = _planted_bias(n_samples=64)
    model = FairRep(**{**SMALL, "max_epochs": 1, "batch_size": 32, "warm_start": True,
                       "adversary_steps": 3})
    model.fit(X, y, sensitive_features=group)
    optimizer = model.net_.adversary_optimizer_
    count = {"steps": 0}
    step = optimizer.step

    def counted(*args, **kwargs):
        count["steps"] += 1
        return step(*args, **kwargs)
    optimizer.step = counted
    model.fit(X, y, sensitive_features=group)
    assert count["steps"] == 2 * 3  # two batches, 3 adversary updates each


def test_the_adversary_learns_from_the_shared_backward():
    # with a negligible weight the encoder ignores the adversary, which then
    # reads the planted group from the embedding well above chance
    X, y, group = _planted_bias(n_samples=600)
    model = FairRep(hidden_layer_sizes=(32,), embedding_dim=16, alpha=0.0,
                    adversary_weight=1e-8, max_epochs=15, random_state=0)
    model.fit(X, y, sensitive_features=group)
    with torch.no_grad():
        logits = model.net_.adversary_(torch.as_tensor(model.transform(X)))
    accuracy = np.mean(model.groups_[logits.argmax(1).numpy()] == group)
    chance = max(np.mean(group == "f"), np.mean(group == "m"))
    assert chance < 0.55
    # a logistic probe on the same embedding reads it at about 0.83
    assert accuracy > 0.7
    losses = model.history_["adversary_loss"].to_numpy()
    assert losses[-1] < losses[0] - 0.05
    assert losses[-1] < np.log(2) - 0.1


def test_fast_epoch_loop_equals_skorch_per_batch_loop_and_callbacks_fire():
    X, y, group = _planted_bias(n_samples=150)
    params = {**SMALL, "batch_size": 16, "adversary_loss": "reversal",
              "adversary_weight": 1.0}
    fast = FairRep(**params).fit(X, y, sensitive_features=group)
    listened = FairRep(**params, callbacks=[("count", _Counting())]).fit(
        X, y, sensitive_features=group)
    counting = dict(listened.net_.callbacks_)["count"]
    n_batches = 3 * int(np.ceil(150 / 16))
    assert counting.begin_ == counting.end_ == counting.grads_ == n_batches
    assert sum(counting.sizes_) == 3 * 150
    # the same training, whichever loop ran it
    np.testing.assert_array_equal(fast.transform(X), listened.transform(X))
    columns = ["train_loss", "emotion_loss", "adversary_loss", "distance_loss"]
    np.testing.assert_allclose(fast.history_[columns].to_numpy(),
                               listened.history_[columns].to_numpy(), rtol=1e-5)
    # the fast loop keeps one batches entry per epoch, holding all samples
    batches = fast.net_.history[-1, "batches"]
    assert len(batches) == 1 and batches[0]["train_batch_size"] == 150
    assert fast.net_.history[-1, "train_batch_count"] == int(np.ceil(150 / 16))
    assert len(listened.net_.history[-1, "batches"]) == int(np.ceil(150 / 16))
    # eq. (1) for "reversal": train_loss = L1 - L_A + alpha L_D, epoch means
    last = fast.history_.iloc[-1]
    assert last.train_loss == pytest.approx(
        last.emotion_loss - last.adversary_loss + 0.01 * last.distance_loss, rel=1e-5)


def test_loss_terms_are_means_over_the_batches_where_they_apply():
    X, y, _ = _planted_bias(n_samples=64)
    # batches of 4 from 8 + 8 known groups among 64 samples: many batches
    # have one group or none (no L_D), some none at all (no L_A)
    group = np.array(["f"] * 8 + ["m"] * 8 + [None] * 48, dtype=object)
    recorded = []

    class Terms(Callback):
        def on_batch_end(self, net, training=False, **kwargs):
            if training:
                recorded.append(net._pending_terms[-1])

    model = FairRep(**{**SMALL, "max_epochs": 1, "batch_size": 4}, callbacks=[Terms()])
    model.fit(X, y, sensitive_features=group)
    assert len(recorded) == 16
    values = np.array([[float(v) for v in values] for values, _, _ in recorded])
    flags = np.array([[bool(f) for f in present] for _, present, _ in recorded])
    assert not flags[:, 2].any()  # L_S: score_weight is 0
    flags = flags[:, :2]  # L_A and L_D
    assert flags.any(axis=0).all() and not flags.all(axis=0).any()
    last = model.history_.iloc[-1]
    assert last.train_loss == pytest.approx(values[:, 0].mean(), rel=1e-6)
    assert last.emotion_loss == pytest.approx(values[:, 1].mean(), rel=1e-6)
    assert last.adversary_loss == pytest.approx(values[flags[:, 0], 2].mean(), rel=1e-6)
    assert last.distance_loss == pytest.approx(values[flags[:, 1], 3].mean(), rel=1e-6)


# -- the data path -----------------------------------------------------------


def test_float32_input_is_not_copied():
    X, y, group = _planted_bias(n_samples=300, dtype=np.float32)
    tensor = _as_float_tensor(X, torch.device("cpu"))
    assert np.shares_memory(tensor.numpy(), X)
    assert not np.shares_memory(_as_float_tensor(X.astype(np.float64), "cpu").numpy(), X)
    assert _as_float_tensor(np.asfortranarray(X), "cpu").is_contiguous()
    # the training data of fit, early-stopping split included, are views of X
    for early_stopping in (False, True):
        model = FairRep(**SMALL, early_stopping=early_stopping,
                        callbacks=[("count", _Counting(source_address=X.ctypes.data))])
        model.fit(X, y, sensitive_features=group)
        assert dict(model.net_.callbacks_)["count"].shares_ == [True]


def test_fit_on_float32_allocates_no_array_of_the_data_size():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40_000, 32)).astype(np.float32)  # 5.1 MB
    y = (X[:, 0] > 0).astype(int)
    model = FairRep(hidden_layer_sizes=(8,), embedding_dim=4, max_epochs=1,
                    batch_size=4096, random_state=0)
    tracemalloc.start()
    try:
        model.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.5 * X.nbytes, peak


def test_batches_gather_one_permutation_per_epoch():
    X = {"X": torch.arange(10.0).unsqueeze(1), "group": torch.arange(10)}
    dataset = TensorDataset(X, torch.arange(10), indices=torch.tensor([1, 3, 5, 7, 9]))
    torch.manual_seed(0)
    batches = list(TensorBatchIterator(dataset, 2, shuffle=True))
    torch.manual_seed(0)
    order = torch.tensor([1, 3, 5, 7, 9])[torch.randperm(5)]
    assert torch.equal(torch.cat([b[1] for b in batches]), order)
    assert torch.equal(torch.cat([b[0]["X"][:, 0] for b in batches]), order.double().float())
    assert [len(b[1]) for b in batches] == [2, 2, 1]
    plain = list(TensorBatchIterator(TensorDataset(X, torch.arange(10)), 4))
    assert plain[0][0]["X"].data_ptr() == X["X"].data_ptr()  # views, not copies


# -- partial_fit ---------------------------------------------------------------


def _save_chunks(tmp_path, X, y, group):
    np.save(tmp_path / "X.npy", X)
    return np.load(tmp_path / "X.npy", mmap_mode="r"), y, group


def test_partial_fit_over_memory_mapped_chunks_matches_fit(tmp_path):
    X, y, group = _planted_bias(n_samples=3000, dtype=np.float32, seed=1)
    X_test, y_test, _ = _planted_bias(n_samples=1000, dtype=np.float32, seed=2)
    mapped, y, group = _save_chunks(tmp_path, X[:2000], y[:2000], group[:2000])
    params = {"hidden_layer_sizes": (32,), "embedding_dim": 16, "random_state": 0,
              "batch_size": 32}
    fitted = FairRep(**params, max_epochs=8).fit(X[:2000], y, sensitive_features=group)
    streamed = FairRep(**params)
    for epoch in range(8):
        for start in range(0, 2000, 500):
            chunk = slice(start, start + 500)
            streamed.partial_fit(mapped[chunk], y[chunk], sensitive_features=group[chunk],
                                 classes=["neg", "pos"], groups=["f", "m"])
    assert streamed.n_iter_ == 32 and len(streamed.history_) == 32
    assert streamed.classes_.tolist() == ["neg", "pos"]
    assert streamed.groups_.tolist() == ["f", "m"]
    fit_accuracy = fitted.score(X_test, y_test)
    assert fit_accuracy > 0.85
    assert streamed.score(X_test, y_test) > fit_accuracy - 0.03
    # a chunk of a float32 memory map is used in place
    assert np.shares_memory(_as_float_tensor(mapped[:500], "cpu").numpy(), mapped)


def test_partial_fit_never_holds_the_whole_array(tmp_path):
    rng = np.random.RandomState(0)
    n_samples, chunk = 40_000, 4_000
    np.save(tmp_path / "X.npy", rng.normal(size=(n_samples, 32)))  # float64, 10 MB
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    y = (mapped[:, 0] > 0).astype(int)
    group = np.where(rng.rand(n_samples) > 0.5, "f", "m")
    # the batch's Sinkhorn problems take O(batch_size ** 2) memory: 1 MB here
    params = {"hidden_layer_sizes": (8,), "embedding_dim": 4, "batch_size": 128,
              "random_state": 0}
    # lazy imports and first-call set-up of torch happen before tracing
    FairRep(**params).partial_fit(mapped[:100], y[:100], sensitive_features=group[:100])
    model = FairRep(**params)
    tracemalloc.start()
    try:
        for start in range(0, n_samples, chunk):
            rows = slice(start, start + chunk)
            model.partial_fit(mapped[rows], y[rows], sensitive_features=group[rows],
                              classes=[0, 1], groups=["f", "m"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # chunk-sized conversions only (a float32 chunk is 0.5 MB): well below
    # the array's 10 MB
    assert peak < 0.25 * mapped.nbytes, peak
    assert model.n_iter_ == n_samples // chunk


def test_partial_fit_infers_classes_and_groups_from_the_first_chunk():
    X, y, group = _planted_bias(n_samples=200)
    model = FairRep(**SMALL).partial_fit(X[:100], y[:100], sensitive_features=group[:100])
    assert model.classes_.tolist() == ["neg", "pos"]
    assert model.groups_.tolist() == ["f", "m"]
    assert hasattr(model.net_, "adversary_")
    # later chunks may lack a group, or miss group values
    model.partial_fit(X[100:150], y[100:150], sensitive_features=["f"] * 50)
    model.partial_fit(X[150:], y[150:])
    model.partial_fit(X[150:], y[150:], sensitive_features=[None] * 50)
    assert model.n_iter_ == 4
    # deterministic: the same chunks and seed give the same model
    again = FairRep(**SMALL).partial_fit(X[:100], y[:100], sensitive_features=group[:100])
    first = FairRep(**SMALL).partial_fit(X[:100], y[:100], sensitive_features=group[:100])
    np.testing.assert_array_equal(again.transform(X), first.transform(X))


def test_partial_fit_continues_a_fit_and_without_groups_is_a_plain_classifier():
    X, y, group = _planted_bias(n_samples=200)
    model = FairRep(**SMALL).fit(X, y, sensitive_features=group)
    net = model.net_
    model.partial_fit(X, y, sensitive_features=group)
    assert model.net_ is net and model.n_iter_ == 4
    stopped = FairRep(**SMALL, early_stopping=True).fit(X, y, sensitive_features=group)
    before = stopped.transform(X)
    stopped.partial_fit(X, y, sensitive_features=group)
    assert stopped.n_iter_ == 4 and not np.array_equal(stopped.transform(X), before)
    plain = FairRep(**SMALL).partial_fit(X, y, classes=["neg", "pos"])
    assert plain.groups_ is None and not hasattr(plain.net_, "adversary_")
    assert "adversary_loss" not in plain.history_


def test_partial_fit_errors_are_clear():
    X, y, group = _planted_bias(n_samples=120)
    with pytest.raises(ValueError, match="needs the full list of class labels: pass classes="):
        FairRep(**SMALL).partial_fit(X[:10], np.array(["neg"] * 10))
    with pytest.raises(ValueError, match=r"y has labels \['pos'\] that are not among"):
        FairRep(**SMALL).partial_fit(X, y, classes=["neg", "other"])
    with pytest.raises(ValueError, match="classes must list at least two"):
        FairRep(**SMALL).partial_fit(X, y, classes=["neg"])
    with pytest.raises(ValueError, match="at least 2 distinct groups"):
        FairRep(**SMALL).partial_fit(X, y, sensitive_features=["f"] * 120)
    with pytest.raises(ValueError, match="groups must contain at least 2"):
        FairRep(**SMALL).partial_fit(X, y, groups=["f"])
    model = FairRep(**SMALL).partial_fit(X, y, sensitive_features=group)
    with pytest.raises(ValueError, match=r"y has labels \['new'\].*classes= on that call"):
        model.partial_fit(X[:3], ["new", "neg", "pos"])
    with pytest.raises(ValueError, match=r"sensitive_features has labels \['x'\]"):
        model.partial_fit(X[:3], y[:3], sensitive_features=["x", "f", "m"])
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        model.partial_fit(X, y, classes=["neg", "pos", "other"])
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        model.partial_fit(X, y, groups=["f", "m", "x"])
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :3], y)
    plain = FairRep(**SMALL).partial_fit(X, y)
    with pytest.raises(ValueError, match="started by partial_fit without groups"):
        plain.partial_fit(X, y, sensitive_features=group)


# -- threads -------------------------------------------------------------


@pytest.mark.parametrize("setting, batch_size, expected", [
    ("auto", 32, 1), ("auto", 1024, 1), ("auto", 2048, 2), (None, 32, 2), (2, 32, 2),
    (1, 2048, 1),
])
def test_num_threads_during_fit_and_restored(setting, batch_size, expected):
    X, y, group = _planted_bias(n_samples=100)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = FairRep(**{**SMALL, "max_epochs": 1}, batch_size=batch_size,
                        num_threads=setting, callbacks=[("count", _Counting())])
        model.fit(X, y, sensitive_features=group)
        assert dict(model.net_.callbacks_)["count"].threads_ == [expected]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


def test_bad_num_threads():
    X, y, group = _planted_bias(n_samples=40)
    for value in (0, "many", 1.5):
        with pytest.raises(ValueError, match="'num_threads' parameter"):
            FairRep(**SMALL, num_threads=value).fit(X, y, sensitive_features=group)


class _ScriptedNet:
    """What EarlyStopping reads of a net: its history and its module's weights."""

    def __init__(self):
        from skorch.history import History

        self.history = History()
        self.module_ = torch.nn.Linear(1, 1, bias=False)
        self.verbose = 0


def _run_early_stopping(callback, losses):
    """Feed ``losses`` as the epochs' valid_loss, with the epoch as the module's weight."""
    net = _ScriptedNet()
    callback.initialize()
    callback.on_train_begin(net)
    for epoch, loss in enumerate(losses, start=1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("valid_loss", loss)
        with torch.no_grad():
            net.module_.weight.fill_(epoch)
        try:
            callback.on_epoch_end(net)
        except KeyboardInterrupt:
            break
    callback.on_train_end(net)
    return epoch, int(net.module_.weight.item())


def test_warmup_early_stopping_watches_only_after_its_warm_up():
    from fairrep._nn._estimator import WarmupEarlyStopping

    # NRL's shape: lowest loss at epoch 1, stalling, then learning from epoch 6
    losses = [1.0, 1.5, 1.6, 1.5, 1.6, 0.9, 0.8, 0.7, 0.75, 0.8, 0.9, 0.6]
    plain = WarmupEarlyStopping(monitor="valid_loss", patience=3, load_best=True)
    assert _run_early_stopping(plain, losses) == (4, 1)  # skorch's EarlyStopping's choice
    warm = WarmupEarlyStopping(monitor="valid_loss", patience=3, load_best=True,
                               start_from_epoch=5)
    assert _run_early_stopping(warm, losses) == (11, 8)  # stops 3 after epoch 8's best
    # a run that ends inside the warm-up keeps its last weights
    assert _run_early_stopping(WarmupEarlyStopping(
        monitor="valid_loss", patience=3, load_best=True, start_from_epoch=20), losses) == (12, 12)


def test_start_from_epoch_delays_early_stopping_of_every_neural_estimator():
    from fairrep import FairPer
    from fairrep.baselines import NRL, DNNClassifier

    X, y, group = _planted_bias(n_samples=200)
    settings = {**SMALL, "max_epochs": 40, "early_stopping": True, "n_iter_no_change": 2,
                "start_from_epoch": 12}
    for model in (FairRep(**settings).fit(X, y, sensitive_features=group),
                  NRL(**settings).fit(X, y, sensitive_features=group),
                  DNNClassifier(**{k: v for k, v in settings.items()
                                   if k != "embedding_dim"}).fit(X, y)):
        stopping = dict(model.net_.callbacks_)["early_stopping"]
        assert model.n_iter_ >= 14 and stopping.best_epoch_ > 12, model
    fairper = FairPer(hidden_size=8, embedding_dim=4, max_epochs=40, early_stopping=True,
                      n_iter_no_change=2, start_from_epoch=12, triplet_weight=0.0,
                      random_state=0)
    fairper.fit(X, y)
    assert fairper.n_iter_ >= 14
    with pytest.raises(ValueError, match="start_from_epoch"):
        FairRep(**SMALL, start_from_epoch=-1).fit(X, y)
