"""Torch device resolution and seeding shared by the neural estimators.

Estimators take ``device`` and ``random_state`` as plain constructor
parameters; these helpers turn them into a :class:`torch.device` and a seeded,
self-contained random state, so fitting never changes the caller's global
torch random state.
"""

import contextlib

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = ["resolve_device", "seed_from_random_state", "torch_seed"]

_DEVICE_CHOICES = ("cpu", "cuda", "auto")


def resolve_device(device):
    """Turn ``"cpu"``, ``"cuda"`` (``"cuda:N"``) or ``"auto"`` into a torch device.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` picks CUDA when it is available, else the CPU.

    Returns
    -------
    device : torch.device

    Raises
    ------
    TypeError
        If ``device`` is neither a string nor a torch device.
    ValueError
        If ``device`` is not one of the accepted values, or CUDA is requested
        but not available.

    Examples
    --------
    >>> from fairrep.utils._torch import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        name = str(device)
    elif isinstance(device, str):
        name = device
    else:
        raise TypeError(
            f"device must be one of {_DEVICE_CHOICES} or a torch.device; got {device!r}."
        )
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={name!r} was requested but CUDA is not available; use "
                "device='cpu' or device='auto'."
            )
        return torch.device(name)
    raise ValueError(
        f"device must be one of {_DEVICE_CHOICES} (or 'cuda:N'); got {device!r}."
    )


def seed_from_random_state(random_state):
    """Draw a torch seed from a scikit-learn ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        ``None`` draws from NumPy's global generator, as scikit-learn does.

    Returns
    -------
    seed : int
        A seed in ``[0, 2**31 - 1)``; the same integer ``random_state`` always
        gives the same seed.
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def torch_seed(seed, device=None):
    """Run a block under torch's global generator(s) seeded with ``seed``.

    The caller's random state is saved first and restored on exit, so
    seeding one estimator never changes another one's random stream.

    Parameters
    ----------
    seed : int
        Seed for the CPU generator and, when ``device`` is a CUDA device, for
        that device's generator.
    device : torch.device, default=None
        The device the block computes on.

    Examples
    --------
    >>> import torch
    >>> from fairrep.utils._torch import torch_seed
    >>> with torch_seed(0):
    ...     first = torch.rand(2)
    >>> with torch_seed(0):
    ...     second = torch.rand(2)
    >>> bool(torch.equal(first, second))
    True
    """
    devices = []
    if device is not None and torch.device(device).type == "cuda":
        index = torch.device(device).index
        devices = [index if index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
