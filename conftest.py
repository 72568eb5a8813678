"""Root test configuration, shared by tests/ and the doctests in fairrep/.

Caps torch's and the native thread pools (OpenMP, BLAS) at one thread for the
whole run: on a 2-core machine shared with other jobs, small fits and t-SNE
runs are several times slower with more threads than cores.
"""

from threadpoolctl import threadpool_limits

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

if torch is not None:
    torch.set_num_threads(1)
threadpool_limits(limits=1)
