"""The skorch net every fairrep neural estimator trains: :class:`CoreNet`.

It customises skorch only where skorch's guide says it is safe:

* :meth:`CoreNet.run_single_epoch` runs a training epoch without skorch's
  per-batch bookkeeping unless a callback listens to batches, and records
  the epoch means of the subclass's :attr:`~CoreNet.LOSS_TERMS`;
* :meth:`CoreNet.train_step` zeroes every optimizer the net registered, runs
  the subclass's ``train_step_single`` (one forward, one backward) and steps
  them all;
* :meth:`CoreNet._register_module` registers an extra module declared in
  ``prefixes_`` (so that it is among the net's modules and in
  ``cuda_dependent_attributes_``: a net trained on a GPU unpickles on a
  CPU-only machine).

A subclass's ``train_step_single`` calls :meth:`CoreNet._accumulate_terms`
with the batch's detached ``train_loss`` and loss terms.
"""

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import TeeGenerator

__all__ = ["CoreNet"]

# Batches whose loss terms are kept before they are summed on the device.
_TERMS_FLUSH = 256


def _overrides(callback, name):
    return getattr(type(callback), name) is not getattr(Callback, name)


class CoreNet(NeuralNet):
    """A skorch :class:`~skorch.NeuralNet` with a fast epoch and per-term history.

    **Epochs.** A training epoch keeps its sums on the device and writes
    the history once per epoch: one ``batches`` entry holds the epoch's
    mean ``train_loss`` and its sample count as ``train_batch_size`` (so
    skorch's ``train_loss`` is the same batch-size-weighted mean), and each
    of :attr:`LOSS_TERMS` is the batch-size-weighted mean over the batches
    where the term applies (NaN in an epoch where it never does). When a
    callback defines ``on_batch_begin`` or ``on_batch_end``, skorch's
    per-batch loop and per-batch history run instead; ``on_grad_computed``
    is called only when a callback defines it.
    """

    #: The per-epoch loss components recorded in the history; the first one
    #: applies to every batch.
    LOSS_TERMS = ()

    def _register_module(self, name):
        """Register an extra module declared in ``prefixes_``, once."""
        if name + "_" not in self.cuda_dependent_attributes_:
            self._register_attribute(name, getattr(self, name + "_"), prefixes=False)

    def _ensure_training(self):
        """Training mode; switching modes walks every submodule, so only when needed."""
        if not self.module_.training:
            self._set_training(True)

    # -- the training loop ---------------------------------------------------
    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One epoch; a training epoch skips per-batch bookkeeping when it can.

        Validation epochs are skorch's. A training epoch runs skorch's
        per-batch loop (per-batch history, ``on_batch_begin`` /
        ``on_batch_end`` notifications) only when some callback defines
        those methods; otherwise it calls ``step_fn`` on every batch and
        writes the history once (see the class notes). Either way, the
        epoch means of :attr:`LOSS_TERMS` are recorded at its end.
        """
        if not training or iterator is None:
            return super().run_single_epoch(
                iterator, training, prefix, step_fn, **fit_params
            )
        callbacks = [callback for _, callback in self.callbacks_]
        self._grad_hooks = any(_overrides(cb, "on_grad_computed") for cb in callbacks)
        self._term_sums = None
        self._pending_terms = []
        if any(_overrides(cb, name) for cb in callbacks
               for name in ("on_batch_begin", "on_batch_end")):
            super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        else:
            n_batches = 0
            for batch in iterator:
                step_fn(batch, **fit_params)
                n_batches += 1
            self._flush_terms()
            sums, counts = self._term_sums
            self.history.new_batch()
            self.history.record_batch(prefix + "_loss", float(sums[0] / counts[0]))
            self.history.record_batch(prefix + "_batch_size", int(counts[0]))
            self.history.record(prefix + "_batch_count", n_batches)
        self._record_loss_terms()

    def _record_loss_terms(self):
        self._flush_terms()
        if self._term_sums is None:
            return
        sums, counts = self._term_sums
        self._term_sums = None
        # 0 / 0 is NaN: a term absent from every batch
        for name, value in zip(self.LOSS_TERMS, (sums[1:] / counts[1:]).tolist()):
            self.history.record(name, value)

    def train_step(self, batch, **fit_params):
        """One step: a single forward and backward pass, then every optimizer steps.

        Every optimizer the net registered (``optimizer_`` and a subclass's
        extra ones) is zeroed, :meth:`train_step_single` runs the step's only
        backward pass, and then all of them step, so extra modules update
        simultaneously with the main one; ``on_grad_computed`` is notified
        between the backward and the steps when a callback defines it.
        """
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        for optimizer in optimizers:
            optimizer.zero_grad()
        step = self.train_step_single(batch, **fit_params)
        if getattr(self, "_grad_hooks", True):
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        for optimizer in optimizers:
            optimizer.step()
        return step
    def _accumulate_terms(self, values, present, batch_size):
        """Keep a batch's loss terms for the epoch means.

        ``values`` are ``train_loss`` and :attr:`LOSS_TERMS` (detached
        scalars); ``present`` says (bool or boolean tensor), for each term
        after the first, whether it applied to the batch. They are kept as
        they are, with no operation per batch, and reduced on the device
        every ``_TERMS_FLUSH`` batches and at the epoch's end, so memory
        stays bounded and nothing waits for the device.
        """
        pending = getattr(self, "_pending_terms", None)
        if pending is None:
            pending = self._pending_terms = []
        pending.append((values, present, batch_size))
        if len(pending) >= _TERMS_FLUSH:
            self._flush_terms()

    def _flush_terms(self):
        """Reduce the pending batches into the epoch's weighted sums and counts."""
        pending = getattr(self, "_pending_terms", None)
        if not pending:
            return
        self._pending_terms = []
        device = pending[0][0][0].device
        columns = list(zip(*(values for values, _, _ in pending)))
        values = torch.stack([torch.stack(column) for column in columns], dim=1)
        values = values.to(torch.float64)
        flags = []
        for column in zip(*(present for _, present, _ in pending)):
            if any(torch.is_tensor(flag) for flag in column):
                flags.append(torch.stack([torch.as_tensor(flag, device=device)
                                          for flag in column]))
            else:
                flags.append(torch.tensor(column, device=device))
        sizes = torch.tensor([size for _, _, size in pending], dtype=torch.float64,
                             device=device).unsqueeze(1)
        weights = sizes.expand(-1, 2)
        if flags:
            weights = torch.cat(
                [weights, torch.stack(flags, dim=1).to(torch.float64) * sizes], dim=1
            )
        # an absent term is exactly 0, so it adds nothing to the sums either
        sums, counts = (values * weights).sum(dim=0), weights.sum(dim=0)
        if getattr(self, "_term_sums", None) is not None:
            sums, counts = sums + self._term_sums[0], counts + self._term_sums[1]
        self._term_sums = (sums, counts)
