"""The fast data path of fairrep's neural estimators.

Data enter as a dict of tensors ``{"X": ..., "group": ...}`` made once
(:func:`as_float_tensor`: without a copy where the input already is
float32); :class:`TensorBatchIterator` draws one permutation per epoch and
gathers each batch's rows from it, so there is no per-sample
``__getitem__`` / collate, no NumPy round trip and no shuffled copy of the
data. :func:`training_threads` sets the thread pools for a CPU fit.
"""

import contextlib
import math
import warnings

import numpy as np
import torch
from threadpoolctl import threadpool_limits

__all__ = ["EVAL_BATCH_SIZE", "SEED_MODULUS", "TensorBatchIterator", "TensorDataset",
           "as_float_tensor", "training_threads"]

#: Prediction and validation batches only read the data, so they can be large.
EVAL_BATCH_SIZE = 4096

#: Seeds stay in [0, 2**31 - 1), as ``seed_from_random_state`` draws them.
SEED_MODULUS = 2**31 - 1

# ``num_threads="auto"`` trains on one torch thread up to this batch size.
# Measured on a 2-core machine shared with other jobs
# (benchmarks/bench_fairrep_epoch.py): two threads gained at most 10-15 %
# (batch 128-256) and lost up to 10x whenever another process held a core
# (batch 32-1024); one thread was never more than 15 % slower.
_ONE_THREAD_MAX_BATCH = 1024


class TensorDataset(torch.utils.data.Dataset):
    """A dict of equal-length tensors plus an optional target, or a subset of rows.

    Parameters
    ----------
    X : dict of str to Tensor
    y : Tensor or None
    indices : Tensor of int64 or None, default=None
        Rows of the tensors that make up this dataset (a split of them);
        None for all rows. The tensors are shared, never copied.
    """

    def __init__(self, X, y=None, indices=None):
        lengths = {len(value) for value in X.values()}
        if y is not None:
            lengths.add(len(y))
        if len(lengths) != 1:
            raise ValueError(f"all tensors must have the same length; got {lengths}.")
        self.X = X
        self.y = y
        self.indices = indices
        self._length = lengths.pop() if indices is None else len(indices)

    def __len__(self):
        return self._length

    def __getitem__(self, index):
        return self.slice(slice(index, index + 1) if isinstance(index, int) else index)

    def slice(self, index):
        """Return ``(X_part, y_part)`` for an index, slice or index tensor of this dataset."""
        rows = index if self.indices is None else self.indices[index]
        if isinstance(rows, slice):
            take = _take_slice
        else:
            if not torch.is_tensor(rows):
                rows = torch.as_tensor(rows, device=next(iter(self.X.values())).device)
            if rows.dtype == torch.bool:
                rows = rows.nonzero().flatten()
            take = _take_rows
        X = {key: take(value, rows) for key, value in self.X.items()}
        return X, (None if self.y is None else take(self.y, rows))


def _take_slice(tensor, rows):
    return tensor[rows]


def _take_rows(tensor, rows):
    # index_select skips the generic indexing machinery of ``tensor[rows]``
    return torch.index_select(tensor, 0, rows.reshape(-1)).reshape(
        (*rows.shape, *tensor.shape[1:])
    )


class TensorBatchIterator:
    """Mini-batches gathered from tensors by a permutation drawn once per epoch.

    Drop-in for skorch's ``iterator_train`` / ``iterator_valid``; shuffling
    draws one ``torch.randperm`` per epoch from torch's global generator,
    which the estimator seeds. Each batch gathers its rows (a copy of the
    batch only); without shuffling, batches of a full dataset are views.

    Parameters
    ----------
    dataset : TensorDataset
    batch_size : int
    shuffle : bool, default=False
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        if not isinstance(dataset, TensorDataset):
            raise TypeError(
                "TensorBatchIterator needs a TensorDataset; got "
                f"{type(dataset).__name__}."
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        dataset = self.dataset
        n_samples = len(dataset)
        order = None
        if self.shuffle:
            device = next(iter(dataset.X.values())).device
            order = torch.randperm(n_samples, device=device)
        for start in range(0, n_samples, self.batch_size):
            stop = min(start + self.batch_size, n_samples)
            yield dataset.slice(slice(start, stop) if order is None else order[start:stop])


def as_float_tensor(X, device):
    """float32 tensor on ``device``, sharing memory with ``X`` where it can.

    A C-contiguous float32 array (memory-mapped ones included) becomes a
    CPU tensor over the same memory, with no copy; anything else is copied
    once, to float32. The tensor is only read: a read-only array is fine.
    On another device the data are copied there once.
    """
    array = np.asarray(X)
    if array.dtype != np.float32 or not array.flags.c_contiguous:
        array = np.ascontiguousarray(array, dtype=np.float32)
    with warnings.catch_warnings():
        # the tensor is never written to, so a read-only buffer is safe
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        tensor = torch.from_numpy(array)
    return tensor.to(device)


@contextlib.contextmanager
def training_threads(setting, batch_size, device):
    """Run a block with the thread counts set for training on the CPU.

    ``setting`` is ``num_threads``: None leaves every thread pool alone;
    ``"auto"`` gives torch one intra-op thread for batches of at most
    ``_ONE_THREAD_MAX_BATCH`` rows and keeps torch's count above; an int
    gives torch that many. The BLAS library NumPy calls (the Sinkhorn solve
    of ``L_D`` runs in NumPy on the CPU) gets one thread whatever the
    setting: its matrices are those of one mini-batch, and its threads
    waiting beside torch's slowed training down by up to 3x at batch 256.
    The previous counts are restored on exit.
    """
    if setting is None or device.type != "cpu":
        yield
        return
    previous = torch.get_num_threads()
    if setting == "auto":
        setting = 1 if batch_size <= _ONE_THREAD_MAX_BATCH else previous
    setting = int(setting)
    with threadpool_limits(limits=1, user_api="blas"):
        if setting == previous:
            yield
            return
        torch.set_num_threads(setting)
        try:
            yield
        finally:
            torch.set_num_threads(previous)
