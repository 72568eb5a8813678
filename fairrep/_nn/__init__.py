"""fairrep's neural core: one skorch net, one estimator base, one data path.

* :mod:`fairrep._nn._data`: tensors made once, mini-batches gathered by a
  permutation per epoch, the thread policy of a CPU fit;
* :mod:`fairrep._nn._net`: :class:`CoreNet`, the skorch net with a fast
  epoch, per-term history and extra modules registered for the device;
* :mod:`fairrep._nn._estimator`: :class:`NeuralEstimatorMixin`, net
  settings, training with the divergence guard, inference;
* :mod:`fairrep._nn._classifier`: :class:`BaseNeuralClassifier`, ``fit`` /
  ``partial_fit`` of a classifier whose hidden code is a representation.

:class:`~fairrep.FairRep`, :class:`~fairrep.baselines.NRL` and
:class:`~fairrep.baselines.DNNClassifier` derive from
:class:`BaseNeuralClassifier`; :class:`~fairrep.FairPer` from
:class:`NeuralEstimatorMixin`, and it takes stage 1 through
:meth:`BaseNeuralClassifier.transform` or
:meth:`BaseNeuralClassifier.export_encoder`.
"""

from ._classifier import BaseNeuralClassifier, check_layer_sizes
from ._data import TensorBatchIterator, TensorDataset, as_float_tensor, training_threads
from ._estimator import NeuralEstimatorMixin, check_callbacks, store_init_params
from ._net import CoreNet

__all__ = ["BaseNeuralClassifier", "CoreNet", "NeuralEstimatorMixin", "TensorBatchIterator",
           "TensorDataset", "as_float_tensor", "check_callbacks", "check_layer_sizes",
           "store_init_params", "training_threads"]
