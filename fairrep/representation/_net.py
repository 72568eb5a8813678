"""The private skorch net behind the neural estimators, and its fast data path.

The public estimators (:class:`~fairrep.FairRep`,
:class:`~fairrep.baselines.DNNClassifier`) are plain scikit-learn estimators;
inside ``fit`` they build a :class:`FairRepNet` as ``self.net_``. It
customises skorch only where skorch's guide says it is safe:

* :meth:`FairRepNet.initialize_module` adds the adversary (``adversary_``) and
  the WGAN critic (``critic_``), configured through ``adversary__*`` and
  ``critic__*`` parameters, with their own optimizer
  (``adversary_optimizer_``);
* :meth:`FairRepNet.get_loss` is the emotion cross-entropy :math:`L_1`;
* :meth:`FairRepNet.train_step_single` adds :math:`-L_A` and
  :math:`\\alpha L_D` of eq. (1) and runs one backward pass.

Data enter as a dict of tensors ``{"X": ..., "group": ...}`` converted once;
:class:`TensorBatchIterator` shuffles them once per epoch and yields slices,
so there is no per-sample ``__getitem__`` / collate and no NumPy round trip.
"""

import itertools
import math

import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import unpack_data

from ._distances import critic_distance, critic_gradient_penalty, group_distance

__all__ = ["FairRepNet", "LossTermsLogger", "TensorBatchIterator", "TensorDataset"]

#: The per-epoch loss components recorded in the history, in eq. (1)'s order.
LOSS_TERMS = ("emotion_loss", "adversary_loss", "distance_loss")


class TensorDataset(torch.utils.data.Dataset):
    """A dict of equal-length tensors plus an optional target tensor.

    Parameters
    ----------
    X : dict of str to Tensor
    y : Tensor or None
    """

    def __init__(self, X, y=None):
        lengths = {len(value) for value in X.values()}
        if y is not None:
            lengths.add(len(y))
        if len(lengths) != 1:
            raise ValueError(f"all tensors must have the same length; got {lengths}.")
        self.X = X
        self.y = y
        self._length = lengths.pop()

    def __len__(self):
        return self._length

    def __getitem__(self, index):
        return self.slice(slice(index, index + 1) if isinstance(index, int) else index)

    def slice(self, index):
        """Return ``(X_part, y_part)`` for an index, slice or index tensor."""
        X = {key: value[index] for key, value in self.X.items()}
        return X, (None if self.y is None else self.y[index])


class TensorBatchIterator:
    """Mini-batches as slices of tensors shuffled once per epoch.

    Drop-in for skorch's ``iterator_train`` / ``iterator_valid``; shuffling
    draws from torch's global generator, which the estimator seeds.

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
        n_samples = len(self.dataset)
        if self.shuffle:
            device = next(iter(self.dataset.X.values())).device
            X, y = self.dataset.slice(torch.randperm(n_samples, device=device))
        else:
            X, y = self.dataset.X, self.dataset.y
        for start in range(0, n_samples, self.batch_size):
            stop = start + self.batch_size
            yield (
                {key: value[start:stop] for key, value in X.items()},
                None if y is None else y[start:stop],
            )


class LossTermsLogger(Callback):
    """Record the epoch means of :math:`L_1`, :math:`L_A` and :math:`L_D`.

    Means are weighted by batch size, as skorch's ``train_loss``, so when
    every term is present in every batch, ``train_loss`` equals eq. (1)
    evaluated on these means. Sums stay on the device during the epoch (no
    host synchronisation per batch); a term absent from a batch (no known
    group, one group only) is left out of its mean, and an epoch without it
    records NaN.
    """

    def on_epoch_begin(self, net, **kwargs):
        self.sums_ = None
        self.counts_ = None

    def on_batch_end(self, net, batch=None, training=False, loss_terms=None, **kwargs):
        if not training or loss_terms is None:
            return
        values, present = loss_terms
        if self.sums_ is None:
            self.sums_ = torch.zeros_like(values)
            self.counts_ = torch.zeros_like(values)
        weight = present.to(values.dtype) * len(batch[1])
        self.sums_ += torch.where(present, values, torch.zeros_like(values)) * weight
        self.counts_ += weight

    def on_epoch_end(self, net, **kwargs):
        if self.sums_ is None:
            return
        means = (self.sums_ / self.counts_).tolist()
        for name, value in zip(LOSS_TERMS, means):
            net.history.record(name, value)


class FairRepNet(NeuralNet):
    """skorch net minimising :math:`L_{Rep} = L_1 - L_A + \\alpha L_D` (eq. 1).

    The module returns ``(logits, embedding)``. The encoder descends
    :math:`L_1 + w\\,T_A + \\alpha L_D` where :math:`T_A` is its adversarial
    term (``adversary_loss``; :math:`-L_A` for ``"reversal"``, which is
    eq. (1) with :math:`L_A` weighted by ``w = adversary_weight``). The
    adversary and the critic learn on the detached embedding, with their
    own optimizer and unscaled losses (:math:`L_A`; for ``distance="critic"``
    the critic ascends its estimate :math:`\\hat W_1`, less
    ``gradient_penalty`` times its WGAN-GP penalty); the encoder's terms go
    through them with their parameters held fixed. The recorded
    ``train_loss`` is :math:`L_1 + w\\,T_A + \\alpha L_D`, eq. (1) itself
    for ``"reversal"``.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    adversary : type or None
        Adversary module class (configured with ``adversary__*``), or None.
    critic : type or None
        Critic module class (``critic__*``), used when ``distance="critic"``.
    alpha : float
        Weight :math:`\\alpha` of :math:`L_D`.
    adversary_weight : float
        Weight of :math:`L_A`.
    distance : str
        One of ``fairrep.representation._distances.DISTANCES``.
    distance_params : dict or None
        Extra keyword arguments of
        :func:`~fairrep.representation._distances.group_distance`.
    n_groups : int
        Number of known groups (0 when no sensitive features were given).
    adversary_loss : {"reversal", "capped", "confusion"}
        The encoder's adversarial term (see :class:`~fairrep.FairRep`).
    adversary_steps : int
        Updates of the adversary and critic per encoder update.
    gradient_penalty : float
        Weight of the critic's gradient penalty; 0 disables it.
    """

    # the extra modules take ``adversary__*`` / ``critic__*`` parameters even
    # when a configuration leaves them out
    prefixes_ = [*NeuralNet.prefixes_, "adversary", "critic"]

    def __init__(
        self,
        *args,
        adversary=None,
        critic=None,
        alpha=0.0,
        adversary_weight=0.0,
        distance="sinkhorn",
        distance_params=None,
        n_groups=0,
        adversary_loss="reversal",
        adversary_steps=1,
        gradient_penalty=0.0,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.adversary = adversary
        self.critic = critic
        self.alpha = alpha
        self.adversary_weight = adversary_weight
        self.distance = distance
        self.distance_params = distance_params
        self.n_groups = n_groups
        self.adversary_loss = adversary_loss
        self.adversary_steps = adversary_steps
        self.gradient_penalty = gradient_penalty

    @property
    def uses_adversary(self):
        return self.adversary is not None and self.adversary_weight > 0

    @property
    def uses_distance(self):
        return self.n_groups >= 2 and self.alpha > 0

    @property
    def group_pairs(self):
        return list(itertools.combinations(range(self.n_groups), 2))

    def initialize_module(self):
        super().initialize_module()
        # "adversary" and "critic" are declared in ``prefixes_``, so skorch
        # does not register these modules: their device and their optimizer
        # (``adversary_optimizer_``, see :meth:`initialize_optimizer`) are
        # handled here rather than by skorch's module bookkeeping
        if self.uses_adversary:
            self.adversary_ = self.initialized_instance(
                self.adversary, self.get_params_for("adversary")
            ).to(self.device)
        if self.uses_distance and self.distance == "critic":
            self.critic_ = self.initialized_instance(
                self.critic, self.get_params_for("critic")
            ).to(self.device)
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The emotion cross-entropy :math:`L_1`; also the validation loss."""
        logits = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        return self.criterion_(logits, y_true)

    def initialize_optimizer(self, *args, **kwargs):
        """One Adam for the encoder and head, one for the adversarial parts.

        The adversary and the critic get their own optimizer so that they can
        take ``adversary_steps - 1`` extra steps per encoder step; skorch
        zeroes and steps both after :meth:`train_step_single` (see
        :meth:`train_step`).
        """
        named = list(self.module_.named_parameters())
        args, kwargs = self.get_params_for_optimizer("optimizer", named)
        self.optimizer_ = self.optimizer(*args, **kwargs)
        adversarial = self._adversarial_parameters()
        if adversarial:
            args, kwargs = self.get_params_for_optimizer("optimizer", adversarial)
            self.adversary_optimizer_ = self.optimizer(*args, **kwargs)
        return self

    def train_step(self, batch, **fit_params):
        """One encoder step, then one step of the adversary and the critic.

        skorch hands its closure to each optimizer in turn: the encoder steps
        on a full pass of :meth:`train_step_single`, then the adversarial
        parts step on a second full pass, made with the updated encoder.
        Only the adversary's loss of that second pass reaches its
        optimizer, so when nothing else needs it (see
        :meth:`_short_adversary_pass`) it is computed alone: the same
        forward of the module (same dropout draws), without the encoder's
        graph, its other terms or their backward.
        """
        if not self._short_adversary_pass():
            return super().train_step(batch, **fit_params)
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self.optimizer_.step()
        self._zero_grad_optimizer()
        self._adversary_pass(batch, **fit_params)
        self.adversary_optimizer_.step()
        return step

    def _short_adversary_pass(self):
        """Whether the second pass may be cut to the adversary's loss.

        It may when the adversary is the only adversarial part, the distance
        draws no random numbers (a skipped draw would shift every later
        one) and no callback looks at the gradients.
        """
        if self._optimizers != ["optimizer", "adversary_optimizer"]:
            return False
        if not self.uses_adversary:
            return False
        if self.uses_distance and self.distance not in ("sinkhorn", "exact"):
            return False
        return all(
            type(callback).on_grad_computed is Callback.on_grad_computed
            for _, callback in self.callbacks_
        )

    def _adversary_pass(self, batch, **fit_params):
        """The adversary's part of :meth:`train_step_single`, with its backward."""
        if not self.module_.training:
            self._set_training(True)
        Xi, _ = unpack_data(batch)
        group = Xi.get("group") if isinstance(Xi, dict) else None
        if group is None:
            return
        with torch.no_grad():
            _, embedding = self.infer(Xi, **fit_params)
        self._inner_adversary_steps(embedding, group)
        known = group >= 0
        adversary_loss = F.cross_entropy(
            self.adversary_(embedding), group, ignore_index=-1, reduction="sum",
        ) / known.sum().clamp_min(1)
        adversary_loss.backward()

    def _adversarial_parameters(self):
        named = []
        for name in ("adversary_", "critic_"):
            module = getattr(self, name, None)
            if module is not None:
                named += [(f"{name}{key}", value) for key, value in module.named_parameters()]
        return named

    def _inner_adversary_steps(self, embedding, group):
        """``adversary_steps - 1`` updates of the adversary and critic on a fixed embedding."""
        optimizer = getattr(self, "adversary_optimizer_", None)
        if optimizer is None or self.adversary_steps <= 1:
            return
        fixed = embedding.detach()
        for _ in range(self.adversary_steps - 1):
            optimizer.zero_grad()
            loss = fixed.new_zeros(())
            if self.uses_adversary:
                known = group >= 0
                loss = loss + F.cross_entropy(
                    self.adversary_(fixed), group, ignore_index=-1, reduction="sum"
                ) / known.sum().clamp_min(1)
            if self.uses_distance and self.distance == "critic":
                critic_loss = self._critic_loss(fixed, group)
                if critic_loss is not None:
                    loss = loss + critic_loss
            if loss.requires_grad:
                loss.backward()
                optimizer.step()
            if self.uses_distance and self.distance == "critic":
                self.critic_.clip_weights()

    def _encoder_adversary_term(self, embedding, group):
        """The encoder's side of :math:`-L_A`, per ``adversary_loss``."""
        params = {k: v.detach() for k, v in self.adversary_.named_parameters()}
        logits = torch.func.functional_call(self.adversary_, params, (embedding,))
        known = group >= 0
        count = known.sum().clamp_min(1)
        if self.adversary_loss == "confusion":
            # cross-entropy to the uniform distribution, minus its minimum log K
            log_p = F.log_softmax(logits, dim=1)
            per_sample = -log_p.mean(dim=1) - math.log(self.n_groups)
            return (per_sample * known).sum() / count
        per_sample = F.cross_entropy(logits, group.clamp_min(0), reduction="none")
        if self.adversary_loss == "capped":
            per_sample = per_sample.clamp(max=math.log(self.n_groups))
        return -(per_sample * known).sum() / count

    def train_step_single(self, batch, **fit_params):
        # switching modes walks every submodule; do it only after validation
        if not self.module_.training:
            self._set_training(True)
        Xi, yi = unpack_data(batch)
        if self.uses_distance and self.distance == "critic":
            self.critic_.clip_weights()
        logits, embedding = self.infer(Xi, **fit_params)
        emotion_loss = self.get_loss((logits, embedding), yi, X=Xi, training=True)
        objective = emotion_loss
        reported = emotion_loss.detach()
        zero = reported.new_zeros(())
        adversary_loss = distance_loss = zero
        has_adversary = has_distance = False
        group = Xi.get("group") if isinstance(Xi, dict) else None
        if group is not None and (self.uses_adversary or self.uses_distance):
            self._inner_adversary_steps(embedding, group)
            if self.uses_adversary:
                known = group >= 0
                # sum / count instead of a mean: no host sync to test for an
                # all-missing batch, which simply contributes zero
                adversary_loss = F.cross_entropy(
                    self.adversary_(embedding.detach()), group,
                    ignore_index=-1, reduction="sum",
                ) / known.sum().clamp_min(1)
                encoder_term = self._encoder_adversary_term(embedding, group)
                weight = self.adversary_weight
                objective = objective + adversary_loss + weight * encoder_term
                reported = reported + weight * encoder_term.detach()
                has_adversary = known.any()
            distance_loss, surrogate, critic_loss = self._distance_terms(embedding, group)
            if distance_loss is not None:
                objective = objective + self.alpha * surrogate
                if critic_loss is not None:
                    objective = objective + critic_loss
                reported = reported + self.alpha * distance_loss.detach()
                has_distance = True
            else:
                distance_loss = zero
        objective.backward()
        terms = torch.stack(
            [emotion_loss.detach(), adversary_loss.detach(), distance_loss.detach()]
        )
        present = torch.stack(
            [torch.ones((), dtype=torch.bool, device=terms.device),
             torch.as_tensor(has_adversary, device=terms.device),
             torch.as_tensor(has_distance, device=terms.device)]
        )
        return {"loss": reported, "y_pred": logits, "loss_terms": (terms, present)}

    def _present_pairs(self, group):
        """``(output column, (i, j))`` for the pairs of groups in the batch."""
        present = set(torch.unique(group[group >= 0]).tolist())
        return [
            (p, pair) for p, pair in enumerate(self.group_pairs)
            if pair[0] in present and pair[1] in present
        ]

    def _critic_estimate(self, scores, group, pairs=None):
        pairs = self._present_pairs(group) if pairs is None else pairs
        if not pairs:
            return None
        columns = [p for p, _ in pairs]
        return critic_distance(
            scores[:, columns], group, [pair for _, pair in pairs]
        ).mean()

    def _critic_loss(self, fixed, group):
        """The critic's loss on a detached embedding: :math:`-\\hat W_1` (+ penalty)."""
        pairs = self._present_pairs(group)
        if not pairs:
            return None
        loss = -self._critic_estimate(self.critic_(fixed), group, pairs)
        if self.gradient_penalty > 0:
            loss = loss + self.gradient_penalty * critic_gradient_penalty(
                self.critic_, fixed, group, pairs
            )
        return loss

    def _distance_terms(self, embedding, group):
        """Return ``(L_D value, encoder's surrogate, critic's loss)``.

        All three are None when the term does not apply to the batch; the
        critic's loss is None unless ``distance="critic"``.
        """
        if not self.uses_distance:
            return None, None, None
        if self.distance != "critic":
            value = group_distance(
                embedding, group, distance=self.distance, **(self.distance_params or {})
            )
            return value, value, None
        critic_loss = self._critic_loss(embedding.detach(), group)
        if critic_loss is None:
            return None, None, None
        # the encoder descends the estimate of the critic held fixed
        params = {k: v.detach() for k, v in self.critic_.named_parameters()}
        scores = torch.func.functional_call(self.critic_, params, (embedding,))
        estimate = self._critic_estimate(scores, group)
        return estimate, estimate, critic_loss
